"""The deepened checkpoint gives the fixture's logits with more blocks; a bad request is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tr118_native.fixture.deeper import deepen_checkpoint

FIXTURE_HF = Path(__file__).resolve().parents[2] / "fixtures" / "model" / "hf"


@pytest.mark.torch
def test_same_logits_more_layers(tmp_path: Path) -> None:
    import torch
    import transformers

    out = tmp_path / "deeper"
    assert deepen_checkpoint(FIXTURE_HF, out, extra_layers=2) == 6
    base = transformers.AutoModelForCausalLM.from_pretrained(FIXTURE_HF).eval()
    deeper = transformers.AutoModelForCausalLM.from_pretrained(out).eval()
    assert len(deeper.transformer.h) == len(base.transformer.h) + 2
    ids = torch.randint(1, 4096, (2, 16), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(deeper(ids).logits, base(ids).logits, rtol=0, atol=0)


@pytest.mark.torch
def test_refuses_zero_extra(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="extra_layers must be"):
        deepen_checkpoint(FIXTURE_HF, tmp_path / "x", extra_layers=0)
