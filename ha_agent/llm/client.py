"""OpenAI-compatible Chat Completions client over one pooled httpx connection set.

One wire format covers OpenAI and the local servers that copy it (Ollama, vLLM, llama.cpp
server, LM Studio); only `base_url` differs. Requests go to `{base_url}/chat/completions`, the
OpenAI convention where the base URL carries the version: `http://localhost:11434/v1`. A bare
host (`http://localhost:11434`, no path) gets `/v1` added, since every one of those servers
serves the API there; any other path is used as given.

Failures that a retry may cure (429, 408, 500/502/503/504, timeouts, lost connections) are
retried with exponential backoff honouring Retry-After; the rest, and the last failure, raise a
typed `LLMError` whose `user_message` can be shown to the person chatting.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from data_api.platform.logs import display_url
from data_api.platform.settings import LLMSettings, SettingsError

from .completions import StreamAssembler, parse_completion
from .errors import (
    LLMAuthError,
    LLMBadRequest,
    LLMError,
    LLMProtocolError,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
)
from .retry import RetryPolicy, parse_retry_after
from .sse import iter_sse_data
from .transport import AiohttpTransport
from .types import Completion, StreamEvent, TextDelta

_LOGGER = logging.getLogger(__name__)

# Room for ~100 concurrent conversations, each holding one connection while the model answers;
# idle ones are kept so the next round of a conversation skips the TCP/TLS handshake.
_MAX_CONNECTIONS = 128
_KEEPALIVE_EXPIRY = 30.0
_RETRYABLE_STATUSES = {408, 429, 500, 502, 503, 504}
# Enough of an error body to quote the server's reason, not a whole HTML error page.
_MAX_QUOTED = 300


def chat_completions_url(base_url: str) -> str:
    """`{base_url}/chat/completions`, with `/v1` added to a bare host (see the module docstring)."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    path = path.removesuffix("/chat/completions")  # the full endpoint pasted as the base URL
    if not path:
        path = "/v1"
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/chat/completions", parts.query, ""))


class LLMClient:
    """Chat Completions against one OpenAI-compatible server and model.

    `timeout` bounds each attempt: the whole answer for `complete`, and for `stream` the wait for
    the first chunk and for each following one. Share one client per process; it is safe for
    concurrent use. `http` lets a caller supply (and then close) its own `httpx.AsyncClient`.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | SecretStr | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 20.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = chat_completions_url(base_url)
        self.model = model
        self._display_url = display_url(self.url)
        self._timeout = timeout
        # Passed with each request, so an injected `http` client gets the same limits.
        self._httpx_timeout = httpx.Timeout(timeout)
        self._retry = RetryPolicy(max_retries, retry_base_delay, retry_max_delay)
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        # Kept only for masking: a server may echo the key back in an error message.
        self._key = key or None
        # Sent per request rather than set on the httpx client, so it is in no client repr.
        self._headers = {"Accept": "application/json"}
        if self._key:
            self._headers["Authorization"] = f"Bearer {self._key}"
        self._own_http = http is None
        # httpx's API over aiohttp's pool: see transport.py for why (measured).
        self._http = http or httpx.AsyncClient(
            transport=AiohttpTransport(max_connections=_MAX_CONNECTIONS, keepalive_expiry=_KEEPALIVE_EXPIRY),
        )

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> LLMClient:
        """The client for `LLM_BASE_URL`/`LLM_MODEL`/`LLM_API_KEY`; SettingsError if no URL is set."""
        if settings.base_url is None:
            raise SettingsError(
                "LLM_BASE_URL is not set: expected an http(s) URL of an OpenAI-compatible API, "
                "such as http://localhost:11434/v1"
            )
        return cls(
            settings.base_url,
            settings.model,
            settings.api_key,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
        )

    def __repr__(self) -> str:
        return f"LLMClient(url={self._display_url!r}, model={self.model!r})"

    async def close(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- public calls ------------------------------------------------------------------------
    async def complete(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        tool_choice: str | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        """One whole answer of the model to `messages` (OpenAI message dicts)."""
        body = self._body(messages, tools, tool_choice, parallel_tool_calls, temperature, max_tokens, stream=False)
        retries = 0
        while True:
            try:
                return await self._complete_once(body)
            except LLMError as error:
                delay = self._retry.delay_before_retry(error, retries)
                if delay is None:
                    error.attempts = retries + 1
                    raise
                self._log_retry(error, retries, delay)
            await asyncio.sleep(delay)
            retries += 1

    async def stream(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        tool_choice: str | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """The answer as it is written: `TextDelta`s, then the assembled `Completion` last.

        A failed attempt is retried only while nothing has been yielded: text already shown to
        a person cannot be taken back. Use `contextlib.aclosing` to stop early cleanly.
        """
        body = self._body(messages, tools, tool_choice, parallel_tool_calls, temperature, max_tokens, stream=True)
        retries = 0
        while True:
            yielded = False
            try:
                # aclosing: a caller that stops early releases the connection at once.
                async with aclosing(self._stream_once(body)) as events:
                    async for event in events:
                        yielded = True
                        yield event
                return
            except LLMError as error:
                delay = None if yielded else self._retry.delay_before_retry(error, retries)
                if delay is None:
                    error.attempts = retries + 1
                    raise
                self._log_retry(error, retries, delay)
            await asyncio.sleep(delay)
            retries += 1

    # --- one attempt -------------------------------------------------------------------------
    def _body(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None,
        tool_choice: str | dict[str, Any] | None,
        parallel_tool_calls: bool | None,
        temperature: float | None,
        max_tokens: int | None,
        *,
        stream: bool,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages)}
        if tools:
            body["tools"] = list(tools)
            # OpenAI rejects both options when no tools are sent.
            if tool_choice is not None:
                body["tool_choice"] = tool_choice
            if parallel_tool_calls is not None:
                body["parallel_tool_calls"] = parallel_tool_calls
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    async def _complete_once(self, body: dict[str, Any]) -> Completion:
        try:
            # httpx bounds each read; this bounds the whole attempt (a server trickling bytes).
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(
                    self.url, json=body, headers=self._headers, timeout=self._httpx_timeout
                )
        except (httpx.HTTPError, TimeoutError) as exc:
            raise self._transport_error(exc) from None
        if response.status_code >= 400:
            raise self._status_error(response.status_code, response.content, response.headers)
        return parse_completion(self._json(response.content))

    async def _stream_once(self, body: dict[str, Any]) -> AsyncIterator[StreamEvent]:
        try:
            async with self._http.stream(
                "POST", self.url, json=body, headers=self._headers, timeout=self._httpx_timeout
            ) as response:
                if response.status_code >= 400:
                    content = await response.aread()
                    raise self._status_error(response.status_code, content, response.headers)
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # A server that ignored `stream: true` and answered in one piece.
                    completion = parse_completion(self._json(await response.aread()))
                    if completion.content:
                        yield TextDelta(completion.content)
                    yield completion
                    return
                async with aclosing(self._events(response)) as events:
                    async for event in events:
                        yield event
        except (httpx.HTTPError, TimeoutError) as exc:
            raise self._transport_error(exc) from None

    async def _events(self, response: httpx.Response) -> AsyncIterator[StreamEvent]:
        assembler = StreamAssembler()
        done = False
        async for data in iter_sse_data(response.aiter_lines()):
            if data.strip() == "[DONE]":
                done = True
                break
            chunk = self._json(data.encode())
            if isinstance(chunk, dict) and chunk.get("error"):
                # OpenAI and vLLM report failures that happen mid-answer inside the stream.
                raise self._status_error(_in_stream_status(chunk["error"]), data.encode(), {})
            text = assembler.feed(chunk)
            if text:
                yield TextDelta(text)
        if not done and assembler.finish_reason is None:
            raise LLMUnavailable(
                f"{self._display_url} closed the stream before the answer was complete", retryable=True
            )
        yield assembler.result()

    # --- errors ------------------------------------------------------------------------------
    def _json(self, content: bytes) -> Any:
        try:
            return json.loads(content)
        except ValueError:
            raise LLMProtocolError(
                f"{self._display_url} answered with something that is not JSON: {self._quote(content)!r}"
            ) from None

    def _transport_error(self, exc: Exception) -> LLMError:
        if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
            return LLMTimeout(f"{self._display_url} did not answer within {self._timeout:g} s")
        if isinstance(exc, httpx.DecodingError):
            return LLMProtocolError(f"{self._display_url} sent a body that cannot be decoded")
        # httpx messages name the failure (refused, reset, disconnected), never the headers.
        reason = str(exc) or type(exc).__name__
        return LLMUnavailable(f"cannot reach the language model at {self._display_url}: {self._mask(reason)}")

    def _status_error(self, status: int, content: bytes, headers: Any) -> LLMError:
        retry_after = parse_retry_after(headers) if headers else None
        where = f"{self._display_url} answered HTTP {status}"
        if status in (401, 403):
            # The server's text may quote the key (OpenAI quotes part of it): not repeated.
            return LLMAuthError(f"{where}: the API key was refused (check LLM_API_KEY)", status=status)
        reason = self._server_message(content)
        if status == 404 and not content.lstrip().startswith(b"{"):
            # Not an API's "model not found" but a web server's: the URL is probably wrong.
            reason = f"{reason} (is LLM_BASE_URL right? requests go to {self._display_url})"
        if status == 429:
            return LLMRateLimited(f"{where}: {reason}", status=status, retry_after=retry_after)
        if status == 408:
            return LLMTimeout(f"{where}: {reason}", status=status, retry_after=retry_after)
        if status >= 500:
            return LLMUnavailable(
                f"{where}: {reason}",
                status=status,
                retryable=status in _RETRYABLE_STATUSES,
                retry_after=retry_after,
            )
        return LLMBadRequest(
            f"{where}: {reason}",
            status=status,
            user_message=f"The language model rejected the request: {reason}",
        )

    def _server_message(self, content: bytes) -> str:
        """The server's own reason, from the error shapes OpenAI-compatible servers use."""
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        message: Any = None
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                message = error.get("message")
            elif isinstance(error, str):  # Ollama, LM Studio
                message = error
            message = message or body.get("message") or body.get("detail")  # vLLM, FastAPI
        if not isinstance(message, str) or not message.strip():
            return self._quote(content) or "no reason given"
        return " ".join(self._mask(message).split())[:_MAX_QUOTED]

    def _quote(self, content: bytes) -> str:
        # Masked before it is cut: a key cut in two would no longer be found to mask.
        text = content.decode("utf-8", "replace")
        return " ".join(self._mask(text).split())[:_MAX_QUOTED]

    def _mask(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _log_retry(self, error: LLMError, retries_done: int, delay: float) -> None:
        _LOGGER.warning(
            "LLM request failed (%s), retry %d/%d in %.1f s",
            error,
            retries_done + 1,
            self._retry.max_retries,
            delay,
        )


def _in_stream_status(error: Any) -> int:
    """The HTTP status an error object inside a stream stands for (500 when it says none)."""
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, int) and 400 <= code <= 599:
        return code
    return 500
