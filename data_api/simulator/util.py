"""Helpers shared by the simulator: ids, names, time and JSON as Home Assistant writes them."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits per lookup


def ulid(timestamp: float, rng: random.Random | None = None) -> str:
    """A ULID as HA uses for context and config entry ids: 48-bit ms time + 80 random bits."""
    bits = (int(timestamp * 1000) << 80) | (rng or random).getrandbits(80)
    pairs = "".join(_PAIRS[(bits >> shift) & 1023] for shift in range(115, 4, -10))
    return _CROCKFORD[bits >> 125] + pairs + _CROCKFORD[bits & 31]


def uuid_hex(rng: random.Random | None = None) -> str:
    """A uuid4-like 32 hex digits id, the form of device, registry entry and user ids."""
    return f"{(rng or random).getrandbits(128):032x}"


_NON_WORD = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def slugify(text: str) -> str:
    """Lower-case ASCII words joined by `_`, as HA derives area, floor, label and entity ids."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_WORD.sub("_", text.lower()).strip("_") or "unknown"


def unique_slug(base: str, taken: set[str] | dict[str, Any]) -> str:
    """`base`, else `base_2`, `base_3`, ... — HA's rule for a free id."""
    candidate, tries = base, 1
    while candidate in taken:
        tries += 1
        candidate = f"{base}_{tries}"
    return candidate


def utc_from_ts(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def iso(timestamp: float) -> str:
    """ISO 8601 in UTC exactly as HA prints datetimes (microseconds dropped when zero)."""
    return utc_from_ts(timestamp).isoformat()


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, the form HA's orjson writes (no spaces, non-ASCII kept)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default).encode()


def _default(value: Any) -> Any:
    # Sets appear in registry `changes` (old labels/aliases); HA's encoder writes them as lists.
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
