"""The conversation entity: turns forwarded to the stub agent, ids mapped, errors spoken."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import ENTITY_ID, StubAgent


async def _say(
    hass: HomeAssistant, text: str, conversation_id: str | None = None, device_id: str | None = None
) -> conversation.ConversationResult:
    return await conversation.async_converse(
        hass, text, conversation_id, Context(), language="en", agent_id=ENTITY_ID, device_id=device_id
    )


def _speech(result: conversation.ConversationResult) -> str:
    return str(result.response.speech["plain"]["speech"])


async def test_a_turn_is_forwarded_and_the_reply_spoken(hass: HomeAssistant, stub_agent: StubAgent, entry: MockConfigEntry):
    stub_agent.replies = ["The kitchen light is on."]
    result = await _say(hass, "turn on the kitchen light")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert _speech(result) == "The kitchen light is on."
    assert result.continue_conversation is False
    assert result.conversation_id
    # The language goes along; no device spoke, so no area.
    assert stub_agent.requests == [{"message": "turn on the kitchen light", "language": "en"}]
    state = hass.states.get(ENTITY_ID)
    assert state is not None


async def test_the_next_turn_goes_on_in_the_same_agent_conversation(hass: HomeAssistant, stub_agent: StubAgent, entry):
    stub_agent.replies = ["Which light do you mean?", "Done."]
    first = await _say(hass, "turn on the light")
    assert first.continue_conversation is True  # a question keeps the satellite listening
    agent_id = next(iter(stub_agent.conversations))
    second = await _say(hass, "the kitchen one", first.conversation_id)
    assert second.conversation_id == first.conversation_id
    assert stub_agent.requests[1] == {"message": "the kitchen one", "conversation_id": agent_id, "language": "en"}
    assert stub_agent.conversations == {agent_id: 2}
    assert second.continue_conversation is False


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


async def test_the_satellites_area_goes_along(hass: HomeAssistant, stub_agent: StubAgent, entry: MockConfigEntry):
    from homeassistant.helpers import area_registry as ar, device_registry as dr

    kitchen = ar.async_get(hass).async_create("Kitchen")
    satellite = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("test", "satellite")}, name="Kitchen satellite"
    )
    dr.async_get(hass).async_update_device(satellite.id, area_id=kitchen.id)
    await _say(hass, "turn on the lights", device_id=satellite.id)
    assert stub_agent.requests[-1] == {"message": "turn on the lights", "language": "en", "area": kitchen.id}
