"""The least a fresh process pays before a compiled model's first timed pass, with nothing of tr118 in it: the floor
under a GPU run's wall / work (issue 23). Not part of a run; run on the GPU machine:

    python3 scripts/device/floor-probe.py save CHECKPOINT CACHE_FILE   # compiles, writes the mega-cache
    python3 scripts/device/floor-probe.py load CHECKPOINT CACHE_FILE   # a warm run's process: loads it first

Steps, in a run's order and with the worker's compile strategy (torch_engine.py: a 1x8 probe dynamic in sequence
length, then the first larger batch compiles the second graph): importing torch and transformers, the CUDA context,
reading the checkpoint and moving it to the GPU, loading torch.compile's caches, torch.compile() and the probe's
call, the 4x128 batch's first call (the second graph), a 1x1024 call (no compile). Run it with PYTHONPYCACHEPREFIX and
TORCHINDUCTOR_CACHE_DIR kept across processes: the warmest a runner can be (byte code and Inductor's own folder
both hit), so what it prints is a floor. The interpreter's own start is measured from the process's start time."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()


def process_age_s() -> float:
    """Seconds since this process started (/proc/self/stat's starttime), so the interpreter's start counts too."""
    ticks = os.sysconf("SC_CLK_TCK")
    start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    uptime_s = float(Path("/proc/uptime").read_text().split()[0])
    return uptime_s - start_ticks / ticks


def main() -> None:
    mode, checkpoint, cache_file = sys.argv[1:4]
    steps: list[tuple[str, float]] = [
        ("interpreter start", process_age_s() - (time.perf_counter() - STARTED))
    ]
    mark = time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps.append((name, now - mark))
        mark = now

    import torch
    import transformers

    step("import torch, transformers")
    # FLOOR_DEVICE=cpu tries the script where there is no GPU (the steps' order; its figures mean nothing there).
    device = torch.device(os.environ.get("FLOOR_DEVICE", "cuda"))

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    torch.zeros(1, device=device)
    sync()
    step("CUDA context")
    model = (
        transformers.AutoModelForCausalLM.from_pretrained(checkpoint).to(device).eval()
    )
    sync()
    step("checkpoint read and moved")
    if mode == "load":
        torch.compiler.load_cache_artifacts(Path(cache_file).read_bytes())
        step("load_cache_artifacts")
    compiled = torch.compile(model)
    vocab = model.config.vocab_size

    def call(batch: int, seq_len: int, dynamic: bool = False) -> None:
        ids = (
            torch.arange(batch * seq_len, device=device)
            .remainder(vocab)
            .reshape(batch, seq_len)
        )
        mask = torch.ones_like(ids)
        if dynamic:
            for tensor in (ids, mask):
                torch._dynamo.maybe_mark_dynamic(tensor, 1)
        with torch.inference_mode():
            compiled(input_ids=ids, attention_mask=mask, use_cache=False)
        sync()

    call(1, 8, dynamic=True)
    step("torch.compile + probe 1x8 (first graph)")
    call(4, 128)
    step("4x128 first call (second graph)")
    positions = int(getattr(model.config, "n_positions", 1 << 30))
    call(1, min(1024, positions))
    step(f"1x{min(1024, positions)} first call (no compile)")
    if mode == "save":
        data, _info = torch.compiler.save_cache_artifacts()
        Path(cache_file).write_bytes(data)
        step("save_cache_artifacts")
    total = sum(seconds for _name, seconds in steps)
    print(
        " | ".join(f"{name} {seconds:.2f}" for name, seconds in steps)
        + f" | TOTAL {total:.2f} s"
    )


if __name__ == "__main__":
    main()
