#!/usr/bin/env python3
"""What following a live process costs (jitprof/acquire/live.py, jitprof/acquire/mapwatch.py).

1. A perf map that grows while it is followed: ``LiveMap.refresh()`` (reads and parses
   only the appended lines, segments merged LSM-style) against ``load_perf_map`` of the
   whole file at every refresh (what a reader without incremental reading does), and the
   lookup of hit addresses through the segments against one parsed map.
2. Snapshots of a live profile: the committed demo recording fed again and again with
   shifted sample times (60 s of samples at ~800/s), then ``snapshot()`` of the whole run
   and of the last 10 s.

Prints figures; asserts nothing. Stdlib and jitprof only; data in a temporary directory.

    python3 benchmarks/live.py [--lines 200000] [--grow 1000] [--refreshes 50]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jitprof.acquire.live import LiveProfiler  # noqa: E402
from jitprof.acquire.mapwatch import LiveMap  # noqa: E402
from jitprof.symbols.perfmap import load_perf_map  # noqa: E402


def map_lines(first: int, n: int) -> bytes:
    return "".join(f"{0x7F0000000000 + 0x100 * i:x} c0 PHP::/srv/app/f{i}.php::C{i}::run\n"
                   for i in range(first, first + n)).encode()


def bench_map(lines: int, grow: int, refreshes: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d, "perf-1.map")
        path.write_bytes(map_lines(0, lines))
        lm = LiveMap(d, "perf-1.map")
        t = time.perf_counter()
        lm.refresh()
        first = time.perf_counter() - t
        inc = full = 0.0
        for k in range(refreshes):
            with open(path, "ab") as f:
                f.write(map_lines(lines + k * grow, grow))
            t = time.perf_counter()
            lm.refresh()
            inc += time.perf_counter() - t
            t = time.perf_counter()
            whole = load_perf_map(str(path))
            full += time.perf_counter() - t
        total = lines + refreshes * grow
        addrs = [0x7F0000000000 + 0x100 * i + 8 for i in range(0, total, max(total // 5000, 1))]
        t = time.perf_counter()
        got: dict[int, str] = {}
        for pm in lm.maps():
            got.update({a: e.name for a, e in pm.lookup_all(addrs).items()})
        seg_lookup = time.perf_counter() - t
        t = time.perf_counter()
        want = {a: e.name for a, e in whole.lookup_all(addrs).items()}
        one_lookup = time.perf_counter() - t
        same = got == want
        size = path.stat().st_size
        lm.close()
    print(f"map: {lines:,} lines, then {refreshes} refreshes of +{grow:,} lines "
          f"({total:,} lines, {size / 2**20:.1f} MiB at the end)")
    print(f"  first read:                 {first * 1000:8.1f} ms")
    print(f"  LiveMap.refresh (appended): {inc / refreshes * 1000:8.2f} ms per refresh")
    print(f"  load_perf_map (whole file): {full / refreshes * 1000:8.2f} ms per refresh")
    print(f"  segments at the end: {len(lm.maps())}; lookup of {len(addrs):,} addresses: "
          f"{seg_lookup * 1000:.1f} ms through the segments, {one_lookup * 1000:.1f} ms in one "
          f"map; same names: {same}")


def bench_snapshots(seconds: int) -> None:
    slow = ROOT / "samples" / "hhvm-demo" / "slow"
    text = gzip.decompress((slow / "perf.script.gz").read_bytes()).decode()
    rx = re.compile(r"(?m)^(\S.*?\s)(\d+)\.(\d+):")
    times = [int(m.group(2)) for m in rx.finditer(text) if m.group(2) != "0"]
    base, span = min(times), max(times) - min(times) + 1
    with tempfile.TemporaryDirectory() as d:
        Path(d, "perf-14089.map").write_bytes((slow / "perf-14089.map").read_bytes())
        live = LiveProfiler([], keep=30)
        live.add_map(14089, d, "perf-14089.map")
        fed = 0
        t = time.perf_counter()
        for k in range(0, seconds, span):
            shifted = rx.sub(lambda m, k=k: f"{m.group(1)}{int(m.group(2)) - base + 1000 + k}."
                             f"{m.group(3)}:", text)
            live.feed(shifted + "\n")
            fed += len(shifted)
        feed_s = time.perf_counter() - t
        n = live.data().events["cpu-clock"].samples
        t = time.perf_counter()
        whole = live.snapshot()
        whole_s = time.perf_counter() - t
        t = time.perf_counter()
        last = live.snapshot(window=10)
        win_s = time.perf_counter() - t
        live.close()
    assert whole is not None and last is not None
    print(f"live profile: {n:,} samples over {seconds} s of sample time "
          f"({fed / 2**20:.1f} MiB of text), 30 s of buckets kept")
    print(f"  feeding:            {feed_s:6.2f} s ({fed / 2**20 / feed_s:.1f} MiB/s, "
          f"{n / feed_s:,.0f} samples/s)")
    print(f"  snapshot whole run: {whole_s * 1000:6.1f} ms ({whole.samples:,} samples)")
    print(f"  snapshot last 10 s: {win_s * 1000:6.1f} ms ({last.samples:,} samples)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--grow", type=int, default=1000)
    ap.add_argument("--refreshes", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    a = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} (2 CPUs shared; figures are noisy)")
    bench_map(a.lines, a.grow, a.refreshes)
    bench_snapshots(a.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
