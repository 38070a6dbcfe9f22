"""The engine families on the Python side, listed once: the Engine protocol every one implements, the registry that
opens one by its name (the spec's `engine`, checked against its family's schema first: schema.py), and the one-shot
jobs, which need no open engine. A family's module is imported when it is first used, so a Python without torch can
still run onnxruntime, and a Python without onnxruntime gets the install line it needs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol

from tr118_native.worker.errors import WorkerError

# What the CPU tests and the GPU machine use (native/requirements-torch.txt pins the same; a test checks they agree).
INSTALL_REQUIREMENTS = "numpy==2.4.6 torch==2.11.0 transformers==5.17.0"


class Engine(Protocol):
    """One `open`: the candidate model and, in same-run A/B, the base model beside it."""

    def info(self) -> dict[str, Any]:
        """The `opened` reply's info: runtime, versions, inputs and outputs, what the timer covers."""
        ...

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Times `iterations` passes of a batch (alternating with the base's when the request is paired)."""
        ...

    def perplexity(self, request: dict[str, Any]) -> dict[str, Any]:
        """NLL sum and token count over sliding windows of the tokens (windows.py)."""
        ...

    def logits(self, request: dict[str, Any]) -> tuple[list[int], bytes]:
        """The logits of one batch: dims and little-endian float32 bytes."""
        ...


def open_onnxruntime(request: dict[str, Any]) -> Engine:
    try:
        # onnxruntime itself is imported at open, inside: a Python without it gets the install line.
        from tr118_native.worker.ort_engine import OrtEngine
    except ImportError as error:  # numpy, which every onnxruntime wheel installs
        raise WorkerError(
            "unavailable",
            f"{error.name or 'a module'} is not installed for {sys.executable}; install onnxruntime (which "
            "brings numpy) or run `tr118 provision`",
        ) from None
    return OrtEngine(request)


def open_pytorch(request: dict[str, Any]) -> Engine:
    try:
        # numpy, torch and transformers are imported here, not at start: a Python without them gets the install line.
        from tr118_native.worker.torch_engine import TorchEngine, import_torch

        import_torch()
    except ImportError as error:
        raise WorkerError(
            "unavailable",
            f"{error.name or 'a module'} is not installed for {sys.executable} (Python {sys.version.split()[0]}); "
            f"install what the PyTorch backends need with: {sys.executable} -m pip install {INSTALL_REQUIREMENTS} "
            "(or set TR118_PYTHON to a Python that has them)",
        ) from None
    return TorchEngine(request)


def open_tensorrt(request: dict[str, Any]) -> Engine:
    # tensorrt is imported at open, inside: a Python without it gets the install line.
    from tr118_native.worker.trt_engine import TrtEngine

    return TrtEngine(request)


def run_export(request: dict[str, Any]) -> dict[str, Any]:
    from tr118_native.worker.onnx_export import export

    return export(request)


def run_probe(request: dict[str, Any]) -> dict[str, Any]:
    from tr118_native.worker.trt_engine import probe

    return probe(request)


def run_build(request: dict[str, Any]) -> dict[str, Any]:
    from tr118_native.worker.trt_engine import build

    return build(request)


def run_derive(request: dict[str, Any]) -> dict[str, Any]:
    from tr118_native.worker.derive import derive

    return derive(request)


#: Engine families by the spec's `engine` (src/engines/registry.ts lists the same on the TypeScript side).
ENGINES: dict[str, Callable[[dict[str, Any]], Engine]] = {
    "onnxruntime": open_onnxruntime,
    "pytorch": open_pytorch,
    "tensorrt": open_tensorrt,
}

#: One-shot jobs by request type, with the reply type each answers.
JOBS: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], str]] = {
    "export": (run_export, "exported"),
    "probe": (run_probe, "probed"),
    "build": (run_build, "built"),
    "derive": (run_derive, "derived"),
}
