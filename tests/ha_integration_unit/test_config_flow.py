"""The config flow and the options flow, against the stub agent."""

from __future__ import annotations

import socket

from custom_components.ha_agent.const import CONF_API_KEY, CONF_URL, DOMAIN
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import KEY, StubAgent


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "user"
    assert result["errors"] == {}
    return str(result["flow_id"])


async def test_a_reachable_agent_with_the_right_key_creates_the_entry(hass: HomeAssistant, stub_agent: StubAgent):
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: stub_agent.url + "/", CONF_API_KEY: KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ha-agent"
    assert result["data"] == {CONF_URL: stub_agent.url, CONF_API_KEY: KEY}


async def test_an_agent_without_keys_needs_none(hass: HomeAssistant, stub_agent: StubAgent):
    stub_agent.key = None
    result = await hass.config_entries.flow.async_configure(await _start(hass), {CONF_URL: stub_agent.url})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_URL: stub_agent.url}


async def test_unreachable_says_cannot_connect_and_can_be_corrected(hass: HomeAssistant, stub_agent: StubAgent):
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: f"http://127.0.0.1:{_closed_port()}"})
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: "not a url"})
    assert result["errors"] == {CONF_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: stub_agent.url, CONF_API_KEY: KEY})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_a_wrong_key_says_invalid_auth(hass: HomeAssistant, stub_agent: StubAgent):
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: stub_agent.url, CONF_API_KEY: "wrong"})
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: stub_agent.url})
    assert result["errors"] == {"base": "invalid_auth"}  # no key at all: refused too


async def test_the_same_agent_twice_is_refused(hass: HomeAssistant, stub_agent: StubAgent):
    MockConfigEntry(domain=DOMAIN, data={CONF_URL: stub_agent.url, CONF_API_KEY: KEY}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_configure(
        await _start(hass), {CONF_URL: stub_agent.url, CONF_API_KEY: KEY}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"


async def test_options_change_the_key_after_checking_it(
    hass: HomeAssistant, stub_agent: StubAgent, entry: MockConfigEntry
):
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "init"
    stub_agent.key = "a-new-key-0123456789"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_URL: stub_agent.url, CONF_API_KEY: KEY}
    )
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_URL: stub_agent.url, CONF_API_KEY: "a-new-key-0123456789"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {CONF_URL: stub_agent.url, CONF_API_KEY: "a-new-key-0123456789"}
    assert entry.state is config_entries.ConfigEntryState.LOADED  # reloaded with the new key
