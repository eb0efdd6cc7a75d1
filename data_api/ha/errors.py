"""Typed errors of the Home Assistant client.

Messages are written for people and never contain the access token: callers may log or return
them as they are.
"""

from __future__ import annotations


class HAError(Exception):
    """Base class of every error the Home Assistant client raises."""


class HAConnectionError(HAError):
    """Home Assistant could not be reached, or the connection was lost."""


class HAAuthError(HAError):
    """Home Assistant refused the access token."""


class HATimeoutError(HAError):
    """Home Assistant did not answer in time."""


class HAProtocolError(HAError):
    """Home Assistant sent something that is not the protocol (malformed frame, unexpected type)."""


class HACommandError(HAError):
    """Home Assistant answered a command with an error (`code` as HA sends it)."""

    def __init__(self, code: str, message: str, *, command: str | None = None) -> None:
        self.code = code
        self.message = message
        self.command = command
        where = f"{command}: " if command else ""
        super().__init__(f"{where}{message} ({code})")
