"""Off-CPU and wall-clock samples made from context switches (issue 17): a pure step
between parse and resolve that adds the events ``off-cpu`` and ``wall`` to a ScriptData.

What it reads (jitprof/parse/tables.py; /work/notes/issue17-interface.md): the
``sched:sched_switch`` samples (time, thread, callchain, and the columns ``sw_prev_tid``,
``sw_next_tid``, ``sw_prev_state``), ``ScriptData.switches`` (PERF_RECORD_SWITCH records,
``perf record --switch-events``) and the times of every other sample.

The rules:

- Each switch-out of a thread (a ``sched:sched_switch`` sample: the tracepoint fires in
  the thread being switched out, so the sample's stack is where it stopped) starts one
  off-CPU sample at the sample's time. It ends when that thread next runs: its first
  switch-in after it (a PERF_RECORD_SWITCH IN record of the thread, or a switch sample
  whose ``next_pid`` is the thread, as ``perf record -a`` gives); failing that, its next
  sample of any event (it ran then: the wait is at most that sample's distance too long,
  and a warning says how many waits ended so); failing both, at the recording's end (the
  newest time in the input), and a warning says so. Its weight is that duration in ns.
- Every state counts: ``S`` (sleeping: poll, futex, nanosleep...), ``D`` (uninterruptible:
  disk IO), ``R`` (switched out while runnable: preempted, waiting for a CPU, not for
  IO), and the rest. A thread's last switch (``X``/``Z``: it exited) starts no wait. The
  time per state is said per thread (``OffCpu.lines``), so preemption on a busy machine
  is not mistaken for blocking.
- The stack is the switch-out stack without the scheduler's own frames at its leaf
  (``__schedule``, ``schedule``, ``schedule_hrtimeout_range``...: ``SCHED_FRAMES``), so
  the leaf is what the thread waits in: ``do_sys_poll``'s ``poll_schedule_timeout``,
  ``futex_wait_queue``, ``do_epoll_wait``, ``do_nanosleep``, ``io_schedule``...; the raw
  ``sched:sched_switch`` event keeps the whole stacks.
- ``wall`` is the ``cpu-clock`` (or ``task-clock``) samples, weighted by their period (ns
  of CPU time), plus the off-CPU samples: a thread's wall time is the time it ran plus
  the time it waited. Without such an event with periods there is no ``wall``
  (``OffCpu.why_no_wall``).

Cost: a few numpy passes over the switch samples and records, a binary search per thread;
the stacks trimmed are appended to a copy of the stack table (the input is not changed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jitprof.model import CPU_TIME_EVENTS, OFF_CPU, SYNTHETIC_EVENTS, WALL, Frame
from jitprof.model.names import KERNEL_MIN_ADDR
from jitprof.parse import EventData, RawStacks, ScriptData
from jitprof.parse.tables import SWITCH_EVENT, SWITCH_OUT

__all__ = ["CPU_TIME_EVENTS", "OFF_CPU", "SYNTHETIC_EVENTS", "WALL"]  # (jitprof.model's)

# kernel scheduler frames at the leaf of a switch-out stack: left out, so the leaf says
# what the thread waits in (perf's names; ".constprop.0"-style suffixes are cut first)
SCHED_FRAMES = frozenset({
    "__schedule", "schedule", "__schedule_loop", "schedule_idle",
    "schedule_preempt_disabled", "preempt_schedule", "preempt_schedule_common",
    "preempt_schedule_irq", "preempt_schedule_notrace", "preempt_schedule_thunk",
    "preempt_schedule_notrace_thunk", "__cond_resched", "_cond_resched",
    "schedule_timeout", "schedule_hrtimeout", "schedule_hrtimeout_range",
    "schedule_hrtimeout_range_clock", "schedule_timeout_interruptible",
    "schedule_timeout_uninterruptible", "schedule_timeout_killable", "freezable_schedule",
})

STATE_NAMES = {"S": "sleeping", "D": "uninterruptible (IO)", "R": "runnable (preempted)",
               "T": "stopped", "t": "traced", "P": "parked", "I": "idle"}
_DEAD = (ord("X"), ord("Z"))
MAX_THREAD_LINES = 20


@dataclass(slots=True)
class OffCpu:
    """What the synthesis found: ``lines`` for the report header (totals per state and per
    thread), ``warnings`` (cut waits, missing stacks), ``why_no_wall``."""

    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    why_no_wall: str | None = None
    waits: int = 0
    open_at_end: int = 0


def function_key(frame: Frame) -> str:
    """How a wall profile's diagnostics name a function (``off_cpu_self``/``_total``)."""
    return f"{frame.kind.value}\t{frame.dso}\t{frame.name}"


def cpu_time_event(data: ScriptData) -> str | None:
    """The event whose samples are CPU time in ns (cpu-clock, else task-clock), if any."""
    for want in CPU_TIME_EVENTS:
        for name in data.events:
            if name.split(":")[0].split("/")[0] == want:
                return name
    return None


def add_off_cpu(data: ScriptData, kernel_name: Callable[[int], str | None] | None = None
                ) -> tuple[ScriptData, OffCpu | None]:
    """``data`` with the events ``off-cpu`` and ``wall`` added (a new ScriptData sharing
    the unchanged tables), and what was found; ``data`` itself and None when it has no
    switch samples with their fields. ``kernel_name(address)``: a kernel function's name,
    for the frames at the leaf that the input left unnamed (a native perf.data read has
    no names yet: kallsyms names them later), to know the scheduler's frames."""
    import numpy as np

    sw = data.events.get(SWITCH_EVENT)
    if OFF_CPU in data.events:  # made already (a wall profile's off-cpu split)
        return data, OffCpu()
    if sw is None or not sw.samples or sw.sw_prev_tid is None or sw.sw_prev_state is None:
        return data, None
    w = _waits(data, sw)
    stacks, new_stack = _trimmed_stacks(data, w.stack, kernel_name)
    off = EventData(OFF_CPU, stacks, data.threads)
    off.s_stack.frombytes(new_stack.astype(np.int32).tobytes())
    off.s_thread.frombytes(w.thread.astype(np.int32).tobytes())
    off.s_weight.frombytes(w.dur.tobytes())
    off.s_time.frombytes(w.start.astype(np.float64).tobytes())
    off.has_period = True
    off.bin_width = sw.bin_width
    events = dict(data.events)
    events[OFF_CPU] = off
    empty = _empty_stacks(data, w.stack)
    if empty:
        w.note.warnings.append(
            f"off-cpu: {empty:,} of {len(w.tid):,} switch samples have no call stack "
            "(record them with -g): their time is in [no stack]")
    cpu_name = cpu_time_event(data)
    cpu = data.events.get(cpu_name) if cpu_name is not None else None
    wall, w.note.why_no_wall = _wall_event(cpu, cpu_name, off, data.threads)
    if wall is not None:
        events[WALL] = wall
    w.note.lines = _summary(data, cpu, w.thread, w.tid, w.state, w.dur, w.th_tid)
    return dataclasses.replace(data, events=events, stacks=stacks), w.note


@dataclass(frozen=True, slots=True)
class _Waits:
    """The waits of the recording's threads, one per switch-out sample kept: its reader
    stack and thread, the tid switched out, its state, start (s) and length (ns); the
    reader's thread index -> tid; and what was found (``note``: a new one)."""

    stack: Any
    thread: Any
    tid: Any
    state: Any
    start: Any
    dur: Any
    th_tid: Any
    note: OffCpu


def _waits(data: ScriptData, sw: EventData) -> _Waits:
    """Each switch-out of a thread of the recording, until the thread's next switch-in or
    sample (the recording's end when none)."""
    import numpy as np

    note = OffCpu()
    s_time = np.frombuffer(sw.s_time, dtype=np.float64)
    s_thread = np.frombuffer(sw.s_thread, dtype=np.int32)
    s_stack = np.frombuffer(sw.s_stack, dtype=np.int32)
    assert sw.sw_prev_tid is not None and sw.sw_prev_state is not None
    prev = np.frombuffer(sw.sw_prev_tid, dtype=np.int32).astype(np.int64)
    state = np.frombuffer(sw.sw_prev_state, dtype=np.uint8)
    nxt = np.frombuffer(sw.sw_next_tid, dtype=np.int32).astype(np.int64) if (
        sw.sw_next_tid is not None) else np.full(len(prev), -1, dtype=np.int64)
    th_tid = np.array([t for t, _c in data.threads] or [0], dtype=np.int64)
    head_tid = th_tid[s_thread] if len(s_thread) else np.zeros(0, dtype=np.int64)
    prev = np.where((state == 0) & (prev <= 0), head_tid, prev)  # no trace fields
    timed = ~np.isnan(s_time)
    dead = np.isin(state, _DEAD)
    # the tracepoint fires in the thread switched out: a sample of another thread (or of
    # the idle task, tid 0) is no wait of a thread of the recording
    mine = (prev == head_tid) | (head_tid < 0)
    keep = timed & ~dead & (prev > 0) & mine
    if int((~mine & (prev > 0)).sum()):
        note.warnings.append(f"off-cpu: {int((~mine & (prev > 0)).sum()):,} switch samples "
                             "of another thread than the one switched out, left out")
    if not timed.all():
        note.warnings.append(f"off-cpu: {int((~timed).sum()):,} switch samples without a "
                             "time (perf script -F +time), left out")
    idx = np.flatnonzero(keep)
    starts, tids = s_time[idx], prev[idx]
    end_time = _recording_end(data)
    ends, by_sample = _wait_ends(data, starts, tids, _switch_ins(data, s_time, nxt), th_tid)
    open_end = np.isnan(ends)
    ends = np.where(open_end, end_time, ends)
    dur = np.maximum(np.rint((ends - starts) * 1e9), 0).astype(np.int64)
    note.waits, note.open_at_end = len(idx), int(open_end.sum())
    if note.open_at_end:
        cut = int(dur[open_end].sum())
        note.warnings.append(
            f"off-cpu: {note.open_at_end:,} wait(s) of {len(np.unique(tids[open_end])):,} "
            f"thread(s) had no switch-in before the recording's end ({end_time:.6f} s): "
            f"cut there ({cut / 1e6:,.1f} ms in all)")
    if by_sample.any():
        note.warnings.append(
            f"off-cpu: {int(by_sample.sum()):,} of {len(idx):,} waits ended at the "
            "thread's next sample, not at a switch-in (record with --switch-events, or "
            "-a): each may be up to a sample period too long")
    return _Waits(s_stack[idx], s_thread[idx], tids, state[idx], starts, dur, th_tid, note)


def _wait_ends(data: ScriptData, starts: Any, tids: Any, ins: tuple[Any, Any], th_tid: Any
               ) -> tuple[Any, Any]:
    """Per wait: when it ended (the thread's first switch-in at or after its start, or
    its first sample after it; NaN: neither), and whether a sample ended it."""
    import numpy as np

    ins_t, ins_tid = ins
    ev_t, ev_tid = _sample_times(data, th_tid)
    ends = np.full(len(starts), np.nan)
    by_sample = np.zeros(len(starts), dtype=bool)
    for tid in np.unique(tids).tolist():
        q = np.flatnonzero(tids == tid)
        st = starts[q]
        e1 = _first_at_or_after(ins_t[ins_tid == tid], st, strict=False)
        e2 = _first_at_or_after(ev_t[ev_tid == tid], st, strict=True)
        ends[q] = np.fmin(e1, e2)
        by_sample[q] = ~np.isnan(e2) & (np.isnan(e1) | (e2 < e1))
    return ends, by_sample


def _wall_event(cpu: EventData | None, cpu_name: str | None, off: EventData,
                threads: list[tuple[int, str]]) -> tuple[EventData | None, str | None]:
    """The wall event (CPU samples' ns + the waits), or None and why not."""
    if cpu is None:
        return None, ("wall needs cpu-clock (or task-clock) samples beside the "
                      "switches: record with -e cpu-clock -e sched:sched_switch")
    if not cpu.has_period:
        return None, (f"wall needs the period of the {cpu_name} samples (CPU ns): "
                      "print them with perf script -F +period")
    wall = EventData(WALL, off.table, threads)
    for src in (cpu, off):
        wall.s_stack.extend(src.s_stack)
        wall.s_thread.extend(src.s_thread)
        wall.s_weight.extend(src.s_weight)
        wall.s_time.extend(src.s_time)
    wall.has_period = True
    wall.bin_width = off.bin_width
    return wall, None


def _recording_end(data: ScriptData) -> float:
    """The newest time in the input: its samples' and switch records'."""
    import numpy as np

    last = [e.time_last for e in data.events.values() if e.time_last is not None]
    if len(data.switches):
        last.append(float(np.max(np.frombuffer(data.switches.time, dtype=np.float64))))
    return max(last) if last else 0.0


def _switch_ins(data: ScriptData, s_time: Any, nxt: Any) -> tuple[Any, Any]:
    """(times, tids) of every switch-in: IN records, and switch samples naming the thread
    switched in (``next_pid``; perf record -a)."""
    import numpy as np

    sr = data.switches
    r_t = np.frombuffer(sr.time, dtype=np.float64)
    r_tid = np.frombuffer(sr.tid, dtype=np.int32).astype(np.int64)
    r_in = (np.frombuffer(sr.flags, dtype=np.uint8) & SWITCH_OUT) == 0
    s_in = nxt > 0
    return (np.concatenate([r_t[r_in], s_time[s_in]]),
            np.concatenate([r_tid[r_in], nxt[s_in]]))


def _sample_times(data: ScriptData, th_tid: Any) -> tuple[Any, Any]:
    """(times, tids) of every sample of the input: the thread ran then."""
    import numpy as np

    ts, tids = [], []
    for e in data.events.values():
        if e.samples:
            ts.append(np.frombuffer(e.s_time, dtype=np.float64))
            tids.append(th_tid[np.frombuffer(e.s_thread, dtype=np.int32)])
    if not ts:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    t, tid = np.concatenate(ts), np.concatenate(tids)
    ok = ~np.isnan(t)
    return t[ok], tid[ok]


def _first_at_or_after(times: Any, at: Any, strict: bool) -> Any:
    """For each of ``at``, the first of ``times`` at (or, ``strict``, after) it; NaN if none."""
    import numpy as np

    if not len(times):
        return np.full(len(at), np.nan)
    t = np.sort(times)
    i = np.searchsorted(t, at, side="right" if strict else "left")
    return np.where(i < len(t), t[np.minimum(i, len(t) - 1)], np.nan)


def _base_name(sym: str) -> str:
    """``poll_schedule_timeout.constprop.0`` -> ``poll_schedule_timeout``."""
    return sym.split(".", 1)[0]


def _trimmed_stacks(data: ScriptData, used: Any,
                    kernel_name: Callable[[int], str | None] | None = None
                    ) -> tuple[RawStacks, Any]:
    """The stack table with each used stack's scheduler leaf frames cut (appended as new
    stacks to a copy; the input's table is unchanged), and the stack id of each sample."""
    import numpy as np

    frames, table = data.frames, data.stacks
    back = 0 if data.callers_at_return else 1  # callers are looked up at addr - 1
    seen: dict[tuple[int, bool], bool] = {}

    def is_sched(fid: int, caller: bool) -> bool:
        got = seen.get((fid, caller))
        if got is None:
            addr = frames.addr[fid]
            sym = frames.sym_of(fid)
            if sym in ("", "[unknown]") and kernel_name is not None and (
                    addr >= KERNEL_MIN_ADDR):
                sym = kernel_name(addr - back if caller else addr) or ""
            got = seen[(fid, caller)] = (addr >= KERNEL_MIN_ADDR
                                         and _base_name(sym) in SCHED_FRAMES)
        return got

    out_ids: dict[int, int] = {}
    cut: dict[int, tuple[int, ...]] = {}
    for sid in np.unique(used).tolist():
        st = table[sid]
        k = 0
        while k < len(st) - 1 and is_sched(st[k], k > 0):
            k += 1
        if k:
            cut[sid] = st[k:]
    if not cut:
        return table, used.copy()
    stacks = RawStacks()
    stacks.frames = table.frames[:]  # (array copies)
    stacks.ends = table.ends[:]
    for sid, st in cut.items():
        out_ids[sid] = stacks.add(st)
    mapping = np.arange(len(table), dtype=np.int64)
    for sid, nid in out_ids.items():
        mapping[sid] = nid
    return stacks, mapping[used]


def _empty_stacks(data: ScriptData, used: Any) -> int:
    import numpy as np

    ends = np.frombuffer(data.stacks.ends, dtype=np.int64)
    starts = np.concatenate([[0], ends[:-1]]) if len(ends) else ends
    lens = (ends - starts)[used] if len(used) else np.zeros(0, dtype=np.int64)
    return int((lens == 0).sum())


def _summary(data: ScriptData, cpu: EventData | None, thread: Any, tids: Any, state: Any,
             dur: Any, th_tid: Any) -> list[str]:
    """The header's lines: off-CPU time per state, then per thread (heaviest first) its
    CPU time (cpu-clock periods), its off-CPU time and the states of it."""
    import numpy as np

    def per_state(mask: Any) -> str:
        parts = []
        for code in np.unique(state[mask]).tolist():
            ns = int(dur[mask & (state == code)].sum())
            letter = chr(code) if code else "?"
            parts.append((ns, f"{letter} {STATE_NAMES.get(letter, 'other')} {ns / 1e6:,.1f} ms"))
        return ", ".join(p for _ns, p in sorted(parts, reverse=True))

    everything = np.ones(len(dur), dtype=bool)
    lines = [f"off-CPU: {len(dur):,} waits, {int(dur.sum()) / 1e6:,.1f} ms"
             + (f" ({per_state(everything)})" if len(dur) else "")]
    cpu_ns: dict[int, int] = {}
    if cpu is not None and cpu.has_period and cpu.samples:
        c_tid = th_tid[np.frombuffer(cpu.s_thread, dtype=np.int32)]
        w = np.frombuffer(cpu.s_weight, dtype=np.int64)
        u, inv = np.unique(c_tid, return_inverse=True)
        sums = np.bincount(inv, weights=w)
        cpu_ns = {int(t): int(s) for t, s in zip(u.tolist(), sums.tolist(), strict=True)}
    comm = {t: c for t, c in data.threads}
    off_ns: dict[int, int] = {}
    for tid in np.unique(tids).tolist():
        off_ns[int(tid)] = int(dur[tids == tid].sum())
    rows = sorted(set(off_ns) | set(cpu_ns),
                  key=lambda t: -(off_ns.get(t, 0) + cpu_ns.get(t, 0)))
    for tid in rows[:MAX_THREAD_LINES]:
        mask = tids == tid
        text = f"  thread {tid} ({comm.get(tid, '?')}): "
        if cpu_ns:
            text += f"on-CPU {cpu_ns.get(tid, 0) / 1e6:,.1f} ms, "
        text += f"off-CPU {off_ns.get(tid, 0) / 1e6:,.1f} ms"
        if mask.any():
            text += f" ({per_state(mask)})"
        lines.append(text)
    if len(rows) > MAX_THREAD_LINES:
        lines.append(f"  ... {len(rows) - MAX_THREAD_LINES:,} more threads")
    return lines
