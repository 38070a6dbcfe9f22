"""The worker checks what the runner sends against protocol.schema.json (generated from the TypeScript zod schemas)."""

from __future__ import annotations

from typing import Any

import pytest

from tr118_native.worker.errors import WorkerError
from tr118_native.worker.schema import parse_job, parse_spec, problems, protocol_schema

COMMON = {
    "precision": "fp32",
    "deviceId": 0,
    "intraOpThreads": 0,
    "interOpThreads": 0,
    "modelPath": "/m.onnx",
    "logitsOutput": "logits",
}
GOOD: dict[str, dict[str, Any]] = {
    "onnxruntime": {
        **COMMON,
        "name": "onnxruntime-cpu",
        "engine": "onnxruntime",
        "provider": "cpu",
        "graphOptimization": "all",
    },
    "pytorch": {
        **COMMON,
        "name": "transformers-cpu",
        "engine": "pytorch",
        "device": "cpu",
        "compile": "off",
        "checkpointPath": "/hf",
        "trustPickle": False,
        "allowedWeightDifferences": [],
    },
    "tensorrt": {**COMMON, "name": "tensorrt-fp16", "engine": "tensorrt", "precision": "fp16"},
}


def test_every_family_of_the_schema_has_a_good_spec_here() -> None:
    assert sorted(protocol_schema()["specs"]) == sorted(GOOD)


@pytest.mark.parametrize("engine", sorted(GOOD))
def test_a_whole_spec_passes_with_its_defaults_in_place(engine: str) -> None:
    parsed = parse_spec(GOOD[engine])
    assert parsed | GOOD[engine] == parsed
    if engine == "onnxruntime":
        assert parsed["worker"] == "node"  # the schema's default (results made before the key ran in Node)


@pytest.mark.parametrize(
    ("engine", "change", "expected"),
    [
        ("onnxruntime", {"provider": "rocm"}, 'backend.provider: expected one of cpu, cuda, tensorrt, got "rocm"'),
        ("onnxruntime", {"graphOptimization": None}, "backend.graphOptimization: expected string, got null"),
        ("pytorch", {"compile": True}, "backend.compile: expected string, got true"),
        ("pytorch", {"deviceId": -1}, "backend.deviceId: expected at least 0, got -1"),
        ("pytorch", {"intraOpThreads": True}, "backend.intraOpThreads: expected integer, got true"),
        ("tensorrt", {"logitsOutput": ""}, 'backend.logitsOutput: expected at least 1 characters, got ""'),
        ("tensorrt", {"provider": "cuda"}, "backend.provider: not allowed here"),
    ],
)
def test_a_bad_spec_is_a_failed_request_naming_the_key(engine: str, change: dict[str, Any], expected: str) -> None:
    with pytest.raises(WorkerError) as raised:
        parse_spec(GOOD[engine] | change)
    assert raised.value.kind == "failed"
    assert raised.value.message.startswith("bad request: ")
    assert expected in raised.value.message


def test_a_missing_key_and_an_unknown_engine_are_named() -> None:
    spec = {k: v for k, v in GOOD["pytorch"].items() if k != "checkpointPath"}
    with pytest.raises(WorkerError, match=r"backend\.checkpointPath: missing"):
        parse_spec(spec)
    with pytest.raises(
        WorkerError, match=r"backend\.engine: expected one of onnxruntime, pytorch, tensorrt, got 'openvino'"
    ):
        parse_spec(GOOD["pytorch"] | {"engine": "openvino"})


def test_jobs_are_checked_without_their_id() -> None:
    probe = {"type": "probe", "id": 7, "engine": "tensorrt", "deviceId": 0}
    assert parse_job(probe) == {"type": "probe", "engine": "tensorrt", "deviceId": 0}
    with pytest.raises(WorkerError, match=r"probe\.engine: expected \"tensorrt\""):
        parse_job(probe | {"engine": "onnxruntime"})


def test_a_keyword_the_checker_does_not_know_is_refused_not_skipped() -> None:
    with pytest.raises(ValueError, match="pattern"):
        problems("abc", {"type": "string", "pattern": "^a"})
