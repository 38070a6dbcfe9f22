"""The Python half of the frame format: what src/backends/framing.ts writes and reads."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tr118_native.worker.framing import FrameError, read_frame, write_frame


def test_round_trips_headers_and_a_float32_payload() -> None:
    stream = io.BytesIO()
    values = np.linspace(-3, 3, 4 * 7 * 11, dtype="<f4")
    write_frame(stream, {"type": "logits", "id": 3, "dims": [4, 7, 11], "dtype": "float32"}, values.data)
    write_frame(stream, {"type": "closed", "id": 4})
    stream.seek(0)
    first = read_frame(stream)
    assert first is not None
    header, payload = first
    assert header == {"type": "logits", "id": 3, "dims": [4, 7, 11], "dtype": "float32", "payloadBytes": 4 * 308}
    assert payload is not None
    np.testing.assert_array_equal(np.frombuffer(payload, dtype="<f4"), values)
    assert read_frame(stream) == ({"type": "closed", "id": 4}, None)
    assert read_frame(stream) is None


def test_writes_exactly_what_the_typescript_decoder_expects() -> None:
    stream = io.BytesIO()
    write_frame(stream, {"type": "x", "id": 1}, b"\x00\x01")
    assert stream.getvalue() == b'{"type":"x","id":1,"payloadBytes":2}\n\x00\x01'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello from a print()\n", "not a JSON header"),
        (b"[1, 2]\n", "must be a JSON object"),
        (b'{"type": "x"}', "without its end of line"),
        (b'{"type": "x", "payloadBytes": 8}\n\x00\x01', "ended 6 bytes into a 8-byte payload"),
        (b'{"type": "x", "payloadBytes": -1}\n', "non-negative integer"),
        (b'{"type": "x", "payloadBytes": true}\n', "non-negative integer"),
    ],
)
def test_refuses_what_is_not_a_frame(data: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        read_frame(io.BytesIO(data))


def test_refuses_nan_rather_than_writing_json_that_javascript_cannot_parse() -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        write_frame(io.BytesIO(), {"type": "perplexity", "nllSum": float("nan")})
