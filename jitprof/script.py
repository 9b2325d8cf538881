"""Stream ``perf script`` text into raw samples: frames interned, stacks counted per thread.

The reader never holds the file. It reads blocks (the text of one sample, between blank
lines) and keeps only distinct frame lines (a dict keyed by the raw text), distinct stacks
with their counts and weights (a dict keyed by the frames' text finds a repeated stack in
one lookup), and the mmap/comm/fork facts needed later to map threads to processes and
addresses to files. Blocks of any other shape go through a line-by-line reader that knows
the whole grammar; both give the same result (tests/test_script_blocks.py). A big file
can be cut at blank lines and read by several processes.

Grammar handled (perf 4.x-6.x; README "jitprof report"):
  header   [comm] [pid/tid | tid] [[cpu]] [time:] [period] event: [ip sym+off (dso)]
           (or, when callchain lines follow, any of comm / tid / period alone; without a
           time, one number before the event is the tid or the period by its printed
           width: "%5d"/"%7d" vs "%10lu", see ``parse_header``)
  frame    <TAB> hexaddr sym[+0xoff] (dso)      (dso parsed as the last balanced "(...)");
           after a header any leading blanks, or none, as other consumers read it
           (``is_frame_line``)
  srcline  "  file:line" after a frame          (counted, ignored)
  blank    ends a sample (samples without -g are one line each, no blank lines)
  comment  "# key : value" (perf script --header): the recording's facts (jitprof.recording)
  PERF_RECORD_MMAP/MMAP2/COMM/FORK/EXIT lines from --show-mmap-events / --show-task-events
Weight is the period when the text has one (as perf report does), else 1 per sample.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import math
import multiprocessing
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from jitprof.errors import EmptyInputError, InputError, JitprofError
from jitprof.model import Diagnostic
from jitprof.names import last_group_start
from jitprof.recording import RecordingFacts, is_header_comment, note_header_comment

MAX_KEPT_DIAGNOSTICS = 50

_TIME_RX = re.compile(r"(?:^|\s)(\d+\.\d+):(?=\s|$)")
_IDS_RX = re.compile(r"(-?\d+)(?:/(-?\d+))?")
_CPU_RX = re.compile(r"\[(\d+)\]")
_INT_RX = re.compile(r"-?\d+")
_MMAP_RX = re.compile(
    r"PERF_RECORD_MMAP2? (-?\d+)/(-?\d+): \[(0x[0-9a-f]+|0)\((0x[0-9a-f]+|0)\) @ (0x[0-9a-f]+|0)"
    r"(?: <([0-9a-f]+)>)?[^\]]*\]: (\S+) (.*)$"  # <build-id>: perf record --buildid-mmap
)
_COMM_RX = re.compile(r"PERF_RECORD_COMM(?: exec)?: (.*):(-?\d+)/(-?\d+)\s*$")
_FORK_RX = re.compile(r"PERF_RECORD_(?:FORK|EXIT)\((-?\d+):(-?\d+)\):\((-?\d+):(-?\d+)\)")
# "-F pid,tid[,ip,sym]": no time, no event, but the unmistakable pid/tid pair
_IDS_ONLY_RX = re.compile(
    r"^(?P<comm>.*?)\s*(?<!\S)(?P<pid>-?\d+)/(?P<tid>-?\d+)(?:\s+|$)(?P<rest>.*)$"
)
_NOTIME_HEADER_RX = re.compile(
    r"^(?P<left>.*?)(?:(?<=\s)|^)(?P<period>\d+\s+)?(?P<event>[\w.=,@+/-][\w.:=,@+/-]*?)"
    r":(?=\s|$)\s*(?P<rest>.*)$"
)


@dataclass(frozen=True, slots=True)
class RawFrame:
    """A frame as perf printed it. ``sym`` has its +0x offset removed ('' if none)."""

    addr: int
    sym: str
    dso: str


class RawFrames:
    """The frame lines read, as columns: address, symbol id, dso id (symbol and dso texts
    interned: a JIT profile has a distinct leaf address in almost every sample, but few
    distinct names). About 16 bytes a frame; ``frames[i]`` gives a ``RawFrame``.

    Frames are not de-duplicated here: the reader's line cache is bounded, so a line met
    again after the cache was emptied gets a new id (it resolves to the same function)."""

    __slots__ = ("addr", "sym", "dso", "syms", "dsos", "_sym_ids", "_dso_ids")

    def __init__(self, frames: Iterable[RawFrame] = ()) -> None:
        self.addr = array("Q")
        self.sym = array("i")
        self.dso = array("i")
        self.syms: list[str] = []
        self.dsos: list[str] = []
        self._sym_ids: dict[str, int] = {}
        self._dso_ids: dict[str, int] = {}
        for f in frames:
            self.append(f)

    def add(self, addr: int, sym: str, dso: str) -> int:
        """Append a frame; its id."""
        si = self._sym_ids.get(sym)
        if si is None:
            si = self._sym_ids[sym] = len(self.syms)
            self.syms.append(sym)
        di = self._dso_ids.get(dso)
        if di is None:
            di = self._dso_ids[dso] = len(self.dsos)
            self.dsos.append(dso)
        fid = len(self.addr)
        self.addr.append(addr)
        self.sym.append(si)
        self.dso.append(di)
        return fid

    def append(self, f: RawFrame) -> None:
        self.add(f.addr, f.sym, f.dso)

    def ids(self, sym: str, dso: str) -> tuple[int, int]:
        """The (symbol id, dso id) of a symbol and dso, interned."""
        return self._intern_sym(sym), self._intern_dso(dso)

    def add_ids(self, addr: int, ids: tuple[int, int]) -> int:
        """Append a frame of interned symbol and dso (``ids``); its id."""
        fid = len(self.addr)
        self.addr.append(addr)
        self.sym.append(ids[0])
        self.dso.append(ids[1])
        return fid

    def copy(self) -> RawFrames:
        """A copy that later additions to this table do not change."""
        out = RawFrames()
        out.addr, out.sym, out.dso = array("Q", self.addr), array("i", self.sym), array(
            "i", self.dso)
        out.syms, out.dsos = list(self.syms), list(self.dsos)
        out._sym_ids, out._dso_ids = dict(self._sym_ids), dict(self._dso_ids)
        return out

    def extend(self, other: RawFrames) -> int:
        """Append another table's frames (ids shift by the returned offset)."""
        offset = len(self.addr)
        smap = [self._intern_sym(s) for s in other.syms]
        dmap = [self._intern_dso(d) for d in other.dsos]
        self.addr.extend(other.addr)
        self.sym.extend(array("i", map(smap.__getitem__, other.sym)))
        self.dso.extend(array("i", map(dmap.__getitem__, other.dso)))
        return offset

    def _intern_sym(self, s: str) -> int:
        si = self._sym_ids.get(s)
        if si is None:
            si = self._sym_ids[s] = len(self.syms)
            self.syms.append(s)
        return si

    def _intern_dso(self, d: str) -> int:
        di = self._dso_ids.get(d)
        if di is None:
            di = self._dso_ids[d] = len(self.dsos)
            self.dsos.append(d)
        return di

    def dso_of(self, i: int) -> str:
        return self.dsos[self.dso[i]]

    def sym_of(self, i: int) -> str:
        return self.syms[self.sym[i]]

    def __len__(self) -> int:
        return len(self.addr)

    def __getitem__(self, i: int) -> RawFrame:
        return RawFrame(self.addr[i], self.syms[self.sym[i]], self.dsos[self.dso[i]])

    def __iter__(self) -> Iterator[RawFrame]:
        syms, dsos = self.syms, self.dsos
        for a, s, d in zip(self.addr, self.sym, self.dso, strict=True):
            yield RawFrame(a, syms[s], dsos[d])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RawFrames | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class RawStacks:
    """Distinct callchains as read (leaf first), their frame ids in one flat array:
    stack ``i`` is ``frames[ends[i-1]:ends[i]]``. 4 bytes a frame; a repeated stack text
    is found by the reader's bounded stack cache and stored once."""

    __slots__ = ("frames", "ends")

    def __init__(self) -> None:
        self.frames = array("i")
        self.ends = array("q")

    def add(self, fids: Iterable[int]) -> int:
        self.frames.extend(fids)
        self.ends.append(len(self.frames))
        return len(self.ends) - 1

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i: int) -> tuple[int, ...]:
        start = self.ends[i - 1] if i else 0
        return tuple(self.frames[start : self.ends[i]])

    def extend(self, other: RawStacks, frame_offset: int) -> int:
        """Append another table's stacks (frame ids shifted by ``frame_offset``); the
        offset of their ids."""
        offset = len(self.ends)
        base = len(self.frames)
        if frame_offset:
            self.frames.extend(array("i", [f + frame_offset for f in other.frames]))
        else:
            self.frames.extend(other.frames)
        self.ends.extend(array("q", [e + base for e in other.ends]))
        return offset


@dataclass(slots=True)
class Mmap:
    pid: int
    tid: int
    start: int
    length: int
    pgoff: int
    prot: str
    filename: str
    time: float | None
    build_id: str | None = None  # printed for perf record --buildid-mmap


@dataclass(slots=True)
class EventData:
    """Raw samples of one event, one entry a sample in four columns: the stack's id in
    ``ScriptData.stacks``, the thread (index into ``ScriptData.threads``: (tid, comm)),
    the weight and the time (NaN where the text has none). 24 bytes a sample."""

    name: str
    table: RawStacks = field(default_factory=RawStacks)
    threads: list[tuple[int, str]] = field(default_factory=list)
    s_stack: array = field(default_factory=lambda: array("i"))
    s_thread: array = field(default_factory=lambda: array("i"))
    s_weight: array = field(default_factory=lambda: array("q"))
    s_time: array = field(default_factory=lambda: array("d"))
    has_period: bool = False
    bin_width: float | None = None  # what ``bins`` counts by (the reader's)
    # (samples, weight, first time, last time) as of ``_summary[0]`` samples: the totals
    # are summed from the columns when asked for, not per sample
    _summary: tuple[int, int, float | None, float | None] = (0, 0, None, None)

    def add(self, stack: int, thread: int, weight: int, t: float | None) -> None:
        self.s_stack.append(stack)
        self.s_thread.append(thread)
        self.s_weight.append(weight)
        self.s_time.append(math.nan if t is None else t)

    def _totals(self) -> tuple[int, int, float | None, float | None]:
        n = len(self.s_stack)
        have = self._summary
        if have[0] != n:
            import numpy as np

            w = np.frombuffer(self.s_weight, dtype=np.int64)[have[0]:]
            t = np.frombuffer(self.s_time, dtype=np.float64)[have[0]:]
            total = have[1] + int(np.sum(w, dtype=np.int64))
            first, last = have[2], have[3]
            if len(t) and not np.isnan(t).all():
                lo, hi = float(np.nanmin(t)), float(np.nanmax(t))
                first = lo if first is None else min(first, lo)
                last = hi if last is None else max(last, hi)
            del w, t  # (views: the arrays may grow again)
            have = self._summary = (n, total, first, last)
        return have

    @property
    def samples(self) -> int:
        return len(self.s_stack)

    @property
    def weight(self) -> int:
        return self._totals()[1]

    @property
    def time_first(self) -> float | None:
        return self._totals()[2]

    @property
    def time_last(self) -> float | None:
        return self._totals()[3]

    @property
    def stacks(self) -> dict[tuple[int, str, tuple[int, ...]], list[int]]:
        """(tid, comm, stack of raw frame ids) -> [samples, weight] (a view made on
        demand, for tests and small inputs)."""
        out: dict[tuple[int, str, tuple[int, ...]], list[int]] = {}
        table, threads = self.table, self.threads
        for sid, th, w in zip(self.s_stack, self.s_thread, self.s_weight, strict=True):
            tid, comm = threads[th]
            key = (tid, comm, table[sid])
            acc = out.get(key)
            if acc is None:
                out[key] = [1, w]
            else:
                acc[0] += 1
                acc[1] += w
        return out

    @property
    def bins(self) -> dict[tuple[int, str, tuple[int, ...], int], list[int]]:
        """(tid, comm, stack, time bin) -> [samples, weight], when read with a bin width
        (samples without a time are left out); {} otherwise."""
        out: dict[tuple[int, str, tuple[int, ...], int], list[int]] = {}
        if self.bin_width is None:
            return out
        table, threads, width = self.table, self.threads, self.bin_width
        for sid, th, w, t in zip(self.s_stack, self.s_thread, self.s_weight, self.s_time,
                                 strict=True):
            if t != t:  # NaN: no time
                continue
            tid, comm = threads[th]
            key = (tid, comm, table[sid], int(t / width))
            acc = out.get(key)
            if acc is None:
                out[key] = [1, w]
            else:
                acc[0] += 1
                acc[1] += w
        return out


@dataclass(slots=True)
class ScriptData:
    """Everything read from one or more perf script texts."""

    frames: RawFrames = field(default_factory=RawFrames)
    stacks: RawStacks = field(default_factory=RawStacks)
    threads: list[tuple[int, str]] = field(default_factory=list)  # (tid, comm) of samples
    events: dict[str, EventData] = field(default_factory=dict)
    tid_pid: dict[int, int] = field(default_factory=dict)
    mmaps: list[Mmap] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    lines: int = 0
    srclines: int = 0
    unparsed: int = 0
    warnings: int = 0
    truncated: int = 0
    empty_stacks: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # per input: what its perf script --header lines say about where it was recorded
    recordings: dict[str, RecordingFacts] = field(default_factory=dict)

    def note(self, path: str, lineno: int, message: str) -> None:
        if len(self.diagnostics) < MAX_KEPT_DIAGNOSTICS:
            self.diagnostics.append(Diagnostic(path, lineno, message))

    def event(self, name: str) -> EventData:
        ev = self.events.get(name)
        if ev is None:
            ev = self.events[name] = EventData(name, self.stacks, self.threads)
        return ev


def _dso_split(rest: str) -> tuple[str, str | None]:
    """Split 'sym+0xoff (dso)' into (sym+0xoff, dso) by the last balanced '(...)' group."""
    if not rest.endswith(")"):
        return rest, None
    i = rest.rfind(" (")
    if i >= 0 and "(" not in rest[i + 2 : -1] and ")" not in rest[i + 2 : -1]:
        return rest[:i], rest[i + 2 : -1]  # the common case: no parentheses in the dso
    i = last_group_start(rest)
    if i == 0:
        return "", rest[1:-1]
    if i > 0 and rest[i - 1] == " ":
        return rest[: i - 1], rest[i + 1 : -1]
    return rest, None  # "f(int)" with no dso group, or unbalanced


_HEX_DIGITS = "0123456789abcdefABCDEF"


def _parse_frame(text: str) -> tuple[int, str, str] | None:
    """(address, symbol without +0xoff, dso) of 'hexaddr sym[+0xoff] (dso)', or None:
    ``parse_frame_text``'s rule, with no objects made (the reader's per-line path)."""
    text = text.strip()
    sp = text.find(" ")
    if sp < 0:
        addr_s, rest = text, ""
    else:
        addr_s, rest = text[:sp], text[sp + 1 :].strip()
    digits = addr_s[2:] if addr_s[:2] in ("0x", "0X") else addr_s
    if not digits or digits.strip(_HEX_DIGITS):
        return None
    sym, dso = _dso_split(rest)
    i = sym.rfind("+0x")
    if i >= 0 and len(sym) > i + 3 and not sym[i + 3 :].strip(_HEX_DIGITS):
        sym = sym[:i]
    return int(addr_s, 16), sym, dso if dso is not None else ""


def parse_frame_text(text: str) -> RawFrame | None:
    """Parse 'hexaddr sym[+0xoff] (dso)' (leading blanks allowed); None if not a frame."""
    got = _parse_frame(text)
    return None if got is None else RawFrame(*got)


@dataclass(slots=True)
class _Header:
    comm: str
    pid: int | None
    tid: int | None
    time: float | None
    period: int | None
    event: str
    rest: str


def _is_hex_token(tok: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in tok)


def parse_header(line: str) -> _Header | None:
    """Parse a sample header line; None if it is not one."""
    m = _TIME_RX.search(line)
    if m is not None:
        left = line[: m.start()]
        right = line[m.end() :].lstrip()
        time: float | None = float(m.group(1))
        period_s, sep, after = right.partition(" ")
        period: int | None = None
        if period_s.isdigit():
            # a decimal token here is the period ("%10lu ": always a blank after it) only if
            # an event, an ip (" %16lx": two or more blanks before it) or nothing follows;
            # otherwise it is an ip that happens to have no hex letters (-F without period),
            # which perf follows by one blank and the symbol, or by the end of the line
            nxt = after.lstrip().partition(" ")[0]
            if (
                (not nxt and sep == " ")
                or nxt.endswith(":")
                or (nxt and after[:1] == " " and _is_hex_token(nxt))
            ):
                period = int(period_s)
                right = after.lstrip()
        ev, _, rest = right.partition(" ")
        if ev.endswith(":") and len(ev) > 1:
            event = ev[:-1]
        elif not ev:
            event = ""
        else:
            # -F without event: what follows the time is the ip (or nothing)
            event = ""
            rest = right
    else:
        m2 = _NOTIME_HEADER_RX.match(line)
        if m2 is None:
            m3 = _IDS_ONLY_RX.match(line)
            if m3 is None:
                return None
            return _Header(m3.group("comm").strip(), int(m3.group("pid")),
                           int(m3.group("tid")), None, None, "",
                           m3.group("rest").strip())
        left = m2.group("left")
        time = None
        p = m2.group("period")
        period = int(p) if p else None
        if p and _number_is_tid(line, m2.start("period"), len(p.rstrip()), left):
            left, period = line[: m2.start("period") + len(p.rstrip())], None
        event = m2.group("event")
        rest = m2.group("rest")
        if _IDS_RX.fullmatch(event):  # "comm 123: ..." is not a header we know
            return None
        if not left.strip() and event.lower() in ("warning", "error"):
            return None  # perf's own "Warning:" / "Error:" message, not an event
    toks = left.split()
    pid: int | None = None
    tid: int | None = None
    if toks and _CPU_RX.fullmatch(toks[-1]):
        toks.pop()
        left = left[: left.rstrip().rfind("[")]
    if toks:
        mi = _IDS_RX.fullmatch(toks[-1])
        if mi is not None:
            if mi.group(2) is not None:
                pid, tid = int(mi.group(1)), int(mi.group(2))
            else:
                tid = int(mi.group(1))
            left = left.rstrip()
            left = left[: len(left) - len(toks[-1])]
        elif time is None and period is None:  # "comm period event:" (-F comm,period,event)
            return None
    return _Header(left.strip(), pid, tid, time, period, event, rest.strip())


def _number_is_tid(line: str, start: int, digits: int, left: str) -> bool:
    """Without a time, the one number before the event is the tid ("%5d "; "%7d " in perf
    >= 6.5) or the period ("%10lu "): ``func_ab 15294 cpu-clock:`` is a tid,
    ``w    1001001 cpu-clock:`` a period. Told by the printed width (the number's padding
    plus its digits): a period is at least 10 wide, a tid at most 7 (pid_max is 2^22);
    a number before it is then the tid (``comm tid period event:``) or ends the comm
    (``my worker 1 4194303 cpu-clock:``). A cpu (``[001]``) before it makes it the period."""
    toks = left.split()
    if toks and (_CPU_RX.fullmatch(toks[-1]) or (
            "/" in toks[-1] and _IDS_RX.fullmatch(toks[-1]))):
        return False  # [cpu] or pid/tid come before the period only
    j = start
    while j > 0 and line[j - 1] == " ":
        j -= 1
    pad = start - j - (1 if j > 0 else 0)  # one blank separates it from the comm
    return pad + digits < 8


_HEX_RX = re.compile(r"[0-9a-fA-F]+")


def is_frame_line(line: str) -> bool:
    """Whether a line inside a sample (after its header) is a callchain frame. perf
    indents frames with a tab; texts re-indented with blanks, or not at all, are read as
    every other consumer reads them: a hex address first, then the symbol and dso (an
    unindented line must not also read as a sample header). Srclines (``  prog.c:12``,
    ``  [kernel.kallsyms][ffffffff816a4345]``) never start with a hex address and a blank."""
    s = line.rstrip("\n")
    text = s.lstrip()
    if not text:
        return False
    addr, _, _rest = text.partition(" ")
    if _HEX_RX.fullmatch(addr) is None:
        return False
    if s.rstrip().endswith(":"):  # a header ("%16s" right-aligns a comm such as "cc1")
        return False
    if s[0] in " \t":
        return True
    return parse_header(s) is None and parse_bare_header_numbers(s) is None


def parse_bare_header_numbers(line: str) -> tuple[int, int | None] | None:
    """A line of numbers only (``-F tid``: `` 4605``, or tid and period): (first, second)."""
    toks = line.split()
    if not toks or len(toks) > 2 or not all(_INT_RX.fullmatch(t) for t in toks):
        return None
    return int(toks[0]), (int(toks[1]) if len(toks) > 1 else None)


def collapse_inlined(stack: tuple[int, ...], frames: Any,
                     inlined: Collection[int]) -> tuple[int, ...]:
    """A stack without perf's ``(inlined)`` lines (``perf script --inline``), as perf
    report counts it. perf prints, for an address with inline information, the inlined
    functions innermost first, then the function holding them - or, when its inline
    reader names that function differently from the symbol table, only ``(inlined)``
    lines. So: within a run of frames at one address, the inlined lines are dropped when
    a real frame ends the run; when none does, the run's last (outermost) inlined line
    stays, standing for the containing function (its self time stays at that address)."""
    out: list[int] = []
    n = len(stack)
    for i, fid in enumerate(stack):
        if fid not in inlined:
            out.append(fid)
            continue
        addr = frames[fid].addr
        j = i + 1
        while j < n and stack[j] in inlined and frames[stack[j]].addr == addr:
            j += 1
        if j == i + 1 and not (j < n and frames[stack[j]].addr == addr):
            out.append(fid)  # the outermost inlined line of its address, no real frame after
    return tuple(out)


_ELF_MAGIC = "\x7fELF"


def not_text(head: str) -> str | None:
    """Why the first characters of an input show it is no text at all (an ELF program,
    other binary data); None if they may be perf script text."""
    if head.startswith(_ELF_MAGIC):
        return ("is an ELF file (a program or library), not perf script text: record it "
                "with 'perf record -g -- PROGRAM', then 'jitprof report perf.data'")
    if "\x00" in head[:4096]:
        return "is a binary file, not perf script text"
    return None


def is_perf_data(path: str) -> bool:
    """Whether ``path`` is a perf.data file (by its magic)."""
    return _is_perf_data(path)


def _is_perf_data(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"PERFILE2"
    except OSError:
        return False


def parse_bare_header(line: str) -> tuple[str, int | None, int | None] | None:
    """A header without time or event (``-F tid``, ``-F comm``, ``-F comm,tid,period``...):
    (comm, tid, period); None if the line cannot be one (it has a colon, or is empty)."""
    text = line.strip()
    if not text or ":" in text or text[0] in "#[{<":
        return None
    toks = text.split()
    popped = 0
    if _CPU_RX.fullmatch(toks[-1]):
        toks.pop()
        popped += 1
    nums: list[int] = []
    while toks and len(nums) < 2 and _INT_RX.fullmatch(toks[-1]):
        nums.insert(0, int(toks.pop()))
        popped += 1
    comm = text.rsplit(None, popped)[0] if toks else ""  # inner blanks of the comm kept
    if len(nums) == 2:
        return comm, nums[0], nums[1]
    return comm, (nums[0] if nums else None), None


def open_text(path: str) -> IO[str]:
    """Open a text input: '-' is stdin; .gz/.xz/.bz2 are decompressed on the fly."""
    try:
        if path == "-":
            return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape")
        if path.endswith(".gz"):
            return gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape")
        if path.endswith(".xz"):
            return lzma.open(path, "rt", encoding="utf-8", errors="surrogateescape")
        if path.endswith(".bz2"):
            return bz2.open(path, "rt", encoding="utf-8", errors="surrogateescape")
        return open(path, encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None


# The sample being read: (event, thread id, weight, time or None, header rest)
_Cur = tuple[EventData, int, int, "float | None", str]
_HEADER_CACHE_MAX = 65536
# Frame lines kept in the text -> id cache (about 150 bytes each): a profile with a
# distinct leaf address in every sample would otherwise keep every line it ever read.
# When full it is emptied (lines read again get new ids; they resolve the same).
_FRAME_CACHE_MAX = 1 << 18
# Stack texts kept (about 1 KB each) to find a repeated callchain in one lookup. When the
# cache fills with stacks that are not repeated (a distinct leaf in every sample), it is
# switched off for the next _STACK_CACHE_REST samples, then tried again.
_STACK_CACHE_MAX = 1 << 15
_STACK_CACHE_REST = 1 << 18


class ScriptReader:
    """Feeds lines of one or more perf script texts into a ``ScriptData``.

    ``keep_times`` and ``bin_width`` are kept for callers: every sample's time is kept
    (``EventData.s_time``); ``bin_width`` is what ``EventData.bins`` counts by."""

    def __init__(self, data: ScriptData | None = None, keep_times: bool = False,
                 bin_width: float | None = None) -> None:
        self.data = data if data is not None else ScriptData()
        self.keep_times = keep_times
        self.bin_width = bin_width
        self._cache: dict[str, int] = {}
        self._old_cache: dict[str, int] = {}
        self._hcache: dict[str, tuple[EventData, int, int, str]] = {}
        self._thread_ids: dict[tuple[int, str], int] = {
            k: i for i, k in enumerate(self.data.threads)}
        self._cur: _Cur | None = None
        self._pending: tuple[str, int, str] | None = None  # a bare header line, if frames follow
        self._stack: list[int] = []
        self._short: dict[tuple[int, ...], int] = {}  # the line reader's stacks -> ids
        # a frame line's text after the address -> its (symbol id, dso id): bounded
        self._rest_ids: dict[str, tuple[int, int]] = {}
        self._blank_at = -1  # the number of the last blank line read (issue 13: frames
        # indented with blanks right after one start a callchain of their own)
        # progress(bytes): called once per chunk read (4 MiB) with the bytes of the input
        # read so far (compressed bytes for .gz/.xz/.bz2; text bytes from a pipe)
        self.progress: Callable[[int], None] | None = None

    def _event(self, name: str) -> EventData:
        ev = self.data.event(name)
        ev.bin_width = self.bin_width
        return ev

    def _thread(self, tid: int, comm: str) -> int:
        key = (tid, comm)
        th = self._thread_ids.get(key)
        if th is None:
            th = self._thread_ids[key] = len(self.data.threads)
            self.data.threads.append(key)
        return th

    def _frame_id(self, line: str) -> int:
        """The id of a frame line (cached by its text without the newline); -1 if the
        line is not a frame."""
        if line[-1:] == "\n":
            line = line[:-1]
        fid = self._cache.get(line)
        if fid is None:
            fid = self._old_cache.get(line)  # read before the cache was last emptied
            if fid is not None:
                self._remember(line, fid)
                return fid
            # most new lines differ from earlier ones by the address only: the rest
            # ("sym+0xoff (dso)") is parsed once and its symbol and dso ids kept
            text = line.strip()
            sp = text.find(" ")
            ids = None
            if sp > 0 and not text[:sp].strip(_HEX_DIGITS):
                rest = text[sp + 1 :].lstrip()
                ids = self._rest_ids.get(rest)
                if ids is None:
                    fr = _parse_frame(text)
                    if fr is None:
                        return -1
                    ids = self.data.frames.ids(fr[1], fr[2])
                    if len(self._rest_ids) >= _FRAME_CACHE_MAX:
                        self._rest_ids.clear()
                    self._rest_ids[rest] = ids
                fid = self.data.frames.add_ids(int(text[:sp], 16), ids)
            else:
                fr = _parse_frame(line)
                if fr is None:
                    return -1
                fid = self.data.frames.add(*fr)
            self._remember(line, fid)
        return fid

    def _remember(self, line: str, fid: int) -> None:
        """Cache a frame line's id. The cache keeps two generations: when the newer fills,
        it becomes the older one (the oldest is forgotten), so lines still in use
        survive and the memory stays bounded (2 x _FRAME_CACHE_MAX lines)."""
        cache = self._cache
        if len(cache) >= _FRAME_CACHE_MAX:
            self._old_cache = dict(cache)
            cache.clear()  # (the same dict: readers hold its .get)
        cache[line] = fid

    def read_file(self, path: str) -> None:
        if path != "-" and _is_perf_data(path):
            self._read_perf_data(path)
            return
        try:
            with open_text(path) as f:
                self.read_text(f, path)
        except (OSError, EOFError, lzma.LZMAError) as e:
            raise InputError(path, f"cannot read: {e}") from None
        except UnicodeDecodeError as e:  # pragma: no cover - surrogateescape decodes all
            raise InputError(path, f"cannot decode: {e}") from None

    def read_lines(self, lines: Iterable[str], path: str) -> None:
        """Read one text given as lines (each ending in "\\n" but maybe the last)."""
        start = self._begin(path)
        lineno, last = self._run_lines(lines, path, 0)
        self._end(path, start, lineno, last)

    def read_text(self, f: IO[str], path: str, chunk: int = 1 << 22) -> None:
        """Read one text from a stream, a block (one sample: the text between blank
        lines) at a time. A block that is a header and tab-indented frames - what perf
        prints for callchains - is taken whole: its frame lines are looked up in the
        frame cache by one ``map`` in C, with no Python code per line. Any other block goes
        through the line-by-line reader."""
        start = self._begin(path)
        cache_get = self._cache.get
        # frames text -> (raw stack id, lines in the block); bounded, and switched off
        # while it does not pay (see _STACK_CACHE_MAX)
        stacks: dict[str, tuple[int, int]] = {}
        stacks_get = stacks.get
        stack_hits = 0
        cache_off_until = -1
        hcache_get = self._hcache.get
        add_stack = self.data.stacks.add
        lineno = 0
        last = ""
        rest = ""
        progress = self.progress
        position = _position(f) if progress is not None else None
        chars = 0
        nsamples = 0
        while True:
            data = f.read(chunk)
            if progress is not None:
                chars += len(data)
                progress(position() if position is not None else chars)
            if lineno == 0 and not rest and data:  # the first chunk: is it text at all?
                why = not_text(data)
                if why is not None:
                    raise InputError(path, why)
            if data:
                data = rest + data
                blocks = data.split("\n\n")
                rest = blocks.pop()  # may continue in the next chunk
            else:
                blocks = [rest] if rest else []
                rest = ""
            for block in blocks:
                if not data:  # the end of the text: the last block, as it is
                    lines = block.split("\n")
                    last = lines[-1]
                    self._run_lines([ln + "\n" for ln in lines[:-1]] + ([last] if last else []),
                                    path, lineno)
                    lineno += len(lines) - (0 if last else 1)
                    last = last or "\n"
                    continue
                # the usual block: "header\n\tframe\n\tframe..." (no side-band records)
                nl = block.find("\n\t")
                if nl > 0 and self._cur is None and self._pending is None and block[0] != "\t" and (
                        block.find("\n", 0, nl) < 0):  # a one-line header
                    frames_text = block[nl + 1 :]
                    # (hashing a 1 KB text costs: not while the cache is off)
                    entry = stacks_get(frames_text) if nsamples >= cache_off_until else None
                    if entry is None:
                        frame_lines = frames_text.split("\n")
                        if frames_text.count("\n\t") == len(frame_lines) - 1:
                            found = list(map(cache_get, frame_lines))
                            if None in found:
                                found = [self._frame_id(ln) if fid is None else fid
                                         for ln, fid in zip(frame_lines, found, strict=True)]
                            # a line that is no frame: the line reader counts it (once)
                            if -1 not in found:
                                entry = (add_stack(found), len(frame_lines) + 2)  # type: ignore[arg-type]
                                if nsamples >= cache_off_until:
                                    if len(stacks) >= _STACK_CACHE_MAX:
                                        if stack_hits < len(stacks) // 4:  # not repeated
                                            cache_off_until = nsamples + _STACK_CACHE_REST
                                        stacks.clear()
                                        stack_hits = 0
                                    else:
                                        stacks[frames_text] = entry
                    else:
                        stack_hits += 1
                    if entry is not None:
                        head = block[:nl]
                        # the header cache (see _header), inlined: this runs per sample
                        i = head.find(": ")
                        if i > 0:
                            j = head.rfind(" ", 0, i) + 1
                            hit = hcache_get(head[:j] + head[i:])
                            if hit is not None and "." in head[j:i]:
                                try:
                                    t = float(head[j:i])
                                except ValueError:
                                    hit = None
                                if hit is not None:
                                    hit[0].add(entry[0], hit[1], hit[2], t)
                                    nsamples += 1
                                    lineno += entry[1]
                                    continue
                        if "PERF_RECORD_" not in head:
                            cur = self._other(head, lineno + 1, path, None, self._stack)
                            if cur is not None:
                                self._count(cur, entry[0])
                            else:  # _other took the line (junk, a message): the rest as lines
                                self._run_lines([ln + "\n" for ln in frames_text.split("\n")]
                                                + ["\n"], path, lineno + 1)
                                last = "\n"
                            lineno += frames_text.count("\n") + 3
                            continue
                # anything else: line by line, then the blank line that ended the block
                lines = block.split("\n")
                self._run_lines([ln + "\n" for ln in lines] + ["\n"], path, lineno)
                lineno += len(lines) + 1
                last = "\n"
            if not data:
                break
        self._end(path, start, lineno, last)

    def read_file_parallel(self, path: str, cuts: list[int],
                           side_job: Callable[[], object] | None = None) -> None:
        """Read ``path`` in pieces [cuts[i], cuts[i+1]): the first here (after
        ``side_job``), the others in worker processes at the same time; merge theirs into
        ours in file order."""
        try:
            ctx = multiprocessing.get_context("fork")
            pool = ProcessPoolExecutor(max_workers=len(cuts) - 2, mp_context=ctx)
        except (ValueError, OSError):
            self.read_file(path)
            return
        with pool:
            futures = [pool.submit(_read_range, path, cuts[i], cuts[i + 1], self.keep_times,
                                   self.bin_width)
                       for i in range(1, len(cuts) - 1)]
            if side_job is not None:
                side_job()
            lines_before = self.data.lines
            try:
                f = _ByteRangeText(path, 0, cuts[1])
                try:
                    self.read_text(f, path)  # type: ignore[arg-type] # only read() is used
                finally:
                    f.close()
            except OSError as e:
                raise InputError(path, f"cannot read: {e}") from None
            offset = self.data.lines - lines_before
            for fut in futures:
                try:
                    part = fut.result()
                except OSError as e:
                    raise InputError(path, f"cannot read: {e}") from None
                self._merge(part, offset)
                offset += part.lines

    def _merge(self, other: ScriptData, line_offset: int) -> None:
        """Add another reader's data (a later piece of the same text) to ours: its
        tables are appended, its ids shifted (frames are not compared: a frame read by
        both gets two ids, which name the same function)."""
        d = self.data
        shared = other.frames is d.frames  # one frame table (jitprof.live): the same ids
        frame_offset = 0 if shared else d.frames.extend(other.frames)
        stack_offset = d.stacks.extend(other.stacks, frame_offset)
        tmap = array("i", (self._thread(tid, comm) for tid, comm in other.threads))
        for name, oe in other.events.items():
            ev = self._event(name)
            ev.s_stack.extend(array("i", [s + stack_offset for s in oe.s_stack])
                              if stack_offset else oe.s_stack)
            ev.s_thread.extend(array("i", map(tmap.__getitem__, oe.s_thread)))
            ev.s_weight.extend(oe.s_weight)
            ev.s_time.extend(oe.s_time)
            ev.has_period = ev.has_period or oe.has_period
        for tid, pid in other.tid_pid.items():
            d.tid_pid.setdefault(tid, pid)
        for path, facts in other.recordings.items():
            d.recordings.setdefault(path, RecordingFacts()).merge(facts)
        d.mmaps.extend(other.mmaps)
        d.lines += other.lines
        d.srclines += other.srclines
        d.unparsed += other.unparsed
        d.warnings += other.warnings
        d.truncated += other.truncated
        d.empty_stacks += other.empty_stacks
        for x in other.diagnostics:
            d.note(x.path, x.lineno + line_offset if x.lineno else 0, x.message)

    def _begin(self, path: str) -> tuple[int, int, int, int]:
        d = self.data
        d.inputs.append(path)
        self._cur = None
        self._pending = None
        self._stack.clear()
        self._blank_at = -1
        return (sum(e.samples for e in d.events.values()), d.unparsed, d.truncated,
                d.empty_stacks)

    def _end(self, path: str, start: tuple[int, int, int, int], lineno: int, last: str
             ) -> None:
        d = self.data
        self._flush_pending()
        d.lines += lineno
        cur = self._cur
        if cur is not None:
            if last and not last.endswith("\n"):
                # the text stops mid-line: the last sample is cut, drop it
                d.truncated += 1
                d.note(path, lineno, "truncated last sample (no end of line), dropped")
                self._stack.clear()
            else:
                self._finish(cur, self._stack)
            self._cur = None
        if lineno == 0:
            raise EmptyInputError(path, "empty input: no perf script text")
        got = sum(e.samples for e in d.events.values()) - start[0]
        unparsed = d.unparsed - start[1]  # this text's junk, not earlier inputs'
        why = unreadable_text(got, unparsed, lineno, d.truncated - start[2],
                              d.recordings[path].header_lines if path in d.recordings else 0,
                              _first_junk(d.diagnostics, path), d.empty_stacks - start[3])
        if why is not None:
            raise InputError(path, *why)

    def _run_lines(self, lines: Iterable[str], path: str, before: int) -> tuple[int, str]:
        """The line-by-line reader: the loop body is the hot path for texts that are not
        blocks of frames (a frame line costs one dict lookup of its raw text, a blank line
        closes the sample; everything else goes to ``_other``). Returns the last line
        number and the last line."""
        d = self.data
        cache_get = self._cache.get
        stack = self._stack
        append = stack.append
        finish = self._finish
        other = self._other
        cur = self._cur
        line = ""
        lineno = before
        for lineno, line in enumerate(lines, before + 1):  # noqa: B007 - used after the loop
            c = line[0]
            if c == "\t":
                fid = cache_get(line[:-1] if line[-1] == "\n" else line)
                if fid is None:
                    fid = self._frame_id(line)
                    if fid < 0:
                        self._flush_pending()
                        d.unparsed += 1
                        d.note(path, lineno, f"not a callchain line: {line.strip()[:60]!r}")
                        continue
                if cur is None:  # a bare header before, or none (-F ip,sym: empty line)
                    cur = self._adopt_pending()
                append(fid)
            elif c == "\n":
                self._blank_at = lineno  # issue 13 (see _other)
                if cur is not None:
                    finish(cur, stack)
                    cur = None
                elif self._pending is not None:
                    self._flush_pending()
            else:
                cur = other(line, lineno, path, cur, stack)
        self._cur = cur
        return lineno, line

    def _finish(self, cur: _Cur, stack: list[int]) -> None:
        """Count the finished sample under its thread and stack and clear ``stack``."""
        if not stack and cur[4]:
            fid = self._frame_id(cur[4])
            if fid >= 0:
                stack.append(fid)
        if not stack:
            self.data.empty_stacks += 1
        key = tuple(stack)
        sid = self._short.get(key)
        if sid is None:
            sid = self.data.stacks.add(key)
            if len(self._short) >= _STACK_CACHE_MAX:
                self._short.clear()
            self._short[key] = sid
        self._count(cur, sid)
        stack.clear()

    def _count(self, cur: _Cur, sid: int) -> None:
        cur[0].add(sid, cur[1], cur[2], cur[3])

    def _other(
        self, line: str, lineno: int, path: str, cur: _Cur | None, stack: list[int]
    ) -> _Cur | None:
        """Every line that is not a tab-indented frame or an empty line; returns the
        sample now being read (None between samples)."""
        d = self.data
        # issue 13: callchain lines indented with blanks, or not at all (is_frame_line)
        if cur is not None and not cur[4] and is_frame_line(line):
            fid = self._frame_id(line)
            if fid >= 0:
                stack.append(fid)
                return cur
        if cur is None and is_frame_line(line) and parse_bare_header_numbers(line) is None:
            if self._pending is not None:  # a bare header ("-F comm,ip,sym") starts them
                cur = self._adopt_pending()
            elif lineno == self._blank_at + 1:  # after an empty header line (-F ip,sym)
                cur = self._implicit("")
            if cur is not None:
                fid = self._frame_id(line)
                if fid >= 0:
                    stack.append(fid)
                return cur
        if self._pending is not None:
            self._flush_pending()
        if not line.strip():  # a blank line with blanks in it
            self._blank_at = lineno
            if cur is not None:
                self._finish(cur, stack)
            return None
        if line[0] == " " and stack and line.startswith("  "):
            d.srclines += 1  # "  file:line" after a frame (-F +srcline)
            return cur
        # a header line: finish any sample without a trailing blank line
        one_line = False
        if cur is not None:
            one_line = not stack and bool(cur[4])
            self._finish(cur, stack)
        if is_header_comment(line):  # perf script --header: the recording's facts
            note_header_comment(d.recordings.setdefault(path, RecordingFacts()), line)
            return None
        if "PERF_RECORD_" in line:
            self._side_band(line, path, lineno)
            return None
        new = self._header(line)
        if new is not None:
            return new
        if (line[0] == " " and parse_frame_text(line) is not None) or is_frame_line(line):
            # -F ip,sym,dso without a callchain: a sample is one frame line; unless frames
            # follow, when " 4605 " was a tid (-F tid): see _flush_pending
            bare = parse_bare_header(line)
            if bare is not None and not bare[0]:  # numbers only: a tid (and a period)?
                self._pending = (line, lineno, path)
                return None
            return self._implicit(line.strip())
        if one_line and line.startswith("  "):
            d.srclines += 1  # "  file:line" after a one-line sample (-G, no -g)
            return None
        low = line.lower()
        if low.startswith(("warning", "error", "failed")) or "warning:" in low:
            d.warnings += 1
            d.note(path, lineno, f"perf message: {line.strip()[:80]}")
        elif parse_bare_header(line) is not None:
            # "-F tid,ip,sym" / "-F comm,ip,sym": a header of a comm and/or tid (and a
            # period) only; it is one if frames follow, else junk (see _adopt_pending)
            self._pending = (line, lineno, path)
        else:
            self._junk(line, lineno, path)
        return None

    def _junk(self, line: str, lineno: int, path: str) -> None:
        self.data.unparsed += 1
        self.data.note(path, lineno, f"not perf script output: {line.strip()[:60]!r}")

    def _flush_pending(self) -> None:
        """The bare header line was not followed by frames: it was a one-frame sample
        (" 4605" from -F ip) or junk."""
        if self._pending is not None:
            line, lineno, path = self._pending
            self._pending = None
            if (line[0] == " " and parse_frame_text(line) is not None) or is_frame_line(line):
                self._finish(self._implicit(line.strip()), [])
            else:
                self._junk(line, lineno, path)

    def _adopt_pending(self) -> _Cur:
        """Frames follow: the line before them (if a bare header) starts their sample."""
        pending = self._pending
        self._pending = None
        bare = parse_bare_header(pending[0]) if pending is not None else None
        if bare is None:
            return self._implicit("")
        comm, tid, period = bare
        ev = self._event("")
        if period is not None:
            ev.has_period = True
        return (ev, self._thread(-1 if tid is None else tid, comm),
                1 if period is None else period, None, "")

    def _header(self, line: str) -> _Cur | None:
        """A sample header -> the sample being read. Headers differ mostly by their time,
        so the parse is cached under the text without the time (found as the token
        before the first ": "); a miss or an odd line takes the full parser."""
        i = line.find(": ")
        key: str | None = None
        t: float | None = None
        if i > 0:
            j = line.rfind(" ", 0, i) + 1
            tok = line[j:i]
            if "." in tok:
                try:
                    t = float(tok)
                except ValueError:
                    t = None
                if t is not None:
                    key = line[:j] + line[i:]
                    hit = self._hcache.get(key)
                    if hit is not None:
                        ev, th, w, rest = hit
                        return (ev, th, w, t, rest)
        h = parse_header(line.rstrip("\n"))
        if h is None:
            return None
        d = self.data
        if h.pid is not None and h.tid is not None:
            d.tid_pid.setdefault(h.tid, h.pid)
        event = self._event(h.event)
        if h.period is not None:
            event.has_period = True
        th = self._thread(h.tid if h.tid is not None else -1, h.comm)
        w = h.period if h.period is not None else 1
        if key is not None and h.time == t:
            if len(self._hcache) >= _HEADER_CACHE_MAX:  # -G output: every ip differs
                self._hcache.clear()
            self._hcache[key] = (event, th, w, h.rest)
        return (event, th, w, h.time, h.rest)

    def _implicit(self, rest: str) -> _Cur:
        """A sample whose text has no header fields (``-F ip,sym,dso``)."""
        return (self._event(""), self._thread(-1, ""), 1, None, rest)

    def _read_perf_data(self, path: str) -> None:
        """A perf.data file: have perf print it (with mmap events) and read that text."""
        if shutil.which("perf") is None:
            raise InputError(path, "is a perf.data file and perf is not installed (Debian: "
                             "apt-get install linux-perf); or pass the text of "
                             "'perf script -i FILE --show-mmap-events'")
        # task events: threads (a JVM's compiler and GC threads) map to their process;
        # --header: the recording's facts (host, kernel: may local symbols name it?)
        argv = ["perf", "script", "-i", path, "--show-mmap-events", "--show-task-events",
                "--header"]
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
            assert proc.stdout is not None
            text = io.TextIOWrapper(proc.stdout, encoding="utf-8", errors="surrogateescape")
            failure: JitprofError | None = None
            try:
                self.read_text(text, path)
            except JitprofError as e:
                failure = e
            finally:
                text.close()
                rc = proc.wait()
            if rc != 0:  # perf's own complaint explains an empty or odd text best
                err.seek(0)
                msg = err.read().decode("utf-8", "replace").strip().splitlines()
                raise InputError(path, f"perf script failed ({rc}): "
                                 + (msg[-1] if msg else "no message"))
            if failure is not None:
                raise failure

    def _side_band(self, line: str, path: str, lineno: int) -> None:
        d = self.data
        m = _MMAP_RX.search(line)
        if m is not None:
            pid, tid = int(m.group(1)), int(m.group(2))
            h = _TIME_RX.search(line)
            d.mmaps.append(
                Mmap(
                    pid,
                    tid,
                    int(m.group(3), 16),
                    int(m.group(4), 16),
                    int(m.group(5), 16),
                    m.group(7),
                    m.group(8).strip(),
                    float(h.group(1)) if h else None,
                    m.group(6),
                )
            )
            if pid >= 0 and tid >= 0:
                d.tid_pid.setdefault(tid, pid)
            return
        m = _COMM_RX.search(line)
        if m is not None:
            pid, tid = int(m.group(2)), int(m.group(3))
            if pid >= 0 and tid >= 0:
                d.tid_pid.setdefault(tid, pid)
            return
        m = _FORK_RX.search(line)
        if m is not None:
            pid, tid = int(m.group(1)), int(m.group(2))
            if pid >= 0 and tid >= 0:
                d.tid_pid.setdefault(tid, pid)
            return
        # other side-band records (LOST, THROTTLE, ...) carry nothing we use


def unreadable_text(samples: int, unparsed: int, lines: int, truncated: int, comments: int,
                    first_junk: Diagnostic | None, empty: int = 0) -> tuple[str, int] | None:
    """Why a whole text read as this is refused, and the line to name (None: it is perf
    script text): nothing but unparsed lines, half of its lines or more unparsed, or
    every sample without a stack while as many lines were unparsed (another tool's
    format), or a lone sample cut off before its end of line. ``lines`` counts every
    line; ``comments`` the header comment lines among them; ``empty`` the samples
    without a stack."""
    if samples == 0 and truncated:
        return ("looks truncated: it ends in the middle of its only sample (no end of "
                "line after the last line); was it cut off while copying?", lines)
    content = lines - comments
    if unparsed and (unparsed * 2 >= max(content, 1) or (
            samples and empty == samples and unparsed >= samples)):
        where = f" (first: {first_junk.message.partition(': ')[2]})" if first_junk else ""
        at = first_junk.lineno if first_junk is not None else 0
        if samples == 0:
            return ("not perf script output: no sample header found (samples without a "
                    f"callchain need the time or event field){where}", at)
        return (f"not perf script output: {unparsed:,} of {content:,} lines are no perf "
                f"script sample or frame{where}", at)
    return None


def _first_junk(diagnostics: list[Diagnostic], path: str) -> Diagnostic | None:
    return next((x for x in diagnostics if x.path == path and x.lineno and (
        x.message.startswith(("not perf script output", "not a callchain line")))), None)


PARALLEL_MIN_BYTES = 64 << 20  # a text this big is read by several processes


class _ByteRangeText:
    """A text stream over bytes [start, end) of a file (UTF-8, undecodable bytes kept as
    surrogates), for one process's share of a big input."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._f.seek(start)
        self._left = end - start
        self._dec = codecs.getincrementaldecoder("utf-8")("surrogateescape")

    def read(self, n: int) -> str:
        if self._left <= 0:
            return self._dec.decode(b"", final=True)
        b = self._f.read(min(n, self._left))
        self._left -= len(b)
        return self._dec.decode(b, final=self._left <= 0 or not b)

    def close(self) -> None:
        self._f.close()


def _sample_boundaries(path: str, size: int, parts: int, first_less: int = 0) -> list[int]:
    """Offsets that cut the file into ``parts`` pieces at blank lines (between samples);
    fewer pieces when a cut finds no blank line nearby (a text without them). The first
    piece is ``first_less`` bytes shorter than the others (its reader has other work)."""
    unit = (size + first_less) / parts
    first = max(int(unit) - first_less, 1)
    targets = [first + (size - first) * k // (parts - 1) for k in range(parts - 1)]
    cuts = [0]
    with open(path, "rb") as f:
        for at in targets:
            if at <= cuts[-1]:
                continue
            f.seek(at)
            window = f.read(16 << 20)
            i = window.find(b"\n\n")
            if i < 0:
                continue
            cut = at + i + 2
            if cut < size:
                cuts.append(cut)
    cuts.append(size)
    return cuts


def _read_range(path: str, start: int, end: int, keep_times: bool = False,
                bin_width: float | None = None) -> ScriptData:
    """Read one piece of a big text (in a worker process)."""
    reader = ScriptReader(keep_times=keep_times, bin_width=bin_width)
    f = _ByteRangeText(path, start, end)
    try:
        reader.read_text(f, path)  # type: ignore[arg-type] # read() is all it needs
    finally:
        f.close()
    return reader.data


def can_fork() -> bool:
    """Worker processes are forked; forking a process that runs other threads (a UI
    loading in the background) can deadlock, so then everything stays in this one."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def _position(f: IO[str]) -> Callable[[], int] | None:
    """Bytes of the file under a text stream read so far (the OS file offset: compressed
    bytes for .gz/.xz/.bz2, which all pass fileno() through); None for a pipe."""
    try:
        fd = f.fileno()
        os.lseek(fd, 0, os.SEEK_CUR)
    except (OSError, AttributeError, ValueError):  # io.UnsupportedOperation: both
        return None
    return lambda: os.lseek(fd, 0, os.SEEK_CUR)


def input_bytes(paths: Iterable[str]) -> int:
    """What ``read_scripts``'s progress counts up to: the inputs' sizes in bytes; 0 when
    unknown (stdin, or a perf.data: its text comes from a pipe)."""
    total = 0
    for p in paths:
        if p == "-" or _is_perf_data(p):
            return 0
        try:
            total += os.path.getsize(p)
        except OSError:
            return 0
    return total


def read_scripts(paths: Iterable[str], jobs: int = 1,
                 side_job: Callable[[], object] | None = None, side_job_bytes: int = 0,
                 keep_times: bool = False,
                 progress: Callable[[int, int], None] | None = None,
                 bin_width: float | None = None) -> ScriptData:
    """Read several perf script texts (samples merge) into one ``ScriptData``. With
    ``jobs`` > 1, a big uncompressed file is cut at blank lines into ``jobs`` pieces read
    by as many processes, and their results merged (the same result as one reader).
    ``side_job`` (e.g. parsing a big map) runs in this process while the workers read;
    this process's piece is then shorter by ``side_job_bytes`` (the job's cost in bytes
    of text). Without a split it runs after the reading. ``keep_times``: keep the time of
    every sample whose stack has a JIT frame (``EventData.timed``). ``progress(done,
    total)`` is called per 4 MiB read by this process (bytes; total from ``input_bytes``,
    0 = unknown). ``bin_width`` (seconds): also count samples per time bin
    (``EventData.bins``)."""
    reader = ScriptReader(keep_times=keep_times, bin_width=bin_width)
    paths = list(paths)
    total = input_bytes(paths) if progress is not None else 0
    done = 0
    for p in paths:
        if progress is not None:
            reader.progress = lambda n, before=done: progress(before + n, total)
            done += _input_size(p)
        size = _plain_file_size(p)
        if jobs > 1 and size >= PARALLEL_MIN_BYTES and can_fork():
            cuts = _sample_boundaries(p, size, jobs, side_job_bytes if side_job else 0)
            if len(cuts) > 2:
                reader.read_file_parallel(p, cuts, side_job)
                side_job = None
                continue
        reader.read_file(p)
    if side_job is not None:
        side_job()
    return reader.data


def _input_size(path: str) -> int:
    try:
        return 0 if path == "-" else os.path.getsize(path)
    except OSError:
        return 0


def splittable(path: str) -> bool:
    """Whether ``read_scripts`` may read this input with several processes."""
    return _plain_file_size(path) >= PARALLEL_MIN_BYTES


def _plain_file_size(path: str) -> int:
    """Size of an uncompressed regular text file; 0 for anything else."""
    if path == "-" or path.endswith((".gz", ".xz", ".bz2")):
        return 0
    try:
        st = os.stat(path)
    except OSError:
        return 0
    if not stat.S_ISREG(st.st_mode) or _is_perf_data(path):
        return 0
    return st.st_size
