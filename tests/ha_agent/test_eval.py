"""`ha-agent eval`: reading sets as published, scoring, and running cases through the real stack
(simulated HA → mirror → agent over HTTP), on the local engine and on a scripted model."""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from data_api.platform.settings import Settings, load_settings
from data_api.simulator import load_home
from ha_agent.cli import main
from ha_agent.eval import EvalOptions, EvalSetError, build, format_markdown, load_set, run_set, score
from ha_agent.eval.loader import ALL, read_tasks
from ha_agent.eval.progress import ProgressBar
from ha_agent.eval.runner import path_settings
from ha_agent.eval.scoring import changes, claims_success, is_apology, value_matches, whole_domains
from ha_agent.eval.stack import MirrorBarrier, serve_home
from ha_agent.simulator.scripted_server import Reply, ScriptedLLMServer
from tests.support.agent import system_prompt

# A home written the way published sets write them: an area only referenced (Porch), entities
# without devices, HA enums as text, booleans and numbers as states, a scene's target states
# beside its attributes (as HA's scenes.yaml writes them).
FIXTURE = """
floors: [{name: Ground Floor, id: ground}]
areas:
  - {name: Kitchen, id: kitchen, floor: ground, aliases: [Cooking Area]}
  - {name: Hallway, id: hallway}
devices:
  - {name: Kitchen Light, id: kitchen_light, area: kitchen, info: {manufacturer: Acme, model: Bulb}}
  - {name: Hall Sensor, id: hall_sensor, area: hallway}
entities:
  - name: Kitchen Light
    id: light.kitchen_light
    device: kitchen_light
    state: "off"
    attributes: {supported_color_modes: [brightness], color_mode: null, brightness: null}
  - {name: Porch Light, id: light.porch_light, area: Porch, state: false}
  - {name: Front Door Lock, id: lock.front_door_lock, area: hallway, state: true}
  - name: Garage Door
    id: cover.garage_door
    state: true
    attributes: {device_class: cover.CoverDeviceClass.GARAGE}
  - name: Back Door
    id: binary_sensor.back_door
    device: hall_sensor
    state: true
    attributes: {device_class: binary_sensor.BinarySensorDeviceClass.DOOR}
  - name: Hall Temperature
    id: sensor.hall_temperature
    device: hall_sensor
    state: 19.5
    attributes: {unit_of_measurement: UnitOfTemperature.CELSIUS, device_class: temperature}
  - name: Relax
    id: scene.relax
    entities: {light.kitchen_light: {state: "on", brightness: 128}}
"""

# Our own format: a category list with the difficulty, flat expectations, area, previous.
OWN_TASKS = """
category: [lights, template]
tests:
  - sentences: [Turn on the kitchen light]
    setup: {light.kitchen_light: {state: "off"}}
    expect_changes: {light.kitchen_light: {state: "on"}}
  - sentences: [Is the back door open?]
    setup: {binary_sensor.back_door: {state: "off"}}
    expect_changes: {}
    expect_response: ["closed", "no"]
  - sentences: [Activate relax]
    setup: {light.kitchen_light: {state: "off"}}
    expect_changes: {light.kitchen_light: {state: "on", brightness: 128}}
"""

# HA's leaderboard's format: a plain category, HA-shaped expectations, ignore_changes as a
# mapping, a single string expect_response, context_now and context_device, hassil syntax.
LEADERBOARD_TASKS = """
---
category: cover
tests:
  - sentences:
      - "open [the] (garage|carport) door"
    setup:
      cover.garage_door:
        state: closed
    expect_changes:
      cover.garage_door:
        state: opening
        attributes: {}
    ignore_changes:
      cover.garage_door:
        current_position: 0
    context_now: 2025-04-02 08:30+10:00
    context_device: hall_sensor
  - sentences: What is the hall temperature?
    expect_response: "19.5"
"""


def write_home(root: Path, name: str, tasks: dict[str, str], fixture: str = FIXTURE) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "_fixtures.yaml").write_text(textwrap.dedent(fixture))
    (folder / "_home.yaml").write_text("name: Test Home\ncountry_code: NL\n")
    for file, text in tasks.items():
        (folder / file).write_text(textwrap.dedent(text))
    return folder


@pytest.fixture
def eval_set_path(tmp_path: Path) -> Path:
    root = tmp_path / "set"
    write_home(root, "own", {"lights_template.yaml": OWN_TASKS})
    write_home(root, "board", {"cover.yaml": LEADERBOARD_TASKS})
    (root / "dataset_card.yaml").write_text("name: test-set\ndescription: two homes\ncount: 1\n")
    return root


def local_settings() -> Settings:
    return load_settings(llm_base_url=None, llm_provider="local")


# --- reading sets ---------------------------------------------------------------------------------
def test_a_set_is_read_as_published(eval_set_path: Path) -> None:
    eval_set = load_set(eval_set_path)
    assert (eval_set.name, eval_set.count) == ("test-set", 1)
    assert [home.name for home in eval_set.homes] == ["board", "own"]
    board, own = eval_set.homes
    garage, question = board.cases
    assert garage.sentence == "open the garage door"  # hassil: optional kept, first alternative
    assert (garage.category, garage.labels, garage.difficulty) == ("cover", ("cover",), "unmarked")
    assert garage.expect_changes["cover.garage_door"].as_dict() == {"state": "opening"}
    assert garage.ignore_changes == {"cover.garage_door": frozenset({"current_position"})}
    assert garage.context_now is not None and garage.context_now.utcoffset().total_seconds() == 36000
    assert garage.context_device == "hall_sensor" and garage.id == "board/cover#1.1"
    assert question.sentence == "What is the hall temperature?" and question.expect_response == ("19.5",)
    assert question.is_question and question.expect_changes == {}
    turn_on, _, relax = own.cases
    assert (turn_on.category, turn_on.difficulty) == ("lights", "template")
    assert relax.expect_changes["light.kitchen_light"].as_dict() == {"state": "on", "brightness": 128}
    # The scene's targets, written beside its attributes, reach the simulator.
    home = load_home(own.fixture)
    assert home.scenes["scene.relax"]["light.kitchen_light"]["attributes"] == {"brightness": 128}


def test_a_home_folder_alone_is_a_set(eval_set_path: Path) -> None:
    eval_set = load_set(eval_set_path / "own")
    assert [home.name for home in eval_set.homes] == ["own"] and len(eval_set.cases) == 3
    assert eval_set.name == "own" and eval_set.count == 1


def test_the_fixture_edge_cases_load_as_ha_would_hold_them(eval_set_path: Path) -> None:
    home = load_home(load_set(eval_set_path / "own").homes[0].fixture)
    porch = next(area for area in home.areas.values() if area["name"] == "Porch")  # only referenced
    assert home.effective_area("light.porch_light") == porch["area_id"]
    assert home.entities["light.porch_light"]["device_id"] is None  # no device
    assert home.states["light.porch_light"]["state"] == "off"  # a boolean state, by domain
    assert home.states["cover.garage_door"]["state"] == "open"
    assert home.states["lock.front_door_lock"]["state"] == "locked"
    assert home.states["binary_sensor.back_door"]["attributes"]["device_class"] == "door"  # an enum
    assert home.states["sensor.hall_temperature"]["state"] == "19.5"  # a number
    assert home.states["sensor.hall_temperature"]["attributes"]["unit_of_measurement"] == "°C"


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("expect_changes: {light.x: {state: on}}", {"state": "on"}),  # YAML's on is a boolean
        ("expect_changes: {cover.x: {state: true}}", {"state": "open"}),
        ("expect_changes: {cover.x: closed}", {"state": "closed"}),  # a bare state
        ("expect_changes: {light.x: {brightness: 51}}", {"brightness": 51}),
        ("expect_changes: {climate.x: {hvac_mode: HVACMode.HEAT_COOL}}", {"hvac_mode": "heat_cool"}),
        ("expect_changes: {light.x: null}", {}),
    ],
)
def test_expectations_are_read_in_every_published_form(tmp_path: Path, written: str, read: dict) -> None:
    file = tmp_path / "t.yaml"
    file.write_text(f"category: [x, hard]\ntests:\n  - sentences: [s]\n    {written}\n")
    (case,) = read_tasks(file, home="h")
    assert next(iter(case.expect_changes.values())).as_dict() == read


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("[light.x, light.y]", {"light.x": frozenset({ALL}), "light.y": frozenset({ALL})}),
        ("{light.x: [brightness, state]}", {"light.x": frozenset({"brightness", "state"})}),
        ("{light.x: {brightness: 0}}", {"light.x": frozenset({"brightness"})}),
        ("{Light.X: null}", {"light.x": frozenset({ALL})}),
    ],
)
def test_ignore_changes_in_every_published_form(tmp_path: Path, written: str, read: dict) -> None:
    file = tmp_path / "t.yaml"
    file.write_text(f"category: x\ntests:\n  - sentences: [s]\n    ignore_changes: {written}\n")
    assert read_tasks(file, home="h")[0].ignore_changes == read


def test_a_set_naming_entities_its_home_does_not_have_says_each_one(tmp_path: Path) -> None:
    write_home(
        tmp_path,
        "h",
        {
            "a.yaml": """
        category: x
        tests:
          - sentences: [s]
            setup: {light.kitchen_lite: {state: "on"}}
            expect_changes: {light.nope: {state: "on"}}
    """
        },
    )
    with pytest.raises(EvalSetError) as raised:
        load_set(tmp_path)
    assert "light.kitchen_lite" in str(raised.value) and "light.nope" in str(raised.value)


def test_a_limit_samples_every_file_of_a_home() -> None:
    home = load_set().select(homes=["studio_flat"], limit=6).homes[0]
    assert len(home.cases) == 6 and len({case.category for case in home.cases}) == 6
    with pytest.raises(EvalSetError, match="no home nowhere"):
        load_set().select(homes=["nowhere"])


def test_the_shipped_set_has_what_the_issue_asks() -> None:
    shipped = load_set()
    assert len(shipped.homes) >= 5 and len(shipped.cases) >= 400
    assert {case.difficulty for case in shipped.cases} == {"template", "hard"}


# --- scoring ---------------------------------------------------------------------------------------
def state(value: str, **attributes: Any) -> dict[str, Any]:
    return {"state": value, "attributes": attributes}


def case_of(tmp_path: Path, test: str) -> Any:
    file = tmp_path / "t.yaml"
    file.write_text("category: [c, template]\ntests:\n" + textwrap.indent(textwrap.dedent(test), "  "))
    return read_tasks(file, home="h")[0]


BEFORE = {
    "light.a": state("off", brightness=None, color_mode=None),
    "light.b": state("off"),
    "scene.s": state("unknown"),
    "script.x": state("off", last_triggered=None, current=0),
}


def test_a_diff_that_matches_passes(tmp_path: Path) -> None:
    case = case_of(tmp_path, "- sentences: [s]\n  expect_changes: {light.a: {state: 'on', brightness: 102}}\n")
    after = {**BEFORE, "light.a": state("on", brightness=103, color_mode="brightness")}  # 40 %: 102 or 103
    verdict = score(case, BEFORE, after, ["Turned on Light A."])
    assert verdict.passed and not verdict.false_success, verdict.reasons
    assert verdict.changes["light.a"]["attributes"]["color_mode"] == [None, "brightness"]  # shown, not judged


def test_an_extra_entity_changed_fails(tmp_path: Path) -> None:
    case = case_of(tmp_path, "- sentences: [s]\n  expect_changes: {light.a: {state: 'on'}}\n")
    after = {**BEFORE, "light.a": state("on"), "light.b": state("on")}
    verdict = score(case, BEFORE, after, ["Turned on the lights."])
    assert not verdict.passed and verdict.reasons == ["light.b changed, which was not expected"]
    assert verdict.false_success  # it said it did, and the home does not show what was asked


def test_nothing_changed_fails_and_a_claim_of_it_is_false(tmp_path: Path) -> None:
    case = case_of(tmp_path, "- sentences: [s]\n  expect_changes: {light.a: {state: 'on'}}\n")
    verdict = score(case, BEFORE, BEFORE, ["Done."])
    assert not verdict.passed and verdict.false_success
    assert verdict.reasons == ["light.a: state is 'off', expected 'on'"]
    honest = score(case, BEFORE, BEFORE, ["Sorry, I could not find Light A."])
    assert not honest.passed and not honest.false_success
    assert "the reply says it failed" in honest.reasons


def test_ignored_and_volatile_changes_are_not_judged(tmp_path: Path) -> None:
    case = case_of(
        tmp_path,
        """
        - sentences: [s]
          expect_changes: {light.a: {state: 'on'}}
          ignore_changes: {light.b: [state]}
    """,
    )
    after = {
        **BEFORE,
        "light.a": state("on"),
        "light.b": state("on"),
        "scene.s": state("2026-01-01T10:00:00+00:00"),  # a scene's state is when it was used
        "script.x": state("off", last_triggered="2026-01-01T10:00:00+00:00", current=0),
    }
    verdict = score(case, BEFORE, after, ["Done."])
    assert verdict.passed, verdict.reasons
    assert set(verdict.changes) == {"light.a"}


def test_values_match_as_a_person_would_read_them() -> None:
    assert value_matches("state", "ON", "on") and value_matches("state", "open", "opening", "cover")
    assert not value_matches("state", "open", "opening", "light")
    assert value_matches("brightness", 76, 77) and not value_matches("brightness", 76, 78)
    assert value_matches("temperature", 21, "21.0") and not value_matches("temperature", 21, 21.5)
    assert value_matches("rgb_color", [255, 0, 0], (254, 0, 1)) and not value_matches(
        "rgb_color", [255, 0, 0], [255, 0]
    )
    assert value_matches("source", "YouTube", "youtube") and value_matches("is_volume_muted", True, True)
    assert not value_matches("is_volume_muted", True, False) and value_matches("media_title", None, None)


def test_a_question_passes_on_its_answer_and_fails_on_a_change_or_a_wrong_answer(tmp_path: Path) -> None:
    case = case_of(tmp_path, "- sentences: [s]\n  expect_changes: {}\n  expect_response: ['19.5', '19,5']\n")
    assert score(case, BEFORE, BEFORE, ["It is 19.5 °C in the hall."]).passed
    wrong = score(case, BEFORE, BEFORE, ["It is 21 °C."])
    assert not wrong.passed and wrong.reasons == ["the reply holds none of: '19.5', '19,5'"]
    touched = score(case, BEFORE, {**BEFORE, "light.b": state("on")}, ["It is 19.5 °C."])
    assert not touched.passed and "light.b changed, which was not expected" in touched.reasons


def test_a_reply_that_did_not_understand_never_passes(tmp_path: Path) -> None:
    """A help text naming the very light the question back should name is not a question back."""
    case = case_of(tmp_path, "- sentences: [s]\n  expect_response: ['which', 'Light A']\n")
    verdict = score(case, BEFORE, BEFORE, ['Sorry, I did not understand that. Try "turn on Light A".'])
    assert not verdict.passed and "the reply says it did not understand" in verdict.reasons
    assert score(case, BEFORE, BEFORE, ["Which light: Light A or Light B?"]).passed


def test_claims_and_apologies_are_told_apart() -> None:
    for claim in ("Done: Light A is now on.", "Turned off Light A.", "OK, I've set the heating to 21.",
                  "Activated Relax.", "Opened the Garage Door."):  # fmt: skip
        assert claims_success(claim), claim
    for answer in ("Yes, the back door is closed.", "Which light do you mean?", "It is 19.5 °C."):
        assert not claims_success(answer), answer
    assert claims_success("Locked.") and not claims_success("Locked.", strict=True)
    for apology in ("Sorry, I could not find it.", "I couldn't turn on Light A: it is unavailable.",
                    "I am unable to do that.", "Unfortunately that failed."):  # fmt: skip
        assert is_apology(apology), apology
    assert not is_apology("Turned on Light A.")


def test_every_light_off_may_reach_the_distractors_but_one_light_may_not(tmp_path: Path) -> None:
    every = case_of(
        tmp_path, "- sentences: [s]\n  expect_changes: {light.a: {state: 'off'}, light.b: {state: 'off'}}\n"
    )
    before = {
        "light.a": state("on"),
        "light.b": state("on"),
        "light.c": state("off"),  # c: off already
        "light.annex_lamp": state("on"),
        "switch.annex_heater": state("on"),
    }
    after = {**before, "light.a": state("off"), "light.b": state("off"), "light.annex_lamp": state("off")}
    written = ["light.a", "light.b", "light.c", "switch.x"]
    allowed = whole_domains(every, before, written, lambda eid: True)
    assert set(allowed) == {"light.annex_lamp"}  # the domain's distractors; not the switch
    assert score(every, before, after, ["Turned off the lights."], allowed).passed
    assert not score(every, before, after, ["Turned off the lights."]).passed  # without the allowance
    dimmed = {**after, "light.annex_lamp": state("on", brightness=10)}  # changed, but not as asked
    assert not score(every, before, dimmed, ["Done."], allowed).passed
    one = case_of(tmp_path, "- sentences: [s]\n  expect_changes: {light.a: {state: 'off'}}\n")
    assert whole_domains(one, before, written, lambda eid: True) == {}
    still_on = {**before, "light.c": state("on")}  # a light of the home left on: not "every light"
    assert whole_domains(every, still_on, written, lambda eid: True) == {}


def test_changes_show_entities_that_appear_and_go() -> None:
    found = changes({"light.a": state("on")}, {"light.b": state("on")})
    assert found == {"light.a": {"state": ["on", None]}, "light.b": {"state": [None, "on"]}}


# --- running cases through the real stack ---------------------------------------------------------
async def test_the_local_engine_runs_a_set_end_to_end(eval_set_path: Path) -> None:
    eval_set = load_set(eval_set_path / "own")
    run = await run_set(eval_set, local_settings(), EvalOptions(paths=("local",)))
    by_sentence = {r.case.sentence: r for r in run.results}
    turned_on = by_sentence["Turn on the kitchen light"]
    assert turned_on.passed, turned_on.reasons
    assert turned_on.changes["light.kitchen_light"]["state"] == ["off", "on"]
    assert turned_on.turns[0].path == "local" and turned_on.turns[0].status == 200
    # The setup closed the door the fixture has open: answered right only if the mirror saw it.
    question = by_sentence["Is the back door open?"]
    assert question.passed, (question.reasons, question.reply)
    relax = by_sentence["Activate relax"]
    assert relax.passed, (relax.reasons, relax.reply)  # the scene's targets, its own state ignored
    report = build(eval_set, EvalOptions(paths=("local",)), run)
    summary = report["paths"]["local"]
    assert summary["cases"] == 3 and summary["passed"] == sum(r.passed for r in run.results)
    assert summary["by_difficulty"]["template"]["cases"] == 3 and summary["latency_ms"]["p50"] > 0


async def test_the_barrier_waits_until_the_mirror_holds_what_the_home_wrote(
    eval_set_path: Path, tmp_path: Path
) -> None:
    home = load_home(load_set(eval_set_path / "own").homes[0].fixture)
    async with serve_home(home, path_settings(local_settings(), ("local",)), tmp_path) as (_, served):
        mirror = served["local"].mirror
        barrier = MirrorBarrier(home, [mirror])

        def held() -> str:
            return mirror.tiers["entities"].last.items["light.kitchen_light"].state

        home.apply_setup({"light.kitchen_light": {"state": "on"}})
        assert held() == "off"  # sent, not yet received: what a sentence would race
        await barrier.wait()
        assert held() == "on"
        await mirror.stop()  # a mirror that stops following never catches up: said, not hung
        home.apply_setup({"light.kitchen_light": {"state": "off"}})
        with pytest.raises(TimeoutError):
            await barrier.wait(timeout=0.3)
        barrier.close()


@pytest.fixture
async def llm() -> AsyncIterator[ScriptedLLMServer]:
    async with ScriptedLLMServer() as server:
        yield server


def model_settings(llm: ScriptedLLMServer) -> Settings:
    # The fast path off: every sentence goes to the scripted model.
    return load_settings(llm_base_url=llm.base_url, llm_model="gpt-4o-mini", intents_fast_path=False,
                         llm_max_retries=0)  # fmt: skip


def scripted(calls_by_sentence: dict[str, list[tuple[str, dict[str, Any]]]], done: str = "Done."):
    """A model that answers each sentence with its calls, then with `done` after the results."""

    def respond(body: dict[str, Any]) -> Reply:
        if body["messages"][-1]["role"] == "tool":
            return Reply.text(done, prompt_tokens=1200, cached_tokens=1000, completion_tokens=5)
        said = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        calls = calls_by_sentence.get(said)
        if calls is None:
            return Reply.text("Sorry, I can't help with that.", prompt_tokens=1100, completion_tokens=8)
        return Reply.tool_calls(calls, prompt_tokens=1000, completion_tokens=20)

    return respond


def turn_on(entity_id: str, **data: Any) -> tuple[str, dict[str, Any]]:
    domain = entity_id.split(".")[0]
    return (
        "call_service",
        {"service": f"{domain}.turn_on", "target": {"entity_id": [entity_id]}, **({"data": data} if data else {})},
    )


MODEL_TASKS = """
category: [lights, hard]
tests:
  - sentences: [Kitchen on please, Kitchen on now]
    setup: {light.kitchen_light: {state: "off"}}
    expect_changes: {light.kitchen_light: {state: "on"}}
  - sentences: [Lock up]
    setup: {lock.front_door_lock: {state: unlocked}}
    expect_changes: {lock.front_door_lock: {state: locked}}
  - sentences: [Now dim it to half]
    previous: [Kitchen on please]
    setup: {light.kitchen_light: {state: "off"}}
    expect_changes: {light.kitchen_light: {state: "on", brightness: 128}}
  - sentences: [Lights on in here]
    area: Cooking Area
    setup: {light.kitchen_light: {state: "off"}}
    expect_changes: {light.kitchen_light: {state: "on"}}
"""


async def test_the_model_path_is_scored_on_what_the_model_did(tmp_path: Path, llm: ScriptedLLMServer) -> None:
    eval_set = load_set(write_home(tmp_path, "home", {"model.yaml": MODEL_TASKS}))
    llm.responder = scripted({
        "Kitchen on please": [turn_on("light.kitchen_light")],
        "Kitchen on now": [turn_on("light.porch_light")],  # the wrong light
        "Lock up": [("call_service", {"service": "lock.lock", "target": {"entity_id": ["lock.front_door_lock"]}})],
        "Now dim it to half": [turn_on("light.kitchen_light", brightness_pct=50)],
        "Lights on in here": [turn_on("light.kitchen_light")],
    })  # fmt: skip
    options = EvalOptions(paths=("model",))
    run = await run_set(eval_set, model_settings(llm), options)
    results = {r.case.sentence: r for r in run.results}

    right, wrong = results["Kitchen on please"], results["Kitchen on now"]
    assert right.passed and right.turns[0].path == "llm", right.reasons
    assert not wrong.passed and wrong.false_success
    assert "light.porch_light changed, which was not expected" in wrong.reasons

    # A lock asks first: the harness says yes in the same conversation, and counts it.
    locked = results["Lock up"]
    assert locked.confirmed and locked.passed, (locked.reasons, locked.reply)
    assert [t.message for t in locked.turns] == ["Lock up", "yes"] and locked.turns[1].path == "confirmation"
    assert locked.turns[1].conversation_id == locked.turns[0].conversation_id

    # A follow-up: the earlier sentence in the same conversation, the snapshot taken after it.
    follow = results["Now dim it to half"]
    assert follow.passed, follow.reasons
    assert "state" not in follow.changes["light.kitchen_light"]  # on already, before the sentence
    asked = [r for r in llm.requests if r["messages"][-1].get("content") == "Now dim it to half"]
    assert [m["content"] for m in asked[0]["messages"] if m["role"] == "user"] == [
        "Kitchen on please",
        "Now dim it to half",
    ]

    # The speaker's area, given by an alias, reaches the agent as the area's id.
    here = [r for r in llm.requests if r["messages"][-1].get("content") == "Lights on in here"][0]
    assert "The person is in:" in system_prompt(here) and "(kitchen)" in system_prompt(here)

    summary = build(eval_set, options, run)["paths"]["model"]
    assert (summary["cases"], summary["passed"], summary["false_successes"], summary["confirmations"]) == (5, 4, 1, 1)
    assert summary["tokens_per_turn"]["prompt"] > 0 and summary["answered_by"] == {"llm": 5}


async def test_a_sets_language_reaches_the_agent(tmp_path: Path, llm: ScriptedLLMServer) -> None:
    root = tmp_path / "set"
    write_home(
        root,
        "thuis",
        {
            "lampen.yaml": """
        category: lights
        tests:
          - sentences: [Doe de keukenlamp aan]
            expect_changes: {light.kitchen_light: {state: "on"}}
    """
        },
    )
    (root / "dataset_card.yaml").write_text("name: nl-set\nlanguage: nl\n")
    eval_set = load_set(root)
    assert eval_set.homes[0].language == "nl"
    llm.responder = scripted({"Doe de keukenlamp aan": [turn_on("light.kitchen_light")]}, done="Gedaan.")
    run = await run_set(eval_set, model_settings(llm), EvalOptions(paths=("model",)))
    assert run.results[0].passed, run.results[0].reasons
    assert "Answer in language: nl" in system_prompt(llm.requests[0])


async def test_both_paths_run_each_case_on_the_same_home(tmp_path: Path, llm: ScriptedLLMServer) -> None:
    eval_set = load_set(write_home(tmp_path, "home", {"lights.yaml": OWN_TASKS}))
    llm.responder = scripted({})  # the model refuses everything
    options = EvalOptions(paths=("local", "model"))
    run = await run_set(eval_set, model_settings(llm), options)
    assert [(r.case.sentence, r.path) for r in run.results][:2] == [
        ("Turn on the kitchen light", "local"),
        ("Turn on the kitchen light", "model"),
    ]
    by_path = build(eval_set, options, run)["paths"]
    assert by_path["model"]["passed"] == 0 and by_path["local"]["passed"] >= 1
    assert len(run.homes) == 1  # one home, loaded once, for both paths


async def test_scale_pads_each_home_once_with_distractors(tmp_path: Path, llm: ScriptedLLMServer) -> None:
    eval_set = load_set(write_home(tmp_path, "home", {"model.yaml": MODEL_TASKS}))
    plain = len(eval_set.homes[0].fixture.entities)
    llm.responder = scripted({"Kitchen on please": [turn_on("light.kitchen_light")]})
    options = EvalOptions(paths=("model",), scale=300, count=2)
    run = await run_set(eval_set.select(categories=["lights"]), model_settings(llm), options)
    (home,) = run.homes
    assert home.entities >= plain + 300  # the distractors (and what they bring) are in the home
    first = [r for r in run.results if r.case.sentence == "Kitchen on please"]
    assert [r.run for r in first] == [0, 1] and all(r.passed for r in first)
    # The model saw the padded home: its context names far more than the fixture's entities.
    prompt = system_prompt(llm.requests[0])
    assert prompt.count("light.") > 10


# --- the command ---------------------------------------------------------------------------------------
def test_the_command_writes_json_and_markdown(eval_set_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    out, md = tmp_path / "r.json", tmp_path / "r.md"
    code = main(["eval", str(eval_set_path), "--home", "own", "--concurrency", "1", "--no-progress",
                 "--json", str(out), "--markdown", str(md)])  # fmt: skip
    assert code == 0
    report = json.loads(out.read_text())
    assert {"report", "version", "set", "options", "homes", "paths", "failures", "dataset_checks", "results"} <= set(
        report
    )
    local = report["paths"]["local"]
    assert {"cases", "passed", "pass_rate", "false_successes", "confirmations", "errors", "tokens_per_turn",
            "latency_ms", "by_difficulty", "by_category", "by_home"} <= set(local)  # fmt: skip
    assert local["cases"] == 3 and report["options"]["paths"] == ["local"]
    printed = capsys.readouterr().out
    assert printed == md.read_text() == format_markdown(report) or printed == md.read_text()
    assert "| local |" in printed and "### By category" in printed


def test_the_model_path_without_a_model_says_what_to_set(eval_set_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    assert main(["eval", str(eval_set_path), "--path", "model", "--no-progress"]) == 2
    assert "LLM_BASE_URL" in capsys.readouterr().err
    assert main(["eval", str(eval_set_path / "nowhere"), "--no-progress"]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_the_progress_bar_counts_and_stays_short_in_a_log() -> None:
    stream = io.StringIO()
    bar = ProgressBar(20, stream=stream)
    for index in range(20):
        bar.advance(index % 2 == 0)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("eval ▕") and "20/20" in lines[-1]
    assert "10 passed" in lines[-1] and "ETA" in lines[-1]


async def test_a_subset_of_the_shipped_set_runs_in_worker_processes() -> None:
    """Every shipped home, a few cases each, as `ha-agent eval` runs them (one worker per home
    at a time); the whole set belongs to `ha-agent bench`."""
    eval_set = load_set().select(limit=4)
    options = EvalOptions(paths=("local",), concurrency=2)
    run = await run_set(eval_set, local_settings(), options)
    assert len(run.results) == len(eval_set.cases) == 4 * len(eval_set.homes)
    assert [r.case.id for r in run.results] == [case.id for case in eval_set.cases]  # the set's order
    assert all(r.error is None and r.turns and r.turns[0].status == 200 for r in run.results), \
        [r.error for r in run.results if r.error]  # fmt: skip
    assert any(r.passed for r in run.results)
    assert {home.name for home in run.homes} == {home.name for home in eval_set.homes}
    report = build(eval_set, options, run)
    assert report["paths"]["local"]["cases"] == len(run.results)
    assert sum(row["cases"] for row in report["paths"]["local"]["by_home"].values()) == len(run.results)
