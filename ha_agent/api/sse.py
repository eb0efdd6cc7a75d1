"""Server-sent events as the chat stream writes them (`ha_agent.llm.sse` reads them back)."""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "text/event-stream"
# No caching, and no buffering by a reverse proxy (nginx honours X-Accel-Buffering): each
# event must reach the person as it is written.
HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def event(name: str, data: Any) -> bytes:
    """One event; its data is one line of JSON (JSON escapes every newline)."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"event: {name}\ndata: {payload}\n\n".encode()
