"""The cached venv the integration's unit tests run in: Python 3.13 with
`pytest-homeassistant-custom-component` (which pins Home Assistant 2025.4.4), beside the real-HA
venv under `~/.cache/ha-agent/`. Created once, on first use; nothing here imports HA."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support.real_ha import (
    Report,
    _file_lock,
    _print_report,
    _python_version,
    _run_logged,
    cache_root,
    ensure_ha_venv,
    find_python313,
)

PHACC_VERSION = "0.13.236"
REQUIREMENTS = (f"pytest-homeassistant-custom-component=={PHACC_VERSION}",)
_MARKER = ".ha-agent-installed"


def venv_dir() -> Path:
    return cache_root() / f"phacc-{PHACC_VERSION}"


def _frozen(python: Path) -> str:
    """`pip freeze` of another venv, as constraints (editable and local installs left out)."""
    out = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True, timeout=120, check=True)
    return "".join(f"{line}\n" for line in out.stdout.splitlines() if "==" in line and " @ " not in line)


def ensure_phacc_venv(report: Report = _print_report) -> Path:
    """The venv's python, installing it first if needed (raises `HANotAvailable` without 3.13)."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    marker = venv / _MARKER
    wanted = "\n".join(REQUIREMENTS) + "\n"
    if marker.exists() and marker.read_text() == wanted:
        return python
    with _file_lock(cache_root() / f"phacc-{PHACC_VERSION}.lock", report):
        if marker.exists() and marker.read_text() == wanted:
            return python
        started = time.monotonic()
        log_path = cache_root() / f"phacc-{PHACC_VERSION}.install.log"
        if not python.exists() or _python_version(python) != (3, 13):
            base = find_python313()
            report(f"creating the integration test venv at {venv} with {base}")
            _run_logged([str(base), "-m", "venv", "--clear", str(venv)], log_path, report, "creating the venv")
        # Left alone, pip backtracks for many minutes through HA's dependency tree (building old
        # sdists); the real-HA venv already holds a resolved set for the same HA, so pin to it.
        constraints = venv / "constraints.txt"
        constraints.write_text(_frozen(ensure_ha_venv(report)))
        report(f"installing {', '.join(REQUIREMENTS)} (cold: a few minutes; log: {log_path})")
        _run_logged([str(python), "-m", "pip", "install", "--progress-bar", "off", "-c", str(constraints),
                     *REQUIREMENTS], log_path, report, "pip install")  # fmt: skip
        marker.write_text(wanted)
        report(f"integration test venv ready in {time.monotonic() - started:.1f} s")
    return python
