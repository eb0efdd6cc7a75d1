"""Benchmarks of the mirror (`mirror`: reads under load, sync, event lag) and its store (`store`)."""

from .mirror import percentile

__all__ = ["percentile"]
