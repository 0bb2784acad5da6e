"""A PrairieLearn externally graded question and the image it grades in.

Follows PrairieLearn's "External Grading" documentation (docs.prairielearn.com/
externalGrading/): a question's ``info.json`` turns external grading on in
``externalGradingOptions`` (``enabled``, ``image``, ``entrypoint``, ``timeout`` in
seconds, at most 600, and ``enableNetworking``, off here); the question's ``tests/``
folder is copied to ``/grade/tests`` and the student's files to ``/grade/student``;
the entrypoint must write ``/grade/results/results.json`` (``--format prairielearn``).

The folder written here holds ``question/`` (``info.json``, ``question.html``,
``tests/grade.sh``), ``image/`` (a Dockerfile installing the pinned requirements
and the grader when the image is built, so grading installs nothing) and a README.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from grader import __version__
from grader.platforms.requirements import requirements_txt
from grader.platforms.sources import (
    EXECUTABLE,
    REPO_ROOT,
    Entry,
    grader_entries,
    project_entry,
    write_folder,
)
from grader.platforms.templates import fill, template

DEFAULT_IMAGE = f"sse-grader:{__version__}"
DEFAULT_TIMEOUT = 120
MAX_TIMEOUT = 600  # PrairieLearn refuses more
MARGIN = 10  # seconds the entrypoint keeps to write a result before PrairieLearn's timeout
VENV = "/opt/sse-grader"
ENTRYPOINT = "/grade/tests/grade.sh"


def info_json(image: str, timeout: int, question_uuid: str) -> str:
    """The question's info.json, external grading on and the network off."""
    info = {
        "uuid": question_uuid,
        "title": "Lesson 3: Streaming and Server-Sent Events",
        "topic": "Streaming and Server-Sent Events",
        "tags": ["fastapi", "streaming", "sse"],
        "type": "v3",
        "singleVariant": True,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": True,
            "image": image,
            "entrypoint": ENTRYPOINT,
            "timeout": timeout,
            "enableNetworking": False,
        },
    }
    return json.dumps(info, indent=2) + "\n"


def question_entries(image: str, timeout: int, question_uuid: str) -> list[Entry]:
    """The question folder: info.json, question.html and the entrypoint in tests/."""
    from grader.exercises import EXERCISES  # once the requirements are known to be there

    names = ", ".join(exercise.filename for exercise in EXERCISES)
    grading = {"GRADING_TIMEOUT": str(max(timeout - MARGIN, 1)), "VENV": VENV}
    return [
        Entry("question/info.json", info_json(image, timeout, question_uuid).encode()),
        Entry(
            "question/question.html",
            fill(template("prairielearn_question.html"), {"FILE_NAMES": names}).encode(),
        ),
        Entry(
            "question/tests/grade.sh",
            fill(template("prairielearn_grade.sh"), grading).encode(),
            EXECUTABLE,
        ),
    ]


def image_entries(image: str, root: Path = REPO_ROOT) -> list[Entry]:
    """The image's build context: Dockerfile, pinned requirements and the grader."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    values = {"IMAGE": image, "PYTHON_VERSION": version, "VENV": VENV}
    context = [project_entry(root), *grader_entries(root)]
    return [
        Entry("image/Dockerfile", fill(template("prairielearn_Dockerfile"), values).encode()),
        Entry("image/requirements.txt", requirements_txt().encode()),
        *(Entry(f"image/{e.name}", e.data, e.mode) for e in context),
    ]


def build_folder(
    output: Path,
    image: str = DEFAULT_IMAGE,
    timeout: int = DEFAULT_TIMEOUT,
    question_uuid: str | None = None,
) -> list[str]:
    """Write the question and image folders to output; the names written."""
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise ValueError(f"PrairieLearn's timeout is 1 to {MAX_TIMEOUT} seconds, not {timeout}")
    entries = [
        Entry("README.md", template("prairielearn_README.md").encode()),
        *question_entries(image, timeout, question_uuid or str(uuid.uuid4())),
        *image_entries(image),
    ]
    return write_folder(entries, output)
