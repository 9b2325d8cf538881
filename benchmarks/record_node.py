#!/usr/bin/env python3
"""Record a real node --perf-basic-prof profile: perf.data, the JIT map and perf.script text.

Stdlib only; external programs run with argument lists, never through a shell.

    benchmarks/record_node.py --out /tmp/jitprof-bench/node [--seconds 30] [--freq 10000]

Writes into DIR: ``work.js`` (the workload), ``perf.data``, ``perf-<pid>.map`` (a copy of
node's ``/tmp/perf-<pid>.map``; the original is left in /tmp so ``perf script`` can be re-run),
``perf.script`` (``perf script -i perf.data --show-mmap-events``) and ``node.pid``; node also
leaves its ``isolate-*-v8.log`` there (the workload runs with DIR as its cwd).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

WORK_JS = r"""'use strict';
// jitprof benchmark workload: a few hot functions that V8 tiers up (Sparkplug, Maglev,
// TurboFan), so the perf map gets many entries, some at reused addresses.
const fs = require('fs');
const path = require('path');
const seconds = Number(process.argv[2] || 30);
fs.writeFileSync(path.join(__dirname, 'node.pid'), String(process.pid) + '\n');

function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

function byKeyThenValue(a, b) {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.value - b.value;
}
function sortMany(n, seed) {
  const xs = [];
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    xs.push({ key: 'k' + (s % 997), value: s % 10007 });
  }
  xs.sort(byKeyThenValue);
  return xs[0].value;
}

const WORD = /([a-z]+)(\d+)/g;
function regexWork(n) {
  let text = '';
  for (let i = 0; i < n; i++) text += 'item' + i + ' other' + (i * 7) + ' ';
  let count = 0;
  for (const m of text.matchAll(WORD)) count += m[2].length;
  return count + text.replace(/other(\d)/g, 'x$1').length;
}

function jsonWork(n) {
  const obj = { users: [] };
  for (let i = 0; i < n; i++) {
    obj.users.push({ id: i, name: 'user' + i, tags: ['a', 'b', String(i % 13)],
                     score: i * 1.5, active: i % 3 === 0 });
  }
  const text = JSON.stringify(obj);
  const back = JSON.parse(text);
  return back.users.length + text.length;
}

const deadline = Date.now() + seconds * 1000;
let rounds = 0, sink = 0;
while (Date.now() < deadline) {
  sink += fib(22);
  sink += sortMany(4000, rounds + 1);
  sink += regexWork(2000);
  sink += jsonWork(1500);
  rounds++;
}
console.log(`rounds ${rounds} sink ${sink}`);
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument("--seconds", type=float, default=30.0, help="workload run time")
    p.add_argument("--freq", type=int, default=10000, help="perf record -F (Hz)")
    p.add_argument("--node", default=shutil.which("node") or "node", help="node binary")
    p.add_argument("--perf", default=shutil.which("perf") or "perf", help="perf binary")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    work = os.path.join(out, "work.js")
    with open(work, "w", encoding="utf-8") as f:
        f.write(WORK_JS)
    pid_file = os.path.join(out, "node.pid")
    if os.path.exists(pid_file):
        os.unlink(pid_file)
    data = os.path.join(out, "perf.data")
    for stale in (data, data + ".old"):  # perf record would keep the old one as .old
        if os.path.exists(stale):
            os.unlink(stale)

    rec = [
        args.perf,
        "record",
        "-F",
        str(args.freq),
        "-g",
        "-e",
        "cpu-clock",
        "-o",
        data,
        "--",
        args.node,
        "--perf-basic-prof",
        work,
        str(args.seconds),
    ]
    print("+", " ".join(rec), flush=True)
    t0 = time.perf_counter()
    # cwd=out: node --perf-basic-prof also writes an isolate-*-v8.log into its cwd.
    proc = subprocess.Popen(rec, stdin=subprocess.DEVNULL, cwd=out)
    # Open node's map as soon as it exists and keep the descriptor: whatever later unlinks
    # /tmp/perf-<pid>.map (a tmp cleaner, another tool's tests), we still read it all.
    pid = None
    map_fd = None
    while proc.poll() is None and map_fd is None:
        if pid is None and os.path.exists(pid_file):
            with open(pid_file, encoding="ascii") as f:
                text = f.read().strip()
            pid = int(text) if text.isdigit() else None
        if pid is not None:
            try:
                map_fd = open(f"/tmp/perf-{pid}.map", "rb")
            except FileNotFoundError:
                pass
        time.sleep(0.005)
    code = proc.wait()
    t_rec = time.perf_counter() - t0
    if code != 0:
        print(f"perf record failed with exit code {code}", file=sys.stderr)
        return 1
    if pid is None:
        with open(pid_file, encoding="ascii") as f:
            pid = int(f.read().strip())
    src_map = f"/tmp/perf-{pid}.map"
    if map_fd is None:
        try:
            map_fd = open(src_map, "rb")
        except FileNotFoundError:
            print(f"{src_map} vanished before it could be opened", file=sys.stderr)
            return 1
    with map_fd:
        map_bytes = map_fd.read()
    dst_map = os.path.join(out, f"perf-{pid}.map")
    for old in os.listdir(out):  # maps from earlier runs would confuse run.py
        if old.startswith("perf-") and old.endswith(".map") and old != os.path.basename(dst_map):
            os.unlink(os.path.join(out, old))
    with open(dst_map, "wb") as f:
        f.write(map_bytes)
    if not os.path.exists(src_map):
        # perf script reads /tmp/perf-<pid>.map itself to name the JIT frames.
        print(f"note: {src_map} was deleted by someone else; restoring it from the copy")
        with open(src_map, "wb") as f:
            f.write(map_bytes)

    script = os.path.join(out, "perf.script")
    cmd = [args.perf, "script", "-i", data, "--show-mmap-events"]
    print("+", " ".join(cmd), ">", script, flush=True)
    t1 = time.perf_counter()
    with open(script, "wb") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE)
    t_script = time.perf_counter() - t1
    if r.returncode != 0:
        sys.stderr.write(r.stderr.decode(errors="replace"))
        print(f"perf script failed with exit code {r.returncode}", file=sys.stderr)
        return 1

    # Count samples: with a callchain, perf prints the sample header unindented ("%s " comm),
    # frames start with a tab; PERF_RECORD_* lines are the --show-mmap-events records.
    samples = 0
    lines = 0
    with open(script, "rb") as f:
        for line in f:
            lines += 1
            if line[:1] not in (b"\t", b" ", b"\n") and b"PERF_RECORD_" not in line:
                samples += 1
    with open(dst_map, "rb") as f:
        map_lines = sum(1 for _ in f)
    mb = 1024 * 1024
    print(f"node pid {pid}; recorded in {t_rec:.1f} s, perf script in {t_script:.1f} s")
    print(f"{data}: {os.path.getsize(data) / mb:.1f} MiB")
    print(f"{dst_map}: {map_lines} lines (snapshot of {src_map})")
    print(f"{script}: {samples} samples, {lines} lines, {os.path.getsize(script) / mb:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
