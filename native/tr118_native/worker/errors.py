"""How a request fails, in the protocol's three kinds (src/backends/protocol.ts `error` reply)."""

from __future__ import annotations

from typing import Literal

FailureKind = Literal["unavailable", "degraded", "failed"]


class WorkerError(Exception):
    """unavailable: cannot run on this machine (no torch, no GPU); degraded: ran, but not as asked (a compile that
    failed); failed: an error."""

    def __init__(self, kind: FailureKind, message: str, model: Literal["candidate", "base"] | None = None) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message
        # An `open` that failed on the same-run base checkpoint: the base is the user's input, not the PR's fault.
        self.model = model
