"""Home Assistant protocol client: WebSocket (aiohttp) with a REST fallback (httpx)."""

from .client import MIRROR_EVENTS, HAClient, HomeSnapshot
from .errors import (
    HAAuthError,
    HACommandError,
    HAConnectionError,
    HAError,
    HAProtocolError,
    HATimeoutError,
)
from .models import (
    HELPER_DOMAINS,
    Area,
    Device,
    Entity,
    Floor,
    HAConfig,
    Label,
    RegistryEntry,
    Service,
    ServiceField,
    State,
    build_entity,
    merge_entities,
    parse_services,
    split_entity_id,
)
from .rest import HARest
from .websocket import HAWebSocket, Subscription

__all__ = [
    "MIRROR_EVENTS",
    "HELPER_DOMAINS",
    "Area",
    "Device",
    "Entity",
    "Floor",
    "HAAuthError",
    "HAClient",
    "HACommandError",
    "HAConfig",
    "HAConnectionError",
    "HAError",
    "HAProtocolError",
    "HARest",
    "HATimeoutError",
    "HAWebSocket",
    "HomeSnapshot",
    "Label",
    "RegistryEntry",
    "Service",
    "ServiceField",
    "State",
    "Subscription",
    "build_entity",
    "merge_entities",
    "parse_services",
    "split_entity_id",
]
