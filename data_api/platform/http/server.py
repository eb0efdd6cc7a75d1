"""uvicorn serving one ASGI app inside a running event loop, on a socket we bind ourselves.

Binding here (not in uvicorn) turns "address in use" into one clear error instead of uvicorn's
`sys.exit`, and lets port 0 pick a free port (tests, several services on one machine).
Signals are left to the caller: uvicorn re-raises SIGTERM after its own shutdown, which would
kill the process before the caller has stopped the mirror and flushed its writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from data_api.platform.settings import SettingsError


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the caller handles SIGINT/SIGTERM and calls `HttpServer.stop()`


def bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise SettingsError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)  # a load burst queues instead of being refused
    except OSError as exc:
        sock.close()
        raise SettingsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


class HttpServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._config = uvicorn.Config(
            app,
            loop="auto",  # only read by uvicorn's own runner; our callers pick it with loop_factory()
            http="auto",  # httptools when installed
            lifespan="off",  # the app holds no resources of its own; the caller owns the mirror
            log_config=None,  # our logging set-up (with secret masking) applies
            access_log=False,  # a log line per request would cost more than the request
            timeout_graceful_shutdown=5,
        )
        self._server = _Server(self._config)
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    async def start(self) -> str:
        """Bind and serve; returns the URL once requests are being accepted."""
        sock = bind(self._host, self._port)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}"
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="http-server")
        while not self._server.started:
            if self._task.done():  # failed during start-up: surface its error
                await self._task
                raise RuntimeError("the HTTP server stopped during start-up")
            await asyncio.sleep(0.01)
        return self.url

    def request_stop(self) -> None:
        """Ask the server to stop (safe from a signal handler); `wait()` then returns."""
        self._server.should_exit = True

    async def wait(self) -> None:
        """Until the server stops: by `request_stop()`, or by failing (its error is raised)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        if self._task is None:
            return
        self.request_stop()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None


@contextlib.contextmanager
def stop_on_signals(server: HttpServer) -> Iterator[None]:
    """SIGINT and SIGTERM ask `server` to stop (its `wait()` returns), for the duration."""
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    for sig in stop_signals:
        loop.add_signal_handler(sig, server.request_stop)
    try:
        yield
    finally:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop uvicorn's `loop="auto"` picks (uvloop when installed), for `asyncio.Runner`:
    the loop is chosen when the process starts its loop, before any server exists."""
    # log_config=None: a Config otherwise installs uvicorn's own log handlers, over ours.
    return uvicorn.Config(app=None, loop="auto", log_config=None).get_loop_factory()
