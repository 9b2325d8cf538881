#!/usr/bin/env python3
"""What recording context switches costs (issue 17): a workload switching about 1k, 10k
and 50k times a second, run bare, under ``perf record -F 999 -g -e cpu-clock`` (CPU only)
and under what ``jitprof record --off-cpu`` runs (the same plus ``-e sched:sched_switch``
with its stack and ``--switch-events``); then jitprof's own cost of reading it.

Stdlib only (gcc builds the workload); external programs run with argument lists.

    benchmarks/offcpu_overhead.py [--out DIR] [--rates 1000,10000,50000] [--seconds 3]
                                  [--repeat 3]

The workload: two threads hand a byte back and forth through two pipes, each spinning a
fixed number of iterations before passing it on, so each round switches each thread out
once (2 switches a round; the spin sets the rate). It does a fixed number of rounds and
prints its elapsed time: the slow-down under perf is the recording's cost to the process
(the tracepoint's stack walk and perf's records run in the process's own time; perf's own
CPU time is counted apart). Figures printed per target rate: switches/s measured bare,
elapsed time and the workload's CPU time (user + system) bare / CPU-only / off-CPU (medians
of --repeat, runs interleaved), the CPU each recording adds, the microseconds of the
workload's CPU each switch costs beyond the CPU-only recording, perf's own CPU time, the
perf.data bytes per switch sample (beyond the CPU-only recording's), switch samples
recorded against the switches the handoff makes (the process makes a few more: thread
start, join, preemption), lost records, and the time of ``jitprof report --event off-cpu``
on the recording (its perf script included).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PINGPONG_C = r"""
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static int ab[2], ba[2];
static long rounds, spin;
static volatile unsigned long sink;
static void work(void) { for (long i = 0; i < spin; i++) sink += i; }
static void* partner(void* arg) {
  char c;
  (void)arg;
  for (long r = 0; r < rounds; r++) {
    if (read(ab[0], &c, 1) != 1) exit(1);
    work();
    if (write(ba[1], &c, 1) != 1) exit(1);
  }
  return NULL;
}
int main(int argc, char** argv) {
  rounds = atol(argv[1]);
  spin = atol(argv[2]);
  if (pipe(ab) || pipe(ba)) return 1;
  pthread_t t;
  pthread_create(&t, NULL, partner, NULL);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  char c = 'x';
  for (long r = 0; r < rounds; r++) {
    work();
    if (write(ab[1], &c, 1) != 1) return 1;
    if (read(ba[0], &c, 1) != 1) return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  pthread_join(t, NULL);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);  /* both threads: user + system CPU */
  printf("%ld %ld\n", (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec),
         (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000L
         + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000L);
  return 0;
}
"""

CPU_ONLY = ["-F", "999", "-g", "-e", "cpu-clock"]


def off_cpu_args() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from jitprof.acquire.record import sampled_event_argv

    return ["-g", *sampled_event_argv("cpu-clock", 999, True)]


def build(out: Path) -> Path:
    src = out / "pingpong.c"
    src.write_text(PINGPONG_C)
    exe = out / "pingpong"
    subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-pthread", "-o", str(exe),
                    str(src)], check=True)
    return exe


@dataclass
class Run:
    elapsed: float  # seconds, as the workload measured its rounds
    cpu: float  # the workload's CPU seconds (user + system, both threads)
    perf_cpu: float  # perf record's own CPU seconds (0 bare)
    stderr: str


def run(exe: Path, rounds: int, spin: int, perf: list[str] | None = None,
        data: Path | None = None) -> Run:
    argv = [str(exe), str(rounds), str(spin)]
    if perf is not None:
        assert data is not None
        argv = ["perf", "record", *perf, "-o", str(data), "--", *argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(argv, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    elapsed_ns, cpu_ns = map(int, r.stdout.strip().splitlines()[-1].split())
    return Run(elapsed_ns / 1e9, cpu_ns / 1e9,
               max(children - cpu_ns / 1e9, 0.0) if perf is not None else 0.0, r.stderr)


def calibrate(exe: Path, rate: float) -> tuple[int, float]:
    """A spin count that gives about ``rate`` switches a second bare (2 per round)."""
    spin = 20000
    for _ in range(8):
        rounds = 2000
        got = 2 * rounds / run(exe, rounds, spin).elapsed
        if abs(got - rate) / rate < 0.15:
            return spin, got
        spin = max(1, int(spin * got / rate))
    return spin, got


def switch_samples(data: Path) -> tuple[int, int]:
    """(sched:sched_switch samples, PERF_RECORD_SWITCH records) in a recording."""
    p = subprocess.run(["perf", "script", "-i", str(data), "--show-switch-events", "-F",
                        "event"], capture_output=True, text=True)
    text = p.stdout
    return text.count("sched:sched_switch"), text.count("PERF_RECORD_SWITCH")


def lost(stderr: str) -> str:
    m = re.search(r"(\d+) (?:chunks|events) LOST|Processed .* (\d+) events and (\d+) lost",
                  stderr)
    return m.group(0) if m else "0"


def jitprof_cost(data: Path, out: Path) -> float:
    """Seconds of ``jitprof report --event off-cpu`` on the perf.data (perf script
    included)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jitprof", "report", str(data), "--event",
                    "off-cpu", "--no-tmp", "-o", str(out / "report.txt")], check=True,
                   env=env, capture_output=True)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None)
    ap.add_argument("--rates", default="1000,10000,50000")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for tool in ("perf", "gcc"):
        if shutil.which(tool) is None:
            print(f"needs {tool}", file=sys.stderr)
            return 2
    out = Path(args.out or tempfile.mkdtemp(prefix="jitprof-offcpu-"))
    out.mkdir(parents=True, exist_ok=True)
    exe = build(out)
    off = off_cpu_args()
    print(f"# off-CPU recording: perf record {' '.join(off)}; CPU only: perf record "
          f"{' '.join(CPU_ONLY)}; {os.cpu_count()} CPUs; medians of {args.repeat}, runs "
          "interleaved (bare, CPU only, off-CPU)")
    print("# target  switches/s | elapsed s: bare  cpu-only  off-cpu | workload CPU s: bare  "
          "cpu-only  off-cpu | CPU vs bare: cpu-only  off-cpu | us/switch | perf CPU s: "
          "cpu-only  off-cpu | bytes/switch  switch samples/made  lost  jitprof s")
    for rate in (float(r) for r in args.rates.split(",")):
        spin, got = calibrate(exe, rate)
        rounds = max(100, int(got * args.seconds / 2))
        runs: dict[str, list[Run]] = {"bare": [], "cpu": [], "off": []}
        for i in range(args.repeat):
            runs["bare"].append(run(exe, rounds, spin))
            runs["cpu"].append(run(exe, rounds, spin, CPU_ONLY, out / f"cpu{i}.data"))
            runs["off"].append(run(exe, rounds, spin, off, out / "off.data"))
        med = {k: (statistics.median(r.elapsed for r in v), statistics.median(r.cpu for r in v),
                   statistics.median(r.perf_cpu for r in v)) for k, v in runs.items()}
        made = 2 * rounds
        samples, records = switch_samples(out / "off.data")
        size = (out / "off.data").stat().st_size - (out / "cpu0.data").stat().st_size
        jt = jitprof_cost(out / "off.data", out)
        pct = {k: 100 * (med[k][1] / med["bare"][1] - 1) for k in ("cpu", "off")}
        per_switch = 1e6 * (med["off"][1] - med["cpu"][1]) / made  # the switches' own cost
        print(f"  {rate:>6.0f}  {made / med['bare'][0]:>10,.0f} | {med['bare'][0]:>15.2f}  "
              f"{med['cpu'][0]:>8.2f}  {med['off'][0]:>7.2f} | {med['bare'][1]:>20.2f}  "
              f"{med['cpu'][1]:>8.2f}  {med['off'][1]:>7.2f} | {pct['cpu']:>+20.1f}%  "
              f"{pct['off']:>+6.1f}% | {per_switch:>9.2f} | {med['cpu'][2]:>19.2f}  "
              f"{med['off'][2]:>7.2f} | "
              f"{size / max(samples, 1):>12,.0f}  {samples:>9,}/{made:<9,}  "
              f"{lost(runs['off'][-1].stderr):>4}  {jt:>9.2f}  ({records:,} switch records)")
    print(f"# files in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
