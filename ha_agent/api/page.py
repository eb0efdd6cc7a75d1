"""The web chat page: `index.html` at `/`, its script, style and icon under `/static/`.

The files hold no data, so they are served without an API key: the page asks for the key and
sends it with each call to the chat API, like any other client. The API-key middleware opens
exact paths only (no prefix, so no `/static/../api` trick), so each shipped file's path is
opened by name; the files are package data and do not change while the server runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).with_name("static")
_PREFIX = "/static"
_INDEX = "index.html"
# Same-origin only: the page loads nothing from elsewhere and talks to this server alone.
_HEADERS = {
    "cache-control": "no-cache",  # revalidated (ETag) each load: an upgrade is seen at once
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


class _PageFiles(StaticFiles):
    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(_HEADERS)
        return response


def page_paths() -> list[str]:
    """The paths the page is served at: `/` and one per static file (the index itself is not
    served twice)."""
    files = sorted(p.name for p in STATIC_DIR.iterdir() if p.is_file() and p.name != _INDEX)
    return ["/", *(f"{_PREFIX}/{name}" for name in files)]


def mount_page(app: FastAPI) -> None:
    """Serve the page on `app` (whose API-key middleware opens `page_paths()`)."""

    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / _INDEX, media_type="text/html", headers=_HEADERS)

    app.add_api_route(
        "/",
        index,
        methods=["GET"],
        operation_id="page",
        summary="The web chat page (no API key needed: it asks for one)",
        tags=["page"],
        response_class=HTMLResponse,  # for the document: served as a file, HTML all the same
        responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The page"}},
        openapi_extra={"security": []},
    )
    app.mount(_PREFIX, _PageFiles(directory=STATIC_DIR), name="static")
