"""Perplexity's per-window cost, chunked (worker/windows.py window_nll) against the whole window at once (its formula
before the chunks), on GPT-2-sized logits (1024 x 50257, float32): three fresh windows each, in this process. Not part
of a run; run anywhere with native/ on PYTHONPATH:

    python3 scripts/device/nll-probe.py
"""

from __future__ import annotations

import time

import numpy as np
from tr118_native.worker.windows import Window, window_nll


def whole(logits: np.ndarray, tokens: np.ndarray, w: Window) -> float:
    rows = logits[w.score_from - 1 - w.start : w.end - 1 - w.start].astype(np.float64)
    targets = tokens[w.score_from : w.end]
    peak = rows.max(axis=-1, keepdims=True)
    log_z = np.log(np.exp(rows - peak).sum(axis=-1)) + peak[:, 0]
    return float((log_z - rows[np.arange(len(targets)), targets]).sum())


rng = np.random.default_rng(0)
tokens = rng.integers(0, 50257, size=1024)
window = Window(0, 1024, 1)
for name, f in (("whole window", whole), ("chunks of rows", window_nll)):
    seconds = []
    for _ in range(3):
        logits = (rng.normal(size=(1024, 50257)) * 5).astype(np.float32)
        began = time.perf_counter()
        f(logits, tokens, window)
        seconds.append(time.perf_counter() - began)
    print(f"{name}: " + ", ".join(f"{s:.2f}" for s in seconds) + " s per window")
