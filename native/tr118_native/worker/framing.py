"""The frames of src/backends/framing.ts, in Python.

A frame is one line of UTF-8 JSON (an object: the header) ending in a newline, followed by exactly
``header["payloadBytes"]`` raw bytes when the header has that key. Tensors travel as such payloads
(little-endian float32, row-major), never as JSON numbers.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

# A header longer than this is garbage, not a message (the TypeScript side uses the same bound).
MAX_HEADER_BYTES = 64 * 1024 * 1024


class FrameError(Exception):
    """The stream is not in this format (cut mid-frame, not JSON, not an object)."""


def read_frame(stream: BinaryIO) -> tuple[dict[str, Any], bytes | None] | None:
    """The next frame, or None at a clean end of the stream (between frames)."""
    line = stream.readline(MAX_HEADER_BYTES + 1)
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise FrameError(f"a header without its end of line ({len(line)} bytes)")
    try:
        header = json.loads(line)
    except json.JSONDecodeError as error:
        raise FrameError(f"not a JSON header: {line[:200]!r}") from error
    if not isinstance(header, dict):
        raise FrameError(f"a header must be a JSON object: {line[:200]!r}")
    size = header.get("payloadBytes")
    if size is None:
        return header, None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise FrameError(f"payloadBytes must be a non-negative integer; got {size!r}")
    payload = stream.read(size)
    if len(payload) != size:
        raise FrameError(f"the stream ended {size - len(payload)} bytes into a {size}-byte payload")
    return header, payload


def write_frame(stream: BinaryIO, header: dict[str, Any], payload: bytes | memoryview | None = None) -> None:
    """Writes one frame and flushes it: the runner waits for every reply."""
    if payload is not None:
        header = {**header, "payloadBytes": memoryview(payload).nbytes}
    # allow_nan=False: JSON has no NaN or Infinity, and JavaScript's JSON.parse would reject the whole reply.
    stream.write(json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n")
    if payload is not None:
        stream.write(payload)
    stream.flush()
