"""Where ONNX Runtime ran each node of a graph, read from the JSON its profiler writes. Pure: no ONNX Runtime here.

With ``SessionOptions.enable_profiling`` ONNX Runtime writes a Chrome-trace list of events when
``end_profiling()`` is called. What it writes (checked on onnxruntime 1.32 CPU, the recorded files under
fixtures/profiles/, and its sequential executor's source):

- ``cat: "Session"`` events (model loading, session initialisation, each run): no node, ignored;
- per executed node one ``cat: "Node"`` event named ``<node name>_kernel_time`` whose ``args`` carry ``op_name``
  (the kernel's op type: ``MatMul``, ``FusedMatMul``, ``MemcpyToHost``, …) and ``provider``
  (``CPUExecutionProvider``, ``CUDAExecutionProvider``, …);
- older releases also wrote ``<node name>_fence_before`` / ``_fence_after`` Node events with ``op_name`` but no
  ``provider``; they are not kernels and are skipped;
- a node runs once per pass, but a node inside a Loop / Scan body runs once per iteration, and a profile that spans
  several passes repeats every node: events are deduplicated by node name, so each node counts once.

Other trace categories (a provider's own GPU kernel events, where a build records them) are ignored. A node that did
not execute in the profiled pass (the untaken branch of an If) does not appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KERNEL_EVENT_SUFFIX = "_kernel_time"


@dataclass(frozen=True)
class PlacedOps:
    """How many distinct nodes of one op type ran on one provider."""

    provider: str
    op_type: str
    count: int

    def as_json(self) -> dict[str, Any]:
        return {"provider": self.provider, "opType": self.op_type, "count": self.count}


def profile_events(trace: Any) -> list[Any]:
    """The event list of a profile: ONNX Runtime writes a bare JSON list; Chrome's trace format also allows an
    object with ``traceEvents``."""
    if isinstance(trace, list):
        return trace
    if isinstance(trace, dict) and isinstance(trace.get("traceEvents"), list):
        return trace["traceEvents"]
    raise ValueError("not an ONNX Runtime profile: expected a JSON list of events (or an object with traceEvents)")


def placement_from_profile(trace: Any) -> list[PlacedOps]:
    """Nodes per (provider, op type), each node counted once; sorted by provider, then most nodes first."""
    seen: set[tuple[str, str, str]] = set()
    counts: dict[tuple[str, str], int] = {}
    for event in profile_events(trace):
        if not isinstance(event, dict) or event.get("cat") != "Node":
            continue
        args = event.get("args")
        if not isinstance(args, dict):
            continue
        provider, op_type, name = args.get("provider"), args.get("op_name"), event.get("name")
        if not (isinstance(provider, str) and provider and isinstance(op_type, str) and op_type):
            continue  # a fence event (older releases), not a kernel
        node = name.removesuffix(KERNEL_EVENT_SUFFIX) if isinstance(name, str) else ""
        key = (node, provider, op_type)
        if node and key in seen:
            continue  # the same node again: a loop body's iteration, or a later pass
        seen.add(key)
        counts[(provider, op_type)] = counts.get((provider, op_type), 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
    return [PlacedOps(provider, op_type, count) for (provider, op_type), count in ordered]


def placement_json(trace: Any) -> dict[str, Any]:
    """The protocol's SessionInfo.placement (src/backends/protocol.ts)."""
    return {"nodes": [placed.as_json() for placed in placement_from_profile(trace)]}
