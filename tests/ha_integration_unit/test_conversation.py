"""The conversation entity: turns streamed from the stub agent into HA, ids mapped, errors spoken."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import chat_session, intent
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import ENTITY_ID, HA_VERSION, StubAgent

CONFIRMATION = {
    "id": "c1",
    "name": "call_service",
    "arguments": {"service": "lock.unlock"},
    "duration_ms": 1.0,
    "result": {"needs_confirmation": True, "summary": "unlock the front door"},
}


async def _say(
    hass: HomeAssistant, text: str, conversation_id: str | None = None, **where: str | None
) -> conversation.ConversationResult:
    return await conversation.async_converse(
        hass, text, conversation_id, Context(), language="en", agent_id=ENTITY_ID, **where
    )


def _speech(result: conversation.ConversationResult) -> str:
    return str(result.response.speech["plain"]["speech"])


async def test_a_turn_is_forwarded_and_the_reply_spoken(
    hass: HomeAssistant, stub_agent: StubAgent, entry: MockConfigEntry
):
    stub_agent.replies = ["The kitchen light is on."]
    result = await _say(hass, "turn on the kitchen light")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert _speech(result) == "The kitchen light is on."
    assert result.continue_conversation is False
    assert result.conversation_id
    # Streamed, in the person's language; no device spoke, so no area and no device.
    assert stub_agent.requests == [{"message": "turn on the kitchen light", "stream": True, "language": "en"}]
    state = hass.states.get(ENTITY_ID)
    assert state is not None


async def test_an_answer_larger_than_a_line_reader_takes_arrives_whole(
    hass: HomeAssistant, stub_agent: StubAgent, entry
):
    """The `done` event holds every tool result on one line: here 3 MB of them."""
    stub_agent.tool_calls = [
        {
            "id": "s1",
            "name": "search_entities",
            "arguments": {"q": "light"},
            "duration_ms": 2.0,
            "result": {"items": [{"entity_id": f"light.l{n}", "name": "x" * 300} for n in range(10000)]},
        }
    ]
    result = await _say(hass, "which lights are there")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE, _speech(result)
    assert (
        result.response.as_dict()["speech"]["plain"]["extra_data"]["ha_agent"]["tool_calls"][0]["name"]
        == "search_entities"
    )


async def test_the_turns_tokens_and_timings_are_in_the_response(hass: HomeAssistant, stub_agent: StubAgent, entry):
    stub_agent.tool_calls = [
        {
            "id": "t1",
            "name": "call_service",
            "arguments": {"service": "light.turn_on"},
            "result": {"ok": True},
            "duration_ms": 3.5,
        }
    ]
    result = await _say(hass, "turn on the kitchen light")
    details = result.response.as_dict()["speech"]["plain"]["extra_data"]["ha_agent"]
    assert details["usage"] == {"prompt_tokens": 120, "completion_tokens": 8, "cached_tokens": 100}
    assert details["timings"]["total_ms"] == 4.5 and details["path"] == "local"
    assert details["tool_calls"] == [
        {"name": "call_service", "arguments": {"service": "light.turn_on"}, "duration_ms": 3.5}
    ]
    assert details["conversation_id"] == next(iter(stub_agent.conversations))


async def test_the_reply_streams_into_assist_as_it_arrives(hass: HomeAssistant, stub_agent: StubAgent, entry):
    """Like HA's Assist pipeline: a chat log with a delta listener around the turn. The first
    piece reaches the listener while the agent is still answering."""
    stub_agent.replies = ["The kitchen light is on."]
    stub_agent.pieces = ["The kitchen ", "light is on."]
    stub_agent.hold = asyncio.Event()
    deltas: list[dict[str, Any]] = []
    with _like_the_pipeline(hass, "turn on the kitchen light", deltas) as (session, chat_log):
        turn = asyncio.create_task(_say(hass, "turn on the kitchen light", session.conversation_id))
        try:
            for _ in range(200):
                if {"content": "The kitchen "} in deltas:
                    break
                await asyncio.sleep(0.01)
            assert deltas == [{"role": "assistant"}, {"content": "The kitchen "}] and not turn.done()
        finally:
            stub_agent.hold.set()  # a failed check must not leave the turn waiting for its deadline
        result = await turn
    assert deltas == [{"role": "assistant"}, {"content": "The kitchen "}, {"content": "light is on."}]
    assert _speech(result) == "The kitchen light is on."
    assert chat_log.content[-1].role == "assistant" and chat_log.content[-1].content == "The kitchen light is on."


async def test_a_whole_reply_without_text_pieces_still_reaches_the_chat_log(
    hass: HomeAssistant, stub_agent: StubAgent, entry
):
    """The local engine and confirmations answer in one `done` event, no `text` before it."""
    stub_agent.replies = ["Done."]
    deltas: list[dict[str, Any]] = []
    with _like_the_pipeline(hass, "lights on", deltas) as (session, chat_log):
        result = await _say(hass, "lights on", session.conversation_id)
    assert deltas == [{"role": "assistant"}, {"content": "Done."}]
    assert _speech(result) == "Done." and chat_log.content[-1].content == "Done."


async def test_an_error_in_the_middle_of_the_stream_is_spoken(hass: HomeAssistant, stub_agent: StubAgent, entry):
    stub_agent.pieces = ["The kitchen ", "light is on."]
    stub_agent.fail_after_text = True
    with _like_the_pipeline(hass, "turn on the kitchen light", []) as (session, chat_log):
        result = await _say(hass, "turn on the kitchen light", session.conversation_id)
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "the language model failed" in _speech(result)
    assert not [c for c in chat_log.content if c.role == "assistant"]  # no half reply kept


@contextlib.contextmanager
def _like_the_pipeline(
    hass: HomeAssistant, text: str, deltas: list[dict[str, Any]]
) -> Iterator[tuple[chat_session.ChatSession, conversation.ChatLog]]:
    """A chat session and its chat log, opened around a turn the way HA's Assist pipeline does,
    with a listener that collects every delta the turn streams into the log."""
    fields: dict[str, Any] = {
        "text": text,
        "context": Context(),
        "conversation_id": None,
        "device_id": None,
        "language": "en",
        "agent_id": ENTITY_ID,
    }
    if "satellite_id" in conversation.ConversationInput.__dataclass_fields__:  # newer HA (not 2025.4)
        fields["satellite_id"] = None
    with (
        chat_session.async_get_chat_session(hass) as session,
        conversation.async_get_chat_log(
            hass,
            session,
            conversation.ConversationInput(**fields),
            chat_log_delta_listener=lambda log, delta: deltas.append(delta),
        ) as chat_log,
    ):
        yield session, chat_log


async def test_the_agent_streams_and_speaks_any_language_as_ha_expects(
    hass: HomeAssistant, stub_agent: StubAgent, entry
):
    info = conversation.async_get_agent_info(hass, ENTITY_ID)
    assert info is not None
    if hasattr(info, "supports_streaming"):  # where HA asks, it is told the reply streams (TTS starts early)
        assert info.supports_streaming is True
    else:
        assert HA_VERSION < (2026, 0)  # 2025.4 does not ask; every HA this is tested on since does
    agent = conversation.async_get_agent(hass, ENTITY_ID)
    assert agent is not None and agent.supported_languages == "*"  # HA's MATCH_ALL
    result = await conversation.async_converse(
        hass, "doe het licht aan", None, Context(), language="nl", agent_id=ENTITY_ID
    )
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert stub_agent.requests[-1]["language"] == "nl"


async def test_the_next_turn_goes_on_in_the_same_agent_conversation(hass: HomeAssistant, stub_agent: StubAgent, entry):
    stub_agent.replies = ["Which light do you mean?", "Done."]
    first = await _say(hass, "turn on the light")
    assert first.continue_conversation is True  # a question keeps the satellite listening
    agent_id = next(iter(stub_agent.conversations))
    second = await _say(hass, "the kitchen one", first.conversation_id)
    assert second.conversation_id == first.conversation_id
    assert stub_agent.requests[1] == {
        "message": "the kitchen one",
        "stream": True,
        "conversation_id": agent_id,
        "language": "en",
    }
    assert stub_agent.conversations == {agent_id: 2}
    assert second.continue_conversation is False


async def test_an_action_awaiting_a_yes_keeps_listening(hass: HomeAssistant, stub_agent: StubAgent, entry):
    stub_agent.replies = ["The front door needs your confirmation: say yes to unlock it."]
    stub_agent.tool_calls = [CONFIRMATION]
    result = await _say(hass, "unlock the front door")
    assert result.continue_conversation is True


async def test_the_agents_own_id_goes_on_after_ha_forgot_its_session(hass: HomeAssistant, stub_agent: StubAgent, entry):
    await _say(hass, "turn on the light")
    agent_id = next(iter(stub_agent.conversations))
    again = await _say(hass, "and the fan", agent_id)  # not a ULID: HA keeps it as the session id
    assert stub_agent.requests[-1]["conversation_id"] == agent_id
    assert again.conversation_id == agent_id


async def test_a_conversation_the_agent_forgot_starts_a_new_one(hass: HomeAssistant, stub_agent: StubAgent, entry):
    first = await _say(hass, "turn on the light")
    stub_agent.conversations.clear()  # deleted on the agent
    second = await _say(hass, "and the fan", first.conversation_id)
    assert second.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert "conversation_id" not in stub_agent.requests[-1]
    assert len(stub_agent.conversations) == 1


async def test_an_agent_error_is_spoken_not_raised(hass: HomeAssistant, stub_agent: StubAgent, entry):
    stub_agent.status = 502
    result = await _say(hass, "turn on the light")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "the language model failed" in _speech(result)


async def test_an_unreachable_agent_is_spoken_not_raised(hass: HomeAssistant, stub_agent: StubAgent, entry):
    assert stub_agent.server is not None
    await stub_agent.server.close()
    result = await _say(hass, "turn on the light")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "cannot be reached" in _speech(result)


async def test_a_slow_agent_times_out_into_a_spoken_error(hass: HomeAssistant, stub_agent: StubAgent, entry):
    stub_agent.delay_s = 2.0
    with patch("custom_components.ha_agent.api.CHAT_TIMEOUT_S", 0.2):
        result = await _say(hass, "turn on the light")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "did not answer within" in _speech(result)


async def test_a_stream_that_stalls_times_out_into_a_spoken_error(hass: HomeAssistant, stub_agent: StubAgent, entry):
    stub_agent.pieces = ["The kitchen ", "light is on."]
    stub_agent.hold = asyncio.Event()  # never set: the agent stops after its first piece
    with patch("custom_components.ha_agent.api.CHAT_TIMEOUT_S", 0.3):
        result = await _say(hass, "turn on the light")
    stub_agent.hold.set()
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "did not answer within" in _speech(result)


async def test_the_satellites_area_and_device_go_along(
    hass: HomeAssistant, stub_agent: StubAgent, entry: MockConfigEntry
):
    from homeassistant.helpers import area_registry as ar
    from homeassistant.helpers import device_registry as dr

    kitchen = ar.async_get(hass).async_create("Kitchen")
    satellite = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("test", "satellite")}, name="Kitchen satellite"
    )
    dr.async_get(hass).async_update_device(satellite.id, area_id=kitchen.id)
    await _say(hass, "turn on the lights", device_id=satellite.id)
    assert stub_agent.requests[-1] == {
        "message": "turn on the lights",
        "stream": True,
        "language": "en",
        "area": kitchen.id,
        "device_id": satellite.id,
    }


async def test_a_satellite_entitys_own_area_goes_along(
    hass: HomeAssistant, stub_agent: StubAgent, entry: MockConfigEntry
):
    """Newer HA (not 2025.4) names the satellite entity too; its own area is where the person is."""
    from homeassistant.helpers import area_registry as ar
    from homeassistant.helpers import device_registry as dr
    from homeassistant.helpers import entity_registry as er

    if "satellite_id" not in inspect.signature(conversation.async_converse).parameters:
        assert HA_VERSION < (2026, 0)  # an HA without satellite ids (2025.4): nothing to pass on
        return
    hall, office = ar.async_get(hass).async_create("Hall"), ar.async_get(hass).async_create("Office")
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("test", "voice")}, name="Voice PE"
    )
    dr.async_get(hass).async_update_device(device.id, area_id=hall.id)
    satellite = er.async_get(hass).async_get_or_create(
        "assist_satellite", "test", "voice", device_id=device.id, original_name="Assist satellite"
    )
    er.async_get(hass).async_update_entity(satellite.entity_id, area_id=office.id)
    await _say(hass, "turn on the lights", satellite_id=satellite.entity_id)
    assert stub_agent.requests[-1]["area"] == office.id
    assert stub_agent.requests[-1]["device_id"] == device.id
