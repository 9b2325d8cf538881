"""Raw samples to a Profile, in steps that return values: select samples, name JIT frames,
name file frames, build the tables, say what went wrong."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

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
from jitprof.resolve.jittime import DumpNaming
from jitprof.symbols.intervals import Entry
from jitprof.symbols.symbolize import (
    FileFrameNames,
    MemMap,
    Symbolizer,
)

if TYPE_CHECKING:
    pass
from jitprof.resolve.elfnames import _name_elf_frames, _users_of
from jitprof.resolve.finder import MapFinder
from jitprof.resolve.jitnames import (
    _JitNaming,
    _name_frames,
    _name_jit_processes,
    _pid_table,
    _split_by_dump_time,
)
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
    _frames_by_pid,
    _np_of,
    _perf_frames,
    _Rows,
    _stack_lengths,
    _stacks_with,
    _Tables,
)

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
    # issue 17: the events off-cpu and wall, if it can (kallsyms tells the scheduler's
    # frames perf left unnamed, where it may name this recording's kernel frames)
    data, off_cpu = add_off_cpu(data, _kernel_namer(data, symbolizer))
    ev_name = choose_event(data, event, where, off_cpu)
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
    if off_cpu is not None and ev_name in SYNTHETIC_EVENTS:
        prof.diagnostics.off_cpu = list(off_cpu.lines)
        prof.diagnostics.warnings.extend(off_cpu.warnings)
    if off_cpu is not None and ev_name == WALL and OFF_CPU in data.events:
        # each function's waiting beside its running: the off-cpu profile of the same data
        # (its functions are the wall profile's: the same frames named the same way)
        off = build_profile(data, finder, event=OFF_CPU, pids=pids, comms=comms,
                            symbolizer=symbolizer, elf_policy=elf_policy, proc_maps=proc_maps)
        for st in off.function_stats():
            key = function_key(off.frames[st.frame_id])
            prof.diagnostics.off_cpu_self[key] = st.self_weight
            prof.diagnostics.off_cpu_total[key] = st.total_weight
    return prof


def _kernel_namer(data: ScriptData, symbolizer: Symbolizer | None
                  ) -> Callable[[int], str | None] | None:
    """kallsyms' lookup when it may name this recording's kernel frames (as step 6)."""
    if symbolizer is None or not data.events.get("sched:sched_switch"):
        return None
    recorded = {m.start for m in data.mmaps if m.filename.startswith("[kernel.kallsyms]")}
    if not symbolizer.kernel_verdict(recorded).trusted:
        return None
    return symbolizer.kernel


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
    warnings.extend(data.notes)
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


def _pct(a: int, b: int) -> float | None:
    return round(100.0 * a / b, 2) if b else None

