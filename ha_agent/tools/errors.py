"""The one error a tool raises for a call it will not or cannot make."""

from __future__ import annotations


class ToolError(Exception):
    """Goes back to the model as the call's error result: the message says what to fix."""
