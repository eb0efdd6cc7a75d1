"""A local OpenAI-compatible server whose answers a test, benchmark or load test scripts.

It speaks the real wire format (JSON and SSE streaming, tool calls, usage) and is as strict as
the real API where the agent could go wrong: a request whose history leaves a tool call
unanswered gets OpenAI's HTTP 400. Replies are queued with `script(...)` and consumed in order;
when the queue is empty a `responder` (if any) decides. Every request is recorded.

    async with ScriptedLLMServer() as server:
        server.script(Reply.tool_calls([("turn_on", {"entity_id": "light.kitchen"})]), Reply.text("Done."))
        client = LLMClient(server.base_url, "scripted")
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from .scripted_wire import (
    RequestRejected,
    check_request,
    completion_object,
    error_body,
    sse_events,
    tool_call_object,
    usage_object,
)

Responder = Callable[[dict[str, Any]], "Reply | Awaitable[Reply]"]

# What OpenAI says for each status when a test does not give its own body.
_DEFAULT_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to use this model.", "invalid_request_error", "unsupported_country_region_territory"),
    404: ("The model does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"),
    408: ("Request timed out.", "timeout", None),
    429: ("Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    name: str
    arguments: str  # JSON text as the model writes it (tests may script malformed JSON)
    id: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer; build it with the class methods."""

    content: str | None = None
    calls: tuple[ScriptedCall, ...] = ()
    finish_reason: str | None = None  # None: "tool_calls" when there are calls, else "stop"
    prompt_tokens: int | None = None  # None: estimated from the request size
    completion_tokens: int | None = None  # None: estimated from the answer size
    cached_tokens: int = 0
    status: int = 200
    body: bytes | None = None  # sent as is instead of a completion (errors, malformed answers)
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    wait: float = 0.0  # seconds before the answer starts
    drop_after: int | None = None  # close the connection after this many SSE events (0: at once)

    @classmethod
    def text(
        cls,
        content: str,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        cached_tokens: int = 0,
        finish_reason: str | None = None,
    ) -> Reply:
        return cls(
            content=content,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
            finish_reason=finish_reason,
        )

    @classmethod
    def tool_calls(
        cls,
        calls: Iterable[tuple[str, dict[str, Any] | str] | tuple[str, dict[str, Any] | str, str]],
        *,
        content: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        cached_tokens: int = 0,
    ) -> Reply:
        """`(name, arguments)` or `(name, arguments, id)`; arguments as a dict or raw JSON text."""
        scripted = []
        for call in calls:
            name, arguments = call[0], call[1]
            call_id = call[2] if len(call) > 2 else f"call_{uuid.uuid4().hex[:24]}"
            text = arguments if isinstance(arguments, str) else json.dumps(arguments, separators=(",", ":"))
            scripted.append(ScriptedCall(name, text, call_id))
        return cls(
            content=content,
            calls=tuple(scripted),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
        )

    @classmethod
    def error(
        cls, status: int, body: dict[str, Any] | str | None = None, retry_after: float | str | None = None
    ) -> Reply:
        """An HTTP error; `body` a dict (sent as JSON), a message (wrapped in OpenAI's error shape) or None."""
        if not isinstance(body, dict):
            default_message, type_, code = _DEFAULT_ERRORS.get(status, ("Error.", "server_error", None))
            body = error_body(body or default_message, type_=type_, code=code)
        headers = (("Retry-After", _header_value(retry_after)),) if retry_after is not None else ()
        return cls(status=status, body=json.dumps(body).encode(), headers=headers)

    @classmethod
    def raw(cls, body: bytes | str, *, status: int = 200, content_type: str = "application/json") -> Reply:
        """Any bytes, e.g. a malformed JSON body or a broken SSE stream."""
        data = body.encode() if isinstance(body, str) else body
        return cls(status=status, body=data, content_type=content_type)

    @classmethod
    def delay(cls, seconds: float, then: Reply | None = None) -> Reply:
        """`then` (default an empty text) arriving after `seconds`: e.g. to outlast a client timeout."""
        base = then if then is not None else cls.text("")
        return replace(base, wait=base.wait + seconds)

    @classmethod
    def drop(cls, after_chunks: int = 0, then: Reply | None = None) -> Reply:
        """Close the connection without (a whole) answer.

        With `after_chunks` > 0 a streamed `then` is cut after that many events: the client has
        already seen part of the answer. Non-streamed requests are always dropped before any byte.
        """
        base = then if then is not None else cls.text("")
        return replace(base, drop_after=after_chunks)


def _header_value(value: float | str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the server got it; `at` is `time.monotonic()` on arrival."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names; held in memory for assertions, never logged
    body: Any  # the parsed JSON, or None if the body was not JSON
    at: float


class ScriptedLLMServer:
    """See the module docstring. `latency` (seconds) is added before every answer.

    `models`: if given, other model names get OpenAI's 404 `model_not_found`; `/v1/models` lists
    them. `api_key`: if given, requests must carry it as a Bearer token (401 otherwise).
    `record=False` keeps no requests: a long load test or manual server would otherwise grow.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        responder: Responder | None = None,
        latency: float = 0.0,
        models: Sequence[str] | None = None,
        api_key: str | None = None,
        record: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.responder = responder
        self.latency = latency
        self.models = tuple(models) if models else None
        self._api_key = api_key
        self._record_requests = record
        self._queue: deque[Reply] = deque()
        self.received: list[ReceivedRequest] = []
        self._ids = itertools.count(1)
        # Chat requests received, also when not recorded (load tests read it).
        self.request_count = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- scripting and inspection ----------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        return len(self._queue)

    @property
    def requests(self) -> list[Any]:
        """The JSON body of every chat completion request received, in order."""
        return [r.body for r in self.received if r.path.endswith("/chat/completions")]

    # --- life cycle ------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        # No access log (it would cost time under load and could print headers); handlers are
        # cancelled when the client goes away (a timed-out request stops sleeping at once).
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.port = port
        self.base_url = f"http://{host}:{port}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ScriptedLLMServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- handlers --------------------------------------------------------------------------
    async def _models(self, request: web.Request) -> web.Response:
        self._record(request, None)
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "scripted"} for m in self.models or ("scripted",)
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.request_count += 1
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self._record(request, body)
        try:
            self._authorize(request)
            if body is None:
                raise RequestRejected(400, "We could not parse the JSON body of your request.")
            check_request(body)
            self._check_model(body["model"])
        except RequestRejected as rejected:
            return web.json_response(rejected.body, status=rejected.status)
        reply = await self._next_reply(body)
        wait = self.latency + reply.wait
        if wait > 0:
            await asyncio.sleep(wait)
        if reply.drop_after is not None and (reply.drop_after == 0 or not body.get("stream")):
            return _drop(request)
        if reply.body is not None:
            return web.Response(
                body=reply.body,
                status=reply.status,
                content_type=None,
                headers={"Content-Type": reply.content_type, **dict(reply.headers)},
            )
        return await self._answer(request, body, len(raw), reply)

    def _record(self, request: web.Request, body: Any) -> None:
        if not self._record_requests:
            return
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.received.append(ReceivedRequest(request.method, request.path, headers, body, time.monotonic()))

    def _authorize(self, request: web.Request) -> None:
        if self._api_key is None:
            return
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer "):
            raise RequestRejected(401, "You didn't provide an API key.", code="invalid_api_key")
        key = given.removeprefix("Bearer ")
        if key != self._api_key:
            # OpenAI quotes the key it refused, masked; so does this server.
            masked = f"{key[:3]}{'*' * max(len(key) - 7, 0)}{key[-4:]}" if len(key) > 8 else "***"
            raise RequestRejected(401, f"Incorrect API key provided: {masked}.", code="invalid_api_key")

    def _check_model(self, model: str) -> None:
        if self.models is not None and model not in self.models:
            raise RequestRejected(
                404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"
            )

    async def _next_reply(self, body: dict[str, Any]) -> Reply:
        if self._queue:
            return self._queue.popleft()
        if self.responder is None:
            # 501, which clients do not retry: the test fails at once with this message.
            return Reply.error(
                501,
                f"ScriptedLLMServer has no reply for request #{self.request_count}: "
                "the script is used up and no responder is set",
            )
        reply = self.responder(body)
        return await reply if inspect.isawaitable(reply) else reply

    async def _answer(self, request: web.Request, body: dict[str, Any], size: int, reply: Reply) -> web.StreamResponse:
        calls = [tool_call_object(c.id, c.name, c.arguments) for c in reply.calls]
        written = len(reply.content or "") + sum(len(c.name) + len(c.arguments) for c in reply.calls)
        prompt_tokens = reply.prompt_tokens if reply.prompt_tokens is not None else max(1, size // 4)
        usage = usage_object(
            prompt_tokens,
            reply.completion_tokens if reply.completion_tokens is not None else max(1, written // 4),
            min(reply.cached_tokens, prompt_tokens),
        )
        common = {
            "completion_id": f"chatcmpl-scripted{next(self._ids)}",
            "created": int(time.time()),
            "model": body["model"],
            "content": reply.content,
            "tool_calls": calls,
            "finish_reason": reply.finish_reason or ("tool_calls" if calls else "stop"),
        }
        if not body.get("stream"):
            return web.json_response(completion_object(usage=usage, **common), headers=dict(reply.headers))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = sse_events(usage=usage if include_usage else None, **common)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                **dict(reply.headers),
            }
        )
        await response.prepare(request)
        if reply.drop_after is not None:
            await response.write(b"".join(events[: reply.drop_after]))
            return _drop(request)
        # One write for the whole answer: the load test measures the agent, not this server.
        await response.write(b"".join(events))
        await response.write_eof()
        return response


def _drop(request: web.Request) -> web.Response:
    """Close the connection; aiohttp then discards the response it can no longer send."""
    if request.transport is not None:
        request.transport.close()
    return web.Response()


# --- responders for benchmarks, load tests and manual use -------------------------------------
def tools_then_text(calls: Iterable[tuple[str, dict[str, Any]]], text: str) -> Responder:
    """Answer a user message with `calls`, and the tool results with `text`: one agent turn."""
    scripted = list(calls)

    def respond(body: dict[str, Any]) -> Reply:
        last = body["messages"][-1]
        return Reply.text(text) if last.get("role") == "tool" else Reply.tool_calls(scripted)

    return respond


def echo(body: dict[str, Any]) -> Reply:
    """Repeat the last user message: a model stand-in for trying the agent by hand."""
    for message in reversed(body["messages"]):
        if message.get("role") == "user":
            content = message.get("content")
            return Reply.text(f"(scripted) You said: {content if isinstance(content, str) else '...'}")
    return Reply.text("(scripted) Hello.")


async def serve_forever(host: str = "127.0.0.1", port: int = 8040, latency: float = 0.0) -> None:
    """Run a server that echoes (see `echo`) until cancelled; prints its base URL."""
    async with ScriptedLLMServer(host=host, port=port, responder=echo, latency=latency, record=False) as server:
        print(f"Scripted OpenAI-compatible server at {server.base_url} (LLM_BASE_URL); Ctrl+C stops it", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="A scripted OpenAI-compatible server that echoes.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8040)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    options = parser.parse_args()
    try:
        asyncio.run(serve_forever(options.host, options.port, options.latency))
    except KeyboardInterrupt:
        pass
