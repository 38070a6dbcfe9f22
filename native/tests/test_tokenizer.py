from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_DIR

from tr118_native.fixture import data
from tr118_native.fixture import tokenizer as tok

HELDOUT_TEXT = (FIXTURE_DIR / "heldout.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return tok.load(FIXTURE_DIR / "tokenizer.json")


def test_heldout_tokens_are_the_tokenizer_output(tokenizer: Any, heldout_tokens: list[int]) -> None:
    assert heldout_tokens == tok.encode(tokenizer, HELDOUT_TEXT)


def test_round_trip_is_exact(tokenizer: Any, heldout_tokens: list[int]) -> None:
    assert tokenizer.decode(heldout_tokens) == HELDOUT_TEXT
    odd = "Tab\there, ünïcödé, emoji 🇺🇸, a control byte \x02 and  two spaces\n\n"
    assert tokenizer.decode(tok.encode(tokenizer, odd)) == odd


def test_vocabulary_matches_the_card(tokenizer: Any, card: dict[str, Any], heldout_tokens: list[int]) -> None:
    assert tokenizer.get_vocab_size() == card["architecture"]["vocab_size"] == card["tokenizer"]["vocab_size"]
    assert tokenizer.token_to_id(tok.END_OF_TEXT) == 0
    assert 0 not in heldout_tokens  # the separator is a blank line, never the special token
    assert max(heldout_tokens) < tokenizer.get_vocab_size()
    assert card["data"]["tokens"]["heldout"] == len(heldout_tokens)
    digest = hashlib.sha256((FIXTURE_DIR / "tokenizer.json").read_bytes()).hexdigest()
    assert card["tokenizer"]["sha256"] == digest


def test_training_is_deterministic_on_a_small_corpus() -> None:
    texts = [f"Speech {i}: the state of the union is strong, said president number {i}." * 20 for i in range(30)]
    first = tok.train_tokenizer(texts, vocab_size=300)
    second = tok.train_tokenizer(texts, vocab_size=300)
    assert first.to_str() == second.to_str()


@pytest.mark.slow
def test_retraining_reproduces_the_committed_tokenizer(sotu_dir: Path) -> None:
    speeches = data.split_by_year(data.load_speeches(sotu_dir)).tokenizer_corpus
    retrained = tok.train_tokenizer([s.text for s in speeches])
    assert retrained.to_str() == tok.load(FIXTURE_DIR / "tokenizer.json").to_str()
