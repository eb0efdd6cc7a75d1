"""The mirror's own error: a filter, cursor or limit to fix (400), beside the platform's handlers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

from data_api.mirror import QueryError


def install_query_errors(app: FastAPI) -> None:
    @app.exception_handler(QueryError)
    async def query_error(request: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)
