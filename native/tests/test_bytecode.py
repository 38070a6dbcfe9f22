"""A worker's byte code folder (worker/bytecode.py): used only where the packages would be compiled in every process."""

from __future__ import annotations

import os
import py_compile
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from tr118_native.worker import bytecode


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable package with no byte code, on sys.path."""
    root = tmp_path / "site"
    (root / "slowpkg").mkdir(parents=True)
    (root / "slowpkg" / "__init__.py").write_text("VALUE = 118\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    return root / "slowpkg" / "__init__.py"


def said() -> str:
    """Where use_bytecode_folder said the byte code comes from (it has decided by then)."""
    source = bytecode.bytecode_source()
    assert source is not None
    return source


@pytest.fixture
def restored() -> Iterator[None]:
    """use_bytecode_folder changes this process's settings: put them back."""
    prefix, dont_write, source = sys.pycache_prefix, sys.dont_write_bytecode, bytecode._source
    yield
    sys.pycache_prefix, sys.dont_write_bytecode, bytecode._source = prefix, dont_write, source


def test_a_package_without_byte_code_is_compiled_every_time_only_where_python_may_not_write_it(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert bytecode.first_compiled_every_time(["slowpkg"]) == package
    assert bytecode.first_compiled_every_time(["no_such_package_anywhere"]) is None
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # Python writes it beside the source on first import
    assert bytecode.first_compiled_every_time(["slowpkg"]) is None
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    py_compile.compile(str(package))  # byte code beside the source, current
    assert bytecode.usable_pyc(package)
    assert bytecode.first_compiled_every_time(["slowpkg"]) is None


def test_stale_byte_code_is_not_usable(package: Path) -> None:
    py_compile.compile(str(package))
    stat = package.stat()
    os.utime(package, (stat.st_atime, stat.st_mtime + 10))  # the source changed after it was compiled
    assert not bytecode.usable_pyc(package)


@pytest.mark.usefixtures("restored")
def test_the_folder_is_used_only_when_asked_for_and_needed(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = str(tmp_path / "bytecode")
    sys.pycache_prefix = None
    sys.dont_write_bytecode = True
    assert bytecode.use_bytecode_folder({}, ["slowpkg"]) is None
    assert said().startswith("compiled at every start: none usable beside the sources (slowpkg)")
    assert bytecode.use_bytecode_folder({bytecode.BYTECODE_ENV: "off"}, ["slowpkg"]) is None
    assert said().endswith("TR118_PYTHON_BYTECODE is off")
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert bytecode.use_bytecode_folder({bytecode.BYTECODE_ENV: str(blocked / "sub")}, ["slowpkg"]) is None
    assert said().startswith("compiled at every start")
    assert "could not be made" in said()
    compiled = Path(py_compile.compile(str(package)))
    assert bytecode.use_bytecode_folder({bytecode.BYTECODE_ENV: folder}, ["slowpkg"]) is None  # usable beside it
    assert sys.pycache_prefix is None
    assert said() == "beside the sources"
    assert bytecode.bytecode_environment() == {"pythonBytecode": "beside the sources"}
    compiled.unlink()
    env = {bytecode.BYTECODE_ENV: folder, "PYTHONDONTWRITEBYTECODE": "1"}
    assert bytecode.use_bytecode_folder(env, ["slowpkg"]) == folder
    assert sys.pycache_prefix == folder
    assert said() == f"compiled into {folder} (none usable beside the sources (slowpkg) and Python may not write it)"
    # what this process starts (Inductor's compile workers) inherits it
    assert env == {bytecode.BYTECODE_ENV: folder, "PYTHONPYCACHEPREFIX": folder}
    assert not sys.dont_write_bytecode
    assert Path(folder).is_dir()


@pytest.mark.usefixtures("restored")
def test_a_prefix_the_user_set_is_kept(package: Path, tmp_path: Path) -> None:
    sys.pycache_prefix = str(tmp_path / "theirs")
    sys.dont_write_bytecode = True
    assert bytecode.use_bytecode_folder({bytecode.BYTECODE_ENV: str(tmp_path / "ours")}, ["slowpkg"]) is None
    assert sys.pycache_prefix == str(tmp_path / "theirs")
    assert said() == f"the PYTHONPYCACHEPREFIX folder {tmp_path / 'theirs'}"


CHILD = """
import os, sys
from tr118_native.worker import bytecode
used = bytecode.use_bytecode_folder(os.environ, ["slowpkg"])
import slowpkg
print(used, slowpkg.__cached__, slowpkg.VALUE, sep="\\n")
print(bytecode.bytecode_source())
"""


def test_a_process_compiles_into_the_folder_and_the_next_one_loads_it(package: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bytecode"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "native"), str(package.parent.parent)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        bytecode.BYTECODE_ENV: str(folder),
    }
    env.pop("PYTHONPYCACHEPREFIX", None)

    def child() -> list[str]:
        done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
        return done.stdout.splitlines()

    used, cached, value, source = child()
    assert used == str(folder)
    assert source.startswith(f"compiled into {folder} (")
    assert value == "118"
    assert Path(cached).is_file()
    assert Path(cached).is_relative_to(folder)
    assert not (package.parent / "__pycache__").exists()  # nothing written beside the source
    written = Path(cached).stat().st_mtime_ns
    used, cached_again, _, source = child()
    assert cached_again == cached
    assert source.startswith(f"loaded from {folder} (")  # what the worker's open reports (pythonBytecode)
    assert Path(cached).stat().st_mtime_ns == written  # loaded, not compiled and written again
