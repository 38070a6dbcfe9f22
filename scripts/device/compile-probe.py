"""How long torch.compile's first calls take in a fresh process, with and without torch's caches: the probe behind
docs/run-time.md's "Tried and not adopted" (issue 23). Not part of a run; run on the GPU machine:

    TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) python3 scripts/device/compile-probe.py save 0 /tmp/mc.bin cuda CHECKPOINT
    TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) python3 scripts/device/compile-probe.py load 0 /tmp/mc.bin cuda CHECKPOINT

save compiles and writes torch.compiler.save_cache_artifacts() to the file; load reads it first (the artifact store's
hit, on a machine whose Inductor folder is empty). The second argument 1 turns on Dynamo's precompile
(torch._dynamo.config.caching_precompile), so the file also holds the traced frames. A fresh Inductor folder per
process (TORCHINDUCTOR_CACHE_DIR) keeps Inductor's own local cache out of it. Prints seconds per step.

    python3 scripts/device/compile-probe.py dynamic 1 - cuda CHECKPOINT

compiles with dynamic=True (1) or the default (0) and prints each shape's first call and its median pass.

The GPU figures in docs/run-time.md came from two ad-hoc files with these steps; this file is their tidied form and
has run on the CPU only (the fixture, on the 2-core VM), not on the GPU."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
import transformers

SHAPES = [(1, 8), (1, 32), (4, 32), (1, 128)]
DYNAMIC_SHAPES = [(1, 8), (1, 128), (4, 128), (1, 1024)]


def main() -> None:
    mode, flag, path, device, checkpoint = sys.argv[1:6]
    started = time.perf_counter()
    if mode in ("save", "load") and flag == "1":
        torch._dynamo.config.caching_precompile = True
    model = (
        transformers.AutoModelForCausalLM.from_pretrained(checkpoint).to(device).eval()
    )
    print(f"model load {time.perf_counter() - started:.2f} s")
    if mode == "load":
        began = time.perf_counter()
        torch.compiler.load_cache_artifacts(Path(path).read_bytes())
        print(f"load_cache_artifacts {time.perf_counter() - began:.2f} s")
    began = time.perf_counter()
    compiled = torch.compile(
        model, dynamic=True if mode == "dynamic" and flag == "1" else None
    )
    print(f"torch.compile() {time.perf_counter() - began:.2f} s")
    positions = int(getattr(model.config, "n_positions", 1 << 30))
    for batch, seq_len in DYNAMIC_SHAPES if mode == "dynamic" else SHAPES:
        if (
            seq_len > positions
        ):  # the fixture has 512 positions: 1x1024 would index past them
            print(
                f"{batch}x{seq_len} skipped: the checkpoint has {positions} positions"
            )
            continue
        ids = (
            torch.arange(batch * seq_len, device=device)
            .remainder(model.config.vocab_size)
            .reshape(batch, seq_len)
        )
        times: list[float] = []
        with torch.inference_mode():
            for _ in range(21 if mode == "dynamic" else 1):
                began = time.perf_counter()
                compiled(
                    input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False
                )
                if device == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - began)
        rest = sorted(times[1:])
        median = f", median {rest[len(rest) // 2] * 1000:.2f} ms" if rest else ""
        print(f"{batch}x{seq_len} first call {times[0]:.2f} s{median}")
    if mode == "save":
        data, _info = torch.compiler.save_cache_artifacts()
        Path(path).write_bytes(data)
        print(f"saved {len(data)} bytes")
    print(f"total {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
