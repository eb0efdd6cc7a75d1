"""Fuzzy search over the home's words: names, aliases, ids, areas, floors, devices, domains.

"bedroom lamp" finds the lights of the master bedroom: "bedroom" matches the area's name by
word, "lamp" matches the light domain's vocabulary. A query word matches a word of the home
exactly, as a prefix ("bed" → "bedroom", "lamps" → "lamp"), or as a near spelling
("bedrom"); entities matching the most query words win, then by weight (a word of the name
counts more than a word of the area).
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections.abc import Callable

from .index import HomeIndex
from .words import words

_PREFIX = 0.7  # a prefix match counts this much of an exact one
_NEAR = 0.6  # a near spelling
_MIN_PREFIX = 3
_NEAR_CUTOFF = 0.8


def _matches(index: HomeIndex, word: str) -> dict[str, float]:
    """Words of the home this query word matches, with how well."""
    found: dict[str, float] = {}
    if word in index.word_docs:
        found[word] = 1.0
    if len(word) >= _MIN_PREFIX:
        vocabulary = index.vocabulary
        # Home words starting with the query word: a contiguous run of the sorted vocabulary.
        start = bisect_left(vocabulary, word)
        for candidate in vocabulary[start:]:
            if not candidate.startswith(word):
                break
            found.setdefault(candidate, _PREFIX)
        # Home words the query word starts with ("lamps" → "lamp").
        for size in range(_MIN_PREFIX, len(word)):
            if word[:size] in index.word_docs:
                found.setdefault(word[:size], _PREFIX)
    if not found and len(word) >= 4:
        for candidate in difflib.get_close_matches(word, index.vocabulary, n=3, cutoff=_NEAR_CUTOFF):
            found[candidate] = _NEAR
    return found


def search(index: HomeIndex, query: str, usable: Callable[[str], bool], limit: int = 10) -> list[str]:
    """Entity ids best matching `query`, among those `usable` says the assistant may see."""
    query_words = words(query)
    if not query_words:
        return []
    scores: dict[str, float] = {}
    hits: dict[str, int] = {}
    for word in query_words:
        best: dict[str, float] = {}
        for home_word, quality in _matches(index, word).items():
            for entity_id, weight in index.word_docs[home_word].items():
                value = weight * quality
                if value > best.get(entity_id, 0.0):
                    best[entity_id] = value
        for entity_id, value in best.items():
            scores[entity_id] = scores.get(entity_id, 0.0) + value
            hits[entity_id] = hits.get(entity_id, 0) + 1
    candidates = [e for e in scores if usable(e)]
    if not candidates:
        return []
    # Only the entities matching the most query words: "bedroom lamp" is not every bedroom entity.
    most = max(hits[e] for e in candidates)
    ranked = sorted((e for e in candidates if hits[e] == most), key=lambda e: (-scores[e], e))
    return ranked[:limit]
