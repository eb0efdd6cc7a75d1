"""Reading a JSON request body into a pydantic model, with errors a person can act on.

Read by hand rather than declared as a FastAPI body parameter: FastAPI answers malformed JSON
with "JSON decode error" at a numeric location, and reads any size of body before complaining.
Here the size is capped while reading, and each failure says what to send instead.
"""

from __future__ import annotations

import json
from typing import TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

MAX_BODY_BYTES = 64 * 1024  # a 4,000-character message in JSON, with room for escapes
MAX_DEPTH = 32  # no request of ours nests deeper; the parser's own limit would be a RecursionError
_M = TypeVar("_M", bound=BaseModel)


async def read_model(request: Request, model: type[_M], example: str) -> _M:
    """The body as `model`; 413 too large, 400 not a JSON object, 422 fields to fix."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise HTTPException(413, f"the request body is larger than {MAX_BODY_BYTES} bytes; send {example}")
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise HTTPException(400, f"the request body is not UTF-8 text; send JSON such as {example}") from None
    except json.JSONDecodeError as exc:
        reason = "it is empty" if not raw.strip() else f"{exc.msg} at character {exc.pos}"
        raise HTTPException(400, f"the request body is not valid JSON ({reason}); send {example}") from None
    except RecursionError:
        raise HTTPException(400, f"the request body nests deeper than {MAX_DEPTH} levels; send {example}") from None
    if _depth(data) > MAX_DEPTH:
        raise HTTPException(400, f"the request body nests deeper than {MAX_DEPTH} levels; send {example}")
    if not isinstance(data, dict):
        raise HTTPException(400, f"the request body must be a JSON object such as {example}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def _depth(value: object) -> int:
    """How deep a parsed JSON value nests, without recursion (iteratively, with a stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
