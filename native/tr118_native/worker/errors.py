"""How a request fails, in the protocol's kinds (src/backends/protocol.ts `error` reply)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

FailureKind = Literal["unavailable", "degraded", "failed", "usage"]


class WorkerError(Exception):
    """unavailable: cannot run on this machine (no torch, no GPU, no CUDA provider); degraded: ran, but not as asked
    (a compile that failed); failed: an error; usage: the model does not fit the config (the user's mistake), and
    `key_path` names the config key to change, e.g. ("model", "logits_output")."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        model: Literal["candidate", "base"] | None = None,
        key_path: Sequence[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message
        # An `open` that failed on the same-run base model: the base is the user's input, not the PR's fault.
        self.model = model
        self.key_path = list(key_path) if key_path is not None else None
