"""The `export` request: a Hugging Face causal LM checkpoint to an ONNX file, checked before anyone measures it.

Two exporters, the request names which (model.export.exporter): `dynamo` (`torch.onnx.export(..., dynamo=True)`,
torch's default since 2.9, opset 18 by default) and `torchscript` (the legacy tracer, `dynamo=False`, opset 17).
dynamo is the default because it is what users deploy, and its graph is the faster one: on the H200 (ONNX Runtime
1.30 CUDA, IO binding, GPT-2-small-sized checkpoint) the dynamo export ran 1x128 in 2.11 ms against 3.97 ms for the
TorchScript one, 4x128 in 2.58 against 4.80 ms, with max |delta logit| 1e-4 between them (issue 22). TorchScript
exported faster (10-15 s against 18 s there), but the export is paid once per content hash and the forward pass on
every PR. The committed fixture `model.onnx` came from `torchscript_export` (`fixture/export.py`). An exporter this
torch lacks (no onnxscript for dynamo, no TorchScript exporter in a future torch) is an `unavailable` or `failed`
export naming what to install, never a silent switch to the other exporter: the exporter is part of the artifact's
key.

The graph: `input_ids`, `attention_mask` → `logits` only (no KV cache, `use_cache=False`), batch and sequence
dynamic unless asked otherwise. Files stay under protobuf's 2 GiB limit: a model whose weights reach it is written
as `model.onnx` + one external data file `model.onnx.data`.
"""

from __future__ import annotations

import platform
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tr118_native.worker.errors import WorkerError

EXPORTERS = ("dynamo", "torchscript")
DEFAULT_EXPORTER = "dynamo"
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "logits"
ONNX_FILE = "model.onnx"
EXTERNAL_DATA_FILE = "model.onnx.data"
# protobuf refuses a message of 2 GiB or more; weights at or above this go to the external data file
PROTOBUF_LIMIT_BYTES = 2**31
DEFAULT_TOLERANCE = 1e-4  # max |Δlogit|, ONNX Runtime CPU vs PyTorch CPU, both fp32
EXPORT_REQUIREMENTS = (
    "numpy==2.4.6 torch==2.11.0 transformers==5.17.0 onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2 onnx-ir==1.1.0"
)


@dataclass(frozen=True)
class ExportSpec:
    checkpoint: Path
    out_dir: Path
    exporter: str
    opset: int
    dynamic: bool
    int32_inputs: bool
    trust_pickle: bool
    allowed_weight_differences: tuple[str, ...]
    probe_batch: int
    probe_seq_len: int
    probe_ids: list[int]
    tolerance: float

    @staticmethod
    def from_request(request: dict[str, Any]) -> ExportSpec:
        try:
            probe = request["probe"]
            spec = ExportSpec(
                checkpoint=Path(str(request["checkpointPath"])),
                out_dir=Path(str(request["outPath"])),
                exporter=str(request.get("exporter", DEFAULT_EXPORTER)),
                opset=int(request["opset"]),
                dynamic=bool(request["dynamic"]),
                int32_inputs=bool(request["int32Inputs"]),
                trust_pickle=bool(request.get("trustPickle", False)),
                allowed_weight_differences=tuple(str(k) for k in request.get("allowedWeightDifferences", [])),
                probe_batch=int(probe["batch"]),
                probe_seq_len=int(probe["seqLen"]),
                probe_ids=[int(i) for i in probe["inputIds"]],
                tolerance=float(request.get("toleranceAbs", DEFAULT_TOLERANCE)),
            )
        except (KeyError, TypeError) as missing:
            raise WorkerError("failed", f"bad request: the export request lacks {missing}") from None
        if spec.exporter not in EXPORTERS:
            raise WorkerError("failed", f"bad request: exporter {spec.exporter!r}, expected one of {list(EXPORTERS)}")
        if len(spec.probe_ids) != spec.probe_batch * spec.probe_seq_len:
            raise WorkerError(
                "failed",
                f"bad request: probe.inputIds has {len(spec.probe_ids)} ids, batch x seqLen is "
                f"{spec.probe_batch * spec.probe_seq_len}",
            )
        return spec


def import_export_libraries() -> dict[str, Any]:
    """torch, transformers, onnx and onnxruntime, or `unavailable` with the pip line (as torch_engine words it)."""
    try:
        import onnx
        import onnxruntime
        import torch
        import transformers
    except ImportError as error:
        raise WorkerError(
            "unavailable",
            f"{error.name or 'a module'} is not installed for {sys.executable} (Python {sys.version.split()[0]}); "
            f"install what an export needs with: {sys.executable} -m pip install {EXPORT_REQUIREMENTS} "
            "(or set TR118_PYTHON to a Python that has them)",
        ) from None
    return {"torch": torch, "transformers": transformers, "onnx": onnx, "onnxruntime": onnxruntime}


def logits_only(model: Any, int32_inputs: bool = False) -> Any:
    """forward(input_ids, attention_mask) -> logits, without cache or other outputs. With int32 inputs the graph
    takes int32 and casts to int64 first (the embedding's Gather wants int64 indices in PyTorch)."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            if int32_inputs:
                input_ids, attention_mask = input_ids.long(), attention_mask.long()
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    return LogitsOnly(model).eval()


def torchscript_export(
    model: Any, onnx_path: Path, *, opset: int, example_ids: Any, dynamic: bool = True, int32_inputs: bool = False
) -> None:
    """The one exporter call, shared with the fixture's export (so both make the same graph)."""
    import torch

    wrapper = logits_only(model, int32_inputs).to("cpu")
    ids = example_ids.to(torch.int32 if int32_inputs else torch.int64)
    dims = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        # chosen on purpose (module docstring): its deprecation notice is no news to the log reader
        warnings.filterwarnings("ignore", "You are using the legacy TorchScript-based ONNX export", DeprecationWarning)
        torch.onnx.export(
            wrapper,
            (ids, torch.ones_like(ids)),
            str(onnx_path),
            dynamo=False,
            opset_version=opset,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes={"input_ids": dims, "attention_mask": dims, OUTPUT_NAME: dims} if dynamic else None,
            do_constant_folding=True,
        )


def dynamo_export(
    model: Any, onnx_path: Path, *, opset: int, example_ids: Any, dynamic: bool = True, int32_inputs: bool = False
) -> None:
    """torch.onnx.export(dynamo=True): torch.export's graph, translated by onnxscript, with dynamic batch and sequence
    axes (torch.export.Dim) unless asked otherwise; one file (the caller moves weights to external data past 2 GiB)."""
    import torch

    try:
        import onnxscript  # noqa: F401  (torch imports it inside export; said here with the pip line instead)
    except ImportError:
        raise WorkerError(
            "unavailable",
            f"the dynamo exporter needs onnxscript, which is not installed for {sys.executable}; install it with: "
            f"{sys.executable} -m pip install onnxscript==0.7.2 onnx-ir==1.1.0 (or set model.export.exporter: "
            "torchscript)",
        ) from None
    wrapper = logits_only(model, int32_inputs).to("cpu")
    ids = example_ids.to(torch.int32 if int32_inputs else torch.int64)
    shapes = None
    if dynamic:
        batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
        shapes = {"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}}
    with torch.no_grad(), warnings.catch_warnings():
        # the exporter's notes on axis renaming and its progress lines say nothing the log reader can act on
        warnings.filterwarnings("ignore", "# The axis name", UserWarning)
        program = torch.onnx.export(
            wrapper,
            (ids, torch.ones_like(ids)),
            dynamo=True,
            opset_version=opset,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_shapes=shapes,
            verbose=False,
        )
    program.save(str(onnx_path), external_data=False)


def load_checkpoint(libs: dict[str, Any], spec: ExportSpec) -> Any:
    """fp32 on the CPU, eager attention (plain MatMul/Softmax ops that every ONNX backend, TensorRT too, runs)."""
    from tr118_native.worker.checkpoint import check_checkpoint, load_causal_lm

    check_checkpoint(spec.checkpoint, spec.trust_pickle)
    torch, transformers = libs["torch"], libs["transformers"]
    try:
        model = load_causal_lm(
            transformers,
            spec.checkpoint,
            spec.allowed_weight_differences,
            dtype=torch.float32,
            attn_implementation="eager",
            use_safetensors=not spec.trust_pickle or None,
        )
    except ValueError as error:  # a model_type with no causal LM class (t5, vit), or none transformers knows
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WorkerError(
            "failed",
            f"{spec.checkpoint}: not a causal LM transformers can load ({first_line.rstrip('.')}); expected a "
            "checkpoint that transformers.AutoModelForCausalLM loads (config.json model_type with a causal LM class, "
            "architectures *ForCausalLM or *LMHeadModel)",
        ) from None
    model.config.use_cache = False
    return model.eval()


def weight_bytes(model: Any) -> int:
    # Parameters and buffers as stored; the TorchScript exporter may store a tied head twice, so count it twice.
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    head = model.get_output_embeddings()
    extra = head.weight.numel() * head.weight.element_size() if tied and head is not None else 0
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors) + extra


def write_onnx(
    libs: dict[str, Any], model: Any, spec: ExportSpec, external_data_threshold_bytes: int
) -> tuple[list[Path], bool]:
    """Exports into a scratch folder inside out_dir, then moves the result into place: model.onnx alone, or
    model.onnx + model.onnx.data when the weights reach the threshold (the exporter itself scatters one file per
    tensor past 2 GiB; they are gathered into one)."""
    torch, onnx = libs["torch"], libs["onnx"]
    scratch = spec.out_dir / ".export-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    if spec.dynamic:
        # A shape that no dimension shares (2 ≠ 16), so the tracer cannot fuse batch and sequence.
        example = torch.randint(0, model.config.vocab_size, (2, 16), generator=torch.Generator().manual_seed(0))
    else:
        example = torch.tensor(spec.probe_ids, dtype=torch.int64).reshape(spec.probe_batch, spec.probe_seq_len)
    exporter = dynamo_export if spec.exporter == "dynamo" else torchscript_export
    try:
        exporter(
            model,
            scratch / ONNX_FILE,
            opset=spec.opset,
            example_ids=example,
            dynamic=spec.dynamic,
            int32_inputs=spec.int32_inputs,
        )
    except (AttributeError, NotImplementedError, TypeError) as error:
        if spec.exporter != "torchscript" or (
            "dynamo" not in str(error).lower() and "torchscript" not in str(error).lower()
        ):
            raise
        raise WorkerError(
            "failed",
            f"torch {torch.__version__} has no TorchScript ONNX exporter ({error}); "
            f"install torch==2.11.0: {sys.executable} -m pip install torch==2.11.0",
        ) from None
    target = spec.out_dir / ONNX_FILE
    data = spec.out_dir / EXTERNAL_DATA_FILE
    for stale in (target, data):
        stale.unlink(missing_ok=True)
    external = weight_bytes(model) >= external_data_threshold_bytes or len(list(scratch.iterdir())) > 1
    if external:
        proto = onnx.load(str(scratch / ONNX_FILE), load_external_data=True)
        onnx.save_model(
            proto,
            str(target),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data.name,
            # the dynamo exporter keeps some weights as Constant nodes: they go to the data file too
            convert_attribute=True,
        )
        files = [target, data]
    else:
        (scratch / ONNX_FILE).replace(target)
        files = [target]
    shutil.rmtree(scratch, ignore_errors=True)
    return files, external


def probe_difference(libs: dict[str, Any], model: Any, onnx_path: Path, spec: ExportSpec) -> tuple[float, float]:
    """(max |Δ|, max |Δ| / max |PyTorch logit|) between ONNX Runtime (CPU) and PyTorch on the probe batch."""
    torch, ort = libs["torch"], libs["onnxruntime"]
    ids = np.asarray(spec.probe_ids, dtype=np.int64).reshape(spec.probe_batch, spec.probe_seq_len)
    with torch.inference_mode():
        expected = model(input_ids=torch.from_numpy(ids), attention_mask=torch.ones_like(torch.from_numpy(ids)))
        expected = expected.logits.float().numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    dtype = np.int32 if spec.int32_inputs else np.int64
    feeds = {"input_ids": ids.astype(dtype), "attention_mask": np.ones_like(ids, dtype=dtype)}
    actual = session.run([OUTPUT_NAME], feeds)[0]
    if actual.shape != expected.shape:
        raise WorkerError(
            "degraded", f"exported logits have shape {list(actual.shape)}, PyTorch's {list(expected.shape)}"
        )
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(expected).max()) if expected.size else 0.0
    if not np.isfinite(max_abs):
        raise WorkerError("degraded", "exported logits differ from PyTorch's by a non-finite amount (NaN or inf)")
    return max_abs, (max_abs / scale if scale > 0 else max_abs)


def export(request: dict[str, Any], external_data_threshold_bytes: int = PROTOBUF_LIMIT_BYTES) -> dict[str, Any]:
    """The `export` request's work; returns the `exported` reply's fields (without type and id)."""
    spec = ExportSpec.from_request(request)
    libs = import_export_libraries()
    torch, onnx = libs["torch"], libs["onnx"]
    started = time.perf_counter()
    model = load_checkpoint(libs, spec)
    load_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    files, external = write_onnx(libs, model, spec, external_data_threshold_bytes)
    export_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    try:
        # By path: the checker then reads external data itself, and a model over 2 GiB never becomes one proto.
        onnx.checker.check_model(str(files[0]), full_check=True)
    except onnx.checker.ValidationError as error:
        first_line = str(error).strip().splitlines()[0]
        raise WorkerError("failed", f"{files[0]}: onnx.checker refused the export: {first_line}") from None
    check_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    max_abs, max_rel = probe_difference(libs, model, files[0], spec)
    probe_ms = (time.perf_counter() - started) * 1000
    if not max_abs <= spec.tolerance:
        raise WorkerError(
            "degraded",
            f"{files[0]}: ONNX Runtime's logits differ from PyTorch's by up to {max_abs:.3e} (relative "
            f"{max_rel:.3e}) on the {spec.probe_batch}x{spec.probe_seq_len} probe, over the {spec.tolerance:.0e} "
            "tolerance: the export is not used",
        )
    return {
        "files": [{"name": f.name, "bytes": f.stat().st_size} for f in files],
        "externalData": external,
        "loadMs": load_ms,
        "exportMs": export_ms,
        "checkMs": check_ms,
        "probeMs": probe_ms,
        "opset": spec.opset,
        "exporter": spec.exporter,
        "versions": {
            "torch": torch.__version__,
            "transformers": libs["transformers"].__version__,
            "onnx": onnx.__version__,
            "onnxruntime": libs["onnxruntime"].__version__,
            "python": platform.python_version(),
        },
        "probeMaxAbsDiff": max_abs,
        "probeMaxRelDiff": max_rel,
    }
