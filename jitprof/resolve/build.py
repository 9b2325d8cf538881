"""Raw samples to a Profile, in steps that return values: select samples, name JIT frames,
name file frames, build the tables, say what went wrong."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jitprof.errors import EmptyInputError
from jitprof.inputs.procfs import process_start_time
from jitprof.model import (
    ElfFileHealth,
    Kind,
    Profile,
    ProfileBuilder,
    ProfileDiagnostics,
)
from jitprof.model.names import (
    JAVA_MAP_HINT,
    KERNEL_MIN_ADDR,
    USER_MAX_ADDR,
    USER_MIN_ADDR,
    is_jit_dso,
    is_jvm_dso,
    is_surely_jit_dso,
    jit_map_pid,
)
from jitprof.parse import RawFrame, RawFrames, ScriptData
from jitprof.resolve.elfnames import ElfNames, ElfWanted, _name_elf_frames, _users_of
from jitprof.resolve.finder import MapFinder
from jitprof.resolve.jitnames import (
    _DumpSplit,
    _JitNaming,
    _name_frames,
    _name_jit_processes,
    _pid_table,
    _split_by_dump_time,
)
from jitprof.resolve.jittime import DumpNaming
from jitprof.resolve.offcpu import (
    OFF_CPU,
    SYNTHETIC_EVENTS,
    WALL,
    OffCpu,
    add_off_cpu,
    function_key,
)
from jitprof.resolve.tables import (
    JIT_DSO,
    _build_tables,
    _Counts,
    _drop_inlined,
    _FrameFacts,
    _frames_by_pid,
    _np_of,
    _perf_frames,
    _Rows,
    _Samples,
    _stack_lengths,
    _Stacks,
    _stacks_with,
    _Tables,
)
from jitprof.symbols.intervals import Entry
from jitprof.symbols.symbolize import MemMap, Symbolizer

MAX_BINS = 256  # time bins kept per profile: a long recording gets wider ones


def choose_event(data: ScriptData, event: str | None, path: str,
                 off_cpu: OffCpu | None = None) -> str:
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
    why = ""
    if event in SYNTHETIC_EVENTS:  # issue 17: made from context switches
        why = (f"; {off_cpu.why_no_wall}" if off_cpu is not None and off_cpu.why_no_wall
               else "; off-cpu and wall are made from sched:sched_switch samples: record "
               "with jitprof record --off-cpu (perf record -g -e cpu-clock -e "
               "sched:sched_switch --switch-events)")
    raise EmptyInputError(path, f"no samples of event {event!r} (events: {known}){why}")


@dataclass(frozen=True, slots=True)
class FileNaming:
    """How file and kernel frames are named: the ``symbolizer`` (ELF symbols, kallsyms),
    the ``policy`` ("auto": the frames perf left unnamed; "always": every one; "never":
    keep perf's names) and copies of /proc/<pid>/maps (pid None: any process)."""

    symbolizer: Symbolizer
    policy: str = "auto"
    proc_maps: Mapping[int | None, Sequence[MemMap]] = field(default_factory=dict)


def build_profile(
    data: ScriptData,
    finder: MapFinder,
    event: str | None = None,
    pids: Sequence[int] = (),
    comms: Sequence[str] = (),
    bin_width: float | None = None,
    files: FileNaming | None = None,
) -> Profile:
    """Resolve and aggregate the samples of one event into a Profile; per time bin when
    ``bin_width`` is given and every sample has a time. With ``files`` (a symbolizer),
    file frames are named from ELF symbols (policy "auto": those perf left unnamed;
    "always": every one) and kernel frames perf left unnamed from kallsyms.

    In bulk (numpy): every distinct (process, address) is named once; stacks become the
    profile's stack table level by level; samples are summed per (stack, thread, bin).
    ``data`` is not changed."""
    where = ", ".join(data.inputs) or "input"
    symbolizer = files.symbolizer if files is not None else None
    # issue 17: the events off-cpu and wall, if it can (kallsyms tells the scheduler's
    # frames perf left unnamed, where it may name this recording's kernel frames)
    data, off_cpu = add_off_cpu(data, _kernel_namer(data, symbolizer))
    ev_name = choose_event(data, event, where, off_cpu)
    ev = data.events[ev_name]
    sel = _select(data, ev, pids, comms, bin_width, where)  # steps 1-3
    b = ProfileBuilder(ev_name)
    jit = _name_jit(b, data, ev, finder, sel)  # steps 4-5
    # 6. profile frames for every raw frame used: perf's names, then JIT and ELF names
    tables, elf = _frame_tables(b, data, jit, files, finder.perf_jit_names)
    # 7. stacks of profile frames -> the stack table; samples -> groups
    no_stack = b.frame("[no stack]", Kind.UNKNOWN, "[unknown]") if (
        _stack_lengths(jit.stacks.ends)[jit.samples.rows.stack] == 0).any() else -1
    counts = _build_tables(b, jit.samples, jit.stacks, tables, jit.facts, no_stack,
                           data.threads)
    prof = b.profile
    prof.bin_width = sel.bins.width if sel.bins.binned else None
    prof.time_first, prof.time_last = ev.time_first, ev.time_last
    prof.inputs = list(data.inputs)
    found = _Findings(jit.naming, counts, sel.lost, jit.notes, sel.inlined_frames,
                      sel.threads.unknown, elf)
    warnings = [*_no_map_warning(data.frames, jit), *_warnings(data, found, symbolizer)]
    prof.diagnostics = _diagnostics(data, ev, found, symbolizer, warnings)
    if off_cpu is not None and ev_name in SYNTHETIC_EVENTS:
        prof.diagnostics.off_cpu = list(off_cpu.lines)
        prof.diagnostics.warnings.extend(off_cpu.warnings)
    if off_cpu is not None and ev_name == WALL and OFF_CPU in data.events:
        # each function's waiting beside its running: the off-cpu profile of the same data
        # (its functions are the wall profile's: the same frames named the same way)
        off = build_profile(data, finder, event=OFF_CPU, pids=pids, comms=comms, files=files)
        for st in off.function_stats():
            key = function_key(off.frames[st.frame_id])
            prof.diagnostics.off_cpu_self[key] = st.self_weight
            prof.diagnostics.off_cpu_total[key] = st.total_weight
    return prof


@dataclass(frozen=True, slots=True)
class _Threads:
    """The reader's threads (index -> (tid, comm)) and their processes: tid -> pid (the
    events', then perf-map dsos'), per thread index its pid (its tid where none) and
    whether the --pid/--comm filters keep it; the tids of sampled threads of no process."""

    tid_pid: dict[int, int]
    pid: Any
    keep: Any
    unknown: list[int]


@dataclass(frozen=True, slots=True)
class _Bins:
    """Each sample's time bin (-1: none), the bin of a time, and the bins' width (s)."""

    of_sample: Any
    bin_of: Callable[[float], int] | None
    width: float | None
    binned: bool


@dataclass(frozen=True, slots=True)
class _Lost:
    """Threads with JIT frames and no known process, and their samples."""

    tids: set[int]
    samples: int


@dataclass(frozen=True, slots=True)
class _Selection:
    """Steps 1-3: the raw frames' facts, the stack table without "(inlined)" lines, the
    samples the filters keep (rows, processes, times), and what choosing them found."""

    facts: _FrameFacts
    stacks: _Stacks
    samples: _Samples
    times: Any
    threads: _Threads
    bins: _Bins
    inlined_frames: int
    lost: _Lost


def _select(data: ScriptData, ev: Any, pids: Sequence[int], comms: Sequence[str],
            bin_width: float | None, where: str) -> _Selection:
    import numpy as np

    facts = _frame_facts(data.frames)
    stacks0 = _Stacks(_np_of(data.stacks.frames, np.int32), _np_of(data.stacks.ends, np.int64))
    # 1. threads -> processes; 2. time bins (every sample needs a time)
    threads = _threads_of(data, ev, stacks0, pids, comms)
    bins = _time_bins(ev, bin_width)
    rows, times = _selected_rows(ev, threads, bins, where)
    # 3. the stack table without "(inlined)" lines
    inlined_dso = np.array([d == "inlined" for d in data.frames.dsos], dtype=bool)
    dso_of = _np_of(data.frames.dso, np.int32)
    inlined = inlined_dso[dso_of] if len(dso_of) else np.zeros(0, dtype=bool)
    flat, ends, removed = _drop_inlined(stacks0.flat, stacks0.ends, inlined, facts.addr)
    stacks = _Stacks(flat, ends)
    samples = _Samples(rows, threads.pid[rows.thread])
    return _Selection(facts, stacks, samples, times, threads, bins,
                      int((removed[rows.stack] * rows.n).sum()),
                      _lost_threads(data, stacks, samples, facts, threads))


def _frame_facts(frames: RawFrames) -> _FrameFacts:
    import numpy as np

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
    return _FrameFacts(addr, raw_jit, surely_jit, addr >= np.uint64(KERNEL_MIN_ADDR))


def _threads_of(data: ScriptData, ev: Any, stacks: _Stacks, pids: Sequence[int],
                comms: Sequence[str]) -> _Threads:
    """Threads -> processes (the data is not changed); the pid in a perf-map dso counts
    too, for threads no event tied to a process."""
    import numpy as np

    s_thread = _np_of(ev.s_thread, np.int32)
    tid_pid = {**data.tid_pid, **_pids_from_map_names(
        data, _np_of(ev.s_stack, np.int32), s_thread, stacks)}
    th_tid = [tid for tid, _c in data.threads]
    seen = np.flatnonzero(np.bincount(s_thread, minlength=len(th_tid))).tolist() if (
        len(s_thread)) else []
    unknown = sorted({th_tid[i] for i in seen if th_tid[i] not in tid_pid})
    th_pid = np.array([tid_pid.get(t, t) for t in th_tid] or [0], dtype=np.int64)
    pidset, commset = set(pids), set(comms)
    keep = np.array([(not pidset or tid_pid.get(t, t) in pidset or t in pidset)
                     and (not commset or c in commset) for t, c in data.threads] or [False])
    return _Threads(tid_pid, th_pid, keep, unknown)


def _time_bins(ev: Any, bin_width: float | None) -> _Bins:
    """Each sample's time bin when ``bin_width`` is given and every sample has a time: at
    most MAX_BINS of them (a long recording gets wider ones)."""
    import numpy as np

    s_time = _np_of(ev.s_time, np.float64)
    none = np.full(len(ev.s_stack), -1, dtype=np.int64)
    if bin_width is None or ev.samples <= 0 or np.isnan(s_time).any():
        return _Bins(none, None, bin_width, False)
    raw_bins = np.floor(s_time / bin_width).astype(np.int64)
    k = max(1, -(-(int(raw_bins.max()) - int(raw_bins.min()) + 1) // MAX_BINS))
    read_width = bin_width

    def bin_of(t: float) -> int:  # the bin of a time, as above
        return int(t / read_width) // k

    return _Bins(raw_bins // k, bin_of, bin_width * k, True)


def _selected_rows(ev: Any, threads: _Threads, bins: _Bins, where: str) -> tuple[_Rows, Any]:
    """The samples of the threads the filters keep, as rows, and their times."""
    import numpy as np

    s_stack = _np_of(ev.s_stack, np.int32)
    s_thread = _np_of(ev.s_thread, np.int32)
    s_weight = _np_of(ev.s_weight, np.int64)
    s_time = _np_of(ev.s_time, np.float64)
    sel = None if bool(threads.keep.all()) else np.flatnonzero(threads.keep[s_thread])
    if not len(s_stack) or (sel is not None and not sel.size):
        raise EmptyInputError(where, "no samples match the --pid/--comm filters")
    ones = np.ones(len(s_stack) if sel is None else len(sel), dtype=np.int64)
    s_bin = bins.of_sample
    if sel is None:  # no filter: the reader's columns as they are
        return _Rows(s_stack, s_thread, ones, s_weight, s_bin), s_time
    return _Rows(s_stack[sel], s_thread[sel], ones, s_weight[sel], s_bin[sel]), s_time[sel]


def _lost_threads(data: ScriptData, stacks: _Stacks, samples: _Samples, facts: _FrameFacts,
                  threads: _Threads) -> _Lost:
    """Threads with JIT frames and no known process."""
    unknown_tids = {i for i, (t, _c) in enumerate(data.threads) if t not in threads.tid_pid}
    tids: set[int] = set()
    n = 0
    if unknown_tids:
        rows = samples.rows
        stack_has_jit = _stacks_with(stacks.flat, stacks.ends, facts.surely_jit)
        for i in unknown_tids:
            m = (rows.thread == i) & stack_has_jit[rows.stack]
            if m.any():
                tids.add(data.threads[i][0])
                n += int(rows.n[m].sum())
    return _Lost(tids, n)


@dataclass(frozen=True, slots=True)
class _JitStage:
    """Steps 4-5: the samples, stack table and frame facts after any jitdump split, which
    raw frames each process uses (and of them JIT frames), how each process's JIT frames
    are named, and the split itself."""

    samples: _Samples
    stacks: _Stacks
    facts: _FrameFacts
    used_by_pid: dict[int, Any]
    jit_used: dict[int, Any]
    naming: _JitNaming
    split: _DumpSplit | None
    frame_of: Callable[[str, object], int]
    jit_unknown: int

    @property
    def extra(self) -> list[RawFrame]:
        return self.split.extra if self.split is not None else []

    @property
    def overrides(self) -> dict[int, Entry]:
        return self.split.overrides if self.split is not None else {}

    @property
    def notes(self) -> list[DumpNaming]:
        return self.split.notes if self.split is not None else []


def _name_jit(b: ProfileBuilder, data: ScriptData, ev: Any, finder: MapFinder,
              sel: _Selection) -> _JitStage:
    """4. which raw frames each process uses; its JIT frames named from its map or dump;
    5. naming by sample time, where a jitdump says the code at an address changed."""
    jit_unknown = b.frame("[unknown]", Kind.UNKNOWN, JIT_DSO)
    frame_of = _name_frames(b)
    samples, stacks, facts = sel.samples, sel.stacks, sel.facts
    used_by_pid = _frames_by_pid(stacks.flat, stacks.ends, samples.rows.stack, samples.pid,
                                 len(facts))
    jit_used = {pid: fids[facts.jit[fids]] for pid, fids in used_by_pid.items()}
    input_dirs = [os.path.dirname(os.path.abspath(p)) for p in data.inputs if p != "-"]
    naming = _name_jit_processes(finder, jit_used, facts.addr, input_dirs, ev.time_first,
                                 frame_of, jit_unknown)
    if not naming.dumps:
        return _JitStage(samples, stacks, facts, used_by_pid, jit_used, naming, None,
                         frame_of, jit_unknown)
    split = _split_by_dump_time(data, samples, sel.times, stacks, facts, naming.dumps,
                                finder.sample_clock, sel.bins.bin_of)
    return _JitStage(_Samples(split.rows, sel.threads.pid[split.rows.thread]), split.stacks,
                     facts.extended(split.extra), _with_frames(used_by_pid, split.new_frames),
                     _with_frames(jit_used, split.new_frames), naming, split, frame_of,
                     jit_unknown)


def _with_frames(by_pid: dict[int, Any], new: dict[int, list[int]]) -> dict[int, Any]:
    """pid -> raw frame ids, with each process's new frames appended (a copy)."""
    import numpy as np

    return {pid: np.concatenate((fids, np.array(new[pid], dtype=np.int64))) if pid in new
            else fids for pid, fids in by_pid.items()}


def _frame_tables(b: ProfileBuilder, data: ScriptData, jit: _JitStage,
                  files: FileNaming | None, perf_jit_names: bool
                  ) -> tuple[_Tables, ElfNames | None]:
    """Raw frame id -> profile frame, for leaves and callers, with per-process overrides:
    perf's names, then ELF and kallsyms names (with ``files``), then JIT names."""
    import numpy as np

    used_by_pid = jit.used_by_pid
    used = np.unique(np.concatenate(list(used_by_pid.values()))) if used_by_pid else (
        np.zeros(0, dtype=np.int64))
    common = _perf_frames(b, data.frames, jit.extra, used, jit.facts, jit.jit_unknown,
                          perf_jit_names)
    leaf = call = common
    elf: ElfNames | None = None
    if files is not None and files.policy != "never":
        rows = jit.samples.rows
        one_frame = bool(len(rows.stack)) and bool(
            (_stack_lengths(jit.stacks.ends)[rows.stack] <= 1).all())
        want = ElfWanted(_users_of(used_by_pid, jit.facts, data.frames, files.policy), used,
                         one_frame, files.proc_maps)
        elf = _name_elf_frames(b, files.symbolizer, data, jit.facts, want, common)
        if elf.files.leaf or elf.kernel_frames:  # else nothing named here: the fast path
            leaf, call = elf.leaf, elf.call
    perf_named = _perf_named(data.frames, jit.extra) & perf_jit_names
    # processes with JIT code: a map or jitdump named some, or perf saw it mapped (a
    # process whose only "JIT" frames are [unknown] ([unknown]) garbage has none)
    naming = jit.naming
    jit_pids = {pid for pid, fids in jit.jit_used.items() if len(fids) and (
        pid in naming.mapped or pid in naming.dumped or jit.facts.surely_jit[fids].any())}
    elf_by_pid = elf.by_pid if elf is not None else {}
    by_pid = {pid: _pid_table(pid, jit.jit_used.get(pid, np.zeros(0, dtype=np.int64)),
                              naming, jit.overrides, elf_by_pid.get(pid, {}), jit.frame_of,
                              jit.jit_unknown, perf_named)
              for pid in jit_pids | set(elf_by_pid)}
    return _Tables(leaf, call, by_pid), elf


def _perf_named(frames: RawFrames, extra: list[RawFrame]) -> Any:
    """Per raw frame: whether perf printed a name for it."""
    import numpy as np

    sym_named_ids = np.array([s not in ("", "[unknown]") for s in frames.syms], dtype=bool)
    esym = np.array([frames._sym_ids[f.sym] for f in extra], dtype=np.int32)
    if not len(frames) + len(extra):
        return np.zeros(0, dtype=bool)
    return sym_named_ids[np.concatenate((_np_of(frames.sym, np.int32), esym))]


@dataclass(frozen=True, slots=True)
class _Findings:
    """What the steps found, for the diagnostics."""

    naming: _JitNaming
    counts: _Counts
    lost: _Lost
    dump_notes: list[DumpNaming]
    inlined_frames: int
    unknown_threads: list[int]
    elf: ElfNames | None


def _diagnostics(data: ScriptData, ev: Any, found: _Findings, symbolizer: Symbolizer | None,
                 warnings: list[str]) -> ProfileDiagnostics:
    counts, naming, elf = found.counts, found.naming, found.elf
    note = elf.files if elf is not None else None
    return ProfileDiagnostics(
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
        unknown_thread_tids=found.unknown_threads,
        unparsed_lines=data.unparsed,
        perf_warnings=data.warnings,
        srclines=data.srclines,
        truncated_samples=data.truncated,
        empty_stacks=data.empty_stacks,
        inlined_frames=found.inlined_frames,
        messages=[str(d) for d in data.diagnostics],
        jitdumps=[dn.note() for dn in found.dump_notes],
        warnings=warnings,
        address_forms=[note.form] if note is not None and note.frames else [],
        elf_frames=note.frames if note is not None else 0,
        elf_frames_named=note.named if note is not None else 0,
        elf_files=_elf_files(symbolizer),
        kernel_frames=elf.kernel_frames if elf is not None else 0,
        kernel_frames_named=elf.kernel_named if elf is not None else 0,
    )


def _elf_files(symbolizer: Symbolizer | None) -> list[ElfFileHealth]:
    if symbolizer is None:
        return []
    return [
        ElfFileHealth(df.dso, df.path, df.symbols_path,
                      df.symbols.source if df.symbols is not None else "",
                      len(df.symbols) if df.symbols is not None else 0,
                      df.info.build_id if df.info is not None else None,
                      df.recorded_build_id, df.build_id_mismatch, df.problem)
        for df in symbolizer.files.values()
    ]


def _kernel_namer(data: ScriptData, symbolizer: Symbolizer | None
                  ) -> Callable[[int], str | None] | None:
    """kallsyms' lookup when it may name this recording's kernel frames (as step 6)."""
    if symbolizer is None or not data.events.get("sched:sched_switch"):
        return None
    recorded = {m.start for m in data.mmaps if m.filename.startswith("[kernel.kallsyms]")}
    if not symbolizer.kernel_verdict(recorded).trusted:
        return None
    return symbolizer.kernel


def _pids_from_map_names(data: ScriptData, s_stack: Any, s_thread: Any, stacks: _Stacks
                         ) -> dict[int, int]:
    """For threads no event tied to a process: the pid of the first perf-map dso
    (``/tmp/perf-123.map``) in their stacks, in the order samples came (tid -> pid)."""
    import numpy as np

    found: dict[int, int] = {}
    unknown = [i for i, (tid, _c) in enumerate(data.threads) if tid not in data.tid_pid]
    if not unknown or not len(s_stack):
        return found
    dso_pid = [jit_map_pid(d) for d in data.frames.dsos]
    if not any(p is not None for p in dso_pid):
        return found
    fdso = data.frames.dso
    flat, ends = stacks.flat, stacks.ends
    for i in unknown:
        tid = data.threads[i][0]
        if tid in found:
            continue
        ids = s_stack[s_thread == i]
        _u, first = np.unique(ids, return_index=True)
        for sid in ids[np.sort(first)].tolist():
            start = int(ends[sid - 1]) if sid else 0
            for f in flat[start:int(ends[sid])].tolist():
                p = dso_pid[fdso[f]]
                if p is not None:
                    found[tid] = p
                    break
            if tid in found:
                break
    return found


def _no_map_warning(frames: RawFrames, jit: _JitStage) -> list[str]:
    """Processes with surely-JIT frames and no perf map (a JVM's: how to make one)."""
    # Only memory perf saw mapped anonymous and executable is surely JIT code; a lone
    # "[unknown] ([unknown])" frame is as often the garbage an unwinder read.
    no_map = [p for p in jit.naming.missing if jit.facts.surely_jit[jit.jit_used[p]].any()]
    if not no_map:
        return []
    jvm_dsos = {i for i, d in enumerate(frames.dsos) if is_jvm_dso(d)}
    nraw = len(frames)
    jvms = [p for p in no_map if any(frames.dso[f] in jvm_dsos
                                     for f in jit.used_by_pid[p].tolist() if f < nraw)]
    return [
        "no perf map for pid "
        + ", ".join(str(p) for p in no_map)
        + " (looked in --map, --map-dir, beside the input and /tmp): JIT frames keep"
        " perf's names or stay [unknown]"
        + (f"; a JVM (pid {', '.join(map(str, jvms))}) writes one with {JAVA_MAP_HINT}"
           if jvms else "")
    ]


def _warnings(data: ScriptData, found: _Findings, symbolizer: Symbolizer | None
              ) -> list[str]:
    warnings: list[str] = []
    naming, counts = found.naming, found.counts
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
    if found.lost.tids:
        warnings.append(
            f"{len(found.lost.tids)} thread(s) with JIT frames ({found.lost.samples}"
            " samples) could not be mapped to a process (no pid/tid field, mmap, comm or fork"
            " event): their map was looked up as perf-<tid>.map"
        )
    if data.truncated:
        warnings.append(f"{data.truncated} truncated sample(s) dropped")
    warnings.extend(data.notes)
    for path in naming.stale_dumps:
        warnings.append(f"{path} was closed (its JIT exited) before the first sample: left by "
                        "an older process with the same pid? Not used")
    for dn in found.dump_notes:
        dw = dn.warning()
        if dw is not None:
            warnings.append(dw)
    if symbolizer is not None:
        warnings.extend(symbolizer.warnings)
    return warnings


def _pct(a: int, b: int) -> float | None:
    return round(100.0 * a / b, 2) if b else None
