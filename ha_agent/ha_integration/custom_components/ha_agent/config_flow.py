"""Set up ha-agent from the UI: the agent's URL and API key, checked against the agent."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api import AgentApi, CannotConnect, InvalidAuth, normalize_url
from .const import CONF_API_KEY, CONF_URL, DEFAULT_URL, DOMAIN, TITLE


def _schema(url_default: str) -> vol.Schema:
    return vol.Schema({vol.Required(CONF_URL, default=url_default): str, vol.Optional(CONF_API_KEY): str})


def _clean(user_input: dict[str, Any]) -> dict[str, Any]:
    data = {CONF_URL: normalize_url(user_input[CONF_URL])}
    if key := (user_input.get(CONF_API_KEY) or "").strip():
        data[CONF_API_KEY] = key
    return data


async def _check(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, str]:
    """The form's errors: empty when the agent answers and takes the key."""
    if not data[CONF_URL].startswith(("http://", "https://")):
        return {CONF_URL: "invalid_url"}
    api = AgentApi(async_get_clientsession(hass), data[CONF_URL], data.get(CONF_API_KEY))
    try:
        await api.check()
    except InvalidAuth:
        return {"base": "invalid_auth"}
    except CannotConnect:
        return {"base": "cannot_connect"}
    return {}


class HaAgentConfigFlow(ConfigFlow, domain=DOMAIN):
    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _clean(user_input)
            self._async_abort_entries_match({CONF_URL: data[CONF_URL]})
            errors = await _check(self.hass, data)
            if not errors:
                return self.async_create_entry(title=TITLE, data=data)
        schema = self.add_suggested_values_to_schema(_schema(DEFAULT_URL), user_input)
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        return HaAgentOptionsFlow()


# Newer HA (2026.11, not 2025.4) reloads the entry itself after an options flow of this kind (and
# wants no update listener beside it); older HA needs the listener `__init__` adds then.
OPTIONS_FLOW_RELOADS = hasattr(config_entries, "OptionsFlowWithReload")
_OptionsFlowBase: type[OptionsFlow] = getattr(config_entries, "OptionsFlowWithReload", OptionsFlow)


class HaAgentOptionsFlow(_OptionsFlowBase):  # type: ignore[misc,valid-type]
    """Change the URL or the key; they are checked the same way, then the entry reloads."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        current = {**self.config_entry.data, **self.config_entry.options}
        if user_input is not None:
            data = _clean(user_input)
            errors = await _check(self.hass, data)
            if not errors:
                return self.async_create_entry(data=data)
        schema = self.add_suggested_values_to_schema(_schema(current[CONF_URL]), user_input or current)
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)
