"""Shared fixtures: the perf/compiler gate and loaders for the sample recorders."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def skip_or_fail(msg: str) -> None:
    """The one gate: a missing or unusable perf/compiler skips the test locally, and fails
    it where JITPROF_REQUIRE_PERF is set (CI), so CI never passes by skipping."""
    if os.environ.get("JITPROF_REQUIRE_PERF"):
        pytest.fail(msg + " (JITPROF_REQUIRE_PERF is set)")
    pytest.skip(msg + " (set JITPROF_REQUIRE_PERF=1 to make this a failure)")


def require_tools(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        skip_or_fail("missing " + ", ".join(missing))


def tool_failed(what: str, err: BaseException) -> None:
    """perf present but not usable (permissions...)."""
    skip_or_fail(f"{what}: {err}")


def perf_record(argv: list[str], data: Path, cwd: Path | None = None) -> None:
    """``perf record -F 999 -g -e cpu-clock -o DATA -- ARGV`` (a failure goes to the gate)."""
    r = subprocess.run(["perf", "record", "-F", "999", "-g", "-e", "cpu-clock", "-o", str(data),
                        "--", *argv], capture_output=True, text=True, timeout=180, cwd=cwd)
    if r.returncode != 0:
        tool_failed("perf record " + " ".join(argv), RuntimeError(r.stderr[-500:]))


def perf_script(data: Path, out: Path, *args: str) -> Path:
    """Write ``perf script -i DATA ARGS`` (default: ``--show-mmap-events``) to ``out``."""
    with open(out, "w") as f:
        subprocess.run(["perf", "script", "-i", str(data), *(args or ("--show-mmap-events",))],
                       stdout=f, stderr=subprocess.DEVNULL, check=True, timeout=300)
    return out


def load_module(path: Path, name: str) -> ModuleType:
    mod = sys.modules.get(name)
    if mod is not None:
        return mod
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def demo_recorder() -> ModuleType:
    return load_module(SAMPLES / "hhvm-demo" / "record.py", "_jitprof_demo_record")


# -- ELF symbol cache (issue 3): never the user's ~/.cache in tests ------------------------
@pytest.fixture(scope="session", autouse=True)
def _elf_symbol_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test (and every jitprof subprocess a test starts) caches ELF symbols in a
    temporary directory of this run."""
    os.environ["JITPROF_CACHE_DIR"] = str(tmp_path_factory.mktemp("jitprof-cache"))
