"""The frame every service of the distribution is built on (the data-api, the agent).

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

from data_api.platform.settings import Settings

from .auth import ApiKeyAuth
from .bodies import GZIP_LEVEL, GZIP_MIN_SIZE
from .browser import BrowserGuard
from .errors import install_error_handlers
from .stats import RequestStats, RequestTimer


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
    title: str, description: str, settings: Settings, *, open_paths: Iterable[str] = (), database: str = "the database"
) -> tuple[FastAPI, RequestStats]:
    """An app with what every service of the distribution shares (the data-api, the agent):
    readable errors, the timing and stats middleware, the browser rules (`browser.py`), API
    keys, gzip, and OpenAPI naming the keys.
    `open_paths` are served without a key besides `/health` (exact paths). The caller adds its
    routers."""
    stats = RequestStats()
    app = FastAPI(title=title, version=_version(), description=description, redoc_url=None)
    app.state.stats = stats
    install_error_handlers(app, database=database)
    # add_middleware puts each one outside the previous ones.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_SIZE, compresslevel=GZIP_LEVEL)
    app.add_middleware(ApiKeyAuth, keys=settings.api_keys, open_paths=("/health", *open_paths))
    if settings.allowed_origins:  # pages of those origins may read the answers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["*"],
            allow_headers=["authorization", "x-api-key", "content-type"],
        )
    app.add_middleware(BrowserGuard, allowed_hosts=settings.allowed_hosts, allowed_origins=settings.allowed_origins)
    app.add_middleware(RequestTimer, stats=stats)
    with_keys = bool(settings.api_keys)
    app.openapi = lambda: _openapi(app, with_keys)  # type: ignore[method-assign]
    return app, stats
