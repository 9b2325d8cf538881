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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
)
from jitprof.names import (
    JAVA_MAP_HINT,
    KERNEL_MIN_ADDR,
    is_jit_memory,
    is_jitted_dso,
    is_jvm_dso,
    is_surely_jit_dso,
    jit_map_pid,
    map_name_full,
    perf_name_kind,
    runtime_kind,
)
from jitprof.perfmap import PerfMap, load_perf_map, pid_from_map_name
from jitprof.script import RawFrame, ScriptData, _is_perf_data, can_fork, collapse_inlined
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
    ``bin_width`` is given and the data was read with it (every sample has a time). With a
    ``symbolizer``, file frames are named from ELF symbols (``elf_policy`` "auto": those
    perf left unnamed; "always": every one) and kernel frames perf left unnamed from
    kallsyms."""
    where = ", ".join(data.inputs) or "input"
    ev_name = choose_event(data, event, where)
    ev = data.events[ev_name]
    binned = bin_width is not None and sum(v[0] for v in ev.bins.values()) == ev.samples
    bins = ev.bins
    read_width = bin_width  # the reader's bins (before _coarser_bins merges them)
    if binned and bin_width is not None and bins:
        bin_width, bins = _coarser_bins(bins, bin_width)
    counted: Iterable[tuple[tuple[int, str, tuple[int, ...]], list[int], int]] = (
        ((k[:3], v, k[3]) for k, v in bins.items()) if binned
        else ((k, v, -1) for k, v in ev.stacks.items()))
    frames = data.frames
    tid_pid = data.tid_pid
    # JIT memory at a user address (names.is_jit_memory: not the garbage an FP unwinder
    # reads past the last real frame, tiny or non-canonical)
    raw_jit = [is_jit_memory(f.dso, f.addr) for f in frames]
    # ... of which memory perf saw mapped anonymous and executable: surely JIT code (the
    # JIT figures and warnings count these, and frames of processes with a map)
    surely_jit = [j and is_surely_jit_dso(f.dso) for j, f in zip(raw_jit, frames, strict=True)]

    # 1. threads -> processes; the pid in a perf-map dso counts too
    for (tid, _comm, stack) in ev.stacks:
        if tid not in tid_pid:
            for fid in stack:
                p = jit_map_pid(frames[fid].dso)
                if p is not None:
                    tid_pid[tid] = p
                    break
    unknown_threads: set[int] = set()
    jit_unknown_threads: set[int] = set()  # unknown threads that need a map
    unknown_thread_samples = 0

    def pid_of(tid: int) -> int:
        p = tid_pid.get(tid)
        if p is None:
            unknown_threads.add(tid)
            return tid
        return p

    # perf --inline prints inlined calls as extra "addr fn (inlined)" lines at the address
    # of the frame that holds them; perf report attributes that time to the real symbol,
    # so jitprof leaves these lines out (and counts them) to give the same numbers; an
    # address printed only as inlined lines keeps its outermost one (collapse_inlined).
    inlined = {i for i, f in enumerate(frames) if f.dso == "inlined"}
    inlined_frames = 0
    selected: list[tuple[int, int, str, tuple[int, ...], int, int, int]] = []
    pidset = set(pids)
    for (tid, comm, stack), (n, w), tbin in counted:
        if inlined and not inlined.isdisjoint(stack):
            kept = collapse_inlined(stack, frames, inlined)
            inlined_frames += n * (len(stack) - len(kept))
            stack = kept
        pid = pid_of(tid)
        if pidset and pid not in pidset and tid not in pidset:
            continue
        if comms and comm not in comms:
            continue
        if tid not in tid_pid and any(surely_jit[f] for f in stack):
            jit_unknown_threads.add(tid)
            unknown_thread_samples += n
        selected.append((pid, tid, comm, stack, n, w, tbin))
    if not selected:
        raise EmptyInputError(where, "no samples match the --pid/--comm filters")

    # 2. addresses each process needs from its map (leaf: addr, callers: addr - 1)
    # (both forms for every JIT frame: which one applies depends on its place in a stack)
    used_by_pid: dict[int, set[int]] = {}  # raw frame ids each process's stacks use
    for pid, _tid, _comm, stack, _n, _w, _b in selected:
        ids = used_by_pid.get(pid)
        if ids is None:
            ids = used_by_pid[pid] = set()
        ids.update(stack)
    jit_used = {pid: [fid for fid in ids if raw_jit[fid]] for pid, ids in used_by_pid.items()}
    wanted: dict[int, set[int]] = {}
    for pid, fids in jit_used.items():
        if fids:
            addrs = [frames[fid].addr for fid in fids]
            wanted[pid] = {*addrs, *(a - 1 for a in addrs)}
    input_dirs = [os.path.dirname(os.path.abspath(p)) for p in data.inputs if p != "-"]
    resolved: dict[int, dict[int, Entry]] = {}
    map_info: list[MapHealth] = []
    missing_pids: list[int] = []
    dumps: dict[int, DumpPlan] = {}
    stale_dumps: list[str] = []
    for pid in sorted(wanted):
        jd = finder.find_jitdump(pid, input_dirs)
        if jd is not None and stale_dump(jd, ev.time_first):
            stale_dumps.append(jd.path)
            jd = None
        if jd is not None:  # a jitdump names this process's JIT code, not its map
            dp = dumps[pid] = plan_dump(jd, jd.timeline(), wanted[pid])
            resolved[pid] = dict(dp.static)
            # code the dump lacks (its writer's buffer not yet flushed: a killed or live
            # JIT) is named from the perf map, if the process has one
            gaps = wanted[pid] - dp.static.keys()
            maps = finder.find(pid, input_dirs) if gaps else []
            if maps:
                filled = _MergedMaps(maps).lookup_all(gaps)
                resolved[pid].update(filled)
                dp.from_map = sum(1 for fid in jit_used[pid]
                                  if frames[fid].addr in filled or frames[fid].addr - 1 in filled)
                dp.map_paths = [pm.path for pm in maps]
                for pm in maps:
                    map_info.append(_map_health(pm, pid))
            continue
        maps = finder.find(pid, input_dirs)
        if not maps:
            missing_pids.append(pid)
            continue
        resolved[pid] = _MergedMaps(maps).lookup_all(wanted[pid])
        for pm in maps:
            map_info.append(_map_health(pm, pid))

    overrides: dict[int, Entry] = {}
    dump_notes: list[DumpNaming] = []
    if dumps:
        # naming by time re-cuts stacks sample by sample; each piece keeps its time bin
        bin_of = None
        if binned and read_width is not None and bin_width is not None:
            k, w0 = max(1, round(bin_width / read_width)), read_width

            def bin_of(t: float) -> int:  # the reader's bin, then _coarser_bins' merge
                return int(t / w0) // k

        split = split_by_time(selected, dumps, ev, frames, raw_jit, inlined, KERNEL_MIN_ADDR,
                              finder.sample_clock, bin_of)
        selected = split.selected
        overrides, dump_notes = split.overrides, split.namings
        surely_jit += [raw_jit[i] and is_surely_jit_dso(frames[i].dso)
                       for i in range(len(surely_jit), len(frames))]  # frames split added
        for pid, new in split.new_frames.items():
            used_by_pid[pid].update(new)
            jit_used[pid].extend(new)

    # 3. frames
    b = ProfileBuilder(ev_name)
    jit_unknown = b.frame("[unknown]", Kind.UNKNOWN, JIT_DSO)
    perf_cache: dict[int, int] = {}

    def perf_frame(fid: int) -> int:
        out = perf_cache.get(fid)
        if out is None:
            f: RawFrame = frames[fid]
            kind = perf_name_kind(f.sym, f.dso, f.addr)
            name = f.sym if f.sym and f.sym != "[unknown]" else "[unknown]"
            if raw_jit[fid]:  # JIT memory that perf named from its own reading of the map
                if name == "[unknown]" and not surely_jit[fid]:  # no map, maybe garbage
                    out = perf_cache[fid] = b.frame("[unknown]", Kind.UNKNOWN, "[unknown]")
                    return out
                if name == "[unknown]" or not finder.perf_jit_names:
                    out = perf_cache[fid] = jit_unknown
                    return out
                name, kind, full = map_name_full(name)
                out = perf_cache[fid] = b.frame(name, kind, JIT_DSO, "")
                if full is not None:
                    b.full_name(out, full)
                return out
            full = None
            if is_jitted_dso(f.dso) and name != "[unknown]":  # perf inject --jit code
                name, kind, full = map_name_full(name)
            key_dso = "" if kind in (Kind.PHP, Kind.HPHP, Kind.HHVM, Kind.JIT, Kind.JAVA,
                                     Kind.JVM) else None
            out = perf_cache[fid] = b.frame(name, kind, f.dso or "[unknown]", key_dso)
            if full is not None:
                b.full_name(out, full)
        return out

    entry_cache: dict[Entry, int] = {}

    def entry_frame(e: Entry) -> int:
        out = entry_cache.get(e)
        if out is None:
            name, kind, full = map_name_full(e.name)
            out = entry_cache[e] = b.frame(name, kind, JIT_DSO, "")
            if full is not None:
                b.full_name(out, full)
            b.version(out, e)
        return out

    # Per process, two translation tables raw frame id -> profile frame id: one for leaves
    # (address as is) and one for callers (return address - 1). Frames outside JIT memory
    # translate the same in every process, so processes without JIT frames share one.
    nraw = len(frames)
    named_perf = [f.sym not in ("", "[unknown]") for f in frames]
    # processes with JIT code: a map or jitdump named some, or perf saw it mapped (a
    # process whose only "JIT" frames are [unknown] ([unknown]) garbage has none)
    jit_pids = {pid for pid, fids in jit_used.items()
                if fids and (pid in resolved or any(surely_jit[f] for f in fids))}
    used: set[int] = set().union(*used_by_pid.values())
    common = [-1] * nraw
    for fid in used:
        common[fid] = perf_frame(fid)
    # file and kernel frames named here (leaf: the address; callers: the address - 1)
    common_leaf = common_call = common
    elf_pid_override: dict[int, dict[int, tuple[int, int]]] = {}
    elf_note: FileFrameNames | None = None
    kernel_frames = kernel_named = 0
    if symbolizer is not None and elf_policy != "never":
        common_leaf = common.copy()
        common_call = common.copy()
        elf_note, kernel_frames, kernel_named = _name_elf_frames(
            b, symbolizer, elf_policy, data, selected, used, raw_jit, proc_maps or {},
            common_leaf, common_call, elf_pid_override)
        if not elf_note.leaf and not kernel_frames:  # nothing named here: the fast path
            common_leaf = common_call = common
    split_tables = common_leaf is not common_call
    # named flags for the diagnostics: 1 where a JIT frame got a name
    tables: dict[int, tuple[list[int], list[int], list[int], list[int]]] = {}
    for pid in jit_pids | set(elf_pid_override):
        leaf_t = common_leaf.copy()
        call_t = common_call.copy()
        for fid, (lf, cf) in elf_pid_override.get(pid, {}).items():
            leaf_t[fid] = lf
            call_t[fid] = cf
        leaf_named = [0] * nraw
        call_named = [0] * nraw
        table = resolved.get(pid)
        for fid in jit_used.get(pid, ()):
            if table is None:  # no map for this process: keep perf's name
                leaf_named[fid] = call_named[fid] = int(named_perf[fid]
                                                        and finder.perf_jit_names)
                continue
            o = overrides.get(fid)
            if o is not None:  # named by the sample's time (jitdump), in its place
                leaf_t[fid] = call_t[fid] = entry_frame(o)
                leaf_named[fid] = call_named[fid] = 1
                continue
            addr = frames[fid].addr
            e = table.get(addr)
            leaf_t[fid] = jit_unknown if e is None else entry_frame(e)
            leaf_named[fid] = int(e is not None)
            e = table.get(addr - 1)
            call_t[fid] = jit_unknown if e is None else entry_frame(e)
            call_named[fid] = int(e is not None)
        tables[pid] = (leaf_t, call_t, leaf_named, call_named)

    jit_samples = jit_samples_named = 0
    jit_frames = jit_frames_named = 0
    thread_ids: dict[tuple[int, str], int] = {}
    times = (ev.time_first, ev.time_last)
    no_stack = -1
    is_jit = [int(x) for x in raw_jit]
    is_kernel = [f.addr >= KERNEL_MIN_ADDR for f in frames]
    for pid, _tid, comm, stack, n, w, tbin in selected:
        if not stack:
            if no_stack < 0:
                no_stack = b.frame("[no stack]", Kind.UNKNOWN, "[unknown]")
            out: tuple[int, ...] = (no_stack,)
        elif pid in tables:
            leaf_t, call_t, leaf_named, call_named = tables[pid]
            head = stack[0]
            rest = stack[1:]
            out = (leaf_t[head], *map(call_t.__getitem__, rest))
            jit_frames += n * sum(map(is_jit.__getitem__, stack))
            named_leaf = leaf_named[head]
            jit_frames_named += n * (named_leaf + sum(map(call_named.__getitem__, rest)))
            if is_jit[head]:
                jit_samples += n
                jit_samples_named += n * named_leaf
            if is_kernel[head]:
                # the first user frame under kernel frames is where user code was
                # interrupted (an exact ip), not a return address: look it up as a leaf
                for i in range(1, len(stack)):
                    if not is_kernel[stack[i]]:
                        fid = stack[i]
                        if leaf_t[fid] != call_t[fid]:
                            out = (*out[:i], leaf_t[fid], *out[i + 1 :])
                        if is_jit[fid]:
                            jit_frames_named += n * (leaf_named[fid] - call_named[fid])
                        break
        elif split_tables:
            head = stack[0]
            out = (common_leaf[head], *map(common_call.__getitem__, stack[1:]))
            if is_kernel[head]:
                for i in range(1, len(stack)):
                    fid = stack[i]
                    if not is_kernel[fid]:
                        if common_leaf[fid] != common_call[fid]:
                            out = (*out[:i], common_leaf[fid], *out[i + 1 :])
                        break
        else:
            out = tuple(map(common.__getitem__, stack))
        tkey = (pid, comm)
        t = thread_ids.get(tkey)
        if t is None:
            t = thread_ids[tkey] = b.thread(pid, comm)
        b.add(out, t, w, n, tbin if binned else None)
    prof = b.finish()
    prof.bin_width = bin_width if binned else None
    prof.time_first, prof.time_last = times
    prof.inputs = list(data.inputs)

    warnings: list[str] = []
    # Only memory perf saw mapped anonymous and executable is surely JIT code; a lone
    # "[unknown] ([unknown])" frame is as often the garbage an unwinder read.
    no_map = [p for p in missing_pids if any(surely_jit[fid] for fid in jit_used[p])]
    if no_map:
        jvms = [p for p in no_map if any(is_jvm_dso(frames[f].dso) for f in used_by_pid[p])]
        warnings.append(
            "no perf map for pid "
            + ", ".join(str(p) for p in no_map)
            + " (looked in --map, --map-dir, beside the input and /tmp): JIT frames keep"
            " perf's names or stay [unknown]"
            + (f"; a JVM (pid {', '.join(map(str, jvms))}) writes one with {JAVA_MAP_HINT}"
               if jvms else "")
        )
    for mi in map_info:
        started = process_start_time(mi.pid) if mi.pid is not None else None
        if mi.mtime is not None and started is not None and mi.mtime < started - 1.0:
            warnings.append(
                f"{mi.path} was last written before process {mi.pid} started: it is stale "
                "(left by an older process with the same pid?)"
            )
    if jit_samples and jit_samples_named < 0.5 * jit_samples:
        warnings.append(
            f"only {jit_samples_named} of {jit_samples} samples in JIT memory were named:"
            " is the map missing, stale or from another process?"
        )
    if jit_unknown_threads:
        warnings.append(
            f"{len(jit_unknown_threads)} thread(s) with JIT frames ({unknown_thread_samples}"
            " samples) could not be mapped to a process (no pid/tid field, mmap, comm or fork"
            " event): their map was looked up as perf-<tid>.map"
        )
    if data.truncated:
        warnings.append(f"{data.truncated} truncated sample(s) dropped")
    for path in stale_dumps:
        warnings.append(f"{path} was closed (its JIT exited) before the first sample: left by "
                        "an older process with the same pid? Not used")
    for dn in dump_notes:
        dw = dn.warning()
        if dw is not None:
            warnings.append(dw)
    elf_files: list[ElfFileHealth] = []
    if symbolizer is not None:
        warnings.extend(symbolizer.warnings)
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
        jit_samples=jit_samples,
        jit_samples_resolved=jit_samples_named,
        jit_samples_resolved_pct=_pct(jit_samples_named, jit_samples),
        jit_frames=jit_frames,
        jit_frames_resolved=jit_frames_named,
        maps=map_info,
        missing_map_pids=missing_pids,
        unknown_thread_tids=sorted(unknown_threads),
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


def _name_elf_frames(
    b: ProfileBuilder,
    sym: Symbolizer,
    policy: str,
    data: ScriptData,
    selected: Sequence[tuple[int, int, str, tuple[int, ...], int, int, int]],
    used: set[int],
    raw_jit: Sequence[bool],
    proc_maps: Mapping[int | None, Sequence[MemMap]],
    leaf_t: list[int],
    call_t: list[int],
    by_pid: dict[int, dict[int, tuple[int, int]]],
) -> tuple[FileFrameNames, int, int]:
    """Fill the leaf/caller tables for file frames (from ELF symbols) and unnamed kernel
    frames (from kallsyms); frames named differently per process go to ``by_pid``.
    Returns the file naming's figures and (kernel frames, named)."""
    frames = data.frames
    unnamed = ("", "[unknown]")
    file_fids = [
        fid for fid in used
        if not raw_jit[fid] and frames[fid].addr < KERNEL_MIN_ADDR and is_file_dso(frames[fid].dso)
        and (policy == "always" or frames[fid].sym in unnamed)
    ]
    kernel_fids = [fid for fid in used
                   if frames[fid].addr >= KERNEL_MIN_ADDR and frames[fid].sym in unnamed]
    users: dict[int, set[int]] = {fid: set() for fid in file_fids}
    one_frame = True
    if file_fids:
        for pid, _tid, _comm, stack, _n, _w, _b in selected:
            if len(stack) > 1:
                one_frame = False
            for fid in stack:
                u = users.get(fid)
                if u is not None:
                    u.add(pid)
    mmaps = maps_by_pid((m.pid, m.start, m.length, m.pgoff, m.prot, m.filename)
                        for m in data.mmaps)
    names = name_file_frames(sym, [(f.addr, f.dso) for f in frames],
                             {fid: sorted(p) for fid, p in users.items() if p},
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
        dso = frames[fid].dso
        leaf_t[fid] = frame(names.leaf[fid], dso)
        call_t[fid] = frame(names.call[fid], dso)
    for pid, per in names.by_pid.items():
        by_pid[pid] = {fid: (frame(lf, frames[fid].dso), frame(cf, frames[fid].dso))
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


MAX_BINS = 256  # time bins kept per profile: a long recording gets wider ones


def _coarser_bins(bins: dict[tuple[int, str, tuple[int, ...], int], list[int]], width: float
                  ) -> tuple[float, dict[tuple[int, str, tuple[int, ...], int], list[int]]]:
    """At most ``MAX_BINS`` bins: k adjacent bins merge into one k times as wide (bin
    ``b`` becomes ``b // k``), so a long recording does not multiply its stacks by
    thousands of bins."""
    first = min(k[3] for k in bins)
    last = max(k[3] for k in bins)
    k = -(-(last - first + 1) // MAX_BINS)
    if k <= 1:
        return width, bins
    out: dict[tuple[int, str, tuple[int, ...], int], list[int]] = {}
    for (tid, comm, stack, b), (n, w) in bins.items():
        key = (tid, comm, stack, b // k)
        acc = out.get(key)
        if acc is None:
            out[key] = [n, w]
        else:
            acc[0] += n
            acc[1] += w
    return width * k, out


def _pct(a: int, b: int) -> float | None:
    return round(100.0 * a / b, 2) if b else None


def _map_health(pm: PerfMap, pid: int) -> MapHealth:
    return MapHealth(pm.path, pid, pm.lines, len(pm), pm.bad, pm.overlapping, pm.zero_size,
                     pm.mtime, [str(d) for d in pm.diagnostics])


def load_profile(
    inputs: Sequence[str],
    maps: Sequence[str] = (),
    map_dirs: Sequence[str] = (),
    event: str | None = None,
    pids: Sequence[int] = (),
    comms: Sequence[str] = (),
    strict: bool = False,
    search_tmp: bool = True,
    jobs: int = 1,
    jitdumps: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
    bin_width: float | None = None,
    elf: ElfOptions | None = None,
) -> Profile:
    """The whole pipeline for perf script inputs: read, resolve, aggregate. ``jobs``:
    processes that may read one big input at once. Inputs named ``*.json`` are jitprof
    JSON profiles (jitprof/profilefile.py), merged with the rest; a directory made by
    ``jitprof record`` (jitprof/bundle.py) reads as its script text with its own maps and
    jitdumps only, never /tmp. ``progress(bytes read, total)``: see ``read_scripts`` (the
    perf script inputs only). ``bin_width`` (seconds): keep samples per time bin
    (``Profile.stack_bin``) where the text has times (not for JSON profiles). ``elf``: how
    file and kernel frames are named from ELF symbols and kallsyms (default:
    ``ElfOptions()``)."""
    from jitprof.bundle import expand_inputs
    from jitprof.profilefile import is_profile_json, load_profile_inputs
    from jitprof.script import read_scripts, splittable

    if any(is_profile_json(p) for p in inputs):  # (bundles are expanded in the call back)
        return load_profile_inputs(
            inputs, lambda perf: load_profile(perf, maps, map_dirs, event, strict=strict,
                                              search_tmp=search_tmp, jobs=jobs,
                                              jitdumps=jitdumps, progress=progress, elf=elf),
            event, pids, comms)

    bundles = expand_inputs(inputs)
    if bundles.bundles:
        inputs = bundles.inputs
        map_dirs = [*map_dirs, *bundles.map_dirs]
        search_tmp = False

    elf = elf if elf is not None else ElfOptions()
    finder = MapFinder(maps=list(maps), map_dirs=list(map_dirs), search_tmp=search_tmp,
                       strict=strict, jitdumps=list(jitdumps),
                       perf_jit_names=not bundles.bundles)
    finder.check_explicit()
    proc_maps = elf.read_proc_maps()
    input_dirs = [os.path.dirname(os.path.abspath(p)) for p in inputs if p != "-"]
    keep_times = finder.has_jitdumps(input_dirs)
    if keep_times:
        from jitprof.jittime import perf_data_clock
        from jitprof.script import is_perf_data

        clocks = {perf_data_clock(p) for p in inputs if p != "-" and is_perf_data(p)}
        clocks.discard(None)
        if clocks:  # one clock not monotonic is enough to distrust the times
            finder.sample_clock = next((c for c in clocks if c != "monotonic"), "monotonic")
    big = finder.big_maps() if jobs > 1 else []
    if big and any(splittable(p) for p in inputs):
        # worker processes read most of the samples while this one parses the maps
        cost = MAP_BYTE_COST * sum(_size(p) for p in big)
        data = read_scripts(inputs, jobs=jobs, side_job=lambda: finder.load_all(big),
                            side_job_bytes=cost, keep_times=keep_times, progress=progress,
                            bin_width=bin_width)
    else:
        if big:
            finder.preload()
        data = read_scripts(inputs, jobs=jobs, keep_times=keep_times, progress=progress,
                            bin_width=bin_width)
    try:
        symbolizer = elf.symbolizer(data) if elf.policy != "never" else None
        prof = build_profile(data, finder, event=event, pids=pids, comms=comms,
                             bin_width=bin_width, symbolizer=symbolizer,
                             elf_policy=elf.policy, proc_maps=proc_maps)
    finally:
        finder.close()
    prof.diagnostics.warnings[:0] = bundles.warnings
    prof.diagnostics.recorded_on = [s for s in (f.summary() for f in data.recordings.values())
                                    if s is not None]
    return prof


@dataclass(slots=True)
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
