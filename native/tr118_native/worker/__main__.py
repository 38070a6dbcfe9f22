"""`python -m tr118_native.worker`: the native worker process, started by the TypeScript runner.

stdin carries request frames and stdout reply frames. Libraries print to stdout (transformers' progress bars,
torch warnings, C extensions), so the protocol keeps a private copy of the stdout descriptor and file descriptor 1
is pointed at stderr, the worker's log: nothing but frames can reach the runner's reader.
"""

from __future__ import annotations

import os
import sys

from tr118_native.worker.serve import serve


def main() -> None:
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # Nothing is downloaded at run time: checkpoints come from local folders only.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    serve(sys.stdin.buffer, protocol_out, sys.stderr)


if __name__ == "__main__":
    main()
