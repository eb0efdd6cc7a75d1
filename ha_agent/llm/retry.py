"""When to retry an LLM request and how long to wait first.

Exponential backoff with jitter, so that many conversations hitting the same rate limit do not
retry in lockstep; a server's own `Retry-After` wins, because it knows when capacity returns.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from .errors import LLMError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay_before_retry(self, error: LLMError, retries_done: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up with `error`."""
        if not error.retryable or retries_done >= self.max_retries:
            return None
        if error.retry_after is not None:
            return min(error.retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2**retries_done)
        # "Equal jitter": at least half the exponential step, so the backoff still grows.
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` (OpenAI) or `Retry-After` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means "zone unknown"; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
