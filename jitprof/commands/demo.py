"""`jitprof demo [slow|fast]`: the TUI on a bundled recording of a source checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

import click

from jitprof.commands.tui import run_tui
from jitprof.errors import InputError

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples" / "hhvm-demo"
Demo = Literal["slow", "fast"]  # the recordings under SAMPLES


@click.command()
@click.argument("which", type=click.Choice(get_args(Demo)), default="slow")
def demo(which: Demo) -> None:
    """Open the TUI on a bundled recording (samples/hhvm-demo/WHICH: a C++ program with
    a tiny real JIT; `slow` spends its time in HPHP::f_sort). Needs a source checkout."""
    script = SAMPLES / which / "perf.script.gz"
    if not script.is_file():
        raise InputError(str(script), "not found: jitprof demo needs the samples/ directory "
                                      "of a source checkout (pip install -e .)")
    from jitprof.resolve import LoadOptions

    run_tui([str(script)], LoadOptions(search_tmp=False))
