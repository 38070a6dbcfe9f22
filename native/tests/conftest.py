"""Shared paths and fixtures. Tests run from any directory: paths are anchored on this file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIR = REPO_ROOT / "fixtures" / "model"
SOTU_DIR = REPO_ROOT / "node_modules" / "@stdlib" / "datasets-sotu" / "data"


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
