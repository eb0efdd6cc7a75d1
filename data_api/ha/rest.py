"""Home Assistant REST API client (httpx, one pooled connection set).

The fallback for what the REST API can do (config, states, services, call_service, history)
when the WebSocket is down, and the path for the recorder's history, which has no simple
WebSocket equivalent.
"""

from __future__ import annotations

from typing import Any

import httpx

from .errors import HAAuthError, HACommandError, HAConnectionError, HAError, HAProtocolError, HATimeoutError


class HARest:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=timeout, limits=httpx.Limits(max_connections=20, max_keepalive_connections=10)
        )
        # The header travels with each request, never in the client's repr or in errors.
        self._headers = {"Authorization": f"Bearer {token}"}

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self._base}{path}"
        try:
            response = await self._client.request(method, url, headers=self._headers, **kwargs)
        except httpx.TimeoutException:
            raise HATimeoutError(f"Home Assistant did not answer {method} {path} in time") from None
        except httpx.HTTPError as exc:
            raise HAConnectionError(f"cannot reach Home Assistant at {self._base}: {type(exc).__name__}") from None
        if response.status_code == 401:
            raise HAAuthError("Home Assistant refused the access token (HA_TOKEN): create a new long-lived token")
        if response.status_code >= 400:
            raise HACommandError(
                _error_code(response.status_code), _error_message(response), command=f"{method} {path}"
            )
        try:
            return response.json()
        except ValueError:
            raise HAProtocolError(f"Home Assistant sent a body that is not JSON for {method} {path}") from None

    async def check(self) -> None:
        """Raise unless the API answers with this token."""
        await self._request("GET", "/api/")

    async def get_config(self) -> dict[str, Any]:
        return await self._request("GET", "/api/config")

    async def get_states(self) -> list[dict[str, Any]]:
        return await self._request("GET", "/api/states")

    async def get_state(self, entity_id: str) -> dict[str, Any]:
        return await self._request("GET", f"/api/states/{entity_id}")

    async def get_services(self) -> dict[str, dict[str, Any]]:
        """The same shape as the WebSocket's get_services (REST sends a list of domains)."""
        listing = await self._request("GET", "/api/services")
        if not isinstance(listing, list):
            raise HAProtocolError("GET /api/services did not return a list")
        return {item["domain"]: item.get("services", {}) for item in listing}

    async def call_service(
        self,
        domain: str,
        service: str,
        service_data: dict[str, Any] | None = None,
        *,
        return_response: bool = False,
    ) -> Any:
        """Returns the changed states (or {changed_states, service_response} with a response)."""
        params = {"return_response": ""} if return_response else None
        return await self._request("POST", f"/api/services/{domain}/{service}", json=service_data or {}, params=params)

    async def get_history(
        self,
        entity_ids: list[str],
        start_time: str,
        end_time: str | None = None,
        *,
        minimal: bool = True,
    ) -> list[list[dict[str, Any]]]:
        params: dict[str, str] = {"filter_entity_id": ",".join(entity_ids)}
        if end_time:
            params["end_time"] = end_time
        if minimal:
            params["minimal_response"] = ""
            params["no_attributes"] = ""
        return await self._request("GET", f"/api/history/period/{start_time}", params=params)


def _error_code(status: int) -> str:
    return {400: "invalid_format", 404: "not_found", 405: "not_allowed"}.get(status, "home_assistant_error")


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:500]
    return f"HTTP {response.status_code}"


__all__ = ["HARest", "HAError"]
