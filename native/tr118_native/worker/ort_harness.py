"""The ONNX Runtime worker's timer against a bare IO-binding loop, in one process (harness.py's `ort` role).

    python -m tr118_native.worker.harness ort --model X.onnx --provider cuda --shapes 1x128,4x128
    python -m tr118_native.worker.harness ort-profile --model X.onnx --provider cuda --out profile.json

`ort`: the model is opened as the worker opens it (OrtEngine: same session options, placement probe). For each
shape, blocks alternate A B B A between `time_passes` (what the worker's `run` calls for its gated figure: it binds
the inputs and logits, then times session.run_with_iobinding) and a bare loop: one IO binding made once (input ids
and mask copied to the device, the logits preallocated there), then run_with_iobinding in a loop between two
perf_counter_ns reads, on the same session. Prints one JSON object: per shape, both medians and their ratio
(worker ÷ bare; the target is ≤ 1.05), and on a GPU the median of as many end-to-end passes (session.run, host in
and host out) beside them. bench/ort-harness.ts runs it and records the figures.

`ort-profile`: opens the model the same way and keeps the placement profile ONNX Runtime wrote for the probe pass
(how fixtures/profiles/ were recorded); prints the placement summary.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from tr118_native.worker.ort_engine import OrtEngine, OrtModel, gpu_name, time_passes
from tr118_native.worker.schema import parse_spec


def request(args: argparse.Namespace) -> dict[str, Any]:
    """The `open` the runner would send, its spec checked against the schema as the worker checks it."""
    return {
        "type": "open",
        "id": 0,
        "backend": parse_spec(
            {
                "name": f"onnxruntime-{args.provider}",
                "engine": "onnxruntime",
                "provider": args.provider,
                "precision": "fp32",
                "deviceId": args.device_id,
                "intraOpThreads": args.intra_op_threads,
                "interOpThreads": 0,
                "graphOptimization": "all",
                "modelPath": str(args.model),
                "logitsOutput": args.logits_output,
            }
        ),
    }


class BareLoop:
    """What anyone would write to time ONNX Runtime on a device: bind once, then loop run_with_iobinding."""

    def __init__(self, model: OrtModel, ids: np.ndarray, mask: np.ndarray, vocab: int) -> None:
        ort, spec = model.ort, model.spec
        self.session = model.session
        self.binding = self.session.io_binding()
        feeds = {"input_ids": ids, "attention_mask": mask}
        # Kept alive as long as the binding refers to them.
        self.values = {n: ort.OrtValue.ortvalue_from_numpy(feeds[n], spec.device_type, spec.device_id) for n in feeds}
        for name in model.input_names:
            self.binding.bind_ortvalue_input(name, self.values[name])
        shape = [ids.shape[0], ids.shape[1], vocab]
        self.logits = ort.OrtValue.ortvalue_from_shape_and_type(shape, np.float32, spec.device_type, spec.device_id)
        self.binding.bind_ortvalue_output(spec.logits_output, self.logits)

    def __call__(self, iterations: int) -> list[float]:
        times = []
        for _ in range(iterations):
            t0 = time.perf_counter_ns()
            self.session.run_with_iobinding(self.binding)
            times.append((time.perf_counter_ns() - t0) / 1e6)
        return times


def measure(args: argparse.Namespace) -> dict[str, Any]:
    engine = OrtEngine(request(args))
    model = engine.candidate
    vocab = model.vocab
    if vocab is None:
        raise SystemExit(f"{args.model}: the vocabulary is not known (logits output {args.logits_output})")
    shapes: dict[str, Any] = {}
    for shape in args.shapes.split(","):
        batch, seq_len = (int(x) for x in shape.split("x"))
        ids = ((np.arange(batch * seq_len, dtype=np.int64) * 7919) % vocab).reshape(batch, seq_len)
        mask = np.ones_like(ids)
        bare = BareLoop(model, ids, mask, vocab)
        time_passes([model], ids, mask, args.warmup, 1, end_to_end=False)  # warm-up, untimed
        bare(args.warmup)
        worker_ms: list[float] = []
        bare_ms: list[float] = []
        for block in range(args.blocks):
            # A B B A: each block pair starts with the other side.
            order = ("worker", "bare") if block % 2 == 0 else ("bare", "worker")
            for side in order:
                if side == "worker":
                    worker_ms += time_passes([model], ids, mask, 0, args.iterations, end_to_end=False)[0].device_ms
                else:
                    bare_ms += bare(args.iterations)
        worker_median, bare_median = statistics.median(worker_ms), statistics.median(bare_ms)
        figures: dict[str, Any] = {
            "harnessMedianMs": worker_median,
            "bareMedianMs": bare_median,
            "harnessOverBareRatio": worker_median / bare_median,
            "passesPerSide": len(worker_ms),
        }
        if model.spec.on_gpu:
            timed = time_passes([model], ids, mask, 0, args.iterations, end_to_end=True)[0]
            figures["endToEndMedianMs"] = statistics.median(timed.end_to_end_ms or [])
        shapes[shape] = figures
    ort = engine.ort
    return {
        "provider": args.provider,
        "providers": list(model.session.get_providers()),
        "gpu": gpu_name(args.device_id) if model.spec.on_gpu else None,
        "onnxruntime": ort.__version__,
        "onnxruntimePath": str(Path(ort.__file__).parent),
        "model": str(args.model),
        "vocabSize": vocab,
        "placement": model.placement,
        "shapes": shapes,
    }


def record_profile(args: argparse.Namespace) -> dict[str, Any]:
    engine = OrtEngine(request(args))
    # Opened once more with the profile kept (the engine's own open deletes its copy).
    model = OrtModel(engine.ort, engine.spec, args.model, paired=False, keep_profile=args.out)
    return {"profile": str(args.out), "placement": model.placement}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m tr118_native.worker.harness", description=__doc__)
    roles = root.add_subparsers(dest="role", required=True)
    for role in ("ort", "ort-profile"):
        p = roles.add_parser(role)
        p.add_argument("--model", type=Path, required=True)
        p.add_argument("--provider", choices=["cpu", "cuda", "tensorrt"], default="cuda")
        p.add_argument("--device-id", type=int, default=0)
        p.add_argument("--logits-output", default="logits")
        p.add_argument("--intra-op-threads", type=int, default=0)
        if role == "ort":
            p.add_argument("--shapes", default="1x128,4x128")
            p.add_argument("--blocks", type=int, default=10)
            p.add_argument("--iterations", type=int, default=100)
            p.add_argument("--warmup", type=int, default=20)
        else:
            p.add_argument("--out", type=Path, required=True, help="where the profile JSON goes")
    return root


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    print(json.dumps(measure(args) if args.role == "ort" else record_profile(args)))
