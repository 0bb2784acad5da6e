"""Importing one exercise module of a submission folder, with errors a student can act on."""

from __future__ import annotations

import errno
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from types import ModuleType

from grader.errors import SubmissionError
from grader.exercises.base import Exercise

MAX_SHOWN = 300  # characters of an exception's text shown to a student
MAX_DETAILS = 8000


def load_exercise(folder: Path, ex: Exercise) -> ModuleType:
    """Import ``ex``'s module from ``folder`` and check that it has an ASGI ``app``."""
    path = folder / ex.filename
    if not path.is_file():
        raise SubmissionError(
            f"{ex.filename} is missing from the submission folder: add it (start from exercises/)."
        )
    module = _import(path, ex.module)
    check_app(module, ex)
    return module


def _import(path: Path, name: str) -> ModuleType:
    """Execute the module file, turning anything it raises into a SubmissionError."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SubmissionError(f"{path.name} cannot be loaded as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise SubmissionError(
            f"{path.name} line {exc.lineno}: SyntaxError: {exc.msg}. The module does not "
            "import, so nothing in it can run: fix this line first.",
            traceback.format_exc(),
        ) from None
    except BaseException as exc:  # sys.exit and KeyboardInterrupt at import are findings too
        sys.modules.pop(name, None)
        details = traceback.format_exc()[-MAX_DETAILS:]
        raise SubmissionError(_import_failure(path, exc), details) from None
    return module


def exception_text(exc: BaseException) -> str:
    """What an exception means, as a short phrase: 'raised ValueError: bad value'."""
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return "printed more than the output limit allows"
    if isinstance(exc, MemoryError):
        return "ran out of memory (it allocated more than the memory limit)"
    text = f"raised {type(exc).__name__}: {exc}".rstrip(": ")
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _import_failure(path: Path, exc: BaseException) -> str:
    """Name the file, line and exception of a module that raised while importing."""
    here = path.resolve()
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == here
    ]
    where = f" line {frames[-1].lineno}" if frames else ""
    what = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else exception_text(exc)
    return (
        f"{path.name}{where}: {what} while importing. A module must import cleanly: "
        "move that code into a function, or fix it."
    )


def check_app(module: ModuleType, ex: Exercise) -> None:
    """Raise SubmissionError unless the module has a module-level ASGI ``app``."""
    app = getattr(module, "app", None)
    if app is None:
        raise SubmissionError(
            f"{ex.filename} has no module-level `app`: create one with app = FastAPI() "
            f"and add the {ex.method} {ex.path} endpoint to it."
        )
    if not _is_asgi(app):
        raise SubmissionError(
            f"{ex.filename}: `app` is a {type(app).__name__}, not an ASGI app. "
            "Create it with app = FastAPI()."
        )


def _is_asgi(app: object) -> bool:
    """True for an ASGI 3 application: an async callable, or an object whose __call__ is one."""
    if inspect.isclass(app):
        return False
    if not callable(app):
        return False
    return inspect.iscoroutinefunction(app if inspect.isroutine(app) else type(app).__call__)
