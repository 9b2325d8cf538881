"""Flame graphs drawn to a pixel width: the layout (narrow frames merged), kind colours,
escaping, and the SVG both the SVG and the HTML exporters write (profile and diff).

Layout: a frame's box spans [W*a/T, W*b/T) pixels where [a, b) is its weight interval
among its siblings (heaviest first) and T the root's weight, so a child is never wider
than its parent and siblings never overlap. Children narrower than ``minwidth`` pixels
(flamegraph.pl's ``--minwidth``, default 0.1 px as there) are merged into one box per
parent ("N narrow frames"), drawn when that box is itself at least ``minwidth`` wide;
nothing under a merged box is drawn. Children are heaviest first, so the narrow ones are
the last: the cost is that of the boxes drawn (a FlameTree makes only the nodes reached),
at most about width / minwidth boxes per row.

Text: every name goes through ``clean`` (lone surrogates from undecodable bytes and control
characters become U+FFFD: XML 1.0 cannot hold them) and then XML escaping (``& < > " '``);
JSON put inside a ``<script>`` has ``< > &`` as ``\\u003c`` ... so neither ``</script>`` nor
``]]>`` can end it early.
"""

from __future__ import annotations

import colorsys
import json
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

from jitprof.model import KIND_ORDER, Kind
from jitprof.present.views import FlameTree

WIDTH = 1200  # pixels of the frame area
FRAME_HEIGHT = 16
FONT_SIZE = 12
CHAR_WIDTH = 0.6 * FONT_SIZE  # a monospace advance (DejaVu Sans Mono: 0.602 em)
MINWIDTH = 0.1  # pixels: narrower children are merged
PAD = 10  # pixels left and right of the frames
MERGED_FILL = "#d0d0d0"
MATCH_FILL = "#e040fb"  # search matches (flamegraph.pl's magenta)

# Hue, saturation (0..1) of each kind; looked up by the kind's value, so kinds added to
# the Kind enum later (Java, JVM) get their colour here, and any other a colour of its
# own from its name (``kind_hue``).
_HUES: dict[str, tuple[float, float]] = {
    "PHP": (275, 0.45),
    "HPHP": (210, 0.55),
    "HHVM": (170, 0.45),
    "JIT": (125, 0.45),
    "Java": (25, 0.70),
    "JVM": (185, 0.50),
    "native": (55, 0.55),
    "kernel": (0, 0.55),
    "unknown": (0, 0.0),
}


def kind_hue(kind: Kind) -> tuple[float, float]:
    """(hue degrees, saturation) of a kind: the table's, else one from a hash of its name."""
    hs = _HUES.get(kind.value)
    if hs is not None:
        return hs
    return (float(zlib.crc32(kind.value.encode()) % 360), 0.5)


KIND_HUES: dict[Kind, tuple[float, float]] = {k: kind_hue(k) for k in Kind}


def _hex(h: float, light: float, sat: float) -> str:
    r, g, b = colorsys.hls_to_rgb(h / 360.0, light, sat)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def kind_colour(kind: Kind | None) -> str:
    """The kind's own colour (legend, table cells)."""
    if kind is None:
        return "#bdbdbd"
    h, s = KIND_HUES.get(kind) or kind_hue(kind)
    return _hex(h, 0.62, s)


def frame_fill(kind: Kind | None, name: str) -> str:
    """A frame's fill: its kind's hue, lightness varied a little by the name (stable
    across runs, so the same function has the same shade and neighbours differ)."""
    if kind is None:
        return "#bdbdbd"
    h, s = KIND_HUES.get(kind) or kind_hue(kind)
    v = zlib.crc32(name.encode("utf-8", "surrogatepass")) / 0xFFFFFFFF
    return _hex(h, 0.58 + 0.16 * v, s)


def text_colour(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (#rrggbb)."""
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b >= 140 else "#ffffff"


# -- text ---------------------------------------------------------------------------------
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Text XML can hold: control characters, lone surrogates and U+FFFE/U+FFFF become
    U+FFFD; tab, CR and LF become spaces (names are one line)."""
    return _BAD.sub("\ufffd", text.replace("\t", " ").replace("\r", " ").replace("\n", " "))


def esc(text: str) -> str:
    """Cleaned and escaped for XML/HTML text and double- or single-quoted attributes."""
    return (clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def esc_multiline(lines: Sequence[str]) -> str:
    """Lines, each cleaned and escaped, joined by newlines (a <title>'s tooltip lines)."""
    return "\n".join(esc(line) for line in lines)


def script_json(data: object) -> str:
    """JSON safe inside <script> of HTML and inside XML CDATA (lone surrogates, which
    UTF-8 cannot hold, become U+FFFD; pass names through ``clean`` to have them read as
    the SVG shows them)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = _SURROGATE.sub("\ufffd", text)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def clip(text: str, px: float) -> str:
    """The text that fits ``px`` pixels of a label (3 px margins), "…" where cut, "" when
    not even two characters fit (as flamegraph.pl)."""
    n = int((px - 6) // CHAR_WIDTH)
    if n < 2:
        return ""
    if len(text) <= n:
        return text
    return text[: n - 1] + "…"


def asset(name: str) -> str:
    """A file shipped beside this module (the flame graph's script and style)."""
    return resources.files("jitprof.export").joinpath(name).read_text(encoding="utf-8")


# -- layout -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Box:
    """One drawn box: ``node`` of the tree (-1 for a merged box), ``parent`` index in the
    box list (-1 for the root), ``start``/``weight`` in the root's weight units."""

    node: int
    parent: int
    depth: int
    start: int
    weight: int
    merged: int = 0  # a merged box: how many sibling subtrees it stands for


@dataclass(slots=True)
class Layout:
    boxes: list[Box]
    total: int  # the root's weight
    depth: int  # rows
    merged_weight: int  # weight in merged boxes and in merged boxes too narrow to draw
    width: float
    minwidth: float


def layout(tree: FlameTree, width: float = WIDTH, minwidth: float = MINWIDTH,
           root: int = 0) -> Layout:
    """Boxes of the subtree under ``root`` (depth 0), parents before children, children
    left to right (see the module docstring)."""
    total = tree.weight(root)
    boxes: list[Box] = []
    merged_weight = 0
    if total <= 0:
        return Layout(boxes, total, 0, 0, width, minwidth)
    need = minwidth * total / width  # weight of a box ``minwidth`` wide
    # (node, parent box, depth, start weight, merged count: 0, or a merged box's weight
    # stands in ``node``)
    todo: list[tuple[int, int, int, int, int]] = [(root, -1, 0, 0, 0)]
    depth_max = 0
    while todo:
        node, parent, depth, start, merged = todo.pop()
        depth_max = max(depth_max, depth + 1)
        if merged:
            boxes.append(Box(-1, parent, depth, start, node, merged))
            continue
        me = len(boxes)
        boxes.append(Box(node, parent, depth, start, tree.weight(node)))
        off = start
        pending: list[tuple[int, int, int, int, int]] = []
        kids = tree.children(node)
        for i, c in enumerate(kids):
            cw = tree.weight(c)
            if cw < need:
                rest = sum(tree.weight(k) for k in kids[i:])
                merged_weight += rest
                if rest >= need:
                    pending.append((rest, me, depth + 1, off, len(kids) - i))
                break
            pending.append((c, me, depth + 1, off, 0))
            off += cw
        todo.extend(reversed(pending))
    return Layout(boxes, total, depth_max, merged_weight, width, minwidth)


# -- the SVG ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Paint:
    """How one box is drawn: the label's full text, the tooltip lines (the first is the
    name), fill, and attributes for the script (``fid``: the function's row in a page)."""

    name: str
    title: Sequence[str]
    fill: str
    fid: int = -1
    self_weight: int = 0
    samples: int = 0
    kind: str = ""
    extra: str = ""  # more attributes, already escaped (' data-l="-3"')


@dataclass(frozen=True, slots=True)
class LegendItem:
    fill: str
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """What the SVG shows besides the boxes: title lines, a warning line per warning,
    the legend, and the orientation."""

    title: str
    subtitles: Sequence[str]
    warnings: Sequence[str]
    legend: Sequence[LegendItem]
    icicle: bool = False
    search_note: str = ""  # said after a search's share (what is not searched)


def svg(lay: Layout, paint: Callable[[Box], Paint], chart: Chart, standalone: bool = True,
        element_id: str = "jpflame") -> str:
    """The flame graph as SVG text: the whole file (``standalone``, with its script), or
    an ``<svg>`` element for a page whose own script drives it."""
    w = lay.width + 2 * PAD
    if not standalone:  # a page shows the title, facts and legend itself
        chart = Chart("", [], [], [], chart.icicle, chart.search_note)
    top = (28 + 16 * len(chart.subtitles) + 16 * len(chart.warnings) if chart.title else 0) + 22
    rows = max(lay.depth, 1)
    height = top + rows * FRAME_HEIGHT + 50  # the status and search lines under the frames
    out: list[str] = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n')
    out.append(
        f'<svg id="{element_id}" class="jpflame" version="1.1" width="{w:g}" '
        f'height="{height}" viewBox="0 0 {w:g} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'data-total="{lay.total}" data-width="{lay.width:g}" data-pad="{PAD}" '
        f'data-char="{CHAR_WIDTH:g}" data-icicle="{int(chart.icicle)}" '
        f'data-note="{esc(chart.search_note)}">\n')
    out.append(f"<style>{asset('flame.css')}</style>\n")
    out.append(f'<rect class="bg" x="0" y="0" width="{w:g}" height="{height}"/>\n')
    head, y = _svg_head(chart, w, element_id)
    out += head
    frames_top = y + 8
    out.append(f'<g class="frames" data-top="{frames_top}" data-rows="{rows}" '
               f'data-h="{FRAME_HEIGHT}">\n')
    out += _svg_boxes(lay, paint, chart.icicle, frames_top)
    out.append("</g>\n")
    sy = frames_top + rows * FRAME_HEIGHT + 20
    out.append(f'<text class="status" id="{element_id}-status" x="{PAD}" y="{sy}"> </text>\n')
    out.append(f'<text class="status" id="{element_id}-matched" x="{PAD}" y="{sy + 16}"> '
               '</text>\n')
    if standalone:
        js = asset("flame.js").replace("]]>", "]]]]><![CDATA[>")
        out.append(f'<script type="text/ecmascript"><![CDATA[\n{js}\n'
                   f'jitprofFlame(document.getElementById("{element_id}"), '
                   '{standalone: true});\n]]></script>\n')
    out.append("</svg>\n")
    return "".join(out)


def _svg_head(chart: Chart, w: float, element_id: str) -> tuple[list[str], int]:
    """The title, subtitle and warning lines, the legend and the buttons; and the y of the
    legend's line."""
    out: list[str] = []
    y = 20 if chart.title else 0
    if chart.title:
        out.append(f'<text class="title" x="{w / 2:g}" y="20">{esc(chart.title)}</text>\n')
    for line in chart.subtitles:
        y += 16
        out.append(f'<text class="sub" x="{w / 2:g}" y="{y}">{esc(line)}</text>\n')
    for line in chart.warnings:
        y += 16
        out.append(f'<text class="warn" x="{w / 2:g}" y="{y}">WARNING: {esc(line)}</text>\n')
    y += 20
    x = float(PAD)
    out.append('<g class="legend">')
    for item in chart.legend:
        if item.fill:
            out.append(f'<rect x="{x:g}" y="{y - 10}" width="12" height="12" '
                       f'fill="{item.fill}"/>')
            x += 16
        out.append(f'<text x="{x:g}" y="{y}">{esc(item.label)}</text>')
        x += CHAR_WIDTH * len(item.label) + (12 if item.label else 0)
    out.append("</g>\n")
    out.append(f'<text class="btn" id="{element_id}-reset" x="{w - PAD:g}" y="{y}" '
               'text-anchor="end" visibility="hidden">Reset zoom</text>\n')
    out.append(f'<text class="btn" id="{element_id}-search" x="{w - PAD - 90:g}" y="{y}" '
               'text-anchor="end">Search</text>\n')
    out.append(f'<text class="btn" id="{element_id}-clear" x="{w - PAD - 150:g}" y="{y}" '
               'text-anchor="end" visibility="hidden">Clear</text>\n')
    return out, y


def _svg_boxes(lay: Layout, paint: Callable[[Box], Paint], icicle: bool, frames_top: int
               ) -> list[str]:
    """One ``<g>`` per box (a loop over every box: one call for all of them)."""
    out: list[str] = []
    rows = max(lay.depth, 1)
    scale = lay.width / lay.total if lay.total else 0.0
    for b in lay.boxes:
        p = paint(b)
        bx = PAD + b.start * scale
        bw = b.weight * scale
        row = b.depth if icicle else rows - 1 - b.depth
        by = frames_top + row * FRAME_HEIGHT
        attrs = (f' data-x="{b.start}" data-w="{b.weight}" data-d="{b.depth}"'
                 f' data-s="{p.self_weight}" data-n="{p.samples}"')
        if p.fid >= 0:
            attrs += f' data-f="{p.fid}"'
        if p.kind:
            attrs += f' data-k="{esc(p.kind)}"'
        if b.merged:
            attrs += f' data-m="{b.merged}"'
        cls = "f m" if b.merged else "f"
        label = clip(p.name, bw)
        text = (f'<text x="{bx + 3:.2f}" y="{by + FRAME_HEIGHT - 4}" '
                f'fill="{text_colour(p.fill)}">{esc(label)}</text>' if label else "")
        out.append(f'<g class="{cls}"{attrs}{p.extra}><title>{esc_multiline(p.title)}</title>'
                   f'<rect x="{bx:.2f}" y="{by}" width="{bw:.2f}" height="{FRAME_HEIGHT - 1}" '
                   f'fill="{p.fill}"/>{text}</g>\n')
    return out


def kind_legend(kinds: Sequence[tuple[Kind, float]]) -> list[LegendItem]:
    """Legend items for the kinds present, in Kind order, with their self share."""
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    return [LegendItem(kind_colour(k), f"{k.value} {share:.1f}%")
            for k, share in sorted(kinds, key=lambda t: order.get(t[0], len(order)))]
