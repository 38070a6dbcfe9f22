"""Where a pytorch worker's start and a warm compiled open spend their seconds (issue 23), in bare processes on the GPU
machine. Not part of a run; prints short tables:

    python3 scripts/device/startup-probe.py imports
        `python -X importtime` of what a worker's preload imports (torch, transformers' model code, Dynamo and
        Inductor), summed by top-level package, in one process alone and in three side by side (a run's workers);
        and whether the packages' byte code is cached (a read-only site-packages recompiles every .py each start).

    python3 scripts/device/startup-probe.py compile CHECKPOINT DEVICE SHAPES
        a cold process compiles the probe (1x8) and each shape in SHAPES (e.g. 1x32,4x32) and saves torch's
        mega-cache, as a worker does at close; a second fresh process (its own empty Inductor folder) loads it and
        compiles again: the first call's seconds by torch's own compile phases (torch._dynamo.utils.compile_times),
        the functions that took longest (cProfile, cumulative), then each shape's first call (the warm-up's
        recompiles). With DYNAMIC=1 in the environment the model is compiled with dynamic=True; with MARK_SEQ=1 the probe's sequence dimension is marked dynamic
        (torch._dynamo.mark_dynamic), as the worker does.

With AS_WORKER=1, `imports` times the worker's own preload (worker/__main__.py, packages hidden as the worker hides
them; native/ on PYTHONPATH) instead of the bare imports.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

PRELOAD = "import torch, transformers; transformers.AutoModelForCausalLM; import torch._dynamo, torch._inductor.compile_fx"
# AS_WORKER=1: the worker's own preload of a compiled GPU backend instead, packages hidden as the worker hides them
# (native/ on PYTHONPATH).
if os.environ.get("AS_WORKER") == "1":
    PRELOAD = (
        "import os; from tr118_native.worker.hidden import hide; hide(os.environ); "
        "from tr118_native.worker.__main__ import preload; preload('torch,compile,cuda:0')"
    )


def imports() -> None:
    sums: dict[str, float] = defaultdict(float)
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PRELOAD],
        capture_output=True,
        text=True,
        check=True,
    )
    alone = time.perf_counter() - began
    if os.environ.get("IMPORTTIME_OUT"):  # the whole tree, to see who imports what
        Path(os.environ["IMPORTTIME_OUT"]).write_text(done.stderr)
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[0].strip().startswith("import time:"):
            continue
        try:
            self_us = int(parts[0].split(":")[1])
        except ValueError:
            continue
        names = parts[2].strip().split(".")
        # torch's own subpackages apart (torch._dynamo, torch._inductor, ...): they are separate preload steps.
        sums[".".join(names[:2]) if names[0] == "torch" else names[0]] += self_us / 1e6
    print(
        f"python {sys.version.split()[0]}; the preload alone: {alone:.2f} s (importtime's own cost included)"
    )
    for name, seconds in sorted(sums.items(), key=lambda kv: -kv[1])[:16]:
        print(f"  {name:<24} {seconds:6.2f} s self")
    for label, extra in (("alone", 1), ("3 side by side", 3)):
        began = time.perf_counter()
        procs = [
            subprocess.Popen([sys.executable, "-c", PRELOAD]) for _ in range(extra)
        ]
        for p in procs:
            p.wait()
        print(f"preload, {label}: {time.perf_counter() - began:.2f} s")
    import importlib.util

    import transformers.modeling_utils as mu

    source = mu.__file__
    cached = importlib.util.cache_from_source(source)
    print(
        f"byte code: {cached} exists={os.path.exists(cached)}; site-packages writable="
        f"{os.access(os.path.dirname(source), os.W_OK)}; PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE')}"
    )


def parse_shapes(text: str) -> list[tuple[int, int]]:
    return [
        (int(b), int(s))
        for b, s in (item.split("x") for item in text.split(",") if item)
    ]


def child(
    role: str, checkpoint: str, device: str, shapes_text: str, artifacts: str
) -> None:
    started = time.perf_counter()
    import torch
    import torch._dynamo
    import torch._inductor.compile_fx
    import transformers

    imported = time.perf_counter()
    known = set(sys.modules)
    model = (
        transformers.AutoModelForCausalLM.from_pretrained(checkpoint).to(device).eval()
    )
    if device == "cuda":
        torch.cuda.synchronize()
    loaded = time.perf_counter()
    print(f"[{role}] imported by loading the model: {sorted(set(sys.modules) - known)}")
    known = set(sys.modules)
    if role == "load":
        torch.compiler.load_cache_artifacts(Path(artifacts).read_bytes())
    cache_loaded = time.perf_counter()
    compiled = torch.compile(
        model, dynamic=True if os.environ.get("DYNAMIC") == "1" else None
    )

    def call(batch: int, seq_len: int, mark: bool = False) -> float:
        ids = (
            torch.arange(batch * seq_len, device=device)
            .remainder(model.config.vocab_size)
            .reshape(batch, seq_len)
        )
        mask = torch.ones_like(ids)
        if mark:
            torch._dynamo.mark_dynamic(ids, 1)
            torch._dynamo.mark_dynamic(mask, 1)
        began = time.perf_counter()
        with torch.inference_mode():
            compiled(input_ids=ids, attention_mask=mask, use_cache=False)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - began

    profile = cProfile.Profile() if role == "load" else None
    if profile:
        profile.enable()
    probe = call(1, 8, mark=os.environ.get("MARK_SEQ") == "1")
    if profile:
        profile.disable()
    print(
        f"[{role}] imports {imported - started:.2f} s, model {loaded - imported:.2f} s, cache load "
        f"{cache_loaded - loaded:.2f} s, probe 1x8 first call {probe:.2f} s"
    )
    new = sorted(set(sys.modules) - known)
    print(f"[{role}] imported by the first compile: {len(new)} modules: {new}")
    if profile:
        from torch._dynamo.utils import compile_times

        print(compile_times(repr="str", aggregate=True))
        stream = io.StringIO()
        stats = pstats.Stats(profile, stream=stream).sort_stats("cumulative")
        stats.print_stats(40)
        lines = [line for line in stream.getvalue().splitlines() if line.strip()]
        print("\n".join(lines[:60]))
    for batch, seq_len in parse_shapes(shapes_text):
        first = call(batch, seq_len)
        again = min(call(batch, seq_len) for _ in range(3))
        print(
            f"[{role}] {batch}x{seq_len}: first call {first:.2f} s, then {again * 1000:.2f} ms"
        )
    from torch._dynamo.utils import counters

    print(f"[{role}] Inductor FX graph cache: {dict(counters['inductor'])}")
    if role == "save":
        data, _info = torch.compiler.save_cache_artifacts()
        Path(artifacts).write_bytes(data)
        print(f"[save] {len(data)} bytes of artifacts")


def compile_pair(checkpoint: str, device: str, shapes_text: str) -> None:
    artifacts = tempfile.mktemp(suffix=".bin")
    for role in ("save", "load"):
        env = {
            **os.environ,
            "TORCHINDUCTOR_CACHE_DIR": tempfile.mkdtemp(),
            "TRITON_CACHE_DIR": tempfile.mkdtemp(),
        }
        began = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "child",
                role,
                checkpoint,
                device,
                shapes_text,
                artifacts,
            ],
            env=env,
            check=True,
        )
        print(f"[{role}] process {time.perf_counter() - began:.2f} s")


if __name__ == "__main__":
    if sys.argv[1] == "imports":
        imports()
    elif sys.argv[1] == "compile":
        compile_pair(*sys.argv[2:5])
    else:
        child(*sys.argv[2:7])
