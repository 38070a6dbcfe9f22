"""The slowed-down copy gives exactly the same logits as the fixture, with more nodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from tr118_native.fixture.slowdown import slow_down

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "model" / "model.onnx"


def test_same_logits_more_work(tmp_path: Path) -> None:
    model = onnx.load(str(FIXTURE))
    slowed = slow_down(model, extra=4)
    assert len(slowed.graph.node) == len(model.graph.node) + 6
    path = tmp_path / "slow.onnx"
    onnx.save(slowed, str(path))
    ids = np.random.default_rng(0).integers(1, 4096, size=(2, 16), dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    (expected,) = ort.InferenceSession(str(FIXTURE), providers=["CPUExecutionProvider"]).run(["logits"], feeds)
    (actual,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["logits"], feeds)
    np.testing.assert_array_equal(actual, expected)


def test_refuses_zero_extra() -> None:
    with pytest.raises(ValueError, match="extra must be"):
        slow_down(onnx.load(str(FIXTURE)), extra=0)
