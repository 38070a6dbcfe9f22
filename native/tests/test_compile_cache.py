"""torch.compile's cache across runs (compile_cache.py): loaded when there, compiled anew when broken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

from tr118_native.worker import compile_cache  # noqa: E402
from tr118_native.worker.compile_cache import load_artifacts, lookups_since, save_artifacts  # noqa: E402


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


@pytest.fixture(autouse=True)
def unsaved(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test is a process of its own as far as the once-per-process save goes.
    monkeypatch.setattr(compile_cache, "_saved_once", False)


def test_a_second_save_in_one_process_is_refused_with_a_note(tmp_path: Path) -> None:
    with torch.inference_mode():
        torch.compile(lambda x: x + 5)(torch.ones(3))
    first = tmp_path / "first.bin"
    assert save_artifacts(torch, str(first)) is None
    with torch.inference_mode():
        torch.compile(lambda x: x * 5)(torch.ones(3))
    note = save_artifacts(torch, str(tmp_path / "second.bin"))
    assert note is not None
    assert "once per process" in note
    assert not (tmp_path / "second.bin").exists()
    assert first.stat().st_size > 0


def test_a_save_that_cannot_be_written_is_a_note(tmp_path: Path) -> None:
    with torch.inference_mode():
        torch.compile(lambda x: x - 1)(torch.ones(2))
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    note = save_artifacts(torch, str(blocker / "artifacts.bin"))
    assert note is not None
    assert "could not be written" in note


# One process compiles and saves, a fresh one (its own Inductor folder, as on another runner) loads and compiles the
# same function: the lookups say the second found its graph in what it loaded. Each side is its own interpreter
# because torch's in-memory caches live for the process.
LOOKUP_SIDE = """
import json, sys, torch
from tr118_native.worker.compile_cache import load_artifacts, lookup_counts, lookups_since, save_artifacts
loaded = load_artifacts(torch, sys.argv[2]).status if sys.argv[1] == "load" else None
before = lookup_counts()
with torch.inference_mode():
    torch.compile(lambda x: (x * 3 - 1).cos())(torch.arange(4.0))
lookups = lookups_since(before)
if sys.argv[1] == "save":
    assert save_artifacts(torch, sys.argv[2]) is None
print(json.dumps({"loaded": loaded, "lookups": lookups}))
"""


def lookup_side(tmp_path: Path, side: str, saved: Path) -> dict[str, Any]:
    # The side imports tr118_native from this checkout, wherever pytest was started from.
    native = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (native, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / f"inductor-{side}"), "PYTHONPATH": path}
    command = [sys.executable, "-c", LOOKUP_SIDE, side, str(saved)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_the_lookups_say_whether_a_loaded_entry_held_the_graphs(tmp_path: Path) -> None:
    saved = tmp_path / "artifacts.bin"
    first = lookup_side(tmp_path, "save", saved)
    assert first["lookups"]["inductorMisses"] >= 1
    assert first["lookups"]["inductorHits"] == 0
    second = lookup_side(tmp_path, "load", saved)
    assert second["loaded"] == "hit"
    assert second["lookups"]["inductorHits"] >= 1
    assert second["lookups"]["inductorMisses"] == 0
    assert second["lookups"]["aotAutogradHits"] >= 1


def test_no_counters_no_lookups() -> None:
    assert lookups_since({}) == {}
