"""The packages the worker hides from the model code (worker/hidden.py): absent as if not installed, named when a
model needs one."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tr118_native.worker import hidden
from tr118_native.worker.framing import read_frame, write_frame

NATIVE = Path(__file__).resolve().parents[1]

# A package of the test's own stands for one transformers would import (none of the hidden ones is installed in CI).
SEEN = """
import importlib.util, os, sys
from tr118_native.worker.hidden import hide
hidden = hide(os.environ)
try:
    import standin
    imported = True
except ModuleNotFoundError:
    imported = False
print(importlib.util.find_spec("standin") is not None, imported, ",".join(hidden))
"""


def seen(env: dict[str, str], tmp_path: Path) -> str:
    (tmp_path / "standin").mkdir(exist_ok=True)
    (tmp_path / "standin" / "__init__.py").write_text("")
    base = {k: v for k, v in os.environ.items() if k != hidden.HIDDEN_ENV}
    path = os.pathsep.join([str(NATIVE), str(tmp_path)])
    done = subprocess.run(
        [sys.executable, "-c", SEEN], env={**base, **env, "PYTHONPATH": path}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_hidden_package_is_absent_as_if_not_installed_and_the_variable_sets_the_list(tmp_path: Path) -> None:
    assert seen({}, tmp_path) == "True True sklearn,scipy,torchvision,torchaudio,PIL"  # the default list
    assert seen({hidden.HIDDEN_ENV: "scipy, standin"}, tmp_path) == "False False scipy,standin"
    assert seen({hidden.HIDDEN_ENV: ""}, tmp_path) == "True True"  # hide nothing


def test_a_model_that_imports_a_hidden_package_fails_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from tr118_native.worker import serve as served

    monkeypatch.setattr(hidden, "hidden", ("sklearn", "scipy"))

    def needs_scipy(self: object, request: dict[str, object]) -> tuple[dict[str, object], None]:
        import scipy.optimize  # noqa: F401  (what a model's code would do)

        raise AssertionError("unreachable")

    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setattr(served.Worker, "handle", needs_scipy)
    requests, replies, log = io.BytesIO(), io.BytesIO(), io.StringIO()
    write_frame(requests, {"type": "open", "id": 1})
    write_frame(requests, {"type": "close", "id": 2})
    requests.seek(0)
    served.serve(requests, replies, log)
    replies.seek(0)
    reply, _ = read_frame(replies)
    assert reply["type"] == "error"
    assert reply["kind"] == "failed"
    assert "the worker hides scipy from the model code" in reply["message"]
    assert f"{hidden.HIDDEN_ENV}='sklearn'" in reply["message"]


def test_any_other_missing_module_keeps_its_own_message() -> None:
    assert hidden.explain(ModuleNotFoundError("No module named 'nothing_here'", name="nothing_here")) is None
    assert hidden.explain(ValueError("x")) is None
