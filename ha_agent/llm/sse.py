"""Server-sent events: the `data` of each event from a stream of lines.

Only what Chat Completions streams use: `data:` lines (joined with newlines when an event has
several), blank lines ending an event, comments and other fields ignored.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator


async def iter_sse_data(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    data: list[str] = []
    async for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith("data:"):
            value = line[5:]
            # One optional space after the colon belongs to the syntax, not the value.
            data.append(value[1:] if value.startswith(" ") else value)
        # `event:`, `id:`, `retry:` and `: comment` lines carry nothing a completion needs.
    if data:  # a server that closes without the final blank line
        yield "\n".join(data)
