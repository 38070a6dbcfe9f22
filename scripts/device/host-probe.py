"""Why the GPU machine's Python imports take 5-10 times this VM's (issue 23: a worker's imports sit on a run's
critical path): is it the CPU or the file system? Not part of a run; prints one short table, run it on both:

    PYTHONPATH=native python3 scripts/device/host-probe.py

cpu: a pure-Python loop (one core's speed at bytecode). unmarshal: marshal.loads of every .pyc byte code file of
torch's package already in memory (the CPU half of an import). stat / open+read: the same files through the file
system, twice (cold, then in the page cache), timed per file. import torch: a fresh process. The file system of
torch's package comes from /proc/self/mountinfo. Then torch, transformers' model code and torch.compile's imports
in a fresh process, one after the other (as a worker's preload) or the last two in two threads.
"""

from __future__ import annotations

import importlib.util
import marshal
import os
import subprocess
import sys
import time
from pathlib import Path

from tr118_native.worker.bytecode import usable_pyc  # native/ on PYTHONPATH

MODEL_CODE = "import transformers; transformers.AutoModelForCausalLM"
COMPILE = "import torch._dynamo, torch._inductor.compile_fx"
# The packages a worker hides, hidden (native/ on PYTHONPATH).
HIDE = "import os; from tr118_native.worker.hidden import hide; hide(os.environ)"
SERIAL = f"{HIDE}; import torch; {MODEL_CODE}; {COMPILE}"
THREADED = (
    f"{HIDE}\nimport threading, torch\n"
    f"t = threading.Thread(target=lambda: exec({COMPILE!r}))\n"
    f"t.start(); {MODEL_CODE}; t.join()\n"
)


PACKAGES = (
    "torch",
    "transformers",
    "sympy",
    "numpy",
    "networkx",
    "triton",
    "jinja2",
    "mpmath",
)


def main() -> None:
    spec = importlib.util.find_spec("torch")
    assert spec is not None and spec.origin is not None, (
        "torch is not installed for this Python"
    )
    package = Path(spec.origin).parent
    tag = sys.implementation.cache_tag
    # None at all where the environment was made without byte code (the H100 image's torch: the probe's first run
    # there divided by this count).
    pycs = sorted(package.rglob(f"*.{tag}.pyc"))
    rows: list[tuple[str, str]] = []

    began = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i & 7
    rows.append(("cpu: 10M-step Python loop", f"{time.perf_counter() - began:.2f} s"))

    for label in ("cold", "warm"):
        began = time.perf_counter()
        for path in pycs:
            os.stat(path)
        stat_s = time.perf_counter() - began
        began = time.perf_counter()
        blobs = [path.read_bytes() for path in pycs]
        read_s = time.perf_counter() - began
        size_mb = sum(len(b) for b in blobs) / 1e6
        rows.append(
            (
                f"stat, {label} ({len(pycs)} .pyc)",
                f"{stat_s:.2f} s ({stat_s / max(len(pycs), 1) * 1e6:.0f} us each)",
            )
        )
        rows.append(
            (
                f"open+read, {label} ({size_mb:.0f} MB)",
                f"{read_s:.2f} s ({read_s / max(len(pycs), 1) * 1e6:.0f} us each)",
            )
        )
    began = time.perf_counter()
    for blob in blobs:
        marshal.loads(
            blob[16:]
        )  # a .pyc is a 16-byte header, then the marshalled code object
    rows.append(
        ("unmarshal every .pyc in memory", f"{time.perf_counter() - began:.2f} s")
    )

    for n in (1, 2):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        rows.append(
            (
                f"import torch, fresh process ({n})",
                f"{time.perf_counter() - began:.2f} s",
            )
        )

    # A compiled backend's preload after torch: transformers' model code, then Dynamo and Inductor; one after the
    # other as the worker does, or in two threads (overlapping file reads, if that is where the time goes).
    for n in (1, 2):
        for label, code in (
            ("one after the other", SERIAL),
            ("in two threads", THREADED),
        ):
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True
            )
            rows.append(
                (
                    f"torch, then model code + compile, {label} ({n})",
                    f"{time.perf_counter() - began:.2f} s",
                )
            )

    # Byte code a fresh process can use without compiling: a .pyc beside each source, of this Python's magic number
    # and matching the source's mtime and size. Where it is missing or stale and PYTHONDONTWRITEBYTECODE is set (or
    # the folder is read-only), every import compiles the source again in every process.
    for name in PACKAGES:
        found = importlib.util.find_spec(name)
        if found is None or found.origin is None:
            rows.append((f"byte code: {name}", "not installed"))
            continue
        sources = list(Path(found.origin).parent.rglob("*.py"))
        usable = sum(1 for source in sources if usable_pyc(source))
        rows.append(
            (
                f"byte code: {name}",
                f"{usable} of {len(sources)} sources have a usable .pyc",
            )
        )
    rows.append(("sys.dont_write_bytecode", str(sys.dont_write_bytecode)))

    mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    best = ("?", "?")
    for line in mounts:
        fields = line.split()
        point = fields[4]
        fs = fields[fields.index("-") + 1]
        if str(package).startswith(point) and len(point) >= len(best[0]):
            best = (point, fs)
    rows.append(("torch's folder", f"{package} on {best[0]} ({best[1]})"))
    rows.append(("python, cpus", f"{sys.version.split()[0]}, {os.cpu_count()}"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
