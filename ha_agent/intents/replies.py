"""Plain-language answers built from tool outcomes: what was done, the state asked for, a
question to confirm, an error said simply — and the honest reply to what is not understood.

Replies are in English; the sentences understood may be in another language (see README).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ha_agent.tools.outcome import ToolOutcome

from .model import IntentMatch, Question, Step
from .targets import join_names

# Words for a binary sensor's on/off by device class (HA's frontend says them the same way).
_BINARY_WORDS = {
    **dict.fromkeys(("door", "garage_door", "opening", "window"), ("open", "closed")),
    **dict.fromkeys(("motion", "occupancy", "presence"), ("detecting", "clear")),
    "moisture": ("wet", "dry"),
    "lock": ("unlocked", "locked"),
    "plug": ("plugged in", "unplugged"),
    "connectivity": ("connected", "disconnected"),
}
_STATE_WORDS = {"unavailable": "unavailable", "unknown": "in an unknown state"}
_STATES_IN_FULL = 3  # an action's new states are said one by one up to this many targets
_REFUSED = "refused: "


def respond(match: IntentMatch, outcomes: Sequence[ToolOutcome]) -> str:
    """What was done and what was found; a step awaiting confirmation is left to the question
    the agent puts first (written by the toolbox from the recorded calls)."""
    by_id = {outcome.id: outcome for outcome in outcomes}
    parts = []
    for step in match.steps:
        outcome = by_id.get(step.call.id)
        if outcome is not None and outcome.needs_confirmation:
            continue
        if outcome is None:
            parts.append(f"I could not {step.verb} {step.names}{step.to}.")
        elif match.question is not None and step.call.name == "get_state":
            parts.append(answer_question(match.question, step, outcome))
        else:
            parts.append(action_reply(step, outcome))
    return " ".join(parts)


# --- actions --------------------------------------------------------------------------------------
def action_reply(step: Step, outcome: ToolOutcome) -> str:
    if outcome.error is not None:
        return f"I could not {step.verb} {step.names}{step.to}: {simple_error(outcome.error)}."
    if isinstance(outcome.result, dict) and outcome.result.get("confirmed") is False:
        return f"I sent that to {step.names}, but its new state is not confirmed yet: Home Assistant is reconnecting."
    rows = _rows(outcome.result)
    if step.report and rows and len(rows) <= _STATES_IN_FULL:
        return "Done: " + "; ".join(f"{row['name']} is now {describe(row, step.detail)}" for row in rows) + "."
    return f"{step.past} {step.names}{step.to}."


def simple_error(error: str) -> str:
    """The tools' errors are written for a model; the user gets the reason without the prefix
    and without the advice on which tool to call instead."""
    text = error.removeprefix(_REFUSED).strip().rstrip(".")
    return text.split("; use ")[0]


# --- questions ------------------------------------------------------------------------------------
def answer_question(question: Question, step: Step, outcome: ToolOutcome) -> str:
    if outcome.error is not None:
        return f"I could not read {step.names}: {simple_error(outcome.error)}."
    rows = _rows(outcome.result, "states")
    if not rows:
        return f"I could not read {step.names}."
    if question.kind == "temperature":
        return _temperature(question, rows)
    if question.kind == "one" or question.state is None:
        return " ".join(f"{row['name']} is {describe(row)}." for row in rows)
    said = question.said or question.state
    matching = [row for row in rows if row.get("state") == question.state]
    others = [row for row in rows if row.get("state") != question.state]
    names = join_names(row["name"] for row in matching)
    if question.kind == "one_yesno":
        row = rows[0]
        return f"Yes, {row['name']} is {said}." if matching else f"No, {row['name']} is {describe(row)}."
    where = question.where
    if question.kind == "all":
        if not others:
            return f"Yes, all {question.what}{where} are {said}."
        return f"No, {join_names(row['name'] for row in others)} {_is(others)} not {said}."
    if not matching:
        return f"{'No, no' if question.kind == 'any' else 'No'} {question.what}{where} are {said}."
    if question.kind == "how_many":
        return f"{len(matching)} {question.what}{where} {_is(matching)} {said}: {names}."
    prefix = "Yes, " if question.kind == "any" else ""
    return f"{prefix}{names} {_is(matching)} {said}{where}."


def _temperature(question: Question, rows: list[Mapping[str, Any]]) -> str:
    readings = [(row["name"], _degrees(row)) for row in rows]
    readings = [(name, value) for name, value in readings if value]
    if not readings:  # unavailable sensors: say what they are rather than a number
        return " ".join(f"{row['name']} is {describe(row)}." for row in rows)
    if len(readings) == 1:
        name, value = readings[0]
        return f"It is {value}{question.where} ({name})." if question.where else f"{name} reads {value}."
    return f"Temperatures{question.where}: " + "; ".join(f"{name} {value}" for name, value in readings) + "."


def _degrees(row: Mapping[str, Any]) -> str | None:
    if row.get("current_temperature") is not None:  # a thermostat's own reading
        return f"{_plain(row['current_temperature'])}°"
    if row.get("state") in _STATE_WORDS or row.get("state") is None:
        return None
    return f"{row['state']} {row.get('unit_of_measurement', '')}".strip()


# --- states in words -------------------------------------------------------------------------------
def describe(row: Mapping[str, Any], detail: str | None = None) -> str:
    """`on at 40% brightness`, `open at 50%`, `21.5 °C`: a state as a person would say it."""
    state = str(row.get("state"))
    domain = str(row.get("entity_id", "")).partition(".")[0]
    if state in _STATE_WORDS:
        return _STATE_WORDS[state]
    if domain == "binary_sensor":
        on, off = _BINARY_WORDS.get(str(row.get("device_class")), ("on", "off"))
        return on if state == "on" else off if state == "off" else state
    text = f"{state} {row['unit_of_measurement']}" if row.get("unit_of_measurement") else state
    extras = []
    if domain == "light" and row.get("brightness_pct") is not None:
        extras.append(f"at {row['brightness_pct']}% brightness")
    if domain == "cover" and row.get("current_position") not in (None, 0, 100):
        extras.append(f"at {row['current_position']}%")
    if domain == "fan" and state == "on" and row.get("percentage"):
        extras.append(f"at {row['percentage']}% speed")
    if domain == "climate":  # "heat, set to 21°, currently 19.5°"
        temperatures = [
            f"{words} {_plain(row[key])}°"
            for words, key in (("set to", "temperature"), ("currently", "current_temperature"))
            if row.get(key) is not None
        ]
        return ", ".join([text, *temperatures])
    if domain == "media_player" and row.get("media_title") and state == "playing":
        extras.append(f"\u201c{row['media_title']}\u201d")
    if detail == "volume_level" and row.get("volume_level") is not None:
        extras.append(f"at volume {round(float(row['volume_level']) * 100)}%")
    if detail == "color_temp_kelvin" and row.get("color_temp_kelvin") is not None:
        extras.append(f"at {row['color_temp_kelvin']} K")
    return " ".join([text, *extras])


def _plain(number: Any) -> Any:
    """21 rather than 21.0: numbers as people say them."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _is(rows: Sequence[Any]) -> str:
    return "is" if len(rows) == 1 else "are"


def _rows(result: Any, key: str = "states") -> list[Mapping[str, Any]]:
    rows = result.get(key) if isinstance(result, dict) else None
    return [row for row in rows or () if isinstance(row, dict) and "name" in row]


# --- not understood ---------------------------------------------------------------------------------
def help_text(examples: Mapping[str, str]) -> str:
    """What the local engine can do, with names from this home, and how to add a model."""
    light, area = examples.get("light", "Kitchen Light"), examples.get("area", "Kitchen")
    cover = examples.get("cover", "Living Room Blinds")
    player = examples.get("media_player", "Kitchen Speaker")
    groups = [
        [f"turn on {light}", f"turn off the lights in the {area}", "turn off the lights upstairs"],
        [f"set {light} to 50%", f"set {light} to blue"],
        [f"open {cover}", f"set {cover} to 30%"],
        [f"set the temperature in the {area} to 21 degrees"],
        [f"pause {player}", f"set {player} volume to 40%"],
        [f"{verb} {examples[kind]}" for verb, kind in (("activate", "scene"), ("run", "script")) if kind in examples],
        ["which lights are on", f"what is the temperature in the {area}", f"is {cover} open"],
    ]
    lines = [
        "Sorry, I did not understand that. Without a language model I understand short commands and "
        + "questions like these:"
    ]
    lines += ["- " + ", ".join(f'"{example}"' for example in group) for group in groups if group]
    lines.append(
        "For anything else, configure a language model: set LLM_BASE_URL to an OpenAI-compatible API "
        "(e.g. http://localhost:11434/v1 for Ollama), LLM_MODEL to its model and, if it needs one, LLM_API_KEY."
    )
    return "\n".join(lines)
