#!/usr/bin/env python3
"""Time reading the function symbols of one ELF file (default: node) and print figures.

    benchmarks/elf_symbols.py [FILE] [--repeat N] [--skip-iterator]

Rows: pyelftools' per-symbol iterator (the slow way, for reference), jitprof's bulk
decoding (``elfsym.read_symbols_uncached``), a cold ``read_symbols`` that also writes the
cache entry, a cached ``read_symbols``, and ``nm --defined-only`` (if present) as the
native floor. Each row keeps the fastest of N runs, wall time and (for the rows run in
this process) CPU time, which other work on the machine disturbs less. The cache lives in
a temporary directory that is removed afterwards. Never asserts anything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from jitprof.symbols import elfsym  # noqa: E402

CPU: dict[str, float] = {}  # row -> best CPU seconds of this process (contention-proof)


def best(fn: Callable[[], object], repeat: int, row: str = "") -> tuple[float, object]:
    out: object = None
    t_best = c_best = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t0)
        c_best = min(c_best, time.process_time() - c0)
    if row:
        CPU[row] = c_best
    return t_best, out


def pyelftools_iterator(path: str) -> int:
    from elftools.elf.elffile import ELFFile

    n = 0
    with open(path, "rb") as f:
        elf = ELFFile(f)
        sec = elf.get_section_by_name(".symtab") or elf.get_section_by_name(".dynsym")
        if sec is None:
            return 0
        for sym in sec.iter_symbols():
            if sym["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC") and sym.name:
                n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default=shutil.which("node") or "/usr/bin/node")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-iterator", action="store_true",
                    help="leave out pyelftools' iterator (seconds per run)")
    args = ap.parse_args()
    path = os.path.realpath(args.file)
    info = elfsym.read_elf_info(path)
    print(f"file: {path} ({info.size / 2**20:.1f} MiB, {info.elf_type}, build-id "
          f"{info.build_id or 'none'})")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores shared: "
          "figures are noisy when other work runs)")
    rows: list[tuple[str, float, str]] = []
    if not args.skip_iterator:
        t, n = best(lambda: pyelftools_iterator(path), 1, "pyelftools iter_symbols (1 run)")
        rows.append(("pyelftools iter_symbols (1 run)", t, f"{n} function symbols"))
    t, res = best(lambda: elfsym.read_symbols_uncached(path), args.repeat,
                  "jitprof bulk decode")
    table = res[1]  # type: ignore[index]
    rows.append(("jitprof bulk decode", t, f"{len(table)} functions kept from {table.source}"
                                          " (aliases merged)"))
    tmp = tempfile.mkdtemp(prefix="jitprof-elfbench-")
    try:
        def cold() -> object:
            shutil.rmtree(os.path.join(tmp, "elfsym"), ignore_errors=True)
            return elfsym.read_symbols(path, cache=elfsym.SymbolCache(tmp))

        t, _ = best(cold, args.repeat, "jitprof read_symbols, cold (+ cache write)")
        rows.append(("jitprof read_symbols, cold (+ cache write)", t, ""))
        cache = elfsym.SymbolCache(tmp)
        t, _ = best(lambda: elfsym.read_symbols(path, cache=cache), args.repeat,
                    "jitprof read_symbols, cached")
        size = sum(e.stat().st_size for e in os.scandir(os.path.join(tmp, "elfsym")))
        rows.append(("jitprof read_symbols, cached", t, f"cache entry {size / 2**20:.1f} MiB, "
                                                       f"{cache.hits} hits"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    nm = shutil.which("nm")
    if nm:
        def run_nm() -> object:
            return subprocess.run([nm, "--defined-only", path], stdout=subprocess.DEVNULL,
                                  check=False)

        t, _ = best(run_nm, args.repeat)
        rows.append(("nm --defined-only (all symbols)", t, "native floor"))
    width = max(len(r[0]) for r in rows)
    print(f"{'':<{width}}  {'wall s':>8}  {'cpu s':>7}")
    for name, t, note in rows:
        cpu = f"{CPU[name]:7.3f}" if name in CPU else f"{'-':>7}"
        print(f"{name:<{width}}  {t:8.3f}  {cpu}  {note}")


if __name__ == "__main__":
    main()
