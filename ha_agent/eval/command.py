"""`ha-agent eval`: the command line of the harness (the parser's part and what it runs)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from .names import DIFFICULTIES, PATHS

if TYPE_CHECKING:
    from data_api.platform.settings import Settings

# A worker process costs 2-4 s to start (a fresh interpreter importing the stack), about what
# 100 local-engine cases take: a smaller run is quicker in this process. A model's turns mostly
# wait, so with a model every home may run at once, up to this many.
_CASES_PER_WORKER = 100
_MODEL_WORKERS = 4


def add_parser(commands: Any) -> None:
    """Add `eval` to the `ha-agent` subcommands."""
    parser = commands.add_parser(
        "eval",
        help="measure how well it understands: an evaluation set run through the real chat path",
        description=(
            "Run an evaluation set in the community's format (homes as _fixtures.yaml, tasks as YAML "
            "beside them) through the real chat path: each home in a simulated Home Assistant, mirrored, "
            "each sentence a fresh conversation, scored by the home's state diff or the reply. The report "
            "goes to stdout as Markdown (--json, --markdown: files); progress to stderr. Without PATH: "
            "the set shipped with ha-agent."
        ),
    )
    parser.add_argument("set_path", nargs="?", metavar="PATH",
                        help="a set's folder (homes in folders below it) or one home's folder; default the shipped set")  # fmt: skip
    parser.add_argument("--path", dest="eval_path", choices=(*PATHS, "both"), default=None,
                        help="local: the intent engine alone; model: the configured model (LLM_BASE_URL, LLM_MODEL, "
                             "LLM_API_KEY); both: each case through both (default: model when one is configured, "
                             "else local)")  # fmt: skip
    parser.add_argument(
        "--count", type=_positive, default=None, help="runs of each case (default: the set's card, else 1)"
    )
    parser.add_argument("--scale", type=_positive_or_zero, default=0,
                        help="distractor entities added to each home (default 0), e.g. 500 or 5000")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the distractors (default 0)")
    parser.add_argument("--home", action="append", default=[], metavar="NAME",
                        help="only this home (repeat, or comma-separate)")  # fmt: skip
    parser.add_argument("--category", action="append", default=[], metavar="NAME",
                        help="only this category (repeat, or comma-separate)")  # fmt: skip
    parser.add_argument("--difficulty", choices=DIFFICULTIES, default=None, help="only template-like or hard sentences")
    parser.add_argument("--limit", type=_positive, default=None, metavar="N",
                        help="at most N cases per home, spread over its categories (a quick subset)")  # fmt: skip
    parser.add_argument("--concurrency", type=_positive, default=None, metavar="N",
                        help="homes run at once, each in a worker process with its own simulator, mirror and "
                             "agent; 1 runs all in this process (default: one per CPU for the local engine, once "
                             f"the run has {_CASES_PER_WORKER} cases per worker; up to {_MODEL_WORKERS} with a "
                             "model). Latencies are cleanest when no more run than there are free cores")  # fmt: skip
    parser.add_argument("--json", dest="eval_json", metavar="OUT", help="write the report as JSON")
    parser.add_argument("--markdown", dest="eval_markdown", metavar="OUT", help="write the report as Markdown")
    parser.add_argument("--fail-under", type=float, default=None, metavar="PCT",
                        help="exit 1 if a path passes fewer than PCT %% of the cases, or claims a success falsely")  # fmt: skip
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="show a progress bar on stderr (default yes)")  # fmt: skip
    parser.set_defaults(run=run_command)


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    from .loader import EvalSetError, load_set
    from .progress import ProgressBar
    from .report import build, format_markdown
    from .runner import EvalOptions, planned, run_set

    try:
        eval_set = load_set(args.set_path).select(
            homes=_names(args.home), categories=_names(args.category),
            difficulties=[args.difficulty] if args.difficulty else [], limit=args.limit)  # fmt: skip
    except EvalSetError as exc:
        print(f"ha-agent eval: {exc}", file=sys.stderr)
        return 2
    if not eval_set.cases:
        print("ha-agent eval: no case is left to run with these filters", file=sys.stderr)
        return 2
    # Each home starts and stops a whole stack, which narrates it at INFO (syncs, servers): the
    # progress bar is this command's narration. Warnings, and LOG_LEVEL=DEBUG, still show.
    root = logging.getLogger()
    if root.level == logging.INFO:
        root.setLevel(logging.WARNING)
    paths = _paths(args.eval_path, settings)
    runs = len(eval_set.cases) * (args.count or eval_set.count) * len(paths)
    concurrency = args.concurrency or _auto_concurrency(runs, len(eval_set.homes), paths)
    options = EvalOptions(paths=paths, count=args.count, scale=args.scale, seed=args.seed, concurrency=concurrency)
    bar = ProgressBar(planned(eval_set, options)) if args.progress else None
    print(f"eval: {eval_set.name}, {len(eval_set.cases)} sentences in {len(eval_set.homes)} homes, "
          f"path {' + '.join(options.paths)}, scale {options.scale}", file=sys.stderr, flush=True)  # fmt: skip
    try:
        run = await run_set(eval_set, settings, options, (lambda r: bar.advance(r.passed)) if bar else lambda _: None)
    finally:
        if bar is not None:
            bar.close()
    report = build(eval_set, options, run)
    markdown = format_markdown(report)
    if args.eval_json:
        with open(args.eval_json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2, ensure_ascii=False, default=str)
    if args.eval_markdown:
        with open(args.eval_markdown, "w", encoding="utf-8") as out:
            out.write(markdown)
    print(markdown, end="")
    if args.fail_under is not None:
        for summary in report["paths"].values():
            if summary["pass_rate"] < args.fail_under or summary["false_successes"]:
                return 1
    return 0


def _paths(choice: str | None, settings: Settings) -> tuple[str, ...]:
    if choice is None:  # what a plain `ha-agent serve` with these settings would answer with
        return ("model",) if settings.effective_llm_provider != "local" and settings.llm_base_url else ("local",)
    return PATHS if choice == "both" else (choice,)


def _auto_concurrency(runs: int, homes: int, paths: tuple[str, ...]) -> int:
    if "model" in paths:
        return min(homes, _MODEL_WORKERS)
    return max(1, min(homes, os.cpu_count() or 1, runs // _CASES_PER_WORKER))


def _names(values: list[str]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _positive(text: str) -> int:
    value = _positive_or_zero(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, not {text!r}")
    return value


def _positive_or_zero(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, not {text!r}")
    return value
