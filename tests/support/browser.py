"""A real browser for tests: Debian's headless Chromium, driven by Python `playwright`.

Playwright's own browser download (`playwright install`) is never used: the system's
`/usr/bin/chromium` is. When it is missing and the tests run as root, it is installed once with
apt-get. When it cannot be had the browser tests skip, except on CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from tests.support.installs import apt_install
from tests.support.needs import progress, unavailable

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class BrowserUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def ensure_chromium(report: Callable[[str], None]) -> str:
    """The path of a Chromium to drive, installing Debian's package when missing and allowed."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        raise BrowserUnavailable("python package 'playwright' is not installed (pip install -e '.[test]')") from None
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if why := apt_install(["chromium"], report):
        raise BrowserUnavailable(f"{CHROMIUM} is missing ({why})")
    if not os.access(CHROMIUM, os.X_OK):
        raise BrowserUnavailable(f"apt-get installed 'chromium' but {CHROMIUM} is still missing")
    report(f"chromium installed at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium(request: pytest.FixtureRequest) -> str:
    """The path of the Chromium executable, checked (and installed if need be) once a session."""
    missing: str | None = None
    try:
        path = ensure_chromium(progress(request, "browser"))
    except BrowserUnavailable as exc:
        missing = exc.reason
    if missing is not None:  # outside the except block: no chained traceback in the report
        unavailable(f"headless Chromium unavailable: {missing}")
    return path
