"""The Home Assistant client the rest of the project uses: typed reads, actions, events.

WebSocket first (one connection, every read in parallel); the REST API stands in for the reads
and actions it supports while the WebSocket is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from data_api.platform.settings import HASettings

from .errors import HACommandError, HAConnectionError, HAError
from .models import (
    Area,
    Device,
    Entity,
    Floor,
    HAConfig,
    Label,
    RegistryEntry,
    Service,
    State,
    merge_entities,
    parse_services,
)
from .rest import HARest
from .websocket import DisconnectHandler, EventHandler, HAWebSocket, ReconnectHandler, Subscription

# Every event the mirror needs to stay fresh (ha-facts.md, "Events").
MIRROR_EVENTS = (
    "state_changed",
    "device_registry_updated",
    "entity_registry_updated",
    "area_registry_updated",
    "floor_registry_updated",
    "label_registry_updated",
    "service_registered",
    "service_removed",
    "core_config_updated",
)


@dataclass(frozen=True, slots=True)
class HomeSnapshot:
    """Everything read from HA in one full sync."""

    config: HAConfig
    floors: list[Floor]
    areas: list[Area]
    labels: list[Label]
    devices: list[Device]
    registry: list[RegistryEntry]
    entities: list[Entity]
    services: list[Service]
    exposed: frozenset[str]


class HAClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        request_timeout: float = 10.0,
        ping_interval: float = 30.0,
        reconnect_min_delay: float = 0.5,
        reconnect_max_delay: float = 30.0,
        on_reconnect: ReconnectHandler | None = None,
        on_disconnect: DisconnectHandler | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ws = HAWebSocket(
            base_url,
            token,
            request_timeout=request_timeout,
            ping_interval=ping_interval,
            reconnect_min_delay=reconnect_min_delay,
            reconnect_max_delay=reconnect_max_delay,
            on_reconnect=on_reconnect,
            on_disconnect=on_disconnect,
        )
        self.rest = HARest(base_url, token, timeout=request_timeout)

    @classmethod
    def from_settings(cls, settings: HASettings, **handlers: Any) -> HAClient:
        return cls(
            settings.url,
            settings.token.get_secret_value(),
            request_timeout=settings.request_timeout,
            ping_interval=settings.ping_interval,
            reconnect_min_delay=settings.reconnect_min_delay,
            reconnect_max_delay=settings.reconnect_max_delay,
            **handlers,
        )

    async def connect(self) -> None:
        await self.ws.connect()

    async def close(self) -> None:
        await self.ws.close()
        await self.rest.close()

    async def __aenter__(self) -> HAClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self.ws.connected

    # --- reads ----------------------------------------------------------------------------
    async def fetch_config(self) -> HAConfig:
        data = await self.ws.send_command("get_config") if self.connected else await self.rest.get_config()
        return HAConfig.from_ha(data)

    async def fetch_states(self) -> list[State]:
        data = await self.ws.send_command("get_states") if self.connected else await self.rest.get_states()
        return [State.from_ha(item) for item in data]

    async def fetch_services(self) -> list[Service]:
        data = await self.ws.send_command("get_services") if self.connected else await self.rest.get_services()
        return parse_services(data)

    async def fetch_floors(self) -> list[Floor]:
        return [Floor.from_ha(item) for item in await self.ws.send_command("config/floor_registry/list")]

    async def fetch_areas(self) -> list[Area]:
        return [Area.from_ha(item) for item in await self.ws.send_command("config/area_registry/list")]

    async def fetch_labels(self) -> list[Label]:
        return [Label.from_ha(item) for item in await self.ws.send_command("config/label_registry/list")]

    async def fetch_devices(self) -> list[Device]:
        return [Device.from_ha(item) for item in await self.ws.send_command("config/device_registry/list")]

    async def fetch_registry(self, entity_ids: Sequence[str] | None = None) -> list[RegistryEntry]:
        """Registry entries, with the aliases and device classes only `get_entries` carries.

        With `entity_ids`, only those (ids HA does not know are left out).
        """
        if entity_ids is None:
            listed = [RegistryEntry.from_ha(item) for item in await self.ws.send_command("config/entity_registry/list")]
            wanted = [entry.entity_id for entry in listed]
        else:
            listed, wanted = None, list(entity_ids)
        details = await self.ws.send_command("config/entity_registry/get_entries", entity_ids=wanted) if wanted else {}
        if listed is None:
            return [RegistryEntry.from_ha(data) for data in details.values() if data]
        return [
            entry.with_details(details[entry.entity_id]) if details.get(entry.entity_id) else entry for entry in listed
        ]

    async def fetch_exposed(self) -> frozenset[str]:
        """Entities HA exposes to Assist (the list names only exposed ones)."""
        data = await self.ws.send_command("homeassistant/expose_entity/list")
        return frozenset(
            entity_id
            for entity_id, assistants in (data.get("exposed_entities") or {}).items()
            if assistants.get("conversation")
        )

    async def fetch_run_config(self, entity_id: str) -> dict[str, Any] | None:
        """The configuration of a script or automation (`script/config`, `automation/config`):
        its steps, so what it does can be checked before it runs. None if HA does not know it."""
        domain = entity_id.partition(".")[0]
        if domain not in ("script", "automation"):
            raise ValueError(f"{entity_id} is not a script or an automation")
        try:
            answer = await self.ws.send_command(f"{domain}/config", entity_id=entity_id)
        except HACommandError as exc:
            if exc.code == "not_found":
                return None
            raise
        config = answer.get("config") if isinstance(answer, dict) else None
        return config if isinstance(config, dict) else None

    async def fetch_home(self) -> HomeSnapshot:
        """Read everything at once: one round trip's worth of latency, not ten."""
        if not self.connected:
            raise HAConnectionError("not connected to Home Assistant")
        config, floors, areas, labels, devices, registry, states, services, exposed = await asyncio.gather(
            self.fetch_config(),
            self.fetch_floors(),
            self.fetch_areas(),
            self.fetch_labels(),
            self.fetch_devices(),
            self.fetch_registry(),
            self.fetch_states(),
            self.fetch_services(),
            self.fetch_exposed(),
        )
        entities = merge_entities(
            states,
            registry,
            {d.id: d for d in devices},
            {a.area_id: a for a in areas},
            exposed,
        )
        return HomeSnapshot(config, floors, areas, labels, devices, registry, entities, services, exposed)

    # --- actions and events ---------------------------------------------------------------
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
        """Call a service; over REST when the WebSocket is down (target folded into the data)."""
        if self.connected:
            return await self.ws.call_service(
                domain, service, service_data, target=target, return_response=return_response, timeout=timeout
            )
        data = {**(service_data or {}), **(target or {})}
        result = await self.rest.call_service(domain, service, data, return_response=return_response)
        if return_response and isinstance(result, dict):
            return {"response": result.get("service_response"), "changed_states": result.get("changed_states", [])}
        return {"changed_states": result}

    async def subscribe_events(self, handler: EventHandler, event_type: str | None = None) -> Subscription:
        return await self.ws.subscribe_events(handler, event_type)

    async def subscribe_mirror_events(self, handler: EventHandler) -> list[Subscription]:
        """Subscribe `handler` to every event the mirror needs, in parallel."""
        return list(await asyncio.gather(*(self.ws.subscribe_events(handler, e) for e in MIRROR_EVENTS)))


__all__ = ["HAClient", "HomeSnapshot", "MIRROR_EVENTS", "HAError"]
