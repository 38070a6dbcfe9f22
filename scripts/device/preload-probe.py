"""Would a compiled GPU worker's preload start sooner with its steps in threads (issue 23: that worker's preload is a
warm run's critical path)? Not part of a run; prints one short table:

    PYTHONPATH=native python3 scripts/device/preload-probe.py [ROUNDS]

Each round starts two fresh processes, in turn: `serial`, the worker's own preload of a compiled CUDA backend
(worker/__main__.py preload('torch,compile,cuda:0'), after the byte code folder and the hidden packages, as the
worker does), and `threads`, the same steps with torch.compile's imports and then the CUDA context in a second thread
while transformers' model code imports in the first. The processes share a byte code folder (TR118_PYTHON_BYTECODE,
filled by a first, untimed process), as a warm run's workers do. Prints each variant's seconds from the process's
start to its preload's end (median and range).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

SETUP = (
    "import os, time; began = time.perf_counter()\n"
    "from tr118_native.worker.bytecode import use_bytecode_folder; use_bytecode_folder(os.environ)\n"
    "from tr118_native.worker.hidden import hide; hide(os.environ)\n"
)
SERIAL = SETUP + (
    "from tr118_native.worker.__main__ import preload; preload('torch,compile,cuda:0')\n"
    "print(time.perf_counter() - began)\n"
)
THREADS = SETUP + (
    "import threading\n"
    "from tr118_native.worker.torch_engine import import_torch, init_cuda\n"
    "torch = import_torch()\n"
    "def compile_then_cuda():\n"
    "    import torch._dynamo, torch._inductor.compile_fx\n"
    "    from torch._inductor import codecache\n"
    "    codecache.torch_key()\n"
    "    init_cuda(torch, 0)\n"
    "    codecache.CacheBase.get_system()\n"
    "helper = threading.Thread(target=compile_then_cuda); helper.start()\n"
    "import transformers; transformers.AutoModelForCausalLM\n"
    "helper.join()\n"
    "print(time.perf_counter() - began)\n"
)


def seconds(code: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    env = {
        **os.environ,
        "TR118_PYTHON_BYTECODE": tempfile.mkdtemp(prefix="preload-probe-"),
    }
    began = time.perf_counter()
    seconds(SERIAL, env)  # fills the byte code folder where the environment has none
    print(
        f"first process (byte code folder filled where needed): {time.perf_counter() - began:.1f} s"
    )
    runs: dict[str, list[float]] = {"serial": [], "threads": []}
    for _ in range(rounds):
        runs["serial"].append(seconds(SERIAL, env))
        runs["threads"].append(seconds(THREADS, env))
    print("| preload | median s | range s |")
    print("|---|---|---|")
    for name, values in runs.items():
        values.sort()
        print(
            f"| {name} | {values[len(values) // 2]:.2f} | {values[0]:.2f}-{values[-1]:.2f} |"
        )


if __name__ == "__main__":
    main()
