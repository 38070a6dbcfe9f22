"""The request loop: one request at a time from the runner, one reply each, in order (protocol.ts)."""

from __future__ import annotations

import gc
import sys
import traceback
from typing import Any, BinaryIO

from tr118_native.worker.engines import ENGINES, JOBS, Engine
from tr118_native.worker.errors import WorkerError
from tr118_native.worker.framing import read_frame, write_frame
from tr118_native.worker.hidden import explain
from tr118_native.worker.schema import parse_job, parse_spec


class Worker:
    """A session: the engine one `open` made, which answers run / perplexity / logits until close. A one-shot job
    (export, probe, build) needs no open engine."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        #: The last `open` (spec checked): what a `reopen` opens again.
        self.opened: dict[str, Any] | None = None

    def release(self) -> None:
        """Frees both models before a reopen opens them again, so the new allocations are made as in a fresh process:
        the sessions (ONNX Runtime frees a session with its last reference), then torch's cached device memory, and
        dynamo's compiled frames, which would otherwise keep the old modules alive and count every reopen towards
        torch.compile's recompile limit (past it, dynamo runs the model eagerly). Inductor's compiled kernels stay
        cached (in memory and on disk), so a compile after a reopen only traces again."""
        self.engine = None
        gc.collect()
        torch = sys.modules.get("torch")
        if torch is None:
            return
        if "torch._dynamo" in sys.modules:
            torch._dynamo.reset()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()

    def handle(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
        kind, rid = request.get("type"), request.get("id")
        if not isinstance(rid, int):
            raise WorkerError("failed", f"bad request: no integer id in {sorted(request)}")
        if kind in JOBS:
            job, reply_type = JOBS[str(kind)]
            return {"type": reply_type, "id": rid, **job(parse_job(request))}, None
        if kind == "open":
            spec = parse_spec(request.get("backend"))
            self.opened = {**request, "backend": spec}
            self.engine = ENGINES[spec["engine"]](self.opened)
            return {"type": "opened", "id": rid, "info": self.engine.info()}, None
        if kind == "reopen":
            if self.engine is None or self.opened is None:
                raise WorkerError("failed", "no model is open")
            self.release()
            # The open's spec and base model, in the order asked now, with this reopen's compile cache entry.
            again = {k: v for k, v in self.opened.items() if k not in ("id", "baseFirst", "compileCache")}
            again["baseFirst"] = bool(request.get("baseFirst"))
            if request.get("compileCache") is not None:
                again["compileCache"] = request["compileCache"]
            self.engine = ENGINES[again["backend"]["engine"]](again)
            return {"type": "opened", "id": rid, "info": self.engine.info()}, None
        if kind == "close":
            # What an engine keeps beyond the session (torch.compile's caches, with the shapes compiled since open).
            finish = getattr(self.engine, "close", None)
            if callable(finish):
                finish()
            self.engine = None
            return {"type": "closed", "id": rid}, None
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
            message = explain(error) or f"{type(error).__name__}: {error}"
            reply, payload = {"type": "error", "id": rid, "kind": "failed", "message": message}, None
        write_frame(stdout, reply, payload)
        if request.get("type") == "close":
            return
