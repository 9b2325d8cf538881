"""The oracle: run ``perf report`` on a perf.data and read its per-symbol percentages."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

_SELF_RX = re.compile(r"^\s+(\d+\.\d+)%\s+\[(.)\]\s+(.*?)\s*$")
_CHILDREN_RX = re.compile(r"^\s+(\d+\.\d+)%\s+(\d+\.\d+)%\s+\[(.)\]\s+(.*?)\s*$")


def _run(perf_data: Path, *extra: str) -> str:
    argv = ["perf", "report", "-i", str(perf_data), "--stdio", "--sort", "sym", "-g", "none",
            "--percent-limit", "0", *extra]
    out = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=600,
                         check=True)
    return out.stdout


def _named(sym: str) -> bool:
    # unresolved rows are printed as raw addresses ("0x00007f...") and differ per address
    return re.fullmatch(r"(0x)?[0-9a-fA-F]+", sym) is None and sym != "[unknown]"


def perf_self(perf_data: Path, *extra: str) -> dict[str, float]:
    """Self % per symbol name (rows with the same name summed), ``--no-children``;
    ``extra``: more perf report options (``--symfs DIR``)."""
    out: dict[str, float] = {}
    for line in _run(perf_data, "--no-children", *extra).splitlines():
        m = _SELF_RX.match(line)
        if m and _named(m.group(3)):
            out[m.group(3)] = out.get(m.group(3), 0.0) + float(m.group(1))
    return out


def perf_unnamed_self(perf_data: Path, *extra: str) -> float:
    """Self % of the rows perf could not name (``[k] 0xffffffff...``, ``[unknown]``)."""
    total = 0.0
    for line in _run(perf_data, "--no-children", *extra).splitlines():
        m = _SELF_RX.match(line)
        if m and not _named(m.group(3)):
            total += float(m.group(1))
    return total


def perf_children(perf_data: Path, dup: set[str] | None = None
                  ) -> dict[str, tuple[float, float]]:
    """(total %, self %) per symbol name, ``--children``. Names perf shows on several rows
    (C++ overloads print alike without parameters) are left out, and added to ``dup``:
    their totals overlap, so no sum of rows is the total of the name."""
    out: dict[str, tuple[float, float]] = {}
    dup = set() if dup is None else dup
    for line in _run(perf_data, "--children").splitlines():
        m = _CHILDREN_RX.match(line)
        if m and _named(m.group(4)):
            name = m.group(4)
            if name in out:
                dup.add(name)
            out[name] = (float(m.group(1)), float(m.group(2)))
    return {k: v for k, v in out.items() if k not in dup}


def map_lines(path: Path) -> list[tuple[int, int, str]]:
    """An independent, minimal map reader for the oracles (JITs write clean lines)."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        a, b, name = line.split(" ", 2)
        out.append((int(a, 16), int(a, 16) + int(b, 16), name))
    return out


def overlapping_names(entries: list[tuple[int, int, str]]) -> set[str]:
    """Names of map lines whose range overlaps another line's: perf's pick there is
    arbitrary, so comparisons with perf report leave them out."""
    ordered = sorted(entries)
    names: set[str] = set()
    for i, (_start, end, name) in enumerate(ordered):
        for start2, _end2, name2 in ordered[i + 1 :]:
            if start2 >= end:
                break
            names |= {name, name2}
    return names


# -- every row: exact periods and sample counts ---------------------------------------------
# ``-n --show-total-period`` prints each row's sample count and period (its weight), and
# ``-t TAB`` keeps names with spaces in one column: the comparisons below are made on exact
# weights, so the ~200 rows of a long tail do not add up perf's 2-decimal rounding.

UNNAMED = "<unnamed>"  # perf's raw-address and [unknown] rows, jitprof's "[...]" rows
REUSED = "<reused range>"  # names of overlapping map lines: perf's pick among them is arbitrary
VDSO = "<[vdso]>"  # with vdso=True: every [vdso] frame (jitprof does not name the vdso's
# functions from symbol-less text, perf reads them from its copy of the vdso image)
SLACK = 0.5  # percentage points: the bound on the sum of |jitprof - perf| over all rows


def perf_rows(perf_data: Path, sort: str, *extra: str) -> list[tuple[tuple[str, ...], int, int]]:
    """``perf report --no-children --sort SORT`` rows as (key columns, samples, period);
    a symbol column loses its ``[.] ``/``[k] `` prefix."""
    argv = ["perf", "report", "-i", str(perf_data), "--stdio", "--sort", sort, "-g", "none",
            "--percent-limit", "0", "--no-children", "-n", "--show-total-period", "-t", "\t",
            *extra]
    text = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=600,
                          check=True).stdout
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = [c.strip() for c in line.split("\t")]
        keys = tuple(re.sub(r"^\[.\] ", "", c) for c in cols[3:])
        rows.append((keys, int(cols[1]), int(cols[2])))
    return rows


def perf_bucket(sym: str, reused: set[str] | frozenset[str] = frozenset()) -> str:
    return REUSED if sym in reused else sym if _named(sym) else UNNAMED


def jitprof_bucket(name: str, reused: set[str] | frozenset[str] = frozenset()) -> str:
    return REUSED if name in reused else UNNAMED if name.startswith("[") or not _named(
        name) else name


def jitprof_self(doc: dict, reused: set[str] | frozenset[str] = frozenset(),
                 vdso: bool = False) -> dict[str, int]:
    """Self weight per bucket from ``jitprof report --format json``."""
    out: dict[str, int] = {}
    for f in doc["functions"]:
        b = VDSO if vdso and f["dso"] == "[vdso]" else jitprof_bucket(f["name"], reused)
        out[b] = out.get(b, 0) + f["self"]
    return out


def perf_self_weights(perf_data: Path, reused: set[str] | frozenset[str] = frozenset(),
                      *extra: str, vdso: bool = False) -> dict[str, int]:
    """Self weight (period) per bucket from ``perf report --sort dso,sym``."""
    out: dict[str, int] = {}
    for (dso, sym), _n, period in perf_rows(perf_data, "dso,sym", *extra):
        b = VDSO if vdso and dso == "[vdso]" else perf_bucket(sym, reused)
        out[b] = out.get(b, 0) + period
    return out


def slack(ours: dict[str, int], theirs: dict[str, int], total: int) -> tuple[float, float]:
    """(sum over all buckets of |ours - theirs|, the largest one), in percentage points."""
    diffs = [abs(ours.get(k, 0) - theirs.get(k, 0)) * 100.0 / total for k in {*ours, *theirs}]
    return sum(diffs), max(diffs, default=0.0)


def compare_weights(ours: dict[str, int], theirs: dict[str, int], total: int, what: str,
                    threshold: float = 0.5, tolerance: float = 0.1, bound: float = SLACK,
                    allowed: Callable[[str, float, float], bool] | None = None,
                    at_least: int = 1) -> float:
    """Every key where either side is above ``threshold`` % within ``tolerance`` points,
    and the sum of |ours - theirs| over every key within ``bound`` points; returns that
    sum. ``allowed(key, ours %, perf %)`` may excuse a row (it still counts in the sum)."""
    pct = {k: (ours.get(k, 0) * 100.0 / total, theirs.get(k, 0) * 100.0 / total)
           for k in {*ours, *theirs}}
    table = sorted(((max(v), k, v) for k, v in pct.items()), reverse=True)[:30]
    compared = 0
    for key, (a, b) in pct.items():
        if max(a, b) <= threshold:
            continue
        if allowed is not None and allowed(key, a, b):
            continue
        assert abs(a - b) <= tolerance, f"{what}: {key}: jitprof {a:.3f}% perf {b:.3f}%: {table}"
        compared += 1
    assert compared >= at_least, f"{what}: nothing above {threshold}%: {table}"
    total_dev, _worst = slack(ours, theirs, total)
    if total_dev:
        rows = sorted(((abs(a - b), k, a, b) for k, (a, b) in pct.items()), reverse=True)[:4]
        print(f"\n{what}: largest |jitprof - perf|: "
              + "; ".join(f"{k} {a:.3f}% vs {b:.3f}%" for _d, k, a, b in rows if _d))
    assert total_dev <= bound, (
        f"{what}: sum of |jitprof - perf| over all rows is {total_dev:.3f} pts: {table}")
    return total_dev


def dso_bucket(dso: str) -> str:
    """perf report prints a file's base name and ``[JIT] tid N``; jitprof the path, ``[JIT]``."""
    if dso.startswith("[JIT]"):
        return "[JIT]"
    return dso.rsplit("/", 1)[-1] if dso.startswith("/") else dso


def perf_dso_weights(perf_data: Path, *extra: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for (dso,), _n, period in perf_rows(perf_data, "dso", *extra):
        out[dso_bucket(dso)] = out.get(dso_bucket(dso), 0) + period
    return out


def jitprof_dso_weights(doc: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for dso, d in doc["dsos"].items():
        out[dso_bucket(dso)] = out.get(dso_bucket(dso), 0) + d["self"]
    return out


def perf_thread_pids(perf_data: Path) -> dict[int, int]:
    """tid -> pid of every sample's thread (``perf script -F pid,tid``)."""
    text = subprocess.run(["perf", "script", "-i", str(perf_data), "-F", "pid,tid"],
                          capture_output=True, text=True, check=True, timeout=600).stdout
    out = {}
    for line in text.splitlines():
        if "/" in line:
            pid, tid = line.split()[0].split("/")
            out[int(tid)] = int(pid)
    return out


def perf_pid_sym_weights(perf_data: Path, reused: set[str] | frozenset[str] = frozenset(),
                         *extra: str, vdso: bool = False) -> dict[int, dict[str, int]]:
    """Self weight per process and symbol bucket from ``--sort pid,sym``, whose ``pid``
    column is the thread id (``TID:comm``): its rows are summed per process."""
    out: dict[int, dict[str, int]] = {}
    pids = perf_thread_pids(perf_data)
    for (tid_comm, dso, sym), _n, period in perf_rows(perf_data, "pid,dso,sym", *extra):
        d = out.setdefault(pids[int(tid_comm.split(":", 1)[0])], {})
        b = VDSO if vdso and dso == "[vdso]" else perf_bucket(sym, reused)
        d[b] = d.get(b, 0) + period
    return out


def check_shares(doc: dict, perf_data: Path, reused: set[str] | frozenset[str] = frozenset(),
                 extra: tuple[str, ...] = (), per_pid: Callable[[int], dict] | None = None,
                 allowed: Callable[[str, float, float], bool] | None = None,
                 vdso: bool = False) -> dict[str, float]:
    """jitprof's JSON report against perf report on the same perf.data, on exact weights:
    the total weight, every function and every DSO where either side is above 0.5%
    within 0.1 pts, and the sum of |jitprof - perf| over all rows within ``SLACK``; with
    ``per_pid`` (pid -> jitprof's report of that process alone, ``--pid``) the same per
    process against ``--sort pid,sym``; ``vdso``: [vdso] frames compared as one row (see
    ``VDSO``). Returns the sums (points) by what was compared,
    and prints them (``pytest -s`` shows the slack of each recording)."""
    theirs = perf_self_weights(perf_data, reused, *extra, vdso=vdso)
    total = doc["weight"]
    assert sum(theirs.values()) == total, ("total weight", total, sum(theirs.values()))
    out = {"sym": compare_weights(jitprof_self(doc, reused, vdso), theirs, total, "self by name",
                                  allowed=allowed)}
    out["dso"] = compare_weights(jitprof_dso_weights(doc), perf_dso_weights(perf_data, *extra),
                                 total, "self by dso")
    if per_pid is not None:
        by_pid = perf_pid_sym_weights(perf_data, reused, *extra, vdso=vdso)
        ours_w: dict[int, int] = {}
        for p in doc["processes"]:  # (a pid is listed once per command name it had)
            ours_w[p["pid"]] = ours_w.get(p["pid"], 0) + p["weight"]
        assert ours_w == {pid: sum(d.values()) for pid, d in by_pid.items()}, (
            "weight by process", ours_w)
        summed = 0.0
        for pid, rows in by_pid.items():
            mine = per_pid(pid)
            assert mine["weight"] == ours_w[pid]
            summed += compare_weights(jitprof_self(mine, reused, vdso), rows, total,
                                      f"self by name of pid {pid}", allowed=allowed,
                                      at_least=0)
        assert summed <= SLACK, ("sum of |jitprof - perf| over all (process, name)", summed)
        out["pid,sym"] = summed
    print(f"\noracle slack (sum of |jitprof - perf|, pts) {perf_data}: "
          + ", ".join(f"{k} {v:.4f}" for k, v in out.items()))
    return out


def perf_script_totals(perf_data: Path) -> tuple[dict[str, int], int]:
    """Total weight per name as perf names the frames (``perf script`` callchains), each
    name counted once per sample, and the weight of all samples: the total % oracle
    where perf report has no ``--children`` (a pipe-mode perf.data)."""
    weights, _counts, weight, _n = _script_totals(perf_data)
    return weights, weight


def perf_script_total_samples(perf_data: Path) -> tuple[dict[str, int], int]:
    """Total samples per name (samples with the name anywhere in their callchain, once
    per sample: a recursive function counts once) as ``perf script`` names the frames,
    and the number of samples. perf report has no such column (its ``Samples`` is the
    self count, with ``--children`` too, perf 6.1)."""
    _weights, counts, _weight, n = _script_totals(perf_data)
    return counts, n


def _script_totals(perf_data: Path) -> tuple[dict[str, int], dict[str, int], int, int]:
    text = subprocess.run(["perf", "script", "-i", str(perf_data), "-F", "period,ip,sym"],
                          capture_output=True, text=True, errors="replace", check=True,
                          timeout=600).stdout
    totals: dict[str, int] = {}
    counts: dict[str, int] = {}
    weight = 0
    samples = 0
    period = 0
    names: set[str] = set()
    for line in [*text.splitlines(), ""]:
        if line.startswith("\t"):
            parts = line.split(None, 1)
            if len(parts) == 2 and _named(parts[1].strip()):
                names.add(parts[1].strip())
        elif line.strip():
            period = int(line.split()[0])
            weight += period
            samples += 1
        else:
            for n in names:
                totals[n] = totals.get(n, 0) + period
                counts[n] = counts.get(n, 0) + 1
            names = set()
    return totals, counts, weight, samples
