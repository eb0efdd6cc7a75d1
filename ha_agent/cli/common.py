"""What several commands share: home sizes, default ports, argument types, writing JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from data_api.platform.settings import SettingsError

HOME_SIZES = ("small", "medium", "large")
ROLES = ("data-api", "agent")  # no role: both in one process
DEFAULT_PORTS = {"data-api": 8006, "agent": 8030}


def homes(text: str) -> list[str]:
    homes = [h.strip() for h in text.split(",") if h.strip()]
    unknown = [h for h in homes if h not in HOME_SIZES]
    if unknown:
        raise SettingsError(f"unknown home size {', '.join(unknown)}; use {', '.join(HOME_SIZES)}")
    return homes


def write_json(path: str | None, report: Any) -> None:
    if path:
        with open(path, "w") as out:
            json.dump(report, out, indent=2)


def latencies(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(v < 0 for v in values):
        raise SettingsError(f"--latencies-ms takes milliseconds ≥ 0, comma-separated (such as 0,5,50), not {text!r}")
    return values


def at_least(low: float, kind: type = int) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` no smaller than `low` (a clear usage error, not a
    fleet started to do nothing)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(
                f"expected a {'whole ' if kind is int else ''}number ≥ {low:g}, not {text!r}"
            )
        return value

    return parse
