"""One WebSocket connection of the simulated HA: auth phase, command phase, the writer that
coalesces frames, subscriptions, and every command the simulator answers.

Behaviour follows HA 2025.4.4 components/websocket_api (http.py, connection.py, commands.py,
auth.py), components/config/{core,*_registry}.py, homeassistant/exposed_entities.py:
- `auth_required` -> `auth` within 10 s -> `auth_ok` | `auth_invalid` and close;
- ids must increase (`id_reuse`), an unknown type is `unknown_command` (and does not advance
  the id); malformed messages are `invalid_format`, commands without arguments refuse extra
  keys ("extra keys not allowed. Got {...}");
- with `coalesce_messages`, messages queued in the same loop turn go out as one JSON array;
- a client more than 4,096 messages behind is disconnected; nothing blocks other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import WSMsgType, web

from . import protocol as P
from . import schema as v
from .domains import api_item
from .home import SimHome, new_context
from .util import dumps

if TYPE_CHECKING:
    from .server import SimulatedHA

MAX_PENDING_MSG = 4096  # websocket_api/const.py
PENDING_MSG_MAX_FORCE_READY = 256
AUTH_TIMEOUT = 10.0


class Disconnect(Exception):
    """Close the connection (HA's websocket_api.error.Disconnect)."""


class Connection:
    def __init__(self, server: SimulatedHA, request: web.Request) -> None:
        self.server = server
        self.home: SimHome = server.home
        self.ws = web.WebSocketResponse(heartbeat=55)
        self.transport = request.transport
        self.last_id = 0
        self.can_coalesce = False
        self.subscriptions: dict[int, Callable[[], None]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._queue: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._release_size = 0
        self._closing = False
        self._writer: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        await self.ws.prepare(request)
        try:
            await self._auth_phase()
            self._writer = asyncio.create_task(self._write_loop())
            await self._command_phase()
        except (Disconnect, asyncio.CancelledError, ConnectionError):
            pass
        finally:
            await self._cleanup()
        return self.ws

    async def _auth_phase(self) -> None:
        await self._send_text(dumps({"type": "auth_required", "ha_version": P.HA_VERSION}))
        try:
            msg = await self.ws.receive(AUTH_TIMEOUT)
        except TimeoutError:
            raise Disconnect from None
        if msg.type is not WSMsgType.TEXT:
            raise Disconnect
        try:
            data = json.loads(msg.data)
        except ValueError:
            raise Disconnect from None
        self.server.command_counts["auth"] += 1
        if (
            not isinstance(data, dict)
            or data.get("type") != "auth"
            or not (isinstance(data.get("access_token"), str) or isinstance(data.get("api_password"), str))
            or set(data) - {"type", "access_token", "api_password"}
        ):
            await self._auth_invalid(f"Auth message incorrectly formatted: {_auth_error(data)}")
        if self.server.refuse_auth or data.get("access_token") != self.server.token:
            await self._auth_invalid("Invalid access token or password")
        await self._send_text(dumps({"type": "auth_ok", "ha_version": P.HA_VERSION}))
        self.server.connections.add(self)

    async def _auth_invalid(self, message: str) -> None:
        await self._send_text(dumps({"type": "auth_invalid", "message": message}))
        raise Disconnect

    async def _command_phase(self) -> None:
        while not self.ws.closed:
            msg = await self.ws.receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR):
                break
            if msg.type is not WSMsgType.TEXT:
                raise Disconnect  # HA has no binary handlers the simulator needs
            try:
                data = json.loads(msg.data)
            except ValueError:
                raise Disconnect from None  # "Received invalid JSON."
            for item in data if isinstance(data, list) else [data]:
                self.handle(item)

    async def _cleanup(self) -> None:
        self._closing = True
        self.server.connections.discard(self)
        for unsubscribe in self.subscriptions.values():
            unsubscribe()
        self.subscriptions.clear()
        for task in list(self.tasks):
            task.cancel()
        self._ready.set()
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):  # dropped on purpose
                await self.ws.close()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a crash or network loss)."""
        self._closing = True
        if self.transport is not None:
            self.transport.abort()
        for task in list(self.tasks):
            task.cancel()
        self._ready.set()

    # --- sending ------------------------------------------------------------------------------

    def send(self, message: bytes | dict[str, Any]) -> None:
        """Queue a frame; never blocks. A client too far behind is disconnected, as in HA."""
        if self._closing:
            return
        self._queue.append(message if isinstance(message, bytes) else dumps(message))
        if len(self._queue) >= MAX_PENDING_MSG:
            self.abort()
            return
        if self._release_size == 0:
            self._release_size = len(self._queue)
            asyncio.get_running_loop().call_soon(self._release_or_reschedule)

    def _release_or_reschedule(self) -> None:
        """Wait while the queue still grows in this turn, to coalesce more (HA's writer)."""
        size = len(self._queue)
        if size > self._release_size < PENDING_MSG_MAX_FORCE_READY:
            self._release_size = size
            asyncio.get_running_loop().call_soon(self._release_or_reschedule)
            return
        self._release_size = 0
        self._ready.set()

    async def _write_loop(self) -> None:
        try:
            while not self._closing and not self.ws.closed:
                await self._ready.wait()
                self._ready.clear()
                if self._closing:
                    return
                if not self._queue:
                    continue
                if self.can_coalesce and len(self._queue) > 1:
                    frame = b"[" + b",".join(self._queue) + b"]"
                    self._queue.clear()
                    await self._write(frame)
                else:
                    while self._queue:
                        await self._write(self._queue.popleft())
        except (ConnectionError, RuntimeError):
            self.abort()

    async def _write(self, frame: bytes) -> None:
        if self.server.malformed_next:
            self.server.malformed_next = False
            frame = frame[: max(1, len(frame) // 2)] + b"\x00{"  # not JSON any more
        await self._send_text(frame)

    async def _send_text(self, frame: bytes) -> None:
        await self.ws.send_frame(frame, WSMsgType.TEXT)

    def send_result(self, msg_id: int, result: Any = None) -> None:
        self.send(P.result_message(msg_id, result))

    def send_error(self, msg_id: int | None, error: P.HAError) -> None:
        self.send(P.error_message(msg_id, error))

    # --- receiving ----------------------------------------------------------------------------

    def handle(self, msg: Any) -> None:
        """ActiveConnection.async_handle: validate the envelope, then run the command."""
        if (
            not isinstance(msg, dict)
            or not isinstance(msg.get("id"), int)
            or isinstance(msg.get("id"), bool)
            or msg["id"] <= 0
            or not isinstance(msg.get("type"), str)
            or not msg["type"]
        ):
            msg_id = msg.get("id") if isinstance(msg, dict) else 0
            self.send_error(msg_id, P.InvalidFormat("Message incorrectly formatted."))
            return
        msg_id, kind = msg["id"], msg["type"]
        if msg_id <= self.last_id:
            self.send_error(msg_id, P.HAError("Identifier values have to increase.", code=P.ERR_ID_REUSE))
            return
        command = COMMANDS.get(kind)
        if command is None:
            self.send_error(msg_id, P.HAError("Unknown command.", code=P.ERR_UNKNOWN_COMMAND))
            return
        self.last_id = msg_id
        self.server.command_counts[kind] += 1
        if kind in self.server.hang_commands:
            return  # a command that never answers, for timeout tests
        delay = self.server.command_latency.get(kind, self.server.latency)
        if delay > 0 or command.is_async:
            task = asyncio.create_task(self._run(command, msg, delay))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        else:
            self._run_sync(command, msg)

    def _validate(self, command: Command, msg: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return command.schema(msg)
        except v.Invalid as err:
            self.send_error(msg["id"], P.InvalidFormat(err.humanize(msg)))
            return None

    def _run_sync(self, command: Command, msg: dict[str, Any]) -> None:
        data = self._validate(command, msg)
        if data is None:
            return
        try:
            command.handler(self, data)
        except P.HAError as err:
            self.send_error(msg["id"], err)

    async def _run(self, command: Command, msg: dict[str, Any], delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        data = self._validate(command, msg)
        if data is None:
            return
        try:
            result = command.handler(self, data)
            if isinstance(result, Awaitable):
                await result
        except P.HAError as err:
            self.send_error(msg["id"], err)


def _auth_error(data: Any) -> str:
    """humanize_error wording of AUTH_MESSAGE_SCHEMA failures, simplified."""
    if not isinstance(data, dict):
        return f"expected a dictionary. Got {data!r}"
    if data.get("type") != "auth":
        return f"value must be one of ['auth'] for dictionary value @ data['type']. Got {data.get('type')!r}"
    extra = sorted(set(data) - {"type", "access_token", "api_password"})
    if extra:
        return f"extra keys not allowed @ data['{extra[0]}']. Got {data[extra[0]]!r}"
    return f"expected str for dictionary value @ data['access_token']. Got {data.get('access_token')!r}"


# --- commands -------------------------------------------------------------------------------

Handler = Callable[[Connection, dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Command:
    schema: v.Schema
    handler: Handler
    is_async: bool = False


COMMANDS: dict[str, Command] = {}
_ENVELOPE = (v.required("id", v.any_value), v.required("type", v.string))


def command(kind: str, *keys: v.Key, is_async: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        # HA: a command without arguments refuses any extra key, at the top level.
        schema = v.Schema((*_ENVELOPE, *keys)) if keys else _NoArguments()
        COMMANDS[kind] = Command(schema, handler, is_async)
        return handler

    return register


class _NoArguments(v.Schema):
    def __init__(self) -> None:
        super().__init__(_ENVELOPE)

    def __call__(self, data: Any) -> dict[str, Any]:
        if len(data) > 2:
            raise v.Invalid("extra keys not allowed")
        return data


@command("ping")
def _ping(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send({"id": msg["id"], "type": "pong"})


@command("supported_features", v.required("features", v.int_values))
def _supported_features(conn: Connection, msg: dict[str, Any]) -> None:
    conn.can_coalesce = "coalesce_messages" in msg["features"]
    conn.send_result(msg["id"])


@command("get_config")
def _get_config(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.config)


@command("get_states")
def _get_states(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send(P.result_frame(msg["id"], conn.home.states_json()))


@command("get_services")
def _get_services(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send(P.result_frame(msg["id"], conn.server.services_json()))


@command("auth/current_user")
def _current_user(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(
        msg["id"],
        {
            "id": conn.home.user_id,
            "name": "Owner",
            "is_owner": True,
            "is_admin": True,
            "credentials": [{"auth_provider_type": "homeassistant", "auth_provider_id": None}],
            "mfa_modules": [{"id": "totp", "name": "Authenticator app", "enabled": False}],
        },
    )


@command("subscribe_events", v.optional("event_type", v.strict_string, default="*"))
def _subscribe_events(conn: Connection, msg: dict[str, Any]) -> None:
    conn.subscriptions[msg["id"]] = conn.server.subscribe(conn, msg["id"], msg["event_type"])
    conn.send_result(msg["id"])


@command("unsubscribe_events", v.required("subscription", v.number(1, integer=True)))
def _unsubscribe_events(conn: Connection, msg: dict[str, Any]) -> None:
    unsubscribe = conn.subscriptions.pop(msg["subscription"], None)
    if unsubscribe is None:
        raise P.NotFound("Subscription not found.")
    unsubscribe()
    conn.send_result(msg["id"])


@command("subscribe_entities", v.optional("entity_ids", v.entity_ids))
def _subscribe_entities(conn: Connection, msg: dict[str, Any]) -> None:
    wanted = set(msg.get("entity_ids") or ()) or None
    conn.subscriptions[msg["id"]] = conn.server.subscribe_entities(conn, msg["id"], wanted)
    conn.send_result(msg["id"])
    states = {
        entity_id: P.compressed_state(state)
        for entity_id, state in conn.home.states.items()
        if wanted is None or entity_id in wanted
    }
    conn.send({"id": msg["id"], "type": "event", "event": {"a": states}})


@command("fire_event", v.required("event_type", v.strict_string), v.optional("event_data", v.mapping))
def _fire_event(conn: Connection, msg: dict[str, Any]) -> None:
    context = new_context(conn.home.user_id)
    conn.home.fire(msg["event_type"], msg.get("event_data") or {}, context)
    conn.send_result(msg["id"], {"context": context})


@command(
    "call_service",
    v.required("domain", v.strict_string),
    v.required("service", v.strict_string),
    v.optional("target", v.dictionary),
    v.optional("service_data", v.mapping),
    v.optional("return_response", v.strict_bool, default=False),
    is_async=True,
)
async def _call_service(conn: Connection, msg: dict[str, Any]) -> None:
    context = new_context(conn.home.user_id)
    try:
        response = await conn.home.call_service(
            msg["domain"],
            msg["service"],
            msg.get("service_data"),
            msg.get("target"),
            context=context,
            return_response=msg["return_response"],
        )
    except P.ServiceValidationError as err:
        if err.code == P.ERR_SERVICE_VALIDATION_ERROR:  # not ServiceNotFound (a NotFound)
            err.message = f"Validation error: {err.message}"
        raise
    result: dict[str, Any] = {"context": context}
    if msg["return_response"]:
        result["response"] = response
    conn.send_result(msg["id"], result)


# --- core config (components/config/core.py) -------------------------------------------------


def _checked(
    check: Callable[[Any], bool],
    message: str,
    validator: v.Validator = v.any_value,
) -> v.Validator:
    """`vol.All(..., msg=message)` / `vol.In(..., msg=message)`: one message for any failure."""

    def validate(value: Any) -> Any:
        try:
            value = validator(value)
        except v.Invalid:
            raise v.Invalid(message) from None
        if not check(value):
            raise v.Invalid(message)
        return value

    return validate


def _time_zone(value: Any) -> bool:
    try:
        ZoneInfo(value)
    except (ValueError, TypeError, ZoneInfoNotFoundError):
        return False
    return True


def _unit_system(value: Any) -> str:
    """unit_system.validate_unit_system: lower-cased, the old `imperial` is us_customary."""
    value = str(value).lower()
    value = "us_customary" if value == "imperial" else value
    if value not in ("metric", "us_customary"):
        raise v.Invalid("not a valid value")
    return value


def _url_no_path(value: Any) -> Any:
    if value is None:
        return None
    url = urlparse(v.strict_string(value))
    if url.scheme not in ("http", "https") or not url.netloc:
        raise v.Invalid("invalid url")
    if url.path not in ("", "/"):
        raise v.Invalid("url is not allowed to have a path component")
    return value


def _exact_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise v.Invalid("expected int")
    return value


# The lists HA checks against (generated/countries.py, currencies.py, languages.py) are only
# matched by shape here.
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@command(
    "config/core/update",
    v.optional(
        "country",
        _checked(lambda x: isinstance(x, str) and bool(_COUNTRY.match(x)), "invalid ISO 3166 formatted country"),
    ),
    v.optional(
        "currency",
        _checked(lambda x: isinstance(x, str) and bool(_CURRENCY.match(x)), "invalid ISO 4217 formatted currency"),
    ),
    v.optional("elevation", _exact_int),
    v.optional("external_url", _url_no_path),
    v.optional("internal_url", _url_no_path),
    v.optional(
        "language",
        _checked(lambda x: isinstance(x, str) and bool(_LANGUAGE.match(x)), "invalid RFC 5646 formatted language"),
    ),
    v.optional("latitude", _checked(lambda x: -90 <= x <= 90, "invalid latitude", v.number())),
    v.optional("location_name", v.strict_string),
    v.optional("longitude", _checked(lambda x: -180 <= x <= 180, "invalid longitude", v.number())),
    v.optional("radius", v.number(0, integer=True)),
    v.optional(
        "time_zone",
        _checked(
            _time_zone,
            "Invalid time zone passed in. Valid options "
            "can be found here: http://en.wikipedia.org/wiki/"
            "List_of_tz_database_time_zones",
        ),
    ),
    v.optional("update_units", v.strict_bool),
    v.optional("unit_system", _unit_system),
)
def _core_update(conn: Connection, msg: dict[str, Any]) -> None:
    conn.home.update_config(**_fields(msg, "update_units"))
    conn.send_result(msg["id"])


# --- registries -------------------------------------------------------------------------------

_ALIASES = v.list_of(v.any_value)
_LABEL_IDS = v.list_of(v.strict_string)


def _fields(msg: dict[str, Any], *skip: str) -> dict[str, Any]:
    return {k: val for k, val in msg.items() if k not in ("id", "type", *skip)}


@command("config/floor_registry/list")
def _floor_list(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.floor_list())


_FLOOR_KEYS = (v.optional("aliases", _ALIASES), v.optional("icon", v.optional_string), v.optional("level", v.any_value))


@command("config/floor_registry/create", v.required("name", v.strict_string), *_FLOOR_KEYS)
def _floor_create(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.create_floor(**_fields(msg)))


@command(
    "config/floor_registry/update",
    v.required("floor_id", v.strict_string),
    v.optional("name", v.strict_string),
    *_FLOOR_KEYS,
)
def _floor_update(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.update_floor(msg["floor_id"], **_fields(msg, "floor_id")))


@command("config/floor_registry/delete", v.required("floor_id", v.strict_string))
def _floor_delete(conn: Connection, msg: dict[str, Any]) -> None:
    conn.home.delete_floor(msg["floor_id"])
    conn.send_result(msg["id"])


@command("config/area_registry/list")
def _area_list(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.area_list())


_AREA_KEYS = (
    v.optional("aliases", _ALIASES),
    v.optional("labels", _LABEL_IDS),
    v.optional("picture", v.optional_string),
    v.optional("humidity_entity_id", v.optional_string),
    v.optional("temperature_entity_id", v.optional_string),
)


@command(
    "config/area_registry/create",
    v.required("name", v.strict_string),
    v.optional("floor_id", v.strict_string),
    v.optional("icon", v.strict_string),
    *_AREA_KEYS,
)
def _area_create(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.create_area(**_fields(msg)))


@command(
    "config/area_registry/update",
    v.required("area_id", v.strict_string),
    v.optional("name", v.strict_string),
    v.optional("floor_id", v.optional_string),
    v.optional("icon", v.optional_string),
    *_AREA_KEYS,
)
def _area_update(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.update_area(msg["area_id"], **_fields(msg, "area_id")))


@command("config/area_registry/delete", v.required("area_id", v.strict_string))
def _area_delete(conn: Connection, msg: dict[str, Any]) -> None:
    conn.home.delete_area(msg["area_id"])
    conn.send_result(msg["id"], "success")  # sic: HA answers "success" here


@command("config/label_registry/list")
def _label_list(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.label_list())


_LABEL_KEYS = (
    v.optional("color", v.optional_string),
    v.optional("icon", v.optional_string),
    v.optional("description", v.optional_string),
)


@command("config/label_registry/create", v.required("name", v.strict_string), *_LABEL_KEYS)
def _label_create(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.create_label(**_fields(msg)))


@command(
    "config/label_registry/update",
    v.required("label_id", v.strict_string),
    v.optional("name", v.strict_string),
    *_LABEL_KEYS,
)
def _label_update(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.update_label(msg["label_id"], **_fields(msg, "label_id")))


@command("config/label_registry/delete", v.required("label_id", v.strict_string))
def _label_delete(conn: Connection, msg: dict[str, Any]) -> None:
    conn.home.delete_label(msg["label_id"])
    conn.send_result(msg["id"])


def _list_frame(msg_id: int, items: list[bytes]) -> bytes:
    """Device and entity lists are built from cached fragments in HA, with these spaces."""
    return b'{"id":%d,"type": "result","success":true,"result": [%s]}' % (msg_id, b",".join(items))


@command("config/device_registry/list")
def _device_list(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send(_list_frame(msg["id"], [dumps(device) for device in conn.home.device_list()]))


@command(
    "config/device_registry/update",
    v.required("device_id", v.strict_string),
    v.optional("area_id", v.optional_string),
    v.optional("disabled_by", v.any_value),
    v.optional("labels", _LABEL_IDS),
    v.optional("name_by_user", v.optional_string),
)
def _device_update(conn: Connection, msg: dict[str, Any]) -> None:
    if msg.get("disabled_by") not in (None, "user"):
        raise P.InvalidFormat(
            f"value must be one of ['user'] for dictionary value @ data['disabled_by']. Got {msg['disabled_by']!r}"
        )
    device = conn.home.update_device(msg["device_id"], **_fields(msg, "device_id"))
    conn.send_result(msg["id"], device)


@command(
    "config/device_registry/remove_config_entry",
    v.required("config_entry_id", v.strict_string),
    v.required("device_id", v.strict_string),
    is_async=True,
)
async def _device_remove_entry(conn: Connection, msg: dict[str, Any]) -> None:
    """The integration agrees to remove the device (what most integrations allow)."""
    device = conn.home.devices.get(msg["device_id"])
    if device is None:
        raise P.HomeAssistantError("Unknown device")
    if msg["config_entry_id"] not in device["config_entries"]:
        raise P.HomeAssistantError("Config entry not in device")
    conn.home.remove_device(msg["device_id"])
    conn.send_result(msg["id"], None)


@command("config/entity_registry/list")
def _entity_list(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send(_list_frame(msg["id"], conn.home.entity_registry_json()))


@command("config/entity_registry/get", v.required("entity_id", v.entity_id))
def _entity_get(conn: Connection, msg: dict[str, Any]) -> None:
    entry = conn.home.entity_entry(msg["entity_id"])
    if entry is None:
        raise P.NotFound("Entity not found")
    conn.send_result(msg["id"], entry)


@command("config/entity_registry/get_entries", v.required("entity_ids", v.entity_ids))
def _entity_get_entries(conn: Connection, msg: dict[str, Any]) -> None:
    home = conn.home
    conn.send_result(msg["id"], {entity_id: home.entity_entry(entity_id) for entity_id in msg["entity_ids"]})


@command("todo/item/list", v.required("entity_id", v.entity_id))
def _todo_items(conn: Connection, msg: dict[str, Any]) -> None:
    """components/todo: a to-do list's items (the state only counts the open ones)."""
    entity_id = msg["entity_id"]
    if not entity_id.startswith("todo.") or entity_id not in conn.home.states:
        raise P.NotFound("Entity not found")
    items = conn.home.todo_items.get(entity_id, [])
    conn.send_result(msg["id"], {"items": [api_item(item) for item in items]})


def _user_only(value: Any) -> Any:
    if value not in (None, "user"):
        raise v.Invalid("value must be one of ['user']")
    return value


@command(
    "config/entity_registry/update",
    v.required("entity_id", v.entity_id),
    v.optional("aliases", _ALIASES),
    v.optional("area_id", v.optional_string),
    v.optional("categories", v.mapping),
    v.optional("device_class", v.optional_string),
    v.optional("icon", v.optional_string),
    v.optional("labels", _LABEL_IDS),
    v.optional("name", v.optional_string),
    v.optional("new_entity_id", v.strict_string),
    v.optional("disabled_by", _user_only),
    v.optional("hidden_by", _user_only),
    v.optional("options_domain", v.strict_string),
    v.optional("options", v.any_value),
)
def _entity_update(conn: Connection, msg: dict[str, Any]) -> None:
    home = conn.home
    entry = home.entity_entry(msg["entity_id"])
    if entry is None:
        raise P.NotFound("Entity not found")
    changes = _fields(msg, "entity_id", "new_entity_id", "categories", "options_domain", "options")
    if "categories" in msg:
        categories = dict(entry["categories"])
        for scope, category in msg["categories"].items():
            if category is None:
                categories.pop(scope, None)
            else:
                categories[scope] = category
        changes["categories"] = categories
    if "options_domain" in msg:
        options = {k: val for k, val in entry["options"].items() if k != msg["options_domain"]}
        if msg.get("options") is not None:
            options[msg["options_domain"]] = msg["options"]
        changes["options"] = options
    entry = home.update_entity(msg["entity_id"], new_entity_id=msg.get("new_entity_id"), **changes)
    result: dict[str, Any] = {"entity_entry": entry}
    if "disabled_by" in msg and msg["disabled_by"] is None:
        if entry["config_entry_id"]:
            result["reload_delay"] = 30
        else:
            result["require_restart"] = True
    conn.send_result(msg["id"], result)


@command("config/entity_registry/remove", v.required("entity_id", v.entity_id))
def _entity_remove(conn: Connection, msg: dict[str, Any]) -> None:
    conn.home.remove_entity(msg["entity_id"])
    conn.send_result(msg["id"])


# --- Assist exposure ----------------------------------------------------------------------------


@command("homeassistant/expose_entity/list")
def _expose_list(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], conn.home.exposed_entities())


_ASSISTANTS = ("cloud.alexa", "cloud.google_assistant", "conversation")


@command(
    "homeassistant/expose_entity",
    v.required("assistants", v.list_of(v.one_of(_ASSISTANTS))),
    v.required("entity_ids", v.list_of(v.strict_string)),
    v.required("should_expose", v.strict_bool),
)
def _expose(conn: Connection, msg: dict[str, Any]) -> None:
    if "group.all_locks" in msg["entity_ids"]:  # CLOUD_NEVER_EXPOSED_ENTITIES
        raise P.HAError("can't expose 'group.all_locks'", code=P.ERR_NOT_ALLOWED)
    if "conversation" in msg["assistants"]:
        conn.home.set_exposed(msg["entity_ids"], msg["should_expose"])
    conn.send_result(msg["id"])


@command("homeassistant/expose_new_entities/get", v.required("assistant", v.one_of(_ASSISTANTS)))
def _expose_new_get(conn: Connection, msg: dict[str, Any]) -> None:
    conn.send_result(msg["id"], {"expose_new": msg["assistant"] == "conversation"})


# --- script and automation configurations (what the frontend's editors read) ---------------------


@command("script/config", v.required("entity_id", v.strict_string))
def _script_config(conn: Connection, msg: dict[str, Any]) -> None:
    """A script's raw config as scripts.yaml holds it (components/script `websocket_config`)."""
    script = conn.home.scripts.get(msg["entity_id"])
    if script is None or msg["entity_id"] not in conn.home.states:
        raise P.NotFound("Entity not found")
    config: dict[str, Any] = {"alias": script["name"], "sequence": script["sequence"]}
    for key in ("description", "icon", "mode"):
        if script.get(key):
            config[key] = script[key]
    if script["fields"]:
        config["fields"] = script["fields"]
    conn.send_result(msg["id"], {"config": config})


@command("automation/config", v.required("entity_id", v.strict_string))
def _automation_config(conn: Connection, msg: dict[str, Any]) -> None:
    """An automation's config. The generated automations carry no steps of their own: their
    config is their id and alias, with nothing to run (what the simulator does when triggered)."""
    state = conn.home.states.get(msg["entity_id"])
    if state is None or not msg["entity_id"].startswith("automation."):
        raise P.NotFound("Entity not found")
    attributes = state["attributes"]
    config = {
        "id": attributes.get("id"),
        "alias": attributes.get("friendly_name"),
        "description": "",
        "triggers": [],
        "conditions": [],
        "actions": [],
        "mode": attributes.get("mode", "single"),
    }
    conn.send_result(msg["id"], {"config": config})
