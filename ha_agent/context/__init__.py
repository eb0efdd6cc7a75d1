"""The LLM context: the home rendered compactly from the mirror, cached, within a token budget."""

from .builder import INSTRUCTIONS, Context, ContextBuilder, Hints, Section

__all__ = ["INSTRUCTIONS", "Context", "ContextBuilder", "Hints", "Section"]
