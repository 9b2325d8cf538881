"""SVG snapshots of each view of the TUI at 80x24 and 200x50, on the slow demo recording
read as the TUI reads it (with time bins: the timeline shows) (pytest-textual-snapshot).

Deterministic: the profile is read from the committed sample, nothing shows a clock, no
cursor blinks. The SVGs depend on the exact textual and plugin versions (pinned in
pyproject.toml); after changing either, rerun with --snapshot-update and review the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jitprof.model import TIMELINE_BIN, Profile
from jitprof.resolve import load_profile
from jitprof.tui.app import JitprofApp

SLOW = Path(__file__).resolve().parent.parent / "samples" / "hhvm-demo" / "slow"
NODE = Path(__file__).resolve().parent.parent / "samples" / "node-demo"
SIZES = [(80, 24), (200, 50)]


@pytest.fixture(scope="module")
def slow() -> Profile:
    p = load_profile([str(SLOW / "perf.script.gz")], search_tmp=False,
                     bin_width=TIMELINE_BIN)
    # a live process that took pid 14089 on this machine would add a "stale map" warning;
    # the warning bar has its own pilot test
    p.diagnostics.warnings = []
    return p


@pytest.fixture(scope="module")
def node() -> Profile:
    """Node's deep stacks (30+ frames): the call tree keeps its columns."""
    p = load_profile([str(NODE / "perf.script.gz")], maps=[str(NODE / "perf-12799.map")],
                     search_tmp=False, bin_width=TIMELINE_BIN)
    p.diagnostics.warnings = []
    return p


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_hot_functions(snap_compare: Any, slow: Profile, size: tuple[int, int]) -> None:
    assert snap_compare(JitprofApp(profile=slow), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_callers_callees_of_respond(snap_compare: Any, slow: Profile,
                                    size: tuple[int, int]) -> None:
    # the 4th row is PHP::Api_Handler::respond
    assert snap_compare(JitprofApp(profile=slow), terminal_size=size,
                        press=["down", "down", "down", "enter"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_call_tree_hottest_path(snap_compare: Any, slow: Profile,
                                size: tuple[int, int]) -> None:
    assert snap_compare(JitprofApp(profile=slow), terminal_size=size, press=["3", "h"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_deep_node_call_tree(snap_compare: Any, node: Profile, size: tuple[int, int]) -> None:
    assert snap_compare(JitprofApp(profile=node), terminal_size=size, press=["3", "h"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_flame_graph_zoomed(snap_compare: Any, slow: Profile, size: tuple[int, int]) -> None:
    # 8 x down (heaviest callee each time): ... > PHP::Api_Handler::respond > HPHP::f_sort;
    # zoom there: the breadcrumb keeps its end
    assert snap_compare(JitprofApp(profile=slow), terminal_size=size,
                        press=["4", *["down"] * 8, "enter"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_flame_graph_search(snap_compare: Any, slow: Profile, size: tuple[int, int]) -> None:
    assert snap_compare(JitprofApp(profile=slow), terminal_size=size,
                        press=["4", "slash", *"Api", "enter", "down"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_timeline_range_relative_kind(snap_compare: Any, slow: Profile,
                                      size: tuple[int, int]) -> None:
    # a range of the first third, the PHP kind, relative percentages
    third = size[0] // 3
    assert snap_compare(JitprofApp(profile=slow), terminal_size=size,
                        press=["t", "home", "enter", *["right"] * third, "enter", "t", "k",
                               "percent_sign"])


def test_help(snap_compare: Any, slow: Profile) -> None:
    assert snap_compare(JitprofApp(profile=slow), terminal_size=(80, 40), press=["question_mark"])
