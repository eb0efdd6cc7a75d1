"""The eval's headline figures for `ha-agent bench`: the local path on the shipped set, so one
report holds speed, tokens and understanding."""

from __future__ import annotations

from typing import Any

from data_api.platform.settings import Settings, load_settings

from .loader import load_set
from .report import build
from .runner import EvalOptions, run_set


async def headline(limit: int | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Pass rates (all, template-like, hard), false claims of success, confirmations, p50 and
    the run's seconds; `limit`: at most that many cases per home (a quick run)."""
    eval_set = load_set().select(limit=limit)
    options = EvalOptions(paths=("local",))
    run = await run_set(eval_set, settings or load_settings(), options)
    local = build(eval_set, options, run)["paths"]["local"]
    difficulty = local["by_difficulty"]
    return {
        "cases": local["cases"],
        "pass_rate": local["pass_rate"],
        "template_pass_rate": difficulty.get("template", {}).get("pass_rate"),
        "hard_pass_rate": difficulty.get("hard", {}).get("pass_rate"),
        "false_successes": local["false_successes"],
        "confirmations": local["confirmations"],
        "latency_p50_ms": local["latency_ms"]["p50"],
        "seconds": round(run.seconds, 1),
    }
