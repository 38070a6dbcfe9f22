"""The PyTorch engine: a Hugging Face causal LM from a local checkpoint, eager or torch.compile'd, on CPU or CUDA.

torch and transformers are imported when a backend opens, not at module import, so that a machine without them
gets an `unavailable` reply with the install line instead of a crash.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tr118_native.worker.bytecode import bytecode_environment
from tr118_native.worker.checkpoint import check_checkpoint, load_causal_lm
from tr118_native.worker.compile_cache import (
    CacheOutcome,
    load_artifacts,
    lookup_counts,
    lookups_since,
    save_artifacts,
)
from tr118_native.worker.errors import WorkerError
from tr118_native.worker.pairing import end_to_end_passes, open_pair, pass_order, pick, ran_reply
from tr118_native.worker.windows import score_windows

DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}

TIMER_DEVICE = (
    "device: one forward pass of the model on the GPU, bracketed by CUDA events; input ids already on the device, "
    "logits left there"
)
TIMER_END_TO_END = "end to end: host input ids copied to the device, the forward pass, the logits copied to the host"
TIMER_CPU = (
    "one forward pass on the CPU (torch.inference_mode): input tensors built before the timer; logits in host memory"
)


@dataclass(frozen=True)
class TorchSpec:
    name: str
    device: str  # "cpu" | "cuda"
    device_id: int
    dtype: str  # "fp32" | "fp16" | "bf16"
    compile: str  # "off" | "default" | "reduce-overhead" | "max-autotune"
    checkpoint: Path
    trust_pickle: bool
    allowed_weight_differences: tuple[str, ...]
    intra_op_threads: int
    inter_op_threads: int
    attention: str | None  # "sdpa" | "eager" | None (transformers' own choice)

    @staticmethod
    def from_request(backend: dict[str, Any]) -> TorchSpec:
        """The spec of an `open`, already checked against the pytorch family's schema (schema.py)."""
        return TorchSpec(
            name=backend["name"],
            device=backend["device"],
            device_id=backend["deviceId"],
            dtype=backend["precision"],
            compile=backend["compile"],
            checkpoint=Path(backend["checkpointPath"]),
            trust_pickle=backend["trustPickle"],
            allowed_weight_differences=tuple(backend["allowedWeightDifferences"]),
            intra_op_threads=backend["intraOpThreads"],
            inter_op_threads=backend["interOpThreads"],
            attention=backend.get("attention"),
        )


class TorchModel:
    """One checkpoint, loaded and (optionally) compiled, on one device."""

    def __init__(self, torch: Any, spec: TorchSpec, folder: Path) -> None:
        import transformers

        started = time.perf_counter()
        check_checkpoint(folder, spec.trust_pickle)
        self.torch = torch
        self.device = torch.device(spec.device, spec.device_id) if spec.device == "cuda" else torch.device("cpu")
        dtype = getattr(torch, DTYPES[spec.dtype])
        try:
            attention = {"attn_implementation": spec.attention} if spec.attention else {}
            model = load_causal_lm(
                transformers,
                folder,
                spec.allowed_weight_differences,
                dtype=dtype,
                use_safetensors=not spec.trust_pickle or None,
                **attention,
            )
        except ValueError as error:  # an architecture that is not a causal LM
            raise WorkerError("failed", f"{folder}: not a causal LM transformers can load: {error}") from None
        self.config = model.config
        moved = time.perf_counter()
        #: Where this model's open went, ms: reading the checkpoint, then moving it to its device (on a GPU whose
        #: context is not made yet, that includes making it: init_cuda).
        self.load_ms = (moved - started) * 1000
        self.module = model.to(self.device).eval()
        self.sync()
        self.to_device_ms = (time.perf_counter() - moved) * 1000
        self.forward_fn: Callable[..., Any] = self.module
        self.compile_ms: float | None = None
        self.compile_setup_ms = 0.0
        #: torch's compile cache lookups during this model's compile (compile_cache.LOOKUPS), {} when none were counted.
        self.compile_lookups: dict[str, int] = {}
        #: (batch, seq_len) shapes this model has made its untimed end-to-end pass for (time_passes).
        self.end_to_end_warm: set[tuple[int, ...]] = set()
        if spec.compile != "off":
            self.compile(spec.compile)

    def compile(self, mode: str) -> None:
        """torch.compile is lazy: the first call compiles. A probe call here turns a compile that cannot work into a
        degraded backend at open, with its error; it is never silently run eager under a compile name."""
        setup = time.perf_counter()
        compiled = self.torch.compile(self.module, mode=None if mode == "default" else mode)
        # Made outside inference mode, as a run's inputs are (TorchEngine.tensors): Dynamo guards on it, and an
        # inference-mode mask would make the first timed shape of the probe's size compile a second time.
        probe = self.torch.arange(8, device=self.device).remainder(self.config.vocab_size)[None, :]
        probe_mask = self.torch.ones_like(probe)
        mark_sequence_dynamic(self.torch, probe, probe_mask)
        before = lookup_counts()
        started = time.perf_counter()
        #: torch.compile() itself, before the first call: wrapping the module (Dynamo's imports, on a first compile).
        self.compile_setup_ms = (started - setup) * 1000
        try:
            with self.torch.inference_mode():
                compiled(input_ids=probe, attention_mask=probe_mask, use_cache=False)
            self.sync()
        except Exception as error:
            raise WorkerError(
                "degraded", f"torch.compile(mode={mode}) failed: {type(error).__name__}: {error}"
            ) from None
        self.compile_ms = (time.perf_counter() - started) * 1000
        self.compile_lookups = lookups_since(before)
        self.forward_fn = compiled

    def forward(self, ids: Any, mask: Any) -> Any:
        with self.torch.inference_mode():
            return self.forward_fn(input_ids=ids, attention_mask=mask, use_cache=False).logits

    def sync(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)


class TorchEngine:
    """The engine behind one `open`: the candidate checkpoint and, in same-run A/B, the base checkpoint."""

    def __init__(self, request: dict[str, Any]) -> None:
        started = time.perf_counter()
        self.spec = TorchSpec.from_request(request["backend"])
        self.torch = import_torch()
        self.check_device()
        if self.spec.intra_op_threads > 0:
            self.torch.set_num_threads(self.spec.intra_op_threads)
        if self.spec.inter_op_threads > 0:
            self.torch.set_num_interop_threads(self.spec.inter_op_threads)
        base = request.get("baseModelPath")

        def load_base() -> TorchModel:
            try:
                return TorchModel(self.torch, self.spec, Path(base))
            except WorkerError as error:
                # A usage error about the base checkpoint points at compare.base_hf, not at model.hf.
                where = ("compare", "base_hf") if error.key_path is not None else None
                raise WorkerError(
                    error.kind, f"base checkpoint {base}: {error.message}", model="base", key_path=where
                ) from None
            except Exception as error:
                raise WorkerError(
                    "failed", f"base checkpoint {base}: {type(error).__name__}: {error}", model="base"
                ) from None

        # torch.compile's caches from an earlier run, loaded before the first compile (compile_cache.py).
        cache = request.get("compileCache") or {}
        self.compile_cache: CacheOutcome | None = None
        cache_loaded = time.perf_counter()
        if self.spec.compile != "off" and cache:
            self.compile_cache = load_artifacts(self.torch, cache.get("load"))
        cache_load_ms = (time.perf_counter() - cache_loaded) * 1000
        self.candidate, self.base = open_pair(
            lambda: TorchModel(self.torch, self.spec, self.spec.checkpoint),
            load_base if base else None,
            bool(request.get("baseFirst")),
        )
        # Saved at close only, once (compile_cache.save_artifacts says why), with every shape compiled by then.
        self.cache_save: str | None = cache.get("save") if self.compile_cache is not None else None
        self.open_ms = (time.perf_counter() - started) * 1000
        models = [m for m in (self.candidate, self.base) if m is not None]
        #: The open's steps, ms (a model's summed over the pair); what they leave is imports and checks.
        self.open_steps_ms = {
            "cacheLoad": cache_load_ms,
            "load": sum(m.load_ms for m in models),
            "toDevice": sum(m.to_device_ms for m in models),
            "compileSetup": sum(m.compile_setup_ms for m in models),
            "compile": sum(m.compile_ms or 0.0 for m in models),
        }

    def close(self) -> None:
        """At the end of the session, the artifacts: the probe's graph and every shape compiled since open
        (torch.compile recompiles for the scenarios' shapes during warm-up), so the next run skips all of them. The
        runner keeps it when it holds more than the stored entry; a failure here is only a lost cache."""
        if self.cache_save is not None:
            save_artifacts(self.torch, self.cache_save)

    def check_device(self) -> None:
        torch = self.torch
        if self.spec.device != "cuda":
            return
        if not torch.cuda.is_available():
            raise WorkerError(
                "unavailable",
                f"CUDA is not available to torch {torch.__version__} (built for CUDA {torch.version.cuda}): "
                "no usable GPU on this machine",
            )
        if self.spec.device_id >= torch.cuda.device_count():
            raise WorkerError(
                "unavailable", f"device_id {self.spec.device_id}: this machine has {torch.cuda.device_count()} GPU(s)"
            )

    def info(self) -> dict[str, Any]:
        torch, model = self.torch, self.candidate
        environment = {
            "python": sys.executable,
            "pythonVersion": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": __import__("transformers").__version__,
            "device": str(model.device),
            # What the loaded model runs (asked for, or transformers' choice): part of what makes results comparable.
            "attention": str(getattr(model.config, "_attn_implementation", None) or "unknown"),
            **bytecode_environment(),
        }
        if model.device.type == "cuda":
            props = torch.cuda.get_device_properties(model.device)
            environment |= {
                "cuda": str(torch.version.cuda),
                "cudnn": str(torch.backends.cudnn.version()),
                "gpu": props.name,
                "computeCapability": f"{props.major}.{props.minor}",
                # fp32 matmuls and convolutions in TF32 on tensor cores, or not: other kernels, other figures.
                "tf32": f"matmul {torch.backends.cuda.matmul.allow_tf32}, cudnn {torch.backends.cudnn.allow_tf32}",
            }
        info: dict[str, Any] = {
            "protocolVersion": 1,
            "runtime": "torch",
            "runtimeVersion": torch.__version__,
            "providers": [f"{self.spec.device}:{self.spec.dtype}:compile={self.spec.compile}"],
            "inputNames": ["input_ids", "attention_mask"],
            "outputNames": ["logits"],
            "vocabSize": int(model.config.vocab_size),
            "openMs": self.open_ms,
            "openStepsMs": self.open_steps_ms,
            **({"preloadMs": dict(PRELOAD_MS)} if PRELOAD_MS else {}),
            "environment": environment,
            "timerCovers": TIMER_DEVICE if model.device.type == "cuda" else TIMER_CPU,
        }
        if model.device.type == "cuda":
            info["endToEndTimerCovers"] = TIMER_END_TO_END
        if model.compile_ms is not None:
            info["compileMs"] = model.compile_ms
            info["compileShapes"] = COMPILE_SHAPES
        if self.compile_cache is not None:
            info["compileCache"] = self.compile_cache.status
            if self.compile_cache.note is not None:
                info["compileCacheNote"] = self.compile_cache.note
            # Both models' compiles (same-run A/B compiles the base too, from the same entry).
            models = [self.candidate] + ([self.base] if self.base is not None else [])
            if all(m.compile_lookups for m in models):
                names = models[0].compile_lookups
                info["compileCacheLookups"] = {n: sum(m.compile_lookups[n] for m in models) for n in names}
        return info

    def model(self, which: str | None) -> TorchModel:
        return pick(self.candidate, self.base, which, "the base checkpoint")

    def tensors(self, batch: int, seq_len: int, ids: Sequence[int], mask: Sequence[int]) -> tuple[Any, Any]:
        """int64 [batch, seq_len] host tensors, built before any timer starts."""
        torch = self.torch
        host_ids = torch.tensor(ids, dtype=torch.int64).reshape(batch, seq_len)
        host_mask = torch.tensor(mask, dtype=torch.int64).reshape(batch, seq_len)
        return host_ids, host_mask

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        batch, seq_len = int(request["batch"]), int(request["seqLen"])
        host_ids, host_mask = self.tensors(batch, seq_len, request["inputIds"], request["attentionMask"])
        warmup, iterations = int(request["warmup"]), int(request["iterations"])
        paired = request.get("paired")
        models = pass_order(self.candidate, lambda: self.model("base"), paired)
        e2e = end_to_end_passes(request)
        timed = time_passes(self.torch, models, host_ids, host_mask, warmup, iterations, end_to_end_passes=e2e)
        vocab = timed[0].vocab
        reply = ran_reply(models, timed, self.candidate, paired is not None, [batch, seq_len, vocab])
        compile_ms = sum(t.compile_ms for t in timed)
        if compile_ms > 0:
            reply["compileMs"] = compile_ms  # a new shape's compile in warm-up (both models' in same-run A/B)
        if any(t.compiled_in_timed for t in timed):
            reply["compiledInTimedPasses"] = True
        return reply

    def perplexity(self, request: dict[str, Any]) -> dict[str, Any]:
        model = self.model(request.get("model"))
        torch = self.torch

        def window_logits(ids: Any) -> Any:
            on_device = torch.from_numpy(ids)[None, :].to(model.device)
            return model.forward(on_device, torch.ones_like(on_device))[0].float().cpu().numpy()

        reply = score_windows(request, window_logits)
        if model.device.type == "cuda":
            reply["peakDeviceMiB"] = self.torch.cuda.max_memory_allocated(model.device) / 2**20
        return reply

    def logits(self, request: dict[str, Any]) -> tuple[list[int], bytes]:
        batch, seq_len = int(request["batch"]), int(request["seqLen"])
        ids = request["inputIds"]
        host_ids, host_mask = self.tensors(batch, seq_len, ids, [1] * len(ids))
        model = self.candidate
        logits = model.forward(host_ids.to(model.device), host_mask.to(model.device)).float().cpu().numpy()
        return list(logits.shape), np.ascontiguousarray(logits, dtype="<f4").tobytes()


@dataclass
class Timed:
    device_ms: list[float]
    end_to_end_ms: list[float] | None
    vocab: int
    #: Host ms of this model's warm-up passes that compiled a graph (a compiled model's first pass of a new shape):
    #: compile, not warm-up, in the run's phases (the `ran` reply's compileMs).
    compile_ms: float = 0.0
    #: Whether Dynamo compiled a graph during this request's timed passes (Dynamo's count is the process's, so in a
    #: paired request both models say so): a timed pass that holds a compile, with `warmup: 0` or a recompile.
    compiled_in_timed: bool = False


def time_passes(
    torch: Any,
    models: list[TorchModel],
    host_ids: Any,
    host_mask: Any,
    warmup: int,
    iterations: int,
    end_to_end_passes: int | None = None,
) -> list[Timed]:
    """`warmup` untimed then `iterations` timed forward passes per model, alternating between the models pass by
    pass (A B A B …) when there are two, exactly as the ONNX Runtime worker pairs its sessions.

    CPU: one wall-clock figure per pass. CUDA: first the device-side figure of every pass (CUDA events around the
    forward pass, inputs already on the device, no synchronisation between passes, as a bare loop would run), then
    `end_to_end_passes` (default: `iterations`; 0: none) end-to-end passes (host ids in, logits out to the host, timed
    by the host clock), after one untimed one per model and shape (a worker's first request of a shape: later
    requests of it find their device buffers in torch's caching allocator). They come after every timed pass, so
    their number changes no timed figure."""
    device = models[0].device
    ids, mask = host_ids.to(device), host_mask.to(device)
    compile_ms = [0.0 for _ in models]
    # Only where a model is compiled: for an eager one, reading the counter would import Dynamo (seconds).
    graphs_compiled = graph_counter() if any(m.compile_ms is not None for m in models) else None
    for _ in range(warmup):
        for k, m in enumerate(models):
            if m.compile_ms is None or graphs_compiled is None:
                m.forward(ids, mask)
                continue
            # Dynamo compiles on the host inside the call, so the call's host time is the compile's (and one pass's,
            # which the compile dwarfs); untimed, so the passes stay as they were.
            graphs = graphs_compiled()
            t0 = time.perf_counter_ns()
            m.forward(ids, mask)
            if graphs_compiled() != graphs:
                compile_ms[k] += (time.perf_counter_ns() - t0) / 1e6
    for m in models:
        m.sync()
    vocab = int(models[0].config.vocab_size)
    # Read before and after the timed passes, never between two of them: the loops below stay as they were.
    graphs_before_timed = graphs_compiled() if graphs_compiled is not None else None

    def compiled_since() -> bool:
        return graphs_compiled is not None and graphs_compiled() != graphs_before_timed

    if device.type != "cuda":
        times: list[list[float]] = [[] for _ in models]
        for _ in range(iterations):
            for k, m in enumerate(models):
                t0 = time.perf_counter_ns()
                m.forward(ids, mask)
                times[k].append((time.perf_counter_ns() - t0) / 1e6)
        compiled = compiled_since()
        return [Timed(t, None, vocab, c, compiled) for t, c in zip(times, compile_ms, strict=True)]

    events = [
        [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iterations)]
        for _ in models
    ]
    for i in range(iterations):
        for k, m in enumerate(models):
            start, end = events[k][i]
            start.record()
            m.forward(ids, mask)
            end.record()
    torch.cuda.synchronize(device)
    compiled = compiled_since()  # before the end-to-end passes: of the same shape, they compile nothing new
    device_ms = [[start.elapsed_time(end) for start, end in per_model] for per_model in events]
    e2e_passes = iterations if end_to_end_passes is None else end_to_end_passes
    if e2e_passes == 0:
        return [Timed(d, None, vocab, c, compiled) for d, c in zip(device_ms, compile_ms, strict=True)]

    end_to_end: list[list[float]] = [[] for _ in models]
    shape = tuple(host_ids.shape)
    for m in models:  # one untimed end-to-end pass per model and shape: the first copy of a new shape allocates
        if shape not in m.end_to_end_warm:
            m.forward(host_ids.to(device), host_mask.to(device)).cpu()
            m.end_to_end_warm.add(shape)
    for _ in range(e2e_passes):
        for k, m in enumerate(models):
            t0 = time.perf_counter_ns()
            m.forward(host_ids.to(device), host_mask.to(device)).cpu()
            end_to_end[k].append((time.perf_counter_ns() - t0) / 1e6)
    return [Timed(d, e, vocab, c, compiled) for d, e, c in zip(device_ms, end_to_end, compile_ms, strict=True)]


def graph_counter() -> Callable[[], int]:
    """How many graphs Dynamo has compiled in this process, read through its own counter (a private API), found once
    per request rather than per pass. Where there is none it always reads 0: a compile then goes unseen and stays
    warm-up, as before."""
    try:
        from torch._dynamo.utils import counters
    except ImportError:
        return lambda: 0
    return lambda: int(counters["stats"]["unique_graphs"])


#: What this process's preload took before its first request (worker/__main__.py preload), ms by step: torch
#: (import_torch: torch and transformers' package), modelCode (transformers' lazily loaded model code), compile
#: (Dynamo and Inductor), cuda (init_cuda). Reported in each open's info: it runs while the runner waits for its
#: workers to start, so it is a worker start's time, not an open's.
PRELOAD_MS: dict[str, float] = {}


def init_cuda(torch: Any, device_id: int) -> bool:
    """Makes the CUDA context on one GPU and loads cuBLAS (one small matmul), and gives back what it allocated, so
    that a later open of a model there starts from a ready device. False where there is no such GPU."""
    if not torch.cuda.is_available() or device_id >= torch.cuda.device_count():
        return False
    device = torch.device("cuda", device_id)
    square = torch.ones(8, 8, device=device)
    (square @ square).sum().item()
    del square
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    return True


#: How the compiled graphs are shaped (the pytorch family's comparability field `compileShapes`): the probe's graph
#: is dynamic in sequence length, so every batch of 1 runs it and the first larger batch compiles one graph dynamic in
#: both dimensions (Dynamo specialises a size of 1), which every larger batch runs. Two graphs, whatever the scenarios
#: or their order. Left to torch's automatic dynamic shapes, the probe's 1x8 graph was static, the next sequence
#: length compiled a second graph and the first larger batch a third, so a scenario's figure came from a static or a
#: dynamic graph depending on its shape and on the order the shapes were first seen; each of those compiles costs a
#: warm run 2.7-3.7 s of warm-up on an H100 even from the compile cache (docs/run-time.md).
COMPILE_SHAPES = "dynamic-sequence"


def mark_sequence_dynamic(torch: Any, *tensors: Any) -> None:
    """Marks dimension 1 (the sequence) of the probe's tensors dynamic. maybe_mark_dynamic, not mark_dynamic: a model
    whose code specialises on the length then compiles a static graph, as it would have, instead of failing the open."""
    for tensor in tensors:
        torch._dynamo.maybe_mark_dynamic(tensor, 1)


def import_torch() -> Any:
    import torch
    import transformers  # noqa: F401  (checked here, used when a checkpoint loads)

    return torch
