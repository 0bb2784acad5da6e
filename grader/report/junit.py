"""JUnit XML for CI systems: one testsuite per submission, one testcase per check.

CI logs are read by instructors, so each check's details go into the testcase's
system-err and each exercise's advice into the suite's system-out.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.report.wording import graded_checks
from grader.results import Check, SubmissionResult

ROOT_NAME = "streaming-sse-grader"
FAILURE_TYPE = "CheckFailed"
# Everything XML 1.0 forbids: control characters but tab/LF/CR, surrogates, U+FFFE/U+FFFF.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text with the characters XML 1.0 cannot hold spelled out as escapes."""
    return NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def seconds(value: float) -> str:
    """A JUnit time attribute: seconds with three decimals."""
    return f"{value:.3f}"


def add_testcase(suite: ET.Element, classname: str, check: Check) -> None:
    """One check as a testcase, with a failure element when it failed."""
    case = ET.SubElement(suite, "testcase", classname=xml_text(classname))
    case.set("name", xml_text(check.name))
    if not check.passed:
        first_line = check.message.splitlines()[0] if check.message else ""
        failure = ET.SubElement(case, "failure", type=FAILURE_TYPE)
        failure.set("message", xml_text(first_line))
        failure.text = xml_text(check.message)
    if check.details:
        ET.SubElement(case, "system-err").text = xml_text(check.details)


def testsuite(result: SubmissionResult) -> ET.Element:
    """One submission as a testsuite, its counts and score properties filled in."""
    suite = ET.Element("testsuite", name=xml_text(result.submission))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("score", result.score), ("max_score", result.max_score)):
        ET.SubElement(properties, "property", name=name, value=f"{value:g}")
    advice: list[str] = []
    for exercise_result in result.exercises:
        classname = f"{result.submission}.{exercise_result.id}"
        for check in graded_checks(exercise_result):
            add_testcase(suite, classname, check)
        advice += [f"{exercise_result.id} advice: {line}" for line in exercise_result.advice]
    if advice or result.notes:
        lines = advice + [f"note: {note}" for note in result.notes]
        ET.SubElement(suite, "system-out").text = xml_text("\n".join(lines))
    cases = suite.findall("testcase")
    duration = result.duration or sum(e.duration for e in result.exercises)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(case.find("failure") is not None for case in cases)))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    suite.set("time", seconds(duration))
    return suite


def render_junit(results: list[SubmissionResult]) -> str:
    """<testsuites> holding one <testsuite> per submission, as an XML document."""
    root = ET.Element("testsuites", name=ROOT_NAME)
    suites = [testsuite(result) for result in results]
    root.extend(suites)
    for counter in ("tests", "failures", "errors"):
        root.set(counter, str(sum(int(suite.get(counter, "0")) for suite in suites)))
    root.set("time", seconds(sum(float(suite.get("time", "0")) for suite in suites)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
