"""SimulatedHA: an aiohttp server speaking Home Assistant 2025.4.4's WebSocket and REST APIs over
a SimHome, with faults that tests and benchmarks can switch on at runtime.

REST follows components/api/__init__.py and components/history/__init__.py: every route needs
`Authorization: Bearer <token>` (else `401: Unauthorized` as text), `GET /api/services` is a
list of {domain, services}, `POST /api/services/<domain>/<service>` answers the states its call
changed (and `{changed_states, service_response}` with `?return_response`). Scripts are created,
changed and deleted as HA's UI does it (components/config/script.py, view.py).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from aiohttp import web

from . import protocol as P
from . import schema as v
from .domains import events_between, rest_event
from .home import SimHome, generate_home, new_context
from .schema import valid_entity_id
from .util import dumps, slugify
from .websocket import Connection

_JSON = "application/json"

# components/script/config.py: SCRIPT_ENTITY_SCHEMA (make_script_schema) and its field schema.
_RESERVED_SCRIPT_IDS = ("reload", "toggle", "turn_off", "turn_on")
_SCRIPT_FIELD = v.Schema(
    (
        v.optional("advanced", v.boolean),
        v.optional("default"),
        v.optional("description", v.string),
        v.optional("example", v.string),
        v.optional("name", v.string),
        v.optional("required", v.boolean),
        v.optional("selector", v.dictionary),
    )
)


def _script_fields(value: Any) -> dict[str, Any]:
    fields = {}
    for name, spec in v.dictionary(value).items():
        try:
            fields[str(name)] = _SCRIPT_FIELD(spec)
        except v.Invalid as err:
            raise v.Invalid(err.message, (name, *err.path)) from None
    return fields


_SCRIPT_CONFIG = v.Schema(
    (
        v.optional("alias", v.string),
        v.optional("trace", v.dictionary),
        v.optional("icon", v.string),
        v.required("sequence", v.list_of(v.dictionary, coerce=True)),
        v.optional("description", v.string),
        v.optional("variables", v.dictionary),
        v.optional("fields", _script_fields),
        v.optional("mode", v.one_of(["single", "restart", "queued", "parallel"])),
        v.optional("max", v.number(2, integer=True)),
        v.optional("max_exceeded", v.string),
    )
)


class SimulatedHA:
    """A simulated Home Assistant. Faults are plain attributes, settable at any time:

    - `latency`: seconds added to every WebSocket command and REST request;
      `command_latency[type]` overrides it per command type (REST keys: "rest:GET /api/states");
    - `refuse_auth`: answer every auth with `auth_invalid` (and REST with 401);
    - `refuse_websocket`: refuse WebSocket upgrades (HTTP 503) while REST still answers, as a
      restarting HA may for a moment;
    - `hang_commands`: command types that are counted but never answered;
    - `malformed_next`: the next frame sent (to any client) is cut into invalid JSON;
    - `await drop_connections()`: abort every WebSocket mid-stream, without a close frame;
    - `await restart()`: stop and start on the same port, keeping the home.
    `command_counts` counts commands received by type (and REST requests, "rest:..." keys).
    """

    def __init__(self, home: SimHome, *, token: str | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.home = home
        self._token = token or secrets.token_urlsafe(32)
        self.host = host
        self.port = port
        self.latency = 0.0
        self.command_latency: dict[str, float] = {}
        self.refuse_auth = False
        self.refuse_websocket = False
        self.hang_commands: set[str] = set()
        self.malformed_next = False
        self.command_counts: Counter[str] = Counter()
        self.connections: set[Connection] = set()
        self._event_subs: dict[tuple[int, int], tuple[Connection, str]] = {}
        self._entity_subs: dict[tuple[int, int], tuple[Connection, set[str] | None]] = {}
        self._services_json: bytes | None = None
        self._runner: web.AppRunner | None = None
        self._unlisten = home.listen(self._on_event)

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def token(self) -> str:
        return self._token

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        """Start serving; returns the base URL (`http://127.0.0.1:PORT`)."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/api/websocket", self._websocket)
        app.router.add_get("/api/", self._api_status)
        app.router.add_get("/api/config", self._api_config)
        app.router.add_get("/api/states", self._api_states)
        app.router.add_get("/api/states/{entity_id}", self._api_state)
        app.router.add_post("/api/states/{entity_id}", self._api_set_state)
        app.router.add_get("/api/services", self._api_services)
        app.router.add_post("/api/services/{domain}/{service}", self._api_call_service)
        app.router.add_post("/api/events/{event_type}", self._api_fire_event)
        app.router.add_get("/api/calendars", self._api_calendars)
        app.router.add_get("/api/calendars/{entity_id}", self._api_calendar_events)
        app.router.add_get("/api/history/period", self._api_history)
        app.router.add_get("/api/history/period/{datetime}", self._api_history)
        app.router.add_post("/api/config/script/config/{key}", self._api_save_script)
        app.router.add_delete("/api/config/script/config/{key}", self._api_delete_script)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            server = site._server  # the only way to learn the port the OS chose
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self.url

    async def stop(self) -> None:
        """Close every connection (with a close frame, as HA does on shutdown) and stop."""
        for conn in list(self.connections):
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def restart(self) -> None:
        """Stop and start again on the same port; the home (and its changes) is kept."""
        await self.drop_connections()
        await self.stop()
        await self.start()

    async def drop_connections(self) -> None:
        for conn in list(self.connections):
            conn.abort()
        await asyncio.sleep(0)  # let the handlers notice

    async def close(self) -> None:
        await self.stop()
        self._unlisten()

    async def __aenter__(self) -> SimulatedHA:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- events to subscribers ------------------------------------------------------------------

    def subscribe(self, conn: Connection, sub_id: int, event_type: str) -> Callable[[], None]:
        key = (id(conn), sub_id)
        self._event_subs[key] = (conn, event_type)
        return lambda: self._event_subs.pop(key, None) and None

    def subscribe_entities(self, conn: Connection, sub_id: int, wanted: set[str] | None) -> Callable[[], None]:
        key = (id(conn), sub_id)
        self._entity_subs[key] = (conn, wanted)
        return lambda: self._entity_subs.pop(key, None) and None

    def _on_event(self, event: dict[str, Any]) -> None:
        """Serialise once, queue to each subscriber; queues never block (HA's design)."""
        body: bytes | None = None
        event_type = event["event_type"]
        if event_type in ("service_registered", "service_removed"):
            self._services_json = None
        for (_, sub_id), (conn, wanted_type) in list(self._event_subs.items()):
            if wanted_type == "*" or wanted_type == event_type:
                body = body or P.event_body(event)
                conn.send(P.event_frame(body, sub_id))
        if event_type != "state_changed" or not self._entity_subs:
            return
        data = event["data"]
        diff: bytes | None = None
        for (_, sub_id), (conn, wanted) in list(self._entity_subs.items()):
            if wanted is None or data["entity_id"] in wanted:
                diff = diff or P.event_body(P.state_diff(data["entity_id"], data["old_state"], data["new_state"]))
                conn.send(P.event_frame(diff, sub_id))

    def services_json(self) -> bytes:
        if self._services_json is None:
            self._services_json = dumps(self.home.services())
        return self._services_json

    # --- HTTP -----------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if request.path == "/api/websocket":
            return await handler(request)
        resource = request.match_info.route.resource
        key = f"rest:{request.method} {resource.canonical if resource else request.path}"
        self.command_counts[key] += 1
        delay = self.command_latency.get(key, self.latency)
        if delay > 0:
            await asyncio.sleep(delay)
        if self.refuse_auth or request.headers.get("Authorization") != f"Bearer {self._token}":
            raise web.HTTPUnauthorized()
        return await handler(request)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_websocket:
            raise web.HTTPServiceUnavailable()
        return await Connection(self, request).serve(request)

    @staticmethod
    def _json(data: Any, status: int = 200) -> web.Response:
        return web.Response(body=dumps(data), status=status, content_type=_JSON)

    def _message(self, message: str, status: int = 200) -> web.Response:
        return self._json({"message": message}, status)

    async def _api_status(self, request: web.Request) -> web.Response:
        return self._message("API running.")

    async def _api_config(self, request: web.Request) -> web.Response:
        return self._json(self.home.config)

    async def _api_states(self, request: web.Request) -> web.Response:
        return web.Response(body=self.home.states_json(), content_type=_JSON)

    async def _api_state(self, request: web.Request) -> web.Response:
        entity_id = request.match_info["entity_id"]
        if entity_id not in self.home.states:
            return self._message("Entity not found.", 404)
        return web.Response(body=self.home.state_json(entity_id), content_type=_JSON)

    async def _api_set_state(self, request: web.Request) -> web.Response:
        entity_id = request.match_info["entity_id"]
        try:
            data = await request.json()
        except ValueError:
            return self._message("Invalid JSON specified.", 400)
        if not isinstance(data, dict) or (state := data.get("state")) is None:
            return self._message("No state specified.", 400)
        if not valid_entity_id(entity_id):
            return self._message("Invalid entity ID specified.", 400)
        is_new = entity_id not in self.home.states
        self.home.set_state(entity_id, str(state), data.get("attributes") or {}, context=new_context(self.home.user_id))
        response = web.Response(body=self.home.state_json(entity_id), status=201 if is_new else 200, content_type=_JSON)
        response.headers["Location"] = f"/api/states/{entity_id}"
        return response

    async def _api_services(self, request: web.Request) -> web.Response:
        return self._json(self.home.services_list())

    async def _api_call_service(self, request: web.Request) -> web.Response:
        domain, service = request.match_info["domain"], request.match_info["service"]
        body = await request.text()
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return self._message("Data should be valid JSON.", 400)
        spec = self.home.service_index().get((domain, service))
        if spec is None:
            raise web.HTTPBadRequest()
        wants_response = "return_response" in request.query
        if wants_response and spec.response == "none":
            return self._message("Service does not support responses. Remove return_response from request.", 400)
        if not wants_response and spec.response == "only":
            return self._message(
                "Service call requires responses but caller did not ask for "
                "responses. Add ?return_response to query parameters.",
                400,
            )
        context = new_context(self.home.user_id)
        changed: list[dict[str, Any]] = []

        def collect(event: dict[str, Any]) -> None:
            if (
                event["event_type"] == "state_changed"
                and event["context"]["id"] == context["id"]
                and event["data"]["new_state"] is not None
            ):
                changed.append(event["data"]["new_state"])

        unlisten = self.home.listen(collect)
        try:
            response = await self.home.call_service(
                domain,
                service,
                data if isinstance(data, dict) else {},
                None,
                context=context,
                return_response=wants_response,
            )
        except (P.InvalidFormat, P.NotFound):
            raise web.HTTPBadRequest() from None
        except P.HAError:
            raise web.HTTPInternalServerError() from None
        finally:
            unlisten()
        if wants_response:
            return self._json({"changed_states": changed, "service_response": response})
        return self._json(changed)

    async def _api_fire_event(self, request: web.Request) -> web.Response:
        event_type = request.match_info["event_type"]
        body = await request.text()
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return self._message("Event data should be valid JSON.", 400)
        if not isinstance(data, dict):
            return self._message("Event data should be a JSON object", 400)
        self.home.fire(event_type, data, new_context(self.home.user_id))
        return self._message(f"Event {event_type} fired.")

    async def _api_save_script(self, request: web.Request) -> web.Response:
        """components/config/view.py `EditKeyBasedConfigView.post` with the script validator.
        HA answers first and reloads in a task; here the reload is done before answering."""
        try:
            data = await request.json()
        except ValueError:
            return self._message("Invalid JSON specified", 400)
        key = request.match_info["key"]
        if slugify(key) != key:
            return self._message(f"Key malformed: invalid slug {key} (try {slugify(key)})", 400)
        try:
            if key in _RESERVED_SCRIPT_IDS:
                raise v.Invalid("A script's object_id must not be one of " + ", ".join(sorted(_RESERVED_SCRIPT_IDS)))
            config = _SCRIPT_CONFIG(data)
        except v.Invalid as err:
            return self._message(f"Message malformed: {err}", 400)
        self.home.save_script(key, config)
        return self._json({"result": "ok"})

    async def _api_delete_script(self, request: web.Request) -> web.Response:
        try:
            self.home.delete_script(request.match_info["key"])
        except P.NotFound as err:
            return self._message(err.message, 400)  # sic: HA answers 400 here
        return self._json({"result": "ok"})

    async def _api_calendars(self, request: web.Request) -> web.Response:
        """components/calendar CalendarListView: [{name, entity_id}] by name."""
        calendars = [
            {"name": state["attributes"].get("friendly_name") or entity_id, "entity_id": entity_id}
            for entity_id, state in self.home.states.items()
            if entity_id.startswith("calendar.")
        ]
        return self._json(sorted(calendars, key=lambda item: item["name"]))

    async def _api_calendar_events(self, request: web.Request) -> web.Response:
        """CalendarEventView: the events overlapping ?start=&end= (ISO datetimes); HA answers
        a bare 400 for an unknown calendar or a missing or bad period."""
        entity_id = request.match_info["entity_id"]
        start = self._parse_time(request.query.get("start", ""))
        end = self._parse_time(request.query.get("end", ""))
        if (
            not entity_id.startswith("calendar.")
            or entity_id not in self.home.states
            or start is None
            or end is None
            or start > end
        ):
            return web.Response(status=400)
        events = events_between(
            self.home, entity_id, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
        )
        return self._json([rest_event(event, self.home) for event in events])

    async def _api_history(self, request: web.Request) -> web.Response:
        """GET /api/history/period[/<start>]?filter_entity_id=a,b&end_time=&minimal_response
        &no_attributes&skip_initial_state&significant_changes_only=0"""
        query, now = request.query, time.time()
        start = now - 86400
        if "datetime" in request.match_info:
            parsed = self._parse_time(request.match_info["datetime"])
            if parsed is None:
                return self._message("Invalid datetime", 400)
            start = parsed
        raw = query.get("filter_entity_id", "")
        entity_ids = [part for part in raw.strip().lower().split(",") if part] if raw else []
        if not entity_ids:
            return self._message("filter_entity_id is missing", 400)
        for entity_id in entity_ids:
            if entity_id not in self.home.states and not valid_entity_id(entity_id):
                return self._message("Invalid filter_entity_id", 400)
        if start > now:
            return self._json([])
        end = start + 86400
        if end_text := query.get("end_time"):
            parsed = self._parse_time(end_text)
            if parsed is None:
                return self._message("Invalid end_time", 400)
            end = parsed
        history = self.home.history.period(
            entity_ids,
            start,
            end,
            include_start_state="skip_initial_state" not in query,
            significant_only=query.get("significant_changes_only", "1") != "0",
            minimal="minimal_response" in query,
            no_attributes="no_attributes" in query,
        )
        return self._json(history)

    def _parse_time(self, text: str) -> float | None:
        try:
            moment = datetime.fromisoformat(text.replace(" ", "+") if "T" in text and text.count(" ") == 1 else text)
        except ValueError:
            return None
        if moment.tzinfo is None:  # HA reads naive times in the configured time zone
            moment = moment.replace(tzinfo=self.home.time_zone)
        return moment.timestamp()


async def serve_forever(
    size: str = "small", port: int = 8123, seed: int = 42, host: str = "127.0.0.1", *, token: str | None = None
) -> None:
    """Generate a home and serve it until cancelled; prints the URL and the token."""
    started = time.perf_counter()
    home = generate_home(size, seed)
    sim = SimulatedHA(home, token=token, host=host, port=port)
    url = await sim.start()
    took = timedelta(seconds=time.perf_counter() - started).total_seconds()
    print(
        f"Simulated Home Assistant {P.HA_VERSION} ({size} home, seed {seed}: "
        f"{len(home.states)} entities, {len(home.devices)} devices, {len(home.areas)} areas)"
        f" ready in {took:.2f}s",
        flush=True,
    )
    print(f"HA_URL={url}", flush=True)
    print(f"HA_TOKEN={sim.token}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sim.close()
