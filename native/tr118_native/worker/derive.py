"""The `derive` request: a derived ONNX file of an fp32 export, made with ONNX Runtime's own tools.

Transforms (precision variants):

- `int8-dynamic`: dynamic int8 quantization of the MatMul weights (`onnxruntime.quantization.quantize_dynamic`,
  signed int8 weights, activations quantized at run time): the `onnxruntime-cpu-int8` backend.
- `fp16`: every float tensor to float16 with the graph's inputs and outputs kept as they were
  (`onnxruntime.transformers.float16.convert_float_to_float16(..., keep_io_types=True)`): the `onnxruntime-cuda-fp16`
  backend, whose callers still feed int64 ids and read fp32 logits.

`optimize` (a backend's `optimize: transformers`): ONNX Runtime's transformer fusions
(`onnxruntime.transformers.optimizer.optimize_model`) for the checkpoint's model type, applied FIRST, then the
transform if any (fused fp16 is the fastest GPT-2 file on the GPU that issue 22 measured). A model type the optimizer
does not know, or an optimizer that fails, is a note in `optimizer.json`, never a failure: the transform (or a copy
of the file) is then made from the unfused graph. The fusion counts go to `optimizer.json` beside the file, so a
cache hit reports them as the build did.

All come with the onnxruntime package (no other install); its version is in the derived file's cache key and its
fingerprint. The file is not checked here against the fp32 one: the run's perplexity gate holds it to its
precision's threshold, and its logits parity is reported, so a faster but wrong file fails there.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tr118_native.worker.errors import WorkerError

TRANSFORMS = ("int8-dynamic", "fp16")
VARIANT_FILE = "model.onnx"
OPTIMIZER_FILE = "optimizer.json"
# Python fusions only: ONNX Runtime's own pass (opt_level 1 and up) would run a session on the provider and may save
# provider-specific nodes (memory copies for the CUDA provider), which the file must not carry: the session that
# opens it applies ONNX Runtime's graph optimizations on its own provider anyway (graph_optimization: all).
OPT_LEVELS = (0,)


def derive(request: dict[str, Any]) -> dict[str, Any]:
    """The `derive` request's work; returns the `derived` reply's fields (without type and id)."""
    try:
        source = Path(str(request["sourcePath"]))
        out_dir = Path(str(request["outPath"]))
    except KeyError as missing:
        raise WorkerError("failed", f"bad request: the derive request lacks {missing}") from None
    transform = request.get("transform")
    optimize = request.get("optimize")
    if transform is None and optimize is None:
        raise WorkerError("failed", "bad request: the derive request names neither a transform nor optimize")
    if transform is not None and transform not in TRANSFORMS:
        raise WorkerError("failed", f"bad request: transform {transform!r}, expected one of {list(TRANSFORMS)}")
    if optimize is not None:
        check_optimize(optimize)
    what = transform or "optimized"
    if not source.is_file():
        raise WorkerError("failed", f"{source}: no such ONNX file to derive the {what} variant from")
    try:
        import onnx
        import onnxruntime
    except ImportError as error:
        raise WorkerError(
            "unavailable",
            f"{error.name or 'a module'} is not installed for {sys.executable}; install it with: "
            f"{sys.executable} -m pip install onnx==1.23.2 onnxruntime==1.32.0",
        ) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / VARIANT_FILE
    started = time.perf_counter()
    optimizer: dict[str, Any] | None = None
    fused = None
    if optimize is not None:
        fused, optimizer = fuse(source, optimize)
    if transform == "int8-dynamic":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
            quantize_from = source
            if fused is not None:
                quantize_from = Path(scratch) / "fused.onnx"
                fused.save_model_to_file(str(quantize_from))
            # MatMul only: the weights that hold the model; Gather (the embedding) stays fp32 so ids index exact rows.
            quantize_dynamic(
                str(quantize_from), str(target), op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8
            )
    elif transform == "fp16":
        if fused is not None:
            # The optimizer's own conversion: its symbolic shape inference types the fused com.microsoft operators,
            # which ONNX's shape inference does not know.
            fused.convert_float_to_float16(keep_io_types=True)
            fused.save_model_to_file(str(target))
        else:
            from onnxruntime.transformers.float16 import convert_float_to_float16

            model = onnx.load(str(source))
            converted = convert_float_to_float16(model, keep_io_types=True)
            onnx.save_model(converted, str(target))
    elif fused is not None:
        fused.save_model_to_file(str(target))
    else:
        # Nothing fused (noted): the backend still opens a file of its own, the unfused graph.
        shutil.copyfile(source, target)
    if optimizer is not None:
        (out_dir / OPTIMIZER_FILE).write_text(json.dumps(optimizer, sort_keys=True) + "\n", encoding="utf-8")
    derive_ms = (time.perf_counter() - started) * 1000
    return {
        "file": str(target),
        "bytes": target.stat().st_size,
        **({"transform": transform} if transform is not None else {}),
        **({"optimizer": optimizer} if optimizer is not None else {}),
        "deriveMs": derive_ms,
        "versions": {"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__},
    }


def check_optimize(optimize: Any) -> None:
    """The request's optimize object, as the runner sends it (a bad one is the runner's bug: one clear line)."""
    if not isinstance(optimize, dict):
        raise WorkerError("failed", f"bad request: optimize {optimize!r}, expected an object")
    model_type = optimize.get("modelType")
    if model_type is not None and not isinstance(model_type, str):
        raise WorkerError(
            "failed", f"bad request: optimize.modelType {model_type!r}, expected a non-empty string (or none)"
        )
    for key in ("numHeads", "hiddenSize"):
        value = optimize.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise WorkerError("failed", f"bad request: optimize.{key} {value!r}, expected an integer >= 0")
    if not isinstance(optimize.get("useGpu"), bool):
        raise WorkerError("failed", f"bad request: optimize.useGpu {optimize.get('useGpu')!r}, expected a boolean")
    if optimize.get("optLevel") not in OPT_LEVELS:
        raise WorkerError("failed", f"bad request: optimize.optLevel {optimize.get('optLevel')!r}, expected 0")


def fuse(source: Path, optimize: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """
    ONNX Runtime's transformer fusions of the source file: the optimizer's model (None when nothing was fused) and
    what optimizer.json records (the fusion counts, or a note saying why there are none).
    """
    import onnxruntime
    from onnxruntime.transformers.optimizer import MODEL_TYPES, optimize_model

    model_type = optimize.get("modelType")
    record: dict[str, Any] = {"modelType": model_type, "fusions": {}, "note": None}
    optimizer_name = f"ONNX Runtime {onnxruntime.__version__}'s transformer optimizer"
    if model_type is None:
        record["note"] = "no model type to fuse for: the file is used unfused"
        return None, record
    if model_type not in MODEL_TYPES:
        record["note"] = (
            f"{optimizer_name} does not know model type {model_type!r} (it knows {', '.join(sorted(MODEL_TYPES))}): "
            "the file is used unfused"
        )
        return None, record
    use_gpu = bool(optimize["useGpu"])
    try:
        optimized = optimize_model(
            str(source),
            model_type=model_type,
            num_heads=int(optimize["numHeads"]),
            hidden_size=int(optimize["hiddenSize"]),
            opt_level=int(optimize["optLevel"]),
            # What the backend's provider says; at opt_level 0 the fusions are the same either way (it picks the
            # providers of ONNX Runtime's own pass, which level 0 leaves out).
            use_gpu=use_gpu,
        )
        fusions = {str(k): int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}
    except Exception as error:  # any failure of the optimizer is a note, and the file runs unfused
        first_line = (str(error).strip().splitlines() or [""])[0]
        record["note"] = (
            f"{optimizer_name} failed on this {model_type} graph ({type(error).__name__}: {first_line}): "
            "the file is used unfused"
        )
        return None, record
    record["fusions"] = fusions
    if not fusions:
        record["note"] = f"{optimizer_name} recognised model type {model_type!r} but fused nothing in this graph"
    return optimized, record
