"""The data-api application: the mirror's REST API over a `MirrorReader`.

The app does not own the mirror (no lifespan): whoever builds it starts and stops the mirror,
so one mirror can serve this app and an in-process agent alike.

Middlewares are pure ASGI (no `BaseHTTPMiddleware`, which costs a task and a queue per
request). From the outside in: timing and stats (so even a 401 carries `X-Response-Time`),
the browser rules (Host, Origin, JSON bodies), CORS for `ALLOWED_ORIGINS`, API keys, then gzip
for the bodies the routes have not compressed themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from data_api.cache import MirrorReader
from data_api.settings import Settings

from .auth import ApiKeyAuth
from .browser import BrowserGuard
from .bodies import GZIP_LEVEL, GZIP_MIN_SIZE, BodyCache
from .errors import install_error_handlers
from .health import health_router
from .routes import mirror_router
from .stats import RequestStats, RequestTimer

_DESCRIPTION = """\
A local mirror of a Home Assistant home: registries, states and services, served from memory.

Every body says how fresh it is (`fetched_at`, `stale`). Lists are sorted by id and paginated
with `limit` and an opaque `cursor`. Send an API key as `Authorization: Bearer <key>` or
`X-API-Key: <key>` when the server has `API_KEYS` set (`/health` never needs one).
"""


def _version() -> str:
    try:
        return version("ha-agent")
    except PackageNotFoundError:
        return "0.0.0"


def _openapi(app: FastAPI, with_keys: bool) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        if with_keys:
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API key from API_KEYS"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            schema["security"] = [{"bearer": []}, {"apiKey": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def service_app(
    title: str, description: str, settings: Settings, *, open_paths: Iterable[str] = ()
) -> tuple[FastAPI, RequestStats]:
    """An app with what every service of the distribution shares (the data-api, the agent):
    readable errors, the timing and stats middleware, the browser rules (`browser.py`), API
    keys, gzip, and OpenAPI naming the keys.
    `open_paths` are served without a key besides `/health` (exact paths). The caller adds its
    routers."""
    stats = RequestStats()
    app = FastAPI(title=title, version=_version(), description=description, redoc_url=None)
    app.state.stats = stats
    install_error_handlers(app)
    # add_middleware puts each one outside the previous ones.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_SIZE, compresslevel=GZIP_LEVEL)
    app.add_middleware(ApiKeyAuth, keys=settings.api_keys, open_paths=("/health", *open_paths))
    if settings.allowed_origins:  # pages of those origins may read the answers too
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.allowed_origins), allow_methods=["*"],
                           allow_headers=["authorization", "x-api-key", "content-type"])  # fmt: skip
    app.add_middleware(BrowserGuard, allowed_hosts=settings.allowed_hosts, allowed_origins=settings.allowed_origins)
    app.add_middleware(RequestTimer, stats=stats)
    with_keys = bool(settings.api_keys)
    app.openapi = lambda: _openapi(app, with_keys)  # type: ignore[method-assign]
    return app, stats


def create_app(reader: MirrorReader, settings: Settings) -> FastAPI:
    app, stats = service_app("ha-agent data API", _DESCRIPTION, settings)
    bodies = BodyCache()
    app.state.reader = reader
    app.state.bodies = bodies
    app.include_router(mirror_router(reader, bodies))
    app.include_router(health_router(reader.mirror, stats, bodies))
    return app
