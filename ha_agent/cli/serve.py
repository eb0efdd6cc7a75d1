"""`ha-agent serve`: the services — the mirror and the agent in one process, or one `--role`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from data_api.platform.settings import Settings

from .common import DEFAULT_PORTS, ROLES


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from data_api import StoreError

    port = args.port if args.port is not None else DEFAULT_PORTS[args.role or "agent"]
    try:
        if args.role == "data-api":
            from data_api import run_data_api

            await run_data_api(settings, args.host, port)
        else:
            from ha_agent.assemble import run_agent_service

            await run_agent_service(settings, args.host, port, remote=args.role == "agent")
    except StoreError as exc:
        print(f"ha-agent: {exc}", file=sys.stderr)
        return 1
    return 0


def add(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the services: the mirror and the agent in one process, or one --role",
        description=(
            "Without --role: the mirror of Home Assistant and the agent in one process, on one port "
            "(the chat API and the mirror's read API side by side). --role data-api: the mirror "
            "alone. --role agent: the agent alone, reading the mirror of a data-api at DATA_API_URL."
        ),
    )
    serve.add_argument(
        "--role",
        choices=ROLES,
        default=None,
        help="run one service only: data-api (the mirror) or agent (needs DATA_API_URL); default both",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need API_KEYS)")
    serve.add_argument(
        "--port", type=int, default=None, help="port (default 8030, or 8006 for --role data-api; 0 picks a free one)"
    )
    serve.set_defaults(run=run, serving=True)
