"""A progress bar on stderr while a set runs: cases done of all, passed, rate and time left.

On a terminal it redraws one line (at most ten times a second); into a file or a pipe it
writes a plain line every tenth of the way, so a CI log stays short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 24
_REDRAW = 0.1  # seconds between redraws on a terminal


class ProgressBar:
    def __init__(self, total: int, label: str = "eval", stream: TextIO | None = None) -> None:
        self.total = max(1, total)
        self.label = label
        self.stream = stream or sys.stderr
        self.done = self.passed = 0
        self._started = time.monotonic()
        self._drawn = 0.0
        self._tenth = 0
        self._tty = self.stream.isatty()

    def advance(self, passed: bool) -> None:
        self.done += 1
        self.passed += passed
        now = time.monotonic()
        if self._tty:
            if now - self._drawn >= _REDRAW or self.done == self.total:
                self._drawn = now
                self.stream.write("\r" + self.line(now) + "\x1b[K")
                self.stream.flush()
        elif (tenth := self.done * 10 // self.total) > self._tenth:
            self._tenth = tenth
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._tty and self.done:
            self.stream.write("\n")
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        elapsed = (now if now is not None else time.monotonic()) - self._started
        share = self.done / self.total
        filled = int(share * _WIDTH)
        bar = "█" * filled + "░" * (_WIDTH - filled)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        return (f"{self.label} ▕{bar}▏ {self.done}/{self.total} {share:4.0%} · {self.passed} passed · "
                f"{rate:.1f}/s · {_clock(elapsed)} elapsed, ETA {_clock(left)}")  # fmt: skip


def _clock(seconds: float) -> str:
    minutes, second = divmod(int(seconds + 0.5), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"
