"""An httpx transport that sends requests through one aiohttp connection pool.

Why: httpcore's pool (httpx's default transport, httpcore 1.0.x) does work proportional to the
number of pooled connections on every request (expiry checks with a syscall per connection),
so its cost grows with concurrency. Measured against the scripted server on 2 cores, one
`httpx.AsyncClient` sustained ~85 req/s with 50 concurrent requests and ~35 req/s with 100
(about 28 ms of CPU per request), even when every answer took 0.5 s; through this transport the
same client does ~900 req/s. Callers keep httpx's API (timeouts, streaming, exceptions,
`MockTransport` in tests); only the wire underneath changes.

aiohttp exceptions are mapped to the httpx exceptions httpx's own transport raises, so code
above cannot tell the difference.
"""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx

# Framing and connection headers belong to the transport that writes the bytes.
_TRANSPORT_HEADERS = {b"host", b"content-length", b"transfer-encoding", b"connection"}


def _httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, TimeoutError):  # aiohttp's socket-read timeout, or a bare one
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    return httpx.NetworkError(message, request=request)


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _httpx_error(exc, self._request) from None

    async def aclose(self) -> None:
        # A fully read answer returns its connection to the pool; a cut-short one must not.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive pool of at most `max_connections`; made on first use (needs a loop)."""

    def __init__(self, *, max_connections: int = 128, keepalive_expiry: float = 30.0) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._proxies: dict[tuple[str, str, int | None], str | None] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=0, keepalive_timeout=self._keepalive_expiry
            )
            # httpx decodes Content-Encoding itself. Proxies come from `_proxy_for`: aiohttp's
            # trust_env would look them up in a thread on every request (measured: half the
            # throughput).
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        # httpx's per-request timeouts: connect, read (between bytes), pool (waiting for a slot).
        limits = request.extensions.get("timeout", {})
        key = (limits.get("connect"), limits.get("read"), limits.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            timeout = aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)
            self._timeouts[key] = timeout
        return timeout

    def _proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy HTTP(S)_PROXY / ALL_PROXY name for this host unless NO_PROXY excludes it."""
        key = (url.scheme, url.host, url.port)
        if key not in self._proxies:
            proxies = urllib.request.getproxies()
            proxy = proxies.get(url.scheme) or proxies.get("all")
            self._proxies[key] = None if not proxy or urllib.request.proxy_bypass(url.host) else proxy
        return self._proxies[key]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = [(name, value) for name, value in request.headers.raw if name.lower() not in _TRANSPORT_HEADERS]
        body = await request.aread()
        try:
            response = await self._get_session().request(
                request.method,
                str(request.url),
                headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
                data=body or None,
                timeout=self._timeout(request),
                proxy=self._proxy_for(request.url),
                allow_redirects=False,  # httpx decides about redirects
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _httpx_error(exc, request) from None
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(response, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode("latin-1")},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
