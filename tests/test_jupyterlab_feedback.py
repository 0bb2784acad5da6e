"""The exercises notebook's feedback as a student sees it: real JupyterLab, real Chromium.

The lab is started as a student starts it (`python3 -m grader.bootstrap lab`), as
root and as an unprivileged user, on a copy of exercises/ the test can change.
In Debian's headless Chromium the test opens exercises.ipynb and runs the check
of an untouched stub, of the same module fixed, and of the lesson's classic
exercise 2 mistake, as often as it takes the lesson's hint to open by itself,
and looks at what renders. Screenshots go to artifacts/.

Skips when Chromium (or the playwright package) is missing, unless CI=true.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from grader.exercises import EXERCISES
from grader.exercises.ex1_stream_lines import EXERCISE as EX1
from grader.exercises.ex2_fix_sse import EXERCISE as EX2
from tests.browser_support import ARTIFACTS, chromium
from tests.lab_support import AS_WE_ARE, bootstrap_lab, give_to, unprivileged

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "exercises.ipynb"
PAGE_TIMEOUT_MS = 90_000
CHECK_TIMEOUT_MS = 120_000  # one check: a grader process, a sandboxed server, HTTP
VIEWPORT = {"width": 1280, "height": 1000}
PASS_MARK, FAIL_MARK = "✓", "✗"
KERNEL_IDLE = "| Idle"  # the status bar's kernel item once the kernel has started
# The lesson's classic mistake: every event sent without the blank line that ends it.
CLASSIC_MISTAKE = ('\\n\\n"', '"')
# The cell that imports check (and perhaps more), and the check cell of an exercise.
IMPORT_CELL = r"^from grader\.notebook import check\b.*$"


def check_cell(exercise_id: str) -> str:
    """The source of the cell that checks this exercise, as a regular expression."""
    return rf"^check\(\"{exercise_id}\"\)$"


# An error message made of markup that would run if the feedback were not escaped.
MARKUP = '<img src=x onerror="window.sseInjected=1"><script>window.sseInjected=2</script>'
HOSTILE_EX1 = f"""from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()
lines = ["alpha"]


def line_stream():
    raise RuntimeError({MARKUP!r})
    yield


@app.get("/lines")
def stream_lines():
    return StreamingResponse(line_stream(), media_type="text/plain")
"""


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with chromium(PAGE_TIMEOUT_MS) as launched:
        yield launched


@contextmanager
def exercises_copy(owner: pwd.struct_passwd | None) -> Iterator[Path]:
    """A copy of exercises/ (the stubs and the notebook) that ``owner`` can change."""
    base = Path(tempfile.mkdtemp(prefix="kit-exercises-"))
    base.chmod(0o755)  # a jailed server, run as a user of its own, reads the modules
    folder = base / "exercises"
    folder.mkdir()
    for ex in EXERCISES:
        shutil.copy(ROOT / "exercises" / ex.filename, folder / ex.filename)
    shutil.copy(ROOT / "exercises" / NOTEBOOK, folder / NOTEBOOK)
    give_to(base, owner)
    try:
        yield folder
    finally:
        shutil.rmtree(base, ignore_errors=True)


def save(path: Path, text: str) -> None:
    """Save a module as an editor would, keeping the folder's owner as the file's owner."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    stat = path.parent.stat()
    os.chown(temporary, stat.st_uid, stat.st_gid)
    temporary.replace(path)


class Notebook:
    """The exercises notebook open in JupyterLab, driven through its page."""

    def __init__(self, page, shots: Path) -> None:
        self.page = page
        self.shots = shots

    def wait_until_ready(self) -> None:
        """Wait until the notebook's cells show and its kernel is idle."""
        first = self.page.locator(".jp-CodeCell .jp-InputArea-editor").first
        first.wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
        self.page.locator(".jp-StatusBar-Widget", has_text=KERNEL_IDLE).first.wait_for(
            timeout=PAGE_TIMEOUT_MS
        )

    def cell(self, source: str):
        """The one code cell whose whole source matches the regular expression ``source``."""
        editor = self.page.locator(".jp-InputArea-editor", has_text=re.compile(source))
        cells = self.page.locator(".jp-CodeCell").filter(has=editor)
        assert cells.count() == 1, f"expected one cell matching {source}, found {cells.count()}"
        return cells.first

    def run(self, source: str):
        """Run the cell (as Ctrl+Enter does) and wait until its new output has come."""
        cell = self.cell(source)
        prompt = cell.locator(".jp-InputPrompt")
        before = prompt.inner_text()
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Control+Enter")
        self.page.wait_for_function(
            """([element, before]) => {
                const text = element.innerText.trim();
                return text !== before.trim() && /\\[\\d+\\]/.test(text);
            }""",
            arg=[prompt.element_handle(), before],
            timeout=CHECK_TIMEOUT_MS,
        )
        return cell

    def feedback(self, source: str, exercise_id: str, shot: str):
        """Run a check cell; its rendered feedback, after a screenshot of the cell."""
        cell = self.run(source)
        found = cell.locator(f'.jp-OutputArea-output .sse-feedback[data-exercise="{exercise_id}"]')
        found.wait_for(state="visible", timeout=CHECK_TIMEOUT_MS)
        cell.scroll_into_view_if_needed()
        cell.screenshot(path=self.shots / f"{shot}.png")
        return found


def rows(feedback) -> tuple[list[str], list[str]]:
    """The marks of the passed and of the failed check rows, as rendered and readable."""
    passed = feedback.locator("tr.sse-check.sse-pass td:first-child").all_inner_texts()
    failed = feedback.locator("tr.sse-check.sse-fail td:first-child").all_inner_texts()
    # JupyterLab's own stylesheet right-aligns output table cells; messages must read left.
    aligned = feedback.locator("tr.sse-check td").evaluate_all(
        "cells => cells.map(cell => getComputedStyle(cell).textAlign)"
    )
    assert set(aligned) <= {"left", "start"}, f"check rows are aligned {set(aligned)}"
    return [m.strip() for m in passed], [m.strip() for m in failed]


def assert_chart_drawn(feedback) -> None:
    """The timeline chart is there and the browser decoded it into a picture."""
    image = feedback.locator("img.sse-timeline")
    if image.count() == 0:
        assert feedback.locator("svg.sse-timeline").count() == 1, "no timeline chart"
        return
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "chart did not decode"


def assert_first_failure(feedback) -> None:
    """Failed checks show ✗, a nudge is visible, and the lesson's hint is folded away."""
    passed, failed = rows(feedback)
    assert failed and set(failed) == {FAIL_MARK}, (passed, failed)
    assert set(passed) <= {PASS_MARK}
    assert feedback.locator("p.sse-nudge").is_visible()
    hint = feedback.locator("details.sse-hint")
    assert hint.count() == 1 and hint.get_attribute("open") is None
    assert not hint.locator("p").is_visible(), "the full hint shows before it is asked for"


def classic_mistake() -> str:
    """Exercise 2's reference solution with the lesson's classic mistake put back in."""
    solution = (ROOT / "solutions" / EX2.filename).read_text(encoding="utf-8")
    assert CLASSIC_MISTAKE[0] in solution
    return solution.replace(*CLASSIC_MISTAKE)


def run_the_exercises(page, folder: Path, shots: Path, lab_url: str) -> None:
    """The student's session: stub, markup in a message, fix, then the classic mistake."""
    page.goto(lab_url.replace("/lab?", f"/lab/tree/{NOTEBOOK}?"), timeout=PAGE_TIMEOUT_MS)
    notebook = Notebook(page, shots)
    notebook.wait_until_ready()
    notebook.run(IMPORT_CELL)
    stub_then_fix(notebook, folder)
    classic_mistake_until_the_hint_opens(notebook, folder)


def stub_then_fix(notebook: Notebook, folder: Path) -> None:
    """Exercise 1 untouched, then raising an error made of markup, then solved."""
    ex1 = check_cell(EX1.id)
    assert_first_failure(notebook.feedback(ex1, EX1.id, "1_stub_ex1"))

    save(folder / EX1.filename, HOSTILE_EX1)
    hostile = notebook.feedback(ex1, EX1.id, "1b_markup_in_a_message_ex1")
    assert_first_failure(hostile)
    assert MARKUP in hostile.locator("tr.sse-fail td.sse-message").first.inner_text()
    assert hostile.locator("script, img:not(.sse-timeline)").count() == 0
    assert notebook.page.evaluate("window.sseInjected") is None, "the markup ran"

    save(folder / EX1.filename, (ROOT / "solutions" / EX1.filename).read_text(encoding="utf-8"))
    fixed = notebook.feedback(ex1, EX1.id, "2_fixed_ex1")
    passed, failed = rows(fixed)
    assert failed == [] and passed and set(passed) == {PASS_MARK}
    assert fixed.locator("details.sse-hint").count() == 0


def classic_mistake_until_the_hint_opens(notebook: Notebook, folder: Path) -> None:
    """Exercise 2 with the classic mistake: a nudge first, the full hint after a few tries."""
    from grader.settings import OPEN_AFTER

    ex2 = check_cell(EX2.id)
    save(folder / EX2.filename, classic_mistake())
    mistake = notebook.feedback(ex2, EX2.id, "3_classic_mistake_ex2")
    assert_first_failure(mistake)
    assert_chart_drawn(mistake)
    assert mistake.locator("div.sse-diff mark").count() > 0, "the difference is not highlighted"
    notebook.page.screenshot(path=notebook.shots / "3_classic_mistake_ex2_page.png")

    for attempt in range(2, OPEN_AFTER + 1):
        again = notebook.feedback(ex2, EX2.id, f"4_classic_mistake_ex2_attempt{attempt}")
    assert again.locator("details.sse-hint").get_attribute("open") is not None
    assert again.locator("details.sse-hint p").is_visible()


@pytest.mark.parametrize("user", ["root", "unprivileged"])
def test_feedback_renders_in_jupyterlab(browser, user, tmp_path):
    if user == "root" and os.geteuid() != 0:
        pytest.skip("the test runs without root's powers: no lab as root to start")
    identity = unprivileged() if user == "unprivileged" else AS_WE_ARE
    shots = ARTIFACTS / f"jupyterlab_feedback_{user}"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    with (
        exercises_copy(identity.owner) as folder,
        bootstrap_lab(identity, tmp_path / "lab.log", root_dir=folder) as lab,
    ):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        try:
            run_the_exercises(page, folder, shots, lab.url)
        except Exception:
            page.screenshot(path=shots / "failure.png")
            raise
        finally:
            context.close()
    print(f"lab run as {identity.name}; screenshots: {shots}")
