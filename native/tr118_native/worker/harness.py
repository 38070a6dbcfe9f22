"""The PyTorch worker's timer against a bare loop, in one process: how much the harness adds to what it measures.

    python -m tr118_native.worker.harness [torch] --checkpoint DIR --device cuda --shapes 1x128,4x128
    python -m tr118_native.worker.harness ort --model X.onnx --provider cuda ...   (ort_harness.py)

For each shape, blocks alternate A B B A between `time_passes` (the function the worker's `run` calls) and a bare
loop of forward passes timed the same way (CUDA events around each pass on a GPU, perf_counter_ns on the CPU), so
drift of the machine lands on both alike. Prints one JSON object: per shape, both medians and their ratio
(harness ÷ bare; the target is ≤ 1.03). bench/torch-harness.ts runs it and records the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tr118_native.worker.torch_engine import TorchModel, TorchSpec, import_torch, time_passes


def bare_loop(torch: Any, model: TorchModel, ids: Any, mask: Any, iterations: int) -> list[float]:
    """What anyone would write to time a forward pass, nothing else."""
    if model.device.type != "cuda":
        times = []
        for _ in range(iterations):
            t0 = time.perf_counter_ns()
            model.forward(ids, mask)
            times.append((time.perf_counter_ns() - t0) / 1e6)
        return times
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iterations)]
    for start, end in events:
        start.record()
        model.forward(ids, mask)
        end.record()
    torch.cuda.synchronize(model.device)
    return [start.elapsed_time(end) for start, end in events]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    torch = import_torch()
    spec = TorchSpec(
        name="harness",
        device=args.device,
        device_id=0,
        dtype=args.dtype,
        compile=args.compile,
        checkpoint=args.checkpoint,
        trust_pickle=False,
        allowed_weight_differences=(),
        intra_op_threads=0,
        inter_op_threads=0,
        attention=None,
    )
    model = TorchModel(torch, spec, args.checkpoint)
    vocab = int(model.config.vocab_size)
    shapes: dict[str, Any] = {}
    for shape in args.shapes.split(","):
        batch, seq_len = (int(x) for x in shape.split("x"))
        ids = (torch.arange(batch * seq_len).reshape(batch, seq_len) * 7919) % vocab
        mask = torch.ones_like(ids)
        device_ids, device_mask = ids.to(model.device), mask.to(model.device)
        for _ in range(args.warmup):
            model.forward(device_ids, device_mask)
        model.sync()
        harness: list[float] = []
        bare: list[float] = []
        for block in range(args.blocks):
            # A B B A: each block pair starts with the other side.
            order = ("harness", "bare") if block % 2 == 0 else ("bare", "harness")
            for side in order:
                if side == "harness":
                    harness += time_passes(torch, [model], ids, mask, 0, args.iterations)[0].device_ms
                else:
                    bare += bare_loop(torch, model, device_ids, device_mask, args.iterations)
        harness_ms, bare_ms = statistics.median(harness), statistics.median(bare)
        shapes[shape] = {
            "harnessMedianMs": harness_ms,
            "bareMedianMs": bare_ms,
            "harnessOverBareRatio": harness_ms / bare_ms,
            "passesPerSide": len(harness),
        }
    gpu = torch.cuda.get_device_name(model.device) if model.device.type == "cuda" else None
    return {
        "device": str(model.device),
        "gpu": gpu,
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "parameters": int(sum(p.numel() for p in model.module.parameters())),
        "shapes": shapes,
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["ort"], ["ort-profile"]):
        from tr118_native.worker import ort_harness  # needs onnxruntime, not torch

        ort_harness.main(argv)
        return
    if argv[:1] == ["torch"]:
        argv = argv[1:]
    parser = argparse.ArgumentParser(prog="python -m tr118_native.worker.harness", description=__doc__)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda")
    parser.add_argument("--dtype", choices=["fp32", "fp16", "bf16"], default="fp32")
    parser.add_argument("--compile", default="off")
    parser.add_argument("--shapes", default="1x128,4x128")
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    print(json.dumps(measure(parser.parse_args(argv))))


if __name__ == "__main__":
    main()
