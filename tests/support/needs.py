"""What a test needs from the machine (a real HA, PostgreSQL, a browser, a venv), and the one
rule when it is missing: skip and say why on a developer's machine, fail on CI (`CI=true`),
where a missing part must never pass silently."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

import pytest

ON_CI = os.environ.get("CI", "").strip().lower() == "true"


def unavailable(message: str) -> NoReturn:
    if ON_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def progress(request: pytest.FixtureRequest, tag: str) -> Callable[[str], None]:
    """A line printer for long set-up (installs, starts) that shows even when output is captured."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def report(message: str) -> None:
        line = f"[{tag}] {message}"
        if reporter is None or capture is None:
            print(line, file=sys.stderr, flush=True)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)

    return report
