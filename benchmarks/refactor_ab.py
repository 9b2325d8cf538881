#!/usr/bin/env python3
"""A/B of two jitprof checkouts through the command line (issue 18: before/after a refactor).

Prints figures and ratios; asserts nothing. Stdlib only; every program runs as a child
with an argument list, never through a shell.

    python3 benchmarks/refactor_ab.py --before /work/wt-before --after . \
        [--hc DIR] [--node DIR] [--node2 DIR] [--repeat 5] [--only CASE,...] [--json FILE]

Each checkout runs as ``PYTHONPATH=CHECKOUT python -m jitprof ...`` (only the command line
is used, so the two trees may lay out their modules differently). The cases, on the same
inputs for both:

- ``report-hc``: ``report`` of ``gen_synthetic.py --high-card`` text (``--hc``, e.g. 200,000
  samples: every sample a distinct stack), ``--format json`` (all functions), default jobs;
- ``report-node``: ``report`` of a real node recording's perf.data read natively (``--node``:
  ``record_node.py``'s directory), ``--format json --top 0``;
- ``export-html``: ``export`` of the same perf.data to a report page (.html);
- ``diff-demo``: ``diff`` of the committed hhvm-demo slow and fast perf.data (from the
  ``--before`` checkout, so both read the same files), ``--format json``;
- ``diff-node``: ``diff`` of the node recording and a second one (``--node2``; without it,
  the recording against itself), ``--format json`` (bootstrap: the inputs have times);
- ``tui-node``: ``tui`` of the node perf.data in a pseudo-terminal of 120x40: the time until
  the hottest short function name is on the screen (the hot table painted), then ``q``;
- ``top-stdio``: ``top --stdio -i 1 -n 5`` of a busy two-thread process (tests/workloads.py's
  ``BUSY2_CPP``, built with g++) at 999 Hz: CPU and RSS only (its wall time is the refreshes).

Beside them, in every round, the references: the bare Python line loop over the high-card
text (benchmarks/run.py's floor) and ``perf report --stdio --no-children --sort sym`` of the
node perf.data (benchmarks/perfdata.py's).

Rounds are interleaved: each round runs every case once per checkout, before then after in
even rounds and after then before in odd ones, so a neighbour's load hits both sides alike.
Figures are medians over the rounds (the spread of the CPU is printed as min-max). Each
run is wrapped in GNU time (``/usr/bin/time -f``): wall, user + system CPU of the command's
whole tree (its waited-for children: perf, reader processes) and peak RSS (the largest
process of the tree), unaffected by this script's own memory. Outputs of the two sides are
compared in every round (JSON: the numbers without the version and input paths; other
files: bytes).
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import json
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = "/tmp/jitprof-bench"
BARE_LOOP = (
    "import sys\n"
    "for line in open(sys.argv[1], encoding='utf-8', errors='surrogateescape'):\n"
    "    pass\n"
)
# Reads two jitprof JSON outputs in a child (a high-card report is ~100 MiB of JSON: parsed
# here, this process's RSS would be what every later child starts from) and prints whether
# they hold the same numbers: everything but the version and the input paths.
SAME_JSON = """\
import json, sys
def load(p):
    d = json.load(open(p, encoding="utf-8"))
    for k in ("jitprof", "inputs", "version", "before_inputs", "after_inputs"):
        d.pop(k, None)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
print("same" if a == b else "DIFFER: " + ", ".join(k for k in sorted({*a, *b})
                                                    if a.get(k) != b.get(k)))
"""
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
                  rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mib: float
    rc: int
    err: str = ""


@dataclass
class Case:
    name: str
    argv: Callable[[str, str], list[str]]  # (checkout, output path) -> jitprof arguments
    out_ext: str = ".json"
    pty_marker: str | None = None  # run in a terminal until this text shows, then "q"
    compare: str = "json"  # json | bytes | none
    runs: dict[str, list[Run]] = field(default_factory=lambda: {"before": [], "after": []})
    same: list[str] = field(default_factory=list)


def env_for(checkout: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if checkout:
        env["PYTHONPATH"] = checkout
    env["TERM"] = "xterm-256color"
    return env


def timed(argv: list[str], env: dict[str, str], scratch: str,
          marker: str | None = None, timeout: float = 900) -> Run:
    """Run argv under GNU time; ``marker``: in a 120x40 pseudo-terminal, wall = until the
    marker is on the screen, then the app is sent ``q``."""
    tfile = os.path.join(scratch, "time.txt")
    errfile = os.path.join(scratch, "stderr.txt")
    child = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", tfile, *argv]
    t0 = time.perf_counter()
    if marker is None:
        with open(errfile, "wb") as err:
            p = subprocess.Popen(child, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=err, env=env)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        wall = time.perf_counter() - t0
        with open(errfile, "rb") as f:
            tail = f.read()[-2000:].decode(errors="replace").strip()
    else:
        wall, tail, p = in_terminal(child, env, marker, t0, timeout)
    try:
        with open(tfile) as f:
            last = f.read().strip().splitlines()[-1].split()
        t_wall, user, sys_, rss = float(last[0]), float(last[1]), float(last[2]), int(last[3])
    except (OSError, IndexError, ValueError):
        t_wall, user, sys_, rss = wall, float("nan"), float("nan"), 0
    if marker is None:
        wall = t_wall  # GNU time's own figure: without this script's fork and wait
    err = "" if p.returncode == 0 else (tail.splitlines() or ["?"])[-1]
    return Run(wall, user + sys_, rss / 1024, p.returncode if p.returncode is not None else -1,
               err)


def in_terminal(child: list[str], env: dict[str, str], marker: str, t0: float,
                timeout: float) -> tuple[float, str, subprocess.Popen[bytes]]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    p = subprocess.Popen(child, stdin=slave, stdout=slave, stderr=slave, env=env,
                         start_new_session=True)
    os.close(slave)
    buf = b""
    seen: float | None = None
    quit_sent = 0.0
    try:
        while time.perf_counter() - t0 < timeout:
            ready, _, _ = select.select([master], [], [], 0.02)
            if ready:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError:  # EIO: the program has exited
                    break
                if not chunk:
                    break
                buf += chunk
                if seen is None and marker.encode() in ANSI.sub(b"", buf[-(1 << 20):]):
                    seen = time.perf_counter() - t0
            if seen is not None and time.perf_counter() - quit_sent > 1.0:
                os.write(master, b"q")
                quit_sent = time.perf_counter()
            if p.poll() is not None:
                break
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        os.close(master)
    text = ANSI.sub(b"", buf).decode(errors="replace")
    if seen is None:
        p.returncode = p.returncode or 1
        return time.perf_counter() - t0, f"marker {marker!r} never shown: {text[-300:]!r}", p
    return seen, text[-300:], p


def jitprof(*args: str) -> list[str]:
    return [sys.executable, "-m", "jitprof", *args]


def commit_of(checkout: str) -> str:
    r = subprocess.run(["git", "-C", checkout, "log", "-1", "--format=%h %s"],
                       capture_output=True, text=True)
    return r.stdout.strip()[:90] if r.returncode == 0 else "(not a git checkout)"


def find_map(directory: str) -> str:
    maps = sorted(glob.glob(os.path.join(directory, "perf-*.map")))
    if not maps:
        sys.exit(f"{directory}: no perf-<pid>.map")
    return maps[-1]


def busy_process(before: str, scratch: str, seconds: float) -> subprocess.Popen[bytes] | None:
    """The two-thread workload of the before checkout's tests/workloads.py, built here."""
    src = os.path.join(before, "tests", "workloads.py")
    if not shutil.which("g++") or not os.path.exists(src):
        return None
    ns: dict[str, object] = {}
    with open(src) as f:
        exec(compile(f.read(), src, "exec"), ns)  # the module's constants only
    cpp, exe = os.path.join(scratch, "busy2.cpp"), os.path.join(scratch, "busy2")
    with open(cpp, "w") as f:
        f.write(str(ns["BUSY2_CPP"]))
    flags = [str(x) for x in ns["BUSY2_FLAGS"]]  # a tuple of str
    subprocess.run(["g++", *flags, "-o", exe, cpp], check=True)
    return subprocess.Popen([exe, str(int(seconds))], stdout=subprocess.DEVNULL)


def marker_from(report_json: str) -> str:
    """A hot function's name short enough to show whole in a 120-column hot table."""
    code = ("import json, sys\n"
            "fs = json.load(open(sys.argv[1]))['functions'][:20]\n"
            "print(next((f['name'] for f in fs if 8 <= len(f['name']) <= 40), fs[0]['name']))")
    r = subprocess.run([sys.executable, "-c", code, report_json], capture_output=True,
                       text=True)
    return r.stdout.strip()


def compare(kind: str, a: str, b: str) -> str:
    if kind == "none" or not (os.path.exists(a) and os.path.exists(b)):
        return "-"
    if kind == "bytes":
        with open(a, "rb") as fa, open(b, "rb") as fb:
            da, db = fa.read(), fb.read()
        return "same" if da == db else f"DIFFER ({len(da):,} / {len(db):,} bytes)"
    r = subprocess.run([sys.executable, "-c", SAME_JSON, a, b], capture_output=True,
                       text=True)
    return r.stdout.strip() or f"compare failed: {r.stderr.strip()[-200:]}"


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def ratio(a: float, b: float) -> str:
    return f"{b / a:.2f}x" if a and a == a and b == b else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the 'before' checkout (a source tree)")
    ap.add_argument("--after", default=ROOT, help="the 'after' checkout (default: this one)")
    ap.add_argument("--hc", default=f"{BENCH}/t18/hc200k",
                    help="gen_synthetic.py --high-card directory (default: %(default)s)")
    ap.add_argument("--node", default=f"{BENCH}/t18/node",
                    help="record_node.py directory with perf.data (default: %(default)s)")
    ap.add_argument("--node2", default=f"{BENCH}/t18/node2",
                    help="a second record_node.py directory, for diff (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds (default %(default)s)")
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--json", dest="json_out", help="also write every run here")
    args = ap.parse_args(argv)
    sides = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    scratch = tempfile.mkdtemp(prefix="jitprof-ab-")

    hc_script, hc_map = os.path.join(args.hc, "perf.script"), find_map(args.hc)
    data, node_map = os.path.join(args.node, "perf.data"), find_map(args.node)
    if os.path.isdir(args.node2):
        data2, node2_map = os.path.join(args.node2, "perf.data"), find_map(args.node2)
    else:
        data2, node2_map = data, node_map
    demo = os.path.join(sides["before"], "samples", "hhvm-demo")
    # perf report reads node's map in /tmp, as perf script would
    tmp_map = os.path.join("/tmp", os.path.basename(node_map))
    if not os.path.exists(tmp_map):
        shutil.copy(node_map, tmp_map)
    ref_json = os.path.join(scratch, "ref.json")
    subprocess.run(jitprof("report", data, "--map", node_map, "--no-tmp", "--format", "json",
                           "--top", "20", "-o", ref_json), env=env_for(sides["before"]),
                   check=True)
    marker = marker_from(ref_json)

    cases = [
        Case("report-hc", lambda ck, out: jitprof(
            "report", hc_script, "--map", hc_map, "--no-tmp", "--format", "json", "-o", out)),
        Case("report-node", lambda ck, out: jitprof(
            "report", data, "--map", node_map, "--no-tmp", "--format", "json", "--top", "0",
            "-o", out)),
        Case("export-html", lambda ck, out: jitprof(
            "export", data, "--map", node_map, "--no-tmp", "-o", out), ".html", compare="bytes"),
        Case("diff-demo", lambda ck, out: jitprof(
            "diff", f"{demo}/slow/perf.data", f"{demo}/fast/perf.data", "--no-tmp",
            "--format", "json", "-o", out)),
        Case("diff-node", lambda ck, out: jitprof(
            "diff", data, data2, "--map", node_map, "--map", node2_map, "--no-tmp",
            "--format", "json", "-o", out)),
        Case("tui-node", lambda ck, out: jitprof(
            "tui", data, "--map", node_map, "--no-tmp"), pty_marker=marker, compare="none"),
    ]
    only = {x for x in args.only.split(",") if x}
    busy = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the finally below kills busy2
    if not only or "top-stdio" in only:
        busy = busy_process(sides["before"], scratch, 24 * 3600)  # killed at the end
    if busy is not None:
        pid = str(busy.pid)
        cases.append(Case("top-stdio", lambda ck, out: jitprof(
            "top", "--pid", pid, "--stdio", "-F", "999", "-i", "1", "-n", "5"),
            compare="none"))
    if only:
        cases = [c for c in cases if c.name in only]
    refs: dict[str, tuple[list[str], list[Run]]] = {
        "bare line loop (hc text)": ([sys.executable, "-c", BARE_LOOP, hc_script], []),
        "perf report (node perf.data)": (["perf", "report", "-i", data, "--stdio",
                                          "--no-children", "--sort", "sym"], []),
    }
    for path in (hc_script, data, data2):  # warm the page cache
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    print(f"before: {sides['before']} ({commit_of(sides['before'])})")
    print(f"after:  {sides['after']} ({commit_of(sides['after'])})")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.repeat} rounds; "
          f"tui marker {marker!r}")
    loads = [os.getloadavg()[0]]
    try:
        for rnd in range(args.repeat):
            print(f"round {rnd + 1}/{args.repeat}, load average {os.getloadavg()[0]:.2f}",
                  flush=True)
            for ref_argv, runs in refs.values():
                runs.append(timed(ref_argv, env_for(None), scratch))
            for case in cases:
                order = ["before", "after"] if rnd % 2 == 0 else ["after", "before"]
                outs = {}
                for side in order:
                    out = os.path.join(scratch, f"{case.name}.{side}{case.out_ext}")
                    outs[side] = out
                    r = timed(case.argv(sides[side], out), env_for(sides[side]), scratch,
                              case.pty_marker)
                    case.runs[side].append(r)
                    if r.rc != 0:
                        print(f"  {case.name} {side}: exit {r.rc}: {r.err}", flush=True)
                case.same.append(compare(case.compare, outs["before"], outs["after"]))
                for out in outs.values():
                    if os.path.exists(out):
                        os.unlink(out)
            loads.append(os.getloadavg()[0])
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()

    print(f"\nload average (1 min) over the rounds: {min(loads):.2f}-{max(loads):.2f}; "
          "medians of the rounds")
    head = (f"{'case':<12} {'wall s before':>13} {'after':>7} {'ratio':>6}  {'CPU s before':>12}"
            f" {'after':>7} {'ratio':>6} {'CPU min-max before / after':>27}  "
            f"{'RSS MiB before':>14} {'after':>6} {'ratio':>6}  outputs")
    print(head)
    print("-" * len(head))
    rows = []
    for c in cases:
        b, a = c.runs["before"], c.runs["after"]
        fig = {s: (med([r.wall for r in rs]), med([r.cpu for r in rs]),
                   med([r.rss_mib for r in rs])) for s, rs in (("before", b), ("after", a))}
        (wb, cb, mb), (wa, ca, ma) = fig["before"], fig["after"]
        spread = (f"{min(r.cpu for r in b):.2f}-{max(r.cpu for r in b):.2f} / "
                  f"{min(r.cpu for r in a):.2f}-{max(r.cpu for r in a):.2f}")
        fails = sum(r.rc != 0 for r in b + a)
        same = sorted(set(c.same))
        print(f"{c.name:<12} {wb:13.2f} {wa:7.2f} {ratio(wb, wa):>6}  {cb:12.2f} {ca:7.2f} "
              f"{ratio(cb, ca):>6} {spread:>27}  {mb:14.0f} {ma:6.0f} {ratio(mb, ma):>6}  "
              f"{', '.join(same)}" + (f" ({fails} runs failed)" if fails else ""))
        rows.append({"case": c.name, "before": [vars(r) for r in b],
                     "after": [vars(r) for r in a], "outputs": c.same})
    print("references (same rounds):")
    for name, (_, runs) in refs.items():
        w, cpu, m = (med([r.wall for r in runs]), med([r.cpu for r in runs]),
                     med([r.rss_mib for r in runs]))
        print(f"  {name:<30} wall {w:6.2f} s, CPU {cpu:6.2f} s, RSS {m:5.0f} MiB")
        rows.append({"reference": name, "runs": [vars(r) for r in runs]})
    for c in cases:
        ref = {"report-hc": "bare line loop (hc text)",
               "report-node": "perf report (node perf.data)"}.get(c.name)
        if ref:
            rw = med([r.wall for r in refs[ref][1]])
            rc = med([r.cpu for r in refs[ref][1]])
            w = {s: med([r.wall for r in c.runs[s]]) / rw for s in ("before", "after")}
            u = {s: med([r.cpu for r in c.runs[s]]) / rc for s in ("before", "after")}
            print(f"  {c.name} / {ref}: wall before {w['before']:.2f}x, after "
                  f"{w['after']:.2f}x; CPU before {u['before']:.2f}x, after {u['after']:.2f}x")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"before": sides["before"], "after": sides["after"],
                       "commits": {s: commit_of(p) for s, p in sides.items()},
                       "loads": loads, "rows": rows}, f, indent=1)
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
