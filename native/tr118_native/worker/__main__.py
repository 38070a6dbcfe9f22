"""`python -m tr118_native.worker`: the native worker process, started by the TypeScript runner.

stdin carries request frames and stdout reply frames. Libraries print to stdout (transformers' progress bars,
torch warnings, C extensions), so the protocol keeps a private copy of the stdout descriptor and file descriptor 1
is pointed at stderr, the worker's log: nothing but frames can reach the runner's reader.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

from tr118_native.worker.bytecode import use_bytecode_folder
from tr118_native.worker.hidden import hide
from tr118_native.worker.serve import serve


def main() -> None:
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # Nothing is downloaded at run time: checkpoints come from local folders only.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    use_bytecode_folder(os.environ)  # before torch and transformers are imported (worker/bytecode.py)
    hide(os.environ)  # before transformers is imported (worker/hidden.py)
    preload(os.environ.get("TR118_WORKER_PRELOAD", ""))
    serve(sys.stdin.buffer, protocol_out, sys.stderr)


def preload(modules: str) -> None:
    """Imports what the coming open needs (torch: seconds) before the open request is read, so that the runner's
    workers import side by side while sessions open one device queue at a time. A module that is missing is left to
    the open, which says what to install."""
    names = modules.split(",")
    if "torch" in names:
        started = time.perf_counter()
        try:
            from tr118_native.worker.torch_engine import PRELOAD_MS, import_torch, init_cuda

            torch = import_torch()
            lap = time.perf_counter()
            PRELOAD_MS["torch"] = (lap - started) * 1000
            # transformers imports its model code lazily, on first use: AutoModelForCausalLM pulls in the auto
            # factory, generation and masking modules (1.5 s of a 1.7 s open of the fixture on the 2-core VM).
            import transformers

            _ = transformers.AutoModelForCausalLM
        except ImportError:
            return
        PRELOAD_MS["modelCode"] = (time.perf_counter() - lap) * 1000
        if "compile" in names:
            # torch.compile's machinery (Dynamo, Inductor) is imported at the first compile: seconds of an open.
            lap = time.perf_counter()
            with contextlib.suppress(Exception):
                import torch._dynamo
                import torch._inductor.compile_fx
                from torch._inductor import codecache

                # The first compile's cache key hashes torch's own source files (torch_key, kept for the process):
                # 0.18 s of a warm compiled open on an H100, done here instead.
                codecache.torch_key()
            PRELOAD_MS["compile"] = (time.perf_counter() - lap) * 1000
        # "cuda:N": a GPU backend's device. Its CUDA context and cuBLAS are made here, while the other workers start,
        # instead of in the open, which waits its turn on the GPU's queue. Any failure is left to the open, whose
        # device check says what is wrong.
        for name in names:
            if name.startswith("cuda:") and name[5:].isdigit():
                lap = time.perf_counter()
                with contextlib.suppress(Exception):
                    if init_cuda(torch, int(name[5:])) and "compile" in names:
                        # The cache key's system facts (hashing Triton's sources, the GPU's properties), kept for the
                        # process: what the first compile would do at open. After init_cuda: it reads the current GPU.
                        from torch._inductor.codecache import CacheBase

                        CacheBase.get_system()
                PRELOAD_MS["cuda"] = (time.perf_counter() - lap) * 1000
    if "onnxruntime" in names:
        # An ONNX Runtime worker started while its model is still being exported or derived.
        with contextlib.suppress(ImportError):
            import onnxruntime  # noqa: F401


if __name__ == "__main__":
    main()
