"""Loading a Hugging Face checkpoint so that a broken one stops the run instead of being measured.

transformers initialises any tensor the weights file lacks at random and drops any it does not expect, and only
prints a load report: a checkpoint missing a layer would run, export, cache and pass the gate with the perplexity of
a half-random model. Every loader here (the export job, the PyTorch engine) reads transformers' loading info and
refuses missing or unexpected weights, unless config model.allowed_weight_differences names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from tr118_native.worker.errors import WorkerError

ALLOW_KEY = "model.allowed_weight_differences"
# The config key a refusal points at: the user either fixes model.hf or allows the difference.
KEY_PATH = ("model", "hf")
SHOWN_KEYS = 5


def check_checkpoint(folder: Path, trust_pickle: bool) -> None:
    """The same checks the TypeScript side makes before starting us (src/model/checkpoint.ts), for direct callers."""
    if not folder.is_dir():
        raise WorkerError("failed", f"{folder}: not a folder (a Hugging Face checkpoint folder was expected)")
    if not (folder / "config.json").is_file():
        raise WorkerError("failed", f"{folder}: no config.json")
    if not any(folder.glob("*.safetensors")):
        pickled = sorted(p.name for p in folder.glob("*.bin"))
        if pickled and not trust_pickle:
            raise WorkerError(
                "failed",
                f"{folder}: only pickled weights ({', '.join(pickled)}), which can run code when loaded; "
                "convert them to safetensors, or set model.trust_pickle: true",
            )
        if not pickled:
            raise WorkerError("failed", f"{folder}: no *.safetensors (or *.bin) weights")


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
