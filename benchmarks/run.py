#!/usr/bin/env python3
"""Time `jitprof report` against a bare Python line loop and print figures (never asserts).

Stdlib only; every program runs as a child process started with an argument list, and each
measurement is its own child, reaped with ``os.wait4`` so its wall time and peak RSS
(``ru_maxrss``, KiB on Linux) belong to that child alone.

    benchmarks/run.py [--input NAME=DIR ...] [--synthetic DIR] [--node DIR] [--jobs N]
                      [--repeat N] [--stackcollapse PATH | --no-stackcollapse] [--json FILE]

DIR is what ``gen_synthetic.py`` / ``record_node.py`` wrote: ``perf.script`` plus one
``perf-<pid>.map``.  Without ``--input``: /tmp/jitprof-bench/{hc200k,hc1m,low,synthetic,node}
(``--synthetic``/``--node`` change the last two); an input whose directory is missing is
skipped.  Each input is measured in the same run three ways: the bare line loop,
Brendan Gregg's ``stackcollapse-perf.pl`` (when found: ``--stackcollapse``, else
$JITPROF_STACKCOLLAPSE, else /tmp/jitprof-bench/FlameGraph/stackcollapse-perf.pl; run with
``perl``, its output discarded) and ``jitprof report`` (wall time and peak RSS).
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
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_ROOT = "/tmp/jitprof-bench"
RATIO_TARGET = 5.0  # jitprof wall time / bare loop wall time
RSS_TARGET_MB = 500.0
MB = 1024 * 1024
# Brendan Gregg's FlameGraph repository's script (not vendored: see benchmarks/README.md)
STACKCOLLAPSE = os.path.join(DEFAULT_ROOT, "FlameGraph", "stackcollapse-perf.pl")

# The baseline: the cheapest way Python can see every line of the file as text.
BARE_LOOP = """\
import sys, time
t0 = time.perf_counter()
for line in open(sys.argv[1], encoding='utf-8', errors='surrogateescape'):
    pass
print(time.perf_counter() - t0)
"""


@dataclass
class Run:
    """One child process: its command, exit code, wall seconds, peak RSS and output."""

    argv: list[str]
    code: int | None = None
    wall_s: float = 0.0
    maxrss_mb: float = 0.0
    stdout_path: str = ""
    stderr_tail: str = ""
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.code == 0 and not self.timed_out


@dataclass
class Result:
    name: str
    script: str
    map: str | None
    size_mb: float = 0.0
    lines: int = 0
    samples_in_file: int = 0
    bare_s: float | None = None
    bare_loop_only_s: float | None = None
    stackcollapse_s: float | None = None
    stackcollapse_rss_mb: float | None = None
    stackcollapse_error: str | None = None
    jitprof_s: float | None = None
    jitprof_rss_mb: float | None = None
    jitprof_error: str | None = None
    samples: Any = None
    weight: Any = None
    event: Any = None
    n_functions: int | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    resolved: str | None = None
    map_lines: int = 0
    tiny_with_map_s: float | None = None
    tiny_without_map_s: float | None = None
    tiny_with_map_rss_mb: float | None = None
    tiny_error: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.jitprof_s is None or not self.bare_s:
            return None
        return self.jitprof_s / self.bare_s

    @property
    def vs_stackcollapse(self) -> float | None:
        if self.jitprof_s is None or not self.stackcollapse_s:
            return None
        return self.jitprof_s / self.stackcollapse_s


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--synthetic",
        default=os.path.join(DEFAULT_ROOT, "synthetic"),
        help="directory from gen_synthetic.py (default: %(default)s)",
    )
    p.add_argument(
        "--node",
        default=os.path.join(DEFAULT_ROOT, "node"),
        help="directory from record_node.py (default: %(default)s)",
    )
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="an input to measure (repeatable; default: the directories named in the doc)",
    )
    p.add_argument(
        "--stackcollapse",
        default=os.environ.get("JITPROF_STACKCOLLAPSE", STACKCOLLAPSE),
        help="stackcollapse-perf.pl to time beside jitprof (default: %(default)s)",
    )
    p.add_argument(
        "--no-stackcollapse", action="store_true", help="do not run stackcollapse-perf.pl"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="pass --jobs N to jitprof report (only if its --help lists --jobs)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each measurement N times and keep the fastest (default 1)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="kill a jitprof run after this many seconds (default %(default)s)",
    )
    p.add_argument(
        "--json", dest="json_out", default=None, help="also write the figures to this JSON file"
    )
    p.add_argument(
        "--keep", action="store_true", help="keep the scratch directory with jitprof's outputs"
    )
    return p.parse_args(argv)


# --------------------------------------------------------------------------- measuring


def measure(argv: list[str], scratch: str, label: str, timeout: float,
            discard: bool = False) -> Run:
    """Run argv as a child; stdout to a file (``discard``: to /dev/null), stderr tail
    kept; wall time and ru_maxrss."""
    run = Run(argv=argv)
    run.stdout_path = os.devnull if discard else os.path.join(scratch, label + ".out")
    err_path = os.path.join(scratch, label + ".err")
    # Linux carries a forked child's peak RSS over its exec: a child of this script (which
    # holds the outputs it has parsed) would report at least this script's RSS. GNU time,
    # small after its own exec, forks the program and reports the program's own peak.
    rss_path = os.path.join(scratch, label + ".rss")
    gnu_time = shutil.which("time") if os.path.exists("/usr/bin/time") else None
    child = (["/usr/bin/time", "-f", "%M", "-o", rss_path, *argv] if gnu_time else argv)
    with open(run.stdout_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(child, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            try:
                os.kill(proc.pid, signal.SIGKILL)  # our own child, by its pid
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        run.wall_s = time.perf_counter() - t0
    run.code = os.waitstatus_to_exitcode(status)
    proc.returncode = run.code  # reaped by wait4; keep Popen from waiting again
    run.timed_out = killed.is_set()
    run.maxrss_mb = usage.ru_maxrss / 1024  # KiB -> MiB
    if gnu_time:
        try:
            with open(rss_path) as f:
                run.maxrss_mb = int(f.read().strip().splitlines()[-1]) / 1024
        except (OSError, ValueError, IndexError):
            pass  # killed before time wrote it: the wait4 figure (an upper bound)
    with open(err_path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 4000))
        run.stderr_tail = f.read().decode("utf-8", "replace").strip()
    return run


def best_of(n: int, argv: list[str], scratch: str, label: str, timeout: float,
            discard: bool = False) -> Run:
    best: Run | None = None
    for i in range(max(1, n)):
        r = measure(argv, scratch, f"{label}.{i}", timeout, discard)
        if not r.ok:
            return r
        if best is None or r.wall_s < best.wall_s:
            best = r
    assert best is not None
    return best


def error_text(run: Run) -> str:
    if run.timed_out:
        return f"killed after timeout ({run.wall_s:.0f} s)"
    lines = [ln for ln in run.stderr_tail.splitlines() if ln.strip()]
    if not lines:
        try:
            with open(run.stdout_path, encoding="utf-8", errors="replace") as f:
                lines = [ln for ln in f.read(2000).splitlines() if ln.strip()]
        except OSError:
            pass
    last = lines[-1] if lines else "(no output)"
    return f"exit {run.code}: {last}"


# --------------------------------------------------------------------------- inputs


def count_file(path: str) -> tuple[int, int]:
    """(lines, samples) by reading bytes; also warms the page cache for the timed runs.

    A sample ends with an empty line, so samples = number of "\\n\\n" pairs.
    """
    lines = samples = 0
    prev = b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
            samples += chunk.count(b"\n\n")
            if prev == b"\n" and chunk[:1] == b"\n":
                samples += 1
            prev = chunk[-1:]
    return lines, samples


def find_map(directory: str) -> str | None:
    maps = sorted(glob.glob(os.path.join(directory, "perf-*.map")), key=os.path.getmtime)
    return maps[-1] if maps else None


def write_tiny_script(src: str, dst: str, n_samples: int = 20) -> None:
    """The event records and the first n samples of src: enough to make jitprof load the map."""
    done = 0
    in_sample = False
    with (
        open(src, encoding="utf-8", errors="surrogateescape") as f,
        open(dst, "w", encoding="utf-8", errors="surrogateescape") as out,
    ):
        for line in f:
            out.write(line)
            if line.startswith("\t"):
                in_sample = True
            elif line == "\n" and in_sample:
                in_sample = False
                done += 1
                if done >= n_samples:
                    break


def jitprof_argv(script: str, map_path: str | None, jobs_args: list[str]) -> list[str]:
    argv = [sys.executable, "-m", "jitprof", "report", script]
    if map_path:
        argv += ["--map", map_path]
    return argv + ["--format", "json"] + jobs_args


# Read in a child: a JSON report of 1M samples lists ~400k functions (~400 MiB parsed).
# Parsed here, it would stay in this process, and every child forked after it reports at
# least that much peak RSS (Linux: ru_maxrss keeps the high-water mark of the memory a
# child had before exec, which is a copy of ours).
SUMMARY = """\
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
funcs = doc.get("functions")
doc["functions"] = len(funcs) if isinstance(funcs, (list, dict)) else None
print(json.dumps(doc))
"""


def json_summary(path: str) -> Any:
    """jitprof's JSON output with ``functions`` replaced by their count."""
    out = subprocess.run([sys.executable, "-c", SUMMARY, path], capture_output=True,
                         text=True, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise ValueError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "?")
    return json.loads(out.stdout)


def find_resolved(diag: dict[str, Any]) -> str | None:
    """The 'share of JIT samples resolved' figure, under whatever key jitprof uses."""
    flat = flatten(diag)
    keys = [k for k in flat if "resolv" in k.lower()]
    share_words = ("pct", "percent", "share", "ratio", "frac", "rate")
    preferred = [k for k in keys if any(w in k.lower() for w in share_words)]
    for key in preferred + keys:
        val = flat[key]
        is_pct = "pct" in key.lower() or "percent" in key.lower()
        if isinstance(val, float) and 0.0 <= val <= 1.0 and not is_pct:
            return f"{val * 100:.1f}% ({key})"
        if isinstance(val, (int, float)) and not isinstance(val, bool):
            return f"{val:g}{'%' if is_pct else ''} ({key})"
        return f"{short(val, 40)} ({key})"
    return None


def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            name = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict):
                out.update(flatten(v, name))
            else:
                out[name] = v
    return out


def short(v: Any, width: int = 100) -> str:
    if isinstance(v, list):
        text = f"[{len(v)} items] " + json.dumps(v[:3], default=str)
    else:
        text = json.dumps(v, default=str) if not isinstance(v, str) else v
    return text if len(text) <= width else text[: width - 3] + "..."


def bench_input(
    name: str, directory: str, args: argparse.Namespace, jobs_args: list[str], scratch: str
) -> Result | None:
    script = os.path.join(directory, "perf.script")
    if not os.path.isfile(script):
        print(f"[{name}] skipped: {script} not found")
        return None
    map_path = find_map(directory)
    res = Result(name=name, script=script, map=map_path)
    res.size_mb = os.path.getsize(script) / MB
    print(
        f"[{name}] counting lines of {script} ({res.size_mb:.0f} MiB; warms the page cache)",
        flush=True,
    )
    res.lines, res.samples_in_file = count_file(script)
    if map_path:
        res.map_lines, _ = count_file(map_path)
    else:
        print(f"[{name}] no perf-*.map in {directory}; running without --map")

    print(f"[{name}] bare loop ...", flush=True)
    bare = best_of(
        args.repeat,
        [sys.executable, "-c", BARE_LOOP, script],
        scratch,
        f"{name}.bare",
        args.timeout,
    )
    if bare.ok:
        res.bare_s = bare.wall_s
        with open(bare.stdout_path, encoding="utf-8") as f:
            res.bare_loop_only_s = float(f.read().strip() or "nan")
    else:
        print(f"[{name}] bare loop failed: {error_text(bare)}")

    sc = args.stackcollapse
    if not args.no_stackcollapse and sc and os.path.isfile(sc) and shutil.which("perl"):
        print(f"[{name}] stackcollapse-perf.pl ...", flush=True)
        run = best_of(args.repeat, ["perl", sc, script], scratch, f"{name}.stackcollapse",
                      args.timeout, discard=True)
        if run.ok:
            res.stackcollapse_s = run.wall_s
            res.stackcollapse_rss_mb = run.maxrss_mb
        else:
            res.stackcollapse_error = error_text(run)
    elif not args.no_stackcollapse:
        res.stackcollapse_error = f"not run: {sc or '(no path)'} or perl not found"

    print(f"[{name}] jitprof report ...", flush=True)
    jp = best_of(
        args.repeat,
        jitprof_argv(script, map_path, jobs_args),
        scratch,
        f"{name}.jitprof",
        args.timeout,
    )
    res.jitprof_rss_mb = jp.maxrss_mb
    if jp.ok:
        res.jitprof_s = jp.wall_s
        try:
            doc = json_summary(jp.stdout_path)
        except (OSError, ValueError) as e:
            res.jitprof_error = f"output is not JSON: {e}"
            doc = None
        if isinstance(doc, dict):
            res.samples = doc.get("samples")
            res.weight = doc.get("weight")
            res.event = doc.get("event")
            res.n_functions = doc.get("functions")
            diag = doc.get("diagnostics")
            res.diagnostics = diag if isinstance(diag, dict) else {"(diagnostics)": diag}
            res.resolved = find_resolved(res.diagnostics)
    else:
        res.jitprof_error = error_text(jp)

    if map_path:
        tiny = os.path.join(scratch, f"{name}.tiny.script")
        write_tiny_script(script, tiny)
        print(f"[{name}] map load (tiny script, {res.map_lines} map lines) ...", flush=True)
        with_map = best_of(
            args.repeat,
            jitprof_argv(tiny, map_path, jobs_args),
            scratch,
            f"{name}.tiny_map",
            args.timeout,
        )
        without = best_of(
            args.repeat,
            jitprof_argv(tiny, None, jobs_args),
            scratch,
            f"{name}.tiny_nomap",
            args.timeout,
        )
        if with_map.ok:
            res.tiny_with_map_s = with_map.wall_s
            res.tiny_with_map_rss_mb = with_map.maxrss_mb
        else:
            res.tiny_error = error_text(with_map)
        if without.ok:
            res.tiny_without_map_s = without.wall_s
        elif res.tiny_error is None:
            res.tiny_error = "without --map: " + error_text(without)
    return res


# --------------------------------------------------------------------------- report


def fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def print_report(results: list[Result], jobs_note: str) -> None:
    print()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"python {sys.version.split()[0]} ({sys.executable}); {os.cpu_count()} CPUs, "
        f"load average {load}; {jobs_note}"
    )
    header = (
        "input",
        "size MiB",
        "lines",
        "samples",
        "bare loop s",
        "stackcollapse s",
        "jitprof s",
        f"ratio (<={RATIO_TARGET:g}x)",
        "vs stackcollapse",
        f"peak RSS MiB (<{RSS_TARGET_MB:g})",
        "JIT resolved",
    )
    rows = []
    for r in results:
        ratio = r.ratio
        rows.append(
            (
                r.name,
                f"{r.size_mb:.0f}",
                f"{r.lines:,}",
                f"{r.samples if r.samples is not None else '-'} / {r.samples_in_file}",
                fmt(r.bare_s, ".2f"),
                fmt(r.stackcollapse_s, ".2f") if r.stackcollapse_error is None else "-",
                fmt(r.jitprof_s, ".2f") if r.jitprof_error is None else "error",
                "-" if ratio is None else f"{ratio:.1f}x" + ("" if ratio <= RATIO_TARGET else " !"),
                "-" if r.vs_stackcollapse is None else f"{r.vs_stackcollapse:.2f}x",
                fmt(r.jitprof_rss_mb, ".0f")
                + (" !" if r.jitprof_rss_mb and r.jitprof_rss_mb >= RSS_TARGET_MB else ""),
                r.resolved or "-",
            )
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print(
        "(samples = jitprof's count / blank-line-terminated blocks in the file; "
        "'!' = misses the target)"
    )

    for r in results:
        print()
        print(f"[{r.name}] {r.script}")
        print(f"  map: {r.map or '-'} ({r.map_lines:,} lines)")
        if r.bare_loop_only_s is not None:
            print(
                f"  bare loop: {r.bare_s:.2f} s wall for the child, {r.bare_loop_only_s:.2f} s "
                f"in the loop itself; {r.lines / r.bare_s / 1e6:.1f} M lines/s"
            )
        if r.stackcollapse_s is not None:
            print(f"  stackcollapse-perf.pl: {r.stackcollapse_s:.2f} s, peak RSS "
                  f"{r.stackcollapse_rss_mb:.0f} MiB")
        elif r.stackcollapse_error:
            print(f"  stackcollapse-perf.pl: {r.stackcollapse_error}")
        if r.jitprof_error:
            print(f"  jitprof report: {r.jitprof_error}")
        else:
            print(
                f"  jitprof report: {r.jitprof_s:.2f} s, peak RSS {r.jitprof_rss_mb:.0f} MiB, "
                f"{r.lines / r.jitprof_s / 1e6:.2f} M lines/s; samples {r.samples}, "
                f"weight {r.weight}, event {r.event!r}, {r.n_functions} functions"
            )
            for k, v in flatten(r.diagnostics).items():
                print(f"    diagnostics.{k} = {short(v)}")
        if r.tiny_with_map_s is not None and r.tiny_without_map_s is not None:
            print(
                f"  map load: tiny script with --map {r.tiny_with_map_s:.2f} s "
                f"(RSS {r.tiny_with_map_rss_mb:.0f} MiB), without {r.tiny_without_map_s:.2f} s"
                f" -> map load ~ {r.tiny_with_map_s - r.tiny_without_map_s:.2f} s"
            )
        elif r.tiny_error:
            print(f"  map load: {r.tiny_error}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    inputs = [tuple(x.split("=", 1)) for x in args.input if "=" in x]
    if len(inputs) != len(args.input):
        print("--input takes NAME=DIR", file=sys.stderr)
        return 2
    if not inputs:
        inputs = [(n, os.path.join(DEFAULT_ROOT, n)) for n in ("hc200k", "hc1m", "low")]
        inputs += [("synthetic", args.synthetic), ("node", args.node)]
    scratch = tempfile.mkdtemp(prefix="jitprof-bench-run-")

    jobs_args: list[str] = []
    jobs_note = "jitprof run without --jobs"
    if args.jobs is not None:
        helptext = subprocess.run(
            [sys.executable, "-m", "jitprof", "report", "--help"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if "--jobs" in helptext.stdout:
            jobs_args = ["--jobs", str(args.jobs)]
            jobs_note = f"jitprof run with --jobs {args.jobs}"
        else:
            jobs_note = f"--jobs {args.jobs} ignored: `jitprof report --help` does not list it"

    results = []
    for name, directory in inputs:
        if not os.path.isdir(directory):
            print(f"[{name}] skipped: {directory} does not exist")
            continue
        r = bench_input(name, directory, args, jobs_args, scratch)
        if r is not None:
            results.append(r)
    if not results:
        print("nothing to measure: generate inputs with gen_synthetic.py / record_node.py")
        return 1
    print_report(results, jobs_note)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump([asdict(r) | {"ratio": r.ratio, "vs_stackcollapse": r.vs_stackcollapse}
                       for r in results], f, indent=2, default=str)
        print(f"\nfigures written to {args.json_out}")
    if args.keep:
        print(f"scratch outputs kept in {scratch}")
    else:
        for p in glob.glob(os.path.join(scratch, "*")):
            os.unlink(p)
        os.rmdir(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
