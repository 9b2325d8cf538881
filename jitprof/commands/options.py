"""The option groups commands share, and the builders of the frozen option objects a
command receives instead of one keyword argument per option."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

import click

from jitprof.inputs.classify import PERF_DATA_READERS, PerfDataReader
from jitprof.model import Kind

if TYPE_CHECKING:
    from jitprof.present.rows import SortKey
    from jitprof.resolve import LoadOptions
    from jitprof.resolve.options import ElfPolicy

# jitprof.resolve.options.ELF_POLICIES (importing resolve costs ~0.2 s every command; a test
# holds the two equal)
ELF_POLICIES: tuple[ElfPolicy, ...] = ("auto", "always", "never")

T = TypeVar("T")
Command = Callable[..., None]
TextOrJson = Literal["text", "json"]  # maps' and symbolize's --format
TEXT_OR_JSON: tuple[TextOrJson, ...] = get_args(TextOrJson)


def parse_kind(value: str) -> Kind:
    for k in Kind:
        if k.value.lower() == value.lower():
            return k
    raise click.BadParameter(f"unknown kind {value!r}; one of " + ", ".join(k.value for k in Kind))


def kinds_option(help: str) -> Callable[[Command], Command]:
    """--kind (repeatable): the value is a list of ``Kind``."""
    return click.option("--kind", "kinds", multiple=True,
                        callback=lambda c, p, v: [parse_kind(x) for x in v], help=help)


# the orders of jitprof.present.rows.SORT_KEYS that report and top --sort offer
TABLE_SORTS: tuple[SortKey, ...] = ("self", "total")


def sort_option(f: Command) -> Command:
    """--sort self|total (report, top)."""
    return click.option("--sort", type=click.Choice(TABLE_SORTS), default="self",
                        show_default=True)(f)


def parse_pids(ctx: click.Context, param: click.Parameter, value: Sequence[str]) -> list[int]:
    """--pid 1,2 --pid 3 -> [1, 2, 3]; a part that is no positive number is a usage error."""
    out: list[int] = []
    for v in value:
        for part in v.split(","):
            try:
                pid = int(part)
            except ValueError:
                raise click.BadParameter(f"not a pid: {part!r}") from None
            if pid <= 0:
                raise click.BadParameter(f"not a pid: {part!r}")
            out.append(pid)
    return out


def parse_binaries(values: Sequence[str]) -> dict[str, str]:
    """--binary DSO=PATH values -> {DSO: PATH}."""
    out: dict[str, str] = {}
    for v in values:
        dso, sep, path = v.partition("=")
        if not sep or not dso or not path:
            raise click.BadParameter(f"{v!r} is not DSO=PATH", param_hint="--binary")
        out[dso] = path
    return out


def collect(cls: type[T], name: str) -> Callable[[Command], Command]:
    """Put beneath a command's click options: the parameters named like the fields of the
    frozen dataclass ``cls`` reach the command as one ``cls`` object, keyword ``name``."""
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]

    def wrap(f: Command) -> Command:
        @functools.wraps(f)
        def run(*args: Any, **kw: Any) -> None:
            mine = {k: kw.pop(k) for k in list(kw) if k in fields}
            f(*args, **{name: cls(**mine)}, **kw)
        return run
    return wrap


# -- the input options: what is read and how frames are named (report, tui, export, diff) -
_ELF_OPTIONS = (
    click.option("--symfs", metavar="DIR", default=None,
                 help="Look for the recorded files under DIR (DIR + recorded path), like "
                      "perf's --symfs, e.g. binaries copied from the recording machine."),
    click.option("--binary", "binaries", multiple=True, metavar="DSO=PATH",
                 help="Read DSO (its recorded path or base name) from PATH (repeatable)."),
    click.option("--proc-maps", "proc_maps", multiple=True, metavar="FILE",
                 help="A copy of /proc/<pid>/maps (repeatable; the pid is taken from a name "
                      "like 123/maps, maps-123 or 123.maps, else it applies to every "
                      "process): where files were mapped, for texts without mmap events."),
    click.option("--kallsyms", metavar="FILE", default=None,
                 help="Kernel symbols for unnamed kernel frames (default: /proc/kallsyms)."),
    click.option("--elf-symbols", "elf_policy", type=click.Choice(ELF_POLICIES),
                 default="auto", show_default=True,
                 help="Name frames in ELF files from their symbols: auto = the frames perf "
                      "left unnamed, always = every one (perf's names replaced), never = "
                      "keep perf's."),
)


_MAP_OPTIONS = (
    click.option("--map", "maps", multiple=True, metavar="PATH",
                 help="A perf map (repeatable). perf-<pid>.map applies to that pid, any other "
                      "name to every process without a map of its own."),
    click.option("--map-dir", "map_dirs", multiple=True, metavar="DIR",
                 help="Look for perf-<pid>.map here (repeatable) before beside the input and "
                      "/tmp."),
    click.option("--no-tmp", is_flag=True, help="Do not look for maps in /tmp (nor jitdumps in "
                 "/tmp and the working directory)."),
    click.option("--jitdump", "jitdumps", multiple=True, metavar="PATH",
                 help="A jitdump (jit-<pid>.dump; repeatable; its pid is in its header). Found "
                      "like maps otherwise (and in the working directory); a process's jitdump "
                      "wins over its perf map and names reused code by sample time."),
)


_FILTER_OPTIONS = (
    click.option("--pid", "pids", multiple=True, type=int, help="Only samples of this process."),
    click.option("--comm", "comms", multiple=True, help="Only samples of this command name."),
    click.option("--event", default=None,
                 help="Event to read (default: the first in the input); off-cpu and wall "
                      "(blocked time; CPU + blocked, ns) are made from context switches "
                      "(jitprof record --off-cpu)."),
    click.option("--strict", is_flag=True,
                 help="Fail on the first bad map line instead of counting."),
    click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                 help="Processes reading one big input at once (default: the CPUs, at most 4)."),
    click.option("--perf-data-reader", "perf_data", type=click.Choice(PERF_DATA_READERS),
                 default="auto", show_default=True,
                 help="How a perf.data is read: native = by jitprof itself (no perf needed), "
                      "script = through 'perf script', auto = native, and through perf script "
                      "for what only perf decodes (--call-graph dwarf or lbr, AUX tracing)."),
)


def default_jobs() -> int:
    return min(os.cpu_count() or 1, 4)


@dataclasses.dataclass(frozen=True, slots=True)
class InputArgs:
    """The input options as given on the command line; ``load_options()`` checks them."""

    maps: Sequence[str]
    map_dirs: Sequence[str]
    no_tmp: bool
    jitdumps: Sequence[str]
    pids: Sequence[int]
    comms: Sequence[str]
    event: str | None
    strict: bool
    jobs: int | None
    symfs: str | None
    binaries: Sequence[str]
    proc_maps: Sequence[str]
    kallsyms: str | None
    elf_policy: ElfPolicy
    perf_data: PerfDataReader

    def load_options(self) -> LoadOptions:
        """The frozen LoadOptions (a missing --symfs directory or --binary file: an error)."""
        from jitprof.resolve import ElfOptions, LoadOptions

        elf = ElfOptions(symfs=self.symfs, binaries=parse_binaries(self.binaries),
                         proc_maps=list(self.proc_maps), kallsyms=self.kallsyms,
                         policy=self.elf_policy)
        elf.check()
        return LoadOptions(maps=tuple(self.maps), map_dirs=tuple(self.map_dirs),
                           search_tmp=not self.no_tmp, jitdumps=tuple(self.jitdumps),
                           event=self.event, pids=tuple(self.pids), comms=tuple(self.comms),
                           strict=self.strict, jobs=self.jobs or default_jobs(), elf=elf,
                           perf_data=self.perf_data)


def input_options(f: Command) -> Command:
    """Every option that decides what is read and how frames are named, the same on
    every command that loads a profile: where JIT names come from (--map, --map-dir,
    --no-tmp, --jitdump), which samples (--pid, --comm, --event), --strict, --jobs and the
    ELF options. The command receives them as one ``load`` (``LoadOptions``), checked (a
    missing --symfs directory or --binary file is a one-line error)."""
    fields = [fd.name for fd in dataclasses.fields(InputArgs)]

    @functools.wraps(f)
    def run(*args: Any, **kw: Any) -> None:
        given = InputArgs(**{name: kw.pop(name) for name in fields})
        f(*args, load=given.load_options(), **kw)

    for opt in reversed((*_MAP_OPTIONS, *_FILTER_OPTIONS, *_ELF_OPTIONS)):
        run = opt(run)
    return run


# -- the flame graph's options (export and diff to .svg / .html) ---------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class FlameOptions:
    icicle: bool = False  # the root at the top
    minwidth: float = 0.1  # pixels (of 1200): narrower frames merge


def flame_options(f: Command) -> Command:
    """--icicle and --minwidth, received as one ``flame`` (``FlameOptions``)."""
    f = collect(FlameOptions, "flame")(f)
    f = click.option("--minwidth", type=click.FloatRange(min=0), default=0.1,
                     show_default=True, metavar="PX",
                     help="svg/html: merge frames narrower than this many pixels (of 1200).")(f)
    f = click.option("--icicle", is_flag=True,
                     help="svg/html: draw the root at the top (an icicle graph).")(f)
    return f


def write_output(output: str | None, text: str) -> None:
    """A text report to ``output``, or to stdout when there is none."""
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)
