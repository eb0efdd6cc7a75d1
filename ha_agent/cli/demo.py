"""`ha-agent demo`: a simulated home, its mirror and the assistant, with nothing to configure."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from data_api.platform.settings import Settings

from .common import DEFAULT_PORTS, HOME_SIZES


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """A simulated home, its mirror and the agent (the local intent engine, or the configured
    model): nothing to set up."""
    from ha_agent.assemble import run_demo

    me = sys.argv[0] if sys.argv[0].endswith("ha-agent") else "ha-agent"

    def examples(url: str, area: str) -> None:
        print(
            "\nTry:\n"
            f'  {me} chat --url {url} "turn on the lights in the {area.replace("_", " ")}"\n'
            f"  {me} chat --url {url}          (a conversation; /new, /quit)\n"
            f"  curl -s -X POST {url}/api/v1/chat -H 'content-type: application/json' "
            '-d \'{"message": "which lights are on?"}\'\n'
            f"  curl -s '{url}/api/v1/entities?area={area}&limit=5'\n"
            f"  {me} query entities --area {area} --url {url}\n"
            f"  every endpoint, to try in a browser: {url}/docs\n",
            flush=True,
        )

    port = args.port if args.port is not None else DEFAULT_PORTS["agent"]
    await run_demo(settings, args.home, args.host, port, database=args.database, ready=examples)
    return 0


def add(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="try it with nothing configured: a simulated home, its mirror and the agent"
    )
    demo.add_argument("--home", choices=HOME_SIZES, default="small", help="home size (default small)")
    demo.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=None, help="port (default 8030; 0 picks a free one)")
    demo.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    demo.set_defaults(run=run, serving=True)
