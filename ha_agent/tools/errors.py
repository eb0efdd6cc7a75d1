"""The one error a tool raises for a call it will not or cannot make."""

from __future__ import annotations

from ha_agent.home import HomeError


class ToolError(HomeError):
    """Goes back to the model as the call's error result: the message says what to fix. (The
    home's own refusals, `HomeError`, go back the same way.)"""
