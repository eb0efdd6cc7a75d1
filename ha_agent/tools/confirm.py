"""Whether the user's next message confirms a pending action: decided by code, never the model.

A reply confirms only if every word of it is a word of consent or a filler around one ("yes",
"yes please", "ok do it", "sure, go ahead"). Anything else — a question, "no", "yes but…",
a new request — cancels: an action the owner wanted confirmed must never run on a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .outcome import ToolOutcome

# A reply needs at least one of these...
CONSENT_WORDS = frozenset(
    "yes yeah yep yup y ok okay k sure confirm confirmed do proceed go affirmative absolutely "
    "definitely certainly correct".split()
)
# ...and may only add these around them.
AFFIRMATIVE_WORDS = CONSENT_WORDS | frozenset("please it ahead i that thanks thank you now just so right".split())
# A reply starting with one of these is a plain no: what was asked is not done, and said so.
REFUSAL_WORDS = frozenset("no nope nah cancel don't dont stop abort never negative".split())
_MAX_WORDS = 8
_WORD = re.compile(r"[a-z']+")


def is_affirmative(message: str) -> bool:
    said = _WORD.findall(message.casefold())
    if not said or len(said) > _MAX_WORDS:
        return False
    return set(said) <= AFFIRMATIVE_WORDS and bool(CONSENT_WORDS.intersection(said))


def is_refusal(message: str) -> bool:
    said = _WORD.findall(message.casefold())
    return bool(said) and (said[0] in REFUSAL_WORDS or said[:2] == ["never", "mind"])


def confirmation_reply(outcomes: Sequence[ToolOutcome], summaries: Sequence[str]) -> str:
    """What happened, in plain words, for the user who said yes."""
    lines = []
    for outcome, summary in zip(outcomes, summaries):
        if outcome.error is not None:
            lines.append(f"I could not {summary}: {outcome.error}.")
            continue
        result = outcome.result or {}
        if result.get("confirmed") is False:  # sent, but the home's state could not be seen
            lines.append(f"Sent: {summary}; {result.get('note', 'its state is not confirmed yet')}.")
            continue
        states = result.get("states") or []
        now = ", ".join(f"{row['name']} is {row['state']}" for row in states)
        lines.append(f"Done: {summary}." + (f" {now[0].upper()}{now[1:]}." if now else ""))
    return " ".join(lines)


def refusal_reply(summaries: Sequence[str]) -> str:
    """The answer to a plain no: what was not done."""
    said = summaries[0] if len(summaries) == 1 else ", ".join(summaries[:-1]) + f" or {summaries[-1]}"
    return f"OK, I did not {said}."
