#!/usr/bin/env python3
"""What `jitprof top --stdio` costs in CPU per second of profiling, read natively (one perf
process: ``perf record -o -`` read as perf.data) against through perf script (``perf record
-o - | perf script``), in the same run on the same busy process (issue 15).

A busy two-thread C++ process (tests/workloads.py ``BUSY2_CPP``) is profiled at ``--freq``
Hz by ``jitprof top --pid P --stdio -i 1 -n N`` for N = ``--short`` and ``--long``
refreshes with each ``--perf-data-reader``; the CPU (user + system) of jitprof and of
every perf process it starts is read from ``/proc/PID/stat`` every 50 ms.
Printed: the CPU of each run, the CPU per second of the
whole run (start-up included, as ``benchmarks/perfdata.py top`` prints it) and the
marginal CPU per second, (CPU(long) - CPU(short)) / (wall(long) - wall(short)): the
steady cost once the symbols are loaded. Then ``perf top --stdio -g`` for ``--long``
seconds beside it (headless: stdin a pipe that stays open). Interleaved, best of
``--repeat``. Prints figures, asserts nothing.

    python3 benchmarks/top_cpu.py [--short 5] [--long 25] [--freq 999] [--repeat 2]
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")



def _cpu_of(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(task) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return "?"
    if argv and argv[0].endswith("perf"):
        return "perf " + (argv[1] if len(argv) > 1 else "")
    return "jitprof" if any("jitprof" in a for a in argv) else os.path.basename(argv[0]
                                                                              if argv else "?")


def run_tree(argv: list[str], seconds: float | None = None
             ) -> tuple[float, dict[str, float], int | None]:
    """Run ``argv`` (``seconds``: then SIGINT it) and return (wall, CPU by process name,
    the samples of the last table jitprof printed), the CPU of its whole process tree read
    every 50 ms."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    t0 = time.perf_counter()
    out = tempfile.TemporaryFile()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out,  # (cwd: -m imports it first)
                         stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    cpu: dict[int, float] = {}
    names: dict[int, str] = {}
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            todo = [p.pid]
            while todo:
                pid = todo.pop()
                c = _cpu_of(pid)
                if c is None:
                    continue
                cpu[pid] = c
                names.setdefault(pid, _name(pid))
                todo += _children(pid)
            stop.wait(0.05)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    if seconds is not None:
        time.sleep(seconds)
        p.send_signal(signal.SIGINT)
    p.wait(timeout=(seconds or 0) + 600)
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    by: dict[str, float] = {}
    for pid, c in cpu.items():
        by[names[pid]] = by.get(names[pid], 0.0) + c
    out.seek(0)
    got = re.findall(rb"; ([\d,]+) samples;", out.read())
    out.close()
    return wall, by, int(got[-1].replace(b",", b"")) if got else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--short", type=int, default=5)
    ap.add_argument("--long", type=int, default=25)
    ap.add_argument("--freq", type=int, default=999)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    if shutil.which("perf") is None or shutil.which("g++") is None:
        print("needs perf and g++")
        return 1
    work = tempfile.mkdtemp(prefix="jitprof-topcpu-")
    try:
        sys.path.insert(0, ROOT)
        from tests.workloads import BUSY2_CPP, BUSY2_FLAGS

        src, exe = os.path.join(work, "busy2.cpp"), os.path.join(work, "busy2")
        with open(src, "w") as f:
            f.write(BUSY2_CPP)
        subprocess.run(["g++", *BUSY2_FLAGS, "-o", exe, src], check=True)
        total = args.repeat * (2 * (args.short + args.long + 10) + args.long + 5) + 60
        busy = subprocess.Popen([exe, str(total)])
        pid = str(busy.pid)
        time.sleep(0.5)
        print(f"busy two-thread process (pid {pid}), {args.freq} Hz; load average "
              f"{os.getloadavg()[0]:.2f} (2 CPUs shared: figures are noisy); best of "
              f"{args.repeat}, interleaved")
        best: dict[tuple[str, int], tuple[float, float, dict[str, float], int | None]] = {}
        for _ in range(args.repeat):
            for reader in ("script", "native"):
                for n in (args.short, args.long):
                    argv = [sys.executable, "-m", "jitprof", "top", "--pid", pid, "--stdio",
                            "-i", "1", "-n", str(n), "-F", str(args.freq),
                            "--perf-data-reader", reader]
                    wall, by, samples = run_tree(argv)
                    c = sum(by.values())
                    old = best.get((reader, n))
                    if old is None or c / wall < old[1] / old[0]:
                        best[(reader, n)] = (wall, c, by, samples)
        print(f"{'jitprof top --stdio':30} {'N':>3} {'samples':>8} {'wall s':>7} {'CPU s':>6} "
              f"{'CPU/s':>6}  by process")
        for reader in ("script", "native"):
            for n in (args.short, args.long):
                wall, c, by, samples = best[(reader, n)]
                parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(by.items()) if v >= 0.005)
                print(f"{'--perf-data-reader ' + reader:30} {n:3} {samples or 0:8,} {wall:7.2f} "
                      f"{c:6.2f} {c / wall:6.3f}  {parts}")
            (w0, c0, _, _), (w1, c1, _, _) = best[(reader, args.short)], best[(reader, args.long)]
            print(f"{'  marginal (long - short)':30} {'':3} {'':8} {w1 - w0:7.2f} {c1 - c0:6.2f} "
                  f"{(c1 - c0) / (w1 - w0):6.3f}")
        runs = [run_tree(["perf", "top", "--stdio", "-g", "-F", str(args.freq), "-e",
                          "cpu-clock", "-p", pid, "-d", "1"], args.long)
                for _ in range(args.repeat)]
        wall, by, _ = min(runs, key=lambda r: sum(r[1].values()) / r[0])
        c = sum(by.values())
        print(f"{'perf top --stdio -g':30} {'':3} {'':8} {wall:7.2f} {c:6.2f} {c / wall:6.3f}")
        busy.send_signal(signal.SIGTERM)
        busy.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
