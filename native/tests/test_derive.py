"""The `derive` request through the worker process: precision variants of the fixture's fp32 ONNX file (issue 22)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FIXTURE_DIR
from test_worker import Driven

SOURCE = FIXTURE_DIR / "model.onnx"


def logits(path: Path, ids: Any) -> Any:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]


@pytest.fixture(scope="module")
def ids() -> Any:
    tokens = json.loads((FIXTURE_DIR / "heldout.tokens.json").read_text(encoding="utf-8"))
    return np.asarray(tokens[2000 : 2000 + 2 * 64], dtype=np.int64).reshape(2, 64)


@pytest.mark.parametrize(
    ("transform", "weight_type", "largest_difference"),
    [("int8-dynamic", "MatMulInteger", 2.0), ("fp16", "float16", 0.1)],
)
def test_a_variant_is_written_with_the_io_types_kept_and_close_logits(
    tmp_path: Path, ids: Any, transform: str, weight_type: str, largest_difference: float
) -> None:
    import onnx
    import onnxruntime

    worker = Driven()
    reply, _ = worker.ask(
        {"type": "derive", "sourcePath": str(SOURCE), "outPath": str(tmp_path), "transform": transform}
    )
    worker.close()
    assert reply["type"] == "derived", reply
    assert reply["file"] == str(tmp_path / "model.onnx")
    assert reply["versions"] == {"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__}
    model = onnx.load(reply["file"])
    # Callers still feed int64 ids and read fp32 logits.
    assert [i.type.tensor_type.elem_type for i in model.graph.input] == [onnx.TensorProto.INT64] * 2
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    if weight_type == "float16":
        assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in model.graph.initializer)
    else:
        assert any(n.op_type == weight_type for n in model.graph.node)
    expected, actual = logits(SOURCE, ids), logits(tmp_path / "model.onnx", ids)
    assert actual.dtype == np.float32
    difference = float(np.abs(actual - expected).max())
    assert 0 < difference < largest_difference
    # the same next-token choice almost everywhere: a variant, not another model
    assert (actual.argmax(-1) == expected.argmax(-1)).mean() > 0.85


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"transform": "int4"}, "transform 'int4', expected one of ['int8-dynamic', 'fp16']"),
        ({"sourcePath": "/nowhere/model.onnx"}, "/nowhere/model.onnx: no such ONNX file"),
    ],
)
def test_a_bad_derive_request_is_one_clear_line(tmp_path: Path, change: dict[str, str], expected: str) -> None:
    from tr118_native.worker.derive import derive
    from tr118_native.worker.errors import WorkerError

    request = {"sourcePath": str(SOURCE), "outPath": str(tmp_path), "transform": "fp16", **change}
    with pytest.raises(WorkerError) as raised:
        derive(request)
    assert expected in str(raised.value)
    assert not (tmp_path / "model.onnx").exists()
