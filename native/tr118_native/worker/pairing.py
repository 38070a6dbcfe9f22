"""Same-run A/B in every engine alike: which model's passes go first, and the `ran` reply built from the timed passes
(protocol.ts). The engines time; this only orders and names (src/measure/pairing.ts decides the order per run)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

M = TypeVar("M")


class TimedPasses(Protocol):
    device_ms: list[float]
    end_to_end_ms: list[float] | None


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
