"""JIT frames named in bulk: each distinct (process, address) once, from its map (later
line wins) or its jitdump (by sample time where code was reused)."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jitprof.model import (
    MapHealth,
    ProfileBuilder,
    unique_inverse,
)
from jitprof.model.names import (
    KERNEL_MIN_ADDR,
    map_name_full,
)
from jitprof.parse import RawFrame, ScriptData
from jitprof.resolve.jittime import (
    DumpNaming,
    DumpPlan,
    Selected,
    plan_dump,
    split_by_time,
    stale_dump,
)
from jitprof.symbols.intervals import Entry
from jitprof.symbols.perfmap import PerfMap

if TYPE_CHECKING:
    pass
from jitprof.resolve.finder import MapFinder, _map_health
from jitprof.resolve.tables import JIT_DSO, _FrameFacts, _Rows, _Samples, _Stacks


@dataclass(frozen=True, slots=True)
class _DumpSplit:
    """The samples re-cut by jitdump time: their rows, the stack table with the new stacks
    appended, new raw frames (ids after the reader's) and their names, and per process
    the new frame ids and what the dump did."""

    rows: _Rows
    stacks: _Stacks
    extra: list[RawFrame]
    overrides: dict[int, Entry]
    new_frames: dict[int, list[int]]
    notes: list[DumpNaming]


def _split_by_dump_time(
    data: ScriptData, samples: _Samples, times: Any, stacks: _Stacks, facts: _FrameFacts,
    dumps: dict[int, DumpPlan], sample_clock: str | None,
    bin_of: Callable[[float], int] | None,
) -> _DumpSplit:
    """The rows of processes with a jitdump, re-cut so that frames at reused addresses
    carry the name of the code there at each sample's time (``jittime.split_by_time``,
    which works on stacks as tuples: only these processes' samples are made so)."""
    import numpy as np

    rows = samples.rows
    in_dump = np.isin(samples.pid, np.array(sorted(dumps), dtype=np.int64))
    selected, timed = _dump_samples(data.threads, samples, times, stacks, facts.jit,
                                    np.flatnonzero(in_dump))
    split = split_by_time(selected, dumps, timed, data.frames, facts.jit.tolist(),
                          KERNEL_MIN_ADDR, sample_clock,
                          bin_of if rows.bin.size and (rows.bin >= 0).all() else None)
    new_rows, new_flat, new_ends = _split_rows(split.selected, data.threads, stacks)
    keep = ~in_dump
    out = _Rows(*(np.concatenate((old[keep], new)) for old, new in zip(
        (rows.stack, rows.thread, rows.n, rows.w, rows.bin), new_rows, strict=True)))
    cut = _Stacks(np.concatenate((stacks.flat, new_flat)),
                  np.concatenate((stacks.ends, new_ends)))
    return _DumpSplit(out, cut, split.frames, split.overrides, split.new_frames,
                      split.namings)


def _dump_samples(threads: list[tuple[int, str]], samples: _Samples, times: Any,
                  stacks: _Stacks, raw_jit: Any, idx: Any
                  ) -> tuple[list[Selected], dict[tuple[int, str, tuple[int, ...]], array]]:
    """Rows ``idx`` grouped by (pid, thread, stack as a tuple, bin), as
    ``jittime.Selected``, and per (tid, comm, stack) of a stack with a JIT frame its
    samples' (time, weight) pairs. By stack as a tuple: one callchain may have several
    raw ids (the reader's stack cache is bounded), and the split counts a stack's times
    against its samples."""
    rows, row_pid, flat, ends = samples.rows, samples.pid, stacks.flat, stacks.ends
    groups: dict[tuple[int, int, tuple[int, ...], int], list[int]] = {}
    timed: dict[tuple[int, str, tuple[int, ...]], array] = {}
    stack_tuple: dict[int, tuple[int, ...]] = {}
    for r, sid, th, w, bn, t in zip(idx.tolist(), rows.stack[idx].tolist(),
                                    rows.thread[idx].tolist(), rows.w[idx].tolist(),
                                    rows.bin[idx].tolist(), times[idx].tolist(), strict=True):
        st = stack_tuple.get(sid)
        if st is None:
            start = int(ends[sid - 1]) if sid else 0
            st = stack_tuple[sid] = tuple(flat[start:int(ends[sid])].tolist())
        key = (int(row_pid[r]), th, st, bn)
        g = groups.get(key)
        if g is None:
            groups[key] = [1, w]
        else:
            g[0] += 1
            g[1] += w
        tid, comm = threads[th]
        if raw_jit[list(st)].any() if st else False:
            a = timed.get((tid, comm, st))
            if a is None:
                a = timed[(tid, comm, st)] = array("d")
            a.append(t)
            a.append(w)
    selected = [(pid, threads[th][0], threads[th][1], st, n, w, bn)
                for (pid, th, st, bn), (n, w) in groups.items()]
    return selected, timed


def _split_rows(selected: list[Selected], threads: list[tuple[int, str]], stacks: _Stacks
                ) -> tuple[tuple[Any, ...], Any, Any]:
    """The split's samples back to columns (stack, thread, count, weight, bin), their
    stacks numbered after the table's, and those stacks' frames and ends."""
    import numpy as np

    th_index = {k: i for i, k in enumerate(threads)}
    new_flat: list[int] = []
    new_ends: list[int] = []
    base_len = len(stacks.flat)
    nstacks = len(stacks.ends)
    stack_ids: dict[tuple[int, ...], int] = {}
    r_stack, r_thread, r_n, r_w, r_bin = [], [], [], [], []
    for _pid, tid, comm, st, n, w, bn in selected:
        sid = stack_ids.get(st)
        if sid is None:
            new_flat.extend(st)
            new_ends.append(base_len + len(new_flat))
            sid = stack_ids[st] = nstacks + len(new_ends) - 1
        r_stack.append(sid)
        r_thread.append(th_index[(tid, comm)])
        r_n.append(n)
        r_w.append(w)
        r_bin.append(bn)
    i64 = np.int64
    cols = tuple(np.array(c, dtype=i64) for c in (r_stack, r_thread, r_n, r_w, r_bin))
    return cols, np.array(new_flat, dtype=i64), np.array(new_ends, dtype=i64)


# per process: (sorted raw frame ids, leaf frame, caller frame, leaf named, caller named);
# a frame of -1 keeps the common table's (perf's) name
_Override = tuple[Any, Any, Any, Any, Any]


@dataclass(slots=True)
class _JitNaming:
    """How each process's JIT frames are named: from its perf map (``mapped``), from its
    jitdump (``dumped``: fid -> entry at the address, and at the address - 1, or None);
    maps used, processes without a map."""

    mapped: dict[int, _Override] = field(default_factory=dict)
    dumped: dict[int, tuple[dict[int, Entry | None], dict[int, Entry | None]]] = field(
        default_factory=dict)
    dumps: dict[int, DumpPlan] = field(default_factory=dict)
    map_info: list[MapHealth] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    stale_dumps: list[str] = field(default_factory=list)


def _lookup_maps(maps: list[PerfMap], addrs: Any) -> tuple[Any, Any]:
    """Per address (uint64 array): the map and line (index) whose entry names it by
    later-line-wins, a later map winning over an earlier one; (-1, -1) where none."""
    import numpy as np

    which = np.full(len(addrs), -1, dtype=np.int64)
    line = np.full(len(addrs), -1, dtype=np.int64)
    for m, pm in enumerate(maps):
        got = pm.resolve(addrs)
        hit = got >= 0
        which[hit] = m
        line[hit] = got[hit]
    return which, line


def _map_frames(maps: list[PerfMap], addrs: Any, frame_of: Callable[[str, object], int],
                missing: int) -> tuple[Any, Any]:
    """Profile frame naming each address from the maps (``missing`` where none) and
    whether one did; names are cut and classified once per distinct entry hit."""
    import numpy as np

    which, line = _lookup_maps(maps, addrs)
    per = max((len(pm) for pm in maps), default=0) + 1  # (map + 1, line + 1) as one int
    uk, inv = unique_inverse((which + 1) * per + line + 1)
    lut = np.empty(len(uk), dtype=np.int64)
    for k, v in enumerate(uk.tolist()):
        m, i = divmod(v, per)
        # (the map and line stand for the entry: a compiled version of the frame's code)
        lut[k] = missing if m == 0 else frame_of(maps[m - 1].name(i - 1),
                                                 (id(maps[m - 1]), i - 1))
    return lut[inv], which >= 0


def _name_jit_processes(finder: MapFinder, jit_used: dict[int, Any], addr: Any,
                        input_dirs: list[str], first_time: float | None,
                        frame_of: Callable[[str, object], int], jit_unknown: int
                        ) -> _JitNaming:
    """Look every JIT frame up in its process's jitdump or perf map, at its address (as
    a leaf) and at the address - 1 (as a caller: a return address)."""
    import numpy as np

    out = _JitNaming()
    for pid in sorted(jit_used):
        fids = jit_used[pid]
        if not len(fids):
            continue
        a = addr[fids]
        jd = finder.find_jitdump(pid, input_dirs)
        if jd is not None and stale_dump(jd, first_time):
            out.stale_dumps.append(jd.path)
            jd = None
        if jd is not None:  # a jitdump names this process's JIT code, not its map
            fl, al = fids.tolist(), a.tolist()
            wanted = {*al, *(x - 1 for x in al)}
            dp = out.dumps[pid] = plan_dump(jd, jd.timeline(), wanted)
            table: dict[int, Entry] = dict(dp.static)
            # code the dump lacks (its writer's buffer not yet flushed: a killed or live
            # JIT) is named from the perf map, if the process has one
            gaps = sorted(wanted - dp.static.keys())
            maps = finder.find(pid, input_dirs) if gaps else []
            if maps:
                which, line = _lookup_maps(maps, np.array(gaps, dtype=np.uint64))
                filled = {g: maps[m].entry(i) for g, m, i in
                          zip(gaps, which.tolist(), line.tolist(), strict=True) if m >= 0}
                table.update(filled)
                dp.from_map = sum(1 for x in al if x in filled or x - 1 in filled)
                dp.map_paths = [pm.path for pm in maps]
                out.map_info.extend(_map_health(pm, pid) for pm in maps)
            out.dumped[pid] = ({f: table.get(x) for f, x in zip(fl, al, strict=True)},
                               {f: table.get(x - 1) for f, x in zip(fl, al, strict=True)})
            continue
        maps = finder.find(pid, input_dirs)
        if not maps:
            out.missing.append(pid)
            continue
        frames_at, named = _map_frames(maps, np.concatenate((a, a - np.uint64(1))), frame_of,
                                       jit_unknown)
        n = len(fids)
        out.mapped[pid] = (fids, frames_at[:n], frames_at[n:], named[:n].astype(np.int64),
                           named[n:].astype(np.int64))
        out.map_info.extend(_map_health(pm, pid) for pm in maps)
    return out


def _pid_table(pid: int, jit_fids: Any, naming: _JitNaming, overrides: dict[int, Entry],
               elf: dict[int, tuple[int, int]], frame_of: Callable[[str, object], int],
               jit_unknown: int, perf_named: Any) -> _Override:
    """One process's overrides of the common tables (see ``_Override``); ``perf_named``:
    per raw frame, whether perf's name counts as a JIT name."""
    import numpy as np

    i64 = np.int64
    if pid in naming.mapped:
        fids, lf, cf, ln, cn = naming.mapped[pid]
    elif pid in naming.dumped:
        fids = jit_fids
        lf, cf, ln, cn = _dumped_table(jit_fids, naming.dumped[pid], overrides, frame_of,
                                       jit_unknown)
    else:  # no map for this process: perf's name, named if perf had one
        fids = jit_fids
        lf = cf = np.full(len(fids), -1, dtype=i64)
        ln = cn = perf_named[fids].astype(i64)
    if elf:
        ef = np.array(sorted(elf), dtype=i64)
        ev = np.array([elf[f] for f in ef.tolist()], dtype=i64).reshape(-1, 2)
        z = np.zeros(len(ef), dtype=i64)
        fids, lf, cf, ln, cn = (np.concatenate(x) for x in (
            (fids, ef), (lf, ev[:, 0]), (cf, ev[:, 1]), (ln, z), (cn, z)))
    order = np.argsort(fids, kind="stable")
    return fids[order], lf[order], cf[order], ln[order], cn[order]


def _dumped_table(jit_fids: Any, dumped: tuple[dict[int, Entry | None], dict[int, Entry | None]],
                  overrides: dict[int, Entry], frame_of: Callable[[str, object], int],
                  jit_unknown: int) -> tuple[Any, Any, Any, Any]:
    """A jitdump's process: per JIT frame its leaf and caller frame and whether each is
    named (the sample-time name of a split frame, else the entry at the address)."""
    import numpy as np

    leaf_of, call_of = dumped
    lfl, cfl, lnl, cnl = [], [], [], []
    for fid in jit_fids.tolist():
        o = overrides.get(fid)
        if o is not None:  # named by the sample's time (jitdump), in its place
            f = frame_of(o.name, o)
            lfl.append(f)
            cfl.append(f)
            lnl.append(1)
            cnl.append(1)
            continue
        le, ce = leaf_of.get(fid), call_of.get(fid)
        lfl.append(jit_unknown if le is None else frame_of(le.name, le))
        cfl.append(jit_unknown if ce is None else frame_of(ce.name, ce))
        lnl.append(int(le is not None))
        cnl.append(int(ce is not None))
    lf, cf, ln, cn = (np.array(x, dtype=np.int64) for x in (lfl, cfl, lnl, cnl))
    return lf, cf, ln, cn


def _name_frames(b: ProfileBuilder) -> Callable[[str, object], int]:
    """Profile frame of a map or jitdump entry's name (one ``map_name_full`` a name);
    ``code`` (the entry) is counted as one of the frame's compiled versions."""
    cache: dict[str, int] = {}

    def frame(raw: str, code: object) -> int:
        out = cache.get(raw)
        if out is None:
            name, kind, full = map_name_full(raw)
            out = cache[raw] = b.frame(name, kind, JIT_DSO, "")
            if full is not None:
                b.full_name(out, full)
        b.version(out, code)
        return out

    return frame

