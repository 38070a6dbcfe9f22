"""Tests that need torch and transformers (the GPU machine's environment); skipped in CPU-only CI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FIXTURE_DIR

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from tr118_native.fixture import export  # noqa: E402
from tr118_native.fixture.train import TrainConfig, lr_factor, model_config, train  # noqa: E402


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random GPT-2 of the fixture's shape but a 64-token vocabulary: fast to export and compare."""
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(model_config(vocab_size=64, dropout=0.0))
    path = tmp_path_factory.mktemp("tiny")
    model.save_pretrained(path)
    return path


def test_schedule_warms_up_then_decays_to_the_floor() -> None:
    cfg = TrainConfig(max_steps=1000, warmup_steps=100, min_lr_ratio=0.1)
    factors = [lr_factor(s, cfg) for s in range(1000)]
    assert factors[0] == pytest.approx(0.01)
    assert factors[99] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(factors[100:]))
    assert lr_factor(1000, cfg) == pytest.approx(0.1)


def test_export_matches_torch_and_perplexities_agree(tiny_checkpoint: Path, tmp_path: Path) -> None:
    model = export.load_model(tiny_checkpoint)
    onnx_path = tmp_path / "model.onnx"
    assert export.export_onnx(model, onnx_path) in {"torchscript", "dynamo"}
    session = export.ort_session(onnx_path)
    tokens = np.random.default_rng(0).integers(0, 64, 1500)
    parity = export.check_parity(model, session, tokens)
    assert all(case["max_abs_diff"] < export.PARITY_TOLERANCE for case in parity)
    names = {init.name for init in export_initializers(onnx_path)}
    assert "transformer.wte.weight" in names
    assert not any(n.startswith("inner.") for n in names)
    ppl_torch = export.torch_perplexity(model, tokens)
    ppl_onnx = export.onnx_perplexity(session, tokens)
    assert ppl_torch.scored_tokens == ppl_onnx.scored_tokens == 1499
    assert ppl_onnx.mean_nll == pytest.approx(ppl_torch.mean_nll, rel=1e-5)


def export_initializers(path: Path) -> Any:
    import onnx

    return onnx.load(str(path)).graph.initializer


def test_training_runs_and_writes_a_checkpoint(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cfg = TrainConfig(batch_size=2, max_steps=3, warmup_steps=1, eval_every=2)
    record = train(rng.integers(0, 64, 4000), rng.integers(0, 64, 1100), 64, tmp_path, cfg)
    assert record.steps == 3
    assert [h["step"] for h in record.history] == [2, 3]
    assert json.loads((tmp_path / "training.json").read_text())["steps"] == 3
    assert (tmp_path / "model.safetensors").is_file()


@pytest.mark.skipif(not (FIXTURE_DIR / "hf").is_dir(), reason="no Hugging Face checkpoint committed")
def test_committed_checkpoint_matches_the_onnx_fixture(heldout_tokens: list[int]) -> None:
    model = export.load_model(FIXTURE_DIR / "hf")
    session = export.ort_session(FIXTURE_DIR / "model.onnx")
    ids = np.asarray(heldout_tokens[:512], dtype=np.int64).reshape(4, 128)
    with torch.no_grad():
        expected = model(input_ids=torch.from_numpy(ids), use_cache=False).logits.numpy()
    assert np.abs(export.ort_logits(session, ids) - expected).max() < export.PARITY_TOLERANCE


@pytest.mark.skipif(not (FIXTURE_DIR / "hf").is_dir(), reason="no Hugging Face checkpoint committed")
def test_reexporting_the_committed_checkpoint_reproduces_model_onnx(tmp_path: Path, card: dict[str, Any]) -> None:
    # Holds for torch 2.11 (TorchScript exporter) with transformers 5.17 and 5.24; another exporter may differ.
    model = export.load_model(FIXTURE_DIR / "hf")
    export.export_onnx(model, tmp_path / "model.onnx")
    assert export.sha256_file(tmp_path / "model.onnx") == card["onnx"]["sha256"]
