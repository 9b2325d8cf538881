#!/usr/bin/env python3
"""How fast jitprof reads the perf script variants others print (issue 13): one text as
perf prints it (tab-indented callchains: the block reader), re-indented with blanks and
unindented (the line reader), each timed; prints a table, asserts nothing.

    python3 benchmarks/script_variants.py PERF_SCRIPT [--repeat 3] [--copies 1]

PERF_SCRIPT: any perf script text with callchains (e.g. ``perf script -i perf.data`` of a
recording, or benchmarks/gen_synthetic.py's ``perf.script``); ``--copies N`` reads it N
times over (a bigger input of the same shape). Variants are written to
/tmp/jitprof-bench/variants/.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jitprof.parse import read_scripts  # noqa: E402

VARIANTS = {
    "tabs (as perf prints)": "\t",
    "4 blanks": "    ",
    "1 blank": " ",
    "unindented": "",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("script")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--out", default="/tmp/jitprof-bench/variants")
    args = ap.parse_args(argv)
    text = Path(args.script).read_text(errors="surrogateescape") * args.copies
    os.makedirs(args.out, exist_ok=True)
    print(f"input: {args.script} x{args.copies} ({len(text) / 2**20:.1f} MiB), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'variant':<24} {'MiB':>7} {'samples':>10} {'seconds':>8} {'MiB/s':>7}")
    for label, indent in VARIANTS.items():
        path = Path(args.out) / (re.sub(r"\W+", "_", label).strip("_") + ".txt")
        path.write_text(re.sub(r"(?m)^\t", indent, text), errors="surrogateescape")
        best = float("inf")
        samples = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            data = read_scripts([str(path)])
            best = min(best, time.perf_counter() - t0)
            samples = sum(e.samples for e in data.events.values())
        mib = path.stat().st_size / 2**20
        print(f"{label:<24} {mib:7.1f} {samples:10,} {best:8.3f} {mib / best:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
