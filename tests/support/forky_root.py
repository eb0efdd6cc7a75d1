"""A Debian forky root to run the newest Home Assistant in, with bubblewrap.

Home Assistant 2026.3 and newer need Python ≥ 3.14.2. This machine has neither (Debian 12, pyenv's
3.13.0) and the registries serve no CPython sources, but Debian forky (testing) packages Python
3.14. So the harness builds a forky root once with debootstrap and runs HA inside it with
bubblewrap: a private mount namespace over the host's network, so HA on 127.0.0.1 inside is
127.0.0.1 outside, and nothing on the host changes but the two Debian packages that do this.

The root is cached as `~/.cache/ha-agent/forky-<name>/` and built in layers, each with its marker
in `<root>/.ha-agent/` (see `installs.cached_install`): the base system, then the venvs the
callers ask for. A build binds the root writable, under the root's lock; every run binds it
read-only, so test sessions share one root and none can change it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tests.support.installs import (
    HANotAvailable,
    Report,
    apt_install,
    cache_root,
    cached_install,
    run_logged,
)

SUITE = "forky"
# debootstrap has no script of its own for forky yet; sid's is the one for every testing suite.
SUITE_SCRIPT = "/usr/share/debootstrap/scripts/sid"
# g++ because two of HA's integrations' requirements compile; ca-certificates for pip.
PACKAGES = ("python3-venv", "python3-dev", "g++", "ca-certificates")
MIN_PYTHON = (3, 14, 2)  # what homeassistant 2026.3.0 and newer declare
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Files of the host a run sees in the root (they are mount points there): name resolution.
_HOST_FILES = ("/etc/resolv.conf", "/etc/hosts")
_HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))
_DEFAULT_MIRROR = "http://deb.debian.org/debian"


def debian_mirror(sources: Sequence[Path] = _SOURCES) -> str:
    """The host's Debian mirror (the first non-security one apt uses), else deb.debian.org."""
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        if path.suffix == ".sources":  # deb822: stanzas of `Key: value` lines
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
                uris, suites = fields.get("URIs", "").split(), fields.get("Suites", "")
                if uris and "-security" not in suites and "deb" in fields.get("Types", "deb").split():
                    return uris[0]
        else:
            for line in text.splitlines():
                words = line.split("#", 1)[0].split()
                if len(words) >= 3 and words[0] == "deb":
                    url = next((w for w in words[1:] if not w.startswith("[")), "")
                    if url and "security" not in url:
                        return url
    return _DEFAULT_MIRROR


def _tool(env_name: str, program: str) -> str | None:
    """`$<env_name>` when set (then only that path), else `program` on PATH."""
    if explicit := os.environ.get(env_name):
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which(program)


class ForkyRoot:
    """One cached forky root: `ensure_base()`, `ensure_venv()`, `command()` to run inside."""

    def __init__(self, name: str, report: Report) -> None:
        self.name = name
        self.path = cache_root() / f"forky-{name}"
        self.lock = cache_root() / f"forky-{name}.lock"
        self.log = cache_root() / f"forky-{name}.build.log"
        self._report = report
        self._bwrap: str | None = None

    def __repr__(self) -> str:
        return f"<ForkyRoot {self.path}>"

    # -- what the machine must have --------------------------------------------------------------

    def check_machine(self) -> None:
        """Raise `HANotAvailable` saying what is missing; installs bubblewrap and debootstrap with
        apt-get when they are missing and this runs as root (like the browser tests' chromium)."""
        if not sys.platform.startswith("linux"):
            raise HANotAvailable(f"the forky root needs Linux (bubblewrap), not {sys.platform}")
        if os.geteuid() != 0:
            raise HANotAvailable(
                f"the forky root needs root (debootstrap builds it, bubblewrap mounts it); running as uid {os.geteuid()}"
            )
        needed = {"bubblewrap": ("HA_AGENT_BWRAP", "bwrap")}
        if not self._built():
            needed["debootstrap"] = ("HA_AGENT_DEBOOTSTRAP", "debootstrap")
        missing = [package for package, (env, program) in needed.items() if _tool(env, program) is None]
        explicit = [env for package, (env, _) in needed.items() if package in missing and os.environ.get(env)]
        if missing and not explicit:
            if why := apt_install(missing, self._report):
                raise HANotAvailable(f"no {' or '.join(missing)} ({why})")
            missing = [package for package, (env, program) in needed.items() if _tool(env, program) is None]
        if missing:
            where = ", ".join(f"{env}={os.environ[env]}" for env in explicit) or "PATH"
            raise HANotAvailable(f"no {' or '.join(missing)} ({where})")
        self._bwrap = _tool(*needed["bubblewrap"])

    def _built(self) -> bool:
        return (self._marker("base")).is_file()

    # -- building ---------------------------------------------------------------------------------

    def _marker(self, layer: str) -> Path:
        return self.path / ".ha-agent" / layer

    def layer(self, name: str, spec: str, install: Callable[[], None]) -> bool:
        """Build one layer unless its marker holds `spec`; True when it was built now."""
        return cached_install(self._marker(name), spec, self.lock, install, self._report)

    def ensure_base(self) -> None:
        """debootstrap forky (≈ 1 min, ≈ 700 MB), the host's extra CA certificates, and a Python
        check: forky moves, and an older python3 than HA needs must fail here, loudly."""
        self.check_machine()
        mirror = debian_mirror()
        spec = f"debootstrap --variant=minbase --include={','.join(PACKAGES)} {SUITE} {mirror}\n"
        self.layer("base", spec, lambda: self._install_base(mirror))

    def _install_base(self, mirror: str) -> None:
        debootstrap = _tool("HA_AGENT_DEBOOTSTRAP", "debootstrap")
        assert debootstrap is not None  # check_machine() saw it
        if self.path.exists():  # an interrupted debootstrap cannot be resumed: start over
            self._report(f"removing the incomplete root {self.path}")
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        self._report(f"debootstrap {SUITE} into {self.path} from {mirror} (cold: ≈ 1 min; log: {self.log})")
        run_logged(
            [
                debootstrap,
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(self.path),
                mirror,
                SUITE_SCRIPT,
            ],
            self.log,
            self._report,
            "debootstrap",
        )
        for name in _HOST_FILES:
            (self.path / name.lstrip("/")).touch()
        # The registry may be reached through a proxy with its own CA (the host trusts it there).
        host_cas = sorted(_HOST_CA_DIR.glob("*.crt"))
        if host_cas:
            target = self.path / _HOST_CA_DIR.relative_to("/")
            target.mkdir(parents=True, exist_ok=True)
            for ca in host_cas:
                shutil.copy2(ca, target / ca.name)
        self.run(["update-ca-certificates"], "update-ca-certificates")
        version = self.python_version()
        if version < MIN_PYTHON:
            raise HANotAvailable(
                f"forky's python3 is {'.'.join(map(str, version))}; Home Assistant needs "
                f"≥ {'.'.join(map(str, MIN_PYTHON))} (see {self.log})"
            )
        self._report(f"forky root ready: Python {'.'.join(map(str, version))}")

    def python_version(self) -> tuple[int, int, int]:
        probe = "import sys; print(*sys.version_info[:3])"
        out = subprocess.run(self.command(["python3", "-c", probe]), capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise HANotAvailable(f"python3 does not run in {self.path}: {out.stderr.strip()[-500:]}")
        major, minor, micro = (int(part) for part in out.stdout.split())
        return major, minor, micro

    def ensure_venv(self, venv: str, requirements: Sequence[str], what: str) -> bool:
        """A venv at `venv` (a path inside the root) with `requirements` pip-installed; True when
        it was installed now."""
        spec = "".join(f"{line}\n" for line in requirements)

        def install() -> None:
            if not (self.path / venv.lstrip("/") / "bin" / "python").exists():
                self.run(["python3", "-m", "venv", venv], f"creating {venv}")
            self._report(f"installing {', '.join(requirements)} in the forky root (log: {self.log})")
            self.run(
                [f"{venv}/bin/python", "-m", "pip", "install", "--progress-bar", "off", *requirements],
                f"pip install ({what})",
            )

        return self.layer("venv" + venv.replace("/", "-"), spec, install)

    def run(self, argv: Sequence[str], what: str, *, env: Mapping[str, str] | None = None) -> None:
        """Run a build step inside the root, writable, logged to the build log."""
        run_logged(self.command(argv, writable=True, env=env), self.log, self._report, what)

    # -- running ----------------------------------------------------------------------------------

    def command(
        self,
        argv: Sequence[str],
        *,
        writable: bool = False,
        binds: Mapping[Path, str] | None = None,
        ro_binds: Mapping[Path, str] | None = None,
        env: Mapping[str, str] | None = None,
        chdir: str = "/",
    ) -> list[str]:
        """The bwrap command line that runs `argv` in the root: read-only unless `writable`,
        `binds` (host path → path inside) writable, a private /tmp, the host's network, a clean
        environment, and death with the parent when started from the main thread (no HA outlives
        the test process; one restarted from a worker thread is stopped by its owner)."""
        if self._bwrap is None:
            self.check_machine()
        assert self._bwrap is not None
        cmd = [
            self._bwrap,
            "--bind" if writable else "--ro-bind",
            str(self.path),
            "/",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/run",
            "--tmpfs",
            "/tmp",
        ]
        for name in _HOST_FILES:
            if os.path.exists(name):
                cmd += ["--ro-bind", name, name]
        for host, inside in (ro_binds or {}).items():
            cmd += ["--ro-bind", str(host), inside]
        for host, inside in (binds or {}).items():
            cmd += ["--bind", str(host), inside]
        if threading.current_thread() is threading.main_thread():
            # The death signal follows the *thread* that forks: only the main thread lives as long
            # as the test process (HA restarted from a worker thread would die when it exits).
            cmd.append("--die-with-parent")
        cmd += [
            "--clearenv",
            "--setenv",
            "HOME",
            "/root",
            "--setenv",
            "PATH",
            PATH,
            "--setenv",
            "LANG",
            "C.UTF-8",
            "--setenv",
            "PIP_DISABLE_PIP_VERSION_CHECK",
            "1",
            "--setenv",
            "PIP_ROOT_USER_ACTION",
            "ignore",
        ]
        if timeout := os.environ.get("PIP_DEFAULT_TIMEOUT"):
            cmd += ["--setenv", "PIP_DEFAULT_TIMEOUT", timeout]
        for key, value in (env or {}).items():
            cmd += ["--setenv", key, value]
        return [*cmd, "--chdir", chdir, "--", *argv]


def child_pid(pid: int) -> int | None:
    """The one child of process `pid` (bwrap's: the program it runs), or None when it has none.

    bwrap does not pass signals on, and its death kills the program with SIGKILL
    (`--die-with-parent`): a clean stop signals the program itself, by its PID.
    """
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None
