"""
The `derive` request through the worker process: precision variants of the fixture's fp32 ONNX file and ONNX
Runtime's transformer fusions of it, alone and before fp16 (issue 22).
"""

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
        ({"transform": None}, "names neither a transform nor optimize"),
        ({"optimize": {"modelType": "gpt2"}}, "optimize.numHeads None, expected an integer >= 0"),
        (
            {"optimize": {**{"modelType": "gpt2", "numHeads": 0, "hiddenSize": 0, "useGpu": False, "optLevel": 2}}},
            "optimize.optLevel 2, expected 0",
        ),
    ],
)
def test_a_bad_derive_request_is_one_clear_line(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    from tr118_native.worker.derive import derive
    from tr118_native.worker.errors import WorkerError

    request = {"sourcePath": str(SOURCE), "outPath": str(tmp_path), "transform": "fp16", **change}
    if request["transform"] is None:
        del request["transform"]
    with pytest.raises(WorkerError) as raised:
        derive(request)
    assert expected in str(raised.value)
    assert not (tmp_path / "model.onnx").exists()


# The fixture's checkpoint (fixtures/model/hf/config.json): GPT-2, 4 heads, 128 wide, 4 layers.
GPT2 = {"modelType": "gpt2", "numHeads": 4, "hiddenSize": 128, "useGpu": False, "optLevel": 0}


def op_types(path: Path) -> set[str]:
    import onnx

    return {n.op_type for n in onnx.load(str(path)).graph.node}


@pytest.mark.parametrize(("transform", "largest_difference"), [(None, 1e-3), ("fp16", 0.1)])
def test_transformer_fusions_are_counted_and_keep_the_logits(
    tmp_path: Path, ids: Any, transform: str | None, largest_difference: float
) -> None:
    import onnx

    worker = Driven()
    request = {"type": "derive", "sourcePath": str(SOURCE), "outPath": str(tmp_path), "optimize": GPT2}
    reply, _ = worker.ask({**request, **({"transform": transform} if transform else {})})
    worker.close()
    assert reply["type"] == "derived", reply
    # Per block of the fixture's 4: two SkipLayerNormalization (attention and MLP residuals), one FastGelu.
    fusions = reply["optimizer"]["fusions"]
    assert fusions["SkipLayerNormalization"] == 8
    assert fusions["FastGelu"] == 4
    assert reply["optimizer"]["note"] is None
    # optimizer.json beside the file says the same (a cache hit reads it there)
    assert json.loads((tmp_path / "optimizer.json").read_text(encoding="utf-8")) == reply["optimizer"]
    assert {"SkipLayerNormalization", "FastGelu"} <= op_types(tmp_path / "model.onnx")
    assert "SkipLayerNormalization" not in op_types(SOURCE)
    model = onnx.load(reply["file"])
    assert [i.type.tensor_type.elem_type for i in model.graph.input] == [onnx.TensorProto.INT64] * 2
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in model.graph.initializer) == (transform == "fp16")
    expected, actual = logits(SOURCE, ids), logits(tmp_path / "model.onnx", ids)
    assert float(np.abs(actual - expected).max()) < largest_difference
    assert (actual.argmax(-1) == expected.argmax(-1)).mean() > 0.85


@pytest.mark.parametrize(
    ("model_type", "broken", "expected_note"),
    [
        ("llama", False, "does not know model type 'llama' (it knows "),
        (None, False, "no model type to fuse for"),
        ("gpt2", True, "failed on this gpt2 graph (RuntimeError: pattern exploded)"),
    ],
)
def test_an_unknown_model_type_or_a_failing_optimizer_is_a_note_and_the_file_runs_unfused(
    tmp_path: Path, ids: Any, monkeypatch: pytest.MonkeyPatch, model_type: str | None, broken: bool, expected_note: str
) -> None:
    from tr118_native.worker.derive import derive

    if broken:
        import onnxruntime.transformers.optimizer as optimizer

        def explode(*_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError("pattern exploded\nsecond line")

        monkeypatch.setattr(optimizer, "optimize_model", explode)
    optimize = {**GPT2, "modelType": model_type}
    if model_type is None:
        del optimize["modelType"]  # what the runner sends when config.json gave none
    reply = derive({"sourcePath": str(SOURCE), "outPath": str(tmp_path), "optimize": optimize})
    assert expected_note in reply["optimizer"]["note"]
    assert "the file is used unfused" in reply["optimizer"]["note"]
    assert reply["optimizer"]["fusions"] == {}
    assert "transform" not in reply
    # the unfused graph, as it was
    assert (tmp_path / "model.onnx").read_bytes() == SOURCE.read_bytes()
    assert np.array_equal(logits(tmp_path / "model.onnx", ids), logits(SOURCE, ids))


def test_an_unknown_model_type_with_fp16_is_the_plain_fp16_variant_with_a_note(tmp_path: Path) -> None:
    from tr118_native.worker.derive import derive

    plain = derive({"sourcePath": str(SOURCE), "outPath": str(tmp_path / "plain"), "transform": "fp16"})
    noted = derive(
        {
            "sourcePath": str(SOURCE),
            "outPath": str(tmp_path / "noted"),
            "transform": "fp16",
            "optimize": {**GPT2, "modelType": "llama"},
        }
    )
    assert "does not know model type 'llama'" in noted["optimizer"]["note"]
    assert Path(noted["file"]).read_bytes() == Path(plain["file"]).read_bytes()
