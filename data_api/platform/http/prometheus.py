"""The Prometheus text exposition format (0.0.4), written by hand: a few dozen lines of output
do not justify a client library and its process-global registry."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = Mapping[str, str]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float | int | bool | None) -> str:
    if value is None:
        return "NaN"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value) if isinstance(value, float) else str(value)


class Exposition:
    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._lines: list[str] = []

    def _family(self, name: str, kind: str, help_text: str) -> str:
        full = self._prefix + name
        self._lines.append(f"# HELP {full} {help_text}")
        self._lines.append(f"# TYPE {full} {kind}")
        return full

    def _sample(self, name: str, labels: Labels, value: float | int | bool | None) -> None:
        pairs = ",".join(f'{key}="{_escape(str(v))}"' for key, v in labels.items())
        self._lines.append(f"{name}{{{pairs}}} {_number(value)}" if pairs else f"{name} {_number(value)}")

    def metric(
        self, name: str, kind: str, help_text: str, samples: Iterable[tuple[Labels, float | int | bool | None]]
    ) -> None:
        """A counter or gauge family: `samples` are (labels, value)."""
        full = self._family(name, kind, help_text)
        for labels, value in samples:
            self._sample(full, labels, value)

    def gauge(self, name: str, help_text: str, value: float | int | bool | None) -> None:
        self.metric(name, "gauge", help_text, [({}, value)])

    def histogram(
        self,
        name: str,
        help_text: str,
        bounds: Sequence[float],
        series: Iterable[tuple[Labels, Sequence[int], float, int]],
    ) -> None:
        """`series` are (labels, per-bucket counts (not cumulated), sum, count)."""
        full = self._family(name, "histogram", help_text)
        for labels, counts, total, count in series:
            cumulated = 0
            for bound, n in zip(bounds, counts):
                cumulated += n
                self._sample(f"{full}_bucket", {**labels, "le": _number(float(bound))}, cumulated)
            self._sample(f"{full}_bucket", {**labels, "le": "+Inf"}, count)
            self._sample(f"{full}_sum", labels, total)
            self._sample(f"{full}_count", labels, count)

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"
