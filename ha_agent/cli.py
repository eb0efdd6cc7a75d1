"""The `ha-agent` command line: one entry point for every service and tool of the distribution."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from data_api.logs import configure_logging, display_url, settings_secrets
from data_api.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from ha_agent.api.client import AgentClient

HOME_SIZES = ("small", "medium", "large")
ROLES = ("data-api", "agent")  # no role: both in one process
DEFAULT_PORTS = {"data-api": 8006, "agent": 8030}
# What a table shows of each kind the mirror lists (`--json` shows everything).
_COLUMNS = {
    "floors": ("floor_id", "name", "level", "aliases"),
    "areas": ("area_id", "name", "floor_id", "aliases"),
    "labels": ("label_id", "name", "description"),
    "devices": ("id", "name", "area_id", "manufacturer", "model"),
    "entities": ("entity_id", "name", "state", "area_id", "exposed"),
    "services": ("service_id", "name", "fields"),
    "helpers": ("entity_id", "name", "state", "area_id"),
    "scenes": ("entity_id", "name", "area_id"),
    "scripts": ("entity_id", "name", "fields"),
}
QUERY_KINDS = (*_COLUMNS, "config")
_CELL_WIDTH = 40


def _cmd_simulate(args: argparse.Namespace, settings: Settings) -> Coroutine[Any, Any, None]:
    from data_api.simulator.server import serve_forever

    return serve_forever(size=args.home, port=args.port, seed=args.seed, host=args.host)


async def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from data_api.store import StoreError

    port = args.port if args.port is not None else DEFAULT_PORTS[args.role or "agent"]
    try:
        if args.role == "data-api":
            from data_api.service import run_data_api

            await run_data_api(settings, args.host, port)
        else:
            from ha_agent.service import run_agent_service

            await run_agent_service(settings, args.host, port, remote=args.role == "agent")
    except StoreError as exc:
        print(f"ha-agent: {exc}", file=sys.stderr)
        return 1
    return 0


async def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """A simulated home, its mirror and the agent (the local intent engine, or the configured
    model): nothing to set up."""
    import tempfile

    from pydantic import SecretStr

    from data_api.simulator import SimulatedHA, generate_home
    from ha_agent.service import run_agent_service

    print(f"demo: generating the {args.home} home…", flush=True)
    home = generate_home(args.home)
    with tempfile.TemporaryDirectory(prefix="ha-agent-demo-") as scratch:
        database = args.database or f"sqlite+aiosqlite:///{scratch}/demo.db"
        async with SimulatedHA(home) as sim:
            print(f"demo: simulated Home Assistant at {sim.url} ({len(home.states)} entities)", flush=True)
            demo_settings = settings.model_copy(
                update={"ha_url": sim.url, "ha_token": SecretStr(sim.token), "database_url": database}
            )
            area = sorted(home.areas)[0]
            me = sys.argv[0] if sys.argv[0].endswith("ha-agent") else "ha-agent"

            def examples(url: str) -> None:
                print(
                    "\nTry:\n"
                    f"  {me} chat --url {url} \"turn on the lights in the {area.replace('_', ' ')}\"\n"
                    f"  {me} chat --url {url}          (a conversation; /new, /quit)\n"
                    f"  curl -s -X POST {url}/api/v1/chat -H 'content-type: application/json' "
                    "-d '{\"message\": \"which lights are on?\"}'\n"
                    f"  curl -s '{url}/api/v1/entities?area={area}&limit=5'\n"
                    f"  {me} query entities --area {area} --url {url}\n"
                    f"  every endpoint, to try in a browser: {url}/docs\n",
                    flush=True,
                )

            port = args.port if args.port is not None else DEFAULT_PORTS["agent"]
            await run_agent_service(demo_settings, args.host, port, ready=examples)
    return 0


def _homes(text: str) -> list[str]:
    homes = [h.strip() for h in text.split(",") if h.strip()]
    unknown = [h for h in homes if h not in HOME_SIZES]
    if unknown:
        raise SettingsError(f"unknown home size {', '.join(unknown)}; use {', '.join(HOME_SIZES)}")
    return homes


def _write_json(path: str | None, report: Any) -> None:
    if path:
        with open(path, "w") as out:
            json.dump(report, out, indent=2)


async def _cmd_bench_report(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from ha_agent.bench import report

    profile = report.QUICK if args.quick else report.FULL
    if args.report_homes:
        profile = replace(profile, homes=tuple(_homes(args.report_homes)))
    if args.report_latencies:
        profile = replace(profile, latencies_ms=_latencies(args.report_latencies))
    if args.real_ha and settings.ha_url and settings.ha_token:
        profile = replace(profile, real_ha=(settings.ha_url, settings.ha_token.get_secret_value()))
    result = await report.run(profile, report.progress)
    markdown = report.format_markdown(result)
    print(markdown)
    _write_json(args.report_json, result)
    if args.report_markdown:
        with open(args.report_markdown, "w") as out:
            out.write(markdown)
    return 0


def _latencies(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(v < 0 for v in values):
        raise SettingsError(f"--latencies-ms takes milliseconds ≥ 0, comma-separated (such as 0,5,50), not {text!r}")
    return values


async def _cmd_bench_mirror(args: argparse.Namespace, settings: Settings) -> int:
    from data_api import bench

    rows = await bench.run(_homes(args.homes), args.latency_ms / 1000, args.seconds, args.concurrency)
    print(bench.format_table(rows))
    _write_json(args.json, rows)
    return 0


async def _cmd_bench_agent(args: argparse.Namespace, settings: Settings) -> int:
    from ha_agent.bench import agent as bench

    report = await bench.run(_homes(args.homes), args.latency_ms / 1000, args.repeat)
    print(bench.format_tables(report["context"], report["history"], report["overhead"], report["tools"]))
    _write_json(args.json, report)
    return 0


async def _cmd_bench_intents(args: argparse.Namespace, settings: Settings) -> int:
    from ha_agent.bench import agent as bench

    rows = []
    for size in _homes(args.homes):
        print(f"bench intents: {size} home…", file=sys.stderr, flush=True)
        rows.append(await bench.bench_intents(size, args.rounds))
    print(bench.format_intents(rows))
    _write_json(args.json, rows)
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
    _write_json(args.json, result)  # first: the figures are kept even if printing fails
    print(report(result))
    return 0 if result["ok"] else 1


async def _cmd_bench_load(args: argparse.Namespace, settings: Settings) -> int:
    from ha_agent.bench.load import format_load, run_load

    shape = f"{args.replicas} agent replicas + a mirror process" if args.replicas else "one process"
    print(f"bench load: {args.conversations} × {args.turns} turns, {shape}…", file=sys.stderr, flush=True)
    return await _fleet_bench(
        args, settings, "load", args.replicas,
        lambda database, home_id: run_load(database, args.conversations, args.turns, args.model_latency_ms / 1000,
                                           args.replicas, home=args.home, home_id=home_id),
        format_load,
    )  # fmt: skip


async def _cmd_bench_soak(args: argparse.Namespace, settings: Settings) -> int:
    from ha_agent.bench.soak import format_soak, run_soak

    print(f"bench soak: {args.seconds:g} s of chats under faults…", file=sys.stderr, flush=True)
    return await _fleet_bench(
        args, settings, "soak", 2,
        lambda database, home_id: run_soak(database, args.seconds, workers=args.workers, home_id=home_id),
        format_soak,
    )  # fmt: skip


async def _cmd_query(args: argparse.Namespace, settings: Settings) -> int:
    from data_api.api.client import DEFAULT_URL, DataApiClient, DataApiError

    if args.entity_id and args.kind != "entities":
        print(f"ha-agent: an id is looked up among entities only, not {args.kind}", file=sys.stderr)
        return 1
    url = args.url or settings.data_api_url or DEFAULT_URL
    api_key = settings.api_keys[0].get_secret_value() if settings.api_keys else None
    filters = {
        "area": args.area,
        "floor": args.floor,
        "domain": args.domain,
        "device_id": args.device_id,
        "label": args.label,
        "exposed": args.exposed,
        "q": args.q,
    }
    try:
        async with DataApiClient(url, api_key) as client:
            if args.entity_id:
                body = await client.entity(args.entity_id)
            elif args.kind == "config":
                body = await client.config()
            elif args.all:
                pages = [page async for page in client.pages(args.kind, **filters, limit=args.limit or 1000)]
                items = [item for page in pages for item in page["items"]]
                body = {**pages[-1], "items": items, "next_cursor": None}
            else:
                body = await client.list(args.kind, **filters, limit=args.limit)
    except DataApiError as exc:
        print(f"ha-agent: {exc}", file=sys.stderr)
        return 1
    if "item" in body:
        _print_item(body, args.json)
    else:
        _print_page(args.kind, body, args.json)
    return 0


# --- chat ------------------------------------------------------------------------------------
def _cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Not a coroutine: the prompt reads the terminal between turns, outside any event loop, so
    Ctrl+C there is a plain KeyboardInterrupt (and during a turn, it stops waiting for it)."""
    from ha_agent.api.client import AgentClient

    api_key = settings.api_keys[0].get_secret_value() if settings.api_keys else None
    with asyncio.Runner() as runner:
        client = AgentClient(args.url or settings.agent_url, api_key)
        try:
            if args.message is not None:
                return 0 if runner.run(_chat_turn(client, args.message, args.conversation, args.stream))[1] else 1
            return _chat_prompt(runner, client, args.conversation, args.stream)
        finally:
            runner.run(client.close())


def _chat_prompt(runner: asyncio.Runner, client: AgentClient, conversation_id: str | None, stream: bool) -> int:
    print(f"Chatting with the agent at {display_url(client.url)}: /new starts a new conversation, /quit leaves.", file=sys.stderr)
    prompt = "you> " if sys.stdin.isatty() else ""  # piped input: only the replies on stdout
    while True:
        try:
            line = input(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        if line in ("/quit", "/exit"):
            return 0
        if line == "/new":
            conversation_id = None
            print("(a new conversation starts with your next message)", file=sys.stderr)
            continue
        if not line:
            continue
        try:
            conversation_id, _ = runner.run(_chat_turn(client, line, conversation_id, stream))
        except KeyboardInterrupt:  # the agent finishes the turn; the conversation will have it
            print("\n(interrupted)", file=sys.stderr)


async def _chat_turn(client: AgentClient, message: str, conversation_id: str | None, stream: bool) -> tuple[str | None, bool]:
    """Send one message and print what comes back; (the conversation id, whether it answered)."""
    from ha_agent.api.client import AgentError

    try:
        if stream:
            result = await _streamed_turn(client, message, conversation_id)
        else:
            result = await client.chat(message, conversation_id)
            for call in result["tool_calls"]:
                _print_tool_call(call)
            print(result["reply"], flush=True)
    except AgentError as exc:
        print(f"ha-agent: {exc}", file=sys.stderr)
        return exc.conversation_id or conversation_id, False
    usage, timings = result["usage"], result["timings"]
    print(
        f"(conversation {result['conversation_id']}; {usage['prompt_tokens']}+{usage['completion_tokens']} tokens, "
        f"{timings['total_ms'] / 1000:.1f} s)",
        file=sys.stderr,
    )
    return result["conversation_id"], True


async def _streamed_turn(client: AgentClient, message: str, conversation_id: str | None) -> dict[str, Any]:
    """Text as it arrives; each tool call on its own line; the reply if no text was streamed."""
    shown = ""  # text printed since the last tool call
    try:
        async for event, data in client.stream(message, conversation_id):
            if event == "text":
                shown += data["delta"]
                print(data["delta"], end="", flush=True)
            elif event == "tool_call":
                if shown:
                    print(flush=True)
                shown = ""
                _print_tool_call(data)
            elif event == "done":
                if not shown and data["reply"]:  # e.g. a confirmation, answered without the model
                    print(data["reply"], end="")
                print(flush=True)
                return data
    finally:
        if shown and sys.exc_info()[0] is not None:  # the error goes on a line of its own
            print(flush=True)
    raise AssertionError("unreachable: the client raises when the stream ends without `done`")


def _print_tool_call(call: dict[str, Any]) -> None:
    arguments = json.dumps(call.get("arguments"), ensure_ascii=False, separators=(",", ":"))
    outcome = f"error: {call['error']}" if call.get("error") else json.dumps(call.get("result"), ensure_ascii=False)
    if len(outcome) > 200:  # a search result can be long; the audit has it whole
        outcome = outcome[:199] + "…"
    print(f"  [{call['name']}] {arguments} -> {outcome} ({call.get('duration_ms', 0):.0f} ms)", file=sys.stderr, flush=True)


def _cell(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, dict):
        text = ", ".join(f"{k}={v}" for k, v in value.items())
    elif isinstance(value, list):
        text = ", ".join(str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in value)
    else:
        text = str(value)
    text = " ".join(text.split())  # one line per row, whatever the value holds
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


def _freshness_note(body: dict[str, Any]) -> str:
    if body.get("stale"):
        return f"; stale: the mirror may lag behind Home Assistant (last synced {body.get('fetched_at') or 'never'})"
    return ""


def _print_page(kind: str, body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return
    key, *columns = _COLUMNS[kind]
    items = body["items"]
    if items:  # the id column is never shortened: people copy ids from it
        rows = [[str(item[key]), *(_cell(item.get(c)) for c in columns)] for item in items]
        print(_table((key, *columns), rows))
    more = " (--all for every page)" if body.get("next_cursor") else ""
    print(f"{len(items)} of {body['total']} {kind}{more}{_freshness_note(body)}", file=sys.stderr)


def _print_item(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return
    item = body["item"]
    print(_table(("field", "value"), [[name, _cell(value)] for name, value in item.items()]))
    if body.get("stale"):
        print(_freshness_note(body).removeprefix("; "), file=sys.stderr)


def _cmd_install_integration(args: argparse.Namespace, settings: Settings) -> int:
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


def _at_least(low: float, kind: type = int) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` no smaller than `low` (a clear usage error, not a
    fleet started to do nothing)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected a {'whole ' if kind is int else ''}number ≥ {low:g}, not {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ha-agent",
        description="A Home Assistant mirror and AI-agent context service.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    simulate = commands.add_parser(
        "simulate", help="run a simulated Home Assistant (prints its URL and a token)"
    )
    simulate.add_argument("--home", choices=HOME_SIZES, default="small", help="home size (default small)")
    simulate.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    simulate.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    simulate.add_argument("--port", type=int, default=8123, help="port (default 8123; 0 picks a free one)")
    simulate.set_defaults(run=_cmd_simulate)

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
    serve.set_defaults(run=_cmd_serve, serving=True)

    chat = commands.add_parser(
        "chat",
        help="talk to a running agent (AGENT_URL): one MESSAGE, or a conversation at a prompt",
        description=(
            "Send MESSAGE and print the reply, or without MESSAGE chat at a prompt: /new starts a new "
            "conversation, /quit (or Ctrl+D) leaves. Each tool call the agent makes is shown on stderr."
        ),
    )
    chat.add_argument("message", nargs="?", metavar="MESSAGE", help="one message to send (default: a prompt)")
    chat.add_argument("--url", help=f"agent URL (default AGENT_URL, else {Settings.model_fields['agent_url'].default})")
    chat.add_argument("--conversation", metavar="ID", help="go on with this conversation")
    chat.add_argument(
        "--stream", action=argparse.BooleanOptionalAction, default=True, help="show the reply as it is written (default)"
    )
    chat.set_defaults(run=_cmd_chat)

    demo = commands.add_parser(
        "demo", help="try it with nothing configured: a simulated home, its mirror and the agent"
    )
    demo.add_argument("--home", choices=HOME_SIZES, default="small", help="home size (default small)")
    demo.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=None, help="port (default 8030; 0 picks a free one)")
    demo.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    demo.set_defaults(run=_cmd_demo, serving=True)

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
    bench.add_argument("--real-ha", action=argparse.BooleanOptionalAction, default=True,
                       help="also measure the context against HA_URL/HA_TOKEN when set (default yes)")  # fmt: skip
    bench.add_argument("--json", dest="report_json", metavar="PATH", help="write the report as JSON")
    bench.add_argument("--markdown", dest="report_markdown", metavar="PATH", help="write the report as Markdown")
    bench.set_defaults(run=_cmd_bench_report)
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
    load.add_argument("--replicas", type=_at_least(0), default=2, help="agent processes beside a mirror process (0: one process)")
    load.add_argument("--conversations", type=_at_least(1), default=100, help="concurrent conversations (default 100)")
    load.add_argument("--turns", type=_at_least(1), default=10, help="turns per conversation (default 10)")
    load.add_argument("--model-latency-ms", type=float, default=300.0, help="model server latency (default 300)")
    load.add_argument("--home", choices=HOME_SIZES, default="small", help="simulated home size (default small)")
    load.set_defaults(run=_cmd_bench_load)
    soak = bench_kinds.add_parser("soak", help="chats while HA restarts, the model fails and a replica is killed")
    soak.add_argument("--seconds", type=_at_least(1, float), default=90.0, help="duration of the chats (default 90)")
    soak.add_argument("--workers", type=_at_least(1), default=12, help="concurrent conversations (default 12)")
    soak.set_defaults(run=_cmd_bench_soak)
    for one in (load, soak):
        one.add_argument(
            "--database-url",
            help="default: TEST_DATABASE_URL (never DATABASE_URL: the bench writes to it); "
            "load --replicas 0: a temporary SQLite",
        )
        one.add_argument("--json", metavar="PATH", help="also write the figures as JSON")

    query = commands.add_parser(
        "query",
        help="read the mirror of a running data-api (DATA_API_URL)",
        description="Read the mirror from a running data-api and print a table (or --json).",
    )
    query.add_argument("kind", choices=QUERY_KINDS, metavar="KIND", help=f"one of: {', '.join(QUERY_KINDS)}")
    query.add_argument("entity_id", nargs="?", metavar="ENTITY_ID", help="with KIND entities: show this one entity")
    query.add_argument("--area", help="area id, name or alias")
    query.add_argument("--floor", help="floor id, name or alias")
    query.add_argument("--domain", help="domain, such as light")
    query.add_argument("--device-id", help="device id")
    query.add_argument("--label", help="label id or name")
    query.add_argument("--exposed", action=argparse.BooleanOptionalAction, default=None, help="exposed to Assist, or not")
    query.add_argument("-q", "--q", dest="q", metavar="TEXT", help="text in ids, names or aliases (any case)")
    query.add_argument("--limit", type=int, default=None, help="items per page (server default 100, at most 1000)")
    query.add_argument("--all", action="store_true", help="follow every page")
    query.add_argument("--json", action="store_true", help="print the JSON bodies instead of a table")
    query.add_argument("--url", help="data-api URL (default DATA_API_URL, else http://127.0.0.1:8006)")
    query.set_defaults(run=_cmd_query)
    install_integration = commands.add_parser(
        "install-integration",
        help="copy the Home Assistant integration (Assist → this agent) into an HA config dir",
        description="Copy the ha_agent custom integration to CONFIG_DIR/custom_components/ha_agent/.",
    )
    install_integration.add_argument("config_dir", metavar="CONFIG_DIR", help="Home Assistant's config dir")
    install_integration.set_defaults(run=_cmd_install_integration)
    from ha_agent.eval.command import add_parser as add_eval_parser  # the harness owns its options

    add_eval_parser(commands)
    return parser


def _loop_factory(args: argparse.Namespace) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for serving commands (uvicorn's own choice); the default loop for the rest."""
    if not getattr(args, "serving", False):
        return None
    from data_api.api.server import loop_factory

    return loop_factory()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    report_options = ("quick", "report_homes", "report_latencies", "report_json", "report_markdown")
    if getattr(args, "bench", None) and any(getattr(args, name, None) for name in report_options):
        # `bench --json x load` would otherwise write nothing, silently.
        parser.error(f"--quick, --homes, --latencies-ms, --json and --markdown before {args.bench} are the report's: "
                     f"put them after it (ha-agent bench {args.bench} --help)")  # fmt: skip
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


if __name__ == "__main__":
    sys.exit(main())
