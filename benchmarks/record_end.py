#!/usr/bin/env python3
"""How long `jitprof record` takes to finish once recording stops, for two jitprof trees
(issue 15: before, the bundle got perf script's text, written at the end; now it does not).

A busy two-thread process (tests/workloads.py ``BUSY2_CPP``; ``--node``: the node
``--perf-basic-prof`` workload of benchmarks/record_node.py, deep JIT stacks) is recorded
by ``jitprof record --pid P --duration S -F HZ`` with each tree (``PYTHONPATH=TREE``),
interleaved, ``--repeat`` times. Printed per tree (best run): the whole command's wall time, the end
(from the end of recording, the manifest's ``times.ended_epoch``, to the command's exit:
perf writing perf.data, then what jitprof writes), the samples, and the bundle's files.
Prints figures, asserts nothing.

    python3 benchmarks/record_end.py --before OLD_TREE --after NEW_TREE [--seconds 10]
        [--freq 999] [--repeat 3] [--node]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def record_once(tree: str, pid: int, seconds: float, freq: int, out: str
                ) -> tuple[float, float, dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
    t0 = time.time()
    # (run from elsewhere: ``python -m`` imports from the current directory first)
    subprocess.run([sys.executable, "-m", "jitprof", "record", "--pid", str(pid), "--duration",
                    str(seconds), "-F", str(freq), "-o", out], check=True, env=env,
                   cwd=os.path.dirname(out), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    t1 = time.time()
    with open(os.path.join(out, "manifest.json")) as f:
        m = json.load(f)
    return t1 - t0, t1 - m["times"]["ended_epoch"], m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="a jitprof source tree")
    ap.add_argument("--after", required=True, help="another one")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--freq", type=int, default=999)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--node", action="store_true", help="the node workload (needs node)")
    args = ap.parse_args()
    sys.path.insert(0, ROOT)
    from tests.workloads import BUSY2_CPP, BUSY2_FLAGS

    work = tempfile.mkdtemp(prefix="jitprof-recend-")
    try:
        lasts = str(args.repeat * 2 * (args.seconds + 30) + 60)
        if args.node:
            sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
            from record_node import WORK_JS

            js = os.path.join(work, "work.js")
            with open(js, "w") as f:
                f.write(WORK_JS)
            busy = subprocess.Popen(["node", "--perf-basic-prof", js, lasts], cwd=work,
                                    stdout=subprocess.DEVNULL)
            what = "node --perf-basic-prof"
            time.sleep(3)  # compiled, its map written
        else:
            src, exe = os.path.join(work, "busy2.cpp"), os.path.join(work, "busy2")
            with open(src, "w") as f:
                f.write(BUSY2_CPP)
            subprocess.run(["g++", *BUSY2_FLAGS, "-o", exe, src], check=True)
            busy = subprocess.Popen([exe, lasts], stdout=subprocess.DEVNULL)
            what = "busy two-thread process"
            time.sleep(0.5)
        print(f"{what} (pid {busy.pid}), {args.freq} Hz, {args.seconds:g} s "
              f"recorded; load average {os.getloadavg()[0]:.2f} (2 CPUs shared: noisy); "
              f"best of {args.repeat}, interleaved")
        best: dict[str, tuple[float, float, dict[str, object]]] = {}
        n = 0
        for _ in range(args.repeat):
            for label, tree in (("before", args.before), ("after", args.after)):
                n += 1
                out = os.path.join(work, f"b{n}")
                got = record_once(tree, busy.pid, args.seconds, args.freq, out)
                if label not in best or got[1] < best[label][1]:
                    best[label] = got
                shutil.rmtree(out, ignore_errors=True)
        print(f"{'tree':8} {'wall s':>7} {'end s':>6} {'samples':>8}  files (KiB)")
        for label, tree in (("before", args.before), ("after", args.after)):
            wall, end, m = best[label]
            files = m["files"]
            assert isinstance(files, list)
            listed = ", ".join(f"{f['path']} {f['bytes'] / 1024:,.0f}" for f in files
                               if "/" not in f["path"])
            print(f"{label:8} {wall:7.2f} {end:6.2f} {m['samples']!s:>8}  {listed}  ({tree})")
        print(f"end, after / before: {best['after'][1] / best['before'][1]:.2f}")
        busy.send_signal(signal.SIGTERM)
        busy.wait()
        if args.node and os.path.exists(f"/tmp/perf-{busy.pid}.map"):
            os.unlink(f"/tmp/perf-{busy.pid}.map")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
