"""Loading a Hugging Face checkpoint so that a broken one stops the run instead of being measured.

transformers initialises any tensor the weights file lacks at random and drops any it does not expect, and only
prints a load report: a checkpoint missing a layer would run, export, cache and pass the gate with the perplexity of
a half-random model. Every loader here (the export job, the PyTorch engine) reads transformers' loading info and
refuses missing or unexpected weights, unless config model.allowed_weight_differences names them.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from tr118_native.worker.errors import WorkerError

ALLOW_KEY = "model.allowed_weight_differences"
# The config key a refusal points at: the user either fixes model.hf or allows the difference.
KEY_PATH = ("model", "hf")
SHOWN_KEYS = 5


def file_fault(file: Path) -> str | None:
    """What keeps `file` from being read as a regular file, in words ("is a folder"); None if nothing does."""
    try:
        file.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "is a loop of symbolic links (ELOOP)"
        if error.errno == errno.ENOENT and file.is_symlink():
            return f"is a symbolic link to nothing (→ {file.readlink()})"
        return f"cannot be read: {error.strerror}"
    if file.is_dir():
        return "is a folder, not a file"
    if not file.is_file():
        return "is not a regular file"
    if not os.access(file, os.R_OK):
        return "cannot be read: Permission denied"
    return None


def check_checkpoint(folder: Path, trust_pickle: bool) -> None:
    """The same checks the TypeScript side makes before starting us (src/model/checkpoint.ts), for direct callers."""
    if not folder.is_dir():
        raise WorkerError("failed", f"{folder}: not a folder (a Hugging Face checkpoint folder was expected)")
    config_file = folder / "config.json"
    if not config_file.exists() and not config_file.is_symlink():
        raise WorkerError("failed", f"{folder}: no config.json")
    fault = file_fault(config_file)
    if fault:
        raise WorkerError("failed", f"{config_file} {fault}")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:
        raise WorkerError("failed", f"{config_file}: not valid JSON ({error})") from None
    # Valid JSON is not yet a config: transformers reads `null` or a list as an AttributeError deep in its loader.
    if not isinstance(config, dict):
        raise WorkerError(
            "failed", f"{config_file} holds {json_kind(config)}, not a JSON object: expected the model's config"
        )
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        pickled = sorted(folder.glob("*.bin"))
        if pickled and not trust_pickle:
            names = ", ".join(p.name for p in pickled)
            raise WorkerError(
                "failed",
                f"{folder}: only pickled weights ({names}), which can run code when loaded; "
                "convert them to safetensors, or set model.trust_pickle: true",
            )
        if not pickled:
            raise WorkerError("failed", f"{folder}: no *.safetensors (or *.bin) weights")
        weights = pickled
    for file in weights:
        # The glob lists a folder or a dangling link by its name alone: the loader would fail on it with a traceback.
        fault = file_fault(file)
        if fault:
            raise WorkerError("failed", f"{file} {fault}; expected the weights file")


def json_kind(value: Any) -> str:
    """How a JSON value is named in errors: null, a list, a number, a string, true."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    return "a number" if isinstance(value, (int, float)) else "a string"


def disallowed(keys: Sequence[str], allowed: Sequence[str]) -> list[str]:
    """The keys no pattern of `allowed` matches (shell-style, case-sensitive: `transformer.h.*.attn.bias`)."""
    return sorted(k for k in keys if not any(fnmatchcase(k, pattern) for pattern in allowed))


def describe(what: str, keys: list[str]) -> str:
    shown = ", ".join(keys[:SHOWN_KEYS]) + (f", … ({len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else "")
    return f"{len(keys)} {what} ({shown})"


def check_loading_info(folder: Path, info: dict[str, Any], allowed: Sequence[str]) -> None:
    """A usage error naming the first keys and the count of each kind, or nothing when every key is accounted for."""
    missing = disallowed(list(info.get("missing_keys", [])), allowed)
    unexpected = disallowed(list(info.get("unexpected_keys", [])), allowed)
    mismatched = disallowed(
        [str(k[0] if isinstance(k, tuple) else k) for k in info.get("mismatched_keys", [])], allowed
    )
    faults = [
        describe("weights config.json's architecture needs are missing from the weights file", missing)
        if missing
        else "",
        describe("weights in the file are not used by the architecture", unexpected) if unexpected else "",
        describe("weights have another shape than config.json gives", mismatched) if mismatched else "",
    ]
    said = "; ".join(f for f in faults if f)
    if said:
        raise WorkerError(
            "usage",
            f"{folder}: {said}. transformers would fill missing weights with random numbers and drop unexpected ones, "
            f"so the model measured would not be the checkpoint; fix config.json or the weights, or list the keys "
            f"that may differ (shell patterns) in {ALLOW_KEY}",
            key_path=KEY_PATH,
        )


def load_causal_lm(transformers: Any, folder: Path, allowed: Sequence[str], **kwargs: Any) -> Any:
    """AutoModelForCausalLM.from_pretrained, local files only, with its loading info checked."""
    # Mismatched shapes are reported in the loading info (not raised) so that the refusal can name them.
    model, info = transformers.AutoModelForCausalLM.from_pretrained(
        folder, local_files_only=True, output_loading_info=True, ignore_mismatched_sizes=True, **kwargs
    )
    check_loading_info(folder, info, allowed)
    return model
