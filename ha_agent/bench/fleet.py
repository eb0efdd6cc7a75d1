"""A fleet on one machine, for the load test and the fault soak: a simulated HA and a model
server in this process (so faults are injected by setting attributes), and the services as real
processes — one mirror (`serve --role data-api`) and agent replicas (`serve --role agent`), or
one `ha-agent serve` with the mirror inside — sharing one database.

Each process gets its settings in its environment only (nothing of the caller's environment
that names a setting leaks in), runs in a scratch folder (no `.env` or `config/` is read), and
writes its output to its own log file, kept across restarts so the soak can read every line.
On Linux each process gets SIGTERM when the process that started it dies, however it dies.

    async with Fleet(database_url, replicas=2, responder=...) as fleet:
        fleet.agent_urls, fleet.data_api_url, fleet.sim, fleet.llm, fleet.headers
        await fleet.kill(1); await fleet.restart(1)
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import secrets
import signal
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
from sqlalchemy import make_url

from data_api.platform.settings import Settings
from data_api.simulator import SimulatedHA, generate_home
from ha_agent.simulator.scripted_server import Responder, ScriptedLLMServer

# The caller's settings must not reach the processes (a developer's DATABASE_URL, API_KEYS...):
# every name the settings read, from the settings themselves, so a new setting cannot slip past.
_SETTING_NAMES = frozenset(name.upper() for name in Settings.model_fields)
_SERVING = re.compile(r"serving home '[^']*' at (http://\S+)/api/v1")
_PORT_TAKEN = re.compile(r"address already in use|EADDRINUSE|Errno 98", re.IGNORECASE)
START_TIMEOUT = 60.0
PORT_ATTEMPTS = 3  # a free port taken again before the process binds it: another, this many times
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A port free now, though not reserved: another process may take it before ours binds it
    (`_launch` then moves to a fresh one). A restarted replica comes back at the same address
    when it can, as behind a proxy."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> Any:
    """A `preexec_fn` that has the child SIGTERMed when this process dies (Linux prctl
    PR_SET_PDEATHSIG), even by SIGKILL — a CI timeout killing pytest must not leave servers
    holding ports and database connections. None where prctl is unavailable."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: no dlsym after fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: no signal will come
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


@dataclass
class Part:
    """One service process: how to start it again, where it logs, whether it may take requests."""

    name: str
    args: list[str]  # without --port: `_launch` adds the current one
    env: dict[str, str]
    port: int
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    up: bool = False  # the load generator sends here only while up (a proxy's health check)
    starts: int = 0
    _log: IO[bytes] | None = field(default=None, repr=False)
    _log_from: int = 0  # where the latest start's output begins in the (appended) log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Fleet:
    """See the module docstring. `replicas=0`: one `ha-agent serve` (mirror and agent in one
    process); otherwise a data-api process and that many agent processes.

    `settings` are extra environment values for every process (e.g. LLM_TIMEOUT). The secrets
    (HA token, API key, model key) are random per fleet; `secrets()` lists them for log scans.
    """

    def __init__(
        self,
        database_url: str,
        *,
        replicas: int = 2,
        home: str = "small",
        responder: Responder | None = None,
        model_latency: float = 0.0,
        home_id: str | None = None,
        settings: dict[str, str] | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.replicas = replicas
        self.home_id = home_id or f"fleet-{uuid.uuid4().hex[:12]}"
        self.api_key = secrets.token_urlsafe(24)
        self.llm_key = "sk-" + secrets.token_urlsafe(24)
        self.sim = SimulatedHA(generate_home(home))
        self.llm = ScriptedLLMServer(responder=responder, latency=model_latency, api_key=self.llm_key, record=False)
        self._extra = dict(settings or {})
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._workdir = workdir
        self.workdir = Path()
        self.data_api: Part | None = None
        self.agents: list[Part] = []
        self._closed = False

    # --- addresses ---------------------------------------------------------------------------
    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def agent_urls(self) -> list[str]:
        return [agent.url for agent in self.agents]

    @property
    def data_api_url(self) -> str:
        """The mirror's REST API: the data-api, or the single process that serves it too."""
        return self.data_api.url if self.data_api is not None else self.agents[0].url

    def secrets(self) -> list[str]:
        password = make_url(self.database_url).password
        return [self.sim.token, self.api_key, self.llm_key, *([str(password)] if password else [])]

    def log_paths(self) -> list[Path]:
        return sorted(self.workdir.glob("*.log"))

    # --- life cycle ----------------------------------------------------------------------------
    async def __aenter__(self) -> Fleet:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
        if self._scratch is not None:  # the logs go with it: scan them after stop(), before this
            self._scratch.cleanup()
            self._scratch = None

    async def start(self) -> None:
        if self._workdir is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="ha-agent-fleet-")
            self.workdir = Path(self._scratch.name)
        else:
            self.workdir = self._workdir
            self.workdir.mkdir(parents=True, exist_ok=True)
        await self.sim.start()
        await self.llm.start()
        common = {
            "HA_URL": self.sim.url,
            "HA_TOKEN": self.sim.token,
            "DATABASE_URL": self.database_url,
            "HOME_ID": self.home_id,
            "API_KEYS": self.api_key,
            "LLM_BASE_URL": self.llm.base_url,
            "LLM_API_KEY": self.llm_key,
            "LLM_MODEL": "gpt-4o-mini",
            "INTENTS_FAST_PATH": "false",  # every turn takes the model's path
            "HISTORY_MAX_TOKENS": "64000",  # the whole conversation goes to the model: it checks it
            "HA_RECONNECT_MIN_DELAY": "0.1",
            "HA_RECONNECT_MAX_DELAY": "1",
            # Three processes on one PostgreSQL that other tests share (max_connections 100).
            "DB_POOL_SIZE": "10",
            "DB_MAX_OVERFLOW": "0",
            "LOG_LEVEL": "INFO",
            **self._extra,
        }
        if self.replicas == 0:
            self.agents = [self._part("serve", [], common)]
        else:
            self.data_api = self._part("data-api", ["--role", "data-api"], common)
            await self._launch(self.data_api)
            agent_env = {**common, "DATA_API_URL": self.data_api.url}
            self.agents = [self._part(f"agent{n}", ["--role", "agent"], agent_env) for n in range(self.replicas)]
        # A TaskGroup, not gather: when one launch fails the others are cancelled and awaited, so
        # every process spawned is in its part by the time __aenter__ calls stop().
        async with asyncio.TaskGroup() as launches:
            for agent in self.agents:
                launches.create_task(self._launch(agent))

    async def stop(self) -> None:
        """SIGTERM every process (they drain their turns), then stop the in-process servers.
        Idempotent; the logs stay readable until the `async with` block ends."""
        parts = [*self.agents, *([self.data_api] if self.data_api else [])]
        await asyncio.gather(*(self._terminate(part) for part in parts))
        await self.llm.stop()
        if not self._closed:
            self._closed = True
            await self.sim.close()

    # --- faults --------------------------------------------------------------------------------
    async def kill(self, index: int) -> None:
        """SIGKILL agent `index`: no drain, no goodbye; the load generator stops sending first."""
        agent = self.agents[index]
        agent.up = False
        if agent.process is not None and agent.process.returncode is None:
            agent.process.send_signal(signal.SIGKILL)
            await agent.process.wait()

    async def restart(self, index: int) -> float:
        """Start agent `index` again, at its address unless that was taken meanwhile (read the
        URL from the fleet after this); seconds until it answered /health. A live replica is
        stopped first: its process would otherwise be left running, unreferenced."""
        agent = self.agents[index]
        started = time.perf_counter()
        await self._terminate(agent)
        await self._launch(agent)
        return time.perf_counter() - started

    # --- processes -----------------------------------------------------------------------------
    def _part(self, name: str, role: list[str], env: dict[str, str]) -> Part:
        args = [sys.executable, "-m", "ha_agent.cli", "serve", *role]
        base = {k: v for k, v in os.environ.items() if k.upper() not in _SETTING_NAMES}
        return Part(name, args, {**base, **env, "PYTHONUNBUFFERED": "1"}, free_port(), self.workdir / f"{name}.log")

    async def _launch(self, part: Part) -> None:
        """Start the process and wait until it serves; on a fresh port if its port was taken."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            if part._log is None:
                part._log = open(part.log_path, "ab")
            part._log.write(f"--- start {part.starts + 1} ---\n".encode())
            part._log.flush()
            part._log_from = part._log.tell()
            part.process = await asyncio.create_subprocess_exec(
                *part.args,
                "--port",
                str(part.port),
                cwd=self.workdir,
                env=part.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=part._log,
                stderr=asyncio.subprocess.STDOUT,
                preexec_fn=_die_with_parent(),
            )
            part.starts += 1
            try:
                await self._wait_ready(part)
            except RuntimeError:
                exited = part.process.returncode is not None
                if not (exited and _PORT_TAKEN.search(self._since_start(part)) and attempt < PORT_ATTEMPTS):
                    raise
                part.port = free_port()
                continue
            part.up = True
            return

    async def _wait_ready(self, part: Part) -> None:
        """Until the process says where it serves and /health answers 200; its log if it dies."""
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                assert part.process is not None
                if part.process.returncode is not None:
                    raise RuntimeError(f"{part.name} exited ({part.process.returncode}):\n{self._tail(part)}")
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(f"{part.url}/health") as response:
                        if response.status == 200 and _SERVING.search(self._since_start(part)):
                            return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{part.name} did not answer /health within {START_TIMEOUT:.0f} s:\n{self._tail(part)}")

    @staticmethod
    def _since_start(part: Part) -> str:
        """The latest start's output only: the log is appended across restarts, and an earlier
        start's "serving home" line (or error) must not pass for this one's."""
        if not part.log_path.exists():
            return ""
        with part.log_path.open("rb") as log:
            log.seek(part._log_from)
            return log.read().decode(errors="replace")

    @classmethod
    def _tail(cls, part: Part, lines: int = 40) -> str:
        return "\n".join(cls._since_start(part).splitlines()[-lines:])

    async def _terminate(self, part: Part) -> None:
        part.up = False
        process = part.process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        if part._log is not None:
            part._log.close()
            part._log = None

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) of each running process so far, from /proc (Linux); read
        before `stop()`. A restarted process counts from its restart."""
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        used: dict[str, float] = {}
        for part in [*([self.data_api] if self.data_api else []), *self.agents]:
            if part.process is None or part.process.returncode is not None:
                continue
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{part.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
                used[part.name] = round((int(fields[11]) + int(fields[12])) / ticks, 2)
        return used

    def scan_logs(self) -> dict[str, Any]:
        """Every log line of every process: secrets found (by which part, never the value),
        tracebacks, and LLM retries."""
        leaks: dict[str, int] = {}
        tracebacks = retries = 0
        for path in self.log_paths():
            text = path.read_text(errors="replace")
            found = sum(text.count(secret) for secret in self.secrets())
            if found:
                leaks[path.stem] = found
            tracebacks += text.count("Traceback (most recent call last)")
            retries += text.count("LLM request failed")
        return {"secret_leaks": leaks, "tracebacks": tracebacks, "llm_retries": retries}


async def forget_home(database_url: str, home_id: str) -> None:
    """Delete a run's rows from every table with a home_id (a shared database keeps its tables
    and other homes' rows). Conversations go first: their messages follow by cascade."""
    from sqlalchemy import inspect, text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:

            def homed(sync_conn: Any) -> list[str]:
                found = inspect(sync_conn)
                return [t for t in found.get_table_names() if any(c["name"] == "home_id" for c in found.get_columns(t))]

            tables = await conn.run_sync(homed)
            for table in sorted(tables, key=lambda name: name != "agent_conversations"):
                await conn.execute(text(f'DELETE FROM "{table}" WHERE home_id = :home'), {"home": home_id})
    finally:
        await engine.dispose()


__all__ = ["Fleet", "Part", "forget_home", "free_port"]
