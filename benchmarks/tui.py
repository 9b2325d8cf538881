#!/usr/bin/env python3
"""How responsive the TUI's views are on a large synthetic profile (prints figures, asserts
nothing).

    PYTHONPATH=. python3 benchmarks/tui.py [--stacks 100000] [--frames 5000] [--seed 1]
                                           [--input perf.script [--repeat 2]]

Builds a Profile with ``ProfileBuilder`` (``--stacks`` distinct stacks, 8-40 frames deep,
drawn from ``--frames`` functions of every kind, Zipf-like so a few are hot), then times:
the pure view models (jitprof/present/views.py) one by one, and the App headless (Textual's
``run_test``): first paint of the hot-function table, opening the call tree and the flame
graph, a flame zoom and ten moves, and swapping in a new profile (``set_profile``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Callable
from typing import TypeVar

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from jitprof.model import Kind, Profile, ProfileBuilder  # noqa: E402
from jitprof.present.views import (  # noqa: E402
    CallTree,
    FlameTree,
    HotTable,
    flame_layout,
    sandwich,
)

T = TypeVar("T")


def synthetic(stacks: int, frames: int, seed: int) -> Profile:
    """Call paths that share prefixes (as real ones do): each stack walks down a fixed
    random call graph from one of a few roots, so the flame tree has realistic fan-out."""
    rnd = random.Random(seed)
    b = ProfileBuilder("cpu-clock")
    kinds = list(Kind)
    ids = [b.frame(f"{k.value}::mod{i % 97}::fn{i}", k, "[JIT]" if k in (Kind.PHP, Kind.JIT)
                   else f"/usr/lib/lib{i % 13}.so", "")
           for i, k in ((i, kinds[i % len(kinds)]) for i in range(frames))]
    callees = [[rnd.randrange(frames) for _ in range(rnd.randint(2, 8))] for _ in range(frames)]
    threads = [b.thread(4242, "hhvm"), b.thread(4243, "hhvm")]
    seen: set[tuple[int, ...]] = set()
    while len(seen) < stacks:
        depth = rnd.randint(8, 40)
        cur = rnd.randrange(4)
        path = [cur]
        for _ in range(depth - 1):
            nxt = callees[cur]
            cur = nxt[min(int(rnd.paretovariate(1.2)) - 1, len(nxt) - 1)]
            path.append(cur)
        st = tuple(ids[f] for f in reversed(path))  # leaf first
        if st in seen:
            continue
        seen.add(st)
        n = int(rnd.paretovariate(1.5))
        b.add(st, threads[len(seen) % 2], n * 1_000_000, n)
    return b.finish()


def timed(what: str, fn: Callable[[], T], repeat: int = 1) -> T:
    best = float("inf")
    out: T
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    print(f"  {what:<52} {best * 1000:9.1f} ms")
    return out


async def first_screen(profile: Profile, size: tuple[int, int]) -> None:
    """The CLI's path: a loader in the worker (here it returns the profile at once), the
    per-function sums in the worker, then the first screen: from the profile being ready
    (ProfileLoaded handled) to the hot table painted."""
    from textual.widgets import DataTable

    from jitprof.tui.app import JitprofApp
    from jitprof.tui.messages import ProfileLoaded

    class Timed(JitprofApp):
        ready = 0.0

        def on_profile_loaded(self, msg: ProfileLoaded) -> None:
            Timed.ready = time.perf_counter()
            super().on_profile_loaded(msg)

    app = Timed(loader=lambda progress: profile, inputs=["synthetic"])
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one("#hot-table", DataTable).row_count > 0
        print(f"  {'profile ready to hot table painted (loader path)':<52} "
              f"{(time.perf_counter() - Timed.ready) * 1000:9.1f} ms")


async def app_figures(profile: Profile, size: tuple[int, int]) -> None:
    from textual.widgets import DataTable

    from jitprof.tui.app import JitprofApp
    from jitprof.tui.widgets import FlameGraph

    t0 = time.perf_counter()
    app = JitprofApp(profile=profile)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#hot-table", DataTable)
        assert table.row_count > 0
        print(f"  {'App start to hot table painted (run_test)':<52} "
              f"{(time.perf_counter() - t0) * 1000:9.1f} ms")

        async def step(what: str, *keys: str) -> None:
            t = time.perf_counter()
            await pilot.press(*keys)
            await pilot.pause()
            print(f"  {what:<52} {(time.perf_counter() - t) * 1000:9.1f} ms")

        await step("sort by total (s)", "s")
        await step("kind filter (k)", "k")
        await step("call tree tab, first time (3)", "3")
        await step("expand hottest path (h)", "h")
        await step("flame graph tab, first time (4: merge + layout)", "4")
        await step("flame: 10 moves down", *["down"] * 10)
        await step("flame: zoom (enter)", "enter")
        await step("flame: zoom out (escape)", "escape")
        await step("callers/callees of the selection (c)", "c")
        fg = app.screen.query_one(FlameGraph)
        assert fg.flame is not None
        from jitprof.present.views import ProfileViews

        views = ProfileViews(profile)
        views.hot  # noqa: B018 - off the UI thread, as the loading worker does
        t = time.perf_counter()
        app.set_profile(profile, views)
        await pilot.pause()
        print(f"  {'set_profile, sums made off the UI thread (top)':<52} "
              f"{(time.perf_counter() - t) * 1000:9.1f} ms")
        t = time.perf_counter()
        app.set_profile(profile)
        await pilot.pause()
        print(f"  {'set_profile, sums made in the UI thread':<52} "
              f"{(time.perf_counter() - t) * 1000:9.1f} ms")


def binned(profile: Profile, bins: int, seed: int) -> Profile:
    """The synthetic profile spread over ``bins`` time bins of 0.05 s (each stack's
    samples in 1-3 bins): what the TUI reads with its timeline."""
    rnd = random.Random(seed)
    b = ProfileBuilder(profile.event)
    for f in profile.frames:
        b.frame(f.name, f.kind, f.dso, f.dso + f.name)
    threads = [b.thread(pid, comm) for pid, comm in profile.threads]
    for stack, w, n, t in profile.iter_stacks():
        parts = rnd.randint(1, min(3, n))
        for k in range(parts):
            share = n // parts + (1 if k < n % parts else 0)
            if share:
                b.add(stack, threads[t], w // n * share, share, bin=rnd.randrange(bins))
    p = b.finish()
    p.bin_width = 0.05
    p.time_first, p.time_last = 0.0, bins * 0.05
    return p


async def timeline_app(profile: Profile, size: tuple[int, int]) -> None:
    """The App on a binned profile: the loader path (the views' merge in the worker),
    the function strip following the cursor, a range chosen, the range cleared."""
    from jitprof.present.timeline import restrict_bins
    from jitprof.tui.app import JitprofApp
    from jitprof.tui.messages import ProfileLoaded
    from jitprof.tui.widgets import TimelineStrip

    class Timed(JitprofApp):
        ready = 0.0

        def on_profile_loaded(self, msg: ProfileLoaded) -> None:
            Timed.ready = time.perf_counter()
            super().on_profile_loaded(msg)

    timed("restrict_bins(all, keep_bins=False) (in the loading worker)",
          lambda: restrict_bins(profile, None, None, keep_bins=False))
    app = Timed(loader=lambda progress: profile, inputs=["synthetic"])
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        print(f"  {'profile ready to hot table and timeline painted':<52} "
              f"{(time.perf_counter() - Timed.ready) * 1000:9.1f} ms")
        strip = app.screen.query_one(TimelineStrip)
        await app.workers.wait_for_complete()  # the index of bins, built in a worker

        async def step(what: str, *keys: str) -> None:
            t = time.perf_counter()
            await pilot.press(*keys)
            await app.workers.wait_for_complete()
            await pilot.pause()
            print(f"  {what:<52} {(time.perf_counter() - t) * 1000:9.1f} ms")

        await step("hot table: 10 moves down (the strip follows each)", *["down"] * 10)
        await step("timeline: choose a range (t, home, enter, 40 x right, enter)",
                   "t", "home", "enter", *["right"] * 40, "enter")
        assert strip.chosen is not None
        await step("call tree tab of the range (3)", "3")
        await step("flame graph tab of the range (4)", "4")
        await step("x: back to the whole profile", "1", "x")


def loading(path: str, repeat: int) -> None:
    """load_profile as the TUI calls it (one process, in a thread), with and without the
    progress hook: the hook is called once per 4 MiB, so it should cost nothing visible."""
    import threading

    from jitprof.resolve import load_profile

    calls = [0]

    def hook(done: int, total: int) -> None:
        calls[0] += 1

    def in_thread(progress: Callable[[int, int], None] | None) -> None:
        t = threading.Thread(target=load_profile, args=([path],),
                             kwargs={"search_tmp": False, "jobs": 1, "progress": progress})
        t.start()
        t.join()

    print(f"loading {path} ({os.path.getsize(path) / (1 << 20):,.1f} MiB) in a thread:")
    for _ in range(repeat):  # alternate, so load changes hit both alike
        timed("load_profile, no progress hook", lambda: in_thread(None))
        timed("load_profile, progress hook", lambda: in_thread(hook))
    print(f"  ({calls[0] // repeat} hook calls per load)")
    timeline_figures(path, repeat)


def timeline_figures(path: str, repeat: int) -> None:
    """What the timeline costs: loading with time bins (the TUI's way) against without,
    then the steps the TUI adds: the views' profile without the time axis, the strip, the
    index of bins, one function's strip, a range restricted."""
    from jitprof.model import TIMELINE_BIN
    from jitprof.present.timeline import BinIndex, restrict_bins, timeline
    from jitprof.resolve import load_profile

    print(f"the timeline ({TIMELINE_BIN} s bins, at most 256):")
    plain = binned = None
    for _ in range(repeat):
        plain = timed("load_profile without bins (report's way)",
                      lambda: load_profile([path], search_tmp=False))
        binned = timed(f"load_profile with bin_width={TIMELINE_BIN} (the TUI's way)",
                       lambda: load_profile([path], search_tmp=False,
                                            bin_width=TIMELINE_BIN))
    assert plain is not None and binned is not None
    print(f"  ({len(plain.stacks):,} stacks without bins, {len(binned.stacks):,} (stack, bin)"
          f" with {len(set(binned.stack_bin))} bins of {binned.bin_width} s)")
    merged = timed("restrict_bins(all, keep_bins=False): the views' profile",
                   lambda: restrict_bins(binned, None, None, keep_bins=False))
    assert merged.weight == plain.weight
    tl = timed("timeline(): weight per bin", lambda: timeline(binned))
    assert tl is not None
    index = timed("BinIndex (flatten the stacks once, worker)", lambda: BinIndex(binned, tl))
    hot = max(plain.function_stats(), key=lambda st: st.self_weight)
    timed("BinIndex.weights_of(the hottest function)", lambda: index.weights_of(
        [hot.frame_id]), repeat=3)
    n = len(tl.weights)
    timed("restrict_bins(middle half): a range chosen",
          lambda: restrict_bins(binned, tl.first + n // 4, tl.first + 3 * n // 4,
                                keep_bins=False), repeat=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stacks", type=int, default=100_000)
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--width", type=int, default=200)
    ap.add_argument("--input", help="also time loading this perf script text (e.g. what "
                    "gen_synthetic.py wrote) with and without the progress hook")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} CPUs")
    if args.input:
        loading(args.input, args.repeat)
    p = timed(f"build the profile ({args.stacks:,} stacks, {args.frames:,} functions)",
              lambda: synthetic(args.stacks, args.frames, args.seed))
    nframes = sum(len(s) for s in p.stacks)
    print(f"  ({len(p.stacks):,} distinct stacks, {nframes:,} frames on them, "
          f"{p.samples:,} samples)")
    print("view models (jitprof/present/views.py):")
    hot = timed("HotTable (function_stats once)", lambda: HotTable(p))
    timed("HotTable.view sort=self, all rows", lambda: hot.view(), repeat=3)
    timed("HotTable.view regex search", lambda: hot.view(search="fn1[0-9]$", regex=True),
          repeat=3)
    ft = timed("FlameTree (sort the stacks: StackIndex)", lambda: FlameTree(p))
    for w in (80, args.width, 1000):
        lay = timed(f"flame_layout root, width {w}", lambda w=w: flame_layout(ft, 0, w),
                    repeat=3)
        print(f"  ({len(lay.boxes):,} boxes drawn, {len(lay.rows)} rows; "
              f"{len(ft):,} flame nodes made so far)")
    deep = ft.children(ft.children(0)[0])[0]
    timed(f"flame_layout zoomed (a child of a root), width {args.width}",
          lambda: flame_layout(ft, deep, args.width), repeat=3)
    tree = timed("CallTree top-down (its own StackIndex)", lambda: CallTree(p))
    timed("CallTree top-down: root children", lambda: tree.children(tree.root))
    timed("CallTree top-down: hottest path", lambda: tree.hottest_path())
    inv = timed("CallTree bottom-up (StackIndex of leaf-first paths)",
                lambda: CallTree(p, inverted=True))
    timed("CallTree bottom-up: root children", lambda: inv.children(inv.root))
    top = hot.view().rows[0].frame
    timed(f"sandwich of the hottest function ({top.name})", lambda: sandwich(p, top))
    print("the App, headless (textual run_test, 120x40):")
    asyncio.run(first_screen(p, (120, 40)))
    asyncio.run(app_figures(p, (120, 40)))
    bp = timed("the same stacks spread over 200 time bins", lambda: binned(p, 200, args.seed))
    print(f"  ({len(bp.stacks):,} (stack, bin) groups)")
    print("the App with the timeline (120x40):")
    asyncio.run(timeline_app(bp, (120, 40)))


if __name__ == "__main__":
    main()
