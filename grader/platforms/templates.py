"""The platform files shipped as templates, and the filling of their @NAME@ placeholders."""

from __future__ import annotations

import re
from importlib import resources

PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def template(name: str) -> str:
    """The text of one file in grader/platforms/templates/."""
    return resources.files("grader.platforms").joinpath("templates", name).read_text("utf-8")


def fill(text: str, values: dict[str, str]) -> str:
    """The text with every @NAME@ replaced by values[NAME]; a missing value is an error."""
    missing = sorted(set(PLACEHOLDER.findall(text)) - values.keys())
    if missing:
        raise KeyError(f"no value for the template placeholders {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)
