"""`jitprof top --pid PID`: the hot functions of running processes, refreshed: the live TUI,
or with --stdio a table printed each interval (jitprof.acquire.live streams the samples)."""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import TYPE_CHECKING

import click

from jitprof.commands.options import collect, kinds_option, parse_pids, sort_option
from jitprof.errors import CommandError
from jitprof.inputs.classify import PERF_DATA_READERS, PerfDataReader
from jitprof.model import SYNTHETIC_EVENTS, Kind

if TYPE_CHECKING:
    from jitprof.acquire.live import LiveProfiler
    from jitprof.model import Profile
    from jitprof.present.rows import SortKey

FIRST_SAMPLES_S = 10  # --stdio: the first table waits this long at most for samples
PERF_START_S = 2  # the live view: how long perf may take to fail before the UI starts


@dataclasses.dataclass(frozen=True, slots=True)
class TopOptions:
    """top's options as given; ``recorded()`` says what perf records for --event."""

    pids: list[int]
    interval: float  # seconds between refreshes
    window: int | None  # seconds of samples shown (None: the whole run)
    count: int | None  # --stdio: refreshes before stopping
    stdio: bool
    freq: int
    event: str
    rows_: int  # --stdio: rows shown
    sort: SortKey
    kinds: list[Kind]
    trust_map: bool
    off_cpu: bool
    reader: PerfDataReader

    def recorded(self) -> tuple[str, str, bool]:
        """(event shown, event perf records, record switches?): off-cpu and wall are
        shown from cpu-clock samples and switches (issue 17)."""
        if self.event in SYNTHETIC_EVENTS:
            return self.event, "cpu-clock", True
        return self.event, self.event, self.off_cpu


@click.command()
@click.option("--pid", "-p", "pids", multiple=True, callback=parse_pids, required=True,
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
@sort_option
@kinds_option("Only functions of this kind (repeatable).")
@click.option("--trust-map", is_flag=True,
              help="Use a map that fails the owner/age checks (never a symlink).")
@click.option("--off-cpu", is_flag=True,
              help="Also record context switches: --event off-cpu or wall shows blocked or "
                   "wall time (implied by them); in the live view e switches the measure.")
@click.option("--perf-data-reader", "reader", type=click.Choice(PERF_DATA_READERS),
              default="auto", show_default=True,
              help="How perf record's stream is read: native = by jitprof (one perf "
                   "process), script = through 'perf script', auto = native, and through "
                   "perf script (with a note) for what only perf decodes (and --off-cpu).")
@collect(TopOptions, "opts")
def top(opts: TopOptions) -> None:
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
    if opts.stdio:
        _top_stdio(opts)
    else:
        _top_live(opts)


def _warn(live: LiveProfiler, no_map: bool) -> None:
    """Per process: no perf map yet (if ``no_map``), and the doubts --trust-map overrode."""
    for p in live.procs.values():
        if no_map and p.map is None:
            click.echo(f"jitprof: warning: no perf map for pid {p.info.pid} yet: JIT frames "
                       "stay [unknown] until one appears", err=True)
        for doubt in p.problems:
            click.echo(f"jitprof: warning: {p.map_source}: used with --trust-map although "
                       f"{doubt}", err=True)


def _top_stdio(opts: TopOptions) -> None:
    """`jitprof top --stdio`: a table each --interval until --count, Ctrl-C or the
    processes exit (then the samples still in the pipe, and a last table)."""
    from jitprof.acquire.live import LiveProfiler

    shown_event, event, off_cpu = opts.recorded()
    live = LiveProfiler(opts.pids, keep=max(opts.window or 0, 60), trust_map=opts.trust_map,
                        event=shown_event)
    _warn(live, no_map=True)
    tty = sys.stdout.isatty()
    what = ", ".join(f"pid {p.info.pid} ({p.info.comm})" for p in live.procs.values())
    live.start(freq=opts.freq, event=event, off_cpu=off_cpu, reader=opts.reader)
    shown = 0
    noted = 0
    try:
        # perf takes a second or two to start: the first table waits for the first samples
        # (at most 10 s: an idle process has none)
        first = time.monotonic() + FIRST_SAMPLES_S
        while live.latest is None and live.running() and time.monotonic() < first:
            time.sleep(0.05)
        while opts.count is None or shown < opts.count:
            ended = _wait_interval(live, opts)
            prof = live.snapshot(opts.window)
            for note in live.notes[noted:]:  # (a fallback to perf script)
                click.echo(f"jitprof: note: {note}", err=True)
            noted = len(live.notes)
            if tty:
                click.echo("\033[H\033[2J", nl=False)
            elif shown:
                click.echo("")
            _print_table(prof, f"jitprof top: {what}; {_span(prof, opts.window)}", opts)
            sys.stdout.flush()
            shown += 1
            if ended:
                click.echo(f"jitprof: {ended}", err=True)
                break
    except KeyboardInterrupt:
        pass
    finally:
        live.close()


def _wait_interval(live: LiveProfiler, opts: TopOptions) -> str:
    """Sleep one --interval; "" while perf runs, else why it ended (after the text still
    in the pipe is read); perf's failure is raised."""
    deadline = time.monotonic() + opts.interval
    while time.monotonic() < deadline and live.running():
        time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))
    if live.running():
        return ""
    failure = live.failure()
    if failure is not None:
        raise failure
    live.stop()  # the text still in the pipe, then the last table
    return "the process exited" if len(opts.pids) == 1 else "the processes exited"


def _span(prof: Profile | None, window: int | None) -> str:
    span = f"last {window} s" if window else "whole run"
    if prof is not None and prof.time_first is not None and prof.time_last is not None:
        span += f" ({prof.time_last - prof.time_first:.1f} s of samples)"
    return span


def _print_table(prof: Profile | None, head: str, opts: TopOptions) -> None:
    """One refresh of --stdio: the head line (samples, JIT naming, maps) and the rows."""
    from jitprof.report.profile import top_lines

    click.echo("\n".join(top_lines(prof, head, opts.sort, opts.kinds, opts.rows_)))


def _top_live(opts: TopOptions) -> None:
    """`jitprof top` without --stdio: the live TUI (jitprof/tui/live.py). Errors that
    come before the UI (no terminal, no such process, perf missing or failing at once)
    are one line; a perf failure later is shown in the UI and is the exit status."""
    from jitprof.acquire.live import LiveProfiler
    from jitprof.present.liveview import DEFAULT_WINDOW, LiveView

    if opts.count is not None:
        raise click.UsageError("--count is for --stdio (the live view runs until q)")
    if len(opts.kinds) > 1:
        raise click.UsageError("the live view filters one --kind at a time (k cycles them); "
                               "several are for --stdio")
    if not (sys.stdin.isatty() and sys.stdout.isatty() and sys.stderr.isatty()):
        raise CommandError("the live view needs a terminal (stdin, stdout and stderr are not "
                           "one); for text use: jitprof top --stdio --pid "
                           + ",".join(map(str, opts.pids)))
    shown_event, event, off_cpu = opts.recorded()
    live = LiveProfiler(opts.pids, keep=max(opts.window or 0, DEFAULT_WINDOW, 60),
                        trust_map=opts.trust_map, event=shown_event)
    _warn(live, no_map=False)
    view = LiveView(live, interval=opts.interval, window=opts.window or DEFAULT_WINDOW,
                    windowed=opts.window is not None)
    try:
        live.start(freq=opts.freq, event=event, off_cpu=off_cpu, reader=opts.reader)
        # perf fails at once when it cannot record (not permitted, a bad event): say so
        # before the UI takes the screen (at most 2 s; the first text comes sooner)
        ready = time.monotonic() + PERF_START_S
        while live.stats.bytes == 0 and live.running() and time.monotonic() < ready:
            time.sleep(0.02)
        failure = live.failure()
        if failure is not None:
            raise failure
        from jitprof.tui.live import LiveApp

        app = LiveApp(view, sort=opts.sort, kind=opts.kinds[0] if opts.kinds else None)
        app.run()
    finally:
        view.close()
    if app.error is not None:
        raise CommandError(*app.error)
