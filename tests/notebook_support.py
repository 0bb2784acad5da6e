"""Run the lesson notebooks in a real kernel and compare their outputs with the committed ones.

The committed notebooks under lessons/ are the goldens. Volatile text is normalised
only where a code cell asks for it: its metadata key "normalize" lists rule names
from NORMALIZERS. Regenerate the goldens exactly the way the tests run them:

    .venv/bin/python -m tests.notebook_support --write lessons/*.ipynb
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import copy
import difflib
import hashlib
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import nbformat
import zmq
from nbclient import NotebookClient
from nbformat import NotebookNode
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = ROOT / "lessons"
EXAMPLES_DIR = LESSONS_DIR / "examples"
KERNEL_NAME = "python3"
KERNELSPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}
CELL_TIMEOUT_S = 60
KERNEL_STARTUP_TIMEOUT_S = 60
NOTEBOOK_TIMEOUT_S = 300
NORMALIZE_KEY = "normalize"
# Encrypt the local kernel connection where ZeroMQ can (ipykernel warns about plain TCP).
KERNEL_CONFIG = Config(
    {"KernelManager": {"transport_encryption": "auto" if zmq.has("curve") else "disabled"}}
)
# The outputs' rich data that is compared; anything else a cell displays is not.
TEXT_MIMES = ("text/plain", "text/html")
IMAGE_MIMES = ("image/png", "image/svg+xml")
IMAGE_PRESENT = "<present>"  # what the "images" rule leaves of an image
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

Output = dict[str, Any]
Normalizer = Callable[[Output], Output]


class NotebookRunError(RuntimeError):
    """A notebook could not be executed: an unexpected error, a timeout or a dead kernel."""


def _text_rule(pattern: str, replacement: str) -> Normalizer:
    """A rule that rewrites every compared text of an output with one regex substitution."""
    regex = re.compile(pattern)

    def normalize(output: Output) -> Output:
        result = dict(output)
        for key in ("text", "evalue"):
            if key in result:
                result[key] = regex.sub(replacement, result[key])
        if "data" in result:
            result["data"] = {
                mime: regex.sub(replacement, value) if mime in TEXT_MIMES else value
                for mime, value in result["data"].items()
            }
        return result

    return normalize


def _images_by_presence(output: Output) -> Output:
    """Compare images only by their mime type being there, not by their bytes."""
    if "data" not in output:
        return output
    data = {
        mime: IMAGE_PRESENT if mime in IMAGE_MIMES else value
        for mime, value in output["data"].items()
    }
    return {**output, "data": data}


NORMALIZERS: dict[str, Normalizer] = {
    "timings": _text_rule(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|min)(?!\w)", "<t>"),
    "ports": _text_rule(r"\b(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}\b", r"\1:<port>"),
    "sizes": _text_rule(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:[KMG]iB|[KMG]?B)(?!\w)", "<size>"),
    "addresses": _text_rule(r"\b0x[0-9a-fA-F]{6,16}\b", "<addr>"),
    "images": _images_by_presence,
}


def notebook_paths(folder: Path = LESSONS_DIR) -> list[Path]:
    """The lesson notebooks, in their order-prefixed name order."""
    return sorted(folder.glob("*.ipynb"))


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook file as nbformat version 4."""
    return nbformat.read(path, as_version=4)


def cell_label(index: int, cell: NotebookNode) -> str:
    """How a failure names a cell: its index and first source line."""
    first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else "<empty>"
    return f"cell {index} ({first_line!r})"


def cell_rules(cell: NotebookNode) -> list[str]:
    """The normalisation rule names a cell asks for; unknown names are an error."""
    rules = cell.metadata.get(NORMALIZE_KEY, [])
    if not isinstance(rules, list) or not all(isinstance(rule, str) for rule in rules):
        raise ValueError(f'metadata "{NORMALIZE_KEY}" must be a list of rule names, got {rules!r}')
    unknown = sorted(set(rules) - NORMALIZERS.keys())
    if unknown:
        raise ValueError(f"unknown normalize rule(s) {unknown}; known: {sorted(NORMALIZERS)}")
    return rules


def committed_problems(path: Path, nb: NotebookNode) -> list[str]:
    """Why a committed notebook cannot serve as a golden (empty when it can)."""
    problems = []
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != KERNEL_NAME:
        problems.append(f"{path.name}: saved with kernelspec {kernel!r}, expected {KERNEL_NAME!r}")
    code_cells = [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    for index, cell in code_cells:
        label = f"{path.name}: {cell_label(index, cell)}"
        if cell.source.strip() and cell.get("execution_count") is None:
            problems.append(f"{label} was not executed (no execution count)")
        try:
            cell_rules(cell)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
    if not any(cell.get("outputs") for _, cell in code_cells):
        problems.append(f"{path.name}: has no outputs at all; execute it and save it")
    return problems


async def _execute_bounded(client: NotebookClient) -> None:
    """Execute with an overall bound on top of the per-cell timeout."""
    bound = asyncio.timeout(NOTEBOOK_TIMEOUT_S)
    try:
        async with bound:
            await client.async_execute()
    except Exception as exc:  # once the bound cancels, the kernel may also report dying
        if bound.expired():
            raise NotebookRunError(f"did not finish within {NOTEBOOK_TIMEOUT_S} s") from exc
        raise


def execute_notebook(path: Path) -> NotebookNode:
    """Execute a copy of the notebook in a fresh python3 kernel, from the notebook's folder."""
    nb = copy.deepcopy(read_notebook(path))
    started: list[str] = ["before the first cell"]

    def note_start(cell: NotebookNode, cell_index: int) -> None:
        started.append(cell_label(cell_index, cell))

    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=KERNEL_STARTUP_TIMEOUT_S,
        record_timing=False,
        config=KERNEL_CONFIG,
        on_cell_start=note_start,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        asyncio.run(_execute_bounded(client))
    except Exception as exc:  # the kernel's traceback is in the message
        message = ANSI_ESCAPE.sub("", str(exc))
        raise NotebookRunError(f"{path.name}: {started[-1]}: {message}") from exc
    return nb


def _joined(text: str | list[str]) -> str:
    """Notebook text fields may be stored as a list of lines."""
    return text if isinstance(text, str) else "".join(text)


def _merged_streams(outputs: Iterable[NotebookNode]) -> list[Output]:
    """Outputs as plain dicts, with consecutive stream outputs of the same name merged."""
    merged: list[Output] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous["output_type"] == "stream"
            and previous["name"] == output.name
        ):
            previous["text"] += _joined(output.text)
        else:
            merged.append(_projected(output))
    return merged


def _projected(output: NotebookNode) -> Output:
    """The parts of one output that are compared."""
    kind = output.output_type
    if kind == "stream":
        return {"output_type": kind, "name": output.name, "text": _joined(output.text)}
    if kind == "error":
        return {"output_type": kind, "ename": output.ename, "evalue": output.evalue}
    data = output.get("data", {})
    compared = {mime: _joined(data[mime]) for mime in (*TEXT_MIMES, *IMAGE_MIMES) if mime in data}
    return {"output_type": kind, "data": compared}


def comparable_outputs(cell: NotebookNode) -> list[Output]:
    """A code cell's outputs as compared: projected, streams merged, cell rules applied."""
    outputs = _merged_streams(cell.get("outputs", []))
    for rule in cell_rules(cell):
        outputs = [NORMALIZERS[rule](output) for output in outputs]
    return outputs


def _rendered_data(mime: str, value: str) -> list[str]:
    """Rich data as diffable lines; image bytes are shown by digest."""
    if mime in IMAGE_MIMES:
        shown = value if value == IMAGE_PRESENT else hashlib.sha256(value.encode()).hexdigest()
        return [f"[{mime}] {shown}"]
    return [f"[{mime}]", *value.splitlines()]


def rendered(outputs: list[Output]) -> list[str]:
    """Outputs as lines of text for a unified diff."""
    lines: list[str] = []
    for output in outputs:
        kind = output["output_type"]
        if kind == "stream":
            lines += [f"[stream {output['name']}]", *output["text"].splitlines()]
        elif kind == "error":
            lines += ["[error]", f"{output['ename']}: {output['evalue']}"]
        else:
            lines.append(f"[{kind}]")
            for mime, value in output["data"].items():
                lines += _rendered_data(mime, value)
    return lines


def output_differences(path: Path, committed: NotebookNode, executed: NotebookNode) -> list[str]:
    """One message per code cell whose fresh outputs differ from the committed ones."""
    messages = []
    for index, (old, new) in enumerate(zip(committed.cells, executed.cells, strict=True)):
        if old.cell_type != "code":
            continue
        expected, actual = rendered(comparable_outputs(old)), rendered(comparable_outputs(new))
        if expected != actual:
            diff = difflib.unified_diff(expected, actual, "committed", "executed", lineterm="")
            messages.append(f"{path.name}: {cell_label(index, old)}\n" + "\n".join(diff))
    return messages


def write_executed(path: Path) -> None:
    """Re-execute a notebook the way the tests do and save it in place as the new golden."""
    executed = execute_notebook(path)
    executed.metadata["kernelspec"] = dict(KERNELSPEC)
    nbformat.validate(executed)
    nbformat.write(executed, path)


def check_executed(path: Path) -> list[str]:
    """Everything the tests would report for one notebook, without changing it."""
    committed = read_notebook(path)
    problems = committed_problems(path, committed)
    return problems or output_differences(path, committed, execute_notebook(path))


def _squeezed_lines(source: str) -> list[str]:
    """Non-blank lines with inner runs of whitespace squeezed, keeping the indentation."""
    lines = []
    for line in source.splitlines():
        if line.strip():
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(indent + " ".join(line.split()))
    return lines


def module_blocks(path: Path) -> list[list[str]]:
    """A module's top-level statements (decorators included, docstring left out) as lines."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    blocks = []
    for node in body:
        decorators = getattr(node, "decorator_list", [])
        first = min([node.lineno, *(d.lineno for d in decorators)])
        blocks.append(_squeezed_lines("\n".join(lines[first - 1 : node.end_lineno])))
    return blocks


def contains_lines(haystack: list[str], needle: list[str]) -> bool:
    """Whether needle occurs in haystack as a run of consecutive lines."""
    width = len(needle)
    return any(haystack[i : i + width] == needle for i in range(len(haystack) - width + 1))


def code_cell_lines(paths: Iterable[Path]) -> list[list[str]]:
    """Every code cell of the given notebooks, as squeezed lines."""
    return [
        _squeezed_lines(cell.source)
        for path in paths
        for cell in read_notebook(path).cells
        if cell.cell_type == "code"
    ]


def missing_blocks(module: Path, notebooks: Iterable[Path]) -> list[str]:
    """The top-level statements of a module that no notebook code cell contains verbatim."""
    cells = code_cell_lines(notebooks)
    return [
        "\n".join(block)
        for block in module_blocks(module)
        if not any(contains_lines(cell, block) for cell in cells)
    ]


def _process(path: Path, write: bool) -> list[str]:
    """Write or check one notebook; the problems found."""
    try:
        if write:
            write_executed(path)
            return []
        return check_executed(path)
    except NotebookRunError as exc:
        return [str(exc)]


def main(argv: list[str] | None = None) -> int:
    """Command line: check the notebooks, or (--write) re-execute and save them."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.notebook_support", description=__doc__.splitlines()[0]
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons/*.ipynb")
    parser.add_argument("--write", action="store_true", help="execute and save them in place")
    ns = parser.parse_args(argv)
    failed = 0
    for path in ns.notebooks or notebook_paths():
        problems = _process(path, ns.write)
        for problem in problems:
            print(problem, file=sys.stderr)
        failed += bool(problems)
        print(f"{path.name}: {'FAILED' if problems else 'written' if ns.write else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
