"""The synthetic benchmark model has the fixture's interface and the requested vocabulary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from tr118_native.fixture.synthetic import synthetic_model


def test_synthetic_model_runs_with_the_lm_interface(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.onnx"
    path.write_bytes(synthetic_model(vocab_size=1000, hidden=8).SerializeToString())
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask"]
    ids = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
    mask = np.array([[1, 1, 1], [1, 1, 0]], dtype=np.int64)
    (logits,) = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
    assert logits.shape == (2, 3, 1000)
    assert logits.dtype == np.float32
    assert np.all(logits[1, 2] == 0)  # a padded position has a zero hidden state
    assert np.any(logits[0, 0] != 0)
