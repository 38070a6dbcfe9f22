"""The `export` and `build` requests through the worker process, and the TensorRT profile from the matrix.

The fixture checkpoint (fixtures/model/hf) is exported once per session; every check of the file reads that one
export. TensorRT is never installed here: its tests are the profile arithmetic and the `unavailable` reply.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FIXTURE_DIR, pinned_requirements
from test_worker import NATIVE, Driven

from tr118_native.worker.windows import plan_windows, window_nll

CHECKPOINT = FIXTURE_DIR / "hf"
PPL_TOKENS, PPL_WINDOW, PPL_STRIDE = 600, 128, 64


def tokens() -> list[int]:
    return json.loads((FIXTURE_DIR / "heldout.tokens.json").read_text(encoding="utf-8"))


def export_request(checkpoint: Path, out: Path, **over: Any) -> dict[str, Any]:
    ids = tokens()[1000 : 1000 + 2 * 64]
    return {
        "type": "export",
        "checkpointPath": str(checkpoint),
        "outPath": str(out),
        "exporter": "dynamo",
        "opset": 18,
        "dynamic": True,
        "int32Inputs": False,
        "trustPickle": False,
        "allowedWeightDifferences": [],
        "probe": {"batch": 2, "seqLen": 64, "inputIds": ids},
        **over,
    }


@pytest.fixture(scope="module")
def worker() -> Iterator[Driven]:
    """One worker process for every export here: each start imports torch, seconds on a 2-core machine."""
    driven = Driven()
    yield driven
    driven.close()


@pytest.fixture(scope="module")
def exported(worker: Driven, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    out = tmp_path_factory.mktemp("export")
    reply, _ = worker.ask(export_request(CHECKPOINT, out))  # no open first: export needs none
    assert reply["type"] == "exported", reply
    print(f"\nfixture export: {reply['exportMs']:.0f} ms (check {reply['checkMs']:.0f} ms)", file=sys.stderr)
    return reply, out / "model.onnx"


@pytest.fixture(scope="session")
def torch_model() -> Any:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    model = transformers.AutoModelForCausalLM.from_pretrained(CHECKPOINT, dtype=torch.float32)
    return model.eval()


@pytest.mark.torch
def test_the_export_reply_names_the_file_the_exporter_and_the_versions(exported: tuple[dict[str, Any], Path]) -> None:
    reply, onnx_path = exported
    assert reply["files"] == [{"name": "model.onnx", "bytes": onnx_path.stat().st_size}]
    assert reply["exporter"] == "dynamo"
    assert reply["opset"] == 18
    assert reply["externalData"] is False
    assert reply["exportMs"] > 0
    assert reply["checkMs"] > 0
    assert 0 < reply["probeMaxAbsDiff"] <= 1e-4
    import onnx
    import onnxruntime
    import torch
    import transformers

    assert reply["versions"] == {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "python": ".".join(map(str, sys.version_info[:3])),
    }
    assert not (onnx_path.parent / ".export-scratch").exists()


@pytest.mark.torch
def test_the_exported_graph_has_the_interface_and_dynamic_axes(exported: tuple[dict[str, Any], Path]) -> None:
    import onnx

    graph = onnx.load(str(exported[1]), load_external_data=False).graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in graph.output] == ["logits"]
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "sequence"]
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64


@pytest.mark.torch
def test_onnx_runtime_logits_of_the_export_match_pytorch(
    exported: tuple[dict[str, Any], Path], torch_model: Any
) -> None:
    import onnxruntime as ort
    import torch

    ids = np.asarray(tokens()[5000 : 5000 + 3 * 37], dtype=np.int64).reshape(3, 37)  # another shape than the probe
    session = ort.InferenceSession(str(exported[1]), providers=["CPUExecutionProvider"])
    actual = session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
    with torch.inference_mode():
        expected = torch_model(input_ids=torch.from_numpy(ids), use_cache=False).logits.numpy()
    assert actual.shape == (3, 37, 4096)
    assert float(np.abs(actual - expected).max()) <= 1e-4


@pytest.mark.torch
def test_perplexity_of_the_export_matches_the_checkpoint(
    exported: tuple[dict[str, Any], Path], torch_model: Any
) -> None:
    import onnxruntime as ort
    import torch

    held = np.asarray(tokens()[:PPL_TOKENS], dtype=np.int64)
    session = ort.InferenceSession(str(exported[1]), providers=["CPUExecutionProvider"])
    onnx_nll = torch_nll = 0.0
    windows = plan_windows(len(held), PPL_WINDOW, PPL_STRIDE)
    for w in windows:
        ids = held[w.start : w.end][None, :]
        onnx_logits = session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        with torch.inference_mode():
            torch_logits = torch_model(input_ids=torch.from_numpy(ids), use_cache=False).logits[0].numpy()
        onnx_nll += window_nll(onnx_logits, held, w)
        torch_nll += window_nll(torch_logits, held, w)
    scored = len(held) - 1
    onnx_ppl, torch_ppl = np.exp(onnx_nll / scored), np.exp(torch_nll / scored)
    assert len(windows) == 9
    assert 20 < torch_ppl < 400  # a trained model, not a random one
    assert onnx_ppl == pytest.approx(torch_ppl, rel=1e-6)


@pytest.mark.torch
def test_the_torchscript_export_gives_the_dynamo_exports_logits_and_perplexity(
    worker: Driven, exported: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    """Two exporters, two graphs, one function: the same logits within fp32 rounding, the same perplexity."""
    import onnxruntime as ort

    reply, _ = worker.ask(export_request(CHECKPOINT, tmp_path, exporter="torchscript", opset=17))
    assert reply["type"] == "exported", reply
    assert (reply["exporter"], reply["opset"]) == ("torchscript", 17)
    held = np.asarray(tokens()[:PPL_TOKENS], dtype=np.int64)
    sessions = [
        ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (exported[1], tmp_path / "model.onnx")
    ]
    nll = [0.0, 0.0]
    largest_difference = 0.0
    for w in plan_windows(len(held), PPL_WINDOW, PPL_STRIDE):
        ids = held[w.start : w.end][None, :]
        logits = [s.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0] for s in sessions]
        largest_difference = max(largest_difference, float(np.abs(logits[0] - logits[1]).max()))
        nll = [n + window_nll(x, held, w) for n, x in zip(nll, logits, strict=True)]
    assert largest_difference < 1e-3
    assert np.exp(nll[0] / (len(held) - 1)) == pytest.approx(np.exp(nll[1] / (len(held) - 1)), rel=1e-6)


def test_an_unknown_exporter_is_refused() -> None:
    from tr118_native.worker.errors import WorkerError
    from tr118_native.worker.onnx_export import ExportSpec

    with pytest.raises(WorkerError, match=r"exporter 'jit', expected one of \['dynamo', 'torchscript'\]"):
        ExportSpec.from_request(export_request(CHECKPOINT, Path("out"), exporter="jit"))


@pytest.mark.torch
def test_int32_static_export_with_external_data(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import onnx
    import onnxruntime as ort

    from tr118_native.worker.onnx_export import export

    request = export_request(CHECKPOINT, tmp_path, dynamic=False, int32Inputs=True)
    # A threshold of 0 takes the path a model of 2 GiB or more takes, on the small fixture.
    reply = export(request, external_data_threshold_bytes=0)
    assert reply["externalData"] is True
    names = [f["name"] for f in reply["files"]]
    assert names == ["model.onnx", "model.onnx.data"]
    # The weights are in the data file; the graph file keeps what the dynamo exporter folded into small constants
    graph_bytes, data_bytes = ((tmp_path / name).stat().st_size for name in ("model.onnx", "model.onnx.data"))
    assert graph_bytes * 4 < data_bytes
    graph = onnx.load(str(tmp_path / "model.onnx"), load_external_data=False).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT32
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim] == [2, 64]
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    ids = np.asarray(request["probe"]["inputIds"], dtype=np.int32).reshape(2, 64)
    assert session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0].shape == (2, 64, 4096)
    assert reply["probeMaxAbsDiff"] <= 1e-4


@pytest.mark.torch
def test_an_export_over_the_tolerance_is_degraded_with_the_largest_difference(worker: Driven, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    reply, _ = worker.ask(export_request(CHECKPOINT, tmp_path, toleranceAbs=1e-12))
    assert reply["type"] == "error"
    assert reply["kind"] == "degraded"
    assert "differ from PyTorch's by up to" in reply["message"]
    assert "not used" in reply["message"]


def write_bad_source(folder: Path, case: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if case == "not-a-causal-lm":  # an image encoder: config.json names an architecture no causal LM class has
        (folder / "config.json").write_text(json.dumps({"model_type": "vit", "architectures": ["ViTModel"]}))
        (folder / "model.safetensors").write_bytes(b"\0" * 16)
    elif case == "no-architectures":  # nothing for the TypeScript side to check: transformers finds no causal LM class
        (folder / "config.json").write_text(json.dumps({"model_type": "t5", "vocab_size": 64}))
        (folder / "model.safetensors").write_bytes(b"\0" * 16)
    elif case == "no-weights":
        (folder / "config.json").write_text((CHECKPOINT / "config.json").read_text())
    elif case == "pickle-only":
        (folder / "config.json").write_text((CHECKPOINT / "config.json").read_text())
        (folder / "pytorch_model.bin").write_bytes(b"\0" * 16)


@pytest.mark.torch
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "not a folder (a Hugging Face checkpoint folder was expected)"),
        ("not-a-causal-lm", "not a causal LM transformers can load"),
        ("no-architectures", "expected a checkpoint that transformers.AutoModelForCausalLM loads"),
        ("no-weights", "no *.safetensors (or *.bin) weights"),
        ("pickle-only", "convert them to safetensors, or set model.trust_pickle: true"),
    ],
)
def test_a_bad_source_gives_one_clear_line(worker: Driven, tmp_path: Path, case: str, expected: str) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    source = tmp_path / "source"
    if case != "missing":
        write_bad_source(source, case)
    reply, _ = worker.ask(export_request(source, tmp_path / "out"))
    assert reply["type"] == "error"
    assert reply["kind"] == "failed"
    assert expected in reply["message"]
    assert str(source) in reply["message"]
    assert "\n" not in reply["message"]
    assert not (tmp_path / "out" / "model.onnx").exists()


def poisoned(tmp_path: Path, module: str) -> dict[str, str]:
    """A package that cannot be imported stands in for a Python without it."""
    (tmp_path / module).mkdir()
    (tmp_path / module / "__init__.py").write_text(
        f'raise ImportError("No module named {module!r}", name={module!r})\n'
    )
    return {"PYTHONPATH": f"{tmp_path}{os.pathsep}{NATIVE}"}


def test_an_export_without_torch_is_unavailable_with_the_install_line(tmp_path: Path) -> None:
    worker = Driven(poisoned(tmp_path, "torch"))
    reply, _ = worker.ask(export_request(CHECKPOINT, tmp_path / "out"))
    worker.close()
    assert reply["kind"] == "unavailable"
    assert reply["message"].startswith(f"torch is not installed for {sys.executable}")
    assert f"{sys.executable} -m pip install numpy==2.4.6 torch==2.11.0 transformers==5.17.0 onnx==" in reply["message"]


def test_the_export_install_line_pins_what_the_locks_pin() -> None:
    from tr118_native.worker.onnx_export import EXPORT_REQUIREMENTS
    from tr118_native.worker.trt_engine import COMPANIONS

    pinned = pinned_requirements()
    for requirement in [*EXPORT_REQUIREMENTS.split(), *COMPANIONS.split()]:
        assert requirement in pinned


# ---- TensorRT: never installed here ----


PROFILE = {"min": [1, 2], "opt": [4, 128], "max": [4, 512]}


def build_request(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "type": "build",
        "onnxPath": str(FIXTURE_DIR / "model.onnx"),
        "outPath": str(tmp_path / "model.engine"),
        "precision": "fp16",
        "precisionPath": "tensorrt10-builder-flag-fp16",
        "profiles": {"input_ids": PROFILE, "attention_mask": PROFILE},
        "deviceId": 0,
        "builder": {"workspaceBytes": 2**30},
    }
    request.update(changes)
    return request


def test_tensorrt_open_probe_and_build_are_unavailable_with_the_install_line(tmp_path: Path) -> None:
    from tr118_native.worker.trt_engine import TENSORRT_VERSION

    # Deterministic whether or not some Python here has tensorrt: an unimportable stand-in shadows it.
    worker = Driven(poisoned(tmp_path, "tensorrt"))
    backend = {
        "name": "tensorrt-fp16",
        "engine": "tensorrt",
        "precision": "fp16",
        "deviceId": 0,
        "intraOpThreads": 0,
        "interOpThreads": 0,
        "modelPath": "x.engine",
        "logitsOutput": "logits",
    }
    opened, _ = worker.ask({"type": "open", "backend": backend})
    probed, _ = worker.ask({"type": "probe", "engine": "tensorrt", "deviceId": 0})
    built, _ = worker.ask(build_request(tmp_path))
    worker.close()
    for reply in (opened, probed, built):
        assert reply["type"] == "error"
        assert reply["kind"] == "unavailable"
        assert f"pip install tensorrt-cu13=={TENSORRT_VERSION}" in reply["message"]
        assert "NVIDIA's index" in reply["message"]
    assert not (tmp_path / "model.engine").exists()


def stand_in_tensorrt(tmp_path: Path, version: str, smi: str | None) -> dict[str, str]:
    """A `tensorrt` module that has only __version__ (all the probe and the build's first checks read) and an
    `nvidia-smi` that prints `smi` (None: no nvidia-smi on PATH)."""
    (tmp_path / "tensorrt").mkdir()
    (tmp_path / "tensorrt" / "__init__.py").write_text(f"__version__ = {version!r}\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if smi is not None:
        script = bin_dir / "nvidia-smi"
        script.write_text(f"#!/bin/sh\n{smi}\n")
        script.chmod(0o755)
    return {"PYTHONPATH": f"{tmp_path}{os.pathsep}{NATIVE}", "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"}


@pytest.mark.torch  # the TensorRT worker needs torch (CUDA buffers), even to answer a probe
@pytest.mark.parametrize(
    ("version", "smi", "expected"),
    [
        ("10.13.3.9", "echo '9.0, NVIDIA H200'", {"tensorrtVersion": "10.13.3.9", "computeCapability": "9.0"}),
        ("11.4.0.106", "echo '12.0, NVIDIA RTX PRO 6000'", {"computeCapability": "12.0"}),
        ("10.13.3.9", None, "no NVIDIA GPU: nvidia-smi"),
        ("10.13.3.9", "echo 'No devices were found' >&2; exit 6", "No devices were found"),
        ("10.13.3.9", "echo '[N/A], NVIDIA H200'", "no compute capability for GPU 0"),
        ("8.6.1", "echo '9.0, NVIDIA H200'", "TensorRT 8.6.1 for"),
        # Two GPUs of one model: nvidia-smi's order does not matter.
        ("10.13.3.9", "printf '9.0, NVIDIA H200\\n9.0, NVIDIA H200\\n'", {"computeCapability": "9.0"}),
        # Two models: only CUDA knows which one device 0 is; torch here sees no GPU.
        ("10.13.3.9", "printf '9.0, NVIDIA H200\\n8.9, NVIDIA L4\\n'", "no CUDA device 0: torch sees 0"),
    ],
)
def test_the_probe_reads_tensorrt_and_the_gpu(
    tmp_path: Path, version: str, smi: str | None, expected: dict[str, str] | str
) -> None:
    worker = Driven(stand_in_tensorrt(tmp_path, version, smi))
    reply, _ = worker.ask({"type": "probe", "engine": "tensorrt", "deviceId": 0})
    worker.close()
    if isinstance(expected, str):
        assert reply["kind"] == "unavailable"
        assert expected in reply["message"]
    else:
        assert reply["type"] == "probed"
        assert reply | expected == reply


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"precisionPath": "tensorrt11-strongly-typed-fp16"}, "takes 'tensorrt10-builder-flag-fp16' for fp16"),
        ({"onnxPath": "/nowhere/model.onnx"}, "/nowhere/model.onnx: no such ONNX file"),
    ],
)
def test_a_build_this_tensorrt_cannot_take_is_refused(tmp_path: Path, changes: dict[str, Any], expected: str) -> None:
    worker = Driven(stand_in_tensorrt(tmp_path, "10.13.3.9", "echo '9.0, NVIDIA H200'"))
    reply, _ = worker.ask(build_request(tmp_path, **changes))
    worker.close()
    assert reply["kind"] == "failed"
    assert expected in reply["message"]
    assert not (tmp_path / "model.engine").exists()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"profiles": {"input_ids": {"min": [1, 256], "opt": [4, 128], "max": [4, 512]}}},
            "bad request: profile of input_ids: min ≤ opt ≤ max must hold per dimension",
        ),
        ({"profiles": {"ids": PROFILE}}, "bad request: profiles for ['ids']; expected ['input_ids', 'attention_mask']"),
        # Checked against the schema generated from the TypeScript side (worker/schema.py), before TensorRT is needed.
        ({"builder": None}, "bad request: build.builder: expected object, got null"),
        ({"precision": "bf16"}, 'bad request: build.precision: expected one of fp32, fp16, int8, got "bf16"'),
        (
            {"precision": "int8", "precisionPath": "tensorrt10-builder-flag-int8-entropy-calibrated"},
            "an int8 build on TensorRT 10 needs calibrationBatches and ≥ 512 calibrationTokens (one 4x128 batch)",
        ),
    ],
)
def test_a_bad_build_request_is_refused_before_tensorrt_is_needed(
    worker: Driven, tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    reply, _ = worker.ask(build_request(tmp_path, **changes))
    assert reply["kind"] == "failed"
    assert expected in reply["message"]


class _Enum:
    """Stand-ins for the few TensorRT enums check_typed_precision compares (identity is all it uses)."""

    class DataType:
        FLOAT, HALF, BF16, INT8, FP8 = "float", "half", "bf16", "int8", "fp8"

    class LayerType:
        QUANTIZE, MATRIX_MULTIPLY = "quantize", "matmul"


def network_of(*layers: tuple[str, str]) -> Any:
    """A network of (layer type, output dtype) layers, shaped like TensorRT's INetworkDefinition for the reads made."""
    from types import SimpleNamespace

    made = [
        SimpleNamespace(type=kind, num_outputs=1, get_output=lambda _j, d=dtype: SimpleNamespace(dtype=d))
        for kind, dtype in layers
    ]
    return SimpleNamespace(num_layers=len(made), get_layer=lambda i: made[i])


FP32_NET = (("matmul", "float"),)
FP16_NET = (("matmul", "half"),)
INT8_NET = (("quantize", "int8"), ("matmul", "float"))
FP8_NET = (("quantize", "fp8"), ("matmul", "half"))


@pytest.mark.parametrize(
    ("precision", "layers", "refused"),
    [
        ("fp32", FP32_NET, None),
        ("fp16", FP16_NET, None),
        ("int8", INT8_NET, None),
        ("fp16", FP32_NET, "the graph is fp32"),
        ("fp32", FP16_NET, "the graph is fp16"),
        ("fp32", INT8_NET, "the graph is int8"),
        ("int8", FP32_NET, "int8 only from explicit int8 Q/DQ"),
        ("int8", FP8_NET, "the graph is quantized (not int8)"),
    ],
)
def test_tensorrt11_builds_only_the_precision_the_file_holds(
    precision: str, layers: tuple[tuple[str, str], ...], refused: str | None
) -> None:
    from tr118_native.worker.errors import WorkerError
    from tr118_native.worker.trt_engine import check_typed_precision

    if refused is None:
        check_typed_precision(_Enum, network_of(*layers), precision, Path("m.onnx"))
        return
    with pytest.raises(WorkerError) as caught:
        check_typed_precision(_Enum, network_of(*layers), precision, Path("m.onnx"))
    assert refused in caught.value.message
    assert caught.value.message.startswith("m.onnx: ")
