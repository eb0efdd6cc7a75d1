"""The conversation agent: each Assist turn is a turn of an ha-agent conversation, streamed.

Written for HA 2025.4 and every release since: what newer HA offers is used where it is there
(`supports_streaming`, the satellite's entity id) without breaking the older one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import MATCH_ALL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import intent
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import AgentApi, AgentError, ChatAnswer, ConversationGone
from .const import CONF_API_KEY, CONF_URL, CONVERSATION_TTL, DOMAIN

_LOGGER = logging.getLogger(__name__)


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    settings = {**entry.data, **entry.options}
    api = AgentApi(async_get_clientsession(hass), settings[CONF_URL], settings.get(CONF_API_KEY))
    async_add_entities([HaAgentConversationEntity(entry, api)])


class ConversationMap:
    """HA's conversation ids → the agent's, for a day (HA's own chat log lasts 5 minutes).

    The agent's id maps to itself, so a client that kept it can go on after HA forgot its own.
    """

    def __init__(self, ttl_s: float = CONVERSATION_TTL.total_seconds()) -> None:
        self._ttl_s = ttl_s
        self._ids: dict[str, tuple[str, float]] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, *ha_ids: str | None) -> str | None:
        now = time.monotonic()
        for ha_id in ha_ids:
            if ha_id and (hit := self._ids.get(ha_id)) and now - hit[1] < self._ttl_s:
                return hit[0]
        return None

    def remember(self, agent_id: str, *ha_ids: str | None) -> None:
        now = time.monotonic()
        self._ids = {k: v for k, v in self._ids.items() if now - v[1] < self._ttl_s}
        for ha_id in (*ha_ids, agent_id):
            if ha_id:
                self._ids[ha_id] = (agent_id, now)


class HaAgentConversationEntity(conversation.ConversationEntity):
    """Streams the text to `POST /api/v1/chat` and the reply into Assist as it arrives; speaks
    the reply, or what went wrong."""

    _attr_has_entity_name = True
    _attr_name = None
    _attr_supported_features = conversation.ConversationEntityFeature.CONTROL
    # Newer HA (2026.11, not 2025.4) reads this: the reply streams into text-to-speech as it
    # arrives, so a voice satellite starts speaking before the whole reply is there. Older HA
    # has no such attribute and ignores it; its chat log still receives the reply as a stream.
    _attr_supports_streaming = True

    def __init__(self, entry: ConfigEntry, api: AgentApi) -> None:
        self._api = api
        self._conversations = ConversationMap()
        self._attr_unique_id = entry.entry_id
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="ha-agent",
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    def supported_languages(self) -> list[str] | Literal["*"]:
        return MATCH_ALL  # "*": the agent answers in the language it is spoken to

    async def _async_handle_message(
        self, user_input: conversation.ConversationInput, chat_log: conversation.ChatLog
    ) -> conversation.ConversationResult:
        ha_id = chat_log.conversation_id
        asked_for = user_input.conversation_id
        agent_id = self._conversations.get(asked_for, ha_id)
        if agent_id is None and asked_for and asked_for == ha_id:
            # An id HA kept as it was (not one of its own): perhaps the agent's, from a client
            # that outlived our map (an HA restart). The agent says 404 if it is not.
            agent_id = asked_for
        response = intent.IntentResponse(language=user_input.language)
        try:
            answer = await self._turn(user_input, chat_log, agent_id)
        except AgentError as err:
            _LOGGER.warning("ha-agent turn failed: %s", err)
            response.async_set_error(intent.IntentResponseErrorCode.UNKNOWN, f"Sorry, {err}.")
            return conversation.ConversationResult(response=response, conversation_id=ha_id)
        self._conversations.remember(answer.conversation_id, asked_for, ha_id)
        # For people who inspect a turn: its tokens, timings and tool calls are in HA's trace (the
        # Assist debug view) and in the response, as the speech's extra data (the one place of
        # HA's response open to an agent's own data).
        chat_log.async_trace({DOMAIN: answer.details})
        response.async_set_speech(answer.reply, extra_data={DOMAIN: answer.details})
        return conversation.ConversationResult(
            response=response, conversation_id=ha_id, continue_conversation=answer.asks
        )

    async def _turn(
        self, user_input: conversation.ConversationInput, chat_log: conversation.ChatLog, agent_id: str | None
    ) -> ChatAnswer:
        if agent_id is None:
            return await self._stream(user_input, chat_log, None)
        try:
            return await self._stream(user_input, chat_log, agent_id)
        except ConversationGone:  # deleted on the agent's side: a new conversation, not an error
            return await self._stream(user_input, chat_log, None)

    async def _stream(
        self, user_input: conversation.ConversationInput, chat_log: conversation.ChatLog, agent_id: str | None
    ) -> ChatAnswer:
        """One turn, its reply streamed into HA's chat log, which passes each piece on to whoever
        listens (the Assist pipeline: text-to-speech, the frontend) and keeps the whole."""
        area, device_id = self._speaker(user_input)
        async with self._api.chat(
            user_input.text, agent_id, language=user_input.language, area=area, device_id=device_id
        ) as stream:

            async def deltas() -> AsyncIterator[dict[str, str]]:
                yield {"role": "assistant"}
                async for piece in stream.text():
                    yield {"content": piece}

            async for _content in chat_log.async_add_delta_content_stream(user_input.agent_id, deltas()):
                pass
        if stream.answer is None:  # text() raises unless it saw the answer; kept for type checkers
            raise AgentError("ha-agent ended the turn without an answer")
        return stream.answer

    def _speaker(self, user_input: conversation.ConversationInput) -> tuple[str | None, str | None]:
        """The area and device of the satellite (or other device) the person spoke to, when HA
        knows them: the satellite entity's own area first (newer HA names the satellite),
        else its device's."""
        device_id = user_input.device_id
        area: str | None = None
        if satellite := getattr(user_input, "satellite_id", None):
            if (entry := er.async_get(self.hass).async_get(satellite)) is not None:
                area = entry.area_id
                device_id = device_id or entry.device_id
        if area is None and device_id:
            device = dr.async_get(self.hass).async_get(device_id)
            area = device.area_id if device is not None else None
        return area, device_id
