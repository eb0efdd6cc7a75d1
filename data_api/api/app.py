"""The data-api application: the mirror's REST API over a `MirrorReader`, on the platform's frame.

The app does not own the mirror (no lifespan): whoever builds it starts and stops the mirror,
so one mirror can serve this app and an in-process agent alike.
"""

from __future__ import annotations

from fastapi import FastAPI

from data_api.mirror import MirrorReader
from data_api.platform.http.app import service_app
from data_api.platform.http.bodies import BodyCache
from data_api.platform.settings import Settings

from .errors import install_query_errors
from .health import health_router
from .routes import mirror_router

_DESCRIPTION = """\
A local mirror of a Home Assistant home: registries, states and services, served from memory.

Every body says how fresh it is (`fetched_at`, `stale`). Lists are sorted by id and paginated
with `limit` and an opaque `cursor`. Send an API key as `Authorization: Bearer <key>` or
`X-API-Key: <key>` when the server has `API_KEYS` set (`/health` never needs one).
"""


def create_app(reader: MirrorReader, settings: Settings) -> FastAPI:
    app, stats = service_app("ha-agent data API", _DESCRIPTION, settings, database="the mirror's database")
    install_query_errors(app)
    bodies = BodyCache()
    app.state.reader = reader
    app.state.bodies = bodies
    app.include_router(mirror_router(reader, bodies))
    app.include_router(health_router(reader.mirror, stats, bodies))
    return app
