"""The Classroom 50 autograder folder: what goes in CLASSROOM/autograders/ASSIGNMENT/.

Classroom 50 (github.com/foundation50/classroom50), the open-source successor of
GitHub Classroom, grades each submission with the per-assignment ``autograder.py``
it finds in that folder, run from the student's checkout, and bundles every other
file of the folder beside it (wiki page "Advanced Autograding", sections "Writing an
autograder.py" and "The result.json contract"). The folder written here holds:

- ``autograder.py``: installs the pinned requirements if they are missing, grades
  the submission folder of the checkout, writes ``result.json``
  (classroom50/result/v1, one test per exercise) and ``release-body.md``;
- ``settings.json``: the submission folder and the exercise titles it reads;
- ``requirements.txt`` and the grader's source (``grader/``);
- ``runtime.json``: the assignment's ``runtime`` block (the Python version the
  pins were made for), for ``gh teacher assignment add --runtime runtime.json``;
- ``README.md``: the above for whoever opens the folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grader.platforms.requirements import requirements_txt
from grader.platforms.sources import REPO_ROOT, Entry, grader_entries, write_folder
from grader.platforms.templates import template

DEFAULT_SUBMISSION = "exercises"
AUTOGRADER = "autograder.py"


def settings(submission: str) -> str:
    """settings.json: where the exercises are in the checkout and what they are called."""
    from grader.exercises import EXERCISES  # once the requirements are known to be there

    titles = {exercise.id: exercise.title for exercise in EXERCISES}
    return json.dumps({"submission": submission, "titles": titles}, indent=2) + "\n"


def runtime() -> str:
    """runtime.json: the Python the pinned requirements were resolved with."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return json.dumps({"runs-on": "ubuntu-latest", "python": version}, indent=2) + "\n"


def folder_entries(submission: str = DEFAULT_SUBMISSION, root: Path = REPO_ROOT) -> list[Entry]:
    """Every file of the autograder folder."""
    return [
        Entry(AUTOGRADER, template("classroom50_autograder.py").encode()),
        Entry("settings.json", settings(submission).encode()),
        Entry("requirements.txt", requirements_txt().encode()),
        Entry("runtime.json", runtime().encode()),
        Entry("README.md", template("classroom50_README.md").encode()),
        *grader_entries(root),
    ]


def build_folder(output: Path, submission: str = DEFAULT_SUBMISSION) -> list[str]:
    """Write the autograder folder to output; the names written."""
    return write_folder(folder_entries(submission), output)
