"""Home Assistant WebSocket API client (aiohttp).

One connection, many concurrent commands. A single reader task routes every incoming message
by its id: results resolve the future of the command that sent that id; events go to the queue
of the subscription that owns the id. The reader never awaits a consumer, so a slow event
handler can never make HA drop us (HA disconnects clients ~4,096 messages behind).

When the connection is lost, pending commands fail at once with `HAConnectionError`, and a
supervisor reconnects with exponential backoff and jitter, re-subscribes every subscription and
calls `on_reconnect` so the owner can resync what it missed.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from data_api.platform.logs import display_url

from .errors import (
    HAAuthError,
    HACommandError,
    HAConnectionError,
    HAError,
    HAProtocolError,
    HATimeoutError,
)

_LOGGER = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], Awaitable[None] | None]
ReconnectHandler = Callable[[], Awaitable[None]]
DisconnectHandler = Callable[[HAError], Awaitable[None] | None]


def websocket_url(base_url: str) -> str:
    """`http://host:8123` → `ws://host:8123/api/websocket` (https → wss)."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + "/api/websocket"
    if base.startswith("http://"):
        return "ws://" + base[len("http://") :] + "/api/websocket"
    raise ValueError("Home Assistant URL must start with http:// or https://")


class _EventStream:
    """Delivers one handler's events in the order HA sent them, off the reader task."""

    def __init__(self, handler: EventHandler) -> None:
        self.handler = handler
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.worker = asyncio.create_task(self._deliver(), name="ha-events")

    async def _deliver(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                result = self.handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # one bad event must not end the subscription
                _LOGGER.exception("event handler failed for %s", event.get("event_type"))


@dataclass(eq=False)
class Subscription:
    """An event subscription that survives reconnects (HA gives it a new id each time)."""

    message: dict[str, Any]
    stream: _EventStream
    ha_id: int | None = None


class HAWebSocket:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = 10.0,
        ping_interval: float = 30.0,
        reconnect_min_delay: float = 0.5,
        reconnect_max_delay: float = 30.0,
        on_reconnect: ReconnectHandler | None = None,
        on_disconnect: DisconnectHandler | None = None,
    ) -> None:
        self._url = websocket_url(base_url)
        self._token = token
        self._own_session = session is None
        self._session = session
        self._timeout = request_timeout
        self._ping_interval = ping_interval
        self._min_delay = reconnect_min_delay
        self._max_delay = reconnect_max_delay
        self.on_reconnect = on_reconnect
        self.on_disconnect = on_disconnect

        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1
        self._send_lock = asyncio.Lock()
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._by_ha_id: dict[int, Subscription] = {}
        self._subscriptions: list[Subscription] = []
        self._streams: dict[EventHandler, _EventStream] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._hook: asyncio.Task[None] | None = None
        self._closing = False
        self.ha_version: str | None = None
        self.reconnects = 0

    # --- lifecycle ------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def connect(self) -> None:
        """Open the connection and authenticate; afterwards it reconnects by itself."""
        self._closing = False
        await self._open()
        self._supervisor = asyncio.create_task(self._supervise(), name="ha-websocket")

    async def close(self) -> None:
        self._closing = True
        if self._hook:
            self._hook.cancel()
        if self._supervisor:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
            self._supervisor = None
        await self._close_socket()
        self._fail_pending(HAConnectionError("the Home Assistant client was closed"))
        streams = list(self._streams.values())
        for stream in streams:
            stream.worker.cancel()
        await asyncio.gather(*(stream.worker for stream in streams), return_exceptions=True)
        self._streams.clear()
        self._subscriptions.clear()
        if self._own_session and self._session:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> HAWebSocket:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _open(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        try:
            ws = await asyncio.wait_for(
                # max_msg_size=0: get_states of a large home is one multi-megabyte frame.
                self._session.ws_connect(self._url, max_msg_size=0, autoping=True),
                self._timeout,
            )
        except TimeoutError:
            raise HATimeoutError(
                f"Home Assistant at {display_url(self._url)} did not accept a connection in {self._timeout:g} s"
            ) from None
        except aiohttp.WSServerHandshakeError as exc:
            raise HAConnectionError(
                f"{display_url(self._url)} is not a Home Assistant WebSocket API (HTTP {exc.status})"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise HAConnectionError(
                f"cannot reach Home Assistant at {display_url(self._url)}: {_reason(exc)}"
            ) from None
        try:
            await self._authenticate(ws)
        except BaseException:
            await ws.close()
            raise
        self._ws = ws  # `_authenticate` has set `_next_id` past the supported_features id

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        hello = await self._receive_one(ws)
        if hello.get("type") != "auth_required":
            raise HAProtocolError(f"expected auth_required from Home Assistant, got {hello.get('type')!r}")
        await ws.send_str(json.dumps({"type": "auth", "access_token": self._token}))
        answer = await self._receive_one(ws)
        if answer.get("type") == "auth_invalid":
            raise HAAuthError("Home Assistant refused the access token (HA_TOKEN): create a new long-lived token")
        if answer.get("type") != "auth_ok":
            raise HAProtocolError(f"expected auth_ok from Home Assistant, got {answer.get('type')!r}")
        self.ha_version = answer.get("ha_version")
        # Allow HA to batch messages into JSON arrays: far fewer frames during event bursts.
        await ws.send_str(json.dumps({"id": 1, "type": "supported_features", "features": {"coalesce_messages": 1}}))
        ack = await self._receive_one(ws)
        if ack.get("id") != 1 or ack.get("type") != "result":
            raise HAProtocolError("Home Assistant did not acknowledge supported_features")
        self._next_id = 2

    async def _receive_one(self, ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
        try:
            msg = await ws.receive(timeout=self._timeout)
        except TimeoutError:
            raise HATimeoutError(f"Home Assistant did not answer the handshake in {self._timeout:g} s") from None
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            raise HAConnectionError("Home Assistant closed the connection during the handshake")
        if msg.type is aiohttp.WSMsgType.ERROR:
            raise HAConnectionError(f"connection error during the handshake: {_reason(msg.data)}")
        messages = _decode(msg)
        if len(messages) != 1:
            raise HAProtocolError("Home Assistant sent a batch during the handshake")
        return messages[0]

    async def _close_socket(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            try:
                await asyncio.wait_for(ws.close(), self._timeout)
            except (TimeoutError, aiohttp.ClientError, OSError):
                pass

    # --- supervisor: read, keep alive, reconnect ---------------------------------------------
    async def _supervise(self) -> None:
        restored: asyncio.Task[None] | None = None
        while not self._closing:
            error = await self._serve_connection()
            if restored is not None:
                restored.cancel()
            if self._closing:
                return
            await self._close_socket()
            self._fail_pending(error)
            _LOGGER.warning("Home Assistant connection lost: %s; reconnecting", error)
            await self._notify_disconnect(error)
            await self._reconnect()
            # Re-subscribing needs the reader running: do it beside the next read loop.
            restored = asyncio.create_task(self._restore())

    async def _serve_connection(self) -> HAError:
        """Read until the connection ends; return why it ended."""
        assert self._ws is not None
        pinger = asyncio.create_task(self._keep_alive())
        try:
            return await self._read(self._ws)
        finally:
            pinger.cancel()
            await asyncio.gather(pinger, return_exceptions=True)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> HAError:
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return HAConnectionError("Home Assistant closed the connection")
            if msg.type is aiohttp.WSMsgType.ERROR:
                return HAConnectionError(f"connection to Home Assistant failed: {_reason(msg.data)}")
            try:
                messages = _decode(msg)
            except HAProtocolError as exc:
                # We cannot tell which command a broken frame answered: start clean.
                return exc
            for message in messages:
                self._route(message)

    def _route(self, message: dict[str, Any]) -> None:
        msg_id = message.get("id")
        kind = message.get("type")
        if kind == "event":
            sub = self._by_ha_id.get(msg_id)  # type: ignore[arg-type]
            if sub is not None:
                sub.stream.queue.put_nowait(message.get("event") or {})
            return
        future = self._pending.pop(msg_id, None)  # type: ignore[arg-type]
        if future is None or future.done():
            return
        if kind == "pong":
            future.set_result(None)
        elif kind == "result":
            if message.get("success"):
                future.set_result(message.get("result"))
            else:
                error = message.get("error") or {}
                future.set_exception(
                    HACommandError(str(error.get("code", "unknown_error")), str(error.get("message", "")))
                )
        else:
            future.set_exception(HAProtocolError(f"unexpected message type {kind!r} for id {msg_id}"))

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self._ping_interval)
            try:
                await self.ping()
            except HAError as exc:
                _LOGGER.warning("Home Assistant did not answer a ping (%s); reconnecting", exc)
                if self._ws is not None:
                    await self._ws.close()
                return

    async def _reconnect(self) -> None:
        """Open a new connection, backing off exponentially with jitter until one works."""
        attempt = 0
        while not self._closing:
            delay = min(self._max_delay, self._min_delay * 2**attempt)
            # Equal jitter: never less than half the backoff, so a fleet of clients spreads out.
            await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))
            attempt += 1
            try:
                await self._open()
            except HAAuthError:
                _LOGGER.error("Home Assistant refused the access token while reconnecting")
                continue
            except HAError as exc:
                _LOGGER.info("reconnect attempt %d failed: %s", attempt, exc)
                continue
            _LOGGER.info("reconnected to Home Assistant after %d attempt(s)", attempt)
            return

    async def _restore(self) -> None:
        """After a reconnect: re-subscribe everything, then let the owner resync."""
        try:
            await self._resubscribe()
        except HAError as exc:
            _LOGGER.warning("re-subscribing failed (%s); reconnecting again", exc)
            if self._ws is not None:
                await self._ws.close()  # ends the read loop: the supervisor starts over
            return
        self.reconnects += 1
        if self.on_reconnect is not None:
            # Its own task: a resync must not be cancelled halfway with this one.
            self._hook = asyncio.create_task(self._run_reconnect_hook())

    async def _run_reconnect_hook(self) -> None:
        assert self.on_reconnect is not None
        try:
            await self.on_reconnect()
        except HAError as exc:
            _LOGGER.warning("resync after reconnect failed: %s", exc)
        except Exception:
            _LOGGER.exception("resync after reconnect failed")

    async def _notify_disconnect(self, error: HAError) -> None:
        if self.on_disconnect is None:
            return
        try:
            result = self.on_disconnect(error)
            if inspect.isawaitable(result):
                await result
        except Exception:
            _LOGGER.exception("disconnect handler failed")

    def _fail_pending(self, error: HAError) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(type(error)(str(error)))
        self._by_ha_id.clear()

    # --- commands -------------------------------------------------------------------------
    async def send_command(self, command: str, *, timeout: float | None = None, **payload: Any) -> Any:
        """Send one command and return its result; HA errors raise `HACommandError`."""
        future = await self._send({"type": command, **payload})
        try:
            return await self._wait(future, command, timeout)
        except HACommandError as exc:
            exc.command = command
            raise HACommandError(exc.code, exc.message, command=command) from None

    async def _send(self, message: dict[str, Any]) -> asyncio.Future[Any]:
        if not self.connected:
            raise HAConnectionError("not connected to Home Assistant")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        # Ids must reach HA in increasing order: take the id and send under one lock.
        async with self._send_lock:
            ws = self._ws
            if ws is None or ws.closed:
                raise HAConnectionError("not connected to Home Assistant")
            msg_id = self._next_id
            self._next_id += 1
            self._pending[msg_id] = future
            try:
                await ws.send_str(json.dumps({"id": msg_id, **message}))
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                self._pending.pop(msg_id, None)
                raise HAConnectionError(f"could not send to Home Assistant: {_reason(exc)}") from None
        future.msg_id = msg_id  # type: ignore[attr-defined]
        return future

    async def _wait(self, future: asyncio.Future[Any], what: str, timeout: float | None) -> Any:
        limit = self._timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(future, limit)
        except TimeoutError:
            self._pending.pop(getattr(future, "msg_id", -1), None)
            raise HATimeoutError(f"Home Assistant did not answer {what} in {limit:g} s") from None

    async def ping(self) -> None:
        future = await self._send({"type": "ping"})
        await self._wait(future, "ping", None)

    async def call_service(
        self,
        domain: str,
        service: str,
        service_data: dict[str, Any] | None = None,
        *,
        target: dict[str, Any] | None = None,
        return_response: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Call a service; returns HA's result ({context, response?})."""
        payload: dict[str, Any] = {"domain": domain, "service": service}
        if service_data:
            payload["service_data"] = service_data
        if target:
            payload["target"] = target
        if return_response:
            payload["return_response"] = True
        return await self.send_command("call_service", timeout=timeout, **payload) or {}

    # --- subscriptions --------------------------------------------------------------------
    async def subscribe_events(self, handler: EventHandler, event_type: str | None = None) -> Subscription:
        message: dict[str, Any] = {"type": "subscribe_events"}
        if event_type:
            message["event_type"] = event_type
        return await self.subscribe(message, handler)

    async def subscribe(self, message: dict[str, Any], handler: EventHandler) -> Subscription:
        """Send a subscribe-style command; its events go to `handler`.

        All subscriptions of one handler share one queue, so the handler sees events in the
        order HA sent them, across event types (a rename before the state change that follows).
        """
        stream = self._streams.get(handler)
        if stream is None:
            stream = self._streams[handler] = _EventStream(handler)
        sub = Subscription(message=message, stream=stream)
        try:
            await self._start_subscription(sub)
        except HAError:
            if not any(other.stream is stream for other in self._subscriptions):
                stream.worker.cancel()
                self._streams.pop(handler, None)
            raise
        self._subscriptions.append(sub)
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)
        if not any(other.stream is sub.stream for other in self._subscriptions):
            sub.stream.worker.cancel()
            self._streams.pop(sub.stream.handler, None)
        if sub.ha_id is not None:
            self._by_ha_id.pop(sub.ha_id, None)
            if self.connected:
                await self.send_command("unsubscribe_events", subscription=sub.ha_id)

    async def _start_subscription(self, sub: Subscription) -> None:
        future = await self._send(sub.message)
        ha_id = future.msg_id  # type: ignore[attr-defined]
        # Route events from now on: HA may send the first event right after the result.
        self._by_ha_id[ha_id] = sub
        try:
            await self._wait(future, str(sub.message.get("type")), None)
        except HAError:
            self._by_ha_id.pop(ha_id, None)
            raise
        sub.ha_id = ha_id

    async def _resubscribe(self) -> None:
        await asyncio.gather(*(self._start_subscription(sub) for sub in self._subscriptions))


def _decode(msg: aiohttp.WSMessage) -> list[dict[str, Any]]:
    if msg.type is not aiohttp.WSMsgType.TEXT:
        raise HAProtocolError(f"Home Assistant sent a {msg.type.name} frame; expected JSON text")
    try:
        data = json.loads(msg.data)
    except ValueError:
        raise HAProtocolError("Home Assistant sent a malformed JSON frame") from None
    # With coalesce_messages, one frame may carry a JSON array of messages.
    messages = data if isinstance(data, list) else [data]
    if not all(isinstance(m, dict) for m in messages):
        raise HAProtocolError("Home Assistant sent a frame that is not a message object")
    return messages


def _reason(exc: object) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]
