"""A checkpoint whose weights do not fit its config.json stops the run (issue 21): the loading info transformers
returns is read, not dropped. The rule itself needs no torch; loading real damaged checkpoints does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_DIR
from test_export import export_request
from test_worker import Driven, spec

from tr118_native.worker.checkpoint import ALLOW_KEY, check_checkpoint, check_loading_info
from tr118_native.worker.errors import WorkerError

CHECKPOINT = FIXTURE_DIR / "hf"
LAYER_3 = [f"transformer.h.3.{p}" for p in ("attn.c_attn.bias", "attn.c_attn.weight", "ln_1.bias", "mlp.c_fc.weight")]


def info(missing: list[str] = [], unexpected: list[str] = [], mismatched: list[Any] = []) -> dict[str, Any]:  # noqa: B006
    return {"missing_keys": missing, "unexpected_keys": unexpected, "mismatched_keys": mismatched, "error_msgs": []}


@pytest.mark.parametrize(
    ("loading", "allowed", "expected"),
    [
        (info(missing=LAYER_3), [], "4 weights config.json's architecture needs are missing from the weights file"),
        (
            info(unexpected=["extra.weight"]),
            [],
            "1 weights in the file are not used by the architecture (extra.weight)",
        ),
        (info(mismatched=[("h.0.mlp.c_fc.bias", (512,), (256,))]), [], "1 weights have another shape"),
        (info(missing=[f"k{i}" for i in range(12)]), [], "12 weights config.json's architecture needs are missing"),
        # Patterns cover some keys, not all: the rest are still named.
        (info(missing=LAYER_3, unexpected=["extra.weight"]), ["transformer.h.3.*"], "1 weights in the file are not"),
    ],
)
def test_weights_that_do_not_fit_are_a_usage_error_naming_them(
    loading: dict[str, Any], allowed: list[str], expected: str
) -> None:
    with pytest.raises(WorkerError) as raised:
        check_loading_info(Path("/ckpt"), loading, allowed)
    error = raised.value
    assert error.kind == "usage"
    assert error.key_path == ["model", "hf"]
    assert expected in error.message
    assert error.message.startswith("/ckpt: ")
    assert ALLOW_KEY in error.message
    assert "\n" not in error.message


def test_only_the_first_five_keys_are_named_then_the_count() -> None:
    with pytest.raises(WorkerError) as raised:
        check_loading_info(Path("/ckpt"), info(missing=[f"k{i:02}" for i in range(12)]), [])
    assert "(k00, k01, k02, k03, k04, … (7 more))" in raised.value.message


@pytest.mark.parametrize(
    ("loading", "allowed"),
    [
        (info(), []),
        (info(missing=["lm_head.weight"]), ["lm_head.weight"]),
        (info(missing=LAYER_3, unexpected=["extra.weight"]), ["transformer.h.3.*", "extra.*"]),
    ],
)
def test_a_checkpoint_that_fits_or_whose_differences_are_allowed_loads(
    loading: dict[str, Any], allowed: list[str]
) -> None:
    check_loading_info(Path("/ckpt"), loading, allowed)


# ---- plain faults of the folder (issue 21): one line naming the file, not a traceback from transformers ----


def faulty(tmp_path: Path, how: str) -> Path:
    """A copy of the fixture checkpoint with one plain fault."""
    folder = tmp_path / "ckpt"
    shutil.copytree(CHECKPOINT, folder)
    weights = folder / "model.safetensors"
    if how == "config-null":
        (folder / "config.json").write_text("null\n")
    elif how == "config-list":
        (folder / "config.json").write_text("[1, 2]\n")
    elif how == "config-a-folder":
        (folder / "config.json").unlink()
        (folder / "config.json").mkdir()
    elif how == "weights-link-loop":
        weights.unlink()
        weights.symlink_to("model.safetensors")
    elif how == "weights-a-folder":
        weights.unlink()
        weights.mkdir()
    elif how == "weights-link-to-nothing":
        weights.unlink()
        weights.symlink_to("gone.safetensors")
    elif how == "pickled-weights-a-folder":
        weights.unlink()
        (folder / "pytorch_model.bin").mkdir()
    return folder


@pytest.mark.parametrize(
    ("how", "file", "expected"),
    [
        ("config-null", "config.json", "holds null, not a JSON object"),
        ("config-list", "config.json", "holds a list, not a JSON object"),
        ("config-a-folder", "config.json", "is a folder, not a file"),
        ("weights-link-loop", "model.safetensors", "is a loop of symbolic links (ELOOP); expected the weights file"),
        ("weights-a-folder", "model.safetensors", "is a folder, not a file; expected the weights file"),
        ("weights-link-to-nothing", "model.safetensors", "is a symbolic link to nothing (→ gone.safetensors)"),
        ("pickled-weights-a-folder", "pytorch_model.bin", "is a folder, not a file; expected the weights file"),
    ],
)
def test_a_plain_fault_of_the_folder_is_one_line_naming_the_file(
    tmp_path: Path, how: str, file: str, expected: str
) -> None:
    folder = faulty(tmp_path, how)
    with pytest.raises(WorkerError) as raised:
        check_checkpoint(folder, trust_pickle=True)
    assert raised.value.message.startswith(f"{folder / file} ")
    assert expected in raised.value.message
    assert "\n" not in raised.value.message


def test_the_fixture_checkpoint_and_its_trusted_pickle_pass(tmp_path: Path) -> None:
    check_checkpoint(CHECKPOINT, trust_pickle=False)
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text((CHECKPOINT / "config.json").read_text())
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    check_checkpoint(folder, trust_pickle=True)


# ---- real damaged checkpoints, through the worker (needs torch and transformers) ----


def damaged(tmp_path: Path, how: str) -> Path:
    from tr118_native.fixture.damage import damage_checkpoint

    out = tmp_path / how
    if how == "layer-3-dropped":
        damage_checkpoint(CHECKPOINT, out, ["transformer.h.3."], [])
    elif how == "extra-tensor":
        damage_checkpoint(CHECKPOINT, out, [], ["extra.weight"])
    else:
        shutil.copytree(CHECKPOINT, out)
        config = json.loads((out / "config.json").read_text())
        config.update({"n-layer-6": {"n_layer": 6}, "n-inner-256": {"n_inner": 256}}[how])
        (out / "config.json").write_text(json.dumps(config))
    return out


CASES = [
    ("layer-3-dropped", "12 weights config.json's architecture needs are missing", "transformer.h.3.*"),
    ("n-layer-6", "24 weights config.json's architecture needs are missing", "transformer.h.[45].*"),
    ("extra-tensor", "1 weights in the file are not used by the architecture (extra.weight)", "extra.weight"),
    ("n-inner-256", "12 weights have another shape than config.json gives", "transformer.h.*.mlp.*"),
]


@pytest.mark.torch
@pytest.mark.parametrize(("how", "expected", "allow"), CASES)
def test_the_export_job_refuses_a_damaged_checkpoint_unless_allowed(
    tmp_path: Path, how: str, expected: str, allow: str
) -> None:
    source = damaged(tmp_path, how)
    worker = Driven()
    reply, _ = worker.ask(export_request(source, tmp_path / "out"))
    assert reply["type"] == "error"
    assert reply["kind"] == "usage", reply
    assert reply["keyPath"] == ["model", "hf"]
    assert expected in reply["message"]
    assert not (tmp_path / "out" / "model.onnx").exists()
    reply, _ = worker.ask(export_request(source, tmp_path / "out2", allowedWeightDifferences=[allow]))
    assert reply["type"] == "exported", reply
    worker.close()


@pytest.mark.torch
@pytest.mark.parametrize(("how", "expected", "allow"), CASES[:2])
def test_the_pytorch_engine_refuses_a_damaged_checkpoint_unless_allowed(
    tmp_path: Path, how: str, expected: str, allow: str
) -> None:
    source = damaged(tmp_path, how)
    worker = Driven()
    reply, _ = worker.ask({"type": "open", "backend": spec(source)})
    assert reply["kind"] == "usage", reply
    assert expected in reply["message"]
    reply, _ = worker.ask({"type": "open", "backend": spec(source, allowedWeightDifferences=[allow])})
    assert reply["type"] == "opened", reply
    worker.close()
