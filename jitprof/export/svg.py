"""The profile's flame graph as one interactive SVG file (click to zoom, search, status
line), coloured by kind, with the recording's facts in its title.

Sizes: a frame's width is its call path's weight (periods, or samples with
``--weight samples``) as a share of all; the tooltip gives the path's total and self,
samples and CPU ms (clock events), and the function's self and total over all its call
paths (``jitprof report``'s numbers). Frames narrower than ``minwidth`` pixels are merged
(jitprof/export/flame.py); the search then says how much weight it could not look into.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from jitprof.export import flame
from jitprof.export.base import Exporter, ExportOptions, weight_unit
from jitprof.model import FunctionStats, Profile
from jitprof.present.diffviews import short_input
from jitprof.present.header import header_lines
from jitprof.present.views import FlameTree, StackIndex


def flame_tree(profile: Profile, by_period: bool) -> FlameTree:
    """The flame tree weighed by periods, or by samples."""
    return FlameTree(profile, StackIndex(profile, by_samples=not by_period))


@dataclass(slots=True)
class ProfileFlame:
    """A profile's flame graph, laid out: the SVG (``svg()``) and what a page needs to link
    frames to its tables (frame ids)."""

    profile: Profile
    tree: FlameTree
    layout: flame.Layout
    options: ExportOptions
    stats: dict[int, FunctionStats]

    @property
    def by_period(self) -> bool:
        return self.options.by_period(self.profile)

    def _amount(self, weight: int) -> str:
        unit = weight_unit(self.profile, self.by_period)
        if unit == "nanoseconds":
            return f", {weight / 1e6:,.1f} ms"
        return ""

    def paint(self, box: flame.Box) -> flame.Paint:
        tree, total = self.tree, self.layout.total
        if box.merged:
            name = f"[{box.merged:,} narrow frames]"
            return flame.Paint(name, [name, f"{box.merged:,} callees, each narrower than "
                                      f"{self.layout.minwidth:g} px, merged: "
                                      f"{_pct(box.weight, total)} in all"],
                               flame.MERGED_FILL)
        node = box.node
        fr = tree.frame(node)
        sw = tree.self_weight(node)
        n = tree.samples(node)
        if fr is None:
            kinds = ", ".join(sorted({f.kind.value for f in self.profile.frames}))
            name = "all"
            lines = [name, f"{n:,} samples{self._amount(box.weight)}"
                     + (f" · kinds: {kinds}" if kinds else "")]
            return flame.Paint(name, lines, flame.frame_fill(None, name), -1, sw, n)
        fid = tree.frame_id(node)
        lines = [fr.name, f"{fr.kind.value} · {fr.dso}",
                 f"this call path: total {_pct(box.weight, total)} ({n:,} samples"
                 f"{self._amount(box.weight)}), self {_pct(sw, total)} "
                 f"({tree.self_samples(node):,} samples)"]
        st = self.stats.get(fid)
        if st is not None:
            s_, t_ = ((st.self_weight, st.total_weight) if self.by_period else
                      (st.self_samples, st.total_samples))
            lines.append(f"function (all call paths): self {_pct(s_, total)}, total "
                         f"{_pct(t_, total)}, {st.total_samples:,} samples")
        lines.extend(f"full name: {full}" for full in self.profile.full_names.get(fid, ())[:4])
        return flame.Paint(fr.name, lines, flame.frame_fill(fr.kind, fr.name), fid, sw, n,
                           fr.kind.value)

    def chart(self) -> flame.Chart:
        p = self.profile
        head = header_lines(p)
        title = "Flame graph of " + (", ".join(short_input(i, 60) for i in p.inputs)
                                     or "a profile")
        subs = [h for h in head if not h.startswith(("inputs:", "kinds (self)", "WARNING:",
                                                     "  "))][:6]
        subs.append(f"width: {'periods' if self.by_period else 'samples'} "
                    f"({weight_unit(p, self.by_period)}) · frames under "
                    f"{self.layout.minwidth:g} px merged")
        warnings = [h[len("WARNING: "):] for h in head if h.startswith("WARNING: ")][:4]
        ks = p.kind_stats()
        total = self.layout.total
        kinds = [(k, 100.0 * (w if self.by_period else s) / total if total else 0.0)
                 for k, (w, s) in ks.items() if w or s]
        note = ""
        if self.layout.merged_weight:
            note = (f"(frames under {self.layout.minwidth:g} px, "
                    f"{_pct(self.layout.merged_weight, total)} in all, are not searched)")
        return flame.Chart(title, subs, warnings, flame.kind_legend(kinds),
                           self.options.icicle, note)

    def svg(self, standalone: bool = True, element_id: str = "jpflame") -> str:
        return flame.svg(self.layout, self.paint, self.chart(), standalone, element_id)


def profile_flame(profile: Profile, options: ExportOptions,
                  stats: Sequence[FunctionStats] | None = None) -> ProfileFlame:
    """``stats``: the profile's ``function_stats()`` when the caller has them."""
    by_period = options.by_period(profile)
    tree = flame_tree(profile, by_period)
    lay = flame.layout(tree, options.width, options.minwidth)
    by_id = {st.frame_id: st for st in (profile.function_stats() if stats is None else stats)}
    return ProfileFlame(profile, tree, lay, options, by_id)


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole else "0.00%"


class SvgExporter(Exporter):
    name = "svg"
    extensions = (".svg",)
    description = "an interactive flame graph (one SVG file: zoom, search, tooltips)"

    def write(self, profile: Profile, out: BinaryIO) -> None:
        text = profile_flame(profile, self.options).svg(standalone=True)
        out.write(text.encode("utf-8"))
