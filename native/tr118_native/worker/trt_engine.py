"""TensorRT engines: the optimization profile from the matrix, the `build` request, and the `tensorrt` engine.

NEVER RUN: TensorRT cannot be installed on this project's machines (its wheels download their libraries from
NVIDIA's index, which they cannot reach). `build_engine`, `TrtModel` and `TrtEngine` are written against TensorRT's
documented Python API (10.x and 11.x) and have not executed once; what is tested is the request handling around
them: the `probe` (with a stand-in module that has only `__version__` and a stand-in nvidia-smi), the `unavailable`
replies where `import tensorrt` fails, and the refusals of bad `build` requests.

The runner decides everything an engine's key holds (src/artifacts/tensorrt-engine.ts): the optimization profile
from the matrix's shapes, the precision path and the builder settings, and sends them in `build`.

Precision paths (part of the engine key, recorded in the reply):
- TensorRT 10: the network takes the ONNX file's types and the builder may lower them: `fp32` no flag, `fp16`
  `BuilderFlag.FP16`, `int8` `BuilderFlag.INT8` with an entropy calibrator fed from the evaluation tokens (its
  cache written beside the engine).
- TensorRT ≥ 11: networks are always strongly typed (the flags above are gone): fp16 needs an fp16 ONNX file and
  int8 explicit Q/DQ nodes; a build asked for a precision the file does not hold fails with that line.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tr118_native.worker.bytecode import bytecode_environment
from tr118_native.worker.errors import WorkerError
from tr118_native.worker.pairing import end_to_end_passes, open_pair, pass_order, pick, ran_reply

TENSORRT_VERSION = "11.4.0.106"
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "logits"
# The paths TensorRT 10 takes, by precision (TensorRT ≥ 11: `tensorrt{major}-strongly-typed-{precision}`).
TENSORRT10_PATHS = {
    "fp32": "tensorrt10-builder-fp32",
    "fp16": "tensorrt10-builder-flag-fp16",
    "int8": "tensorrt10-builder-flag-int8-entropy-calibrated",
}

Shape = tuple[int, int]  # (batch, sequence)
Profile = tuple[Shape, Shape, Shape]  # (min, opt, max)

TIMER_DEVICE = (
    "device: one TensorRT execute_async_v3 on the GPU, bracketed by CUDA events; input ids already on the device, "
    "logits left there"
)


def install_line() -> str:
    return (
        f"{sys.executable} -m pip install tensorrt-cu13=={TENSORRT_VERSION} (its wheels download TensorRT's "
        "libraries from NVIDIA's index, pypi.nvidia.com, which this machine must reach; CUDA 13 driver needed)"
    )


def import_tensorrt() -> Any:
    try:
        import tensorrt
    except ImportError as error:
        raise WorkerError(
            "unavailable",
            f"{error.name or 'tensorrt'} is not installed for {sys.executable}: install it with {install_line()}",
        ) from None
    return tensorrt


def expected_path(version: str, precision: str) -> str | None:
    """The precision path this TensorRT takes for `precision`, or None for a TensorRT older than 10."""
    major = int(version.split(".")[0])
    if major >= 11:
        return f"tensorrt{major}-strongly-typed-{precision}"
    return TENSORRT10_PATHS.get(precision) if major == 10 else None


def compute_capability(device_id: int) -> tuple[str, str]:
    """(compute capability, name) of CUDA device device_id. From nvidia-smi, not torch (importing torch would cost
    every cache hit seconds); but nvidia-smi numbers GPUs by PCI bus while CUDA orders them fastest first and through
    CUDA_VISIBLE_DEVICES, so nvidia-smi answers only when every GPU is the same model; otherwise torch is asked."""
    command = ["nvidia-smi", "--query-gpu=compute_cap,name", "--format=csv,noheader"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise WorkerError("unavailable", f"no NVIDIA GPU: {' '.join(command)} did not run ({error})") from None
    rows = [tuple(part.strip() for part in line.partition(",")[::2]) for line in done.stdout.strip().splitlines()]
    if done.returncode != 0 or not rows or not all(re.fullmatch(r"\d+\.\d+", cap) for cap, _ in rows):
        said = (done.stderr or done.stdout).strip()[:300]
        raise WorkerError(
            "unavailable", f"no compute capability for GPU {device_id} from nvidia-smi (exit {done.returncode}): {said}"
        )
    if len(set(rows)) == 1:
        return rows[0]
    import torch  # several GPU models: only CUDA knows which one device_id is

    if device_id >= torch.cuda.device_count():
        raise WorkerError("unavailable", f"no CUDA device {device_id}: torch sees {torch.cuda.device_count()}")
    props = torch.cuda.get_device_properties(device_id)
    return f"{props.major}.{props.minor}", str(props.name)


# What building and running an engine imports besides tensorrt (the CUDA events and buffers are torch's).
COMPANIONS = "numpy==2.4.6 torch==2.11.0"


def probe(request: dict[str, Any]) -> dict[str, Any]:
    """The `probe` request: what the engine key needs before a build (TensorRT's version, the GPU's capability).
    Everything a build and a run import is looked for first (without importing it), so that a machine that lacks
    any of it is told once, before a key is made."""
    missing = [name for name in ("numpy", "torch") if importlib.util.find_spec(name) is None]
    if missing:
        raise WorkerError(
            "unavailable",
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed for {sys.executable}: "
            f"the TensorRT backends need {sys.executable} -m pip install {COMPANIONS}, and {install_line()}",
        )
    trt = import_tensorrt()
    version = str(trt.__version__)
    if not re.match(r"\d+\.", version) or int(version.split(".")[0]) < 10:
        raise WorkerError(
            "unavailable", f"TensorRT {version} for {sys.executable} is older than 10: install {install_line()}"
        )
    cap, name = compute_capability(int(request.get("deviceId", 0)))
    return {"tensorrtVersion": version, "computeCapability": cap, "gpu": name}


def profiles_from_request(raw: Any) -> dict[str, Profile]:
    """The `build` request's `profiles`: {input: {min: [b, s], opt: [b, s], max: [b, s]}}."""
    try:
        profiles = {
            str(name): tuple(tuple(int(d) for d in p[k]) for k in ("min", "opt", "max")) for name, p in raw.items()
        }
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise WorkerError("failed", f"bad request: profiles must map inputs to {{min, opt, max}}: {error}") from None
    for name, (mn, opt, mx) in profiles.items():
        if not all(a <= b <= c for a, b, c in zip(mn, opt, mx, strict=True)):
            raise WorkerError("failed", f"bad request: profile of {name}: min ≤ opt ≤ max must hold per dimension")
    return profiles  # type: ignore[return-value]


@dataclass(frozen=True)
class BuildPlan:
    """Everything a `build` request decides (the runner made it, and hashed it into the engine key)."""

    onnx_path: Path
    out_path: Path
    precision: str
    precision_path: str
    profiles: dict[str, Profile]
    workspace_bytes: int
    device_id: int
    calibration_batches: int | None
    calibration_tokens: Sequence[int] | None


@dataclass(frozen=True)
class Built:
    file: Path
    bytes: int
    build_ms: float
    tensorrt_version: str
    compute_capability: str
    precision_path: str


def build_engine(plan: BuildPlan) -> Built:
    """Parses the ONNX file, builds one serialized engine with one optimization profile, writes it to out_path."""
    trt = import_tensorrt()
    import torch

    if not torch.cuda.is_available():
        raise WorkerError("unavailable", "no CUDA GPU visible to torch: a TensorRT engine is built on its GPU")
    torch.cuda.set_device(plan.device_id)  # the builder tunes kernels on the current device
    major = int(trt.__version__.split(".")[0])
    started = time.perf_counter()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    # TensorRT 11 always types strongly (the flag is kept but ignored); TensorRT 10 must not, to honour the flags.
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(plan.onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise WorkerError("failed", f"{plan.onnx_path}: TensorRT's ONNX parser refused it: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, plan.workspace_bytes)
    if plan.precision == "fp32":
        # TF32 is on by default: an "fp32" engine would run its matrix products at 10-bit mantissas.
        config.clear_flag(trt.BuilderFlag.TF32)
    profile = builder.create_optimization_profile()
    for name, (mn, opt, mx) in plan.profiles.items():
        try:
            profile.set_shape(name, mn, opt, mx)
        except RuntimeError as error:
            raise WorkerError("failed", f"{plan.onnx_path}: TensorRT refused the profile of {name}: {error}") from None
    config.add_optimization_profile(profile)

    calibrator = None
    if major >= 11:
        check_typed_precision(trt, network, plan.precision, plan.onnx_path)
    elif plan.precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    elif plan.precision == "int8":
        config.set_flag(trt.BuilderFlag.INT8)
        opt_shape = plan.profiles[INPUT_NAMES[0]][1]
        id_types = {trt.DataType.INT64: torch.int64, trt.DataType.INT32: torch.int32}
        inputs = [network.get_input(i) for i in range(network.num_inputs)]
        if any(t.dtype not in id_types for t in inputs):
            raise WorkerError("failed", f"{plan.onnx_path}: int8 calibration feeds int32/int64 token ids only")
        calibrator = make_calibrator(
            trt,
            torch,
            plan.calibration_tokens or [],
            plan.calibration_batches or 1,
            opt_shape,
            {t.name: id_types[t.dtype] for t in inputs},
            plan.out_path.with_suffix(".calib"),
        )
        config.int8_calibrator = calibrator
        config.set_calibration_profile(profile)

    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise WorkerError(
            "failed", f"{plan.onnx_path}: TensorRT could not build an engine (its log, on stderr, says why)"
        )
    plan.out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = plan.out_path.with_name(plan.out_path.name + ".partial")
    partial.write_bytes(bytes(serialized))
    partial.replace(plan.out_path)
    build_ms = (time.perf_counter() - started) * 1000
    cap, _ = compute_capability(plan.device_id)
    return Built(plan.out_path, plan.out_path.stat().st_size, build_ms, trt.__version__, cap, plan.precision_path)


def check_typed_precision(trt: Any, network: Any, precision: str, onnx_path: Path) -> None:
    """Strongly typed: the file's types are the engine's; refuse a precision the file does not hold, both ways (an
    fp16 or quantized file is not an fp32 engine)."""
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    dtypes = {layer.get_output(j).dtype for layer in layers for j in range(layer.num_outputs)}
    quantized = {
        layer.get_output(0).dtype for layer in layers if layer.type == trt.LayerType.QUANTIZE and layer.num_outputs
    }
    held = (
        "int8"
        if trt.DataType.INT8 in quantized
        else "quantized (not int8)"
        if quantized
        else "fp16"
        if trt.DataType.HALF in dtypes
        else "bf16"
        if trt.DataType.BF16 in dtypes
        else "fp32"
    )
    if held == precision:
        return
    how = {
        "int8": "int8 only from explicit int8 Q/DQ nodes (quantize the ONNX file first, e.g. with NVIDIA Model "
        "Optimizer)",
        "fp16": "fp16 from an fp16 ONNX file",
        "fp32": "fp32 from an fp32 ONNX file",
    }[precision]
    raise WorkerError(
        "failed",
        f"{onnx_path}: the graph is {held}; TensorRT ≥ 11 keeps the file's types and builds {how}, or use TensorRT 10",
    )


def make_calibrator(
    trt: Any,
    torch: Any,
    tokens: Sequence[int],
    batches: int,
    shape: Shape,
    dtypes: dict[str, Any],
    cache_path: Path,
) -> Any:
    """IInt8EntropyCalibrator2 over opt-shaped batches cut from the evaluation tokens (TensorRT 10 only). Buffers in
    the network's input types (an int32_inputs export takes int32): TensorRT reads the pointers without a check."""
    batch, seq = shape
    per_batch = batch * seq
    count = min(batches, len(tokens) // per_batch)
    if count < 1:
        raise WorkerError("failed", f"calibration needs ≥ {per_batch} tokens (one {batch}x{seq} batch)")
    host = torch.tensor(list(tokens[: count * per_batch]), dtype=torch.int64).reshape(count, batch, seq)

    class Calibrator(trt.IInt8EntropyCalibrator2):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)
            self.next = 0
            self.ids = torch.empty((batch, seq), dtype=dtypes["input_ids"], device="cuda")
            self.mask = torch.ones((batch, seq), dtype=dtypes.get("attention_mask", torch.int64), device="cuda")

        def get_batch_size(self) -> int:
            return batch

        def get_batch(self, names: list[str]) -> list[int] | None:
            if self.next >= count:
                return None
            self.ids.copy_(host[self.next])
            self.next += 1
            pointers = {"input_ids": self.ids.data_ptr(), "attention_mask": self.mask.data_ptr()}
            return [pointers[name] for name in names]

        def read_calibration_cache(self) -> bytes | None:
            return cache_path.read_bytes() if cache_path.is_file() else None

        def write_calibration_cache(self, cache: Any) -> None:
            cache_path.write_bytes(bytes(cache))

    return Calibrator()


def plan_from_request(request: dict[str, Any]) -> BuildPlan:
    """The `build` request, checked before TensorRT is needed: a bad request is the runner's bug, said as such."""
    try:
        builder = request["builder"]
        plan = BuildPlan(
            onnx_path=Path(str(request["onnxPath"])),
            out_path=Path(str(request["outPath"])),
            precision=str(request["precision"]),
            precision_path=str(request["precisionPath"]),
            profiles=profiles_from_request(request["profiles"]),
            workspace_bytes=int(builder["workspaceBytes"]),
            device_id=int(request.get("deviceId", 0)),
            calibration_batches=builder.get("calibrationBatches"),
            calibration_tokens=request.get("calibrationTokens"),
        )
    except (KeyError, TypeError) as missing:
        raise WorkerError("failed", f"bad request: the build request lacks {missing}") from None
    if plan.precision not in TENSORRT10_PATHS:
        raise WorkerError("failed", f"bad request: TensorRT builds fp32, fp16 or int8, not {plan.precision!r}")
    if set(plan.profiles) - set(INPUT_NAMES) or INPUT_NAMES[0] not in plan.profiles:
        raise WorkerError("failed", f"bad request: profiles for {sorted(plan.profiles)}; expected {list(INPUT_NAMES)}")
    if plan.precision_path == TENSORRT10_PATHS["int8"]:
        shape = plan.profiles[INPUT_NAMES[0]][1]
        needed = shape[0] * shape[1]
        if not plan.calibration_batches or len(plan.calibration_tokens or []) < needed:
            raise WorkerError(
                "failed",
                f"bad request: an int8 build on TensorRT 10 needs calibrationBatches and ≥ {needed} calibrationTokens "
                f"(one {shape[0]}x{shape[1]} batch)",
            )
    return plan


def build(request: dict[str, Any]) -> dict[str, Any]:
    """The `build` request; returns the `built` reply's fields."""
    plan = plan_from_request(request)
    trt = import_tensorrt()  # before any file check: on a machine without TensorRT that is the one thing to fix
    takes = expected_path(str(trt.__version__), plan.precision)
    if takes != plan.precision_path:
        raise WorkerError(
            "failed",
            f"bad request: the engine key was made for precision path {plan.precision_path!r}, but TensorRT "
            f"{trt.__version__} for {sys.executable} takes {takes!r} for {plan.precision}",
        )
    if not plan.onnx_path.is_file():
        raise WorkerError("failed", f"{plan.onnx_path}: no such ONNX file")
    built = build_engine(plan)
    return {
        "file": str(built.file),
        "bytes": built.bytes,
        "buildMs": built.build_ms,
        "tensorrtVersion": built.tensorrt_version,
        "computeCapability": built.compute_capability,
        "precisionPath": built.precision_path,
    }


class _Config:
    def __init__(self, vocab_size: int) -> None:
        self.vocab_size = vocab_size


class TrtModel:
    """One deserialized engine and its execution context, shaped like torch_engine.TorchModel (device, forward,
    sync, config.vocab_size, end_to_end_warm) so that torch_engine.time_passes times it with the same CUDA events."""

    def __init__(self, trt: Any, torch: Any, engine_path: Path, device_id: int) -> None:
        self.trt, self.torch = trt, torch
        self.device = torch.device("cuda", device_id)
        torch.cuda.set_device(self.device)
        self.runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = self.runtime.deserialize_cuda_engine(engine_path.read_bytes())
        if self.engine is None:
            raise WorkerError(
                "failed", f"{engine_path}: TensorRT could not deserialize it (another TensorRT version or GPU?)"
            )
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self.inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self.outputs = [n for n in names if n not in self.inputs]
        if "input_ids" not in self.inputs or OUTPUT_NAME not in self.outputs or set(self.inputs) - set(INPUT_NAMES):
            raise WorkerError(
                "failed",
                f"{engine_path}: inputs {self.inputs}, outputs {self.outputs}; expected {INPUT_NAMES} → logits",
            )
        self.dtypes = {n: self.torch_dtype(self.engine.get_tensor_dtype(n)) for n in names}
        self.config = _Config(int(self.engine.get_tensor_shape(OUTPUT_NAME)[-1]))
        self.buffers: dict[tuple[str, tuple[int, ...]], Any] = {}
        self.binding: tuple[Any, ...] = ()
        self.fed: dict[str, Any] = {}
        self.out: Any = None
        #: (batch, seq_len) shapes this engine has made its untimed end-to-end pass for (torch_engine.time_passes).
        self.end_to_end_warm: set[tuple[int, ...]] = set()

    def torch_dtype(self, dtype: Any) -> Any:
        trt, torch = self.trt, self.torch
        table = {
            trt.DataType.INT64: torch.int64,
            trt.DataType.INT32: torch.int32,
            trt.DataType.FLOAT: torch.float32,
            trt.DataType.HALF: torch.float16,
            trt.DataType.BF16: torch.bfloat16,
        }
        return table[dtype]

    def forward(self, ids: Any, mask: Any) -> Any:
        """Enqueues one pass on torch's current stream (where the CUDA events are recorded); returns the logits,
        a device buffer reused for the next pass of the same shape. The timed loop feeds the same device tensors
        pass after pass: shapes and addresses are bound only when they change (the context keeps them), so a timed
        pass is the enqueue alone."""
        feeds = {"input_ids": ids, "attention_mask": mask}
        # A no-op for the int64 ids the exporter writes; an int32 graph casts here.
        tensors = {name: feeds[name].to(self.dtypes[name]).contiguous() for name in self.inputs}
        binding = tuple((name, t.data_ptr(), tuple(t.shape)) for name, t in tensors.items())
        if binding != self.binding:
            self.bind(tensors)
            self.binding = binding
        self.fed = tensors  # alive until the next pass is enqueued
        stream = self.torch.cuda.current_stream(self.device)
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise WorkerError("failed", f"TensorRT execute_async_v3 failed for input shape {tuple(ids.shape)}")
        return self.out

    def bind(self, tensors: dict[str, Any]) -> None:
        for name, tensor in tensors.items():
            if not self.context.set_input_shape(name, tuple(tensor.shape)):
                raise WorkerError(
                    "failed",
                    f"TensorRT refused input shape {tuple(tensor.shape)} for {name}: outside the engine's profile "
                    f"{self.profile_range(name)}",
                )
            if not self.context.set_tensor_address(name, tensor.data_ptr()):
                raise WorkerError("failed", f"TensorRT refused the device address of {name}")
        shape = tuple(self.context.get_tensor_shape(OUTPUT_NAME))
        out = self.buffers.get((OUTPUT_NAME, shape))
        if out is None:
            out = self.torch.empty(shape, dtype=self.dtypes[OUTPUT_NAME], device=self.device)
            self.buffers[(OUTPUT_NAME, shape)] = out
        if not self.context.set_tensor_address(OUTPUT_NAME, out.data_ptr()):
            raise WorkerError("failed", f"TensorRT refused the device address of {OUTPUT_NAME}")
        self.out = out

    def profile_range(self, name: str) -> str:
        mn, opt, mx = self.engine.get_tensor_profile_shape(name, 0)
        return f"min {tuple(mn)}, opt {tuple(opt)}, max {tuple(mx)}"

    def sync(self) -> None:
        self.torch.cuda.synchronize(self.device)


class TrtEngine:
    """The engine behind an `open` of a `tensorrt` backend: `modelPath` is the serialized engine file; in same-run
    A/B `baseModelPath` is the base model's engine (built from compare.base_model with the same path and profile)."""

    def __init__(self, request: dict[str, Any]) -> None:
        started = time.perf_counter()
        backend = request["backend"]  # checked against the tensorrt family's schema (schema.py)
        self.trt = import_tensorrt()
        import torch

        self.torch = torch
        if not torch.cuda.is_available():
            raise WorkerError("unavailable", "no CUDA GPU visible to torch: TensorRT engines run on a GPU")
        self.precision = str(backend["precision"])
        device_id = int(backend["deviceId"])
        # enqueueV3 on the default stream synchronizes the device after every pass (NvInferRuntime.h): every pass of
        # both engines, timed or not, runs on this one stream instead (`with torch.cuda.stream(self.stream)`), where
        # the CUDA events are recorded too.
        self.stream = torch.cuda.Stream(torch.device("cuda", device_id))
        base = request.get("baseModelPath")

        def open_model(file: str) -> TrtModel:
            path = Path(file)
            if not path.is_file():
                raise WorkerError("failed", f"{path}: no such TensorRT engine file")
            return TrtModel(self.trt, torch, path, device_id)

        def open_base() -> TrtModel:
            try:
                return open_model(str(base))
            except WorkerError as error:
                raise WorkerError(error.kind, f"base model engine {base}: {error.message}", model="base") from None

        self.model, self.base = open_pair(
            lambda: open_model(str(backend["modelPath"])),
            open_base if base else None,
            bool(request.get("baseFirst")),
        )
        self.open_ms = (time.perf_counter() - started) * 1000

    def side_model(self, which: str | None) -> TrtModel:
        return pick(self.model, self.base, which, "the base model's engine")

    def info(self) -> dict[str, Any]:
        torch, model = self.torch, self.model
        props = torch.cuda.get_device_properties(model.device)
        return {
            "protocolVersion": 1,
            "runtime": "tensorrt",
            "runtimeVersion": self.trt.__version__,
            "providers": [f"tensorrt:{self.precision}"],
            "inputNames": model.inputs,
            "outputNames": model.outputs,
            "vocabSize": model.config.vocab_size,
            "openMs": self.open_ms,
            "environment": {
                "python": sys.executable,
                "pythonVersion": sys.version.split()[0],
                "tensorrt": self.trt.__version__,
                "torch": torch.__version__,
                "cuda": str(torch.version.cuda),
                "gpu": props.name,
                "computeCapability": f"{props.major}.{props.minor}",
                **bytecode_environment(),
            },
            "timerCovers": TIMER_DEVICE,
            "endToEndTimerCovers": "end to end: host input ids copied to the device, the pass, logits to the host",
        }

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        from tr118_native.worker.torch_engine import time_passes

        batch, seq_len = int(request["batch"]), int(request["seqLen"])
        torch = self.torch
        ids = torch.tensor(request["inputIds"], dtype=torch.int64).reshape(batch, seq_len)
        mask = torch.tensor(request["attentionMask"], dtype=torch.int64).reshape(batch, seq_len)
        paired = request.get("paired")
        models = pass_order(self.model, lambda: self.side_model("base"), paired)
        with torch.cuda.stream(self.stream):  # the events are recorded on the stream the passes run on
            warmup, iterations = int(request["warmup"]), int(request["iterations"])
            e2e = end_to_end_passes(request)
            timed = time_passes(torch, models, ids, mask, warmup, iterations, end_to_end_passes=e2e)
        return ran_reply(models, timed, self.model, paired is not None, [batch, seq_len, timed[0].vocab])

    def perplexity(self, request: dict[str, Any]) -> dict[str, Any]:
        from tr118_native.worker.windows import score_windows

        torch, model = self.torch, self.side_model(request.get("model"))

        def window_logits(ids: Any) -> Any:
            on_device = torch.from_numpy(ids)[None, :].to(model.device)
            return model.forward(on_device, torch.ones_like(on_device))[0].float().cpu().numpy()

        with torch.cuda.stream(self.stream):
            # No peakDeviceMiB: torch's allocator does not see TensorRT's own memory (weights, activations).
            return score_windows(request, window_logits)

    def logits(self, request: dict[str, Any]) -> tuple[list[int], bytes]:
        import numpy as np

        torch, model = self.torch, self.model
        batch, seq_len = int(request["batch"]), int(request["seqLen"])
        with torch.cuda.stream(self.stream):
            ids = torch.tensor(request["inputIds"], dtype=torch.int64).reshape(batch, seq_len).to(model.device)
            logits = model.forward(ids, torch.ones_like(ids)).float().cpu().numpy()
        return list(logits.shape), np.ascontiguousarray(logits, dtype="<f4").tobytes()
