"""Same-run A/B in every engine alike: which model's passes go first, and the `ran` reply built from the timed passes
(protocol.ts). The engines time; this only orders and names (src/measure/pairing.ts decides the order per run)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from tr118_native.worker.errors import WorkerError

M = TypeVar("M")


class TimedPasses(Protocol):
    device_ms: list[float]
    end_to_end_ms: list[float] | None


def end_to_end_passes(request: dict[str, Any]) -> int:
    """How many end-to-end passes a `run` asks for (config end_to_end_passes): reported, never gated, so a few suffice.
    Absent (a runner from before the count was sent): as many as the timed passes, as it was."""
    return int(request.get("endToEndPasses", request["iterations"]))


def open_pair(
    open_candidate: Callable[[], M], open_base: Callable[[], M] | None, base_first: bool
) -> tuple[M, M | None]:
    """The candidate and, in same-run A/B (`open_base` given), the base, opened in the order asked: the model opened
    first is measured slightly slower in a paired run, so the runner swaps the order halfway."""
    if open_base is None:
        return open_candidate(), None
    if base_first:
        base = open_base()
        return open_candidate(), base
    candidate = open_candidate()
    return candidate, open_base()


def pick(candidate: M, base: M | None, which: str | None, what: str) -> M:
    """The model a request names (`model: "base"`, else the candidate); `what` names the base in the error."""
    if which != "base":
        return candidate
    if base is None:
        raise WorkerError("failed", f"{what} was not opened")
    return base


def pass_order(candidate: M, base: Callable[[], M], paired: str | None) -> list[M]:
    """The models in the order their passes alternate: the candidate alone, or both with `paired`'s side first."""
    if paired is None:
        return [candidate]
    models = [candidate, base()]
    if paired == "base-first":
        models.reverse()
    return models


def ran_reply(
    models: Sequence[Any], timed: Sequence[TimedPasses], candidate: Any, paired: bool, output_shape: list[int]
) -> dict[str, Any]:
    """timed[k] belongs to models[k]: the candidate's figures, and in a paired run the base's beside them."""
    own = timed[list(models).index(candidate)]
    reply: dict[str, Any] = {"latenciesMs": own.device_ms, "outputShape": output_shape}
    if own.end_to_end_ms is not None:
        reply["endToEndLatenciesMs"] = own.end_to_end_ms
    if paired:
        (base,) = [t for m, t in zip(models, timed, strict=True) if m is not candidate]
        reply["baseLatenciesMs"] = base.device_ms
        if base.end_to_end_ms is not None:
            reply["baseEndToEndLatenciesMs"] = base.end_to_end_ms
    return reply
