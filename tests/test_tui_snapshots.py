"""A few SVG snapshots of the TUI on the slow demo recording (pytest-textual-snapshot).

Deterministic: the profile is read from the committed sample, nothing shows a clock, no
cursor blinks. The SVGs depend on the exact textual and plugin versions (pinned in
pyproject.toml); after changing either, rerun with --snapshot-update and review the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jitprof.model import Profile
from jitprof.resolve import load_profile
from jitprof.tui.app import JitprofApp

SLOW = Path(__file__).resolve().parent.parent / "samples" / "hhvm-demo" / "slow"


@pytest.fixture(scope="module")
def slow() -> Profile:
    p = load_profile([str(SLOW / "perf.script.gz")], search_tmp=False)
    # a live process that took pid 14089 on this machine would add a "stale map" warning;
    # the warning bar has its own pilot test
    p.diagnostics.warnings = []
    return p


def test_hot_functions(snap_compare: Any, slow: Profile) -> None:
    assert snap_compare(JitprofApp(profile=slow), terminal_size=(80, 24))


def test_callers_callees_of_respond(snap_compare: Any, slow: Profile) -> None:
    # the 4th row is PHP::Api_Handler::respond
    assert snap_compare(JitprofApp(profile=slow), terminal_size=(80, 24),
                        press=["down", "down", "down", "enter"])


def test_call_tree_hottest_path(snap_compare: Any, slow: Profile) -> None:
    assert snap_compare(JitprofApp(profile=slow), terminal_size=(100, 30), press=["3", "h"])


def test_flame_graph_zoomed(snap_compare: Any, slow: Profile) -> None:
    # 8 x down (heaviest callee each time): ... > PHP::Api_Handler::respond > HPHP::f_sort;
    # zoom there: the breadcrumb keeps its end
    assert snap_compare(JitprofApp(profile=slow), terminal_size=(120, 30),
                        press=["4", *["down"] * 8, "enter"])


def test_help(snap_compare: Any, slow: Profile) -> None:
    assert snap_compare(JitprofApp(profile=slow), terminal_size=(80, 40), press=["question_mark"])
