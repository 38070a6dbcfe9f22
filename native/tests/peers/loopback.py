"""A protocol peer for the framing tests: answers `logits` with a known pattern, nothing else real.

The TypeScript test drives it through ProcessBackend and checks every value, so a frame that is cut, shifted or
byte-swapped anywhere fails. Value i of a [batch, seq, vocab] reply is float32((i % 1000) * 0.25 - 100).
"""

from __future__ import annotations

import sys

import numpy as np

from tr118_native.worker.framing import read_frame, write_frame


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (frame := read_frame(stdin)) is not None:
        request, _ = frame
        kind, rid = request["type"], request["id"]
        if kind == "open":
            info = {
                "protocolVersion": 1,
                "runtime": "loopback",
                "runtimeVersion": "0",
                "providers": ["none"],
                "inputNames": ["input_ids"],
                "outputNames": ["logits"],
                "openMs": 0,
            }
            write_frame(stdout, {"type": "opened", "id": rid, "info": info})
        elif kind == "logits":
            dims = [request["batch"], request["seqLen"], int(request.get("vocab", 50257))]
            values = ((np.arange(int(np.prod(dims))) % 1000) * 0.25 - 100).astype("<f4")
            write_frame(stdout, {"type": "logits", "id": rid, "dims": dims, "dtype": "float32"}, values.data)
        elif kind == "close":
            write_frame(stdout, {"type": "closed", "id": rid})
        else:
            write_frame(stdout, {"type": "error", "id": rid, "kind": "failed", "message": f"loopback: no {kind}"})


if __name__ == "__main__":
    main()
