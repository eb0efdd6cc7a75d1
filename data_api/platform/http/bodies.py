"""Serialized response bodies, cached by what they contain, with their ETag and gzip form.

A body is a pure function of a key the route builds from the data's version and freshness (see
`routes.py`), so it is serialized and compressed once, however many clients ask. The ETag is a
digest of the same key, which lets `If-None-Match` be answered before anything is serialized.
A random per-process epoch goes into every ETag: versions restart at every process start (and
differ between processes), so an ETag must never be reused by a restarted server.

ETags are weak (`W/"…"`): the gzip and identity forms of a body carry the same one, which RFC 9110
allows only for weak validators, and `If-None-Match` compares weakly anyway.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from starlette.responses import Response

GZIP_MIN_SIZE = 500  # smaller bodies gain less than the gzip header and the CPU cost
GZIP_LEVEL = 6  # most of level 9's ratio at a fraction of its time
MAX_CACHED_BYTES = 16 * 1024 * 1024
# Clients must revalidate (cheap: a 304) rather than trust a copy of live state.
_CACHE_HEADERS = {"cache-control": "no-cache"}
# `Vary` goes on 304s and gzipped bodies; on an identity body of GZIP_MIN_SIZE or more the gzip
# middleware adds it (it would add it a second time if we did).
_VARY = {"vary": "Accept-Encoding"}


@dataclass(frozen=True, slots=True)
class Body:
    etag: str
    raw: bytes
    gzipped: bytes | None  # None when the body is too small to be worth compressing

    @property
    def size(self) -> int:
        return len(self.raw) + len(self.gzipped or b"")


def dump_json(payload: Any) -> bytes:
    # HA attributes are JSON on the wire; `default=str` covers what a model might add (dates).
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


class BodyCache:
    def __init__(self, max_bytes: int = MAX_CACHED_BYTES) -> None:
        self.epoch = secrets.token_hex(4)
        self._bodies: LRUCache[Hashable, Body] = LRUCache(maxsize=max_bytes, getsizeof=lambda body: body.size)
        self.hits = 0
        self.misses = 0
        self.not_modified = 0

    def etag(self, key: Hashable) -> str:
        digest = hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest()
        return f'W/"{self.epoch}-{digest}"'

    def _build(self, key: Hashable, etag: str, payload: Callable[[], Any]) -> Body:
        self.misses += 1
        raw = dump_json(payload())
        gzipped = gzip.compress(raw, GZIP_LEVEL, mtime=0) if len(raw) >= GZIP_MIN_SIZE else None
        body = Body(etag, raw, gzipped)
        if body.size <= self._bodies.maxsize:
            self._bodies[key] = body
        return body

    def respond(
        self,
        key: Hashable,
        payload: Callable[[], Any],
        if_none_match: str | None,
        accept_encoding: str | None,
    ) -> Response:
        """The response for `key`: 304 if the client's copy is current, else the (gzipped) body."""
        body = self._bodies.get(key)
        etag = body.etag if body is not None else self.etag(key)
        headers = {"etag": etag, **_CACHE_HEADERS}
        if etag_matches(if_none_match, etag):
            self.not_modified += 1
            return Response(status_code=304, headers={**headers, **_VARY})
        if body is None:
            body = self._build(key, etag, payload)
        else:
            self.hits += 1
        if body.gzipped is not None and accepts_gzip(accept_encoding):
            headers |= {**_VARY, "content-encoding": "gzip"}
            return Response(body.gzipped, media_type="application/json", headers=headers)
        return Response(body.raw, media_type="application/json", headers=headers)

    def stats(self) -> dict[str, Any]:
        lookups = self.hits + self.misses
        return {
            "hits": self.hits,
            "misses": self.misses,
            "not_modified": self.not_modified,
            "hit_rate": round(self.hits / lookups, 4) if lookups else None,
            "entries": len(self._bodies),
            "bytes": int(self._bodies.currsize),
        }


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """`If-None-Match` against our ETag, by weak comparison (RFC 9110 §13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = _opaque(etag)
    return any(_opaque(tag) == ours for tag in if_none_match.split(","))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` allows gzip (named, or by `*`, with a quality above 0)."""
    if not accept_encoding:
        return False
    qualities: dict[str, float] = {}
    for coding in accept_encoding.split(","):
        name, _, params = coding.partition(";")
        quality = params.strip().lower()
        try:
            qualities[name.strip().lower()] = float(quality[2:]) if quality.startswith("q=") else 1.0
        except ValueError:
            qualities[name.strip().lower()] = 1.0
    return qualities.get("gzip", qualities.get("*", 0.0)) > 0
