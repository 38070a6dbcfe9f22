"""torch.compile's cache across runs (compile_cache.py): loaded when there, compiled anew when broken."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

from tr118_native.worker.compile_cache import load_artifacts, save_artifacts  # noqa: E402


def test_no_file_to_load_is_a_miss(tmp_path: Path) -> None:
    assert load_artifacts(torch, None).status == "miss"
    assert load_artifacts(torch, str(tmp_path / "absent.bin")).status == "miss"


def test_a_corrupt_entry_is_said_and_never_raised(tmp_path: Path) -> None:
    broken = tmp_path / "artifacts.bin"
    broken.write_bytes(b"not a torch.compile cache")
    outcome = load_artifacts(torch, str(broken))
    assert outcome.status == "corrupt"
    assert outcome.note is not None
    assert str(broken) in outcome.note
    assert outcome.note.endswith("compiled anew")


def test_what_one_compile_saved_is_loaded_by_the_next(tmp_path: Path) -> None:
    def double_plus_one(x: torch.Tensor) -> torch.Tensor:
        return x * 2 + 1

    saved = tmp_path / "cache" / "artifacts.bin"
    with torch.inference_mode():
        result = torch.compile(double_plus_one)(torch.arange(4.0))
    assert result.tolist() == [1.0, 3.0, 5.0, 7.0]
    assert save_artifacts(torch, str(saved)) is None
    assert saved.stat().st_size > 0
    assert not Path(f"{saved}.partial").exists()
    assert load_artifacts(torch, str(saved)).status == "hit"


def test_a_save_that_cannot_be_written_is_a_note(tmp_path: Path) -> None:
    with torch.inference_mode():
        torch.compile(lambda x: x - 1)(torch.ones(2))
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    note = save_artifacts(torch, str(blocker / "artifacts.bin"))
    assert note is not None
    assert "could not be written" in note
