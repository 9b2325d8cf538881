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


def split_by_time(
    selected: list[Selected],
    dumps: dict[int, DumpPlan],
    timed: dict[tuple[int, str, tuple[int, ...]], array],
    frames: Any,
    raw_jit: list[bool],
    kernel_min: int,
    sample_clock: str | None = None,
    bin_of: Callable[[float], int] | None = None,
) -> TimeSplit:
    """Re-cut the ``selected`` samples of processes named by a jitdump so that frames at
    reused addresses carry the name of the code there at the sample's time. ``timed``:
    per (tid, comm, stack) of a stack with a JIT frame, its samples' (time, weight) pairs
    in one flat array (time NaN where the text has none). New raw frames are appended
    to ``frames`` (a list-like of ``RawFrame``) and ``raw_jit``; ``dumps``
    (``plan_dump``) must cover every address the stacks look up. ``sample_clock``: the
    samples' clock when known (``perf_data_clock``); anything but "monotonic" falls
    back. ``bin_of``: the time bin of a sample time, when the samples are kept per time
    bin (each selected entry then holds one bin's samples, and its pieces stay in that
    bin)."""
    out = TimeSplit(selected=[])

    class _Kernel:  # frame id -> in the kernel? (looked up only where the stacks need it)
        def __getitem__(self, i: int) -> bool:
            return bool(frames[i].addr >= kernel_min)

    is_kernel: Any = _Kernel()
    all_times = [a[0] for a in timed.values() if a and not math.isnan(a[0])]
    slack = time_slack_ns(all_times)

    plans: dict[int, tuple[DumpNaming, dict[int, list[CodeLoad]]]] = {}
    for pid, dp in dumps.items():
        jd, amb = dp.dump, dp.ambiguous
        naming = DumpNaming(pid, jd.path, len(jd.loads), truncated=jd.truncated,
                            from_map=dp.from_map, map_paths=dp.map_paths)
        out.namings.append(naming)
        if jd.arch_timestamp:
            naming.fallback = ("its times are CPU timestamps (JITDUMP_FLAGS_ARCH_TIMESTAMP), "
                               "not CLOCK_MONOTONIC")
        elif not all_times:
            naming.fallback = "the samples have no time (perf script without the time field)"
        elif sample_clock is not None and sample_clock != "monotonic":
            naming.fallback = (f"the samples were recorded on {sample_clock}, not "
                               "CLOCK_MONOTONIC (perf inject --jit refuses such recordings too)")
        plans[pid] = (naming, amb)

    # 1. the stacks that hold an ambiguous address (the only ones where time matters)
    resolved = {pid: dp.static for pid, dp in dumps.items()}
    reused: dict[int, set[int]] = {}  # pid -> ambiguous addresses met in stacks
    todo: list[tuple[Selected, list[tuple[int, list[CodeLoad], int]]] | None] = []
    for item in selected:
        pid, tid, comm, stack = item[:4]
        plan = plans.get(pid)
        if plan is None or not plan[1]:
            todo.append(None)
            continue
        amb = plan[1]
        exact = _exact_positions(stack, is_kernel)
        spots = []  # (position, versions, static load order)
        for i, f in enumerate(stack):
            if raw_jit[f]:
                q = frames[f].addr if i in exact else frames[f].addr - 1
                v = amb.get(q)
                if v is not None:
                    spots.append((i, v, resolved[pid][q].order))
                    reused.setdefault(pid, set()).add(q)
        todo.append((item, spots) if spots else None)

    # 2. is the samples' clock the dump's? (samples there earlier than the code they hit)
    seen: set[tuple[int, str, tuple[int, ...]]] = set()  # one key, several time bins
    for entry in todo:
        if entry is None:
            continue
        pid, tid, comm, stack = entry[0][:4]
        naming = plans[pid][0]
        times = timed.get((tid, comm, stack))
        if naming.fallback is not None or times is None or (tid, comm, stack) in seen:
            continue
        seen.add((tid, comm, stack))
        fl = dumps[pid].first_load
        exact = _exact_positions(stack, is_kernel)
        need = max((fl.get(frames[f].addr if i in exact else frames[f].addr - 1, -1)
                    for i, f in enumerate(stack) if raw_jit[f]), default=-1)
        ts = times[0::2]
        naming.checked += len(ts) - sum(map(math.isnan, ts))
        # a sample is impossible if it ran code before that code was loaded (in C: a
        # comparison per sample; NaN compares false)
        naming.early += sum(map(((need - slack) / 1e9).__gt__, ts))
    for naming, _amb in plans.values():
        if naming.fallback is None and naming.early > MAX_EARLY_SHARE * naming.checked:
            naming.fallback = (f"{naming.early:,} of {naming.checked:,} sample times are earlier "
                               "than the code they ran was loaded (the samples are on another "
                               "clock)")

    # 3. split those stacks by the code at each ambiguous address at each sample's time
    synth: dict[tuple[int, int], int] = {}  # (raw frame id, load order) -> new raw frame id

    def synthetic(pid: int, fid: int, c: CodeLoad) -> int:
        key = (fid, c.order)
        nf = synth.get(key)
        if nf is None:
            nf = synth[key] = len(frames)
            frames.append(RawFrame(frames[fid].addr, frames[fid].sym, frames[fid].dso))
            raw_jit.append(True)
            out.overrides[nf] = load_entry(c)
            out.new_frames.setdefault(pid, []).append(nf)
        return nf

    for item, entry in zip(selected, todo, strict=True):
        if entry is None:
            out.selected.append(item)
            continue
        spots = entry[1]
        pid, tid, comm, stack, n, w, tbin = item
        naming = plans[pid][0]
        got = timed.get((tid, comm, stack))
        if got is not None and bin_of is not None and tbin >= 0:  # this bin's samples only
            got = array("d", [x for k in range(0, len(got), 2)
                              if not math.isnan(got[k]) and bin_of(got[k]) == tbin
                              for x in (got[k], got[k + 1])])
        if naming.fallback is not None or got is None or len(got) != 2 * n:
            naming.latest += n
            out.selected.append(item)
            continue
        groups: dict[tuple[int, ...], list[int]] = {}
        for k in range(0, len(got), 2):
            t = got[k]
            sw = int(got[k + 1])
            st = stack
            if math.isnan(t):
                naming.latest += 1
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
                    naming.by_time_changed += 1
                naming.by_time += 1
            g = groups.get(st)
            if g is None:
                groups[st] = [1, sw]
            else:
                g[0] += 1
                g[1] += sw
        for st, (gn, gw) in groups.items():
            out.selected.append((pid, tid, comm, st, gn, gw, tbin))
    for naming in out.namings:
        naming.reused_addresses = len(reused.get(naming.pid, ()))
    return out

