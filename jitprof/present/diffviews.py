"""View models of a comparison for the TUI: the diff table, the header and kind summary,
a differential flame tree and callers/callees before vs after. Pure data (no textual).

Numbers come from a ``DiffResult`` (``jitprof.analysis.diff``) and, for the flame graph and the
callers/callees, from both sides' stacks over one table of paired functions (the same
``function_key`` pairing): ``DiffStacks``. Every value is normalised as the result's
(share of the side's samples in percent, or per second, or per unit of work).

The differential flame graph is drawn like FlameGraph's ``difffolded.pl`` +
``flamegraph.pl``: frames are sized by one side (after by default; before shows what
was removed) and coloured by the change of the frame's normalised value (inclusive):
red grew, blue shrank (ColorBrewer RdBu, colour-blind safe), in 4 steps of
``|delta| / scale`` (square-root-like steps, so changes a tenth the size of the largest
still show), grey for changes under 2% of the scale. ``scale`` is the largest |delta|
of any frame drawn at 1,000 cells, the same for both shapes, so colours do not change
when switching or zooming. Frames with no samples before are "new" (label ``+``), with
none after "gone" (label ``-``): they never rely on colour alone.

Costs: ``DiffStacks`` is one pass over both sides' stacks plus one sort of the distinct
paired stacks; each flame shape is a ``FlameTree`` over an index of those sorted keys
(prefix sums of one side's counts: linear, no sort), and the other side's counts come
from a second index over the same keys (identical ranges). Callers/callees scan the
stacks that contain the function (O(frames on those stacks)).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal, get_args

from jitprof.analysis.diff import (
    RUNTIME_KINDS,
    DiffResult,
    FunctionDiff,
    FunctionKey,
    NormalizationMode,
    SideInfo,
    Verdict,
    function_key,
    pair_dso,
)
from jitprof.model import KIND_ORDER, Frame, Kind, Profile
from jitprof.present.views import FlameTree, StackIndex, compile_search

DiffSort = Literal["|delta|", "delta", "before", "after", "name"]  # the changes table's
Shape = Literal["after", "before"]  # the side that sizes the differential flame graph
SORTS: tuple[DiffSort, ...] = get_args(DiffSort)
SHAPES: tuple[Shape, ...] = get_args(Shape)

# change levels -4..4 -> two shades (neighbouring frames alternate) and a text colour
NEUTRAL = 0.02  # |delta| / scale under this: unchanged (grey)
LEVEL_STEPS = (0.1, 0.3, 0.6)  # |delta| / scale at which levels 2, 3 and 4 begin
PALETTE: dict[int, tuple[str, str, str]] = {
    -4: ("#2166ac", "#1a5490", "#ffffff"),
    -3: ("#4393c3", "#3a80ab", "#ffffff"),
    -2: ("#92c5de", "#7fb3cf", "#000000"),
    -1: ("#d1e5f0", "#bdd7e7", "#000000"),
    0: ("#e0e0e0", "#c4c4c4", "#000000"),
    1: ("#fddbc7", "#f7c8ad", "#000000"),
    2: ("#f4a582", "#ec9470", "#000000"),
    3: ("#d6604d", "#c5513f", "#ffffff"),
    4: ("#b2182b", "#9c1426", "#ffffff"),
}
SCALE_MIN_SHARE = 0.001  # frames under 0.1% of both sides do not set the colour scale


def fmt_q(q: float) -> str:
    """A p- or q-value in at most 6 characters."""
    if q < 1e-4:
        return "<1e-4"
    if q < 0.001:
        return f"{q:.0e}"
    return f"{q:.3f}" if q < 0.01 else f"{q:.2f}"


def change_level(delta: float, scale: float) -> int:
    """-4 (shrank most) .. 0 (unchanged) .. 4 (grew most): |delta| / scale against
    NEUTRAL and LEVEL_STEPS, the sign of ``delta``."""
    if scale <= 0 or delta == 0:
        return 0
    r = abs(delta) / scale
    if r < NEUTRAL:
        return 0
    level = 1 + sum(1 for t in LEVEL_STEPS if r >= t)
    return level if delta > 0 else -level


def status_of(before: int, after: int) -> str:
    """"new" (no samples before), "gone" (none after), else "both"."""
    if before == 0 and after > 0:
        return "new"
    if after == 0 and before > 0:
        return "gone"
    return "both"


# -- formatting (the TUI shows these strings; tests read them) ---------------------------
def short_input(path: str, width: int = 32) -> str:
    """A path as given when short, else ``…/`` and its last two parts."""
    if len(path) <= width:
        return path
    parts = path.rstrip("/").split("/")
    tail = "/".join(parts[-2:])
    return "…/" + tail if len(tail) + 2 <= width else "…" + path[-(width - 1):]


@dataclass(frozen=True, slots=True)
class Display:
    """How values of one result are shown: shares as they are (percent, points); rates
    and values per unit of work times ``factor``, a power of 1000 that puts the largest
    value shown in [1, 1000), so every number fits 6 characters with 2 decimals (1 from
    100): 0.0166 samples per request shows as 16.58 per 1k units."""

    factor: float
    short: str  # the delta's unit in a column header or after a number: pts, /s, /1k units
    long: str  # what the values are, for the header line


_DISPLAYS: dict[int, tuple[DiffResult, Display]] = {}  # by id(result), the result kept


def display(result: DiffResult) -> Display:
    hit = _DISPLAYS.get(id(result))
    if hit is not None and hit[0] is result:
        return hit[1]
    mode = result.normalization.mode
    if mode == "share":
        d = Display(1.0, "pts", "% of samples (Δ pts)")
    else:
        m = max((abs(x) for c in [f.cmp for f in result.functions] + [k.cmp for k in
                 result.kinds] for x in (c.before.value, c.after.value)), default=0.0)
        e = math.floor(math.log10(m) / 3) if m > 0 else 0
        factor = 10.0 ** (-3 * e)
        what = "s" if mode == "rate" else "unit"
        base = "samples per second" if mode == "rate" else "samples per unit of work"
        if e > 0:  # thousands (millions...) of samples per second / per unit
            prefix = {1: "k", 2: "M", 3: "G"}.get(e, f"1e{3 * e} ")
            short = f"{prefix}/{what}"
            long = f"{base}, in {prefix} samples"
        elif e < 0:  # samples per 1000 (a million...) seconds / units
            per = {-1: "1k", -2: "1M", -3: "1G"}.get(e, f"1e{-3 * e}")
            short = f"/{per} {what if mode == 'rate' else 'units'}"
            long = f"samples per {per} " + ("seconds" if mode == "rate" else "units of work")
        else:
            short = "/s" if mode == "rate" else "/unit"
            long = base
        d = Display(factor, short, long)
    if len(_DISPLAYS) > 16:
        _DISPLAYS.clear()
    _DISPLAYS[id(result)] = (result, d)
    return d


def _fixed(v: float, digits: int, sign: bool) -> str:
    d = digits if abs(v) < 99.995 else max(digits - 1, 0)
    return f"{v:+.{d}f}" if sign else f"{v:.{d}f}"


def fmt_value(v: float, result: DiffResult) -> str:
    """A normalised value in at most 6 characters (see ``Display``)."""
    if result.normalization.mode == "share":
        return _fixed(v, 2, False) + "%"
    return _fixed(v * display(result).factor, 2, False)


def fmt_delta(v: float, result: DiffResult, digits: int = 2) -> str:
    return _fixed(v * display(result).factor, digits, True)


def unit_short(result: DiffResult) -> str:
    return display(result).short


def verdict_text(verdict: Verdict, status: str = "both") -> str:
    """The verdict in words, with an arrow for up/down, and new/gone when so."""
    word = {"up": "▲ up", "down": "▼ down"}.get(verdict, verdict)
    if status == "both":
        return word
    if verdict == "no clear change":
        return f"{status}, unclear"
    return f"{word}, {status}"


def direction(verdict: Verdict) -> int:
    """+1 up, -1 down, 0 no clear change (the colour of a row's delta and verdict)."""
    return {"up": 1, "down": -1}.get(verdict, 0)


def side_line(label: str, s: SideInfo) -> str:
    inputs = ", ".join(short_input(p) for p in s.inputs[:2])
    if len(s.inputs) > 2:
        inputs += f", … ({len(s.inputs)} recordings)"
    parts = [f"{s.samples:,} samples"]
    if s.span is not None:
        parts.append(f"{s.span:.3f} s")
    if s.cpu_ms is not None:
        parts.append(f"{s.cpu_ms:,.0f} ms CPU")
    return f"{label:<7} " + " · ".join(parts) + f" · {inputs}"


def header_lines(result: DiffResult) -> list[tuple[str, bool]]:
    """The lines above the views, each with ``warn`` (show it as a warning): the two
    sides, the method (a binomial one says plainly that it takes samples as
    independent), and what is compared."""
    n = result.normalization
    what = display(result).long
    if n.mode == "per" and n.units is not None:
        what += f" ({n.units[0]:g} before, {n.units[1]:g} after)"
    if result.method == "binomial":
        method = ("method  BINOMIAL: samples taken as independent (intervals a lower bound, "
                  "noise can pass for change)")
        _, sep, why = result.method_note.partition("no bootstrap, ")
        if sep:  # auto fell back: say why
            method += f"; no bootstrap: {why}"
    else:
        method = f"method  {result.method_note}"
    return [
        (side_line("before", result.before), False),
        (side_line("after", result.after), False),
        (method, result.method == "binomial"),
        (f"compare {result.by} time{' (kinds: self)' if result.by == 'total' else ''} · "
         f"{what} · {100 * result.confidence:g}% CI · "
         f"FDR {100 * result.alpha:g}% over {result.compared} functions", False),
    ]


@dataclass(frozen=True, slots=True)
class KindLine:
    kind: Kind
    text: str  # the whole line
    delta: str  # the part to colour (and where it starts in ``text``)
    delta_at: int
    verdict: str
    verdict_at: int
    direction: int


def kind_lines(result: DiffResult, width: int = 100) -> list[KindLine]:
    """The kind summary: self time by the leaf's kind, before -> after, delta (the unit is
    in the header), verdict and the function of that kind that changed most ("of which
    HPHP::f_sort -55.27"), its name cut in the middle to fit ``width`` characters.
    Verdicts are padded to the longest shown."""
    out = []
    verdicts = [verdict_text(k.cmp.verdict) for k in result.kinds]
    vw = max((len(v) for v in verdicts), default=0)
    for k, verdict in zip(result.kinds, verdicts, strict=True):
        c = k.cmp
        head = (f"{k.kind.value:<7}{fmt_value(c.before.value, result):>6} → "
                f"{fmt_value(c.after.value, result):<6} ")
        delta = f"{fmt_delta(c.delta, result):>7}"
        text = f"{head}{delta}  {verdict:<{vw}}"
        if k.top is not None:
            top_delta = fmt_delta(k.top.self_delta, result)
            room = width - len(text) - len("  of which  ") - len(top_delta)
            text += f"  of which {short_name(k.top.name, max(room, 12))} {top_delta}"
        out.append(KindLine(k.kind, text.rstrip(), delta, len(head), verdict,
                            len(head) + len(delta) + 2, direction(c.verdict)))
    return out


@dataclass(frozen=True, slots=True)
class DiffCells:
    """One function's row as text."""

    before: str
    after: str
    delta: str
    ci: str
    ratio: str
    q: str
    verdict: str
    kind: str
    name: str
    direction: int
    per_second: str = ""  # the compared metric per second of recording, before→after


def per_second(f: FunctionDiff, result: DiffResult) -> tuple[float, float, str] | None:
    """The compared metric (self or total) per second of each side's recording: CPU ms
    per second when the event is a time event with periods, else samples per second;
    None without both time spans. Beside shares it tells a cut from a smaller total."""
    spans = (result.before.span, result.after.span)
    if not spans[0] or not spans[1]:
        return None
    ms = f.self_ms if result.by == "self" else f.total_ms
    if ms[0] is not None and ms[1] is not None:
        return ms[0] / spans[0], ms[1] / spans[1], "ms/s"
    n = f.self_samples if result.by == "self" else f.total_samples
    return n[0] / spans[0], n[1] / spans[1], "/s"


def fmt_per_second(f: FunctionDiff, result: DiffResult) -> str:
    """"1,163→33" (ms/s, or samples/s): the header says which."""
    r = per_second(f, result)
    if r is None:
        return "-"
    return f"{r[0]:,.0f}→{r[1]:,.0f}"


def per_second_unit(result: DiffResult) -> str:
    """"ms/s" (CPU per second of recording) or "/s" (samples per second)."""
    f = result.functions[0] if result.functions else None
    r = per_second(f, result) if f is not None else None
    return r[2] if r is not None else ""


def cells(f: FunctionDiff, result: DiffResult) -> DiffCells:
    c = f.cmp
    ci = f"[{fmt_delta(c.delta_lo, result, 1)}, {fmt_delta(c.delta_hi, result, 1)}]"
    ratio = "-" if c.ratio is None else f"{c.ratio:.3g}"
    return DiffCells(fmt_value(c.before.value, result), fmt_value(c.after.value, result),
                     fmt_delta(c.delta, result), ci, ratio, fmt_q(c.q),
                     verdict_text(c.verdict, f.status), f.kind.value, f.name,
                     direction(c.verdict), fmt_per_second(f, result))


def short_name(name: str, width: int) -> str:
    """A name cut in the middle ("…") to ``width`` characters: both ends tell C++ apart."""
    if len(name) <= width:
        return name
    keep = width - 1
    return name[: keep - keep // 3] + "…" + name[len(name) - keep // 3:]


def function_lines(f: FunctionDiff, result: DiffResult) -> list[str]:
    """A function's numbers before and after, as the detail view shows them: samples and
    shares of self and total, CPU ms, the compared value with its interval on each side,
    the delta with its interval, ratio, p, q and verdict, and the design effects."""
    c = f.cmp
    unit = unit_short(result)
    where = {"both": "in both", "new": "new: no samples before",
             "gone": "gone: no samples after"}[f.status]
    conf = f"{100 * result.confidence:g}%"
    lines = [f"{f.name}  [{f.kind.value}]  {f.dso}  · {where}",
             f"{'':<9}{'before':>18}  {'after':>18}  {'change':>12}"]
    for label, (nb, na), (pb, pa) in (("self", f.self_samples, f.self_pct),
                                       ("total", f.total_samples, f.total_pct)):
        lines.append(f"{label:<9}{nb:>9,} {pb:7.2f}%  {na:>9,} {pa:7.2f}%  "
                     f"{pa - pb:+9.2f} pts")
    for label, ms in (("self ms", f.self_ms), ("total ms", f.total_ms)):
        if ms[0] is not None and ms[1] is not None:
            lines.append(f"{label:<9}{ms[0]:>18,.1f}  {ms[1]:>18,.1f}  "
                         f"{ms[1] - ms[0]:+9,.1f} ms")
    sb, sa = result.before.span, result.after.span
    if sb and sa:  # per second of recording: a cut, or a smaller total?
        for label, ms, n in (("self", f.self_ms, f.self_samples),
                             ("total", f.total_ms, f.total_samples)):
            if ms[0] is not None and ms[1] is not None:
                b, a, per = ms[0] / sb, ms[1] / sa, "ms/s"
            else:
                b, a, per = n[0] / sb, n[1] / sa, "/s"
            lines.append(f"{label + ' ' + per:<9}{b:>18,.1f}  {a:>18,.1f}  "
                         f"{a - b:+9,.1f} {per}")
    per = "" if result.normalization.mode == "share" else f" {unit}"
    lines.append(f"compared ({result.by}{per}, {conf} CI): "
                 f"{fmt_value(c.before.value, result)} [{fmt_value(c.before.lo, result)}, "
                 f"{fmt_value(c.before.hi, result)}] → {fmt_value(c.after.value, result)} "
                 f"[{fmt_value(c.after.lo, result)}, {fmt_value(c.after.hi, result)}]")
    ratio = "-" if c.ratio is None else f"{c.ratio:.3g}"
    lines.append(f"delta {fmt_delta(c.delta, result)} {unit} [{fmt_delta(c.delta_lo, result)}, "
                 f"{fmt_delta(c.delta_hi, result)}] · ratio {ratio} · p {fmt_q(c.p)} · "
                 f"q {fmt_q(c.q)} · {verdict_text(c.verdict, f.status)}")
    if result.method != "binomial":
        lines.append(f"design effect {c.before.design_effect:.2f} before, "
                     f"{c.after.design_effect:.2f} after ({result.method})")
    return lines


# -- the table ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DiffTableView:
    rows: list[FunctionDiff]
    matched: int  # rows that pass the filters (``rows`` may be cut to a limit)


class DiffTable:
    """The result's functions, filtered (kind, name search) and sorted on demand:
    ``|delta|`` (the result's order: largest change first), ``delta`` (largest cut
    first), ``before`` / ``after`` (largest value first), ``name``; ``reverse`` flips."""

    def __init__(self, result: DiffResult) -> None:
        self.result = result
        self._order = {id(f): i for i, f in enumerate(result.functions)}

    def kinds(self) -> list[Kind]:
        present = {f.kind for f in self.result.functions}
        return [k for k in KIND_ORDER if k in present]

    def view(self, sort: DiffSort = "|delta|", kind: Kind | None = None, search: str = "",
             regex: bool = False, reverse: bool = False, limit: int | None = None
             ) -> DiffTableView:
        match = compile_search(search, regex)
        rows = [f for f in self.result.functions if (kind is None or f.kind is kind)
                and (match is None or match(f.name))]
        order = self._order
        if sort == "|delta|":
            rows.sort(key=lambda f: order[id(f)])
        elif sort == "delta":
            rows.sort(key=lambda f: (f.cmp.delta, order[id(f)]))
        elif sort == "before":
            rows.sort(key=lambda f: (-f.cmp.before.value, order[id(f)]))
        elif sort == "after":
            rows.sort(key=lambda f: (-f.cmp.after.value, order[id(f)]))
        elif sort == "name":
            rows.sort(key=lambda f: (f.name, f.kind.value, f.dso))
        else:
            raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
        if reverse:
            rows.reverse()
        matched = len(rows)
        return DiffTableView(rows[:limit] if limit is not None else rows, matched)


STOP_EVERY = 8192  # stacks between two ``stop()`` questions


class Stopped(Exception):
    """``DiffStacks`` was told to stop."""


# -- both sides' stacks over one function table --------------------------------------------
class DiffStacks:
    """The distinct stacks of both sides with paired functions as frames (``frames[i]`` is
    Frame(name as paired, kind, display dso)), root first, sorted, with the before and
    after sample counts of each (0 where a side has none)."""

    def __init__(self, before: Sequence[Profile], after: Sequence[Profile],
                 stop: Callable[[], bool] | None = None) -> None:
        """``stop``: asked every STOP_EVERY stacks; True raises ``Stopped`` (a thread
        building this for a UI that quit)."""
        ids: dict[FunctionKey, int] = {}
        frames: list[Frame] = []
        acc: dict[tuple[int, ...], list[int]] = {}
        for side, profiles in enumerate((before, after)):
            for prof in profiles:
                kmap: list[int] = []
                for fr in prof.frames:
                    k = function_key(fr)
                    i = ids.get(k)
                    if i is None:
                        i = ids[k] = len(frames)
                        frames.append(Frame(k[1], k[0], k[2] or pair_dso(fr.dso)))
                    kmap.append(i)
                get = kmap.__getitem__
                for i, (stack, _w, n, _t) in enumerate(prof.iter_stacks()):
                    if stop is not None and i % STOP_EVERY == 0 and stop():
                        raise Stopped
                    key = tuple(map(get, reversed(stack)))
                    c = acc.get(key)
                    if c is None:
                        c = acc[key] = [0, 0]
                    c[side] += n
        self.event = (before[0].event if before else "") or ""
        self.ids = ids
        self.frames = frames
        self.by_frame = {f: i for i, f in enumerate(frames)}  # Frames are unique here
        self.keys = sorted(acc)  # root first
        self.counts = [acc[k] for k in self.keys]
        self.samples = (sum(c[0] for c in self.counts), sum(c[1] for c in self.counts))

    def frame_id(self, f: FunctionDiff) -> int | None:
        """The frame of a function of the result (same pairing)."""
        key = (f.kind, f.name, "" if f.kind in RUNTIME_KINDS else f.dso)
        return self.ids.get(key)

    def index(self, side: int) -> StackIndex:
        """One side's counts over all the paired stacks (0 where it has none) as the
        ``StackIndex`` a flame tree reads: the keys are already sorted root first, so no
        sort; both sides' indexes share the keys, so a node's range is the same in both."""
        return _PairedIndex(self.keys, [c[side] for c in self.counts])

    def frame_table(self) -> Profile:
        """A Profile holding only the paired frames: what a flame tree names nodes by (its
        stacks are in the indexes)."""
        return Profile(event=self.event, frames=self.frames)

    def neighbours(self, fid: int) -> tuple[list[Neighbours], list[Neighbours]]:
        """Callers and callees of frame ``fid`` with their before and after samples (a
        stack counts once per neighbour, as the TUI's callers/callees), heaviest first."""
        callers: dict[int, list[int]] = {}
        callees: dict[int, list[int]] = {}
        for key, (b, a) in zip(self.keys, self.counts, strict=True):
            if fid not in key:
                continue
            up: set[int] = set()
            down: set[int] = set()
            last = len(key) - 1
            for i, f in enumerate(key):  # root first: key[i - 1] called key[i]
                if f == fid:
                    if i > 0:
                        up.add(key[i - 1])
                    if i < last:
                        down.add(key[i + 1])
            for d, ns in ((callers, up), (callees, down)):
                for g in ns:
                    c = d.get(g)
                    if c is None:
                        c = d[g] = [0, 0]
                    c[0] += b
                    c[1] += a

        def rows(d: dict[int, list[int]]) -> list[Neighbours]:
            out = [Neighbours(self.frames[g], b, a) for g, (b, a) in d.items()]
            out.sort(key=lambda n: (-max(n.before, n.after), n.frame.name, n.frame.dso))
            return out

        return rows(callers), rows(callees)


class _PairedIndex(StackIndex):
    """A StackIndex over keys already sorted root first (``DiffStacks.keys``), with one
    side's counts as weights and samples."""

    def __init__(self, keys: list[tuple[int, ...]], counts: list[int]) -> None:
        self.keys = keys
        self.cum_weight = list(accumulate(counts, initial=0))
        self.cum_samples = self.cum_weight
        self.size = len(keys)


@dataclass(frozen=True, slots=True)
class Neighbours:
    frame: Frame
    before: int  # samples of stacks where it is next to the function
    after: int


# -- the differential flame tree -------------------------------------------------------------
class DiffFlameTree(FlameTree):
    """The flame tree sized by one side (``shape``: "after" or "before") over the paired
    stacks of both; ``counts(node)`` gives a node's samples on both sides (inclusive),
    ``values`` them normalised, ``delta`` the change, ``level`` its colour step."""

    def __init__(self, stacks: DiffStacks, shape: Shape, per_sample: tuple[float, float],
                 scale: float | None = None) -> None:
        if shape not in SHAPES:
            raise ValueError(f"unknown shape {shape!r}; one of {', '.join(SHAPES)}")
        side = 1 if shape == "after" else 0
        super().__init__(stacks.frame_table(), stacks.index(side))
        self.shape = shape
        self.side = side
        self.stacks = stacks
        self.other = stacks.index(1 - side)
        self.per_sample = per_sample  # the normalised value of one sample, before and after
        self.scale = self._scale() if scale is None else scale

    def counts(self, node: int) -> tuple[int, int]:
        mine = self.weight(node)
        other = self.other.weight(self._lo[node], self._hi[node])
        return (other, mine) if self.side == 1 else (mine, other)

    def self_counts(self, node: int) -> tuple[int, int]:
        lo, hi = self._lo[node], self._hi[node]
        end = self.index.ends(self._depth[node], lo, hi)
        mine = self.index.weight(lo, end)
        other = self.other.weight(lo, end)
        return (other, mine) if self.side == 1 else (mine, other)

    def values(self, node: int) -> tuple[float, float]:
        b, a = self.counts(node)
        return b * self.per_sample[0], a * self.per_sample[1]

    def delta(self, node: int) -> float:
        b, a = self.values(node)
        return a - b

    def level(self, node: int) -> int:
        return change_level(self.delta(node), self.scale)

    def status(self, node: int) -> str:
        if node == 0:
            return "both"
        return status_of(*self.counts(node))

    def _scale(self) -> float:
        """The largest |delta| of any node with at least SCALE_MIN_SHARE of either side's
        samples (what 1,000 cells would draw): children lighter than that are skipped."""
        nb, na = self.stacks.samples
        best = 0.0
        todo = [0]
        while todo:
            node = todo.pop()
            best = max(best, abs(self.delta(node)))
            for c in self.children(node):
                b, a = self.counts(c)
                if b >= SCALE_MIN_SHARE * nb or a >= SCALE_MIN_SHARE * na:
                    todo.append(c)
        return best


def per_sample(result: DiffResult) -> tuple[float, float]:
    """What one sample is worth, before and after, in the result's normalisation."""
    out = []
    for s in (result.before, result.after):
        if result.normalization.mode == "share":
            out.append(100.0 / s.samples if s.samples else 0.0)
        else:
            out.append(1.0 / s.exposure if s.exposure else 0.0)
    return out[0], out[1]


# -- everything the diff view shows -----------------------------------------------------------
Rerun = Callable[[NormalizationMode, Sequence[Profile], Sequence[Profile]], DiffResult]


class DiffViews:
    """The view models of one comparison, each built when first used and then kept."""

    def __init__(self, result: DiffResult, before: Sequence[Profile],
                 after: Sequence[Profile],
                 rerun: Rerun | None = None) -> None:
        """``rerun(normalization mode, before, after)``: the same comparison (method,
        options) of these profiles normalised that way ("share" or "rate"), for the TUI's
        keys that switch what verdicts use and cut a side to a time range."""
        self.result = result
        self.rerun = rerun
        self.table = DiffTable(result)
        self._profiles = (before, after)
        self._stacks: DiffStacks | None = None
        self._flames: dict[str, DiffFlameTree] = {}
        # the TUI builds the flame tree in a thread before it is asked for: one builder
        # at a time, so everyone gets the same tree (node ids are per tree)
        self._lock = threading.RLock()

    @property
    def profiles(self) -> tuple[Sequence[Profile], Sequence[Profile]]:
        """The before and after profiles compared."""
        return self._profiles

    @property
    def stacks(self) -> DiffStacks:
        with self._lock:
            if self._stacks is None:
                self._stacks = DiffStacks(*self._profiles)
            return self._stacks

    def prepare(self, stop: Callable[[], bool] | None = None) -> None:
        """Build the paired stacks and the after-shaped flame tree ahead of time (from a
        thread); ``stop`` as for DiffStacks (then nothing is kept)."""
        with self._lock:
            if self._stacks is None:
                self._stacks = DiffStacks(*self._profiles, stop=stop)
            self.flame("after")

    def flame(self, shape: Shape = "after") -> DiffFlameTree:
        with self._lock:
            t = self._flames.get(shape)
            if t is None:
                # one colour scale for both shapes (the union tree is the same)
                other = self._flames.get("before" if shape == "after" else "after")
                t = DiffFlameTree(self.stacks, shape, per_sample(self.result),
                                  other.scale if other is not None else None)
                self._flames[shape] = t
            return t

    def neighbours(self, f: FunctionDiff) -> tuple[list[Neighbours], list[Neighbours]]:
        fid = self.stacks.frame_id(f)
        if fid is None:
            return [], []
        return self.stacks.neighbours(fid)
