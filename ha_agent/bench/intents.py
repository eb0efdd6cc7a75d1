"""How long the local engine takes per sentence, for `ha-agent bench`.

Sentences are made from the home's own names (a light, an area, a cover, ...), plus one the
engine does not know; each is handled `rounds` times after the vocabulary is built, so the
numbers are those of a warm engine (a layout change costs one rebuild, measured apart).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ha_agent.home import HomeView
from ha_agent.intents import LocalEngine

TEMPLATES = (
    "turn on the {light}",
    "turn off the lights in the {area}",
    "set {light} to 40%",
    "set {light} to red",
    "open the {cover}",
    "set {cover} to 50%",
    "is the {cover} open",
    "pause the {media_player}",
    "set the {media_player} volume to 30%",
    "activate {scene}",
    "which lights are on",
    "are any lights on in the {area}",
    "what is the temperature in the {area}",
    "tell me a joke",
)


@dataclass(frozen=True, slots=True)
class Latency:
    sentences: int
    matched: int
    build_ms: float  # the first sentence: the vocabulary built for this layout
    p50_ms: float
    p99_ms: float
    max_ms: float


async def measure(engine: LocalEngine, home: HomeView, rounds: int = 20) -> Latency:
    started = time.perf_counter()
    await engine.handle("hello", home)
    build_ms = (time.perf_counter() - started) * 1000
    sentences = _sentences(engine)
    times: list[float] = []
    matched = 0
    for round_ in range(rounds):
        for sentence in sentences:
            started = time.perf_counter()
            match = await engine.handle(sentence, home)
            times.append((time.perf_counter() - started) * 1000)
            matched += round_ == 0 and match is not None
    times.sort()

    def quantile(q: float) -> float:
        return times[min(len(times) - 1, round(q * (len(times) - 1)))] if times else 0.0

    return Latency(len(sentences), matched, build_ms, quantile(0.5), quantile(0.99), times[-1] if times else 0.0)


def _sentences(engine: LocalEngine) -> list[str]:
    vocabulary = engine.vocabulary
    if vocabulary is None:
        return ["tell me a joke"]
    words = dict(vocabulary.examples)
    out = []
    for template in TEMPLATES:
        try:
            out.append(template.format(**words))
        except KeyError:  # this home has no such thing
            continue
    return out
