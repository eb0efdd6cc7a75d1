"""The local intent engine over a mirror of the simulated medium home (audit on SQLite).

HA's sentences become calls of the agent's own tools (a table of sentences, each with its
expected calls); state questions are answered from the mirror; sentences it does not know get
None and an honest help reply; a lock still asks for the user's yes, and a name that reads
like an order is only a name. Entities are picked from the generated home by what they are.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from data_api.ha import Entity
from data_api.platform.settings import SettingsError
from data_api.simulator import SimHome, SimulatedHA, generate_home
from ha_agent.home import LocalHome, Policy
from ha_agent.intents import IntentMatch, LocalAnswer, LocalEngine
from ha_agent.llm import ToolCall
from ha_agent.tools import HAActions, Toolbox, ToolEnv, ToolStore
from tests.ha_agent.test_tools import INJECTION
from tests.support.mirroring import Env, mirror_env, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

FRONT_DOOR = "front door"  # the alias the tests give the lock
TWIN_ALIAS = "reading lamp"  # shared by two lights
Expected = list[tuple[str, dict[str, Any]]]


# --- the home ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prepared:
    """Entities the tests change before HA starts: exposed, aliased, renamed."""

    lock: str
    script: str
    helpers: dict[str, str]  # domain → entity id
    injected: str
    twins: tuple[str, str]


def prepare(home: SimHome) -> Prepared:
    def registered(domain: str) -> list[str]:
        return sorted(e for e in home.entities if e.startswith(f"{domain}.") and e in home.states)

    lock = next(e for e in registered("lock") if home.effective_area(e))
    script = next(
        s
        for s, spec in sorted(home.scripts.items())
        if not any(f.get("required") for f in (spec.get("fields") or {}).values())
    )
    helpers = {d: registered(d)[-1] for d in ("input_boolean", "input_number", "input_select", "input_text")}
    lights = [e for e in registered("light") if home.is_exposed(e)]
    injected, *twins = lights[-3:]
    home.set_exposed([lock, script, *helpers.values()], True)
    home.update_entity(lock, aliases=[FRONT_DOOR])
    home.update_entity(injected, name=INJECTION)
    for twin in twins:
        home.update_entity(twin, aliases=[TWIN_ALIAS])
    return Prepared(lock, script, helpers, injected, (twins[0], twins[1]))


class Picks:
    """What the sentences name, chosen from the mirror by what it is."""

    def __init__(
        self, entities: dict[str, Entity], areas: dict[str, Any], floors: dict[str, Any], prepared: Prepared
    ) -> None:
        self.entities = {
            e.entity_id: e for e in entities.values() if e.exposed and not e.hidden and e.entity_category is None
        }
        self.prepared = prepared
        special = {prepared.injected, *prepared.twins}
        lights = [e for e in self.of("light") if e.area_id and e.entity_id not in special]
        color = next(e for e in lights if "hs" in (e.attributes.get("supported_color_modes") or ()))
        cover = next(
            e
            for e in self.of("cover")
            if (e.attributes.get("supported_features") or 0) & 4
            and e.device_class not in ("garage", "gate", "door")
            and e.area_id
        )
        climate = next(e for e in self.of("climate") if e.area_id)
        climate_areas = {e.area_id for e in self.of("climate")}
        sensor = next(
            e
            for e in self.of("sensor")
            if e.device_class == "temperature" and e.area_id and e.area_id not in climate_areas
        )
        player = next(e for e in self.of("media_player") if e.area_id)
        playing = next(e for e in self.of("media_player") if e.area_id and e.state == "playing")
        self.ids: dict[str, str] = {
            "light": color.entity_id,
            "switch": self.of("switch")[0].entity_id,
            "fan": next(e for e in self.of("fan") if (e.attributes.get("supported_features") or 0) & 1).entity_id,
            "cover": cover.entity_id,
            "garage": next(e for e in self.of("cover") if e.device_class == "garage").entity_id,
            "climate": climate.entity_id,
            "sensor": sensor.entity_id,
            "player": player.entity_id,
            "scene": self.of("scene")[0].entity_id,
            "window": next(e for e in self.of("binary_sensor") if e.device_class == "window").entity_id,
            "script": prepared.script,
            "lock": prepared.lock,
            "injected": prepared.injected,
            **prepared.helpers,
        }
        self.areas: dict[str, str] = {  # each was chosen with an area
            "light_area": str(color.area_id),
            "cover_area": str(cover.area_id),
            "climate_area": str(climate.area_id),
            "sensor_area": str(sensor.area_id),
            "playing_area": str(playing.area_id),
        }
        self.words = {key: self.entities[e].name for key, e in self.ids.items()}
        self.words |= {key: areas[a].name for key, a in self.areas.items()}
        self.floor = areas[self.areas["light_area"]].floor_id
        self.words["floor"] = floors[self.floor].name
        self.words["option"] = self.entities[self.ids["input_select"]].attributes["options"][-1]
        self.words["cover_class"] = f"{cover.device_class}s"

    def of(self, domain: str) -> list[Entity]:
        return [e for _, e in sorted(self.entities.items()) if e.domain == domain]

    def group(
        self,
        domain: str,
        *,
        area: str | None = None,
        floor: bool = False,
        device_class: str | None = None,
        state: str | None = None,
    ) -> list[str]:
        """Usable entities of a kind in an area/floor, as HA would target them."""
        return [
            e.entity_id
            for e in self.of(domain)
            if (area is None or e.area_id == self.areas[area])
            and (not floor or e.floor_id == self.floor)
            and (device_class is None or e.device_class == device_class)
            and (state is None or e.state == state)
        ]

    def sentence(self, template: str) -> str:
        return template.format(**self.words)


@dataclass
class Local:
    env: Env
    picks: Picks
    engine: LocalEngine
    toolbox: Toolbox
    tool_env: ToolEnv

    @property
    def home(self) -> LocalHome:
        return self.tool_env.home  # one view of the home, as the agent has: tools and intents share it

    async def answer(self, message: str, engine: LocalEngine | None = None) -> LocalAnswer | None:
        return await (engine or self.engine).answer(message, self.home, self.toolbox, self.tool_env)

    def engine_with(self, **overrides: Any) -> LocalEngine:
        return LocalEngine(self.env.settings.model_copy(update=overrides).intents)

    def state(self, entity_id: str) -> str:
        return self.env.sim.home.states[entity_id]["state"]


@asynccontextmanager
async def local_home(tmp_path: Path) -> AsyncIterator[Local]:
    home = generate_home("medium")
    prepared = prepare(home)
    async with SimulatedHA(home) as sim, mirror_env(sim, tmp_path) as env:
        store = ToolStore(env.store.engine, home_id=env.settings.home_id)
        await store.migrate()
        tool_env = ToolEnv(
            "conversation-1",
            LocalHome(env.reader, Policy.from_settings(env.settings.tools)),
            HAActions(env.mirror.client),
            store,
        )
        entities = (await env.reader.kind_data("entities")).items
        areas = (await env.reader.kind_data("areas")).items
        floors = (await env.reader.kind_data("floors")).items
        picks = Picks(entities, areas, floors, prepared)
        yield Local(env, picks, LocalEngine(env.settings.intents), Toolbox(env.settings.tools), tool_env)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory) -> AsyncIterator[Local]:
    """One home for the tests that only recognise (nothing runs against it)."""
    async with local_home(tmp_path_factory.mktemp("intents")) as local:
        yield local


@pytest_asyncio.fixture(loop_scope="module")
async def fresh(tmp_path) -> AsyncIterator[Local]:
    """A home of its own, for tests that act on it."""
    async with local_home(tmp_path) as local:
        yield local


# --- the table: sentences and the tool calls they become ----------------------------------------
def svc(service: str, ids: list[str] | str, **data: Any) -> tuple[str, dict[str, Any]]:
    args: dict[str, Any] = {"service": service, "target": {"entity_id": [ids] if isinstance(ids, str) else ids}}
    if data:
        args["data"] = data
    return "call_service", args


def read(ids: list[str] | str) -> tuple[str, dict[str, Any]]:
    return "get_state", {"entities": [ids] if isinstance(ids, str) else ids}


def normalized(call: ToolCall | tuple[str, dict[str, Any] | str]) -> tuple[str, str]:
    """A call with its id lists sorted, as comparable text."""
    name, args = (call.name, call.parsed_arguments()) if isinstance(call, ToolCall) else call

    def sort_lists(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: sort_lists(v) for k, v in value.items()}
        return sorted(value) if isinstance(value, list) else value

    return name, json.dumps(sort_lists(args), sort_keys=True)


TABLE: list[tuple[str, Callable[[Picks], Expected]]] = [
    # on and off, by name
    ("turn on the {light}", lambda p: [svc("light.turn_on", p.ids["light"])]),
    ("Turn off {light}", lambda p: [svc("light.turn_off", p.ids["light"])]),
    ("switch on the {switch}", lambda p: [svc("switch.turn_on", p.ids["switch"])]),
    ("turn the {switch} off", lambda p: [svc("switch.turn_off", p.ids["switch"])]),
    ("turn on the {fan}", lambda p: [svc("fan.turn_on", p.ids["fan"])]),
    ("turn off the {player}", lambda p: [svc("media_player.turn_off", p.ids["player"])]),
    # by area and floor
    ("turn on the lights in the {light_area}", lambda p: [svc("light.turn_on", p.group("light", area="light_area"))]),
    ("turn off the {light_area} lights", lambda p: [svc("light.turn_off", p.group("light", area="light_area"))]),
    ("turn off the lights on the {floor}", lambda p: [svc("light.turn_off", p.group("light", floor=True))]),
    (
        "close the {cover_class} in the {cover_area}",
        lambda p: [
            svc(
                "cover.close_cover",
                p.group("cover", area="cover_area", device_class=p.entities[p.ids["cover"]].device_class),
            )
        ],
    ),
    # brightness and colour
    ("set {light} to 40%", lambda p: [svc("light.turn_on", p.ids["light"], brightness_pct=40)]),
    (
        "set the brightness of the {light} to 75 percent",
        lambda p: [svc("light.turn_on", p.ids["light"], brightness_pct=75)],
    ),
    ("set the {light} to red", lambda p: [svc("light.turn_on", p.ids["light"], color_name="red")]),
    ("make the {light} blue", lambda p: [svc("light.turn_on", p.ids["light"], color_name="blue")]),
    (
        "set the {light} color temperature to 3000 kelvin",
        lambda p: [svc("light.turn_on", p.ids["light"], color_temp_kelvin=3000)],
    ),
    (
        "set the {light_area} brightness to 30%",
        lambda p: [svc("light.turn_on", p.group("light", area="light_area"), brightness_pct=30)],
    ),
    # covers
    ("open the {cover}", lambda p: [svc("cover.open_cover", p.ids["cover"])]),
    ("close the {cover}", lambda p: [svc("cover.close_cover", p.ids["cover"])]),
    ("set {cover} to 50%", lambda p: [svc("cover.set_cover_position", p.ids["cover"], position=50)]),
    ("set the {cover} position to 20%", lambda p: [svc("cover.set_cover_position", p.ids["cover"], position=20)]),
    ("open the {garage}", lambda p: [svc("cover.open_cover", p.ids["garage"])]),
    # climate
    ("set the {climate} to 21 degrees", lambda p: [svc("climate.set_temperature", p.ids["climate"], temperature=21)]),
    (
        "set the temperature in the {climate_area} to 19.5",
        lambda p: [svc("climate.set_temperature", p.group("climate", area="climate_area"), temperature=19.5)],
    ),
    ("what is the temperature in the {climate_area}", lambda p: [read(p.group("climate", area="climate_area"))]),
    (
        "what is the temperature in the {sensor_area}",
        lambda p: [read(p.group("sensor", area="sensor_area", device_class="temperature"))],
    ),
    # media
    ("pause the {player}", lambda p: [svc("media_player.media_pause", p.ids["player"])]),
    ("resume the {player}", lambda p: [svc("media_player.media_play", p.ids["player"])]),
    ("next track on the {player}", lambda p: [svc("media_player.media_next_track", p.ids["player"])]),
    ("set the {player} volume to 30%", lambda p: [svc("media_player.volume_set", p.ids["player"], volume_level=0.3)]),
    ("increase the volume on the {player}", lambda p: [svc("media_player.volume_up", p.ids["player"])]),
    ("mute the {player}", lambda p: [svc("media_player.volume_mute", p.ids["player"], is_volume_muted=True)]),
    (
        "pause the music in the {playing_area}",
        lambda p: [svc("media_player.media_pause", p.group("media_player", area="playing_area", state="playing"))],
    ),
    # fans
    ("set the {fan} speed to 50%", lambda p: [svc("fan.set_percentage", p.ids["fan"], percentage=50)]),
    # scenes, scripts, helpers
    ("activate {scene}", lambda p: [("activate_scene", {"scene": p.ids["scene"]})]),
    ("run {script}", lambda p: [("run_script", {"script": p.ids["script"]})]),
    ("turn on {input_boolean}", lambda p: [("set_helper", {"helper": p.ids["input_boolean"], "value": True})]),
    ("turn off {input_boolean}", lambda p: [("set_helper", {"helper": p.ids["input_boolean"], "value": False})]),
    ("set {input_number} to 25", lambda p: [("set_helper", {"helper": p.ids["input_number"], "value": "25"})]),
    (
        "set the {input_select} to {option}",
        lambda p: [("set_helper", {"helper": p.ids["input_select"], "value": p.words["option"]})],
    ),
    (
        "set {input_text} to hello there",
        lambda p: [("set_helper", {"helper": p.ids["input_text"], "value": "hello there"})],
    ),
    # locks
    (f"unlock the {FRONT_DOOR}", lambda p: [svc("lock.unlock", p.ids["lock"])]),
    (f"lock the {FRONT_DOOR}", lambda p: [svc("lock.lock", p.ids["lock"])]),
    # state questions
    ("is the {window} open", lambda p: [read(p.ids["window"])]),
    ("is the {garage} open", lambda p: [read(p.ids["garage"])]),
    (f"is the {FRONT_DOOR} locked", lambda p: [read(p.ids["lock"])]),
    ("what is the {sensor}", lambda p: [read(p.ids["sensor"])]),
    ("which lights are on", lambda p: [read(p.group("light"))]),
    ("which lights are on in the {light_area}", lambda p: [read(p.group("light", area="light_area"))]),
    ("are any lights on in the {light_area}", lambda p: [read(p.group("light", area="light_area"))]),
    ("how many lights are on", lambda p: [read(p.group("light"))]),
    ("are all the lights off", lambda p: [read(p.group("light"))]),
]


@pytest.mark.parametrize(("template", "expected"), TABLE, ids=[t for t, _ in TABLE])
async def test_sentence_becomes_tool_calls(shared: Local, template: str, expected: Callable[[Picks], Expected]):
    sentence = shared.picks.sentence(template)
    match = await shared.engine.handle(sentence, shared.home)
    assert match is not None, f"{sentence!r} not recognised"
    assert match.certain, (sentence, match.problem)
    wanted = expected(shared.picks)
    assert all(args.get("target", {}).get("entity_id", True) for _, args in wanted), "the home lacks a target"
    assert sorted(map(normalized, match.calls)) == sorted(map(normalized, wanted)), sentence


async def test_the_table_is_long_enough():
    assert len(TABLE) >= 40


# --- what the engine does not know ----------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence", ["tell me a joke", "what's the weather like", "set a timer for 5 minutes", "", "turn off the kitchen"]
)
async def test_unknown_sentences_are_not_matched(shared: Local, sentence: str):
    assert await shared.engine.handle(sentence, shared.home) is None
    assert await shared.answer(sentence) is None


async def test_help_reply_says_what_works_here_and_how_to_add_a_model(shared: Local):
    await shared.engine.handle("tell me a joke", shared.home)  # the engine has seen the home
    reply = shared.engine.help_reply()
    for setting in ("LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL"):
        assert setting in reply
    assert shared.picks.words["light"] in reply or any(e.name in reply for e in shared.picks.of("light"))
    assert "which lights are on" in reply


async def test_a_shared_name_is_not_certain(shared: Local):
    match = await shared.engine.handle(f"turn on the {TWIN_ALIAS}", shared.home)
    assert isinstance(match, IntentMatch) and not match.certain and match.calls == []
    twins = [shared.picks.entities[e].name for e in shared.picks.prepared.twins]
    assert all(name in (match.problem or "") for name in twins)
    # No model configured: the question goes back to the user; nothing ran.
    answer = await shared.answer(f"turn on the {TWIN_ALIAS}")
    assert answer is not None and answer.outcomes == [] and "Which one" in answer.reply
    # With a model: only certain matches are answered locally; the model gets the rest.
    fast = shared.engine_with(llm_base_url="http://127.0.0.1:9/v1")
    assert fast.mode == "fast_path"
    assert await shared.answer(f"turn on the {TWIN_ALIAS}", fast) is None


async def test_modes_follow_the_settings(shared: Local):
    assert shared.engine.mode == "local"
    off = shared.engine_with(llm_base_url="http://127.0.0.1:9/v1", intents_fast_path=False)
    assert off.mode == "off"
    assert await shared.answer("which lights are on", off) is None


async def test_language_setting(shared: Local):
    german = shared.engine_with(intents_language="de")
    match = await german.handle(f"schalte {shared.picks.words['light']} ein", shared.home)
    assert match is not None and [normalized(c) for c in match.calls] == [
        normalized(svc("light.turn_on", shared.picks.ids["light"]))
    ]
    with pytest.raises(SettingsError, match="INTENTS_LANGUAGE is invalid"):
        shared.engine_with(intents_language="xx")


async def test_the_vocabulary_is_built_once_per_layout(fresh: Local):
    engine, home = fresh.engine, fresh.home
    await engine.handle("which lights are on", home)
    vocabulary = engine.vocabulary
    await fresh.answer(fresh.picks.sentence("turn on the {light}"))  # a state change only
    await engine.handle("which lights are on", home)
    assert engine.vocabulary is vocabulary
    light = fresh.picks.ids["light"]
    fresh.env.sim.home.update_entity(light, aliases=["disco ball"])
    await wait_for(lambda: "disco ball" in fresh.env.peek("entities")[light].aliases, what="alias mirrored")
    match = await engine.handle("turn off the disco ball", home)
    assert engine.vocabulary is not vocabulary
    assert match is not None and [normalized(c) for c in match.calls] == [normalized(svc("light.turn_off", light))]


# --- answers: through the tools, from the mirror ----------------------------------------------------
async def test_a_command_runs_through_the_tools_and_says_the_new_state(fresh: Local):
    light = fresh.picks.ids["light"]
    answer = await fresh.answer(fresh.picks.sentence("set {light} to 40%"))
    assert answer is not None and answer.intent == "HassLightSet"
    (outcome,) = answer.outcomes
    assert outcome.error is None and outcome.name == "call_service"
    assert fresh.state(light) == "on"
    assert answer.reply == f"Done: {fresh.picks.words['light']} is now on at 40% brightness."
    audit = await fresh.tool_env.store.list_audit(conversation_id="conversation-1")
    assert [entry["tool"] for entry in audit] == ["call_service"]


async def test_state_questions_are_answered_from_the_mirror(fresh: Local):
    picks, sim = fresh.picks, fresh.env.sim.home
    window = sim.states[picks.ids["window"]]["state"]
    answer = await fresh.answer(picks.sentence("is the {window} open"))
    assert answer is not None and answer.outcomes[0].name == "get_state"
    assert answer.reply.startswith("Yes" if window == "on" else "No")
    assert ("open" if window == "on" else "closed") in answer.reply

    sensor = sim.states[picks.ids["sensor"]]
    answer = await fresh.answer(picks.sentence("what is the {sensor}"))
    assert answer is not None and f"{sensor['state']} {sensor['attributes']['unit_of_measurement']}" in answer.reply

    climate = sim.states[picks.ids["climate"]]["attributes"]["current_temperature"]
    answer = await fresh.answer(picks.sentence("what is the temperature in the {climate_area}"))
    assert answer is not None and f"{climate}°" in answer.reply and picks.words["climate_area"] in answer.reply

    on = [picks.entities[e].name for e in picks.group("light") if sim.states[e]["state"] == "on"]
    off = [picks.entities[e].name for e in picks.group("light") if sim.states[e]["state"] != "on"]
    assert on and off
    answer = await fresh.answer("which lights are on")
    assert answer is not None
    assert all(name in answer.reply for name in on[:10]) and not any(name in answer.reply for name in off)
    answer = await fresh.answer("how many lights are on")
    assert answer is not None and answer.reply.startswith(f"{len(on)} lights are on")


async def test_an_error_is_said_simply(fresh: Local):
    helper = fresh.picks.entities[fresh.picks.ids["input_number"]]
    high = helper.attributes["max"]
    answer = await fresh.answer(fresh.picks.sentence(f"set {{input_number}} to {high + 1000}"))
    assert answer is not None and answer.outcomes[0].error is not None
    assert answer.reply.startswith(f"I could not set {helper.name} to {high + 1000}: ")
    assert "takes a number from" in answer.reply and "refused" not in answer.reply


async def test_an_entity_withdrawn_from_the_assistant_is_no_longer_understood(fresh: Local):
    player = fresh.picks.ids["player"]
    fresh.env.sim.home.set_exposed([player], False)  # the owner withdraws it after the words were learnt
    await wait_for(lambda: not fresh.env.peek("entities")[player].exposed, what="exposure mirrored")
    match = await fresh.engine.handle(fresh.picks.sentence("pause the {player}"), fresh.home)
    assert match is None  # an unexposed entity is not a word the engine knows


async def test_unlocking_asks_for_confirmation_and_unlocks_nothing(fresh: Local):
    lock = fresh.picks.ids["lock"]
    assert fresh.state(lock) == "locked"
    answer = await fresh.answer(f"unlock the {FRONT_DOOR}")
    assert answer is not None
    (outcome,) = answer.outcomes
    assert outcome.needs_confirmation and outcome.error is None
    name = fresh.picks.words["lock"]
    # The engine says nothing of it: the question is the toolbox's, from the recorded call.
    assert answer.reply == ""
    question = await fresh.toolbox.open_question(fresh.tool_env)
    assert (
        question is not None and question.question == f"Unlock the {name}? Say yes to go ahead; anything else cancels."
    )
    assert fresh.state(lock) == "locked"
    # The yes is the toolbox's to hear (before any engine); "no" cancels.
    resolution = await fresh.toolbox.resolve_pending("no", fresh.tool_env)
    assert resolution is not None and resolution.cancelled and fresh.state(lock) == "locked"


async def test_a_name_that_reads_like_an_order_is_only_a_name(fresh: Local):
    lock, injected = fresh.picks.ids["lock"], fresh.picks.ids["injected"]
    assert fresh.picks.entities[injected].name == INJECTION
    turn_on_the_light = [normalized(svc("light.turn_on", injected))]
    # HA reads a light's bare name as "turn it on": the light is turned on, and only the light.
    for message in (INJECTION.lower(), f"turn on {INJECTION}"):
        answer = await fresh.answer(message)
        assert answer is not None
        assert [normalized((o.name, o.arguments)) for o in answer.outcomes] == turn_on_the_light
        assert not any(o.needs_confirmation for o in answer.outcomes)
    assert fresh.state(lock) == "locked" and fresh.state(injected) == "on"
    assert await fresh.engine.handle(f"{INJECTION} now", fresh.home) is None  # words around it: not a sentence
