"""The real-Home-Assistant harness gives a home the client tests can rely on.

Plain aiohttp WebSocket / httpx REST only: these tests check the harness, not the project's client.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.forky_root import ForkyRoot, child_pid, debian_mirror
from tests.support.real_ha import (
    AREAS,
    DEVICE_AREAS,
    ENTITY_UPDATES,
    FLOORS,
    HELPERS,
    LABELS,
    LOCATION_NAME,
    ROOT_HA_VERSION,
    SCENES,
    TIME_ZONE,
    HACommandError,
    HANotAvailable,
    HAWebSocket,
    RealHomeAssistant,
    RootRunner,
    ensure_ha_venv,
)


@pytest.mark.real_ha
async def test_get_config_reports_the_configured_home(real_ha: RealHomeAssistant) -> None:
    async with real_ha.websocket() as ws:
        assert ws.auth_ok == {"type": "auth_ok", "ha_version": real_ha.version}
        config = await ws.command("get_config")
    assert config["location_name"] == LOCATION_NAME
    assert config["version"] == real_ha.version
    assert config["time_zone"] == TIME_ZONE
    assert config["state"] == "RUNNING"
    assert config["unit_system"]["temperature"] == "°C"
    assert {"demo", "recorder", "history", "script", "scene", *HELPERS} <= set(config["components"])


@pytest.mark.real_ha
async def test_floors_areas_and_labels_from_the_enrichment(real_ha: RealHomeAssistant) -> None:
    async with real_ha.websocket() as ws:
        floors = {f["name"]: f for f in await ws.command("config/floor_registry/list")}
        areas = {a["name"]: a for a in await ws.command("config/area_registry/list")}
        labels = {label["name"]: label for label in await ws.command("config/label_registry/list")}

    assert {name: f["level"] for name, f in floors.items()} == {f["name"]: f["level"] for f in FLOORS}
    assert floors["Ground floor"]["floor_id"] == "ground_floor"
    assert set(areas) == {a["name"] for a in AREAS}
    assert areas["Living Room"]["aliases"] == ["lounge"]
    assert areas["Living Room"]["floor_id"] == "ground_floor"
    assert areas["Office"]["floor_id"] == "first_floor"
    assert areas["Garden"]["floor_id"] is None
    assert areas["Garden"]["labels"] == [labels["Outdoor"]["label_id"]]
    assert set(labels) == {label["name"] for label in LABELS}


@pytest.mark.real_ha
async def test_devices_and_entities_are_placed_in_areas(real_ha: RealHomeAssistant) -> None:
    async with real_ha.websocket() as ws:
        devices = {d["name"]: d for d in await ws.command("config/device_registry/list")}
        entries = await ws.command("config/entity_registry/get_entries", entity_ids=list(ENTITY_UPDATES))

    for name, change in DEVICE_AREAS.items():
        assert devices[name]["area_id"] == real_ha.area_ids[change["area"]], name
    assert devices["Bed Light"]["name_by_user"] == "Bedside lamp"
    assert devices["Living Room RGBWW Lights"]["labels"] == ["energy_saver"]

    decorative = entries["switch.decorative_lights"]
    assert decorative["area_id"] is None  # its device's area applies
    assert devices["Decorative Lights"]["area_id"] == "garden"
    assert sorted(decorative["aliases"]) == ["fairy lights", "string lights"]
    assert entries["sensor.sun_next_dawn"]["area_id"] == "garden"  # its own area; its device has none
    assert devices["Sun"]["area_id"] is None
    assert entries["light.kitchen_lights"]["aliases"] == ["cooking light"]


@pytest.mark.real_ha
async def test_helpers_of_every_domain_are_in_the_states(real_ha: RealHomeAssistant) -> None:
    async with real_ha.websocket() as ws:
        states = {s["entity_id"]: s for s in await ws.command("get_states")}

    for domain, items in HELPERS.items():
        for object_id, options in items.items():
            state = states.get(f"{domain}.{object_id}")
            assert state is not None, f"{domain}.{object_id} missing"
            assert state["attributes"]["friendly_name"] == options["name"]
    assert states["input_select.house_mode"]["attributes"]["options"] == [
        "Home",
        "Away",
        "Night",
        "Party",
    ]
    assert states["timer.laundry"]["attributes"]["duration"] == "1:30:00"


@pytest.mark.real_ha
async def test_scenes_have_entity_registry_entries(real_ha: RealHomeAssistant) -> None:
    async with real_ha.websocket() as ws:
        registry = {e["entity_id"]: e for e in await ws.command("config/entity_registry/list")}
        states = {s["entity_id"]: s for s in await ws.command("get_states")}

    for scene in SCENES:
        entity_id = f"scene.{scene['id']}"
        assert registry[entity_id]["platform"] == "homeassistant"
        assert states[entity_id]["attributes"]["friendly_name"] == scene["name"]
    assert registry["scene.movie_time"]["area_id"] == "living_room"


@pytest.mark.real_ha
async def test_script_fields_appear_in_services(real_ha: RealHomeAssistant) -> None:
    async with real_ha.websocket() as ws:
        services = await ws.command("get_services")

    announce = services["script"]["announce"]
    assert announce["name"] == "Announce"
    assert announce["fields"]["message"]["required"] is True
    assert announce["fields"]["volume"]["required"] is False
    assert "target" in services["light"]["turn_on"]


@pytest.mark.real_ha
async def test_expose_entity_list_answers(real_ha: RealHomeAssistant) -> None:
    async with real_ha.websocket() as ws:
        result = await ws.command("homeassistant/expose_entity/list")

    exposed: dict[str, Any] = result["exposed_entities"]
    assert exposed["light.kitchen_lights"] == {"conversation": True}
    assert "input_boolean.guest_mode" not in exposed or exposed["input_boolean.guest_mode"] == {"conversation": False}


@pytest.mark.real_ha
def test_rest_api_answers_with_the_token(real_ha: RealHomeAssistant) -> None:
    with httpx.Client(base_url=real_ha.url, headers=real_ha.headers(), timeout=10) as client:
        assert client.get("/api/").json() == {"message": "API running."}
        services = client.get("/api/services").json()
        assert isinstance(services, list)
        assert "turn_on" in next(s for s in services if s["domain"] == "light")["services"]
        state = client.get("/api/states/input_boolean.guest_mode").json()
        assert state["attributes"]["friendly_name"] == "Guest mode"
    assert httpx.get(f"{real_ha.url}/api/", timeout=10).status_code == 401


@pytest.mark.real_ha
def test_history_is_recorded(real_ha: RealHomeAssistant) -> None:
    entity_id = "input_boolean.vacation_mode"
    path = f"/api/history/period?filter_entity_id={entity_id}&minimal_response&no_attributes"
    with httpx.Client(base_url=real_ha.url, headers=real_ha.headers(), timeout=10) as client:
        for _ in range(2):  # on and back off: the home ends as it started
            response = client.post("/api/services/input_boolean/toggle", json={"entity_id": entity_id})
            assert response.status_code == 200
        deadline = time.monotonic() + 10
        while True:  # the recorder commits once a second
            history = client.get(path).json()
            if (history and len(history[0]) >= 3) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert [row["state"] for row in history[0]][-3:] == ["off", "on", "off"]
    assert history[0][0]["entity_id"] == entity_id


@pytest.mark.real_ha
def test_restart_keeps_the_token_and_the_home(real_ha: RealHomeAssistant) -> None:
    url, token, old_pid = real_ha.url, real_ha.token, real_ha.hass_pid
    real_ha.restart()
    assert (real_ha.url, real_ha.token) == (url, token)
    assert old_pid is not None and real_ha.hass_pid != old_pid
    assert not Path(f"/proc/{old_pid}").exists()  # hass itself exited (signalled by its PID)

    async def check() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with HAWebSocket(url, token) as ws:
            return await ws.command("get_config"), await ws.command("config/area_registry/list")

    config, areas = asyncio.run(check())
    assert config["state"] == "RUNNING"
    assert {a["name"] for a in areas} == {a["name"] for a in AREAS}


# -- when no real HA can be had (no Home Assistant needed for these) ------------------------------


def _without_python313(tmp_path: Path) -> dict[str, str]:
    """An environment where the harness finds no Python 3.13, no bubblewrap and nothing installed."""
    return {
        **os.environ,
        "HA_AGENT_PYTHON313": str(tmp_path / "no-such-python3.13"),
        "HA_AGENT_BWRAP": str(tmp_path / "no-such-bwrap"),
        "HA_AGENT_DEBOOTSTRAP": str(tmp_path / "no-such-debootstrap"),
        "HA_AGENT_CACHE": str(tmp_path / "cache"),
    }


def test_no_python313_raises_ha_not_available(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in _without_python313(tmp_path).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(HANotAvailable, match=r"no working Python 3\.13"):
        ensure_ha_venv(report=lambda message: None)


@pytest.mark.parametrize(("ci", "outcome"), [("", "2 skipped"), ("true", "2 errors")])
def test_fixture_skips_without_ha_but_fails_on_ci(tmp_path: Path, ci: str, outcome: str) -> None:
    env = {**_without_python313(tmp_path), "CI": ci}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_get_config_reports_the_configured_home",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert outcome in result.stdout, result.stdout[-2000:]
    assert "real Home Assistant 2025.4.4 unavailable: no working Python 3.13" in result.stdout
    assert "real Home Assistant 2026.11.0 unavailable: no bubblewrap or debootstrap (HA_AGENT_BWRAP=" in result.stdout


@pytest.mark.real_ha
async def test_the_http_config_is_confirmed_so_ha_does_not_restart_itself(real_ha: RealHomeAssistant) -> None:
    """HA 2026 takes configuration.yaml's `http:` as a pending config, reverted (with a restart)
    unless confirmed within 5 minutes; the harness confirms it. HA 2025.4 has no such thing."""
    async with real_ha.websocket() as ws:
        try:
            state = await ws.command("http/config")
        except HACommandError as exc:
            assert real_ha.version.startswith("2025.") and exc.code == "unknown_command"
            return
    assert state["pending"] is None and state["revert_at"] is None
    assert state["stable"]["server_port"] == int(real_ha.url.rsplit(":", 1)[1])  # the YAML's, confirmed
    assert state["stable"]["server_host"] == ["127.0.0.1"]


@pytest.mark.real_ha
def test_the_forky_root_is_read_only_to_what_runs_in_it(real_has: Any, tmp_path: Path) -> None:
    runner = real_has.get(ROOT_HA_VERSION).runner
    assert isinstance(runner, RootRunner)
    probe = ["sh", "-c", "touch /opt/ha/probe; echo $?; touch /opt/ha/config/probe && echo bound-ok; python3 -V"]
    done = subprocess.run(
        runner.root.command(probe, binds={tmp_path: "/opt/ha/config"}), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert lines[0] != "0" and "Read-only file system" in done.stderr
    assert lines[1] == "bound-ok" and (tmp_path / "probe").exists()
    assert lines[2].startswith("Python 3.14.")
    assert not (runner.root.path / "opt/ha/probe").exists()


def test_the_forky_root_needs_root_and_bubblewrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HA_AGENT_CACHE", str(tmp_path))
    root = ForkyRoot("test", report=lambda message: None)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(HANotAvailable, match="needs root .*running as uid 1000"):
        root.check_machine()
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("HA_AGENT_BWRAP", str(tmp_path / "no-bwrap"))  # explicit paths: no apt-get
    monkeypatch.setenv("HA_AGENT_DEBOOTSTRAP", str(tmp_path / "no-debootstrap"))
    with pytest.raises(
        HANotAvailable, match=r"no bubblewrap or debootstrap \(HA_AGENT_BWRAP=.*, HA_AGENT_DEBOOTSTRAP="
    ):
        root.check_machine()


def test_the_debian_mirror_is_the_hosts(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n"
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
    )
    listed = tmp_path / "sources.list"
    listed.write_text(
        "# deb http://commented.example/debian bookworm main\ndeb [arch=amd64] http://list.example/debian bookworm main\n"
    )
    assert debian_mirror([tmp_path / "missing.sources", sources, listed]) == "http://mirror.example/debian"
    assert debian_mirror([listed]) == "http://list.example/debian"
    assert debian_mirror([]) == "http://deb.debian.org/debian"


def test_child_pid_is_the_program_bwrap_runs() -> None:
    parent = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    pid: int | None = None
    try:
        for _ in range(250):  # until the child has forked and exec'd
            pid = child_pid(parent.pid)
            if pid is not None and Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep"):
                break
            time.sleep(0.02)
        assert pid is not None and Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep")
    finally:
        if pid is not None:
            os.kill(pid, 15)
        parent.wait(timeout=10)
    assert child_pid(parent.pid) is None
