"""The one settings object of the ha-agent distribution.

Both services read it (ha_agent imports it from here, never the other way round). Values come
from, highest first: keyword arguments, environment variables, `.env`, then every
`config/*.yaml` (folder chosen by ``HA_AGENT_CONFIG_DIR``), then the defaults below.
``config/defaults.yaml`` documents every setting with its default.

The settings are flat (their names are the environment's: `HA_URL`, `LLM_MODEL`), and each part
of the code takes the typed section it uses — `settings.ha`, `.db`, `.llm`, `.tools`, `.intents`,
`.context` — not the whole object: what a part depends on is in its signature.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CONFIG_DIR_ENV = "HA_AGENT_CONFIG_DIR"

# What a person should be told when a value does not parse, by setting.
_EXPECTED = {
    "ha_url": "an http(s) URL such as http://homeassistant.local:8123",
    "ha_token": "a long-lived access token (HA profile > Security)",
    "database_url": "an SQLAlchemy URL: sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db",
    "data_api_url": "an http(s) URL of a running data-api, such as http://127.0.0.1:8006",
    "agent_url": "an http(s) URL of a running agent, such as http://127.0.0.1:8030",
    "llm_base_url": "an http(s) URL of an OpenAI-compatible API, such as http://localhost:11434/v1",
    "llm_provider": "'openai' or 'local'",
    "intents_language": "a language code of Home Assistant's intents, such as en, de or fr",
    "api_keys": "comma-separated keys, each at least 16 characters",
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line fit to print."""


def _config_dir() -> Path:
    return Path(os.environ.get(CONFIG_DIR_ENV, "config"))


def _check_http_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    value = str(value).strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return value


# --- sections: what each part of the code takes -------------------------------------------------
@dataclass(frozen=True, slots=True)
class HASettings:
    url: str
    token: SecretStr
    request_timeout: float
    ping_interval: float
    reconnect_min_delay: float
    reconnect_max_delay: float


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str
    pool_size: int
    max_overflow: int
    pool_recycle: int
    pool_timeout: float
    pool_pre_ping: bool


@dataclass(frozen=True, slots=True)
class LLMSettings:
    provider: str  # "openai" or "local" (the local intent engine alone)
    base_url: str | None
    api_key: SecretStr | None
    model: str
    timeout: float
    max_retries: int
    max_rounds: int
    context_window: int
    reserved_completion_tokens: int


@dataclass(frozen=True, slots=True)
class ToolSettings:
    """The owner's policy and the tools' limits."""

    allow_domains: tuple[str, ...]
    deny_domains: tuple[str, ...]
    allow_entities: tuple[str, ...]
    deny_entities: tuple[str, ...]
    deny_services: tuple[str, ...]
    confirm: tuple[str, ...]
    confirm_script_domains: tuple[str, ...]
    confirm_unknown_effects: bool
    max_actions_per_turn: int
    timeout: float
    confirm_ttl: float


@dataclass(frozen=True, slots=True)
class IntentSettings:
    language: str
    fast_path: bool
    alone: bool  # no model is configured: the local engine answers everything


@dataclass(frozen=True, slots=True)
class ContextSettings:
    max_tokens: int
    model: str  # whose tokenizer counts
    window: int  # the model's context window
    reserved_completion_tokens: int
    history_max_tokens: int

    @property
    def budget(self) -> int:
        """Tokens the context may use: the model's window, less the reply and the history share,
        and never more than `max_tokens` (a large window is not a reason to spend it)."""
        return max(256, min(self.max_tokens, self.window - self.reserved_completion_tokens - self.history_max_tokens))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    # --- Home Assistant -------------------------------------------------------------------
    ha_url: str | None = None
    ha_token: SecretStr | None = None
    home_id: str = Field("default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    ha_request_timeout: float = Field(10.0, gt=0)
    ha_ping_interval: float = Field(30.0, gt=0)
    ha_reconnect_min_delay: float = Field(0.5, gt=0)
    ha_reconnect_max_delay: float = Field(30.0, gt=0)

    # --- Database -------------------------------------------------------------------------
    database_url: str = "sqlite+aiosqlite:///./data/ha-agent.db"
    db_pool_size: int = Field(5, ge=1)
    db_max_overflow: int = Field(10, ge=0)
    db_pool_recycle: int = Field(1800, ge=-1)
    db_pool_timeout: float = Field(30.0, gt=0)
    db_pool_pre_ping: bool = True

    # --- Cache TTLs (seconds) per kind ---------------------------------------------------
    cache_ttl_devices: float = Field(1800, gt=0)
    cache_ttl_areas: float = Field(1800, gt=0)
    cache_ttl_floors: float = Field(1800, gt=0)
    cache_ttl_labels: float = Field(1800, gt=0)
    cache_ttl_services: float = Field(900, gt=0)
    cache_ttl_helpers: float = Field(900, gt=0)
    cache_ttl_scenes: float = Field(900, gt=0)
    cache_ttl_scripts: float = Field(900, gt=0)
    cache_ttl_entities: float = Field(300, gt=0)
    cache_ttl_config: float = Field(1800, gt=0)

    # --- Services -------------------------------------------------------------------------
    data_api_url: str | None = None
    remote_home_refresh: float = Field(1.0, ge=0)
    agent_url: str = "http://127.0.0.1:8030"
    api_keys: Annotated[list[SecretStr], NoDecode] = []
    # Names (besides loopback, the address a client connects to and this machine's host name)
    # a browser may call the services by, and other web origins whose pages may call them.
    allowed_hosts: Annotated[list[str], NoDecode] = []
    allowed_origins: Annotated[list[str], NoDecode] = []
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # --- LLM ------------------------------------------------------------------------------
    llm_provider: Literal["openai", "local"] | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(60.0, gt=0)
    llm_max_retries: int = Field(3, ge=0, le=10)
    llm_max_rounds: int = Field(10, ge=1, le=50)
    llm_context_window: int = Field(128000, ge=1024)
    llm_reserved_completion_tokens: int = Field(1024, ge=1)

    # --- Local intent engine (HA's sentence matcher) --------------------------------------
    intents_language: str = Field("en", min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$")
    intents_fast_path: bool = True

    # --- Conversation history -------------------------------------------------------------
    history_max_tokens: int = Field(4000, ge=1)
    context_max_tokens: int = Field(6000, ge=256)
    history_retention_days: int = Field(30, ge=0)

    # --- Agent tools: what the assistant may read and do (the owner's policy) -------------
    # Lists are comma-separated in the environment; patterns are shell-style (fnmatch).
    tools_allow_domains: Annotated[list[str], NoDecode] = []
    tools_deny_domains: Annotated[list[str], NoDecode] = []
    tools_allow_entities: Annotated[list[str], NoDecode] = []
    tools_deny_entities: Annotated[list[str], NoDecode] = []
    tools_deny_services: Annotated[list[str], NoDecode] = [
        "homeassistant.stop",
        "homeassistant.restart",
        "homeassistant.set_location",
        "*.reload*",
        "*.delete*",
        "*.remove*",
        "*.purge*",
        "*.set_config*",
        "*.reconfigure*",
        "recorder.*",
        "backup.*",
        "hassio.*",
        "cloud.*",
        "logger.*",
        "system_log.*",
    ]
    # `service@class|class` asks only when a target has one of those device classes.
    tools_confirm: Annotated[list[str], NoDecode] = [
        "lock.unlock",
        "lock.lock",
        "lock.open",
        "alarm_control_panel.alarm_*",
        "cover.open_cover@garage|gate|door",
        "cover.set_cover_position@garage|gate|door",
        "cover.toggle@garage|gate|door",
    ]
    # A script (or automation) whose configuration calls a service of these domains asks first,
    # whatever it targets; `tools_confirm_unknown_effects`: one whose effects its configuration
    # does not show (templates, events) asks first too.
    tools_confirm_script_domains: Annotated[list[str], NoDecode] = ["lock", "alarm_control_panel", "cover"]
    tools_confirm_unknown_effects: bool = False
    tools_max_actions_per_turn: int = Field(20, ge=1, le=1000)
    tools_timeout: float = Field(10.0, gt=0)
    tools_confirm_ttl: float = Field(300.0, gt=0)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_files = sorted(_config_dir().glob("*.yaml"))
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            YamlConfigSettingsSource(settings_cls, yaml_file=yaml_files),
        )

    @field_validator("ha_url", "data_api_url", "agent_url", "llm_base_url", mode="before")
    @classmethod
    def _http_url(cls, value: Any) -> str | None:
        return _check_http_url(value)

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> str:
        value = str(value).strip()
        # Plain driver-less URLs are what people paste; pick the async driver for them.
        for plain, async_ in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if value.startswith(plain):
                return async_ + value[len(plain) :]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("unsupported database")
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        keys = [str(k.get_secret_value() if isinstance(k, SecretStr) else k) for k in value]
        keys = [k for k in keys if k]
        if any(len(k) < 16 for k in keys):
            raise ValueError("key too short")
        return keys

    @field_validator(
        "tools_allow_domains",
        "tools_deny_domains",
        "tools_allow_entities",
        "tools_deny_entities",
        "tools_deny_services",
        "tools_confirm",
        "tools_confirm_script_domains",
        "allowed_hosts",
        "allowed_origins",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> list[str]:
        # Comma-separated in the environment, a list in YAML; case-insensitive like HA's ids.
        if value is None:
            return []
        if isinstance(value, str):
            value = value.split(",")
        return [str(item).strip().lower() for item in value if str(item).strip()]

    @field_validator("ha_token", "llm_api_key", mode="before")
    @classmethod
    def _blank_secret_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    # --- derived values -------------------------------------------------------------------
    @property
    def effective_llm_provider(self) -> str:
        """`local` unless an LLM endpoint is configured (or the provider is set explicitly)."""
        if self.llm_provider:
            return self.llm_provider
        return "openai" if self.llm_base_url else "local"

    def cache_ttl(self, kind: str) -> float:
        return float(getattr(self, f"cache_ttl_{kind}"))

    @property
    def ha(self) -> HASettings:
        """Home Assistant's address and the client's timings; SettingsError if unset."""
        self.require("ha_url", "ha_token")
        assert self.ha_url is not None and self.ha_token is not None
        return HASettings(
            self.ha_url,
            self.ha_token,
            self.ha_request_timeout,
            self.ha_ping_interval,
            self.ha_reconnect_min_delay,
            self.ha_reconnect_max_delay,
        )

    @property
    def db(self) -> DatabaseSettings:
        return DatabaseSettings(
            self.database_url,
            self.db_pool_size,
            self.db_max_overflow,
            self.db_pool_recycle,
            self.db_pool_timeout,
            self.db_pool_pre_ping,
        )

    @property
    def llm(self) -> LLMSettings:
        return LLMSettings(
            self.effective_llm_provider,
            self.llm_base_url,
            self.llm_api_key,
            self.llm_model,
            self.llm_timeout,
            self.llm_max_retries,
            self.llm_max_rounds,
            self.llm_context_window,
            self.llm_reserved_completion_tokens,
        )

    @property
    def tools(self) -> ToolSettings:
        return ToolSettings(
            tuple(self.tools_allow_domains),
            tuple(self.tools_deny_domains),
            tuple(self.tools_allow_entities),
            tuple(self.tools_deny_entities),
            tuple(self.tools_deny_services),
            tuple(self.tools_confirm),
            tuple(self.tools_confirm_script_domains),
            self.tools_confirm_unknown_effects,
            self.tools_max_actions_per_turn,
            self.tools_timeout,
            self.tools_confirm_ttl,
        )

    @property
    def intents(self) -> IntentSettings:
        return IntentSettings(self.intents_language, self.intents_fast_path, self.effective_llm_provider == "local")

    @property
    def context(self) -> ContextSettings:
        return ContextSettings(
            self.context_max_tokens,
            self.llm_model,
            self.llm_context_window,
            self.llm_reserved_completion_tokens,
            self.history_max_tokens,
        )

    def require(self, *names: str) -> None:
        """Fail with one line if a setting this command needs is unset."""
        for name in names:
            if getattr(self, name) in (None, ""):
                raise SettingsError(f"{name.upper()} is not set: expected {_EXPECTED.get(name, 'a value')}")


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; any problem becomes one `SettingsError` line naming the setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    error = exc.errors(include_input=False, include_url=False)[0]
    name = str(error["loc"][0]) if error["loc"] else "settings"
    expected = _EXPECTED.get(name) or error["msg"].removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{name.upper()} is invalid: expected {expected}{more}"
