from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from tr118_native.fixture.perplexity import perplexity, sliding_windows, target_nll


@pytest.mark.parametrize(
    ("n", "window", "stride"),
    [
        (2, 512, 256),
        (511, 512, 256),
        (512, 512, 256),
        (513, 512, 256),
        (1300, 512, 256),
        (41949, 512, 256),
        (100, 8, 3),
        (17, 4, 1),
    ],
)
def test_every_token_after_the_first_is_scored_once_with_the_longest_context(n: int, window: int, stride: int) -> None:
    windows = sliding_windows(n, window, stride)
    scored = [t for w in windows for t in range(w.first_target, w.end)]
    assert scored == list(range(1, n))
    for w in windows:
        assert w.length <= window
        assert w.begin < w.first_target <= w.end
        # A later window would give more context only if it started earlier, which none does: the first window
        # reaching a target gives it the longest context possible under this stride.
        assert all(t - w.begin >= min(t, window - stride) for t in range(w.first_target, w.end))


def test_windows_for_the_standard_setting() -> None:
    windows = sliding_windows(1300, 512, 256)
    assert [(w.begin, w.end, w.first_target) for w in windows] == [
        (0, 512, 1),
        (256, 768, 512),
        (512, 1024, 768),
        (768, 1280, 1024),
        (1024, 1300, 1280),
    ]


@pytest.mark.parametrize(("n", "window", "stride"), [(1, 512, 256), (10, 1, 1), (10, 8, 9), (10, 8, 0), (10, 8, 8)])
def test_bad_arguments_are_rejected(n: int, window: int, stride: int) -> None:
    with pytest.raises(ValueError, match="need"):
        sliding_windows(n, window, stride)


def test_target_nll_is_minus_log_softmax() -> None:
    logits = np.array([[0.0, 1.0, 2.0], [1000.0, 0.0, -1000.0]], dtype=np.float32)
    nll = target_nll(logits, np.array([2, 0]))
    expected0 = -(2.0 - math.log(1 + math.e + math.e**2))
    assert nll[0] == pytest.approx(expected0, rel=1e-12)
    assert nll[1] == pytest.approx(0.0, abs=1e-12)  # stable for huge logits


def test_uniform_model_has_perplexity_equal_to_the_vocabulary() -> None:
    def uniform(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        return np.zeros((*ids.shape, 50), dtype=np.float32)

    result = perplexity(list(range(40)) * 30, uniform, window=64, stride=32)
    assert result.scored_tokens == 1199
    assert result.perplexity == pytest.approx(50.0, rel=1e-12)


def test_perplexity_uses_the_logit_before_each_target() -> None:
    # A model that always puts all mass on "previous token + 1" is perfect on a counting sequence.
    def counting(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        logits = np.full((*ids.shape, 100), -1e9)
        for p, token in enumerate(ids[0]):
            logits[0, p, (token + 1) % 100] = 0.0
        return logits

    result = perplexity([i % 100 for i in range(333)], counting, window=16, stride=5)
    assert result.perplexity == pytest.approx(1.0)
    assert result.scored_tokens == 332
