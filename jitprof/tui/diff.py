"""The diff view (``jitprof diff BEFORE AFTER --tui``): the changes table with the kind
summary, one function before and after, and a differential flame graph.

The App receives finished ``DiffViews`` (or a loader that makes them in a worker thread)
and never computes a statistic: every number comes from ``jitprof.present.diffviews``. Colours
always come with words or signs (verdicts in words with arrows, deltas with signs, new and
gone frames marked ``+``/``-``): blue for less, orange-red for more, dim for no clear change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from jitprof.analysis.diff import FunctionDiff, NormalizationMode
from jitprof.errors import JitprofError
from jitprof.model import Frame, Kind, Profile
from jitprof.present.diffviews import (
    PALETTE,
    SHAPES,
    SORTS,
    DiffCells,
    DiffFlameTree,
    DiffSort,
    DiffViews,
    Shape,
    Stopped,
    cells,
    direction,
    fmt_delta,
    fmt_value,
    function_lines,
    header_lines,
    kind_lines,
    per_second_unit,
    short_name,
    unit_short,
)
from jitprof.present.timeline import restrict_bins, timeline
from jitprof.present.views import FlameBox, breadcrumb, clip
from jitprof.tui.base import KeySections, TabbedApp, binding_keys
from jitprof.tui.diffmessages import DiffLoaded
from jitprof.tui.messages import FlameChanged, RangeChosen, ShowFunction
from jitprof.tui.widgets import FlameGraph, TimelineStrip, kind_colour

DiffLoader = Callable[[Callable[[int, int], None]], DiffViews]

ROW_LIMIT = 300  # rows drawn at first; the next ROW_LIMIT when the cursor reaches the last
MEDIUM = 100  # terminal columns from which the table also shows the q-value
WIDE = 120  # ... and ratio and kind
TABS = ("changes", "function", "dflame")
UP_STYLE = "bold #ff875f"  # more CPU: orange-red
DOWN_STYLE = "bold #5fafff"  # less CPU: blue
NONE_STYLE = "dim"
SELECTED = Style(bgcolor="#ffd700", color="#000000", bold=True)  # not on the red-blue ramp


def direction_style(d: int) -> str:
    return UP_STYLE if d > 0 else DOWN_STYLE if d < 0 else NONE_STYLE


@dataclass
class DiffState:
    """What the user chose (functions kept as objects of the one result shown)."""

    sort: DiffSort = "|delta|"
    reverse: bool = False
    kind: Kind | None = None
    search: str = ""
    regex: bool = False
    cursor: FunctionDiff | None = None
    detail: FunctionDiff | None = None
    history: list[FunctionDiff] = field(default_factory=list)
    shape: Shape = "after"
    zoom: list[Frame] = field(default_factory=list)
    selected: list[Frame] = field(default_factory=list)


def _app(widget: TabPane) -> DiffApp:
    app = widget.app
    assert isinstance(app, DiffApp)
    return app


class ChangesPane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("ctrl+r", "regex", "Regex on/off", show=False),
        Binding("s", "sort", "Sort"),
        Binding("r", "reverse", "Reverse", show=False),
        Binding("k", "kind(1)", "Kind"),
        Binding("K", "kind(-1)", "Previous kind", show=False),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("n", "normalization", "Shares / per second"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="dkinds")
        inp = Input(placeholder="search function names (ctrl+r: regex)", id="dsearch")
        inp.cursor_blink = False
        inp.display = False
        yield inp
        yield Static(id="dinfo")
        yield DataTable(id="dtable", cursor_type="row", zebra_stripes=True)

    def action_search(self) -> None:
        _app(self).action_search()

    def action_regex(self) -> None:
        app = _app(self)
        app.state.regex = not app.state.regex
        app.refresh_table()

    def action_sort(self) -> None:
        app = _app(self)
        app.set_sort(SORTS[(SORTS.index(app.state.sort) + 1) % len(SORTS)])

    def action_reverse(self) -> None:
        app = _app(self)
        app.state.reverse = not app.state.reverse
        app.refresh_table()

    def action_kind(self, step: int) -> None:
        _app(self).cycle_kind(step)

    def action_clear_search(self) -> None:
        _app(self).close_search(clear=True)

    def action_normalization(self) -> None:
        _app(self).switch_normalization()


class FunctionPane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("backspace", "back", "Back")]

    def compose(self) -> ComposeResult:
        yield Static("Press Enter on a function of the changes table or c on a flame frame.",
                     id="fn-head")
        with Vertical(id="fn-tables"):
            yield Static("Callers (samples of each side's stacks through both)",
                         classes="section")
            yield DataTable(id="fn-callers", cursor_type="row")
            yield Static("Callees", classes="section")
            yield DataTable(id="fn-callees", cursor_type="row")

    def action_back(self) -> None:
        _app(self).detail_back()


class FlameDiffPane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "shape", "Before/after shape"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="dflame-head")
        yield Static(id="dflame-crumb")
        yield FlameGraph(id="dflamegraph", painter=_app(self).paint_box)
        yield Static(id="dflame-info")

    def action_shape(self) -> None:
        _app(self).toggle_shape()


class DiffApp(TabbedApp):
    """Give it ``views`` (DiffViews), or a ``loader`` called in a worker thread with a
    ``progress(bytes done, total)`` callback and the ``inputs`` it reads for the title;
    ``kind``: the kind filter to start with."""

    CSS_PATH = [str(Path(__file__).with_name("app.tcss")),  # absolute: subclasses elsewhere
                str(Path(__file__).with_name("diff.tcss"))]
    TITLE = "jitprof diff"
    FOCUS: ClassVar[dict[str, str]] = {"changes": "#dtable", "function": "#fn-callers",
                                       "dflame": "#dflamegraph"}
    SEARCH: ClassVar[tuple[str, str, str]] = ("changes", "#dsearch", "#dtable")
    CYCLE: ClassVar[dict[str, tuple[str, ...]]] = {"function": ("#fn-callers", "#fn-callees")}
    STRIPS: ClassVar[tuple[str, ...]] = ("#tl-before", "#tl-after")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys", key_display="?"),
        Binding("1", "tab('changes')", "Changes", show=False),
        Binding("2", "tab('function')", "Function", show=False),
        Binding("3", "tab('dflame')", "Flame diff", show=False),
        Binding("t", "timeline", "Timelines", show=False),
    ]

    def __init__(self, views: DiffViews | None = None, loader: DiffLoader | None = None,
                 inputs: Iterable[str] = (), kind: Kind | None = None) -> None:
        super().__init__()
        self.views: DiffViews | None = None
        self.state = DiffState(kind=kind)
        self._initial = views
        self._loader = loader
        self._inputs = list(inputs)
        self._rows: list[FunctionDiff] = []
        self._limit = ROW_LIMIT
        self._matched = 0
        self._tier: int | None = None  # the columns drawn: 0 narrow, 1 +q, 2 +ratio, kind
        self._flame_built = False
        self._tree: DiffFlameTree | None = None  # the one the flame graph draws
        self._by_frame: dict[int, FunctionDiff] = {}
        self._neighbours: tuple[list[Frame], list[Frame]] = ([], [])
        # the profiles as loaded (a time range cuts from these), the range chosen a side
        self._full: tuple[Sequence[Profile], Sequence[Profile]] | None = None
        self._ranges: dict[str, tuple[int, int]] = {}
        self._strips: bool | None = None  # t asked for the strips (None: by the height)

    def compose(self) -> ComposeResult:
        yield Static(id="dhead")
        for side in ("before", "after"):
            strip = TimelineStrip(id=f"tl-{side}", label=side, compact=True)
            strip.display = False
            yield strip
        with TabbedContent(initial="changes", id="dtabs"):
            yield ChangesPane("Changes", id="changes")
            yield FunctionPane("Function", id="function")
            yield FlameDiffPane("Flame diff", id="dflame")
        with Horizontal(id="footer-row"):
            yield Footer()

    def on_mount(self) -> None:
        if self._initial is not None:
            self.set_views(self._initial)
        elif self._loader is not None:
            self.start_loading(self._loader, [Path(p).name for p in self._inputs])

    # -- loading ---------------------------------------------------------------------------
    def loaded(self, result: Any) -> Message:
        return DiffLoaded(result)

    def on_diff_loaded(self, msg: DiffLoaded) -> None:
        self.loading_done()
        self.set_views(msg.views)

    # -- the comparison --------------------------------------------------------------------
    def set_views(self, views: DiffViews) -> None:
        self.views = views
        self._by_frame = {}
        self._flame_built = False
        main = self._main()
        head = Text(no_wrap=True, overflow="ellipsis")
        for i, (line, warn) in enumerate(header_lines(views.result)):
            head.append(("\n" if i else "") + line, style="bold #ffaf00" if warn else "")
        main.query_one("#dhead", Static).update(head)
        self._show_timelines(views)
        self.refresh_table()
        self._refresh_active_tab()
        self.call_after_refresh(self._prepare, views)  # after the first paint: the GIL

    @work(thread=True, exit_on_error=False, group="prepare")
    def _prepare(self, views: DiffViews) -> None:
        """The flame graph's paired stacks, in the background once the table is shown (a
        second or two on 100,000 stacks a side); quitting stops it."""
        worker = get_current_worker()
        try:
            views.prepare(lambda: worker.is_cancelled)
        except Stopped:
            pass

    # -- what verdicts and sorting use: shares, or per second of recording --------------
    # -- the timelines: each side cut to a time range -----------------------------------
    def _show_timelines(self, views: DiffViews) -> None:
        """One strip a side when the side is one profile with time bins (several runs a
        side have no common time axis) and the terminal has room (30 lines; ``t`` shows
        them on a smaller one)."""
        if self._full is None:
            self._full = views.profiles
        main = self._main()
        for side, profiles in zip(("before", "after"), self._full, strict=True):
            strip = main.query_one(f"#tl-{side}", TimelineStrip)
            tl = timeline(profiles[0]) if len(profiles) == 1 else None
            strip.timeline = tl
            strip.chosen = self._ranges.get(side)
            strip.display = tl is not None and (self._strips if self._strips is not None
                                                else self.size.height >= 30)

    def action_timeline(self) -> None:
        """t: show the timelines and go to the before one; again: back to the view."""
        main = self._main()
        strips = [main.query_one(f"#tl-{s}", TimelineStrip) for s in ("before", "after")]
        if main.focused in strips:
            self._focus_tab(main.query_one(TabbedContent).active)
            return
        usable = [s for s in strips if s.timeline is not None]
        if not usable:
            self.notify("no time bins to cut by (one profile a side, with sample times)",
                        severity="warning")
            return
        self._strips = True
        for s in usable:
            s.display = True
        main.set_focus(usable[0])

    def on_range_chosen(self, msg: RangeChosen) -> None:
        side = "before" if msg.strip == "tl-before" else "after"
        if msg.bins is None:
            self._ranges.pop(side, None)
        else:
            self._ranges[side] = msg.bins
        views, full = self.views, self._full
        if views is None or full is None or views.rerun is None:
            return
        cut = tuple([restrict_bins(p, *self._ranges[s]) if s in self._ranges else p
                     for p in ps] for s, ps in zip(("before", "after"), full, strict=True))
        self.notify(f"comparing {side} {self._range_words(side)}…", timeout=3)
        self._rerun(views, views.result.normalization.mode, cut[0], cut[1])

    def _range_words(self, side: str) -> str:
        rng = self._ranges.get(side)
        strip = self._main().query_one(f"#tl-{side}", TimelineStrip)
        if rng is None or strip.timeline is None:
            return "whole"
        return strip.timeline.span(*rng)

    def switch_normalization(self) -> None:
        """n: compare shares of each side's samples, or CPU per second of recording (a
        share grows when the total shrinks; a rate does not). The comparison is made
        again (the same method, blocks and seed) in a worker."""
        views = self.views
        if views is None or views.rerun is None:
            self.notify("this comparison cannot be made again here", severity="warning")
            return
        mode: NormalizationMode = ("rate" if views.result.normalization.mode == "share"
                                   else "share")
        self.notify(f"comparing {'per second of recording' if mode == 'rate' else 'shares'}"
                    "…", timeout=3)
        self._rerun(views, mode, *views.profiles)

    @work(thread=True, exclusive=True, group="rerun", exit_on_error=False)
    def _rerun(self, views: DiffViews, mode: NormalizationMode, before: Sequence[Profile],
               after: Sequence[Profile]) -> None:
        try:
            result = views.rerun(mode, before, after)  # type: ignore[misc]
        except JitprofError as e:
            self.call_from_thread(self.notify, str(e), severity="error")
            return
        new = DiffViews(result, before, after, rerun=views.rerun)
        self.call_from_thread(self._rerun_done, views, new)

    def _rerun_done(self, old: DiffViews, new: DiffViews) -> None:
        if self.views is old and self.screen_stack:
            self.state.cursor = None
            self.set_views(new)

    def _refresh_active_tab(self) -> None:
        if self._main().query_one(TabbedContent).active == "dflame" and not self._flame_built:
            self.rebuild_flame()

    def key_sections(self) -> KeySections:
        return diff_key_sections()

    def refresh_list(self) -> None:
        self.refresh_table()

    # -- the changes table -----------------------------------------------------------------
    def set_sort(self, sort: DiffSort) -> None:
        self.state.sort = sort
        self.refresh_table()

    def cycle_kind(self, step: int) -> None:
        if self.views is None:
            return
        kinds: list[Kind | None] = [None, *self.views.table.kinds()]
        i = kinds.index(self.state.kind) if self.state.kind in kinds else 0
        self.state.kind = kinds[(i + step) % len(kinds)]
        self.refresh_table()

    def set_kind(self, kind: Kind | None) -> None:
        self.state.kind = kind
        self.refresh_table()

    def action_kind(self, kind: str) -> None:
        """The kind lines' links: filter by that kind, or by none when it is the filter."""
        k = next((k for k in Kind if k.value == kind), None)
        self.set_kind(None if k is self.state.kind else k)

    def _refresh_kinds(self) -> None:
        assert self.views is not None
        t = Text(no_wrap=True, overflow="ellipsis")
        for i, k in enumerate(kind_lines(self.views.result, self.size.width - 2)):
            if i:
                t.append("\n")
            start = len(t)
            t.append(k.text)
            name_end = start + len(k.kind.value)
            t.stylize("reverse bold" if k.kind is self.state.kind else kind_colour(k.kind),
                      start, name_end)
            # a click on the kind filters by it (again: all kinds)
            t.stylize(Style.from_meta({"@click": f"app.kind({k.kind.value!r})"}), start,
                      name_end)
            style = direction_style(k.direction)
            t.stylize(style, start + k.delta_at, start + k.delta_at + len(k.delta))
            t.stylize(style, start + k.verdict_at, start + k.verdict_at + len(k.verdict))
        self._main().query_one("#dkinds", Static).update(t)

    def refresh_table(self, more: bool = False) -> None:
        """Fill the changes table (``more``: ROW_LIMIT more rows of the same view)."""
        if self.views is None:
            return
        self._limit = self._limit + ROW_LIMIT if more else ROW_LIMIT
        main = self._main()
        table = main.query_one("#dtable", DataTable)
        st = self.state
        if self._rows and 0 <= table.cursor_row < len(self._rows):
            st.cursor = self._rows[table.cursor_row]
        self._refresh_kinds()
        try:
            v = self.views.table.view(st.sort, st.kind, st.search, st.regex, st.reverse,
                                      self._limit)
        except ValueError as e:  # a bad regex: keep the last rows, say why
            main.query_one("#dinfo", Static).update(Text(str(e), style="bold red"))
            return
        self._rows = v.rows
        self._matched = v.matched
        result = self.views.result
        total = len(result.functions)
        shown = (f"{v.matched:,} of {total:,} functions" if v.matched != total
                 else f"{total:,} functions")
        if len(v.rows) < v.matched:
            shown += f" (first {len(v.rows):,}, more at the last row)"
        parts = [shown, f"sorted by {st.sort}{' reversed' if st.reverse else ''}",
                 f"kind {st.kind.value if st.kind else 'all'}"]
        if st.search:
            parts.append(f"{'regex' if st.regex else 'search'} {st.search!r}")
        main.query_one("#dinfo", Static).update(
            Text(" · ".join(parts) + " · enter: details", no_wrap=True, overflow="ellipsis"))
        width = self.size.width
        tier = 2 if width >= WIDE else 1 if width >= MEDIUM else 0
        self._tier = tier
        unit = unit_short(result)
        conf = f"{100 * result.confidence:g}% CI"
        delta = f"Δ {unit}" if len(unit) <= 4 else "Δ"  # the header line says the unit
        cols: list[tuple[str, int]] = [("Before", 6), ("After", 6), (delta, 6), (conf, 14)]
        if tier >= 1:
            cols.append(("q", 6))
        cols.append(("Verdict", 15))
        if tier >= 1 and result.normalization.mode == "share":
            ps = per_second_unit(result)  # beside the shares: a cut, or a smaller total?
            if ps:
                cols.append((ps, 13))
        if tier >= 2:
            cols += [("Ratio", 6), ("Kind", 6)]
        fixed = sum(w + 2 for _, w in cols) + 2 + 2  # cell padding, scrollbar, function pad
        name_width = max(12, width - fixed)
        table.clear(columns=True)
        sorts = {"Before": "before", "After": "after", delta: "delta"}  # header clicks
        for label, w in cols:
            table.add_column(label, width=w, key=sorts.get(label, label))
        table.add_column("Function", width=name_width, key="name")
        cursor = 0
        rates = any(label in ("ms/s", "/s") for label, _w in cols)
        for i, f in enumerate(v.rows):
            c = cells(f, result)
            table.add_row(*self._row(c, tier, name_width, rates))
            if f is st.cursor:
                cursor = i
        if v.rows:
            table.move_cursor(row=cursor, animate=False)

    @staticmethod
    def _row(c: DiffCells, tier: int, name_width: int, rates: bool = False) -> list[Text]:
        style = direction_style(c.direction)
        out = [Text(c.before, justify="right"), Text(c.after, justify="right"),
               Text(c.delta, style=style, justify="right"), Text(c.ci, justify="right")]
        if tier >= 1:
            out.append(Text(c.q, justify="right"))
        out.append(Text(c.verdict, style=style))
        if rates:
            out.append(Text(c.per_second, justify="right"))
        if tier >= 2:
            out += [Text(c.ratio, justify="right"),
                    Text(c.kind, style=kind_colour(Kind(c.kind)))]
        out.append(Text(short_name(c.name, name_width)))
        return out

    @on(DataTable.HeaderSelected, "#dtable")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        for sort in SORTS:
            if sort == key:
                self.set_sort(sort)

    def on_resize(self, event: events.Resize) -> None:
        if self.views is not None and self._tier is not None:
            self.refresh_table()

    @on(DataTable.RowHighlighted, "#dtable")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row == len(self._rows) - 1 and self._matched > len(self._rows):
            self.refresh_table(more=True)

    @on(DataTable.RowSelected, "#dtable")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self._rows):
            self.show_function(self._rows[event.cursor_row])

    # -- one function ----------------------------------------------------------------------
    def function_of(self, frame: Frame) -> FunctionDiff | None:
        """The result's function of a frame of the paired stacks (flame, callers)."""
        if self.views is None:
            return None
        if not self._by_frame:
            stacks = self.views.stacks
            for f in self.views.result.functions:
                fid = stacks.frame_id(f)
                if fid is not None:
                    self._by_frame[fid] = f
        fid = self.views.stacks.by_frame.get(frame)
        return self._by_frame.get(fid) if fid is not None else None

    def on_show_function(self, msg: ShowFunction) -> None:
        f = self.function_of(msg.frame)
        if f is not None:
            self.show_function(f)

    def show_function(self, f: FunctionDiff) -> None:
        if self.state.detail is not None and self.state.detail is not f:
            self.state.history.append(self.state.detail)
        self._show_detail(f)
        self.action_tab("function")

    def detail_back(self) -> None:
        if self.state.history:
            self._show_detail(self.state.history.pop())

    def _show_detail(self, f: FunctionDiff) -> None:
        if self.views is None:
            return
        self.state.detail = f
        result = self.views.result
        main = self._main()
        lines = function_lines(f, result)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(lines[0] + "\n", style="bold")
        for line in lines[1:-1]:
            head.append(line + "\n")
        head.append(lines[-1], style="dim" if result.method != "binomial" else "")
        # the delta line in the verdict's colour
        plain = head.plain
        at = plain.find("\ndelta ")
        if at >= 0:
            end = plain.find("\n", at + 1)
            head.stylize(direction_style(direction(f.cmp.verdict)), at + 1,
                         end if end >= 0 else len(plain))
        if self.state.history:
            head.append(f"\nbackspace: back to {self.state.history[-1].name}", style="dim")
        main.query_one("#fn-head", Static).update(head)
        callers, callees = self.views.neighbours(f)
        self._neighbours = ([n.frame for n in callers], [n.frame for n in callees])
        pb, pa = (100.0 / max(self.views.result.before.samples, 1),
                  100.0 / max(self.views.result.after.samples, 1))
        name_width = max(12, self.size.width - 4 * 9 - 6)
        for tid, rows in (("#fn-callers", callers), ("#fn-callees", callees)):
            t = main.query_one(tid, DataTable)
            t.clear(columns=True)
            t.add_column("Before", width=7)
            t.add_column("After", width=7)
            t.add_column("Δ pts", width=7)
            t.add_column("Kind", width=6)
            t.add_column("Function", width=name_width)
            for n in rows:
                b, a = n.before * pb, n.after * pa
                mark = "+" if n.before == 0 else "-" if n.after == 0 else ""
                t.add_row(Text(f"{b:.2f}%", justify="right"), Text(f"{a:.2f}%", justify="right"),
                          Text(f"{a - b:+.2f}", justify="right"),
                          Text(n.frame.kind.value, style=kind_colour(n.frame.kind)),
                          Text(short_name(mark + n.frame.name, name_width)))

    @on(DataTable.RowSelected, "#fn-callers")
    def _caller_selected(self, event: DataTable.RowSelected) -> None:
        self._go_neighbour(self._neighbours[0], event.cursor_row, "#fn-callers")

    @on(DataTable.RowSelected, "#fn-callees")
    def _callee_selected(self, event: DataTable.RowSelected) -> None:
        self._go_neighbour(self._neighbours[1], event.cursor_row, "#fn-callees")

    def _go_neighbour(self, frames: list[Frame], row: int, table: str) -> None:
        if 0 <= row < len(frames):
            f = self.function_of(frames[row])
            if f is not None:
                self.show_function(f)
                self._main().query_one(table).focus()

    # -- the differential flame graph ------------------------------------------------------
    def rebuild_flame(self) -> None:
        if self.views is None:
            return
        ft = self._tree = self.views.flame(self.state.shape)
        self._flame_built = True
        zoom = ft.find(self.state.zoom)
        sel = ft.find(self.state.selected)
        if zoom not in ft.path(sel):
            sel = zoom
        result = self.views.result if self.views else None
        other = "before" if self.state.shape == "after" else "after"
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"{self.state.shape.upper()}-sized", style="bold")
        head.append(f" (b: {other}) · ")
        head.append("red grew", style="bold #d6604d")
        head.append(", ")
        head.append("blue shrank", style="bold #4393c3")
        if result is not None:
            head.append(f" (full at ±{fmt_delta(ft.scale, result, 1).lstrip('+')} "
                        f"{unit_short(result)}) · +new -gone")
        self._main().query_one("#dflame-head", Static).update(head)
        self._main().query_one("#dflamegraph", FlameGraph).set_tree(ft, zoom, sel)

    def toggle_shape(self) -> None:
        self.state.shape = SHAPES[(SHAPES.index(self.state.shape) + 1) % len(SHAPES)]
        self.rebuild_flame()

    def paint_box(self, box: FlameBox, i: int, selected: bool) -> tuple[str, Style]:
        ft = self._tree
        if ft is None:
            return box.label, Style()
        status = ft.status(box.node)
        label = box.label
        if status != "both":
            label = clip(("+" if status == "new" else "-") + ft.name(box.node), box.width)
        if selected:
            return label, SELECTED
        bg0, bg1, fg = PALETTE[ft.level(box.node)]
        return label, Style(bgcolor=bg1 if i % 2 else bg0, color=fg, bold=status != "both")

    def on_flame_changed(self, msg: FlameChanged) -> None:
        ft = self._tree
        if ft is None or self.views is None or not self._flame_built:
            return
        self.state.zoom = ft.frames_of(msg.zoom)
        self.state.selected = ft.frames_of(msg.selected)
        main = self._main()
        crumbs = [ft.name(n) for n in ft.path(msg.zoom)]
        bar = main.query_one("#dflame-crumb", Static)
        width = (bar.content_region.width or self.size.width - 2) - 1
        bar.update(Text(breadcrumb(crumbs, max(width, 1)), no_wrap=True))
        main.query_one("#dflame-info", Static).update(self.flame_info(msg.selected))

    def flame_info(self, node: int) -> Text:
        """The selected frame: before -> after (inclusive, normalised), delta, self."""
        ft = self._tree
        assert ft is not None and self.views is not None
        result = self.views.result
        b, a = ft.values(node)
        sb, sa = ft.self_counts(node)
        ps = (ft.per_sample[0] * sb, ft.per_sample[1] * sa)
        status = ft.status(node)
        level = ft.level(node)
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(ft.name(node), style="bold")
        if status != "both":
            t.append(f" [{status}]", style="bold")
        t.append(f"  {fmt_value(b, result)} → {fmt_value(a, result)} ")
        t.append(f"{fmt_delta(a - b, result)} {unit_short(result)}",
                 style=direction_style(1 if level > 0 else -1 if level < 0 else 0))
        t.append(f"  (self {fmt_value(ps[0], result)} → {fmt_value(ps[1], result)})")
        t.append("  enter: zoom  esc: out  c: details", style="dim")
        return t

    # -- command palette -------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Keys", "Show every key (?)", self.action_help)
        for tab, title in zip(TABS, ("Changes", "Function", "Flame diff"), strict=True):
            yield SystemCommand(f"Go to {title}", f"Show the {title} view",
                                lambda t=tab: self.action_tab(t))
        for key in SORTS:
            yield SystemCommand(f"Sort by {key}", "Changes table order",
                                lambda k=key: self.set_sort(k))
        yield SystemCommand("Kind: All", "Show every kind", lambda: self.set_kind(None))
        for kind in (self.views.table.kinds() if self.views else []):
            yield SystemCommand(f"Kind: {kind.value}", f"Only {kind.value} functions",
                                lambda k=kind: self.set_kind(k))
        yield SystemCommand("Search", "Search function names (/)", self.action_search)
        yield SystemCommand("Flame graph sized by before/after", "Switch the shape (b)",
                            self._shape_command)

    def _shape_command(self) -> None:
        self.action_tab("dflame")
        self.toggle_shape()


def diff_key_sections() -> KeySections:
    """Every key of the diff view, by where it works (the help screen and docs/diff.md)."""
    keys = binding_keys
    return [
        ("Everywhere", keys(DiffApp.BINDINGS) + [
            ("ctrl+p", "Command palette (every action)"), ("tab", "Next widget")]),
        ("Changes", keys(ChangesPane.BINDINGS) + [
            ("enter", "The function before and after, callers/callees"),
            ("up/down, pgup/pgdn", "Move"),
            ("mouse", "Click a column header (Before, After, Δ, Function) to sort, a "
                      "kind in the summary to filter by it")]),
        ("Function", keys(FunctionPane.BINDINGS) + [
            ("enter", "Go to that caller/callee"), ("tab", "Callers <-> callees")]),
        ("Flame diff", keys(FlameDiffPane.BINDINGS) + keys(FlameGraph.BINDINGS) + [
            ("mouse", "Click selects, click again zooms, wheel scrolls")]),
        ("Reading it", [
            ("▲ up", "More CPU, beyond noise (q <= alpha); orange-red"),
            ("▼ down", "Less CPU, beyond noise; blue"),
            ("no clear change", "Within noise; dim"),
            ("new / gone", "No samples before / after"),
            ("+name", "Flame frame new (red: grew, blue: shrank, grey: same)"),
            ("-name", "Flame frame gone (the before shape shows it: b)")]),
    ]
