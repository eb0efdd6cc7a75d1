"""Home Assistant's sentence library for one language, parsed once per process.

The sentences come from `home-assistant-intents` (the data HA's own Assist uses) and are
parsed by `hassil`. A few sentences of our own are added where HA has none for a tool we
offer (setting helpers), the way HA itself lets owners add custom sentences.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hassil import Intents
from hassil.util import merge_dict
from home_assistant_intents import get_intents, get_languages

from data_api.platform.settings import SettingsError

# Our own intent for helpers (HA's library has none for input_number/select/text). Its name
# has no `Hass` prefix so it is never taken for one of HA's. English only for now.
HELPER_INTENT = "HelperSetValue"
HELPER_DOMAINS = ("input_number", "input_select", "input_text")
_EXTRA: dict[str, dict[str, Any]] = {
    "en": {
        "intents": {
            HELPER_INTENT: {
                "data": [
                    {
                        "sentences": [
                            "(set|change) [<the>] {name} to {helper_value}",
                            "select {helper_value} (for|on|in) [<the>] {name}",
                        ],
                        "requires_context": {"domain": list(HELPER_DOMAINS)},
                    }
                ]
            }
        },
        "lists": {"helper_value": {"wildcard": True}},
    }
}
# Lists the sentences use that the home fills (hassil needs every list given, even empty).
HOME_LISTS = ("name", "area", "floor")


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    intents: Intents
    skip_words: tuple[str, ...]


def supported_languages() -> list[str]:
    return sorted(get_languages())


@lru_cache(maxsize=4)
def load_language(code: str) -> Language:
    """The parsed sentences of `code`; SettingsError (one line) for a language HA lacks."""
    data = get_intents(code) if code in get_languages() else None
    if data is None:
        raise SettingsError(
            f"INTENTS_LANGUAGE is invalid: expected a language of Home Assistant's intents "
            f"({', '.join(supported_languages())}), not {code!r}"
        )
    extra = _EXTRA.get(code)
    if extra:  # `data` is a fresh parse; the extra is copied because merge_dict keeps its lists
        merge_dict(data, copy.deepcopy(extra))
    return Language(code, Intents.from_dict(data), tuple(data.get("skip_words") or ()))
