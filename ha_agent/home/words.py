"""The agent's one vocabulary of the home: how names are compared, the words of a message, the
words that imply a kind of thing, and how each kind is spoken of in replies.

Context, tools and intents all take their words from here, so a name matches the same way
wherever it is used.
"""

from __future__ import annotations

import re

from data_api import fold

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the in on of to is are it its my me please turn switch set what which how and or at "
    "for with off up down all any be do does can you i".split()
)
# Words that imply a domain, for requests that name no entity ("make it warmer").
DOMAIN_WORDS: dict[str, tuple[str, ...]] = {
    "light": ("light", "lights", "lamp", "lamps", "bright", "brightness", "dim", "dimmer"),
    "climate": ("heating", "heat", "thermostat", "warm", "warmer", "cold", "colder", "cool", "temperature", "ac"),
    "sensor": ("temperature", "humidity", "degrees", "hot", "cold"),
    "cover": ("blind", "blinds", "shade", "shades", "curtain", "curtains", "cover", "garage", "shutter", "shutters"),
    "lock": ("lock", "locks", "unlock", "locked", "door"),
    "binary_sensor": ("open", "closed", "door", "window", "motion", "presence"),
    "media_player": ("music", "tv", "television", "speaker", "volume", "play", "pause", "song", "radio"),
    "fan": ("fan", "fans"),
    "switch": ("switch", "plug", "socket", "outlet"),
    "vacuum": ("vacuum", "clean", "hoover"),
    "scene": ("scene", "mood"),
    "script": ("script", "routine"),
}


def words(text: str) -> set[str]:
    """A message's or a name's words, without the ones that say nothing of what is meant."""
    return {w for w in _WORD.findall(text.casefold()) if w not in _STOP}


# How a kind of entity is spoken of in replies: (one, several).
KIND_WORDS: dict[str, tuple[str, str]] = {
    "light": ("light", "lights"),
    "switch": ("switch", "switches"),
    "fan": ("fan", "fans"),
    "cover": ("cover", "covers"),
    "lock": ("lock", "locks"),
    "climate": ("thermostat", "thermostats"),
    "media_player": ("media player", "media players"),
    "sensor": ("sensor", "sensors"),
    "binary_sensor": ("sensor", "sensors"),
    "valve": ("valve", "valves"),
    "vacuum": ("vacuum", "vacuums"),
    "scene": ("scene", "scenes"),
    "script": ("script", "scripts"),
}
CLASS_WORDS = {"garage": ("garage door", "garage doors")}


__all__ = ["CLASS_WORDS", "DOMAIN_WORDS", "KIND_WORDS", "fold", "words"]
