"""The diff view's first screen on the demo's slow vs fast recordings, as an SVG snapshot
(pytest-textual-snapshot): the seed story must read in one 80x24 screen, no key pressed.

Deterministic: committed samples, a seeded bootstrap, no clock, no cursor blink. The SVG
depends on the exact textual and plugin versions (pinned in pyproject.toml); after
changing either, rerun with --snapshot-update and review the picture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jitprof.analysis.diff import DEFAULT_BLOCK, diff_profiles
from jitprof.present.diffviews import DiffViews
from jitprof.resolve import load_profile
from jitprof.tui.diff import DiffApp

DEMO = Path(__file__).resolve().parent.parent / "samples" / "hhvm-demo"


def test_seed_story_first_screen(snap_compare: Any) -> None:
    pb, pa = (load_profile([str(DEMO / w / "perf.script.gz")], search_tmp=False,
                           bin_width=DEFAULT_BLOCK) for w in ("slow", "fast"))
    views = DiffViews(diff_profiles([pb], [pa]), [pb], [pa])
    assert snap_compare(DiffApp(views), terminal_size=(80, 24))
