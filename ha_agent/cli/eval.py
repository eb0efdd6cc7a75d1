"""`ha-agent eval`: how well the assistant understands people, on an evaluation set (the harness
in `ha_agent.eval` owns its options)."""

from __future__ import annotations

from typing import Any


def add(commands: Any) -> None:
    from ha_agent.eval.command import add_parser

    add_parser(commands)
