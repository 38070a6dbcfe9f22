"""The end-to-end passes of a run request: one untimed pass per model and shape, not one per request.

A gate sends each (backend, scenario) many run requests (one per repetition); before this, every request made an
untimed end-to-end pass before its sampled ones, about 2.2 s of a GPT-2-small GPU run (45 requests x ~49 ms)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import onnxruntime as ort
from conftest import FIXTURE_DIR

from tr118_native.worker import ort_engine, torch_engine

MODEL = FIXTURE_DIR / "model.onnx"


class CountingSession:
    """The real session, counting its host-feed runs (session.run: the end-to-end path)."""

    def __init__(self, session: Any) -> None:
        self.inner = session
        self.runs = 0

    def run(self, *args: Any, **kwargs: Any) -> Any:
        self.runs += 1
        return self.inner.run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def ort_model() -> ort_engine.OrtModel:
    spec = ort_engine.OrtSpec.from_request(
        {
            "name": "onnxruntime-cpu",
            "provider": "cpu",
            "deviceId": 0,
            "intraOpThreads": 1,
            "interOpThreads": 0,
            "graphOptimization": "all",
            "modelPath": str(MODEL),
            "logitsOutput": "logits",
        }
    )
    return ort_engine.OrtModel(ort, spec, MODEL, paired=False)


def tokens(batch: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.arange(batch * seq_len, dtype=np.int64).reshape(batch, seq_len) % 200
    return ids, np.ones_like(ids)


def test_onnxruntime_makes_one_untimed_end_to_end_pass_per_shape_not_per_request() -> None:
    model = ort_model()
    counting = CountingSession(model.session)
    model.session = counting

    def request(batch: int, seq_len: int) -> int:
        before = counting.runs
        ids, mask = tokens(batch, seq_len)
        (timed,) = ort_engine.time_passes([model], ids, mask, 1, 2, end_to_end=True, end_to_end_passes=3)
        assert len(timed.device_ms) == 2
        assert len(timed.end_to_end_ms or []) == 3
        return counting.runs - before

    # 3 sampled passes, plus the untimed one on a shape's first request only
    assert [request(1, 16), request(1, 16), request(2, 16), request(1, 16), request(2, 16)] == [4, 3, 4, 3, 3]


def test_onnxruntime_a_new_session_warms_up_again() -> None:
    first, second = ort_model(), ort_model()
    ids, mask = tokens(1, 8)
    ort_engine.time_passes([first], ids, mask, 0, 1, end_to_end=True, end_to_end_passes=1)
    counting = CountingSession(second.session)
    second.session = counting
    ort_engine.time_passes([second], ids, mask, 0, 1, end_to_end=True, end_to_end_passes=1)
    assert counting.runs == 2  # a reopened model (a new object) is a fresh allocation: its own untimed pass


class FakeEvent:
    """torch.cuda.Event's timing surface, with a fixed 1 ms between two records."""

    def __init__(self, enable_timing: bool) -> None:
        assert enable_timing

    def record(self) -> None:
        pass

    def elapsed_time(self, end: FakeEvent) -> float:
        return 1.0


class FakeTensor:
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def to(self, device: Any) -> FakeTensor:
        return self

    def cpu(self) -> FakeTensor:
        return self


class FakeCudaModel:
    """A model on a CUDA device as time_passes sees one: forward passes counted by whether they copy out."""

    def __init__(self, copies: list[str], name: str) -> None:
        self.device = SimpleNamespace(type="cuda")
        self.config = SimpleNamespace(vocab_size=64)
        self.end_to_end_warm: set[tuple[int, ...]] = set()
        self.compile_ms: float | None = None  # eager: time_passes watches a compiled model's warm-up for compiles
        self.copies, self.name = copies, name

    def forward(self, ids: FakeTensor, mask: FakeTensor) -> FakeTensor:
        logits = FakeTensor((*ids.shape, 64))
        original = logits.cpu

        def cpu() -> FakeTensor:  # a copy to the host: an end-to-end pass
            self.copies.append(self.name)
            return original()

        logits.cpu = cpu  # type: ignore[method-assign]
        return logits

    def sync(self) -> None:
        pass


def fake_torch() -> Any:
    return SimpleNamespace(cuda=SimpleNamespace(Event=FakeEvent, synchronize=lambda device: None))


def test_pytorch_on_cuda_makes_one_untimed_end_to_end_pass_per_model_and_shape() -> None:
    copies: list[str] = []
    a, b = FakeCudaModel(copies, "a"), FakeCudaModel(copies, "b")

    def request(shape: tuple[int, int]) -> list[torch_engine.Timed]:
        ids, mask = FakeTensor(shape), FakeTensor(shape)
        return torch_engine.time_passes(fake_torch(), [a, b], ids, mask, 1, 2, end_to_end_passes=3)

    counts = []
    for shape in [(1, 16), (1, 16), (4, 16), (1, 16)]:
        del copies[:]
        timed = request(shape)
        assert [len(t.end_to_end_ms or []) for t in timed] == [3, 3]
        assert [t.device_ms for t in timed] == [[1.0, 1.0], [1.0, 1.0]]
        counts.append((copies.count("a"), copies.count("b")))
    assert counts == [(4, 4), (3, 3), (4, 4), (3, 3)]
    assert a.end_to_end_warm == b.end_to_end_warm == {(1, 16), (4, 16)}


def test_pytorch_without_end_to_end_passes_makes_none() -> None:
    copies: list[str] = []
    a = FakeCudaModel(copies, "a")
    (timed,) = torch_engine.time_passes(
        fake_torch(), [a], FakeTensor((1, 8)), FakeTensor((1, 8)), 0, 2, end_to_end_passes=0
    )
    assert timed.end_to_end_ms is None
    assert copies == []
    assert a.end_to_end_warm == set()
