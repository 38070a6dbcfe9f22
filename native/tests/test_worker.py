"""The native worker (python -m tr118_native.worker) as the runner drives it: frames on stdin and stdout.

Window planning needs only numpy; the PyTorch engine tests need torch and transformers (CI installs the CPU-capable
wheels from requirements-torch.txt) and use a tiny random GPT-2, so they stay fast on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO_ROOT, pinned_requirements

from tr118_native.fixture.perplexity import target_nll
from tr118_native.worker.framing import read_frame, write_frame
from tr118_native.worker.windows import Window, plan_windows, window_nll

NATIVE = REPO_ROOT / "native"


@pytest.mark.parametrize(
    ("tokens", "window", "stride", "expected"),
    [
        (10, 4, 2, [(0, 4, 1), (2, 6, 4), (4, 8, 6), (6, 10, 8)]),
        # stride = window: consecutive windows overlap by one token so every target keeps a context token
        (10, 4, 4, [(0, 4, 1), (3, 7, 4), (6, 10, 7)]),
        (3, 8, 4, [(0, 3, 1)]),
        (2, 2, 1, [(0, 2, 1)]),
    ],
)
def test_plans_the_windows_the_typescript_side_plans(
    tokens: int, window: int, stride: int, expected: list[tuple[int, int, int]]
) -> None:
    assert plan_windows(tokens, window, stride) == [Window(*w) for w in expected]


def test_every_target_is_scored_exactly_once() -> None:
    for n in range(2, 60):
        for window in range(2, 12):
            for stride in range(1, window + 1):
                targets = [t for w in plan_windows(n, window, stride) for t in range(w.score_from, w.end)]
                assert targets == list(range(1, n))


@pytest.mark.parametrize(("n", "window", "stride"), [(1, 4, 2), (10, 1, 1), (10, 4, 5), (10, 4, 0)])
def test_refuses_impossible_plans(n: int, window: int, stride: int) -> None:
    with pytest.raises(ValueError, match=r"window|stride|tokens"):
        plan_windows(n, window, stride)


def test_window_nll_is_the_fixture_reference_nll() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 50)).astype(np.float32) * 30  # large logits: the shift by the row max matters
    tokens = rng.integers(0, 50, size=9)
    w = Window(start=3, end=9, score_from=5)
    expected = target_nll(logits[1:5], tokens[5:9]).sum()
    assert window_nll(logits, tokens, w) == pytest.approx(expected, rel=1e-12)


class Driven:
    """A worker process and a way to ask it one thing at a time."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tr118_native.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # PYTHONPATH kept after native/: packages installed beside the venv (pip --target) stay importable
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(filter(None, [str(NATIVE), os.environ.get("PYTHONPATH")])),
                **(env or {}),
            },
        )
        self.next_id = 1

    def ask(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        request = {**request, "id": self.next_id}
        self.next_id += 1
        write_frame(self.process.stdin, request)
        frame = read_frame(self.process.stdout)
        assert frame is not None, self.stderr()
        assert frame[0]["id"] == request["id"]
        return frame

    def stderr(self) -> str:
        self.process.kill()
        assert self.process.stderr is not None
        return self.process.stderr.read().decode()

    def close(self) -> None:
        if self.process.poll() is None:
            self.ask({"type": "close"})
            self.process.wait(timeout=30)


def spec(checkpoint: Path, **over: Any) -> dict[str, Any]:
    return {
        "name": "transformers-cpu",
        "engine": "pytorch",
        "precision": "fp32",
        "device": "cpu",
        "compile": "off",
        "checkpointPath": str(checkpoint),
        "trustPickle": False,
        "allowedWeightDifferences": [],
        "deviceId": 0,
        "intraOpThreads": 1,
        "interOpThreads": 0,
        # What the runner sends every family: the ONNX file a pytorch backend does not measure, the logits output.
        "modelPath": "",
        "logitsOutput": "logits",
        **over,
    }


def test_a_python_without_torch_is_unavailable_with_the_install_line(tmp_path: Path) -> None:
    # A torch package that cannot be imported stands in for a Python without torch.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError(\"No module named 'torch'\", name='torch')\n")
    worker = Driven({"PYTHONPATH": f"{tmp_path}{os.pathsep}{NATIVE}"})
    reply, _ = worker.ask({"type": "open", "backend": spec(tmp_path)})
    assert reply["type"] == "error"
    assert reply["kind"] == "unavailable"
    assert f"{sys.executable} -m pip install numpy==2.4.6 torch==2.11.0 transformers==5.17.0" in reply["message"]
    worker.close()


def test_the_install_line_pins_what_the_locks_pin() -> None:
    from tr118_native.worker.engines import INSTALL_REQUIREMENTS

    pinned = pinned_requirements()
    for requirement in INSTALL_REQUIREMENTS.split():
        assert requirement in pinned


def test_a_request_before_open_fails_and_the_worker_keeps_answering() -> None:
    worker = Driven()
    reply, _ = worker.ask({"type": "logits", "batch": 1, "seqLen": 1, "inputIds": [1]})
    assert reply == {"type": "error", "id": 1, "kind": "failed", "message": "no model is open"}
    reply, _ = worker.ask({"type": "teapot"})
    assert reply["message"] == "bad request: unknown type 'teapot'"
    worker.close()
    assert worker.process.returncode == 0


# ---- the PyTorch engine on a tiny random GPT-2 (needs torch and transformers) ----


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=64, n_positions=32, n_embd=16, n_layer=2, n_head=2)
    folder = tmp_path_factory.mktemp("tiny")
    transformers.GPT2LMHeadModel(config).eval().save_pretrained(folder)
    return folder


@pytest.fixture
def opened(tiny: Path) -> Iterator[Driven]:
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(tiny)})
    assert reply["type"] == "opened", reply
    yield worker
    worker.close()


@pytest.mark.torch
def test_opens_and_names_what_it_runs(tiny: Path) -> None:
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(tiny)})
    info = reply["info"]
    assert info["runtime"] == "torch"
    assert info["vocabSize"] == 64
    assert info["environment"]["python"] == sys.executable
    assert info["environment"]["transformers"]
    # transformers' own choice when the spec names none: reported, as it is part of what makes results comparable
    assert info["environment"]["attention"] == "sdpa"
    assert info["environment"]["pythonBytecode"] == "beside the sources"  # worker/bytecode.py: pip compiled it
    assert "CPU" in info["timerCovers"]
    worker.close()


@pytest.mark.torch
def test_an_open_says_where_its_time_went_for_both_checkpoints(tiny: Path) -> None:
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(tiny)})
    one = reply["info"]
    assert set(one["openStepsMs"]) == {"cacheLoad", "load", "toDevice", "compileSetup", "compile"}
    assert one["openStepsMs"]["load"] > 0
    assert one["openStepsMs"]["compile"] == one["openStepsMs"]["compileSetup"] == 0  # eager: nothing compiled
    assert sum(one["openStepsMs"].values()) <= one["openMs"]
    reply, _ = worker.ask({"type": "open", "backend": spec(tiny), "baseModelPath": str(tiny)})
    pair = reply["info"]
    # Two checkpoints read: the pair's load is summed, so it is no longer one model's.
    assert pair["openStepsMs"]["load"] > 0
    assert sum(pair["openStepsMs"].values()) <= pair["openMs"]
    assert "preloadMs" not in pair  # this worker was told to preload nothing
    worker.close()
    preloading = Driven({"TR118_WORKER_PRELOAD": "torch"})
    reply, _ = preloading.ask({"type": "open", "backend": spec(tiny)})
    assert set(reply["info"]["preloadMs"]) == {"torch", "modelCode"}
    preloading.close()


@pytest.mark.torch
def test_the_attention_implementation_asked_for_is_the_one_loaded_and_reported(tiny: Path) -> None:
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(tiny, attention="eager")})
    assert reply["info"]["environment"]["attention"] == "eager"
    reply, _ = worker.ask({"type": "open", "backend": spec(tiny, attention="flash")})
    assert reply["kind"] == "failed"
    assert 'backend.attention: expected one of sdpa, eager, got "flash"' in reply["message"]
    worker.close()


@pytest.mark.torch
def test_runs_timed_passes_and_logits_equal_a_direct_forward(opened: Driven, tiny: Path) -> None:
    import torch
    import transformers

    ids = [(7 * i) % 64 for i in range(2 * 12)]
    reply, _ = opened.ask(
        {
            "type": "run",
            "batch": 2,
            "seqLen": 12,
            "inputIds": ids,
            "attentionMask": [1] * 24,
            "warmup": 1,
            "iterations": 3,
        }
    )
    assert reply["type"] == "ran"
    assert len(reply["latenciesMs"]) == 3
    assert all(ms > 0 for ms in reply["latenciesMs"])
    assert reply["outputShape"] == [2, 12, 64]
    assert "endToEndLatenciesMs" not in reply  # on the CPU both figures would be the same pass
    assert "compileMs" not in reply  # an eager model compiles nothing
    assert "compiledInTimedPasses" not in reply

    header, payload = opened.ask({"type": "logits", "batch": 2, "seqLen": 12, "inputIds": ids})
    assert header["dims"] == [2, 12, 64]
    assert payload is not None
    got = np.frombuffer(payload, dtype="<f4").reshape(2, 12, 64)
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny).eval()
    with torch.inference_mode():
        direct = model(input_ids=torch.tensor(ids).reshape(2, 12), use_cache=False).logits.numpy()
    np.testing.assert_allclose(got, direct, rtol=0, atol=1e-5)


@pytest.mark.torch
def test_perplexity_follows_the_windows_in_float64(opened: Driven, tiny: Path) -> None:
    import torch
    import transformers

    tokens = [(5 * i + 3) % 64 for i in range(50)]
    reply, _ = opened.ask({"type": "perplexity", "tokens": tokens, "windowTokens": 16, "strideTokens": 8})
    assert reply["scoredTokens"] == 49
    assert reply["windows"] == len(plan_windows(50, 16, 8))
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny).eval()
    total = 0.0
    for w in plan_windows(50, 16, 8):
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor(tokens[w.start : w.end])[None, :]).logits[0].numpy()
        total += window_nll(logits, np.asarray(tokens), w)
    assert reply["nllSum"] == pytest.approx(total, rel=1e-6)


@pytest.mark.torch
def test_paired_runs_time_both_checkpoints(tiny: Path) -> None:
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(tiny), "baseModelPath": str(tiny), "baseFirst": True})
    assert reply["type"] == "opened", reply
    ids = list(range(16))
    for paired in ("candidate-first", "base-first"):
        request = {"batch": 1, "seqLen": 16, "inputIds": ids, "attentionMask": [1] * 16, "warmup": 0, "iterations": 4}
        reply, _ = worker.ask({"type": "run", **request, "paired": paired})
        assert len(reply["latenciesMs"]) == len(reply["baseLatenciesMs"]) == 4
    base, _ = worker.ask({"type": "perplexity", "tokens": ids, "windowTokens": 8, "strideTokens": 4, "model": "base"})
    own, _ = worker.ask({"type": "perplexity", "tokens": ids, "windowTokens": 8, "strideTokens": 4})
    assert base["nllSum"] == pytest.approx(own["nllSum"], rel=1e-9)  # same checkpoint on both sides
    worker.close()


@pytest.mark.torch
def test_cuda_without_a_gpu_is_unavailable_never_a_cpu_number(tiny: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(tiny, device="cuda")})
    assert reply["kind"] == "unavailable"
    assert "CUDA is not available" in reply["message"]
    worker.close()


@pytest.mark.torch
def test_pickled_weights_are_refused_unless_trusted(tmp_path: Path, tiny: Path) -> None:
    (tmp_path / "config.json").write_text((tiny / "config.json").read_text())
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(tmp_path)})
    assert reply["kind"] == "failed"
    assert "only pickled weights (pytorch_model.bin)" in reply["message"]
    assert "model.trust_pickle: true" in reply["message"]
    worker.close()


@pytest.mark.torch
def test_a_compile_that_fails_is_degraded_with_its_error(tiny: Path) -> None:
    # Inductor compiles C++ for the CPU: without a compiler the compile fails, as it did on the seed's machine.
    worker = Driven({"CXX": "/nonexistent/c++", "CC": "/nonexistent/cc"})
    reply, _ = worker.ask({"type": "open", "backend": spec(tiny, compile="default")})
    assert reply["type"] == "error", reply
    assert reply["kind"] == "degraded"
    assert reply["message"].startswith("torch.compile(mode=default) failed:")
    worker.close()


@pytest.mark.torch
def test_reopen_frees_both_checkpoints_and_loads_them_again_in_the_order_asked(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import shutil
    import weakref

    from tr118_native.worker import torch_engine
    from tr118_native.worker.serve import Worker

    base = tmp_path / "base"
    shutil.copytree(tiny, base)
    loaded: list[str] = []

    class Recorded(torch_engine.TorchModel):
        def __init__(self, torch: Any, spec: Any, folder: Path) -> None:
            loaded.append("base" if folder == base else "candidate")
            super().__init__(torch, spec, folder)

    monkeypatch.setattr(torch_engine, "TorchModel", Recorded)
    worker = Worker()
    reply, _ = worker.handle({"type": "open", "id": 1, "backend": spec(tiny), "baseModelPath": str(base)})
    assert reply["type"] == "opened", reply
    first = weakref.ref(worker.engine)
    reply, _ = worker.handle({"type": "reopen", "id": 2, "baseFirst": True})
    assert reply["type"] == "opened", reply
    assert reply["info"]["runtime"] == "torch"
    gc.collect()
    assert first() is None
    assert loaded == ["candidate", "base", "base", "candidate"]


@pytest.mark.torch
def test_a_compiled_model_reopened_in_the_process_is_compiled_again(tiny: Path) -> None:
    # Dynamo is reset at a reopen, as in a fresh process (serve.py Worker.release): the model is traced again (a new
    # graph), its kernels come from Inductor's caches; never the eager model under a compile name.
    from torch._dynamo.utils import counters

    from tr118_native.worker.serve import Worker

    worker = Worker()
    reply, _ = worker.handle({"type": "open", "id": 1, "backend": spec(tiny, compile="default")})
    assert reply["type"] == "opened", reply
    graphs = counters["stats"]["unique_graphs"]
    reply, _ = worker.handle({"type": "reopen", "id": 2, "baseFirst": False})
    assert reply["type"] == "opened", reply
    assert reply["info"]["compileMs"] > 0
    assert counters["stats"]["unique_graphs"] == graphs + 1


@pytest.mark.torch
def test_a_compiled_model_runs_two_graphs_a_batch_of_one_and_a_larger_batch(tiny: Path) -> None:
    # COMPILE_SHAPES: the probe's graph is dynamic in sequence length, so no batch of 1 compiles again, and the first
    # larger batch compiles the one graph every larger batch runs. Left to torch's automatic dynamic shapes, the
    # 1x12 run compiled a second graph here and the 2x12 run a third.
    import torch
    from torch._dynamo.utils import counters

    from tr118_native.worker.serve import Worker

    torch._dynamo.reset()  # as in a fresh process: earlier tests' frames would answer these shapes
    worker = Worker()
    reply, _ = worker.handle({"type": "open", "id": 1, "backend": spec(tiny, compile="default")})
    assert reply["type"] == "opened", reply
    assert reply["info"]["compileShapes"] == "dynamic-sequence"
    graphs = counters["stats"]["unique_graphs"]
    compiled_after = []
    compile_ms = []
    for rid, (batch, seq_len) in enumerate([(1, 12), (1, 20), (2, 12), (3, 20), (1, 8)], start=2):
        ids = [i % 64 for i in range(batch * seq_len)]
        run = {"batch": batch, "seqLen": seq_len, "inputIds": ids, "attentionMask": [1] * len(ids)}
        reply, _ = worker.handle({"type": "run", "id": rid, **run, "warmup": 1, "iterations": 1})
        assert reply["type"] == "ran", reply
        compiled_after.append(counters["stats"]["unique_graphs"] - graphs)
        compile_ms.append(reply.get("compileMs"))
        assert "compiledInTimedPasses" not in reply  # warm-up took every compile
    assert compiled_after == [0, 0, 1, 1, 1]
    # The warm-up pass that compiled is reported as compile (the run's phases), and only that request's.
    assert [ms is not None for ms in compile_ms] == [False, False, True, False, False]
    assert compile_ms[2] > 0
    worker.release()


@pytest.mark.torch
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_a_compile_in_the_timed_passes_is_said_in_the_reply(tiny: Path, device: str) -> None:
    # warmup: 0 leaves a new shape's compile to its first timed pass: the reply says the request's timed passes hold a
    # compile (the runner notes the cell), and warm-up charged none to compile. The same shape again: nothing said.
    # On CUDA the timed passes are queued and timed by events: the count is read after they are synchronised.
    import torch

    from tr118_native.worker.serve import Worker

    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device here: this case runs on the GPU machine (scripts/device)")
    torch._dynamo.reset()  # as in a fresh process: earlier tests' frames would answer these shapes
    worker = Worker()
    reply, _ = worker.handle(
        {"type": "open", "id": 1, "backend": spec(tiny, compile="default", device=device, name=f"compiled-{device}")}
    )
    assert reply["type"] == "opened", reply
    ids = [i % 64 for i in range(2 * 12)]
    run = {"batch": 2, "seqLen": 12, "inputIds": ids, "attentionMask": [1] * 24, "warmup": 0, "iterations": 2}
    first, _ = worker.handle({"type": "run", "id": 2, **run})
    assert first["type"] == "ran", first
    assert first["compiledInTimedPasses"] is True
    assert "compileMs" not in first
    again, _ = worker.handle({"type": "run", "id": 3, **run})
    assert again["type"] == "ran", again
    assert "compiledInTimedPasses" not in again
    worker.release()


@pytest.mark.torch
def test_a_paired_run_of_two_compiled_models_reports_the_compile_of_a_new_shape(tiny: Path, tmp_path: Path) -> None:
    # Same-run A/B: the candidate and the base compiled in one worker, passes interleaved. The first paired request of
    # a larger batch compiles in its warm-up (each model's compiles summed into the reply's compileMs); the next
    # request of that shape compiles nothing and says nothing.
    import shutil

    import torch
    from torch._dynamo.utils import counters

    from tr118_native.worker.serve import Worker

    base = tmp_path / "base"
    shutil.copytree(tiny, base)
    torch._dynamo.reset()  # as in a fresh process: earlier tests' frames would answer these shapes
    worker = Worker()
    reply, _ = worker.handle(
        {"type": "open", "id": 1, "backend": spec(tiny, compile="default"), "baseModelPath": str(base)}
    )
    assert reply["type"] == "opened", reply
    ids = [i % 64 for i in range(2 * 12)]
    run = {"batch": 2, "seqLen": 12, "inputIds": ids, "attentionMask": [1] * 24, "warmup": 1, "iterations": 2}
    graphs = counters["stats"]["unique_graphs"]
    first, _ = worker.handle({"type": "run", "id": 2, **run, "paired": "candidate-first"})
    assert first["type"] == "ran", first
    assert len(first["latenciesMs"]) == len(first["baseLatenciesMs"]) == 2
    assert counters["stats"]["unique_graphs"] > graphs
    assert first["compileMs"] > 0
    again, _ = worker.handle({"type": "run", "id": 3, **run, "paired": "base-first"})
    assert again["type"] == "ran", again
    assert "compileMs" not in again
    worker.release()


@pytest.mark.torch
def test_a_compiled_open_with_a_cache_reports_torchs_lookups(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The artifact store's hit or miss says whether an entry was loaded; the lookups say whether torch found the
    # graphs it compiled at open (compile_cache.LOOKUPS), the candidate's and the base's together.
    import torch

    from tr118_native.worker import compile_cache
    from tr118_native.worker.serve import Worker

    monkeypatch.setattr(compile_cache, "_saved_once", False)  # this test's worker is its process's first save

    # A worker's first open is in a fresh process; here earlier tests compiled the same model in this one, and Dynamo
    # would reuse their frames without looking anything up (a reopen resets it the same way: serve.py release).
    torch._dynamo.reset()
    saved = tmp_path / "cache" / "artifacts.bin"
    worker = Worker()
    reply, _ = worker.handle(
        {
            "type": "open",
            "id": 1,
            "backend": spec(tiny, compile="default"),
            "baseModelPath": str(tiny),
            "compileCache": {"save": str(saved)},
        }
    )
    assert reply["type"] == "opened", reply
    info = reply["info"]
    assert info["compileCache"] == "miss"
    lookups = info["compileCacheLookups"]
    assert set(lookups) == {"inductorHits", "inductorMisses", "aotAutogradHits", "aotAutogradMisses"}
    assert lookups["inductorHits"] + lookups["inductorMisses"] >= 1
    # The open's steps hold both models' compiles (compileMs is the candidate's first call alone).
    steps = info["openStepsMs"]
    assert steps["compile"] > info["compileMs"] > 0
    assert steps["compileSetup"] > 0
    assert sum(steps.values()) <= info["openMs"]
    # Saved at close, not at open (compile_cache.save_artifacts: once per process).
    assert not saved.exists()
    worker.handle({"type": "close", "id": 2})
    assert saved.is_file()


@pytest.mark.torch
def test_what_a_worker_saved_at_close_holds_its_open_graph_for_the_next_worker(tiny: Path, tmp_path: Path) -> None:
    # The regression: a worker saved at open and again at close; torch appended the second save to the first, and the
    # next worker's load kept only the later part, so every warm open compiled its probe graph anew (a "hit" whose
    # lookups were 0 of 1). Each worker is a fresh process with its own Inductor folder, as on another runner.
    saved = tmp_path / "artifacts.bin"
    backend = spec(tiny, compile="default")
    first = Driven({"TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor-1")})
    reply, _ = first.ask({"type": "open", "backend": backend, "compileCache": {"save": str(saved)}})
    assert reply["info"]["compileCache"] == "miss", reply
    ids = list(range(24))
    shape = {"batch": 2, "seqLen": 12, "inputIds": ids, "attentionMask": [1] * 24, "warmup": 1, "iterations": 1}
    reply, _ = first.ask({"type": "run", **shape})  # another shape: compiled after open, saved with the probe's
    assert reply["type"] == "ran", reply
    first.close()
    assert saved.is_file()

    second = Driven({"TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor-2")})
    reply, _ = second.ask({"type": "open", "backend": backend, "compileCache": {"load": str(saved)}})
    info = reply["info"]
    assert info["compileCache"] == "hit", reply
    assert info["compileCacheLookups"]["inductorMisses"] == 0, info
    assert info["compileCacheLookups"]["inductorHits"] >= 1, info
    second.close()


PRELOADED = """
import sys
from tr118_native.worker.__main__ import preload
preload(sys.argv[1])
names = ("torch", "transformers.models.auto.modeling_auto", "torch._inductor.compile_fx", "onnxruntime")
print(",".join(m for m in names if m in sys.modules))
"""


def preloaded(modules: str, env: dict[str, str] | None = None) -> list[str]:
    path = os.pathsep.join(filter(None, [*(env or {}).get("PYTHONPATH", "").split(os.pathsep), str(NATIVE)]))
    done = subprocess.run(
        [sys.executable, "-c", PRELOADED, modules],
        env={**os.environ, **(env or {}), "PYTHONPATH": path},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return [m for m in (done.stdout.strip().splitlines() or [""])[-1].split(",") if m]


@pytest.mark.torch
def test_a_pytorch_worker_imports_torch_and_transformers_model_code_before_its_open() -> None:
    # transformers loads its model code lazily: without touching AutoModelForCausalLM the open would import it (1.5 s
    # of a 1.7 s open of the fixture on the 2-core VM), one worker after another on a shared device queue.
    assert preloaded("torch") == ["torch", "transformers.models.auto.modeling_auto"]
    assert "transformers.models.auto.modeling_auto" not in preloaded("")


@pytest.mark.torch
def test_the_preload_says_what_each_step_took_and_an_open_reports_it() -> None:
    script = (
        "import json, sys\n"
        "from tr118_native.worker.__main__ import preload\n"
        "preload(sys.argv[1])\n"
        "from tr118_native.worker.torch_engine import PRELOAD_MS\n"
        "print(json.dumps(PRELOAD_MS))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "torch,compile,cuda:0"],
        env={**os.environ, "PYTHONPATH": str(NATIVE)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    took = json.loads(done.stdout.strip().splitlines()[-1])
    # cuda: timed even where there is no GPU (init_cuda then returns at once), so the step is never silently absent.
    assert set(took) == {"torch", "modelCode", "compile", "cuda"}
    assert took["torch"] > 0
    assert took["compile"] > 0


@pytest.mark.torch
def test_a_compiled_backends_worker_imports_torch_compiles_machinery_before_its_open() -> None:
    assert preloaded("torch,compile") == [
        "torch",
        "transformers.models.auto.modeling_auto",
        "torch._inductor.compile_fx",
    ]


@pytest.mark.torch
def test_a_compiled_backends_preload_computes_the_compile_caches_torch_key() -> None:
    # torch keeps torch_key() for the process; the preload computing it leaves it out of the first compile at open.
    script = (
        "import sys\n"
        "from torch._inductor import codecache\n"
        "calls = []\n"
        "real = codecache.torch_key\n"
        "codecache.torch_key = lambda: calls.append(1) or real()\n"
        "from tr118_native.worker.__main__ import preload\n"
        "preload(sys.argv[1])\n"
        "print(len(calls))\n"
    )
    counts = []
    for modules in ("torch,compile", "torch"):
        done = subprocess.run(
            [sys.executable, "-c", script, modules],
            env={**os.environ, "PYTHONPATH": str(NATIVE)},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        counts.append(done.stdout.strip().splitlines()[-1])
    assert counts == ["1", "0"]


@pytest.mark.torch
def test_a_gpu_preload_on_a_machine_without_that_gpu_leaves_it_to_the_open() -> None:
    # The open's device check says "unavailable" with the reason; the preload neither fails nor makes a context.
    assert preloaded("torch,cuda:0") == ["torch", "transformers.models.auto.modeling_auto"]
    assert preloaded("torch,cuda:7,cuda:x") == ["torch", "transformers.models.auto.modeling_auto"]


class FakeCuda:
    """torch.cuda as init_cuda sees it, counting what it is asked."""

    def __init__(self, gpus: int) -> None:
        self.gpus = gpus
        self.calls: list[str] = []

    def is_available(self) -> bool:
        return self.gpus > 0

    def device_count(self) -> int:
        return self.gpus

    def empty_cache(self) -> None:
        self.calls.append("empty_cache")

    def reset_peak_memory_stats(self, device: object) -> None:
        self.calls.append(f"reset_peak_memory_stats {device}")


@pytest.mark.torch
def test_init_cuda_makes_the_context_on_the_device_asked_and_gives_back_what_it_took() -> None:
    import torch

    from tr118_native.worker.torch_engine import init_cuda

    made: list[str] = []

    class FakeTorch:
        cuda = FakeCuda(gpus=2)

        @staticmethod
        def device(kind: str, index: int) -> str:
            return f"{kind}:{index}"

        @staticmethod
        def ones(*shape: int, device: str) -> torch.Tensor:
            made.append(device)
            return torch.ones(*shape)  # on the CPU: the fake only records where it was asked for

    assert init_cuda(FakeTorch, 1) is True
    assert made == ["cuda:1"]
    # What it allocated is given back and the peak it set is cleared: a backend's peak memory is its model's own.
    assert FakeTorch.cuda.calls == ["empty_cache", "reset_peak_memory_stats cuda:1"]
    assert init_cuda(FakeTorch, 2) is False  # no third GPU
    assert init_cuda(torch, 0) is torch.cuda.is_available()


def test_a_preload_whose_module_is_missing_is_left_to_the_open(tmp_path: Path) -> None:
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError(\"No module named 'torch'\", name='torch')\n")
    assert preloaded("torch", {"PYTHONPATH": str(tmp_path)}) == []
