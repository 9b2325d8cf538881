"""Raw stacks to the profile's tables in bulk: the stack table without inlined lines, per-
process frame sets, perf's names, translation and the level-by-level stack table."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jitprof.model import (
    Kind,
    ProfileBuilder,
    group_sums,
    unique_inverse,
)
from jitprof.model.names import (
    KERNEL_MIN_ADDR,
    PERF_CONTEXT_MIN,
    is_jitted_dso,
    is_surely_jit_dso,
    map_name_full,
    perf_name_kind,
)
from jitprof.parse import RawFrame, RawFrames

if TYPE_CHECKING:
    pass


JIT_DSO = "[JIT]"


@dataclass(slots=True)
class _Rows:
    """The samples to aggregate, as columns: raw stack id, reader thread index, count,
    weight, time bin (-1: none). One row a sample, or one a group of equal samples
    (after a jitdump re-cut them)."""

    stack: Any
    thread: Any
    n: Any
    w: Any
    bin: Any


@dataclass(slots=True)
class _Tables:
    """Raw frame id -> profile frame id, for leaves (the address as is) and callers (the
    address - 1), plus per-process overrides (sorted fids, leaf, caller) for JIT and
    per-process ELF names, and named flags of JIT frames for the diagnostics."""

    leaf: Any
    call: Any
    by_pid: dict[int, tuple[Any, Any, Any, Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Stacks:
    """The raw stack table: every stack's frame ids concatenated (leaf first), and each
    stack's end in that array (stack i is ``flat[ends[i-1]:ends[i]]``)."""

    flat: Any
    ends: Any


@dataclass(frozen=True, slots=True)
class _Samples:
    """The rows to aggregate and each row's process."""

    rows: _Rows
    pid: Any


@dataclass(frozen=True, slots=True)
class _FrameFacts:
    """Per raw frame id (the reader's frames, then those a jitdump split made), numpy
    columns: the address, whether it is JIT memory (a user address in a JIT dso), surely
    JIT code (memory perf saw mapped anonymous and executable) and a kernel address."""

    addr: Any
    jit: Any
    surely_jit: Any
    kernel: Any

    def __len__(self) -> int:
        return len(self.addr)

    def extended(self, extra: list[RawFrame]) -> _FrameFacts:
        """With the frames a jitdump split made (JIT code at user addresses)."""
        import numpy as np

        if not extra:
            return self
        return _FrameFacts(
            np.concatenate((self.addr, np.array([f.addr for f in extra], dtype=np.uint64))),
            np.concatenate((self.jit, np.ones(len(extra), dtype=bool))),
            np.concatenate((self.surely_jit,
                            np.array([is_surely_jit_dso(f.dso) for f in extra], dtype=bool))),
            np.concatenate((self.kernel, np.zeros(len(extra), dtype=bool))))


def _flat_of(stacks: Any, ends: Any, ids: Any) -> tuple[Any, Any, Any]:
    """For raw stacks ``ids``: their frames concatenated, each stack's start in that
    array, and lengths (numpy, no Python loop)."""
    import numpy as np

    e = ends[ids]
    s = np.where(ids > 0, ends[np.maximum(ids - 1, 0)], 0)
    lens = e - s
    total = int(lens.sum())
    starts = np.cumsum(lens) - lens
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts - s, lens)
    return stacks[pos], starts, lens


def _drop_inlined(flat: Any, ends: Any, inlined: Any, addr: Any) -> tuple[Any, Any, Any]:
    """The stack table without perf's "(inlined)" lines (``perf script --inline``), as
    perf report counts it (``script.collapse_inlined``, in bulk): within a run of frames at
    one address an inlined line is dropped unless it ends the run; so when a real frame
    ends it, only that stays, and when none does, the outermost inlined line stays for
    the containing function (its self time stays at that address). Also the count
    removed per stack."""
    import numpy as np

    inl = inlined[flat] if len(flat) else np.zeros(0, dtype=bool)
    if not inl.any():
        return flat, ends, np.zeros(len(ends), dtype=np.int64)
    a = addr[flat]
    same_next = np.zeros(len(flat), dtype=bool)
    same_next[:-1] = a[1:] == a[:-1]
    last = ends[ends > np.concatenate(([0], ends[:-1]))] - 1  # each stack's last frame
    same_next[last] = False
    keep = ~(inl & same_next)
    kept = np.concatenate(([0], np.cumsum(keep)))
    new_ends = kept[ends]
    removed = _stack_lengths(ends) - _stack_lengths(new_ends)
    return flat[keep], new_ends, removed


def _np_of(a: array, dtype: Any) -> Any:
    """A numpy view of an ``array.array`` (a copy when empty or of another item size)."""
    import numpy as np

    if not len(a):
        return np.zeros(0, dtype=dtype)
    v = np.frombuffer(a, dtype=f"{np.dtype(dtype).kind}{a.itemsize}")
    return v.astype(dtype, copy=False)


def _stacks_with(flat: Any, ends: Any, mark: Any) -> Any:
    """Per raw stack: whether any of its frames is marked."""
    import numpy as np

    c = np.concatenate(([0], np.cumsum(mark[flat], dtype=np.int64)))
    return np.diff(c[ends], prepend=0) > 0


def _stack_lengths(ends: Any) -> Any:
    import numpy as np

    return np.diff(ends, prepend=0) if len(ends) else np.zeros(0, dtype=np.int64)


def _frames_by_pid(flat: Any, ends: Any, stack: Any, pid: Any, nall: int) -> dict[int, Any]:
    """pid -> the distinct raw frame ids its samples' stacks hold (sorted), by a mask
    over the stack table and one bincount (no sort of every frame)."""
    import numpy as np

    out: dict[int, Any] = {}
    lens = _stack_lengths(ends)
    for p in np.unique(pid).tolist():
        sm = np.zeros(len(ends), dtype=bool)
        sm[stack[pid == p]] = True
        fm = np.repeat(sm, lens)
        out[p] = np.flatnonzero(np.bincount(flat[fm], minlength=nall)).astype(np.int64)
    return out


def _perf_frames(b: ProfileBuilder, frames: RawFrames, extra: list[RawFrame], used: Any,
                 facts: _FrameFacts, jit_unknown: int, perf_jit_names: bool) -> Any:
    """Raw frame id -> profile frame by the name perf printed (-1 where unused); JIT
    memory perf named from its own reading of the map keeps that name (as a JIT name),
    unless ``perf_jit_names`` is off; unnamed memory that is maybe not JIT code at all
    (unwinder garbage) is an unknown frame. One lookup per distinct (name, dso, kernel?,
    JIT?, surely JIT?)."""
    import numpy as np

    out = np.full(len(facts), -1, dtype=np.int64)
    if not len(used):
        return out
    fsym = _np_of(frames.sym, np.int32)
    fdso = _np_of(frames.dso, np.int32)
    esym = np.array([frames._sym_ids[f.sym] for f in extra], dtype=np.int32)
    edso = np.array([frames._dso_ids[f.dso] for f in extra], dtype=np.int32)
    si = np.concatenate((fsym, esym))[used].astype(np.int64)
    di = np.concatenate((fdso, edso))[used].astype(np.int64)
    # the address matters only by its range: user, kernel, or perf's context markers
    a = facts.addr[used]
    kern = ((a >= np.uint64(KERNEL_MIN_ADDR)).astype(np.int64)
            + (a >= np.uint64(PERF_CONTEXT_MIN)).astype(np.int64))
    jit = facts.jit[used].astype(np.int64) + facts.surely_jit[used].astype(np.int64)  # 0-2
    ndso = max(len(frames.dsos), 1)
    key = ((si * ndso + di) * 3 + kern) * 3 + jit
    uk, inv = unique_inverse(key)
    lut = np.empty(len(uk), dtype=np.int64)
    for k, v in enumerate(uk.tolist()):
        rest, jit_level = divmod(v, 3)
        rest, where = divmod(rest, 3)
        s, d = divmod(rest, ndso)
        lut[k] = _perf_frame(b, frames.syms[s], frames.dsos[d], where, jit_level,
                             jit_unknown, perf_jit_names)
    out[used] = lut[inv]
    return out


_RUNTIME = (Kind.PHP, Kind.HPHP, Kind.HHVM, Kind.JIT, Kind.JAVA, Kind.JVM)


def _perf_frame(b: ProfileBuilder, sym: str, dso: str, where: int, jit_level: int,
                jit_unknown: int, perf_jit_names: bool) -> int:
    """The profile frame of one distinct perf name (see ``_perf_frames``): ``where`` 0
    user, 1 kernel, 2 perf's context markers; ``jit_level`` 0 not JIT memory, 1 maybe,
    2 surely."""
    name = sym if sym and sym != "[unknown]" else "[unknown]"
    full: str | None = None
    if jit_level:
        if name == "[unknown]" and jit_level == 1:  # no map, maybe garbage
            return b.frame("[unknown]", Kind.UNKNOWN, "[unknown]")
        if name == "[unknown]" or not perf_jit_names:
            return jit_unknown
        jname, jkind, full = map_name_full(name)
        pf = b.frame(jname, jkind, JIT_DSO, "")
    else:
        kind = perf_name_kind(sym, dso, (0, KERNEL_MIN_ADDR, PERF_CONTEXT_MIN)[where])
        if is_jitted_dso(dso) and name != "[unknown]":  # perf inject --jit code
            name, kind, full = map_name_full(name)
        pf = b.frame(name, kind, dso or "[unknown]", "" if kind in _RUNTIME else None)
    if full is not None:
        b.full_name(pf, full)
    return pf


@dataclass(frozen=True, slots=True)
class _Counts:
    """How many JIT samples (leaves) and frames were met, and how many of them named."""

    jit_samples: int = 0
    jit_samples_named: int = 0
    jit_frames: int = 0
    jit_frames_named: int = 0

    def __add__(self, o: _Counts) -> _Counts:
        return _Counts(self.jit_samples + o.jit_samples,
                       self.jit_samples_named + o.jit_samples_named,
                       self.jit_frames + o.jit_frames, self.jit_frames_named + o.jit_frames_named)


@dataclass(frozen=True, slots=True)
class _Pairs:
    """Distinct (raw stack, process) pairs and the samples each stands for."""

    stack: Any
    pid: Any
    n: Any

    def __getitem__(self, s: slice) -> _Pairs:
        return _Pairs(self.stack[s], self.pid[s], self.n[s])


@dataclass(frozen=True, slots=True)
class _Occurrences:
    """The frames of some pairs' stacks, flat: each one's pair and position (0: the
    leaf), whether it is an exact ip (not a return address), and which pairs have any."""

    pair: Any
    pos: Any
    exact: Any
    nonempty: Any


_PAIRS_AT_ONCE = 1 << 12  # stacks translated at a time: bounds the temporary arrays


def _translate(pairs: _Pairs, stacks: _Stacks, tables: _Tables, facts: _FrameFacts,
               no_stack: int) -> tuple[Any, Any, _Counts]:
    """Distinct (raw stack, process) pairs as stacks of profile frames (leaf: the
    address; callers: the return address - 1; the first user frame under kernel frames:
    where user code was interrupted, an exact ip): their frames (int32, leaf first),
    lengths and the JIT naming counts. In slices of ``_PAIRS_AT_ONCE`` pairs."""
    import numpy as np

    out_fn: list[Any] = []
    out_len: list[Any] = []
    counts = _Counts()
    dense_of = _dense_overrides(tables)
    counted = np.array(sorted(tables.by_pid), dtype=np.int64)
    for lo in range(0, len(pairs.stack), _PAIRS_AT_ONCE):
        p = pairs[lo:lo + _PAIRS_AT_ONCE]
        fl, starts, lens = _flat_of(stacks.flat, stacks.ends, p.stack)
        occ = _occurrences(fl, starts, lens, facts.kernel)
        occ_pid = p.pid[occ.pair]
        fn, named = _override(np.where(occ.exact, tables.leaf[fl], tables.call[fl]), fl,
                              occ, occ_pid, tables, dense_of)
        # JIT frames are counted in the processes with JIT code (see build_profile)
        jn = (facts.jit[fl] & np.isin(occ_pid, counted)) * p.n[occ.pair]
        leaf_jn = jn * (occ.pos == 0)
        counts += _Counts(int(leaf_jn.sum()), int((leaf_jn * named).sum()), int(jn.sum()),
                          int((named * jn).sum()))
        if no_stack >= 0 and not occ.nonempty.all():  # an empty stack: "[no stack]"
            lens = np.where(occ.nonempty, lens, 1)
            at = (np.cumsum(lens) - lens)[occ.pair] + occ.pos
            full = np.full(int(lens.sum()), no_stack, dtype=np.int64)
            full[at] = fn
            fn = full
        out_fn.append(fn.astype(np.int32))
        out_len.append(lens)
    if not out_fn:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64), counts
    return np.concatenate(out_fn), np.concatenate(out_len), counts


def _occurrences(fl: Any, starts: Any, lens: Any, is_kernel: Any) -> _Occurrences:
    """Where each flat frame sits (see ``_Occurrences``): the leaf is exact, and so is the
    first user frame under kernel frames at the leaf."""
    import numpy as np

    npair = len(starts)
    big = np.iinfo(np.int64).max
    occ_pair = np.repeat(np.arange(npair, dtype=np.int64), lens)
    pos = np.arange(len(fl), dtype=np.int64) - np.repeat(starts, lens)
    exact = pos == 0
    nonempty = lens > 0
    if len(fl):
        kern = is_kernel[fl]
        first_user = np.full(npair, big, dtype=np.int64)
        if nonempty.any():
            first_user[nonempty] = np.minimum.reduceat(np.where(kern, big, pos),
                                                       starts[nonempty])
        leaf_kern = np.zeros(npair, dtype=bool)
        leaf_kern[nonempty] = kern[starts[nonempty]]
        exact |= leaf_kern[occ_pair] & (pos == first_user[occ_pair])
    return _Occurrences(occ_pair, pos, exact, nonempty)


def _dense_overrides(tables: _Tables) -> dict[int, Any]:
    """pid -> raw frame id -> row of its overrides (-1: none), for processes with many
    overrides, where a direct table beats a binary search."""
    import numpy as np

    out: dict[int, Any] = {}
    for pid, (o_fid, *_rest) in tables.by_pid.items():
        if len(o_fid) * 16 > len(tables.leaf):
            dense = out[pid] = np.full(len(tables.leaf), -1, dtype=np.int32)
            dense[o_fid] = np.arange(len(o_fid), dtype=np.int32)
    return out


def _override(fn: Any, fl: Any, occ: _Occurrences, occ_pid: Any, tables: _Tables,
              dense_of: dict[int, Any]) -> tuple[Any, Any]:
    """The frames ``fn`` with each process's overrides applied (a copy), and whether each
    flat frame counts as named (0/1)."""
    import numpy as np

    fn = fn.copy()
    named = np.zeros(len(fl), dtype=np.int64)
    for pid, (o_fid, o_leaf, o_call, o_ln, o_cn) in tables.by_pid.items():
        if not len(o_fid):
            continue
        m = np.flatnonzero(occ_pid == pid)
        if not m.size:
            continue
        f = fl[m]
        dense = dense_of.get(pid)
        if dense is not None:
            j = dense[f].astype(np.int64)
            hit = j >= 0
        else:
            j = np.minimum(np.searchsorted(o_fid, f), len(o_fid) - 1)
            hit = o_fid[j] == f
        m, j = m[hit], j[hit]
        ex = occ.exact[m]
        new = np.where(ex, o_leaf[j], o_call[j])
        have = new >= 0
        fn[m[have]] = new[have]
        named[m] = np.where(ex, o_ln[j], o_cn[j])
    return fn, named


def _build_tables(b: ProfileBuilder, samples: _Samples, stacks: _Stacks, tables: _Tables,
                  facts: _FrameFacts, no_stack: int, threads: list[tuple[int, str]]
                  ) -> _Counts:
    """Rows -> the profile's stack table and groups, summed per (stack node, profile
    thread, bin). Fills ``b.profile``; returns the JIT naming counts."""
    import numpy as np

    rows, row_pid = samples.rows, samples.pid
    upids = np.unique(row_pid)
    pid_ix = np.searchsorted(upids, row_pid)
    npid = len(upids)
    pairs, inv = unique_inverse(rows.stack.astype(np.int64) * npid + pid_ix)
    p_n = np.bincount(inv, weights=rows.n, minlength=len(pairs)).astype(np.int64)
    fn, lens, counts = _translate(_Pairs(pairs // npid, upids[pairs % npid], p_n), stacks,
                                  tables, facts, no_stack)
    starts = np.cumsum(lens) - lens
    node_prefix, node_frame, node_depth, node_of_pair = _stack_nodes(
        len(b.profile.frames), fn, starts, lens)
    del fn
    # profile threads (pid, comm), in the order their first samples came
    th_key = rows.thread.astype(np.int64) * npid + pid_ix
    uth, first = np.unique(th_key, return_index=True)
    pth = np.empty(len(uth), dtype=np.int64)
    for k in np.argsort(first, kind="stable").tolist():
        th, pi = divmod(int(uth[k]), npid)
        pth[k] = b.thread(int(upids[pi]), threads[th][1])
    row_pth = pth[np.searchsorted(uth, th_key)]
    nth = max(len(b.profile.threads), 1)
    binned = bool(len(rows.bin)) and bool((rows.bin >= 0).all())
    bmin = int(rows.bin.min()) if binned else 0
    nb = int(rows.bin.max()) - bmin + 1 if binned else 1
    gkey = (node_of_pair[inv] * nth + row_pth) * nb
    if binned:
        gkey += rows.bin - bmin
    keys, g_n, g_w = group_sums(gkey, rows.n, rows.w)
    rest = keys // nb
    b.profile.set_tables(node_prefix, node_frame, rest // nth, rest % nth, g_w, g_n,
                         (keys % nb + bmin) if binned else (), node_depth)
    return counts


def _stack_nodes(nframes: int, fn: Any, starts: Any, lens: Any
                 ) -> tuple[Any, Any, Any, Any]:
    """Leaf-first stacks (frames ``fn``, stack i at ``starts[i]``, ``lens[i]`` long, all
    non-empty) as a stack table, built a level at a time from the root: at each level the
    distinct (parent node, frame) pairs become nodes (one sort). Returns the table's
    prefix, frame and depth columns and each stack's node."""
    import numpy as np

    n = len(starts)
    nf = max(nframes, 1)
    parent = np.full(n, -1, dtype=np.int64)
    prefix_parts: list[Any] = []
    frame_parts: list[Any] = []
    depth_parts: list[Any] = []
    base = 0
    depth = int(lens.max()) if n else 0
    for d in range(depth):
        act = np.flatnonzero(lens > d)
        f = fn[starts[act] + lens[act] - 1 - d]
        key = (parent[act] + 1) * nf + f
        uk, inv = unique_inverse(key)
        prefix_parts.append((uk // nf - 1).astype(np.int32))
        frame_parts.append((uk % nf).astype(np.int32))
        depth_parts.append(np.full(len(uk), d, dtype=np.int32))
        parent[act] = base + inv
        base += len(uk)
    if not prefix_parts:
        z = np.zeros(0, np.int64)
        return z, z, z, parent
    return (np.concatenate(prefix_parts), np.concatenate(frame_parts),
            np.concatenate(depth_parts), parent)

