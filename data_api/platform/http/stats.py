"""Per-endpoint request statistics, and the timing middleware that records them.

Endpoints are keyed by method and route template (`/api/v1/entities/{entity_id}`), never by the
raw path: a client walking ten thousand entity ids must not grow ten thousand series.
"""

from __future__ import annotations

import bisect
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LOGGER = logging.getLogger(__name__)

# Histogram buckets (seconds) of the Prometheus request duration: the API's target is p99 ≤ 20 ms.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
UNROUTED = "(unrouted)"  # requests no route answered: 404s, and 401s refused before routing


@dataclass
class EndpointStats:
    count: int = 0
    errors: int = 0  # responses with a status ≥ 400
    total: float = 0.0
    min: float = float("inf")
    max: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))

    def add(self, status: int, seconds: float) -> None:
        self.count += 1
        self.errors += status >= 400
        self.total += seconds
        self.min = min(self.min, seconds)
        self.max = max(self.max, seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        index = bisect.bisect_left(BUCKETS, seconds)
        if index < len(BUCKETS):
            self.buckets[index] += 1  # cumulated when rendered

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "avg_ms": round(self.total / self.count * 1000, 3),
            "min_ms": round(self.min * 1000, 3),
            "max_ms": round(self.max * 1000, 3),
            "errors": self.errors,
            "error_rate": round(self.errors / self.count, 4),
            "statuses": {str(status): n for status, n in sorted(self.statuses.items())},
        }


class RequestStats:
    def __init__(self) -> None:
        self.started = time.time()
        self.endpoints: dict[tuple[str, str], EndpointStats] = {}

    def add(self, method: str, route: str, status: int, seconds: float) -> None:
        stats = self.endpoints.get((method, route))
        if stats is None:
            stats = self.endpoints[(method, route)] = EndpointStats()
        stats.add(status, seconds)

    def as_dict(self) -> dict[str, Any]:
        return {f"{method} {route}": s.as_dict() for (method, route), s in sorted(self.endpoints.items())}


class RequestTimer:
    """Outermost middleware: `X-Response-Time` on every response, stats for every request.

    It also turns an unexpected exception into a JSON 500 (and a logged traceback) so that
    even that response is timed and counted, and no traceback ever reaches the client.
    """

    def __init__(self, app: ASGIApp, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def timed_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                elapsed = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", ()), (b"x-response-time", f"{elapsed:.3f}ms".encode())]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        except Exception:
            _LOGGER.exception("unhandled error serving %s %s", scope["method"], scope["path"])
            if response_started:
                raise
            await _internal_error(timed_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNROUTED
            self.stats.add(scope["method"], template, status, time.perf_counter() - started)


async def _internal_error(send: Send) -> None:
    body = json.dumps({"detail": "internal error: the server log has the details"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
