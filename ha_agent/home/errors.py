"""The one error the home raises: a name it cannot resolve, or an entity or service the owner's
policy does not let the assistant use. The message says why (and what would, where it can)."""

from __future__ import annotations


class HomeError(Exception):
    """What the home refuses or cannot find; tools answer the model with it, the local engine
    turns it into a reply."""
