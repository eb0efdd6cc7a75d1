"""The data-api over real HTTP: a simulated HA (small home), a SQLite store, the mirror and uvicorn.

The served stack runs in its own event loop on a background thread (`ServedMirror`), so the
tests are plain synchronous code speaking HTTP to it, exactly as another program would; work
inside the stack (a service call through the HA client, a look at the mirror) goes through
`ServedMirror.run`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from data_api.api.app import create_app
from data_api.mirror import LIST_KINDS, Mirror, MirrorReader
from data_api.platform.http.auth import is_loopback, require_keys_or_loopback
from data_api.platform.http.bodies import BodyCache, accepts_gzip, etag_matches
from data_api.platform.http.server import HttpServer
from data_api.platform.settings import Settings, SettingsError
from data_api.service import run_data_api
from data_api.simulator import SimulatedHA, generate_home
from data_api.store import Store

KEY = "test-key-0123456789abcdef"
OTHER_KEY = "other-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
CLI = [sys.executable, "-m", "ha_agent.cli"]
REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# The served stack
# ---------------------------------------------------------------------------------------------


class ServedMirror:
    """Simulated HA → Mirror (SQLite in `folder`) → API on uvicorn, in a background event loop."""

    def __init__(self, folder: Path, size: str = "small", api_keys: tuple[str, ...] = (KEY, OTHER_KEY)) -> None:
        self.folder = folder
        self.size = size
        self.api_keys = api_keys
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="served-mirror", daemon=True)
        self.url = ""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> ServedMirror:
        self._thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        self.sim = SimulatedHA(generate_home(self.size))
        await self.sim.start()
        self.settings = Settings(
            ha_url=self.sim.url,
            ha_token=self.sim.token,
            database_url=f"sqlite+aiosqlite:///{self.folder / 'mirror.db'}",
            api_keys=list(self.api_keys),
            home_id="test",
            ha_reconnect_min_delay=0.05,
            ha_reconnect_max_delay=0.5,
        )
        self.store = Store.from_settings(self.settings.db)
        self.mirror = Mirror(self.settings, self.store)
        await self.mirror.start(wait=True)
        self.reader = MirrorReader(self.mirror)
        self.server = HttpServer(create_app(self.reader, self.settings))
        self.url = await self.server.start()

    def close(self) -> None:
        try:
            self.run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    async def _stop(self) -> None:
        await self.server.stop()
        await self.mirror.stop()
        await self.store.close()
        await self.sim.close()  # idempotent: a test may have stopped it

    def stop_home_assistant(self) -> None:
        self.run(self.sim.stop())

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=AUTH if headers is None else headers, timeout=10)

    def items(self, kind: str) -> tuple[int, dict[str, dict[str, Any]]]:
        """The mirror's own copy of a kind (version, items as JSON), read inside its loop."""
        data = self.run(self.reader.kind_data(kind))
        return data.version, {key: json.loads(json.dumps(item.as_dict())) for key, item in data.items.items()}


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMirror]:
    stack = ServedMirror(tmp_path_factory.mktemp("data-api")).start()
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def api(served: ServedMirror) -> Iterator[httpx.Client]:
    with served.client() as client:
        yield client


def walk(api: httpx.Client, kind: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, following cursors; checks the pages on the way."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        response = api.get(f"/api/v1/{kind}", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            assert len(items) == page["total"]
            return items
    raise AssertionError("pagination never ended")


def keys_of(items: list[dict[str, Any]], key: str = "entity_id") -> list[str]:
    return [item[key] for item in items]


_KEY_FIELD = {
    "floors": "floor_id",
    "areas": "area_id",
    "labels": "label_id",
    "devices": "id",
    "services": "service_id",
}


def key_field(kind: str) -> str:
    return _KEY_FIELD.get(kind, "entity_id")


def entities(served: ServedMirror) -> dict[str, dict[str, Any]]:
    return served.items("entities")[1]


# ---------------------------------------------------------------------------------------------
# What the endpoints return
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LIST_KINDS)
def test_every_list_endpoint_returns_what_the_mirror_holds(served: ServedMirror, api: httpx.Client, kind: str) -> None:
    for _ in range(5):  # the simulated home is live: retry if the kind changed in between
        version, expected = served.items(kind)
        served_items = walk(api, kind, limit=1000)
        if served.items(kind)[0] == version:
            break
    assert expected, f"the small home has no {kind}"
    assert keys_of(served_items, key_field(kind)) == sorted(expected)
    assert {item[key_field(kind)]: item for item in served_items} == expected


def test_one_entity_and_the_config(served: ServedMirror, api: httpx.Client) -> None:
    entity_id = sorted(entities(served))[0]
    body = api.get(f"/api/v1/entities/{entity_id}").json()
    assert body["item"]["entity_id"] == entity_id
    assert set(body) == {"item", "version", "fetched_at", "stale"}
    config = api.get("/api/v1/config").json()
    assert config["item"] == next(iter(served.items("config")[1].values()))


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------


def _an_area_with_entities(served: ServedMirror) -> dict[str, Any]:
    areas = served.items("areas")[1]
    used = {e["area_id"] for e in entities(served).values()}
    with_alias = [a for a in areas.values() if a["area_id"] in used and a["aliases"]]
    assert with_alias, "the small home needs an area with entities and an alias"
    return with_alias[0]


def test_area_filter_by_id_name_and_alias(served: ServedMirror, api: httpx.Client) -> None:
    area = _an_area_with_entities(served)
    expected = sorted(k for k, e in entities(served).items() if e["area_id"] == area["area_id"])
    for value in (area["area_id"], area["name"].upper(), area["aliases"][0].lower()):
        assert keys_of(walk(api, "entities", area=value)) == expected, value


def test_floor_domain_device_and_exposed_filters(served: ServedMirror, api: httpx.Client) -> None:
    all_entities = entities(served)
    floor_id = next(e["floor_id"] for e in all_entities.values() if e["floor_id"])
    device_id = next(e["device_id"] for e in all_entities.values() if e["device_id"])
    cases = [
        ({"floor": floor_id}, lambda e: e["floor_id"] == floor_id),
        ({"domain": "light"}, lambda e: e["domain"] == "light"),
        ({"device_id": device_id}, lambda e: e["device_id"] == device_id),
        ({"exposed": "true"}, lambda e: e["exposed"]),
        ({"exposed": "false"}, lambda e: not e["exposed"]),
        ({"domain": "light", "floor": floor_id}, lambda e: e["domain"] == "light" and e["floor_id"] == floor_id),
    ]
    for params, wanted in cases:
        expected = sorted(k for k, e in all_entities.items() if wanted(e))
        assert expected, f"nothing in the small home matches {params}"
        assert keys_of(walk(api, "entities", **params)) == expected, params


def test_label_filter(served: ServedMirror, api: httpx.Client) -> None:
    labelled = [
        (kind, label)
        for kind in ("entities", "devices", "areas")
        for item in served.items(kind)[1].values()
        for label in item["labels"]
    ]
    assert labelled, "the small home has no labelled entity, device or area"
    kind, label = labelled[0]
    expected = sorted(k for k, item in served.items(kind)[1].items() if label in item["labels"])
    assert keys_of(walk(api, kind, label=label), key_field(kind)) == expected


def test_q_matches_aliases_ignoring_case(served: ServedMirror, api: httpx.Client) -> None:
    entity = next(e for e in entities(served).values() if e["aliases"])
    alias = entity["aliases"][0]
    found = keys_of(walk(api, "entities", q=alias.swapcase()))
    assert entity["entity_id"] in found
    for entity_id in found:
        names = [entity_id, entities(served)[entity_id]["name"], *entities(served)[entity_id]["aliases"]]
        assert any(alias.casefold() in n.casefold() for n in names)


# ---------------------------------------------------------------------------------------------
# Pagination, ETags, gzip, headers
# ---------------------------------------------------------------------------------------------


def test_pagination_walks_every_item_once(served: ServedMirror, api: httpx.Client) -> None:
    pages = 0
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/entities", params=params).json()
        assert len(page["items"]) <= 7
        seen += keys_of(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == page["total"]
    assert seen == sorted(entities(served))
    assert pages == -(-len(seen) // 7)


def test_etag_answers_304_until_the_state_changes(served: ServedMirror, api: httpx.Client) -> None:
    light = sorted(k for k, e in entities(served).items() if e["domain"] == "light")[0]
    area = entities(served)[light]["area_id"]
    params = {"area": area} if area else {"domain": "light"}
    first = api.get("/api/v1/entities", params=params)
    etag = first.headers["etag"]
    again = api.get("/api/v1/entities", params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag

    before = entities(served)[light]["state"]
    served.run(served.mirror.client.call_service("light", "toggle", target={"entity_id": light}))
    wait_until(lambda: entities(served)[light]["state"] != before, what="the toggle to reach the mirror")
    changed = api.get("/api/v1/entities", params=params, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert {i["entity_id"]: i["state"] for i in changed.json()["items"]}[light] != before


def test_etags_differ_between_processes_for_the_same_data() -> None:
    # Versions restart with the process; the per-process epoch keeps old ETags from matching.
    key = ("entities", 1, None, False, 0, None, ())
    assert BodyCache().etag(key) != BodyCache().etag(key)
    cache = BodyCache()
    assert cache.etag(key) == cache.etag(key)


def test_gzip_for_large_bodies_only(api: httpx.Client) -> None:
    large = api.get("/api/v1/entities", params={"limit": 1000}, headers={"Accept-Encoding": "gzip"})
    assert large.headers["content-encoding"] == "gzip"
    assert int(large.headers["content-length"]) < len(large.content)  # httpx decoded it
    assert "accept-encoding" in large.headers["vary"].lower()
    small = api.get("/api/v1/floors", params={"limit": 1}, headers={"Accept-Encoding": "gzip"})
    assert len(small.content) < 500 and "content-encoding" not in small.headers
    plain = api.get("/api/v1/entities", params={"limit": 1000}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == large.json()
    # Bodies the routes do not cache are compressed by the middleware.
    spec = api.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert spec.headers["content-encoding"] == "gzip"


def test_gzip_bytes_are_a_valid_gzip_stream(served: ServedMirror) -> None:
    with httpx.Client(base_url=served.url, headers={**AUTH, "Accept-Encoding": "gzip"}) as raw:
        with raw.stream("GET", "/api/v1/entities", params={"limit": 1000}) as response:
            body = b"".join(response.iter_raw())
    assert json.loads(gzip.decompress(body))["items"]


def test_every_response_carries_x_response_time(served: ServedMirror, api: httpx.Client) -> None:
    anonymous = served.client(headers={})
    responses = [
        api.get("/api/v1/entities"),
        api.get("/api/v1/entities", params={"limit": 0}),
        api.get("/api/v1/entities", params={"area": "no-such-area"}),
        api.get("/api/v1/nothing-here"),
        api.post("/api/v1/entities"),
        api.get("/metrics"),
        api.get("/health/detailed"),
        api.get("/openapi.json"),
        anonymous.get("/health"),
        anonymous.get("/api/v1/entities"),
    ]
    etag = responses[0].headers["etag"]
    responses.append(api.get("/api/v1/entities", headers={"If-None-Match": etag}))
    assert {r.status_code for r in responses} >= {200, 304, 400, 401, 404, 405, 422}
    for response in responses:
        assert re.fullmatch(r"\d+\.\d{3}ms", response.headers["x-response-time"]), response.request.url


def test_every_body_says_how_fresh_it_is(served: ServedMirror, api: httpx.Client) -> None:
    entity_id = sorted(entities(served))[0]
    paths = [f"/api/v1/{kind}" for kind in LIST_KINDS] + [f"/api/v1/entities/{entity_id}", "/api/v1/config"]
    for path in paths:
        body = api.get(path).json()
        assert body["stale"] is False, path
        assert datetime.fromisoformat(body["fetched_at"]).tzinfo is not None, path
        assert isinstance(body["version"], int), path


def test_stale_while_home_assistant_is_down_and_data_still_served(tmp_path: Path) -> None:
    stack = ServedMirror(tmp_path).start()
    try:
        with stack.client() as api:
            before = api.get("/api/v1/entities").json()
            assert before["stale"] is False
            assert api.get("/health").json()["status"] == "ok"
            stack.stop_home_assistant()
            wait_until(lambda: api.get("/health").json()["connected"] is False, what="the disconnect")
            health = api.get("/health").json()
            assert health.pop("database")["ok"] is True
            assert health == {"status": "degraded", "connected": False, "stale": True}
            during = api.get("/api/v1/entities").json()
            assert during["stale"] is True
            assert during["items"] == before["items"]
            assert during["fetched_at"] == before["fetched_at"]
            assert api.get("/api/v1/areas").json()["stale"] is True
    finally:
        stack.close()


# ---------------------------------------------------------------------------------------------
# API keys
# ---------------------------------------------------------------------------------------------


def test_keys_are_required_and_both_headers_work(served: ServedMirror) -> None:
    with served.client(headers={}) as anonymous:
        missing = anonymous.get("/api/v1/entities")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in missing.json()["detail"]
        assert anonymous.get("/health").status_code == 200  # open, for health checks
        for path in ("/health/detailed", "/metrics", "/openapi.json", "/api/v1/config"):
            assert anonymous.get(path).status_code == 401, path
        wrong = anonymous.get("/api/v1/entities", headers={"Authorization": "Bearer wrong-key-000000000000"})
        assert wrong.status_code == 401 and "wrong-key" not in wrong.text
        assert anonymous.get("/api/v1/floors", headers={"Authorization": f"Bearer {OTHER_KEY}"}).status_code == 200
        assert anonymous.get("/api/v1/floors", headers={"X-API-Key": KEY}).status_code == 200
        assert anonymous.get("/api/v1/floors", headers={"X-API-Key": KEY + "x"}).status_code == 401
        assert anonymous.get("/api/v1/floors", headers={"Authorization": f"Basic {KEY}"}).status_code == 401


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"])
def test_without_keys_loopback_is_allowed(host: str) -> None:
    assert is_loopback(host)
    require_keys_or_loopback(host, [])


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_without_keys_other_addresses_are_refused(host: str) -> None:
    with pytest.raises(SettingsError) as info:
        require_keys_or_loopback(host, [])
    message = str(info.value)
    assert message.startswith("API_KEYS is not set: refusing to listen on " + host)
    assert "\n" not in message
    require_keys_or_loopback(host, [KEY])  # with keys, any address


async def test_the_service_refuses_before_touching_anything(tmp_path: Path) -> None:
    database = tmp_path / "never.db"
    settings = Settings(
        ha_url="http://127.0.0.1:1", ha_token="t" * 20, database_url=f"sqlite:///{database}", api_keys=[]
    )
    with pytest.raises(SettingsError, match="API_KEYS is not set"):
        await run_data_api(settings, "0.0.0.0", 0)
    assert not database.exists()


def test_etag_and_encoding_negotiation_helpers() -> None:
    assert etag_matches('W/"a-1"', 'W/"a-1"') and etag_matches('"a-1"', 'W/"a-1"')
    assert etag_matches('"x", W/"a-1"', 'W/"a-1"') and etag_matches("*", 'W/"a-1"')
    assert not etag_matches('W/"a-2"', 'W/"a-1"') and not etag_matches(None, 'W/"a-1"')
    assert accepts_gzip("gzip, deflate, br") and accepts_gzip("*") and accepts_gzip("br;q=1, gzip;q=0.5")
    assert not accepts_gzip("gzip;q=0") and not accepts_gzip("identity") and not accepts_gzip(None)
    assert not accepts_gzip("*;q=0") and accepts_gzip("gzip;q=0.1, *;q=0")


# ---------------------------------------------------------------------------------------------
# Bad input: 4xx with a message that says what to fix
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/api/v1/entities", {"area": "no-such-area"}, 400, ["unknown area", "known:"]),
        ("/api/v1/entities", {"floor": "attic-of-nowhere"}, 400, ["unknown floor"]),
        ("/api/v1/entities", {"label": "no-such-label"}, 400, ["unknown label"]),
        ("/api/v1/entities", {"domain": "no_such_domain"}, 400, ["unknown domain"]),
        ("/api/v1/entities", {"device_id": "no-such-device"}, 400, ["unknown device_id"]),
        ("/api/v1/entities", {"cursor": "not-a-cursor"}, 400, ["cursor", "next_cursor"]),
        ("/api/v1/entities", {"limit": 100000}, 422, ["limit", "at most 1000"]),
        ("/api/v1/entities", {"limit": 0}, 422, ["limit", "at least 1"]),
        ("/api/v1/entities", {"limit": "ten"}, 422, ["limit", "whole number"]),
        ("/api/v1/entities", {"exposed": "maybe"}, 422, ["exposed", "true or false"]),
        ("/api/v1/entities", {"aera": "kitchen"}, 400, ["unknown query parameter 'aera'", "area"]),
        ("/api/v1/floors", {"domain": "light"}, 400, ["'domain'", "floors"]),
        ("/api/v1/entities", {"q": ""}, 422, ["'q'", "must not be empty"]),
        ("/api/v1/widgets", {}, 404, ["no endpoint", "/docs"]),
        ("/api/v1/entities/light.no_such_light", {}, 404, ["unknown entity", "light.no_such_light"]),
    ],
)
def test_bad_input_gets_a_4xx_that_says_what_to_fix(
    api: httpx.Client, path: str, params: dict[str, Any], status: int, words: list[str]
) -> None:
    response = api.get(path, params=params)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    for word in words:
        assert word in detail, (word, detail)
    assert "Traceback" not in response.text


def test_a_cursor_of_another_listing_is_refused(api: httpx.Client) -> None:
    cursor = api.get("/api/v1/entities", params={"limit": 1}).json()["next_cursor"]
    response = api.get("/api/v1/devices", params={"cursor": cursor})
    assert response.status_code == 400 and "another listing" in response.json()["detail"]


def test_wrong_method_says_which_to_use(api: httpx.Client) -> None:
    response = api.delete("/api/v1/entities")
    assert response.status_code == 405
    assert "use GET" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------
# Health and metrics
# ---------------------------------------------------------------------------------------------


def test_health_detailed_after_some_requests(served: ServedMirror, api: httpx.Client) -> None:
    entity_id = sorted(entities(served))[0]
    for _ in range(5):
        api.get("/api/v1/entities", params={"domain": "light"})
        api.get(f"/api/v1/entities/{entity_id}")
    api.get("/api/v1/entities", params={"area": "no-such-area"})
    detail = api.get("/health/detailed").json()
    assert detail["status"] == "ok" and detail["connected"] is True and detail["stale"] is False
    assert datetime.fromisoformat(detail["last_sync"]) and detail["last_sync_age_seconds"] >= 0
    assert detail["database"]["ok"] is True and detail["database"]["latency_ms"] > 0
    entities_stats = detail["endpoints"]["GET /api/v1/entities"]
    assert entities_stats["count"] >= 6 and entities_stats["errors"] >= 1
    assert 0 < entities_stats["error_rate"] < 1
    assert entities_stats["min_ms"] <= entities_stats["avg_ms"] <= entities_stats["max_ms"]
    assert detail["endpoints"]["GET /api/v1/entities/{entity_id}"]["count"] >= 5  # the template, not the path
    assert not any(entity_id in name for name in detail["endpoints"])
    assert detail["cache"]["entities"]["hits"] > 0 and 0 < detail["cache"]["entities"]["hit_rate"] <= 1
    assert set(detail["cache"]) >= {"entities", "areas", "devices", "services"}
    assert detail["responses"]["hits"] > 0


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels}")


def test_metrics_in_prometheus_format(served: ServedMirror, api: httpx.Client) -> None:
    entity_id = sorted(entities(served))[0]
    for _ in range(3):
        api.get("/api/v1/areas")
        api.get(f"/api/v1/entities/{entity_id}")
    response = api.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert _metric(text, "ha_data_api_requests_total", route="/api/v1/areas", status="200") >= 3
    assert _metric(text, "ha_data_api_requests_total", route="/api/v1/entities/{entity_id}") >= 3
    assert entity_id not in text
    assert _metric(text, "ha_data_api_request_duration_seconds_count", route="/api/v1/areas") >= 3
    assert _metric(text, "ha_data_api_request_duration_seconds_bucket", route="/api/v1/areas", le="+Inf") >= 3
    assert _metric(text, "ha_data_api_cache_hits_total", kind="areas") > 0
    assert _metric(text, "ha_data_api_cache_misses_total", kind="areas") >= 0
    assert _metric(text, "ha_data_api_cache_refills_total", kind="areas") >= 0
    assert _metric(text, "ha_data_api_mirror_connected") == 1
    assert _metric(text, "ha_data_api_mirror_stale") == 0
    assert _metric(text, "ha_data_api_mirror_last_sync_age_seconds") >= 0
    assert _metric(text, "ha_data_api_mirror_events_applied_total") >= 0
    assert _metric(text, "ha_data_api_db_up") == 1
    assert _metric(text, "ha_data_api_db_latency_seconds") > 0
    for line in text.splitlines():  # every line is a comment or `name{labels} value`
        assert line.startswith("# ") or re.fullmatch(r"[a-z_]+(\{.*\})? \S+", line), line


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def _cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEYS", "DATA_API_URL", "HA_URL", "HA_TOKEN")}
    return {**env, "API_KEYS": KEY, **extra}


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, cwd=REPO, env=_cli_env(**env))


def test_query_prints_a_table_and_json(served: ServedMirror, api: httpx.Client) -> None:
    area = _an_area_with_entities(served)
    expected = keys_of(walk(api, "entities", area=area["area_id"]))
    table = _cli("query", "entities", "--area", area["name"], "--url", served.url)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["entity_id", "name", "state", "area_id", "exposed"]
    assert [line.split()[0] for line in lines[2:]] == expected
    assert f"{len(expected)} of {len(expected)} entities" in table.stderr

    as_json = _cli("query", "entities", "--area", area["area_id"], "--json", "--url", served.url)
    assert as_json.returncode == 0, as_json.stderr
    assert keys_of(json.loads(as_json.stdout)["items"]) == expected

    every = _cli("query", "entities", "--all", "--limit", "5", "--json", "--url", served.url)
    assert keys_of(json.loads(every.stdout)["items"]) == sorted(entities(served))


def test_query_other_kinds_and_one_entity(served: ServedMirror) -> None:
    for kind in ("areas", "devices", "services", "scripts", "config"):
        result = _cli("query", kind, "--url", served.url)
        assert result.returncode == 0 and result.stdout.strip(), (kind, result.stderr)
    entity_id = sorted(entities(served))[0]
    one = _cli("query", "entities", entity_id, "--json", "--url", served.url)
    assert json.loads(one.stdout)["item"]["entity_id"] == entity_id


def test_query_errors_are_one_line_and_exit_1(served: ServedMirror) -> None:
    cases = [
        (["query", "entities", "--area", "no-such-area", "--url", served.url], {}, "unknown area"),
        (["query", "entities", "--url", served.url], {"API_KEYS": OTHER_KEY + "zz"}, "refused"),
        (["query", "entities", "--url", "http://127.0.0.1:9"], {}, "cannot reach the data-api"),
        (["query", "entities", "--limit", "5000", "--url", served.url], {}, "at most 1000"),
    ]
    for args, env, words in cases:
        result = _cli(*args, **env)
        assert result.returncode == 1, result
        assert result.stderr.strip().count("\n") == 0 and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_serve_runs_the_service_and_stops_cleanly_on_sigterm(served: ServedMirror, tmp_path: Path) -> None:
    env = _cli_env(
        HA_URL=served.sim.url,
        HA_TOKEN=served.sim.token,
        DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}",
        HOME_ID="served",
    )
    process = subprocess.Popen(
        [*CLI, "serve", "--role", "data-api", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            found = re.search(r"at (http://\S+)/api/v1", line)
            if found:
                url = found.group(1)
                break
        assert url, process.stderr.read() if process.stderr else "no URL printed"
        with httpx.Client(base_url=url, headers=AUTH) as client:
            wait_until(lambda: client.get("/health").json()["status"] == "ok", 30, "the first sync")
            assert client.get("/api/v1/entities").json()["total"] > 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        assert "stopping" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_without_keys_refuses_a_public_address() -> None:
    result = _cli("serve", "--host", "0.0.0.0", "--port", "0", API_KEYS="")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "ha-agent: API_KEYS is not set: refusing to listen on 0.0.0.0 without API keys "
        "(set API_KEYS, or listen on 127.0.0.1)"
    )
