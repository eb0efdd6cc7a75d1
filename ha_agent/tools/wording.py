"""Actions in plain words, written by code: what a confirmation asks and what a result says.

The question a person answers with "yes" must say exactly what will run, so it is built here
from the planned calls — never taken from the model, whose text could say anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# How a service is said: (verb, what follows the names). `domain.*` entries apply to any domain.
_VERBS: dict[str, tuple[str, str]] = {
    "lock.lock": ("lock", ""),
    "lock.unlock": ("unlock", ""),
    "lock.open": ("open", ""),
    "cover.open_cover": ("open", ""),
    "cover.close_cover": ("close", ""),
    "cover.stop_cover": ("stop", ""),
    "cover.open_cover_tilt": ("tilt open", ""),
    "cover.close_cover_tilt": ("tilt closed", ""),
    "valve.open_valve": ("open", ""),
    "valve.close_valve": ("close", ""),
    "alarm_control_panel.alarm_disarm": ("disarm", ""),
    "alarm_control_panel.alarm_arm_away": ("arm", " (away)"),
    "alarm_control_panel.alarm_arm_home": ("arm", " (home)"),
    "alarm_control_panel.alarm_arm_night": ("arm", " (night)"),
    "alarm_control_panel.alarm_arm_vacation": ("arm", " (vacation)"),
    "alarm_control_panel.alarm_arm_custom_bypass": ("arm", " (custom bypass)"),
    "alarm_control_panel.alarm_trigger": ("trigger the alarm of", ""),
    "scene.turn_on": ("activate the scene", ""),
    "script.turn_on": ("run the script", ""),
    "script.toggle": ("run or stop the script", ""),
    "automation.trigger": ("run the automation", ""),
    "media_player.media_play": ("play", ""),
    "media_player.media_pause": ("pause", ""),
    "media_player.media_stop": ("stop", ""),
    "vacuum.start": ("start", ""),
    "vacuum.return_to_base": ("send back to its base", ""),
}
# Data worth saying, as " to …".
_AMOUNTS = (("position", "%"), ("brightness_pct", "% brightness"), ("percentage", "%"), ("temperature", "°"))
_LISTED = 4  # names said one by one, at most; the rest as "and N more"
_ARTICLE_LESS = ("the ", "my ", "our ", "a ", "an ")


def the(name: str) -> str:
    """`the Front Door`; names that carry their own article or possessive stay as they are."""
    folded = name.casefold()
    if folded.startswith(_ARTICLE_LESS) or "'s " in folded:
        return name
    return f"the {name}"


def names_of(names: Sequence[str]) -> str:
    """`the Front Door`, `the Hall and the Porch`, `the Hall, the Porch and 3 more`."""
    said = [the(n) for n in names[:_LISTED]]
    rest = len(names) - len(said)
    if rest:
        return ", ".join(said) + f" and {rest} more"
    if len(said) <= 1:
        return "".join(said)
    return ", ".join(said[:-1]) + f" and {said[-1]}"


def describe(service: str, names: Sequence[str], data: Mapping[str, Any] | None = None) -> str:
    """`unlock the Front Door`, `set the Blinds to 40%`, `run the script Good Night`."""
    domain, _, name = service.partition(".")
    verb, after = _VERBS.get(service) or (name.replace("_", " "), "")
    if domain == "script" and name not in ("turn_on", "toggle", "turn_off"):
        verb = "run the script"  # `script.<name>`
    amount = _amount(data or {})
    if amount and name.startswith("set_"):
        verb, after = "set", f" to {amount}"
    elif amount and name == "turn_on":
        after = f" at {amount}"
    if not names:
        return f"{verb}{after}"
    if verb.endswith(("the scene", "the script", "the automation")):  # "the scene Good Morning"
        listed = ", ".join(names[:_LISTED]) + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")
        return f"{verb} {listed}{after}"
    return f"{verb} {names_of(names)}{after}"


def _amount(data: Mapping[str, Any]) -> str | None:
    for key, unit in _AMOUNTS:
        if data.get(key) is not None:
            return f"{_plain(data[key])}{unit}"
    return None


def third_person(phrase: str) -> str:
    """`unlock the Front Door` → `unlocks the Front Door` (for "it unlocks …")."""
    verb, space, rest = phrase.partition(" ")
    ending = "es" if verb.endswith(("s", "sh", "ch", "x", "z")) else "s"
    return f"{verb}{ending}{space}{rest}"


def question(items: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The question for a set of actions awaiting a yes: each `(summary, reasons)` named.

    `Unlock the Front Door and open the Garage Door? Say yes to go ahead; anything else cancels.`
    """
    parts = []
    for summary, reasons in items:
        part = summary
        if reasons:
            part += f" (it {' and '.join(dict.fromkeys(reasons))})"
        parts.append(part)
    said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"
    return f"{said[:1].upper()}{said[1:]}? Say yes to go ahead; anything else cancels."


def _plain(number: Any) -> Any:
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number
