"""A native worker that opens like the PyTorch worker, then breaks on `run` in the way its argument says:

    hang     never answers (busy, as a kernel stuck on the GPU)
    exit     dies mid-run with a message on stderr (as a CUDA error does)
    garbage  prints a line that is not a frame on stdout (as a library's progress bar would without the fd guard)

The runner must record a degraded run with the worker's stderr and go on with the rest of the matrix.
"""

from __future__ import annotations

import sys

from tr118_native.worker.framing import read_frame, write_frame


def main() -> None:
    mode = sys.argv[1]
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (frame := read_frame(stdin)) is not None:
        request, _ = frame
        kind, rid = request["type"], request["id"]
        if kind == "open":
            info = {
                "protocolVersion": 1,
                "runtime": "torch",
                "runtimeVersion": "0",
                "providers": ["cpu"],
                "inputNames": ["input_ids", "attention_mask"],
                "outputNames": ["logits"],
                "vocabSize": 4096,
                "openMs": 1,
            }
            write_frame(stdout, {"type": "opened", "id": rid, "info": info})
        elif kind == "close":
            write_frame(stdout, {"type": "closed", "id": rid})
            return
        elif mode == "hang":
            while True:
                pass
        elif mode == "exit":
            print("RuntimeError: CUDA error: an illegal memory access was encountered", file=sys.stderr, flush=True)
            sys.exit(1)
        else:
            print("torch: loading kernels 50%", file=sys.stderr, flush=True)
            stdout.write(b"Compiling: 100%|##########| 3/3\n")
            stdout.flush()


if __name__ == "__main__":
    main()
