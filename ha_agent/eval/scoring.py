"""Scoring a case as the community does: the home's state diff against `expect_changes`, the reply
against `expect_response`, and the reply itself (an apology is not a success).

- Every entity whose state or attributes changed, less `ignore_changes` and what HA changes by
  itself as a side effect (`VOLATILE_ATTRIBUTES`; the state of scenes and buttons, which is the
  time they were last activated), must be listed in `expect_changes`.
- Each listed key must match after the sentence: states as text, any case; numbers within ±1
  for brightness, percentages, positions and colour components (HA rounds them on the way, as
  30 % is brightness 76 or 77), other numbers equal after conversion to float; texts any case.
  Attributes of a listed entity that are not listed are not judged.
- A cover or valve that is `opening` has done what `open` asks (and `closing` for `closed`):
  whether the motor arrived before the snapshot is the simulator's timing, not understanding
  (HA's leaderboard expects `opening` for garage doors, `open` for curtains).
- An action case also fails when the reply is an apology or a failure; a question case
  (`expect_response`, no changes expected) passes when nothing changed and the reply holds one
  of the expected texts, any case. Any case fails when the reply says the sentence was not
  understood: a help text that happens to name the expected device is not an answer.
- With distractors (`--scale`), a case that changes every exposed entity of a domain the set's
  home has ("switch off every light") may change the distractors of that domain the same way:
  they are other buildings of the same site, and whether "every light" reaches them is the
  person's to say. Allowed (`also_allowed`), never required.
- A false claim of success: the reply says it did something ("Done", "Turned on…", "I've set…")
  while the home does not show what was asked — or shows no change at all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .loader import ALL, Case, Expected

# Attributes HA rewrites as a side effect of other changes: timestamps and playback position.
VOLATILE_ATTRIBUTES = frozenset({"last_triggered", "media_position", "media_position_updated_at"})
# Domains whose state is the moment they were last activated or pressed.
TIMESTAMP_STATE_DOMAINS = frozenset({"scene", "button", "input_button"})
_TOLERANCE = 1.0
_TOLERANT_KEYS = frozenset({"brightness", "brightness_pct", "rgb_color", "rgbw_color", "rgbww_color",
                            "humidity", "target_humidity"})  # fmt: skip
_MOTION = {"opening": "open", "closing": "closed"}  # a moving cover/valve, by where it goes
_MOVING_DOMAINS = frozenset({"cover", "valve"})

Snapshot = Mapping[str, Mapping[str, Any]]  # entity_id → {state, attributes}

_ACTION_VERBS = (
    "turned|switched|set|opened|closed|locked|unlocked|started|stopped|paused|resumed|activated|ran|run|"
    "added|removed|muted|unmuted|dimmed|brightened|raised|lowered|changed|increased|decreased|armed|disarmed|"
    "skipped|adjusted|put|marked|completed|sent|lit|shut|enabled|disabled|triggered|scheduled|cleared"
)
# A reply that starts by saying it acted, or says "I've …" / "I have …" anywhere.
_CLAIM = re.compile(rf"^\W*(?:(?:ok(?:ay)?|alright|sure|great)\b\W*)?(?:done\b|all set\b|(?:{_ACTION_VERBS})\b)"
                    rf"|\bI(?:'ve| have)\s+(?:now\s+|just\s+|also\s+)?(?:{_ACTION_VERBS})\b", re.IGNORECASE)  # fmt: skip
# Claims no answer to a question starts with ("Locked." or "Closed." may answer "is it locked?").
_STRICT_CLAIM = re.compile(r"^\W*(?:(?:ok(?:ay)?|alright|sure)\b\W*)?(?:done|all set|turned|switched|activated|"
                           r"added|started|ran)\b|\bI(?:'ve| have)\s+(?:now\s+|just\s+)?(?:turned|switched|set|"
                           r"activated|added|started|run|opened|closed|locked|unlocked)\b", re.IGNORECASE)  # fmt: skip
_APOLOGY = re.compile(
    r"\bsorry\b|\bapologi[sz]e|\bunfortunately\b|\bI (?:could not|couldn't|cannot|can't|can not|was unable|"
    r"am unable|'m unable|am not able|'m not able|did not|didn't|do not|don't) (?:find|understand|do|turn|set|"
    r"open|close|lock|unlock|start|stop|control|change|see|know|have|run|activate|add|access|help|recogni[sz]e)"
    r"|\b(?:unable|not able) to\b|\bfailed\b|\bnot allowed\b|\brefused\b|\bnot exposed\b|\bnot understood\b"
    r"|\bdid not understand\b|\bdidn't understand\b",
    re.IGNORECASE,
)
_NOT_UNDERSTOOD = re.compile(
    r"\b(?:did not|didn't|do not|don't|could not|couldn't) understand\b|\bnot understood\b", re.IGNORECASE
)


def changes(before: Snapshot, after: Snapshot, ignore: Mapping[str, frozenset[str]] | None = None,
            ) -> dict[str, dict[str, Any]]:  # fmt: skip
    """What changed, entity by entity: {"state": [old, new]} and/or {"attributes": {key: [old,
    new]}}, less what `ignore` names and what HA changes by itself. An entity that appeared or
    went away shows a None side."""
    ignore = ignore or {}
    found: dict[str, dict[str, Any]] = {}
    for entity_id in {*before, *after}:
        old, new = before.get(entity_id), after.get(entity_id)
        if old is new:
            continue
        skip = ignore.get(entity_id, frozenset())
        if ALL in skip:
            continue
        if old is None or new is None:
            found[entity_id] = {"state": [old and old["state"], new and new["state"]]}
            continue
        entry: dict[str, Any] = {}
        domain = entity_id.split(".", 1)[0]
        if old["state"] != new["state"] and "state" not in skip and domain not in TIMESTAMP_STATE_DOMAINS:
            entry["state"] = [old["state"], new["state"]]
        old_attrs, new_attrs = old["attributes"], new["attributes"]
        if old_attrs is not new_attrs:
            moved = {key: [old_attrs.get(key), new_attrs.get(key)] for key in {*old_attrs, *new_attrs}
                     if key not in skip and key not in VOLATILE_ATTRIBUTES
                     and old_attrs.get(key) != new_attrs.get(key)}  # fmt: skip
            if moved:
                entry["attributes"] = dict(sorted(moved.items()))
        if entry:
            found[entity_id] = entry
    return dict(sorted(found.items()))


def value_matches(key: str, expected: Any, actual: Any, domain: str = "") -> bool:
    """Whether an attribute (or, `key` "state", the state) has the value a set expects."""
    if key == "state":
        if expected is None:
            return True
        if actual is None:
            return False
        wanted, got = str(expected).casefold(), str(actual).casefold()
        if domain in _MOVING_DOMAINS:
            wanted, got = _MOTION.get(wanted, wanted), _MOTION.get(got, got)
        return wanted == got
    if isinstance(expected, (list, tuple)):
        return (isinstance(actual, (list, tuple)) and len(actual) == len(expected)
                and all(value_matches(key, e, a) for e, a in zip(expected, actual)))  # fmt: skip
    if expected is None or actual is None:
        return expected is actual
    if isinstance(expected, bool) or isinstance(actual, bool):
        return str(expected).casefold() == str(actual).casefold()
    wanted_number, got_number = _number(expected), _number(actual)
    if wanted_number is not None and got_number is not None:
        tolerance = _TOLERANCE if _tolerant(key) else 1e-9
        return abs(wanted_number - got_number) <= tolerance
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.casefold() == actual.casefold()
    return bool(expected == actual)


def _tolerant(key: str) -> bool:
    return key in _TOLERANT_KEYS or "position" in key or "percentage" in key


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def is_apology(reply: str) -> bool:
    return bool(_APOLOGY.search(reply))


def claims_success(reply: str, *, strict: bool = False) -> bool:
    """Whether the reply says something was done (`strict`: only in words no answer to a
    question about a state would use)."""
    return bool((_STRICT_CLAIM if strict else _CLAIM).search(reply))


@dataclass
class Verdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)  # why it failed, one line each
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    false_success: bool = False
    already_met: bool = False  # the expectation held before the sentence: a set to check


def score(case: Case, before: Snapshot, after: Snapshot, replies: Iterable[str],
          also_allowed: Mapping[str, Expected] | None = None) -> Verdict:  # fmt: skip
    """The verdict on one case from the snapshots around its sentence and the replies it got
    (the reply to the sentence, then the one to the harness's "yes" if it was asked);
    `also_allowed`: entities that may change, if to what they map to."""
    said = [reply for reply in replies if reply]
    final = said[-1] if said else ""
    diff = changes(before, after, case.ignore_changes)
    allowed = also_allowed or {}
    reasons = [f"{entity_id} changed, which was not expected" for entity_id in diff
               if entity_id not in case.expect_changes
               and (entity_id not in allowed or _mismatches(entity_id, allowed[entity_id].as_dict(),
                                                            after.get(entity_id), frozenset()))]  # fmt: skip
    for entity_id, expected in case.expect_changes.items():
        reasons += _mismatches(entity_id, expected.as_dict(), after.get(entity_id),
                               case.ignore_changes.get(entity_id, frozenset()))  # fmt: skip
    state_ok = not reasons
    if case.expect_response is not None:
        text = " ".join(said).casefold()
        if not any(expected.casefold() in text for expected in case.expect_response):
            reasons.append("the reply holds none of: " + ", ".join(repr(e) for e in case.expect_response))
    if any(_NOT_UNDERSTOOD.search(reply) for reply in said):
        reasons.append("the reply says it did not understand")
    elif case.expect_response is None and case.expect_changes and is_apology(final):
        reasons.append("the reply says it failed")
    if not said:
        reasons.append("no reply")
    acted = bool(changes(before, after))  # anything at all, ignored keys included
    false_success = (claims_success(final) and not state_ok) or (claims_success(final, strict=True) and not acted)
    already = bool(case.expect_changes) and not any(
        _mismatches(eid, exp.as_dict(), before.get(eid), case.ignore_changes.get(eid, frozenset()))
        for eid, exp in case.expect_changes.items())  # fmt: skip
    return Verdict(passed=not reasons, reasons=reasons, changes=diff, false_success=false_success,
                   already_met=already)  # fmt: skip


def whole_domains(case: Case, before: Snapshot, written: Iterable[str],
                  exposed: Callable[[str], bool]) -> dict[str, Expected]:  # fmt: skip
    """The distractors a case may change too. A domain qualifies when the case expects at least
    two of the set home's (`written`) exposed entities of it to change alike, and every other
    one already was that way before the sentence ("every light off": the lights already off are
    not listed); its exposed entities beyond the set's home are then expected alike."""
    mine = set(written)
    by_domain: dict[str, list[str]] = defaultdict(list)
    for entity_id in mine:
        if exposed(entity_id):
            by_domain[entity_id.split(".", 1)[0]].append(entity_id)
    domains: dict[str, Expected] = {}
    for domain, entity_ids in by_domain.items():
        listed = [case.expect_changes[eid] for eid in entity_ids if eid in case.expect_changes]
        if len(listed) < 2 or any(expected != listed[0] for expected in listed):
            continue
        wanted = listed[0].as_dict()
        if all(eid in case.expect_changes or not _mismatches(eid, wanted, before.get(eid), frozenset())
               for eid in entity_ids):  # fmt: skip
            domains[domain] = listed[0]
    if not domains:
        return {}
    return {
        entity_id: domains[domain]
        for entity_id in before
        if (domain := entity_id.split(".", 1)[0]) in domains and entity_id not in mine and exposed(entity_id)
    }


def _mismatches(entity_id: str, expected: Mapping[str, Any], actual: Mapping[str, Any] | None,
                ignored: frozenset[str]) -> list[str]:  # fmt: skip
    if ALL in ignored:
        return []
    if actual is None:
        return [f"{entity_id} does not exist"]
    domain = entity_id.split(".", 1)[0]
    found = []
    for key, wanted in expected.items():
        if key in ignored:  # not judged, even when also expected (as HA's leaderboard does)
            continue
        got = actual["state"] if key == "state" else actual["attributes"].get(key)
        if not value_matches(key, wanted, got, domain):
            found.append(f"{entity_id}: {key} is {got!r}, expected {wanted!r}")
    return found
