"""Command line: wires readers, resolver and reports together; the one place errors exit."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from jitprof import __version__
from jitprof.errors import InputError, JitprofError
from jitprof.model import Kind, Profile

if TYPE_CHECKING:
    from jitprof.acquire.record import Progress
    from jitprof.resolve import LoadOptions

FORMATS = ("table", "json", "csv")  # jitprof.report.profile.render
TABLE_TOP = 30  # report's table rows unless --top says

EXIT_OK = 0
EXIT_INPUT = 1  # bad input (unreadable, not perf output, bad line under --strict)
EXIT_USAGE = 2  # click's usage errors
EXIT_EMPTY = 3  # no samples (empty input, or nothing matches the filters)
EXIT_INTERNAL = 70  # a bug in jitprof (EX_SOFTWARE)


def _kind(value: str) -> Kind:
    for k in Kind:
        if k.value.lower() == value.lower():
            return k
    raise click.BadParameter(f"unknown kind {value!r}; one of " + ", ".join(k.value for k in Kind))


# -- ELF symbolization options (README "ELF symbols"), shared by report and export --------
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
    click.option("--elf-symbols", "elf_policy", type=click.Choice(["auto", "always", "never"]),
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
    click.option("--perf-data-reader", "perf_data", type=click.Choice(["auto", "native", "script"]),
                 default="auto", show_default=True,
                 help="How a perf.data is read: native = by jitprof itself (no perf needed), "
                      "script = through 'perf script', auto = native, and through perf script "
                      "for what only perf decodes (--call-graph dwarf or lbr, AUX tracing)."),
)


def default_jobs() -> int:
    return min(os.cpu_count() or 1, 4)


def input_options(f: Callable[..., None]) -> Callable[..., None]:
    """Every option that decides what is read and how frames are named, the same on
    every command that loads a profile: where JIT names come from (--map, --map-dir,
    --no-tmp, --jitdump), which samples (--pid, --comm, --event), --strict, --jobs and the
    ELF options. The command receives them as one ``load`` (``LoadOptions``), checked (a
    missing --symfs directory or --binary file is a one-line error)."""
    @functools.wraps(f)
    def run(*args: Any, maps: Sequence[str], map_dirs: Sequence[str], no_tmp: bool,
            jitdumps: Sequence[str], pids: Sequence[int], comms: Sequence[str],
            event: str | None, strict: bool, jobs: int | None, symfs: str | None,
            binaries: Sequence[str], proc_maps: Sequence[str], kallsyms: str | None,
            elf_policy: str, perf_data: str, **kw: Any) -> None:
        from jitprof.resolve import ElfOptions, LoadOptions

        elf = ElfOptions(symfs=symfs, binaries=_binaries(binaries), proc_maps=list(proc_maps),
                         kallsyms=kallsyms, policy=elf_policy)
        elf.check()
        load = LoadOptions(maps=tuple(maps), map_dirs=tuple(map_dirs), search_tmp=not no_tmp,
                           jitdumps=tuple(jitdumps), event=event, pids=tuple(pids),
                           comms=tuple(comms), strict=strict, jobs=jobs or default_jobs(),
                           elf=elf, perf_data=perf_data)
        f(*args, load=load, **kw)

    for opt in reversed((*_MAP_OPTIONS, *_FILTER_OPTIONS, *_ELF_OPTIONS)):
        run = opt(run)
    return run


def _binaries(values: Sequence[str]) -> dict[str, str]:
    """--binary DSO=PATH values -> {DSO: PATH}."""
    out: dict[str, str] = {}
    for v in values:
        dso, sep, path = v.partition("=")
        if not sep or not dso or not path:
            raise click.BadParameter(f"{v!r} is not DSO=PATH", param_hint="--binary")
        out[dso] = path
    return out


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except JitprofError as e:
            click.echo(f"jitprof: error: {e}", err=True)
            ctx.exit(e.exit_code)
        except BrokenPipeError:  # `jitprof report ... | head`
            sys.stderr.close()
            ctx.exit(0)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own usage errors and exits
        except KeyboardInterrupt:
            click.echo("jitprof: interrupted", err=True)
            ctx.exit(130)
        except OSError as e:  # writing the output, mostly
            where = f"{e.filename}: " if e.filename else ""
            click.echo(f"jitprof: error: {where}{e.strerror or e}", err=True)
            ctx.exit(EXIT_INPUT)
        except Exception as e:  # a bug: one line for the user, the traceback on request
            if os.environ.get("JITPROF_DEBUG"):
                raise
            click.echo(f"jitprof: internal error: {type(e).__name__}: {e} (a bug; set "
                       "JITPROF_DEBUG=1 for the traceback and please report it)", err=True)
            ctx.exit(EXIT_INTERNAL)


class _DefaultGroup(_Group):
    """``jitprof INPUT...`` is ``jitprof tui INPUT...``: a first argument that is not a
    command (nor -h/--help/--version) opens the TUI. Commands win over files of the same
    name: ``jitprof tui report`` or ``jitprof ./report`` opens a file named ``report``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in (
                "-h", "--help", "--version"):
            args = ["tui", *args]
        elif len(args) == 1 and args[0] in ("report", "tui") and os.path.exists(args[0]):
            raise click.UsageError(f"{args[0]!r} is a jitprof command; to open the file "
                                   f"named {args[0]}: jitprof tui ./{args[0]}")
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jitprof")
def main() -> None:
    """Name JIT-compiled code (HHVM, V8/Node, Python -X perf, Java) in Linux perf profiles.

    `jitprof INPUT...` (no command) opens the interactive TUI: `jitprof tui INPUT...`;
    `jitprof demo` opens it on the bundled samples.

    Exit codes: 0 ok, 1 bad input, 2 usage error, 3 no samples, 4 cannot record (record,
    top: no such process, perf missing or not permitted, map refused), 70 internal error.
    """
    _tune_malloc()


def _tune_malloc() -> None:
    """glibc gives arrays above 128 KiB their own mmap and unmaps them when freed, so a
    command that makes and drops numpy temporaries zero-fills fresh pages again and
    again (a node report: ~78k page faults, 0.2 s of system time). Keeping freed memory
    for reuse (mmap only from 64 MiB, trim from 128 MiB) halves the faults for ~10 MB
    more peak (benchmarks/README.md, issue 15). Elsewhere than glibc: nothing."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 64 << 20)
    mallopt(m_trim_threshold, 128 << 20)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--top", type=click.IntRange(min=0), default=None,
              help="Rows to show (0 = all; default: 30 in the table, every function in "
                   "json and csv, which machines read whole).")
@click.option("--sort", type=click.Choice(["self", "total"]), default="self", show_default=True)
@click.option("--kind", "kinds", multiple=True, callback=lambda c, p, v: [_kind(x) for x in v],
              help="Only functions of this kind (repeatable): PHP, HPHP, HHVM, JIT, Java, "
                   "JVM, native, kernel, unknown.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report here instead of stdout.")
@input_options
def report(inputs: Sequence[str], top: int | None, sort: str, kinds: Sequence[Kind], fmt: str,
           output: str | None, load: LoadOptions) -> None:
    """Hot functions of perf script INPUTs (text files, .gz/.xz/.bz2, - for stdin, or a
    perf.data, which is read through `perf script`).

    Self and total are shares of all samples of the event (weighted by period); JIT
    frames are named from each process's perf map, the later line winning where the JIT
    reused code space.
    """
    from jitprof.report.profile import function_rows, render
    from jitprof.resolve import load_profile

    profile = load_profile(inputs, load)
    if top is None:  # the table is for people; json and csv hold every function
        top = TABLE_TOP if fmt == "table" else 0
    rows = function_rows(profile, sort=sort, kinds=kinds)
    shown = rows[:top] if top else rows
    text = render(profile, fmt, shown, more=len(rows) - len(shown))
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


# -- the interactive TUI (tui, demo) ---------------------------------------------------------

def _tui_preflight(ctx: click.Context, inputs: Sequence[str], who: str, stdin_fix: str,
                   text_fix: str) -> None:
    """Before a TUI starts: its inputs are files that exist, and it has a terminal."""

    for p in inputs:
        if p == "-":
            raise click.UsageError(f"{who} reads files, not stdin ('-'): save the text to a "
                                   f"file, {stdin_fix}")
        if not os.path.exists(p):
            raise InputError(p, "cannot read: No such file or directory")
    if not (sys.stdin.isatty() and sys.stdout.isatty() and sys.stderr.isatty()):
        click.echo("jitprof: error: the TUI needs a terminal (stdin, stdout and stderr are not "
                   f"one); {text_fix}", err=True)
        ctx.exit(EXIT_USAGE)


def _run_tui(ctx: click.Context, inputs: Sequence[str], load: LoadOptions) -> None:
    """Start the TUI; the profile loads in a worker with a progress bar."""

    _tui_preflight(ctx, inputs, "the TUI", "or use: jitprof report -",
                   "for text use: jitprof report " + " ".join(inputs))
    from jitprof.model import TIMELINE_BIN
    from jitprof.resolve import load_profile
    from jitprof.tui.app import JitprofApp

    def loader_of(event: str | None) -> Callable[[Callable[[int, int], None]], Profile]:
        def loader(progress: Callable[[int, int], None]) -> Profile:
            # with time bins: the timeline (a JSON profile input has none: no strip)
            return load_profile(inputs, load, progress, jobs=1, bin_width=TIMELINE_BIN,
                                event=event)
        return loader

    # the e key (issue 17): the same inputs read again for cpu-clock, off-cpu or wall
    app = JitprofApp(loader=loader_of(load.event), inputs=inputs, filters=[
        *(f"pid {p}" for p in load.pids), *(f"comm {c}" for c in load.comms)],
        measure_loader=loader_of)
    app.run()
    if app.error is not None:
        message, code = app.error
        click.echo(f"jitprof: error: {message}", err=True)
        ctx.exit(code)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@input_options
@click.pass_context
def tui(ctx: click.Context, inputs: Sequence[str], load: LoadOptions) -> None:
    """Interactive TUI on perf script INPUTs (the same inputs and options as `report`):
    hot functions, callers/callees, call trees, flame graph. Press ? for the keys.
    `jitprof INPUT...` without a command does the same. Needs a terminal."""
    _run_tui(ctx, inputs, load)


@main.command()
@click.argument("which", type=click.Choice(["slow", "fast"]), default="slow")
@click.pass_context
def demo(ctx: click.Context, which: str) -> None:
    """Open the TUI on a bundled recording (samples/hhvm-demo/WHICH: a C++ program with
    a tiny real JIT; `slow` spends its time in HPHP::f_sort). Needs a source checkout."""
    from pathlib import Path

    from jitprof.errors import InputError

    base = Path(__file__).resolve().parent.parent / "samples" / "hhvm-demo" / which
    script = base / "perf.script.gz"
    if not script.is_file():
        raise InputError(str(script), "not found: jitprof demo needs the samples/ directory "
                                      "of a source checkout (pip install -e .)")
    from jitprof.resolve import LoadOptions as _Load

    _run_tui(ctx, [str(script)], _Load(search_tmp=False))


# -- export (jitprof/export/) --------------------------------------------------------------
EXPORT_FORMATS = ("folded", "speedscope", "pprof", "json", "svg", "html")


def flame_options(f: Callable[..., None]) -> Callable[..., None]:
    """The flame graph's options (export and diff to .svg / .html)."""
    f = click.option("--minwidth", type=click.FloatRange(min=0), default=0.1,
                     show_default=True, metavar="PX",
                     help="svg/html: merge frames narrower than this many pixels (of 1200).")(f)
    f = click.option("--icicle", is_flag=True,
                     help="svg/html: draw the root at the top (an icicle graph).")(f)
    return f


@main.command("export")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, metavar="FILE",
              help="Where to write; the extension picks the format (.folded/.txt, "
                   ".speedscope.json, .pb.gz, .json, .svg, .html). - writes to stdout (give "
                   "--format).")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=None,
              help="Output format (default: from the extension of -o).")
@click.option("--weight", type=click.Choice(["auto", "period", "samples"]), default="auto",
              show_default=True,
              help="Weigh stacks by period or by sample count (auto: period when the input "
                   "has periods, as report does). pprof always holds both.")
@click.option("--per-thread/--merged", "per_thread", default=None,
              help="speedscope: one profile per (pid, comm) (default) or one for all; "
                   "folded: a comm-pid root frame (default: none).")
@click.option("--annotate-kinds", "annotate", is_flag=True,
              help="folded: suffix JIT frames _[j] and kernel frames _[k] (flamegraph.pl / "
                   "inferno --colors java or js colour them).")
@flame_options
@input_options
def export_cmd(
    inputs: Sequence[str], output: str, fmt: str | None, weight: str, per_thread: bool | None,
    annotate: bool, icicle: bool, minwidth: float, load: LoadOptions,
) -> None:
    """Write the profile of INPUTs (as for report: perf script text, perf.data, or
    jitprof .json profiles, which merge) for flamegraph.pl/inferno, speedscope, pprof
    (go tool pprof, Pyroscope, Parca), jitprof itself (JSON, read back as input), or as
    an interactive flame graph (.svg) or a self-contained report page (.html)."""
    from jitprof.export import (
        ExportOptions,
        UnknownFormatError,
        exporter_named,
        guess_exporter_from_outfile,
    )
    from jitprof.resolve import load_profile

    if output != "-" and os.path.isdir(output):
        raise click.UsageError(f"{output} is a directory")
    if output != "-":  # fail before a long load, not after
        parent = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(parent):
            raise JitprofError(output, f"cannot write: no directory {parent}")
        if not os.access(parent, os.W_OK):
            raise JitprofError(output, f"cannot write: {parent} is not writable")
    if fmt is not None:
        exporter_cls = exporter_named(fmt)
    elif output == "-":
        raise UnknownFormatError("-", "cannot tell the format of stdout; give --format")
    else:
        exporter_cls = guess_exporter_from_outfile(output)
    if output == "-" and exporter_cls.binary and sys.stdout.isatty():
        raise click.UsageError(f"{exporter_cls.name} output is binary: redirect stdout or "
                               "give -o FILE")
    profile = load_profile(inputs, load)
    if weight == "period" and not profile.diagnostics.has_period:
        raise click.UsageError("--weight period: the input has no periods (perf script "
                               "without the period field); use --weight samples or auto")
    data = exporter_cls(ExportOptions(weight=weight, per_thread=per_thread,
                                      annotate=annotate, icicle=icicle,
                                      minwidth=minwidth)).render(profile)
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        with open(output, "wb") as f:
            f.write(data)


# --- jitprof record (issue 5) -----------------------------------------------------------

EXIT_RECORD = 4  # cannot record: no such process, perf missing or not permitted, map refused


class _RecordReporter:
    """Progress on stderr: one redrawn line on a terminal, a line every 5 s otherwise."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.tty = sys.stderr.isatty()
        self.drawn = False
        self.last_plain = -5.0

    def _clear(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\033[K")
            self.drawn = False

    def progress(self, p: Progress) -> None:
        text = f"jitprof record: {self.what}: {p.elapsed:5.1f} s"
        if p.duration is not None:
            text += f" of {p.duration:g} s ({max(p.duration - p.elapsed, 0):.1f} s left)"
        text += f", map {p.map_lines:,} lines"
        text += ", stopping..." if p.stopping else ", Ctrl-C stops and keeps the recording"
        if self.tty:
            sys.stderr.write("\r\033[K" + text)
            self.drawn = True
        elif p.stopping or p.elapsed - self.last_plain >= 5.0:
            self.last_plain = p.elapsed
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def warning(self, text: str) -> None:
        self._clear()
        click.echo(f"jitprof: warning: {text}", err=True)

    def passthrough(self, line: bytes) -> None:
        self._clear()
        sys.stderr.buffer.write(line)
        sys.stderr.flush()

    def done(self) -> None:
        self._clear()


def _pid_list(ctx: click.Context, param: click.Parameter, value: Sequence[str]) -> list[int]:
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


@main.command(context_settings={"ignore_unknown_options": False})
@click.option("--pid", "-p", "pids", multiple=True, callback=_pid_list, metavar="PID[,PID]",
              help="Record these running processes (repeatable, or comma-separated).")
@click.option("--duration", "-d", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds to record (default: until Ctrl-C, or until the processes or "
                   "the command exit).")
@click.option("--freq", "-F", type=click.IntRange(min=1), default=999, show_default=True,
              help="Samples per second (perf record -F).")
@click.option("--event", "-e", default="cpu-clock", show_default=True,
              help="perf event (perf record -e).")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Bundle directory to create (default: ./jitprof-<pid or command>-<time>).")
@click.option("--trust-map", is_flag=True,
              help="Use a map or jitdump that fails the owner/age checks (another user's, "
                   "or older than the process). Symlinks are never followed.")
@click.option("--off-cpu", is_flag=True,
              help="Also record context switches with their stacks (sched:sched_switch, "
                   "--switch-events): the bundle then has the events off-cpu (blocked time) "
                   "and wall (CPU + blocked, ns) beside the CPU samples.")
@click.option("--with-script", is_flag=True,
              help="Also write perf script's text (perf.script.gz: file and kernel frames "
                   "named by perf here), to read the bundle where its binaries are not.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def record(pids: list[int], duration: float | None, freq: int, event: str,
           output: str | None, trust_map: bool, off_cpu: bool, with_script: bool,
           command: Sequence[str]) -> None:
    """Record running JIT processes into a self-contained bundle directory.

    \b
      jitprof record --pid PID [--duration S] [-o DIR]
      jitprof record [-o DIR] -- CMD ARGS...

    Runs `perf record -g` and, while it runs, keeps a copy of each process's perf map
    (also from a container's /tmp), its jitdump if any, /proc/PID/maps, cmdline and start
    time; then writes perf.data, build-ids and manifest.json (versions, command, host,
    times, sha256 of every file); --with-script adds perf script's text. Every other
    command reads the bundle directory as input, with its own maps only (jitprof report
    DIR), after the process and its /tmp map are gone.

    Exit codes: 0 ok, 4 cannot record (no such process, perf missing or not permitted,
    map refused), 130 interrupted before perf started.
    """
    import time as _time

    from jitprof.acquire.record import Recorder, RecordPlan

    if bool(pids) == bool(command):
        raise click.UsageError("give --pid PID or a command after --, not both" if pids else
                               "give --pid PID or a command after --")
    if output is None:
        what = f"{pids[0]}" if pids else os.path.basename(command[0])
        output = f"jitprof-{what}-{_time.strftime('%Y%m%d-%H%M%S')}"
    plan = RecordPlan(output=output, pids=list(pids), command=list(command), duration=duration,
                      freq=freq, event=event, trust_map=trust_map, argv=["jitprof", *sys.argv[1:]],
                      off_cpu=off_cpu, script=with_script)
    rep = _RecordReporter("pid " + ",".join(map(str, pids)) if pids else command[0])
    try:
        res = Recorder(plan, rep).run()
    finally:
        rep.done()
    m = res.manifest
    maps = [f"pid {p['pid']} {p['map']['lines']:,} lines" for p in m["processes"] if "map" in p]
    click.echo(f"jitprof: wrote {res.bundle} ({m['samples'] if m['samples'] is not None else '?'}"
               f" samples in {m['times']['duration_s']:g} s, stopped by "
               f"{m['times']['stopped_by']}; maps: {', '.join(maps) or 'none'})", err=True)
    click.echo(f"jitprof: see it with: jitprof report {res.bundle}", err=True)


# -- jitprof maps (issue 7) ------------------------------------------------------------------
@main.command("maps")
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--tidy", is_flag=True,
              help="Write the FILEs as one compacted map to -o: later lines win, older "
                   "ranges cut or split around them, sorted, no overlaps (perf then names "
                   "every address as jitprof does).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Where --tidy writes (never one of the FILEs).")
def maps_cmd(files: Sequence[str], fmt: str, tidy: bool, output: str | None) -> None:
    """Health of perf maps: entries, bad lines (with numbers), overlaps, zero sizes, address
    span, names by kind; with --tidy, a compacted map. The FILEs are never changed."""
    import dataclasses
    import json

    from jitprof.symbols import maphealth
    from jitprof.symbols.perfmap import load_perf_map

    if tidy and not output:
        raise click.UsageError("--tidy needs -o OUTPUT")
    if output and not tidy:
        raise click.UsageError("-o is for --tidy")
    if output:
        maphealth.check_output(output, list(files))
    loaded = [load_perf_map(p) for p in files]
    one = maphealth.owners(loaded) if len(loaded) == 1 else None  # shared by both
    reports = [maphealth.check_map(p, pm, one) for p, pm in zip(files, loaded, strict=True)]
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(r) for r in reports], indent=2))
    else:
        click.echo("".join(maphealth.render_report(r) for r in reports), nl=False)
    for r, pm in zip(reports, loaded, strict=True):
        if r.entries == 0 and r.bad:
            # every line bad: the health report above is printed, but this is no perf map
            first = pm.diagnostics[0].lineno if pm.diagnostics else 0
            raise InputError(r.path, "not a perf map: no line is 'START SIZE NAME' in hex "
                             f"({r.bad:,} bad lines, the first here)", first)
    if tidy and output:
        entries = maphealth.tidy(loaded, one)
        maphealth.write_map(entries, output, list(files))
        click.echo(f"wrote {output}: {len(entries):,} entries from "
                   f"{sum(len(pm) for pm in loaded):,}", err=True)


# -- jitprof diff (issue 6) ------------------------------------------------------------------
def _per_units(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.split(",")
    try:
        nums = [float(x) for x in parts]
    except ValueError:
        nums = []
    if len(nums) not in (1, 2) or min(nums) <= 0:
        raise click.BadParameter(f"{value!r}: one positive count (both sides) or "
                                 "BEFORE,AFTER", param_hint="--per")
    return (nums[0], nums[-1])


@main.command()
@click.argument("inputs", nargs=-1)
@click.option("-b", "--before", "before", multiple=True, metavar="INPUT",
              help="An input of the 'before' side (repeatable: recordings merge).")
@click.option("-a", "--after", "after", multiple=True, metavar="INPUT",
              help="An input of the 'after' side (repeatable).")
@click.option("--by", type=click.Choice(["self", "total"]), default="self", show_default=True,
              help="The time compared.")
@click.option("--normalize", type=click.Choice(["share", "rate", "per"]), default=None,
              help="share of each side's samples (default), rate = samples per second of "
                   "recording, per = per unit of work (with --per).")
@click.option("--per", "per", default=None, metavar="N|BEFORE,AFTER",
              help="Units of work (e.g. requests) done on each side, all its recordings "
                   "together; implies --normalize per.")
@click.option("--method", type=click.Choice(["auto", "binomial", "bootstrap", "runs"]),
              default="auto", show_default=True,
              help="Uncertainty: auto = runs with 2+ recordings per side, else bootstrap "
                   "when the inputs have times, else binomial.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.05, show_default=True, help="False discovery rate for the verdicts.")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Level of the intervals.")
@click.option("--block", type=click.FloatRange(0, min_open=True), default=None,
              metavar="SECONDS", help="Bootstrap block length (default: 0.1 s, longer for "
                                      "long recordings: at most 50 blocks each).")
@click.option("--resamples", type=click.IntRange(min=100), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
              help="Functions to show (0 = all).")
@click.option("--kind", "kinds", multiple=True, callback=lambda c, p, v: [_kind(x) for x in v],
              help="Only functions of this kind (repeatable).")
@click.option("--format", "fmt",
              type=click.Choice(["table", "json", "csv", "difffolded", "svg", "html"]),
              default=None, help="Default: from the -o extension (.json, .csv, .folded, "
                                 ".svg: a differential flame graph, .html: a report page), "
                                 "else table.")
@click.option("--before-shape", is_flag=True,
              help="svg/html: size the flame graph by the BEFORE side (default: AFTER).")
@flame_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write here instead of stdout.")
@click.option("--tui", is_flag=True,
              help="Open the interactive diff view (changes table, differential flame "
                   "graph) instead of printing; needs a terminal.")
@input_options
@click.pass_context
def diff(
    ctx: click.Context,
    inputs: Sequence[str], before: Sequence[str], after: Sequence[str], by: str,
    normalize: str | None, per: str | None, method: str, alpha: float, confidence: float,
    block: float | None, resamples: int, seed: int, top: int, kinds: Sequence[Kind],
    fmt: str | None, before_shape: bool, icicle: bool, minwidth: float, output: str | None,
    tui: bool, load: LoadOptions,
) -> None:
    """Compare profiles: did a change cut CPU, and is the change bigger than noise?

    \b
    jitprof diff BEFORE AFTER
    jitprof diff -b BEFORE1 -b BEFORE2 -a AFTER1 -a AFTER2

    Inputs as for report. Functions pair by name (JIT dsos without pids, C++ parameter
    lists cut). Each delta gets an interval, a p-value and a verdict (up / down / no
    clear change) with the false discovery rate held at --alpha over all functions.
    --tui opens the same comparison in an interactive view (press ? there for the keys).
    """
    from jitprof.analysis.diff import (
        DEFAULT_BLOCK,
        DiffResult,
        DiffUsageError,
        Normalization,
        diff_profiles,
        folded_diff,
    )
    from jitprof.present.diffviews import DiffViews
    from jitprof.report.diff import guess_format, select, to_csv, to_difffolded, to_json, to_table
    from jitprof.resolve import load_profile

    if inputs and (before or after):
        raise click.UsageError("give BEFORE AFTER, or -b/-a options, not both")
    if inputs:
        if len(inputs) != 2:
            raise click.UsageError("BEFORE AFTER are two inputs; for several per side use "
                                   "-b INPUT -b INPUT -a INPUT ...")
        before, after = [inputs[0]], [inputs[1]]
    if not before or not after:
        raise click.UsageError("need inputs on both sides: BEFORE AFTER, or -b ... -a ...")
    units = _per_units(per)
    mode = normalize or ("per" if units else "share")
    if mode == "per" and units is None:
        raise click.UsageError("--normalize per needs --per N or --per BEFORE,AFTER")
    if units is not None and mode != "per":
        raise click.UsageError("--per goes with --normalize per (or no --normalize)")
    if tui and fmt not in (None, "table"):
        raise click.UsageError(f"--tui shows the comparison on the terminal: --format {fmt} "
                               "is for printing (leave out --tui)")
    if tui and output:
        raise click.UsageError("--tui shows the comparison on the terminal: -o is for "
                               "printing (leave out --tui)")
    if not fmt and output and output.lower().endswith((".svg", ".html", ".htm")):
        fmt = "svg" if output.lower().endswith(".svg") else "html"
    fmt = fmt or guess_format(output) or "table"
    bin_width = (block or DEFAULT_BLOCK) if method in ("auto", "bootstrap") else None

    def side(paths: Sequence[str], progress: Callable[[int, int], None] | None = None
             ) -> list[Profile]:
        return [load_profile([p], load, progress, bin_width=bin_width,
                             jobs=1 if progress else load.jobs)
                for p in paths]

    if tui:
        def compare(progress: Callable[[int, int], None]) -> DiffViews:
            pb, pa = side(before, progress), side(after, progress)

            def run(how: str, b: Sequence[Profile], a: Sequence[Profile]) -> DiffResult:
                return diff_profiles(list(b), list(a), by=by, normalization=Normalization(
                    how, units if how == "per" else None), method=method, alpha=alpha,
                    confidence=confidence, block=block, resamples=resamples, seed=seed)

            return DiffViews(run(mode, pb, pa), pb, pa, rerun=run)

        sides = (f"{before[0]} {after[0]}" if len(before) == len(after) == 1 else " ".join(
            [*(f"-b {p}" for p in before), *(f"-a {p}" for p in after)]))
        _run_diff_tui(ctx, [*before, *after], compare, kinds[0] if kinds else None,
                      "jitprof diff " + sides)
        return
    pb, pa = side(before), side(after)
    if fmt in ("svg", "html"):
        _write_diff_flame(pb, pa, fmt, output, before_shape, icicle, minwidth,
                          functools.partial(diff_profiles, normalization=Normalization(
                              mode, units), method=method, alpha=alpha,
                              confidence=confidence, block=block, resamples=resamples,
                              seed=seed), by)
        return
    if fmt == "difffolded":
        text = to_difffolded(folded_diff(pb, pa))
    else:
        try:
            result = diff_profiles(pb, pa, by=by, normalization=Normalization(mode, units),
                                   method=method, alpha=alpha, confidence=confidence,
                                   block=block, resamples=resamples, seed=seed)
        except DiffUsageError as e:
            raise click.UsageError(str(e)) from None
        rows = select(result, kinds, top or None)
        render = {"table": to_table, "json": to_json, "csv": to_csv}[fmt]
        text = render(result, rows)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


def _write_diff_flame(pb: list[Profile], pa: list[Profile], fmt: str, output: str | None,
                      before_shape: bool, icicle: bool, minwidth: float,
                      compare: Callable[..., Any], by: str) -> None:
    """``jitprof diff -o diff.svg|html``: the table's comparison (``--by``) and, for the
    flame's colours, the same comparison of total time."""
    from jitprof.analysis.diff import DiffUsageError
    from jitprof.export import ExportOptions
    from jitprof.export.diffsvg import DiffSvgExporter
    from jitprof.export.html import DiffHtmlExporter
    from jitprof.present.diffviews import DiffViews

    try:
        result = compare(pb, pa, by=by)
        total = result if by == "total" else compare(pb, pa, by="total")
    except DiffUsageError as e:
        raise click.UsageError(str(e)) from None
    cls = DiffSvgExporter if fmt == "svg" else DiffHtmlExporter
    exporter = cls(ExportOptions(icicle=icicle, minwidth=minwidth),
                   shape="before" if before_shape else "after")
    data = exporter.render(DiffViews(result, pb, pa), total)
    if output and output != "-":
        with open(output, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _run_diff_tui(ctx: click.Context, inputs: Sequence[str],
                  compare: Callable[[Callable[[int, int], None]], Any],
                  kind: Kind | None, text_command: str) -> None:
    """``jitprof diff --tui``: the comparison is made in the App's worker (progress bar)."""
    _tui_preflight(ctx, inputs, "--tui", "or leave out --tui",
                   "for text leave out --tui: " + text_command)
    from jitprof.tui.diff import DiffApp

    app = DiffApp(loader=compare, inputs=inputs, kind=kind)
    app.run()
    if app.error is not None:
        message, code = app.error
        click.echo(f"jitprof: error: {message}", err=True)
        ctx.exit(code)


# --- jitprof top (issue 5) --------------------------------------------------------------


@main.command()
@click.option("--pid", "-p", "pids", multiple=True, callback=_pid_list, required=True,
              metavar="PID[,PID]", help="Processes to watch (repeatable, or comma-separated).")
@click.option("--interval", "-i", type=click.FloatRange(min=0.1), default=2.0,
              show_default=True, help="Seconds between refreshes.")
@click.option("--window", "-w", type=click.IntRange(min=1, max=3600), default=None,
              help="Show the last N seconds only (of sample time, in one-second buckets: "
                   "N to N+1 s; default: the whole run; in the live view w switches between "
                   "the two, N default 10).")
@click.option("--count", "-n", type=click.IntRange(min=1), default=None,
              help="Stop after this many refreshes (default: until Ctrl-C or the processes "
                   "exit).")
@click.option("--stdio", is_flag=True,
              help="Print a refreshed table each interval (like perf top --stdio).")
@click.option("--freq", "-F", type=click.IntRange(min=1), default=999, show_default=True)
@click.option("--event", "-e", default="cpu-clock", show_default=True)
@click.option("--top", "rows_", type=click.IntRange(min=1), default=20, show_default=True,
              help="Rows to show (--stdio).")
@click.option("--sort", type=click.Choice(["self", "total"]), default="self", show_default=True)
@click.option("--kind", "kinds", multiple=True, callback=lambda c, p, v: [_kind(x) for x in v],
              help="Only functions of this kind (repeatable).")
@click.option("--trust-map", is_flag=True,
              help="Use a map that fails the owner/age checks (never a symlink).")
@click.option("--off-cpu", is_flag=True,
              help="Also record context switches: --event off-cpu or wall shows blocked or "
                   "wall time (implied by them); in the live view e switches the measure.")
@click.option("--perf-data-reader", "reader", type=click.Choice(["auto", "native", "script"]),
              default="auto", show_default=True,
              help="How perf record's stream is read: native = by jitprof (one perf "
                   "process), script = through 'perf script', auto = native, and through "
                   "perf script (with a note) for what only perf decodes (and --off-cpu).")
def top(pids: list[int], interval: float, window: int | None, count: int | None, stdio: bool,
        freq: int, event: str, rows_: int, sort: str, kinds: Sequence[Kind],
        trust_map: bool, off_cpu: bool, reader: str) -> None:
    """Hot functions of running processes, refreshed live.

    Samples stream from `perf record -p PID -o -`, read as perf.data by jitprof; each
    process's perf map is re-read as the JIT appends to it (perf top reads it once), so
    code compiled after the start is named too. --window N shows the last N seconds
    instead of the whole run.

    Without --stdio it opens the TUI, live (needs a terminal): p pauses the display (perf
    keeps recording), r resets, w switches between the whole run and the last --window
    seconds (default 10), + and - change the interval, ? shows every key. --top and
    --count are for --stdio.
    """
    import time as _time

    from jitprof.acquire.live import LiveProfiler
    from jitprof.report.profile import function_rows, table_lines

    # issue 17: off-cpu and wall are made from switches beside the CPU samples
    shown_event, event, off_cpu = _top_events(event, off_cpu)
    if not stdio:
        _top_live(pids, interval, window, count, freq, event, sort, kinds, trust_map,
                  off_cpu, shown_event, reader)
        return
    live = LiveProfiler(pids, keep=max(window or 0, 60), trust_map=trust_map,
                        event=shown_event)
    for p in live.procs.values():
        if p.map is None:
            click.echo(f"jitprof: warning: no perf map for pid {p.info.pid} yet: JIT frames "
                       "stay [unknown] until one appears", err=True)
        for doubt in p.problems:
            click.echo(f"jitprof: warning: {p.map_source}: used with --trust-map although "
                       f"{doubt}", err=True)
    tty = sys.stdout.isatty()
    what = ", ".join(f"pid {p.info.pid} ({p.info.comm})" for p in live.procs.values())
    live.start(freq=freq, event=event, off_cpu=off_cpu, reader=reader)
    shown = 0
    ended = ""
    noted = 0
    try:
        # perf takes a second or two to start: the first table waits for the first samples
        # (at most 10 s: an idle process has none)
        first = _time.monotonic() + 10
        while live.latest is None and live.running() and _time.monotonic() < first:
            _time.sleep(0.05)
        while count is None or shown < count:
            deadline = _time.monotonic() + interval
            while _time.monotonic() < deadline and live.running():
                _time.sleep(min(0.1, max(deadline - _time.monotonic(), 0)))
            if not live.running():
                failure = live.failure()
                if failure is not None:
                    raise failure
                ended = "the process exited" if len(pids) == 1 else "the processes exited"
                live.stop()  # the text still in the pipe, then the last table
            prof = live.snapshot(window)
            for note in live.notes[noted:]:  # (a fallback to perf script)
                click.echo(f"jitprof: note: {note}", err=True)
            noted = len(live.notes)
            span = f"last {window} s" if window else "whole run"
            if prof is not None and prof.time_first is not None and prof.time_last is not None:
                span += f" ({prof.time_last - prof.time_first:.1f} s of samples)"
            head = f"jitprof top: {what}; {span}"
            if tty:
                click.echo("\033[H\033[2J", nl=False)
            elif shown:
                click.echo("")
            if prof is None:
                click.echo(head + "; no samples yet")
            else:
                d = prof.diagnostics
                maps = "; ".join(f"map {m.path} {m.lines:,} lines" for m in d.maps) or "no map"
                named = (f"{d.jit_samples_resolved_pct:.1f}% of JIT samples named"
                         if d.jit_samples_resolved_pct is not None else "no JIT samples")
                click.echo(f"{head}; {prof.samples:,} samples; {named}; {maps}")
                rows = function_rows(prof, sort=sort, kinds=kinds, top=rows_)
                click.echo("\n".join(table_lines(rows)))
            sys.stdout.flush()
            shown += 1
            if ended:
                click.echo(f"jitprof: {ended}", err=True)
                break
    except KeyboardInterrupt:
        pass
    finally:
        live.close()


def _top_events(event: str, off_cpu: bool) -> tuple[str, str, bool]:
    """(event shown, event perf records, record switches?) for top's --event and
    --off-cpu: off-cpu and wall are shown from cpu-clock samples and switches."""
    from jitprof.resolve.offcpu import SYNTHETIC_EVENTS

    if event in SYNTHETIC_EVENTS:
        return event, "cpu-clock", True
    return event, event, off_cpu


def _top_live(pids: list[int], interval: float, window: int | None, count: int | None,
              freq: int, event: str, sort: str, kinds: Sequence[Kind],
              trust_map: bool, off_cpu: bool = False, shown_event: str | None = None,
              reader: str = "auto") -> None:
    """`jitprof top` without --stdio: the live TUI (jitprof/tui/live.py). Errors that
    come before the UI (no terminal, no such process, perf missing or failing at once)
    are one line; a perf failure later is shown in the UI and is the exit status."""
    import time as _time

    from jitprof.acquire.live import LiveProfiler
    from jitprof.present.liveview import DEFAULT_WINDOW, LiveView

    ctx = click.get_current_context()
    if count is not None:
        raise click.UsageError("--count is for --stdio (the live view runs until q)")
    if len(kinds) > 1:
        raise click.UsageError("the live view filters one --kind at a time (k cycles them); "
                               "several are for --stdio")
    if not (sys.stdin.isatty() and sys.stdout.isatty() and sys.stderr.isatty()):
        click.echo("jitprof: error: the live view needs a terminal (stdin, stdout and stderr "
                   "are not one); for text use: jitprof top --stdio --pid "
                   + ",".join(map(str, pids)), err=True)
        ctx.exit(EXIT_USAGE)
    live = LiveProfiler(pids, keep=max(window or 0, DEFAULT_WINDOW, 60), trust_map=trust_map,
                        event=shown_event or event)
    for p in live.procs.values():
        for doubt in p.problems:
            click.echo(f"jitprof: warning: {p.map_source}: used with --trust-map although "
                       f"{doubt}", err=True)
    view = LiveView(live, interval=interval, window=window or DEFAULT_WINDOW,
                    windowed=window is not None)
    try:
        live.start(freq=freq, event=event, off_cpu=off_cpu, reader=reader)
        # perf fails at once when it cannot record (not permitted, a bad event): say so
        # before the UI takes the screen (at most 2 s; the first text comes sooner)
        ready = _time.monotonic() + 2
        while live.stats.bytes == 0 and live.running() and _time.monotonic() < ready:
            _time.sleep(0.02)
        failure = live.failure()
        if failure is not None:
            raise failure
        from jitprof.tui.live import LiveApp

        app = LiveApp(view, sort=sort, kind=kinds[0] if kinds else None)
        app.run()
    finally:
        view.close()
    if app.error is not None:
        message, code = app.error
        click.echo(f"jitprof: error: {message}", err=True)
        ctx.exit(code)


# -- jitprof symbolize (issue 7) -------------------------------------------------------------
@main.command("symbolize")
@click.argument("addresses", nargs=-1)
@click.option("--pid", type=int, default=None,
              help="A live process: its /proc/PID/maps, /tmp/perf-PID.map, jitdump and the "
                   "ELF symbols of its mapped files.")
@click.option("--map", "map_file", default=None, metavar="PATH", help="A perf map.")
@click.option("--jitdump", default=None, metavar="PATH",
              help="A jitdump (wins over the map for JIT code).")
@click.option("--binary", "binaries", multiple=True, metavar="DSO=PATH",
              help="Read the symbols of mapped file DSO (its path or file name) from PATH "
                   "(repeatable), e.g. an unstripped copy.")
@click.option("--time", "at_time", type=float, default=None, metavar="SECONDS",
              help="Name jitdump code as loaded at this time (CLOCK_MONOTONIC seconds, as "
                   "perf script prints with -k CLOCK_MONOTONIC); default: the latest.")
@click.option("--srcline", is_flag=True, help="Append ' at FILE:LINE' (jitdump DEBUG_INFO).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def symbolize_cmd(addresses: Sequence[str], pid: int | None, map_file: str | None,
                  jitdump: str | None, binaries: Sequence[str], at_time: float | None,
                  srcline: bool, fmt: str) -> None:
    """Name ADDRESSes (hex; read from stdin, one a line, when none are given) like perf
    does, one line each: `0xADDR NAME+0xOFF [DSO]`, `0xADDR ?? [DSO]` when unknown."""
    import json

    from jitprof.symbols import addrsym as sym
    from jitprof.symbols.jitdump import load_jitdump
    from jitprof.symbols.perfmap import load_perf_map

    if pid is None and map_file is None and jitdump is None:
        raise click.UsageError("give --pid PID, --map FILE or --jitdump FILE")
    pairs = _binaries(binaries)
    if pid is not None:
        s = sym.for_pid(pid, perf_map=map_file, jitdump=jitdump, binaries=pairs)
    else:
        s = sym.AddressNamer(perf_map=load_perf_map(map_file) if map_file else None,
                           dump=load_jitdump(jitdump) if jitdump else None, binaries=pairs)
    if at_time is not None:
        s.time_ns = round(at_time * 1e9)
    if addresses:
        addrs = [sym.parse_address(a, "argument") for a in addresses]
    else:
        addrs = [sym.parse_address(line, "-", n)
                 for n, line in enumerate(sys.stdin, 1) if line.strip()]
    out = s.symbolize_all(addrs)
    if fmt == "json":
        click.echo(json.dumps([o.as_dict() for o in out], indent=1))
    else:
        for o in out:
            click.echo(o.text(srcline))
