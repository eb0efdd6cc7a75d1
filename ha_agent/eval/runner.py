"""Running a set: each home loaded once into a simulated HA (padded with `scale` distractors),
served by the real stack (stack.py), and each case run on it through the chat API.

A case: back to the loaded home, the pretended time and the test's setup, the mirror caught up,
the earlier sentences of its conversation (`previous`), a snapshot, the sentence (a new
conversation unless it follows earlier ones), "yes" when the agent asks for a confirmation, the
home settled (running scripts finished), a snapshot, the verdict.

Cases of one home share its state, so they run one after another; homes run side by side
(`concurrency`), each in a worker process of its own holding its simulator, mirror and agent.
Processes, not tasks of one event loop, because the local engine's turns are CPU-bound:
measured on the shipped set (2 cores), homes as tasks of one loop took as long as one after
another (22 s) and doubled the latency they reported (turns queue behind each other's), where
a model's turns, which mostly wait, overlapped (60 cases with a 0.3 s model: 23 s → 6 s at 5
homes). Worker processes serve both: two homes of 5,000 entities took 39 s one after another,
24 s in two workers, with the same latencies. `concurrency` 1 runs everything in this process.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from data_api.platform.logs import configure_logging, settings_secrets
from data_api.platform.settings import Settings, SettingsError
from data_api.simulator import EvalHome, FixtureError, load_home
from data_api.simulator.fixtures import PLATFORM

from .loader import Case, EvalSet, HomeTasks
from .scoring import score, whole_domains
from .stack import MirrorBarrier, ServedPath, serve_home

YES = "yes"
_SCRIPT_WAIT = 10.0  # seconds a case waits for the scripts it started to finish


@dataclass(frozen=True)
class EvalOptions:
    paths: tuple[str, ...] = ("local",)
    count: int | None = None  # runs of each case; None: the set's (its card's count)
    scale: int = 0  # distractor entities added to each home
    seed: int = 0  # of the distractors
    concurrency: int = 1  # homes run at once, each in a worker process (1: all in this process)


@dataclass
class Turn:
    """One message to the agent and what came back."""

    message: str
    status: int
    reply: str
    path: str | None = None  # how the agent answered: local, llm or confirmation
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    ms: float = 0.0  # the HTTP round trip, as a client waits for it
    confirmation: bool = False  # the agent asked for a yes
    conversation_id: str | None = None


@dataclass
class CaseResult:
    case: Case
    path: str
    run: int
    passed: bool
    reasons: list[str]
    changes: dict[str, Any]
    reply: str
    false_success: bool = False
    confirmed: bool = False  # the harness answered "yes" to a confirmation
    already_met: bool = False
    turns: list[Turn] = field(default_factory=list)  # the sentence's (and its yes), not `previous`
    error: str | None = None  # the case could not be run (a setup the home refuses, an HTTP error)


@dataclass
class HomeRun:
    """One home as it was run: its size with the distractors, and how long it took."""

    name: str
    entities: int
    exposed: int
    load_seconds: float  # building the home (and its distractors) and serving it
    seconds: float  # the whole home, cases included


@dataclass
class EvalRun:
    results: list[CaseResult]
    homes: list[HomeRun]
    seconds: float
    paths: dict[str, Settings]
    count: int


Progress = Callable[[CaseResult], None]


def path_settings(settings: Settings, paths: tuple[str, ...]) -> dict[str, Settings]:
    """Each path's settings from the user's: "local" without any model, "model" as configured
    (LLM_BASE_URL, LLM_MODEL, LLM_API_KEY; the fast path as INTENTS_FAST_PATH says)."""
    base = {"api_keys": [], "home_id": "eval", "ha_reconnect_min_delay": 0.05, "ha_reconnect_max_delay": 0.5}
    chosen = {}
    for path in paths:
        if path == "local":
            chosen[path] = settings.model_copy(update={**base, "llm_provider": "local", "llm_base_url": None})
        elif path == "model":
            if settings.effective_llm_provider == "local" or not settings.llm_base_url:
                raise SettingsError("--path model needs a model: set LLM_BASE_URL (an OpenAI-compatible API, such "
                                    "as http://localhost:11434/v1 for Ollama), LLM_MODEL and, if it needs one, "
                                    "LLM_API_KEY")  # fmt: skip
            chosen[path] = settings.model_copy(update={**base, "llm_provider": "openai"})
        else:
            raise SettingsError(f"unknown path {path!r}; use local, model or both")
    return chosen


def planned(eval_set: EvalSet, options: EvalOptions) -> int:
    """How many case runs `run_set` makes (for a progress bar)."""
    return len(eval_set.cases) * (options.count or eval_set.count) * len(options.paths)


async def run_set(eval_set: EvalSet, settings: Settings, options: EvalOptions,
                  progress: Progress = lambda _: None) -> EvalRun:  # fmt: skip
    """Every case of the set on every path, `count` times; results in the set's order."""
    started = time.perf_counter()
    paths = path_settings(settings, options.paths)
    count = options.count or eval_set.count
    workers = min(max(1, options.concurrency), len(eval_set.homes))
    if workers == 1:
        per_home = [await run_home(home, paths, count, options, progress) for home in eval_set.homes]
    else:
        per_home = await _in_workers(eval_set, paths, count, options, workers, progress)
    return EvalRun([result for results, _ in per_home for result in results], [home for _, home in per_home],
                   time.perf_counter() - started, paths, count)  # fmt: skip


async def _in_workers(eval_set: EvalSet, paths: dict[str, Settings], count: int, options: EvalOptions,
                      workers: int, progress: Progress) -> list[tuple[list[CaseResult], HomeRun]]:  # fmt: skip
    """Each home in a worker process; each finished case comes back at once, for `progress`."""
    # Spawned, not forked: a fork would copy this process's running event loop and its threads.
    context = multiprocessing.get_context("spawn")
    done: Any = context.Queue()
    loop = asyncio.get_running_loop()
    level = logging.getLogger().level

    def relay() -> None:  # the queue blocks: read it on a thread, report on the loop
        while (result := done.get()) is not None:
            loop.call_soon_threadsafe(progress, result)

    reader = threading.Thread(target=relay, name="eval-progress", daemon=True)
    reader.start()
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start,
                                 initargs=(done, level, settings_secrets(next(iter(paths.values()))))) as pool:  # fmt: skip
            return list(
                await asyncio.gather(
                    *(loop.run_in_executor(pool, _worker_home, home, paths, count, options) for home in eval_set.homes)
                )
            )
    finally:
        done.put(None)
        await asyncio.to_thread(reader.join)


_finished: Any = None  # a worker's queue of finished cases


def _worker_start(finished: Any, level: int, secrets: list[str]) -> None:
    global _finished
    _finished = finished
    configure_logging(logging.getLevelName(level), secrets)  # the parent's level and redaction


def _worker_home(tasks: HomeTasks, paths: dict[str, Settings], count: int,
                 options: EvalOptions) -> tuple[list[CaseResult], HomeRun]:  # fmt: skip
    return asyncio.run(run_home(tasks, paths, count, options, _finished.put))


async def run_home(tasks: HomeTasks, paths: Mapping[str, Settings], count: int, options: EvalOptions,
                   progress: Progress = lambda _: None) -> tuple[list[CaseResult], HomeRun]:  # fmt: skip
    started = time.perf_counter()
    # The home (and its distractors) is built once; a case's reset rewrites only what it changed.
    home = await asyncio.to_thread(load_home, tasks.fixture, scale=options.scale, seed=options.seed)
    if tasks.language:  # the local engine matches sentences of this language (HA's intents for it)
        paths = {name: settings.model_copy(update={"intents_language": tasks.language})
                 for name, settings in paths.items()}  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory(prefix="ha-agent-eval-") as scratch:
        async with serve_home(home, paths, Path(scratch)) as (_sim, served):
            loaded = time.perf_counter() - started
            barrier = MirrorBarrier(home, [path.mirror for path in served.values()])
            try:
                for case in tasks.cases:
                    for run in range(count):
                        for path in served.values():
                            result = await run_case(home, barrier, path, case, run, tasks.language)
                            results.append(result)
                            progress(result)
            finally:
                barrier.close()
    exposed = len(home.exposed_entities()["exposed_entities"])
    return results, HomeRun(tasks.name, len(home.states), exposed, loaded, time.perf_counter() - started)


async def run_case(home: EvalHome, barrier: MirrorBarrier, path: ServedPath, case: Case, run: int = 0,
                   language: str | None = None) -> CaseResult:  # fmt: skip
    def failed(error: str, turns: list[Turn] | None = None) -> CaseResult:
        reply = turns[-1].reply if turns else ""
        return CaseResult(case, path.name, run, False, [error], {}, reply, turns=turns or [], error=error)

    home.reset()
    try:
        if case.context_now is not None:
            home.set_clock(case.context_now)
        home.apply_setup(dict(case.setup))
        said = _Said(speaker_area(home, case), language)
    except FixtureError as err:
        return failed(f"the case cannot be set up: {err}")
    try:
        await barrier.wait()
        conversation: str | None = None
        for message in case.previous:
            earlier = await _exchange(path, message, conversation, said)
            if earlier[-1].status != 200:
                return failed(f"an earlier sentence ({message!r}) got HTTP {earlier[-1].status}: {earlier[-1].reply}")
            conversation = earlier[-1].conversation_id
            await _settle(home, barrier)
        before = home.snapshot()
        turns = await _exchange(path, case.sentence, conversation, said)
        await _settle(home, barrier)
    except TimeoutError:
        return failed("the mirror did not catch up with the simulated HA in time")
    after = home.snapshot()
    if turns[-1].status != 200:
        return failed(f"the agent answered HTTP {turns[-1].status}: {turns[-1].reply}", turns)
    padded = len(home.states) > len(home.written)
    allowed = whole_domains(case, before, home.written, home.is_exposed) if padded else None
    verdict = score(case, before, after, [turn.reply for turn in turns], allowed)
    return CaseResult(case, path.name, run, verdict.passed, verdict.reasons, verdict.changes, turns[-1].reply,
                      false_success=verdict.false_success, confirmed=turns[0].confirmation,
                      already_met=verdict.already_met, turns=turns)  # fmt: skip


def speaker_area(home: EvalHome, case: Case) -> str | None:
    """The area id the person speaks in: the test's `area` (an id, name or alias), or the area of
    its `context_device` (a device of the fixture, by its id or name)."""
    if case.area is not None:
        wanted = case.area.casefold()
        for area_id, area in home.areas.items():
            if wanted in {
                area_id.casefold(),
                area["name"].casefold(),
                *(a.casefold() for a in area.get("aliases", ())),
            }:
                return area_id
        raise FixtureError(f"area {case.area!r} is not an area of the home")
    if case.context_device is not None:
        wanted = case.context_device.casefold()
        for device in home.devices.values():
            keys = {str(key).casefold() for domain, key in device.get("identifiers", ()) if domain == PLATFORM}
            if wanted in keys or wanted == str(device.get("name", "")).casefold():
                return device.get("area_id")
        raise FixtureError(f"context_device {case.context_device!r} is not a device of the home")
    return None


@dataclass(frozen=True)
class _Said:
    """Where and in what language the person speaks (the chat request's `area`, `language`)."""

    area: str | None
    language: str | None


async def _exchange(path: ServedPath, message: str, conversation: str | None, said: _Said) -> list[Turn]:
    """A message, and "yes" in the same conversation when the agent asks to confirm."""
    first = await _turn(path, message, conversation, said)
    if not first.confirmation:
        return [first]
    return [first, await _turn(path, YES, first.conversation_id, said)]


async def _turn(path: ServedPath, message: str, conversation: str | None, said: _Said) -> Turn:
    body: dict[str, Any] = {"message": message}
    if conversation is not None:
        body["conversation_id"] = conversation
    if said.area is not None:
        body["area"] = said.area
    if said.language is not None:
        body["language"] = said.language
    started = time.perf_counter()
    try:
        response = await path.http.post("/api/v1/chat", json=body)
    except httpx.HTTPError as exc:
        return Turn(message, 0, f"no answer: {exc}", ms=(time.perf_counter() - started) * 1000)
    ms = (time.perf_counter() - started) * 1000
    data = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200:
        return Turn(message, response.status_code, str(data.get("detail") or response.text[:300]), ms=ms,
                    conversation_id=data.get("conversation_id"))  # fmt: skip
    usage = data.get("usage") or {}
    return Turn(
        message, 200, data.get("reply") or "", path=data.get("path"),
        tool_calls=[{"name": c.get("name"), "arguments": c.get("arguments"), "error": c.get("error")}
                    for c in data.get("tool_calls") or ()],
        prompt_tokens=usage.get("prompt_tokens", 0), completion_tokens=usage.get("completion_tokens", 0),
        cached_tokens=usage.get("cached_tokens", 0), ms=ms, confirmation=data.get("confirmation") is not None,
        conversation_id=data.get("conversation_id"),
    )  # fmt: skip


async def _settle(home: EvalHome, barrier: MirrorBarrier) -> None:
    """The scripts a turn started finished (or given up on), and the mirror caught up."""
    deadline = time.monotonic() + _SCRIPT_WAIT
    while home.running_scripts and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await barrier.wait()
