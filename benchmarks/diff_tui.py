#!/usr/bin/env python3
"""How fast ``jitprof diff --tui`` shows a large comparison (prints figures, asserts nothing).

    PYTHONPATH=. python3 benchmarks/diff_tui.py [--stacks 100000] [--frames 5000]
                                                [--method binomial|bootstrap]

Two synthetic profiles (``benchmarks/tui.py``'s generator, seeds 1 and 2: the same
function names, different call graphs, so ``--stacks`` distinct stacks per side and about
twice that in the union), then: the comparison (``diff_profiles``), the view models, and
the App headless (Textual's ``run_test``) the way the CLI runs it (the comparison made in
the loading worker): from the comparison being ready to the changes table painted, and the
whole path from the two profiles to the first paint; then the flame diff tab the first
time (paired stacks, both indexes, colour scale, layout), a shape switch, a zoom, ten
moves, and the Function tab of the first row (its callers/callees scan).
``--method bootstrap`` spreads each profile's stacks over 0.1 s time bins first.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jitprof.analysis.diff import diff_profiles  # noqa: E402
from jitprof.model import Profile  # noqa: E402
from jitprof.present.diffviews import DiffStacks, DiffViews  # noqa: E402


def _bench_tui() -> Any:
    """benchmarks/tui.py (its synthetic profile and timer), loaded by path."""
    spec = importlib.util.spec_from_file_location("bench_tui", Path(__file__).with_name(
        "tui.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_tui = _bench_tui()
synthetic, timed = _tui.synthetic, _tui.timed


def binned(p: Profile, bins: int = 30) -> Profile:
    """The profile with each stack's samples in one of ``bins`` 0.1 s time bins (round
    robin), so the block bootstrap has blocks to resample."""
    p.stack_bin = [i % bins for i in range(len(p.stacks))]
    p.bin_width = 0.1
    p.time_first, p.time_last = 0.0, bins * 0.1
    return p


async def app_figures(before: Profile, after: Profile, method: str,
                      size: tuple[int, int]) -> None:
    from textual.widgets import DataTable

    from jitprof.tui.diff import DiffApp
    from jitprof.tui.diffmessages import DiffLoaded
    from jitprof.tui.widgets import FlameGraph

    marks: dict[str, float] = {}

    class Timed(DiffApp):
        def on_diff_loaded(self, msg: DiffLoaded) -> None:
            marks["ready"] = time.perf_counter()
            super().on_diff_loaded(msg)

    def compare(progress: object) -> DiffViews:
        t = time.perf_counter()
        result = diff_profiles([before], [after], method=method)
        marks["compare"] = time.perf_counter() - t
        return DiffViews(result, [before], [after])

    t0 = time.perf_counter()
    app = Timed(loader=compare, inputs=["before", "after"])
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one("#dtable", DataTable).row_count > 0
        t1 = time.perf_counter()
        print(f"  {'comparison ready to changes table painted':<52} "
              f"{(t1 - marks['ready']) * 1000:9.1f} ms")
        print(f"  {'profiles to first paint (compare in the worker)':<52} "
              f"{(t1 - t0) * 1000:9.1f} ms")
        print(f"  {'  of which diff_profiles in the worker thread':<52} "
              f"{marks['compare'] * 1000:9.1f} ms")

        async def step(what: str, *keys: str) -> None:
            t = time.perf_counter()
            await pilot.press(*keys)
            await pilot.pause()
            print(f"  {what:<52} {(time.perf_counter() - t) * 1000:9.1f} ms")

        await step("sort by delta (s)", "s")
        await step("kind filter (k)", "k")
        await step("flame diff tab, first time (3)", "3")
        fg = app.screen.query_one("#dflamegraph", FlameGraph)
        assert fg.flame is not None
        await step("flame: 10 moves down", *["down"] * 10)
        await step("flame: zoom (enter)", "enter")
        await step("flame: before shape, first time (b)", "b")
        await step("flame: after shape again (b)", "b")
        await step("flame: zoom out (escape)", "escape")
        await step("back to the table, Function tab of row 1 (1, enter)", "1", "enter")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stacks", type=int, default=100_000)
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--method", choices=("binomial", "bootstrap"), default="binomial")
    ap.add_argument("--width", type=int, default=160)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} CPUs")
    before = timed(f"build the before profile ({args.stacks:,} stacks)",
                   lambda: synthetic(args.stacks, args.frames, 1))
    after = timed(f"build the after profile ({args.stacks:,} stacks)",
                  lambda: synthetic(args.stacks, args.frames, 2))
    if args.method == "bootstrap":
        before, after = binned(before), binned(after)
    print(f"pure ({args.method}):")
    result = timed("diff_profiles", lambda: diff_profiles([before], [after],
                                                           method=args.method))
    print(f"  ({len(result.functions):,} functions)")
    views = DiffViews(result, [before], [after])
    timed("DiffTable.view, first 300 rows", lambda: views.table.view(limit=300))
    stacks = timed("DiffStacks (pair both sides' stacks)", lambda: DiffStacks([before],
                                                                               [after]))
    print(f"  ({len(stacks.keys):,} distinct paired stacks)")
    timed("DiffFlameTree after (2 indexes + colour scale)", lambda: views.flame("after"))
    timed("DiffFlameTree before (same scale)", lambda: views.flame("before"))
    print(f"App headless ({args.width}x40):")
    asyncio.run(app_figures(before, after, args.method, (args.width, 40)))


if __name__ == "__main__":
    main()
