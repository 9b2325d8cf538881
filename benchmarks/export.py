"""Time every exporter and the JSON read-back on a synthetic profile; print a table.

    python3 benchmarks/export.py [--stacks 100000] [--frames 5000] [--depth 24] [--seed 1]

The profile is deterministic for a seed: STACKS distinct stacks of DEPTH frames drawn from
FRAMES functions (a fixed root path, then random callees), spread over 4 processes. Each
figure is the fastest of --repeat runs, in-process; output sizes in bytes. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jitprof.export import EXPORTERS  # noqa: E402
from jitprof.inputs.profilefile import parse_profile_json  # noqa: E402
from jitprof.model import Kind, Profile, ProfileBuilder  # noqa: E402


def synthetic(stacks: int, frames: int, depth: int, seed: int) -> Profile:
    rnd = random.Random(seed)
    b = ProfileBuilder("cpu-clock")
    kinds = [Kind.PHP, Kind.HPHP, Kind.NATIVE, Kind.KERNEL, Kind.JIT]
    ids = [b.frame(f"fn_{i};{kinds[i % 5].value}", kinds[i % 5],
                   "[JIT]" if kinds[i % 5] in (Kind.PHP, Kind.JIT) else f"/lib/l{i % 7}.so")
           for i in range(frames)]
    threads = [b.thread(1000 + i, f"proc{i}") for i in range(4)]
    root = tuple(ids[:4])
    seen: set[tuple[tuple[int, ...], int]] = set()  # the builder's tables come at finish()
    while len(seen) < stacks:
        leafward = tuple(rnd.choice(ids) for _ in range(depth - len(root)))
        stack, thread = leafward + root[::-1], rnd.choice(threads)
        seen.add((stack, thread))
        b.add(stack, thread, 1_001_001 * rnd.randint(1, 9), rnd.randint(1, 9))
    p = b.finish()
    p.diagnostics.has_period = True
    p.time_first, p.time_last = 100.0, 130.0
    return p


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    t_best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t0)
    return t_best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stacks", type=int, default=100_000)
    ap.add_argument("--frames", type=int, default=5_000)
    ap.add_argument("--depth", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    t0 = time.perf_counter()
    prof = synthetic(a.stacks, a.frames, a.depth, a.seed)
    print(f"profile: {len(prof.stacks):,} stacks x {a.depth} frames, {len(prof.frames):,} "
          f"functions, {prof.samples:,} samples (built in {time.perf_counter() - t0:.1f} s); "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'format':<12} {'write s':>8} {'bytes':>14}")
    json_text = ""
    for cls in EXPORTERS:
        secs, data = best(lambda cls=cls: cls().render(prof), a.repeat)  # type: ignore[misc]
        assert isinstance(data, bytes)
        if cls.name == "json":
            json_text = data.decode()
        print(f"{cls.name:<12} {secs:8.2f} {len(data):14,}")
    secs, back = best(lambda: parse_profile_json(json_text, "bench.json"), a.repeat)
    print(f"{'json read':<12} {secs:8.2f} {'':>14} (equal: {back == prof})")


if __name__ == "__main__":
    main()
