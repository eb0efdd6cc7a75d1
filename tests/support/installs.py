"""Installing what the real-HA tests need, once, into `~/.cache/ha-agent/`.

Every cached thing (Home Assistant's venv, the venv of HA's test harness, the Debian root the
newest HA runs in, each layer of that root) follows one rule, kept here: a marker file that
says what was installed is written last, after a complete install; a file lock keeps two pytest
processes from installing the same thing at once; a later run that finds the marker with the
same content does nothing. Nothing here imports Home Assistant.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

Report = Callable[[str], None]
INSTALL_TIMEOUT_S = 1800


def print_report(message: str) -> None:
    print(f"[real-ha] {message}", file=sys.stderr, flush=True)


class HANotAvailable(RuntimeError):
    """A real Home Assistant cannot be had on this machine (no Python for it, install failed...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def cache_root() -> Path:
    """`$HA_AGENT_CACHE`, else `~/.cache/ha-agent`."""
    return Path(os.environ.get("HA_AGENT_CACHE") or Path.home() / ".cache" / "ha-agent")


@contextlib.contextmanager
def file_lock(path: Path, report: Report) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report(f"another process is installing; waiting for {path}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def installed(marker: Path, spec: str) -> bool:
    return marker.is_file() and marker.read_text() == spec


def cached_install(marker: Path, spec: str, lock: Path, install: Callable[[], None], report: Report) -> bool:
    """Run `install` unless `marker` already holds `spec`; write the marker after it succeeded.

    Returns whether it installed. The check is repeated under the lock, so a process that waited
    for another one's install does not install again.
    """
    if installed(marker, spec):
        return False
    with file_lock(lock, report):
        if installed(marker, spec):
            return False
        install()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(spec)
    return True


def tail(path: Path, lines: int = 40, *, headers_only: bool = False) -> str:
    """The last lines of a log; `headers_only` leaves out traceback bodies (indented lines)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    kept = [line for line in text.splitlines() if not (headers_only and line[:1].isspace())]
    return "\n".join(kept[-lines:])


def run_logged(cmd: list[str], log_path: Path, report: Report, what: str, *, env: dict[str, str] | None = None) -> None:
    """Run a command with its output appended to a log file, reporting progress every 20 s."""
    started = time.monotonic()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log:
        log.write(f"\n$ {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        try:
            while True:
                try:
                    rc = proc.wait(timeout=20)
                    break
                except subprocess.TimeoutExpired:
                    elapsed = time.monotonic() - started
                    if elapsed > INSTALL_TIMEOUT_S:
                        raise HANotAvailable(f"{what} took over {INSTALL_TIMEOUT_S} s") from None
                    report(f"{what}: still running after {elapsed:.0f} s (log: {log_path})")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if rc != 0:
        raise HANotAvailable(f"{what} failed with exit code {rc}; see {log_path}:\n{tail(log_path)}")


def apt_install(packages: list[str], report: Report) -> str | None:
    """Install Debian packages with apt-get; None when done, else why it could not be."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"not root or no apt-get, so Debian's {' '.join(packages)} cannot be installed"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", *packages]):
        report(f"{' '.join(step)} ...")
        done = subprocess.run(step, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return f"'{' '.join(step)}' failed: {' / '.join(lines)}"
    return None
