"""Compiled byte code for a worker's imports, kept where the runner says (issue 23: a worker's imports sit on a
run's critical path).

Python loads a module's byte code from the `__pycache__` beside its source when that `.pyc` is there and current;
otherwise it compiles the source, 2-3 times the import's cost, and writes the `.pyc` back unless
PYTHONDONTWRITEBYTECODE is set or the folder is read-only. An environment made without byte code (`uv pip install`
compiles none unless asked; `pip install --no-compile`; sources whose times changed after compiling) with that
variable set therefore compiles torch, transformers and their dependencies again in every worker of every run.

There, the worker points Python's byte code at the folder in TR118_PYTHON_BYTECODE (the runner gives
`.python-bytecode` in the artifact cache): `sys.pycache_prefix`, which Python reads and writes instead of the
`__pycache__` folders, so the first run compiles and writes there and later runs load it. Python checks each `.pyc`
against its source's time and size as it does beside the source, so a changed package is compiled anew, never run
stale. Where the byte code beside the sources is usable, or Python can write it there, nothing changes: the folder
would only make the first run compile everything again. Python writes each `.pyc` whole (a temporary file
renamed), so workers starting side by side can share the folder."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable, MutableMapping
from pathlib import Path

BYTECODE_ENV = "TR118_PYTHON_BYTECODE"

#: Packages whose byte code is looked at: the large ones a worker imports. One whose `__init__` has no usable `.pyc`
#: stands for its installation (a tool that compiles none compiles none of them).
SAMPLE_PACKAGES = ("torch", "transformers", "numpy", "onnxruntime")


def usable_pyc(source: Path) -> bool:
    """Whether `source` has a timestamp- or hash-checked `.pyc` beside it that this Python would load."""
    try:
        header = Path(importlib.util.cache_from_source(str(source))).read_bytes()[:16]
    except (OSError, NotImplementedError):
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") & 1:  # hash-based (PEP 552): Python checks it, as good as any
        return True
    st = source.stat()
    return (
        int.from_bytes(header[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
        and int.from_bytes(header[12:16], "little") == st.st_size & 0xFFFFFFFF
    )


def first_compiled_every_time(packages: Iterable[str]) -> Path | None:
    """The `__init__` source of the first installed package of `packages` that would be compiled from source by every
    process: no usable `.pyc` beside it, and Python may not (PYTHONDONTWRITEBYTECODE) or cannot (a read-only folder)
    write one. None when there is none. Looked at with Python's own default (no prefix) in force."""
    for name in packages:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        source = Path(spec.origin)
        if usable_pyc(source):
            continue
        if sys.dont_write_bytecode or not os.access(source.parent, os.W_OK):
            return source
    return None


#: Where this process's imports find their byte code, in words, once use_bytecode_folder has decided: each open
#: reports it (the session's environment, `pythonBytecode`), since it is seconds of every worker's start.
_source: str | None = None


def bytecode_source() -> str | None:
    """What use_bytecode_folder decided, in words; None before it has (a worker run in-process)."""
    return _source


def use_bytecode_folder(env: MutableMapping[str, str], packages: Iterable[str] = SAMPLE_PACKAGES) -> str | None:
    """Points this process's byte code at TR118_PYTHON_BYTECODE's folder when it is set (not empty, not `off`), no
    prefix is set already (PYTHONPYCACHEPREFIX is the user's own choice), and the packages would otherwise be
    compiled in every process. Before any of them is imported. `env` (os.environ) is changed to match, so that the
    Python processes this one starts (Inductor's compile workers) use the folder too. Returns the folder, or None
    when nothing changed; bytecode_source() says which case it was."""
    global _source
    if sys.pycache_prefix is not None:
        _source = f"the PYTHONPYCACHEPREFIX folder {sys.pycache_prefix}"
        return None
    source = first_compiled_every_time(packages)
    if source is None:
        _source = "beside the sources"
        return None
    folder = env.get(BYTECODE_ENV, "")
    missing = f"none usable beside the sources ({source.parent.name}) and Python may not write it"
    if folder in ("", "off"):
        _source = f"compiled at every start: {missing}, and {BYTECODE_ENV} is off"
        return None
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as error:  # an unwritable folder: the imports compile as before, nothing else changes
        _source = f"compiled at every start: {missing}, and {folder} could not be made ({error.strerror or error})"
        return None
    sys.pycache_prefix = folder
    sys.dont_write_bytecode = False
    env["PYTHONPYCACHEPREFIX"] = folder
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # With the prefix in force, usable_pyc looks in the folder: an earlier worker's byte code is there, or not yet.
    done = "loaded from" if usable_pyc(source) else "compiled into"
    _source = f"{done} {folder} ({missing})"
    return folder


def bytecode_environment() -> dict[str, str]:
    """An open's environment entry for bytecode_source(); none in a process that never decided."""
    return {"pythonBytecode": _source} if _source is not None else {}
