"""The shared vocabulary: frames, kinds, diagnostics and the aggregated Profile."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


class Kind(str, enum.Enum):
    """What a frame is, decided by name prefix first, then by dso (see ``classify``)."""

    PHP = "PHP"  # JIT-compiled PHP (HHVM map names "PHP::...")
    HPHP = "HPHP"  # HHVM's C++ runtime ("HPHP::...", from the binary or the map overlay)
    HHVM = "HHVM"  # HHVM JIT stubs ("HHVM::...")
    JIT = "JIT"  # other JIT names from a perf map (V8, CPython, ...) or perf inject --jit
    JAVA = "Java"  # HotSpot-compiled Java methods ("long Hot.fib(int)" shown as Hot.fib)
    JVM = "JVM"  # HotSpot's runtime code: Interpreter, StubRoutines, adapters, stubs, blobs
    NATIVE = "native"  # named frames of ELF files
    KERNEL = "kernel"
    UNKNOWN = "unknown"  # nobody could name it

    def __str__(self) -> str:
        return self.value


KIND_ORDER: tuple[Kind, ...] = tuple(Kind)


@dataclass(frozen=True, slots=True)
class Frame:
    """One function, interned once per profile. ``dso`` is for display, pid-free."""

    name: str
    kind: Kind
    dso: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A counted problem with the input, located at ``path:lineno`` (lineno 0 = whole file)."""

    path: str
    lineno: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.message}" if self.lineno else (
            f"{self.path}: {self.message}"
        )


@dataclass(slots=True)
class MapHealth:
    """What one perf map looked like (the numbers in the report header)."""

    path: str
    pid: int | None
    lines: int
    entries: int
    bad: int
    overlapping: int
    zero_size: int
    mtime: float | None
    bad_lines: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ElfFileHealth:
    """What was found for one dso whose frames were named from ELF symbols."""

    dso: str  # the recorded path
    path: str | None  # the file read (None: not found)
    symbols_path: str | None  # where the symbols came from (the file or a debug file)
    symbols_source: str  # ".symtab", ".dynsym" or "" (none)
    symbols: int
    build_id: str | None
    recorded_build_id: str | None
    build_id_mismatch: bool
    problem: str | None


@dataclass(slots=True)
class ProfileDiagnostics:
    """How the input was read and how well JIT frames were named."""

    events: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    has_period: bool = False
    jit_samples: int = 0
    jit_samples_resolved: int = 0
    jit_samples_resolved_pct: float | None = None
    jit_frames: int = 0
    jit_frames_resolved: int = 0
    maps: list[MapHealth] = field(default_factory=list)
    missing_map_pids: list[int] = field(default_factory=list)
    unknown_thread_tids: list[int] = field(default_factory=list)
    unparsed_lines: int = 0
    perf_warnings: int = 0
    srclines: int = 0
    truncated_samples: int = 0
    empty_stacks: int = 0
    inlined_frames: int = 0  # "(inlined)" callchain lines left out, times their samples
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    jitdumps: list[str] = field(default_factory=list)  # what each jitdump named (one line)
    # ELF symbolization (issue 3): the address form assumed for file frames ("offset" or
    # "raw"; one per input read), distinct (process, frame) pairs named from ELF files,
    # and the files
    address_forms: list[str] = field(default_factory=list)
    elf_frames: int = 0
    elf_frames_named: int = 0
    elf_files: list[ElfFileHealth] = field(default_factory=list)
    kernel_frames: int = 0  # distinct kernel frames perf left unnamed
    kernel_frames_named: int = 0  # ... named from kallsyms
    # where each input says it was recorded (perf script --header lines): "host vm,
    # kernel 6.1.0, perf 6.1.187, x86_64", one per input that says
    recorded_on: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FunctionStats:
    frame_id: int
    self_weight: int
    total_weight: int
    self_samples: int
    total_samples: int


def distinct_ints(a: Any) -> Any:
    """The sorted distinct values of an int64 numpy array, by one sort (numpy 2's hashing
    ``unique`` is many times slower on millions of values)."""
    import numpy as np

    if len(a) == 0:
        return a
    a = np.sort(a)
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


@dataclass(slots=True)
class Profile:
    """Samples of one event, aggregated by stack.

    ``stacks[i]`` is a tuple of frame ids, leaf first (as perf prints them);
    ``stack_weight[i]`` is the sum of periods (or 1 per sample without periods) and
    ``stack_samples[i]`` the number of samples with that stack; ``stack_thread[i]``
    indexes ``threads`` (pid, comm). Every number a view shows is derived from these.
    Built with a time-bin width (``bin_width``, seconds), ``stack_bin[i]`` is the bin
    ``int(time / bin_width)`` of the samples in ``stacks[i]`` (a stack then appears once
    per bin it has samples in); otherwise ``stack_bin`` is empty.
    """

    event: str
    frames: list[Frame] = field(default_factory=list)
    stacks: list[tuple[int, ...]] = field(default_factory=list)
    stack_thread: list[int] = field(default_factory=list)
    stack_weight: list[int] = field(default_factory=list)
    stack_samples: list[int] = field(default_factory=list)
    threads: list[tuple[int, str]] = field(default_factory=list)
    time_first: float | None = None
    time_last: float | None = None
    inputs: list[str] = field(default_factory=list)
    diagnostics: ProfileDiagnostics = field(default_factory=ProfileDiagnostics)
    stack_bin: list[int] = field(default_factory=list)
    bin_width: float | None = None
    # frame id -> full demangled forms (with parameters) of a C++ frame named from ELF
    # symbols; the frame's name is perf's short form (overloads share one frame)
    full_names: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # frame id -> how many distinct pieces of JIT code samples hit were named as it (a
    # Java method compiled several times: one row, its compiled versions counted here)
    versions: dict[int, int] = field(default_factory=dict)

    # -- totals ---------------------------------------------------------------------------
    @property
    def samples(self) -> int:
        return sum(self.stack_samples)

    @property
    def weight(self) -> int:
        return sum(self.stack_weight)

    def iter_stacks(self) -> Iterator[tuple[tuple[int, ...], int, int, int]]:
        """Yield (stack, weight, samples, thread index)."""
        return zip(
            self.stacks, self.stack_weight, self.stack_samples, self.stack_thread, strict=True
        )

    def function_stats(self) -> list[FunctionStats]:
        """Self and total per frame; total counts a recursive frame once per stack.

        Vectorised (numpy): all stacks flattened into one array, the distinct (stack,
        frame) pairs found by one sort; sums in exact int64 (a profile whose weights could
        overflow int64 takes the plain loop)."""
        import numpy as np

        n = len(self.frames)
        m = len(self.stacks)
        if not m or sum(self.stack_weight) >= 1 << 62:
            return self._function_stats_loop()
        lengths = np.fromiter(map(len, self.stacks), dtype=np.int64, count=m)
        flat = np.fromiter(itertools.chain.from_iterable(self.stacks), dtype=np.int64,
                           count=int(lengths.sum()))
        w = np.asarray(self.stack_weight, dtype=np.int64)
        s = np.asarray(self.stack_samples, dtype=np.int64)
        rows = np.flatnonzero(lengths)
        starts = np.cumsum(lengths) - lengths
        leaf = flat[starts[rows]]
        pairs = distinct_ints(np.repeat(np.arange(m, dtype=np.int64), lengths) * max(n, 1)
                              + flat)
        prow, pfid = np.divmod(pairs, max(n, 1))
        sw, ss, tw, ts = (np.zeros(n, dtype=np.int64) for _ in range(4))
        np.add.at(sw, leaf, w[rows])
        np.add.at(ss, leaf, s[rows])
        np.add.at(tw, pfid, w[prow])
        np.add.at(ts, pfid, s[prow])
        used = np.flatnonzero((tw != 0) | (sw != 0)).tolist()
        swl, ssl, twl, tsl = sw.tolist(), ss.tolist(), tw.tolist(), ts.tolist()
        return [FunctionStats(i, swl[i], twl[i], ssl[i], tsl[i]) for i in used]

    def _function_stats_loop(self) -> list[FunctionStats]:
        n = len(self.frames)
        sw = [0] * n
        ss = [0] * n
        tw = [0] * n
        ts = [0] * n
        for stack, w, s, _ in self.iter_stacks():
            if not stack:
                continue
            leaf = stack[0]
            sw[leaf] += w
            ss[leaf] += s
            for fid in set(stack):
                tw[fid] += w
                ts[fid] += s
        return [
            FunctionStats(i, sw[i], tw[i], ss[i], ts[i]) for i in range(n) if tw[i] or sw[i]
        ]

    def kind_stats(self) -> dict[Kind, tuple[int, int]]:
        """Self weight and self samples per kind (the leaf's kind)."""
        out: dict[Kind, list[int]] = {k: [0, 0] for k in Kind}
        for stack, w, s, _ in self.iter_stacks():
            if stack:
                acc = out[self.frames[stack[0]].kind]
                acc[0] += w
                acc[1] += s
        return {k: (v[0], v[1]) for k, v in out.items()}

    def verify(self) -> None:
        """Check the invariants every transform must keep; raise AssertionError if broken."""
        m = len(self.stacks)
        if not (len(self.stack_weight) == len(self.stack_samples) == len(self.stack_thread) == m):
            raise AssertionError("stack arrays differ in length")
        if self.stack_bin and len(self.stack_bin) != m:
            raise AssertionError("stack_bin differs in length from stacks")
        nframes = len(self.frames)
        for stack, w, s, t in self.iter_stacks():
            if w < 0 or s <= 0:
                raise AssertionError(f"bad weight/samples {w}/{s} for stack {stack}")
            if not 0 <= t < len(self.threads):
                raise AssertionError(f"bad thread index {t}")
            for fid in stack:
                if not 0 <= fid < nframes:
                    raise AssertionError(f"bad frame id {fid}")
        stats = self.function_stats()
        total_w = self.weight
        stacked = sum(w for st, w, _, _ in self.iter_stacks() if st)
        if sum(f.self_weight for f in stats) != stacked:
            raise AssertionError("self weights do not add up to the stacked weight")
        for f in stats:
            if not f.self_weight <= f.total_weight <= total_w:
                raise AssertionError(f"self <= total <= all broken for frame {f.frame_id}")
        # total of a frame = its self + the weight of stacks where it is not the leaf
        # (counted once per stack): recompute independently per frame.
        not_leaf = [0] * nframes
        for stack, w, _, _ in self.iter_stacks():
            if stack:
                for fid in set(stack[1:]) - {stack[0]}:
                    not_leaf[fid] += w
        for f in stats:
            if f.total_weight != f.self_weight + not_leaf[f.frame_id]:
                raise AssertionError(f"total != self + children for frame {f.frame_id}")


class ProfileBuilder:
    """Interns frames and accumulates stacks; ``finish()`` returns the Profile."""

    def __init__(self, event: str) -> None:
        self._frames: list[Frame] = []
        self._frame_ids: dict[tuple[str, Kind, str], int] = {}
        self._stack_ids: dict[tuple[tuple[int, ...], int, int | None], int] = {}
        self._thread_ids: dict[tuple[int, str], int] = {}
        self._versions: dict[int, set[object]] = {}
        self.profile = Profile(event=event, frames=self._frames)

    def frame(self, name: str, kind: Kind, dso: str, key_dso: str | None = None) -> int:
        """Intern a frame. ``key_dso`` (default ``dso``) is the part of the dso that makes
        the function distinct; runtime names (PHP/HPHP/HHVM) pass "" so one function read
        from the map and from the binary is one row."""
        key = (name, kind, dso if key_dso is None else key_dso)
        fid = self._frame_ids.get(key)
        if fid is None:
            fid = len(self._frames)
            self._frames.append(Frame(name, kind, dso))
            self._frame_ids[key] = fid
        return fid

    def full_name(self, fid: int, full: str) -> None:
        """Record a full (demangled, with parameters) form of frame ``fid``'s name."""
        have = self.profile.full_names.get(fid, ())
        if full not in have:
            self.profile.full_names[fid] = tuple(sorted((*have, full)))

    def version(self, fid: int, code: object) -> None:
        """Record that the piece of code ``code`` (a map entry) was named as frame ``fid``."""
        seen = self._versions.setdefault(fid, set())
        seen.add(code)
        if len(seen) > 1:
            self.profile.versions[fid] = len(seen)

    def thread(self, pid: int, comm: str) -> int:
        key = (pid, comm)
        tid = self._thread_ids.get(key)
        if tid is None:
            tid = len(self.profile.threads)
            self.profile.threads.append(key)
            self._thread_ids[key] = tid
        return tid

    def add(self, stack: tuple[int, ...], thread: int, weight: int, samples: int = 1,
            bin: int | None = None) -> None:
        """Count samples of a stack (in time bin ``bin`` when the profile is binned)."""
        p = self.profile
        key = (stack, thread, bin)
        sid = self._stack_ids.get(key)
        if sid is None:
            self._stack_ids[key] = len(p.stacks)
            if bin is not None:
                p.stack_bin.append(bin)
            p.stacks.append(stack)
            p.stack_thread.append(thread)
            p.stack_weight.append(weight)
            p.stack_samples.append(samples)
        else:
            p.stack_weight[sid] += weight
            p.stack_samples[sid] += samples

    def finish(self) -> Profile:
        return self.profile
