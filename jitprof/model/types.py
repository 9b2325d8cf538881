"""The shared vocabulary: frames, kinds, diagnostics, function statistics."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal, get_args

# The bin the TUI reads with (seconds). The reader keeps one count per (stack, bin);
# resolve merges adjacent bins so that at most MAX_BINS (256) remain, so a long recording
# gets wider bins and a stack appears at most 256 times.
TIMELINE_BIN = 0.01

# The events jitprof makes from context switches (issue 17; perf records no such event):
# off-cpu weighs blocked time, wall CPU + blocked time, both in nanoseconds.
SyntheticEvent = Literal["off-cpu", "wall"]
OFF_CPU: SyntheticEvent = "off-cpu"
WALL: SyntheticEvent = "wall"
SYNTHETIC_EVENTS: tuple[SyntheticEvent, ...] = get_args(SyntheticEvent)
CPU_TIME_EVENTS = ("cpu-clock", "task-clock")  # their period is CPU time in nanoseconds


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
    # off-cpu and wall profiles (issue 17): off-CPU time per state and per thread, for
    # the report header (jitprof/resolve/offcpu.py)
    off_cpu: list[str] = field(default_factory=list)
    # a wall profile: each function's off-CPU self and total weight (ns), keyed
    # "kind<TAB>dso<TAB>name" (its CPU time is the rest); empty for other events
    off_cpu_self: dict[str, int] = field(default_factory=dict)
    off_cpu_total: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FunctionStats:
    frame_id: int
    self_weight: int
    total_weight: int
    self_samples: int
    total_samples: int

