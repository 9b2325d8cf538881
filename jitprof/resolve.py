"""Turn raw samples into a Profile: threads to processes, JIT frames named by their maps.

Rules (README "How frames are named"):
- A frame in JIT memory (dso ``//anon``, ``/anon_hugepage``, ``[anon:...]``, ``[unknown]``
  or ``/tmp/perf-<pid>.map``) is looked up in its process's perf map by jitprof's rule
  (later line wins), even where perf printed a name. Caller frames hold return addresses,
  so they are looked up at ``addr - 1``; the leaf, and the first user frame under kernel
  frames (where user code was interrupted), at ``addr``.
- If that process has no map, perf's printed name is kept (perf had a map); if the map
  does not contain the address the frame is ``[unknown]`` in ``[JIT]``.
- Frames perf named from ELF files or the kernel keep perf's name.
- A process with a jitdump (``jit-<pid>.dump``) is named from it instead of its perf map,
  by each sample's time where the JIT reused an address (``jitprof.jittime``).
"""

from __future__ import annotations

import multiprocessing
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jitprof.errors import EmptyInputError, InputError
from jitprof.intervals import Entry
from jitprof.jittime import DumpNaming, DumpPlan, plan_dump, split_by_time, stale_dump
from jitprof.model import (
    ElfFileHealth,
    Kind,
    MapHealth,
    Profile,
    ProfileBuilder,
    ProfileDiagnostics,
    group_sums,
)
from jitprof.names import (
    JAVA_MAP_HINT,
    KERNEL_MIN_ADDR,
    PERF_CONTEXT_MIN,
    USER_MAX_ADDR,
    USER_MIN_ADDR,
    is_jit_dso,
    is_jitted_dso,
    is_jvm_dso,
    is_surely_jit_dso,
    jit_map_pid,
    map_name_full,
    perf_name_kind,
    runtime_kind,
)
from jitprof.perfmap import PerfMap, load_perf_map, pid_from_map_name
from jitprof.script import RawFrame, RawFrames, ScriptData, _is_perf_data, can_fork
from jitprof.symbolize import (
    FileFrameNames,
    MemMap,
    Name,
    Symbolizer,
    is_file_dso,
    maps_by_pid,
    name_file_frames,
    parse_proc_maps,
    pid_from_proc_maps_name,
    read_kallsyms,
)

if TYPE_CHECKING:
    from jitprof.jitdump import JitDump

JIT_DSO = "[JIT]"
PRELOAD_BYTES = 4 << 20  # maps this big are parsed while the samples are read
MAP_BYTE_COST = 4  # parsing a byte of map costs about as much as reading 4 of samples


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0

MAX_BINS = 256  # time bins kept per profile: a long recording gets wider ones


@dataclass(slots=True)
class MapFinder:
    """Where maps come from, in order: ``--map`` files, ``--map-dir``, the inputs'
    directories, then ``/tmp``. A ``--map`` whose name has no pid applies to every
    process without a ``--map perf-<pid>.map`` of its own. What the user names always
    wins over what is found: a ``--map`` over any map or jitdump in a directory."""

    maps: Sequence[str] = ()
    map_dirs: Sequence[str] = ()
    search_tmp: bool = True
    strict: bool = False
    jitdumps: Sequence[str] = ()  # --jitdump files (their pid is in their header)
    # False: a JIT frame is named from these maps only, never by the name perf printed
    # (a bundle: perf read /tmp, maybe through a symlink, when it printed the text)
    perf_jit_names: bool = True
    sample_clock: str | None = None  # the samples' clock, when the input tells (perf.data)
    _loaded: dict[str, PerfMap] = field(default_factory=dict)
    _pending: dict[str, Future[PerfMap]] = field(default_factory=dict)
    _dumps: dict[str, JitDump] = field(default_factory=dict)
    _pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        """Wait for the preload process to go (its manager thread with it: a thread left
        running stops the next load from forking workers)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _load(self, path: str) -> PerfMap:
        pm = self._loaded.get(path)
        if pm is None:
            pending = self._pending.pop(path, None)
            if pending is not None:
                pm = pending.result()
            else:
                pm = load_perf_map(path, strict=self.strict)
            self._loaded[path] = pm
        return pm

    def big_maps(self) -> list[str]:
        """The ``--map`` files worth parsing while the samples are read."""
        return [p for p in self.maps if _size(p) >= PRELOAD_BYTES]

    def load_all(self, paths: Sequence[str]) -> None:
        for p in paths:
            self._load(p)

    def preload(self) -> None:
        """Parse big ``--map`` files in a second process while the main one reads the
        samples (a 1,000,000-line map takes seconds; the reading takes longer): both
        cores work, and the map is ready when the samples are."""
        big = self.big_maps()
        if not big or not can_fork():
            return
        try:
            ctx = multiprocessing.get_context("fork")
            pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
        except (ValueError, OSError):  # no fork here: load when needed instead
            return
        for p in big:
            self._pending[p] = pool.submit(load_perf_map, p, self.strict)
        self._pool = pool  # shut down by close() (a shutdown(wait=False) here could not be
        # waited for later: the executor forgets its manager thread)

    def find(self, pid: int, input_dirs: Iterable[str]) -> list[PerfMap]:
        named = [p for p in self.maps if pid_from_map_name(p) == pid]
        if named:
            return [self._load(p) for p in named]
        unnamed = [p for p in self.maps if pid_from_map_name(p) is None]
        if unnamed:  # given by the user: wins over a perf-<pid>.map found beside the input
            return [self._load(p) for p in unnamed]
        dirs = list(self.map_dirs) + list(dict.fromkeys(input_dirs))
        if self.search_tmp:
            dirs.append("/tmp")
        for d in dirs:
            p = os.path.join(d, f"perf-{pid}.map")
            if os.path.isfile(p):
                return [self._load(p)]
        return []

    def map_given(self, pid: int) -> bool:
        """Whether a ``--map`` applies to ``pid`` (then no jitdump is searched for it)."""
        return any(pid_from_map_name(p) in (pid, None) for p in self.maps)

    # -- jitdumps: --jitdump files, then jit-<pid>.dump in --map-dir, beside the inputs,
    # the working directory (node) and /tmp (HHVM); they win over the perf map
    def _dump_dirs(self, input_dirs: Iterable[str]) -> list[str]:
        dirs = list(self.map_dirs) + list(dict.fromkeys(input_dirs))
        if self.search_tmp:  # the places JITs write to
            dirs += [os.getcwd(), "/tmp"]
        return list(dict.fromkeys(dirs))

    def find_jitdump(self, pid: int, input_dirs: Iterable[str]) -> JitDump | None:
        from jitprof.jitdump import find_jitdump

        for p in self.jitdumps:
            jd = self._load_dump(p)
            if jd.pid == pid:
                return jd
        if self.map_given(pid):  # the user's --map wins over a jitdump found anywhere
            return None
        p2 = find_jitdump(pid, self._dump_dirs(input_dirs))
        return self._load_dump(p2) if p2 is not None else None

    def has_jitdumps(self, input_dirs: Iterable[str]) -> bool:
        """Whether any jitdump may be used (then the samples' times are kept)."""
        if self.jitdumps:
            return True
        for d in self._dump_dirs(input_dirs):
            try:
                if any(n.startswith("jit-") and n.endswith(".dump") for n in os.listdir(d)):
                    return True
            except OSError:
                continue
        return False

    def _load_dump(self, path: str) -> JitDump:
        from jitprof.jitdump import load_jitdump

        jd = self._dumps.get(path)
        if jd is None:
            jd = self._dumps[path] = load_jitdump(path)
        return jd

    def check_explicit(self) -> None:
        """Fail early on a --map that cannot be read or a --map-dir that is not one."""
        for p in self.maps:
            try:
                with open(p, "rb"):
                    pass
            except OSError as e:
                raise InputError(p, f"cannot read map: {e.strerror}") from None
        for d in self.map_dirs:
            if not os.path.isdir(d):
                raise InputError(d, "--map-dir is not a directory")
        for p in self.jitdumps:
            self._load_dump(p)


class _MergedMaps:
    """Several maps for one process read as one: a later file's lines win."""

    def __init__(self, maps: list[PerfMap]) -> None:
        self.maps = maps

    def lookup_all(self, addrs: set[int]) -> dict[int, Entry]:
        out: dict[int, Entry] = {}
        for pm in self.maps:
            out.update(pm.lookup_all(addrs))
        return out


def process_start_time(pid: int) -> float | None:
    """When a live process started (epoch seconds), from /proc; None if not running here."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        with open("/proc/stat", "rb") as f:
            btime = next(int(ln.split()[1]) for ln in f if ln.startswith(b"btime "))
        # field 22 (starttime, clock ticks after boot) counts from after the ")" of comm
        ticks = int(stat[stat.rindex(b")") + 2 :].split()[19])
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def choose_event(data: ScriptData, event: str | None, path: str) -> str:
    if not data.events:
        raise EmptyInputError(path, "no samples found")
    if event is None:
        return next(iter(data.events))
    if event in data.events:
        return event
    # accept the bare name for "cpu-clock:ppp" style events
    for name in data.events:
        if name.split(":")[0] == event or name.split("/")[0] == event:
            return name
    known = ", ".join(data.events)
    raise EmptyInputError(path, f"no samples of event {event!r} (events: {known})")


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


def build_profile(
    data: ScriptData,
    finder: MapFinder,
    event: str | None = None,
    pids: Sequence[int] = (),
    comms: Sequence[str] = (),
    bin_width: float | None = None,
    symbolizer: Symbolizer | None = None,
    elf_policy: str = "auto",
    proc_maps: Mapping[int | None, Sequence[MemMap]] | None = None,
) -> Profile:
    """Resolve and aggregate the samples of one event into a Profile; per time bin when
    ``bin_width`` is given and every sample has a time. With a ``symbolizer``, file
    frames are named from ELF symbols (``elf_policy`` "auto": those perf left unnamed;
    "always": every one) and kernel frames perf left unnamed from kallsyms.

    In bulk (numpy): every distinct (process, address) is named once; stacks become the
    profile's stack table level by level; samples are summed per (stack, thread, bin).
    ``data`` is not changed."""
    import numpy as np

    where = ", ".join(data.inputs) or "input"
    ev_name = choose_event(data, event, where)
    ev = data.events[ev_name]
    frames = data.frames
    nraw = len(frames)
    addr = _np_of(frames.addr, np.uint64)
    dso_of = _np_of(frames.dso, np.int32)
    dsos = frames.dsos
    # JIT memory at a user address (names.is_jit_memory: not the garbage an FP unwinder
    # reads past the last real frame, tiny or non-canonical) ...
    dso_jit = np.array([is_jit_dso(d) for d in dsos], dtype=bool)
    raw_jit = (dso_jit[dso_of] & (addr >= USER_MIN_ADDR) & (addr < USER_MAX_ADDR)
               if nraw else np.zeros(0, dtype=bool))
    # ... of which memory perf saw mapped anonymous and executable: surely JIT code (the
    # JIT figures and warnings count these, and frames of processes with a map)
    dso_surely = np.array([is_surely_jit_dso(d) for d in dsos], dtype=bool)
    surely_jit = dso_surely[dso_of] & raw_jit if nraw else np.zeros(0, dtype=bool)
    is_kernel = addr >= np.uint64(KERNEL_MIN_ADDR)
    inlined_dso = np.array([d == "inlined" for d in dsos], dtype=bool)
    inlined = inlined_dso[dso_of] if nraw else np.zeros(0, dtype=bool)
    flat0 = _np_of(data.stacks.frames, np.int32)
    ends0 = _np_of(data.stacks.ends, np.int64)
    s_stack = _np_of(ev.s_stack, np.int32)
    s_thread = _np_of(ev.s_thread, np.int32)
    s_weight = _np_of(ev.s_weight, np.int64)
    s_time = _np_of(ev.s_time, np.float64)

    # 1. threads -> processes (a copy: the data is not changed); the pid in a perf-map
    # dso counts too, for threads no event tied to a process
    tid_pid = dict(data.tid_pid)
    _pids_from_map_names(data, s_stack, s_thread, flat0, ends0, tid_pid)
    th_tid = [tid for tid, _c in data.threads]
    seen_threads = np.flatnonzero(np.bincount(s_thread, minlength=len(th_tid))).tolist() if (
        len(s_thread)) else []
    unknown_threads = sorted({th_tid[i] for i in seen_threads if th_tid[i] not in tid_pid})
    th_pid = np.array([tid_pid.get(t, t) for t in th_tid] or [0], dtype=np.int64)
    pidset, commset = set(pids), set(comms)
    th_keep = np.array([(not pidset or tid_pid.get(t, t) in pidset or t in pidset)
                        and (not commset or c in commset) for t, c in data.threads] or [False])

    # 2. time bins (every sample needs a time), at most MAX_BINS of them
    binned = bin_width is not None and ev.samples > 0 and not np.isnan(s_time).any()
    s_bin = np.full(len(s_stack), -1, dtype=np.int64)
    bin_of: Callable[[float], int] | None = None
    if binned and bin_width is not None:
        raw_bins = np.floor(s_time / bin_width).astype(np.int64)
        k = max(1, -(-(int(raw_bins.max()) - int(raw_bins.min()) + 1) // MAX_BINS))
        s_bin = raw_bins // k
        read_width = bin_width
        bin_width = bin_width * k

        def bin_of(t: float) -> int:  # the bin of a time, as above
            return int(t / read_width) // k

    keep_all = bool(th_keep.all())
    sel = None if keep_all else np.flatnonzero(th_keep[s_thread])
    if not len(s_stack) or (sel is not None and not sel.size):
        raise EmptyInputError(where, "no samples match the --pid/--comm filters")
    ones = np.ones(len(s_stack) if sel is None else len(sel), dtype=np.int64)
    if sel is None:  # no filter: the reader's columns as they are
        rows = _Rows(s_stack, s_thread, ones, s_weight, s_bin)
        times = s_time
    else:
        rows = _Rows(s_stack[sel], s_thread[sel], ones, s_weight[sel], s_bin[sel])
        times = s_time[sel]
    del sel, s_bin

    # 3. the stack table without "(inlined)" lines
    flat, ends, removed = _drop_inlined(flat0, ends0, inlined, addr)
    inlined_frames = int((removed[rows.stack] * rows.n).sum())
    row_pid = th_pid[rows.thread]

    # threads with JIT frames and no known process
    unknown_tids = {i for i, t in enumerate(th_tid) if t not in tid_pid}
    jit_unknown_threads: set[int] = set()
    unknown_thread_samples = 0
    if unknown_tids:
        stack_has_jit = _stacks_with(flat, ends, surely_jit)
        for i in unknown_tids:
            m = (rows.thread == i) & stack_has_jit[rows.stack]
            if m.any():
                jit_unknown_threads.add(th_tid[i])
                unknown_thread_samples += int(rows.n[m].sum())

    # 4. which raw frames each process uses; its JIT frames named from its map or dump
    b = ProfileBuilder(ev_name)
    jit_unknown = b.frame("[unknown]", Kind.UNKNOWN, JIT_DSO)
    frame_of = _name_frames(b)
    used_by_pid = _frames_by_pid(flat, ends, rows.stack, row_pid, nraw)
    jit_used = {pid: fids[raw_jit[fids]] for pid, fids in used_by_pid.items()}
    input_dirs = [os.path.dirname(os.path.abspath(p)) for p in data.inputs if p != "-"]
    naming = _name_jit_processes(finder, jit_used, addr, input_dirs, ev.time_first, frame_of,
                                 jit_unknown)

    # 5. naming by sample time, where a jitdump says the code at an address changed
    dump_notes: list[DumpNaming] = []
    overrides: dict[int, Entry] = {}
    extra_frames: list[RawFrame] = []
    if naming.dumps:
        rows, flat, ends, overrides, dump_notes, new_frames = _split_by_dump_time(
            data, rows, times, flat, ends, row_pid, naming.dumps, raw_jit, is_kernel,
            finder.sample_clock, bin_of, extra_frames)
        row_pid = th_pid[rows.thread]
        for pid, new in new_frames.items():
            extra = np.array(new, dtype=np.int64)
            jit_used[pid] = np.concatenate((jit_used[pid], extra))
            used_by_pid[pid] = np.concatenate((used_by_pid[pid], extra))
        if extra_frames:
            addr = np.concatenate((addr, np.array([f.addr for f in extra_frames],
                                                  dtype=np.uint64)))
            raw_jit = np.concatenate((raw_jit, np.ones(len(extra_frames), dtype=bool)))
            surely_jit = np.concatenate((surely_jit, np.array(
                [is_surely_jit_dso(f.dso) for f in extra_frames], dtype=bool)))
            is_kernel = np.concatenate((is_kernel, np.zeros(len(extra_frames), dtype=bool)))
            dso_of = np.concatenate((dso_of, np.array([frames._dso_ids[f.dso]
                                                       for f in extra_frames], dtype=np.int32)))
    del times
    nall = nraw + len(extra_frames)

    # 6. profile frames for every raw frame used: perf's names, then JIT and ELF names
    used = np.unique(np.concatenate(list(used_by_pid.values()))) if used_by_pid else (
        np.zeros(0, dtype=np.int64))
    common = _perf_frames(b, frames, extra_frames, used, addr, raw_jit, surely_jit,
                          jit_unknown, finder.perf_jit_names, nall)
    common_leaf = common_call = common
    elf_by_pid: dict[int, dict[int, tuple[int, int]]] = {}
    elf_note: FileFrameNames | None = None
    kernel_frames = kernel_named = 0
    if symbolizer is not None and elf_policy != "never":
        common_leaf = common.copy()
        common_call = common.copy()
        users = _users_of(flat, ends, rows.stack, row_pid, used_by_pid, raw_jit, is_kernel,
                          frames, elf_policy)
        one_frame = bool(len(rows.stack)) and bool(
            (_stack_lengths(ends)[rows.stack] <= 1).all())
        elf_note, kernel_frames, kernel_named = _name_elf_frames(
            b, symbolizer, elf_policy, data, users, one_frame, used, raw_jit, is_kernel,
            proc_maps or {}, common_leaf, common_call, elf_by_pid)
        if not elf_note.leaf and not kernel_frames:  # nothing named here: the fast path
            common_leaf = common_call = common
    tables = _Tables(common_leaf, common_call)
    sym_named_ids = np.array([s not in ("", "[unknown]") for s in frames.syms], dtype=bool)
    esym = np.array([frames._sym_ids[f.sym] for f in extra_frames], dtype=np.int32)
    sym_named = sym_named_ids[np.concatenate((_np_of(frames.sym, np.int32), esym))] if (
        nall) else np.zeros(0, dtype=bool)
    # processes with JIT code: a map or jitdump named some, or perf saw it mapped (a
    # process whose only "JIT" frames are [unknown] ([unknown]) garbage has none)
    jit_pids = {pid for pid, fids in jit_used.items() if len(fids) and (
        pid in naming.mapped or pid in naming.dumped or surely_jit[fids].any())}
    for pid in jit_pids | set(elf_by_pid):
        tables.by_pid[pid] = _pid_table(
            pid, jit_used.get(pid, np.zeros(0, dtype=np.int64)), naming, overrides,
            elf_by_pid.get(pid, {}), frame_of, jit_unknown, sym_named, finder.perf_jit_names)

    # 7. stacks of profile frames -> the stack table; samples -> groups
    no_stack = b.frame("[no stack]", Kind.UNKNOWN, "[unknown]") if (
        _stack_lengths(ends)[rows.stack] == 0).any() else -1
    counts = _build_tables(b, rows, row_pid, flat, ends, tables, raw_jit, is_kernel, no_stack,
                           data.threads)
    prof = b.profile
    prof.bin_width = bin_width if binned else None
    prof.time_first, prof.time_last = ev.time_first, ev.time_last
    prof.inputs = list(data.inputs)

    warnings = _warnings(data, naming, jit_used, used_by_pid, surely_jit, frames, counts,
                         jit_unknown_threads, unknown_thread_samples, dump_notes, symbolizer)
    elf_files: list[ElfFileHealth] = []
    if symbolizer is not None:
        elf_files = [
            ElfFileHealth(df.dso, df.path, df.symbols_path,
                          df.symbols.source if df.symbols is not None else "",
                          len(df.symbols) if df.symbols is not None else 0,
                          df.info.build_id if df.info is not None else None,
                          df.recorded_build_id, df.build_id_mismatch, df.problem)
            for df in symbolizer.files.values()
        ]
    prof.diagnostics = ProfileDiagnostics(
        events={name: e.samples for name, e in data.events.items()},
        lines=data.lines,
        has_period=ev.has_period,
        jit_samples=counts.jit_samples,
        jit_samples_resolved=counts.jit_samples_named,
        jit_samples_resolved_pct=_pct(counts.jit_samples_named, counts.jit_samples),
        jit_frames=counts.jit_frames,
        jit_frames_resolved=counts.jit_frames_named,
        maps=naming.map_info,
        missing_map_pids=naming.missing,
        unknown_thread_tids=unknown_threads,
        unparsed_lines=data.unparsed,
        perf_warnings=data.warnings,
        srclines=data.srclines,
        truncated_samples=data.truncated,
        empty_stacks=data.empty_stacks,
        inlined_frames=inlined_frames,
        messages=[str(d) for d in data.diagnostics],
        jitdumps=[dn.note() for dn in dump_notes],
        warnings=warnings,
        address_forms=[elf_note.form] if elf_note is not None and elf_note.frames else [],
        elf_frames=elf_note.frames if elf_note is not None else 0,
        elf_frames_named=elf_note.named if elf_note is not None else 0,
        elf_files=elf_files,
        kernel_frames=kernel_frames,
        kernel_frames_named=kernel_named,
    )
    return prof


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

    if not len(ends):
        return np.zeros(0, dtype=bool)
    c = np.concatenate(([0], np.cumsum(mark[flat]) if len(flat) else [0]))
    c = c[:len(flat) + 1]
    return (c[ends] - c[np.concatenate(([0], ends[:-1]))]) > 0


def _pids_from_map_names(data: ScriptData, s_stack: Any, s_thread: Any, flat: Any,
                         ends: Any, tid_pid: dict[int, int]) -> None:
    """For threads no event tied to a process: the pid of the first perf-map dso
    (``/tmp/perf-123.map``) in their stacks, in the order samples came."""
    import numpy as np

    unknown = [i for i, (tid, _c) in enumerate(data.threads) if tid not in tid_pid]
    if not unknown or not len(s_stack):
        return
    dso_pid = [jit_map_pid(d) for d in data.frames.dsos]
    if not any(p is not None for p in dso_pid):
        return
    fdso = data.frames.dso
    for i in unknown:
        tid = data.threads[i][0]
        if tid in tid_pid:
            continue
        ids = s_stack[s_thread == i]
        _u, first = np.unique(ids, return_index=True)
        for sid in ids[np.sort(first)].tolist():
            start = int(ends[sid - 1]) if sid else 0
            for f in flat[start:int(ends[sid])].tolist():
                p = dso_pid[fdso[f]]
                if p is not None:
                    tid_pid[tid] = p
                    break
            if tid in tid_pid:
                break


class _FrameList:
    """The raw frames, with frames a jitdump split made appended (the data unchanged)."""

    def __init__(self, base: RawFrames, extra: list[RawFrame]) -> None:
        self.base = base
        self.extra = extra

    def __len__(self) -> int:
        return len(self.base) + len(self.extra)

    def __getitem__(self, i: int) -> RawFrame:
        n = len(self.base)
        return self.base[i] if i < n else self.extra[i - n]

    def append(self, f: RawFrame) -> None:
        self.extra.append(f)


def _split_by_dump_time(
    data: ScriptData, rows: _Rows, times: Any, flat: Any, ends: Any, row_pid: Any,
    dumps: dict[int, DumpPlan], raw_jit: Any, is_kernel: Any, sample_clock: str | None,
    bin_of: Callable[[float], int] | None, extra_frames: list[RawFrame],
) -> tuple[_Rows, Any, Any, dict[int, Entry], list[DumpNaming], dict[int, list[int]]]:
    """The rows of processes with a jitdump, re-cut so that frames at reused addresses
    carry the name of the code there at each sample's time (``jittime.split_by_time``,
    which works on stacks as tuples: only these processes' samples are made so)."""
    import numpy as np

    in_dump = np.isin(row_pid, np.array(sorted(dumps), dtype=np.int64))
    idx = np.flatnonzero(in_dump)
    threads = data.threads
    # by stack as a tuple: one callchain may have several raw ids (the reader's stack
    # cache is bounded), and the split counts a stack's times against its samples
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
    fl = _FrameList(data.frames, extra_frames)
    jit_list = raw_jit.tolist()
    split = split_by_time(selected, dumps, timed, fl, jit_list, KERNEL_MIN_ADDR, sample_clock,
                          bin_of if rows.bin.size and (rows.bin >= 0).all() else None)
    # back to columns: the other processes' rows as they were, these from the split
    th_index = {k: i for i, k in enumerate(threads)}
    new_flat: list[int] = []
    new_ends: list[int] = []
    base_len = len(flat)
    stack_ids: dict[tuple[int, ...], int] = {}
    r_stack, r_thread, r_n, r_w, r_bin = [], [], [], [], []
    for _pid, tid, comm, st, n, w, bn in split.selected:
        sid = stack_ids.get(st)
        if sid is None:
            new_flat.extend(st)
            new_ends.append(base_len + len(new_flat))
            sid = stack_ids[st] = len(ends) + len(new_ends) - 1
        r_stack.append(sid)
        r_thread.append(th_index[(tid, comm)])
        r_n.append(n)
        r_w.append(w)
        r_bin.append(bn)
    keep = ~in_dump
    i64 = np.int64
    out = _Rows(np.concatenate((rows.stack[keep], np.array(r_stack, dtype=i64))),
                np.concatenate((rows.thread[keep], np.array(r_thread, dtype=i64))),
                np.concatenate((rows.n[keep], np.array(r_n, dtype=i64))),
                np.concatenate((rows.w[keep], np.array(r_w, dtype=i64))),
                np.concatenate((rows.bin[keep], np.array(r_bin, dtype=i64))))
    flat = np.concatenate((flat, np.array(new_flat, dtype=i64)))
    ends = np.concatenate((ends, np.array(new_ends, dtype=i64)))
    return out, flat, ends, split.overrides, split.namings, split.new_frames


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
    key = (which + 1) * (max((len(pm) for pm in maps), default=0) + 1) + line + 1
    uk, inv = np.unique(key, return_inverse=True)
    lut = np.empty(len(uk), dtype=np.int64)
    per = max((len(pm) for pm in maps), default=0) + 1
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


def _perf_frames(b: ProfileBuilder, frames: RawFrames, extra: list[RawFrame], used: Any,
                 addr: Any, raw_jit: Any, surely_jit: Any, jit_unknown: int,
                 perf_jit_names: bool, nall: int) -> Any:
    """Raw frame id -> profile frame by the name perf printed (-1 where unused); JIT
    memory perf named from its own reading of the map keeps that name (as a JIT name),
    unless ``perf_jit_names`` is off; unnamed memory that is maybe not JIT code at all
    (unwinder garbage) is an unknown frame. One lookup per distinct (name, dso, kernel?,
    JIT?, surely JIT?)."""
    import numpy as np

    out = np.full(nall, -1, dtype=np.int64)
    if not len(used):
        return out
    fsym = _np_of(frames.sym, np.int32)
    fdso = _np_of(frames.dso, np.int32)
    esym = np.array([frames._sym_ids[f.sym] for f in extra], dtype=np.int32)
    edso = np.array([frames._dso_ids[f.dso] for f in extra], dtype=np.int32)
    si = np.concatenate((fsym, esym))[used].astype(np.int64)
    di = np.concatenate((fdso, edso))[used].astype(np.int64)
    # the address matters only by its range: user, kernel, or perf's context markers
    a = addr[used]
    kern = ((a >= np.uint64(KERNEL_MIN_ADDR)).astype(np.int64)
            + (a >= np.uint64(PERF_CONTEXT_MIN)).astype(np.int64))
    jit = raw_jit[used].astype(np.int64) + surely_jit[used].astype(np.int64)  # 0, 1, 2
    ndso = max(len(frames.dsos), 1)
    key = ((si * ndso + di) * 3 + kern) * 3 + jit
    uk, inv = np.unique(key, return_inverse=True)
    lut = np.empty(len(uk), dtype=np.int64)
    syms, dsos = frames.syms, frames.dsos
    runtime = (Kind.PHP, Kind.HPHP, Kind.HHVM, Kind.JIT, Kind.JAVA, Kind.JVM)
    for k, v in enumerate(uk.tolist()):
        rest, jit_level = divmod(v, 3)
        rest, where = divmod(rest, 3)
        s, d = divmod(rest, ndso)
        sym, dso = syms[s], dsos[d]
        name = sym if sym and sym != "[unknown]" else "[unknown]"
        full: str | None = None
        if jit_level:
            if name == "[unknown]" and jit_level == 1:  # no map, maybe garbage
                lut[k] = b.frame("[unknown]", Kind.UNKNOWN, "[unknown]")
                continue
            if name == "[unknown]" or not perf_jit_names:
                lut[k] = jit_unknown
                continue
            jname, jkind, full = map_name_full(name)
            pf = b.frame(jname, jkind, JIT_DSO, "")
        else:
            kind = perf_name_kind(sym, dso, (0, KERNEL_MIN_ADDR, PERF_CONTEXT_MIN)[where])
            if is_jitted_dso(dso) and name != "[unknown]":  # perf inject --jit code
                name, kind, full = map_name_full(name)
            pf = b.frame(name, kind, dso or "[unknown]", "" if kind in runtime else None)
        if full is not None:
            b.full_name(pf, full)
        lut[k] = pf
    out[used] = lut[inv]
    return out


def _users_of(flat: Any, ends: Any, stack: Any, pid: Any, used_by_pid: dict[int, Any],
              raw_jit: Any, is_kernel: Any, frames: RawFrames, policy: str
              ) -> dict[int, list[int]]:
    """File frames to be named from ELF symbols -> the pids whose stacks hold them."""
    import numpy as np

    nraw = len(frames)
    unnamed = np.array([s in ("", "[unknown]") for s in frames.syms], dtype=bool)
    file_dso = np.array([is_file_dso(d) for d in frames.dsos], dtype=bool)
    fsym = _np_of(frames.sym, np.int32)
    fdso = _np_of(frames.dso, np.int32)
    out: dict[int, list[int]] = {}
    for p, fids in used_by_pid.items():
        c = fids[fids < nraw]
        ok = ~raw_jit[c] & ~is_kernel[c] & file_dso[fdso[c]]
        if policy != "always":
            ok &= unnamed[fsym[c]]
        for f in c[ok].tolist():
            out.setdefault(f, []).append(p)
    del flat, ends, stack, pid
    return out


def _pid_table(pid: int, jit_fids: Any, naming: _JitNaming, overrides: dict[int, Entry],
               elf: dict[int, tuple[int, int]], frame_of: Callable[[str, object], int],
               jit_unknown: int, sym_named: Any, perf_jit_names: bool) -> _Override:
    """One process's overrides of the common tables (see ``_Override``)."""
    import numpy as np

    i64 = np.int64
    if pid in naming.mapped:
        fids, lf, cf, ln, cn = naming.mapped[pid]
    elif pid in naming.dumped:
        leaf_of, call_of = naming.dumped[pid]
        fl = jit_fids.tolist()
        lfl, cfl, lnl, cnl = [], [], [], []
        for fid in fl:
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
        fids = jit_fids
        lf, cf, ln, cn = (np.array(x, dtype=i64) for x in (lfl, cfl, lnl, cnl))
    else:  # no map for this process: perf's name, named if perf had one
        fids = jit_fids
        lf = cf = np.full(len(fids), -1, dtype=i64)
        ln = cn = (sym_named[fids] & perf_jit_names).astype(i64)
    if elf:
        ef = np.array(sorted(elf), dtype=i64)
        ev = np.array([elf[f] for f in ef.tolist()], dtype=i64).reshape(-1, 2)
        z = np.zeros(len(ef), dtype=i64)
        fids, lf, cf, ln, cn = (np.concatenate(x) for x in (
            (fids, ef), (lf, ev[:, 0]), (cf, ev[:, 1]), (ln, z), (cn, z)))
    order = np.argsort(fids, kind="stable")
    return fids[order], lf[order], cf[order], ln[order], cn[order]


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


@dataclass(slots=True)
class _Counts:
    jit_samples: int = 0
    jit_samples_named: int = 0
    jit_frames: int = 0
    jit_frames_named: int = 0


_PAIRS_AT_ONCE = 1 << 14  # stacks translated at a time: bounds the temporary arrays


def _translate(pairs_stack: Any, pairs_pid: Any, pairs_n: Any, flat: Any, ends: Any,
               tables: _Tables, raw_jit: Any, is_kernel: Any, no_stack: int,
               counts: _Counts) -> tuple[Any, Any]:
    """Distinct (raw stack, process) pairs as stacks of profile frames (leaf: the
    address; callers: the return address - 1; the first user frame under kernel frames:
    where user code was interrupted, an exact ip): their frames (int32, leaf first) and
    lengths. In slices of ``_PAIRS_AT_ONCE`` pairs; adds the JIT naming counts."""
    import numpy as np

    out_fn: list[Any] = []
    out_len: list[Any] = []
    big = np.iinfo(np.int64).max
    dense_of: dict[int, Any] = {}
    counted = np.array(sorted(tables.by_pid), dtype=np.int64)
    for lo in range(0, len(pairs_stack), _PAIRS_AT_ONCE):
        p_stack = pairs_stack[lo:lo + _PAIRS_AT_ONCE]
        p_pid = pairs_pid[lo:lo + _PAIRS_AT_ONCE]
        p_n = pairs_n[lo:lo + _PAIRS_AT_ONCE]
        fl, starts, lens = _flat_of(flat, ends, p_stack)
        npair = len(p_stack)
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
            del kern
        fn = np.where(exact, tables.leaf[fl], tables.call[fl])
        occ_pid = p_pid[occ_pair]
        # JIT frames are counted in the processes with JIT code (see build_profile)
        jit_occ = raw_jit[fl] & np.isin(occ_pid, counted)
        named = np.zeros(len(fl), dtype=np.int64)
        for pid, (o_fid, o_leaf, o_call, o_ln, o_cn) in tables.by_pid.items():
            if not len(o_fid):
                continue
            m = np.flatnonzero(occ_pid == pid)
            if not m.size:
                continue
            f = fl[m]
            dense = dense_of.get(pid)
            if dense is None and len(o_fid) * 16 > len(tables.leaf):
                # many overrides: a direct table (raw frame id -> row) beats a search
                dense = dense_of[pid] = np.full(len(tables.leaf), -1, dtype=np.int32)
                dense[o_fid] = np.arange(len(o_fid), dtype=np.int32)
            if dense is not None:
                j = dense[f].astype(np.int64)
                hit = j >= 0
            else:
                j = np.minimum(np.searchsorted(o_fid, f), len(o_fid) - 1)
                hit = o_fid[j] == f
            m, j = m[hit], j[hit]
            ex = exact[m]
            new = np.where(ex, o_leaf[j], o_call[j])
            have = new >= 0
            fn[m[have]] = new[have]
            named[m] = np.where(ex, o_ln[j], o_cn[j])
        occ_n = p_n[occ_pair]
        jn = jit_occ * occ_n
        counts.jit_frames += int(jn.sum())
        counts.jit_frames_named += int((named * jn).sum())
        leaf_jn = jn * (pos == 0)
        counts.jit_samples += int(leaf_jn.sum())
        counts.jit_samples_named += int((leaf_jn * named).sum())
        if no_stack >= 0 and not nonempty.all():  # an empty stack: "[no stack]"
            lens = np.where(nonempty, lens, 1)
            at = (np.cumsum(lens) - lens)[occ_pair] + pos
            full = np.full(int(lens.sum()), no_stack, dtype=np.int64)
            full[at] = fn
            fn = full
        out_fn.append(fn.astype(np.int32))
        out_len.append(lens)
    if not out_fn:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_fn), np.concatenate(out_len)


def _build_tables(b: ProfileBuilder, rows: _Rows, row_pid: Any, flat: Any, ends: Any,
                  tables: _Tables, raw_jit: Any, is_kernel: Any, no_stack: int,
                  threads: list[tuple[int, str]]) -> _Counts:
    """Rows -> the profile's stack table and groups, summed per (stack node, profile
    thread, bin). Fills ``b.profile``; returns the JIT naming counts."""
    import numpy as np

    counts = _Counts()
    upids = np.unique(row_pid)
    pid_ix = np.searchsorted(upids, row_pid)
    npid = len(upids)
    pairs, inv = np.unique(rows.stack.astype(np.int64) * npid + pid_ix, return_inverse=True)
    p_n = np.bincount(inv, weights=rows.n, minlength=len(pairs)).astype(np.int64)
    fn, lens = _translate(pairs // npid, upids[pairs % npid], p_n, flat, ends, tables,
                          raw_jit, is_kernel, no_stack, counts)
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
        uk, inv = np.unique(key, return_inverse=True)
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


def _warnings(data: ScriptData, naming: _JitNaming, jit_used: dict[int, Any],
              used_by_pid: dict[int, Any], surely_jit: Any, frames: RawFrames,
              counts: _Counts, jit_unknown_threads: set[int], unknown_thread_samples: int,
              dump_notes: list[DumpNaming], symbolizer: Symbolizer | None) -> list[str]:
    warnings: list[str] = []
    # Only memory perf saw mapped anonymous and executable is surely JIT code; a lone
    # "[unknown] ([unknown])" frame is as often the garbage an unwinder read.
    no_map = [p for p in naming.missing if surely_jit[jit_used[p]].any()]
    if no_map:
        jvm_dsos = {i for i, d in enumerate(frames.dsos) if is_jvm_dso(d)}
        nraw = len(frames)
        jvms = [p for p in no_map if any(frames.dso[f] in jvm_dsos
                                         for f in used_by_pid[p].tolist() if f < nraw)]
        warnings.append(
            "no perf map for pid "
            + ", ".join(str(p) for p in no_map)
            + " (looked in --map, --map-dir, beside the input and /tmp): JIT frames keep"
            " perf's names or stay [unknown]"
            + (f"; a JVM (pid {', '.join(map(str, jvms))}) writes one with {JAVA_MAP_HINT}"
               if jvms else "")
        )
    for mi in naming.map_info:
        started = process_start_time(mi.pid) if mi.pid is not None else None
        if mi.mtime is not None and started is not None and mi.mtime < started - 1.0:
            warnings.append(
                f"{mi.path} was last written before process {mi.pid} started: it is stale "
                "(left by an older process with the same pid?)"
            )
    if counts.jit_samples and counts.jit_samples_named < 0.5 * counts.jit_samples:
        warnings.append(
            f"only {counts.jit_samples_named} of {counts.jit_samples} samples in JIT memory"
            " were named: is the map missing, stale or from another process?"
        )
    if jit_unknown_threads:
        warnings.append(
            f"{len(jit_unknown_threads)} thread(s) with JIT frames ({unknown_thread_samples}"
            " samples) could not be mapped to a process (no pid/tid field, mmap, comm or fork"
            " event): their map was looked up as perf-<tid>.map"
        )
    if data.truncated:
        warnings.append(f"{data.truncated} truncated sample(s) dropped")
    for path in naming.stale_dumps:
        warnings.append(f"{path} was closed (its JIT exited) before the first sample: left by "
                        "an older process with the same pid? Not used")
    for dn in dump_notes:
        dw = dn.warning()
        if dw is not None:
            warnings.append(dw)
    if symbolizer is not None:
        warnings.extend(symbolizer.warnings)
    return warnings


def _name_elf_frames(
    b: ProfileBuilder,
    sym: Symbolizer,
    policy: str,
    data: ScriptData,
    users: dict[int, list[int]],
    one_frame: bool,
    used: Any,
    raw_jit: Any,
    is_kernel: Any,
    proc_maps: Mapping[int | None, Sequence[MemMap]],
    leaf_t: Any,
    call_t: Any,
    by_pid: dict[int, dict[int, tuple[int, int]]],
) -> tuple[FileFrameNames, int, int]:
    """Fill the leaf/caller tables for file frames (from ELF symbols; ``users``: file
    frame -> the pids whose stacks hold it) and unnamed kernel frames (from kallsyms);
    frames named differently per process go to ``by_pid``. Returns the file naming's
    figures and (kernel frames, named)."""
    frames = data.frames
    unnamed = ("", "[unknown]")
    nraw = len(frames)
    kernel_fids = [fid for fid in used.tolist()
                   if fid < nraw and is_kernel[fid] and frames.sym_of(fid) in unnamed]
    mmaps = maps_by_pid((m.pid, m.start, m.length, m.pgoff, m.prot, m.filename)
                        for m in data.mmaps)
    names = name_file_frames(sym, _AddrDso(frames), {fid: sorted(p) for fid, p in users.items()},
                             mmaps, proc_maps, one_frame)
    cache: dict[tuple[Name | None, str], int] = {}

    def frame(n: Name | None, dso: str) -> int:
        key = (n, dso)
        out = cache.get(key)
        if out is None:
            if n is None:
                out = b.frame("[unknown]", Kind.UNKNOWN, dso)
            else:
                kind = runtime_kind(n.name) or Kind.NATIVE
                out = b.frame(n.name, kind, dso, "" if kind is not Kind.NATIVE else None)
                if n.full != n.name:
                    b.full_name(out, n.full)
            cache[key] = out
        return out

    for fid in names.leaf:
        dso = frames.dso_of(fid)
        leaf_t[fid] = frame(names.leaf[fid], dso)
        call_t[fid] = frame(names.call[fid], dso)
    for pid, per in names.by_pid.items():
        by_pid[pid] = {fid: (frame(lf, frames.dso_of(fid)), frame(cf, frames.dso_of(fid)))
                       for fid, (lf, cf) in per.items()}
    knamed = 0
    kernel_total = len(kernel_fids)  # unnamed by perf (named here or not)
    recorded = {m.start for m in data.mmaps if m.filename.startswith("[kernel.kallsyms]")}
    verdict = sym.kernel_verdict(recorded) if kernel_fids else None
    if verdict is not None and not verdict.trusted:
        # another machine's or kernel's frames: this kallsyms would name them wrongly
        sym.warnings.append(
            f"{len(kernel_fids):,} kernel frame(s) perf left unnamed stay [unknown]: "
            f"{verdict.reason}; to name them pass the recording machine's kallsyms "
            "(a copy of its /proc/kallsyms taken while it ran that boot) with --kallsyms FILE")
        kernel_fids = []
    ks = sym.kallsyms() if kernel_fids else None
    if ks is not None and ks.text is not None:
        # the recording's kernel map starts at its _text: another boot's or machine's
        # kallsyms (KASLR) would name every frame wrongly
        if recorded and ks.text not in recorded:
            sym.warnings.append(
                f"{ks.path}: its _text ({ks.text:#x}) is not where the recorded kernel was "
                f"({', '.join(hex(a) for a in sorted(recorded))}): kernel names may be wrong "
                "(pass the recording machine's kallsyms with --kallsyms)")
    if kernel_fids and ks is None:
        sym.warnings.append(
            f"{sym.kallsyms_path or 'kallsyms'}: unreadable, or its addresses are hidden "
            "(kptr_restrict): kernel frames perf left unnamed stay [unknown] "
            "(pass a readable copy with --kallsyms)")
    if kernel_fids and ks is not None:
        kcache: dict[tuple[str, str], int] = {}
        for fid in kernel_fids:
            f = frames[fid]
            dso = f.dso if f.dso not in unnamed else "[kernel.kallsyms]"
            for table, addr in ((leaf_t, f.addr), (call_t, f.addr - 1)):
                kname = sym.kernel(addr)
                if kname is None:
                    continue
                key = (kname, dso)
                pf = kcache.get(key)
                if pf is None:
                    pf = kcache[key] = b.frame(kname, Kind.KERNEL, dso)
                table[fid] = pf
            knamed += sym.kernel(f.addr) is not None
    return names, kernel_total, knamed




class _AddrDso:
    """Raw frame id -> (address, dso): what ``name_file_frames`` reads of a frame."""

    def __init__(self, frames: RawFrames) -> None:
        self.frames = frames

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, fid: int) -> tuple[int, str]:
        return self.frames.addr[fid], self.frames.dso_of(fid)


def _pct(a: int, b: int) -> float | None:
    return round(100.0 * a / b, 2) if b else None


def _map_health(pm: PerfMap, pid: int) -> MapHealth:
    return MapHealth(pm.path, pid, pm.lines, len(pm), pm.bad, pm.overlapping, pm.zero_size,
                     pm.mtime, [str(d) for d in pm.diagnostics])


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Everything that decides what is read and how frames are named, for every command
    that loads a profile (built once by the CLI's shared input options).

    ``maps``/``map_dirs``/``search_tmp``/``jitdumps``: where JIT names come from
    (``MapFinder``); ``event``/``pids``/``comms``: which samples; ``strict``: a bad map
    line fails; ``jobs``: processes that may read one big input at once; ``bin_width``
    (seconds): keep samples per time bin (``Profile.group_bin``; diff's bootstrap);
    ``elf``: how file and kernel frames are named (ELF symbols, kallsyms)."""

    maps: tuple[str, ...] = ()
    map_dirs: tuple[str, ...] = ()
    search_tmp: bool = True
    jitdumps: tuple[str, ...] = ()
    event: str | None = None
    pids: tuple[int, ...] = ()
    comms: tuple[str, ...] = ()
    strict: bool = False
    jobs: int = 1
    bin_width: float | None = None
    elf: ElfOptions | None = None


def load_profile(
    inputs: Sequence[str],
    options: LoadOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    **changes: Any,
) -> Profile:
    """The whole pipeline for perf script inputs: read, resolve, aggregate, with
    ``options`` (``LoadOptions``; ``changes``: fields of it to change, e.g. ``jobs=1``).

    Inputs named ``*.json`` are jitprof JSON profiles (jitprof/profilefile.py), merged
    with the rest; a directory made by ``jitprof record`` (jitprof/bundle.py) reads as its
    script text with its own maps and jitdumps only, never /tmp. ``progress(bytes read,
    total)``: see ``read_scripts`` (the perf script inputs only)."""
    import dataclasses

    from jitprof.bundle import expand_inputs
    from jitprof.profilefile import is_profile_json, load_profile_inputs
    from jitprof.script import read_scripts, splittable

    opt = options if options is not None else LoadOptions()
    if changes:
        for key in ("maps", "map_dirs", "jitdumps", "pids", "comms"):
            if key in changes:
                changes[key] = tuple(changes[key])
        opt = dataclasses.replace(opt, **changes)
    if any(is_profile_json(p) for p in inputs):  # (bundles are expanded in the call back)
        unfiltered = dataclasses.replace(opt, pids=(), comms=(), bin_width=None)
        return load_profile_inputs(
            inputs, lambda perf: load_profile(perf, unfiltered, progress), opt.event,
            opt.pids, opt.comms)

    map_dirs: Sequence[str] = opt.map_dirs
    search_tmp = opt.search_tmp
    bundles = expand_inputs(inputs)
    if bundles.bundles:
        inputs = bundles.inputs
        map_dirs = [*map_dirs, *bundles.map_dirs]
        search_tmp = False

    elf = opt.elf if opt.elf is not None else ElfOptions()
    finder = MapFinder(maps=list(opt.maps), map_dirs=list(map_dirs), search_tmp=search_tmp,
                       strict=opt.strict, jitdumps=list(opt.jitdumps),
                       perf_jit_names=not bundles.bundles)
    finder.check_explicit()
    proc_maps = elf.read_proc_maps()
    input_dirs = [os.path.dirname(os.path.abspath(p)) for p in inputs if p != "-"]
    if finder.has_jitdumps(input_dirs):
        from jitprof.jittime import perf_data_clock
        from jitprof.script import is_perf_data

        clocks = {perf_data_clock(p) for p in inputs if p != "-" and is_perf_data(p)}
        clocks.discard(None)
        if clocks:  # one clock not monotonic is enough to distrust the times
            finder.sample_clock = next((c for c in clocks if c != "monotonic"), "monotonic")
    big = finder.big_maps() if opt.jobs > 1 else []
    if big and any(splittable(p) for p in inputs):
        # worker processes read most of the samples while this one parses the maps
        cost = MAP_BYTE_COST * sum(_size(p) for p in big)
        data = read_scripts(inputs, jobs=opt.jobs, side_job=lambda: finder.load_all(big),
                            side_job_bytes=cost, progress=progress)
    else:
        if big:
            finder.preload()
        data = read_scripts(inputs, jobs=opt.jobs, progress=progress)
    try:
        symbolizer = elf.symbolizer(data) if elf.policy != "never" else None
        prof = build_profile(data, finder, event=opt.event, pids=opt.pids, comms=opt.comms,
                             bin_width=opt.bin_width, symbolizer=symbolizer,
                             elf_policy=elf.policy, proc_maps=proc_maps)
    finally:
        finder.close()
    prof.diagnostics.warnings[:0] = bundles.warnings
    prof.diagnostics.recorded_on = [s for s in (f.summary() for f in data.recordings.values())
                                    if s is not None]
    return prof


@dataclass(frozen=True, slots=True)
class ElfOptions:
    """``report``'s ELF options: ``--symfs``, ``--binary DSO=PATH``, ``--proc-maps``,
    ``--kallsyms``, and the policy (``--elf-symbols auto|always|never``)."""

    symfs: str | None = None
    binaries: Mapping[str, str] = field(default_factory=dict)
    proc_maps: Sequence[str] = ()
    kallsyms: str | None = None  # None: /proc/kallsyms (<symfs>/proc/kallsyms with symfs)
    policy: str = "auto"

    def read_proc_maps(self) -> dict[int | None, list[MemMap]]:
        out: dict[int | None, list[MemMap]] = {}
        for p in self.proc_maps:
            out.setdefault(pid_from_proc_maps_name(p), []).extend(parse_proc_maps(p))
        return out

    def check(self) -> None:
        if self.symfs is not None and not os.path.isdir(self.symfs):
            raise InputError(self.symfs, "--symfs is not a directory")
        for dso, path in self.binaries.items():
            if not os.path.isfile(path):
                raise InputError(path, f"--binary {dso}=: no such file")
        if self.kallsyms is not None:
            if not os.path.isfile(self.kallsyms):
                raise InputError(self.kallsyms, "--kallsyms: no such file (or not a regular file)")
            if read_kallsyms(self.kallsyms) is None:
                raise InputError(self.kallsyms, "--kallsyms: no kernel function symbols in it "
                                 "(not a kallsyms file, or addresses hidden by kptr_restrict)")

    def symbolizer(self, data: ScriptData) -> Symbolizer:
        build_ids = _RecordedBuildIds(
            {m.filename: m.build_id for m in data.mmaps if m.build_id},
            [p for p in data.inputs if _is_perf_data(p)])
        kallsyms = self.kallsyms
        if kallsyms is None:  # like perf: under --symfs, the copy of the recording machine's
            kallsyms = os.path.join(self.symfs or "/", "proc/kallsyms")
        return Symbolizer(symfs=self.symfs, binaries=dict(self.binaries), build_ids=build_ids,
                          kallsyms_path=kallsyms, recordings=list(data.recordings.values()),
                          kallsyms_given=self.kallsyms is not None or self.symfs is not None,
                          files_given=self.symfs is not None or bool(self.binaries))


class _RecordedBuildIds(Mapping[str, str]):
    """dso -> recorded build-id: MMAP2 build-ids, then ``perf buildid-list`` of the
    perf.data inputs, run only when a file is first looked up."""

    def __init__(self, known: dict[str, str], perf_data: list[str]) -> None:
        self._ids = known
        self._pending = perf_data

    def _load(self) -> dict[str, str]:
        if self._pending:
            pending, self._pending = self._pending, []
            for p in pending:
                for dso, bid in perf_build_ids(p).items():
                    self._ids.setdefault(dso, bid)
        return self._ids

    def __getitem__(self, dso: str) -> str:
        return self._load()[dso]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def perf_build_ids(path: str) -> dict[str, str]:
    """dso path -> build-id recorded in a perf.data (``perf buildid-list``); {} if perf
    is missing or fails."""
    import shutil
    import subprocess

    if shutil.which("perf") is None:
        return {}
    try:
        r = subprocess.run(["perf", "buildid-list", "-i", path], capture_output=True,
                           text=True, errors="replace", timeout=120)
    except (OSError, subprocess.SubprocessError):
        return {}
    out: dict[str, str] = {}
    for line in r.stdout.splitlines():
        bid, _, dso = line.strip().partition(" ")
        if dso and all(c in "0123456789abcdef" for c in bid):
            out[dso.strip()] = bid
    return out
