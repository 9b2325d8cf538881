"""The differential flame graph of a comparison as one interactive SVG (``jitprof diff A B
-o diff.svg``), and the diff exporters' protocol.

Shape and colour as ``jitprof diff --tui`` (``diffviews.DiffFlameTree``): frames sized by
the AFTER side (``shape="before"`` for the other), coloured by the change of each call
path's normalised value (share, or per second, as the diff table): red grew, blue shrank,
4 steps. Strong colour (steps 2-4) only where the change is significant: the frame's
function has a verdict (q <= alpha) of the same direction in a comparison of *total* time
(a call path's change is inclusive, so its test is the function's total time, whatever
``--by`` the table used); otherwise at most the palest step. Frames new or gone are
labelled ``+``/``-``. Tooltips give both sides' samples and values on this path, and the
function's interval, q and verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, ClassVar

from jitprof.analysis.diff import DiffResult, FunctionDiff
from jitprof.export import flame
from jitprof.export.base import ExportOptions
from jitprof.present.diffviews import (
    PALETTE,
    DiffFlameTree,
    DiffViews,
    Shape,
    display,
    fmt_delta,
    fmt_q,
    fmt_value,
    short_input,
    side_line,
    unit_short,
    verdict_text,
)


@dataclass(slots=True)
class DiffFlame:
    views: DiffViews
    tree: DiffFlameTree
    layout: flame.Layout
    options: ExportOptions
    significance: DiffResult  # the comparison of total time that gates strong colours
    by_frame: dict[int, FunctionDiff]

    @property
    def result(self) -> DiffResult:
        return self.views.result

    def level(self, node: int) -> int:
        """The colour step: the tree's, cut to +-1 unless significant (see the docstring)."""
        level = self.tree.level(node)
        if abs(level) <= 1:
            return level
        f = self.by_frame.get(self.tree.frame_id(node))
        if f is not None and f.cmp.verdict == ("up" if level > 0 else "down"):
            return level
        return 1 if level > 0 else -1

    def paint(self, box: flame.Box) -> flame.Paint:
        tree, result = self.tree, self.result
        unit = unit_short(result)
        if box.merged:
            name = f"[{box.merged:,} narrow frames]"
            return flame.Paint(name, [name, f"{box.merged:,} callees, each narrower than "
                                      f"{self.layout.minwidth:g} px, merged"],
                               flame.MERGED_FILL)
        node = box.node
        nb, na = tree.counts(node)
        vb, va = tree.values(node)
        sb, sa = tree.self_counts(node)
        fr = tree.frame(node)
        level = self.level(node)
        fill = PALETTE[level][box.depth % 2]
        extra = f' data-l="{level}"'
        samples = na if tree.side == 1 else nb
        self_shape = sa if tree.side == 1 else sb
        path = (f"this call path: before {fmt_value(vb, result)} ({nb:,} samples) → after "
                f"{fmt_value(va, result)} ({na:,} samples), Δ {fmt_delta(va - vb, result)} "
                f"{unit}; self {sb:,} → {sa:,} samples")
        if fr is None:
            return flame.Paint("all", ["all", path], fill, -1, self_shape, samples, "",
                               extra)
        status = tree.status(node)
        mark = {"new": "+", "gone": "-"}.get(status, "")
        lines = [fr.name, f"{fr.kind.value} · {fr.dso}"
                 + ({"new": " · new: no samples before", "gone": " · gone: no samples after"}
                    .get(status, "")), path]
        f = self.by_frame.get(tree.frame_id(node))
        if f is not None:
            c = f.cmp
            lines.append(
                f"function, total time (all call paths): {fmt_value(c.before.value, result)} "
                f"[{fmt_value(c.before.lo, result)}, {fmt_value(c.before.hi, result)}] → "
                f"{fmt_value(c.after.value, result)} [{fmt_value(c.after.lo, result)}, "
                f"{fmt_value(c.after.hi, result)}], Δ {fmt_delta(c.delta, result)} "
                f"[{fmt_delta(c.delta_lo, result)}, {fmt_delta(c.delta_hi, result)}] {unit}, "
                f"q {fmt_q(c.q)}: {verdict_text(c.verdict, f.status)}")
        return flame.Paint(mark + fr.name, lines, fill, tree.frame_id(node), self_shape,
                           samples, fr.kind.value, extra)

    def chart(self) -> flame.Chart:
        r = self.result
        sig = self.significance
        conf = f"{100 * sig.confidence:g}%"
        ins = side_names(r)
        title = (f"Differential flame graph: {ins[0]} → {ins[1]} "
                 f"(sized by {self.tree.shape.upper()})")
        what = display(r).long
        subs = [side_line("before", r.before), side_line("after", r.after),
                f"colour: change of each call path's {what.split(' (')[0]}; strong only where "
                f"the function's total time changed significantly (FDR {100 * sig.alpha:g}%, "
                f"{sig.method}, {conf} intervals)"]
        legend = [flame.LegendItem(PALETTE[-4][0], "shrank"),
                  flame.LegendItem(PALETTE[-2][0], ""),
                  flame.LegendItem(PALETTE[-1][0], "small or not significant"),
                  flame.LegendItem(PALETTE[0][0], "unchanged"),
                  flame.LegendItem(PALETTE[1][0], "small or not significant"),
                  flame.LegendItem(PALETTE[2][0], ""),
                  flame.LegendItem(PALETTE[4][0], "grew"),
                  flame.LegendItem("", "· frames: +new, -gone")]
        note = ""
        if self.layout.merged_weight:
            note = (f"(frames under {self.layout.minwidth:g} px, "
                    f"{100.0 * self.layout.merged_weight / self.layout.total:.2f}% of "
                    f"{self.tree.shape}, are not searched)")
        return flame.Chart(title, subs, [], legend, self.options.icicle, note)

    def svg(self, standalone: bool = True, element_id: str = "jpflame") -> str:
        return flame.svg(self.layout, self.paint, self.chart(), standalone, element_id)


def side_names(result: DiffResult) -> tuple[str, str]:
    """The first input of each side, short ("before"/"after" when it has none)."""
    b, a = result.before.inputs, result.after.inputs
    return (short_input(b[0], 40) if b else "before", short_input(a[0], 40) if a else "after")


def diff_flame(views: DiffViews, options: ExportOptions, shape: Shape = "after",
               significance: DiffResult | None = None) -> DiffFlame:
    """``significance``: the same comparison made ``by="total"`` (default: the views'
    result, which must then be by total)."""
    sig = significance if significance is not None else views.result
    if sig.by != "total":
        raise ValueError("the flame's colours need a comparison of total time")
    tree = views.flame(shape)
    lay = flame.layout(tree, options.width, options.minwidth)
    stacks = views.stacks
    by_frame: dict[int, FunctionDiff] = {}
    for f in sig.functions:
        fid = stacks.frame_id(f)
        if fid is not None:
            by_frame[fid] = f
    return DiffFlame(views, tree, lay, options, sig, by_frame)


class DiffExporter:
    """A comparison to a file: ``name``, ``extensions`` (as ``Exporter``) and ``write``
    of the views (their result as the table shows it) and the total-time comparison that
    colours the flame."""

    name: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    def __init__(self, options: ExportOptions | None = None, shape: Shape = "after") -> None:
        self.options = options or ExportOptions()
        self.shape = shape

    def write(self, views: DiffViews, out: BinaryIO,
              significance: DiffResult | None = None) -> None:
        raise NotImplementedError

    def render(self, views: DiffViews, significance: DiffResult | None = None) -> bytes:
        import io

        buf = io.BytesIO()
        self.write(views, buf, significance)
        return buf.getvalue()


class DiffSvgExporter(DiffExporter):
    name = "svg"
    extensions = (".svg",)
    description = "an interactive differential flame graph (one SVG file)"

    def write(self, views: DiffViews, out: BinaryIO,
              significance: DiffResult | None = None) -> None:
        text = diff_flame(views, self.options, self.shape, significance).svg(standalone=True)
        out.write(text.encode("utf-8"))
