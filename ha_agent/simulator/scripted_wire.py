"""The OpenAI Chat Completions wire format as the scripted server speaks it.

Two halves: checking a request the way the real API does (so tests catch what production would
reject, above all an unanswered tool call), and writing answers byte-compatible with OpenAI's:
`chat.completion` objects, and `chat.completion.chunk` server-sent events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# Text streams in word-sized pieces with the leading space attached, as tokenizers split it.
_TEXT_PIECE = re.compile(r"\s*\S+|\s+$")
_ARGUMENT_PIECE = 8  # characters per streamed arguments delta: several deltas per call


class RequestRejected(Exception):
    """A request the real API answers with an HTTP error; `body` is OpenAI's error object."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_body(message, param=param, code=code)


def error_body(
    message: str, *, type_: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


# --- requests ---------------------------------------------------------------------------------
def check_request(body: Any) -> None:
    """Raise `RequestRejected` for what OpenAI rejects with HTTP 400."""
    if not isinstance(body, dict):
        raise RequestRejected(400, "The request body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestRejected(400, "you must provide a model parameter")
    if "messages" not in body:
        raise RequestRejected(
            400, "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
        )
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise RequestRejected(
            400, "Invalid 'messages': expected a non-empty array of messages.", param="messages", code="empty_array"
        )
    _check_messages(messages)
    _check_tools(body)
    if body.get("stream_options") is not None and not body.get("stream"):
        raise RequestRejected(
            400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options"
        )


def _check_messages(messages: list[Any]) -> None:
    # Ids of the last assistant message's tool calls not yet answered, and where it was.
    open_calls: dict[str, None] = {}
    opened_at = 0
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            role = message.get("role") if isinstance(message, dict) else None
            raise RequestRejected(
                400,
                f"Invalid value: {role!r}. Supported values are: " + ", ".join(repr(r) for r in ROLES) + ".",
                param=f"messages[{index}].role",
                code="invalid_value",
            )
        role = message["role"]
        if role == "tool":
            _check_tool_message(message, index, open_calls)
            continue
        if open_calls:
            raise _unanswered(opened_at, open_calls)
        if role == "assistant":
            calls = message.get("tool_calls")
            if calls is not None:
                open_calls = dict.fromkeys(_tool_call_ids(calls, index))
                opened_at = index
            elif message.get("content") is None:
                raise RequestRejected(
                    400,
                    f"Invalid 'messages[{index}]': an assistant message needs 'content' or 'tool_calls'.",
                    param=f"messages[{index}].content",
                )
        elif "content" not in message:
            raise RequestRejected(
                400,
                f"Missing required parameter: 'messages[{index}].content'.",
                param=f"messages[{index}].content",
                code="missing_required_parameter",
            )
    if open_calls:
        raise _unanswered(opened_at, open_calls)


def _check_tool_message(message: dict[str, Any], index: int, open_calls: dict[str, None]) -> None:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise RequestRejected(
            400,
            "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.",
            param=f"messages[{index}].tool_call_id",
            code="missing_required_parameter",
        )
    if call_id not in open_calls:
        raise RequestRejected(
            400,
            "Invalid parameter: messages with role 'tool' must be a response to a preceding message "
            f"with 'tool_calls' (no open tool call has id {call_id!r}).",
            param=f"messages.[{index}].role",
        )
    if "content" not in message:
        raise RequestRejected(
            400,
            f"Missing required parameter: 'messages[{index}].content'.",
            param=f"messages[{index}].content",
            code="missing_required_parameter",
        )
    del open_calls[call_id]


def _tool_call_ids(calls: Any, index: int) -> list[str]:
    where = f"messages[{index}].tool_calls"
    if not isinstance(calls, list) or not calls:
        raise RequestRejected(400, f"Invalid '{where}': expected a non-empty array.", param=where, code="empty_array")
    ids = []
    for position, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        well_formed = (
            isinstance(call, dict)
            and isinstance(call.get("id"), str)
            and call["id"]
            and call.get("type") == "function"
            and isinstance(function, dict)
            and isinstance(function.get("name"), str)
            and isinstance(function.get("arguments"), str)
        )
        if not well_formed:
            raise RequestRejected(
                400,
                f"Invalid '{where}[{position}]': expected {{id, type: 'function', function: {{name, arguments}}}} "
                "with arguments as a JSON string.",
                param=f"{where}[{position}]",
                code="invalid_value",
            )
        ids.append(call["id"])
    return ids


def _unanswered(index: int, open_calls: dict[str, None]) -> RequestRejected:
    return RequestRejected(
        400,
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(open_calls)}",
        param=f"messages.[{index}].role",
    )


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is None:
        for option in ("tool_choice", "parallel_tool_calls"):
            if body.get(option) is not None:
                raise RequestRejected(
                    400,
                    f"Invalid value for '{option}': '{option}' is only allowed when 'tools' are specified.",
                    param=option,
                )
        return
    if not isinstance(tools, list) or not tools:
        raise RequestRejected(400, "Invalid 'tools': expected a non-empty array.", param="tools", code="empty_array")
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise RequestRejected(
                400,
                f"Invalid 'tools[{index}]': expected {{type: 'function', function: {{...}}}}.",
                param=f"tools[{index}]",
                code="invalid_value",
            )
        if not isinstance(function.get("name"), str) or not _TOOL_NAME.match(function["name"]):
            raise RequestRejected(
                400,
                f"Invalid 'tools[{index}].function.name': string does not match pattern. Expected a string "
                f"that matches the pattern '{_TOOL_NAME.pattern}'.",
                param=f"tools[{index}].function.name",
                code="invalid_value",
            )
        if "parameters" in function and not isinstance(function["parameters"], dict):
            raise RequestRejected(
                400,
                f"Invalid 'tools[{index}].function.parameters': expected an object (JSON Schema).",
                param=f"tools[{index}].function.parameters",
                code="invalid_type",
            )


# --- answers ----------------------------------------------------------------------------------
def usage_object(prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def tool_call_object(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def completion_object(
    *,
    completion_id: str,
    created: int,
    model: str,
    content: str | None,
    tool_calls: list[dict[str, Any]],
    finish_reason: str,
    usage: dict[str, Any],
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_scripted",
    }


def chunk_deltas(content: str | None, tool_calls: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The `delta` of each chunk, in OpenAI's order, before the final (empty) one."""
    if not tool_calls or content:
        yield {"role": "assistant", "content": "", "refusal": None}
        for piece in _TEXT_PIECE.findall(content or ""):
            yield {"content": piece}
    for index, call in enumerate(tool_calls):
        # The first delta of a call names it (with the role when it opens the answer);
        # the arguments follow in pieces.
        header = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        if index == 0 and not content:
            yield {"role": "assistant", "content": None, "tool_calls": [header], "refusal": None}
        else:
            yield {"tool_calls": [header]}
        arguments = call["function"]["arguments"]
        for start in range(0, len(arguments), _ARGUMENT_PIECE):
            yield {
                "tool_calls": [{"index": index, "function": {"arguments": arguments[start : start + _ARGUMENT_PIECE]}}]
            }


def sse_events(
    *,
    completion_id: str,
    created: int,
    model: str,
    content: str | None,
    tool_calls: list[dict[str, Any]],
    finish_reason: str,
    usage: dict[str, Any] | None,
) -> list[bytes]:
    """Every server-sent event of a streamed answer, `data: [DONE]` last.

    `usage` is given when the request asked for it (`stream_options.include_usage`): then every
    chunk carries `"usage": null` and one more chunk with no choices carries the numbers.
    """
    head = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": "fp_scripted",
    }

    def event(choices: list[dict[str, Any]], usage_value: Any = None) -> bytes:
        chunk = {**head, "choices": choices}
        if usage is not None:
            chunk["usage"] = usage_value
        return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"

    events = [
        event([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])
        for delta in chunk_deltas(content, tool_calls)
    ]
    events.append(event([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish_reason}]))
    if usage is not None:
        events.append(event([], usage))
    events.append(b"data: [DONE]\n\n")
    return events
