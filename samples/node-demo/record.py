#!/usr/bin/env python3
"""Record ``work.js`` under ``node --perf-basic-prof`` with Linux perf (stdlib only, no shell).

Importable (integration tests can record during the test run)::

    r = record(WORK_JS, 2, tmp_path / "node")
    r["pid"], r["perf_data"], r["perf_script"], r["map"]

``record`` runs, with the output directory as the working directory::

    perf record -F 999 -g -e cpu-clock -o OUTDIR/perf.data -- node --perf-basic-prof work.js SECONDS
    cp /tmp/perf-<pid>.map OUTDIR/perf-<pid>.map
    perf script -i OUTDIR/perf.data --show-mmap-events > OUTDIR/perf.script

node 20 also writes an ``isolate-0x…-<pid>-v8.log`` into its working directory when run
with ``--perf-basic-prof``; ``record`` deletes it unless ``keep_v8_log=True``.
Errors raise ``RecordError`` (a ``RuntimeError``) with the failing command's stderr.

As a script it (re)creates the committed sample in this directory::

    python3 samples/node-demo/record.py [--seconds 2] [OUTDIR]
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
WORK_JS = HERE / "work.js"
NODE_FLAGS: tuple[str, ...] = ("--perf-basic-prof",)

_PID_RE = re.compile(r"^work\.js: pid=(\d+) ", re.MULTILINE)


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


def record(
    script: str | os.PathLike[str],
    seconds: float,
    outdir: str | os.PathLike[str],
    *,
    node: str = "node",
    timeout: float | None = None,
    report: bool = False,
    gzip_script: bool = False,
    remove_tmp_map: bool = False,
    keep_v8_log: bool = False,
) -> dict[str, Any]:
    """Record ``node --perf-basic-prof script seconds`` with perf into ``outdir``.

    Previous recording files in ``outdir`` are deleted first.  Returns a dict with ``pid``
    (int), ``perf_data``, ``perf_script`` (``perf.script`` or ``perf.script.gz``), ``map``
    (``outdir/perf-<pid>.map``), ``tmp_map`` (``/tmp/perf-<pid>.map``), ``perf_report``
    (``perf-report.txt`` or None): ``Path``s, plus ``script``, ``node``, ``seconds``,
    ``samples`` (int | None) and ``stdout``.
    """
    secs = float(seconds)
    if not 0 < secs <= 3600:
        raise ValueError(f"seconds must be in (0, 3600], not {seconds!r}")
    js = Path(script).resolve()
    if not js.is_file():
        raise RecordError(f"script not found: {js}")
    node_exe = _h.which(node)
    out = Path(outdir).resolve()
    _h.clean_outdir(out)
    perf_data = out / "perf.data"

    res = _h.perf_record([node_exe, *NODE_FLAGS, js, f"{secs:g}"], perf_data,
                         timeout=timeout if timeout is not None else secs + 120, cwd=out)
    m = _PID_RE.search(res.stdout)
    hint = int(m.group(1)) if m else None
    pid = _h.find_pid(perf_data, Path(node_exe).name, hint=hint)
    if not keep_v8_log:
        for log in out.glob(f"isolate-0x*-{pid}-v8.log"):
            log.unlink()
    map_copy = _h.copy_map(pid, out)
    script_out = _h.perf_script(perf_data, out / "perf.script")
    report_path = _h.perf_report(perf_data, out / "perf-report.txt") if report else None
    if gzip_script:
        script_out = _h.gzip_file(script_out)
    tmp_map = Path(f"/tmp/perf-{pid}.map")
    if remove_tmp_map:
        tmp_map.unlink(missing_ok=True)
    return {
        "pid": pid,
        "script": js,
        "node": Path(node_exe),
        "seconds": secs,
        "outdir": out,
        "perf_data": perf_data,
        "perf_script": script_out,
        "map": map_copy,
        "tmp_map": tmp_map,
        "perf_report": report_path,
        "samples": _h.samples_captured(res.stderr),
        "stdout": res.stdout,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?", default=str(HERE))
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--plain", action="store_true",
                    help="keep perf.script as plain text instead of perf.script.gz")
    args = ap.parse_args(argv)
    try:
        r = record(WORK_JS, args.seconds, args.outdir, report=True,
                   gzip_script=not args.plain)
    except RecordError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"node: pid {r['pid']}, {r['samples']} samples -> {r['outdir']}")
    for key in ("perf_data", "perf_script", "map", "perf_report"):
        p = r[key]
        print(f"  {p.name:24s} {p.stat().st_size:9d} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
