"""A compiled GPU backend's preload (worker/__main__.py preload) with and without the packages the worker hides
(worker/hidden.py), each in a fresh process, alternating: what each preload step took (PRELOAD_MS), then a load of
the checkpoint. Not part of a run; on the GPU machine, with native/ on PYTHONPATH:

    python3 scripts/device/hidden-probe.py CHECKPOINT ROUNDS
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = """
import json, os, sys, time
from tr118_native.worker.hidden import hide
hide(os.environ)
from tr118_native.worker.__main__ import preload
preload("torch,compile,cuda:0")
from tr118_native.worker.torch_engine import PRELOAD_MS
import transformers
began = time.perf_counter()
transformers.AutoModelForCausalLM.from_pretrained(sys.argv[1])
took = {k: round(v / 1000, 2) for k, v in PRELOAD_MS.items()}
took["load"] = round(time.perf_counter() - began, 2)
print(json.dumps({"modules": len(sys.modules), **took}))
"""

checkpoint, rounds = sys.argv[1], int(sys.argv[2])
for _ in range(rounds):
    for label, hidden in (("hidden (default)", None), ("nothing hidden", "")):
        env = {k: v for k, v in os.environ.items() if k != "TR118_WORKER_HIDDEN"}
        if hidden is not None:
            env["TR118_WORKER_HIDDEN"] = hidden
        done = subprocess.run(
            [sys.executable, "-c", CHILD, checkpoint],
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        line = (
            done.stdout.strip().splitlines()[-1]
            if done.returncode == 0
            else done.stderr[-300:]
        )
        print(f"{label}: {json.loads(line) if done.returncode == 0 else line}")
