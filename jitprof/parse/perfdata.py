"""perf.data read natively: the file and pipe formats, without ``perf script``.

The layout is the kernel tree's ``tools/perf/Documentation/perf.data-file-format.txt``
and ``include/uapi/linux/perf_event.h`` (perf 6.1's writer):

- file mode: a 104-byte header (``PERFILE2``, sizes, the attrs, data and event-types
  sections, a 256-bit feature bitmap); each set feature bit has a section (offset, size)
  in a table right after the data section; pipe mode (``perf record -o -``): a 16-byte
  header, then the attrs (``HEADER_ATTR``), features (``HEADER_FEATURE``), tracing data
  and build-ids come as records in the stream;
- records: ``perf_event_header`` (u32 type, u16 misc, u16 size) and a body; kernel records
  (MMAP, MMAP2, COMM, FORK, EXIT, SAMPLE, LOST, LOST_SAMPLES, SWITCH, KSYMBOL, ...) carry a
  ``sample_id_all`` trailer (pid/tid, time, ..., identifier) when the attr asks for it;
  perf's own records (FINISHED_ROUND, ID_INDEX, COMPRESSED: zstd, ...) follow;
- samples are decoded in bulk with numpy (one pass over the record headers in Python,
  then every field of every sample of one attr at once); their fields come in the order
  ``sample_type``'s bits give, variable parts (READ groups, callchains, RAW) included.

Everything here is a pure reading of bytes: what a frame is called is decided downstream
(jitprof.parse.native builds the tables; jitprof.resolve names them). A file that ends
early (perf killed) is read up to its last whole record and says where it stopped
(``PerfData.truncated_at``); a file that is not a perf.data or whose sizes do not add up
raises ``InputError`` naming the byte offset.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from jitprof.errors import InputError
from jitprof.inputs.classify import PERF_DATA_MAGIC, is_perf_data_magic
from jitprof.inputs.recording import RecordingFacts

MAGIC = PERF_DATA_MAGIC
FILE_HEADER_SIZE = 104
PIPE_HEADER_SIZE = 16
MAX_FEATURES = 256
MAX_ATTRS = 1 << 16
MAX_ATTR_SIZE = 4096
MAX_PERIOD = 1 << 40  # a sample's period above this is corrupt (1e12 events a sample)

# -- record types (perf_event.h; perf's own from util/event.h) ------------------------------
MMAP, LOST, COMM, EXIT, THROTTLE, UNTHROTTLE, FORK, READ, SAMPLE, MMAP2 = range(1, 11)
AUX, ITRACE_START, LOST_SAMPLES, SWITCH, SWITCH_CPU_WIDE, NAMESPACES = range(11, 17)
KSYMBOL, BPF_EVENT, CGROUP, TEXT_POKE, AUX_OUTPUT_HW_ID = range(17, 22)
HEADER_ATTR, HEADER_EVENT_TYPE, HEADER_TRACING_DATA, HEADER_BUILD_ID = range(64, 68)
FINISHED_ROUND, ID_INDEX, AUXTRACE_INFO, AUXTRACE, AUXTRACE_ERROR = range(68, 73)
THREAD_MAP, CPU_MAP, STAT_CONFIG, STAT, STAT_ROUND, EVENT_UPDATE = range(73, 79)
TIME_CONV, HEADER_FEATURE, COMPRESSED, FINISHED_INIT = range(79, 83)

RECORD_NAMES = {
    MMAP: "MMAP", LOST: "LOST", COMM: "COMM", EXIT: "EXIT", THROTTLE: "THROTTLE",
    UNTHROTTLE: "UNTHROTTLE", FORK: "FORK", READ: "READ", SAMPLE: "SAMPLE", MMAP2: "MMAP2",
    AUX: "AUX", ITRACE_START: "ITRACE_START", LOST_SAMPLES: "LOST_SAMPLES", SWITCH: "SWITCH",
    SWITCH_CPU_WIDE: "SWITCH_CPU_WIDE", NAMESPACES: "NAMESPACES", KSYMBOL: "KSYMBOL",
    BPF_EVENT: "BPF_EVENT", CGROUP: "CGROUP", TEXT_POKE: "TEXT_POKE",
    AUX_OUTPUT_HW_ID: "AUX_OUTPUT_HW_ID", HEADER_ATTR: "HEADER_ATTR",
    HEADER_EVENT_TYPE: "HEADER_EVENT_TYPE", HEADER_TRACING_DATA: "HEADER_TRACING_DATA",
    HEADER_BUILD_ID: "HEADER_BUILD_ID", FINISHED_ROUND: "FINISHED_ROUND",
    ID_INDEX: "ID_INDEX", AUXTRACE_INFO: "AUXTRACE_INFO", AUXTRACE: "AUXTRACE",
    AUXTRACE_ERROR: "AUXTRACE_ERROR", THREAD_MAP: "THREAD_MAP", CPU_MAP: "CPU_MAP",
    STAT_CONFIG: "STAT_CONFIG", STAT: "STAT", STAT_ROUND: "STAT_ROUND",
    EVENT_UPDATE: "EVENT_UPDATE", TIME_CONV: "TIME_CONV", HEADER_FEATURE: "HEADER_FEATURE",
    COMPRESSED: "COMPRESSED", FINISHED_INIT: "FINISHED_INIT",
}

# header.misc
MISC_CPUMODE_MASK = 7
MISC_KERNEL, MISC_USER, MISC_HYPERVISOR, MISC_GUEST_KERNEL, MISC_GUEST_USER = 1, 2, 3, 4, 5
MISC_MMAP_DATA = 1 << 13
MISC_COMM_EXEC = 1 << 13
MISC_SWITCH_OUT = 1 << 13
MISC_SWITCH_OUT_PREEMPT = 1 << 14
MISC_MMAP_BUILD_ID = 1 << 14

# attr.sample_type
S_IP, S_TID, S_TIME, S_ADDR, S_READ, S_CALLCHAIN, S_ID, S_CPU = (1 << i for i in range(8))
S_PERIOD, S_STREAM_ID, S_RAW, S_BRANCH_STACK, S_REGS_USER, S_STACK_USER = (
    1 << i for i in range(8, 14))
S_WEIGHT, S_DATA_SRC, S_IDENTIFIER, S_TRANSACTION, S_REGS_INTR, S_PHYS_ADDR = (
    1 << i for i in range(14, 20))
S_AUX, S_CGROUP, S_DATA_PAGE_SIZE, S_CODE_PAGE_SIZE, S_WEIGHT_STRUCT = (
    1 << i for i in range(20, 25))

# attr.read_format
R_TOTAL_TIME_ENABLED, R_TOTAL_TIME_RUNNING, R_ID, R_GROUP, R_LOST = (1 << i for i in range(5))

# attr flag bits (the u64 after read_format)
F_FREQ = 1 << 10
F_SAMPLE_ID_ALL = 1 << 18
F_EXCLUDE_CALLCHAIN_KERNEL = 1 << 21
F_EXCLUDE_CALLCHAIN_USER = 1 << 22
F_USE_CLOCKID = 1 << 25

BRANCH_CALL_STACK = 1 << 11  # branch_sample_type: --call-graph lbr

# callchain context markers (u64 values of small negative numbers)
PERF_CONTEXT_MAX = (1 << 64) - 4095
CONTEXT_HV = (1 << 64) - 32
CONTEXT_KERNEL = (1 << 64) - 128
CONTEXT_USER = (1 << 64) - 512
CONTEXT_GUEST = (1 << 64) - 2048
CONTEXT_GUEST_KERNEL = (1 << 64) - 2176
CONTEXT_GUEST_USER = (1 << 64) - 2560

# feature bits
FEAT_TRACING_DATA, FEAT_BUILD_ID, FEAT_HOSTNAME, FEAT_OSRELEASE, FEAT_VERSION = range(1, 6)
FEAT_ARCH, FEAT_NRCPUS, FEAT_CPUDESC, FEAT_CPUID, FEAT_TOTAL_MEM, FEAT_CMDLINE = range(6, 12)
FEAT_EVENT_DESC = 12
FEAT_SAMPLE_TIME = 21
FEAT_CLOCKID = 23
FEAT_COMPRESSED = 27
FEAT_CLOCK_DATA = 29

CLOCK_NAMES = {0: "realtime", 1: "monotonic", 4: "monotonic_raw", 7: "boottime", 11: "tai"}

# perf's names of the generic events (tools/perf/util/parse-events.c)
_SOFTWARE = ["cpu-clock", "task-clock", "page-faults", "context-switches", "cpu-migrations",
             "minor-faults", "major-faults", "alignment-faults", "emulation-faults", "dummy",
             "bpf-output", "cgroup-switches"]
_HARDWARE = ["cycles", "instructions", "cache-references", "cache-misses", "branches",
             "branch-misses", "bus-cycles", "stalled-cycles-frontend",
             "stalled-cycles-backend", "ref-cycles"]


@dataclass(slots=True)
class EventAttr:
    """One ``perf_event_attr`` (the fields jitprof reads) with its name and sample ids."""

    type: int
    config: int
    sample_period: int
    sample_type: int
    read_format: int
    flags: int
    branch_sample_type: int = 0
    sample_regs_user: int = 0
    sample_stack_user: int = 0
    clockid: int = 0
    sample_regs_intr: int = 0
    name: str = ""
    ids: list[int] = field(default_factory=list)

    @property
    def sample_id_all(self) -> bool:
        return bool(self.flags & F_SAMPLE_ID_ALL)

    @property
    def freq(self) -> bool:
        return bool(self.flags & F_FREQ)

    def default_name(self) -> str:
        """perf's name for the event when the file does not say (no EVENT_DESC)."""
        if self.type == 1 and self.config < len(_SOFTWARE):
            return _SOFTWARE[self.config]
        if self.type == 0 and self.config < len(_HARDWARE):
            return _HARDWARE[self.config]
        return f"event-{self.type}:{self.config:#x}"


@dataclass(slots=True)
class MmapRecord:
    pid: int
    tid: int
    start: int
    length: int
    pgoff: int
    prot: str  # "r-xp" as perf script prints it; "x"/"r" for MMAP (v1) records
    filename: str
    time: int | None  # ns (sample_id_all), None if the record has none
    build_id: str | None
    kernel: bool  # cpumode kernel (the kernel and its modules: pid -1)
    order: int  # position in the stream


@dataclass(slots=True)
class CommRecord:
    pid: int
    tid: int
    comm: str
    time: int | None
    exec: bool
    order: int


@dataclass(slots=True)
class TaskRecord:
    """FORK or EXIT."""

    pid: int
    ppid: int
    tid: int
    ptid: int
    time: int
    order: int


@dataclass(slots=True)
class SwitchRecord:
    """PERF_RECORD_SWITCH(_CPU_WIDE): ``out`` switched out (``preempt``: while runnable);
    ``other_pid``/``other_tid``: the next (out) or previous (in) task, CPU-wide only."""

    pid: int
    tid: int
    time: int | None
    cpu: int | None
    out: bool
    preempt: bool
    other_pid: int | None
    other_tid: int | None


@dataclass(slots=True)
class KsymbolRecord:
    addr: int
    length: int
    ksym_type: int
    unregister: bool
    name: str
    time: int | None


@dataclass(slots=True)
class TraceField:
    name: str
    offset: int
    size: int
    signed: bool


@dataclass(slots=True)
class TraceFormat:
    """A tracepoint's record layout, from the tracing data's format text."""

    id: int
    system: str
    name: str
    fields: dict[str, TraceField] = field(default_factory=dict)


class SampleColumns:
    """The samples of one attr, as numpy columns (one entry a sample): ``ip``, ``pid``,
    ``tid``, ``time`` (ns; None if the attr has no TIME), ``period``, ``cpu``,
    ``cpumode`` (header.misc & 7), ``chain`` (the id of its (process, callchain) in
    ``PerfData.chains``; a sample without a callchain has its cpumode's context marker
    and its ip as one) and the RAW payloads (``raw``: bytes, sample i's at
    ``raw_start[i]`` for ``raw_size[i]`` bytes; None without RAW)."""

    __slots__ = ("ip", "pid", "tid", "time", "period", "cpu", "cpumode", "chain", "raw",
                 "raw_start", "raw_size", "_parts")

    _KEYS = ("ip", "pid", "tid", "time", "period", "cpu", "cpumode", "chain")

    def __init__(self) -> None:
        self._parts: list[dict[str, Any]] = []
        self.ip: Any = None
        self.pid: Any = None
        self.tid: Any = None
        self.time: Any = None
        self.period: Any = None
        self.cpu: Any = None
        self.cpumode: Any = None
        self.chain: Any = None
        self.raw: bytes | None = None
        self.raw_start: Any = None
        self.raw_size: Any = None

    def __len__(self) -> int:
        return 0 if self.pid is None else len(self.pid)

    def _finish(self) -> None:
        """Join the parts decoded chunk by chunk (again after more were added)."""
        import numpy as np

        parts = self._parts
        if self.pid is not None:  # what was joined before comes first
            parts = [{k: getattr(self, k) for k in (*self._KEYS, "raw", "raw_start",
                                                   "raw_size")}, *parts]
        if not parts:
            parts = [_empty_part(np)]
        for key in self._KEYS:
            cols = [p[key] for p in parts]
            setattr(self, key, None if any(c is None for c in cols) else np.concatenate(cols))
        if all(p["raw"] is not None for p in parts):
            raws = [p["raw"] for p in parts]
            offs, base = [], 0
            for p, r in zip(parts, raws, strict=True):
                offs.append(p["raw_start"] + base)
                base += len(r)
            self.raw = b"".join(raws)
            self.raw_start = np.concatenate(offs)
            self.raw_size = np.concatenate([p["raw_size"] for p in parts])
        self._parts = []


class ChainTable:
    """Distinct (process, callchain) pairs: chain i is ``words[starts[i]:starts[i+1]]``,
    its first word the pid, then the callchain as recorded (context markers included;
    leaf first)."""

    def __init__(self) -> None:
        import numpy as np

        self._ids: dict[bytes, int] = {}  # (the slow path's: a chain's words -> id)
        self._h1 = np.zeros(0, dtype=np.uint64)  # known chains by hash, sorted
        self._h2 = np.zeros(0, dtype=np.uint64)
        self._gid = np.zeros(0, dtype=np.int64)
        self._count = 0
        self._slow = False
        self._new: list[Any] = []
        self._new_lens: list[Any] = []
        self.words: Any = None
        self.starts: Any = None

    def __len__(self) -> int:
        return self._count

    def add(self, keys: Any, kstart: Any) -> Any:
        """The ids of the chains ``keys[kstart[i]:kstart[i+1]]`` (uint64 words, the pid
        first), new ones kept. In bulk: two independent 64-bit hashes a chain (numpy);
        chains of one chunk with equal hashes are checked word for word, and the table
        knows a chain by both hashes (128 bits)."""
        import numpy as np

        n = len(kstart) - 1
        if not n:
            return np.zeros(0, dtype=np.int64)
        if self._slow:
            return self._add_slow(keys, kstart)
        lens = np.diff(kstart)
        h1, h2 = _chain_hashes(np, keys, kstart, lens)
        uh, first, inv = np.unique(h1, return_index=True, return_inverse=True)
        rep = first[inv]
        # within the chunk: a sample's chain is its representative's, word for word
        same = (lens == lens[rep]) & (h2 == h2[rep])
        if same.all():
            pos = np.arange(len(keys), dtype=np.int64) - np.repeat(kstart[:-1], lens)
            at = np.repeat(kstart[rep], lens) + pos
            eq = keys == keys[np.minimum(at, len(keys) - 1)]
            same = np.logical_and.reduceat(eq, kstart[:-1])
        if not same.all():
            return self._add_slow(keys, kstart)
        # the table: known chains' h1 sorted, with their h2 and ids (numpy, no loop)
        h2u = h2[first]
        gid = np.empty(len(uh), dtype=np.int64)
        found = np.zeros(len(uh), dtype=bool)
        if len(self._h1):
            k = np.searchsorted(self._h1, uh)
            kk = np.minimum(k, len(self._h1) - 1)
            found = (k < len(self._h1)) & (self._h1[kk] == uh)
            if (found & (self._h2[kk] != h2u)).any():
                return self._add_slow(keys, kstart)  # an h1 collision across chunks
            gid[found] = self._gid[kk[found]]
        newj = np.flatnonzero(~found)
        if len(newj):
            n0 = self._count
            gid[newj] = n0 + np.arange(len(newj), dtype=np.int64)
            self._count = n0 + len(newj)
            at = np.searchsorted(self._h1, uh[newj])
            self._h1 = np.insert(self._h1, at, uh[newj])
            self._h2 = np.insert(self._h2, at, h2u[newj])
            self._gid = np.insert(self._gid, at, gid[newj])
            sel = first[newj]
            ln = kstart[sel + 1] - kstart[sel]
            fst = np.repeat(kstart[sel] - np.concatenate(([0], np.cumsum(ln)[:-1])), ln)
            self._new.append(keys[fst + np.arange(int(ln.sum()), dtype=np.int64)])
            self._new_lens.append(ln)
        return gid[inv]

    def forget_keys(self) -> None:
        """Drop the hash index (no chain will be added any more: memory)."""
        import numpy as np

        self._ids = {}
        self._h1 = self._h2 = np.zeros(0, dtype=np.uint64)
        self._gid = np.zeros(0, dtype=np.int64)

    def _add_slow(self, keys: Any, kstart: Any) -> Any:
        """``add`` one chain at a time, by its words (a chunk whose hashes collide:
        never seen; ids go on from the table's)."""
        import numpy as np

        if not self._ids and self._count:
            # the words of every known chain, as the slow index's keys
            self._finish()
            w, st = self.words, self.starts
            for g in range(self._count):
                self._ids[w[st[g] : st[g + 1]].tobytes()] = g
        out = np.empty(len(kstart) - 1, dtype=np.int64)
        for i in range(len(kstart) - 1):
            k = keys[kstart[i] : kstart[i + 1]]
            key = k.tobytes()
            v = self._ids.get(key)
            if v is None:
                v = self._ids[key] = self._count
                self._count += 1
                self._new.append(k.copy())
                self._new_lens.append(np.array([len(k)], dtype=np.int64))
            out[i] = v
        self._h1 = self._h2 = np.zeros(0, dtype=np.uint64)  # (the hash index is off)
        self._gid = np.zeros(0, dtype=np.int64)
        self._slow = True
        return out

    def _finish(self) -> None:
        import numpy as np

        words = [] if self.words is None else [self.words]
        lens = [] if self.starts is None else [np.diff(self.starts)]
        words += self._new
        lens += self._new_lens
        self._new, self._new_lens = [], []
        self.words = np.concatenate(words) if words else np.zeros(0, dtype=np.uint64)
        ln = np.concatenate(lens) if lens else np.zeros(0, dtype=np.int64)
        self.starts = np.zeros(len(ln) + 1, dtype=np.int64)
        np.cumsum(ln, out=self.starts[1:])


_H1, _H2 = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F
_P1, _P2 = 0x100000001B3, 0x5BD1E9955BD1E995


def _chain_hashes(np: Any, keys: Any, kstart: Any, lens: Any) -> tuple[Any, Any]:
    """Two independent 64-bit hashes of each chain: sums of its words times powers of
    two odd constants by position (wrapping), the length mixed in."""
    pos = np.arange(len(keys), dtype=np.int64)
    pos -= np.repeat(kstart[:-1], lens)
    top = int(lens.max()) + 1
    with np.errstate(over="ignore"):
        p1 = np.cumprod(np.full(top, _P1, dtype=np.uint64))
        p2 = np.cumprod(np.full(top, _P2, dtype=np.uint64))
        cut = kstart[:-1]
        h1 = np.add.reduceat(keys * p1[pos], cut)
        h2 = np.add.reduceat((keys ^ np.uint64(_H1)) * p2[pos], cut)
        ln = lens.astype(np.uint64)
        h1 ^= ln * np.uint64(_H2)
        h2 += ln
    return h1, h2


def _empty_part(np: Any) -> dict[str, Any]:
    z64 = np.zeros(0, dtype=np.uint64)
    zi = np.zeros(0, dtype=np.int64)
    return {"ip": z64, "pid": np.zeros(0, dtype=np.int32), "tid": np.zeros(0, dtype=np.int32),
            "time": z64, "period": z64, "cpu": np.zeros(0, dtype=np.int32),
            "cpumode": np.zeros(0, dtype=np.uint8), "chain": zi,
            "raw": b"", "raw_start": zi, "raw_size": zi}


@dataclass(slots=True)
class PerfData:
    """What a perf.data holds, as read (see the module's text)."""

    path: str
    pipe: bool = False
    attrs: list[EventAttr] = field(default_factory=list)
    facts: RecordingFacts = field(default_factory=RecordingFacts)
    build_ids: dict[str, str] = field(default_factory=dict)  # filename -> hex build-id
    nrcpus: int | None = None
    clockid: int | None = None  # attr.clockid when use_clockid, else None (perf's clock)
    features: list[int] = field(default_factory=list)
    record_counts: dict[str, int] = field(default_factory=dict)
    lost: int = 0  # events the kernel dropped (LOST records)
    lost_samples: int = 0  # LOST_SAMPLES records
    truncated_at: int | None = None
    data_size_zero: bool = False  # the header's data size was 0 (perf did not finish)
    bad_samples: int = 0  # sample records whose fields ran past their end (left out)
    first_bad: str | None = None
    mmaps: list[MmapRecord] = field(default_factory=list)
    comms: list[CommRecord] = field(default_factory=list)
    forks: list[TaskRecord] = field(default_factory=list)
    exits: list[TaskRecord] = field(default_factory=list)
    switches: list[SwitchRecord] = field(default_factory=list)
    ksymbols: list[KsymbolRecord] = field(default_factory=list)
    tracepoints: dict[int, TraceFormat] = field(default_factory=dict)
    samples_by_attr: list[SampleColumns] = field(default_factory=list)
    chains: ChainTable = field(default_factory=ChainTable)
    unsupported: list[str] = field(default_factory=list)  # what jitprof cannot read here
    sample_time: tuple[int, int] | None = None  # HEADER_SAMPLE_TIME (ns)

    @property
    def samples(self) -> int:
        return sum(len(s) for s in self.samples_by_attr)

    @property
    def clock(self) -> str:
        """The samples' clock: "monotonic" for ``perf record -k mono``, ..."""
        if self.clockid is None:
            return "perf's default clock"
        return CLOCK_NAMES.get(self.clockid, f"clock {self.clockid}")

    def summary(self) -> str:
        return (f"{self.path}: {'pipe' if self.pipe else 'file'} mode, "
                f"{len(self.attrs)} event(s) ({', '.join(a.name for a in self.attrs)}), "
                f"{self.samples:,} samples")


# -- entry points --------------------------------------------------------------------------

def native_script_data(paths: Any) -> Any:
    """``jitprof.parse.native.native_script_data`` (the ScriptData of perf.data files)."""
    from jitprof.parse.native import native_script_data as build

    return build(paths)


def read_perf_data(path: str, stream: IO[bytes] | None = None,
                   progress: Callable[[int], None] | None = None,
                   records: bool = True) -> PerfData:
    """Read a perf.data file (or, with ``stream``, a pipe-mode stream such as
    ``perf record -o -``'s output; ``path`` then only names it). ``progress(bytes)``:
    called now and then with the bytes read so far. ``records=False``: a file's header,
    attrs and feature sections only (its build-ids, host...), not its records."""
    if stream is not None:
        return _read_stream(path, stream, progress)
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None
    with f:
        head = f.read(PIPE_HEADER_SIZE)
        if not is_perf_data_magic(head):
            raise InputError(path, "not a perf.data file (no PERFILE2 magic at byte 0)"
                             + ("; an old PERFFILE (v1) file is not supported"
                                if head[:8] == b"PERFFILE" else ""))
        if len(head) < PIPE_HEADER_SIZE:
            raise InputError(path, f"cut short in its header (byte {len(head)})")
        order = "<" if head[:8] == MAGIC else ">"
        (hsize,) = struct.unpack(order + "Q", head[8:16])
        if hsize == PIPE_HEADER_SIZE:
            f.seek(0)
            return _read_stream(path, f, progress)
        size = os.fstat(f.fileno()).st_size
        return _read_file(path, f, size, order, progress, records)


# -- file mode -----------------------------------------------------------------------------

class _FileView:
    """Reads of a seekable file by (offset, size), for the header, attrs and features."""

    def __init__(self, f: IO[bytes], size: int) -> None:
        self.f = f
        self.size = size

    def read(self, off: int, n: int) -> bytes:
        self.f.seek(off)
        return self.f.read(n)


def _read_file(path: str, f: IO[bytes], size: int, order: str,
               progress: Callable[[int], None] | None, records: bool = True) -> PerfData:
    view = _FileView(f, size)
    head = view.read(0, FILE_HEADER_SIZE)
    if len(head) < FILE_HEADER_SIZE:
        raise InputError(path, f"cut short in its header ({size} of {FILE_HEADER_SIZE} bytes)")
    (_magic, hsize, attr_size, attrs_off, attrs_size, data_off, data_size, _et_off,
     _et_size) = struct.unpack_from(order + "8sQQQQQQQQ", head, 0)
    flags = struct.unpack_from(order + "4Q", head, 72)
    if hsize != FILE_HEADER_SIZE:
        raise InputError(path, f"byte 8: header size {hsize}, not {FILE_HEADER_SIZE} "
                         "(an unsupported perf.data version)")
    # attr_size: a perf_file_attr's, the perf_event_attr and its ids section (16 bytes)
    if attr_size < 64 + 16 or attr_size > MAX_ATTR_SIZE:
        raise InputError(path, f"byte 16: attr size {attr_size} is not a perf_file_attr's "
                         "(80 to 4096 bytes)")
    if attrs_off + attrs_size > size or attrs_size % attr_size:
        raise InputError(path, f"byte 24: the attrs section ({attrs_size} bytes at "
                         f"{attrs_off}) does not hold whole attrs of {attr_size} bytes"
                         + (" or runs past the end of the file" if attrs_off + attrs_size > size
                            else ""))
    pd = PerfData(path)
    nattr = attrs_size // attr_size
    if nattr > MAX_ATTRS:
        raise InputError(path, f"byte 24: {nattr} attrs")
    attrs = view.read(attrs_off, attrs_size)
    for i in range(nattr):
        off = i * attr_size
        attr = _parse_attr(attrs[off : off + attr_size - 16], order)
        (own_size,) = struct.unpack_from(order + "I", attrs, off + 4)
        if own_size > attr_size - 16 or 0 < own_size < 64:
            raise InputError(path, f"byte {attrs_off + off + 4}: attr {i} says it is "
                             f"{own_size} bytes, its slot holds {attr_size - 16} (an "
                             "incompatible perf.data)")
        ids_off, ids_size = struct.unpack_from(order + "QQ", attrs, off + attr_size - 16)
        if ids_size % 8 or ids_off + ids_size > size or ids_size > 8 << 20:
            raise InputError(path, f"byte {attrs_off + off + attr_size - 16}: attr {i}'s id "
                             f"list ({ids_size} bytes at {ids_off}) runs past the end of the "
                             "file")
        attr.ids = list(struct.unpack(order + f"{ids_size // 8}Q", view.read(ids_off, ids_size)))
        pd.attrs.append(attr)
    if data_off > size:
        raise InputError(path, f"byte 40: the data section starts at {data_off}, past the end "
                         f"of the file ({size} bytes)")
    end = data_off + data_size
    if data_size == 0:
        pd.data_size_zero = True  # perf was killed: read what is there
        end = size
    if end > size:
        pd.truncated_at = size
        end = size
    elif not pd.data_size_zero:
        _read_features(pd, view, order, flags, end, size)
    for a in pd.attrs:
        if not a.name:
            a.name = a.default_name()
    if not records:
        return pd
    walker = _Walker(pd, order)
    walker.stream = True  # (the chunks end anywhere: a cut record is the next one's)
    f.seek(data_off)
    at, pending = data_off, b""
    while at < end:
        chunk = f.read(min(CHUNK, end - at))
        if not chunk:
            break
        at += len(chunk)
        data = pending + chunk if pending else chunk
        walker.base = at - len(data)
        used = walker.walk(data, 0, len(data))
        pending = data[used:]
        if progress is not None:
            progress(at)
        if pd.first_bad and pd.truncated_at is not None:
            break
    if pending and pd.truncated_at is None:
        pd.truncated_at = at - len(pending)
    walker.finish()
    return pd


def _read_features(pd: PerfData, view: _FileView, order: str, flags: tuple[int, ...],
                   at: int, size: int) -> None:
    bits = [b for b in range(MAX_FEATURES) if flags[b // 64] >> (b % 64) & 1]
    pd.features = bits
    if at + 16 * len(bits) > size:
        pd.truncated_at = at
        return
    table = view.read(at, 16 * len(bits))
    for i, bit in enumerate(bits):
        off, fsize = struct.unpack_from(order + "QQ", table, 16 * i)
        if off + fsize > size or fsize > 1 << 30:
            if pd.truncated_at is None and off <= size:
                pd.truncated_at = size  # the file ends inside its feature sections
            continue  # a feature that runs past the end: left out
        try:
            _feature(pd, bit, view.read(off, fsize), order)
        except (struct.error, ValueError, IndexError):
            pass  # an unreadable feature section: left out (the samples stand alone)


def _feature(pd: PerfData, bit: int, data: bytes, order: str) -> None:
    facts = pd.facts
    if bit == FEAT_HOSTNAME:
        facts.hostname = _string(data, 0, order)[0]
    elif bit == FEAT_OSRELEASE:
        facts.os_release = _string(data, 0, order)[0]
    elif bit == FEAT_VERSION:
        facts.perf_version = _string(data, 0, order)[0]
    elif bit == FEAT_ARCH:
        facts.arch = _string(data, 0, order)[0]
    elif bit == FEAT_NRCPUS:
        pd.nrcpus = struct.unpack_from(order + "I", data, 0)[0]
    elif bit == FEAT_CMDLINE:
        (nr,) = struct.unpack_from(order + "I", data, 0)
        pos, parts = 4, []
        for _ in range(min(nr, 1 << 16)):
            s, pos = _string(data, pos, order)
            parts.append(s)
        facts.cmdline = " ".join(parts)
    elif bit == FEAT_BUILD_ID:
        pos = 0
        while pos + 8 <= len(data):
            _typ, misc, rsize = struct.unpack_from(order + "IHH", data, pos)
            if rsize < 8 or pos + rsize > len(data):
                break
            _build_id_record(pd, data[pos : pos + rsize], misc, order)
            pos += rsize
    elif bit == FEAT_EVENT_DESC:
        _event_desc(pd, data, order)
    elif bit == FEAT_TRACING_DATA:
        _tracing_data(pd, data)
    elif bit == FEAT_SAMPLE_TIME and len(data) >= 16:
        first, last = struct.unpack_from(order + "QQ", data, 0)
        pd.sample_time = (first, last)
    elif bit == FEAT_CLOCK_DATA and len(data) >= 8:
        _version, clockid = struct.unpack_from(order + "II", data, 0)
        if pd.clockid is None and any(a.flags & F_USE_CLOCKID for a in pd.attrs):
            pd.clockid = clockid


def _string(data: bytes, pos: int, order: str) -> tuple[str, int]:
    """A perf_header_string at ``pos``: (its text, the position after it)."""
    (n,) = struct.unpack_from(order + "I", data, pos)
    raw = data[pos + 4 : pos + 4 + n]
    if len(raw) < n:
        raise ValueError("string past the end")
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace"), pos + 4 + n


def _event_desc(pd: PerfData, data: bytes, order: str) -> None:
    nr, asize = struct.unpack_from(order + "II", data, 0)
    pos = 8
    for _ in range(min(nr, MAX_ATTRS)):
        attr = _parse_attr(data[pos : pos + asize], order)
        pos += asize
        (nids,) = struct.unpack_from(order + "I", data, pos)
        name, pos = _string(data, pos + 4, order)
        ids = list(struct.unpack_from(order + f"{nids}Q", data, pos))
        pos += 8 * nids
        for a in pd.attrs:  # the header's attrs, named by their ids
            if (a.ids and set(a.ids) & set(ids)) or (
                    not a.ids and (a.type, a.config, a.sample_type) == (
                        attr.type, attr.config, attr.sample_type) and not a.name):
                a.name = name
                break


def _build_id_record(pd: PerfData, rec: bytes, misc: int, order: str) -> None:
    """A build_id_event: header, pid, build_id[24] (its size in byte 20 of it when misc
    has PERF_RECORD_MISC_BUILD_ID_SIZE; else 20), filename."""
    if len(rec) < 36:
        return
    n = 20
    if misc & (1 << 15) and 0 < rec[32] <= 20:
        n = rec[32]
    name = rec[36:].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    hexid = rec[12 : 12 + n].hex()
    if name:
        pd.build_ids.setdefault(name, hexid)
        if name == "[kernel.kallsyms]" and pd.facts.kernel_build_id is None:
            pd.facts.kernel_build_id = hexid


def _tracing_data(pd: PerfData, data: bytes) -> None:
    """The event format texts inside perf's tracing data (``name:``, ``ID:`` and
    ``field:`` lines), for the tracepoints' RAW payloads."""
    text = data.decode("latin-1")
    pos = 0
    while True:
        i = text.find("name: ", pos)
        if i < 0:
            break
        j = text.find("\nprint fmt:", i)
        if j < 0:
            j = len(text)
        block = text[i:j]
        pos = j
        lines = block.split("\n")
        name = lines[0][6:].strip()
        tid = None
        fmt_fields: dict[str, TraceField] = {}
        for ln in lines[1:]:
            s = ln.strip()
            if s.startswith("ID:"):
                try:
                    tid = int(s[3:].strip())
                except ValueError:
                    tid = None
            elif s.startswith("field:"):
                parts = [p.strip() for p in s.split(";")]
                decl = parts[0][6:].strip()
                kv = {}
                for p in parts[1:]:
                    k, _, v = p.partition(":")
                    kv[k.strip()] = v.strip()
                fname = decl.split()[-1] if decl else ""
                if "[" in fname:
                    fname = fname[: fname.index("[")]
                try:
                    fmt_fields[fname] = TraceField(fname, int(kv["offset"]), int(kv["size"]),
                                                   kv.get("signed", "0") == "1")
                except (KeyError, ValueError):
                    continue
        if tid is not None:
            pd.tracepoints[tid] = TraceFormat(tid, "", name, fmt_fields)


# -- attrs ---------------------------------------------------------------------------------

def _parse_attr(raw: bytes, order: str) -> EventAttr:
    b = raw + b"\0" * max(0, 120 - len(raw))
    (typ, _size, config, period, stype, rformat, flags) = struct.unpack_from(
        order + "IIQQQQQ", b, 0)
    (_wake, _bp_type, _c1, _c2, bstype, regs_user, stack_user, clockid, regs_intr) = (
        struct.unpack_from(order + "IIQQQQIiQ", b, 48))
    return EventAttr(typ, config, period, stype, rformat, flags, bstype, regs_user,
                     stack_user, clockid, regs_intr)


def _id_positions(attrs: list[EventAttr]) -> tuple[int | None, int | None]:
    """Where a record's event id is: (word index in a SAMPLE's body, word index from the
    end of another record's sample_id_all trailer); None where there is none."""
    if not attrs:
        return None, None
    st = attrs[0].sample_type
    if st & S_IDENTIFIER:
        return 0, 1
    if not st & S_ID:
        return None, None
    body = sum(1 for bit in (S_IP, S_TID, S_TIME, S_ADDR) if st & bit)
    tail = 1 + sum(1 for bit in (S_STREAM_ID, S_CPU) if st & bit)
    return body, tail


# -- the record walker ---------------------------------------------------------------------

_TRAILER_BITS = (S_TID, S_TIME, S_ID, S_STREAM_ID, S_CPU, S_IDENTIFIER)
_TRAILER_MASK = S_TID | S_TIME | S_ID | S_STREAM_ID | S_CPU | S_IDENTIFIER


class _Walker:
    """Walks records, keeps the non-sample ones as objects and the sample records'
    offsets, decoded in bulk per chunk (``_decode``)."""

    def __init__(self, pd: PerfData, order: str) -> None:
        self.pd = pd
        self.order = order
        self.hdr = struct.Struct(order + "IHH")
        self.counts: dict[int, int] = {}
        self.order_no = 0
        self._setup_attrs()
        self._zstd: Any = None
        self._zbuf = b""
        self.base = 0  # the file offset of the buffer being walked (for messages)

    def _setup_attrs(self) -> None:
        pd = self.pd
        while len(pd.samples_by_attr) < len(pd.attrs):
            pd.samples_by_attr.append(SampleColumns())
        self.id_body, self.id_tail = _id_positions(pd.attrs)
        self.attr_of_id = {i: n for n, a in enumerate(pd.attrs) for i in a.ids}
        trailers = {(a.sample_id_all, a.sample_type & _TRAILER_MASK) for a in pd.attrs}
        self.same_trailer = len(trailers) <= 1
        for a in pd.attrs:
            why = _unsupported_attr(a)
            if why and why not in pd.unsupported:
                pd.unsupported.append(why)
        if any(a.flags & F_USE_CLOCKID for a in pd.attrs):
            pd.clockid = next(a.clockid for a in pd.attrs if a.flags & F_USE_CLOCKID)

    # ---- the loop
    def walk(self, buf: Any, start: int, end: int) -> int:
        """Process the whole records in ``buf[start:end]``; the offset after the last one
        (a record cut by ``end`` is left for the caller: the rest of a stream, or a
        truncated file)."""
        unpack = self.hdr.unpack_from
        samples: list[int] = []
        add = samples.append
        counts = self.counts
        pos = start
        while pos + 8 <= end:
            typ, misc, size = unpack(buf, pos)
            if size < 8:
                self._bad_record(pos, f"byte {self.base + pos}: a record of size {size} "
                                 f"(type {typ}): the stream makes no sense from here")
                pos = end
                break
            if pos + size > end:
                break
            if typ == SAMPLE:
                add(pos)
                pos += size
                continue
            extra = 0
            if typ == AUXTRACE and size >= 16:  # the AUX data follows the record
                extra = struct.unpack_from(self.order + "Q", buf, pos + 8)[0]
            elif typ == HEADER_TRACING_DATA and size >= 12:
                extra = (struct.unpack_from(self.order + "I", buf, pos + 8)[0] + 7) & ~7
            if pos + size + extra > end:
                break
            counts[typ] = counts.get(typ, 0) + 1
            self.order_no += 1
            try:
                self._record(typ, misc, buf, pos, size, extra)
            except (struct.error, ValueError, IndexError, UnicodeDecodeError):
                counts[-typ - 1] = counts.get(-typ - 1, 0) + 1  # unreadable: counted
            pos += size + extra
        if samples:
            self._decode(buf, samples)
        self.counts[SAMPLE] = self.counts.get(SAMPLE, 0) + len(samples)
        if pos < end and self.pd.truncated_at is None and not self.stream:
            self.pd.truncated_at = pos
        return pos

    stream = False

    def _bad_record(self, pos: int, msg: str) -> None:
        pd = self.pd
        if pd.truncated_at is None:
            pd.truncated_at = self.base + pos
        pd.first_bad = pd.first_bad or msg

    # ---- non-sample records
    def _trailer_attr(self, buf: Any, pos: int, size: int) -> EventAttr | None:
        """The attr whose sample_id_all trailer a non-sample record carries (by its
        IDENTIFIER when the attrs' trailers differ)."""
        attrs = self.pd.attrs
        if not attrs:
            return None
        if self.same_trailer or self.id_tail is None:
            return attrs[0]
        (ident,) = struct.unpack_from(self.order + "Q", buf, pos + size - 8 * self.id_tail)
        n = self.attr_of_id.get(ident)
        return attrs[n] if n is not None else attrs[0]

    def _tail(self, buf: Any, pos: int, size: int
              ) -> tuple[int | None, int | None, int | None, int | None]:
        """(pid, tid, time, cpu) from a record's sample_id_all trailer."""
        a = self._trailer_attr(buf, pos, size)
        if a is None or not a.sample_id_all:
            return None, None, None, None
        st = a.sample_type
        n = sum(1 for bit in _TRAILER_BITS if st & bit)
        p = pos + size - 8 * n
        if p < pos + 8:
            return None, None, None, None
        order = self.order
        pid = tid = time = cpu = None
        if st & S_TID:
            pid, tid = struct.unpack_from(order + "ii", buf, p)
            p += 8
        if st & S_TIME:
            (time,) = struct.unpack_from(order + "Q", buf, p)
            p += 8
        if st & S_ID:
            p += 8
        if st & S_STREAM_ID:
            p += 8
        if st & S_CPU:
            (cpu,) = struct.unpack_from(order + "I", buf, p)
        return pid, tid, time, cpu

    def _cstr(self, buf: Any, start: int, end: int) -> str:
        raw = bytes(buf[start:end])
        return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")

    def _record(self, typ: int, misc: int, buf: Any, pos: int, size: int, extra: int) -> None:
        pd, order = self.pd, self.order
        end = pos + size
        if typ == MMAP2 or typ == MMAP:
            pid, tid, start, length, pgoff = struct.unpack_from(order + "iiQQQ", buf, pos + 8)
            bid = None
            if typ == MMAP2:
                if misc & MISC_MMAP_BUILD_ID:
                    n = buf[pos + 40]
                    bid = bytes(buf[pos + 44 : pos + 44 + min(n, 20)]).hex() or None
                prot, flags = struct.unpack_from(order + "II", buf, pos + 64)
                name_at = pos + 72
                ptxt = ("r" if prot & 1 else "-") + ("w" if prot & 2 else "-") + (
                    "x" if prot & 4 else "-") + ("s" if flags & 1 else "p")
            else:
                name_at = pos + 40
                ptxt = "r" if misc & MISC_MMAP_DATA else "x"
            time = self._tail(buf, pos, size)[2]
            name = self._cstr(buf, name_at, end)
            cpumode = misc & MISC_CPUMODE_MASK
            pd.mmaps.append(MmapRecord(pid, tid, start, length, pgoff, ptxt, name, time, bid,
                                       cpumode in (MISC_KERNEL, MISC_GUEST_KERNEL) or pid == -1,
                                       self.order_no))
        elif typ == COMM:
            pid, tid = struct.unpack_from(order + "ii", buf, pos + 8)
            time = self._tail(buf, pos, size)[2]
            pd.comms.append(CommRecord(pid, tid, self._cstr(buf, pos + 16, end), time,
                                       bool(misc & MISC_COMM_EXEC), self.order_no))
        elif typ == FORK or typ == EXIT:
            pid, ppid, tid, ptid, time = struct.unpack_from(order + "iiiiQ", buf, pos + 8)
            rec = TaskRecord(pid, ppid, tid, ptid, time, self.order_no)
            (pd.forks if typ == FORK else pd.exits).append(rec)
        elif typ == LOST:
            _id, lost = struct.unpack_from(order + "QQ", buf, pos + 8)
            pd.lost += lost
        elif typ == LOST_SAMPLES:
            (lost,) = struct.unpack_from(order + "Q", buf, pos + 8)
            pd.lost_samples += lost
        elif typ == SWITCH or typ == SWITCH_CPU_WIDE:
            pid, tid, time, cpu = self._tail(buf, pos, size)
            opid = otid = None
            if typ == SWITCH_CPU_WIDE:
                opid, otid = struct.unpack_from(order + "ii", buf, pos + 8)
            pd.switches.append(SwitchRecord(-1 if pid is None else pid,
                                            -1 if tid is None else tid, time, cpu,
                                            bool(misc & MISC_SWITCH_OUT),
                                            bool(misc & MISC_SWITCH_OUT_PREEMPT), opid, otid))
        elif typ == KSYMBOL:
            addr, length, ktype, kflags = struct.unpack_from(order + "QIHH", buf, pos + 8)
            pd.ksymbols.append(KsymbolRecord(addr, length, ktype, bool(kflags & 1),
                                             self._cstr(buf, pos + 24, end),
                                             self._tail(buf, pos, size)[2]))
        elif typ == HEADER_ATTR:
            self._header_attr(buf, pos, size)
        elif typ == HEADER_FEATURE:
            (feat,) = struct.unpack_from(order + "Q", buf, pos + 8)
            try:
                _feature(pd, feat, bytes(buf[pos + 16 : end]), order)
            except (struct.error, ValueError, IndexError):
                pass
            if feat == FEAT_EVENT_DESC or feat == FEAT_CLOCK_DATA:
                self._setup_attrs()
        elif typ == HEADER_BUILD_ID:
            _build_id_record(pd, bytes(buf[pos:end]), misc, order)
        elif typ == HEADER_TRACING_DATA:
            _tracing_data(pd, bytes(buf[end : end + extra]))
        elif typ == EVENT_UPDATE:
            utype, uid = struct.unpack_from(order + "QQ", buf, pos + 8)
            if utype == 2:  # PERF_EVENT_UPDATE__NAME
                n = self.attr_of_id.get(uid)
                if n is not None:
                    pd.attrs[n].name = self._cstr(buf, pos + 24, end)
        elif typ == COMPRESSED:
            self._compressed(buf, pos + 8, end)
        elif typ == AUXTRACE_INFO or typ == AUXTRACE:
            why = "AUX area tracing (e.g. intel_pt), which only perf script decodes"
            if why not in pd.unsupported:
                pd.unsupported.append(why)

    def _header_attr(self, buf: Any, pos: int, size: int) -> None:
        """Pipe mode: an attr and its ids as a record."""
        pd, order = self.pd, self.order
        (asize,) = struct.unpack_from(order + "I", buf, pos + 8 + 4)
        if asize < 64 or 8 + asize > size:
            raise ValueError("attr record of a bad size")
        attr = _parse_attr(bytes(buf[pos + 8 : pos + 8 + asize]), order)
        nids = (size - 8 - asize) // 8
        attr.ids = list(struct.unpack_from(order + f"{nids}Q", buf, pos + 8 + asize))
        attr.name = attr.default_name()
        pd.attrs.append(attr)
        self._setup_attrs()

    def _compressed(self, buf: Any, start: int, end: int) -> None:
        """PERF_RECORD_COMPRESSED: a zstd stream (one decompressor across records, as
        perf's); the records inside may straddle two of them."""
        if self._zstd is None:
            try:
                import zstandard
            except ImportError:  # pragma: no cover - a dependency
                raise InputError(self.pd.path, "holds zstd-compressed records (perf record "
                                 "-z) and the zstandard module is missing "
                                 "(pip install zstandard)") from None
            self._zstd = zstandard.ZstdDecompressor().decompressobj(read_across_frames=True)
            self._zerr = zstandard.ZstdError
        try:
            out = self._zstd.decompress(bytes(buf[start:end]))
        except self._zerr as e:
            raise ValueError(str(e)) from None
        data = self._zbuf + out
        inner = _Walker.__new__(_Walker)
        inner.__dict__.update({k: getattr(self, k) for k in self._STATE})
        inner.stream = True
        inner.base = self.base + start - 8  # (offsets inside: of the decompressed bytes)
        done = inner.walk(data, 0, len(data))
        self.order_no = inner.order_no
        self._zbuf = data[done:]

    _STATE = ("pd", "order", "hdr", "counts", "order_no", "id_body", "id_tail", "attr_of_id",
              "same_trailer", "_zstd", "_zerr", "_zbuf", "base")

    def finish(self) -> None:
        pd = self.pd
        for s in pd.samples_by_attr:
            s._finish()
        pd.chains._finish()
        names = dict(RECORD_NAMES)
        out: dict[str, int] = {}
        for typ, n in sorted(self.counts.items()):
            if typ < 0:
                out[f"{names.get(-typ - 1, str(-typ - 1))} (unreadable)"] = n
            elif n:
                out[names.get(typ, f"type {typ}")] = n
        pd.record_counts = out

    # ---- samples, in bulk
    def _decode(self, buf: Any, offsets: list[int]) -> None:
        import numpy as np

        pd = self.pd
        if not pd.attrs:
            raise InputError(pd.path, f"byte {self.base + offsets[0]}: a sample before any event "
                             "attribute was described")
        dt = np.dtype(self.order + "u8")
        offs = np.array(offsets, dtype=np.int64)
        base = int(offs[0]) % 8
        if (offs % 8 != base).any():
            self._decode_unaligned(buf, offs)
            return
        nwords = (len(buf) - base) // 8
        words = np.frombuffer(buf, dtype=dt, count=nwords, offset=base)
        w = (offs - base) // 8
        hdr = words[w]
        if self.order == "<":
            size_w = (hdr >> np.uint64(48)).astype(np.int64) // 8
            misc = ((hdr >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.int64)
        else:  # big-endian: the header's u32 type comes first in the word's high half
            size_w = (hdr & np.uint64(0xFFFF)).astype(np.int64) // 8
            misc = ((hdr >> np.uint64(16)) & np.uint64(0xFFFF)).astype(np.int64)
        if len(pd.attrs) == 1 or self.id_body is None:
            groups = {0: np.arange(len(offs))}
        else:
            ids = words[w + 1 + self.id_body]
            known = np.array(sorted(self.attr_of_id), dtype=np.uint64)
            attr_n = np.array([self.attr_of_id[int(i)] for i in known], dtype=np.int64)
            k = np.searchsorted(known, ids)
            k = np.minimum(k, len(known) - 1)
            ok = known[k] == ids if len(known) else np.zeros(len(ids), dtype=bool)
            which = np.where(ok, attr_n[k] if len(known) else 0, -1)
            bad = int((~ok).sum())
            if bad:
                pd.bad_samples += bad
                pd.first_bad = pd.first_bad or (
                    f"byte {self.base + int(offs[np.flatnonzero(~ok)[0]])}: a sample of an "
                    "unknown event "
                    "id")
            groups = {n: np.flatnonzero(which == n) for n in range(len(pd.attrs))}
        for n, sel in groups.items():
            if len(sel):
                part = self._decode_attr(pd.attrs[n], words, w[sel], size_w[sel], misc[sel],
                                         buf, base, offs[sel])
                if part is not None:
                    pd.samples_by_attr[n]._parts.append(part)

    def _decode_attr(self, attr: EventAttr, words: Any, w: Any, size_w: Any, misc: Any,
                     buf: Any, base: int, offs: Any) -> dict[str, Any] | None:
        """Every field of these samples of ``attr`` at once (``w``: the word index of each
        record's header in ``words``); those whose fields run past their record are left
        out (counted)."""
        import numpy as np

        pd = self.pd
        st = attr.sample_type
        lay = self._layout(attr, words, w, w + size_w, base)
        ok = lay.ok.copy()
        pos, nr, rsize = lay.pos, lay.nr, lay.rsize
        if "period" in pos:  # a period no event has: a corrupt sample (sums would overflow)
            ok &= words[np.where(ok, pos["period"], w)] <= np.uint64(MAX_PERIOD)
        elif not attr.freq and attr.sample_period > MAX_PERIOD:
            ok[:] = False  # (the attr's fixed period)
        if not ok.all():
            bad = np.flatnonzero(~ok)
            pd.bad_samples += len(bad)
            why = ("a sample whose fields run past its record" if not lay.ok[bad[0]] else
                   f"a sample whose period is over {MAX_PERIOD:,}")
            pd.first_bad = pd.first_bad or (
                f"byte {self.base + int(offs[bad[0]])}: {why} "
                f"(its record: {int(size_w[bad[0]]) * 8} bytes)")
            keep = np.flatnonzero(ok)
            if not len(keep):
                return None
            w, misc = w[keep], misc[keep]
            pos = {k: v[keep] for k, v in pos.items()}
            if nr is not None:
                nr = nr[keep]
            if st & S_RAW:
                rsize = rsize[keep]
        out = self._fields(attr, words, pos, len(w), misc)
        keys, kstart = self._chain_keys(words, pos, nr, out)
        out["chain"] = pd.chains.add(keys, kstart)
        if st & S_RAW:
            out["raw"], out["raw_start"] = _raw_payloads(buf, pos["raw"], rsize)
            out["raw_size"] = rsize
        return out

    def _layout(self, attr: EventAttr, words: Any, w: Any, end: Any, base: int
                ) -> _SampleLayout:
        """Where each sample's fields are (the layout follows ``attr.sample_type``; the
        callchain's and raw payload's sizes vary per sample)."""
        import numpy as np

        st = attr.sample_type
        ok = np.ones(len(w), dtype=bool)
        pos: dict[str, Any] = {}

        def field_at(p: Any) -> Any:
            """The word at p (inside each record: else the sample is marked bad)."""
            inside = p < end
            ok[:] &= inside
            return words[np.where(inside, p, w)]

        p = w + 1
        if st & S_IDENTIFIER:
            p = p + 1
        for bit, key in ((S_IP, "ip"), (S_TID, "tid"), (S_TIME, "time"), (S_ADDR, None),
                         (S_ID, None), (S_STREAM_ID, None), (S_CPU, "cpu"),
                         (S_PERIOD, "period")):
            if st & bit:
                if key is not None:
                    pos[key] = p
                p = p + 1
        if st & S_READ:
            rf = attr.read_format
            per = 1 + bool(rf & R_ID) + bool(rf & R_LOST)
            times = bool(rf & R_TOTAL_TIME_ENABLED) + bool(rf & R_TOTAL_TIME_RUNNING)
            if rf & R_GROUP:
                nr = field_at(p).astype(np.int64)
                nr = np.where((nr >= 0) & (nr < 1 << 20), nr, 1 << 40)
                p = p + 1 + times + nr * per
            else:
                p = p + per + times
        nr = None
        if st & S_CALLCHAIN:
            nr = field_at(p).astype(np.int64)
            nr = np.where((nr >= 0) & (nr < 1 << 24), nr, 1 << 40)
            pos["chain"] = p
            p = p + 1 + nr
        rsize = None
        if st & S_RAW:
            rs = field_at(p)
            rsize = ((rs & np.uint64(0xFFFFFFFF)) if self.order == "<" else (
                rs >> np.uint64(32))).astype(np.int64)
            pos["raw"] = base + p * 8 + 4
            p = (p * 8 + 4 + rsize + 7) // 8
        ok &= p <= end
        for key in ("ip", "tid", "time", "cpu", "period"):
            if key in pos:
                field_at(pos[key])
        return _SampleLayout(pos, nr, rsize, ok)

    def _fields(self, attr: EventAttr, words: Any, pos: dict[str, Any], n: int, misc: Any
                ) -> dict[str, Any]:
        """The fixed fields of good samples at ``pos``: ip, pid, tid, time, cpu, period,
        cpumode (defaults where the attr records none)."""
        import numpy as np

        out: dict[str, Any] = {"raw": None, "raw_start": None, "raw_size": None}
        out["ip"] = words[pos["ip"]] if "ip" in pos else np.zeros(n, dtype=np.uint64)
        if "tid" in pos:
            v = words[pos["tid"]]
            lo = (v & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)
            hi = (v >> np.uint64(32)).astype(np.uint32).view(np.int32)
            out["pid"], out["tid"] = (lo, hi) if self.order == "<" else (hi, lo)
        else:
            out["pid"] = np.full(n, -1, dtype=np.int32)
            out["tid"] = np.full(n, -1, dtype=np.int32)
        out["time"] = words[pos["time"]] if "time" in pos else None
        if "cpu" in pos:
            v = words[pos["cpu"]]
            out["cpu"] = ((v & np.uint64(0xFFFFFFFF)) if self.order == "<" else (
                v >> np.uint64(32))).astype(np.int32)
        else:
            out["cpu"] = np.full(n, -1, dtype=np.int32)
        if "period" in pos:
            out["period"] = words[pos["period"]]
        else:  # a fixed period (-c N), or a frequency's first sample
            out["period"] = np.full(n, max(1, attr.sample_period) if not attr.freq else 1,
                                    dtype=np.uint64)
        out["cpumode"] = (misc & MISC_CPUMODE_MASK).astype(np.uint8)
        return out

    @staticmethod
    def _chain_keys(words: Any, pos: dict[str, Any], nr: Any, fields: dict[str, Any]
                    ) -> tuple[Any, Any]:
        """The (process, callchain) key of each sample: its pid word, then its chain (a
        sample without one: its cpumode's context marker and its ip); and each key's
        start (n + 1 of them)."""
        import numpy as np

        n = len(fields["pid"])
        pid_word = fields["pid"].astype(np.int64).astype(np.uint64) & np.uint64(0xFFFFFFFF)
        if nr is not None:
            ln = nr + 1  # the nr word, replaced by the pid, then the entries
            kstart = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(ln, out=kstart[1:])
            first = np.repeat(pos["chain"] - kstart[:-1], ln)
            keys = words[first + np.arange(int(kstart[-1]), dtype=np.int64)]
            keys[kstart[:-1]] = pid_word
            return keys, kstart
        mode = fields["cpumode"]
        marker = np.where(mode == MISC_KERNEL, np.uint64(CONTEXT_KERNEL),
                          np.uint64(CONTEXT_USER))
        marker = np.where(mode == MISC_GUEST_KERNEL, np.uint64(CONTEXT_GUEST), marker)
        keys = np.empty(3 * n, dtype=np.uint64)
        keys[0::3], keys[1::3], keys[2::3] = pid_word, marker, fields["ip"]
        return keys, np.arange(n + 1, dtype=np.int64) * 3

    def _decode_unaligned(self, buf: Any, offs: Any) -> None:
        """Records at offsets that are not all 8 apart (a writer that padded nothing):
        each sample copied to an aligned buffer first (slow, and rare)."""
        import numpy as np

        pieces, new_offs, at = [], [], 0
        for o in offs.tolist():
            (size,) = struct.unpack_from(self.order + "H", buf, o + 6)
            rec = bytes(buf[o : o + size])
            rec += b"\0" * (-len(rec) % 8)
            pieces.append(rec)
            new_offs.append(at)
            at += len(rec)
        joined = b"".join(pieces)
        self._decode(joined, new_offs)
        del np


def _unsupported_attr(a: EventAttr) -> str | None:
    """Why jitprof cannot read this event's stacks itself (perf script can), or None."""
    if a.sample_type & S_STACK_USER and a.sample_stack_user:
        return ("DWARF call graphs (perf record --call-graph dwarf): user stacks are "
                "unwound by perf's libunwind/libdw")
    if a.sample_type & S_BRANCH_STACK and a.branch_sample_type & BRANCH_CALL_STACK:
        return "LBR call graphs (perf record --call-graph lbr)"
    if a.sample_type & S_AUX:
        return "AUX area samples"
    return None


# -- pipe mode -----------------------------------------------------------------------------

CHUNK = 2 << 20


class PerfDataStream:
    """A pipe-mode perf.data that arrives in pieces (``perf record -o -`` read by a live
    view): ``feed`` what was read, ``snapshot`` the data so far (the stream can go on)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pd: PerfData | None = None
        self._walker: _Walker | None = None
        self._head = b""
        self._pending = b""
        self._done = 0  # stream bytes consumed

    def feed(self, data: bytes) -> None:
        if self._walker is None:
            self._head += data
            if len(self._head) < PIPE_HEADER_SIZE:
                return
            head, data = self._head[:PIPE_HEADER_SIZE], self._head[PIPE_HEADER_SIZE:]
            self._head = b""
            order = _stream_order(self.name, head)
            self.pd = PerfData(self.name, pipe=True)
            self._walker = _Walker(self.pd, order)
            self._walker.stream = True
            self._done = PIPE_HEADER_SIZE
        buf = self._pending + data if self._pending else data
        self._walker.base = self._done
        used = self._walker.walk(buf, 0, len(buf))
        self._done += used
        self._pending = buf[used:]

    @property
    def bytes_read(self) -> int:
        return self._done + len(self._pending)

    def snapshot(self) -> PerfData:
        """Everything read so far, its columns joined (more can be fed after)."""
        if self.pd is None or self._walker is None:
            return PerfData(self.name, pipe=True)
        for a in self.pd.attrs:
            if not a.name:
                a.name = a.default_name()
        self._walker.finish()
        return self.pd

    def take(self) -> PerfData:
        """The samples read since the last ``take`` (the side-band records and facts so
        far with them), which the stream then forgets: a live view converts each piece
        once and the stream's memory stays what is not taken yet."""
        import dataclasses

        pd = self.snapshot()
        out = dataclasses.replace(pd)
        pd.samples_by_attr = [SampleColumns() for _ in pd.samples_by_attr]
        pd.chains = ChainTable()
        return out

    def close(self) -> PerfData:
        """The end of the stream: a record cut by it is counted as the truncation."""
        pd = self.snapshot()
        if self._pending and pd.truncated_at is None:
            pd.truncated_at = self._done
        return pd


def _stream_order(path: str, head: bytes) -> str:
    if not is_perf_data_magic(head):
        raise InputError(path, "not a perf.data stream (no PERFILE2 magic at byte 0)")
    if len(head) < PIPE_HEADER_SIZE:
        raise InputError(path, f"cut short in its header (byte {len(head)})")
    order = "<" if head[:8] == MAGIC else ">"
    (hsize,) = struct.unpack(order + "Q", head[8:16])
    if hsize != PIPE_HEADER_SIZE:
        raise InputError(path, f"byte 8: header size {hsize}: a perf.data file, not a "
                         "pipe-mode stream (read it as a file)")
    return order


def _read_stream(path: str, f: IO[bytes], progress: Callable[[int], None] | None) -> PerfData:
    head = _read_exact(f, PIPE_HEADER_SIZE)
    _stream_order(path, head)
    stream = PerfDataStream(path)
    stream.feed(head)
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            break
        stream.feed(chunk)
        if progress is not None:
            progress(stream.bytes_read)
        pd = stream.pd
        if pd is not None and pd.first_bad and pd.truncated_at is not None:
            break
    return stream.close()


def _read_exact(f: IO[bytes], n: int) -> bytes:
    out = b""
    while len(out) < n:
        b = f.read(n - len(out))
        if not b:
            break
        out += b
    return out
@dataclass(frozen=True, slots=True)
class _SampleLayout:
    """Per sample of one attr: the word index of each fixed field it has (``raw``: the
    raw payload's byte offset in the file), the callchain's and raw payload's sizes
    (None: not recorded), and whether its fields lie inside its record."""

    pos: dict[str, Any]
    nr: Any
    rsize: Any
    ok: Any


def _raw_payloads(buf: Any, at: Any, sizes: Any) -> tuple[bytes, Any]:
    """The samples' raw payloads (``sizes[i]`` bytes at byte ``at[i]`` of ``buf``)
    joined, and each one's start in the joined bytes."""
    import numpy as np

    raw_parts = []
    starts = np.zeros(len(sizes), dtype=np.int64)
    off = 0
    for i, (b, sz) in enumerate(zip(at.tolist(), sizes.tolist(), strict=True)):
        raw_parts.append(bytes(buf[b : b + sz]))
        starts[i] = off
        off += sz
    return b"".join(raw_parts), starts
