"""LLM client against the scripted OpenAI-compatible server, over real HTTP on 127.0.0.1.

Timing assertions use the server's arrival timestamps (the gap between two requests), never a
wall-clock threshold around the whole call.
"""

from __future__ import annotations

import json
from contextlib import aclosing
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from data_api.platform.settings import Settings
from ha_agent.llm import (
    Completion,
    LLMAuthError,
    LLMBadRequest,
    LLMClient,
    LLMError,
    LLMProtocolError,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
    TextDelta,
    ToolArgumentsError,
    ToolCall,
    Usage,
    chat_completions_url,
)
from ha_agent.llm.retry import parse_retry_after
from ha_agent.simulator.scripted_server import Reply, ScriptedLLMServer, tools_then_text

MODEL = "scripted-model"
USER = [{"role": "system", "content": "You run a home."}, {"role": "user", "content": "Lights on in the kitchen"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} a light",
            "parameters": {
                "type": "object",
                "properties": {"entity_id": {"type": "string"}},
                "required": ["entity_id"],
            },
        },
    }
    for name in ("turn_on", "turn_off", "toggle")
]
THREE_CALLS = [
    ("turn_on", {"entity_id": "light.kitchen", "brightness_pct": 80}),
    ("turn_off", {"entity_id": "light.hall"}),
    ("toggle", {"entity_id": "switch.kettle"}),
]


@pytest.fixture
async def server():
    async with ScriptedLLMServer() as running:
        yield running


@pytest.fixture(params=["aiohttp-pool", "httpx-default"])
async def make_client(request, server):
    """LLMClient factory against `server`, with retries fast enough for tests.

    Each test runs twice: with the client's own transport (aiohttp's pool under httpx), and
    with a caller's plain `httpx.AsyncClient` (httpcore), which must behave the same.
    """
    clients: list[LLMClient] = []
    injected: list[httpx.AsyncClient] = []

    def make(**options: Any) -> LLMClient:
        options.setdefault("retry_base_delay", 0.01)
        options.setdefault("timeout", 5.0)
        model = options.pop("model", MODEL)
        if request.param == "httpx-default":
            injected.append(httpx.AsyncClient())
            options["http"] = injected[-1]
        client = LLMClient(server.base_url, model, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
    for http in injected:
        await http.aclose()


async def collect(events) -> tuple[list[str], Completion]:
    deltas, final = [], None
    async with aclosing(events) as stream:
        async for event in stream:
            if isinstance(event, TextDelta):
                assert final is None, "text after the final completion"
                deltas.append(event.text)
            else:
                final = event
    assert isinstance(final, Completion)
    return deltas, final


# --- answers ----------------------------------------------------------------------------------
async def test_text_reply(server, make_client):
    server.script(Reply.text("The kitchen light is on."))
    completion = await make_client().complete(USER)
    assert completion.content == "The kitchen light is on."
    assert completion.tool_calls == [] and completion.finish_reason == "stop"
    assert completion.model == MODEL
    assert completion.as_message() == {"role": "assistant", "content": "The kitchen light is on."}
    assert server.requests == [{"model": MODEL, "messages": USER}]


async def test_three_parallel_tool_calls_parsed_and_answered(server, make_client):
    server.script(Reply.tool_calls(THREE_CALLS), Reply.text("Done: three things."))
    client = make_client()
    completion = await client.complete(USER, TOOLS, parallel_tool_calls=True, tool_choice="auto")
    assert completion.finish_reason == "tool_calls" and completion.content is None
    assert [(call.name, call.parsed_arguments()) for call in completion.tool_calls] == THREE_CALLS
    assert len({call.id for call in completion.tool_calls}) == 3
    assert all(call.id.startswith("call_") for call in completion.tool_calls)
    first = server.requests[0]
    assert first["tools"] == TOOLS and first["parallel_tool_calls"] is True and first["tool_choice"] == "auto"

    # The history the agent sends next: the assistant message, then one answer per id.
    history = (
        USER
        + [completion.as_message()]
        + [
            {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"ok": True})}
            for call in completion.tool_calls
        ]
    )
    final = await client.complete(history, TOOLS)
    assert final.content == "Done: three things."
    assert server.requests[1]["messages"][2]["tool_calls"][1]["function"]["name"] == "turn_off"


async def test_options_are_sent_only_when_given(server, make_client):
    server.script(Reply.text("a"), Reply.text("b"))
    client = make_client()
    await client.complete(USER, temperature=0.2, max_tokens=50)
    await client.complete(USER, tools=None, parallel_tool_calls=False)  # dropped: no tools
    assert server.requests[0] == {"model": MODEL, "messages": USER, "temperature": 0.2, "max_tokens": 50}
    assert server.requests[1] == {"model": MODEL, "messages": USER}


async def test_stream_text_concatenates_to_the_non_stream_text(server, make_client):
    text = "The kitchen light is on,\nand the hall light is off.  "
    server.script(Reply.text(text), Reply.text(text))
    client = make_client()
    whole = await client.complete(USER)
    deltas, streamed = await collect(client.stream(USER))
    assert len(deltas) > 3
    assert "".join(deltas) == whole.content == streamed.content == text
    assert streamed.finish_reason == "stop" and streamed.tool_calls == []
    assert server.requests[1]["stream"] is True
    assert server.requests[1]["stream_options"] == {"include_usage": True}


async def test_stream_tool_call_deltas_assembled(server, make_client):
    server.script(Reply.tool_calls(THREE_CALLS))
    deltas, completion = await collect(make_client().stream(USER, TOOLS))
    assert deltas == []
    assert completion.finish_reason == "tool_calls" and completion.content is None
    assert [(call.name, call.parsed_arguments()) for call in completion.tool_calls] == THREE_CALLS
    assert completion.as_message()["tool_calls"][0]["type"] == "function"


async def test_server_streams_openai_chunk_format(server):
    """The wire itself: ids and names in a call's first delta, arguments over several deltas."""
    server.script(Reply.tool_calls(THREE_CALLS[:2]))
    body = {"model": MODEL, "messages": USER, "tools": TOOLS, "stream": True, "stream_options": {"include_usage": True}}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{server.base_url}/chat/completions", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1
    usage_chunk, final_chunk = chunks[-1], chunks[-2]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["prompt_tokens"] > 0
    assert final_chunk["choices"][0]["finish_reason"] == "tool_calls" and final_chunk["usage"] is None
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks[:-2]]
    assert deltas[0]["role"] == "assistant"
    pieces = [d["tool_calls"][0] for d in deltas]
    for index in (0, 1):
        of_call = [p for p in pieces if p["index"] == index]
        assert of_call[0]["id"].startswith("call_") and of_call[0]["function"]["name"] == THREE_CALLS[index][0]
        assert all("id" not in p for p in of_call[1:])
        assert len(of_call) > 3  # arguments split over several deltas
        arguments = "".join(p["function"]["arguments"] for p in of_call)
        assert json.loads(arguments) == THREE_CALLS[index][1]


@pytest.mark.parametrize("stream", [False, True])
async def test_usage_with_cached_tokens(server, make_client, stream):
    server.script(Reply.text("ok", prompt_tokens=1500, completion_tokens=7, cached_tokens=1024))
    client = make_client()
    completion = (await collect(client.stream(USER)))[1] if stream else await client.complete(USER)
    assert completion.usage == Usage(prompt_tokens=1500, completion_tokens=7, cached_tokens=1024)
    assert completion.usage.total_tokens == 1507


async def test_usage_estimated_when_not_scripted_and_zero_when_absent(server, make_client):
    server.script(Reply.text("A fairly short answer."))
    usage = (await make_client().complete(USER)).usage
    assert usage.prompt_tokens > 10 and usage.completion_tokens >= 1 and usage.cached_tokens == 0
    assert Usage.from_wire(None) == Usage() and Usage.from_wire({"prompt_tokens": 3}) == Usage(3, 0, 0)
    assert Usage(1, 2, 3) + Usage(10, 20, 30) == Usage(11, 22, 33)


# --- retries ----------------------------------------------------------------------------------
def gaps(server: ScriptedLLMServer) -> list[float]:
    times = [r.at for r in server.received]
    return [later - earlier for earlier, later in zip(times, times[1:])]


async def test_429_retry_after_is_honoured(server, make_client):
    server.script(Reply.error(429, retry_after=1), Reply.text("ok"))
    completion = await make_client().complete(USER)
    assert completion.content == "ok"
    assert len(server.received) == 2
    assert gaps(server)[0] >= 0.9


async def test_retry_after_is_capped_by_retry_max_delay(server, make_client):
    server.script(Reply.error(503, retry_after=30), Reply.text("ok"))
    assert (await make_client(retry_max_delay=0.05).complete(USER)).content == "ok"
    assert gaps(server)[0] < 5


def test_retry_after_forms():
    now = 1_700_000_000.0
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after": formatdate(now + 7, usegmt=True)}, now=now) == pytest.approx(7)
    assert parse_retry_after({"retry-after": formatdate(now - 7, usegmt=True)}, now=now) == 0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


@pytest.mark.parametrize("stream", [False, True])
async def test_500_then_success(server, make_client, stream):
    server.script(Reply.error(500), Reply.text("recovered"))
    client = make_client()
    completion = (await collect(client.stream(USER)))[1] if stream else await client.complete(USER)
    assert completion.content == "recovered" and len(server.received) == 2


@pytest.mark.parametrize("stream", [False, True])
async def test_timeout_then_success(server, make_client, stream):
    server.script(Reply.delay(2.0, then=Reply.text("too late")), Reply.text("on time"))
    client = make_client(timeout=0.3)
    completion = (await collect(client.stream(USER)))[1] if stream else await client.complete(USER)
    assert completion.content == "on time" and len(server.received) == 2


@pytest.mark.parametrize("stream", [False, True])
async def test_dropped_connection_is_retried(server, make_client, stream):
    server.script(Reply.drop(), Reply.text("second try"))
    client = make_client()
    completion = (await collect(client.stream(USER)))[1] if stream else await client.complete(USER)
    assert completion.content == "second try" and len(server.received) == 2


async def test_stream_cut_before_any_text_is_retried(server, make_client):
    # Only the role chunk arrives: nothing was yielded yet, so a retry is invisible.
    server.script(Reply.drop(after_chunks=1, then=Reply.text("lost answer")), Reply.text("whole answer"))
    deltas, completion = await collect(make_client().stream(USER))
    assert "".join(deltas) == completion.content == "whole answer" and len(server.received) == 2


async def test_stream_cut_after_text_is_not_retried(server, make_client):
    server.script(Reply.drop(after_chunks=3, then=Reply.text("one two three four")), Reply.text("unused"))
    deltas: list[str] = []
    with pytest.raises(LLMUnavailable) as info:
        async for event in make_client().stream(USER):
            deltas.append(event.text)
    assert deltas == ["one", " two"] and len(server.received) == 1
    assert info.value.user_message


@pytest.mark.parametrize(
    ("reply", "error_type", "status"),
    [
        (Reply.error(429), LLMRateLimited, 429),
        (Reply.error(503), LLMUnavailable, 503),
        (Reply.drop(), LLMUnavailable, None),
        (Reply.delay(2.0), LLMTimeout, None),
    ],
)
async def test_retries_exhausted_give_a_clear_error(server, make_client, reply, error_type, status):
    server.script(*[reply] * 3)
    with pytest.raises(error_type) as info:
        await make_client(max_retries=2, timeout=0.3).complete(USER)
    error = info.value
    assert len(server.received) == 3 and error.attempts == 3 and error.retryable
    assert error.status == status
    assert error.user_message.startswith("The language model") and "HTTP" not in error.user_message
    assert "gave up after 3 attempts" in str(error)


async def test_rate_limited_user_message(server, make_client):
    server.script(Reply.error(429))
    with pytest.raises(LLMRateLimited) as info:
        await make_client(max_retries=0).complete(USER)
    assert info.value.user_message == "The language model is busy (rate limited); try again in a minute."


# --- errors that are not retried -------------------------------------------------------------
async def test_401_never_shows_the_key(server, make_client):
    key = "sk-test-0123456789abcdefSECRET"
    # A server that quotes the whole key back: the client must not pass it on.
    server.script(Reply.error(401, f"Incorrect API key provided: {key}."))
    client = make_client(api_key=key)
    with pytest.raises(LLMAuthError) as info:
        await client.complete(USER)
    error = info.value
    assert error.status == 401 and not error.retryable and len(server.received) == 1
    assert "LLM_API_KEY" in error.user_message
    for text in (str(error), repr(error), error.user_message, repr(client)):
        assert key not in text and "SECRET" not in text
    assert server.received[0].headers["authorization"] == f"Bearer {key}"


@pytest.mark.parametrize("where", [280, 295, 299, 305])
async def test_a_key_echoed_near_the_quoting_limit_is_masked_before_it_is_cut(server, make_client, where):
    """The server's reason is quoted up to 300 characters: a key straddling that limit, cut in
    two, would not be found to mask any more; masking comes first."""
    key = "sk-test-0123456789abcdefSECRETSECRET"
    server.script(
        Reply.error(400, "x" * where + key + " was not accepted for this model"),
        Reply.raw(("y" * where + key).encode(), status=500),
    )
    client = make_client(api_key=key, max_retries=0)
    for _ in range(2):
        with pytest.raises(LLMError) as info:
            await client.complete(USER)
        for text in (str(info.value), info.value.message):
            assert not any(key[i : i + 8] in text for i in range(len(key) - 7)), text


async def test_wrong_key_against_a_checking_server():
    async with ScriptedLLMServer(api_key="sk-right-key-0123456789") as checking:
        async with LLMClient(checking.base_url, MODEL, "sk-wrong-key-9876543210") as client:
            with pytest.raises(LLMAuthError) as info:
                await client.complete(USER)
    assert "9876543210" not in str(info.value)


async def test_unknown_model_is_a_bad_request_with_the_servers_message():
    async with ScriptedLLMServer(models=[MODEL]) as strict:
        async with LLMClient(strict.base_url, "gpt-nonexistent") as client:
            with pytest.raises(LLMBadRequest) as info:
                await client.complete(USER)
    error = info.value
    assert error.status == 404 and not error.retryable and len(strict.received) == 1
    assert "The model `gpt-nonexistent` does not exist" in error.user_message


async def test_400_carries_the_servers_message(server, make_client):
    server.script(Reply.error(400, "This model's maximum context length is 128000 tokens."))
    with pytest.raises(LLMBadRequest) as info:
        await make_client().complete(USER)
    assert info.value.status == 400 and len(server.received) == 1
    assert info.value.user_message == (
        "The language model rejected the request: This model's maximum context length is 128000 tokens."
    )


async def test_malformed_json_body_is_a_protocol_error(server, make_client):
    server.script(Reply.raw('{"id": "chatcmpl-1", "choices": [{"message": '))
    with pytest.raises(LLMProtocolError) as info:
        await make_client().complete(USER)
    assert len(server.received) == 1 and info.value.user_message


async def test_json_without_choices_is_a_protocol_error(server, make_client):
    server.script(Reply.raw('{"object": "chat.completion", "choices": []}'))
    with pytest.raises(LLMProtocolError):
        await make_client().complete(USER)


async def test_malformed_sse_is_a_protocol_error(server, make_client):
    server.script(Reply.raw('data: {"choices": [{"delta": {"content": "x"\n\n', content_type="text/event-stream"))
    with pytest.raises(LLMProtocolError):
        await collect(make_client().stream(USER))


async def test_unreachable_server_is_unavailable():
    async with ScriptedLLMServer() as gone:
        url = gone.base_url
    async with LLMClient(url, MODEL, max_retries=1, retry_base_delay=0.01) as client:
        with pytest.raises(LLMUnavailable) as info:
            await client.complete(USER)
    assert info.value.attempts == 2 and info.value.status is None


async def test_empty_script_fails_fast_with_a_message(server, make_client):
    with pytest.raises(LLMError, match="no reply for request #1"):
        await make_client().complete(USER)
    assert len(server.received) == 1


# --- authorization header ----------------------------------------------------------------------
async def test_no_key_no_authorization_header(server, make_client):
    server.script(Reply.text("a"), Reply.text("b"))
    await make_client().complete(USER)
    await make_client(api_key="sk-local-0123456789").complete(USER)
    assert "authorization" not in server.received[0].headers
    assert server.received[1].headers["authorization"] == "Bearer sk-local-0123456789"


# --- server strictness (the server itself, over raw HTTP) ---------------------------------------
def _assistant_calls(*ids: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": i, "type": "function", "function": {"name": "turn_on", "arguments": "{}"}} for i in ids],
    }


def _tool(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": "ok"}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            {"model": MODEL, "messages": USER + [_assistant_calls("call_a", "call_b"), _tool("call_a")]},
            "did not have response messages: call_b",
        ),
        (
            {"model": MODEL, "messages": USER + [_assistant_calls("call_a"), {"role": "user", "content": "and?"}]},
            "did not have response messages: call_a",
        ),
        ({"model": MODEL, "messages": USER + [_tool("call_x")]}, "must be a response to a preceding message"),
        (
            {"model": MODEL, "messages": USER + [_assistant_calls("call_a"), _tool("call_a"), _tool("call_a")]},
            "must be a response to a preceding message",
        ),
        ({"messages": USER}, "you must provide a model parameter"),
        ({"model": MODEL}, "Missing required parameter: 'messages'"),
        ({"model": MODEL, "messages": []}, "non-empty array"),
        ({"model": MODEL, "messages": USER, "parallel_tool_calls": True}, "only allowed when 'tools'"),
        (
            {"model": MODEL, "messages": USER, "tools": [{"type": "function", "function": {"name": "bad name"}}]},
            "does not match pattern",
        ),
        ({"model": MODEL, "messages": USER, "stream_options": {"include_usage": True}}, "only allowed when 'stream'"),
    ],
)
async def test_server_rejects_what_openai_rejects(server, body, needle):
    server.script(Reply.text("never sent"))
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{server.base_url}/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    assert needle in error["message"]
    assert server.pending == 1  # a rejected request consumes no scripted reply


async def test_server_accepts_a_fully_answered_history(server):
    server.script(Reply.text("fine"))
    messages = USER + [_assistant_calls("call_a", "call_b"), _tool("call_b"), _tool("call_a")]
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{server.base_url}/chat/completions", json={"model": MODEL, "messages": messages})
        models = await http.get(f"{server.base_url}/models")
    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == "fine"
    assert models.json()["data"][0]["object"] == "model"


async def test_responder_answers_when_the_script_is_empty(make_client):
    async with ScriptedLLMServer(responder=tools_then_text(THREE_CALLS[:1], "Light on.")) as auto:
        async with LLMClient(auto.base_url, MODEL) as client:
            first = await client.complete(USER, TOOLS)
            history = USER + [first.as_message(), _tool(first.tool_calls[0].id)]
            second = await client.complete(history, TOOLS)
    assert first.tool_calls[0].name == "turn_on" and second.content == "Light on."


# --- small pieces -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("base_url", "endpoint"),
    [
        ("http://localhost:11434/v1", "http://localhost:11434/v1/chat/completions"),
        ("http://localhost:11434/v1/", "http://localhost:11434/v1/chat/completions"),
        ("http://localhost:11434", "http://localhost:11434/v1/chat/completions"),
        ("https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1/chat/completions"),
        ("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1/chat/completions"),
    ],
)
def test_chat_completions_url(base_url, endpoint):
    assert chat_completions_url(base_url) == endpoint


async def test_from_settings():
    settings = Settings(
        llm_base_url="http://localhost:11434", llm_model="qwen2.5:7b", llm_timeout=12, llm_max_retries=1
    )
    async with LLMClient.from_settings(settings.llm) as client:
        assert client.url == "http://localhost:11434/v1/chat/completions" and client.model == "qwen2.5:7b"
    assert settings.llm_max_rounds == 10 and settings.llm_context_window == 128000


def test_bad_tool_arguments_say_what_is_wrong():
    assert ToolCall("call_1", "turn_on", "").parsed_arguments() == {}
    with pytest.raises(ToolArgumentsError, match=r"'turn_on' \(call_1\) are not valid JSON"):
        ToolCall("call_1", "turn_on", '{"entity_id": ').parsed_arguments()
    with pytest.raises(ToolArgumentsError, match="must be a JSON object"):
        ToolCall("call_1", "turn_on", "[1, 2]").parsed_arguments()


def test_as_message_shapes():
    call = ToolCall("call_1", "turn_on", '{"entity_id":"light.x"}')
    assert Completion(None, [call]).as_message() == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "turn_on", "arguments": call.arguments}}
        ],
    }
    assert Completion(None).as_message() == {"role": "assistant", "content": ""}


async def test_stopping_a_stream_early_frees_the_connection(server, make_client):
    server.script(Reply.text("one two three four five six"), Reply.text("next"))
    client = make_client()
    async with aclosing(client.stream(USER)) as events:
        async for event in events:
            assert event == TextDelta("one")
            break
    assert (await client.complete(USER)).content == "next"


async def test_retry_logs_never_show_the_key(server, make_client, caplog):
    key = "sk-log-0123456789abcdefSECRET"
    server.script(Reply.error(503, f"overloaded, key {key}"), Reply.text("ok"))
    with caplog.at_level("DEBUG"):
        assert (await make_client(api_key=key).complete(USER)).content == "ok"
    assert "retry 1/3" in caplog.text
    assert key not in caplog.text and "SECRET" not in caplog.text


def test_proxy_from_environment(monkeypatch):
    from ha_agent.llm.transport import AiohttpTransport

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    transport = AiohttpTransport()
    assert transport._proxy_for(httpx.URL("https://api.openai.com/v1")) == "http://proxy.example:3128"
    assert transport._proxy_for(httpx.URL("http://127.0.0.1:11434/v1")) is None


async def test_unrecorded_server_still_counts():
    async with ScriptedLLMServer(record=False, responder=lambda body: Reply.text("ok")) as quiet:
        async with LLMClient(quiet.base_url, MODEL) as client:
            await client.complete(USER)
    assert quiet.received == [] and quiet.request_count == 1
