"""`ha-agent bench`: every benchmark, one report — our figure, the baseline measured in the same
run, and their `ratio`, side by side (JSON for machines, Markdown for people).

Profiles: home sizes (small / medium / large) × simulated HA latency per command (0, 5, 50 ms),
plus the real Home Assistant configured in HA_URL/HA_TOKEN when it answers (context only: it is
read, never changed). Baselines:
- the mirror: answering `/entities?area=` by asking HA for registries and states each time;
- context: the seed's path, asking HA for every kind one command after another every turn;
- tokens: Home Assistant's own Assist context (exposed-entity YAML + live-context YAML) rendered
  from the same home, against ours with every exposed entity listed;
- history: recounting every message's tokens each turn;
- tools: the same calls one after another.
Figures without a baseline in the same run (sync time, event lag, memory, turn overhead, local
intents) are reported beside, with their targets.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from . import agent as agent_bench

_LATENCIES_MS = (0.0, 5.0, 50.0)


@dataclass(frozen=True)
class Profile:
    """What one run covers, and how long it may sample."""

    name: str
    homes: tuple[str, ...]
    latencies_ms: tuple[float, ...] = _LATENCIES_MS
    mirror_seconds: float = 5.0  # read load per home and latency
    repeat: int = 10  # samples per context / tools figure
    intents_rounds: int = 20
    overhead_turns: int = 60
    eval_limit: int | None = None  # cases per home of the shipped eval set (None: all of them)
    real_ha: tuple[str, str] | None = field(default=None, repr=False)  # (url, token)


FULL = Profile("full", ("small", "medium", "large"))
# Under a minute on a 2-core machine: the small home, every latency, short samples.
QUICK = Profile("quick", ("small",), mirror_seconds=1.0, repeat=3, intents_rounds=3, overhead_turns=20, eval_limit=4)


def _compared(
    group: str, metric: str, unit: str, ours: float, baseline: float, baseline_is: str, better: str, **where: Any
) -> dict[str, Any]:
    """One metric with its same-run baseline; `ratio` > 1 always means ours is better."""
    ratio = baseline / ours if better == "lower" else ours / baseline
    return {
        "group": group,
        "metric": metric,
        **where,
        "unit": unit,
        "ours": ours,
        "baseline": baseline,
        "baseline_is": baseline_is,
        "ratio": round(ratio, 2),
    }


def _figure(group: str, metric: str, unit: str, value: float, target: str = "", **where: Any) -> dict[str, Any]:
    return {"group": group, "metric": metric, **where, "unit": unit, "value": value, "target": target}


async def run(profile: Profile, say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    from data_api.bench import mirror as mirror_bench

    started = time.perf_counter()
    compared: list[dict[str, Any]] = []
    figures: list[dict[str, Any]] = []
    details: dict[str, Any] = {"mirror": [], "context": [], "tools": [], "intents": []}
    tokens_done: set[str] = set()

    for latency_ms in profile.latencies_ms:
        latency = latency_ms / 1000
        for home in profile.homes:
            where = {"home": home, "ha_latency_ms": latency_ms}
            say(f"mirror, {home} home, {latency_ms:g} ms per HA command")
            m = await mirror_bench.bench_home(home, latency, profile.mirror_seconds, 32)
            details["mirror"].append(m)
            compared.append(
                _compared(
                    "mirror",
                    "reads of /entities?area=",
                    "req/s",
                    m["reads_per_second"],
                    m["before_reads_per_second"],
                    "asking HA each time",
                    "higher",
                    **where,
                )
            )
            figures += [
                _figure("mirror", "initial sync", "s", m["sync_seconds"], "≤ 2 s at 5,000 entities", **where),
                _figure("mirror", "event → mirror p99", "ms", m["event_lag_p99_ms"], "≤ 50 ms", **where),
                _figure("mirror", "read p99 under load", "ms", m["read_p99_ms"], "≤ 20 ms", **where),
                _figure("mirror", "RSS after load", "MB", m["rss_mb_after_load"], "≤ 150 MB", **where),
            ]

            say(f"context, {home} home, {latency_ms:g} ms per HA command")
            c = await agent_bench.bench_context(home, latency, profile.repeat)
            details["context"].append(c)
            compared += _context_metrics(c, "asking HA every turn", **where)
            if home not in tokens_done:  # tokens do not depend on HA's latency
                tokens_done.add(home)
                compared += _token_metrics(c, home=home)

        say(f"tools, {latency_ms:g} ms per HA action")
        t = await agent_bench.bench_tools(latency, profile.repeat)
        details["tools"].append(t)
        for n in (3, 10):
            calls = t[f"calls_{n}"]
            compared.append(
                _compared(
                    "tools",
                    f"{n} independent calls, one turn",
                    "ms",
                    calls["parallel_ms"],
                    calls["sequential_ms"],
                    "one after another",
                    "lower",
                    home="small",
                    ha_latency_ms=latency_ms,
                )
            )

    say("history window over 500 messages")
    w = agent_bench.bench_window(repeat=max(5, profile.repeat * 5))
    h = await agent_bench.bench_history(repeat=max(5, profile.repeat * 5))
    details["history"] = {"window": w, "from_database": h}
    compared.append(
        _compared(
            "history",
            "choosing a 500-message conversation's window",
            "ms",
            w["stored_counts_p50_ms"],
            w["recount_p50_ms"],
            "recounting every message",
            "lower",
        )
    )
    compared.append(
        _compared(
            "history",
            "a turn's window of a 500-message conversation, from the database",
            "ms",
            h["stored_counts_p50_ms"],
            h["recount_p50_ms"],
            "reading it all and recounting every message",
            "lower",
        )
    )

    say("agent overhead per turn (model at zero latency)")
    o = await agent_bench.bench_overhead(profile.overhead_turns)
    details["overhead"] = o
    figures.append(
        _figure(
            "agent", "overhead per turn without the model, p50", "ms", o["overhead_p50_ms"], "≤ 10 ms", home=o["home"]
        )
    )
    if details["tools"]:
        figures.append(
            _figure(
                "tools",
                "tool schemas",
                "tokens",
                details["tools"][-1]["schema_tokens"],
                "≤ 1,100 (HA's Assist tools: 1,847)",
            )
        )

    for home in profile.homes:
        say(f"local intents, {home} home")
        i = await agent_bench.bench_intents(home, profile.intents_rounds)
        details["intents"].append(i)
        figures.append(_figure("intents", "local sentence p50", "ms", i["p50_ms"], "", home=home))
        figures.append(
            _figure(
                "intents", "answered locally", "sentences", i["answered_locally"], f"of {i['sentences']}", home=home
            )
        )

    say("understanding: the shipped eval set through the local engine")
    from ha_agent.eval import headline

    u = await headline(limit=profile.eval_limit)
    details["understanding"] = u
    where = {"home": f"eval set, {u['cases']} sentences"}
    figures += [
        _figure("understanding", "pass rate, template-like sentences", "%", u["template_pass_rate"], "≥ 90 %", **where),
        _figure("understanding", "pass rate, hard sentences", "%", u["hard_pass_rate"], "≥ 70 %", **where),
        _figure("understanding", "false claims of success", "cases", u["false_successes"], "0", **where),
    ]

    if profile.real_ha is not None:
        say("context against the real Home Assistant")
        real = await _real_ha(profile.real_ha, profile.repeat)
        details["real_ha"] = real
        if "error" not in real:
            where = {"home": "real HA", "ha_latency_ms": None}
            compared += _context_metrics(real, "asking the real HA every turn", **where)
            compared += _token_metrics(real, home="real HA")

    return {
        "report": "ha-agent bench",
        "profile": profile.name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "homes": list(profile.homes),
        "ha_latencies_ms": list(profile.latencies_ms),
        "real_ha": "measured"
        if "real_ha" in details and "error" not in details["real_ha"]
        else (details.get("real_ha", {}).get("error") or "not configured (HA_URL, HA_TOKEN)"),
        "seconds": round(time.perf_counter() - started, 1),
        "compared": compared,
        "figures": figures,
        "details": details,
    }


def _context_metrics(c: dict[str, Any], baseline_is: str, **where: Any) -> list[dict[str, Any]]:
    return [
        _compared(
            "context", "build, warm p50", "ms", c["warm_p50_ms"], c["before_p50_ms"], baseline_is, "lower", **where
        ),
        _compared(
            "context",
            "build, cold (from the database) p50",
            "ms",
            c["cold_p50_ms"],
            c["before_p50_ms"],
            baseline_is,
            "lower",
            **where,
        ),
    ]


def _token_metrics(c: dict[str, Any], **where: Any) -> list[dict[str, Any]]:
    assist = c["assist_prompt_tokens"] + c["assist_live_context_tokens"]
    exposed = max(1, c["exposed_entities"])
    # Ours lists every exposed entity here ("full"), as HA's does; the report says if it did not.
    mode = {"context_mode": c["full_context_mode"]}
    return [
        _compared(
            "tokens",
            "context, every exposed entity with its state",
            "tokens",
            c["full_context_tokens"],
            assist,
            "HA's Assist prompt + live context",
            "lower",
            **where,
        )
        | mode,
        _compared(
            "tokens",
            "per exposed entity",
            "tokens",
            round(c["full_context_tokens"] / exposed, 1),
            round(assist / exposed, 1),
            "HA's Assist prompt + live context",
            "lower",
            **where,
        )
        | mode,
    ]


async def _real_ha(target: tuple[str, str], repeat: int) -> dict[str, Any]:
    """The context figures against a real Home Assistant; whatever fails is said in the report
    (after minutes of other figures, one unreachable HA must not lose them)."""
    from data_api import HAClient

    url, token = target
    shown = _without_userinfo(url)
    try:
        probe = HAClient(url, token)  # the mirror would retry forever: ask once first
        try:
            await probe.connect()
        finally:
            await probe.close()
        row = await agent_bench.measure_context(url, token, repeat)
    except Exception as exc:
        reason = re.sub(r"//[^/@\s]+@", "//", str(exc).replace(token, "***") if token else str(exc))
        return {"error": f"real Home Assistant at {shown} not measured: {reason}"}
    return {"home": "real HA", **row}


def _without_userinfo(url: str) -> str:
    """`http://user:password@host:8123` → `http://host:8123`: the report may be shared."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    return urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")))


# --- Markdown -----------------------------------------------------------------------------------
def _number(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _latency(row: dict[str, Any]) -> str:
    value = row.get("ha_latency_ms")
    return "" if value is None else f"{value:g} ms"


_GROUPS = ("mirror", "context", "tokens", "tools", "history")
_HOMES = ("small", "medium", "large", "real HA")


def _in_reading_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Like with like: a metric's rows together (metrics in the order measured), by home, then
    by HA latency."""
    metrics = list(dict.fromkeys(r["metric"] for r in rows))

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        home = row.get("home")
        return (
            _GROUPS.index(row["group"]),
            metrics.index(row["metric"]),
            _HOMES.index(home) if home in _HOMES else -1,
            row.get("ha_latency_ms") or 0,
        )

    return sorted(rows, key=key)


def format_markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"ha-agent bench ({report['profile']}), {report['created_at']}, {machine['cpus']} CPUs, "
        f"Python {machine['python']}; {report['seconds']:.0f} s. Real Home Assistant: {report['real_ha']}.",
        "",
        "| what | metric | home | HA latency | ours | baseline (same run) | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in _in_reading_order(report["compared"]):
        partial = " (ours: only what the message is about)" if r.get("context_mode", "full") != "full" else ""
        lines.append(
            f"| {r['group']} | {r['metric']}{partial} | {r.get('home', '')} | {_latency(r)} | {_number(r['ours'])} {r['unit']} | "
            f"{_number(r['baseline'])} {r['unit']} ({r['baseline_is']}) | {r['ratio']:,.1f}× |"
        )
    # The mirror's figures, one row per profile; then the rest, one per line.
    mirror = [r for r in report["figures"] if r["group"] == "mirror"]
    columns = list(dict.fromkeys(r["metric"] for r in mirror))
    targets = {r["metric"]: r["target"] for r in mirror}
    lines += [
        "",
        "| mirror: home | HA latency | " + " | ".join(f"{c} ({targets[c]})" for c in columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for where in dict.fromkeys((r.get("home"), r.get("ha_latency_ms")) for r in mirror):
        cells = {
            r["metric"]: f"{_number(r['value'])} {r['unit']}"
            for r in mirror
            if (r.get("home"), r.get("ha_latency_ms")) == where
        }
        lines.append(
            f"| {where[0]} | {_latency({'ha_latency_ms': where[1]})} | "
            + " | ".join(cells.get(c, "") for c in columns)
            + " |"
        )
    lines += ["", "| what | figure | home | value | target |", "|---|---|---|---|---|"]
    for r in report["figures"]:
        if r["group"] != "mirror":
            lines.append(
                f"| {r['group']} | {r['metric']} | {r.get('home', '')} | {_number(r['value'])} {r['unit']} | {r['target']} |"
            )
    return "\n".join(lines) + "\n"


def progress(what: str) -> None:
    print(f"bench: {what}…", file=sys.stderr, flush=True)
