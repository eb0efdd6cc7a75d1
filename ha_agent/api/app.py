"""The agent's application: chat, conversations, context and audit over an `AgentService`.

It is built on the data-api's frame (`service_app`: errors, API keys, timing and stats, gzip),
so both services answer keys, errors and metrics alike. When the mirror runs in the same
process, its routes are served here too (`/api/v1/entities`...): no path of the two collides
under `/api/v1`, and `/health`, `/health/detailed` and `/metrics` are the agent's, covering both.

Like the data-api's app it owns nothing (no lifespan): whoever builds it starts and stops the
service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from data_api import install_query_errors, mirror_router
from data_api.platform.http.app import service_app
from data_api.platform.http.bodies import BodyCache
from data_api.platform.settings import Settings

from .chat import chat_router
from .errors import install_agent_error_handlers
from .health import health_router
from .inspect import inspect_router
from .page import mount_page, page_paths

if TYPE_CHECKING:
    from ha_agent.service import AgentService

_DESCRIPTION = """\
The assistant of a Home Assistant home: chat with it (`POST /api/v1/chat`), read or delete a
conversation, see the context the model gets (`/api/v1/context?q=`) and what its tools did
(`/api/v1/audit`). When the mirror runs in the same process, its read API (`/api/v1/entities`...)
is served here as well.

Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>` when the server has
`API_KEYS` set (`/health` never needs one).
"""


def create_app(service: AgentService, settings: Settings) -> FastAPI:
    app, stats = service_app("ha-agent", _DESCRIPTION, settings, open_paths=page_paths())
    install_agent_error_handlers(app)
    app.state.service = service
    app.include_router(chat_router(service))
    app.include_router(inspect_router(service))
    bodies = None
    if service.reader is not None:
        bodies = BodyCache()
        app.include_router(mirror_router(service.reader, bodies))
        install_query_errors(app)
    app.include_router(health_router(service, stats, bodies))
    mount_page(app)  # the web chat page at `/`, open without a key (it holds no data)
    return app
