"""The local intent engine: HA's own sentence matcher over the mirror, no model needed.

    engine = LocalEngine(settings.intents)
    answer = await engine.answer(message, home, toolbox, env)   # None: not for the local engine
    reply = answer.reply if answer else (llm path, or engine.help_reply() without a model)

Modes (from settings): `local` — no model is configured: everything understood is answered
here, including what is unclear ("which reading lamp?"); `fast_path` — a model is configured
and `intents_fast_path` is on: only what is matched with certainty is answered here, the rest
goes to the model; `off` — every message goes to the model.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hassil import Intents, RecognizeResult, filter_intents, recognize_best

from data_api.platform.settings import IntentSettings
from ha_agent.home import HomeView, Policy
from ha_agent.tools.outcome import ToolOutcome

from .handlers import HANDLERS, Recognized
from .language import load_language
from .model import IntentMatch, LocalAnswer
from .replies import help_text, respond
from .vocabulary import Vocabulary, VocabularyCache

if TYPE_CHECKING:  # handed in by the agent: the engine acts through the same toolbox as a model
    from ha_agent.tools import Toolbox, ToolEnv

_LOGGER = logging.getLogger(__name__)
_UNREADABLE = "The home's data cannot be read right now; try again shortly."


class LocalEngine:
    def __init__(self, settings: IntentSettings) -> None:
        self.language = load_language(settings.language)
        if settings.alone:
            self.mode = "local"
        else:
            self.mode = "fast_path" if settings.fast_path else "off"
        # Only the intents we carry out: fewer sentences to try, and a sentence of another
        # intent (the weather, timers) is left to the model rather than half-understood.
        self._intents: Intents = filter_intents(self.language.intents, intent_names=set(HANDLERS))
        self._vocabulary = VocabularyCache()
        self._warm_up()

    def _warm_up(self) -> None:
        """The matcher's first sentence compiles its patterns (~0.3 s): pay it at start."""
        empty = Vocabulary.build((), {}, {}, Policy())
        self._recognize("turn on the light", empty)

    # --- recognition ---------------------------------------------------------------------------
    def _recognize(self, message: str, vocabulary: Vocabulary) -> RecognizeResult | None:
        return recognize_best(
            message,
            self._intents,
            slot_lists=vocabulary.slot_lists,
            skip_words=self.language.skip_words,
            language=self.language.code,
            best_slot_name="name",  # prefer the reading that names an entity (HA does too)
        )

    async def handle(self, message: str, home: HomeView) -> IntentMatch | None:
        """What `message` asks for as tool calls, or None if it is not a sentence we know."""
        if not message.strip():
            return None
        snapshot = await home.snapshot()
        vocabulary = await self._vocabulary.get(snapshot)
        result = self._recognize(message, vocabulary)
        if result is None or result.intent.name not in HANDLERS:
            return None
        recognized = Recognized(
            intent=result.intent.name,
            response=result.response,
            slots={name: entity.value for name, entity in result.entities.items()},
            said={name: entity.text_clean for name, entity in result.entities.items()},
            domains=_sentence_domains(result),
            home=snapshot,
        )
        return HANDLERS[recognized.intent](recognized)

    @property
    def vocabulary(self) -> Vocabulary | None:
        """The words of the home as last read (None before the first sentence)."""
        return self._vocabulary.last

    # --- answers -------------------------------------------------------------------------------
    async def respond(self, match: IntentMatch, outcomes: list[ToolOutcome]) -> str:
        return respond(match, outcomes)

    def help_reply(self) -> str:
        """The honest reply to a sentence not understood, with examples from this home."""
        vocabulary = self.vocabulary
        return help_text(vocabulary.examples if vocabulary else {})

    async def answer(self, message: str, home: HomeView, toolbox: Toolbox, env: ToolEnv) -> LocalAnswer | None:
        """The one call of the agent: the local answer, or None for the model's path (or, with
        no model configured, for `help_reply()`)."""
        if self.mode == "off":
            return None
        try:
            match = await self.handle(message, home)
        except Exception as exc:  # the mirror unreadable; a model would meet the same
            _LOGGER.warning("local intents: the home cannot be read: %s", exc)
            return LocalAnswer(_UNREADABLE) if self.mode == "local" else None
        if match is None:
            return None
        if not match.certain:
            if self.mode == "local":
                return LocalAnswer(match.problem or "I am not sure what you mean.", [], match.intent)
            return None
        outcomes = await toolbox.execute(match.calls, env)
        return LocalAnswer(await self.respond(match, outcomes), outcomes, match.intent)


def _sentence_domains(result: RecognizeResult) -> tuple[str, ...]:
    """The kinds of entity the matched sentence is about: its fixed `domain` slot, else the
    domains it requires of the name's context ("unlock {name}" needs a lock)."""
    fixed = result.entities.get("domain")
    value = fixed.value if fixed is not None else (result.intent_data.requires_context or {}).get("domain")
    if isinstance(value, str):
        return (value,)
    return tuple(value or ())
