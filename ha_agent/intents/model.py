"""What the local engine makes of a sentence, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ha_agent.llm import ToolCall
from ha_agent.tools.outcome import ToolOutcome


@dataclass(frozen=True, slots=True)
class Step:
    """One tool call and how to speak of it: "say yes to {verb} it{to}", "{past} {names}{to}"."""

    call: ToolCall
    verb: str  # "unlock", "turn on", "set"
    past: str  # "Unlocked", "Turned on", "Set"
    names: str  # "Front Door Lock", "Kitchen Light and Hall Light"
    to: str = ""  # " to 40% brightness": what it is set to, if anything
    report: bool = True  # the reply tells the new states (not for scenes and scripts)
    detail: str | None = None  # a state row field worth saying too ("volume_level")


@dataclass(frozen=True, slots=True)
class Question:
    """A question about states, answered from the rows `get_state` returns."""

    kind: str  # HA's response: one, one_yesno, any, all, which, how_many; or temperature
    what: str  # "lights": the kind asked about
    where: str = ""  # " in the Kitchen"
    state: str | None = None  # the state asked about, as HA stores it ("on", "open")
    said: str | None = None  # ...and as the user said it ("open", "locked")


@dataclass(frozen=True, slots=True)
class IntentMatch:
    """A recognised sentence: HA's intent and slots, and the tool calls that carry it out.

    `certain`: the sentence was understood and names one clear set of entities, so the calls
    can run without asking a model. Otherwise `problem` says, for the user, what is unclear.
    """

    intent: str
    slots: dict[str, Any]
    steps: tuple[Step, ...] = ()
    question: Question | None = None
    problem: str | None = None

    @property
    def certain(self) -> bool:
        return self.problem is None and bool(self.steps)

    @property
    def calls(self) -> list[ToolCall]:
        return [step.call for step in self.steps]


@dataclass(frozen=True, slots=True)
class LocalAnswer:
    """The local engine's whole answer to a message: the reply and what the tools did."""

    reply: str
    outcomes: list[ToolOutcome] = field(default_factory=list)
    intent: str | None = None
