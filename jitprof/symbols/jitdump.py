"""Read jitdump files (``jit-<pid>.dump``) and name JIT addresses by the code loaded there
at a given time.

Format (Linux ``tools/perf/Documentation/jitdump-specification.txt``; perf-formats.md 2.6):
a 40-byte header (magic ``0x4A695444`` "JiTD" in the writer's byte order, version,
header size, elf_mach, pad, pid, timestamp, flags) then records, each a 16-byte prefix
(id, total size, timestamp) and a payload: CODE_LOAD (0), CODE_MOVE (1), CODE_DEBUG_INFO
(2), CODE_CLOSE (3), CODE_UNWINDING_INFO (4). Either byte order is read (a byte-swapped
magic swaps every field). Unknown record ids are skipped by their size. A last record cut
short (the JIT is still writing) ends the reading and is reported in ``truncated``; a file
that is no jitdump, or a record whose size cannot be right, is an ``InputError`` naming
the file and the byte offset.

Naming by time: every CODE_LOAD (and CODE_MOVE, at its new address) is a ``CodeLoad``
with the record's timestamp (CLOCK_MONOTONIC ns unless ``arch_timestamp``). The code at
address A at time T is the latest load at or before T whose range holds A
(``JitTimeline.at``); ``JitTimeline.latest`` ignores time (the load written last wins,
as jitprof's perf-map rule). Cost: parsing is one pass over the file (the code bytes are
skipped, never copied); the timeline is two sorts (O(n log n)) and a lookup is a bisect
plus a walk back over the ranges that still reach the address.
"""

from __future__ import annotations

import mmap
import os
import struct
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from jitprof.errors import InputError

MAGIC = 0x4A695444
HEADER_SIZE = 40
PREFIX_SIZE = 16
FLAG_ARCH_TIMESTAMP = 1  # JITDUMP_FLAGS_ARCH_TIMESTAMP: record times are TSC, not ns
# V8 marks its header's pad1 with 0xDEADBEEF, and writes every DEBUG_INFO address 0x40
# (kElfHeaderSize) too high, for where old `perf inject` placed the code in its ELF files
# (v8 src/diagnostics/perf-jit.cc LogWriteDebugInfo): taken off again here.
V8_PAD = 0xDEADBEEF
V8_DEBUG_ADDR_BIAS = 0x40

CODE_LOAD, CODE_MOVE, CODE_DEBUG_INFO, CODE_CLOSE, CODE_UNWINDING_INFO = range(5)
RECORD_NAMES = {CODE_LOAD: "CODE_LOAD", CODE_MOVE: "CODE_MOVE",
                CODE_DEBUG_INFO: "CODE_DEBUG_INFO", CODE_CLOSE: "CODE_CLOSE",
                CODE_UNWINDING_INFO: "CODE_UNWINDING_INFO"}
_SAME_FILE = b"\xff"  # a DEBUG_INFO entry whose file is the previous entry's


@dataclass(frozen=True, slots=True)
class SourceLine:
    """A DEBUG_INFO entry: code from ``addr`` on comes from ``file:line`` (V8 puts the
    column in ``discrim``)."""

    addr: int
    file: str
    line: int
    discrim: int


@dataclass(frozen=True, slots=True)
class CodeLoad:
    """Code ``[start, start + size)`` named ``name`` from ``time`` on. ``order`` is the
    record's place among the loads (file order); ``offset`` its byte offset in the file;
    ``moved`` marks a CODE_MOVE (``start`` is the new address)."""

    time: int
    start: int
    size: int
    name: str
    index: int
    order: int
    offset: int
    moved: bool = False
    lines: tuple[SourceLine, ...] = ()

    @property
    def end(self) -> int:
        return self.start + max(self.size, 1)

    def source_line(self, addr: int) -> SourceLine | None:
        """The DEBUG_INFO entry for ``addr`` (the last one at or below it), if any."""
        if not self.lines:
            return None
        i = bisect_right([ln.addr for ln in self.lines], addr) - 1
        return self.lines[i] if i >= 0 else None


@dataclass(slots=True)
class JitDump:
    """One parsed jitdump file."""

    path: str
    byte_order: str  # "<" little or ">" big endian, as the writer wrote it
    version: int
    elf_mach: int
    pid: int
    timestamp: int
    flags: int
    loads: list[CodeLoad] = field(default_factory=list)  # file order
    counts: dict[str, int] = field(default_factory=dict)  # records by kind
    unknown_records: int = 0
    bad_debug_info: int = 0  # DEBUG_INFO records whose entries could not be read (dropped)
    closed: bool = False  # a CODE_CLOSE was read
    truncated: str | None = None  # why the reading stopped early, with the byte offset
    size: int = 0  # bytes in the file
    first_time: int | None = None  # record timestamps (ns unless arch_timestamp)
    last_time: int | None = None

    @property
    def arch_timestamp(self) -> bool:
        return bool(self.flags & FLAG_ARCH_TIMESTAMP)

    def timeline(self) -> JitTimeline:
        return JitTimeline(self.loads)

    def summary(self) -> str:
        kinds = ", ".join(f"{v} {k}" for k, v in self.counts.items() if v)
        out = f"{self.path}: pid {self.pid}, {kinds or 'no records'}"
        if self.unknown_records:
            out += f", {self.unknown_records} unknown records skipped"
        if self.bad_debug_info:
            out += f", {self.bad_debug_info} unreadable CODE_DEBUG_INFO dropped"
        if self.truncated:
            out += f"; {self.truncated}"
        return out


def _fail(path: str, offset: int, message: str) -> InputError:
    return InputError(path, f"byte {offset}: {message}")


def parse_jitdump(data: bytes | mmap.mmap, path: str) -> JitDump:
    """Parse a whole jitdump held in ``data``; ``path`` is for messages."""
    return _read_records(data, path, _read_header(data, path))


@dataclass(frozen=True, slots=True)
class _Header:
    """A jitdump's file header: byte order, fields, its size, and the bias V8 adds to
    DEBUG_INFO addresses (0: none)."""

    bo: str
    version: int
    elf_mach: int
    pid: int
    timestamp: int
    flags: int
    size: int
    bias: int


def _read_header(data: bytes | mmap.mmap, path: str) -> _Header:
    size = len(data)
    if size < 4:
        raise _fail(path, 0, f"not a jitdump file ({size} bytes, no header)")
    magic_le = struct.unpack_from("<I", data, 0)[0]
    if magic_le == MAGIC:
        bo = "<"
    elif struct.unpack_from(">I", data, 0)[0] == MAGIC:
        bo = ">"
    else:
        raise _fail(path, 0, f"not a jitdump file (magic 0x{magic_le:08x}, want 0x{MAGIC:08x} "
                    "'JiTD' in either byte order)")
    if size < HEADER_SIZE:
        raise _fail(path, size, f"header cut short ({size} of {HEADER_SIZE} bytes)")
    _m, version, hsize, elf_mach, pad, pid, ts, flags = struct.unpack_from(bo + "IIIIIIQQ",
                                                                            data, 0)
    if hsize < HEADER_SIZE:
        raise _fail(path, 8, f"header size {hsize} is smaller than {HEADER_SIZE}")
    return _Header(bo, version, elf_mach, pid, ts, flags, hsize,
                   V8_DEBUG_ADDR_BIAS if pad == V8_PAD else 0)


def _read_records(data: bytes | mmap.mmap, path: str, h: _Header) -> JitDump:
    """The records after the header, read in file order into a new ``JitDump``."""
    size = len(data)
    bo, bias, hsize = h.bo, h.bias, h.size
    jd = JitDump(path, bo, h.version, h.elf_mach, h.pid, h.timestamp, h.flags, size=size,
                 counts={n: 0 for n in RECORD_NAMES.values()})
    prefix = struct.Struct(bo + "IIQ")
    load_s = struct.Struct(bo + "IIQQQQ")
    move_s = struct.Struct(bo + "IIQQQQQ")
    dbg_s = struct.Struct(bo + "QQ")
    pos = min(hsize, size)
    if hsize > size:
        jd.truncated = f"header says {hsize} bytes, the file has {size}"
        return jd
    pending_lines: dict[int, tuple[SourceLine, ...]] = {}  # DEBUG_INFO before its load
    loads = _LoadContext(path, load_s, pending_lines, bias)
    names_by_index: dict[int, CodeLoad] = {}
    first = last = None
    while pos < size:
        if size - pos < PREFIX_SIZE:
            jd.truncated = (f"last record cut short at byte {pos} ({size - pos} of at least "
                            f"{PREFIX_SIZE} bytes; is the JIT still writing?)")
            break
        rid, rsize, rts = prefix.unpack_from(data, pos)
        if rsize < PREFIX_SIZE:
            raise _fail(path, pos, f"record size {rsize} is smaller than its {PREFIX_SIZE}-byte "
                        f"prefix (record id {rid})")
        if pos + rsize > size:
            what = RECORD_NAMES.get(rid, f"record id {rid}")
            jd.truncated = (f"last record ({what}) cut short at byte {pos} ({size - pos} of "
                            f"{rsize} bytes; is the JIT still writing?)")
            break
        body = pos + PREFIX_SIZE
        end = pos + rsize
        if rid in RECORD_NAMES:
            if first is None or rts < first:
                first = rts
            if last is None or rts > last:
                last = rts
        if rid == CODE_LOAD:
            ld = _code_load(data, pos, (rsize, rts), len(jd.loads), loads)
            pending_lines.pop(ld.start, None)
            jd.loads.append(ld)
            names_by_index[ld.index] = ld
        elif rid == CODE_MOVE:
            if body + move_s.size > end:
                raise _fail(path, pos, f"CODE_MOVE of {rsize} bytes is too short for its fields")
            _pid, _tid, _vma, old, new, code_size, index = move_s.unpack_from(data, body)
            src = names_by_index.get(index)
            name = src.name if src is not None else f"[moved code #{index}]"
            lines = tuple(SourceLine(ln.addr - old + new, ln.file, ln.line, ln.discrim)
                          for ln in src.lines) if src is not None else ()
            ld = CodeLoad(rts, new, code_size, name, index, len(jd.loads), pos, moved=True,
                          lines=lines)
            jd.loads.append(ld)
            names_by_index[index] = ld
        elif rid == CODE_DEBUG_INFO:
            if body + dbg_s.size > end:
                raise _fail(path, pos, f"CODE_DEBUG_INFO of {rsize} bytes is too short")
            code_addr, nr = dbg_s.unpack_from(data, body)
            entries = _debug_entries(data, body + dbg_s.size, end, code_addr, nr, bias, bo)
            if entries is None:
                jd.bad_debug_info += 1
            else:
                pending_lines[code_addr] = entries
        elif rid == CODE_CLOSE:
            jd.closed = True
        elif rid != CODE_UNWINDING_INFO:
            jd.unknown_records += 1
        if rid in RECORD_NAMES:
            jd.counts[RECORD_NAMES[rid]] += 1
        pos = end
    jd.first_time, jd.last_time = first, last
    return jd




@dataclass(frozen=True, slots=True)
class _LoadContext:
    """What decoding a CODE_LOAD needs beside the record: the path (for messages), the
    record's struct, the DEBUG_INFO lines read before their load (by code address; read
    here, not changed) and V8's address bias."""

    path: str
    fields: struct.Struct
    pending_lines: dict[int, tuple[SourceLine, ...]]
    bias: int


def _code_load(data: bytes | mmap.mmap, pos: int, size_time: tuple[int, int], order: int,
               ctx: _LoadContext) -> CodeLoad:
    """The CODE_LOAD record at byte ``pos`` (its size and timestamp: ``size_time``), the
    ``order``-th load; its source lines are the DEBUG_INFO read before it."""
    rsize, rts = size_time
    body, end = pos + PREFIX_SIZE, pos + rsize
    if body + ctx.fields.size > end:
        raise _fail(ctx.path, pos, f"CODE_LOAD of {rsize} bytes is too short for its fields")
    _pid, _tid, _vma, code_addr, code_size, index = ctx.fields.unpack_from(data, body)
    name_at = body + ctx.fields.size
    nul = data.find(b"\0", name_at, end)
    if nul < 0 or code_size > end - nul - 1:
        raise _fail(ctx.path, pos, f"CODE_LOAD of {rsize} bytes cannot hold its name and "
                    f"{code_size} bytes of code")
    name = bytes(data[name_at:nul]).decode("utf-8", "replace")
    lines = ctx.pending_lines.get(code_addr, ())
    if ctx.bias and lines:
        lines = _repair_v8_files(lines, name)
    return CodeLoad(rts, code_addr, code_size, name, index, order, pos, lines=lines)


_MAX_CODE_SPAN = 1 << 24  # a DEBUG_INFO entry further than this from its code is misread


def _debug_entries(data: bytes | mmap.mmap, at: int, end: int, code_addr: int, nr: int,
                   bias: int, bo: str) -> tuple[SourceLine, ...] | None:
    """The entries of one DEBUG_INFO record, sorted by address; None if they cannot be
    read. A file name normally ends at its NUL; node 20's V8 writes long script names
    from freed memory (their first 16 bytes are heap pointers, which may hold NULs), so
    a NUL after which no plausible entry follows is taken as part of the name."""
    entry_s = struct.Struct(bo + "Qii")

    def entry_at(k: int) -> bool:
        if k + entry_s.size > end:
            return False
        addr, line, _d = entry_s.unpack_from(data, k)
        return 0 <= addr - bias - code_addr < _MAX_CODE_SPAN and line >= 0

    def record_ends_at(k: int) -> bool:
        return end - k < 8 and not any(data[k:end])

    out: list[SourceLine] = []
    prev = ""
    for i in range(nr):
        if not entry_at(at):
            return None
        addr, line, discrim = entry_s.unpack_from(data, at)
        at += entry_s.size
        nul = data.find(b"\0", at, end)
        last = i == nr - 1
        while nul >= 0 and not (record_ends_at(nul + 1) if last else entry_at(nul + 1)):
            nul = data.find(b"\0", nul + 1, end)
        if nul < 0:
            return None
        raw = bytes(data[at:nul])
        at = nul + 1
        fname = prev if raw == _SAME_FILE else raw.decode("utf-8", "replace")
        prev = fname
        out.append(SourceLine(addr - bias, fname, line, discrim))
    out.sort(key=lambda e: e.addr)
    return tuple(out)


def _repair_v8_files(lines: tuple[SourceLine, ...], load_name: str
                     ) -> tuple[SourceLine, ...]:
    """node 20's V8 writes a long script name with its first 16 bytes overwritten (see
    ``_debug_entries``); its CODE_LOAD name (``JS:*fib /path/t.js:2:13``) holds the whole
    path: where the broken name ends like that path, take the path."""
    _kind, sep, rest = load_name.partition(" ")
    path = rest.rsplit(":", 2)[0] if sep and rest.count(":") >= 2 else ""
    if len(path) <= 16:
        return lines
    tail = path[16:]

    def fixed(f: str) -> str:
        head = f[: max(len(f) - len(tail), 0)]
        broken = any(c == "\ufffd" or not c.isprintable() for c in head)
        return path if broken and f.endswith(tail) else f

    return tuple(SourceLine(x.addr, fixed(x.file), x.line, x.discrim) for x in lines)


def load_jitdump(path: str) -> JitDump:
    """Read and parse a jitdump file (mapped, not copied: its code bytes are skipped)."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                raise _fail(path, 0, "not a jitdump file (empty)")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                return parse_jitdump(m, path)
    except OSError as e:
        raise InputError(path, f"cannot read jitdump: {e.strerror or e}") from None


class JitTimeline:
    """The loads of one process, for "what code was at address A at time T".

    Policy: at time T, the latest load (by time, then file order) at or before T whose
    range holds A; ``latest`` (no time) takes the load written last. A zero-size load
    names its first byte only. A move leaves the old range to whatever is loaded there
    later (no "freed" marker)."""

    def __init__(self, loads: list[CodeLoad]) -> None:
        self.loads = loads
        order = sorted(range(len(loads)), key=lambda i: loads[i].start)
        self._by_start = order
        self._starts = [loads[i].start for i in order]
        self._ends = [loads[i].end for i in order]
        self._reach = list(accumulate(self._ends, max))  # max end so far, start order

    def __len__(self) -> int:
        return len(self.loads)

    def covering(self, addr: int) -> list[CodeLoad]:
        """Every load whose range holds ``addr``, by (time, file order)."""
        k = bisect_right(self._starts, addr) - 1
        out: list[CodeLoad] = []
        while k >= 0 and self._reach[k] > addr:
            if self._ends[k] > addr:
                out.append(self.loads[self._by_start[k]])
            k -= 1
        out.sort(key=lambda c: (c.time, c.order))
        return out

    def latest(self, addr: int) -> CodeLoad | None:
        """The load written last among those holding ``addr`` (time ignored)."""
        best: CodeLoad | None = None
        for c in self.covering(addr):
            if best is None or c.order > best.order:
                best = c
        return best

    def at(self, addr: int, time: int) -> CodeLoad | None:
        """The code at ``addr`` at ``time`` (same clock as the records); None if nothing
        covering ``addr`` had been loaded by then."""
        return at_time(self.covering(addr), time)


def at_time(versions: list[CodeLoad], time: int) -> CodeLoad | None:
    """Among ``versions`` (sorted by time, then file order), the last one at or before
    ``time``."""
    i = bisect_right([v.time for v in versions], time)
    return versions[i - 1] if i else None


def find_jitdump(pid: int, dirs: list[str]) -> str | None:
    """``jit-<pid>.dump`` in the first of ``dirs`` that has one."""
    for d in dirs:
        p = os.path.join(d, f"jit-{pid}.dump")
        if os.path.isfile(p):
            return p
    return None


def time_slack_ns(times: list[float]) -> int:
    """How much later than printed a sample may have happened: perf script prints
    microseconds by default (the nanoseconds cut off), all nine digits with ``--ns``."""
    for t in times[:1000]:
        ns = round(t * 1e9)
        if ns % 1000:
            return 0
    return 999

