"""What the reader keeps, as columns: frame lines, distinct callchains, samples per event
(24 bytes a sample, 4 a frame)."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jitprof.inputs.recording import RecordingFacts
from jitprof.model import Diagnostic

MAX_KEPT_DIAGNOSTICS = 50


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
        return self.add_ids(addr, (self._intern_sym(sym), self._intern_dso(dso)))

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

    @staticmethod
    def _intern(text: str, ids: dict[str, int], texts: list[str]) -> int:
        i = ids.get(text)
        if i is None:
            i = ids[text] = len(texts)
            texts.append(text)
        return i

    def _intern_sym(self, s: str) -> int:
        return self._intern(s, self._sym_ids, self.syms)

    def _intern_dso(self, d: str) -> int:
        return self._intern(d, self._dso_ids, self.dsos)

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
    # sched:sched_switch only (issue 17; None on every other event), one entry a sample
    # beside the four columns: the tracepoint's prev_pid, next_pid and the first letter
    # of its prev_state as perf prints it (ord: R runnable/preempted, S, D, T, t, X, Z,
    # P, I). Filled by ``add_switch`` after ``add``; read by jitprof.resolve.offcpu.
    sw_prev_tid: array | None = None
    sw_next_tid: array | None = None
    sw_prev_state: array | None = None
    # (samples, weight, first time, last time) as of ``_summary[0]`` samples: the totals
    # are summed from the columns when asked for, not per sample
    _summary: tuple[int, int, float | None, float | None] = (0, 0, None, None)

    def add(self, stack: int, thread: int, weight: int, t: float | None) -> None:
        self.s_stack.append(stack)
        self.s_thread.append(thread)
        self.s_weight.append(weight)
        self.s_time.append(math.nan if t is None else t)

    def add_switch(self, prev_tid: int, next_tid: int, prev_state: int) -> None:
        """The switch fields of the sample just added (``add``); the columns are made on
        first use, with zeros for earlier samples (which had none)."""
        if self.sw_prev_tid is None or self.sw_next_tid is None or self.sw_prev_state is None:
            n = len(self.s_stack) - 1
            self.sw_prev_tid = array("i", bytes(4 * n))
            self.sw_next_tid = array("i", bytes(4 * n))
            self.sw_prev_state = array("B", bytes(n))
        self.sw_prev_tid.append(prev_tid)
        self.sw_next_tid.append(next_tid)
        self.sw_prev_state.append(prev_state)

    def merge_switch_columns(self, prev_tid: array, next_tid: array, prev_state: array) -> None:
        """The switch fields of the ``len(prev_tid)`` samples added last (a native reader
        adds them in bulk after ``s_stack``...); zeros for earlier samples without."""
        n = len(self.s_stack) - len(prev_tid)
        if self.sw_prev_tid is None or self.sw_next_tid is None or self.sw_prev_state is None:
            self.sw_prev_tid = array("i", bytes(4 * n))
            self.sw_next_tid = array("i", bytes(4 * n))
            self.sw_prev_state = array("B", bytes(n))
        self.sw_prev_tid.extend(prev_tid)
        self.sw_next_tid.extend(next_tid)
        self.sw_prev_state.extend(prev_state)

    def merge_switch(self, other: EventData) -> None:
        """Append ``other``'s switch columns (before its samples are appended to ours):
        zeros where one side has none."""
        if other.sw_prev_tid is None and self.sw_prev_tid is None:
            return
        n, m = len(self.s_stack), len(other.s_stack)
        if self.sw_prev_tid is None or self.sw_next_tid is None or self.sw_prev_state is None:
            self.sw_prev_tid = array("i", bytes(4 * n))
            self.sw_next_tid = array("i", bytes(4 * n))
            self.sw_prev_state = array("B", bytes(n))
        if other.sw_prev_tid is None or other.sw_next_tid is None or other.sw_prev_state is None:
            self.sw_prev_tid.extend(array("i", bytes(4 * m)))
            self.sw_next_tid.extend(array("i", bytes(4 * m)))
            self.sw_prev_state.extend(array("B", bytes(m)))
        else:
            self.sw_prev_tid.extend(other.sw_prev_tid)
            self.sw_next_tid.extend(other.sw_next_tid)
            self.sw_prev_state.extend(other.sw_prev_state)

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

    def _counted(self, width: float | None) -> dict[tuple[Any, ...], list[int]]:
        """(tid, comm, stack of raw frame ids[, time bin]) -> [samples, weight]; with a
        ``width``, per time bin, leaving out samples without a time."""
        out: dict[tuple[Any, ...], list[int]] = {}
        table, threads = self.table, self.threads
        for sid, th, w, t in zip(self.s_stack, self.s_thread, self.s_weight, self.s_time,
                                 strict=True):
            tid, comm = threads[th]
            if width is None:
                key: tuple[Any, ...] = (tid, comm, table[sid])
            elif t != t:  # NaN: no time
                continue
            else:
                key = (tid, comm, table[sid], int(t / width))
            acc = out.get(key)
            if acc is None:
                out[key] = [1, w]
            else:
                acc[0] += 1
                acc[1] += w
        return out

    @property
    def stacks(self) -> dict[tuple[Any, ...], list[int]]:
        """(tid, comm, stack of raw frame ids) -> [samples, weight] (a view made on
        demand, for tests and small inputs)."""
        return self._counted(None)

    @property
    def bins(self) -> dict[tuple[Any, ...], list[int]]:
        """(tid, comm, stack, time bin) -> [samples, weight], when read with a bin width
        (samples without a time are left out); {} otherwise."""
        return self._counted(self.bin_width) if self.bin_width is not None else {}


SWITCH_OUT = 1  # SwitchRecords.flags: an OUT record (else IN)
SWITCH_PREEMPT = 2  # ... switched out while runnable (perf's "preempt")
SWITCH_EVENT = "sched:sched_switch"  # the tracepoint whose samples carry sw_* columns


class SwitchRecords:
    """PERF_RECORD_SWITCH / PERF_RECORD_SWITCH_CPU_WIDE records (``perf record
    --switch-events``, printed by ``perf script --show-switch-events``) as columns: time
    (seconds, the samples' clock), tid (the task switched in or out) and flags
    (``SWITCH_OUT``, ``SWITCH_PREEMPT``). 13 bytes a record."""

    __slots__ = ("time", "tid", "flags")

    def __init__(self) -> None:
        self.time = array("d")
        self.tid = array("i")
        self.flags = array("B")

    def add(self, time: float, tid: int, flags: int) -> None:
        self.time.append(time)
        self.tid.append(tid)
        self.flags.append(flags)

    def extend(self, other: SwitchRecords) -> None:
        self.time.extend(other.time)
        self.tid.extend(other.tid)
        self.flags.extend(other.flags)

    def __len__(self) -> int:
        return len(self.time)


@dataclass(slots=True)
class ScriptData:
    """Everything read from one or more perf script texts."""

    frames: RawFrames = field(default_factory=RawFrames)
    stacks: RawStacks = field(default_factory=RawStacks)
    threads: list[tuple[int, str]] = field(default_factory=list)  # (tid, comm) of samples
    events: dict[str, EventData] = field(default_factory=dict)
    tid_pid: dict[int, int] = field(default_factory=dict)
    mmaps: list[Mmap] = field(default_factory=list)
    switches: SwitchRecords = field(default_factory=SwitchRecords)  # (issue 17)
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
    # dso -> build-id a perf.data read natively recorded (its HEADER_BUILD_ID)
    build_ids: dict[str, str] = field(default_factory=dict)
    # "raw" when every frame address is a runtime address (perf.data read natively);
    # None: the text decides (perf 5.16-6.4 print file offsets for callchain frames)
    address_form: str | None = None
    notes: list[str] = field(default_factory=list)  # warnings the reading found
    # file and kernel callers named at their return address, as perf names them (a
    # perf.data read natively: its numbers equal the perf script text's); else at the
    # return address - 1 (jitprof's rule for the frames perf left unnamed)
    callers_at_return: bool = False
    native_inputs: list[str] = field(default_factory=list)  # perf.data read natively
    clocks: dict[str, str] = field(default_factory=dict)  # their samples' clocks

    def note(self, path: str, lineno: int, message: str) -> None:
        if len(self.diagnostics) < MAX_KEPT_DIAGNOSTICS:
            self.diagnostics.append(Diagnostic(path, lineno, message))

    def event(self, name: str) -> EventData:
        ev = self.events.get(name)
        if ev is None:
            ev = self.events[name] = EventData(name, self.stacks, self.threads)
        return ev

