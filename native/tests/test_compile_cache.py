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


# One process compiles and saves, a fresh one (its own Inductor folder, as on another runner) loads and compiles the
# same function: with Dynamo's precompile on, the second finds the traced frame in the loaded artifacts and traces
# nothing. Each side runs in its own interpreter because Dynamo's caches live for the process.
PRECOMPILE_SIDE = """
import json, sys, torch
from tr118_native.worker.compile_cache import enable_precompile, load_artifacts, save_artifacts
on = enable_precompile(torch)
loaded = load_artifacts(torch, sys.argv[2]).status if sys.argv[1] == "load" else None
def double_plus_one(x):
    return x * 2 + 1
with torch.inference_mode():
    result = torch.compile(double_plus_one)(torch.arange(4.0)).tolist()
if sys.argv[1] == "save":
    assert save_artifacts(torch, sys.argv[2]) is None
from torch._dynamo.utils import counters
print(json.dumps({"on": on, "loaded": loaded, "result": result, "dynamo_cache": dict(counters["dynamo_cache"]),
                  "frames_traced": counters["frames"]["total"]}))
"""


def run_side(tmp_path: Path, side: str, saved: Path, precompile: str | None) -> dict[str, Any]:
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / f"inductor-{side}")}
    env.pop("TR118_TORCH_PRECOMPILE", None)
    if precompile is not None:
        env["TR118_TORCH_PRECOMPILE"] = precompile
    done = subprocess.run(
        [sys.executable, "-c", PRECOMPILE_SIDE, side, str(saved)], env=env, capture_output=True, text=True, check=True
    )
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_a_precompiled_frame_is_loaded_not_traced_again(tmp_path: Path) -> None:
    saved = tmp_path / "artifacts.bin"
    first = run_side(tmp_path, "save", saved, None)
    assert first["on"] is True
    assert first["frames_traced"] == 1
    second = run_side(tmp_path, "load", saved, None)
    assert second["loaded"] == "hit"
    assert second["result"] == [1.0, 3.0, 5.0, 7.0]
    assert second["dynamo_cache"].get("dynamo_cache_hit") == 1
    assert second["frames_traced"] == 0


def test_precompile_off_traces_again_from_the_same_artifacts(tmp_path: Path) -> None:
    saved = tmp_path / "artifacts.bin"
    run_side(tmp_path, "save", saved, None)
    second = run_side(tmp_path, "load", saved, "off")
    assert second["on"] is False
    assert second["loaded"] == "hit"
    assert second["result"] == [1.0, 3.0, 5.0, 7.0]
    assert second["frames_traced"] == 1
