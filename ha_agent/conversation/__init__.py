"""A conversation's turns: `turn` (store, window, route, store), `router` (pending confirmation
→ local engine → model), `local` and `model` (the two answerers), `result` (what a turn gives)."""

from .result import Timings, TurnError, TurnResult
from .turn import Agent

__all__ = ["Agent", "Timings", "TurnError", "TurnResult"]
