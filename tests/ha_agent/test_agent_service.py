"""The agent's service shapes: `--role agent` over a separate data-api, `ha-agent serve` as one
process, and `ha-agent chat` as a person runs them (subprocesses for the CLI)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from data_api.api.app import create_app as create_data_api
from data_api.api.client import DataApiError
from data_api.ha import Entity
from data_api.mirror import Mirror, MirrorReader
from data_api.platform.http.server import HttpServer
from data_api.simulator import SimulatedHA
from data_api.store import Store
from ha_agent.api.app import create_app
from ha_agent.assemble import remote_service
from ha_agent.home import Policy, RemoteHome
from ha_agent.simulator.scripted_server import Reply, ScriptedLLMServer, echo
from tests.support.agent import KEY, agent_settings, serve_agent, system_prompt

CLI = [sys.executable, "-m", "ha_agent.cli"]
AUTH = {"authorization": f"Bearer {KEY}"}
# Settings of the developer's environment must not leak into the subprocesses.
_OURS = ("HA_", "DATABASE_URL", "API_KEYS", "LLM_", "DATA_API_URL", "AGENT_URL", "HOME_ID")


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    return {**env, **values}


@asynccontextmanager
async def _data_api(sim: SimulatedHA, tmp_path: Path) -> AsyncIterator[tuple[str, Mirror, HttpServer]]:
    settings = agent_settings(sim, "http://unused.invalid/v1", tmp_path / "mirror.db", api_keys=[KEY])
    async with AsyncExitStack() as stack:
        store = Store.from_settings(settings.db)
        stack.push_async_callback(store.close)
        mirror = Mirror(settings, store)
        await mirror.start(wait=True)
        stack.push_async_callback(mirror.stop)
        server = HttpServer(create_data_api(MirrorReader(mirror), settings))
        stack.push_async_callback(server.stop)
        yield await server.start(), mirror, server


async def _until(predicate, what: str) -> None:
    for _ in range(500):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


# --- --role agent ------------------------------------------------------------------------------
async def test_role_agent_answers_from_a_separate_data_api(sim: SimulatedHA, llm, tmp_path) -> None:
    async with _data_api(sim, tmp_path) as (data_url, mirror, data_server):
        settings = agent_settings(
            sim, llm.base_url, tmp_path / "agent.db", data_api_url=data_url, api_keys=[KEY], remote_home_refresh=600
        )
        async with (
            remote_service(settings) as service,
            AsyncExitStack() as stack,
            httpx.AsyncClient(headers=AUTH, timeout=30) as http,
        ):
            server = HttpServer(create_app(service, settings))
            url = await server.start()
            stack.push_async_callback(server.stop)
            home = service.home
            lights = [e for e in (await mirror.read("entities")).sorted_items() if e.domain == "light" and e.exposed]
            light = next(e.entity_id for e in lights if e.state == "off")

            llm.script(Reply.text("Hello."), Reply.text("Again."))
            first = await http.post(f"{url}/api/v1/chat", json={"message": "which lights are there?"})
            assert first.status_code == 200, first.text
            prompt = system_prompt(llm.requests[-1])
            assert all(e.entity_id in prompt for e in lights)  # the context came over HTTP
            sent = home.requests
            assert sent >= 8  # every kind the context reads, once
            await http.post(f"{url}/api/v1/chat", json={"message": "and now?"})
            assert home.requests == sent  # within `refresh`: answered from the copy, no request

            # Once `refresh` has passed, each kind is revalidated with one conditional request: a 304.
            home.refresh = 0
            llm.script(
                Reply.tool_calls([("call_service", {"service": "light.turn_on", "target": {"entity_id": [light]}})]),
                Reply.text("It is on."),
            )
            turned = await http.post(f"{url}/api/v1/chat", json={"message": "turn it on"})
            assert turned.status_code == 200, turned.text
            assert home.not_modified >= 8 and home.requests >= sent + 8
            call = turned.json()["tool_calls"][0]
            assert "error" not in call, call
            assert sim.home.states[light]["state"] == "on"  # acted through the agent's own HA client

            # A change in HA reaches the agent's context through the data-api.
            area_id = sorted(sim.home.areas)[0]
            sim.home.update_area(area_id, name="Renamed Sunroom")
            await _until(lambda: _area_renamed(mirror, area_id), "the data-api's mirror saw the rename")
            llm.script(Reply.text("Renamed."))
            await http.post(f"{url}/api/v1/chat", json={"message": "which rooms?"})
            assert "Renamed Sunroom" in system_prompt(llm.requests[-1])

            health = (await http.get(f"{url}/health")).json()
            assert health.pop("database")["ok"] is True
            assert health == {"status": "ok", "role": "agent", "stale": False}
            detail = (await http.get(f"{url}/health/detailed")).json()
            assert detail["home"]["source"] == "data-api" and detail["home"]["url"] == data_url
            assert "mirror" not in detail and detail["database"]["ok"]
            assert (await http.get(f"{url}/api/v1/entities")).status_code == 404  # the data-api has them

            # The data-api goes away: the last copy is served, flagged stale.
            await data_server.stop()
            llm.script(Reply.text("Still here."))
            late = await http.post(f"{url}/api/v1/chat", json={"message": "which lights are there?"})
            assert late.status_code == 200, late.text
            prompt = system_prompt(llm.requests[-1])
            assert all(e.entity_id in prompt for e in lights) and "unreachable" in prompt
            assert (await http.get(f"{url}/health")).json()["status"] == "degraded"


async def test_role_agent_reports_the_state_an_action_made_not_its_copy(sim: SimulatedHA, llm, tmp_path) -> None:
    """The agent's copy of the home may be `refresh` old; an action's result must still show
    what the action did, and the next turn's context too."""
    async with _data_api(sim, tmp_path) as (data_url, mirror, _):
        settings = agent_settings(
            sim, llm.base_url, tmp_path / "agent.db", data_api_url=data_url, api_keys=[KEY], remote_home_refresh=600
        )
        async with remote_service(settings) as service:
            lights = [e for e in (await mirror.read("entities")).sorted_items() if e.domain == "light" and e.exposed]
            light = next(e.entity_id for e in lights if e.state == "off")
            llm.script(Reply.text("Hello."))
            await service.turn("which lights are there?")  # the copy: the light is off
            llm.script(
                Reply.tool_calls([("call_service", {"service": "light.turn_on", "target": {"entity_id": [light]}})]),
                Reply.text("It is on."),
                Reply.text("Yes."),
            )
            turned = await service.turn("turn it on")
            (call,) = turned.tool_calls
            assert call.error is None, call.error
            assert [row["state"] for row in call.result["states"] if row["entity_id"] == light] == ["on"]
            await service.turn("is it on?", turned.conversation_id)
            line = next(line for line in system_prompt(llm.requests[-1]).splitlines() if line.startswith(light))
            assert "= on" in line, line


async def _area_renamed(mirror: Mirror, area_id: str) -> bool:
    return (await mirror.read("areas")).items[area_id].name == "Renamed Sunroom"


class _PagedDataApi:
    """A data-api stand-in for `RemoteHome`: entities two per page, an ETag per version."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.version = 1
        self.calls: list[tuple[str | None, str | None]] = []  # (cursor, If-None-Match)
        self.down = False
        self.change_on_page: int | None = None  # bump the version when this page is read

    async def revalidate(self, path: str, params: dict | None = None, etag: str | None = None):
        params = params or {}
        self.calls.append((params.get("cursor"), etag))
        if self.down:
            raise DataApiError("cannot reach the data-api")
        start = int(params.get("cursor") or 0)
        if start and start // 2 == self.change_on_page:
            self.version += 1
            self.change_on_page = None
        tag = f'W/"v{self.version}"'
        if etag == tag:
            return None, etag
        page = self.names[start : start + 2]
        items = [Entity(f"light.{n}", "light", f"{n} v{self.version}", "on", {}, exposed=True).as_dict() for n in page]
        more = start + 2 < len(self.names)
        body = {
            "items": items,
            "total": len(self.names),
            "next_cursor": str(start + 2) if more else None,
            "version": self.version,
            "fetched_at": "2026-01-05T08:00:00+00:00",
            "stale": False,
        }
        return body, tag


async def test_remote_home_reads_every_page_and_revalidates_with_one_request() -> None:
    api = _PagedDataApi(["a", "b", "c", "d", "e"])
    home = RemoteHome(api, Policy(), refresh=0)
    data = await home.kind("entities")
    assert sorted(data.items) == ["light.a", "light.b", "light.c", "light.d", "light.e"]
    assert isinstance(data.items["light.a"], Entity) and data.items["light.a"].name == "a v1"
    assert data.synced_at is not None and not home.stale
    assert api.calls == [(None, None), ("2", None), ("4", None)]
    version = data.version

    api.calls.clear()
    assert await home.kind("entities") is data and data.version == version  # unchanged: one 304
    assert api.calls == [(None, 'W/"v1"')] and home.not_modified == 1

    # Changed while its pages were read: read again, never a mix of two versions.
    api.calls.clear()
    api.version, api.change_on_page = 2, 1
    data = await home.kind("entities")
    assert {e.name.split()[-1] for e in data.items.values()} == {"v3"} and data.version > version
    assert api.calls == [(None, 'W/"v1"'), ("2", None), (None, 'W/"v1"'), ("2", None), ("4", None)]

    # Unreachable: the last copy, flagged stale; no copy at all: the read fails.
    api.down = True
    assert await home.kind("entities") is data and home.stale
    with pytest.raises(DataApiError):
        await home.kind("areas")
    api.down = False
    await home.kind("entities")
    assert not home.stale


async def test_remote_home_asks_at_most_once_per_refresh_and_kind() -> None:
    now = [0.0]
    api = _PagedDataApi(["a"])
    home = RemoteHome(api, Policy(), refresh=1.0, clock=lambda: now[0])
    await asyncio.gather(*(home.kind("entities") for _ in range(10)))  # concurrent turns share one
    assert len(api.calls) == 1
    now[0] = 0.9
    await home.kind("entities")
    assert len(api.calls) == 1
    now[0] = 1.0
    await home.kind("entities")
    assert api.calls[-1] == (None, 'W/"v1"') and len(api.calls) == 2


def test_role_agent_without_a_data_api_url_says_so(tmp_path) -> None:
    result = subprocess.run(
        [*CLI, "serve", "--role", "agent", "--port", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env=_env(LLM_BASE_URL="http://127.0.0.1:9/v1", HA_URL="http://127.0.0.1:9", HA_TOKEN="t" * 20),
    )
    assert result.returncode == 2, result
    assert result.stderr.strip().splitlines()[-1].startswith("ha-agent: DATA_API_URL is not set")


# --- ha-agent serve (one process) ----------------------------------------------------------------
async def test_serve_runs_mirror_and_agent_in_one_process(sim: SimulatedHA, tmp_path) -> None:
    async with ScriptedLLMServer(responder=echo) as llm:
        process = await asyncio.create_subprocess_exec(
            *CLI,
            "serve",
            "--port",
            "0",
            cwd=tmp_path,
            env=_env(
                HA_URL=sim.url,
                HA_TOKEN=sim.token,
                DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}",
                LLM_BASE_URL=llm.base_url,
                LLM_MODEL="gpt-4o-mini",
                HOME_ID="served",
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert process.stdout is not None
        output: list[str] = []
        try:
            url = None
            while url is None:
                line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
                assert line, "serve exited before saying where it serves:\n" + "".join(output)
                output.append(line)
                found = re.search(r"serving home 'served' at (http://\S+)/api/v1", line)
                url = found.group(1) if found else None
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                response = await http.post("/api/v1/chat", json={"message": "hello from a test"})
                assert response.status_code == 200, response.text
                assert response.json()["reply"] == "(scripted) You said: hello from a test"
                assert "light." in system_prompt(llm.requests[-1])
                conversation_id = response.json()["conversation_id"]
                assert (await http.get(f"/api/v1/conversations/{conversation_id}")).status_code == 200
                mirror = await http.get("/api/v1/entities", params={"domain": "light"})  # the mirror's API too
                assert mirror.status_code == 200 and mirror.json()["items"]
            process.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(process.stdout.read(), 30)
            output.append(rest.decode())
            assert await asyncio.wait_for(process.wait(), 30) == 0, "".join(output)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = "".join(output)
    assert "ha-agent: stopping" in text and "Traceback" not in text


# --- ha-agent chat -------------------------------------------------------------------------------
async def _run_chat(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "chat",
        *args,
        env=_env(),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode() if stdin is not None else None), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_chat_one_shot_prints_the_reply_and_the_tool_calls(sim: SimulatedHA, llm, tmp_path) -> None:
    async with serve_agent(agent_settings(sim, llm.base_url, tmp_path / "chat.db")) as agent:
        light = next(e for e in (await agent.service.home.kind("entities")).sorted_items() if e.domain == "light")
        llm.script(
            Reply.tool_calls([("get_state", {"entities": [light.entity_id]})]),
            Reply.text("The light is fine."),
            Reply.text("Plain answer."),
        )
        code, out, err = await _run_chat("is the light on?", "--url", agent.url)
        assert code == 0, err
        assert out.strip() == "The light is fine."
        assert f'[get_state] {{"entities":["{light.entity_id}"]}} -> ' in err and " ms)" in err
        conversation_id = re.search(r"\(conversation (\w+);", err).group(1)

        code, out, err = await _run_chat(
            "and now?", "--url", agent.url, "--conversation", conversation_id, "--no-stream"
        )
        assert code == 0, err
        assert out.strip() == "Plain answer."
        assert [m["role"] for m in llm.requests[-1]["messages"]] == [
            "system",
            "user",
            "assistant",
            "tool",
            "assistant",
            "user",
        ]

        code, out, err = await _run_chat("hi", "--conversation", "nope", "--url", agent.url)
        assert code == 1 and err.strip().splitlines() == [
            "ha-agent: no conversation 'nope': it was never started, or was deleted or purged "
            "(history_retention_days); leave out conversation_id to start a new one"
        ]


async def test_chat_prompt_keeps_a_conversation_until_new(sim: SimulatedHA, llm, tmp_path) -> None:
    async with serve_agent(agent_settings(sim, llm.base_url, tmp_path / "repl.db")) as agent:
        llm.script(Reply.text("One."), Reply.text("Two."), Reply.text("Three."))
        code, out, err = await _run_chat("--url", agent.url, stdin="first\nsecond\n/new\nthird\n")
        assert code == 0, err  # the end of input (Ctrl+D) ends the chat
        assert out.split() == ["One.", "Two.", "Three."]
        ids = re.findall(r"\(conversation (\w+);", err)
        assert ids[0] == ids[1] != ids[2]


def test_chat_without_an_agent_says_so_in_one_line(tmp_path) -> None:
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = subprocess.run(
        [*CLI, "chat", "hello", "--url", f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env=_env(),
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"ha-agent: cannot reach the agent at http://127.0.0.1:{port} (ConnectError): "
        "is `ha-agent serve` running, and AGENT_URL (or --url) right?"
    ]
