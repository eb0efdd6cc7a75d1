"""What a web page could make a browser send is refused before any route sees it.

A service without API keys listens on loopback only, but any page the person opens can still
make their browser talk to loopback: a plain HTML form or a `fetch(..., {mode: "no-cors"})`
reaches the chat API (its answer is unreadable to the page, but the garage door is open), and
DNS rebinding (a name of the attacker's that resolves to 127.0.0.1) even makes the page the
server's "own" origin, so it can read the mirror back. Three rules close that, on every service:

- `Host` must be a name this server answers to: loopback names and addresses, the address the
  connection came in on, this machine's host name, or `ALLOWED_HOSTS` — else 421 (a rebinding
  page sends its own name);
- a request with an `Origin` (every cross-origin request, and every POST, carries one) must come
  from the server's own origin or from `ALLOWED_ORIGINS` — else 403;
- a request with a body must say it is JSON (`Content-Type: application/json`) — else 415: the
  bodies a form or a no-cors fetch can send (text/plain, form data) are never read as JSON.

Clients that are not browsers (the HA integration, curl, the CLI) send no `Origin` and the
JSON type, so they are unaffected; their `Host` is the address they connect to.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_JSON_TYPES = ("application/json",)


def _host_name(host: str) -> str:
    """`[::1]:8030` → `::1`, `Example.COM.:80` → `example.com`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _authority(scheme: str, host: str, port: int | None) -> tuple[str, int | None]:
    return host, port if port is not None else _DEFAULT_PORTS.get(scheme)


class BrowserGuard:
    """Pure ASGI middleware applying the module's rules (`open_paths` skip the Host rule:
    `/health` answers supervisors and load balancers whatever name they use)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
        open_paths: Iterable[str] = ("/health",),
    ) -> None:
        self.app = app
        self._hosts = tuple(h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip())
        self._origins = frozenset(o.strip().lower().rstrip("/") for o in allowed_origins if o.strip())
        self._open_paths = frozenset(open_paths)
        machine = socket.gethostname().lower()
        self._machine = frozenset({machine, f"{machine}.local"} if machine else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        host = headers.get("host")
        if host is not None and scope["path"] not in self._open_paths and not self._host_allowed(host, scope):
            await _refuse(
                send,
                421,
                f"this server does not answer to the name {_host_name(host)!r} (Host header); "
                "if it is a name of yours, add it to ALLOWED_HOSTS",
            )
            return
        origin = headers.get("origin")
        if origin is not None and not self._origin_allowed(origin, host, scope):
            await _refuse(
                send,
                403,
                f"requests from the web page at {origin[:100]!r} are refused: only this "
                "server's own pages (and ALLOWED_ORIGINS) may call it from a browser",
            )
            return
        if _has_body(headers) and not _is_json(headers.get("content-type", "")):
            await _refuse(send, 415, "send the request body as JSON, with 'Content-Type: application/json'")
            return
        await self.app(scope, receive, send)

    def _host_allowed(self, host: str, scope: Scope) -> bool:
        name = _host_name(host)
        if not name or name in _LOOPBACK_NAMES or name in self._machine:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return any(fnmatchcase(name, pattern) for pattern in self._hosts)
        server = scope.get("server")
        # A literal address cannot be rebound: loopback, or the address the client reached.
        return address.is_loopback or (server is not None and str(server[0]).lower() == name) or name in self._hosts

    def _origin_allowed(self, origin: str, host: str | None, scope: Scope) -> bool:
        origin = origin.strip().lower().rstrip("/")
        if "*" in self._origins or origin in self._origins:
            return True
        parts = urlsplit(origin)
        if origin == "null" or not parts.hostname or host is None:
            return False  # a sandboxed frame, a file:// page, a redirect across origins
        try:
            port = parts.port
        except ValueError:
            return False
        # Same origin: the page was served by this server under the name it is asked by. The
        # scheme is not compared (a TLS proxy in front speaks plain HTTP to us).
        own_scheme = "https" if parts.scheme == "https" else "http"
        asked = urlsplit(f"{own_scheme}://{host.strip().lower()}")
        try:
            asked_port = asked.port
        except ValueError:
            return False
        return _authority(parts.scheme, parts.hostname, port) == _authority(
            own_scheme, asked.hostname or "", asked_port
        )


def _has_body(headers: dict[str, str]) -> bool:
    length = headers.get("content-length", "").strip()
    return bool(length and length != "0") or "transfer-encoding" in headers


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
