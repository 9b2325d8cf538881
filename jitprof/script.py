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
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from jitprof.errors import EmptyInputError, InputError, JitprofError
from jitprof.model import Diagnostic
from jitprof.names import is_jit_dso, last_group_start
from jitprof.recording import RecordingFacts, is_header_comment, note_header_comment

MAX_KEPT_DIAGNOSTICS = 50

_TIME_RX = re.compile(r"(?:^|\s)(\d+\.\d+):(?=\s|$)")
_IDS_RX = re.compile(r"(-?\d+)(?:/(-?\d+))?")
_CPU_RX = re.compile(r"\[(\d+)\]")
_INT_RX = re.compile(r"-?\d+")
_SYMOFF_RX = re.compile(r"\+0x[0-9a-fA-F]+$")
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


@dataclass(frozen=True, slots=True)
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
    """Raw samples of one event: (tid, comm, stack of raw frame ids) -> [samples, weight]."""

    name: str
    stacks: dict[tuple[int, str, tuple[int, ...]], list[int]] = field(default_factory=dict)
    samples: int = 0
    weight: int = 0
    has_period: bool = False
    time_first: float | None = None
    time_last: float | None = None
    # with ``keep_times``: per key of a stack with a JIT frame, its samples' (time, weight)
    # pairs in one flat array (time NaN where the text has none); for jitdump naming
    timed: dict[tuple[int, str, tuple[int, ...]], array] = field(default_factory=dict)
    # (tid, comm, stack, time bin) -> [samples, weight]: only when read with a bin width;
    # samples without a time are in ``stacks`` only
    bins: dict[tuple[int, str, tuple[int, ...], int], list[int]] = field(default_factory=dict)


@dataclass(slots=True)
class ScriptData:
    """Everything read from one or more perf script texts."""

    frames: list[RawFrame] = field(default_factory=list)
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


def parse_frame_text(text: str) -> RawFrame | None:
    """Parse 'hexaddr sym[+0xoff] (dso)' (leading blanks allowed); None if not a frame."""
    text = text.strip()
    addr_s, _, rest = text.partition(" ")
    try:
        addr = int(addr_s, 16)
    except ValueError:
        return None
    if addr < 0 or addr_s[:1] in "+-" or "_" in addr_s:
        return None
    sym, dso = _dso_split(rest.strip())
    m = _SYMOFF_RX.search(sym)
    if m is not None:
        sym = sym[: m.start()]
    return RawFrame(addr, sym, dso if dso is not None else "")


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
    if s[0] in " \t":
        return True
    return parse_header(s) is None and parse_bare_header_numbers(s) is None


def parse_bare_header_numbers(line: str) -> tuple[int, int | None] | None:
    """A line of numbers only (``-F tid``: `` 4605``, or tid and period): (first, second)."""
    toks = line.split()
    if not toks or len(toks) > 2 or not all(_INT_RX.fullmatch(t) for t in toks):
        return None
    return int(toks[0]), (int(toks[1]) if len(toks) > 1 else None)


def collapse_inlined(stack: tuple[int, ...], frames: list[RawFrame],
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


# The sample being read: (event, tid or -1, comm, weight, time or None, header rest)
_Cur = tuple[EventData, int, str, int, "float | None", str]
_HEADER_CACHE_MAX = 65536
_STACK_CACHE_MAX = 131072  # frames texts kept (about 1 KB each: up to ~130 MB)


class ScriptReader:
    """Feeds lines of one or more perf script texts into a ``ScriptData``."""

    def __init__(self, data: ScriptData | None = None, keep_times: bool = False,
                 bin_width: float | None = None) -> None:
        self.data = data if data is not None else ScriptData()
        # keep each sample's time for stacks with a JIT frame (jitdump naming by time)
        self.keep_times = keep_times
        self.bin_width = bin_width  # seconds: also count samples per time bin (ev.bins)
        self._cache: dict[str, int] = {}
        self._hcache: dict[str, tuple[EventData, int, str, int, str]] = {}
        self._cur: _Cur | None = None
        self._pending: tuple[str, int, str] | None = None  # a bare header line, if frames follow
        self._stack: list[int] = []
        self._blank_at = -1  # the number of the last blank line read (issue 13: frames
        # indented with blanks right after one start a callchain of their own)
        # progress(bytes): called once per chunk read (4 MiB) with the bytes of the input
        # read so far (compressed bytes for .gz/.xz/.bz2; text bytes from a pipe)
        self.progress: Callable[[int], None] | None = None

    def _frame_id(self, line: str) -> int:
        """The id of a frame line (cached by its text without the newline); -1 if the
        line is not a frame."""
        if line[-1:] == "\n":
            line = line[:-1]
        fid = self._cache.get(line)
        if fid is None:
            fr = parse_frame_text(line)
            if fr is None:
                return -1
            fid = len(self.data.frames)
            self.data.frames.append(fr)
            self._cache[line] = fid
        return fid

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
        stacks: dict[str, list[Any]] = {}  # frames text -> see "entry" below; bounded
        stacks_get = stacks.get
        hcache_get = self._hcache.get
        bin_width = self.bin_width
        lineno = 0
        last = ""
        rest = ""
        progress = self.progress
        position = _position(f) if progress is not None else None
        chars = 0
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
                    # entry: [stack, lines in the block, last header seen, its counter]
                    entry = stacks_get(frames_text)
                    if entry is None:
                        frame_lines = frames_text.split("\n")
                        if frames_text.count("\n\t") == len(frame_lines) - 1:
                            found = list(map(cache_get, frame_lines))
                            if None in found:
                                found = [self._frame_id(ln) if fid is None else fid
                                         for ln, fid in zip(frame_lines, found, strict=True)]
                            # a line that is no frame: the line reader counts it (once)
                            if -1 not in found:
                                entry_ids: list[int] = found  # type: ignore[assignment]
                                if len(stacks) >= _STACK_CACHE_MAX:
                                    stacks.clear()
                                # [4]: (event, tid, comm) -> its times, if kept
                                keep = self.keep_times and self._jit_stack(entry_ids)
                                entry = stacks[frames_text] = [
                                    tuple(found), len(frame_lines) + 2, None, None,
                                    {} if keep else None]
                    if entry is not None:
                        stack = entry[0]
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
                                    ev, tid, comm, w, _r = hit
                                    if entry[2] is hit:  # same thread and event as last time
                                        acc = entry[3]
                                        acc[0] += 1
                                        acc[1] += w
                                    else:
                                        key = (tid, comm, stack)
                                        acc = ev.stacks.get(key)
                                        if acc is None:
                                            acc = ev.stacks[key] = [1, w]
                                        else:
                                            acc[0] += 1
                                            acc[1] += w
                                        entry[2] = hit
                                        entry[3] = acc
                                    ev.samples += 1
                                    ev.weight += w
                                    if bin_width is not None:
                                        bkey = (tid, comm, stack, int(t / bin_width))
                                        bacc = ev.bins.get(bkey)
                                        if bacc is None:
                                            ev.bins[bkey] = [1, w]
                                        else:
                                            bacc[0] += 1
                                            bacc[1] += w
                                    tmap = entry[4]
                                    if tmap is not None:  # keep_times, a stack with JIT
                                        tk = (ev.name, tid, comm)
                                        times = tmap.get(tk)
                                        if times is None:
                                            times = tmap[tk] = self._times_of(
                                                ev, (tid, comm, stack))
                                        times.append(t)
                                        times.append(w)
                                    if ev.time_last is None or t > ev.time_last:
                                        ev.time_last = t
                                    if ev.time_first is None or t < ev.time_first:
                                        ev.time_first = t
                                    lineno += entry[1]
                                    continue
                        if "PERF_RECORD_" not in head:
                            cur = self._other(head, lineno + 1, path, None, self._stack)
                            if cur is not None:
                                self._count(cur, stack)
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
        """Add another reader's data (a later piece of the same text) to ours."""
        d = self.data
        remap: list[int] = []
        shared = other.frames is d.frames  # one frame table (jitprof.live): the same ids
        if not shared:
            index = {fr: i for i, fr in enumerate(d.frames)}
            for fr in other.frames:
                i = index.get(fr)
                if i is None:
                    i = index[fr] = len(d.frames)
                    d.frames.append(fr)
                remap.append(i)

        def ids(st: tuple[int, ...]) -> tuple[int, ...]:
            return st if shared else tuple(map(remap.__getitem__, st))

        for name, oe in other.events.items():
            ev = d.events.get(name)
            if ev is None:
                ev = d.events[name] = EventData(name)
            for (tid, comm, st), (n, w) in oe.stacks.items():
                key = (tid, comm, ids(st))
                acc = ev.stacks.get(key)
                if acc is None:
                    ev.stacks[key] = [n, w]
                else:
                    acc[0] += n
                    acc[1] += w
            for (tid, comm, st, b), (n, w) in oe.bins.items():
                bkey = (tid, comm, ids(st), b)
                acc = ev.bins.get(bkey)
                if acc is None:
                    ev.bins[bkey] = [n, w]
                else:
                    acc[0] += n
                    acc[1] += w
            ev.samples += oe.samples
            ev.weight += oe.weight
            ev.has_period = ev.has_period or oe.has_period
            for (tid, comm, st), a in oe.timed.items():
                key = (tid, comm, ids(st))
                mine = ev.timed.get(key)
                if mine is None:
                    ev.timed[key] = a
                else:
                    mine.extend(a)
            for t in (oe.time_first, oe.time_last):
                if t is not None:
                    if ev.time_first is None or t < ev.time_first:
                        ev.time_first = t
                    if ev.time_last is None or t > ev.time_last:
                        ev.time_last = t
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

    def _begin(self, path: str) -> tuple[int, int, int]:
        d = self.data
        d.inputs.append(path)
        self._cur = None
        self._pending = None
        self._stack.clear()
        self._blank_at = -1
        return sum(e.samples for e in d.events.values()), d.unparsed, d.truncated

    def _end(self, path: str, start: tuple[int, int, int], lineno: int, last: str) -> None:
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
                              _first_junk(d.diagnostics, path))
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
        """Count the finished sample under its (thread, comm, stack) and clear ``stack``."""
        if not stack and cur[5]:
            fid = self._frame_id(cur[5])
            if fid >= 0:
                stack.append(fid)
        if not stack:
            self.data.empty_stacks += 1
        self._count(cur, tuple(stack))
        stack.clear()

    def _count(self, cur: _Cur, stack: tuple[int, ...]) -> None:
        ev, tid, comm, w, t, _rest = cur
        key = (tid, comm, stack)
        acc = ev.stacks.get(key)
        if acc is None:
            ev.stacks[key] = [1, w]
        else:
            acc[0] += 1
            acc[1] += w
        ev.samples += 1
        ev.weight += w
        if self.keep_times and self._jit_stack(stack):
            self._keep_time(ev, key, t, w)
        if t is not None and self.bin_width is not None:
            bkey = (tid, comm, stack, int(t / self.bin_width))
            acc = ev.bins.get(bkey)
            if acc is None:
                ev.bins[bkey] = [1, w]
            else:
                acc[0] += 1
                acc[1] += w
        if t is not None:
            if ev.time_first is None or t < ev.time_first:
                ev.time_first = t
            if ev.time_last is None or t > ev.time_last:
                ev.time_last = t

    def _jit_stack(self, stack: Iterable[int]) -> bool:
        frames = self.data.frames
        return any(is_jit_dso(frames[f].dso) for f in stack)

    @staticmethod
    def _times_of(ev: EventData, key: tuple[int, str, tuple[int, ...]]) -> array:
        a = ev.timed.get(key)
        if a is None:
            a = ev.timed[key] = array("d")
        return a

    def _keep_time(self, ev: EventData, key: tuple[int, str, tuple[int, ...]],
                   t: float | None, w: int) -> None:
        a = self._times_of(ev, key)
        a.append(math.nan if t is None else t)
        a.append(w)

    def _other(
        self, line: str, lineno: int, path: str, cur: _Cur | None, stack: list[int]
    ) -> _Cur | None:
        """Every line that is not a tab-indented frame or an empty line; returns the
        sample now being read (None between samples)."""
        d = self.data
        # issue 13: callchain lines indented with blanks, or not at all (is_frame_line)
        if cur is not None and not cur[5] and is_frame_line(line):
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
            one_line = not stack and bool(cur[5])
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
        ev = self.data.events.get("")
        if ev is None:
            ev = self.data.events[""] = EventData("")
        if period is not None:
            ev.has_period = True
        return (ev, -1 if tid is None else tid, comm, 1 if period is None else period, None, "")

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
                        ev, tid, comm, w, rest = hit
                        return (ev, tid, comm, w, t, rest)
        h = parse_header(line.rstrip("\n"))
        if h is None:
            return None
        d = self.data
        if h.pid is not None and h.tid is not None:
            d.tid_pid.setdefault(h.tid, h.pid)
        event = d.events.get(h.event)
        if event is None:
            event = d.events[h.event] = EventData(h.event)
        if h.period is not None:
            event.has_period = True
        tid = h.tid if h.tid is not None else -1
        w = h.period if h.period is not None else 1
        if key is not None and h.time == t:
            if len(self._hcache) >= _HEADER_CACHE_MAX:  # -G output: every ip differs
                self._hcache.clear()
            self._hcache[key] = (event, tid, h.comm, w, h.rest)
        return (event, tid, h.comm, w, h.time, h.rest)

    def _implicit(self, rest: str) -> _Cur:
        """A sample whose text has no header fields (``-F ip,sym,dso``)."""
        ev = self.data.events.get("")
        if ev is None:
            ev = self.data.events[""] = EventData("")
        return (ev, -1, "", 1, None, rest)

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
                    first_junk: Diagnostic | None) -> tuple[str, int] | None:
    """Why a whole text read as this is refused, and the line to name (None: it is perf
    script text): nothing but unparsed lines, most of its lines unparsed (another tool's
    format), or a lone sample cut off before its end of line. ``lines`` counts every
    line; ``comments`` the header comment lines among them."""
    if samples == 0 and truncated:
        return ("looks truncated: it ends in the middle of its only sample (no end of "
                "line after the last line); was it cut off while copying?", lines)
    content = lines - comments
    if unparsed and unparsed * 2 >= max(content - samples, 1):
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
