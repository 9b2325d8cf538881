"""The oracle: run ``perf report`` on a perf.data and read its per-symbol percentages."""

from __future__ import annotations

import re
import subprocess
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


def perf_children(perf_data: Path) -> dict[str, tuple[float, float]]:
    """(total %, self %) per symbol name, ``--children``. Names perf shows on several rows
    (C++ overloads print alike without parameters) are left out: their totals overlap,
    so no sum of rows is the total of the name."""
    out: dict[str, tuple[float, float]] = {}
    dup: set[str] = set()
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
