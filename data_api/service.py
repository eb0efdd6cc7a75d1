"""The data-api service: the mirror (Home Assistant → memory → database) served over REST."""

from __future__ import annotations

from collections.abc import Callable

from data_api.api.app import create_app
from data_api.mirror import Mirror, MirrorReader
from data_api.platform.http.auth import require_keys_or_loopback
from data_api.platform.http.server import HttpServer, stop_on_signals
from data_api.platform.logs import display_url
from data_api.platform.settings import Settings
from data_api.store import Store


async def run_data_api(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8006,
    *,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then stop the server, the mirror, and flush its writes.

    `ready(url)` is called once the API answers (the demo prints its examples then).
    """
    require_keys_or_loopback(host, settings.api_keys)  # before touching HA or the database
    store = Store.from_settings(settings.db)
    mirror = Mirror(
        settings, store, owns_process=True
    )  # its HA client comes from the settings (SettingsError if unset)
    server = HttpServer(create_app(MirrorReader(mirror), settings), host, port)
    try:
        with stop_on_signals(server):
            print(
                f"data-api: opening the database {store.database} and connecting to {display_url(settings.ha_url)}",
                flush=True,
            )
            await mirror.start()  # migrates; the stored copy is served (stale) until the first sync
            url = await server.start()
            keys = f"{len(settings.api_keys)} API key(s)" if settings.api_keys else "no API keys (loopback only)"
            print(f"data-api: serving home {settings.home_id!r} at {url}/api/v1 ({keys}); Ctrl+C stops", flush=True)
            if ready is not None:
                ready(url)
            await server.wait()
            print("data-api: stopping", flush=True)
    finally:
        await server.stop()
        await mirror.stop()  # flushes pending writes to the database
        await store.close()
