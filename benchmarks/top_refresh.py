#!/usr/bin/env python3
"""What one refresh of `jitprof top`'s live TUI costs (jitprof/present/liveview.py, tui/live.py).

A refresh is ``LiveView.compute`` in a worker thread (the snapshot: merging the one-second
buckets of the window, re-reading the maps, naming and aggregating; then the hot table's
per-function sums, and the call tree or flame graph when that view is open), then
``set_profile`` on the UI thread (the hot table's rows, the status bar). Two inputs, 60 s
of samples at 999 Hz each, fed to a ``LiveProfiler`` as perf script text:

- demo: the stacks of the committed hhvm-demo slow recording, in turn (a few hundred
  distinct stacks; JIT frames named from its perf map);
- many: random stacks 8 to 40 deep over 5,000 native functions and 2,000 JIT functions
  of a perf map (nearly every sample a new stack).

For each: the whole run (60 s) and the last 10 s. Prints figures; asserts nothing. Data
lives in memory and a temporary directory.

    python3 benchmarks/top_refresh.py [--seconds 60] [--freq 999] [--repeat 3] [--no-ui]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jitprof.acquire.live import LiveProfiler  # noqa: E402
from jitprof.present.liveview import LiveView, Refresh  # noqa: E402

SLOW = ROOT / "samples" / "hhvm-demo" / "slow"
DEMO_PID = 14089
MANY_PID = 4242
HEAD_RX = re.compile(r"^(\S+\s+\d+\s+)\d+\.\d+:", re.MULTILINE)


def demo_blocks() -> list[str]:
    """The sample blocks of the slow recording, each with a ``{t}`` for its time."""
    text = gzip.decompress((SLOW / "perf.script.gz").read_bytes()).decode()
    out = []
    for block in text.split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln and "PERF_RECORD_" not in ln]
        if len(lines) >= 2 and "cpu-clock" in lines[0]:
            head = HEAD_RX.sub(lambda m: m.group(1) + "{t}:", lines[0], count=1)
            out.append("\n".join([head, *lines[1:]]) + "\n\n")
    return out


def side_band() -> str:
    text = gzip.decompress((SLOW / "perf.script.gz").read_bytes()).decode()
    return "".join(ln + "\n" for ln in text.splitlines() if "PERF_RECORD_" in ln) + "\n"


def many_map(n: int) -> str:
    return "".join(f"{0x7F0000000000 + 0x100 * i:x} c0 PHP::App{i % 97}::fn{i}\n"
                   for i in range(n))


def many_blocks(n_native: int, n_jit: int, seed: int) -> Iterator[str]:
    rnd = random.Random(seed)
    natives = [f"\t{0x400000 + 0x40 * i:x} app::native_{i}+0x10 (/opt/app/bin)\n"
               for i in range(n_native)]
    jits = [f"\t{0x7F0000000000 + 0x100 * i + 8:x} [unknown] (/tmp/perf-{MANY_PID}.map)\n"
            for i in range(n_jit)]
    root = "\t401000 main+0x0 (/opt/app/bin)\n"
    while True:
        depth = rnd.randint(8, 40)
        frames = [rnd.choice(jits) if rnd.random() < 0.4 else rnd.choice(natives)
                  for _ in range(depth)]
        yield f"app {MANY_PID} {{t}}: 1001001 cpu-clock: \n" + "".join(frames) + root + "\n"


def feed(live: LiveProfiler, blocks: Iterator[str], seconds: int, freq: int) -> float:
    """``seconds`` of samples at ``freq`` Hz, fed a second at a time; returns feed time."""
    spent = 0.0
    for s in range(seconds):
        chunk = "".join(next(blocks).replace("{t}", f"{1000 + s + k / freq:.6f}")
                        for k in range(freq))
        t = time.perf_counter()
        live.feed(chunk)
        spent += time.perf_counter() - t
    return spent


def cycle(blocks: list[str]) -> Iterator[str]:
    while True:
        yield from blocks


def best(view: LiveView, window: int | None, prepare: str, repeat: int) -> Refresh:
    def prep(v: object) -> None:
        if prepare == "tree":
            v.tree(False)  # type: ignore[attr-defined]
        elif prepare == "flame":
            v.flame  # type: ignore[attr-defined]  # noqa: B018

    out: Refresh | None = None
    for _ in range(repeat):
        r = view.compute(view.generation, window, prep if prepare != "hot" else None)
        if out is None or r.cost < out.cost:
            out = r
    assert out is not None
    return out


async def ui_cost(r: Refresh, repeat: int) -> float:
    """Seconds ``set_profile`` takes on the UI thread (headless App, 120x40)."""
    from jitprof.tui.live import LiveApp

    assert r.profile is not None and r.views is not None
    live = LiveProfiler([], keep=10)
    view = LiveView(live)
    view.paused = True  # the App's own timer shows nothing meanwhile
    app = LiveApp(view)
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        app._show_waiting(False)
        for _ in range(repeat):
            t = time.perf_counter()
            app.set_profile(r.profile, r.views)
            times.append(time.perf_counter() - t)
            await pilot.pause(0.05)
    return min(times)


async def key_latency(live: LiveProfiler, presses: int) -> tuple[float, float, int]:
    """Median seconds a key (s: re-sort the hot table) takes to act in a LiveApp, while paused
    (no refresh computing) and while live with refreshes back to back in the worker
    thread (interval 0.5 s, shorter than one refresh here); and the refreshes meanwhile."""
    from jitprof.tui.live import LiveApp

    view = LiveView(live, interval=0.5)
    app = LiveApp(view)
    out = []
    async with app.run_test(size=(120, 40)) as pilot:
        while app.refreshes < 1:
            await pilot.pause(0.05)
        for paused in (True, False):
            if view.paused != paused:
                await pilot.press("p")
            await pilot.pause(0.3)
            n = app.refreshes
            times = []
            for _ in range(presses):
                # from the key's arrival to the end of its action (the hot table re-sorted
                # and refilled: this loop runs on the App's event loop, between handlers)
                before = app.state.sort
                t = time.perf_counter()
                app.simulate_key("s")
                while app.state.sort == before:
                    await asyncio.sleep(0.001)
                times.append(time.perf_counter() - t)
                await pilot.pause(0.1)
            times.sort()
            out.append(times[len(times) // 2])
        refreshes = app.refreshes - n
        while view.busy:
            await pilot.pause(0.05)
    return out[0], out[1], refreshes


def run(name: str, live: LiveProfiler, blocks: Iterator[str], seconds: int, freq: int,
        repeat: int, ui: bool) -> None:
    fed = feed(live, blocks, seconds, freq)
    n = live.stats.samples
    view = LiveView(live)
    print(f"{name}: {n:,} samples over {seconds} s at {freq} Hz (fed in {fed:.2f} s, "
          f"{n / fed:,.0f} samples/s)")
    print(f"  {'window':<10} {'view':<6} {'samples':>8} {'stacks':>8} {'frames':>7} "
          f"{'compute ms':>11}" + (f" {'UI ms':>7}" if ui else ""))
    for window in (None, 10):
        for prepare in ("hot", "tree", "flame"):
            r = best(view, window, prepare, repeat)
            assert r.profile is not None
            ui_ms = ""
            if ui and prepare == "hot":
                ui_ms = f" {asyncio.run(ui_cost(r, repeat)) * 1000:7.1f}"
            label = "whole run" if window is None else f"last {window} s"
            print(f"  {label:<10} {prepare:<6} {r.profile.samples:>8,} "
                  f"{len(r.profile.stacks):>8,} {len(r.profile.frames):>7,} "
                  f"{r.cost * 1000:>11.1f}{ui_ms}")
    if ui:
        idle, busy, refreshes = asyncio.run(key_latency(live, 9))
        print(f"  a key (s: sort) in the live view, median of 9: {idle * 1000:.0f} ms with "
              f"no refresh computing, {busy * 1000:.0f} ms while refreshes of the whole run "
              f"compute back to back ({refreshes} meanwhile)")
    live.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--freq", type=int, default=999)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-ui", action="store_true", help="skip the UI-thread figures")
    a = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} (2 CPUs shared; figures are noisy); "
          f"best of {a.repeat}; compute = LiveView.compute (worker thread), UI = set_profile "
          "(UI thread)")
    with tempfile.TemporaryDirectory() as d:
        Path(d, f"perf-{DEMO_PID}.map").write_bytes((SLOW / f"perf-{DEMO_PID}.map").read_bytes())
        live = LiveProfiler([], keep=a.seconds)
        live.add_map(DEMO_PID, d, f"perf-{DEMO_PID}.map")
        live.feed(side_band())
        run("demo", live, cycle(demo_blocks()), a.seconds, a.freq, a.repeat, not a.no_ui)
        Path(d, f"perf-{MANY_PID}.map").write_text(many_map(2000))
        live = LiveProfiler([], keep=a.seconds)
        live.add_map(MANY_PID, d, f"perf-{MANY_PID}.map")
        run("many", live, many_blocks(5000, 2000, seed=1), a.seconds, a.freq, a.repeat,
            not a.no_ui)
    return 0


if __name__ == "__main__":
    sys.exit(main())
