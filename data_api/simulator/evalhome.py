"""EvalHome: a simulated home loaded from an evaluation fixture, with what an evaluation run
does to it between cases: apply a test's `setup`, take a snapshot to diff, pretend a time
(`context_now`), and go back to the loaded home.

Everything a case changes goes through HA's state machine (`SimHome.set_state`), so
`state_changed` reaches every WebSocket subscriber, a mirror included, exactly as
`hass.states.async_set` would send it. A reset rewrites only what changed since the last one,
so a case costs what it touched, not what the home holds.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .domains import calendar_state, calendar_written
from .fixture_states import EntitySpec, FixtureError, HomeContext, entity_spec
from .generator import GeneratedHome, state_entry
from .home import SimHome

if TYPE_CHECKING:
    from .fixtures import HomeFixture


@dataclass
class Written:
    """An entity as the fixture writes it: what a test's `setup` is merged into."""

    name: str
    state: Any
    attributes: dict[str, Any]


@dataclass
class _Baseline:
    states: dict[str, tuple[str, dict[str, Any]]]
    memory: dict[str, dict[str, Any]]
    todo_items: dict[str, list[dict[str, Any]]]
    calendar_events: dict[str, list[dict[str, Any]]]
    forecasts: dict[str, dict[str, list[dict[str, Any]]]]
    alarm_codes: dict[str, str]
    scenes: dict[str, dict[str, dict[str, Any]]]
    scripts: dict[str, dict[str, Any]]
    legacy_exposure: dict[str, bool]


class EvalHome(SimHome):
    """A SimHome built by `fixtures.load_home`; serve it with `SimulatedHA(home)`."""

    def __init__(
        self, data: GeneratedHome, fixture: HomeFixture, written: dict[str, Written], context: HomeContext
    ) -> None:
        super().__init__(data, size="fixture", seed=0)
        self.fixture = fixture
        self.context = context
        self.written = written  # the fixture's own entities (distractors are not in it)
        self._baseline: _Baseline | None = None
        self._dirty: set[str] = set()
        self._zone = self.time_zone  # the loaded zone, which a pretended clock may override
        self.listen(self._track)

    def _track(self, event: dict[str, Any]) -> None:
        if event["event_type"] == "state_changed":
            self._dirty.add(event["data"]["entity_id"])

    # --- loading ------------------------------------------------------------------------------

    def apply_spec(self, entity_id: str, spec: EntitySpec, *, fire: bool) -> None:
        """Give an entity the state a reading (`entity_spec`) describes, with what its
        integration and device keep elsewhere; `fire` writes it through the state machine."""
        domain = entity_id.split(".", 1)[0]
        self.memory[entity_id] = dict(spec.memory)
        for store, value in (
            (self.todo_items, spec.todo_items),
            (self.calendar_events, spec.events),
            (self.forecasts, spec.forecasts),
            (self.alarm_codes, spec.alarm_code),
            (self.scenes, spec.scene),
            (self.scripts, spec.script),
        ):
            if value is not None:
                store[entity_id] = value  # type: ignore[index]
            else:
                store.pop(entity_id, None)  # type: ignore[attr-defined]
        state, attributes = spec.state, spec.attributes
        if domain == "calendar":
            state, event = calendar_state(self, entity_id)
            attributes = {**event, **attributes}
        if fire:
            self.set_state(entity_id, state, attributes)
        else:
            current = self.states[entity_id]
            self.states[entity_id] = state_entry(
                entity_id, state, attributes, changed=_stamp(current), context_id=current["context"]["id"]
            )

    def freeze(self) -> None:
        """Remember the home as it is now as the state `reset` returns to."""
        self._baseline = _Baseline(
            states={eid: (s["state"], s["attributes"]) for eid, s in self.states.items()},
            memory=copy.deepcopy(self.memory),
            todo_items=copy.deepcopy(self.todo_items),
            calendar_events=copy.deepcopy(self.calendar_events),
            forecasts=copy.deepcopy(self.forecasts),
            alarm_codes=dict(self.alarm_codes),
            scenes=dict(self.scenes),
            scripts=dict(self.scripts),
            legacy_exposure=dict(self.legacy_exposure),
        )
        self._dirty.clear()

    # --- a case -----------------------------------------------------------------------------

    def apply_setup(self, setup: dict[str, Any] | None) -> None:
        """A test's `setup` ({entity_id: {state?, attributes?}}): the written state replaced,
        the attributes merged over the fixture's, read like the fixture itself, and written
        through the state machine. An entity the fixture does not list is an error."""
        for entity_id, change in (setup or {}).items():
            entity_id = entity_id.lower()  # as the fixture's own ids (hass.states.async_set)
            written = self.written.get(entity_id)
            if written is None:
                raise FixtureError(f"setup names {entity_id}, which the home does not list")
            change = change or {}
            if not isinstance(change, dict) or set(change) - {"state", "attributes"}:
                raise FixtureError(f"setup of {entity_id} must be {{state, attributes}}, got {change!r}")
            state = change.get("state")
            attributes = {**written.attributes, **(change.get("attributes") or {})}
            spec = entity_spec(
                entity_id, written.name, written.state if state is None else state, attributes, self.context
            )
            self.apply_spec(entity_id, spec, fire=True)

    def snapshot(self, entity_ids: Any = None) -> dict[str, dict[str, Any]]:
        """{entity_id: {state, attributes}} of every state (or of `entity_ids`), for diffing
        before and after a case. A change replaces a state's attributes, never edits them, so
        they are shared rather than copied (5,000 entities in ~2 ms): do not edit them."""
        states = self.states
        ids = states if entity_ids is None else entity_ids
        return {
            eid: {"state": states[eid]["state"], "attributes": states[eid]["attributes"]}
            for eid in ids
            if eid in states
        }

    def set_clock(self, moment: datetime | float | None) -> None:
        """Pretend it is `moment` (a test's context_now; None: the real time). Calendars show
        the event of that moment, and "today" follows it in their services: a moment written
        with another UTC offset than the home's zone has then also moves the home's local time
        to that offset until the reset (the zone in get_config stays as loaded)."""
        self.time_zone = self._zone
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.time_zone)
            elif moment.utcoffset() != moment.astimezone(self.time_zone).utcoffset():
                self.time_zone = timezone(moment.utcoffset() or timedelta(0))
            moment = moment.timestamp()
        self.clock = moment
        self._refresh_calendars()

    def _refresh_calendars(self) -> None:
        for entity_id in self.calendar_events:
            if entity_id in self.states:
                self.set_state(entity_id, *calendar_written(self, entity_id))

    def reset(self) -> None:
        """Back to the loaded home: the states changed since the last reset are rewritten
        (firing state_changed, so a mirror follows), items, events, memory and the clock
        restored, running scripts stopped."""
        base = self._baseline
        if base is None:
            raise RuntimeError("reset() before freeze(): load the home with load_home()")
        for task in list(self.running_scripts.values()):
            task.cancel()
        self.running_scripts.clear()
        for motion in self.motions.values():
            motion.cancel()
        self.motions.clear()
        self.clock, self.time_zone = None, self._zone
        self.legacy_exposure = dict(base.legacy_exposure)
        self.memory = copy.deepcopy(base.memory)
        self.todo_items = copy.deepcopy(base.todo_items)
        self.calendar_events = copy.deepcopy(base.calendar_events)
        self.forecasts = copy.deepcopy(base.forecasts)
        self.alarm_codes = dict(base.alarm_codes)
        self.scenes, self.scripts = dict(base.scenes), dict(base.scripts)
        dirty, self._dirty = self._dirty, set()
        for entity_id in sorted(dirty):
            wanted = base.states.get(entity_id)
            if wanted is None:  # a state the case created
                self.remove_state(entity_id)
                continue
            current = self.states.get(entity_id)
            if entity_id in self.calendar_events:
                continue  # rewritten below, for the real time
            if current is None or (current["state"], current["attributes"]) != wanted:
                self.set_state(entity_id, wanted[0], copy.deepcopy(wanted[1]))
        self._refresh_calendars()
        self._dirty.clear()


def _stamp(state: dict[str, Any]) -> float:
    return datetime.fromisoformat(state["last_changed"]).timestamp()
