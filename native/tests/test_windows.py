"""The perplexity loop every engine shares (worker/windows.py): a finite model is scored, a broken one is not."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from tr118_native.worker.errors import WorkerError
from tr118_native.worker.windows import score_windows

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
