#!/usr/bin/env python3
"""Same-mode A/A comparisons of real recordings (prints figures, asserts nothing).

Records ``--runs`` runs of the demo JIT's fast mode (``--seconds`` each, one after the
other), then compares every split of four of them into two per side with ``jitprof diff``
(``auto``: the ``runs`` method) and counts the splits where any function or kind is
flagged. All sides are the same program, so every flag is false.

    python3 benchmarks/diff_aa_recorded.py [--runs 8] [--seconds 1.0] [--mode fast]

Needs perf (recording as root, or perf_event_paranoid <= 1) and g++.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--mode", default="fast", choices=("fast", "slow"))
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("record", ROOT / "samples/hhvm-demo/record.py")
    assert spec is not None and spec.loader is not None
    rec = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rec)
    with tempfile.TemporaryDirectory() as d:
        binary = rec.build(d)
        runs = [str(rec.record(binary, a.mode, a.seconds, Path(d, f"r{i}"),
                               remove_tmp_map=True)["perf_script"]) for i in range(a.runs)]
        flagged, splits, min_q = 0, 0, []
        for quad in itertools.combinations(range(a.runs), 4):
            args = [sys.executable, "-m", "jitprof", "diff", "--format", "json", "--top", "0"]
            for side, idx in (("-b", quad[:2]), ("-a", quad[2:])):
                for i in idx:
                    args += [side, runs[i]]
            doc = json.loads(subprocess.run(args, capture_output=True, text=True, check=True,
                                            cwd=ROOT).stdout)
            flags = [f["name"] for f in doc["functions"] if f["verdict"] != "no clear change"]
            flags += [k["kind"] for k in doc["kinds"] if k["verdict"] != "no clear change"]
            splits += 1
            flagged += bool(flags)
            min_q.append(min(f["q"] for f in doc["functions"]))
            if flags:
                print(f"  split {quad}: flagged {', '.join(flags)}")
    mid = sorted(min_q)[len(min_q) // 2]
    print(f"{a.runs} recordings of {a.seconds} s ({a.mode}); method {doc['method']}: "
          f"{flagged} of {splits} two-against-two splits flag something; "
          f"smallest q {min(min_q):.3g}, median of the smallest {mid:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
