"""Reading Chat Completions answers: a whole JSON body, or a stream of chunks assembled.

Lenient where OpenAI-compatible servers differ harmlessly (missing ids, arguments sent as an
object, usage inside the last content chunk), strict where the answer cannot be used: anything
else raises `LLMProtocolError`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from .errors import LLMProtocolError
from .types import Completion, ToolCall, Usage


def parse_completion(body: Any) -> Completion:
    """A non-streamed `chat.completion` object."""
    choice = _first_choice(body)
    message = choice.get("message")
    if not isinstance(message, dict):
        raise LLMProtocolError("the completion's first choice has no message object")
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise LLMProtocolError("the completion's tool_calls is not a list")
    calls = [_whole_tool_call(raw) for raw in raw_calls]
    return Completion(
        content=_text(message.get("content")),
        tool_calls=calls,
        finish_reason=choice.get("finish_reason"),
        usage=Usage.from_wire(body.get("usage")),
        model=body.get("model"),
    )


def _first_choice(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise LLMProtocolError("the completion is not a JSON object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LLMProtocolError("the completion has no choices")
    return choices[0]


def _text(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    # Some servers send content as a list of parts, like requests may.
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    raise LLMProtocolError("the completion's content is neither text nor null")


def _arguments_text(arguments: Any) -> str:
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    # A few servers send the arguments as an object; the history must hold the JSON text.
    return json.dumps(arguments, ensure_ascii=False)


def _whole_tool_call(raw: Any) -> ToolCall:
    function = raw.get("function") if isinstance(raw, dict) else None
    if not isinstance(function, dict):
        raise LLMProtocolError("a tool call in the completion has no function")
    # A call without a name is the model's mistake, not a broken answer: it is kept (named "")
    # so that call alone gets an error result the model can correct.
    name = function.get("name")
    return ToolCall(
        id=raw.get("id") or _new_call_id(),
        name=name if isinstance(name, str) else "",
        arguments=_arguments_text(function.get("arguments")),
    )


def _new_call_id() -> str:
    # Some local servers omit ids; every call still needs one to be answered by.
    return f"call_{uuid.uuid4().hex[:24]}"


@dataclass(slots=True)
class _PartialCall:
    id: str | None = None
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamAssembler:
    """Builds one `Completion` from `chat.completion.chunk` objects fed in order."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._calls: dict[int, _PartialCall] = {}
        self.finish_reason: str | None = None
        self._usage = Usage()
        self._model: str | None = None

    def feed(self, chunk: Any) -> str | None:
        """Take one chunk; returns the text it adds, if any."""
        if not isinstance(chunk, dict):
            raise LLMProtocolError("a streamed chunk is not a JSON object")
        if chunk.get("usage"):
            # The usage chunk has no choices (OpenAI); some servers put usage in the last one.
            self._usage = Usage.from_wire(chunk["usage"])
        self._model = chunk.get("model") or self._model
        choices = chunk.get("choices")
        if not choices:
            return None
        if not isinstance(choices, list) or not isinstance(choices[0], dict):
            raise LLMProtocolError("a streamed chunk's choices are malformed")
        choice = choices[0]
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            raise LLMProtocolError("a streamed chunk's delta is not an object")
        for raw in delta.get("tool_calls") or ():
            self._feed_tool_call(raw)
        text = _text(delta.get("content"))
        if text:
            self._text.append(text)
            return text
        return None

    def _feed_tool_call(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise LLMProtocolError("a streamed tool call delta is not an object")
        index = raw.get("index")
        if not isinstance(index, int):
            # Servers that leave out the index send each call whole or in order: a new id
            # starts a new call, anything else continues the last one.
            known_ids = {call.id for call in self._calls.values()}
            starts_new = not self._calls or (raw.get("id") and raw["id"] not in known_ids)
            index = len(self._calls) if starts_new else max(self._calls)
        call = self._calls.setdefault(index, _PartialCall())
        if raw.get("id"):
            call.id = raw["id"]
        function = raw.get("function") or {}
        if not isinstance(function, dict):
            raise LLMProtocolError("a streamed tool call's function is not an object")
        if function.get("name") and not call.name:
            call.name = function["name"]
        piece = _arguments_text(function.get("arguments"))
        if piece:
            call.arguments.append(piece)

    def result(self) -> Completion:
        calls = []
        for index in sorted(self._calls):
            partial = self._calls[index]  # a nameless one is kept, as in a whole answer
            calls.append(ToolCall(partial.id or _new_call_id(), partial.name, "".join(partial.arguments)))
        text = "".join(self._text)
        return Completion(
            # Same as a non-streamed answer: no text at all is None, not "".
            content=text if text or not calls else None,
            tool_calls=calls,
            finish_reason=self.finish_reason,
            usage=self._usage,
            model=self._model,
        )
