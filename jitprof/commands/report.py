"""`jitprof report INPUT...`: the hot functions as a table, JSON or CSV."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from jitprof.commands.options import input_options, kinds_option, sort_option, write_output
from jitprof.model import Kind
from jitprof.report.profile import REPORT_FORMATS, ReportFormat

if TYPE_CHECKING:
    from jitprof.present.rows import SortKey
    from jitprof.resolve import LoadOptions

TABLE_TOP = 30  # report's table rows unless --top says


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--top", type=click.IntRange(min=0), default=None,
              help="Rows to show (0 = all; default: 30 in the table, every function in "
                   "json and csv, which machines read whole).")
@sort_option
@kinds_option("Only functions of this kind (repeatable): PHP, HPHP, HHVM, JIT, Java, "
              "JVM, native, kernel, unknown.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report here instead of stdout.")
@input_options
def report(inputs: Sequence[str], top: int | None, sort: SortKey, kinds: Sequence[Kind],
           fmt: ReportFormat, output: str | None, load: LoadOptions) -> None:
    """Hot functions of perf script INPUTs (text files, .gz/.xz/.bz2, - for stdin, or a
    perf.data, which is read through `perf script`).

    Self and total are shares of all samples of the event (weighted by period); JIT
    frames are named from each process's perf map, the later line winning where the JIT
    reused code space.
    """
    from jitprof.present.rows import function_rows
    from jitprof.report.profile import render
    from jitprof.resolve import load_profile

    profile = load_profile(inputs, load)
    if top is None:  # the table is for people; json and csv hold every function
        top = TABLE_TOP if fmt == "table" else 0
    rows = function_rows(profile, sort=sort, kinds=kinds)
    shown = rows[:top] if top else rows
    text = render(profile, fmt, shown, more=len(rows) - len(shown))
    write_output(output, text)
