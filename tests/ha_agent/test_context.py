"""The LLM context: stable prefix, volatile tail, budget, relevance, sections failing alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from data_api.ha import HAClient
from data_api.mirror import Mirror, MirrorReader
from data_api.platform.settings import load_settings
from data_api.simulator import SimulatedHA, generate_home
from data_api.store import Store
from ha_agent.context import ContextBuilder
from ha_agent.context.render import names
from ha_agent.home import LocalHome, Policy
from ha_agent.tokens import count_tokens


class Home:
    def __init__(self, sim: SimulatedHA, mirror: Mirror) -> None:
        self.sim = sim
        self.mirror = mirror
        self.view = LocalHome(MirrorReader(mirror), Policy.from_settings(mirror.settings.tools))
        self.settings = mirror.settings

    def builder(self, **kwargs) -> ContextBuilder:
        return ContextBuilder(self.view, self.settings.context, **kwargs)

    async def change(self, command: str, **payload) -> None:
        """Change HA over its API and wait until the mirror has applied it."""
        before = {k: t.last.version for k, t in self.mirror.tiers.items()}
        async with HAClient(self.sim.url, self.sim.token) as client:
            await client.ws.send_command(command, **payload)
        for _ in range(500):
            if {k: t.last.version for k, t in self.mirror.tiers.items()} != before:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the mirror did not change")


async def _home(size: str, tmp_path) -> AsyncIterator[Home]:
    async with SimulatedHA(generate_home(size)) as sim:
        settings = load_settings(
            ha_url=sim.url, ha_token=sim.token, database_url=f"sqlite+aiosqlite:///{tmp_path}/ctx.db"
        )
        store = Store.from_settings(settings.db)
        mirror = Mirror(settings, store)
        await mirror.start(wait=True)
        try:
            yield Home(sim, mirror)
        finally:
            await mirror.stop()
            await store.close()


@pytest.fixture
async def small(tmp_path) -> AsyncIterator[Home]:
    async for home in _home("small", tmp_path):
        yield home


@pytest.fixture
async def large(tmp_path) -> AsyncIterator[Home]:
    async for home in _home("large", tmp_path):
        yield home


def _clock(minutes: int):
    return lambda: datetime(2026, 1, 5, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes)


async def test_prefix_is_byte_identical_across_turns_and_holds_no_clock(small):
    first = await small.builder(now=_clock(0)).build("turn on the kitchen light")
    second = await small.builder(now=_clock(7)).build("what is the temperature?")
    assert first.mode == "full"
    assert first.prefix == second.prefix
    # 08:00 UTC is 09:00 in the home's time zone (Europe/Amsterdam).
    assert "2026-01-05 09:00" in first.volatile and "2026-01-05 09:07" in second.volatile
    assert "2026-01-05" not in first.prefix and "Current time" not in first.prefix
    assert first.system_prompt.startswith(first.prefix) and first.system_prompt.endswith(first.volatile)


async def test_state_changes_touch_only_the_volatile_part(small):
    builder = small.builder()
    before = await builder.build("hi")
    light = sorted(e for e in small.sim.home.states if e.startswith("light."))[0]
    await small.change("call_service", domain="light", service="toggle", target={"entity_id": light})
    after = await builder.build("hi")
    assert after.prefix == before.prefix
    assert after.volatile != before.volatile


async def test_prefix_changes_when_the_home_does(small):
    builder = small.builder()
    before = await builder.build("hi")
    area_id = sorted(small.sim.home.areas)[0]
    await small.change("config/area_registry/update", area_id=area_id, name="Renamed Room")
    after = await builder.build("hi")
    assert after.prefix != before.prefix
    assert "Renamed Room" in after.prefix


async def test_sections_render_only_when_their_versions_change(small):
    builder = small.builder()
    await builder.build("hello")
    rendered = builder.renders
    for _ in range(5):
        await builder.build("hello")
    assert builder.renders == rendered
    light = sorted(e for e in small.sim.home.states if e.startswith("light."))[0]
    await small.change("call_service", domain="light", service="toggle", target={"entity_id": light})
    await builder.build("hello")
    # States (and the helpers/scene/script views derived from entities) re-render; the rest not.
    assert 1 <= builder.renders - rendered <= 4


async def test_only_exposed_entities_appear(small):
    context = await small.builder().build("anything")
    entities = small.mirror.tiers["entities"].last.items
    hidden = [e for e in entities.values() if not e.exposed]
    assert hidden
    for entity in hidden:
        assert entity.entity_id not in context.system_prompt, entity.entity_id
    shown = [e for e in entities.values() if e.exposed and e.domain in ("light", "switch", "climate")]
    for entity in shown:
        assert entity.entity_id in context.system_prompt


async def test_names_are_a_list_not_a_joined_string(small):
    context = await small.builder().build("x")
    aliased = [e for e in small.mirror.tiers["entities"].last.items.values() if e.exposed and e.aliases]
    assert aliased
    for entity in aliased:
        listed = ", ".join(f'"{n}"' for n in names(entity))
        assert f"{entity.entity_id} [{listed}]" in context.system_prompt


async def test_a_failing_section_is_marked_unavailable_alone(small):
    class Flaky:
        stale = False
        policy = small.view.policy

        async def kind(self, kind):
            if kind == "services":
                raise ConnectionError("database busy")
            return await small.view.kind(kind)

    context = await ContextBuilder(Flaky(), small.settings.context).build("turn on the kitchen light")
    sections = {s.name: s for s in context.sections}
    assert sections["services"].available is False
    assert "(unavailable right now)" in sections["services"].text
    assert sections["entities"].available and sections["areas"].available


async def test_tokens_per_entity_with_state_stay_small(small):
    """The design's budget: ≤ 18 tokens (o200k) per exposed entity, names and state together."""
    context = await small.builder().build("x")
    sections = context.section_tokens()
    listed = [
        e
        for e in small.mirror.tiers["entities"].last.items.values()
        if e.exposed and e.domain not in ("scene", "script")
    ]
    per_entity = sections["entities"] / len(listed)
    assert per_entity <= 18, per_entity


async def test_large_home_stays_within_budget_and_lists_what_the_message_names(large):
    entities = large.mirror.tiers["entities"].last.items
    target = next(
        e
        for e in sorted(entities.values(), key=lambda e: e.entity_id)
        if e.exposed and e.domain == "light" and e.area_id and "office" not in e.entity_id
    )
    area = large.mirror.tiers["areas"].last.items[target.area_id]
    builder = large.builder()
    message = f"turn on the {target.name} in the {area.name}"
    context = await builder.build(message)
    assert context.mode == "relevant"
    assert count_tokens(context.system_prompt, large.settings.llm_model) <= context.budget
    assert f"{target.entity_id} " in context.volatile or f"{target.entity_id}\n" in context.volatile
    assert "search" in context.prefix  # the model is told how to look further
    # Entities used earlier in the conversation are listed too.
    earlier = next(e for e in sorted(entities) if entities[e].exposed and entities[e].domain == "cover")
    context = await builder.build("and the other one?", recent_entity_ids=[earlier])
    assert earlier in context.volatile


async def test_the_speakers_area_ranks_its_entities_first(large):
    from ha_agent.context import Hints

    entities = large.mirror.tiers["entities"].last.items
    light = next(
        e
        for e in sorted(entities.values(), key=lambda e: e.entity_id)
        if e.exposed and e.domain == "light" and e.area_id
    )
    context = await large.builder().build("turn on the lights", hints=Hints(area=light.area_id))
    relevant = next(s for s in context.sections if s.name == "relevant").text.splitlines()[1:]
    in_area = {e.entity_id for e in entities.values() if e.area_id == light.area_id and e.exposed}
    assert relevant and relevant[0].split(" ")[0] in in_area
