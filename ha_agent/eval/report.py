"""The report of a run: pass rates per path, difficulty, category and home; false claims of
success; confirmations; tokens per turn and latency; every failure with what was expected, what
changed and the reply. JSON (stable keys, for machines and for comparing runs) and Markdown.
"""

from __future__ import annotations

import os
import platform
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from data_api.bench import percentile

from .loader import UNMARKED, EvalSet
from .names import DIFFICULTIES
from .runner import CaseResult, EvalOptions, EvalRun

REPORT = "ha-agent eval"
VERSION = 1
_REPLY_CHARS = 160  # of a reply in the Markdown (the JSON has it whole)


def build(eval_set: EvalSet, options: EvalOptions, run: EvalRun) -> dict[str, Any]:
    results = run.results
    by_path: dict[str, list[CaseResult]] = defaultdict(list)
    for result in results:
        by_path[result.path].append(result)
    model = run.paths.get("model")
    return {
        "report": REPORT,
        "version": VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "set": {
            "name": eval_set.name,
            "path": str(eval_set.path),
            "sentences": len(eval_set.cases),
            "homes": [home.name for home in eval_set.homes],
        },  # fmt: skip
        "options": {
            "paths": list(options.paths),
            "count": run.count,
            "scale": options.scale,
            "seed": options.seed,
            "concurrency": options.concurrency,
            "model": {"name": model.llm_model, "fast_path": model.intents_fast_path} if model else None,
        },  # fmt: skip
        "seconds": round(run.seconds, 1),
        "homes": [
            {
                "name": h.name,
                "entities": h.entities,
                "exposed": h.exposed,
                "load_seconds": round(h.load_seconds, 2),
                "seconds": round(h.seconds, 1),
            }
            for h in run.homes
        ],  # fmt: skip
        "paths": {path: _summary(rows) for path, rows in by_path.items()},
        "failures": [_failure(r) for r in results if not r.passed],
        "dataset_checks": _dataset_checks(results),
        "results": [_row(r) for r in results],
    }


def _rate(rows: list[CaseResult]) -> dict[str, Any]:
    passed = sum(r.passed for r in rows)
    return {"cases": len(rows), "passed": passed, "pass_rate": round(100 * passed / len(rows), 1) if rows else None}


def _grouped(rows: Iterable[CaseResult], key: Any, order: Iterable[str] = ()) -> dict[str, Any]:
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    names = [name for name in order if name in groups] + sorted(set(groups) - set(order))
    return {name: _rate(groups[name]) for name in names}


def _summary(rows: list[CaseResult]) -> dict[str, Any]:
    turns = [turn for r in rows for turn in r.turns]
    sentence_ms = [r.turns[0].ms for r in rows if r.turns]
    answered: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.turns and r.turns[0].path:
            answered[r.turns[0].path] += 1

    def per_turn(name: str) -> float | None:
        return round(sum(getattr(t, name) for t in turns) / len(turns), 1) if turns else None

    return {
        **_rate(rows),
        "false_successes": sum(r.false_success for r in rows),
        "confirmations": sum(r.confirmed for r in rows),
        "errors": sum(r.error is not None for r in rows),
        "tokens_per_turn": {
            "prompt": per_turn("prompt_tokens"),
            "cached": per_turn("cached_tokens"),
            "completion": per_turn("completion_tokens"),
        },  # fmt: skip
        "latency_ms": {
            "p50": round(percentile(sentence_ms, 50), 1) if sentence_ms else None,
            "p90": round(percentile(sentence_ms, 90), 1) if sentence_ms else None,
        },  # fmt: skip
        "answered_by": dict(sorted(answered.items())),
        "by_difficulty": _grouped(rows, lambda r: r.case.difficulty, (*DIFFICULTIES, UNMARKED)),
        "by_category": _grouped(rows, lambda r: r.case.category),
        "by_home": _grouped(rows, lambda r: r.case.home, dict.fromkeys(r.case.home for r in rows)),
    }


def _expected(result: CaseResult) -> dict[str, Any]:
    case = result.case
    return {"changes": {eid: exp.as_dict() for eid, exp in case.expect_changes.items()},
            "response": list(case.expect_response) if case.expect_response is not None else None}  # fmt: skip


def _failure(r: CaseResult) -> dict[str, Any]:
    case = r.case
    return {
        "path": r.path, "home": case.home, "case": case.id, "run": r.run, "category": case.category,
        "difficulty": case.difficulty, "sentence": case.sentence, "previous": list(case.previous),
        "area": case.area, "expected": _expected(r), "changes": r.changes, "reasons": r.reasons,
        "reply": r.reply, "false_success": r.false_success, "confirmed": r.confirmed,
        "tool_calls": [call for turn in r.turns for call in turn.tool_calls],
    }  # fmt: skip


def _row(r: CaseResult) -> dict[str, Any]:
    first = r.turns[0] if r.turns else None
    return {
        "case": r.case.id, "path": r.path, "run": r.run, "passed": r.passed, "false_success": r.false_success,
        "confirmed": r.confirmed, "answered_by": first.path if first else None,
        "ms": round(first.ms, 1) if first else None,
        "prompt_tokens": sum(t.prompt_tokens for t in r.turns), "cached_tokens": sum(t.cached_tokens for t in r.turns),
        "completion_tokens": sum(t.completion_tokens for t in r.turns), "error": r.error,
    }  # fmt: skip


def _dataset_checks(results: list[CaseResult]) -> list[dict[str, str]]:
    """Cases whose expectation already held before the sentence: they pass by doing nothing,
    so the setup (or the expectation) is probably wrong."""
    seen, checks = set(), []
    for r in results:
        if r.already_met and r.case.id not in seen:
            seen.add(r.case.id)
            checks.append({"case": r.case.id, "sentence": r.case.sentence,
                           "note": "the expected state held before the sentence (the setup does not make it a change)"})  # fmt: skip
    return checks


# --- Markdown ---------------------------------------------------------------------------------------
def _cell(rate: dict[str, Any] | None) -> str:
    if not rate or not rate["cases"]:
        return ""
    return f"{rate['pass_rate']:.1f} % ({rate['passed']}/{rate['cases']})"


def _text(value: Any, limit: int | None = None) -> str:
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"
    return shown + unit


def format_markdown(report: dict[str, Any]) -> str:
    options, paths = report["options"], report["paths"]
    names = list(paths)
    entities = [home["entities"] for home in report["homes"]]
    size = f"{min(entities):,}–{max(entities):,} entities per home" if entities else "no home"
    model = f"; model {options['model']['name']} (fast path {'on' if options['model']['fast_path'] else 'off'})" \
        if options.get("model") else ""  # fmt: skip
    lines = [
        f"## {REPORT}: {report['set']['name']}",
        "",
        f"{report['set']['sentences']} sentences in {len(report['set']['homes'])} homes, each run {options['count']}× "
        f"per path; {options['scale']:,} distractors per home ({size}){model}. "
        f"{report['seconds']:.0f} s on {report['machine']['cpus']} CPUs, {report['created_at']}.",
        "",
        "| path | passed | template-like | hard | false claims of success | confirmations | errors "
        "| tokens per turn (prompt / cached) | latency p50 / p90 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        s = paths[name]
        tokens = s["tokens_per_turn"]
        latency = s["latency_ms"]
        lines.append(
            f"| {name} | {_cell(s)} | {_cell(s['by_difficulty'].get('template'))} | "
            f"{_cell(s['by_difficulty'].get('hard'))} | {s['false_successes']} | {s['confirmations']} | {s['errors']} | "
            f"{_number(tokens['prompt'])} / {_number(tokens['cached'])} | "
            f"{_number(latency['p50'], ' ms')} / {_number(latency['p90'], ' ms')} |"
        )
    for title, key in (("By category", "by_category"), ("By home", "by_home")):
        keys = list(dict.fromkeys(k for name in names for k in paths[name][key]))
        lines += ["", f"### {title}", "", "| " + title.split()[1] + " | " + " | ".join(names) + " |",
                  "|---|" + "---|" * len(names)]  # fmt: skip
        lines += [f"| {k} | " + " | ".join(_cell(paths[name][key].get(k)) for name in names) + " |" for k in keys]
    if report["dataset_checks"]:
        lines += ["", "### Cases to check in the set", ""]
        lines += [f"- `{c['case']}` “{_text(c['sentence'])}”: {c['note']}" for c in report["dataset_checks"]]
    failures = report["failures"]
    lines += ["", f"### Failures ({len(failures)})"]
    for name in names:
        mine = [f for f in failures if f["path"] == name]
        if not mine:
            continue
        lines += ["", f"{name} path, by category:" if len(names) > 1 else "By category:", "",
                  "| category | home | sentence | expected | got | reply |", "|---|---|---|---|---|---|"]  # fmt: skip
        for f in sorted(mine, key=lambda f: (f["category"], f["home"], f["case"])):
            said = _text(f["sentence"]) if not f["previous"] else \
                f"{_text(' / '.join(f['previous']))} → {_text(f['sentence'])}"  # fmt: skip
            flag = " **(false claim of success)**" if f["false_success"] else ""
            lines.append(f"| {f['category']} | {f['home']} | {said} | {_expected_text(f['expected'])} | "
                         f"{_got_text(f)} | {_text(f['reply'], _REPLY_CHARS)}{flag} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def _expected_text(expected: dict[str, Any]) -> str:
    parts = [f"{eid}: " + ", ".join(f"{k} {_text(v)}" for k, v in values.items()) if values else eid
             for eid, values in expected["changes"].items()]  # fmt: skip
    if expected["response"] is not None:
        parts.append("reply with " + " or ".join(f"“{_text(t)}”" for t in expected["response"][:4])
                     + (" …" if len(expected["response"]) > 4 else ""))  # fmt: skip
    return "; ".join(parts) or "no change"


def _got_text(failure: dict[str, Any]) -> str:
    parts = []
    for eid, change in failure["changes"].items():
        moved = []
        if "state" in change:
            moved.append(f"state {change['state'][0]}→{change['state'][1]}")
        moved += [f"{key} {_text(old)}→{_text(new)}" for key, (old, new) in change.get("attributes", {}).items()]
        parts.append(f"{eid}: {', '.join(moved)}")
    text = "; ".join(parts) or "no change"
    reasons = [r for r in failure["reasons"] if r.startswith(("the reply says", "the agent", "the case", "no reply",
                                                              "an earlier", "the mirror"))]  # fmt: skip
    return _text(text + ("; " + "; ".join(reasons) if reasons else ""), 300)
