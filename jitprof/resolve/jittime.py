"""Name JIT frames from a jitdump: by each sample's time where the JIT reused the address.

Policy (docs/jitdump.md): an address that only one load ever covered (or only loads of
one name) is named statically. An address that loads of different names covered over
time is named per sample: the latest load at or before the sample's time (perf script
prints microseconds: the sample may be up to 999 ns later than printed, so the bound is
widened by that much). A sample with no time, or one earlier than every load covering
its address, gets the load written last (the perf-map rule). When the dump's clock
cannot be the samples' clock (TSC timestamps, no sample times, or more than 1% of the
samples earlier than the code they ran was loaded: ``perf record`` without
``-k CLOCK_MONOTONIC``), the whole process falls back to the load written last, and the
diagnostics say so.

Mechanics: samples are aggregated by stack before naming, so the reader keeps the times
of stacks with JIT frames (``EventData.timed``); a stack whose frames need time is split
into one stack per naming, where a frame named by time becomes a new raw frame id whose
name is fixed here (``overrides``). Cost: one bisect per sample and ambiguous frame;
only stacks holding an ambiguous address are visited per sample.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jitprof.parse import RawFrame
from jitprof.symbols.intervals import Entry
from jitprof.symbols.jitdump import CodeLoad, JitDump, JitTimeline, at_time, time_slack_ns

MAX_EARLY_SHARE = 0.01  # more samples than this before their code's load: another clock

# (pid, tid, comm, stack, samples, weight, time bin or -1): build_profile's selected samples
Selected = tuple[int, int, str, tuple[int, ...], int, int, int]


STALE_MARGIN_S = 1.0  # a dump closed this long before the first sample is another run's


def stale_dump(jd: JitDump, first_sample: float | None) -> bool:
    """A dump whose CODE_CLOSE came well before the first sample belongs to an earlier
    process (pids are reused; ``/tmp`` keeps old dumps)."""
    return (jd.closed and not jd.arch_timestamp and jd.last_time is not None
            and first_sample is not None
            and jd.last_time < (first_sample - STALE_MARGIN_S) * 1e9)


def load_entry(c: CodeLoad) -> Entry:
    return Entry(c.start, c.end, c.order, c.name)


@dataclass(slots=True)
class DumpNaming:
    """What the jitdump did for one process (for the report's diagnostics)."""

    pid: int
    path: str
    loads: int
    reused_addresses: int = 0  # addresses looked up whose owner changed over time
    by_time: int = 0  # samples in reused ranges named by their time
    by_time_changed: int = 0  # ... of which got another name than the load written last
    latest: int = 0  # samples in reused ranges named by the load written last
    early: int = 0  # samples earlier than any load covering their address
    checked: int = 0  # samples with a time and a frame the dump names
    fallback: str | None = None  # why time was not used
    truncated: str | None = None
    from_map: int = 0  # sampled code addresses the dump lacks, named from the perf map
    map_paths: list[str] = field(default_factory=list)

    def note(self) -> str:
        out = (f"jitdump {self.path}: pid {self.pid}, {self.loads:,} code loads, "
               f"{self.reused_addresses:,} addresses in samples were reused")
        if self.reused_addresses and self.fallback is None:
            out += (f"; {self.by_time:,} samples there named by time ({self.by_time_changed:,}"
                    " differ from the load written last)")
        if self.from_map:
            out += (f"; {self.from_map:,} sampled code addresses not in the dump named from "
                    + ", ".join(self.map_paths))
        if self.truncated:
            out += f"; {self.truncated}"
        return out

    def warning(self) -> str | None:
        if self.fallback is not None:
            return (f"jitdump {self.path}: {self.fallback}: JIT frames named by the load "
                    "written last, like a perf map (record with perf record -k "
                    "CLOCK_MONOTONIC to name reused code by time)")
        if self.early:
            return (f"jitdump {self.path}: {self.early:,} of {self.checked:,} samples are "
                    "earlier than the code they ran was loaded: named by the load written last")
        return None


@dataclass(slots=True)
class TimeSplit:
    """The result for all processes with a jitdump."""

    selected: list[Selected]
    overrides: dict[int, Entry] = field(default_factory=dict)  # new raw frame id -> name
    new_frames: dict[int, list[int]] = field(default_factory=dict)  # pid -> new raw ids
    namings: list[DumpNaming] = field(default_factory=list)
    frames: list[RawFrame] = field(default_factory=list)  # the new raw frames, in id order


@dataclass(slots=True)
class DumpPlan:
    """One process's jitdump, looked up at the addresses its samples need."""

    dump: JitDump
    static: dict[int, Entry]  # address -> the load written last (as for a perf map)
    ambiguous: dict[int, list[CodeLoad]]  # addresses loads of different names covered
    first_load: dict[int, int]  # address -> time of the first load covering it
    from_map: int = 0  # sampled code addresses the dump lacks, named from the perf map
    map_paths: list[str] = field(default_factory=list)


def plan_dump(jd: JitDump, tl: JitTimeline, addrs: set[int]) -> DumpPlan:
    plan = DumpPlan(jd, {}, {}, {})
    for a in addrs:
        versions = tl.covering(a)  # by time
        if not versions:
            continue
        plan.static[a] = load_entry(max(versions, key=lambda c: c.order))
        plan.first_load[a] = versions[0].time
        if len({c.name for c in versions}) > 1:
            plan.ambiguous[a] = versions
    return plan


def _exact_positions(stack: tuple[int, ...], is_kernel: Any) -> set[int]:
    """Positions holding an exact ip (not a return address): the leaf, and the first user
    frame under kernel frames (as resolve.build_profile)."""
    out = {0}
    if stack and is_kernel[stack[0]]:
        for i in range(1, len(stack)):
            if not is_kernel[stack[i]]:
                out.add(i)
                break
    return out


# (stack position, the loads covering its address by time, the static load's order)
Spot = tuple[int, list[CodeLoad], int]
Timed = dict[tuple[int, str, tuple[int, ...]], array]


class _KernelOf:
    """Raw frame id -> in the kernel? (looked up only where the stacks need it)."""

    def __init__(self, frames: Any, kernel_min: int) -> None:
        self.frames = frames
        self.kernel_min = kernel_min

    def __getitem__(self, i: int) -> bool:
        return bool(self.frames[i].addr >= self.kernel_min)


def split_by_time(
    selected: list[Selected],
    dumps: dict[int, DumpPlan],
    timed: Timed,
    frames: Any,
    raw_jit: list[bool],
    kernel_min: int,
    sample_clock: str | None = None,
    bin_of: Callable[[float], int] | None = None,
) -> TimeSplit:
    """Re-cut the ``selected`` samples of processes named by a jitdump so that frames at
    reused addresses carry the name of the code there at the sample's time. ``timed``:
    per (tid, comm, stack) of a stack with a JIT frame, its samples' (time, weight) pairs
    in one flat array (time NaN where the text has none). ``frames`` (a list-like of
    ``RawFrame``) and ``raw_jit`` are not changed: new raw frames (ids from
    ``len(frames)`` on) are returned in ``TimeSplit.frames``; ``dumps`` (``plan_dump``)
    must cover every address the stacks look up. ``sample_clock``: the samples' clock
    when known (``perf_data_clock``); anything but "monotonic" falls back. ``bin_of``: the
    time bin of a sample time, when the samples are kept per time bin (each selected
    entry then holds one bin's samples, and its pieces stay in that bin)."""
    out = TimeSplit(selected=[])
    is_kernel = _KernelOf(frames, kernel_min)
    all_times = [a[0] for a in timed.values() if a and not math.isnan(a[0])]
    slack = time_slack_ns(all_times)
    plans = {pid: _naming_of(pid, dp, bool(all_times), sample_clock)
             for pid, dp in dumps.items()}
    out.namings.extend(plans.values())

    # 1. the stacks that hold an ambiguous address (the only ones where time matters)
    todo, reused = _spots(selected, dumps, frames, raw_jit, is_kernel)
    # 2. is the samples' clock the dump's? (samples there earlier than the code they hit)
    for pid, (checked, early) in _early_samples(selected, todo, plans, timed, slack).items():
        naming = plans[pid]
        naming.checked, naming.early = checked, early
        if naming.early > MAX_EARLY_SHARE * naming.checked:
            naming.fallback = (f"{naming.early:,} of {naming.checked:,} sample times are earlier "
                               "than the code they ran was loaded (the samples are on another "
                               "clock)")
    # 3. split those stacks by the code at each ambiguous address at each sample's time
    synth: dict[tuple[int, int], int] = {}  # (raw frame id, load order) -> new raw frame id

    def synthetic(pid: int, fid: int, c: CodeLoad) -> int:
        key = (fid, c.order)
        nf = synth.get(key)
        if nf is None:
            nf = synth[key] = len(frames) + len(out.frames)
            out.frames.append(RawFrame(frames[fid].addr, frames[fid].sym, frames[fid].dso))
            out.overrides[nf] = load_entry(c)
            out.new_frames.setdefault(pid, []).append(nf)
        return nf

    for item, entry in zip(selected, todo, strict=True):
        if entry is None:
            out.selected.append(item)
            continue
        pid, tid, comm, stack, n, _w, tbin = item
        naming = plans[pid]
        got = _bin_times(timed.get((tid, comm, stack)), tbin, bin_of)
        if naming.fallback is not None or got is None or len(got) != 2 * n:
            naming.latest += n
            out.selected.append(item)
            continue
        pieces, (latest, by_time, changed) = _split_stack(item, entry[0], got, slack,
                                                          synthetic)
        out.selected.extend(pieces)
        naming.latest += latest
        naming.by_time += by_time
        naming.by_time_changed += changed
    for naming in out.namings:
        naming.reused_addresses = len(reused.get(naming.pid, ()))
    return out


def _naming_of(pid: int, dp: DumpPlan, have_times: bool, sample_clock: str | None
               ) -> DumpNaming:
    """A process's dump diagnostics, with why time cannot be used, if it cannot."""
    jd = dp.dump
    naming = DumpNaming(pid, jd.path, len(jd.loads), truncated=jd.truncated,
                        from_map=dp.from_map, map_paths=dp.map_paths)
    if jd.arch_timestamp:
        naming.fallback = ("its times are CPU timestamps (JITDUMP_FLAGS_ARCH_TIMESTAMP), "
                           "not CLOCK_MONOTONIC")
    elif not have_times:
        naming.fallback = "the samples have no time (perf script without the time field)"
    elif sample_clock is not None and sample_clock != "monotonic":
        naming.fallback = (f"the samples were recorded on {sample_clock}, not "
                           "CLOCK_MONOTONIC (perf inject --jit refuses such recordings too)")
    return naming


def _spots(selected: list[Selected], dumps: dict[int, DumpPlan], frames: Any,
           raw_jit: list[bool], is_kernel: Any
           ) -> tuple[list[tuple[list[Spot], int] | None], dict[int, set[int]]]:
    """Per selected entry: its spots at ambiguous addresses and the time its code was
    first loaded (the latest first load among its JIT frames, -1: none), or None (no
    spot, or no dump); and per process the ambiguous addresses met."""
    reused: dict[int, set[int]] = {}
    todo: list[tuple[list[Spot], int] | None] = []
    for item in selected:
        pid, stack = item[0], item[3]
        dp = dumps.get(pid)
        if dp is None or not dp.ambiguous:
            todo.append(None)
            continue
        amb, static, fl = dp.ambiguous, dp.static, dp.first_load
        exact = _exact_positions(stack, is_kernel)
        spots = []
        need = -1
        for i, f in enumerate(stack):
            if raw_jit[f]:
                q = frames[f].addr if i in exact else frames[f].addr - 1
                need = max(need, fl.get(q, -1))
                v = amb.get(q)
                if v is not None:
                    spots.append((i, v, static[q].order))
                    reused.setdefault(pid, set()).add(q)
        todo.append((spots, need) if spots else None)
    return todo, reused


def _early_samples(selected: list[Selected], todo: list[tuple[list[Spot], int] | None],
                   plans: dict[int, DumpNaming], timed: Timed, slack: int
                   ) -> dict[int, tuple[int, int]]:
    """Per process whose naming may use time: samples with a time at its reused code,
    and those of them earlier than the code they ran was first loaded."""
    out = {pid: (0, 0) for pid, naming in plans.items() if naming.fallback is None}
    seen: set[tuple[int, str, tuple[int, ...]]] = set()  # one key, several time bins
    for item, entry in zip(selected, todo, strict=True):
        if entry is None:
            continue
        pid, tid, comm, stack = item[:4]
        times = timed.get((tid, comm, stack))
        if pid not in out or times is None or (tid, comm, stack) in seen:
            continue
        seen.add((tid, comm, stack))
        ts = times[0::2]
        checked, early = out[pid]
        # a sample is impossible if it ran code before that code was loaded (in C: a
        # comparison per sample; NaN compares false)
        out[pid] = (checked + len(ts) - sum(map(math.isnan, ts)),
                    early + sum(map(((entry[1] - slack) / 1e9).__gt__, ts)))
    return out


def _bin_times(got: array | None, tbin: int, bin_of: Callable[[float], int] | None
               ) -> array | None:
    """A stack's (time, weight) pairs, only those of time bin ``tbin`` when binned."""
    if got is not None and bin_of is not None and tbin >= 0:
        return array("d", [x for k in range(0, len(got), 2)
                           if not math.isnan(got[k]) and bin_of(got[k]) == tbin
                           for x in (got[k], got[k + 1])])
    return got


def _split_stack(item: Selected, spots: list[Spot], got: array, slack: int,
                 synthetic: Callable[[int, int, CodeLoad], int]
                 ) -> tuple[list[Selected], tuple[int, int, int]]:
    """One selected entry cut into one per naming of its ambiguous frames at its samples'
    times (the samples' (time, weight) pairs ``got``), and how many samples were named
    by the load written last (no time), by time, and by time differently from it."""
    pid, tid, comm, stack, _n, _w, tbin = item
    groups: dict[tuple[int, ...], list[int]] = {}
    latest = by_time = changed_n = 0
    for k in range(0, len(got), 2):
        t = got[k]
        sw = int(got[k + 1])
        st = stack
        if math.isnan(t):
            latest += 1
        else:
            t_ns = round(t * 1e9) + slack
            changed = False
            new = list(stack)
            for i, versions, last_order in spots:
                c = at_time(versions, t_ns)
                if c is not None and c.order != last_order:
                    new[i] = synthetic(pid, stack[i], c)
                    changed = True
            if changed:
                st = tuple(new)
                changed_n += 1
            by_time += 1
        g = groups.get(st)
        if g is None:
            groups[st] = [1, sw]
        else:
            g[0] += 1
            g[1] += sw
    pieces = [(pid, tid, comm, st, gn, gw, tbin) for st, (gn, gw) in groups.items()]
    return pieces, (latest, by_time, changed_n)
