"""The web chat page in a real browser (headless Chromium), against the agent over real HTTP with
the simulated small home and the local intent engine (no model)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from data_api.simulator import SimulatedHA
from ha_agent.api.page import STATIC_DIR, page_paths
from tests.support.agent import KEY, ServedAgent, agent_settings, serve_agent
from tests.support.browser import ARGS, chromium  # noqa: F401  (the fixture)
from tests.support.mirroring import wait_for

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SENTENCE = "turn on the kitchen lights"


def _local_settings(sim: SimulatedHA, tmp_path: Path, **overrides: Any):
    return agent_settings(
        sim, "http://127.0.0.1:9/v1", tmp_path / "agent.db", llm_base_url=None, llm_provider="local", **overrides
    )


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Any]:  # noqa: F811
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


async def _new_page(browser: Any, problems: list[str]) -> Any:
    page = await browser.new_page(viewport={"width": 900, "height": 1000})
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    return page


async def _kitchen_lights_off(agent: ServedAgent, sim: SimulatedHA) -> list[str]:
    entities = (await agent.service.home.kind("entities")).sorted_items()
    lights = [e.entity_id for e in entities if e.domain == "light" and e.exposed and e.area_id == "kitchen"]
    assert lights, "the small home has no exposed kitchen light"
    for entity_id in lights:
        sim.home.set_state(entity_id, "off", dict(sim.home.states[entity_id]["attributes"]))
    await wait_for(lambda: all(agent.mirror.tiers["entities"].last.items[e].state == "off" for e in lights))
    return lights


async def test_chat_in_the_page_streams_shows_the_tool_call_and_survives_a_reload(browser, sim, tmp_path):
    from playwright.async_api import expect

    problems: list[str] = []
    async with serve_agent(_local_settings(sim, tmp_path)) as agent:
        lights = await _kitchen_lights_off(agent, sim)
        page = await _new_page(browser, problems)
        await page.goto(f"{agent.url}/")
        await expect(page).to_have_title("Home chat · ha-agent")
        message = page.get_by_label("Message")
        await expect(message).to_be_focused()
        await message.fill(SENTENCE)
        await message.press("Enter")

        turn = page.locator(".msg.assistant")
        await expect(turn.locator(".meta")).to_contain_text("answered by local")
        await expect(turn.locator(".meta")).to_contain_text("total")
        await expect(turn.locator(".meta")).to_contain_text("tokens in")
        await expect(turn.locator(".call-name")).to_have_text(["call_service"])
        await expect(turn.locator(".call-status")).to_have_text(["ok"])
        await expect(turn.locator(".call-duration")).to_contain_text([" ms"])
        reply = (await turn.locator(".reply").text_content() or "").strip()
        assert reply
        assert all(sim.home.states[e]["state"] == "on" for e in lights)
        await expect(page.locator(".msg.user .text")).to_have_text([SENTENCE])
        await expect(message).to_have_value("")
        await expect(page.locator("#error")).to_be_hidden()

        # Open the call to see its arguments and result.
        await turn.locator(".call summary").click()
        await expect(turn.locator(".call dl")).to_contain_text("light.turn_on")
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "web-page.png"), full_page=True)

        conversation_id = await page.evaluate("localStorage.getItem('ha-agent.conversationId')")
        assert conversation_id
        await page.reload()
        await expect(page.locator(".msg.user .text")).to_have_text([SENTENCE])
        again = page.locator(".msg.assistant")
        await expect(again.locator(".reply")).to_have_text(reply)
        await expect(again.locator(".call-name")).to_have_text(["call_service"])
        await expect(again.locator(".call-status")).to_have_text(["ok"])

        # A new conversation starts empty, and the next turn gets a new id.
        await page.get_by_role("button", name="New conversation").click()
        await expect(page.locator(".msg")).to_have_count(0)
        assert await page.evaluate("localStorage.getItem('ha-agent.conversationId')") is None
        await message.fill("turn off the kitchen lights")
        await page.get_by_role("button", name="Send").click()
        await expect(page.locator(".msg.assistant .meta")).to_contain_text("answered by local")
        assert await page.evaluate("localStorage.getItem('ha-agent.conversationId')") not in (None, conversation_id)
        assert all(sim.home.states[e]["state"] == "off" for e in lights)
    assert problems == []


async def test_with_api_keys_the_page_loads_asks_for_the_key_and_then_chats(browser, sim, tmp_path):
    from playwright.async_api import expect

    problems: list[str] = []
    async with serve_agent(_local_settings(sim, tmp_path, api_keys=[KEY])) as agent:
        page = await _new_page(browser, problems)
        await page.goto(f"{agent.url}/")
        message = page.get_by_label("Message")
        await message.fill(SENTENCE)
        await message.press("Enter")
        await expect(page.locator("#error")).to_contain_text("enter the API key")
        key = page.get_by_label("Key", exact=True)
        await expect(key).to_be_visible()
        await key.fill(KEY)
        await page.get_by_role("button", name="Save key").click()
        await expect(page.get_by_text("A key is saved in this browser.")).to_be_attached()
        await expect(page.locator(".msg")).to_have_count(0)  # refused, so not shown as said
        await expect(message).to_have_value(SENTENCE)  # but given back, to send again
        await expect(message).to_be_focused()
        await message.press("Enter")
        await expect(page.locator(".msg.assistant .meta")).to_contain_text("answered by local")
        await expect(page.locator("#error")).to_be_hidden()
        assert KEY not in await page.content()  # the key is never displayed
    # The 401 shows in the console as a failed resource; nothing else may.
    assert [p for p in problems if "401" not in p] == []


async def test_the_page_and_its_files_need_no_key_the_api_still_does(sim, tmp_path):
    async with serve_agent(_local_settings(sim, tmp_path, api_keys=[KEY])) as agent:
        for path in page_paths():
            response = await agent.http.get(path)
            assert response.status_code == 200, (path, response.text)
            assert "default-src 'none'" in response.headers["content-security-policy"]
        assert (await agent.http.get("/")).text == (STATIC_DIR / "index.html").read_text()
        assert {"/static/app.js", "/static/style.css", "/static/icon.svg"} <= set(page_paths())
        assert (await agent.http.post("/api/v1/chat", json={"message": "hi"})).status_code == 401
        assert (await agent.http.get("/static/nothing.js")).status_code == 401
        ok = await agent.http.post("/api/v1/chat", json={"message": "hi"}, headers={"Authorization": f"Bearer {KEY}"})
        assert ok.status_code == 200
        assert (await httpx.AsyncClient(base_url=agent.url).get("/docs")).status_code == 401


_HOSTILE_PAGE = """<!doctype html><html><body>
<form id="form" method="POST" action="{agent}/api/v1/chat" enctype="text/plain" target="sink">
  <input name='{{"message": "good morning", "pad": "' value='"}}'>
</form>
<iframe name="sink"></iframe>
<script>
  const chat = "{agent}/api/v1/chat";
  const said = (message) => JSON.stringify({{message}});
  window.done = (async () => {{
    const tries = [];
    // A "simple" request: no preflight, the answer unreadable, but it is sent.
    tries.push(fetch(chat, {{method: "POST", mode: "no-cors", body: said("turn on the kitchen lights")}}));
    tries.push(fetch(chat, {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}},
                             body: said("open the garage door")}}));
    // A JSON request needs the server's CORS consent first.
    tries.push(fetch(chat, {{method: "POST", headers: {{"Content-Type": "application/json"}},
                             body: said("turn on the kitchen lights")}}).then(r => r.status, e => "blocked"));
    // Reading the mirror back.
    tries.push(fetch("{agent}/api/v1/entities").then(r => r.text(), e => "blocked"));
    const results = await Promise.allSettled(tries);
    document.getElementById("form").submit();
    return results.map(r => r.status === "fulfilled" ? (r.value && r.value.type) || r.value : "rejected");
  }})();
</script></body></html>"""


async def test_a_page_of_another_origin_cannot_drive_the_agent(browser, sim, tmp_path):
    """A hostile page on another loopback port tries what a browser lets any page do; the home
    stays as it was and the agent never takes a turn."""
    from aiohttp import web

    async with serve_agent(_local_settings(sim, tmp_path)) as agent:
        lights = await _kitchen_lights_off(agent, sim)
        garage = "cover.garage_door"
        assert sim.home.states[garage]["state"] == "closed"
        app = web.Application()
        app.router.add_get(
            "/", lambda request: web.Response(text=_HOSTILE_PAGE.format(agent=agent.url), content_type="text/html")
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            page = await browser.new_page()
            refused: list[int] = []
            page.on("response", lambda r: refused.append(r.status) if "/api/v1/" in r.url else None)
            await page.goto(f"http://127.0.0.1:{port}/")
            results = await page.evaluate("window.done")
            await page.wait_for_timeout(500)  # the form's navigation
            assert results[2] == "blocked" and results[3] == "blocked", results
        finally:
            await runner.cleanup()
        assert refused and set(refused) <= {403, 415}, refused
        assert all(sim.home.states[e]["state"] == "off" for e in lights)
        assert sim.home.states[garage]["state"] == "closed"
        assert await agent.service.history.list_recent(agent.settings.home_id) == []  # no turn was taken
