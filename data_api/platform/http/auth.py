"""Inbound API keys: a pure ASGI middleware any of our services can put in front of its app.

Keys are hashed once, at start; a request's key is hashed and compared with every stored hash
by `hmac.compare_digest`, so neither the comparison nor the position of a match leaks timing.
Comparing fixed-length digests (not the keys) also hides the keys' lengths.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from data_api.platform.settings import SettingsError

HOW_TO_SEND = "send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def _secret(key: str | SecretStr) -> str:
    return key.get_secret_value() if isinstance(key, SecretStr) else key


class ApiKeyAuth:
    """Refuses requests without one of `keys` (401); with no keys configured, lets all through.

    `open_paths` are served without a key (health checks of load balancers and supervisors).
    """

    def __init__(
        self,
        app: ASGIApp,
        keys: Iterable[str | SecretStr],
        open_paths: Iterable[str] = ("/health",),
    ) -> None:
        self.app = app
        self._digests = tuple(_digest(_secret(key)) for key in keys)
        self._open_paths = frozenset(open_paths)

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._digests or scope["path"] in self._open_paths:
            await self.app(scope, receive, send)
            return
        key = _presented_key(scope)
        if key is None:
            await _unauthorized(send, f"an API key is required: {HOW_TO_SEND}", "")
        elif not self.accepts(key):
            await _unauthorized(
                send, f"the API key was not accepted: {HOW_TO_SEND} with a key from API_KEYS", "invalid_token"
            )
        else:
            await self.app(scope, receive, send)

    def accepts(self, key: str) -> bool:
        presented = _digest(key)
        accepted = False
        for digest in self._digests:  # no early exit: the time taken says nothing about which key
            accepted |= hmac.compare_digest(presented, digest)
        return accepted


def _presented_key(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
        elif name == b"x-api-key" and value.strip():
            return value.decode("latin-1").strip()
    return None


async def _unauthorized(send: Send, message: str, error: str) -> None:
    # The presented key is never echoed, not even in part.
    body = json.dumps({"detail": message}).encode()
    challenge = 'Bearer realm="ha-agent"' + (f', error="{error}"' if error else "")
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", challenge.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name to bind) only accepts connections from this machine."""
    host = host.strip().strip("[]")
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_keys_or_loopback(host: str, keys: Iterable[object]) -> None:
    """Without API keys a service may only listen on loopback: anyone reaching it could use it."""
    if not list(keys) and not is_loopback(host):
        raise SettingsError(
            f"API_KEYS is not set: refusing to listen on {host} without API keys (set API_KEYS, or listen on 127.0.0.1)"
        )
