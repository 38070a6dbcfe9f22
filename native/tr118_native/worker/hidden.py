"""Packages the worker hides from the model code, so that transformers does not import them.

transformers imports optional packages whenever they are installed: scikit-learn (assisted generation's metrics),
SciPy (object-detection losses, which modeling_utils imports with every loss), torchvision, torchaudio and Pillow
(image, audio and video processors). No causal LM's forward pass uses them. On a GPU image that has them (the H100
machine here) they were about 1,000 of the 1,616 modules a model load imported beyond the preload's (SciPy, pandas,
scikit-learn, torchvision, torchaudio), where transformers' model code took 5.8-7.3 s per worker (not timed apart
there); on the 2-core VM with them installed, hiding them took that import from 1.76-1.80 to 0.94-0.96 s and a load
of the fixture from 0.68-0.74 to 0.13-0.14 s (scripts/device/hidden-probe.py, docs/run-time.md).

A hidden package is absent to this process: `importlib.util.find_spec` returns None for it and `import` raises
ModuleNotFoundError, exactly as where it is not installed (CI's environment has none of them). Model code
that does need one fails its open with a message naming `TR118_WORKER_HIDDEN`, which sets the list (comma-separated;
empty: hide nothing).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

HIDDEN_PACKAGES = ("sklearn", "scipy", "torchvision", "torchaudio", "PIL")
HIDDEN_ENV = "TR118_WORKER_HIDDEN"

#: What this process hid (hide()).
hidden: tuple[str, ...] = ()


def hide(env: Mapping[str, str]) -> tuple[str, ...]:
    """Hides HIDDEN_PACKAGES, or the packages TR118_WORKER_HIDDEN lists, unless already imported. Before anything
    imports transformers."""
    global hidden
    raw = env.get(HIDDEN_ENV)
    names = HIDDEN_PACKAGES if raw is None else tuple(n.strip() for n in raw.split(",") if n.strip())
    for name in names:
        # None in sys.modules: the import system's own "not importable" mark (find_spec returns None, import raises).
        sys.modules.setdefault(name, None)
    hidden = tuple(n for n in names if sys.modules.get(n, False) is None)
    return hidden


def explain(error: BaseException) -> str | None:
    """For an import of a hidden package: what was hidden, and how to stop hiding it; None for any other error."""
    if not isinstance(error, ModuleNotFoundError) or not error.name:
        return None
    top = error.name.split(".")[0]
    if top not in hidden:
        return None
    rest = ",".join(n for n in hidden if n != top)
    return (
        f"{error}: the worker hides {top} from the model code (transformers imports it when installed, and no causal "
        f"LM's forward pass needs it); set {HIDDEN_ENV}={rest!r} to let this model import it"
    )
