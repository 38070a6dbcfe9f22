"""The perplexity loop every engine shares (worker/windows.py): a finite model is scored, a broken one is not."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from tr118_native.worker import windows
from tr118_native.worker.errors import WorkerError
from tr118_native.worker.windows import Window, score_windows

REQUEST = {"tokens": list(range(10)) * 3, "windowTokens": 8, "strideTokens": 4}
VOCAB = 16


def uniform(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    return np.zeros((len(ids), VOCAB), dtype=np.float32)


def test_a_finite_model_is_scored_every_window() -> None:
    reply = score_windows(REQUEST, uniform)
    assert reply["scoredTokens"] == len(REQUEST["tokens"]) - 1
    assert reply["nllSum"] == pytest.approx(reply["scoredTokens"] * np.log(VOCAB))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_logits_are_a_degraded_reply_naming_the_window(value: float) -> None:
    calls = 0

    def broken_from_the_second(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        nonlocal calls
        calls += 1
        logits = uniform(ids)
        if calls == 2:
            logits[-2, 3] = value  # a scored row (a window scores its last rows but one; the first are context)
        return logits

    with pytest.raises(WorkerError) as raised:
        score_windows(REQUEST, broken_from_the_second)
    assert raised.value.kind == "degraded"
    assert raised.value.message.startswith("non-finite logits (NaN or infinity) in perplexity window 2 of ")
    assert "(tokens 4..12)" in raised.value.message


def whole_window_nll(logits: npt.NDArray[np.floating], tokens: npt.NDArray[np.int64], w: Window) -> float:
    """The formula on the whole window at once, as window_nll computed it before it went in chunks of rows."""
    rows = logits[w.score_from - 1 - w.start : w.end - 1 - w.start].astype(np.float64)
    targets = tokens[w.score_from : w.end]
    peak = rows.max(axis=-1, keepdims=True)
    log_z = np.log(np.exp(rows - peak).sum(axis=-1)) + peak[:, 0]
    return float((log_z - rows[np.arange(len(targets)), targets]).sum())


@pytest.mark.parametrize(
    ("rows", "vocab", "chunk"), [(97, 1000, 1 << 20), (97, 1000, 3000), (50, 7, 1), (40, 257, 10**9)]
)
def test_window_nll_in_chunks_of_rows_is_the_whole_window_formula_to_the_bit(
    rows: int, vocab: int, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chunk boundary inside the scored rows, a chunk smaller than one row, and one chunk for everything.
    monkeypatch.setattr(windows, "CHUNK_ELEMENTS", chunk)
    rng = np.random.default_rng(rows + vocab)
    logits = (rng.normal(size=(rows, vocab)) * 20).astype(np.float32)
    tokens = rng.integers(0, vocab, size=rows + 5)
    w = Window(start=5, end=rows + 5, score_from=9)
    assert windows.window_nll(logits, tokens, w) == whole_window_nll(logits, tokens, w)
