"""Shared fixtures: the perf/compiler gate and loaders for the sample recorders."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def require_tools(*programs: str) -> None:
    """Skip when a program is missing, unless JITPROF_REQUIRE_PERF is set (CI): then fail."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        msg = "missing " + ", ".join(missing)
        if os.environ.get("JITPROF_REQUIRE_PERF"):
            pytest.fail(msg + " (JITPROF_REQUIRE_PERF is set)")
        pytest.skip(msg + " (set JITPROF_REQUIRE_PERF=1 to make this a failure)")


def tool_failed(what: str, err: BaseException) -> None:
    """perf present but not usable (permissions...): skip locally, fail under CI."""
    msg = f"{what}: {err}"
    if os.environ.get("JITPROF_REQUIRE_PERF"):
        pytest.fail(msg)
    pytest.skip(msg)


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
