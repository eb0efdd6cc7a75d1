"""`ha-agent simulate`: a simulated Home Assistant on a port, for trying things by hand."""

from __future__ import annotations

import argparse
from collections.abc import Coroutine
from typing import Any

from data_api.platform.settings import Settings

from .common import HOME_SIZES


def run(args: argparse.Namespace, settings: Settings) -> Coroutine[Any, Any, None]:
    from data_api.simulator.server import serve_forever

    return serve_forever(size=args.home, port=args.port, seed=args.seed, host=args.host)


def add(commands: Any) -> None:
    simulate = commands.add_parser("simulate", help="run a simulated Home Assistant (prints its URL and a token)")
    simulate.add_argument("--home", choices=HOME_SIZES, default="small", help="home size (default small)")
    simulate.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    simulate.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    simulate.add_argument("--port", type=int, default=8123, help="port (default 8123; 0 picks a free one)")
    simulate.set_defaults(run=run)
