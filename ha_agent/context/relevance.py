"""Which entities matter for a message, when the whole home does not fit the token budget.

Scores, highest first: the entity is named (name, alias or id words); its area or floor is
named; its domain is implied by the words ("lamp" → light, "warm" → climate); it was used
earlier in the conversation; it changed recently. The lookup index is built once per layout
version of the mirror, so scoring a message is a few dictionary lookups, not a scan of the
whole home.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from data_api import Area, Entity, Floor
from ha_agent.home.words import DOMAIN_WORDS, words

from .render import names

_RECENT = timedelta(minutes=15)
_COMMON = 20  # a word naming more entities than this weighs proportionally less


class RelevanceIndex:
    """Word → entity ids, area/floor names → ids; built for one layout of the home."""

    def __init__(self, entities: Sequence[Entity], areas: Iterable[Area], floors: Iterable[Floor]) -> None:
        self.by_word: dict[str, set[str]] = {}
        for entity in entities:
            for text in (*names(entity), entity.entity_id.partition(".")[2].replace("_", " ")):
                for word in words(text):
                    self.by_word.setdefault(word, set()).add(entity.entity_id)
        self.area_words = {a.area_id: _phrases([a.name, *a.aliases, a.area_id.replace("_", " ")]) for a in areas}
        self.floor_words = {f.floor_id: _phrases([f.name, *f.aliases]) for f in floors}
        self.by_area: dict[str | None, list[str]] = {}
        self.by_floor: dict[str | None, list[str]] = {}
        self.by_domain: dict[str, list[str]] = {}
        for entity in entities:
            self.by_area.setdefault(entity.area_id, []).append(entity.entity_id)
            self.by_floor.setdefault(entity.floor_id, []).append(entity.entity_id)
            self.by_domain.setdefault(entity.domain, []).append(entity.entity_id)

    def rank(
        self,
        message: str,
        entities: Mapping[str, Entity],
        recent_ids: Iterable[str] = (),
        now: datetime | None = None,
        *,
        here: str | None = None,
    ) -> list[str]:
        """Entity ids worth listing for this message, best first (ties by id, for stable output)."""
        text = message.casefold()
        said = words(message)
        scores: dict[str, float] = {}

        def add(ids: Iterable[str], points: float) -> None:
            for entity_id in ids:
                scores[entity_id] = scores.get(entity_id, 0.0) + points

        areas = [a for a, phrases in self.area_words.items() if any(p in text for p in phrases)]
        if here is not None and not areas:  # "turn on the lights" said in a room: that room's
            areas = [here]
        for area_id in areas:
            add(self.by_area.get(area_id, ()), 6)
        for floor_id, phrases in self.floor_words.items():
            if any(p in text for p in phrases):
                add(self.by_floor.get(floor_id, ()), 3)
        for word in said:
            ids = self.by_word.get(word, ())
            # A word many entities share ("lights" in a 5,000-entity home) says little.
            add(ids, 4 * min(1.0, _COMMON / max(1, len(ids))))
        implied = {d for d, cues in DOMAIN_WORDS.items() if said.intersection(cues)}
        for domain in implied:
            # Domain words alone would list every light of a large home: they only rank up
            # entities that something else (an area, a name) already made candidates, unless
            # nothing did.
            if scores:
                add((e for e in self.by_domain.get(domain, ()) if e in scores), 3)
            else:
                add(self.by_domain.get(domain, ()), 1)
        add((e for e in recent_ids if e in entities), 5)
        cutoff = (now or datetime.now(UTC)) - _RECENT
        for entity_id in list(scores):
            changed = entities[entity_id].last_changed if entity_id in entities else None
            if changed and _after(changed, cutoff):
                scores[entity_id] += 1
        return sorted((e for e in scores if e in entities), key=lambda e: (-scores[e], e))


def _phrases(values: Iterable[str]) -> list[str]:
    return sorted({v.casefold() for v in values if v and len(v) > 2})


def _after(stamp: str, cutoff: datetime) -> bool:
    try:
        return datetime.fromisoformat(stamp) >= cutoff
    except ValueError:
        return False
