"""`ha-agent eval`: how well the assistant understands people, measured the way the Home
Assistant community measures assistants — an evaluation set of homes and sentences, each
sentence run through the real chat path on a freshly set-up simulated home, scored by what
changed in the home (or by the reply to a question).

    eval_set = load_set()                                  # the shipped set, or load_set(path)
    options = EvalOptions(paths=("local",), scale=500)
    run = await run_set(eval_set, settings, options)
    report = build(eval_set, options, run)                 # JSON-ready; format_markdown(report)

The names below are imported when first used, so the command line's parser (which imports
this package for `ha-agent eval`'s options) does not load the whole stack.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Case": "loader", "EvalSet": "loader", "EvalSetError": "loader", "Expected": "loader", "load_set": "loader",
    "CaseResult": "runner", "EvalOptions": "runner", "EvalRun": "runner", "run_set": "runner",
    "Verdict": "scoring", "score": "scoring", "build": "report", "format_markdown": "report",
    "headline": "bench",
}  # fmt: skip
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
