"""Where the integration's unit tests run: `pytest-homeassistant-custom-component` (phacc), HA's
own test harness, once per HA line the integration supports, each cached under `~/.cache/ha-agent/`
and created on first use. Nothing here imports HA.

- 0.13.236 pins HA 2025.4.4: a venv of pyenv's Python 3.13 beside the real-HA venv.
- 0.13.375 pins HA 2026.10.4 and needs Python ≥ 3.14: a venv in the forky root of the real HA
  2026.11.0 (there is no phacc for 2026.11.0 yet), run with bubblewrap like that HA.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.forky_root import ForkyRoot
from tests.support.installs import Report, cache_root, cached_install, print_report, run_logged
from tests.support.real_ha import (
    ROOT_HA_VERSION,
    VENV_HA_VERSION,
    _python_version,
    ensure_ha_venv,
    find_python313,
    install_integration_requirements,
)

_MARKER = ".ha-agent-installed"
_UNIT = Path("tests") / "ha_integration_unit"
_INTEGRATION = Path("ha_agent") / "ha_integration"  # holds custom_components/
_MANIFEST = Path(__file__).parents[2] / _INTEGRATION / "custom_components" / "ha_agent" / "manifest.json"
# The repository is bound here inside the root: /tmp is the run's own tmpfs, where bwrap can make
# the mount point (the read-only root cannot have one made).
_REPO_INSIDE = "/tmp/ha-agent"


@dataclass(frozen=True)
class UnitRun:
    argv: list[str]
    env: dict[str, str]
    cwd: Path


def _pytest_args(repo: str) -> list[str]:
    unit = f"{repo}/{_UNIT}"
    return ["-m", "pytest", "-c", f"{unit}/pytest.ini", "-q", "-p", "no:cacheprovider", unit]


def _frozen(python: Path) -> str:
    """`pip freeze` of another venv, as constraints (editable and local installs left out)."""
    out = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True, timeout=120, check=True)
    return "".join(f"{line}\n" for line in out.stdout.splitlines() if "==" in line and " @ " not in line)


class HostVenvHarness:
    """phacc 0.13.236 (HA 2025.4.4) in a Python 3.13 venv of the host."""

    phacc_version = "0.13.236"
    ha_version = VENV_HA_VERSION

    def __init__(self, report: Report = print_report) -> None:
        self._report = report
        self._python: Path | None = None

    def prepare(self) -> None:
        """Install the venv if needed (raises `HANotAvailable` without Python 3.13)."""
        venv = cache_root() / f"phacc-{self.phacc_version}"
        python = venv / "bin" / "python"
        requirement = f"pytest-homeassistant-custom-component=={self.phacc_version}"
        log_path = cache_root() / f"phacc-{self.phacc_version}.install.log"

        def install() -> None:
            started = time.monotonic()
            if not python.exists() or _python_version(python) != (3, 13):
                base = find_python313()
                self._report(f"creating the integration test venv at {venv} with {base}")
                run_logged([str(base), "-m", "venv", "--clear", str(venv)], log_path, self._report, "creating the venv")
            # Left alone, pip backtracks for many minutes through HA's dependency tree (building old
            # sdists); the real-HA venv already holds a resolved set for the same HA, so pin to it.
            constraints = venv / "constraints.txt"
            constraints.write_text(_frozen(ensure_ha_venv(self._report)))
            self._report(f"installing {requirement} (cold: a few minutes; log: {log_path})")
            run_logged(
                [str(python), "-m", "pip", "install", "--progress-bar", "off", "-c", str(constraints), requirement],
                log_path,
                self._report,
                "pip install",
            )
            self._report(f"integration test venv ready in {time.monotonic() - started:.1f} s")

        cached_install(
            venv / _MARKER, requirement + "\n", cache_root() / f"phacc-{self.phacc_version}.lock", install, self._report
        )
        self._python = python

    def run(self, repo: Path) -> UnitRun:
        assert self._python is not None, "prepare() first"
        env = {"PYTHONPATH": str(repo / _INTEGRATION), "PYTHONDONTWRITEBYTECODE": "1"}
        return UnitRun([str(self._python), *_pytest_args(str(repo))], env, repo / _UNIT)


class RootHarness:
    """phacc 0.13.375 (HA 2026.10.4, Python 3.14) in the forky root of HA 2026.11.0; the
    repository is bound read-only, so the tests cannot write into it."""

    phacc_version = "0.13.375"
    ha_version = "2026.10.4"
    _VENV = f"/opt/phacc-{phacc_version}"

    def __init__(self, report: Report = print_report) -> None:
        self.root = ForkyRoot(f"ha-{ROOT_HA_VERSION}", report)

    def prepare(self) -> None:
        """Build what is missing of the root (raises `HANotAvailable` where it cannot be had)."""
        self.root.ensure_base()
        self.root.ensure_venv(
            self._VENV,
            (f"pytest-homeassistant-custom-component=={self.phacc_version}",),
            f"the integration's unit tests on HA {self.ha_version}",
        )
        # HA's test harness never pip-installs: the requirements of what the integration depends
        # on (conversation: hassil and HA's sentences, no longer HA's own since 2025) go in here.
        dependencies = set(json.loads(_MANIFEST.read_text())["dependencies"])
        self.root.layer(
            f"phacc-{self.phacc_version}-requirements",
            "".join(f"{d}\n" for d in sorted(dependencies)),
            lambda: install_integration_requirements(
                self.root, self._VENV, dependencies, set(), "the integration's dependencies"
            ),
        )

    def run(self, repo: Path) -> UnitRun:
        env = {"PYTHONPATH": f"{_REPO_INSIDE}/{_INTEGRATION}", "PYTHONDONTWRITEBYTECODE": "1"}
        argv = self.root.command(
            [f"{self._VENV}/bin/python", *_pytest_args(_REPO_INSIDE)],
            ro_binds={repo: _REPO_INSIDE},
            env=env,
            chdir=f"{_REPO_INSIDE}/{_UNIT}",
        )
        return UnitRun(argv, {}, repo)


HARNESSES = (HostVenvHarness, RootHarness)
