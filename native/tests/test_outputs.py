"""Copies of the fixture with other graph outputs: the same logits, found under another name, order or shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from tr118_native.fixture.outputs import rewrite

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "model" / "model.onnx"
IDS = np.random.default_rng(0).integers(1, 4096, size=(2, 16), dtype=np.int64)
FEEDS = {"input_ids": IDS, "attention_mask": np.ones_like(IDS)}


def _session(model: onnx.ModelProto, tmp_path: Path) -> ort.InferenceSession:
    path = tmp_path / "copy.onnx"
    onnx.save(model, str(path))
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def expected() -> np.ndarray:
    session = ort.InferenceSession(str(FIXTURE), providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], FEEDS)
    return logits


def test_extra_first_output(tmp_path: Path, expected: np.ndarray) -> None:
    session = _session(rewrite(onnx.load(str(FIXTURE)), "extra-first"), tmp_path)
    assert [o.name for o in session.get_outputs()] == ["last_hidden_state", "logits"]
    hidden, logits = session.run(None, FEEDS)
    assert hidden.shape == (2, 16, 128)
    np.testing.assert_array_equal(logits, expected)


def test_renamed(tmp_path: Path, expected: np.ndarray) -> None:
    session = _session(rewrite(onnx.load(str(FIXTURE)), "renamed", "scores"), tmp_path)
    assert [o.name for o in session.get_outputs()] == ["scores"]
    (scores,) = session.run(None, FEEDS)
    np.testing.assert_array_equal(scores, expected)


def test_flat(tmp_path: Path, expected: np.ndarray) -> None:
    session = _session(rewrite(onnx.load(str(FIXTURE)), "flat"), tmp_path)
    assert [o.name for o in session.get_outputs()] == ["logits"]
    (flat,) = session.run(None, FEEDS)
    assert flat.shape == (32, 4096)
    np.testing.assert_array_equal(flat, expected.reshape(32, 4096))


def test_refuses_unknown_variant() -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        rewrite(onnx.load(str(FIXTURE)), "sideways")
