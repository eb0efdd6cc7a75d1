"""`ha-agent query`: read the mirror of a running data-api from the terminal (a table, or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from data_api.platform.settings import Settings

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


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from data_api import DEFAULT_URL, DataApiClient, DataApiError

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


def add(commands: Any) -> None:
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
    query.add_argument(
        "--exposed", action=argparse.BooleanOptionalAction, default=None, help="exposed to Assist, or not"
    )
    query.add_argument("-q", "--q", dest="q", metavar="TEXT", help="text in ids, names or aliases (any case)")
    query.add_argument("--limit", type=int, default=None, help="items per page (server default 100, at most 1000)")
    query.add_argument("--all", action="store_true", help="follow every page")
    query.add_argument("--json", action="store_true", help="print the JSON bodies instead of a table")
    query.add_argument("--url", help="data-api URL (default DATA_API_URL, else http://127.0.0.1:8006)")
    query.set_defaults(run=run)
