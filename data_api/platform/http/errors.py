"""Every error of every service as `{"detail": "<what went wrong and what to change>"}`, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from data_api.platform.db.errors import StoreError

_LOGGER = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every error's body, on every service (for the OpenAPI documents)."""

    detail: str = Field(description="What went wrong and what to change")


_MAX_SHOWN_INPUT = 60  # enough to recognise a value, not enough to mirror a payload back


def _where(loc: tuple[Any, ...]) -> str:
    source, *rest = loc or ("request",)
    name = ".".join(str(part) for part in rest) or str(source)
    return {"query": "query parameter", "path": "path parameter", "header": "header"}.get(
        str(source), str(source)
    ) + f" {name!r}"


def _expected(error: dict[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("bool_parsing", "bool_type"):
        return "expected true or false"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "expected a whole number"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else f"must be at least {ctx['min_length']} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "missing":
        return "is required"
    return str(error["msg"]).removeprefix("Input ").removeprefix("Value error, ")


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _MAX_SHOWN_INPUT else text[:_MAX_SHOWN_INPUT] + "…"


def validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        part = f"{_where(tuple(error.get('loc', ())))}: {_expected(error)}"
        if error["type"] != "missing" and "input" in error and isinstance(error["input"], (str, int, float)):
            part += f" (got {_shown(error['input'])!r})"
        parts.append(part)
    return "; ".join(parts)


def _json(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI, *, database: str = "the database") -> None:
    """Readable JSON errors for validation (422), HTTP errors, unknown paths and a database
    outage (503); `database` names it in the 503 ("the mirror's database")."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _json(422, validation_message(exc))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        # An outage, not a bug (for the mirror: the memory tier missed and could not refill).
        _LOGGER.warning("database error serving %s: %s", request.url.path, exc)
        return _json(503, f"{database} is unavailable; retry shortly", {"retry-after": "5"})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":  # the router's: no such path
            detail = f"no endpoint at {request.url.path}; the endpoints are listed at /docs and /openapi.json"
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "GET")
            detail = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
        return _json(exc.status_code, str(detail), exc.headers)
