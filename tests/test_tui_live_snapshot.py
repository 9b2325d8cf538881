"""The live view's first screen as an SVG snapshot (pytest-textual-snapshot), at 80x24.

Deterministic: the committed slow demo recording is fed to the engine (no perf), with a
clock that stands still and a fixed answer to "is the process alive"; the first refresh
is awaited before the picture. The SVG depends on the exact textual and plugin versions
(pinned in pyproject.toml); after changing either, rerun with --snapshot-update and review.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from jitprof.acquire.live import LiveProfiler
from jitprof.present.liveview import LiveView
from jitprof.tui.live import LiveApp

SLOW = Path(__file__).resolve().parent.parent / "samples" / "hhvm-demo" / "slow"
PID = 14089


def test_live_first_screen(snap_compare: Any, tmp_path: Path) -> None:
    shutil.copy(SLOW / f"perf-{PID}.map", tmp_path / f"perf-{PID}.map")
    live = LiveProfiler([], keep=60)
    live.pids = [PID]
    live.add_map(PID, str(tmp_path), f"perf-{PID}.map")
    live.feed(gzip.decompress((SLOW / "perf.script.gz").read_bytes()).decode() + "\n")
    view = LiveView(live, interval=2.0, clock=lambda: 1000.0, alive=lambda pid: True)
    app = LiveApp(view)

    async def first_refresh(pilot: Pilot[Any]) -> None:
        while app.refreshes < 1:
            await pilot.pause(0.05)

    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=first_refresh)
    finally:
        live.close()
