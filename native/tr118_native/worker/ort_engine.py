"""The ONNX Runtime engine: an ONNX causal LM in the onnxruntime Python package, on the CPU, CUDA or TensorRT provider.

Why a Python worker for ONNX Runtime: onnxruntime-node's session.run copies the logits to the host inside the
timer (on an H200, GPT-2-small vocabulary at 4x128: 85 of 87 ms), while here IO binding keeps the input ids and the
logits on the device, so the gated figure is the forward pass. The end-to-end figure (host ids in, logits out) is
measured beside it on a GPU.

onnxruntime is imported when a backend opens, not at module import, so that a machine without it gets an
`unavailable` reply with the install line instead of a crash.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tr118_native.worker.bytecode import bytecode_environment
from tr118_native.worker.errors import WorkerError
from tr118_native.worker.pairing import end_to_end_passes, open_pair, pass_order, pick, ran_reply
from tr118_native.worker.placement import placement_json
from tr118_native.worker.windows import score_windows

# The execution providers asked of ONNX Runtime, in order. CPU fallback is allowed on purpose: ONNX Runtime's CUDA
# provider places shape computations (Shape, Gather on int64, Concat, …) on the CPU itself, and a session with
# fallback disabled does not open on a real LLM export. Where each node ran is reported instead (`placement`), and
# the runner judges it (src/gate/).
EXECUTION_PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}

# What to install for each provider. The GPU wheel is the version onnxruntime-node uses (package.json; a test checks
# they agree); the CPU wheel is the one native/requirements-light.txt pins. Both wheels provide the module
# `onnxruntime`: one at a time in a Python.
INSTALL_CPU = "onnxruntime==1.32.0"
INSTALL_GPU = "onnxruntime-gpu==1.30.0"
INSTALL_LINES = {"cpu": INSTALL_CPU, "cuda": INSTALL_GPU, "tensorrt": INSTALL_GPU}

GRAPH_OPTIMIZATION_LEVELS = {
    "disabled": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}

# The inputs this tool can fill (src/backends/onnxruntime/session.ts KNOWN_INPUTS).
KNOWN_INPUTS = ("input_ids", "attention_mask", "position_ids")

# The pass made at open for the placement profile: 1x8, ids 0..7 (mod the vocabulary).
PROBE_TOKENS = 8

TIMER_DEVICE = (
    "device: one session.run_with_iobinding on the GPU, timed by the host clock around the call, which returns after "
    "ONNX Runtime has synchronised the provider's stream; input ids bound on the device before the timer, logits "
    "written into a preallocated device buffer and left there"
)
TIMER_END_TO_END = (
    "end to end: one session.run with host input ids: copied to the device, the forward pass, the logits copied to "
    "the host"
)
TIMER_CPU = (
    "one forward pass on the CPU through IO binding (session.run_with_iobinding): inputs bound before the timer, "
    "logits written into a preallocated host buffer, no copy out"
)


@dataclass(frozen=True)
class OrtSpec:
    name: str
    provider: str  # "cpu" | "cuda" | "tensorrt"
    device_id: int
    intra_op_threads: int
    inter_op_threads: int
    graph_optimization: str
    model_path: Path
    logits_output: str

    @staticmethod
    def from_request(backend: dict[str, Any]) -> OrtSpec:
        """The spec of an `open`, already checked against the onnxruntime family's schema (schema.py)."""
        return OrtSpec(
            name=backend["name"],
            provider=backend["provider"],
            device_id=backend["deviceId"],
            intra_op_threads=backend["intraOpThreads"],
            inter_op_threads=backend["interOpThreads"],
            graph_optimization=backend["graphOptimization"],
            model_path=Path(backend["modelPath"]),
            logits_output=backend["logitsOutput"],
        )

    @property
    def on_gpu(self) -> bool:
        return self.provider != "cpu"

    @property
    def device_type(self) -> str:
        """Where IO binding puts tensors: TensorRT works in CUDA memory too."""
        return "cuda" if self.on_gpu else "cpu"


def import_onnxruntime(provider: str) -> Any:
    try:
        import onnxruntime
    except ImportError as error:
        raise WorkerError(
            "unavailable",
            f"{error.name or 'onnxruntime'} is not installed for {sys.executable} (Python {sys.version.split()[0]}); "
            f"install it with: {sys.executable} -m pip install {INSTALL_LINES[provider]} "
            "(or run `tr118 provision`, or set TR118_PYTHON to a Python that has it)",
        ) from None
    return onnxruntime


def onnxruntime_distribution(module_file: str) -> str:
    """The pip distribution whose files include the loaded module (onnxruntime, onnxruntime-gpu, …). A module found
    through PYTHONPATH belongs to none, even where pip lists another build of it in the same Python."""
    loaded = Path(module_file).resolve()
    try:
        names = importlib.metadata.packages_distributions().get("onnxruntime") or []
        for name in sorted(set(names)):
            if (
                Path(str(importlib.metadata.distribution(name).locate_file("onnxruntime/__init__.py"))).resolve()
                == loaded
            ):
                return name
    except Exception:
        return "unknown"
    return "none (not installed by pip)"


def execution_providers(spec: OrtSpec) -> list[Any]:
    """ONNX Runtime's providers argument: the asked provider on device_id, then the ones it may hand nodes to."""
    options = {"device_id": spec.device_id}
    if spec.provider == "cuda":
        return [("CUDAExecutionProvider", options), "CPUExecutionProvider"]
    if spec.provider == "tensorrt":
        return [("TensorrtExecutionProvider", options), ("CUDAExecutionProvider", options), "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


@contextlib.contextmanager
def captured_log() -> Iterator[list[str]]:
    """Descriptors 1 and 2 go to a temporary file meanwhile, and Python warnings are recorded; their lines are handed
    back: ONNX Runtime's C++ logger writes why a provider did not load there (a missing libcudnn, no CUDA device), its
    Python wrapper warns, and the reply should quote them. Everything is copied to stderr afterwards, so the worker's
    log keeps it."""
    lines: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace")
            text += "".join(f"{w.category.__name__}: {w.message}\n" for w in warned)
            sys.stderr.write(text)
            sys.stderr.flush()
            lines.extend(text.splitlines())


def failure_lines(lines: Sequence[str], limit: int = 6) -> str:
    """The lines of ONNX Runtime's log that say why something failed, for a one-line reply."""
    words = ("error", "fail", "cannot", "unable", "not in available")
    keep = [line.strip() for line in lines if any(w in line.lower() for w in words)]
    text = " | ".join(keep[-limit:])
    return text[:1500] if text else "(ONNX Runtime logged no reason)"


def logits_shape_problem(output: str, dims: Sequence[int], batch: int, seq_len: int, vocab: int | None) -> str | None:
    """Why `dims` are not the logits of a [batch, seq_len] input; None when they are. The words of
    src/backends/logits.ts, so a report reads the same whichever worker ran the model."""
    vocab_ok = len(dims) > 2 and dims[2] > 0 and (vocab is None or dims[2] == vocab)
    if len(dims) == 3 and dims[0] == batch and dims[1] == seq_len and vocab_ok:
        return None
    expected = f"[{batch}, {seq_len}, {vocab if vocab is not None else 'vocab'}]"
    return (
        f"the logits output {json_string(output)} has shape [{', '.join(str(d) for d in dims)}]; expected "
        f"[batch, seq, vocab] = {expected} for a {batch}\u00d7{seq_len} input "
        "(model.logits_output names the output that holds them)"
    )


def json_string(text: str) -> str:
    """A name quoted as JSON.stringify quotes it (the Node worker's messages)."""
    return json.dumps(text, ensure_ascii=False)


class OrtModel:
    """One ONNX file in one InferenceSession; the placement of its nodes, read from a profile of one pass at open."""

    def __init__(self, ort: Any, spec: OrtSpec, path: Path, paired: bool, keep_profile: Path | None = None) -> None:
        """`keep_profile`: also copy the placement profile there (how fixtures/profiles/ were recorded)."""
        self.ort = ort
        self.spec = spec
        self.path = path
        #: (batch, seq_len) shapes this session has made its untimed end-to-end pass for (time_passes).
        self.end_to_end_warm: set[tuple[int, ...]] = set()
        if not path.is_file():
            raise WorkerError("failed", f"{path}: no such file (an ONNX model was expected)")
        options = ort.SessionOptions()
        options.graph_optimization_level = getattr(
            ort.GraphOptimizationLevel, GRAPH_OPTIMIZATION_LEVELS[spec.graph_optimization]
        )
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if spec.intra_op_threads > 0:
            options.intra_op_num_threads = spec.intra_op_threads
        if spec.inter_op_threads > 0:
            options.inter_op_num_threads = spec.inter_op_threads
        if paired:
            # Two sessions share this process (same-run A/B): a spinning pool would steal the cores the other needs.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        with tempfile.TemporaryDirectory(prefix="tr118-placement-") as profile_dir:
            options.enable_profiling = True
            options.profile_file_prefix = str(Path(profile_dir) / "placement")
            started = time.perf_counter()
            with captured_log() as log:
                try:
                    self.session = ort.InferenceSession(
                        str(path), sess_options=options, providers=execution_providers(spec)
                    )
                except Exception as error:
                    raise WorkerError("failed", f"{path}: ONNX Runtime could not open it: {error}") from None
            self.open_ms = (time.perf_counter() - started) * 1000
            # onnxruntime's Python session re-creates itself on the CPU provider when a run fails in a GPU provider
            # (EPFail) and retries there: a CPU figure under a GPU name. Never: such a run fails instead.
            self.session.disable_fallback()
            try:
                self.check_providers(log)
                self.check_interface()
                self.probe_dims = self.probe()
            finally:
                # Profiling stops here: no timed pass is profiled. The file goes with the temporary folder.
                profile = self.session.end_profiling()
            if profile and keep_profile is not None:
                shutil.copyfile(profile, keep_profile)
            self.placement = read_placement(Path(profile)) if profile else {"nodes": []}

    def check_providers(self, log: Sequence[str]) -> None:
        """ONNX Runtime opens the session on the CPU alone when the asked provider fails to load (no GPU, a missing
        CUDA library): that must be `unavailable`, never a CPU figure under a GPU name."""
        asked = EXECUTION_PROVIDERS[self.spec.provider]
        got = self.session.get_providers()
        if not got or got[0] != asked:
            raise WorkerError(
                "unavailable",
                f"{asked} did not load in onnxruntime {self.ort.__version__} ({Path(self.ort.__file__).parent}); "
                f"the session has only {', '.join(got) or 'no provider'}. ONNX Runtime said: {failure_lines(log)}",
            )

    def check_interface(self) -> None:
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = self.session.get_outputs()
        if "input_ids" not in inputs:
            raise WorkerError("failed", f"the model has no input named input_ids (inputs: {', '.join(inputs)})")
        unknown = [name for name in inputs if name not in KNOWN_INPUTS]
        if unknown:
            raise WorkerError(
                "failed",
                f"the model has inputs this tool cannot fill: {', '.join(unknown)} (known: {', '.join(KNOWN_INPUTS)})",
            )
        names = [o.name for o in outputs]
        if self.spec.logits_output not in names:
            # By name, never by position: an output before the logits (a hidden state) would be scored as logits.
            raise WorkerError(
                "usage",
                f"{self.path} has no output named {json_string(self.spec.logits_output)} (its outputs: "
                f"{', '.join(json_string(n) for n in names)}); set model.logits_output to the one that holds the "
                "logits [batch, seq, vocab]",
                key_path=["model", "logits_output"],
            )
        self.input_names = inputs
        self.output_names = names
        shape = next(o.shape for o in outputs if o.name == self.spec.logits_output)
        last = shape[-1] if shape else None
        # The logits output's last dimension when it is static (as onnxruntime-node reports it).
        self.vocab_size: int | None = last if isinstance(last, int) and last > 0 else None

    def probe(self) -> list[int]:
        """One 1x8 pass: what the placement profile records. Its logits' dims, for a vocabulary the file leaves open."""
        vocab = self.vocab_size or PROBE_TOKENS
        ids = (np.arange(PROBE_TOKENS, dtype=np.int64) % vocab).reshape(1, PROBE_TOKENS)
        try:
            (logits,) = self.session.run([self.spec.logits_output], self.feeds(ids, np.ones_like(ids)))
        except Exception as error:
            raise WorkerError("failed", f"{self.path}: a 1x{PROBE_TOKENS} pass failed: {error}") from None
        return [int(d) for d in np.shape(logits)]

    @property
    def vocab(self) -> int | None:
        """The vocabulary: the file's static last dimension, or the probe's when its logits were [1, 8, vocab]."""
        if self.vocab_size is not None:
            return self.vocab_size
        dims = self.probe_dims
        return dims[2] if len(dims) == 3 and dims[:2] == [1, PROBE_TOKENS] and dims[2] > 0 else None

    def feeds(self, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        """int64 [batch, seq_len] host arrays for the inputs the model has (session.ts makeFeeds)."""
        feeds = {"input_ids": np.ascontiguousarray(ids, dtype=np.int64)}
        if "attention_mask" in self.input_names:
            feeds["attention_mask"] = np.ascontiguousarray(mask, dtype=np.int64)
        if "position_ids" in self.input_names:
            batch, seq_len = ids.shape
            feeds["position_ids"] = np.tile(np.arange(seq_len, dtype=np.int64), (batch, 1))
        return feeds

    def check_logits(self, dims: Sequence[int], element_type: str, batch: int, seq_len: int) -> None:
        if element_type not in ("tensor(float)", "float32"):
            name = json_string(self.spec.logits_output)
            raise WorkerError("failed", f"expected float32 logits in output {name}, got {element_type}")
        problem = logits_shape_problem(self.spec.logits_output, list(dims), batch, seq_len, self.vocab_size)
        if problem:
            raise WorkerError("failed", problem)

    def host_logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """One pass with host inputs; the logits output alone, copied to the host and checked."""
        (logits,) = self.session.run([self.spec.logits_output], self.feeds(ids, mask))
        self.check_logits(logits.shape, str(logits.dtype), ids.shape[0], ids.shape[1])
        return logits

    def bind(self, feeds: dict[str, np.ndarray]) -> Bound:
        """An IO binding for these feeds: inputs copied to the device once, and the logits output preallocated there.

        A first pass lets ONNX Runtime allocate the logits itself, so that their shape and type are checked (and a
        model whose logits are not [batch, seq, vocab] fails with the same words as from Node) before the
        preallocated buffer is bound; only the logits output is bound."""
        ort, spec = self.ort, self.spec
        binding = self.session.io_binding()
        inputs = [ort.OrtValue.ortvalue_from_numpy(a, spec.device_type, spec.device_id) for a in feeds.values()]
        for name, value in zip(feeds, inputs, strict=True):
            binding.bind_ortvalue_input(name, value)
        binding.bind_output(spec.logits_output, spec.device_type, spec.device_id)
        self.session.run_with_iobinding(binding)
        (first,) = binding.get_outputs()
        batch, seq_len = feeds["input_ids"].shape
        self.check_logits(first.shape(), first.data_type(), batch, seq_len)
        shape = [int(d) for d in first.shape()]
        del first
        binding.clear_binding_outputs()
        logits = ort.OrtValue.ortvalue_from_shape_and_type(shape, np.float32, spec.device_type, spec.device_id)
        binding.bind_ortvalue_output(spec.logits_output, logits)
        return Bound(self.session, binding, inputs, logits, shape)


@dataclass
class Bound:
    """One session with its inputs and logits bound on the device: what a timed pass runs."""

    session: Any
    binding: Any
    inputs: list[Any]  # kept alive as long as the binding refers to them
    logits: Any
    shape: list[int]


def read_placement(profile: Path) -> dict[str, Any]:
    try:
        return placement_json(json.loads(profile.read_text(encoding="utf-8")))
    finally:
        profile.unlink(missing_ok=True)


class OrtEngine:
    """The engine behind one `open`: the candidate model and, in same-run A/B, the base model."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.spec = OrtSpec.from_request(request["backend"])
        self.ort = import_onnxruntime(self.spec.provider)
        self.check_build()
        if self.spec.provider == "cuda":
            self.preload_cuda_libraries()
        base = request.get("baseModelPath")
        paired = bool(base)

        def open_base() -> OrtModel:
            try:
                return OrtModel(self.ort, self.spec, Path(base), paired)
            except WorkerError as error:
                raise WorkerError(
                    error.kind, f"base model {base}: {error.message}", model="base", key_path=error.key_path
                ) from None

        self.candidate, self.base = open_pair(
            lambda: OrtModel(self.ort, self.spec, self.spec.model_path, paired),
            open_base if base else None,
            bool(request.get("baseFirst")),
        )

    def check_build(self) -> None:
        """A CPU build of onnxruntime has no CUDA provider at all: say which build this is and what to install."""
        asked = EXECUTION_PROVIDERS[self.spec.provider]
        available = self.ort.get_available_providers()
        if asked not in available:
            ort = self.ort
            package = onnxruntime_distribution(ort.__file__)
            raise WorkerError(
                "unavailable",
                f"the onnxruntime {ort.__version__} build at {Path(ort.__file__).parent} (pip package {package}) has "
                f"no {asked}; its providers: {', '.join(available)}. Install "
                f"{INSTALL_LINES[self.spec.provider]} instead (`{sys.executable} -m pip uninstall onnxruntime "
                f"onnxruntime-gpu` first: both provide the module onnxruntime), or run `tr118 provision`",
            )

    def preload_cuda_libraries(self) -> None:
        """onnxruntime-gpu ≥ 1.21 can load CUDA and cuDNN from pip's nvidia-* packages (preload_dlls); where those
        are absent it changes nothing, and the system's libraries are found as before."""
        preload = getattr(self.ort, "preload_dlls", None)
        if not callable(preload):
            return
        with captured_log(), contextlib.suppress(Exception):
            preload()

    def info(self) -> dict[str, Any]:
        model, ort = self.candidate, self.ort
        environment = {
            "python": sys.executable,
            "pythonVersion": sys.version.split()[0],
            "onnxruntime": ort.__version__,
            "onnxruntimePath": str(Path(ort.__file__).parent),
            "onnxruntimePackage": onnxruntime_distribution(ort.__file__),
            "providersAvailable": ", ".join(ort.get_available_providers()),
            "device": f"cuda:{self.spec.device_id}" if self.spec.on_gpu else "cpu",
            **bytecode_environment(),
        }
        if self.spec.on_gpu and (gpu := gpu_name(self.spec.device_id)):
            environment["gpu"] = gpu
        info: dict[str, Any] = {
            "protocolVersion": 1,
            "runtime": "onnxruntime-python",
            "runtimeVersion": ort.__version__,
            "providers": list(model.session.get_providers()),
            "inputNames": model.input_names,
            "outputNames": model.output_names,
            "openMs": model.open_ms,
            "environment": environment,
            "timerCovers": TIMER_DEVICE if self.spec.on_gpu else TIMER_CPU,
            "placement": model.placement,
        }
        if model.vocab is not None:
            info["vocabSize"] = model.vocab
        if self.spec.on_gpu:
            info["endToEndTimerCovers"] = TIMER_END_TO_END
        return info

    def model(self, which: str | None) -> OrtModel:
        return pick(self.candidate, self.base, which, "the base model")

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        batch, seq_len = int(request["batch"]), int(request["seqLen"])
        ids = np.asarray(request["inputIds"], dtype=np.int64).reshape(batch, seq_len)
        mask = np.asarray(request["attentionMask"], dtype=np.int64).reshape(batch, seq_len)
        warmup, iterations = int(request["warmup"]), int(request["iterations"])
        paired = request.get("paired")
        models = pass_order(self.candidate, lambda: self.model("base"), paired)
        e2e = end_to_end_passes(request) if self.spec.on_gpu else 0
        timed = time_passes(models, ids, mask, warmup, iterations, end_to_end=e2e > 0, end_to_end_passes=e2e)
        own = timed[models.index(self.candidate)]
        return ran_reply(models, timed, self.candidate, paired is not None, own.shape)

    def perplexity(self, request: dict[str, Any]) -> dict[str, Any]:
        """Windows as windows.py plans them; each window's logits come to the host outside any timed pass, and only
        one window's are alive at a time."""
        model = self.model(request.get("model"))
        return score_windows(request, lambda ids: model.host_logits(ids[None, :], np.ones((1, len(ids)), np.int64))[0])

    def logits(self, request: dict[str, Any]) -> tuple[list[int], bytes]:
        batch, seq_len = int(request["batch"]), int(request["seqLen"])
        ids = np.asarray(request["inputIds"], dtype=np.int64).reshape(batch, seq_len)
        logits = self.candidate.host_logits(ids, np.ones_like(ids))
        return list(logits.shape), np.ascontiguousarray(logits, dtype="<f4").tobytes()


@dataclass
class Timed:
    device_ms: list[float]
    end_to_end_ms: list[float] | None
    shape: list[int]


def time_bound_passes(bounds: Sequence[Bound], iterations: int) -> list[list[float]]:
    """The gated figure: `iterations` passes per bound session, alternating A B A B … when there are two, each one
    session.run_with_iobinding call between two reads of the host clock.

    The host clock covers the GPU work: at the end of every run ONNX Runtime synchronises each execution provider
    with the host unless the run option `disable_synchronize_execution_providers` is "1" (its default is "0"; for
    the CUDA provider that is a cudaStreamSynchronize on the compute stream: onnxruntime_run_options_config_keys.h).
    No run options are passed, so every pass is complete, GPU included, when the call returns."""
    times: list[list[float]] = [[] for _ in bounds]
    for _ in range(iterations):
        for k, bound in enumerate(bounds):
            t0 = time.perf_counter_ns()
            bound.session.run_with_iobinding(bound.binding)
            times[k].append((time.perf_counter_ns() - t0) / 1e6)
    return times


def time_passes(
    models: Sequence[OrtModel],
    ids: np.ndarray,
    mask: np.ndarray,
    warmup: int,
    iterations: int,
    end_to_end: bool,
    end_to_end_passes: int | None = None,
) -> list[Timed]:
    """`warmup` untimed then `iterations` timed passes per model through IO binding (time_bound_passes), paired
    A B A B … when there are two models, exactly as the Node worker pairs its sessions; then, on a GPU,
    `end_to_end_passes` (default: `iterations`) end-to-end passes (session.run: host ids in, logits out to the host),
    after one untimed one per model and shape (a worker's first request of a shape). They come after every timed
    pass, so their number changes no timed figure."""
    bounds = [m.bind(m.feeds(ids, mask)) for m in models]
    for _ in range(warmup):
        for bound in bounds:
            bound.session.run_with_iobinding(bound.binding)
    device_ms = time_bound_passes(bounds, iterations)
    if not end_to_end:
        return [Timed(d, None, b.shape) for d, b in zip(device_ms, bounds, strict=True)]

    host_feeds = [m.feeds(ids, mask) for m in models]
    outputs = [[m.spec.logits_output] for m in models]
    shape = tuple(ids.shape)
    for m, feeds, fetch in zip(models, host_feeds, outputs, strict=True):
        if shape not in m.end_to_end_warm:  # once per model and shape: the first copy of a new shape allocates
            m.session.run(fetch, feeds)
            m.end_to_end_warm.add(shape)
    e2e_ms: list[list[float]] = [[] for _ in models]
    for _ in range(iterations if end_to_end_passes is None else end_to_end_passes):
        for k, m in enumerate(models):
            t0 = time.perf_counter_ns()
            m.session.run(outputs[k], host_feeds[k])
            e2e_ms[k].append((time.perf_counter_ns() - t0) / 1e6)
    return [Timed(d, e, b.shape) for d, e, b in zip(device_ms, e2e_ms, bounds, strict=True)]


def gpu_name(device_id: int) -> str | None:
    """The GPU's name from nvidia-smi, without torch; None when nvidia-smi is absent or says nothing useful.
    nvidia-smi numbers GPUs ignoring CUDA_VISIBLE_DEVICES, so device_id is mapped through it first."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    selector = visible[device_id] if device_id < len(visible) else str(device_id)
    try:
        done = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader", "-i", selector],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = done.stdout.strip().splitlines()[0].strip() if done.returncode == 0 and done.stdout.strip() else ""
    return name or None
