"""The language model: an OpenAI-compatible Chat Completions client and its typed results.

`scripted_server` (a local OpenAI-compatible server for tests and benchmarks) is imported from
its module, so that production code does not load it.
"""

from .client import LLMClient, chat_completions_url
from .errors import (
    LLMAuthError,
    LLMBadRequest,
    LLMError,
    LLMProtocolError,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
    ToolArgumentsError,
)
from .types import Completion, StreamEvent, TextDelta, ToolCall, Usage

__all__ = [
    "Completion",
    "LLMAuthError",
    "LLMBadRequest",
    "LLMClient",
    "LLMError",
    "LLMProtocolError",
    "LLMRateLimited",
    "LLMTimeout",
    "LLMUnavailable",
    "StreamEvent",
    "TextDelta",
    "ToolArgumentsError",
    "ToolCall",
    "Usage",
    "chat_completions_url",
]
