"""The `derive` request: a precision variant of an fp32 ONNX file, made with ONNX Runtime's own tools.

- `int8-dynamic`: dynamic int8 quantization of the MatMul weights (`onnxruntime.quantization.quantize_dynamic`,
  signed int8 weights, activations quantized at run time): the `onnxruntime-cpu-int8` backend.
- `fp16`: every float tensor to float16 with the graph's inputs and outputs kept as they were
  (`onnxruntime.transformers.float16.convert_float_to_float16(..., keep_io_types=True)`): the `onnxruntime-cuda-fp16`
  backend, whose callers still feed int64 ids and read fp32 logits.

Both come with the onnxruntime package (no other install); its version is in the variant's cache key and its
fingerprint. The variant is not checked here against the fp32 file: the run's perplexity gate holds it to its
precision's threshold, and its logits parity is reported, so a faster but wrong variant fails there.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from tr118_native.worker.errors import WorkerError

TRANSFORMS = ("int8-dynamic", "fp16")
VARIANT_FILE = "model.onnx"


def derive(request: dict[str, Any]) -> dict[str, Any]:
    """The `derive` request's work; returns the `derived` reply's fields (without type and id)."""
    try:
        source = Path(str(request["sourcePath"]))
        out_dir = Path(str(request["outPath"]))
        transform = str(request["transform"])
    except KeyError as missing:
        raise WorkerError("failed", f"bad request: the derive request lacks {missing}") from None
    if transform not in TRANSFORMS:
        raise WorkerError("failed", f"bad request: transform {transform!r}, expected one of {list(TRANSFORMS)}")
    if not source.is_file():
        raise WorkerError("failed", f"{source}: no such ONNX file to derive the {transform} variant from")
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
    if transform == "int8-dynamic":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # MatMul only: the weights that hold the model; Gather (the embedding) stays fp32 so ids index exact rows.
        quantize_dynamic(str(source), str(target), op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8)
    else:
        from onnxruntime.transformers.float16 import convert_float_to_float16

        model = onnx.load(str(source))
        converted = convert_float_to_float16(model, keep_io_types=True)
        onnx.save_model(converted, str(target))
    derive_ms = (time.perf_counter() - started) * 1000
    return {
        "file": str(target),
        "bytes": target.stat().st_size,
        "transform": transform,
        "deriveMs": derive_ms,
        "versions": {"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__},
    }
