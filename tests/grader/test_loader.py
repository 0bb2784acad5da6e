"""Importing an exercise module: every failure names the file and, where known, the line."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from grader.errors import SubmissionError
from grader.exercises import Exercise
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from grader.exercises.ex3_async_tokens import EXERCISE as EX3
from grader.loader import check_app, load_exercise
from tests.grader.helpers import line_of

APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def write(folder: Path, ex: Exercise, source: str) -> str:
    """Write ``ex``'s module into ``folder``; return the text written."""
    folder.mkdir(parents=True, exist_ok=True)
    text = textwrap.dedent(source)
    (folder / ex.filename).write_text(text, encoding="utf-8")
    return text


def load_error(folder: Path, ex: Exercise) -> SubmissionError:
    """The SubmissionError loading ``ex`` from ``folder`` raises."""
    with pytest.raises(SubmissionError) as caught:
        load_exercise(folder, ex)
    return caught.value


def test_a_module_with_an_app_loads(tmp_path: Path) -> None:
    write(tmp_path, EX1, APP + "lines = ['x']\n")
    module = load_exercise(tmp_path, EX1)
    assert module.lines == ["x"]
    assert sys.modules[EX1.module] is module


def test_a_missing_module_says_which_file(tmp_path: Path) -> None:
    error = load_error(tmp_path, EX2)
    assert error.message.startswith("ex2_fix_sse.py is missing from the submission folder")


def test_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    source = write(tmp_path, EX3, APP + "\n\nasync def token_stream(prompt)\n    yield prompt\n")
    error = load_error(tmp_path, EX3)
    line = line_of(source, "async def token_stream")
    assert error.message.startswith(f"ex3_async_tokens.py line {line}: SyntaxError: expected ':'")
    assert "SyntaxError" in error.details
    assert EX3.module not in sys.modules


def test_an_exception_at_import_names_file_line_and_exception(tmp_path: Path) -> None:
    source = write(tmp_path, EX1, APP + "ratio = len(app.routes) / 0\n")
    error = load_error(tmp_path, EX1)
    line = line_of(source, "/ 0")
    assert error.message.startswith(
        f"ex1_stream_lines.py line {line}: raised ZeroDivisionError: division by zero while "
        "importing."
    )
    assert "Traceback" in error.details
    assert EX1.module not in sys.modules


def test_the_line_is_the_submission_s_own_even_when_the_error_is_deeper(tmp_path: Path) -> None:
    source = write(tmp_path, EX2, APP + "import json\n\nconfig = json.loads('{not json')\n")
    error = load_error(tmp_path, EX2)
    assert f"ex2_fix_sse.py line {line_of(source, 'json.loads')}: raised JSONDecodeError" in (
        error.message
    )


def test_an_exception_at_import_has_its_line_from_a_relative_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write(tmp_path / "student", EX1, APP + "ratio = 1 / 0\n")
    monkeypatch.chdir(tmp_path)
    error = load_error(Path("student"), EX1)
    assert error.message.startswith(f"ex1_stream_lines.py line {line_of(source, '1 / 0')}: raised")


@pytest.mark.parametrize(
    ("statement", "said"),
    [
        ("sys.exit(3)", "called sys.exit(3)"),
        ("sys.exit('bye')", "called sys.exit('bye')"),
        ("raise KeyboardInterrupt", "raised KeyboardInterrupt"),
        ("raise SystemExit", "called sys.exit(None)"),
    ],
)
def test_a_base_exception_at_import_is_caught(tmp_path: Path, statement: str, said: str) -> None:
    source = write(tmp_path, EX3, f"import sys\n\n{APP}\n{statement}\n")
    error = load_error(tmp_path, EX3)
    line = line_of(source, statement)
    assert error.message.startswith(f"ex3_async_tokens.py line {line}: {said} while importing.")
    assert EX3.module not in sys.modules


def test_a_module_without_app_is_told_to_create_one(tmp_path: Path) -> None:
    write(tmp_path, EX1, "from fastapi import FastAPI\n\napi = FastAPI()\n")
    error = load_error(tmp_path, EX1)
    assert error.message == (
        "ex1_stream_lines.py has no module-level `app`: create one with app = FastAPI() "
        "and add the GET /lines endpoint to it."
    )


@pytest.mark.parametrize(
    ("definition", "kind"),
    [
        ('app = "not an app"', "str"),
        ("from fastapi import FastAPI as app", "type"),
        ("def app(scope, receive, send):\n    return None", "function"),
        ("app = print", "builtin_function_or_method"),
        ("class App:\n    def __call__(self, scope, receive, send): ...\n\napp = App()", "App"),
    ],
)
def test_an_app_that_is_not_asgi_is_refused(tmp_path: Path, definition: str, kind: str) -> None:
    write(tmp_path, EX2, definition + "\n")
    error = load_error(tmp_path, EX2)
    assert error.message == (
        f"ex2_fix_sse.py: `app` is a {kind}, not an ASGI app. Create it with app = FastAPI()."
    )


@pytest.mark.parametrize(
    "definition",
    [
        "async def app(scope, receive, send):\n    return None",
        "class App:\n    async def __call__(self, scope, receive, send): ...\n\napp = App()",
        "from starlette.applications import Starlette\n\napp = Starlette()",
    ],
)
def test_any_asgi_app_is_accepted(tmp_path: Path, definition: str) -> None:
    write(tmp_path, EX2, definition + "\n")
    check_app(load_exercise(tmp_path, EX2), EX2)
