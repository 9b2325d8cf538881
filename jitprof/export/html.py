"""A report as one self-contained HTML file (no network, no CDN: the style, the script and
the data are inside): the header facts and warnings, the flame graph, the hot table
(sortable, searchable) and the callers/callees of a clicked function; for a diff, the
changes table, a function's numbers and the differential flame graph.

The page keeps the ``ROWS`` heaviest functions (by total) and, for the
``WITH_NEIGHBOURS`` heaviest, their ``NEIGHBOURS`` heaviest callers and callees
(``views.neighbourhood``: the TUI's callers/callees, counted once per stack); the page
says when it left some out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

from jitprof.analysis.diff import DiffResult, FunctionDiff
from jitprof.export import flame
from jitprof.export.base import Exporter, ExportOptions, weight_unit
from jitprof.export.diffsvg import DiffExporter, DiffSvgExporter, diff_flame, side_names
from jitprof.export.flame import clean
from jitprof.export.svg import profile_flame
from jitprof.model import KIND_ORDER, Kind, Profile
from jitprof.present.diffviews import (
    DiffViews,
    Shape,
    cells,
    fmt_delta,
    fmt_value,
    function_lines,
    kind_lines,
    per_sample,
    short_input,
    unit_short,
)
from jitprof.present.diffviews import header_lines as diff_header_lines
from jitprof.present.header import header_lines
from jitprof.present.views import neighbourhood, stack_neighbourhood

ROWS = 5000
NEIGHBOURS = 20
WITH_NEIGHBOURS = 2000  # the heaviest functions whose callers and callees the page keeps
DIFF_ROWS = 2000  # a diff page: the largest changes
DIFF_WITH_NEIGHBOURS = 1000


def page(title: str, facts: Sequence[str], warnings: Sequence[str], kinds_html: str,
         flame_svg: str, table_title: str, data: object, detail_hint: str) -> str:
    """The page around its parts (every text escaped here; ``kinds_html`` and
    ``flame_svg`` are markup made by this package)."""
    warn = "".join(f"<div>WARNING: {flame.esc(w)}</div>" for w in warnings)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{flame.esc(title)}</title>\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<style>\n{flame.asset('page.css')}</style>\n</head>\n<body>\n"
        f"<h1>{flame.esc(title)}</h1>\n"
        f"<pre class=\"facts\" id=\"facts\">{flame.esc_multiline(facts)}</pre>\n"
        f"<div class=\"warnings\" id=\"warnings\">{warn}</div>\n"
        f"<div class=\"kinds\">{kinds_html}</div>\n"
        "<div class=\"bar\"><input id=\"flame-search\" type=\"search\" "
        "placeholder=\"search frames (regular expression)\" autocomplete=\"off\">"
        "<span class=\"note\" id=\"flame-matched\"></span>"
        "<span class=\"note\">click a frame to zoom; Reset zoom at the right</span></div>\n"
        f"<div id=\"flame\">\n{flame_svg}</div>\n"
        "<div class=\"cols\">\n"
        f"<div id=\"table\"><h2>{flame.esc(table_title)}</h2>"
        "<div class=\"bar\"><input id=\"table-search\" type=\"search\" "
        "placeholder=\"filter by name (regular expression)\" autocomplete=\"off\"></div>"
        "<div id=\"table-box\"></div></div>\n"
        f"<div id=\"detail\"><h2>Details</h2><div id=\"detail-body\" class=\"muted\">"
        f"{flame.esc(detail_hint)}</div></div>\n"
        "</div>\n"
        f"<script type=\"application/json\" id=\"jp-data\">{flame.script_json(data)}</script>\n"
        f"<script>\n{flame.asset('flame.js')}\n{flame.asset('page.js')}\n</script>\n"
        "</body>\n</html>\n"
    )


def kinds_markup(items: Sequence[tuple[Kind, str]]) -> str:
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    return "".join(f"<span><i style=\"background:{flame.kind_colour(k)}\"></i>{flame.esc(text)}"
                   "</span>" for k, text in sorted(items, key=lambda t: order.get(t[0], 99)))


def kind_colours() -> dict[str, str]:
    return {k.value: _ink(flame.kind_colour(k)) for k in Kind}


def _ink(fill: str) -> str:
    """A kind's colour dark enough for text on white."""
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return f"#{int(r * 0.62):02x}{int(g * 0.62):02x}{int(b * 0.62):02x}"


def profile_page(profile: Profile, options: ExportOptions) -> str:
    stats = profile.function_stats()
    pf = profile_flame(profile, options, stats)
    by_period = pf.by_period
    total = pf.layout.total
    ranked = sorted(stats, key=lambda st: (-(st.total_weight if by_period else st.total_samples),
                                           st.frame_id))
    kept = ranked[:ROWS]
    nb = neighbourhood(profile)
    keep_ids = {st.frame_id for st in kept}
    neighbours: dict[int, list[object]] = {}
    for st in kept[:WITH_NEIGHBOURS]:
        fid = st.frame_id
        n_up, n_down = len(nb.caller_arrays(fid)[0]), len(nb.callee_arrays(fid)[0])
        up, down = nb.callers(fid, NEIGHBOURS), nb.callees(fid, NEIGHBOURS)
        neighbours[fid] = [[[a, w if by_period else s, s] for a, w, s in up],
                           [[b, w if by_period else s, s] for b, w, s in down],
                           max(n_up - NEIGHBOURS, 0), max(n_down - NEIGHBOURS, 0),
                           nb.roots.get(fid, 0)]
        keep_ids.update(a for a, _w, _s in up)
        keep_ids.update(b for b, _w, _s in down)
    frames = profile.frames
    data = {
        "mode": "profile",
        "total": total,
        "unit": weight_unit(profile, by_period),
        "rows": [[st.frame_id, st.self_weight if by_period else st.self_samples,
                  st.total_weight if by_period else st.total_samples, st.self_samples,
                  st.total_samples] for st in kept],
        "stats": {st.frame_id: [st.self_weight if by_period else st.self_samples,
                                st.total_weight if by_period else st.total_samples,
                                st.self_samples, st.total_samples] for st in kept},
        "functions": {fid: [clean(frames[fid].name), frames[fid].kind.value,
                            clean(frames[fid].dso)] for fid in sorted(keep_ids)},
        "neighbours": neighbours,
        "full": {fid: [clean(n) for n in profile.full_names[fid]] for fid in sorted(keep_ids)
                 if fid in profile.full_names},
        "shown": len(kept),
        "withNeighbours": min(len(kept), WITH_NEIGHBOURS),
        "all": len(stats),
        "kindColours": kind_colours(),
    }
    head = header_lines(profile)
    facts = [h for h in head if not h.startswith("WARNING: ")]
    warnings = [h[len("WARNING: "):] for h in head if h.startswith("WARNING: ")]
    ks = profile.kind_stats()
    kinds = [(k, f"{k.value} {100.0 * (w if by_period else s) / total:.1f}% self")
             for k, (w, s) in ks.items() if (w or s) and total]
    title = "jitprof: " + (", ".join(short_input(i, 60) for i in profile.inputs) or "profile")
    return page(title, facts, warnings, kinds_markup(kinds), pf.svg(standalone=False),
                "Hot functions", data,
                "Click a function in the table or a frame in the flame graph: its callers "
                "and callees show here.")


class HtmlExporter(Exporter):
    name = "html"
    extensions = (".html", ".htm")
    description = "a self-contained HTML report (flame graph, hot table, callers/callees)"

    def write(self, profile: Profile, out: BinaryIO) -> None:
        out.write(profile_page(profile, self.options).encode("utf-8"))


def diff_page(views: DiffViews, options: ExportOptions, shape: Shape = "after",
              significance: DiffResult | None = None) -> str:
    result = views.result
    df = diff_flame(views, options, shape, significance)
    stacks = views.stacks
    kept = result.functions[:DIFF_ROWS]
    rows = []
    for f in kept:
        c = cells(f, result)
        fid = stacks.frame_id(f)
        rows.append([clean(f.name), f.kind.value, clean(f.dso), f.status, f.cmp.before.value,
                     f.cmp.after.value, f.cmp.delta, f.cmp.q, c.direction,
                     [c.before, c.after, c.delta, c.ci, c.ratio, c.q, c.verdict],
                     -1 if fid is None else fid,
                     -1.0 if f.cmp.ratio is None else f.cmp.ratio])
    conf = f"{100 * result.confidence:g}%"
    nbs = diff_neighbours(views, kept[:DIFF_WITH_NEIGHBOURS])
    data = {
        "mode": "diff",
        "rows": rows,
        "neighbours": nbs,
        "names": {g: clean(stacks.frames[g].name) for g in sorted(
            {int(n[0]) for up, _u, down, _d in nbs.values() for n in (*up, *down)})},
        "lines": [[clean(line) for line in function_lines(f, result)] for f in kept],
        "all": len(result.functions),
        "unit": f"({unit_short(result)})",
        "ci": f"{conf} CI",
        "kindColours": kind_colours(),
    }
    head = diff_header_lines(result)
    facts = [text for text, _warn in head] + [k.text for k in kind_lines(result)]
    warnings = [text.removeprefix("method  ") for text, warn in head if warn]
    ins = side_names(result)
    title = f"jitprof diff: {ins[0]} → {ins[1]}"
    legend = "".join(f"<span><i style=\"background:{flame.esc(item.fill)}\"></i>"
                     f"{flame.esc(item.label)}</span>" for item in df.chart().legend
                     if item.label and item.fill)
    return page(title, facts, warnings, legend + "<span>" + flame.esc(
        f"flame sized by {shape.upper()}; colour: change of each call path, strong where "
        "the function's total time changed significantly") + "</span>",
                df.svg(standalone=False), f"Changes ({result.by} time)", data,
                "Click a function in the table or a frame in the flame graph: its numbers "
                "before and after show here.")


Neighbours = list[list[int | str]]  # [frame id, before, after, delta] each


def diff_neighbours(views: DiffViews, functions: Sequence[FunctionDiff]
                    ) -> dict[int, tuple[Neighbours, int, Neighbours, int]]:
    """Callers and callees before and after of each function (by its row), as the diff
    TUI shows them (``DiffStacks.neighbours``: a stack once per neighbour), in one numpy
    pass per side: [[frame id, before, after, delta], ...] for callers and callees
    (the ``NEIGHBOURS`` heaviest, values in the result's normalisation), and how many
    lighter ones were left out."""
    import numpy as np

    stacks, result = views.stacks, views.result
    leaf_first = [k[::-1] for k in stacks.keys]
    sides = [stack_neighbourhood(leaf_first, counts, counts, len(stacks.frames))
             for counts in ([c[0] for c in stacks.counts], [c[1] for c in stacks.counts])]
    fr = stacks.frames
    by_name = sorted(range(len(fr)), key=lambda g: (fr[g].name, fr[g].dso))
    rank = np.empty(max(len(fr), 1), dtype=np.int64)
    rank[by_name] = np.arange(len(by_name))
    ps = per_sample(result)
    out: dict[int, tuple[Neighbours, int, Neighbours, int]] = {}
    for i, f in enumerate(functions):
        fid = stacks.frame_id(f)
        if fid is None:
            continue
        parts: list[tuple[Neighbours, int]] = []
        for which in ("caller_arrays", "callee_arrays"):
            (ib, nb_, _), (ia, na_, _) = (getattr(nb, which)(fid) for nb in sides)
            ids, at = np.unique(np.concatenate((ib, ia)), return_inverse=True)
            b = np.zeros(len(ids), dtype=np.int64)
            a = np.zeros(len(ids), dtype=np.int64)
            np.add.at(b, at.reshape(-1)[:len(ib)], nb_)
            np.add.at(a, at.reshape(-1)[len(ib):], na_)
            # heaviest on either side first, ties by name (as DiffStacks.neighbours)
            top = np.lexsort((rank[ids], -np.maximum(b, a)))[:NEIGHBOURS]
            parts.append(([[g, fmt_value(vb * ps[0], result), fmt_value(va * ps[1], result),
                            fmt_delta(va * ps[1] - vb * ps[0], result)]
                           for g, vb, va in zip(ids[top].tolist(), b[top].tolist(),
                                                a[top].tolist(), strict=True)],
                          max(len(ids) - NEIGHBOURS, 0)))
        out[i] = (*parts[0], *parts[1])
    return out


class DiffHtmlExporter(DiffExporter):
    name = "html"
    extensions = (".html", ".htm")
    description = "a self-contained HTML report of a comparison (changes, differential flame)"

    def write(self, views: DiffViews, out: BinaryIO,
              significance: DiffResult | None = None) -> None:
        out.write(diff_page(views, self.options, self.shape, significance).encode("utf-8"))


DIFF_EXPORTERS: tuple[type[DiffExporter], ...] = (DiffSvgExporter, DiffHtmlExporter)


def guess_diff_exporter(path: str) -> type[DiffExporter] | None:
    low = path.lower()
    for e in DIFF_EXPORTERS:
        if low.endswith(e.extensions):
            return e
    return None
