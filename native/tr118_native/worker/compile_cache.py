"""torch.compile's caches across runs (issue 23): the "mega-cache" bytes of torch.compiler.save_cache_artifacts(),
loaded with torch.compiler.load_cache_artifacts() before the first compile, so a later open reuses what an earlier
one compiled. Which file to load and where to save are the caller's (the artifact store's, engines/pytorch/
compile-cache.ts): this module only moves bytes in and out of torch. A file that cannot be loaded is never a
failure: the model is compiled anew and the reason said. torch itself checks that loaded artifacts match its version
and the GPU, so a loaded entry can make a compile faster, never different."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class CacheOutcome:
    """What happened to the compile cache at one open: hit, miss or corrupt, and why when not a plain hit or miss."""

    status: str
    note: str | None = None


#: torch's counters of its compile caches' lookups (torch._dynamo.utils.counters: group, key), by the name the session
#: reports them under. A loaded entry is a "hit" for the artifact store; whether torch then found its graphs in it is
#: what these say (an entry from another torch, or a graph that changed, loads and still misses).
LOOKUPS = (
    ("inductor", "fxgraph_cache_hit", "inductorHits"),
    ("inductor", "fxgraph_cache_miss", "inductorMisses"),
    ("aot_autograd", "autograd_cache_hit", "aotAutogradHits"),
    ("aot_autograd", "autograd_cache_miss", "aotAutogradMisses"),
)


def lookup_counts() -> dict[str, int]:
    """The lookup counters now, or {} where this torch keeps none (a private API: read, never relied on)."""
    try:
        from torch._dynamo.utils import counters
    except ImportError:
        return {}
    return {name: int(counters[group][key]) for group, key, name in LOOKUPS}


def lookups_since(before: dict[str, int]) -> dict[str, int]:
    """The lookups made since `before` (lookup_counts()), by name; {} when either side has none."""
    after = lookup_counts()
    if not before or not after:
        return {}
    return {name: after[name] - before.get(name, 0) for name in after}


def load_artifacts(torch: Any, load: str | None) -> CacheOutcome:
    """Loads the artifacts in `load` (if given and there) into torch's caches, before anything is compiled."""
    if load is None or not Path(load).is_file():
        return CacheOutcome("miss")
    try:
        loaded = torch.compiler.load_cache_artifacts(Path(load).read_bytes())
    except Exception as error:  # truncated or foreign bytes: torch raises whatever its unpickler does
        return CacheOutcome("corrupt", f"{load} could not be loaded ({type(error).__name__}: {error}); compiled anew")
    if loaded is None:
        return CacheOutcome("corrupt", f"{load} held no compile artifacts; compiled anew")
    return CacheOutcome("hit")


#: Whether this process has called torch.compiler.save_cache_artifacts(). torch keeps what it serialised and appends
#: each later call's new artifacts to it as another part, and load_cache_artifacts() keeps only the last part of each
#: kind (it reads the parts into a dict): a second save's bytes would lose the first save's graphs when loaded. Seen in
#: torch 2.11, where saving at open and again at close made every warm open miss its probe graph (docs/run-time.md).
_saved_once = False


def save_artifacts(torch: Any, save: str) -> str | None:
    """Writes every artifact this process compiled to `save` (whole or not at all); returns why not, if not. Once per
    process: a second call saves nothing and says so (see _saved_once)."""
    global _saved_once
    if _saved_once:
        return "compile artifacts are saved once per process (a second save would lose the first on load): not saved"
    _saved_once = True
    try:
        artifacts = torch.compiler.save_cache_artifacts()
    except Exception as error:
        return f"torch.compiler.save_cache_artifacts() failed ({type(error).__name__}: {error}); nothing saved"
    if artifacts is None:
        return "torch.compiler.save_cache_artifacts() returned nothing to save"
    data, _info = artifacts
    partial = f"{save}.partial"
    try:
        Path(save).parent.mkdir(parents=True, exist_ok=True)
        Path(partial).write_bytes(data)
        Path(partial).replace(save)
    except OSError as error:
        with contextlib.suppress(OSError):  # nothing was written where no folder could be
            Path(partial).unlink(missing_ok=True)
        return f"{save} could not be written ({error.strerror or error}); nothing saved"
    return None
