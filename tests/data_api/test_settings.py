"""Settings: precedence env > .env > config/*.yaml > defaults, one-line errors, secrets hidden."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from data_api.platform.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty directory as the current one, with no HA_AGENT/HA env leaking in."""
    for name in list(__import__("os").environ):
        if name.upper() in {f.upper() for f in Settings.model_fields} or name == "HA_AGENT_CONFIG_DIR":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    return tmp_path


def test_defaults_without_any_source(workdir):
    settings = load_settings()
    assert settings.ha_url is None
    assert settings.database_url == "sqlite+aiosqlite:///./data/ha-agent.db"
    assert settings.cache_ttl("devices") == 1800 and settings.cache_ttl("entities") == 300
    assert settings.effective_llm_provider == "local"


def test_precedence_env_over_dotenv_over_yaml(workdir, monkeypatch):
    (workdir / "config" / "a.yaml").write_text("ha_url: http://yaml:8123\nhome_id: from_yaml\nllm_model: yaml-model\n")
    (workdir / "config" / "b.yaml").write_text("llm_model: later-yaml-wins\n")
    (workdir / ".env").write_text("HA_URL=http://dotenv:8123\nHOME_ID=from_dotenv\n")
    monkeypatch.setenv("HA_URL", "http://env:8123/")
    settings = load_settings()
    assert settings.ha_url == "http://env:8123"  # env wins, trailing slash dropped
    assert settings.home_id == "from_dotenv"  # .env beats yaml
    assert settings.llm_model == "later-yaml-wins"  # yaml files in name order


def test_config_dir_from_env(workdir, monkeypatch, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere")
    (other / "x.yaml").write_text("home_id: elsewhere\n")
    monkeypatch.setenv("HA_AGENT_CONFIG_DIR", str(other))
    assert load_settings().home_id == "elsewhere"


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("HA_URL", "homeassistant.local", "HA_URL is invalid: expected an http(s) URL"),
        ("DATABASE_URL", "mysql://root@x/db", "DATABASE_URL is invalid: expected an SQLAlchemy URL"),
        ("HA_REQUEST_TIMEOUT", "soon", "HA_REQUEST_TIMEOUT is invalid"),
        ("CACHE_TTL_DEVICES", "-5", "CACHE_TTL_DEVICES is invalid"),
        ("API_KEYS", "short", "API_KEYS is invalid: expected comma-separated keys"),
        ("LLM_PROVIDER", "skynet", "LLM_PROVIDER is invalid: expected 'openai' or 'local'"),
    ],
)
def test_malformed_value_is_one_line_naming_the_setting(workdir, monkeypatch, env, value, needle):
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


def test_missing_required_value_names_it(workdir):
    settings = load_settings()
    with pytest.raises(SettingsError, match=r"^HA_TOKEN is not set: expected a long-lived access token"):
        settings.require("ha_token")


def test_secrets_are_never_printed(workdir, monkeypatch):
    token = "eyJhbGciOiJIUzI1NiJ9.secret-token-value"
    monkeypatch.setenv("HA_TOKEN", token)
    monkeypatch.setenv("API_KEYS", "key-one-0123456789abcdef, key-two-0123456789abcdef")
    settings = load_settings()
    assert settings.ha_token.get_secret_value() == token
    assert [k.get_secret_value() for k in settings.api_keys] == ["key-one-0123456789abcdef", "key-two-0123456789abcdef"]
    for text in (str(settings), repr(settings), settings.model_dump_json()):
        assert token not in text and "key-one" not in text


def test_bad_secret_value_is_not_echoed(workdir, monkeypatch):
    monkeypatch.setenv("API_KEYS", "s3cr3t")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "s3cr3t" not in str(info.value)


def test_plain_database_urls_get_async_drivers(workdir, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/test")
    assert load_settings().database_url == "postgresql+asyncpg://u@127.0.0.1/test"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    assert load_settings().database_url == "sqlite+aiosqlite:///x.db"


def test_cli_fails_at_start_with_one_line(workdir):
    result = subprocess.run(
        [sys.executable, "-m", "ha_agent.cli", "simulate", "--port", "0"],
        env={"PATH": "/usr/bin:/bin", "HA_URL": "not a url", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=workdir,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "ha-agent: HA_URL is invalid: expected an http(s) URL such as http://homeassistant.local:8123"
    ]


def test_documented_defaults_match_the_code():
    """config/defaults.yaml documents every setting with the default the code uses."""
    text = (ROOT / "config" / "defaults.yaml").read_text()
    documented = dict(re.findall(r"^# (\w+): (\S+)", text, flags=re.M))
    assert set(documented) == set(Settings.model_fields)
    import yaml

    for name, field in Settings.model_fields.items():
        default = field.default
        value = yaml.safe_load(documented[name])
        assert value == default, f"{name}: documented {value!r}, code {default!r}"
