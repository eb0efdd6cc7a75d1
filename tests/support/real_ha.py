"""A real Home Assistant for integration tests: 2025.4.4, and the current release 2026.11.0.

The same client tests run against the simulator and against these real instances, which keeps
the simulator honest and the project working on the HA people run today. The project runs on
Python 3.11; each HA runs as a subprocess from an install of its own, cached under
`~/.cache/ha-agent/` (`installs.cached_install`: a marker written last, a file lock):

- 2025.4.4 (`VenvRunner`): a venv of pyenv's Python 3.13, made by `ensure_ha_venv()`.
- 2026.11.0 (`RootRunner`): a Debian forky root with Python 3.14 (`forky_root.ForkyRoot`), HA in
  a venv inside it, run with bubblewrap over the read-only root.

`RealHomeAssistant` writes a config dir (demo + helpers + scenes + scripts + recorder, on loopback
only), starts `hass` through its runner, onboards it without a browser, gets a long-lived token
and enriches the home over WebSocket (floors, areas, labels, device and entity assignments).

Run `python -m tests.support.real_ha [--version V]` to start one by hand and poke at it (the
token is written to a file, never printed), or `python -m tests.support.real_ha --samples PATH`
to record what the real HA sends (the simulator is compared against that file).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiohttp
import httpx
import yaml

from data_api.ha.models import HELPER_DOMAINS
from tests.support.forky_root import ForkyRoot, child_pid
from tests.support.installs import (
    HANotAvailable,
    Report,
    cache_root,
    cached_install,
    print_report,
    run_logged,
    tail,
)

# The newest release that installs on the machine's Python 3.13.0 (newer ones need 3.13.2+).
VENV_HA_VERSION = "2025.4.4"
# The current release (it needs Python >= 3.14.2: the forky root's).
ROOT_HA_VERSION = "2026.11.0"
# Every version the real-HA tests run on; hacs.json and the README state this range.
HA_VERSIONS = (VENV_HA_VERSION, ROOT_HA_VERSION)
HA_REQUIREMENTS = (
    f"homeassistant=={VENV_HA_VERSION}",
    # Without the frontend package HA 2025.4 boots into recovery mode.
    "home-assistant-frontend==20250411.0",
    # Needed by HA's auth module at import time; HA would pip-install them at runtime otherwise.
    "pyotp",
    "PyQRCode",
)
_INSTALL_MARKER = ".ha-agent-install-complete"
_START_TIMEOUT_S = 90.0
# HA's first start in a new root installs its integrations' requirements before it serves HTTP.
_FIRST_BOOT_TIMEOUT_S = 900.0
_STOP_TIMEOUT_S = 30.0

_T = TypeVar("_T")


class HAStartError(RuntimeError):
    """HA is installed but did not start, onboard or enrich; the message has the log tail."""


class HAPortInUse(HAStartError):
    """Home Assistant could not bind its HTTP port (another process took it)."""


class HACommandError(RuntimeError):
    """A WebSocket command answered with `success: false`."""

    def __init__(self, command: str, code: str, message: str) -> None:
        super().__init__(f"{command}: {code}: {message}")
        self.command = command
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------------------------
# 2025.4.4: the cached venv
# ---------------------------------------------------------------------------------------------


def venv_dir() -> Path:
    return cache_root() / f"homeassistant-{VENV_HA_VERSION}"


def _python_version(python: Path) -> tuple[int, int] | None:
    """The (major, minor) of an interpreter, or None when it does not run (a pyenv shim may not)."""
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def _pyenv_root() -> Path | None:
    if root := os.environ.get("PYENV_ROOT"):
        return Path(root)
    if pyenv := shutil.which("pyenv"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30, check=True).stdout.strip()
            if out:
                return Path(out)
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def find_python313() -> Path:
    """A working Python 3.13: `$HA_AGENT_PYTHON313` if set (then only that one), else pyenv's
    newest 3.13.x, else `python3.13` on PATH."""
    candidates: list[Path] = []
    if explicit := os.environ.get("HA_AGENT_PYTHON313"):
        candidates.append(Path(explicit))
    elif (root := _pyenv_root()) is not None:
        versions = sorted(
            (root / "versions").glob("3.13.*"),
            key=lambda p: tuple(int(x) if x.isdigit() else -1 for x in p.name.split(".")),
            reverse=True,
        )
        candidates += [v / "bin" / "python3.13" for v in versions]
        candidates += [v / "bin" / "python" for v in versions]
    if not explicit and (on_path := shutil.which("python3.13")):
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.exists() and _python_version(candidate) == (3, 13):
            return candidate
    looked = ", ".join(str(c) for c in candidates) or "no candidates"
    raise HANotAvailable(f"no working Python 3.13 found (looked at: {looked})")


def _marker_text() -> str:
    return "\n".join(HA_REQUIREMENTS) + "\n"


def ensure_ha_venv(report: Report = print_report) -> Path:
    """Return the python of the cached Home Assistant 2025.4.4 venv, installing it first if needed.

    The install marker is written last, so an interrupted install is redone (pip completes it).
    Raises `HANotAvailable` when there is no Python 3.13 or the install fails.
    """
    venv = venv_dir()
    python = venv / "bin" / "python"

    def install() -> None:
        started = time.monotonic()
        base = find_python313()
        log_path = cache_root() / f"homeassistant-{VENV_HA_VERSION}.install.log"
        if not python.exists() or _python_version(python) != (3, 13):
            report(f"creating the Home Assistant venv at {venv} with {base}")
            run_logged([str(base), "-m", "venv", "--clear", str(venv)], log_path, report, "creating the venv")
        report(
            f"installing {', '.join(HA_REQUIREMENTS)} (a cold install takes ≈ 2-3 min and ≈ 820 MB; log: {log_path})"
        )
        run_logged(
            [str(python), "-m", "pip", "install", "--progress-bar", "off", *HA_REQUIREMENTS],
            log_path,
            report,
            "pip install",
        )
        report(f"Home Assistant {VENV_HA_VERSION} venv ready in {time.monotonic() - started:.1f} s")

    marker = venv / _INSTALL_MARKER
    lock = cache_root() / f"homeassistant-{VENV_HA_VERSION}.lock"
    if not python.exists():  # a marker without its python is no install
        marker.unlink(missing_ok=True)
    cached_install(marker, _marker_text(), lock, install, report)
    return python


# ---------------------------------------------------------------------------------------------
# How HA is run: a runner per kind of install
# ---------------------------------------------------------------------------------------------


class Runner(Protocol):
    """How one Home Assistant version is installed and started; `RealHomeAssistant` does the rest."""

    version: str

    def prepare(self) -> None:
        """Install what is missing (cached); raise `HANotAvailable` when it cannot be had."""

    def argv(self, config_dir: Path, *, install: bool = False) -> list[str]:
        """The command that runs `hass` on `config_dir`. `install`: HA may pip-install its
        integrations' requirements (a build step); otherwise `--skip-pip`, nothing at runtime."""

    def stop_pid(self, pid: int) -> int:
        """Which process to SIGTERM to stop HA cleanly, given the one `argv` started."""


def _hass_args(config_dir: str, install: bool) -> list[str]:
    return ["-c", config_dir, *([] if install else ["--skip-pip"]), "--log-no-color"]


class VenvRunner:
    """HA from the cached Python 3.13 venv (2025.4.4), run directly."""

    version = VENV_HA_VERSION

    def __init__(self, report: Report = print_report, python: Path | None = None) -> None:
        self._report = report
        self._python = python

    def prepare(self) -> None:
        if self._python is None:
            self._python = ensure_ha_venv(self._report)

    def argv(self, config_dir: Path, *, install: bool = False) -> list[str]:
        assert self._python is not None, "prepare() first"
        return [str(self._python.parent / "hass"), *_hass_args(str(config_dir), install)]

    def stop_pid(self, pid: int) -> int:
        return pid


ROOT_HA_DIR = "/opt/ha"
ROOT_HA_VENV = f"{ROOT_HA_DIR}/venv"
ROOT_CONFIG_DIR = f"{ROOT_HA_DIR}/config"  # the config dir is bound here


class RootRunner:
    """HA from a forky root (2026.11.0: Python 3.14), run with bubblewrap over the read-only root.

    The root's layers: the base system, HA's venv, then what HA's first start installs itself
    (its loaded integrations' requirements, with HA's own constraints: what a real install pulls
    at its first start); every later start runs with `--skip-pip`, offline.
    """

    def __init__(self, version: str = ROOT_HA_VERSION, report: Report = print_report) -> None:
        self.version = version
        self.root = ForkyRoot(f"ha-{version}", report)
        self._report = report

    def prepare(self) -> None:
        self.root.ensure_base()
        self.root.ensure_venv(ROOT_HA_VENV, (f"homeassistant=={self.version}",), f"Home Assistant {self.version}")
        (self.root.path / ROOT_CONFIG_DIR.lstrip("/")).mkdir(exist_ok=True)  # the bind's mount point
        # Keyed by the test home's configuration: another integration in it may need more.
        home = hashlib.sha256((_HOME_DIR / "configuration.yaml").read_bytes()).hexdigest()[:16]
        spec = f"what homeassistant=={self.version} installs at its first start on configuration.yaml {home}\n"
        self.root.layer("integration-requirements", spec, self._install_requirements)

    def _install_requirements(self) -> None:
        started = time.monotonic()
        self._report("first start of Home Assistant in the root: it installs its integrations' requirements")
        with tempfile.TemporaryDirectory(prefix="ha-agent-first-boot-") as config_dir:
            loaded = {name.split(".")[0] for name in self._boot(Path(config_dir), install=True)}
        # HA installs what the integrations it loads need, not what their after_dependencies
        # need, yet some import those anyway (camera imports stream): a real install has them
        # because HA's images ship every requirement.
        components = ha_package_inside(self.root, ROOT_HA_VENV) + "/components"
        after = {
            a
            for d in loaded
            for a in _manifest(self.root.path / components.lstrip("/") / d).get("after_dependencies", [])
        }
        install_integration_requirements(self.root, ROOT_HA_VENV, after, loaded, "after_dependencies' requirements")
        with tempfile.TemporaryDirectory(prefix="ha-agent-check-boot-") as config_dir:
            self._boot(Path(config_dir), install=False)  # as the tests run it: nothing missing
        self._report(f"integration requirements installed in {time.monotonic() - started:.1f} s")

    def _boot(self, config_dir: Path, *, install: bool) -> list[str]:
        ha = RealHomeAssistant(config_dir, runner=self, enrich=False, report=self._report)
        try:
            return ha.boot_once(install=install)
        except (HANotAvailable, HAStartError) as exc:
            kept = self.root.log.with_name(f"{self.root.log.stem}.{config_dir.name}.log")
            shutil.copy2(ha.log_path, kept)  # the config dir goes; its log is what says why
            raise type(exc)(str(exc).replace(str(ha.log_path), str(kept))) from None

    def argv(self, config_dir: Path, *, install: bool = False) -> list[str]:
        # HA installs with uv, which trusts only its own CA bundle unless told to use the system's
        # (where the host's extra CAs were added).
        tls = {"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt", "UV_NATIVE_TLS": "1"} if install else {}
        return self.root.command(
            [f"{ROOT_HA_VENV}/bin/hass", *_hass_args(ROOT_CONFIG_DIR, install)],
            writable=install,
            binds={config_dir: ROOT_CONFIG_DIR},
            env=tls,
            chdir=ROOT_CONFIG_DIR,
        )

    def stop_pid(self, pid: int) -> int:
        return child_pid(pid) or pid


def ha_package_inside(root: ForkyRoot, venv: str) -> str:
    """The path, inside `root`, of the `homeassistant` package of the venv at `venv`."""
    found = sorted((root.path / venv.lstrip("/") / "lib").glob("python3.*/site-packages/homeassistant"))
    if not found:
        raise HANotAvailable(f"no homeassistant package in {root.path}{venv}")
    return "/" + str(found[-1].relative_to(root.path))


def _manifest(integration: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        return dict(json.loads((integration / "manifest.json").read_text()))
    return {}


def install_integration_requirements(root: ForkyRoot, venv: str, domains: set[str], have: set[str], what: str) -> None:
    """pip-install into `venv` the requirements of the integrations `domains` and of their
    dependencies, leaving out `have` (integrations whose requirements are there), with HA's
    own constraints: what HA would install for them itself."""
    package = ha_package_inside(root, venv)
    components = root.path / package.lstrip("/") / "components"
    requirements: list[str] = []
    todo, done = sorted(domains), set(have)
    while todo:
        domain = todo.pop()
        if domain in done:
            continue
        done.add(domain)
        manifest = _manifest(components / domain)
        requirements += [r for r in manifest.get("requirements", []) if r not in requirements]
        todo += manifest.get("dependencies", [])
    if requirements:
        root.run(
            [
                f"{venv}/bin/python",
                "-m",
                "pip",
                "install",
                "--progress-bar",
                "off",
                "-c",
                f"{package}/package_constraints.txt",
                *requirements,
            ],
            f"pip install ({what})",
        )


def runner_for(version: str, report: Report = print_report) -> Runner:
    """The runner of one of `HA_VERSIONS`."""
    if version == VENV_HA_VERSION:
        return VenvRunner(report)
    if version == ROOT_HA_VERSION:
        return RootRunner(version, report)
    raise ValueError(f"no runner for Home Assistant {version}; known: {', '.join(HA_VERSIONS)}")


# ---------------------------------------------------------------------------------------------
# The home: what configuration.yaml declares and what the enrichment creates
# ---------------------------------------------------------------------------------------------

_HOME_DIR = Path(__file__).with_name("ha_config")


def _load_yaml(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((_HOME_DIR / name).read_text(encoding="utf-8")))


CONFIGURATION: dict[str, Any] = _load_yaml("configuration.yaml")
ENRICHMENT: dict[str, Any] = _load_yaml("enrichment.yaml")

LOCATION_NAME: str = CONFIGURATION["homeassistant"]["name"]
TIME_ZONE: str = CONFIGURATION["homeassistant"]["time_zone"]
# {domain: {object_id: options}} for every helper the configuration declares.
HELPERS: dict[str, dict[str, dict[str, Any]]] = {d: CONFIGURATION[d] for d in sorted(HELPER_DOMAINS)}
SCENES: list[dict[str, Any]] = CONFIGURATION["scene"]
SCRIPTS: dict[str, dict[str, Any]] = CONFIGURATION["script"]
FLOORS: list[dict[str, Any]] = ENRICHMENT["floors"]
LABELS: list[dict[str, Any]] = ENRICHMENT["labels"]
AREAS: list[dict[str, Any]] = ENRICHMENT["areas"]
DEVICE_AREAS: dict[str, dict[str, Any]] = ENRICHMENT["devices"]
ENTITY_UPDATES: dict[str, dict[str, Any]] = ENRICHMENT["entities"]


def _configuration_text(port: int) -> str:
    """The configuration.yaml template (comments kept) with the HTTP port filled in."""
    template = (_HOME_DIR / "configuration.yaml").read_text(encoding="utf-8")
    placeholder = "\n  server_port: 0\n"
    if template.count(placeholder) != 1:
        raise HAStartError(f"{_HOME_DIR / 'configuration.yaml'} must contain `server_port: 0` once")
    return template.replace(placeholder, f"\n  server_port: {port}\n")


def _storage_file(key: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"version": version, "minor_version": 1, "key": key, "data": data}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# A minimal WebSocket client (the harness must not depend on the code it tests)
# ---------------------------------------------------------------------------------------------


class HAWebSocket:
    """`async with HAWebSocket(url, token) as ws: await ws.command("get_config")`.

    Messages are routed by id, so commands and subscription events can interleave.
    """

    def __init__(self, url: str, token: str) -> None:
        self._url = url.rstrip("/") + "/api/websocket"
        self._token = token
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._subscriptions: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.auth_required: dict[str, Any] = {}
        self.auth_ok: dict[str, Any] = {}

    async def __aenter__(self) -> HAWebSocket:
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(self._url, max_msg_size=0, heartbeat=None)
            self.auth_required = await self._ws.receive_json(timeout=10)
            if self.auth_required.get("type") != "auth_required":
                raise HAStartError(f"expected auth_required, got {self.auth_required.get('type')}")
            await self._ws.send_json({"type": "auth", "access_token": self._token})
            self.auth_ok = await self._ws.receive_json(timeout=10)
            if self.auth_ok.get("type") != "auth_ok":
                raise HAStartError(f"WebSocket auth failed: {self.auth_ok.get('type')}")
        except BaseException:
            await self._session.close()
            raise
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def _read(self) -> None:
        assert self._ws is not None
        async for frame in self._ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            for message in payload if isinstance(payload, list) else [payload]:
                msg_id = message.get("id")
                if message.get("type") == "event" and msg_id in self._subscriptions:
                    self._subscriptions[msg_id].put_nowait(message)
                elif (future := self._pending.pop(msg_id, None)) is not None and not future.done():
                    future.set_result(message)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("Home Assistant closed the WebSocket"))

    async def send_raw(self, message: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        """Send a message (an id is added) and return the raw result message."""
        assert self._ws is not None
        msg_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        await self._ws.send_json({"id": msg_id, **message})
        return await asyncio.wait_for(future, timeout)

    async def command(self, command_type: str, timeout: float = 30, **payload: Any) -> Any:
        """Send a command and return its `result`; raise `HACommandError` on failure."""
        message = await self.send_raw({"type": command_type, **payload}, timeout)
        if not message.get("success"):
            error = message.get("error") or {}
            raise HACommandError(command_type, error.get("code", "?"), error.get("message", ""))
        return message.get("result")

    async def subscribe(self, command_type: str = "subscribe_events", **payload: Any) -> asyncio.Queue[dict[str, Any]]:
        """Send a subscribing command (`subscribe_events`, `subscribe_entities`, ...).

        The subscription's event messages (whole, with id and type) land in the returned queue.
        """
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscriptions[self._next_id] = queue  # the id `command` is about to use
        await self.command(command_type, **payload)
        return queue


def _run_coroutine(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine to completion from sync code, even when the caller's loop is running."""
    result: list[_T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(_as_coroutine(factory)))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="real-ha-ws")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


async def _as_coroutine(factory: Callable[[], Awaitable[_T]]) -> _T:
    return await factory()


# ---------------------------------------------------------------------------------------------
# The running instance
# ---------------------------------------------------------------------------------------------


class RealHomeAssistant:
    """A real Home Assistant process with a config dir of its own, started by its `runner`.

    `start()` starts it; the first start also onboards it (owner user, long-lived token) and
    enriches the home. `restart()` keeps dir, port and token (.storage persists). `stop()` sends
    SIGTERM to HA's PID, then SIGKILL if HA does not exit.
    """

    def __init__(
        self,
        config_dir: Path | None = None,
        *,
        runner: Runner | None = None,
        port: int | None = None,
        enrich: bool = True,
        report: Report = print_report,
    ) -> None:
        self._owns_dir = config_dir is None
        self._config_dir = Path(config_dir or tempfile.mkdtemp(prefix="ha-agent-real-ha-"))
        self._runner: Runner = runner or VenvRunner(report)
        self._port = port or _free_port()
        self._port_chosen_here = port is None
        self._enrich = enrich
        self._report = report
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_handle: Any = None
        self._token: str | None = None
        self._onboarded = False
        self._enriched = False
        # Seconds spent in each phase of the last start (install_check, http_up, onboarding,
        # hass_start, http_config, enrichment) and of the last stop.
        self.timings: dict[str, float] = {}
        self.last_stop_s: float | None = None
        # Names -> ids HA assigned during enrichment (floor/area/label ids derive from names).
        self.floor_ids: dict[str, str] = {}
        self.area_ids: dict[str, str] = {}
        self.label_ids: dict[str, str] = {}
        self.device_ids: dict[str, str] = {}

    def __repr__(self) -> str:  # no token here, ever
        state = "running" if self.running else "stopped"
        return f"<RealHomeAssistant {self.version} {self.url} {state} dir={self._config_dir}>"

    # -- properties ---------------------------------------------------------------------------

    @property
    def version(self) -> str:
        return self._runner.version

    @property
    def runner(self) -> Runner:
        return self._runner

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/api/websocket"

    @property
    def token(self) -> str:
        if self._token is None:
            raise RuntimeError("Home Assistant has not been onboarded yet: start() it first")
        return self._token

    @property
    def config_dir(self) -> Path:
        return self._config_dir

    @property
    def log_path(self) -> Path:
        """stdout/stderr of the `hass` process (HA also writes home-assistant.log beside it)."""
        return self._config_dir / "hass-process.log"

    @property
    def token_file(self) -> Path:
        """Where the long-lived token is kept (mode 0600, inside the config dir)."""
        return self._config_dir / ".ha-agent-token"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def hass_pid(self) -> int | None:
        """The PID of `hass` itself (for the root runner, bwrap's child), the one stop() signals."""
        return self._runner.stop_pid(self._proc.pid) if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = _START_TIMEOUT_S) -> None:
        """Start HA and wait until it is RUNNING; onboard and enrich on the first start."""
        if self.running:
            return
        started = time.monotonic()
        self.timings = {}
        self._runner.prepare()
        self.timings["install_check"] = time.monotonic() - started
        try:
            self._start_process(timeout)
        except HAPortInUse:
            if not (self._port_chosen_here and not self._onboarded):
                raise
            # Someone took the free port between our probe and HA's bind: once more, new port.
            self._report(f"port {self._port} was taken meanwhile; retrying on another port")
            self._port = _free_port()
            self._start_process(timeout)
        phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.timings.items())
        self._report(
            f"Home Assistant {self.version} ready at {self.url} in "
            f"{time.monotonic() - started:.1f} s ({phases}); log: {self.log_path}"
        )

    def _start_process(self, timeout: float, *, install: bool = False) -> None:
        if not self._onboarded and self.token_file.exists():  # a config dir started before
            self._token = self.token_file.read_text().strip()
            self._onboarded = True
        self._write_config()
        self._spawn(install=install)
        deadline = time.monotonic() + timeout
        try:
            t0 = time.monotonic()
            if not self._onboarded:
                self._wait_http("/api/onboarding", deadline, token=None)
                self.timings["http_up"] = time.monotonic() - t0
                t1 = time.monotonic()
                self._onboard()
                self.timings["onboarding"] = time.monotonic() - t1
            self._wait_running(deadline)
            self.timings["hass_start"] = time.monotonic() - t0 - self.timings.get("onboarding", 0.0)
            t1 = time.monotonic()
            _run_coroutine(self._confirm_http_config)
            self.timings["http_config"] = time.monotonic() - t1
            if self._enrich and not self._enriched:
                t2 = time.monotonic()
                _run_coroutine(self._enrich_home)
                self._enriched = True
                self.timings["enrichment"] = time.monotonic() - t2
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = _STOP_TIMEOUT_S) -> None:
        """SIGTERM HA (by the PID its runner names), wait for the process we started, then SIGKILL."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            t0 = time.monotonic()
            with contextlib.suppress(ProcessLookupError):  # it may exit on its own meanwhile
                os.kill(self._runner.stop_pid(proc.pid), signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._report(f"Home Assistant (pid {proc.pid}) ignored SIGTERM for {timeout} s; killing")
                proc.kill()
                proc.wait()
            self.last_stop_s = time.monotonic() - t0
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def restart(self, timeout: float = _START_TIMEOUT_S) -> None:
        """Stop and start again: same dir, port and token."""
        self.stop()
        self._report(f"Home Assistant stopped in {self.last_stop_s or 0:.2f} s; starting again")
        self.start(timeout)

    def close(self) -> None:
        """Stop, and remove the config dir if we created it (unless HA_AGENT_KEEP_HA_DIR is set)."""
        self.stop()
        if self._owns_dir and not os.environ.get("HA_AGENT_KEEP_HA_DIR"):
            shutil.rmtree(self._config_dir, ignore_errors=True)

    def __enter__(self) -> RealHomeAssistant:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers for tests --------------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def websocket(self) -> HAWebSocket:
        return HAWebSocket(self.url, self.token)

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    # -- internals ----------------------------------------------------------------------------

    def _write_config(self) -> None:
        config_dir = self._config_dir
        storage = config_dir / ".storage"
        storage.mkdir(parents=True, exist_ok=True)
        (config_dir / "configuration.yaml").write_text(_configuration_text(self._port), encoding="utf-8")
        # Stay on loopback: no mDNS/SSDP/etc. on real interfaces.
        network = storage / "core.network"
        if not network.exists():
            network.write_text(json.dumps(_storage_file("core.network", 1, {"configured_adapters": ["lo"]})))
        # The core_config onboarding step is marked done up front: its endpoint would start the
        # met, google_translate, radio_browser and shopping_list flows (network, extra entities).
        # The other steps go through HA's own API in _onboard().
        onboarding = storage / "onboarding"
        if not onboarding.exists():
            onboarding.write_text(json.dumps(_storage_file("onboarding", 4, {"done": ["core_config"]})))

    def boot_once(self, *, install: bool, timeout: float = _FIRST_BOOT_TIMEOUT_S) -> list[str]:
        """Start HA until it is RUNNING (its integrations are set up by then), stop it, and return
        the components it loaded: a build step of a runner. `install` lets HA pip-install its
        integrations' requirements. Raises `HANotAvailable` when HA logged a requirement it could
        not install or, without `install`, a module it could not import (with `install` some are
        expected: HA does not install its after_dependencies' requirements)."""

        async def components() -> list[str]:
            async with self.websocket() as ws:
                return list((await ws.command("get_config"))["components"])

        try:
            self._start_process(timeout, install=install)
            loaded = _run_coroutine(components)
        finally:
            self.stop()
        signs = ("Unable to install package",) if install else ("Unable to install package", "No module named")
        failed = [
            line
            for line in self.log_path.read_text(errors="replace").splitlines()
            if any(sign in line for sign in signs)
        ]
        if failed:
            raise HANotAvailable(f"Home Assistant lacks requirements; {self.log_path}:\n" + "\n".join(failed[-10:]))
        return loaded

    def _spawn(self, *, install: bool = False) -> None:
        cmd = self._runner.argv(self._config_dir, install=install)
        self._log_handle = self.log_path.open("ab")
        self._log_handle.write(f"\n=== starting {' '.join(cmd)}\n".encode())
        self._log_handle.flush()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdout=self._log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self._config_dir,
                env=env,
                start_new_session=True,  # a Ctrl-C in pytest goes to pytest, which stops HA itself
                # The death signal follows the *thread* that forks; only the main thread lives as
                # long as the test process (a worker thread's exit would kill HA).
                preexec_fn=_die_with_parent if threading.current_thread() is threading.main_thread() else None,
            )
        except OSError as exc:
            raise HAStartError(f"cannot start {cmd[0]}: {exc}") from exc

    def _fail(self, what: str, error: type[HAStartError] = HAStartError) -> HAStartError:
        rc = self._proc.poll() if self._proc is not None else None
        exited = f" (hass exited with code {rc})" if rc is not None else ""
        records = tail(self.log_path, 25, headers_only=True)
        return error(f"{what}{exited}; last log records of {self.log_path}:\n{records}")

    def _check_alive(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            raise self._fail("Home Assistant exited during start")
        # HA keeps running when its HTTP server cannot bind; waiting would only time out.
        if self._log_handle is not None:
            with contextlib.suppress(OSError):
                log = self.log_path.read_text(errors="replace")
                if f"Failed to create HTTP server at port {self._port}" in log.rsplit("=== starting", 1)[-1]:
                    raise self._fail(f"port {self._port} is in use", HAPortInUse)

    def _wait_http(self, path: str, deadline: float, token: str | None) -> httpx.Response:
        """Poll a GET endpoint until it answers 200."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        last = "no answer"
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                self._check_alive()
                try:
                    response = client.get(path, headers=headers)
                    if response.status_code == 200:
                        return response
                    last = f"HTTP {response.status_code}"
                except httpx.TransportError as exc:
                    last = type(exc).__name__
                time.sleep(0.1)
        raise self._fail(f"Home Assistant did not answer GET {path} with 200 in time (last: {last})")

    def _wait_running(self, deadline: float) -> None:
        while True:
            config = self._wait_http("/api/config", deadline, self.token).json()
            if config.get("state") == "RUNNING":
                if config.get("version") != self.version:
                    raise self._fail(f"expected HA {self.version}, got {config.get('version')}")
                return
            if time.monotonic() > deadline:
                raise self._fail(f"Home Assistant stayed in state {config.get('state')}")
            time.sleep(0.1)

    def _onboard(self) -> None:
        """Owner user → auth code → access token → remaining steps → long-lived token."""
        client_id = self.url + "/"
        with httpx.Client(base_url=self.url, timeout=30) as client:
            response = client.post(
                "/api/onboarding/users",
                json={
                    "client_id": client_id,
                    "name": "Test Owner",
                    "username": "owner",
                    "password": "ha-agent-test-password",
                    "language": "en",
                },
            )
            if response.status_code != 200:
                raise self._fail(f"onboarding user step failed: HTTP {response.status_code} {response.text[:200]}")
            response = client.post(
                "/auth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": response.json()["auth_code"],
                    "client_id": client_id,
                },
            )
            if response.status_code != 200:
                raise self._fail(f"token exchange failed: HTTP {response.status_code}")
            access_token = response.json()["access_token"]
            auth = {"Authorization": f"Bearer {access_token}"}
            for path, body in (
                ("/api/onboarding/analytics", None),
                (
                    "/api/onboarding/integration",
                    {"client_id": client_id, "redirect_uri": client_id + "?auth_callback=1"},
                ),
            ):
                response = client.post(path, json=body, headers=auth)
                if response.status_code != 200:
                    raise self._fail(
                        f"onboarding step {path} failed: HTTP {response.status_code} {response.text[:200]}"
                    )

        async def long_lived() -> str:
            async with HAWebSocket(self.url, access_token) as ws:
                return str(
                    await ws.command(
                        "auth/long_lived_access_token",
                        client_name=f"ha-agent tests {uuid.uuid4().hex[:8]}",
                        lifespan=3650,
                    )
                )

        self._token = _run_coroutine(long_lived)
        self._onboarded = True
        # Kept beside HA's own .storage/auth (0600) so a kept config dir can be started again.
        self.token_file.touch(mode=0o600)
        self.token_file.write_text(self._token)

    async def _confirm_http_config(self) -> None:
        """Confirm HA's pending HTTP config, where there is one.

        HA 2026 moves configuration.yaml's `http:` into its storage as a *pending* config, and
        reverts it and restarts itself unless it is confirmed within 5 minutes: a session longer
        than that would see HA vanish. HA 2025.4 has no such config (`unknown_command`).
        """
        async with self.websocket() as ws:
            try:
                state = await ws.command("http/config")
            except HACommandError as exc:
                if exc.code == "unknown_command":
                    return
                raise
            if state.get("pending"):
                await ws.command("http/config/promote")

    async def _enrich_home(self) -> None:
        """Floors, labels, areas, device and entity assignments; idempotent (creates or updates)."""
        async with self.websocket() as ws:
            for floor in FLOORS:
                self.floor_ids[floor["name"]] = await _create_or_update(ws, "floor", dict(floor))
            for label in LABELS:
                self.label_ids[label["name"]] = await _create_or_update(ws, "label", dict(label))
            for area in AREAS:
                payload: dict[str, Any] = {"name": area["name"]}
                if area.get("floor"):
                    payload["floor_id"] = self.floor_ids[area["floor"]]
                for key in ("aliases", "icon"):
                    if key in area:
                        payload[key] = area[key]
                if "labels" in area:
                    payload["labels"] = [self.label_ids[name] for name in area["labels"]]
                self.area_ids[area["name"]] = await _create_or_update(ws, "area", payload)

            devices = await ws.command("config/device_registry/list")
            by_name = {d["name"]: d["id"] for d in devices}
            self.device_ids = dict(by_name)
            missing = [name for name in DEVICE_AREAS if name not in by_name]
            if missing:
                raise HAStartError(f"demo devices not found: {missing}")
            for name, change in DEVICE_AREAS.items():
                payload = {"device_id": by_name[name], "area_id": self.area_ids[change["area"]]}
                if "name_by_user" in change:
                    payload["name_by_user"] = change["name_by_user"]
                if "labels" in change:
                    payload["labels"] = [self.label_ids[n] for n in change["labels"]]
                await ws.command("config/device_registry/update", **payload)

            for entity_id, change in ENTITY_UPDATES.items():
                payload = {"entity_id": entity_id}
                if "area" in change:
                    payload["area_id"] = self.area_ids[change["area"]]
                if "aliases" in change:
                    payload["aliases"] = change["aliases"]
                if "labels" in change:
                    payload["labels"] = [self.label_ids[n] for n in change["labels"]]
                await ws.command("config/entity_registry/update", **payload)


async def _create_or_update(ws: HAWebSocket, kind: str, payload: dict[str, Any]) -> str:
    """Create a floor/label/area by name, or update the one with that name; return its id."""
    id_key = f"{kind}_id"
    existing = {item["name"]: item[id_key] for item in await ws.command(f"config/{kind}_registry/list")}
    if payload["name"] in existing:
        payload[id_key] = existing[payload["name"]]
        result = await ws.command(f"config/{kind}_registry/update", **payload)
    else:
        result = await ws.command(f"config/{kind}_registry/create", **payload)
    return str(result[id_key])


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM HA if the test process dies (no orphans)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


# ---------------------------------------------------------------------------------------------
# By hand: `python -m tests.support.real_ha [--samples PATH]`
# ---------------------------------------------------------------------------------------------


async def _next_event(queue: asyncio.Queue[dict[str, Any]], timeout: float = 10) -> dict[str, Any]:
    return await asyncio.wait_for(queue.get(), timeout)


async def _error_of(ws: HAWebSocket, message: dict[str, Any]) -> dict[str, Any]:
    """The whole result message of a command expected to fail (id replaced by a placeholder)."""
    result = await ws.send_raw(message)
    return {**result, "id": "<id>"}


async def collect_samples(ha: RealHomeAssistant) -> dict[str, Any]:
    """Record what this real HA sends for the messages the simulator must imitate.

    Changes the home (toggles, a renamed entity, an extra area/floor/label): use a fresh instance.
    """
    samples: dict[str, Any] = {
        "_about": {
            "ha_version": ha.version,
            "home": "demo + helpers/scenes/scripts + enrichment of tests/support/real_ha.py",
            "recorded_with": "python -m tests.support.real_ha --samples tests/support/real_ha_samples.json",
            "note": "message ids are whatever the recorder used; tokens never appear",
        }
    }
    async with ha.websocket() as ws:
        samples["auth_required"] = ws.auth_required
        samples["auth_ok"] = ws.auth_ok
        samples["get_config_result"] = await ws.command("get_config")

        states = await ws.command("get_states")
        registry = await ws.command("config/entity_registry/list")
        devices = await ws.command("config/device_registry/list")
        areas = await ws.command("config/area_registry/list")
        floors = await ws.command("config/floor_registry/list")
        labels = await ws.command("config/label_registry/list")
        services = await ws.command("get_services")
        exposed = await ws.command("homeassistant/expose_entity/list")
        state_by_id = {s["entity_id"]: s for s in states}
        registered = {e["entity_id"] for e in registry}

        samples["get_states_entry"] = {
            entity_id: state_by_id[entity_id]
            for entity_id in (
                "light.kitchen_lights",
                "lock.front_door",
                "input_select.house_mode",
                "script.announce",
                "scene.movie_time",
                "sensor.outside_temperature",
            )
        }
        samples["entity_registry_list_entry"] = {
            e["entity_id"]: e
            for e in registry
            if e["entity_id"]
            in (
                "light.kitchen_lights",
                "scene.movie_time",
                "input_boolean.guest_mode",
                "sensor.sun_next_dawn",
            )
        }
        samples["entity_registry_get_entries_result"] = await ws.command(
            "config/entity_registry/get_entries",
            entity_ids=["light.kitchen_lights", "switch.decorative_lights", "lock.front_door"],
        )
        samples["entity_registry_get_result"] = await ws.command(
            "config/entity_registry/get", entity_id="light.kitchen_lights"
        )
        kitchen_device = next(d for d in devices if d["name"] == "Kitchen Lights")
        samples["device_registry_list_entry"] = {
            "Kitchen Lights": kitchen_device,
            "Bed Light (name_by_user)": next(d for d in devices if d["name"] == "Bed Light"),
        }
        samples["area_registry_list_entry"] = {
            a["area_id"]: a for a in areas if a["area_id"] in ("living_room", "garden")
        }
        samples["floor_registry_list_entry"] = next(f for f in floors if f["floor_id"] == "ground_floor")
        samples["label_registry_list_entry"] = next(label for label in labels if label["label_id"] == "outdoor")
        samples["get_services_light_turn_on"] = services["light"]["turn_on"]
        samples["get_services_script"] = {k: services["script"][k] for k in ("announce", "greeting", "turn_on")}
        samples["get_services_scene_turn_on"] = services["scene"]["turn_on"]
        samples["get_services_input_select_select_option"] = services["input_select"]["select_option"]
        samples["expose_entity_list_result"] = {
            "exposed_entities (excerpt)": dict(list(exposed["exposed_entities"].items())[:6]),
            "keys": sorted(exposed),
            "count": len(exposed["exposed_entities"]),
            "exposed_true": sorted(k for k, v in exposed["exposed_entities"].items() if v.get("conversation")),
            "exposed_false": sorted(k for k, v in exposed["exposed_entities"].items() if not v.get("conversation")),
        }
        samples["counts"] = {
            "states": len(states),
            "registry_entities": len(registry),
            "state_only_entities": len(set(state_by_id) - registered),
            "state_only_entity_ids": sorted(set(state_by_id) - registered),
            "registry_only_entities (no state, e.g. disabled)": sorted(registered - set(state_by_id)),
            "devices": len(devices),
            "areas": len(areas),
            "floors": len(floors),
            "labels": len(labels),
            "service_domains": len(services),
            "services": sum(len(v) for v in services.values()),
            "state_domains": len({e.split(".")[0] for e in state_by_id}),
        }

        # -- acting, and the events it causes ----------------------------------------------
        state_events = await ws.subscribe(event_type="state_changed")
        samples["call_service_result"] = await ws.send_raw(
            {
                "type": "call_service",
                "domain": "input_boolean",
                "service": "turn_on",
                "target": {"entity_id": "input_boolean.guest_mode"},
            }
        )
        samples["state_changed_event"] = await _next_event(state_events)
        samples["call_service_return_response_result"] = await ws.send_raw(
            {
                "type": "call_service",
                "domain": "script",
                "service": "greeting",
                "service_data": {"name": "Alex"},
                "return_response": True,
            }
        )

        entities = await ws.subscribe("subscribe_entities", entity_ids=["input_boolean.vacation_mode"])
        samples["subscribe_entities_initial"] = await _next_event(entities)
        await ws.command(
            "call_service",
            domain="input_boolean",
            service="toggle",
            target={"entity_id": "input_boolean.vacation_mode"},
        )
        samples["subscribe_entities_change"] = await _next_event(entities)

        registry_events = {
            event_type: await ws.subscribe(event_type=event_type)
            for event_type in (
                "entity_registry_updated",
                "device_registry_updated",
                "area_registry_updated",
                "floor_registry_updated",
                "label_registry_updated",
            )
        }
        await ws.command(
            "config/entity_registry/update",
            entity_id="light.office_rgbw_lights",
            name="Desk lamp",
            aliases=["work light"],
        )
        samples["entity_registry_updated_event"] = await _next_event(registry_events["entity_registry_updated"])
        await ws.command(
            "config/entity_registry/update",
            entity_id="light.bed_light",
            new_entity_id="light.bedside_lamp",
        )
        samples["entity_registry_updated_event_rename"] = await _next_event(registry_events["entity_registry_updated"])
        await ws.command(
            "config/device_registry/update",
            device_id=kitchen_device["id"],
            name_by_user="Kitchen spots",
        )
        samples["device_registry_updated_event"] = await _next_event(registry_events["device_registry_updated"])
        attic = await ws.command("config/floor_registry/create", name="Attic", level=2)
        samples["floor_registry_create_result"] = attic
        samples["floor_registry_updated_event"] = await _next_event(registry_events["floor_registry_updated"])
        samples["area_registry_create_result"] = await ws.command(
            "config/area_registry/create", name="Loft", floor_id=attic["floor_id"]
        )
        samples["area_registry_updated_event"] = await _next_event(registry_events["area_registry_updated"])
        await ws.command("config/area_registry/update", area_id="loft", aliases=["storage"])
        samples["area_registry_updated_event_update"] = await _next_event(registry_events["area_registry_updated"])
        await ws.command("config/label_registry/create", name="Holiday", color="red")
        samples["label_registry_updated_event"] = await _next_event(registry_events["label_registry_updated"])

        # -- errors ---------------------------------------------------------------------------
        samples["errors"] = {
            "unknown_command": await _error_of(ws, {"type": "no_such/command"}),
            "call_service_unknown_service": await _error_of(
                ws,
                {
                    "type": "call_service",
                    "domain": "light",
                    "service": "explode",
                    "target": {"entity_id": "light.kitchen_lights"},
                },
            ),
            "call_service_unknown_domain": await _error_of(
                ws, {"type": "call_service", "domain": "nodomain", "service": "turn_on"}
            ),
            "call_service_invalid_data": await _error_of(
                ws,
                {
                    "type": "call_service",
                    "domain": "light",
                    "service": "turn_on",
                    "target": {"entity_id": "light.kitchen_lights"},
                    "service_data": {"brightness": "very bright"},
                },
            ),
            "call_service_unknown_option": await _error_of(
                ws,
                {
                    "type": "call_service",
                    "domain": "input_select",
                    "service": "select_option",
                    "target": {"entity_id": "input_select.house_mode"},
                    "service_data": {"option": "Disco"},
                },
            ),
            "call_service_script_missing_required_field": await ws.send_raw(
                {"type": "call_service", "domain": "script", "service": "announce"}
            ),
            "call_service_unknown_entity": await ws.send_raw(
                {
                    "type": "call_service",
                    "domain": "light",
                    "service": "turn_on",
                    "target": {"entity_id": "light.does_not_exist"},
                }
            ),
            "invalid_format_missing_field": await _error_of(ws, {"type": "config/area_registry/create"}),
            "entity_registry_get_unknown": await _error_of(
                ws, {"type": "config/entity_registry/get", "entity_id": "light.does_not_exist"}
            ),
        }
        # An id that does not increase.
        assert ws._ws is not None
        reuse = ws._pending.setdefault(1, asyncio.get_running_loop().create_future())
        await ws._ws.send_json({"id": 1, "type": "ping"})
        samples["errors"]["id_reuse"] = await asyncio.wait_for(reuse, 10)
        samples["ping_pong"] = await ws.send_raw({"type": "ping"})

    samples["auth_invalid"] = await _auth_invalid(ha.url)
    samples["coalesced_frames"] = await _coalesced_frames(ha.url, ha.token)
    samples["rest"] = _rest_samples(ha)
    text = json.dumps(samples)
    if ha.token in text:
        raise AssertionError("a token leaked into the samples")
    return samples


async def _auth_invalid(url: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/api/websocket") as ws,
    ):
        await ws.receive_json(timeout=10)
        await ws.send_json({"type": "auth", "access_token": "not-a-valid-token"})
        return dict(await ws.receive_json(timeout=10))


async def _coalesced_frames(url: str, token: str) -> dict[str, Any]:
    """Raw text frames after `supported_features` coalesce_messages, for a burst of pings."""
    frames: list[Any] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url + "/api/websocket", max_msg_size=0) as ws,
    ):
        await ws.receive_json(timeout=10)
        await ws.send_json({"type": "auth", "access_token": token})
        await ws.receive_json(timeout=10)
        await ws.send_json({"id": 1, "type": "supported_features", "features": {"coalesce_messages": 1}})
        for msg_id in range(2, 12):
            await ws.send_json({"id": msg_id, "type": "ping"})
        answered = 0
        while answered < 11:
            frame = await ws.receive_json(timeout=10)
            frames.append(frame)
            answered += len(frame) if isinstance(frame, list) else 1
    return {
        "sent": "supported_features (id 1) then 10 pings (ids 2-11) back to back",
        "frames": frames,
    }


def _rest_samples(ha: RealHomeAssistant) -> dict[str, Any]:
    def body(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return response.text

    out: dict[str, Any] = {}
    with httpx.Client(base_url=ha.url, headers=ha.headers(), timeout=30) as client:
        services = client.get("/api/services").json()
        light = next(s for s in services if s["domain"] == "light")
        out["GET /api/services entry (light, turn_on only)"] = {
            "domain": light["domain"],
            "services": {"turn_on": light["services"]["turn_on"]},
            "service_names": sorted(light["services"]),
        }
        out["GET /api/services type"] = type(services).__name__
        out["GET /api/states/light.kitchen_lights"] = client.get("/api/states/light.kitchen_lights").json()
        response = client.get("/api/states/light.does_not_exist")
        out["GET /api/states/<unknown>"] = {"status": response.status_code, "body": body(response)}
        response = client.post("/api/services/input_boolean/toggle", json={"entity_id": "input_boolean.guest_mode"})
        out["POST /api/services/input_boolean/toggle"] = {
            "status": response.status_code,
            "body": body(response),
        }
        response = client.post("/api/services/script/greeting?return_response", json={"name": "Sam"})
        out["POST /api/services/script/greeting?return_response"] = {
            "status": response.status_code,
            "body": body(response),
        }
        response = client.post("/api/services/light/explode", json={"entity_id": "light.kitchen_lights"})
        out["POST /api/services/light/explode (unknown service)"] = {
            "status": response.status_code,
            "body": body(response),
        }
        response = client.post(
            "/api/services/light/turn_on",
            json={"entity_id": "light.kitchen_lights", "brightness": "very bright"},
        )
        out["POST /api/services/light/turn_on (invalid data)"] = {
            "status": response.status_code,
            "body": body(response),
        }
        response = client.get("/api/config")
        out["GET /api/config keys"] = sorted(response.json())
        path = "/api/history/period?filter_entity_id=input_boolean.guest_mode"
        time.sleep(1.5)  # the recorder commits every second
        response = client.get(path)
        out[f"GET {path}"] = {"status": response.status_code, "body": body(response)}
        response = client.get(path + "&minimal_response&no_attributes")
        out[f"GET {path}&minimal_response&no_attributes"] = {
            "status": response.status_code,
            "body": body(response),
        }
    response = httpx.get(ha.url + "/api/states", timeout=10)
    out["GET /api/states without token"] = {"status": response.status_code, "body": body(response)}
    return out


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tests.support.real_ha",
        description="Start a real, onboarded and enriched Home Assistant.",
    )
    parser.add_argument("--version", choices=HA_VERSIONS, default=VENV_HA_VERSION, help="which Home Assistant")
    parser.add_argument("--samples", type=Path, help="record protocol samples to this JSON file, then stop")
    parser.add_argument("--keep", action="store_true", help="keep the config dir afterwards")
    parser.add_argument("--dir", type=Path, help="config dir to use (created, or reused when kept before); kept")
    args = parser.parse_args(argv)

    try:
        ha = RealHomeAssistant(args.dir, runner=runner_for(args.version))
        ha.start()
    except (HANotAvailable, HAStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        if args.samples:
            samples = _run_coroutine(lambda: collect_samples(ha))
            args.samples.write_text(json.dumps(samples, indent=2, ensure_ascii=False) + "\n")
            print(f"samples written to {args.samples}")
            return 0
        print(f"Home Assistant runs at {ha.url}; token in {ha.token_file}; Ctrl-C stops it")
        signal.signal(signal.SIGTERM, _interrupt)  # `kill <pid>` cleans up like Ctrl-C
        with contextlib.suppress(KeyboardInterrupt):
            while ha.running:
                time.sleep(1)
        return 0
    finally:
        if args.keep:
            ha.stop()
            print(f"config dir kept: {ha.config_dir}")
        else:
            ha.close()


if __name__ == "__main__":
    raise SystemExit(main())
