"""The data-api: a mirror of one Home Assistant home, served over REST — and the one surface the
agent (`ha_agent`) imports from it, beside the platform (`data_api.platform`).

    from data_api import Mirror, MirrorReader, Store, HAClient, Entity, DataApiClient

Names resolve lazily (PEP 562), so `import data_api` costs nothing: the CLI's light commands
(`query`, `chat`) must not load the server, FastAPI and the database to print a table.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Where each public name lives. Everything else of the package is internal to it.
_SURFACE: dict[str, str] = {
    # Home Assistant: the client, its errors and the models of what HA sends
    **dict.fromkeys(
        (
            "HAClient",
            "HAError",
            "HACommandError",
            "HAConnectionError",
            "HATimeoutError",
            "HAAuthError",
            "Area",
            "Device",
            "Entity",
            "Floor",
            "HAConfig",
            "Label",
            "Service",
            "ServiceField",
            "State",
            "RegistryEntry",
            "HELPER_DOMAINS",
            "merge_entities",
        ),
        "data_api.ha",
    ),
    # The mirror and how it is read
    **dict.fromkeys(
        (
            "Mirror",
            "MirrorReader",
            "Query",
            "QueryError",
            "Listing",
            "Collection",
            "ScriptView",
            "MAX_LIMIT",
            "LIST_KINDS",
            "FILTERS",
            "fold",
        ),
        "data_api.mirror",
    ),
    "Store": "data_api.store",
    "StoreError": "data_api.platform.db.errors",
    # A separate data-api over HTTP, and serving the mirror's routes in another service's app
    **dict.fromkeys(("DataApiClient", "DataApiError", "DEFAULT_URL"), "data_api.api.client"),
    "derive_view": "data_api.mirror.views",
    "create_app": "data_api.api.app",
    "mirror_router": "data_api.api.routes",
    "install_query_errors": "data_api.api.errors",
    **dict.fromkeys(("METRICS_PREFIX", "mirror_detail", "mirror_metrics", "mirror_status"), "data_api.api.health"),
    "run_data_api": "data_api.service",
}

__all__ = sorted(_SURFACE)


def __getattr__(name: str) -> Any:
    module = _SURFACE.get(name)
    if module is None:
        raise AttributeError(f"module 'data_api' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once resolved, a plain attribute
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from data_api.api.app import create_app
    from data_api.api.client import DEFAULT_URL, DataApiClient, DataApiError
    from data_api.api.errors import install_query_errors
    from data_api.api.health import METRICS_PREFIX, mirror_detail, mirror_metrics, mirror_status
    from data_api.api.routes import mirror_router
    from data_api.ha import (
        HELPER_DOMAINS,
        Area,
        Device,
        Entity,
        Floor,
        HAAuthError,
        HAClient,
        HACommandError,
        HAConfig,
        HAConnectionError,
        HAError,
        HATimeoutError,
        Label,
        RegistryEntry,
        Service,
        ServiceField,
        State,
        merge_entities,
    )
    from data_api.mirror import (
        FILTERS,
        LIST_KINDS,
        MAX_LIMIT,
        Collection,
        Listing,
        Mirror,
        MirrorReader,
        Query,
        QueryError,
        ScriptView,
        fold,
    )
    from data_api.mirror.views import derive_view
    from data_api.platform.db.errors import StoreError
    from data_api.service import run_data_api
    from data_api.store import Store
