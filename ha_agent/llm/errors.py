"""Typed errors of the LLM client.

Each error carries what the caller needs to decide and to tell a person: the HTTP `status` (None
when there was no answer), whether a retry may help (`retryable`), and `user_message`, a
plain-language sentence fit to show in a chat. Messages never contain the API key: the client
writes its own texts for authentication failures and masks the key in anything a server said.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class of every error the LLM client raises."""

    retryable: bool = False
    default_user_message = "The language model failed to answer; try again."

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        user_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        if retryable is not None:
            self.retryable = retryable
        # Seconds the server asked us to wait (Retry-After), if it said.
        self.retry_after = retry_after
        self.user_message = user_message or self.default_user_message
        # Set by the client when it gives up, so logs show that retries happened.
        self.attempts = 1

    def __str__(self) -> str:
        if self.attempts > 1:
            return f"{self.message} (gave up after {self.attempts} attempts)"
        return self.message


class LLMRateLimited(LLMError):
    """HTTP 429: too many requests or tokens for the account or the server."""

    retryable = True
    default_user_message = "The language model is busy (rate limited); try again in a minute."


class LLMTimeout(LLMError):
    """The model did not answer in time (client timeout or HTTP 408)."""

    retryable = True
    default_user_message = "The language model did not answer in time; try again, or ask something shorter."


class LLMUnavailable(LLMError):
    """The server could not be reached, dropped the connection, or failed (5xx)."""

    retryable = True
    default_user_message = "The language model cannot be reached right now; try again in a moment."


class LLMAuthError(LLMError):
    """HTTP 401/403: the server refused the API key (or its absence)."""

    default_user_message = "The language model refused the API key; check LLM_API_KEY."


class LLMBadRequest(LLMError):
    """HTTP 400/404/422 and other 4xx: the server rejected the request (unknown model, too long...)."""

    default_user_message = "The language model rejected the request."


class LLMProtocolError(LLMError):
    """The server answered with something that is not the Chat Completions format."""

    default_user_message = "The language model sent an answer that could not be read; try again."


class ToolArgumentsError(ValueError):
    """A tool call's arguments are not a JSON object.

    Not an `LLMError`: the request succeeded, the model wrote bad arguments. The agent answers
    the tool call with this message so the model can correct itself.
    """
