"""Server-sent events from a stream of lines: each event's name and data.

What Chat Completions streams and the agent's own `/api/v1/chat` stream use: `event:` and `data:`
lines (data joined with newlines when an event has several), blank lines ending an event,
comments and other fields ignored.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

DEFAULT_EVENT = "message"  # the name of an event without an `event:` line (the SSE spec's)


def _value(line: str, field_length: int) -> str:
    value = line[field_length:]
    # One optional space after the colon belongs to the syntax, not the value.
    return value[1:] if value.startswith(" ") else value


async def iter_sse(lines: AsyncIterable[str]) -> AsyncIterator[tuple[str, str]]:
    """`(event name, data)` of each event that has data."""
    event = DEFAULT_EVENT
    data: list[str] = []
    async for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data)
                data = []
            event = DEFAULT_EVENT
            continue
        if line.startswith("data:"):
            data.append(_value(line, 5))
        elif line.startswith("event:"):
            event = _value(line, 6)
        # `id:`, `retry:` and `: comment` lines carry nothing either stream needs.
    if data:  # a server that closes without the final blank line
        yield event, "\n".join(data)


async def iter_sse_data(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    """The data of each event (Chat Completions streams name none)."""
    async for _, data in iter_sse(lines):
        yield data
