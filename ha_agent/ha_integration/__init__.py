"""The Home Assistant custom integration `ha_agent` (Assist → ha-agent), shipped in this package.

`custom_components/ha_agent/` is the integration itself (it imports Home Assistant, so it is never
imported here); `hacs.json` beside `custom_components/` makes this directory a HACS repository
root. `install()` copies the integration into an HA config dir (`ha-agent install-integration`).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

DOMAIN = "ha_agent"
SOURCE = Path(__file__).parent / "custom_components" / DOMAIN
# Files an HA config dir has once HA has run in it, or before (configuration.yaml).
_CONFIG_DIR_MARKERS = ("configuration.yaml", ".storage", ".HA_VERSION")


class InstallError(Exception):
    """The target is not an HA config dir, or the copy failed; the message says which."""


@dataclass(frozen=True)
class Installed:
    target: Path
    version: str
    replaced: str | None  # the version that was there before, if any
    files: tuple[str, ...]


def _version(manifest: Path) -> str | None:
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8")).get("version"))
    except (OSError, ValueError):
        return None


def install(config_dir: Path) -> Installed:
    """Copy the integration to `<config_dir>/custom_components/ha_agent/`, replacing an older copy."""
    config_dir = Path(config_dir).expanduser()
    if not config_dir.is_dir():
        raise InstallError(f"{config_dir} is not a directory")
    if not any((config_dir / marker).exists() for marker in _CONFIG_DIR_MARKERS):
        raise InstallError(
            f"{config_dir} does not look like a Home Assistant config dir "
            f"(none of {', '.join(_CONFIG_DIR_MARKERS)} is there)"
        )
    target = config_dir / "custom_components" / DOMAIN
    replaced = _version(target / "manifest.json") if target.exists() else None
    try:
        target.parent.mkdir(exist_ok=True)
        staging = target.with_name(f".{DOMAIN}.installing")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(SOURCE, staging, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except OSError as exc:
        raise InstallError(f"could not copy the integration to {target}: {exc}") from exc
    files = tuple(sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()))
    return Installed(target, _version(target / "manifest.json") or "?", replaced, files)
