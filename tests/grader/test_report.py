"""The report renderers: text, JSON, Gradescope, JUnit XML, CSV, Markdown and PrairieLearn.

Most tests render hand-made results; those of the last section run the command line
on a real submission in every format and read back what each report says.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from grader.exercises import EXERCISE_IDS, EXERCISES
from grader.report import FORMATS, render
from grader.report.timeline import MAX_ROWS, PREVIEW_CHARS
from grader.results import Check, Chunk, ExerciseResult, SubmissionResult
from tests.grader.helpers import ROOT, grader, make_submission, report

GRADESCOPE_SCHEMA = json.loads((Path(__file__).parent / "gradescope_schema.json").read_text())
PRAIRIELEARN_SCHEMA = json.loads(
    (Path(__file__).parent / "prairielearn_results_schema.json").read_text()
)
SECRET = "SECRET-instructor-only-traceback"
HOSTILE = "clear\x1b[2Jscreen\x07bell\x00nul\u202eevil"
ESCAPE = "\x1b"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def passing(exercise_id: str, duration: float = 0.25) -> ExerciseResult:
    """A passed exercise with two checks."""
    checks = [
        Check("status", True, "200 OK", details=f"{SECRET} {exercise_id}"),
        Check("body", True, "the body is right"),
    ]
    return ExerciseResult(exercise_id, checks, duration=duration)


def failing_ex2() -> ExerciseResult:
    """A failed ex2 with a multi-line message, details, advice and a chunk timeline."""
    checks = [
        Check("media type", True, "text/event-stream"),
        Check(
            "event framing",
            False,
            "no event ever ended\nend each event with a blank line",
            details=f"{SECRET}\n  File 'ex2_fix_sse.py', line 12",
        ),
    ]
    timeline = [Chunk(0.0105, b"data: build started"), Chunk(0.0520, b"data: tests passed")]
    advice = ["yield f'data: {msg}\\n\\n'"]
    return ExerciseResult("ex2", checks, advice=advice, timeline=timeline, duration=1.5)


@pytest.fixture
def alice() -> SubmissionResult:
    """Two exercises passed, ex2 failed."""
    exercises = [passing("ex1"), failing_ex2(), passing("ex3")]
    return SubmissionResult("class/alice", exercises, duration=2.0, notes=["found extra.py"])


@pytest.fixture
def bob() -> SubmissionResult:
    """Everything passed."""
    return SubmissionResult("class/bob", [passing(ex_id) for ex_id in EXERCISE_IDS], duration=1.0)


@pytest.fixture
def hostile() -> SubmissionResult:
    """A submission whose output is full of control characters."""
    bad = Check(f"name {HOSTILE}", False, f"got {HOSTILE}", details=f"printed {HOSTILE}")
    ex1 = ExerciseResult("ex1", [bad], advice=[HOSTILE], timeline=[Chunk(0.001, b"\x1b[2J")])
    return SubmissionResult(f"class/{HOSTILE}", [ex1, passing("ex2"), passing("ex3")])


def test_unknown_format_is_a_clear_error(alice):
    with pytest.raises(ValueError, match=r"'html'.*text, json, gradescope, junit, csv, markdown"):
        render([alice], "html")


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_leaks_secrets_to_students_except_instructor_channels(alice, fmt):
    out = render([alice], fmt)
    # Text, JSON and CSV are student-facing; Gradescope and JUnit carry details on purpose.
    assert (SECRET in out) == (fmt in ("gradescope", "junit"))


# --- text ---------------------------------------------------------------------


def test_text_shows_verdict_and_score_of_every_exercise(alice):
    out = render([alice], "text")
    assert re.search(r"^ex1\s+PASS\s+1/1\s+Stream a list of lines$", out, re.M)
    assert re.search(r"^ex2\s+FAIL\s+0/1\s+Fix the broken SSE$", out, re.M)
    assert re.search(r"^ex3\s+PASS\s+1/1\s+Sync or async generator\?$", out, re.M)
    assert "== class/alice ==  2/3 points" in out


def test_text_shows_failed_messages_indented_but_not_passed_ones(alice):
    lines = render([alice], "text").splitlines()
    first = next(
        i for i, line in enumerate(lines) if "- event framing: no event ever ended" in line
    )
    follow = lines[first + 1]
    assert follow.strip() == "end each event with a blank line"
    assert len(follow) - len(follow.lstrip()) > len(lines[first]) - len(lines[first].lstrip())
    assert "200 OK" not in "\n".join(lines)


def test_text_shows_advice_and_notes(alice):
    out = render([alice], "text")
    assert "advice: yield f'data: {msg}\\n\\n'" in out
    assert "note: found extra.py" in out


def test_text_timeline_of_failed_stream_lists_each_chunk(alice):
    lines = render([alice], "text").splitlines()
    header = next(i for i, line in enumerate(lines) if "t (ms)" in line)
    assert lines[header].split() == ["#", "t", "(ms)", "bytes", "data"]
    rows = [line.split(None, 3) for line in lines[header + 1 : header + 3]]
    assert rows == [
        ["1", "10.5", "19", "'data: build started'"],
        ["2", "52.0", "18", "'data: tests passed'"],
    ]
    assert not lines[header + 3].strip()[:1].isdigit()


def test_text_timeline_only_for_failed_exercises(alice):
    alice.exercises[0].timeline.append(Chunk(0.002, b"alpha\n"))
    assert "'alpha\\n'" not in render([alice], "text")


def test_text_timeline_is_bounded_for_floods(alice):
    flood = [Chunk(i / 1000, b"x" * (PREVIEW_CHARS + 10)) for i in range(MAX_ROWS + 30)]
    alice.exercise("ex2").timeline[:] = flood
    out = render([alice], "text")
    assert out.count(f"'{'x' * PREVIEW_CHARS}' ...(+10 bytes)") == MAX_ROWS
    assert f"and 30 more chunks, {30 * (PREVIEW_CHARS + 10):,} bytes, the last at 49.0 ms" in out


def timeline_data(alice: SubmissionResult, *chunks: bytes) -> list[str]:
    """The data column of the text report's timeline for a failed ex2 with these chunks."""
    alice.exercise("ex2").timeline[:] = [Chunk(0.001, data) for data in chunks]
    lines = render([alice], "text").splitlines()
    start = next(i for i, line in enumerate(lines) if "t (ms)" in line) + 1
    return [line.split(None, 3)[3] for line in lines[start : start + len(chunks)]]


def test_text_timeline_shows_utf8_chunks_as_text_and_others_as_bytes(alice):
    check = "\u2713".encode()
    assert timeline_data(
        alice, b"data: d\xc3\xa9j\xc3\xa0\n\n", b"\xff\xfe", check[:2], check[2:]
    ) == [
        "'data: d\u00e9j\u00e0\\n\\n'",
        "b'\\xff\\xfe'",
        "b'\\xe2\\x9c'",
        "b'\\x93'",
    ]


def test_text_timeline_previews_many_character_chunks_by_characters(alice):
    text = "\u00e9" * (PREVIEW_CHARS + 5)
    (shown,) = timeline_data(alice, text.encode())
    assert shown == repr(text[:PREVIEW_CHARS]) + " ...(+10 bytes)"


def test_text_summary_table_with_totals(alice, bob):
    lines = render([alice, bob], "text").rstrip("\n").splitlines()
    table = [line.split() for line in lines[-4:]]
    assert table == [
        ["submission", "ex1", "ex2", "ex3", "score"],
        ["class/alice", "1/1", "0/1", "1/1", "2/3"],
        ["class/bob", "1/1", "1/1", "1/1", "3/3"],
        ["total", "2/2", "1/2", "2/2", "5/6"],
    ]


def test_text_summary_of_a_partial_grading_has_only_the_graded_columns(alice):
    alice.exercises[1:] = []
    last = render([alice], "text").rstrip("\n").splitlines()[-3:]
    assert [line.split() for line in last] == [
        ["submission", "ex1", "score"],
        ["class/alice", "1/1", "1/1"],
        ["total", "1/1", "1/1"],
    ]


def test_text_without_color_has_no_escape_codes(alice):
    assert ESCAPE not in render([alice], "text", color=False)


def test_text_with_color_paints_pass_green_and_fail_red(alice):
    out = render([alice], "text", color=True)
    assert "\x1b[32mPASS\x1b[0m" in out
    assert "\x1b[31mFAIL\x1b[0m" in out
    assert ANSI.sub("", out) == render([alice], "text", color=False)


def test_text_spells_out_control_characters_of_hostile_output(hostile):
    out = render([hostile], "text", color=True)
    assert ESCAPE not in ANSI.sub("", out)  # only the report's own colour codes remain
    assert "\x07" not in out and "\x00" not in out and "\u202e" not in out
    assert "got clear\\x1b[2Jscreen\\x07bell\\x00nul\\u202eevil" in out


def test_text_of_nothing():
    assert render([], "text") == "No submissions were graded.\n"


def test_text_exercise_without_checks_fails_visibly(bob):
    bob.exercises[2] = ExerciseResult("ex3")
    out = render([bob], "text")
    assert re.search(r"^ex3\s+FAIL\s+0/1", out, re.M)
    assert "- graded: No checks ran for this exercise." in out


# --- json ---------------------------------------------------------------------

JSON_CONTRACT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["submissions"],
    "properties": {
        "submissions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["submission", "score", "max_score", "exercises"],
                "properties": {
                    "submission": {"type": "string"},
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "exercises": {
                        "type": "array",
                        "minItems": 3,
                        "maxItems": 3,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["id", "passed", "score", "max_score", "checks"],
                            "properties": {
                                "id": {"enum": list(EXERCISE_IDS)},
                                "passed": {"type": "boolean"},
                                "score": {"type": "number"},
                                "max_score": {"type": "number"},
                                "checks": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["name", "passed", "message"],
                                        "properties": {
                                            "name": {"type": "string"},
                                            "passed": {"type": "boolean"},
                                            "message": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def test_json_follows_the_public_contract(alice, bob):
    document = json.loads(render([alice, bob], "json"))
    jsonschema.validate(document, JSON_CONTRACT)
    first = document["submissions"][0]
    assert (first["submission"], first["score"], first["max_score"]) == ("class/alice", 2.0, 3.0)
    ex2 = first["exercises"][1]
    assert (ex2["id"], ex2["passed"], ex2["score"]) == ("ex2", False, 0.0)
    assert ex2["checks"][1]["message"] == "no event ever ended\nend each event with a blank line"
    assert [s["submission"] for s in document["submissions"]] == ["class/alice", "class/bob"]


def test_json_keeps_hostile_text_exact(hostile):
    document = json.loads(render([hostile], "json"))
    assert document["submissions"][0]["exercises"][0]["checks"][0]["message"] == f"got {HOSTILE}"


# --- gradescope ---------------------------------------------------------------


def gradescope(result: SubmissionResult) -> dict:
    """The Gradescope document, checked against Gradescope's results.json schema."""
    document = json.loads(render([result], "gradescope"))
    jsonschema.validate(document, GRADESCOPE_SCHEMA)
    return document


def test_gradescope_validates_and_scores(alice):
    document = gradescope(alice)
    assert document["score"] == 2.0
    assert document["execution_time"] >= 2
    scored = [t for t in document["tests"] if t["visibility"] == "visible"]
    assert [t["name"] for t in scored] == [f"{ex.id}: {ex.title}" for ex in EXERCISES]
    assert [(t["score"], t["max_score"], t["status"]) for t in scored] == [
        (1.0, 1.0, "passed"),
        (0.0, 1.0, "failed"),
        (1.0, 1.0, "passed"),
    ]
    assert sum(t["score"] for t in scored) == document["score"]
    assert len({t["number"] for t in document["tests"]}) == len(document["tests"])


def test_gradescope_student_feedback_is_visible_and_complete(alice):
    ex2 = next(t for t in gradescope(alice)["tests"] if t["name"].startswith("ex2: Fix"))
    assert ex2["visibility"] == "visible"
    output = html.unescape(ex2["output"])
    assert re.search(r'<tr class="sse-check sse-pass">.*?✓.*?media type', output)
    assert re.search(r'<tr class="sse-check sse-fail">.*?✗.*?event framing', output)
    assert "no event ever ended\nend each event with a blank line" in output
    assert "yield f'data: {msg}\\n\\n'" in output
    assert "'data: tests passed'" in output
    assert '<pre class="sse-timeline">' in output
    assert '<details class="sse-hint">' in output
    assert SECRET not in ex2["output"]


def test_gradescope_instructor_details_are_hidden_and_worth_nothing(alice):
    document = gradescope(alice)
    hidden = [t for t in document["tests"] if t["visibility"] == "hidden"]
    assert len(hidden) == len(EXERCISES)
    assert all(t["max_score"] == 0 and t["score"] == 0 for t in hidden)
    ex2 = next(t for t in hidden if t["name"].startswith("ex2"))
    assert SECRET in ex2["output"] and "ex2 took 1.500 s" in ex2["output"]
    shown = [t["output"] for t in document["tests"] if t["visibility"] != "hidden"]
    assert not any(SECRET in text for text in [*shown, document["output"]])
    assert document["stdout_visibility"] == "hidden"


def test_gradescope_student_output_is_html_with_everything_escaped(hostile):
    hostile.exercises[0].checks.append(Check("<b>bold</b>", False, "<script>alert(1)</script>"))
    document = gradescope(hostile)
    assert document["output_format"] == "text"
    formats = {t["visibility"]: t["output_format"] for t in document["tests"]}
    assert formats == {"visible": "html", "hidden": "text"}
    assert ESCAPE not in json.dumps(document, ensure_ascii=False)
    shown = document["tests"][0]["output"]
    assert "<script>" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "<b>bold" not in shown and "&lt;b&gt;bold&lt;/b&gt;" in shown


@pytest.mark.parametrize("count", [0, 2])
def test_gradescope_takes_exactly_one_submission(alice, count):
    with pytest.raises(ValueError, match=f"exactly one submission, not {count}"):
        render([alice] * count, "gradescope")


# --- junit --------------------------------------------------------------------


def junit(results: list[SubmissionResult]) -> ET.Element:
    """The JUnit document parsed back, its structure checked the way JUnit's XSD has it."""
    root = ET.fromstring(render(results, "junit").encode("utf-8"))
    assert root.tag == "testsuites"
    for suite in root:
        assert suite.tag == "testsuite"
        assert {"name", "tests", "failures", "errors", "time"} <= suite.attrib.keys()
        tags = [child.tag for child in suite]
        order = ["properties", "testcase", "system-out", "system-err"]
        assert tags == sorted(tags, key=order.index), "children out of the XSD's order"
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        float(suite.get("time"))
        for case in cases:
            assert {"name", "classname"} <= case.attrib.keys()
            for failure in case.findall("failure"):
                assert "message" in failure.attrib
    for counter in ("tests", "failures"):
        assert int(root.get(counter)) == sum(int(s.get(counter)) for s in root)
    return root


def test_junit_one_suite_per_submission_one_case_per_check(alice, bob):
    root = junit([alice, bob])
    assert [s.get("name") for s in root] == ["class/alice", "class/bob"]
    assert (root.get("tests"), root.get("failures")) == ("12", "1")
    cases = root[0].findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases[:4]] == [
        ("class/alice.ex1", "status"),
        ("class/alice.ex1", "body"),
        ("class/alice.ex2", "media type"),
        ("class/alice.ex2", "event framing"),
    ]


def test_junit_failure_carries_the_message_and_details_go_to_system_err(alice):
    framing = junit([alice])[0].findall("testcase")[3]
    failure = framing.find("failure")
    assert failure.get("message") == "no event ever ended"
    assert failure.text == "no event ever ended\nend each event with a blank line"
    assert SECRET in framing.find("system-err").text
    assert "ex2 advice: yield" in junit([alice])[0].find("system-out").text


def test_junit_survives_characters_xml_cannot_hold(hostile):
    root = junit([hostile])
    failure = root[0].find("testcase/failure")
    assert failure.get("message") == "got clear\\x1b[2Jscreen\\x07bell\\x00nul\u202eevil"
    assert root[0].get("name").startswith("class/clear\\x1b[2J")


def test_junit_exercise_without_checks_is_a_failure(bob):
    bob.exercises[0] = ExerciseResult("ex1")
    root = junit([bob])
    assert root[0].get("failures") == "1"
    assert root[0].find("testcase").get("classname") == "class/bob.ex1"


# --- csv ----------------------------------------------------------------------


def test_csv_one_row_per_submission(alice, bob):
    rows = list(csv.reader(io.StringIO(render([alice, bob], "csv"))))
    assert rows == [
        ["submission", "ex1", "ex2", "ex3", "total", "max"],
        ["class/alice", "1", "0", "1", "2", "3"],
        ["class/bob", "1", "1", "1", "3", "3"],
    ]


def test_csv_quotes_awkward_names_and_defuses_formulas(bob):
    bob.submission = 'class/o"brien, jr'
    evil = SubmissionResult("=HYPERLINK(1)", bob.exercises)
    rows = list(csv.reader(io.StringIO(render([bob, evil], "csv"))))
    assert rows[1][0] == 'class/o"brien, jr'
    assert rows[2][0] == "'=HYPERLINK(1)"


def test_csv_keeps_every_column_for_a_partial_grading(alice):
    alice.exercises[1:] = []
    rows = list(csv.reader(io.StringIO(render([alice], "csv"))))
    assert rows[1] == ["class/alice", "1", "", "", "1", "1"]


def test_csv_of_nothing_is_the_header():
    assert render([], "csv") == "submission,ex1,ex2,ex3,total,max\n"


FORGED_LINE = "ex1   PASS      1/1  Stream lines"
FORGERIES = [f"{sep}{FORGED_LINE}" for sep in ("\u2028", "\u2029", "\r", "\x0b", "\x0c", "\x85")]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_text_draws_no_line_a_submission_forged(forgery):
    hidden = f"\u202e\u2066\u200b\ufeff{forgery}\u200f"
    ex1 = ExerciseResult(
        "ex1",
        [Check(f"body{forgery}", False, f"got {hidden}")],
        advice=[hidden],
        timeline=[Chunk(0.001, hidden.encode())],
    )
    result = SubmissionResult(f"class/x{forgery}", [ex1, passing("ex2"), passing("ex3")])
    out = render([result], "text")
    assert out.splitlines() == out.split("\n")[:-1]  # "\n" is the only line break left
    verdicts = [line for line in out.splitlines() if re.match(r"ex\d\s+(PASS|FAIL)", line)]
    assert [line.split()[:2] for line in verdicts] == [
        ["ex1", "FAIL"],
        ["ex2", "PASS"],
        ["ex3", "PASS"],
    ]
    assert not {c for c in hidden if not c.isprintable()} & set(out)


def test_text_caps_every_message_a_submission_can_lengthen():
    long = "y" * 100_000
    ex1 = ExerciseResult("ex1", [Check("body", False, long)], advice=[long])
    out = render([SubmissionResult("class/x", [ex1])], "text")
    assert len(out) < 10_000
    assert out.count("more characters)") == 2


# --- the command line, on a real submission ---------------------------------------------

BROKEN = "ex2"  # the exercise the submission below answers with its unsolved stub
LESSON_EXERCISES = {"ex1", "ex2", "ex3"}  # graded whenever no exercise is picked

Verdicts = dict[str, bool]


def text_verdicts(out: str) -> Verdicts:
    return {
        ex: verdict == "PASS" for ex, verdict in re.findall(r"^(ex\d+)\s+(PASS|FAIL)\b", out, re.M)
    }


def verdicts_of(submission: dict) -> Verdicts:
    return {e["id"]: e["passed"] for e in submission["exercises"]}


def json_verdicts(out: str) -> Verdicts:
    [submission] = json.loads(out)["submissions"]
    return verdicts_of(submission)


def gradescope_verdicts(out: str) -> Verdicts:
    document = json.loads(out)
    jsonschema.validate(document, GRADESCOPE_SCHEMA)
    scored = [t for t in document["tests"] if t["visibility"] == "visible"]
    return {t["name"].split(":")[0]: t["status"] == "passed" for t in scored}


def junit_verdicts(out: str) -> Verdicts:
    [suite] = ET.fromstring(out.encode("utf-8"))
    verdicts: Verdicts = {}
    for case in suite.findall("testcase"):
        ex = case.get("classname").rsplit(".", 1)[-1]  # "<submission>.<exercise>"
        verdicts[ex] = verdicts.get(ex, True) and case.find("failure") is None
    return verdicts


def csv_verdicts(out: str) -> Verdicts:
    [row] = csv.DictReader(io.StringIO(out))
    return {ex: float(row[ex]) > 0 for ex in list(row)[1:-2] if row[ex]}


def markdown_verdicts(out: str) -> Verdicts:
    rows = re.findall(r"^\| (ex\d+) \| .* \| (✅ passed|❌ failed) \| [\d./]+ \|$", out, re.M)
    return {ex: verdict.endswith("passed") for ex, verdict in rows}


def prairielearn_verdicts(out: str) -> Verdicts:
    document = json.loads(out)
    jsonschema.validate(document, PRAIRIELEARN_SCHEMA)
    return {t["name"].split(":")[0]: t["points"] == t["max_points"] for t in document["tests"]}


VERDICTS = {
    "text": text_verdicts,
    "json": json_verdicts,
    "gradescope": gradescope_verdicts,
    "junit": junit_verdicts,
    "csv": csv_verdicts,
    "markdown": markdown_verdicts,
    "prairielearn": prairielearn_verdicts,
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """A submission right but for exercise 2, graded once: its folder, results and JSON entry."""
    broken = next(ex for ex in EXERCISES if ex.id == BROKEN)
    stub = (ROOT / "exercises" / broken.filename).read_text(encoding="utf-8")
    folder = make_submission(tmp_path_factory.mktemp("report") / "student", {broken: stub})
    results = folder.parent / "results"
    done = grader("--format", "json", "--results-dir", str(results), str(folder))
    assert done.returncode == 1, done.stderr[-2000:]
    [submission] = report(done)["submissions"]
    return folder, results, submission


def cli_report(graded: tuple[Path, Path, dict], fmt: str) -> subprocess.CompletedProcess[str]:
    """The report of the graded submission in ``fmt``, as the command line renders it."""
    folder, results, _ = graded
    return grader("--format", fmt, "--results-dir", str(results), str(folder))


def test_formats_are_the_cli_choices():
    done = grader("--help")
    [choices] = set(re.findall(r"--format \{([\w,]+)\}", done.stdout))  # usage and option
    assert tuple(choices.split(",")) == FORMATS == tuple(VERDICTS)


def test_the_json_report_fails_the_broken_exercise_alone(graded):
    submission = graded[2]
    verdicts = verdicts_of(submission)
    assert verdicts.keys() >= LESSON_EXERCISES, verdicts
    assert [ex for ex, passed in verdicts.items() if not passed] == [BROKEN], verdicts
    assert (submission["score"], submission["max_score"]) == (len(verdicts) - 1, len(verdicts))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_of_the_cli_reports_the_same_verdicts(graded, fmt):
    done = cli_report(graded, fmt)
    assert done.returncode == 1, done.stderr[-2000:]
    assert VERDICTS[fmt](done.stdout) == verdicts_of(graded[2])


def test_the_cli_text_report_says_why_the_broken_exercise_failed(graded):
    submission = graded[2]
    [broken] = [e for e in submission["exercises"] if e["id"] == BROKEN]
    failed = [c for c in broken["checks"] if not c["passed"]]
    assert failed, broken
    out = cli_report(graded, "text").stdout
    for check in failed:
        first_line = check["message"].splitlines()[0]
        assert f"- {check['name']}: {first_line}" in out, out
    score = f"{submission['score']:g}/{submission['max_score']:g}"
    assert f"== {submission['submission']} ==  {score} points" in out
