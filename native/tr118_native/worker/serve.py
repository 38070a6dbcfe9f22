"""The request loop: one request at a time from the runner, one reply each, in order (protocol.ts)."""

from __future__ import annotations

import sys
import traceback
from typing import Any, BinaryIO

from tr118_native.worker.errors import WorkerError
from tr118_native.worker.framing import read_frame, write_frame


class Worker:
    """Holds the engine one `open` made; answers run / perplexity / logits / close with it."""

    def __init__(self) -> None:
        self.engine: Any = None

    def handle(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
        kind, rid = request.get("type"), request.get("id")
        if not isinstance(rid, int):
            raise WorkerError("failed", f"bad request: no integer id in {sorted(request)}")
        if kind == "open":
            self.engine = open_engine(request)
            return {"type": "opened", "id": rid, "info": self.engine.info()}, None
        if kind == "close":
            self.engine = None
            return {"type": "closed", "id": rid}, None
        if kind == "export":  # needs no open: it makes the file a later open measures
            from tr118_native.worker.onnx_export import export

            return {"type": "exported", "id": rid, **export(request)}, None
        if kind == "probe":
            from tr118_native.worker.trt_engine import probe

            return {"type": "probed", "id": rid, **probe(request)}, None
        if kind == "build":
            from tr118_native.worker.trt_engine import build

            return {"type": "built", "id": rid, **build(request)}, None
        if kind not in ("run", "perplexity", "logits"):
            raise WorkerError("failed", f"bad request: unknown type {kind!r}")
        if self.engine is None:
            raise WorkerError("failed", "no model is open")
        if kind == "run":
            return {"type": "ran", "id": rid, **self.engine.run(request)}, None
        if kind == "perplexity":
            return {"type": "perplexity", "id": rid, **self.engine.perplexity(request)}, None
        dims, payload = self.engine.logits(request)
        return {"type": "logits", "id": rid, "dims": dims, "dtype": "float32"}, payload


# What the CPU tests and the GPU machine use (native/requirements-torch.txt pins the same; a test checks they agree).
INSTALL_REQUIREMENTS = "numpy==2.4.6 torch==2.11.0 transformers==5.17.0"


def open_engine(request: dict[str, Any]) -> Any:
    backend = request.get("backend")
    engine = backend.get("engine") if isinstance(backend, dict) else None
    if engine == "onnxruntime":
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
    if engine == "tensorrt":
        # tensorrt is imported at open, inside: a Python without it gets the install line.
        from tr118_native.worker.trt_engine import TrtEngine

        return TrtEngine(request)
    if engine != "pytorch":
        raise WorkerError(
            "failed", f"bad request: this worker runs engines pytorch, onnxruntime and tensorrt, not {engine!r}"
        )
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


def serve(stdin: BinaryIO, stdout: BinaryIO, log: Any) -> None:
    """Answers requests until the runner closes stdin (or sends close)."""
    worker = Worker()
    while (frame := read_frame(stdin)) is not None:
        request, _ = frame
        rid = request.get("id", -1)
        try:
            reply, payload = worker.handle(request)
        except WorkerError as failure:
            reply = {"type": "error", "id": rid, "kind": failure.kind, "message": failure.message}
            if failure.model is not None:
                reply["model"] = failure.model
            if failure.key_path is not None:
                reply["keyPath"] = failure.key_path
            payload = None
        except Exception as error:  # any other error is this request's failure, with its trace in the log
            traceback.print_exc(file=log)
            message = f"{type(error).__name__}: {error}"
            reply, payload = {"type": "error", "id": rid, "kind": "failed", "message": message}, None
        write_frame(stdout, reply, payload)
        if request.get("type") == "close":
            return
