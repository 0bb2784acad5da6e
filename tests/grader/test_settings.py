"""Defaults declared once (grader/settings.py), used by the command line, check() and the plugin."""

from __future__ import annotations

import inspect

import pytest

from grader import settings
from grader.cli import build_parser
from grader.sandbox import Limits, MiB

OPTIONS = {
    "--timeout": settings.TIMEOUT,
    "--memory": settings.MEMORY_MIB,
    "--scratch": settings.SCRATCH_MIB,
    "--cpu": settings.CPU_SECONDS,
    "--output-limit": settings.OUTPUT_KIB,
    "--jobs": settings.JOBS,
}


@pytest.mark.parametrize("flag", OPTIONS)
def test_each_command_line_option_takes_its_default_and_help_from_the_settings(flag: str) -> None:
    parser = build_parser()
    (action,) = [a for a in parser._actions if flag in a.option_strings]
    assert action.default == OPTIONS[flag].default
    assert action.help == OPTIONS[flag].describe()
    assert f"(default: {OPTIONS[flag].default:g})" in action.help


def test_the_sandbox_s_limits_default_to_the_same_values() -> None:
    limits = Limits()
    assert limits.timeout == settings.TIMEOUT.default
    assert limits.memory == settings.MEMORY_MIB.default * MiB
    assert limits.cpu_seconds == settings.CPU_SECONDS.default
    assert limits.output == settings.OUTPUT_KIB.default * 1024
    assert limits.scratch == settings.SCRATCH_MIB.default * MiB


def test_the_notebook_and_the_pytest_plugin_take_the_same_timeout() -> None:
    from grader import notebook, pytest_plugin

    for function in (notebook.check, notebook.check_all):
        assert inspect.signature(function).parameters["timeout"].default == settings.TIMEOUT.default
    options = OptionRecorder()
    pytest_plugin.pytest_addoption(options)  # type: ignore[arg-type]
    assert options.added["--grader-timeout"]["default"] == settings.TIMEOUT.default
    assert options.added["--grader-timeout"]["help"] == settings.TIMEOUT.describe()


class OptionRecorder:
    """Records the options a plugin adds, as pytest's parser would receive them."""

    def __init__(self) -> None:
        self.added: dict[str, dict[str, object]] = {}

    def getgroup(self, *args: object) -> OptionRecorder:
        return self

    def addoption(self, *names: str, **attrs: object) -> None:
        self.added.update(dict.fromkeys(names, attrs))
