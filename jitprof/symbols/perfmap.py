"""Read perf map files (``/tmp/perf-<pid>.map``) and resolve addresses by "later line wins".

Grammar (one entry a line): ``START SIZE NAME`` where START and SIZE are hex with or
without ``0x`` in any case, separated by blanks; NAME is the rest of the line after one
blank or tab, kept verbatim (spaces, tabs, parentheses, quotes, unicode). A trailing
``\\n`` and ``\\r`` are stripped; an unterminated last line is kept whole (perf drops its
last character; we do not); blank lines are ignored. Anything else (bad or partial hex
like ``10q``, a sign, a missing or blank name, a range whose end START+SIZE does not fit in
64 bits) is a bad line: skipped and counted with its line number, or an ``InputError`` under
``strict``.

Semantics: an entry covers ``[START, START+SIZE)``; a zero-size entry is kept, counted and
covers its START byte only. Where ranges overlap, the entry of the later line wins over
the part of the earlier range it overlaps (JITs append as they reuse code space).

Cost: a clean map (single spaces, plain hex: what JITs write) is parsed with whole-list
operations, a map with any odd line by a careful per-line parser (about 3x slower); the
overlap count is two sorts and a bisect per line in C. Only the entries hit by sample
addresses go into the interval index (``index_for``: O(n log m) for n lines and m distinct
addresses, in C). Figures for 1,000,000 lines are in benchmarks/README.md.
"""

from __future__ import annotations

import gc
import os
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate, chain, compress, repeat
from operator import add, attrgetter, gt, itemgetter, lt, methodcaller, or_
from typing import Any

from jitprof.errors import InputError
from jitprof.model import Diagnostic
from jitprof.symbols.intervals import Entry, LatestWinsIndex

_MAX_ADDR = 1 << 64
# The full grammar, used only for lines the fast path could not take.
_LINE_RX = re.compile(
    rb"[ \t]*(?:0[xX])?([0-9a-fA-F]+)[ \t]+(?:0[xX])?([0-9a-fA-F]+)[ \t](.*)", re.S
)
_NO_NAME_RX = re.compile(rb"[ \t]*(?:0[xX])?[0-9a-fA-F]+[ \t]+(?:0[xX])?[0-9a-fA-F]+[ \t]*")
_PID_RX = re.compile(r"perf-(\d+)\.map")
MAX_KEPT_DIAGNOSTICS = 50
# stabbing walks past this many steps mean huge ranges cover most others: bisect per line
_WALK_STEPS_PER_ADDRESS = 16
_WALK_STEPS_BASE = 1024


def pid_from_map_name(path: str) -> int | None:
    """The pid in a map's file name (``perf-1234.map`` -> 1234), if any."""
    m = _PID_RX.search(os.path.basename(path))
    return int(m.group(1)) if m else None


@dataclass(slots=True)
class PerfMap:
    """A parsed map: parallel arrays in file order plus health counters. ``ends`` are
    exclusive ends of what each entry names: ``start + size``, or ``start + 1`` for a
    zero-size entry."""

    path: str
    pid: int | None
    starts: array = field(default_factory=lambda: array("Q"))
    ends: array = field(default_factory=lambda: array("Q"))
    linenos: array = field(default_factory=lambda: array("L"))
    line_starts: array = field(default_factory=lambda: array("Q"))  # offsets in ``data``
    data: bytes = b""
    # the same entries in start order, with the running maximum of their ends, for
    # stabbing queries (set by ``sort_index``)
    by_start: array = field(default_factory=lambda: array("L"))
    sorted_starts: array = field(default_factory=lambda: array("Q"))
    sorted_ends: array = field(default_factory=lambda: array("Q"))
    max_end_so_far: array = field(default_factory=lambda: array("Q"))
    lines: int = 0
    blank: int = 0
    bad: int = 0
    zero_size: int = 0
    overlapping: int = 0
    mtime: float | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # (starts, ends, line index) of the disjoint pieces each byte's latest line owns, as
    # numpy arrays sorted by start (made by ``pieces``, once)
    _pieces: Any = None

    def __len__(self) -> int:
        return len(self.starts)

    def raw_name(self, i: int) -> bytes:
        """The name's bytes, cut from the line again (names are only wanted for the few
        entries samples hit, so they are not kept apart)."""
        at = self.line_starts[i]
        end = self.data.find(b"\n", at)
        line = self.data[at : end if end >= 0 else len(self.data)]
        parts = line.split(b" ", 2)  # the usual "start size name": no regex
        if len(parts) == 3 and parts[0].isalnum() and parts[1].isalnum() and parts[2]:
            return parts[2]
        m = _LINE_RX.fullmatch(line)
        assert m is not None  # the line was parsed before
        return m.group(3)

    def pieces(self) -> tuple[Any, Any, Any]:
        """Every byte to the latest line holding it: disjoint pieces (starts, ends, line
        index), sorted, as numpy arrays. Lines that overlap no other line are pieces as
        they are (found with one sort); only the overlapping ones go through the sweep of
        ``latest_pieces``. Made once per map: O(n log n) for n lines."""
        if self._pieces is None:
            import numpy as np

            if len(self.sorted_starts) != len(self.starts):
                self.sort_index()
            n = len(self.starts)
            order = (np.frombuffer(self.by_start, dtype=f"u{self.by_start.itemsize}")
                     .astype(np.int64) if n else np.zeros(0, dtype=np.int64))
            s = np.frombuffer(self.sorted_starts, dtype=np.uint64) if n else np.zeros(
                0, dtype=np.uint64)
            e = np.frombuffer(self.sorted_ends, dtype=np.uint64) if n else s
            top = np.frombuffer(self.max_end_so_far, dtype=np.uint64) if n else s
            crowded = np.zeros(n, dtype=bool)
            if n > 1:
                crowded[1:] |= s[1:] < top[:-1]  # meets an earlier range
                crowded[:-1] |= e[:-1] > s[1:]  # meets a later one
            clean = ~crowded
            cs, ce, cl = s[clean], e[clean], order[clean]
            idx = np.flatnonzero(crowded)
            if idx.size:
                got = latest_pieces([int(x) for x in s[idx]], [int(x) for x in e[idx]],
                                    order[idx].tolist())
                if got:
                    ps = np.array([g[0] for g in got], dtype=np.uint64)
                    pe = np.array([g[1] for g in got], dtype=np.uint64)
                    pl = np.array([g[2] for g in got], dtype=np.int64)
                    srt = np.argsort(np.concatenate((cs, ps)), kind="stable")
                    cs = np.concatenate((cs, ps))[srt]
                    ce = np.concatenate((ce, pe))[srt]
                    cl = np.concatenate((cl, pl))[srt]
            self._pieces = (cs, ce, cl)
        return self._pieces

    def resolve(self, addrs: Any) -> Any:
        """The line (index in file order) whose entry names each address of the uint64
        array ``addrs`` by later-line-wins, or -1: one ``searchsorted`` over ``pieces``."""
        import numpy as np

        ps, pe, pl = self.pieces()
        if not len(ps) or not len(addrs):
            return np.full(len(addrs), -1, dtype=np.int64)
        from jitprof.model import unique_inverse

        if len(addrs) > 4096:  # sorted queries walk the pieces in order (cache friendly)
            uniq, inv = unique_inverse(addrs)
            return self._resolve_sorted(uniq)[inv]
        return self._resolve_sorted(addrs)

    def _resolve_sorted(self, addrs: Any) -> Any:
        import numpy as np

        ps, pe, pl = self.pieces()
        i = np.searchsorted(ps, addrs, side="right") - 1
        ok = i >= 0
        j = np.where(ok, i, 0)
        ok &= addrs < pe[j]
        return np.where(ok, pl[j], -1)

    def name(self, i: int) -> str:
        return self.raw_name(i).decode("utf-8", "replace")

    def entry(self, i: int) -> Entry:
        return Entry(self.starts[i], self.ends[i], self.linenos[i], self.name(i))

    def sort_index(self) -> None:
        """Sort the entries by start (O(n log n), once) and count overlapping lines: line
        k in start order meets an earlier one iff start_k < max(end_j, j < k), and a
        later one iff end_k > start_(k+1)."""
        n = len(self.starts)
        order = sorted(range(n), key=self.starts.__getitem__)
        s = list(map(self.starts.__getitem__, order))
        e = list(map(self.ends.__getitem__, order))
        top = list(accumulate(e, max))
        if n > 1:
            meets_earlier = map(lt, s[1:], top)
            meets_later = map(gt, e, s[1:])
            flags = map(or_, chain((False,), meets_earlier), chain(meets_later, (False,)))
            self.overlapping = sum(flags)
        self.by_start = array("L", order)
        self.sorted_starts = array("Q", s)
        self.sorted_ends = array("Q", e)
        self.max_end_so_far = array("Q", top)

    def _hits(self, addrs: list[int]) -> list[int]:
        """Lines (indices, in file order) whose range holds one of the sorted ``addrs``.

        Per address: the last entry starting at or before it, then back while the running
        maximum of ends still passes it - a few steps unless a huge early range covers
        everything, when one C-level bisect per map line is cheaper."""
        if not addrs:
            return []
        if len(self.sorted_starts) != len(self.starts):
            self.sort_index()
        starts, ends, top, order = (self.sorted_starts, self.sorted_ends, self.max_end_so_far,
                                    self.by_start)
        hits: set[int] = set()
        budget = _WALK_STEPS_PER_ADDRESS * len(addrs) + _WALK_STEPS_BASE
        for a in addrs:
            k = bisect_right(starts, a) - 1
            while k >= 0 and top[k] > a:
                if ends[k] > a:
                    hits.add(order[k])
                k -= 1
                budget -= 1
            if budget < 0:
                return self._hits_by_lines(addrs)
        return sorted(hits)

    def _hits_by_lines(self, addrs: list[int]) -> list[int]:
        ext = [*addrs, _MAX_ADDR + 1]  # a sentinel past every end
        first = map(ext.__getitem__, map(bisect_left, repeat(addrs), self.starts))
        return list(compress(range(len(self.starts)), map(lt, first, self.ends)))

    def index_for(self, addresses: Iterable[int]) -> LatestWinsIndex:
        """An index that answers exactly for ``addresses``: holds every entry that
        contains at least one of them (so the latest such entry is always present)."""
        return LatestWinsIndex(self.entry(i) for i in self._hits(sorted(set(addresses))))

    def lookup_all(self, addresses: Iterable[int]) -> dict[int, Entry]:
        """Resolve many addresses at once: address -> winning entry (missing if none).

        Hit entries that overlap no other hit entry name their addresses outright; the
        ones in reused code space (overlapping each other) go into the interval tree,
        which gives each of their addresses to the latest line holding it. So the tree
        holds only what samples hit where the JIT reused memory."""
        addrs = sorted(set(addresses))
        entries = [self.entry(i) for i in self._hits(addrs)]
        entries.sort(key=attrgetter("start"))
        crowded = bytearray(len(entries))
        reach = -1
        reach_i = -1
        for i, e in enumerate(entries):  # sweep in start order: who meets whom
            if e.start < reach:
                crowded[i] = crowded[reach_i] = 1
            if e.end > reach:
                reach, reach_i = e.end, i
        out: dict[int, Entry] = {}
        for e, c in zip(entries, crowded, strict=True):
            if not c:
                inside = addrs[bisect_left(addrs, e.start) : bisect_left(addrs, e.end)]
                out.update(zip(inside, repeat(e)))
        reused = [e for e, c in zip(entries, crowded, strict=True) if c]
        if reused:
            index = LatestWinsIndex(reused)
            for e in reused:
                for a in addrs[bisect_left(addrs, e.start) : bisect_left(addrs, e.end)]:
                    if a not in out:
                        best = index.lookup(a)
                        if best is not None:
                            out[a] = best
        return out


def latest_pieces(starts: list[int], ends: list[int], order: list[int]
                  ) -> list[tuple[int, int, int]]:
    """Disjoint pieces ``(start, end, owner)`` of ranges ``[starts[k], ends[k])``: each
    byte goes to the covering range of the highest ``order`` (a later map line). A sweep
    over the range bounds with a heap of the open ranges: O(n log n)."""
    import heapq

    n = len(starts)
    bounds = sorted(set(starts) | set(ends))
    by_start = sorted(range(n), key=starts.__getitem__)
    heap: list[tuple[int, int]] = []  # (-order, k) of ranges open at the sweep point
    out: list[tuple[int, int, int]] = []
    j = 0
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        while j < n and starts[by_start[j]] <= lo:
            k = by_start[j]
            heapq.heappush(heap, (-order[k], k))
            j += 1
        while heap and ends[heap[0][1]] <= lo:  # ended: drop lazily
            heapq.heappop(heap)
        if not heap:
            continue
        owner = order[heap[0][1]]
        if out and out[-1][1] == lo and out[-1][2] == owner:
            out[-1] = (out[-1][0], hi, owner)
        else:
            out.append((lo, hi, owner))
    return out


_CHUNK_LINES = 1 << 16  # lines parsed at a time: bounds the temporary lists


def _parse_clean(pm: PerfMap, lines: list[bytes], first_lineno: int, offsets: list[int]) -> bool:
    """The fast path for lines that are all "start size name" with single spaces and plain
    hex (what JITs write): whole-list operations, no Python code per line. Returns False,
    having changed nothing, if any line needs the careful per-line parser. ``offsets``:
    where each line starts in the map's bytes."""
    parts = list(map(methodcaller("split", b" ", 2), lines))
    if not all(map((3).__eq__, map(len, parts))):
        return False
    a = list(map(itemgetter(0), parts))
    b = list(map(itemgetter(1), parts))
    names = list(map(itemgetter(2), parts))
    del parts
    # isalnum: no sign, blank or "_" that int() would accept; int() then rejects non-hex
    if not (all(map(bytes.isalnum, a)) and all(map(bytes.isalnum, b)) and all(names)):
        return False
    if any(map(bytes.isspace, names)):
        return False
    try:
        starts = list(map(int, a, repeat(16)))
        sizes = list(map(int, b, repeat(16)))
    except ValueError:
        return False
    ends = list(map(add, starts, sizes))
    zero = sizes.count(0)
    if zero:  # a zero-size entry names its start byte
        ends = list(map(add, starts, map(max, sizes, repeat(1))))
    if ends and max(ends) >= _MAX_ADDR:
        return False
    pm.zero_size += zero
    pm.starts.extend(starts)
    pm.ends.extend(ends)
    pm.linenos.extend(range(first_lineno, first_lineno + len(lines)))
    pm.line_starts.extend(offsets)
    return True


def _parse_lines(pm: PerfMap, lines: list[bytes], first_lineno: int, offsets: list[int],
                 strict: bool) -> None:
    """The careful parser: any blank, separator and 0x dialect; bad lines counted."""
    for lineno, line, at in zip(range(first_lineno, first_lineno + len(lines)), lines, offsets,
                                strict=True):
        m = _LINE_RX.fullmatch(line)
        if m is None or not m.group(3).strip():
            if not line.strip():
                pm.blank += 1
                continue
            no_name = m is not None or _NO_NAME_RX.fullmatch(line) is not None
            why = "missing name" if no_name else "not 'START SIZE NAME' in hex"
            _bad(pm, lineno, why, line, strict)
            continue
        s = int(m.group(1), 16)
        z = int(m.group(2), 16)
        if s + max(z, 1) >= _MAX_ADDR:  # the end must fit the u64 arrays (perf wraps it)
            _bad(pm, lineno, "range past the end of the address space", line, strict)
            continue
        if z == 0:
            pm.zero_size += 1
        pm.starts.append(s)
        pm.ends.append(s + max(z, 1))
        pm.linenos.append(lineno)
        pm.line_starts.append(at)


def parse_perf_map(data: bytes, path: str, strict: bool = False) -> PerfMap:
    """Parse a whole map held in ``data``; ``path`` is for messages and the pid. The
    names stay in ``data`` (kept by the PerfMap) and are decoded only when asked for."""
    pm = PerfMap(path=path, pid=pid_from_map_name(path))
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
        if data.endswith(b"\r"):
            data = data[:-1]  # an unterminated last line ending in \r
    pm.data = data
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a million small objects: the cyclic GC only costs time here
    try:
        pos = 0
        lineno = 1
        size = len(data)
        step = _CHUNK_LINES * 64
        while pos < size:
            cut = data.find(b"\n", min(pos + step, size - 1))
            end = size if cut < 0 else cut + 1
            lines = data[pos:end].split(b"\n")
            if lines[-1] == b"":
                lines.pop()  # the chunk ended with a newline
            lens = map(add, map(len, lines), repeat(1))
            offsets = list(accumulate(lens, initial=pos))
            offsets.pop()
            if not _parse_clean(pm, lines, lineno, offsets):
                _parse_lines(pm, lines, lineno, offsets, strict)
            lineno += len(lines)
            pos = end
        pm.lines = lineno - 1
    finally:
        if gc_was_enabled:
            gc.enable()
    pm.sort_index()
    return pm


def _bad(pm: PerfMap, lineno: int, why: str, line: bytes, strict: bool) -> None:
    text = line.decode("utf-8", "replace")
    if len(text) > 60:
        text = text[:57] + "..."
    msg = f"bad map line ({why}): {text!r}"
    if strict:
        raise InputError(pm.path, msg, lineno)
    pm.bad += 1
    if len(pm.diagnostics) < MAX_KEPT_DIAGNOSTICS:
        pm.diagnostics.append(Diagnostic(pm.path, lineno, msg))


def read_map_bytes(path: str) -> tuple[bytes, float]:
    """A map file's bytes (gzip-compressed ones decompressed, like the other inputs) and
    its mtime; ``InputError`` if it cannot be read."""
    import gzip
    import zlib

    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            data = f.read()
    except OSError as e:
        raise InputError(path, f"cannot read map: {e.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise InputError(path, f"cannot read compressed map: {e}") from None
    return data, st.st_mtime


def load_perf_map(path: str, strict: bool = False) -> PerfMap:
    """Read and parse a map file (plain or gzip); ``InputError`` if it cannot be read."""
    data, mtime = read_map_bytes(path)
    pm = parse_perf_map(data, path, strict=strict)
    pm.mtime = mtime
    return pm
