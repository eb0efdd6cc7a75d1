"""Offline tokenizer: tiktoken's encodings from bundled files, hash-checked, no download."""

from __future__ import annotations

import socket

import pytest

from ha_agent import tokens


def test_known_token_ids_match_tiktoken(monkeypatch):
    # Any network use would fail here: the encodings must come from the bundle.
    def no_network(*args, **kwargs):
        raise AssertionError("the tokenizer tried to use the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    tokens.get_encoding.cache_clear()
    assert tokens.get_encoding("o200k_base").encode("hello world") == [24912, 2375]
    assert tokens.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("openai/gpt-4o", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("llama3.1:8b", "cl100k_base"),
        ("qwen2.5", "cl100k_base"),
    ],
)
def test_encoding_chosen_by_model(model, encoding):
    assert tokens.encoding_name_for(model) == encoding


def test_special_token_text_is_counted_not_rejected():
    assert tokens.count_tokens("say <|endoftext|> now", "gpt-4o") > 3


def test_tampered_bundle_is_refused(monkeypatch):
    monkeypatch.setattr(tokens.gzip, "decompress", lambda data: b"dGVzdA== 0\n")
    with pytest.raises(tokens.TokenizerError, match="expected hash"):
        tokens._bundled_ranks("o200k_base", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d")


def test_encoding_is_loaded_once():
    assert tokens.get_encoding("o200k_base") is tokens.get_encoding("o200k_base")
