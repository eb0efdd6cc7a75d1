"""Shapes of Home Assistant's WebSocket messages and the errors that become `error` results.

Verified against HA 2025.4.4 `components/websocket_api/{messages,connection,commands}.py`.
"""

from __future__ import annotations

from typing import Any

from .util import dumps

HA_VERSION = "2025.4.4"

# Error codes (websocket_api/const.py).
ERR_ID_REUSE = "id_reuse"
ERR_INVALID_FORMAT = "invalid_format"
ERR_NOT_ALLOWED = "not_allowed"
ERR_NOT_FOUND = "not_found"
ERR_HOME_ASSISTANT_ERROR = "home_assistant_error"
ERR_SERVICE_VALIDATION_ERROR = "service_validation_error"
ERR_UNKNOWN_COMMAND = "unknown_command"
ERR_UNKNOWN_ERROR = "unknown_error"
ERR_INVALID_INFO = "invalid_info"  # registry commands use it for ValueError


class HAError(Exception):
    """An error HA reports to the caller as `{"code", "message", translation_*?}`."""

    code = ERR_UNKNOWN_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        translation_key: str | None = None,
        translation_placeholders: dict[str, str] | None = None,
        translation_domain: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.translation_key = translation_key
        self.translation_placeholders = translation_placeholders
        self.translation_domain = translation_domain

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.translation_key is not None:  # HA adds all three or none
            error["translation_key"] = self.translation_key
            error["translation_placeholders"] = self.translation_placeholders
            error["translation_domain"] = self.translation_domain
        return error


class InvalidFormat(HAError):
    """voluptuous rejected the data (`vol.Invalid`)."""

    code = ERR_INVALID_FORMAT


class NotFound(HAError):
    code = ERR_NOT_FOUND


class ServiceValidationError(HAError):
    code = ERR_SERVICE_VALIDATION_ERROR


class HomeAssistantError(HAError):
    code = ERR_HOME_ASSISTANT_ERROR


class UnknownError(HAError):
    """What HA answers when a handler raised something it does not map (e.g. a KeyError)."""

    def __init__(self) -> None:
        super().__init__("Unknown error")


def core_error(kind: type[HAError], key: str, message: str, **placeholders: str) -> HAError:
    """An error carrying HA's `homeassistant` translation, like ServiceNotFound does."""
    return kind(
        message,
        translation_key=key,
        translation_placeholders=placeholders,
        translation_domain="homeassistant",
    )


def result_message(msg_id: int, result: Any = None) -> dict[str, Any]:
    return {"id": msg_id, "type": "result", "success": True, "result": result}


def result_frame(msg_id: int, payload: bytes) -> bytes:
    """A result around an already serialised payload, as HA builds get_states."""
    return b'{"id":%d,"type":"result","success":true,"result":%s}' % (msg_id, payload)


def error_message(msg_id: int | None, error: HAError) -> dict[str, Any]:
    return {"id": msg_id, "type": "result", "success": False, "error": error.payload()}


def event_body(event: dict[str, Any]) -> bytes:
    """The event frame minus its id; HA serialises each event once and appends the id per
    subscriber (`cached_event_message`), which is why `id` comes last on the wire."""
    return dumps({"type": "event", "event": event})


def event_frame(body: bytes, subscription_id: int) -> bytes:
    return b'%s,"id":%d}' % (body[:-1], subscription_id)


# --- subscribe_entities (core.py `State.as_compressed_state`, messages.py `_state_diff_event`) -


def _timestamp(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


def compressed_state(state: dict[str, Any]) -> dict[str, Any]:
    """`{s, a, c, lc, lu?}`: context as a bare id when it has no parent/user, `lu` only when
    it differs from `lc`."""
    context = state["context"]
    compact: dict[str, Any] = {
        "s": state["state"],
        "a": state["attributes"],
        "c": context["id"] if context["parent_id"] is None and context["user_id"] is None else context,
        "lc": _timestamp(state["last_changed"]),
    }
    if state["last_updated"] != state["last_changed"]:
        compact["lu"] = _timestamp(state["last_updated"])
    return compact


def state_diff(entity_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """The `a` (added), `r` (removed) or `c` (changed: `+` new values, `-` removed keys) event."""
    if new is None:
        return {"r": [entity_id]}
    if old is None:
        return {"a": {entity_id: compressed_state(new)}}
    additions: dict[str, Any] = {}
    diff: dict[str, Any] = {"+": additions}
    if old["state"] != new["state"]:
        additions["s"] = new["state"]
    if old["last_changed"] != new["last_changed"]:
        additions["lc"] = _timestamp(new["last_changed"])
    elif old["last_updated"] != new["last_updated"]:
        additions["lu"] = _timestamp(new["last_updated"])
    old_ctx, new_ctx = old["context"], new["context"]
    if old_ctx["parent_id"] != new_ctx["parent_id"]:
        additions["c"] = {"parent_id": new_ctx["parent_id"]}
    if old_ctx["user_id"] != new_ctx["user_id"]:
        if "c" in additions:
            additions["c"]["user_id"] = new_ctx["user_id"]
        else:
            additions["c"] = {"user_id": new_ctx["user_id"]}
    if old_ctx["id"] != new_ctx["id"]:
        if "c" in additions:
            additions["c"]["id"] = new_ctx["id"]
        else:
            additions["c"] = new_ctx["id"]
    old_attrs, new_attrs = old["attributes"], new["attributes"]
    if old_attrs != new_attrs:
        if added := {k: v for k, v in new_attrs.items() if k not in old_attrs or old_attrs[k] != v}:
            additions["a"] = added
        if removed := [k for k in old_attrs if k not in new_attrs]:
            diff["-"] = {"a": removed}
    return {"c": {entity_id: diff}}
