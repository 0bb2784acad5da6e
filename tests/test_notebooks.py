"""The lesson notebooks run in a fresh kernel and print what their committed outputs show."""

from pathlib import Path

import nbformat
import pytest

from tests.notebook_support import (
    EXAMPLES_DIR,
    committed_problems,
    comparable_outputs,
    execute_notebook,
    missing_blocks,
    notebook_paths,
    output_differences,
    read_notebook,
)

NOTEBOOKS = notebook_paths()
EXAMPLE_MODULES = sorted(p for p in EXAMPLES_DIR.glob("*.py") if p.name != "__init__.py")
LESSON_EXAMPLES = ("stream.py", "events.py", "progress.py")
LESSON_NOTEBOOKS = (
    "01_streaming_and_sse.ipynb",
    "02_beyond_the_lesson.ipynb",
    "03_sse_wire_format.ipynb",
    "04_see_it_stream.ipynb",
)


def test_every_lesson_notebook_is_found_and_checked():
    assert [p.name for p in NOTEBOOKS] == list(LESSON_NOTEBOOKS)


def test_lesson_examples_are_all_checked():
    names = {p.name for p in EXAMPLE_MODULES}
    assert set(LESSON_EXAMPLES) <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_executed(path: Path):
    problems = committed_problems(path, read_notebook(path))
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_match_committed(path: Path):
    committed = read_notebook(path)
    differences = output_differences(path, committed, execute_notebook(path))
    assert not differences, "\n\n".join(differences)


@pytest.mark.parametrize("module", EXAMPLE_MODULES, ids=lambda p: p.name)
def test_example_module_code_appears_in_a_notebook(module: Path):
    missing = missing_blocks(module, NOTEBOOKS)
    assert not missing, f"{module.name}: not found verbatim in any lesson notebook code cell:\n" + (
        "\n\n".join(missing)
    )


def code_cell(outputs: list[dict], normalize: list[str] | None = None):
    cell = nbformat.v4.new_code_cell("print('x')", outputs=outputs)
    if normalize is not None:
        cell.metadata["normalize"] = normalize
    return cell


def stdout(text: str) -> dict:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


@pytest.mark.parametrize(
    ("rule", "volatile", "masked"),
    [
        ("timings", "took 0.012 s, then 12.3 ms and 850 µs", "took <t>, then <t> and <t>"),
        (
            "ports",
            "http://127.0.0.1:54321/ and localhost:8000",
            "http://127.0.0.1:<port>/ and localhost:<port>",
        ),
        ("sizes", "sent 512 B of 1.5 MiB (2 KB, 3GB)", "sent <size> of <size> (<size>, <size>)"),
        ("addresses", "<Foo object at 0x7f3a2b1c0d90>", "<Foo object at <addr>>"),
    ],
)
def test_text_rules_mask_only_what_the_cell_asks_for(rule, volatile, masked):
    [output] = comparable_outputs(code_cell([stdout(volatile)], [rule]))
    assert output["text"] == masked
    [untouched] = comparable_outputs(code_cell([stdout(volatile)]))
    assert untouched["text"] == volatile


def test_images_rule_compares_presence_not_bytes():
    def png(payload: str) -> dict:
        return nbformat.v4.new_output("display_data", data={"image/png": payload})

    with_rule = [comparable_outputs(code_cell([png(p)], ["images"])) for p in ("AAAA", "BBBB")]
    assert with_rule[0] == with_rule[1]
    without_rule = [comparable_outputs(code_cell([png(p)])) for p in ("AAAA", "BBBB")]
    assert without_rule[0] != without_rule[1]


def test_unknown_rule_is_an_error():
    with pytest.raises(ValueError, match="unknown normalize rule"):
        comparable_outputs(code_cell([stdout("x")], ["timing"]))


def test_stream_outputs_split_differently_compare_equal():
    split = code_cell([stdout("a\n"), stdout("b\n")])
    whole = code_cell([stdout("a\nb\n")])
    assert comparable_outputs(split) == comparable_outputs(whole)


def test_a_difference_names_the_notebook_and_cell_with_a_diff():
    committed = nbformat.v4.new_notebook(cells=[code_cell([stdout("event 1\n")])])
    executed = nbformat.v4.new_notebook(cells=[code_cell([stdout("event 2\n")])])
    [message] = output_differences(Path("07_demo.ipynb"), committed, executed)
    assert message.startswith("07_demo.ipynb: cell 0 (\"print('x')\")")
    assert "-event 1" in message
    assert "+event 2" in message


def error(ename: str, evalue: str, traceback: str = "") -> dict:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[traceback])


def error_differences(committed: dict, executed: dict) -> list[str]:
    """What the re-execution test reports when one cell's output changed like this."""
    before, after = (
        nbformat.v4.new_notebook(cells=[code_cell([o])]) for o in (committed, executed)
    )
    return output_differences(Path("07_demo.ipynb"), before, after)


@pytest.mark.parametrize(
    ("executed", "removed", "added"),
    [
        (error("ValueError", "worse"), "ValueError: bad", "ValueError: worse"),
        (error("TypeError", "bad"), "ValueError: bad", "TypeError: bad"),
        (stdout("bad\n"), "ValueError: bad", "bad"),
    ],
    ids=["value", "name", "no error"],
)
def test_an_error_that_changed_is_reported_with_both_versions(executed, removed, added):
    [message] = error_differences(error("ValueError", "bad"), executed)
    assert f"-{removed}" in message.splitlines()
    assert f"+{added}" in message.splitlines()


def test_an_error_whose_traceback_alone_changed_is_the_same():
    committed = error("ValueError", "bad", 'File "/home/a/x.py", line 3, in <module>')
    executed = error("ValueError", "bad", 'File "/tmp/b/x.py", line 9, in <module>')
    assert error_differences(committed, executed) == []


def test_an_unexecuted_or_foreign_kernel_notebook_is_rejected():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('x')")])
    nb.metadata["kernelspec"] = {
        "name": "python2",
        "display_name": "Python 2",
        "language": "python",
    }
    problems = "\n".join(committed_problems(Path("09_demo.ipynb"), nb))
    assert "kernelspec 'python2'" in problems
    assert "cell 0 (\"print('x')\") was not executed" in problems
    assert "no outputs at all" in problems
