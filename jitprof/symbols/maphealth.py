"""Perf map health (what a map holds and what is wrong with it) and tidying (a compacted map
that perf reads the way jitprof reads the original).

Tidy policy: the maps are read as one, in the order given (a later line wins, as in
``jitprof report``); every byte goes to the latest line covering it, so older ranges are
cut or split around newer ones, and a line left with no byte disappears. Adjacent pieces of
one line are one entry; entries are written sorted by address, never overlapping, as
``"%x %x %s\\n"`` (plain lower-case hex, one blank, the name's bytes verbatim). A zero-size
line names its start byte in jitprof, so it is written with size 1. perf then finds exactly
one entry per address, so its rb-tree order no longer matters. Cost: one sort of the range
boundaries and a heap sweep, O(n log n) for n lines.
"""

from __future__ import annotations

import heapq
import os
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain

from jitprof.errors import InputError
from jitprof.model import Kind
from jitprof.model.names import java_class, java_method, map_name
from jitprof.symbols.perfmap import PerfMap, load_perf_map, read_map_bytes

PERF_MIN_NAME = 3  # perf skips map lines whose name is shorter (dso__load_perf_map)
TOP_PREFIXES = 10


@dataclass(slots=True)
class MapReport:
    """The health of one map file (every count is of lines unless it says bytes)."""

    path: str
    lines: int
    entries: int
    blank: int
    bad: int
    bad_lines: list[str]  # "path:line: why", the first ones
    zero_size: int
    overlapping: int  # lines whose range meets another line's
    shadowed: int  # lines that later lines cover entirely (they name nothing)
    cut: int  # lines that later lines cover in part
    duplicates: int  # lines repeating an earlier line (same start, size and name)
    short_names: int  # names perf ignores (shorter than 3 characters)
    crlf: int  # lines ending in \r\n (perf keeps the \r in the name)
    unterminated: bool  # the last line has no \n (perf drops its last character)
    span: tuple[int, int] | None  # lowest start, highest end
    covered_bytes: int  # bytes some line names
    kinds: dict[str, int] = field(default_factory=dict)  # entries by jitprof kind
    prefixes: dict[str, int] = field(default_factory=dict)  # most common name prefixes
    mtime: float | None = None
    # (line, its range and name, line it overlaps, that one's range and name), the first
    # OVERLAPS_LISTED in address order
    overlaps: list[str] = field(default_factory=list)


OVERLAPS_LISTED = 10


def overlap_pairs(pm: PerfMap, limit: int = OVERLAPS_LISTED) -> list[str]:
    """Which lines overlap which: in address order, each line that starts inside the
    widest earlier range, with that range's line ("line 7 [0x10-0x30) PHP::b overlaps
    line 2 [0x0-0x20) PHP::a"). One sort: O(n log n)."""
    order = sorted(range(len(pm)), key=lambda i: (pm.starts[i], pm.ends[i]))
    out: list[str] = []
    widest = -1  # the entry with the highest end so far

    def say(i: int) -> str:
        return f"line {pm.linenos[i]} [{pm.starts[i]:#x}-{pm.ends[i]:#x}) {pm.name(i)}"

    for i in order:
        if pm.ends[i] <= pm.starts[i]:
            continue  # zero-size lines are counted apart
        if widest >= 0 and pm.starts[i] < pm.ends[widest]:
            a, b = sorted((i, widest), key=lambda k: pm.linenos[k])
            out.append(f"{say(b)} overlaps {say(a)}")
            if len(out) >= limit:
                break
        if widest < 0 or pm.ends[i] > pm.ends[widest]:
            widest = i
    return out


def _prefix(name: str) -> str:
    """``JS:*fib /x.js:1:1`` -> ``JS:``; ``PHP::A::b`` -> ``PHP::``; a Java method its
    class (``long Hot.fib(int)`` -> ``Hot``, not its return type); else the first word."""
    java = java_method(name)
    if java is not None:
        return java_class(java[0]) or java[0]
    for sep in ("::", ":"):
        i = name.find(sep)
        if 0 < i < 24 and " " not in name[:i]:
            return name[: i + len(sep)]
    return name.split(" ", 1)[0][:24] if name else ""


def owners(maps: list[PerfMap]) -> list[tuple[int, int, int, int]]:
    """The tidy pieces ``(start, end, map index, entry index)``, sorted by start: each byte
    belongs to the latest line covering it (maps in order, lines in file order)."""
    items = [(pm.starts[i], pm.ends[i], m, i) for m, pm in enumerate(maps) for i in range(len(pm))]
    bounds = sorted(set(chain.from_iterable((s, e) for s, e, _, _ in items)))
    by_start = sorted(range(len(items)), key=lambda k: items[k][0])
    heap: list[tuple[int, int]] = []  # (-order, item) of ranges open at the sweep point
    out: list[tuple[int, int, int, int]] = []
    j = 0
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        while j < len(by_start) and items[by_start[j]][0] <= lo:
            heapq.heappush(heap, (-by_start[j], by_start[j]))
            j += 1
        while heap and items[heap[0][1]][1] <= lo:  # ended: drop lazily
            heapq.heappop(heap)
        if not heap:
            continue
        k = heap[0][1]
        _s, _e, m, i = items[k]
        if out and out[-1][1] == lo and out[-1][2:] == (m, i):
            out[-1] = (out[-1][0], hi, m, i)
        else:
            out.append((lo, hi, m, i))
    return out


def check_map(path: str, pm: PerfMap | None = None,
              pieces: list[tuple[int, int, int, int]] | None = None) -> MapReport:
    """Read ``path`` (never changed) and report its health. ``pieces``: ``owners([pm])``
    if already computed."""
    if pm is None:
        pm = load_perf_map(path)
    raw, _mtime = read_map_bytes(path)
    n = len(pm)
    if pieces is None:
        pieces = owners([pm])
    owned = Counter(i for _s, _e, _m, i in pieces)
    owned_bytes: Counter[int] = Counter()
    for s, e, _m, i in pieces:
        owned_bytes[i] += e - s
    shadowed = sum(1 for i in range(n) if i not in owned)
    cut = sum(1 for i in owned if owned_bytes[i] < pm.ends[i] - pm.starts[i])
    seen: set[tuple[int, int, bytes]] = set()
    duplicates = short = 0
    kinds: Counter[str] = Counter()
    prefixes: Counter[str] = Counter()
    for i in range(n):
        rawname = pm.raw_name(i)
        key = (pm.starts[i], pm.ends[i], rawname)
        if key in seen:
            duplicates += 1
        seen.add(key)
        name = rawname.decode("utf-8", "replace")
        if len(rawname) < PERF_MIN_NAME:
            short += 1
        kind: Kind = map_name(name)[1]
        kinds[kind.value] += 1
        prefixes[_prefix(name)] += 1
    span = (min(pm.starts), max(pm.ends)) if n else None
    return MapReport(
        overlaps=overlap_pairs(pm),
        path=path, lines=pm.lines, entries=n, blank=pm.blank, bad=pm.bad,
        bad_lines=[str(d) for d in pm.diagnostics], zero_size=pm.zero_size,
        overlapping=pm.overlapping, shadowed=shadowed, cut=cut, duplicates=duplicates,
        short_names=short, crlf=raw.count(b"\r\n"),
        unterminated=bool(raw) and not raw.endswith(b"\n"),
        span=span, covered_bytes=sum(e - s for s, e, _m, _i in pieces),
        kinds=dict(kinds.most_common()), prefixes=dict(prefixes.most_common(TOP_PREFIXES)),
        mtime=pm.mtime,
    )


def render_report(r: MapReport) -> str:
    """The report as text, one fact a line."""
    out = [f"{r.path}:"]
    out.append(f"  lines {r.lines:,}: {r.entries:,} entries, {r.bad:,} bad, {r.blank:,} blank")
    for b in r.bad_lines[:10]:
        out.append(f"    {b}")
    if r.bad > len(r.bad_lines[:10]):
        out.append(f"    ... {r.bad - len(r.bad_lines[:10]):,} more bad lines")
    if r.span is not None:
        out.append(f"  address span {r.span[0]:#x}-{r.span[1]:#x} ({r.span[1] - r.span[0]:,} "
                   f"bytes), {r.covered_bytes:,} bytes named")
    out.append(f"  overlaps: {r.overlapping:,} lines meet another; {r.cut:,} cut and "
               f"{r.shadowed:,} hidden entirely by later lines; {r.duplicates:,} duplicates")
    for o in r.overlaps:
        out.append(f"    {o}")
    if r.overlapping and len(r.overlaps) >= OVERLAPS_LISTED:
        out.append("    ... (the first ones in address order)")
    out.append(f"  zero-size: {r.zero_size:,}")
    if r.short_names:
        out.append(f"  {r.short_names:,} names shorter than {PERF_MIN_NAME} characters "
                   "(perf ignores those lines)")
    if r.crlf:
        out.append(f"  {r.crlf:,} lines end in CRLF (perf keeps the \\r in the name)")
    if r.unterminated:
        out.append("  the last line has no newline (perf drops its last character; still "
                   "being written?)")
    out.append("  kinds: " + ", ".join(f"{k} {v:,}" for k, v in r.kinds.items()))
    out.append("  name prefixes: " + ", ".join(f"{k or '(empty)'} {v:,}"
                                               for k, v in r.prefixes.items()))
    return "\n".join(out) + "\n"


def tidy(maps: list[PerfMap], pieces: list[tuple[int, int, int, int]] | None = None
         ) -> list[tuple[int, int, bytes]]:
    """The compacted map: (start, size, name bytes), sorted, not overlapping."""
    if pieces is None:
        pieces = owners(maps)
    return [(s, e - s, maps[m].raw_name(i)) for s, e, m, i in pieces]


def check_output(out: str, inputs: list[str]) -> None:
    """Refuse an output that is one of the inputs (they are never changed)."""
    for p in inputs:
        if os.path.exists(out) and os.path.exists(p) and os.path.samefile(p, out):
            raise InputError(out, "is one of the input maps: choose another output "
                                  "(the input is never changed)")


def write_map(entries: list[tuple[int, int, bytes]], out: str, inputs: list[str]) -> None:
    """Write a map to ``out`` (through a temporary file, then renamed); refuse to
    overwrite one of ``inputs``."""
    check_output(out, inputs)
    tmp = f"{out}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.writelines(b"%x %x %s\n" % (s, n, name) for s, n, name in entries)
        os.replace(tmp, out)
    except OSError as e:
        raise InputError(out, f"cannot write map: {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
