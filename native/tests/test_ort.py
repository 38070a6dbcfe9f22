"""The ONNX Runtime engine of the native worker (engine: onnxruntime), on the CPU build CI installs.

Through the real worker process and its frames (test_worker.Driven): open, placement, IO-binding runs (paired too),
perplexity, logits; the GPU providers on a machine without them; the errors the runner relies on. The placement
parser on a profile recorded from ONNX Runtime (fixtures/profiles/).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import FIXTURE_DIR, REPO_ROOT, pinned_requirements
from test_worker import NATIVE, Driven

from tr118_native.fixture import outputs
from tr118_native.fixture.cpu_only_op import CPU_ONLY_NODE, cpu_only_op_model
from tr118_native.worker import ort_engine
from tr118_native.worker.errors import WorkerError
from tr118_native.worker.placement import PlacedOps, placement_from_profile, placement_json
from tr118_native.worker.windows import plan_windows, window_nll

MODEL = FIXTURE_DIR / "model.onnx"
PROFILES = REPO_ROOT / "fixtures" / "profiles"


def spec(model: Path, **over: Any) -> dict[str, Any]:
    return {
        "name": "onnxruntime-cpu",
        "engine": "onnxruntime",
        "provider": "cpu",
        "worker": "python",
        "precision": "fp32",
        "deviceId": 0,
        "intraOpThreads": 1,
        "interOpThreads": 0,
        "graphOptimization": "all",
        "modelPath": str(model),
        "logitsOutput": "logits",
        **over,
    }


def run_request(batch: int, seq_len: int, ids: list[int], **over: Any) -> dict[str, Any]:
    n = batch * seq_len
    return {"type": "run", "batch": batch, "seqLen": seq_len, "inputIds": ids, "attentionMask": [1] * n, **over}


def direct_session(model: Path) -> ort.InferenceSession:
    """A plain session with the options the engine's spec asks for: what anyone would open."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def heldout() -> list[int]:
    return json.loads((FIXTURE_DIR / "heldout.tokens.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cpu_only_op(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cpu-only-op") / "model.onnx"
    onnx.save(cpu_only_op_model(), str(path))
    return path


@pytest.fixture(scope="module")
def opened() -> Iterator[tuple[Driven, dict[str, Any]]]:
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(MODEL)})
    assert reply["type"] == "opened", reply
    yield worker, reply["info"]
    worker.close()


# ---- placement, from recorded profiles ----


def test_placement_of_a_recorded_cpu_profile() -> None:
    # Recorded with: python -m tr118_native.worker.harness ort-profile (fixtures/profiles/README.md)
    trace = json.loads((PROFILES / "cpu-only-op-cpu-ort1.32.json").read_text(encoding="utf-8"))
    assert placement_from_profile(trace) == [
        PlacedOps("CPUExecutionProvider", "MatMul", 2),
        PlacedOps("CPUExecutionProvider", "Unsqueeze", 2),
        PlacedOps("CPUExecutionProvider", "Add", 1),
        PlacedOps("CPUExecutionProvider", "Cast", 1),
        PlacedOps("CPUExecutionProvider", "Concat", 1),
        PlacedOps("CPUExecutionProvider", "Gather", 1),
        PlacedOps("CPUExecutionProvider", "Mul", 1),
    ]


def test_placement_of_the_fixture_on_cuda_as_recorded_on_an_h200() -> None:
    # The same file the TypeScript parser is tested on (test/unit/placement.test.ts): both read it alike.
    trace = json.loads((PROFILES / "fixture-cuda-python-h200.json").read_text(encoding="utf-8"))
    placed = placement_from_profile(trace)
    by_provider: dict[str, int] = {}
    for p in placed:
        by_provider[p.provider] = by_provider.get(p.provider, 0) + p.count
    assert by_provider == {"CPUExecutionProvider": 185, "CUDAExecutionProvider": 179}
    cpu_ops = {p.op_type for p in placed if p.provider == "CPUExecutionProvider"}
    assert cpu_ops == {"Unsqueeze", "Gather", "Concat", "Slice", "Squeeze", "Equal", "Reshape", "Where"}


def kernel(name: str, op: str, provider: str) -> dict[str, Any]:
    """A Node event as onnxruntime's sequential executor writes it (args trimmed to the two read)."""
    return {"cat": "Node", "ph": "X", "name": f"{name}_kernel_time", "args": {"op_name": op, "provider": provider}}


def fence(name: str, op: str, which: str) -> dict[str, Any]:
    """What older onnxruntime releases wrote around each kernel: a Node event without a provider."""
    return {"cat": "Node", "ph": "X", "name": f"{name}_fence_{which}", "args": {"op_name": op}}


def test_placement_counts_each_node_once_and_skips_what_is_not_a_kernel() -> None:
    cuda, cpu = "CUDAExecutionProvider", "CPUExecutionProvider"
    one_pass = [
        {"cat": "Session", "name": "model_run", "args": {}},
        fence("/h.0/attn/MatMul", "MatMul", "before"),
        kernel("/h.0/attn/MatMul", "MatMul", cuda),
        fence("/h.0/attn/MatMul", "MatMul", "after"),
        kernel("/h.0/attn/Gemm", "Gemm", cuda),
        kernel("/Shape_1", "Shape", cpu),
        kernel("/Unsqueeze_3", "Unsqueeze", cpu),
        kernel("/Unsqueeze_4", "Unsqueeze", cpu),
        kernel("Memcpy_token_0", "MemcpyToHost", cuda),
        {"cat": "Kernel", "name": "ampere_sgemm_128x64_tn", "args": {"op_name": "MatMul", "provider": cuda}},
        {"cat": "Node", "name": "no_args"},
    ]
    loop_body = [kernel("/loop/body/Add", "Add", cuda)] * 3  # a Loop body's node, once per iteration
    for trace in (one_pass + loop_body + one_pass, {"traceEvents": one_pass + loop_body}):
        assert placement_json(trace) == {
            "nodes": [
                {"provider": cpu, "opType": "Unsqueeze", "count": 2},
                {"provider": cpu, "opType": "Shape", "count": 1},
                {"provider": cuda, "opType": "Add", "count": 1},
                {"provider": cuda, "opType": "Gemm", "count": 1},
                {"provider": cuda, "opType": "MatMul", "count": 1},
                {"provider": cuda, "opType": "MemcpyToHost", "count": 1},
            ]
        }


@pytest.mark.parametrize("trace", [{"events": []}, "[]", 3])
def test_placement_refuses_what_is_not_a_profile(trace: Any) -> None:
    with pytest.raises(ValueError, match="not an ONNX Runtime profile"):
        placement_from_profile(trace)


# ---- the engine through the worker process ----


def test_opens_with_placement_and_names_what_it_runs(opened: tuple[Driven, dict[str, Any]]) -> None:
    _, info = opened
    assert info["runtime"] == "onnxruntime-python"
    assert info["runtimeVersion"] == ort.__version__
    assert info["providers"] == ["CPUExecutionProvider"]
    assert info["inputNames"] == ["input_ids", "attention_mask"]
    assert info["outputNames"] == ["logits"]
    assert info["vocabSize"] == 4096
    assert info["environment"]["python"] == sys.executable
    assert info["environment"]["onnxruntime"] == ort.__version__
    assert info["environment"]["device"] == "cpu"
    assert info["environment"]["onnxruntimePackage"] == "onnxruntime"  # the CPU wheel requirements-light.txt pins
    # Where the worker's imports found their byte code (worker/bytecode.py): pip compiled it into the environment.
    assert info["environment"]["pythonBytecode"] == "beside the sources"
    assert all(isinstance(v, str) for v in info["environment"].values())
    assert "IO binding" in info["timerCovers"]
    assert "endToEndTimerCovers" not in info  # the CPU has one figure
    nodes = info["placement"]["nodes"]
    assert {n["provider"] for n in nodes} == {"CPUExecutionProvider"}
    by_op = {n["opType"]: n["count"] for n in nodes}
    # The same graph opened directly runs these kernels: every node of the optimized graph is counted once.
    assert by_op["LayerNormalization"] == 9  # 4 layers x 2, and the final one
    assert by_op["Softmax"] == 4
    assert by_op["Gemm"] + by_op["MatMul"] + by_op["FusedMatMul"] == 25


def test_the_placement_profile_is_deleted(tmp_path: Path) -> None:
    worker = Driven({"TMPDIR": str(tmp_path)})
    reply, _ = worker.ask({"type": "open", "backend": spec(MODEL)})
    assert reply["type"] == "opened", reply
    assert reply["info"]["placement"]["nodes"]
    # (importing onnxruntime leaves a .ses file of its own in the temporary folder)
    assert [p.name for p in tmp_path.rglob("*") if "placement" in p.name or p.suffix == ".json"] == []
    assert not list(Path.cwd().glob("placement*.json"))
    worker.close()


def test_runs_timed_passes_and_logits_equal_a_plain_session_run(opened: tuple[Driven, dict[str, Any]]) -> None:
    worker, _ = opened
    ids = [(7919 * i) % 4096 for i in range(2 * 12)]
    reply, _ = worker.ask(run_request(2, 12, ids, warmup=1, iterations=3))
    assert reply["type"] == "ran", reply
    assert len(reply["latenciesMs"]) == 3
    assert all(ms > 0 for ms in reply["latenciesMs"])
    assert reply["outputShape"] == [2, 12, 4096]
    assert "endToEndLatenciesMs" not in reply

    header, payload = worker.ask({"type": "logits", "batch": 2, "seqLen": 12, "inputIds": ids})
    assert header["dims"] == [2, 12, 4096]
    assert payload is not None
    got = np.frombuffer(payload, dtype="<f4").reshape(2, 12, 4096)
    host_ids = np.asarray(ids, dtype=np.int64).reshape(2, 12)
    (direct,) = direct_session(MODEL).run(["logits"], {"input_ids": host_ids, "attention_mask": np.ones_like(host_ids)})
    np.testing.assert_array_equal(got, direct)


def test_perplexity_is_the_fixture_cards_to_1e_6(opened: tuple[Driven, dict[str, Any]], card: dict[str, Any]) -> None:
    worker, _ = opened
    tokens = json.loads((FIXTURE_DIR / "heldout.tokens.json").read_text(encoding="utf-8"))
    reply, _ = worker.ask({"type": "perplexity", "tokens": tokens, "windowTokens": 512, "strideTokens": 256})
    recorded = card["heldout_perplexity"]
    assert reply["scoredTokens"] == recorded["onnxruntime_cpu_float32"]["scored_tokens"] == len(tokens) - 1
    assert reply["windows"] == recorded["onnxruntime_cpu_float32"]["windows"]
    mean_nll = reply["nllSum"] / reply["scoredTokens"]
    assert mean_nll == pytest.approx(recorded["onnxruntime_cpu_float32"]["mean_nll"], rel=1e-6)
    assert mean_nll == pytest.approx(recorded["torch_float64"]["mean_nll"], rel=1e-6)


def test_perplexity_follows_the_windows_with_a_plain_session(
    opened: tuple[Driven, dict[str, Any]], heldout: list[int]
) -> None:
    worker, _ = opened
    tokens = heldout[:300]
    reply, _ = worker.ask({"type": "perplexity", "tokens": tokens, "windowTokens": 64, "strideTokens": 32})
    session, array = direct_session(MODEL), np.asarray(tokens, dtype=np.int64)
    total = 0.0
    for w in plan_windows(len(tokens), 64, 32):
        ids = array[w.start : w.end][None, :]
        (logits,) = session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        total += window_nll(logits[0], array, w)
    assert reply["scoredTokens"] == 299
    assert reply["nllSum"] == pytest.approx(total, rel=1e-12)


def test_paired_runs_time_both_models_in_either_order(heldout: list[int], tmp_path: Path) -> None:
    base = tmp_path / "renamed-copy.onnx"  # another file with the same weights: the base side of an A/A
    base.write_bytes(MODEL.read_bytes())
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(MODEL), "baseModelPath": str(base), "baseFirst": True})
    assert reply["type"] == "opened", reply
    ids = heldout[:16]
    for paired in ("candidate-first", "base-first"):
        reply, _ = worker.ask(run_request(1, 16, ids, warmup=1, iterations=4, paired=paired))
        assert reply["type"] == "ran", reply
        assert len(reply["latenciesMs"]) == len(reply["baseLatenciesMs"]) == 4
        assert reply["outputShape"] == [1, 16, 4096]
    request = {"type": "perplexity", "tokens": heldout[:200], "windowTokens": 64, "strideTokens": 32}
    own, _ = worker.ask(request)
    other, _ = worker.ask({**request, "model": "base"})
    assert other["nllSum"] == own["nllSum"]  # the same weights on both sides
    worker.close()


def test_a_paired_run_without_a_base_fails(opened: tuple[Driven, dict[str, Any]]) -> None:
    worker, _ = opened
    reply, _ = worker.ask(run_request(1, 4, [1, 2, 3, 4], warmup=0, iterations=1, paired="candidate-first"))
    assert reply == {"type": "error", "id": reply["id"], "kind": "failed", "message": "the base model was not opened"}


def test_a_base_model_that_does_not_open_is_named(tmp_path: Path) -> None:
    worker = Driven()
    missing = tmp_path / "nope.onnx"
    reply, _ = worker.ask({"type": "open", "backend": spec(MODEL), "baseModelPath": str(missing)})
    assert reply["kind"] == "failed"
    assert reply["model"] == "base"
    assert reply["message"] == f"base model {missing}: {missing}: no such file (an ONNX model was expected)"
    worker.close()


# ---- what the runner must be told ----


def test_cuda_on_a_cpu_build_is_unavailable_never_a_cpu_number() -> None:
    assert "CUDAExecutionProvider" not in ort.get_available_providers(), "this test needs the CPU build"
    worker = Driven()
    for provider, asked in (("cuda", "CUDAExecutionProvider"), ("tensorrt", "TensorrtExecutionProvider")):
        reply, _ = worker.ask({"type": "open", "backend": spec(MODEL, provider=provider, name=f"ort-{provider}")})
        assert reply["type"] == "error"
        assert reply["kind"] == "unavailable"
        assert f"has no {asked}" in reply["message"]
        assert str(Path(ort.__file__).parent) in reply["message"]
        assert "onnxruntime-gpu==1.30.0" in reply["message"]
        assert "tr118 provision" in reply["message"]
        # nothing was opened: a run is refused, not measured on the CPU
        reply, _ = worker.ask(run_request(1, 4, [1, 2, 3, 4], warmup=0, iterations=1))
        assert reply["message"] == "no model is open"
    worker.close()


def test_a_gpu_provider_that_does_not_load_is_unavailable_with_onnxruntimes_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A GPU build whose CUDA provider cannot load (no GPU, a missing libcudnn): ONNX Runtime opens the session on the
    # CPU alone and says why in its log. Stood in for by the CPU build claiming a CUDA provider.
    available = ort.get_available_providers()
    monkeypatch.setattr(ort, "get_available_providers", lambda: [*available, "CUDAExecutionProvider"])
    with pytest.raises(WorkerError) as failure:
        ort_engine.OrtEngine({"backend": spec(MODEL, provider="cuda")})
    assert failure.value.kind == "unavailable"
    message = failure.value.message
    assert message.startswith(f"CUDAExecutionProvider did not load in onnxruntime {ort.__version__}")
    assert "the session has only CPUExecutionProvider" in message
    assert "ONNX Runtime said: UserWarning: Specified provider 'CUDAExecutionProvider' is not in available" in message


def test_an_onnxruntime_from_pythonpath_is_not_credited_to_pip(tmp_path: Path) -> None:
    copy = tmp_path / "onnxruntime" / "__init__.py"
    copy.parent.mkdir()
    copy.write_text("")
    assert ort_engine.onnxruntime_distribution(ort.__file__) == "onnxruntime"
    assert ort_engine.onnxruntime_distribution(str(copy)) == "none (not installed by pip)"


def test_a_run_that_fails_in_its_provider_is_never_retried_on_the_cpu() -> None:
    engine = ort_engine.OrtEngine({"backend": spec(MODEL)})
    # onnxruntime's own flag: when set, InferenceSession.run catches EPFail and re-runs on CPUExecutionProvider.
    assert engine.candidate.session._enable_fallback is False


def test_a_python_without_onnxruntime_is_unavailable_with_the_install_line(tmp_path: Path) -> None:
    # An onnxruntime package that cannot be imported stands in for a Python without it.
    (tmp_path / "onnxruntime").mkdir()
    (tmp_path / "onnxruntime" / "__init__.py").write_text(
        "raise ImportError(\"No module named 'onnxruntime'\", name='onnxruntime')\n"
    )
    worker = Driven({"PYTHONPATH": f"{tmp_path}{os.pathsep}{NATIVE}"})
    for provider, line in (("cpu", "onnxruntime==1.32.0"), ("cuda", "onnxruntime-gpu==1.30.0")):
        reply, _ = worker.ask({"type": "open", "backend": spec(MODEL, provider=provider)})
        assert reply["kind"] == "unavailable"
        assert reply["message"].startswith(f"onnxruntime is not installed for {sys.executable}")
        assert f"{sys.executable} -m pip install {line} (or run `tr118 provision`" in reply["message"]
    worker.close()


def test_the_install_lines_pin_what_the_project_pins() -> None:
    pinned = pinned_requirements()
    assert ort_engine.INSTALL_CPU in pinned
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text(encoding="utf-8"))
    node_version = lock["packages"]["node_modules/onnxruntime-node"]["version"]
    # The GPU wheel matches onnxruntime-node's version: its provider files serve both workers (issue 11).
    assert f"onnxruntime-gpu=={node_version}" == ort_engine.INSTALL_GPU


def test_a_model_without_the_logits_output_is_the_users_mistake_naming_the_key() -> None:
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(MODEL, logitsOutput="scores")})
    assert reply == {
        "type": "error",
        "id": reply["id"],
        "kind": "usage",
        "message": f'{MODEL} has no output named "scores" (its outputs: "logits"); set model.logits_output to the '
        "one that holds the logits [batch, seq, vocab]",
        "keyPath": ["model", "logits_output"],
    }
    worker.close()


def test_logits_of_the_wrong_shape_fail_in_the_node_workers_words(tmp_path: Path, heldout: list[int]) -> None:
    flat = tmp_path / "flat.onnx"
    onnx.save(outputs.with_flat_logits(onnx.load(str(MODEL))), str(flat))
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(flat)})
    assert reply["type"] == "opened", reply  # as from Node: the open succeeds, every pass is refused
    reply, _ = worker.ask(run_request(1, 8, heldout[:8], warmup=1, iterations=1))
    assert reply["kind"] == "failed"
    # The text of test/integration/logits-output.test.ts for the same model through the Node worker.
    assert reply["message"] == (
        'the logits output "logits" has shape [8, 4096]; expected [batch, seq, vocab] = [1, 8, 4096] '
        "for a 1\u00d78 input (model.logits_output names the output that holds them)"
    )
    reply, _ = worker.ask({"type": "perplexity", "tokens": heldout[:200], "windowTokens": 128, "strideTokens": 64})
    assert "has shape [128, 4096]; expected [batch, seq, vocab] = [1, 128, 4096]" in reply["message"]
    worker.close()


# ---- the cpu-only-op fixture role ----


def test_the_cpu_only_op_model_runs_with_all_its_nodes_on_the_cpu(cpu_only_op: Path) -> None:
    model = onnx.load(str(cpu_only_op))
    node = next(n for n in model.graph.node if n.name == CPU_ONLY_NODE)
    assert node.op_type == "MatMul"
    types = {i.name: i.data_type for i in model.graph.initializer}
    assert types[node.input[1]] == onnx.TensorProto.INT64  # the int64 MatMul the CUDA provider has no kernel for
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(cpu_only_op)})
    assert reply["type"] == "opened", reply
    assert reply["info"]["vocabSize"] == 4096
    nodes = reply["info"]["placement"]["nodes"]
    assert {n["provider"] for n in nodes} == {"CPUExecutionProvider"}
    assert {"provider": "CPUExecutionProvider", "opType": "MatMul", "count": 2} in nodes
    assert sum(n["count"] for n in nodes) == len(model.graph.node)
    reply, _ = worker.ask(run_request(2, 8, list(range(16)), warmup=1, iterations=2))
    assert reply["outputShape"] == [2, 8, 4096]
    reply, _ = worker.ask(
        {"type": "perplexity", "tokens": list(range(0, 4000, 7)), "windowTokens": 64, "strideTokens": 32}
    )
    assert np.isfinite(reply["nllSum"])
    worker.close()


def test_the_cpu_only_op_role_writes_the_model(tmp_path: Path) -> None:
    from tr118_native.fixture.__main__ import main

    main(["cpu-only-op", "--out", str(tmp_path / "m.onnx")])
    written = onnx.load(str(tmp_path / "m.onnx"))
    assert written.SerializeToString() == cpu_only_op_model().SerializeToString()  # seeded: the same bytes


def test_reopen_releases_both_sessions_and_opens_them_again_in_the_order_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import weakref

    from tr118_native.worker.serve import Worker

    base = tmp_path / "base.onnx"
    base.write_bytes(MODEL.read_bytes())
    opened: list[str] = []

    class Recorded(ort_engine.OrtModel):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            opened.append("base" if Path(args[2]) == base else "candidate")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(ort_engine, "OrtModel", Recorded)
    worker = Worker()
    reply, _ = worker.handle({"type": "open", "id": 1, "backend": spec(MODEL), "baseModelPath": str(base)})
    assert reply["type"] == "opened", reply
    first = weakref.ref(worker.engine)
    for rid, base_first in ((2, True), (3, False)):
        reply, _ = worker.handle({"type": "reopen", "id": rid, "baseFirst": base_first})
        assert reply["type"] == "opened", reply
        assert reply["id"] == rid
        assert reply["info"]["placement"]["nodes"], reply  # the same info an open replies
    gc.collect()
    assert first() is None  # the first open's sessions are gone, not kept beside the new ones
    assert opened == ["candidate", "base", "base", "candidate", "candidate", "base"]


def test_reopen_keeps_the_process_and_runs_both_models_after_it(heldout: list[int], tmp_path: Path) -> None:
    base = tmp_path / "renamed-copy.onnx"
    base.write_bytes(MODEL.read_bytes())
    worker = Driven()
    reply, _ = worker.ask({"type": "reopen", "baseFirst": True})
    assert reply == {"type": "error", "id": reply["id"], "kind": "failed", "message": "no model is open"}
    reply, _ = worker.ask({"type": "open", "backend": spec(MODEL), "baseModelPath": str(base)})
    assert reply["type"] == "opened", reply
    pid = worker.process.pid
    reply, _ = worker.ask({"type": "reopen", "baseFirst": True})
    assert reply["type"] == "opened", reply
    reply, _ = worker.ask(run_request(1, 16, heldout[:16], warmup=0, iterations=2, paired="base-first"))
    assert len(reply["latenciesMs"]) == len(reply["baseLatenciesMs"]) == 2, reply
    assert worker.process.pid == pid
    assert worker.process.poll() is None
    worker.close()
