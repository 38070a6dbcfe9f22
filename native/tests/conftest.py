"""Shared paths and fixtures. Tests run from any directory: paths are anchored on this file."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIR = REPO_ROOT / "fixtures" / "model"
SOTU_DIR = REPO_ROOT / "node_modules" / "@stdlib" / "datasets-sotu" / "data"


# The torch set (native/requirements-torch.txt): torch, transformers, safetensors. A test that needs any of them says
# so with @pytest.mark.torch; where they are absent it is skipped with this reason, and a test that needs them
# without saying so fails (pytest_runtest_makereport below), so the light tier (`-m "not torch"`) never skips one.
TORCH_SET = ("torch", "transformers", "safetensors")
TORCH_MISSING = [name for name in TORCH_SET if importlib.util.find_spec(name) is None]
TORCH_SKIP_REASON = (
    f"needs the torch set ({', '.join(TORCH_MISSING)} not installed for {sys.executable}; "
    "npm run test:torch installs native/requirements-torch.txt)"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not TORCH_MISSING:
        return
    for item in items:
        if item.get_closest_marker("torch") is not None:
            item.add_marker(pytest.mark.skip(reason=TORCH_SKIP_REASON))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    undeclared = (
        report.skipped
        and item.get_closest_marker("torch") is None
        and any(f"could not import '{name}" in str(report.longrepr) for name in TORCH_SET)
    )
    if undeclared:
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} needs the torch set but is not marked @pytest.mark.torch: {report.longrepr}"
    return report


def pinned_requirements() -> list[str]:
    """Every `name==version` of native/'s two locks (the light set and the torch set on top of it)."""
    pins: list[str] = []
    for name in ("requirements-light.txt", "requirements-torch.txt"):
        for line in (REPO_ROOT / "native" / name).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith(("#", "-r")):
                pins.append(line.strip())
    return pins


@pytest.fixture(scope="session")
def card() -> dict[str, Any]:
    return json.loads((FIXTURE_DIR / "model-card.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def heldout_tokens() -> list[int]:
    return json.loads((FIXTURE_DIR / "heldout.tokens.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sotu_dir() -> Path:
    # The corpus is an npm devDependency: present after `npm ci`, which CI runs before the Python tests.
    if not SOTU_DIR.is_dir():
        pytest.skip(f"{SOTU_DIR} missing (run `npm ci`)")
    return SOTU_DIR
