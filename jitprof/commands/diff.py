"""`jitprof diff BEFORE AFTER`: two sides compared function by function with intervals and
verdicts (jitprof.analysis.diff), printed, written as a flame graph, or in the diff TUI."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, get_args

import click

from jitprof.analysis.diff import (
    METHODS,
    METRICS,
    NORMALIZATIONS,
    Method,
    Metric,
    NormalizationMode,
)
from jitprof.commands.export import write_bytes
from jitprof.commands.options import (
    FlameOptions,
    collect,
    flame_options,
    input_options,
    kinds_option,
    write_output,
)
from jitprof.commands.tui import tui_preflight
from jitprof.model import Kind

if TYPE_CHECKING:
    from jitprof.analysis.diff import DiffResult, Normalization
    from jitprof.model import Profile
    from jitprof.present.diffviews import DiffViews
    from jitprof.resolve import LoadOptions

Progress = Callable[[int, int], None]
# table, json, csv and difffolded: jitprof.report.diff; svg and html: jitprof.export
DiffFormat = Literal["table", "json", "csv", "difffolded", "svg", "html"]


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


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """How the sides are compared: --by, --normalize/--per, --method and its knobs."""

    by: Metric
    normalize: NormalizationMode | None
    per: str | None
    method: Method
    alpha: float
    confidence: float
    block: float | None
    resamples: int
    seed: int

    def normalization(self) -> Normalization:
        """--normalize and --per checked against each other (--per alone means per)."""
        from jitprof.analysis.diff import Normalization

        units = _per_units(self.per)
        mode: NormalizationMode = self.normalize or ("per" if units else "share")
        if mode == "per" and units is None:
            raise click.UsageError("--normalize per needs --per N or --per BEFORE,AFTER")
        if units is not None and mode != "per":
            raise click.UsageError("--per goes with --normalize per (or no --normalize)")
        return Normalization(mode, units)

    def bin_width(self) -> float | None:
        """Seconds of the time bins the profiles keep: the bootstrap's blocks."""
        from jitprof.analysis.diff import DEFAULT_BLOCK

        if self.method not in ("auto", "bootstrap"):
            return None
        return self.block or DEFAULT_BLOCK

    def run(self, before: Sequence[Profile], after: Sequence[Profile],
            normalization: Normalization, by: Metric | None = None) -> DiffResult:
        """The comparison (of --by's time unless ``by`` says)."""
        from jitprof.analysis.diff import diff_profiles

        return diff_profiles(list(before), list(after), by=by or self.by,
                             normalization=normalization, method=self.method,
                             alpha=self.alpha, confidence=self.confidence, block=self.block,
                             resamples=self.resamples, seed=self.seed)


@dataclasses.dataclass(frozen=True, slots=True)
class DiffOutput:
    """What is shown: --top, --kind, --format, --before-shape, -o, --tui."""

    top: int
    kinds: list[Kind]
    fmt: DiffFormat | None
    before_shape: bool
    output: str | None
    tui: bool

    def format(self) -> DiffFormat:
        """--format, else from -o's extension, else table; --tui takes neither."""
        from jitprof.report.diff import guess_format

        fmt: DiffFormat | None = self.fmt
        output = self.output
        if self.tui and fmt not in (None, "table"):
            raise click.UsageError(f"--tui shows the comparison on the terminal: --format {fmt} "
                                   "is for printing (leave out --tui)")
        if self.tui and output:
            raise click.UsageError("--tui shows the comparison on the terminal: -o is for "
                                   "printing (leave out --tui)")
        if not fmt and output and output.lower().endswith((".svg", ".html", ".htm")):
            fmt = "svg" if output.lower().endswith(".svg") else "html"
        return fmt or guess_format(output) or "table"


def _sides(inputs: Sequence[str], before: Sequence[str], after: Sequence[str]
           ) -> tuple[list[str], list[str]]:
    """BEFORE AFTER, or the -b and -a inputs."""
    if inputs and (before or after):
        raise click.UsageError("give BEFORE AFTER, or -b/-a options, not both")
    if inputs:
        if len(inputs) != 2:
            raise click.UsageError("BEFORE AFTER are two inputs; for several per side use "
                                   "-b INPUT -b INPUT -a INPUT ...")
        before, after = [inputs[0]], [inputs[1]]
    if not before or not after:
        raise click.UsageError("need inputs on both sides: BEFORE AFTER, or -b ... -a ...")
    return list(before), list(after)


def _loader(load: LoadOptions, bin_width: float | None
            ) -> Callable[[Sequence[str], Progress | None], list[Profile]]:
    """Reads one side: a profile per input (one process each when a TUI shows progress)."""
    from jitprof.resolve import load_profile

    def side(paths: Sequence[str], progress: Progress | None = None) -> list[Profile]:
        return [load_profile([p], load, progress, bin_width=bin_width,
                             jobs=1 if progress else load.jobs)
                for p in paths]
    return side


@click.command()
@click.argument("inputs", nargs=-1)
@click.option("-b", "--before", "before", multiple=True, metavar="INPUT",
              help="An input of the 'before' side (repeatable: recordings merge).")
@click.option("-a", "--after", "after", multiple=True, metavar="INPUT",
              help="An input of the 'after' side (repeatable).")
@click.option("--by", type=click.Choice(METRICS), default="self", show_default=True,
              help="The time compared.")
@click.option("--normalize", type=click.Choice(NORMALIZATIONS), default=None,
              help="share of each side's samples (default), rate = samples per second of "
                   "recording, per = per unit of work (with --per).")
@click.option("--per", "per", default=None, metavar="N|BEFORE,AFTER",
              help="Units of work (e.g. requests) done on each side, all its recordings "
                   "together; implies --normalize per.")
@click.option("--method", type=click.Choice(METHODS),
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
@kinds_option("Only functions of this kind (repeatable).")
@click.option("--format", "fmt",
              type=click.Choice(get_args(DiffFormat)),
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
@collect(Comparison, "how")
@collect(DiffOutput, "out")
def diff(inputs: Sequence[str], before: Sequence[str], after: Sequence[str],
         how: Comparison, out: DiffOutput, flame: FlameOptions, load: LoadOptions) -> None:
    """Compare profiles: did a change cut CPU, and is the change bigger than noise?

    \b
    jitprof diff BEFORE AFTER
    jitprof diff -b BEFORE1 -b BEFORE2 -a AFTER1 -a AFTER2

    Inputs as for report. Functions pair by name (JIT dsos without pids, C++ parameter
    lists cut). Each delta gets an interval, a p-value and a verdict (up / down / no
    clear change) with the false discovery rate held at --alpha over all functions.
    --tui opens the same comparison in an interactive view (press ? there for the keys).
    """
    from jitprof.analysis.diff import folded_diff
    from jitprof.report.diff import select, to_csv, to_difffolded, to_json, to_table

    b, a = _sides(inputs, before, after)
    norm = how.normalization()
    fmt = out.format()
    side = _loader(load, how.bin_width())
    if out.tui:
        _run_diff_tui(b, a, how, norm, side, out.kinds[0] if out.kinds else None)
        return
    pb, pa = side(b, None), side(a, None)
    if fmt in ("svg", "html"):
        _write_diff_flame(pb, pa, fmt, how, norm, out, flame)
        return
    if fmt == "difffolded":
        text = to_difffolded(folded_diff(pb, pa))
    else:
        result = how.run(pb, pa, norm)
        rows = select(result, out.kinds, out.top or None)
        render = {"table": to_table, "json": to_json, "csv": to_csv}[fmt]
        text = render(result, rows)
    write_output(out.output, text)


def _write_diff_flame(pb: list[Profile], pa: list[Profile], fmt: DiffFormat, how: Comparison,
                      norm: Normalization, out: DiffOutput, flame: FlameOptions) -> None:
    """``jitprof diff -o diff.svg|html``: the table's comparison (``--by``) and, for the
    flame's colours, the same comparison of total time."""
    from jitprof.export import ExportOptions
    from jitprof.export.diffsvg import DiffSvgExporter
    from jitprof.export.html import DiffHtmlExporter
    from jitprof.present.diffviews import DiffViews

    result = how.run(pb, pa, norm)
    total = result if how.by == "total" else how.run(pb, pa, norm, by="total")
    cls = DiffSvgExporter if fmt == "svg" else DiffHtmlExporter
    exporter = cls(ExportOptions(icicle=flame.icicle, minwidth=flame.minwidth),
                   shape="before" if out.before_shape else "after")
    write_bytes(out.output, exporter.render(DiffViews(result, pb, pa), total))


def _run_diff_tui(before: list[str], after: list[str], how: Comparison, norm: Normalization,
                  side: Callable[[Sequence[str], Progress | None], list[Profile]],
                  kind: Kind | None) -> None:
    """``jitprof diff --tui``: the comparison is made in the App's worker (progress bar)."""
    from jitprof.analysis.diff import Normalization
    from jitprof.errors import CommandError

    sides = (f"{before[0]} {after[0]}" if len(before) == len(after) == 1 else " ".join(
        [*(f"-b {p}" for p in before), *(f"-a {p}" for p in after)]))
    tui_preflight([*before, *after], "--tui", "or leave out --tui",
                  "for text leave out --tui: jitprof diff " + sides)
    def compare(progress: Progress) -> DiffViews:
        from jitprof.present.diffviews import DiffViews

        pb, pa = side(before, progress), side(after, progress)

        def rerun(m: NormalizationMode, b: Sequence[Profile], a: Sequence[Profile]
                  ) -> DiffResult:
            return how.run(b, a, Normalization(m, norm.units if m == "per" else None))

        return DiffViews(rerun(norm.mode, pb, pa), pb, pa, rerun=rerun)

    from jitprof.tui.diff import DiffApp

    app = DiffApp(loader=compare, inputs=[*before, *after], kind=kind)
    app.run()
    if app.error is not None:
        raise CommandError(*app.error)
