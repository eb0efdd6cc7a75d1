"""`ha-agent install-integration`: copy the Home Assistant integration into an HA config dir."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from data_api.platform.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from ha_agent.ha_integration import InstallError, install

    try:
        done = install(Path(args.config_dir))
    except InstallError as exc:
        print(f"ha-agent: {exc}", file=sys.stderr)
        return 1
    was = f" (replaced version {done.replaced})" if done.replaced else ""
    print(f"installed the ha_agent integration {done.version} to {done.target}{was}: {len(done.files)} files")
    print("next: restart Home Assistant, then Settings → Devices & services → Add integration → ha-agent")
    return 0


def add(commands: Any) -> None:
    install_integration = commands.add_parser(
        "install-integration",
        help="copy the Home Assistant integration (Assist → this agent) into an HA config dir",
        description="Copy the ha_agent custom integration to CONFIG_DIR/custom_components/ha_agent/.",
    )
    install_integration.add_argument("config_dir", metavar="CONFIG_DIR", help="Home Assistant's config dir")
    install_integration.set_defaults(run=run)
