"""Sliding-window perplexity, exactly as src/accuracy/perplexity.ts defines it (docs/verdict.md "Perplexity").

The window plan must be the TypeScript one to the token: test/integration/pytorch.test.ts compares the two.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tr118_native.worker.errors import WorkerError


@dataclass(frozen=True)
class Window:
    start: int  # tokens [start, end) are fed to the model
    end: int
    score_from: int  # targets [score_from, end) are scored, each from the logits one position earlier


def plan_windows(token_count: int, window_tokens: int, stride_tokens: int) -> list[Window]:
    if window_tokens < 2:
        raise ValueError(f"window must be an integer ≥ 2, got {window_tokens}")
    if not 1 <= stride_tokens <= window_tokens:
        raise ValueError(f"stride must be an integer in 1..window ({window_tokens}), got {stride_tokens}")
    if token_count < 2:
        raise ValueError(f"perplexity needs at least 2 tokens, got {token_count}")
    windows: list[Window] = []
    scored_up_to = 1  # position 0 has no context and is never a target
    k = 0
    while scored_up_to < token_count:
        # Never start past the first unscored target's predecessor (stride = window overlaps by one token).
        start = min(k * stride_tokens, scored_up_to - 1)
        end = min(start + window_tokens, token_count)
        if end > scored_up_to:
            windows.append(Window(start, end, scored_up_to))
            scored_up_to = end
        k += 1
    return windows


#: Rows of a window's logits converted to float64 at a time: about 8 MB each for a 50k vocabulary. The whole window
#: at once (1023 x 50257, 411 MB per float64 temporary) took 3.0-4.8 s on the 2-core VM on a process's first window
#: and at times later (fresh pages from the kernel; 0.16 s otherwise), these chunks 0.2 s every time; each row's
#: figure is computed alone either way, so the sum is the same to the bit (native/tests/test_windows.py).
CHUNK_ELEMENTS = 1 << 20


def window_nll(logits: npt.NDArray[np.floating], tokens: npt.NDArray[np.int64], window: Window) -> float:
    """Sum of -log p(target) over the window's targets, from its logits [end - start, vocab]; float64 throughout,
    log-sum-exp shifted by the row maximum."""
    first, last = window.score_from - 1 - window.start, window.end - 1 - window.start
    targets = tokens[window.score_from : window.end]
    picked = logits[np.arange(first, last), targets].astype(np.float64)
    log_z = np.empty(last - first, dtype=np.float64)
    step = max(1, CHUNK_ELEMENTS // max(1, logits.shape[-1]))
    # Broken logits (NaN, infinity) give a non-finite sum, which the caller reports: numpy need not warn as well.
    with np.errstate(invalid="ignore", over="ignore"):
        for at in range(first, last, step):
            rows = logits[at : min(at + step, last)].astype(np.float64)
            peak = rows.max(axis=-1, keepdims=True)
            log_z[at - first : at - first + len(rows)] = np.log(np.exp(rows - peak).sum(axis=-1)) + peak[:, 0]
        return float((log_z - picked).sum())


def non_finite(k: int, count: int, w: Window) -> WorkerError:
    """A model whose logits hold NaN or infinity has no perplexity: a degraded reply naming the window, which the
    runner's accuracy gate fails (the same words as src/engines/onnxruntime/session.ts)."""
    return WorkerError(
        "degraded",
        f"non-finite logits (NaN or infinity) in perplexity window {k + 1} of {count} (tokens {w.start}..{w.end}): "
        "the model's output is broken",
    )


def score_windows(
    request: dict[str, Any], window_logits: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.floating]]
) -> dict[str, Any]:
    """The `perplexity` reply of every engine: windows as plan_windows cuts the request's tokens, each window's ids
    [end - start] given to `window_logits`, which returns that window's logits [end - start, vocab] on the host;
    only one window's logits are alive at a time, and none of this is inside a timed pass."""
    started = time.perf_counter()
    tokens = np.asarray(request["tokens"], dtype=np.int64)
    windows = plan_windows(len(tokens), int(request["windowTokens"]), int(request["strideTokens"]))
    nll_sum, scored = 0.0, 0
    for k, w in enumerate(windows):
        logits = window_logits(tokens[w.start : w.end])
        nll = window_nll(logits, tokens, w)
        del logits
        if not math.isfinite(nll):
            raise non_finite(k, len(windows), w)
        nll_sum += nll
        scored += w.end - w.score_from
    return {
        "nllSum": nll_sum,
        "scoredTokens": scored,
        "windows": len(windows),
        "elapsedMs": (time.perf_counter() - started) * 1000,
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
