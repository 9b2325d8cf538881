#!/usr/bin/env python3
"""Issue 15's benchmarks: the native perf.data reader against perf report and the perf
script path, and the live ``top``'s CPU cost. Prints figures; asserts nothing.

    # a real node recording (benchmarks/record_node.py; ~270k samples at 10 kHz)
    python3 benchmarks/record_node.py --out /tmp/jitprof-bench/node --seconds 60 --freq 10000
    python3 benchmarks/perfdata.py report --node /tmp/jitprof-bench/node [--repeat 3]
    # top: CPU per second of profiling a busy two-thread process at 999 Hz
    python3 benchmarks/perfdata.py top [--seconds 10] [--repeat 2]

``report`` runs, in the same run and on the same perf.data, one after the other:
``perf report --stdio --no-children --sort sym``, ``perf script`` alone (the options
jitprof passes it, output to /dev/null), ``jitprof report`` through perf script
(``--perf-data-reader script``) and natively (``--perf-data-reader native``), and prints
each one's wall time and peak RSS (``wait4``'s ``ru_maxrss``: the largest process of the
command's tree, as ``/usr/bin/time -v`` shows it), the ratio native / perf report, and
whether the two jitprof reports list the same functions with the same numbers.

``top`` starts the two-thread workload (tests/workloads.py ``BUSY2_CPP``), then for
``--seconds`` each: ``jitprof top --pid P --stdio`` (whichever way it reads perf: before
issue 15, ``perf record -o - | perf script``), ``perf record -o - | perf script`` alone
(what that ``top`` runs), ``perf record -o -`` alone (what a native ``top`` needs), and
``perf top --stdio -g`` (headless: stdin a pipe that stays open). The CPU time of every
process of each tree (jitprof, perf record, perf script) is read from ``/proc`` until it
ends, and printed per second of profiling.

Run from the repository root (jitprof is imported from here: ``PYTHONPATH`` is set to it).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def jitprof_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "jitprof", *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": ROOT + (os.pathsep + os.environ["PYTHONPATH"]
                                               if os.environ.get("PYTHONPATH") else "")}


@dataclass
class Run:
    wall: float
    maxrss_kib: int
    cpu: float
    rc: int


def timed(argv: list[str], stdout: int | None = subprocess.DEVNULL) -> Run:
    """Wall time, peak RSS (the largest process of the tree) and CPU of one command."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, env=env())
    assert p.stderr is not None
    err = p.stderr.read()
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        print(f"  ({' '.join(argv[:6])}... exit {p.returncode}: "
              f"{err.decode(errors='replace').strip().splitlines()[-1:]})", file=sys.stderr)
    return Run(wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime, p.returncode)


def best(runs: list[Run]) -> Run:
    ok = [r for r in runs if r.rc == 0] or runs
    return min(ok, key=lambda r: r.wall)


def _rows(path: str) -> dict[tuple[str, str, str], tuple[int, int, int, int]]:
    with open(path) as f:
        doc = json.load(f)
    out: dict[tuple[str, str, str], tuple[int, int, int, int]] = {}
    for r in doc["functions"]:
        out[(r["name"], r["kind"], r["dso"])] = (r["self"], r["total"], r["self_samples"],
                                                 r["total_samples"])
    return out


def bench_report(node_dir: str, repeat: int) -> None:
    data = os.path.join(node_dir, "perf.data")
    maps = sorted(glob.glob(os.path.join(node_dir, "perf-*.map")))
    if not os.path.isfile(data) or not maps:
        sys.exit(f"{node_dir}: no perf.data and perf-<pid>.map (benchmarks/record_node.py)")
    pid = os.path.basename(maps[-1])[5:-4]
    tmp_map = f"/tmp/perf-{pid}.map"
    if not os.path.exists(tmp_map):  # perf report and perf script read node's map there
        shutil.copy(maps[-1], tmp_map)
    out = tempfile.mkdtemp(prefix="jitprof-perfdata-")
    json_script, json_native = os.path.join(out, "script.json"), os.path.join(out, "native.json")
    common = ["--map", maps[-1], "--no-tmp", "--format", "json", "--top", "0"]
    helptext = subprocess.run(jitprof_argv("report", "--help"), capture_output=True, text=True,
                              env=env()).stdout
    native = "--perf-data-reader" in helptext  # before issue 15: the perf script path only
    via_script = ["--perf-data-reader", "script"] if native else []
    commands = {
        "perf report --stdio --no-children --sort sym":
            ["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "sym"],
        "perf script (jitprof's options)":
            ["perf", "script", "-i", data, "--show-mmap-events", "--show-task-events",
             "--header"],
        "jitprof report (via perf script)":
            jitprof_argv("report", data, *common, *via_script, "-o", json_script),
    }
    if native:
        commands["jitprof report (native)"] = jitprof_argv(
            "report", data, *common, "--perf-data-reader", "native", "-o", json_native)
    size = os.path.getsize(data)
    samples = subprocess.run(jitprof_argv("report", data, *common[:-4], "--format", "json",
                                          "--top", "1"), capture_output=True, text=True,
                             env=env())
    n = json.loads(samples.stdout)["samples"] if samples.returncode == 0 else "?"
    print(f"input: {data} ({size / 2**20:.1f} MiB, {n} samples); best of {repeat}; "
          f"load average {os.getloadavg()[0]:.2f}")
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeat):  # interleaved: a noisy neighbour hits every command alike
        for name, argv in commands.items():
            runs[name].append(timed(argv))
    results = {name: best(rs) for name, rs in runs.items()}
    base = results["perf report --stdio --no-children --sort sym"]
    print(f"{'command':48} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13} "
          f"{'wall / perf report':>19} {'CPU / perf report':>18}")
    for name, r in results.items():
        ok = r.rc == 0 and base.rc == 0
        ratio = f"{r.wall / base.wall:.2f}x" if ok else "n/a"
        cpu_ratio = f"{r.cpu / base.cpu:.2f}x" if ok and base.cpu else "n/a"
        mark = "" if r.rc == 0 else "  (failed)"
        print(f"{name:48} {r.wall:8.2f} {r.cpu:8.2f} {r.maxrss_kib / 1024:13.0f} "
              f"{ratio:>19} {cpu_ratio:>18}{mark}")
    if native and results["jitprof report (native)"].rc == 0 and results[
            "jitprof report (via perf script)"].rc == 0:
        a, b = _rows(json_native), _rows(json_script)
        diff = [k for k in {*a, *b} if a.get(k) != b.get(k)]
        print(f"native vs perf script: {len(a)} and {len(b)} functions, "
              + ("the same numbers" if not diff else f"{len(diff)} rows differ, e.g. "
                 + "; ".join(f"{k}: {a.get(k)} vs {b.get(k)}" for k in sorted(diff)[:5])))
    shutil.rmtree(out, ignore_errors=True)


# -- top -----------------------------------------------------------------------------------

def _cpu_of(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(task) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return "?"
    words = [a.decode(errors="replace") for a in argv[:3] if a]
    if words and words[0].endswith("perf"):
        return "perf " + (words[1] if len(words) > 1 else "")
    return "jitprof" if any("jitprof" in w for w in words) else os.path.basename(words[0]) if (
        words) else "?"


@dataclass
class TreeCPU:
    """CPU seconds of every process of a tree, read from /proc every 50 ms until it ends
    (a process's last reading before it exits: at most 50 ms of it is missed)."""

    roots: list[int]
    cpu: dict[int, float] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.05)

    def sample(self) -> None:
        todo = list(self.roots)
        while todo:
            pid = todo.pop()
            c = _cpu_of(pid)
            if c is None:
                continue
            self.cpu[pid] = c
            name = _comm(pid)  # (again each time: a child is its parent until it execs)
            if name != "?":
                self.names[pid] = name
            self.names.setdefault(pid, "?")
            todo += _children(pid)

    def by_name(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, c in self.cpu.items():
            out[self.names[pid]] = out.get(self.names[pid], 0.0) + c
        return out


def _measure(argvs: list[list[str]], seconds: float, pipe: bool = False,
             interrupt: bool = False) -> tuple[float, dict[str, float]]:
    """Run the commands (``pipe``: the first's stdout into the second) for ``seconds``;
    returns (wall, CPU seconds by process name)."""
    procs: list[subprocess.Popen[bytes]] = []
    t0 = time.perf_counter()
    first = subprocess.Popen(argvs[0], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE if pipe else subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env())
    procs.append(first)
    if pipe:
        assert first.stdout is not None
        procs.append(subprocess.Popen(argvs[1], stdin=first.stdout, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, env=env()))
        first.stdout.close()
    tree = TreeCPU([p.pid for p in procs])
    th = threading.Thread(target=tree.run, daemon=True)
    th.start()
    if interrupt:
        time.sleep(seconds)
        first.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    wall = time.perf_counter() - t0
    tree.stop.set()
    th.join()
    return wall, tree.by_name()


def bench_top(seconds: float, repeat: int, freq: int) -> None:
    sys.path.insert(0, ROOT)
    from tests.workloads import BUSY2_CPP, BUSY2_FLAGS

    work = tempfile.mkdtemp(prefix="jitprof-top-")
    src, exe = os.path.join(work, "busy2.cpp"), os.path.join(work, "busy2")
    with open(src, "w") as f:
        f.write(BUSY2_CPP)
    subprocess.run(["g++", *BUSY2_FLAGS, "-o", exe, src], check=True)
    total = (seconds * 6 + 20) * repeat + 30
    busy = subprocess.Popen([exe, str(total)], stdout=subprocess.DEVNULL)
    pid = str(busy.pid)
    rec = ["perf", "record", "-g", "-F", str(freq), "-e", "cpu-clock", "-p", pid, "-o", "-"]
    script = ["perf", "script", "-i", "-", "--show-mmap-events", "--show-task-events"]
    ticks = max(1, int(seconds))
    cases: list[tuple[str, list[list[str]], bool, bool]] = [
        ("jitprof top --stdio (as built)",
         [jitprof_argv("top", "--pid", pid, "--stdio", "-F", str(freq), "-i", "1", "-n",
                       str(ticks))], False, False),
        (f"jitprof top --stdio, {2 * ticks} refreshes",
         [jitprof_argv("top", "--pid", pid, "--stdio", "-F", str(freq), "-i", "1", "-n",
                       str(2 * ticks))], False, False),
        ("perf record -o - | perf script (top's perf)", [rec, script], True, True),
        ("perf record -o - alone (a native top's perf)", [rec], False, True),
        ("perf top --stdio -g", [["perf", "top", "--stdio", "-g", "-F", str(freq), "-e",
                                  "cpu-clock", "-p", pid, "-d", "1"]], False, True),
    ]
    print(f"top: busy two-thread process (pid {pid}), {freq} Hz, {seconds:g} s each, "
          f"best of {repeat}; load average {os.getloadavg()[0]:.2f}")
    print(f"{'what':48} {'wall s':>7} {'CPU s':>7} {'CPU s / s':>10}  by process")
    seen: list[tuple[float, dict[str, float]]] = []
    try:
        for name, argvs, pipe, interrupt in cases:
            runs = []
            for _ in range(repeat):
                wall, cpu = _measure(argvs, 2 * seconds if "refreshes" in name else seconds,
                                     pipe=pipe, interrupt=interrupt)
                runs.append((sum(cpu.values()) / wall, wall, cpu))
            rate, wall, cpu = min(runs, key=lambda r: r[0])
            seen.append((wall, cpu))
            parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu.items()))
            print(f"{name:48} {wall:7.2f} {sum(cpu.values()):7.2f} {rate:10.3f}  {parts}")
        # jitprof top's steady cost: what the second N seconds added (start-up cancels)
        (w1, c1), (w2, c2) = seen[0], seen[1]
        extra = {k: c2.get(k, 0.0) - c1.get(k, 0.0) for k in {*c1, *c2}}
        parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(extra.items()) if abs(v) >= 0.005)
        print(f"{'jitprof top, marginal (2N - N refreshes)':48} {w2 - w1:7.2f} "
              f"{sum(extra.values()):7.2f} {sum(extra.values()) / (w2 - w1):10.3f}  {parts}")
    finally:
        busy.kill()
        busy.wait()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("report", help="native reader vs perf report and perf script")
    r.add_argument("--node", required=True, help="a benchmarks/record_node.py directory")
    r.add_argument("--repeat", type=int, default=1)
    t = sub.add_parser("top", help="CPU cost of top per second of profiling")
    t.add_argument("--seconds", type=float, default=10.0)
    t.add_argument("--repeat", type=int, default=1)
    t.add_argument("--freq", type=int, default=999)
    args = p.parse_args(argv)
    if args.what == "report":
        bench_report(args.node, args.repeat)
    else:
        bench_top(args.seconds, args.repeat, args.freq)
    return 0


if __name__ == "__main__":
    sys.exit(main())
