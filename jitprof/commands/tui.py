"""`jitprof tui INPUT...` (and `jitprof INPUT...`): the interactive TUI; textual is imported
only when it starts."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

from jitprof.commands.options import input_options
from jitprof.errors import CommandError, InputError

if TYPE_CHECKING:
    from jitprof.model import Profile
    from jitprof.resolve import LoadOptions


def tui_preflight(inputs: Sequence[str], who: str, stdin_fix: str, text_fix: str) -> None:
    """Before a TUI starts: its inputs are files that exist, and it has a terminal."""

    for p in inputs:
        if p == "-":
            raise click.UsageError(f"{who} reads files, not stdin ('-'): save the text to a "
                                   f"file, {stdin_fix}")
        if not os.path.exists(p):
            raise InputError(p, "cannot read: No such file or directory")
    if not (sys.stdin.isatty() and sys.stdout.isatty() and sys.stderr.isatty()):
        raise CommandError("the TUI needs a terminal (stdin, stdout and stderr are not one); "
                           + text_fix)


def run_tui(inputs: Sequence[str], load: LoadOptions) -> None:
    """Start the TUI; the profile loads in a worker with a progress bar."""

    tui_preflight(inputs, "the TUI", "or use: jitprof report -",
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
        raise CommandError(*app.error)


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@input_options
def tui(inputs: Sequence[str], load: LoadOptions) -> None:
    """Interactive TUI on perf script INPUTs (the same inputs and options as `report`):
    hot functions, callers/callees, call trees, flame graph. Press ? for the keys.
    `jitprof INPUT...` without a command does the same. Needs a terminal."""
    run_tui(inputs, load)
