#!/usr/bin/env python3
"""Build ``hhvm_demo`` and record it with Linux perf (stdlib only, no shell).

Importable (integration tests record the demo during the test run; the directory name
has a hyphen, so load it by path)::

    spec = importlib.util.spec_from_file_location("hhvm_record", "samples/hhvm-demo/record.py")
    rec = importlib.util.module_from_spec(spec); spec.loader.exec_module(rec)
    binary = rec.build(tmp_path)            # -> tmp_path/hhvm_demo
    r = rec.record(binary, "slow", 2, tmp_path / "slow")
    r["pid"], r["perf_data"], r["perf_script"], r["map"]

``record`` runs::

    perf record -F 999 -g -e cpu-clock -o OUTDIR/perf.data -- BINARY MODE SECONDS
    cp /tmp/perf-<pid>.map OUTDIR/perf-<pid>.map
    perf script -i OUTDIR/perf.data --show-mmap-events > OUTDIR/perf.script

and raises ``RecordError`` (a ``RuntimeError``) with the failing command's stderr when
anything goes wrong (g++/perf missing, perf_event_paranoid, timeouts, no map written).

As a script it (re)creates the committed samples::

    python3 samples/hhvm-demo/record.py [--seconds 2.5] [SLOW_DIR [FAST_DIR]]

which builds ``samples/hhvm-demo/hhvm_demo`` and writes ``perf.data``,
``perf.script.gz``, ``perf-<pid>.map`` and ``perf-report.txt`` into
``samples/hhvm-demo/slow`` and ``samples/hhvm-demo/fast`` (or the given directories).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "hhvm_demo.cpp"
BINARY_NAME = "hhvm_demo"
MODES = ("slow", "fast")
# -gz (zlib-compressed DWARF) only shrinks the file (83 KB instead of 170 KB); the code is
# the same as with the plain "-O2 -g -fno-omit-frame-pointer -no-pie" build.
CXX_FLAGS: tuple[str, ...] = ("-O2", "-g", "-gz", "-fno-omit-frame-pointer", "-no-pie")

_PID_RE = re.compile(r"^hhvm_demo: pid=(\d+) mode=", re.MULTILINE)


def _load_helpers() -> ModuleType:
    name = "_jitprof_samples_perfrecord"
    mod = sys.modules.get(name)
    if mod is not None:
        return mod
    path = HERE.parent / "perfrecord.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


_h = _load_helpers()
RecordError = _h.RecordError


def build(outdir: str | os.PathLike[str], *, cxx: str = "g++", timeout: float = 300) -> Path:
    """Compile ``hhvm_demo.cpp`` to ``outdir/hhvm_demo`` and return that path.

    ``g++ -O2 -g -gz -fno-omit-frame-pointer -no-pie -o OUTDIR/hhvm_demo hhvm_demo.cpp``
    (run in this directory; written to a temporary name first, then renamed, so
    concurrent builds are safe).
    """
    out = Path(outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if not SOURCE.is_file():
        raise RecordError(f"source not found: {SOURCE}")
    compiler = _h.which(cxx)
    target = out / BINARY_NAME
    tmp = out / f".{BINARY_NAME}.tmp{os.getpid()}"
    try:
        # cwd = the source directory, source named relatively: DW_AT_name "hhvm_demo.cpp"
        _h.run([compiler, *CXX_FLAGS, "-o", tmp, SOURCE.name], timeout=timeout,
               what=f"building {BINARY_NAME}", cwd=SOURCE.parent)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def record(
    binary: str | os.PathLike[str],
    mode: str,
    seconds: float,
    outdir: str | os.PathLike[str],
    *,
    timeout: float | None = None,
    report: bool = False,
    gzip_script: bool = False,
    remove_tmp_map: bool = False,
) -> dict[str, Any]:
    """Record ``binary mode seconds`` with perf into ``outdir``.

    Previous recording files in ``outdir`` (perf.data*, perf.script*, perf-report.txt,
    perf-<pid>.map*) are deleted first.  Returns a dict with

    * ``pid`` (int): pid of the recorded hhvm_demo process,
    * ``perf_data``, ``perf_script`` (``perf.script`` or, with ``gzip_script``,
      ``perf.script.gz``), ``map`` (``outdir/perf-<pid>.map``), ``tmp_map``
      (``/tmp/perf-<pid>.map``; deleted when ``remove_tmp_map``), ``perf_report``
      (``perf-report.txt`` when ``report``, else None): all ``Path``,
    * ``binary`` (Path), ``mode``, ``seconds``, ``samples`` (int | None, as perf record
      reported), ``stdout`` (the demo's output).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    secs = float(seconds)
    if not 0 < secs <= 3600:
        raise ValueError(f"seconds must be in (0, 3600], not {seconds!r}")
    exe = Path(binary).resolve()
    if not exe.is_file() or not os.access(exe, os.X_OK):
        raise RecordError(f"not an executable file: {exe} (call build() first)")
    out = Path(outdir).resolve()
    _h.clean_outdir(out)
    perf_data = out / "perf.data"
    secs_arg = f"{secs:g}"

    res = _h.perf_record([exe, mode, secs_arg], perf_data,
                         timeout=timeout if timeout is not None else secs + 120)
    m = _PID_RE.search(res.stdout)
    hint = int(m.group(1)) if m else None
    pid = _h.find_pid(perf_data, exe.name, hint=hint)
    map_copy = _h.copy_map(pid, out)
    script = _h.perf_script(perf_data, out / "perf.script")
    report_path = _h.perf_report(perf_data, out / "perf-report.txt") if report else None
    if gzip_script:
        script = _h.gzip_file(script)
    tmp_map = Path(f"/tmp/perf-{pid}.map")
    if remove_tmp_map:
        tmp_map.unlink(missing_ok=True)
    return {
        "pid": pid,
        "mode": mode,
        "seconds": secs,
        "binary": exe,
        "outdir": out,
        "perf_data": perf_data,
        "perf_script": script,
        "map": map_copy,
        "tmp_map": tmp_map,
        "perf_report": report_path,
        "samples": _h.samples_captured(res.stderr),
        "stdout": res.stdout,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("slow_dir", nargs="?", default=str(HERE / "slow"))
    ap.add_argument("fast_dir", nargs="?", default=str(HERE / "fast"))
    ap.add_argument("--seconds", type=float, default=2.5)
    ap.add_argument("--bin-dir", default=str(HERE),
                    help="where to build hhvm_demo (default: next to this script)")
    ap.add_argument("--plain", action="store_true",
                    help="keep perf.script as plain text instead of perf.script.gz")
    args = ap.parse_args(argv)
    try:
        binary = build(args.bin_dir)
        print(f"built {binary} ({binary.stat().st_size} bytes)")
        for mode, d in (("slow", args.slow_dir), ("fast", args.fast_dir)):
            r = record(binary, mode, args.seconds, d, report=True, gzip_script=not args.plain)
            print(f"{mode}: pid {r['pid']}, {r['samples']} samples -> {r['outdir']}")
            for key in ("perf_data", "perf_script", "map", "perf_report"):
                p = r[key]
                print(f"  {p.name:24s} {p.stat().st_size:9d} bytes")
    except RecordError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
