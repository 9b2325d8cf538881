"""The jitprof TUI: hot functions, callers/callees, call trees and a flame graph of a Profile.

The App receives a finished ``Profile`` (or a loader that makes one in a worker thread) and
never parses. All numbers come from ``jitprof.present.views``. The view state (sort, kind filter,
search, focused function, flame zoom, call-tree path) is kept as Frames, not frame ids, so
``set_profile`` can swap in a new profile (a live ``jitprof top``) and keep it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Input,
    Static,
    TabbedContent,
    TabPane,
)

from jitprof.model import KIND_ORDER, Frame, Kind, Profile
from jitprof.present.header import status
from jitprof.present.rows import SORT_KEYS, SortKey
from jitprof.present.timeline import BinIndex, Timeline, restrict_bins, timeline
from jitprof.present.views import (
    FrameSearch,
    HotRow,
    ProfileViews,
    Sandwich,
    breadcrumb,
    next_measure,
    search_frames,
)
from jitprof.tui.base import KeySections, TabbedApp, binding_keys
from jitprof.tui.messages import (
    FlameChanged,
    ProfileLoaded,
    RangeChosen,
    ShowFunction,
    TreeMoved,
)
from jitprof.tui.widgets import (
    CallTreeView,
    FlameGraph,
    HotFunctions,
    Line,
    NeighbourTable,
    StatusBar,
    TimelineStrip,
    WarningBar,
    WarningsScreen,
    kind_colour,
)

Loader = Callable[[Callable[[int, int], None]], Profile]


HOT_LIMIT = 300  # rows in the hot table at first (DataTable measures every cell: ~1 ms a
# row); the next HOT_LIMIT are added when the cursor reaches the last row
TABS = ("hot", "detail", "tree", "flame")
TIMELINE_MIN_HEIGHT = 20  # terminal lines below which the timeline is left out
TAB_TITLES = dict(zip(TABS, ("Hot functions", "Callers/callees", "Call tree", "Flame graph"),
                      strict=True))


@dataclass
class ViewState:
    """What the user chose, independent of any one profile."""

    sort: SortKey = "self"
    kind: Kind | None = None
    search: str = ""
    regex: bool = False
    relative: bool = False
    hot_cursor: Frame | None = None
    detail: Frame | None = None
    history: list[Frame] = field(default_factory=list)
    came_from: str = ""  # the tab callers/callees were opened from (back returns there)
    time_range: tuple[float, float] | None = None  # seconds of perf time [from, to)
    flame_search: str = ""  # frames highlighted in the flame graph
    inverted: bool = False
    tree_path: list[Frame] = field(default_factory=list)
    flame_zoom: list[Frame] = field(default_factory=list)
    flame_selected: list[Frame] = field(default_factory=list)


def _app(widget: TabPane) -> JitprofApp:
    app = widget.app
    assert isinstance(app, JitprofApp)
    return app


class HotPane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("ctrl+r", "regex", "Regex on/off", show=False),
        Binding("s", "sort", "Sort"),
        Binding("k", "kind(1)", "Kind"),
        Binding("K", "kind(-1)", "Previous kind", show=False),
        Binding("percent_sign", "relative", "Relative %", key_display="%"),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("x", "clear_filters", "Clear filters"),
    ]

    def compose(self) -> ComposeResult:
        yield Line(id="kinds")
        inp = Input(placeholder="search function names (ctrl+r: regex)", id="search")
        inp.cursor_blink = False
        inp.display = False
        yield inp
        yield Line(id="hot-info")
        yield HotFunctions(id="hot-table")
        yield Line(id="hot-row")

    def action_search(self) -> None:
        app = _app(self)
        app.action_search()

    def action_regex(self) -> None:
        app = _app(self)
        app.state.regex = not app.state.regex
        app.refresh_hot()

    def action_sort(self) -> None:
        app = _app(self)
        i = SORT_KEYS.index(app.state.sort)
        app.set_sort(SORT_KEYS[(i + 1) % len(SORT_KEYS)])

    def action_kind(self, step: int) -> None:
        app = _app(self)
        app.cycle_kind(step)

    def action_relative(self) -> None:
        app = _app(self)
        app.state.relative = not app.state.relative
        app.refresh_hot()

    def action_clear_search(self) -> None:
        app = _app(self)
        app.close_search(clear=True)

    def action_clear_filters(self) -> None:
        _app(self).clear_filters()


EMPTY_DETAIL = "Choose one: enter on a row of Hot functions, c in the call tree or flame graph"


class DetailPane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,left,backspace", "back", "Back"),
    ]

    def compose(self) -> ComposeResult:
        yield Line(EMPTY_DETAIL, id="detail-head")
        yield Line(id="detail-numbers")
        with Vertical(id="detail-tables"):
            yield Static("Callers", classes="section")
            yield NeighbourTable(id="callers")
            yield Static("Callees", classes="section")
            yield NeighbourTable(id="callees")

    def action_back(self) -> None:
        app = _app(self)
        app.action_detail_back()


class TreePane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "invert", "Invert"),
        Binding("h", "hottest", "Hottest path"),
        Binding("c", "callers", "Callers/callees"),
    ]

    def compose(self) -> ComposeResult:
        yield Line(id="tree-head")
        yield CallTreeView(id="calltree")
        yield Line(id="tree-info")

    def action_invert(self) -> None:
        app = _app(self)
        app.state.inverted = not app.state.inverted
        app.state.tree_path = []
        app.rebuild_tree()

    def action_hottest(self) -> None:
        app = _app(self)
        app.expand_hottest()

    def action_callers(self) -> None:
        app = _app(self)
        node = app.query_one(CallTreeView).cursor_node
        if node is not None and app.views is not None:
            f = app.views.tree(app.state.inverted).frame(node)
            if f is not None:
                app.show_function(f)


class FlamePane(TabPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("x", "clear_filters", "Clear filters", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Line(id="breadcrumb")
        inp = Input(placeholder="highlight frames whose names contain…", id="flame-search")
        inp.cursor_blink = False
        inp.display = False
        yield inp
        found = Line(id="flame-found")
        found.display = False
        yield found
        yield FlameGraph(id="flamegraph")
        yield Line(id="flame-info")
        yield Line(id="flame-name")

    def action_search(self) -> None:
        inp = self.query_one("#flame-search", Input)
        inp.display = True
        inp.focus()

    def action_clear_filters(self) -> None:
        _app(self).clear_filters()


def compose_main() -> ComposeResult:
    yield StatusBar(id="status")
    yield WarningBar(id="warning")
    yield TimelineStrip(id="timeline")
    with TabbedContent(initial="hot", id="tabs"):
        yield HotPane("Hot functions", id="hot")
        yield DetailPane("Callers/callees", id="detail")
        yield TreePane("Call tree", id="tree")
        yield FlamePane("Flame graph", id="flame")
    with Horizontal(id="footer-row"):
        yield Footer()


class JitprofApp(TabbedApp):
    """Give it a ``profile``, or a ``loader`` (called in a worker thread with a
    ``progress(bytes done, total)`` callback) and the ``inputs`` it reads for the title."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses elsewhere
    TITLE = "jitprof"
    FOCUS: ClassVar[dict[str, str]] = {"hot": "#hot-table", "detail": "#callers",
                                       "tree": "#calltree", "flame": "#flamegraph"}
    SEARCH: ClassVar[tuple[str, str, str]] = ("hot", "#search", "#hot-table")
    CYCLE: ClassVar[dict[str, tuple[str, ...]]] = {"detail": ("#callers", "#callees")}
    STRIPS: ClassVar[tuple[str, ...]] = ("#timeline",)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys", key_display="?"),
        Binding("t", "timeline", "Timeline", show=False),
        Binding("exclamation_mark", "warnings", "Every warning", show=False, key_display="!"),
        Binding("1", "tab('hot')", "Hot functions", show=False),
        Binding("2", "tab('detail')", "Callers/callees", show=False),
        Binding("3", "tab('tree')", "Call tree", show=False),
        Binding("4", "tab('flame')", "Flame graph", show=False),
        Binding("e", "measure", "CPU / off-CPU / wall", show=False),
    ]

    def __init__(self, profile: Profile | None = None, loader: Loader | None = None,
                 inputs: Iterable[str] = (), filters: Iterable[str] = (),
                 measure_loader: Callable[[str], Loader] | None = None) -> None:
        """``filters``: what the profile was read with, in words ("pid 1234"): said with
        the TUI's own filters above the table. ``measure_loader(event)``: a loader of the
        same inputs for another event (the ``e`` key: cpu-clock, off-cpu, wall)."""
        super().__init__()
        self._measure_loader = measure_loader
        self.read_filters = tuple(filters)
        self.views: ProfileViews | None = None
        self.state = ViewState()
        self._initial = profile
        self._loader = loader
        self._inputs = list(inputs) or (list(profile.inputs) if profile else [])
        self._hot_rows: list[HotRow] = []
        self._hot_limit = HOT_LIMIT  # rows asked for; grows as the cursor reaches the end
        self._hot_matched = 0
        self._sandwich: Sandwich | None = None
        self._tree_built = False  # for the current profile
        self.full: Profile = profile if profile is not None else Profile(event="")
        self.timeline: Timeline | None = None
        self._bin_index: BinIndex | None = None
        self._frame_ids: dict[Frame, int] = {}
        self._whole: tuple[Profile, ProfileViews] | None = None  # the views of all the time
        self._flame_built = False
        self._flame_found: FrameSearch | None = None

    def compose(self) -> ComposeResult:
        yield from compose_main()

    def on_mount(self) -> None:
        if self._initial is not None:
            self.set_profile(self._initial)
        elif self._loader is not None:
            self.start_loading(self._loader, [Path(p).name for p in self._inputs])

    # -- loading ---------------------------------------------------------------------------
    def loaded(self, result: Any) -> Message:
        # the views read the profile without its time axis (fewer, heavier stacks)
        views = ProfileViews(restrict_bins(result, None, None, keep_bins=False))
        views.hot  # noqa: B018 - the per-function sums, here rather than in the UI thread
        return ProfileLoaded(result, views)

    def on_profile_loaded(self, msg: ProfileLoaded) -> None:
        self.loading_done()
        self.set_profile(msg.profile, msg.views)

    # -- the profile -----------------------------------------------------------------------
    def set_profile(self, profile: Profile, views: ProfileViews | None = None) -> None:
        """Show ``profile``; the view state (filters, focus, zoom, tree path, time range)
        carries over where its functions still exist. A live view calls this again with
        each new profile (from a thread: ``app.call_from_thread(app.set_profile, p, v)``),
        passing ``views = ProfileViews(p)`` with ``views.hot`` already computed off the UI
        thread. A profile with time bins gets the timeline; ``views`` may then be of
        ``restrict_bins(profile, None, None, keep_bins=False)``."""
        self.full = profile
        self.timeline = timeline(profile)
        self._bin_index = None
        self._frame_ids = {}
        bins = self._range_bins()
        if bins is None and views is not None and (
                views.profile is profile or views.profile.frames is profile.frames):
            self._whole = (profile, views)
            self._show(views)
        elif bins is None and self._whole is not None and self._whole[0] is profile:
            self._show(self._whole[1])  # back from a range: the views made at first
        else:
            lo, hi = bins if bins is not None else (None, None)
            made = ProfileViews(restrict_bins(profile, lo, hi, keep_bins=False))
            if bins is None:
                self._whole = (profile, made)
            self._show(made)

    def _range_bins(self) -> tuple[int, int] | None:
        """The chosen time range as bins of the current timeline (None: the whole)."""
        tl, rng = self.timeline, self.state.time_range
        if tl is None or rng is None:
            return None
        if rng[1] <= tl.seconds(tl.first) or rng[0] >= tl.seconds(tl.end):
            self.state.time_range = None  # a live window moved past it
            return None
        lo, hi = tl.bin_at(rng[0]), tl.bin_at(rng[1] - tl.bin_width / 2) + 1
        return (lo, hi) if lo < hi else None

    def _show(self, views: ProfileViews) -> None:
        self.views = views
        st = status(views.profile)
        main = self._main()
        bins = self._range_bins()
        strip = main.query_one(TimelineStrip)
        strip.display = self.timeline is not None and self.size.height >= TIMELINE_MIN_HEIGHT
        if strip.timeline is not self.timeline:
            strip.function = None  # of the previous profile's bins: _follow draws it anew
        strip.timeline = self.timeline
        strip.chosen = bins
        note = ""
        if bins is not None and self.timeline is not None and self.full.time_first is not None:
            whole = (self.full.time_last or 0) - self.full.time_first
            note = f"a range of the {whole:.2f} s (x: clear)"
        main.query_one(StatusBar).show(st, note)
        main.query_one(WarningBar).show(st.warnings)
        self.refresh_hot()
        if self.state.detail is not None:
            self._show_detail(self.state.detail)
        self._tree_built = False
        self._flame_built = False
        self._refresh_active_tab()
        self._follow(self.state.hot_cursor)

    # -- the measure (issue 17) -------------------------------------------------------------
    def action_measure(self) -> None:
        """e: the next of CPU time, off-CPU time and wall time (the view state stays)."""
        nxt = next_measure(self.full.diagnostics.events, self.full.event)
        if nxt is None:
            self.notify("only one measure: off-cpu and wall need a recording with context "
                        "switches (jitprof record --off-cpu)", title="measure")
            return
        self.show_measure(nxt)

    def show_measure(self, event: str) -> None:
        """Load the same inputs for ``event`` (a live view overrides this)."""
        if self._measure_loader is None:
            self.notify("this view cannot reload its inputs", title="measure")
            return
        self.start_loading(self._measure_loader(event), [Path(p).name for p in self._inputs])

    def action_warnings(self) -> None:
        warnings = self._main().query_one(WarningBar).warnings
        if warnings:
            self.push_screen(WarningsScreen(warnings))

    # -- the timeline ----------------------------------------------------------------------
    def action_timeline(self) -> None:
        """t: to the timeline and back to the view."""
        main = self._main()
        strip = main.query_one(TimelineStrip)
        if main.focused is strip or not strip.display:
            self._focus_tab(main.query_one(TabbedContent).active)
        else:
            main.set_focus(strip)

    def on_range_chosen(self, msg: RangeChosen) -> None:
        tl = self.timeline
        if tl is None or msg.bins is None:
            self.state.time_range = None
        else:
            self.state.time_range = (tl.seconds(msg.bins[0]), tl.seconds(msg.bins[1]))
        self.set_profile(self.full)

    def _follow(self, frame: Frame | None) -> None:
        """Draw ``frame``'s samples over time under the whole profile's (soon: the index
        of the bins is built once, in a worker)."""
        if self.timeline is None or frame is None:
            return
        if self._bin_index is None:
            self._index_bins(self.full, self.timeline, frame)
            return
        fid = self._frame_id(frame)
        strip = self._main().query_one(TimelineStrip)
        strip.function = (frame.name, self._bin_index.weights_of(
            [] if fid is None else [fid]))

    def _frame_id(self, frame: Frame) -> int | None:
        if not self._frame_ids:
            self._frame_ids = {f: i for i, f in enumerate(self.full.frames)}
        return self._frame_ids.get(frame)

    @work(thread=True, exclusive=True, group="timeline")
    def _index_bins(self, profile: Profile, tl: Timeline, frame: Frame) -> None:
        index = BinIndex(profile, tl)
        self.call_from_thread(self._bins_indexed, profile, index, frame)

    def _bins_indexed(self, profile: Profile, index: BinIndex, frame: Frame) -> None:
        if profile is self.full and self.screen_stack:
            self._bin_index = index
            self._follow(frame)

    def _refresh_active_tab(self) -> None:
        tab = self._main().query_one(TabbedContent).active
        if tab == "tree" and not self._tree_built:
            self.rebuild_tree()
        if tab == "flame" and not self._flame_built:
            self.rebuild_flame()

    def key_sections(self) -> KeySections:
        return key_sections()

    def refresh_list(self) -> None:
        self.refresh_hot()

    # -- hot functions ---------------------------------------------------------------------
    def set_sort(self, sort: SortKey) -> None:
        self.state.sort = sort
        self.refresh_hot()

    def cycle_kind(self, step: int) -> None:
        if self.views is None:
            return
        kinds = [s.kind for s in self.views.hot.kind_shares()]
        i = kinds.index(self.state.kind) if self.state.kind in kinds else 0
        self.state.kind = kinds[(i + step) % len(kinds)]
        self.refresh_hot()

    def action_kind(self, kind: str) -> None:
        """Filter by kind by name ("All" for none): the kind buttons' links."""
        self.state.kind = next((k for k in Kind if k.value == kind), None)
        self.refresh_hot()

    def clear_filters(self) -> None:
        """One key for every filter: kind, search (and its box), time range."""
        self.state.kind = None
        if self.state.flame_search:
            inp = self._main().query_one("#flame-search", Input)
            inp.value = ""
            inp.display = False
            self.state.flame_search = ""
            self._apply_flame_search()
        had_range = self.state.time_range is not None
        self.state.time_range = None
        if had_range:
            self.set_profile(self.full)
        self.close_search(clear=True)

    def refresh_hot(self, more: bool = False) -> None:
        """Fill the hot table; ``more``: the same view with HOT_LIMIT more rows (the cursor
        reached the last row), else from the first HOT_LIMIT rows again."""
        if self.views is None:
            return
        self._hot_limit = self._hot_limit + HOT_LIMIT if more else HOT_LIMIT
        main = self._main()
        table = main.query_one(HotFunctions)
        st = self.state
        hot = self.views.hot
        shares = hot.kind_shares()
        kinds = Text(no_wrap=True, overflow="ellipsis")
        for s in shares:
            label = f" {s.label} {s.pct:.1f}% "
            chosen = s.kind == st.kind
            style = "reverse bold" if chosen else (kind_colour(s.kind) if s.kind else "")
            kinds.append(Text.from_markup(
                f"[@click=app.kind('{s.label}')]{label}[/]", style=style))
            kinds.append(" ")
        main.query_one("#kinds", Static).update(kinds)
        try:
            bins = self._range_bins()
            v = hot.view(sort=st.sort, kind=st.kind, search=st.search, regex=st.regex,
                         relative=st.relative, limit=self._hot_limit,
                         time=self.timeline.span(*bins) if bins and self.timeline else "",
                         fixed=self.read_filters)
        except ValueError as e:  # a bad regex: keep the last rows, say why
            main.query_one("#hot-info", Static).update(Text(str(e), style="bold red"))
            return
        self._hot_rows = v.rows
        self._hot_matched = v.matched
        info = Text(v.summary, no_wrap=True, overflow="ellipsis")
        if v.filters:
            info.append("  x: clear", style="dim")
        main.query_one("#hot-info", Static).update(info)
        if st.hot_cursor is not None and table.frame is None:
            table.frame = st.hot_cursor
        table.view = v
        self._show_hot_row()

    def _show_hot_row(self) -> None:
        """The full name, dso and numbers of the row under the cursor (the table cuts)."""
        if not self.screen_stack:  # a highlight handled while the App shuts down
            return
        table = self._main().query_one(HotFunctions)
        f = table.cursor_frame
        line = Text(no_wrap=True, overflow="ellipsis")
        if f is not None:
            self.state.hot_cursor = f
            r = self._hot_rows[table.cursor_row]
            line.append(f.name, style="bold")
            line.append(f"  {f.kind.value}", style=kind_colour(f.kind))
            line.append(f"  {f.dso}", style="dim")
            line.append(f"  self {r.self_samples:,} / total {r.total_samples:,} samples")
            self._follow(f)
        self._main().query_one("#hot-row", Static).update(line)

    @on(DataTable.HeaderSelected, "#hot-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)  # every column of the hot table is a sort key
        for sort in SORT_KEYS:
            if sort == key:
                self.set_sort(sort)

    @on(DataTable.RowHighlighted, "#hot-table")
    def _hot_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_hot_row()
        # the last row shown but not the last that matches: add the next rows
        if (event.cursor_row == len(self._hot_rows) - 1
                and self._hot_matched > len(self._hot_rows)):
            self.refresh_hot(more=True)

    @on(DataTable.RowSelected, "#hot-table")
    def _hot_selected(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self._hot_rows):
            self.show_function(self._hot_rows[event.cursor_row].frame)

    # -- callers / callees -----------------------------------------------------------------
    def on_show_function(self, msg: ShowFunction) -> None:
        self.show_function(msg.frame)

    def show_function(self, frame: Frame) -> None:
        """Open the callers/callees of ``frame`` (the previous one goes on the history;
        from another view, that view: back returns there)."""
        tab = self._main().query_one(TabbedContent).active
        if tab != "detail":
            self.state.came_from = tab
        if self.state.detail is not None and self.state.detail != frame:
            self.state.history.append(self.state.detail)
        self._show_detail(frame)
        self.action_tab("detail")

    def action_detail_back(self) -> None:
        """Back to the previous function; at the first, to the view it was opened from."""
        if self.state.history:
            self._show_detail(self.state.history.pop())
        elif self.state.came_from:
            self.action_tab(self.state.came_from)

    def detail_back(self) -> None:
        self.action_detail_back()

    def _show_detail(self, frame: Frame) -> None:
        if self.views is None:
            return
        self.state.detail = frame
        s = self._sandwich = self.views.sandwich(frame)
        main = self._main()
        head = Text(no_wrap=True, overflow="ellipsis")  # one line each: the numbers stay
        head.append(f"[{frame.kind.value}] ", style=kind_colour(frame.kind))
        head.append(frame.name, style="bold")
        head.append(f"  {frame.dso}", style="dim")
        main.query_one("#detail-head", Static).update(head)
        nums = Text(no_wrap=True, overflow="ellipsis")
        nums.append(s.numbers)
        back = self.state.history[-1].name if self.state.history else (
            TAB_TITLES.get(self.state.came_from, ""))
        if back:
            nums.append(f" · esc: back to {back}", style="dim")
        main.query_one("#detail-numbers", Static).update(nums)
        main.query_one("#callers", NeighbourTable).show(s.callers)
        main.query_one("#callees", NeighbourTable).show(s.callees)
        self._follow(frame)

    @on(DataTable.RowSelected, "#callers")
    def _caller_selected(self, event: DataTable.RowSelected) -> None:
        if self._sandwich is not None and 0 <= event.cursor_row < len(self._sandwich.callers):
            self.show_function(self._sandwich.callers[event.cursor_row].frame)
            self._main().query_one("#callers").focus()

    @on(DataTable.RowSelected, "#callees")
    def _callee_selected(self, event: DataTable.RowSelected) -> None:
        if self._sandwich is not None and 0 <= event.cursor_row < len(self._sandwich.callees):
            self.show_function(self._sandwich.callees[event.cursor_row].frame)
            self._main().query_one("#callees").focus()

    # -- call tree -------------------------------------------------------------------------
    def rebuild_tree(self) -> None:
        if self.views is None:
            return
        self._tree_built = True
        tree = self.views.tree(self.state.inverted)
        main = self._main()
        what = ("Bottom-up: leaves first, below each its callers" if self.state.inverted
                else "Top-down: outermost callers first")
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(" Total    Self  ", style="bold")  # over the columns (padding 1)
        head.append(what)
        head.append("  ·  i invert  h hottest  E/C all  c callers", style="dim")
        main.query_one("#tree-head", Static).update(head)
        # [] puts the cursor on the root
        main.query_one(CallTreeView).set_tree(tree, [tree.root, *tree.find(
            self.state.tree_path)])

    def on_tree_moved(self, msg: TreeMoved) -> None:
        if self.views is None or not self._tree_built:
            return
        node = msg.node
        tree = msg.tree
        if tree is not self.views.tree(self.state.inverted):
            if tree.inverted == self.state.inverted and node is not None:
                # a move on the previous profile's tree, handled after a new profile came
                # (jitprof top): keep it, by its frames, on the new tree
                self.state.tree_path = [tree.profile.frames[f] for f in node.path]
                self.rebuild_tree()
            return
        info = Text(no_wrap=True, overflow="ellipsis")
        if node is not None:
            self.state.tree_path = [tree.profile.frames[f] for f in node.path]
            f = tree.frame(node)
            info.append(f.name if f is not None else "all", style="bold")
            if f is not None:
                info.append(f"  {f.kind.value}", style=kind_colour(f.kind))
                info.append(f"  {f.dso}", style="dim")
            info.append(f"  {node.samples:,} samples, depth {node.depth}")
            self._follow(f)
        self._main().query_one("#tree-info", Static).update(info)

    def expand_hottest(self) -> None:
        if self.views is None:
            return
        tree = self.views.tree(self.state.inverted)
        w = self._main().query_one(CallTreeView)
        base = w.cursor_node or tree.root
        # the path from the root to the cursor, then the hottest path below it
        path = tree.find([tree.profile.frames[f] for f in base.path])
        path += tree.hottest_path(base)
        # the state now: a new profile may come before the widget reports the move
        self.state.tree_path = [tree.profile.frames[n.path[-1]] for n in path]
        w.show_path([tree.root, *path])

    # -- flame graph -----------------------------------------------------------------------
    def rebuild_flame(self) -> None:
        if self.views is None:
            return
        self._flame_built = True
        ft = self.views.flame
        zoom = ft.find(self.state.flame_zoom)
        sel = ft.find(self.state.flame_selected)
        if zoom not in ft.path(sel):
            sel = zoom
        self._main().query_one(FlameGraph).set_tree(ft, zoom, sel)
        if self.state.flame_search:
            self._apply_flame_search()

    def on_flame_changed(self, msg: FlameChanged) -> None:
        if self.views is None or not self._flame_built:
            return
        ft = self.views.flame
        if msg.flame is not None and msg.flame is not ft:
            # a move on the previous profile's graph, handled after a new profile came
            # (jitprof top): keep it, by its frames, on the new graph
            self.state.flame_zoom = msg.flame.frames_of(msg.zoom)
            self.state.flame_selected = msg.flame.frames_of(msg.selected)
            self.rebuild_flame()
            return
        self.state.flame_zoom = ft.frames_of(msg.zoom)
        self.state.flame_selected = ft.frames_of(msg.selected)
        main = self._main()
        crumbs = [ft.name(n) for n in ft.path(msg.zoom)]
        bar = main.query_one("#breadcrumb", Static)
        width = (bar.content_region.width or self.size.width - 2) - 1
        bar.update(Text(breadcrumb(crumbs, max(width, 1)), no_wrap=True))
        nums, name = ft.info(msg.selected)
        f = ft.frame(msg.selected)
        info = Text(no_wrap=True, overflow="ellipsis")
        info.append(nums, style="bold")
        info.append("  enter zoom · esc out · c callers · / search", style="dim")
        found = main.query_one("#flame-found", Static)
        found.display = bool(self.state.flame_search)
        if self.state.flame_search:
            summary = (self._flame_found.summary if self._flame_found is not None else
                       f"search {self.state.flame_search!r}: a bad regex")
            found.update(Text(f"{summary}  (/ changes it, x clears)", style="#f1c40f",
                              no_wrap=True, overflow="ellipsis"))
        main.query_one("#flame-info", Static).update(info)
        full = Text(no_wrap=True, overflow="ellipsis")
        full.append(name, style=kind_colour(f.kind) if f is not None else "")
        main.query_one("#flame-name", Static).update(full)
        self._follow(f)

    @on(Input.Changed, "#flame-search")
    def _flame_search_changed(self, event: Input.Changed) -> None:
        self.state.flame_search = event.value
        self._apply_flame_search()

    @on(Input.Submitted, "#flame-search")
    def _flame_search_done(self, event: Input.Submitted) -> None:
        main = self._main()
        main.query_one("#flame-search").display = False  # the line above says what is lit
        main.set_focus(main.query_one(FlameGraph))

    def _apply_flame_search(self) -> None:
        if self.views is None:
            return
        fg = self._main().query_one(FlameGraph)
        try:
            found = search_frames(self.views.hot, self.state.flame_search)
        except ValueError:
            found = None
        self._flame_found = found
        fg.matches = found.frame_ids if found is not None else None
        fg.post_message(FlameChanged(fg.selected, fg.zoom, fg.flame))

    # -- command palette -------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Keys", "Show every key (?)", self.action_help)
        for tab, title in zip(TABS, ("Hot functions", "Callers/callees", "Call tree",
                                     "Flame graph"), strict=True):
            yield SystemCommand(f"Go to {title}", f"Show the {title} view",
                                lambda t=tab: self.action_tab(t))
        for key in SORT_KEYS:
            yield SystemCommand(f"Sort by {key}", "Hot functions order",
                                lambda k=key: self.set_sort(k))
        yield SystemCommand("Kind: All", "Show every kind", lambda: self.action_kind("All"))
        for kind in KIND_ORDER:
            yield SystemCommand(f"Kind: {kind.value}", f"Only {kind.value} functions",
                                lambda k=kind.value: self.action_kind(k))
        yield SystemCommand("Search", "Search function names (/)", self.action_search)
        yield SystemCommand("Toggle relative percentages",
                            "% of all samples or of the shown functions (%)",
                            self._toggle_relative)
        yield SystemCommand("Invert call tree", "Top-down or bottom-up (i)",
                            self._toggle_inverted)
        yield SystemCommand("Expand hottest path", "In the call tree (h)", self._hottest)

    def _toggle_relative(self) -> None:
        self.state.relative = not self.state.relative
        self.refresh_hot()

    def _toggle_inverted(self) -> None:
        self.action_tab("tree")
        self.state.inverted = not self.state.inverted
        self.state.tree_path = []
        self.rebuild_tree()

    def _hottest(self) -> None:
        self.action_tab("tree")
        self.expand_hottest()


def key_sections() -> KeySections:
    """Every key, by where it works (from the bindings), for the help screen and docs/tui.md."""
    keys = binding_keys
    return [
        ("Everywhere", keys(JitprofApp.BINDINGS) + [
            ("ctrl+c", "Quit"), ("ctrl+p", "Command palette (every action)"),
            ("tab", "Next widget"),
            ("mouse", "Click tabs, kind buttons, column headers; click a row twice")]),
        ("Hot functions", keys(HotPane.BINDINGS) + [
            ("enter", "Callers/callees of the row"), ("up/down, pgup/pgdn", "Move")]),
        ("Callers/callees", keys(DetailPane.BINDINGS) + [
            ("enter", "Go to that caller/callee"), ("tab", "Callers <-> callees")]),
        ("Call tree", keys(TreePane.BINDINGS) + [
            *keys(CallTreeView.BINDINGS)]),
        ("Flame graph", keys(FlameGraph.BINDINGS) + keys(FlamePane.BINDINGS) + [
            ("mouse", "Click selects, click again zooms, wheel scrolls")]),
        ("Timeline (t)", keys(TimelineStrip.BINDINGS) + [
            ("mouse", "Drag across the strip to choose a range")]),
    ]
