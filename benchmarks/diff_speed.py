#!/usr/bin/env python3
"""What ``jitprof diff`` costs on a big input: reading with and without time bins, then
the comparison itself (binomial, block bootstrap) and the differential folded text.

    python benchmarks/diff_speed.py [--script /tmp/jitprof-bench/synthetic/perf.script]
                                    [--map /tmp/jitprof-bench/synthetic/perf-4242.map]

The input is compared with itself (both sides the same profile: the comparison's cost
does not depend on what changed). Prints wall times (s) and peak RSS; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jitprof.analysis.diff import diff_profiles, folded_diff  # noqa: E402
from jitprof.resolve import load_profile  # noqa: E402

BENCH = Path("/tmp/jitprof-bench/synthetic")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--script", default=str(BENCH / "perf.script"))
    ap.add_argument("--map", default=str(BENCH / "perf-4242.map"))
    ap.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 4))
    args = ap.parse_args(argv)
    if not os.path.exists(args.script):
        print(f"no input {args.script}: run benchmarks/gen_synthetic.py first", file=sys.stderr)
        return 1
    maps = [args.map] if os.path.exists(args.map) else []

    def timed(label: str, fn):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = fn()
        print(f"{label:<44} {time.perf_counter() - t0:8.2f} s", flush=True)
        return out

    print(f"input {args.script} ({os.path.getsize(args.script) / 2**20:,.0f} MiB), "
          f"load average {os.getloadavg()[0]:.1f}")
    plain = timed("read, no time bins", lambda: load_profile(
        [args.script], maps=maps, search_tmp=False, jobs=args.jobs))
    binned = timed("read, 0.1 s time bins", lambda: load_profile(
        [args.script], maps=maps, search_tmp=False, jobs=args.jobs, bin_width=0.1))
    print(f"  samples {plain.samples:,}; stacks {len(plain.stacks):,} plain, "
          f"{len(binned.stacks):,} binned ({len(set(binned.stack_bin)):,} bins)")
    r = timed("diff_profiles, binomial", lambda: diff_profiles([plain], [plain],
                                                               method="binomial"))
    print(f"  {len(r.functions):,} functions")
    r = timed("diff_profiles, bootstrap (1000 resamples)",
              lambda: diff_profiles([binned], [binned], method="bootstrap"))
    print(f"  {r.method_note}")
    lines = timed("folded_diff", lambda: folded_diff([plain], [plain]))
    print(f"  {len(lines):,} stacks")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'peak RSS of this process':<44} {rss:8.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
