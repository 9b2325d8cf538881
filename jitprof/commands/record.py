"""`jitprof record`: running processes (or a command) recorded into a bundle directory
(jitprof.acquire.record does the work; this module reads the options and says what
happened)."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from typing import TYPE_CHECKING

import click

from jitprof.commands.options import collect, parse_pids
from jitprof.commands.progress import RecordReporter

if TYPE_CHECKING:
    from jitprof.acquire.record import RecordPlan


@dataclasses.dataclass(frozen=True, slots=True)
class RecordArgs:
    """record's options as given (RecordPlan is what the recorder runs)."""

    pids: list[int]
    duration: float | None
    freq: int
    event: str
    output: str | None
    trust_map: bool
    off_cpu: bool
    with_script: bool
    command: tuple[str, ...]

    def plan(self) -> RecordPlan:
        """The RecordPlan; the bundle is ./jitprof-<pid or command>-<time> unless -o."""
        from jitprof.acquire.record import RecordPlan

        if bool(self.pids) == bool(self.command):
            raise click.UsageError("give --pid PID or a command after --, not both"
                                   if self.pids else "give --pid PID or a command after --")
        output = self.output
        if output is None:
            what = f"{self.pids[0]}" if self.pids else os.path.basename(self.command[0])
            output = f"jitprof-{what}-{time.strftime('%Y%m%d-%H%M%S')}"
        return RecordPlan(output=output, pids=list(self.pids), command=list(self.command),
                          duration=self.duration, freq=self.freq, event=self.event,
                          trust_map=self.trust_map, argv=["jitprof", *sys.argv[1:]],
                          off_cpu=self.off_cpu, script=self.with_script)


@click.command(context_settings={"ignore_unknown_options": False})
@click.option("--pid", "-p", "pids", multiple=True, callback=parse_pids, metavar="PID[,PID]",
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
@collect(RecordArgs, "args")
def record(args: RecordArgs) -> None:
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
    from jitprof.acquire.record import Recorder

    plan = args.plan()
    rep = RecordReporter("pid " + ",".join(map(str, args.pids)) if args.pids
                         else args.command[0])
    try:
        res = Recorder(plan, rep).run()
    finally:
        rep.done()
    m = res.manifest
    maps = [f"pid {p['pid']} {p['map']['lines']:,} lines" for p in m["processes"] if "map" in p]
    samples = m["samples"] if m["samples"] is not None else "?"
    click.echo(f"jitprof: wrote {res.bundle} ({samples} samples in "
               f"{m['times']['duration_s']:g} s, stopped by {m['times']['stopped_by']}; "
               f"maps: {', '.join(maps) or 'none'})", err=True)
    click.echo(f"jitprof: see it with: jitprof report {res.bundle}", err=True)
