"""A client of a running data-api over HTTP (the CLI's `query`; an agent with `DATA_API_URL`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from data_api.logs import display_url

DEFAULT_URL = "http://127.0.0.1:8006"


class DataApiError(Exception):
    """The data-api could not be reached or refused the request; the message is one line."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DataApiClient:
    def __init__(self, url: str = DEFAULT_URL, api_key: str | None = None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> DataApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return (await self._get(path, params)).json()

    async def revalidate(
        self, path: str, params: dict[str, Any] | None = None, etag: str | None = None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """`get` sending `If-None-Match: etag`: `(None, etag)` when the copy `etag` names is
        still current (the data-api's 304), else `(body, its ETag)`."""
        response = await self._get(path, params, {"if-none-match": etag} if etag else None)
        if response.status_code == 304:
            return None, etag
        return response.json(), response.headers.get("etag")

    async def _get(
        self, path: str, params: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        try:
            response = await self._http.get(path, params=query, headers=headers)
        except httpx.TransportError as exc:
            raise DataApiError(
                f"cannot reach the data-api at {display_url(self.url)} ({type(exc).__name__}): "
                "is `ha-agent serve --role data-api` running, and DATA_API_URL right?"
            ) from None
        if response.status_code == 401:
            raise DataApiError(f"the data-api at {display_url(self.url)} refused the request: {_detail(response)}", 401)
        if response.status_code >= 400:
            raise DataApiError(_detail(response), response.status_code)
        return response

    async def list(self, kind: str, **params: Any) -> dict[str, Any]:
        """One page of a kind (`params`: filters, `limit`, `cursor`)."""
        return await self.get(f"/api/v1/{kind}", params)

    async def pages(self, kind: str, **params: Any) -> AsyncIterator[dict[str, Any]]:
        """Every page of a kind, following `next_cursor`."""
        cursor = None
        while True:
            page = await self.list(kind, **params, cursor=cursor)
            yield page
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def entity(self, entity_id: str) -> dict[str, Any]:
        return await self.get(f"/api/v1/entities/{entity_id}")

    async def config(self) -> dict[str, Any]:
        return await self.get("/api/v1/config")


def _param(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else f"HTTP {response.status_code} from {response.request.url.path}"
