"""`ha-agent bench`: every benchmark in one report, or one part (mirror, agent, intents, load, soak)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from data_api.platform.settings import Settings, SettingsError, load_settings

from .common import HOME_SIZES, at_least, homes, latencies, write_json

REPORT_OPTIONS = ("quick", "report_homes", "report_latencies", "report_json", "report_markdown")


async def _cmd_bench_report(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from ha_agent.bench import report

    profile = report.QUICK if args.quick else report.FULL
    if args.report_homes:
        profile = replace(profile, homes=tuple(homes(args.report_homes)))
    if args.report_latencies:
        profile = replace(profile, latencies_ms=latencies(args.report_latencies))
    if args.real_ha and settings.ha_url and settings.ha_token:
        profile = replace(profile, real_ha=(settings.ha_url, settings.ha_token.get_secret_value()))
    result = await report.run(profile, report.progress)
    markdown = report.format_markdown(result)
    print(markdown)
    write_json(args.report_json, result)
    if args.report_markdown:
        with open(args.report_markdown, "w") as out:
            out.write(markdown)
    return 0


async def _cmd_bench_mirror(args: argparse.Namespace, settings: Settings) -> int:
    from data_api.bench import mirror as bench

    rows = await bench.run(homes(args.homes), args.latency_ms / 1000, args.seconds, args.concurrency)
    print(bench.format_table(rows))
    write_json(args.json, rows)
    return 0


async def _cmd_bench_agent(args: argparse.Namespace, settings: Settings) -> int:
    from ha_agent.bench import agent as bench

    report = await bench.run(homes(args.homes), args.latency_ms / 1000, args.repeat)
    print(bench.format_tables(report["context"], report["history"], report["overhead"], report["tools"]))
    write_json(args.json, report)
    return 0


async def _cmd_bench_intents(args: argparse.Namespace, settings: Settings) -> int:
    from ha_agent.bench import agent as bench

    rows = []
    for size in homes(args.homes):
        print(f"bench intents: {size} home…", file=sys.stderr, flush=True)
        rows.append(await bench.bench_intents(size, args.rounds))
    print(bench.format_intents(rows))
    write_json(args.json, rows)
    return 0


def _fleet_database(args: argparse.Namespace, settings: Settings, replicas: int, scratch: str) -> str:
    """--database-url, else for replicas TEST_DATABASE_URL (processes share it), else for one
    process a fresh SQLite file. Never DATABASE_URL: it may be production, and a bench writes
    (and then deletes) thousands of rows."""
    url = args.database_url
    if url is None and replicas:
        url = os.environ.get("TEST_DATABASE_URL")
        if url is None:
            single = ", or --replicas 0 for one process on a temporary SQLite" if "replicas" in args else ""
            raise SettingsError(
                "replicas share a database that the bench writes to: give --database-url or TEST_DATABASE_URL "
                "(a PostgreSQL for tests, such as postgresql+asyncpg://postgres@127.0.0.1:5432/test; "
                f"DATABASE_URL is not used){single}"
            )
    if url is None:
        return f"sqlite+aiosqlite:///{scratch}/load.db"
    return load_settings(database_url=url).database_url  # the same URL forms as DATABASE_URL


async def _fleet_bench(
    args: argparse.Namespace,
    settings: Settings,
    what: str,
    replicas: int,
    run: Callable[[str, str], Coroutine[Any, Any, dict[str, Any]]],
    report: Callable[[dict[str, Any]], str],
) -> int:
    """`bench load` and `bench soak`: a database, a home id of the run's own, then its rows gone."""
    import tempfile
    import uuid

    from ha_agent.bench.fleet import forget_home

    with tempfile.TemporaryDirectory(prefix=f"ha-agent-{what}-") as scratch:
        database = _fleet_database(args, settings, replicas, scratch)
        home_id = f"bench-{what}-{uuid.uuid4().hex[:12]}"  # chosen here: cleaned up even if the run raises
        try:
            result = await run(database, home_id)
        finally:
            await forget_home(database, home_id)  # proven already (or failed); leave nothing behind
    write_json(args.json, result)  # first: the figures are kept even if printing fails
    print(report(result))
    return 0 if result["ok"] else 1


async def _cmd_bench_load(args: argparse.Namespace, settings: Settings) -> int:
    from ha_agent.bench.load import format_load, run_load

    shape = f"{args.replicas} agent replicas + a mirror process" if args.replicas else "one process"
    print(f"bench load: {args.conversations} × {args.turns} turns, {shape}…", file=sys.stderr, flush=True)
    return await _fleet_bench(
        args,
        settings,
        "load",
        args.replicas,
        lambda database, home_id: run_load(
            database,
            args.conversations,
            args.turns,
            args.model_latency_ms / 1000,
            args.replicas,
            home=args.home,
            home_id=home_id,
        ),
        format_load,
    )


async def _cmd_bench_soak(args: argparse.Namespace, settings: Settings) -> int:
    from ha_agent.bench.soak import format_soak, run_soak

    print(f"bench soak: {args.seconds:g} s of chats under faults…", file=sys.stderr, flush=True)
    return await _fleet_bench(
        args,
        settings,
        "soak",
        2,
        lambda database, home_id: run_soak(database, args.seconds, workers=args.workers, home_id=home_id),
        format_soak,
    )


def add(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="measure everything against same-run baselines: one report (or one part: WHAT)",
        description="Without WHAT: every benchmark over home sizes and HA latencies, one report (Markdown on "
        "stdout, --markdown/--json files); the real Home Assistant of HA_URL/HA_TOKEN is measured too "
        "when it answers (read only).",
    )
    bench.add_argument("--quick", action="store_true", help="the small home, short samples: under a minute")
    bench.add_argument("--homes", dest="report_homes", help="comma-separated sizes (default small,medium,large)")
    bench.add_argument(
        "--latencies-ms", dest="report_latencies", help="simulated HA latencies per command (default 0,5,50)"
    )
    bench.add_argument(
        "--real-ha",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the context against HA_URL/HA_TOKEN when set (default yes)",
    )
    bench.add_argument("--json", dest="report_json", metavar="PATH", help="write the report as JSON")
    bench.add_argument("--markdown", dest="report_markdown", metavar="PATH", help="write the report as Markdown")
    bench.set_defaults(run=_cmd_bench_report, check=_report_options_first)
    bench_kinds = bench.add_subparsers(dest="bench", metavar="WHAT")
    mirror = bench_kinds.add_parser("mirror", help="initial sync, event lag, reads/s and RSS per home size")
    agent = bench_kinds.add_parser(
        "agent", help="context build warm/cold/before, history assembly, turn overhead, parallel tool calls"
    )
    for one in (mirror, agent):
        one.add_argument("--homes", default="small,medium,large", help="comma-separated sizes")
        one.add_argument("--latency-ms", type=float, default=50.0, help="simulated HA latency per command (default 50)")
        one.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    mirror.add_argument("--seconds", type=float, default=5.0, help="load duration per home (default 5)")
    mirror.add_argument("--concurrency", type=int, default=32, help="concurrent connections (default 32)")
    mirror.set_defaults(run=_cmd_bench_mirror)
    agent.add_argument("--repeat", type=int, default=10, help="samples per figure (default 10)")
    agent.set_defaults(run=_cmd_bench_agent)
    intents = bench_kinds.add_parser("intents", help="local intent engine latency per sentence, and its share")
    intents.add_argument("--homes", default="medium,large", help="comma-separated sizes")
    intents.add_argument("--rounds", type=int, default=20, help="rounds over the sentence set (default 20)")
    intents.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    intents.set_defaults(run=_cmd_bench_intents)
    load = bench_kinds.add_parser(
        "load", help="concurrent conversations across agent replicas on one database, proven from the database"
    )
    load.add_argument(
        "--replicas", type=at_least(0), default=2, help="agent processes beside a mirror process (0: one process)"
    )
    load.add_argument("--conversations", type=at_least(1), default=100, help="concurrent conversations (default 100)")
    load.add_argument("--turns", type=at_least(1), default=10, help="turns per conversation (default 10)")
    load.add_argument("--model-latency-ms", type=float, default=300.0, help="model server latency (default 300)")
    load.add_argument("--home", choices=HOME_SIZES, default="small", help="simulated home size (default small)")
    load.set_defaults(run=_cmd_bench_load)
    soak = bench_kinds.add_parser("soak", help="chats while HA restarts, the model fails and a replica is killed")
    soak.add_argument("--seconds", type=at_least(1, float), default=90.0, help="duration of the chats (default 90)")
    soak.add_argument("--workers", type=at_least(1), default=12, help="concurrent conversations (default 12)")
    soak.set_defaults(run=_cmd_bench_soak)
    for one in (load, soak):
        one.add_argument(
            "--database-url",
            help="default: TEST_DATABASE_URL (never DATABASE_URL: the bench writes to it); "
            "load --replicas 0: a temporary SQLite",
        )
        one.add_argument("--json", metavar="PATH", help="also write the figures as JSON")


def _report_options_first(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """`bench --json x load` would otherwise write nothing, silently."""
    if getattr(args, "bench", None) and any(getattr(args, name, None) for name in REPORT_OPTIONS):
        parser.error(
            f"--quick, --homes, --latencies-ms, --json and --markdown before {args.bench} are the report's: "
            f"put them after it (ha-agent bench {args.bench} --help)"
        )
