"""The conversation agent: each Assist turn is a turn of an ha-agent conversation."""

from __future__ import annotations

import logging
import time
from typing import Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import MATCH_ALL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, intent
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .api import AgentApi, AgentError, ChatAnswer, ConversationGone
from .const import CONF_API_KEY, CONF_URL, CONVERSATION_TTL, DOMAIN

_LOGGER = logging.getLogger(__name__)


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback) -> None:
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
    """Forwards the text to `POST /api/v1/chat`; speaks the reply, or what went wrong."""

    _attr_has_entity_name = True
    _attr_name = None
    _attr_supported_features = conversation.ConversationEntityFeature.CONTROL

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
        return MATCH_ALL

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
            answer = await self._chat(user_input.text, agent_id, user_input.language, self._area(user_input))
        except AgentError as err:
            _LOGGER.warning("ha-agent turn failed: %s", err)
            response.async_set_error(intent.IntentResponseErrorCode.UNKNOWN, f"Sorry, {err}.")
            return conversation.ConversationResult(response=response, conversation_id=ha_id)
        self._conversations.remember(answer.conversation_id, asked_for, ha_id)
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(agent_id=user_input.agent_id, content=answer.reply)
        )
        response.async_set_speech(answer.reply)
        return conversation.ConversationResult(
            response=response, conversation_id=ha_id, continue_conversation=answer.asks
        )

    def _area(self, user_input: conversation.ConversationInput) -> str | None:
        """The area of the satellite (or other device) the person spoke to, when HA knows it."""
        if not user_input.device_id:
            return None
        device = dr.async_get(self.hass).async_get(user_input.device_id)
        return device.area_id if device is not None else None

    async def _chat(self, text: str, agent_id: str | None, language: str | None, area: str | None) -> ChatAnswer:
        hints = {"language": language, "area": area}
        if agent_id is None:
            return await self._api.chat(text, None, **hints)
        try:
            return await self._api.chat(text, agent_id, **hints)
        except ConversationGone:  # deleted on the agent's side: a new conversation, not an error
            return await self._api.chat(text, None, **hints)
