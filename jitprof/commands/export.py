"""`jitprof export INPUT... -o FILE`: the profile for other tools, or as a flame graph;
the format from --format or the output's extension (jitprof.export)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from jitprof.commands.options import FlameOptions, flame_options, input_options
from jitprof.errors import JitprofError, UnknownFormatError

if TYPE_CHECKING:
    from jitprof.export import Exporter
    from jitprof.export.base import ExportFormat, Weight
    from jitprof.resolve import LoadOptions

# jitprof.export.base's EXPORT_FORMATS and WEIGHTS (importing jitprof.export, every exporter,
# costs ~0.3 s every command; a test holds them equal)
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("folded", "speedscope", "pprof", "json", "svg",
                                            "html")
WEIGHTS: tuple[Weight, ...] = ("auto", "period", "samples")


def _check_output(output: str) -> None:
    """-o names a file that can be written: fail before a long load, not after."""
    if output == "-":
        return
    if os.path.isdir(output):
        raise click.UsageError(f"{output} is a directory")
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        raise JitprofError(output, f"cannot write: no directory {parent}")
    if not os.access(parent, os.W_OK):
        raise JitprofError(output, f"cannot write: {parent} is not writable")


def _exporter(output: str, fmt: ExportFormat | None) -> type[Exporter]:
    """The exporter --format names, else the one owning -o's extension."""
    from jitprof.export import exporter_named, guess_exporter_from_outfile

    if fmt is not None:
        exporter_cls = exporter_named(fmt)
    elif output == "-":
        raise UnknownFormatError("-", "cannot tell the format of stdout; give --format")
    else:
        exporter_cls = guess_exporter_from_outfile(output)
    if output == "-" and exporter_cls.binary and sys.stdout.isatty():
        raise click.UsageError(f"{exporter_cls.name} output is binary: redirect stdout or "
                               "give -o FILE")
    return exporter_cls


def write_bytes(output: str | None, data: bytes) -> None:
    """Binary output to ``output``, or to stdout for none or ``-``."""
    if output and output != "-":
        with open(output, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


@click.command("export")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, metavar="FILE",
              help="Where to write; the extension picks the format (.folded/.txt, "
                   ".speedscope.json, .pb.gz, .json, .svg, .html). - writes to stdout (give "
                   "--format).")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=None,
              help="Output format (default: from the extension of -o).")
@click.option("--weight", type=click.Choice(WEIGHTS), default="auto",
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
    inputs: Sequence[str], output: str, fmt: ExportFormat | None, weight: Weight,
    per_thread: bool | None,
    annotate: bool, flame: FlameOptions, load: LoadOptions,
) -> None:
    """Write the profile of INPUTs (as for report: perf script text, perf.data, or
    jitprof .json profiles, which merge) for flamegraph.pl/inferno, speedscope, pprof
    (go tool pprof, Pyroscope, Parca), jitprof itself (JSON, read back as input), or as
    an interactive flame graph (.svg) or a self-contained report page (.html)."""
    from jitprof.export import ExportOptions
    from jitprof.resolve import load_profile

    _check_output(output)
    exporter_cls = _exporter(output, fmt)
    profile = load_profile(inputs, load)
    if weight == "period" and not profile.diagnostics.has_period:
        raise click.UsageError("--weight period: the input has no periods (perf script "
                               "without the period field); use --weight samples or auto")
    data = exporter_cls(ExportOptions(weight=weight, per_thread=per_thread,
                                      annotate=annotate, icicle=flame.icicle,
                                      minwidth=flame.minwidth)).render(profile)
    write_bytes(output, data)
