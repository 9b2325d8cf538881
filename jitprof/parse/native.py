"""A perf.data, read natively (jitprof.parse.perfdata), as the tables the perf script text
gives (``ScriptData``), so the rest of the pipeline cannot tell the two apart.

perf script's model, reproduced in bulk:

- a frame's dso is the map the process had at the address at the sample's time: the
  latest mmap record covering it (perf never forgets a map: a later one over the same
  range replaces it from its time on; a forked child starts with its parent's maps);
  kernel-context addresses are looked up in the kernel's maps (pid -1: ``[kernel.kallsyms]``
  and modules, shown as ``[module]``), user-context ones in the process's. Anonymous
  executable memory is ``/tmp/perf-<pid>.map`` (perf's ``map__new``), an address no map
  covers ``[unknown]``;
- callchains are read as perf does: context markers (``PERF_CONTEXT_KERNEL``/``USER``)
  switch the map set; entries before the first marker are user addresses; a sample
  without a callchain is its ip alone, in the sample's cpumode;
- a sample's command is its thread's at that time (the latest COMM record, else the
  parent's at the fork, else ``:<tid>``), times are cut to microseconds as perf script
  prints them.

No frame is named here (every symbol is ``[unknown]``, except BPF/kernel JIT code named by
KSYMBOL records): ELF symbols, kallsyms, perf maps and jitdumps name them in
jitprof.resolve, with the build-ids this file recorded.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jitprof.parse.perfdata import (
    CONTEXT_KERNEL,
    CONTEXT_USER,
    PERF_CONTEXT_MAX,
    S_TIME,
    MmapRecord,
    PerfData,
)
from jitprof.parse.switches import decode_sched_switch
from jitprof.parse.tables import (
    SWITCH_EVENT,
    SWITCH_OUT,
    SWITCH_PREEMPT,
    EventData,
    Mmap,
    ScriptData,
)

UNKNOWN = "[unknown]"
TYPE_TRACEPOINT = 2  # perf_event_attr.type
USER_LIMIT = 1 << 47  # canonical user addresses are below
KERNEL_START = 1 << 63
_MODULE_RX = re.compile(r"(?:^|/)([^/]+?)\.ko(?:\.(?:xz|gz|zst|bz2))?$")
_ANON = ("//anon", "/dev/zero", "/anon_hugepage")
_NO_DSO = ("[stack", "/SYSV", "[heap]")

# context of a callchain entry: 0 user, 1 kernel, 2 neither (hypervisor, guest: unknown)
CTX_USER, CTX_KERNEL, CTX_OTHER = 0, 1, 2


def dso_name(m: MmapRecord) -> str:
    """What perf calls the map's dso (``perf script``'s ``(dso)``)."""
    name = m.filename
    if m.kernel:
        if name.startswith("[kernel.kallsyms]"):
            return "[kernel.kallsyms]"
        mod = _MODULE_RX.search(name)
        if mod is not None:
            return "[" + mod.group(1).replace("-", "_") + "]"
        return name
    exec_ = "x" in m.prot
    if exec_ and (name == "//anon" or name.startswith(_ANON[1:]) or name.startswith(_NO_DSO)):
        return f"/tmp/perf-{m.pid}.map"
    return name


INF = float("inf")

# a map of an address space: (start, end, time ns, order, dso id, until ns: a forked
# child's copy of its parent's map lasts until the child's exec)
SpaceMap = tuple[int, int, int, int, int, float]


class _Space:
    """One address space's maps (a process's, or the kernel's) as pieces between map
    boundaries: ``single[i]`` the dso id of piece i when one dso covers it at every time
    (-1: none; -2: it depends on the time, see ``timed``)."""

    def __init__(self, maps: list[SpaceMap]) -> None:
        import numpy as np

        maps = sorted(maps, key=lambda m: (m[2], m[3]))  # processing order
        bounds = sorted({m[0] for m in maps} | {m[1] for m in maps})
        self.bounds = np.array(bounds, dtype=np.uint64)
        npieces = max(0, len(bounds) - 1)
        cover: list[list[tuple[int, int, float]]] = [[] for _ in range(npieces)]
        index = {b: i for i, b in enumerate(bounds)}
        for start, end, t, _order, dso, until in maps:
            if end <= start:
                continue
            for i in range(index[start], index[end]):
                cover[i].append((t, dso, until))
        single = np.full(max(npieces, 1), -1, dtype=np.int64)
        self.timed: dict[int, tuple[Any, Any, list[int]]] = {}
        for i, c in enumerate(cover):
            if not c:
                continue
            if len({d for _t, d, _u in c}) == 1 and all(u == INF for _t, _d, u in c):
                single[i] = c[0][1]
            else:
                single[i] = -2
                self.timed[i] = (np.array([t for t, _d, _u in c], dtype=np.float64),
                                 np.array([u for _t, _d, u in c], dtype=np.float64),
                                 [d for _t, d, _u in c])
        self.single = single

    def lookup(self, ips: Any) -> tuple[Any, Any]:
        """(dso id or -1/-2, piece index) of each address."""
        import numpy as np

        if len(self.bounds) < 2:
            return np.full(len(ips), -1, dtype=np.int64), np.zeros(len(ips), dtype=np.int64)
        piece = np.searchsorted(self.bounds, ips, side="right").astype(np.int64) - 1
        inside = (piece >= 0) & (piece < len(self.bounds) - 1)
        piece = np.where(inside, piece, 0)
        return np.where(inside, self.single[piece], -1), piece

    def at_time(self, piece: int, times: Any, unknown: int) -> Any:
        """The dso ids of a time-dependent piece at these sample times (ns; NaN: the
        end of the recording): the latest map made at or before the time and not yet
        dropped (by an exec); before any map, the first that lasts; else ``unknown``."""
        import numpy as np

        t, until, dsos = self.timed[piece]
        times = np.where(np.isnan(times), INF, times)
        out = np.full(len(times), unknown, dtype=np.int64)
        best = np.full(len(times), -INF)
        for k in range(len(t)):  # (few maps a piece)
            ok = (t[k] <= times) & (times < until[k]) & (t[k] >= best)
            out[ok] = dsos[k]
            best[ok] = t[k]
        lasting = np.flatnonzero(until == INF)
        if len(lasting):
            early = (best == -INF) & (times < t[lasting].min())
            out[early] = dsos[int(lasting[np.argmin(t[lasting])])]
        return out


def script_data(pd: PerfData, name: str | None = None, consume: bool = False) -> ScriptData:
    """The ``ScriptData`` of one perf.data (see the module's text); ``name``: the input
    as given ("-" for standard input; default its path). ``consume``: ``pd``'s chain
    table may be dropped once read (memory: the caller does not need it after)."""
    import numpy as np

    path = pd.path if name is None else name
    d = ScriptData()
    d.inputs.append(path)
    d.native_inputs.append(path)
    d.clocks[path] = pd.clock
    d.recordings[path] = pd.facts
    d.build_ids.update(pd.build_ids)
    d.address_form = "raw"
    d.callers_at_return = True
    d.tid_pid.update(_task_pids(pd))
    for m in pd.mmaps:
        d.mmaps.append(Mmap(m.pid, m.tid, m.start, m.length, m.pgoff, m.prot, m.filename,
                            None if m.time is None else _seconds(m.time), m.build_id))
    dsos = _Dsos()
    unknown_dso = dsos.id(UNKNOWN)
    parts = [(attr, cols) for attr, cols in zip(pd.attrs, pd.samples_by_attr, strict=True)
             if len(cols)]
    if not parts:
        _notes(d, pd, 0)
        return d
    s = _sample_columns(parts)
    entries = _distinct_chains(pd, consume)
    # -- address spaces: the kernel's, and each sampled process's (with its parents' maps
    # from before its fork)
    pids = sorted(int(p) for p in np.unique(np.concatenate((s.pid, entries.pid))))
    space_maps, inherited = _space_maps(pd, pids, dsos.id)
    for child, got in inherited.items():  # (for ELF naming: the child's mappings)
        for m, when in got:
            d.mmaps.append(Mmap(child, child, m.start, m.length, m.pgoff, m.prot, m.filename,
                                _seconds(when), m.build_id))
    spaces = [_Space(space_maps.get(-1, []))] + [_Space(space_maps.get(p, [])) for p in pids]
    keys = _entry_keys(entries, pids, spaces, unknown_dso)
    e_frame, f_ip_l, f_dso_l = _key_frames(keys, entries.ip, unknown_dso)
    # callchains that hold an address whose map changed during the recording: one chain
    # per sample, its dsos at the sample's time
    s_chain, e_frame, slen, extra_ip, extra_dso = _timed_chains(
        keys, spaces, s, e_frame, entries, sum(len(x) for x in f_ip_l), unknown_dso)
    del entries, keys  # (entry-sized arrays)
    _set_frames(d, pd, np.concatenate([*f_ip_l, extra_ip]),
                np.concatenate([*f_dso_l, extra_dso]), dsos)
    # -- stacks: one per distinct chain (leaf first)
    d.stacks.frames = array("i", e_frame.astype(np.int32).tobytes())
    d.stacks.ends = array("q", np.cumsum(slen).astype(np.int64).tobytes())
    # -- threads: (tid, comm at the sample's time)
    th_index = _threads(pd, d, s.tid, s.time_ns)
    _tid_pid_from_samples(d, s.tid, s.pid)
    _add_events(d, pd, parts, s, s_chain, th_index)
    for sw in pd.switches:  # PERF_RECORD_SWITCH(_CPU_WIDE): when a thread ran again
        if sw.time is not None and sw.tid >= 0:
            d.switches.add(_seconds(sw.time), sw.tid, (SWITCH_OUT if sw.out else 0)
                           | (SWITCH_PREEMPT if sw.preempt else 0))
    _notes(d, pd, len(s.chain))
    return d


class _Dsos:
    """The dso names met, each with an id (its index), in the order first met."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.ids: dict[str, int] = {}

    def id(self, dso: str) -> int:
        i = self.ids.get(dso)
        if i is None:
            i = self.ids[dso] = len(self.names)
            self.names.append(dso)
        return i


def _task_pids(pd: PerfData) -> dict[int, int]:
    """tid -> pid from the task records: COMM, then MMAP, then FORK (the first wins)."""
    out: dict[int, int] = {}
    for c in pd.comms:
        if c.pid >= 0 and c.tid >= 0:
            out.setdefault(c.tid, c.pid)
    for m in pd.mmaps:
        if m.pid >= 0 and m.tid >= 0:
            out.setdefault(m.tid, m.pid)
    for f in pd.forks:
        if f.pid >= 0 and f.tid >= 0:
            out.setdefault(f.tid, f.pid)
    return out


@dataclass(frozen=True, slots=True)
class _SampleColumns:
    """Every sample's columns, the attrs' one after another: its (process, callchain) as
    an id into pd.chains (a sample without a callchain: its cpumode's context marker and
    its ip), pid, tid, time (ns; NaN: none), period and its attr's index in ``parts``."""

    chain: Any
    pid: Any
    tid: Any
    time_ns: Any
    period: Any
    event: Any


def _sample_columns(parts: list[tuple[Any, Any]]) -> _SampleColumns:
    import numpy as np

    s_chain, s_pid, s_tid, s_time, s_period, s_event = [], [], [], [], [], []
    for k, (attr, cols) in enumerate(parts):
        n = len(cols)
        s_chain.append(cols.chain)
        s_pid.append(cols.pid)
        s_tid.append(cols.tid)
        s_time.append(cols.time.astype(np.float64) if attr.sample_type & S_TIME
                      and cols.time is not None else np.full(n, np.nan))
        s_period.append(cols.period)
        s_event.append(np.full(n, k, dtype=np.int32))

    def joined(cols: list[Any], dtype: Any) -> Any:  # (one attr: no copy)
        x = cols[0] if len(cols) == 1 else np.concatenate(cols)
        return x if x.dtype == dtype else x.astype(dtype)

    return _SampleColumns(joined(s_chain, np.int64), joined(s_pid, np.int64),
                          joined(s_tid, np.int64), joined(s_time, np.float64),
                          joined(s_period, np.int64), joined(s_event, np.int32))


@dataclass(frozen=True, slots=True)
class _Entries:
    """The distinct chains' entries without context markers: each chain's pid word, and
    per entry its address, context and chain; entries per chain."""

    pid: Any
    ip: Any
    ctx: Any
    owner: Any
    slen: Any


def _distinct_chains(pd: PerfData, consume: bool) -> _Entries:
    """The distinct chains: their pid word, then the chain as recorded."""
    import numpy as np

    words, cstarts = pd.chains.words, pd.chains.starts
    r_pid = (words[cstarts[:-1]].astype(np.uint32)).view(np.int32).astype(np.int64)
    body = np.ones(len(words), dtype=bool)
    body[cstarts[:-1]] = False
    r_chain = words[body]
    r_starts = cstarts - np.arange(len(cstarts), dtype=np.int64)
    del body, words
    if consume:
        pd.chains.words = pd.chains.starts = None
    ip, ctx, owner, slen = _chain_entries(r_chain, r_starts)
    return _Entries(r_pid, ip, ctx, owner, slen)


@dataclass(frozen=True, slots=True)
class _Keys:
    """A key per (space, address) of the entries (user addresses carry their space in
    the top bits; 0: no map can hold it), and each entry's key index; per distinct key
    (sorted): its address, space, dso, whether its map changed over time and its piece
    of the space."""

    keys: Any
    inv: Any
    ip: Any
    space: Any
    dso: Any
    timed: Any
    piece: Any


def _entry_keys(entries: _Entries, pids: list[int], spaces: list[_Space], unknown_dso: int
                ) -> _Keys:
    import numpy as np

    ip, ctx = entries.ip, entries.ctx
    user = ctx == CTX_USER
    space_of_chain = np.searchsorted(np.array(pids, dtype=np.int64), entries.pid) + 1
    e_space = np.where(user, space_of_chain[entries.owner], 0)
    fits = np.where(user, ip < np.uint64(USER_LIMIT), ip >= np.uint64(KERNEL_START))
    if len(spaces) >= 1 << 15:
        fits[:] = False
    keys = np.where(user, ip | (e_space.astype(np.uint64) << np.uint64(48)), ip)
    keys = np.where(fits & (ctx != CTX_OTHER), keys, np.uint64(0))
    del e_space, fits, user
    ukeys = np.unique(keys)  # (a sort: no argsort of every entry)
    inv = np.searchsorted(ukeys, keys).astype(np.int32)
    key_dso = np.full(len(ukeys), unknown_dso, dtype=np.int64)
    is_k = ukeys >= np.uint64(KERNEL_START)
    key_ip = np.where(is_k, ukeys, ukeys & np.uint64((1 << 48) - 1))
    key_space = np.where(is_k, 0, (ukeys >> np.uint64(48)).astype(np.int64))
    key_timed = np.zeros(len(ukeys), dtype=bool)
    key_piece = np.zeros(len(ukeys), dtype=np.int64)
    valid = ukeys != 0
    # (keys are sorted: the user ones by space, then every kernel one after them)
    n_user = int(np.searchsorted(ukeys, np.uint64(KERNEL_START)))
    bounds = np.searchsorted(key_space[:n_user], np.arange(len(spaces) + 1), side="left")
    for si, sp in enumerate(spaces):
        if si == 0:
            sel = np.flatnonzero(valid & is_k)
        else:
            sel = np.arange(int(bounds[si]), int(bounds[si + 1]))
            sel = sel[valid[sel]]
        if not len(sel):
            continue
        got, piece = sp.lookup(key_ip[sel])
        key_dso[sel] = np.where(got >= 0, got, unknown_dso)
        key_timed[sel] = got == -2
        key_piece[sel] = piece
    return _Keys(keys, inv, key_ip, key_space, key_dso, key_timed, key_piece)


def _key_frames(keys: _Keys, ip: Any, unknown_dso: int) -> tuple[Any, list[Any], list[Any]]:
    """Frames: one per distinct key (its address and dso), and one per distinct address
    of the entries without a key (no map can hold them: [unknown]). Returns each entry's
    frame and the frames' addresses and dsos (in parts)."""
    import numpy as np

    kf_order = np.lexsort((keys.ip, keys.dso))
    kf_ip, kf_dso = keys.ip[kf_order], keys.dso[kf_order]
    knew = np.ones(len(kf_order), dtype=bool)
    knew[1:] = (kf_ip[1:] != kf_ip[:-1]) | (kf_dso[1:] != kf_dso[:-1])
    key_frame = np.empty(len(keys.ip), dtype=np.int32)
    key_frame[kf_order] = np.cumsum(knew, dtype=np.int64) - 1
    f_ip_l, f_dso_l = [kf_ip[knew]], [kf_dso[knew]]
    nkf = int(knew.sum())
    zero = keys.keys == 0
    e_frame = key_frame[keys.inv]
    if zero.any():
        zip_ = np.unique(ip[zero])
        e_frame[zero] = nkf + np.searchsorted(zip_, ip[zero]).astype(np.int32)
        f_ip_l.append(zip_)
        f_dso_l.append(np.full(len(zip_), unknown_dso, dtype=np.int64))
    return e_frame, f_ip_l, f_dso_l


def _set_frames(d: ScriptData, pd: PerfData, f_ip: Any, f_dso: Any, dsos: _Dsos) -> None:
    """Fill ``d.frames``' columns: every frame's address, dso, and [unknown] symbol but
    for the BPF/kernel JIT code KSYMBOL records name."""
    import numpy as np

    frames = d.frames
    ksyms = _ksymbol_names(pd, f_ip, f_dso, dsos.ids)
    sym_unknown = frames.ids(UNKNOWN, UNKNOWN)[0]
    frames.addr = array("Q", f_ip.astype(np.uint64).tobytes())
    sym_col = np.full(len(f_ip), sym_unknown, dtype=np.int32)
    for i, ksym in ksyms.items():
        sym_col[i] = frames.ids(ksym, UNKNOWN)[0]
    frames.sym = array("i", sym_col.tobytes())
    dso_map = np.array([frames.ids(UNKNOWN, dso)[1] for dso in dsos.names], dtype=np.int32)
    frames.dso = array("i", dso_map[f_dso].astype(np.int32).tobytes())


def _add_events(d: ScriptData, pd: PerfData, parts: list[tuple[Any, Any]],
                s: _SampleColumns, s_chain: Any, th_index: Any) -> None:
    """One ``EventData`` per attr name in ``d.events``, its samples' columns appended."""
    import numpy as np

    secs = np.where(np.isnan(s.time_ns), np.nan, np.floor(s.time_ns / 1000.0) / 1e6)
    for k, (attr, cols) in enumerate(parts):
        sel = np.flatnonzero(s.event == k) if len(parts) > 1 else np.arange(len(s.chain))
        ev = d.events.get(attr.name)
        if ev is None:
            ev = d.events[attr.name] = EventData(attr.name, d.stacks, d.threads)
        ev.s_stack.extend(array("i", s_chain[sel].astype(np.int32).tobytes()))
        ev.s_thread.extend(array("i", th_index[sel].astype(np.int32).tobytes()))
        ev.s_weight.extend(array("q", s.period[sel].astype(np.int64).tobytes()))
        ev.s_time.extend(array("d", secs[sel].astype(np.float64).tobytes()))
        # (a tracepoint's period is 1 a hit: perf script prints none, its weight is the
        # samples)
        ev.has_period = ev.has_period or attr.type != TYPE_TRACEPOINT
        if attr.name == SWITCH_EVENT:  # issue 17: the tracepoint's fields, per sample
            _switch_fields(ev, pd, attr.config, cols, s.tid[sel])


def _switch_fields(ev: EventData, pd: PerfData, config: int, cols: Any, tids: Any) -> None:
    """``sw_prev_tid``/``sw_next_tid``/``sw_prev_state`` of sched:sched_switch samples from
    their RAW payloads (jitprof/parse/switches.py; little-endian, as every x86 and arm64
    recording), or, without RAW or the format, the sample's tid switched out and nothing
    more (as the text reader does for a text without the trace field)."""
    import numpy as np

    fmt = pd.tracepoints.get(config)
    names = ("prev_pid", "next_pid", "prev_state")
    if cols.raw is not None and fmt is not None and all(n in fmt.fields for n in names):
        fields = {n: (fmt.fields[n].offset, fmt.fields[n].size) for n in names}
        try:
            prev, nxt, state = decode_sched_switch(cols.raw, cols.raw_start, fields)
        except (ValueError, IndexError):
            prev = None
        if prev is not None:
            ev.merge_switch_columns(prev, nxt, state)
            return
    n = len(tids)
    ev.merge_switch_columns(array("i", tids.astype(np.int32).tobytes()),
                            array("i", np.full(n, -1, dtype=np.int32).tobytes()),
                            array("B", bytes(n)))


def native_script_data(paths: Sequence[str]) -> ScriptData:
    """The ``ScriptData`` of perf.data files read natively (merged as the reader merges
    inputs); an error names what cannot be read natively."""
    from jitprof.parse.reader import ScriptReader

    reader = ScriptReader(perf_data="native")
    for p in paths:
        reader.read_file(p)
    return reader.data


def _timed_chains(keys: _Keys, spaces: list[_Space], s: _SampleColumns, e_frame: Any,
                  entries: _Entries, nframes: int, unknown: int
                  ) -> tuple[Any, Any, Any, Any, Any]:
    """Give every sample whose chain holds a time-dependent address its own chain, with
    the dsos its maps had at its time (rare: a range mapped twice with different
    files); returns the samples' chains, the entries' frames and the chains' lengths
    (new chains appended), and the new frames' addresses and dsos (ids from
    ``nframes``)."""
    import numpy as np

    s_chain, slen, inv = s.chain, entries.slen, keys.inv
    none = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    if not keys.timed.any():
        return s_chain, e_frame, slen, *none
    e_timed = keys.timed[inv]
    chains = np.unique(entries.owner[e_timed])
    starts = np.concatenate(([0], np.cumsum(slen)))
    samples = np.flatnonzero(np.isin(s_chain, chains))
    next_frame = nframes
    new_frames, new_len = [e_frame], [slen]
    extra_ip: list[int] = []
    extra_dso: list[int] = []
    s_chain = s_chain.copy()
    next_id = len(slen)
    for smp in samples.tolist():
        c = int(s_chain[smp])
        a, b = int(starts[c]), int(starts[c + 1])
        fr = e_frame[a:b].copy()
        for j in np.flatnonzero(e_timed[a:b]).tolist():
            kk = int(inv[a + j])
            sp = spaces[int(keys.space[kk])]
            extra_ip.append(int(keys.ip[kk]))
            extra_dso.append(int(sp.at_time(int(keys.piece[kk]), np.array([s.time_ns[smp]]),
                                            unknown)[0]))
            fr[j] = next_frame
            next_frame += 1
        new_frames.append(fr)
        new_len.append(np.array([b - a], dtype=np.int64))
        s_chain[smp] = next_id
        next_id += 1
    return (s_chain, np.concatenate(new_frames), np.concatenate(new_len),
            np.array(extra_ip, dtype=np.uint64), np.array(extra_dso, dtype=np.int64))


def _seconds(ns: int) -> float:
    """perf script's time: seconds with microseconds (cut, not rounded)."""
    return (ns // 1000) / 1e6


def _chain_entries(chain: Any, starts: Any) -> tuple[Any, Any, Any, Any]:
    """Callchains without their context markers: (addresses, context of each, its
    chain, entries per chain)."""
    import numpy as np

    n = len(starts) - 1
    lens = np.diff(starts)
    marker = chain >= np.uint64(PERF_CONTEXT_MAX)
    # the context each entry is in: the last marker before it in its chain (user before
    # any: perf's default); a chain's start anchors it too
    anchor = np.zeros(len(chain), dtype=np.int32)
    mpos = np.flatnonzero(marker)
    anchor[mpos] = mpos
    cs = starts[:-1][lens > 0]
    anchor[cs] = cs
    np.maximum.accumulate(anchor, out=anchor)
    mval = chain[anchor]
    del anchor
    ctx = np.full(len(chain), CTX_USER, dtype=np.int8)
    is_m = mval >= np.uint64(PERF_CONTEXT_MAX)
    ctx[is_m & (mval != np.uint64(CONTEXT_USER))] = CTX_OTHER
    ctx[is_m & (mval == np.uint64(CONTEXT_KERNEL))] = CTX_KERNEL
    del mval, is_m
    keep = ~marker
    owner = np.repeat(np.arange(n, dtype=np.int32), lens)[keep]
    kept_len = np.bincount(owner, minlength=n).astype(np.int64) if n else (
        np.zeros(0, dtype=np.int64))
    return chain[keep], ctx[keep], owner, kept_len


def _space_maps(pd: PerfData, pids: Sequence[int], dso_id: Any
                ) -> tuple[dict[int, list[SpaceMap]], dict[int, list[tuple[MmapRecord, int]]]]:
    """pid (-1: the kernel) -> its maps; a forked process starts with its parent's maps
    from before the fork (perf copies them at PERF_RECORD_FORK), which last until its
    exec. Also pid -> the parent's mmap records it inherited (and the fork time)."""
    own: dict[int, list[SpaceMap]] = {}
    recs: dict[int, list[MmapRecord]] = {}
    for m in pd.mmaps:
        key = -1 if m.kernel else m.pid
        end = min(m.start + m.length, (1 << 64) - 1)
        own.setdefault(key, []).append((m.start, end, m.time or 0, m.order,
                                        dso_id(dso_name(m)), INF))
        recs.setdefault(key, []).append(m)
    parent: dict[int, tuple[int, int]] = {}
    for f in pd.forks:
        if f.pid != f.ppid and f.pid >= 0 and f.ppid >= 0 and f.pid not in parent:
            parent[f.pid] = (f.ppid, f.time)
    execs: dict[int, float] = {}
    for c in pd.comms:
        if c.exec and c.pid == c.tid and c.time:
            execs[c.pid] = min(execs.get(c.pid, INF), float(c.time))
    out: dict[int, list[SpaceMap]] = {-1: own.get(-1, [])}
    inherited: dict[int, list[tuple[MmapRecord, int]]] = {}
    for p in pids:
        maps = list(own.get(p, []))
        until = execs.get(p, INF)
        seen = {p}
        child, limit = p, None
        while child in parent:
            pp, t = parent[child]
            if pp in seen:
                break
            seen.add(pp)
            limit = t if limit is None else min(limit, t)
            for sm, r in zip(own.get(pp, []), recs.get(pp, []), strict=True):
                if sm[2] <= limit:
                    maps.append((sm[0], sm[1], sm[2], sm[3], sm[4], min(until, sm[5])))
                    inherited.setdefault(p, []).append((r, limit))
            child = pp
        out[p] = maps
    return out, inherited


def _ksymbol_names(pd: PerfData, f_ip: Any, f_dso: Any, dso_ids: dict[str, int]
                   ) -> dict[int, str]:
    """Frames in kernel JIT code a KSYMBOL record named (BPF programs, trampolines) that
    no kernel map holds: frame index -> name."""
    import numpy as np

    if not pd.ksymbols:
        return {}
    unknown = dso_ids[UNKNOWN]
    out: dict[int, str] = {}
    live = [k for k in pd.ksymbols if not k.unregister]
    cand = np.flatnonzero((f_dso == unknown) & (f_ip >= np.uint64(KERNEL_START)))
    if not len(cand) or not live:
        return {}
    live.sort(key=lambda k: k.addr)
    starts = np.array([k.addr for k in live], dtype=np.uint64)
    i = np.searchsorted(starts, f_ip[cand], side="right") - 1
    for c, j in zip(cand.tolist(), i.tolist(), strict=True):
        if j >= 0 and live[j].addr <= int(f_ip[c]) < live[j].addr + live[j].length:
            out[c] = live[j].name
    return out


def _threads(pd: PerfData, d: ScriptData, tid: Any, time_ns: Any) -> Any:
    """Each sample's index into ``d.threads``: its (tid, command at that time)."""
    import numpy as np

    by_tid: dict[int, list[tuple[float, int, str]]] = {}
    for c in pd.comms:
        by_tid.setdefault(c.tid, []).append((float(c.time or 0), c.order, c.comm))
    for lst in by_tid.values():
        lst.sort()
    forks = {f.tid: (f.ptid, f.time) for f in pd.forks if f.tid >= 0}

    def comm_at(t: int, when: float, depth: int = 0) -> str:
        """The command of thread t at time ``when`` (ns): its latest COMM at or before,
        else its parent's at the fork, else perf's ``:<tid>``."""
        lst = by_tid.get(t, [])
        best = None
        for ct, _o, c in lst:
            if ct <= when:
                best = c
            else:
                break
        if best is not None:
            return best
        fk = forks.get(t)
        if fk is not None and depth < 64 and fk[0] != t:
            return comm_at(fk[0], float(fk[1]), depth + 1)
        return "swapper" if t == 0 else f":{t}"  # (perf's idle task is "swapper")

    thread_ids: dict[tuple[int, str], int] = {}

    def thread(t: int, comm: str) -> int:
        key = (t, comm)
        th = thread_ids.get(key)
        if th is None:
            th = thread_ids[key] = len(d.threads)
            d.threads.append(key)
        return th

    out = np.zeros(len(tid), dtype=np.int64)
    if not len(tid):
        return out
    order = np.argsort(tid, kind="stable")
    st = tid[order]
    cuts = np.flatnonzero(np.diff(st)) + 1
    starts = np.concatenate(([0], cuts)).tolist()
    ends = np.concatenate((cuts, [len(st)])).tolist()
    for a, b in zip(starts, ends, strict=True):
        t = int(st[a])
        idx = order[a:b]
        lst = by_tid.get(t, [])
        if not lst or (len(lst) == 1 and lst[0][0] <= 0):
            out[idx] = thread(t, comm_at(t, math.inf))
            continue
        # the comm changes of this thread: before the first, what it inherited
        ctimes = np.array([ct for ct, _o, _c in lst], dtype=np.float64)
        names = [comm_at(t, -1.0)] + [c for _ct, _o, c in lst]
        times = time_ns[idx]
        k = np.searchsorted(ctimes, times, side="right")  # 0: before every COMM
        k = np.where(np.isnan(times), len(lst), k)
        ths = np.array([thread(t, nm) for nm in names], dtype=np.int64)
        out[idx] = ths[k]
    return out


def _tid_pid_from_samples(d: ScriptData, tid: Any, pid: Any) -> None:
    import numpy as np

    ok = (tid >= 0) & (pid >= 0)
    if not ok.any():
        return
    pairs = np.unique((tid[ok].astype(np.int64) << 32) | pid[ok].astype(np.int64))
    for key in pairs.tolist():
        d.tid_pid.setdefault(key >> 32, key & 0xFFFFFFFF)


def _notes(d: ScriptData, pd: PerfData, samples: int) -> None:
    path = d.inputs[0]
    if pd.truncated_at is not None:
        msg = (f"truncated at byte {pd.truncated_at:,}: {samples:,} samples read "
               "(the file ends early: perf was killed, or the copy is cut)")
        d.notes.append(f"{path}: {msg}")
        d.note(path, 0, msg)
    elif pd.data_size_zero:
        msg = ("the header's data size is 0 (perf record did not finish): read up to the "
               f"end of the file, {samples:,} samples")
        d.notes.append(f"{path}: {msg}")
        d.note(path, 0, msg)
    if pd.first_bad:
        msg = f"{pd.first_bad}; {pd.bad_samples:,} such sample(s) left out"
        d.notes.append(f"{path}: {msg}")
        d.note(path, 0, msg)
    if pd.lost:
        d.notes.append(f"{path}: perf lost {pd.lost:,} event(s) (LOST records: the ring "
                       "buffer was full; raise -m or lower -F)")
    if pd.lost_samples:
        d.notes.append(f"{path}: {pd.lost_samples:,} sample(s) lost (LOST_SAMPLES records)")
