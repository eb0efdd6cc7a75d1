"""The `ha-agent` command line: one entry point for every service and tool of the distribution.

Each command is a module of this package (`add(commands)` declares its arguments, its `run`
does the work, imported only when the command runs), so `ha-agent --help` loads nothing heavy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from data_api.platform.logs import configure_logging, settings_secrets
from data_api.platform.settings import Settings, SettingsError, load_settings

from . import bench, chat, demo, eval, install, query, serve, simulate

COMMANDS = (simulate, serve, chat, demo, bench, eval, query, install)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ha-agent",
        description="A Home Assistant mirror and AI-agent context service.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add(commands)
    return parser


def _loop_factory(args: argparse.Namespace) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for serving commands (uvicorn's own choice); the default loop for the rest."""
    if not getattr(args, "serving", False):
        return None
    from data_api.platform.http.server import loop_factory

    return loop_factory()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check = getattr(args, "check", None)
    if check is not None:
        check(parser, args)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"ha-agent: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings_secrets(settings))
    # A command is a coroutine run here, or (chat) a plain function running its own loop.
    run: Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, Any] | int] = args.run
    try:
        result = run(args, settings)
        if asyncio.iscoroutine(result):
            with asyncio.Runner(loop_factory=_loop_factory(args)) as runner:
                result = runner.run(result)
    except SettingsError as exc:
        print(f"ha-agent: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output left (`ha-agent query … | head`): not an error. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return int(result or 0)
