"""The TUI's own widgets: the flame graph, the status bar, the help and loading screens."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, Label, ProgressBar, Static

from jitprof.model import Frame, Kind
from jitprof.present.header import Status
from jitprof.present.timeline import Timeline, cell_values, sparkline
from jitprof.present.views import (
    CallNode,
    CallTree,
    FlameBox,
    FlameLayout,
    FlameTree,
    HotView,
    Neighbour,
    TreeLine,
    clip,
    clip_name,
    flame_layout,
    heat,
    tree_lines,
)
from jitprof.tui.messages import FlameChanged, RangeChosen, ShowFunction, TreeMoved

# How a box is drawn: (box, its index in the row, selected) -> (text, style); the text is
# cut or padded to the box's width. Default: the clipped name on its kind's colour.
Painter = Callable[[FlameBox, int, bool], tuple[str, Style]]

# Background colours by kind (distinct hues; a second shade tells neighbours apart).
KIND_COLOURS: dict[Kind | None, tuple[str, str]] = {
    Kind.PHP: ("#9b59b6", "#b57edc"),
    Kind.HPHP: ("#2874a6", "#3498db"),
    Kind.HHVM: ("#117a65", "#16a085"),
    Kind.JIT: ("#1e8449", "#27ae60"),
    Kind.JAVA: ("#ca6f1e", "#e67e22"),
    Kind.JVM: ("#6e2c00", "#a04000"),
    Kind.NATIVE: ("#b7950b", "#d4ac0d"),
    Kind.KERNEL: ("#a93226", "#cb4335"),
    Kind.UNKNOWN: ("#616a6b", "#7f8c8d"),
    None: ("#404040", "#505050"),
}


def kind_colour(kind: Kind | None) -> str:
    """The kind's colour for text (tables, trees): the lighter shade."""
    return KIND_COLOURS[kind][1]


class FlameGraph(Widget, can_focus=True):
    """An icicle graph (root at the top) of a ``FlameTree``, laid out to the widget's
    width for the zoom root. The selection moves between drawn frames; rows scroll to keep
    it in view. Posts ``FlameChanged`` on every move and ``ShowFunction`` for ``c``.
    A ``painter`` draws the boxes its own way (the diff view colours them by change)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move('left')", "Previous frame", show=False),
        Binding("right", "move('right')", "Next frame", show=False),
        Binding("up", "move('up')", "Caller", show=False),
        Binding("down", "move('down')", "Heaviest callee", show=False),
        Binding("enter", "zoom", "Zoom in"),
        Binding("escape", "zoom_out", "Zoom out"),
        Binding("c", "callers", "Callers/callees"),
    ]

    selected: reactive[int] = reactive(0)
    zoom: reactive[int] = reactive(0)
    # frame ids a search matched: drawn bright, the others dim (None: no search)
    matches: reactive[frozenset[int] | None] = reactive(None)

    def watch_matches(self) -> None:
        self.refresh()

    def __init__(self, *, id: str | None = None, painter: Painter | None = None) -> None:
        super().__init__(id=id)
        self.painter = painter
        self.flame: FlameTree | None = None
        self._layout: FlameLayout | None = None
        self._top = 0  # first depth drawn

    # -- state ----------------------------------------------------------------------------
    def set_tree(self, flame: FlameTree, zoom: int = 0, selected: int | None = None) -> None:
        self.flame = flame
        self._layout = None
        self.set_reactive(FlameGraph.zoom, zoom)
        self.set_reactive(FlameGraph.selected, zoom if selected is None else selected)
        self._changed()

    @property
    def layout_now(self) -> FlameLayout | None:
        """The layout at the current width (before the first layout of a tab just shown,
        the terminal's: the graph spans it, and keys typed ahead are not lost)."""
        width = self.size.width or self.app.size.width
        if self.flame is None or width <= 0:
            return None
        lay = self._layout
        if lay is None or lay.width != width or lay.root != self.zoom:
            lay = self._layout = flame_layout(self.flame, self.zoom, width)
        return lay

    def watch_zoom(self) -> None:
        self._layout = None
        self._changed()

    def watch_selected(self) -> None:
        self._changed()

    def _changed(self) -> None:
        if self.flame is None:
            return
        lay = self.layout_now
        if lay is not None and self.selected not in lay.by_node:
            self.set_reactive(FlameGraph.selected, lay.root)
        self._scroll_to_selected()
        self.refresh()
        self.post_message(FlameChanged(self.selected, self.zoom, self.flame))

    def _scroll_to_selected(self) -> None:
        lay = self.layout_now
        h = self.size.height
        if lay is None or h <= 0:
            return
        box = lay.by_node.get(self.selected)
        if box is None:
            return
        if box.depth < self._top:
            self._top = box.depth
        elif box.depth >= self._top + h:
            self._top = box.depth - h + 1

    def on_resize(self, event: events.Resize) -> None:
        self._changed()

    # -- actions --------------------------------------------------------------------------
    def action_move(self, direction: str) -> None:
        lay = self.layout_now
        flame = self.flame
        if lay is None or flame is None:
            return
        box = lay.by_node.get(self.selected)
        if box is None:
            return
        if direction in ("left", "right"):
            row = lay.rows[box.depth]
            i = row.index(box) + (1 if direction == "right" else -1)
            if 0 <= i < len(row):
                self.selected = row[i].node
        elif direction == "up":
            if box.depth > 0:
                self.selected = flame.parent(box.node)
        else:
            kids = [c for c in flame.children(box.node) if c in lay.by_node]
            if kids:
                self.selected = kids[0]  # heaviest first

    def action_zoom(self) -> None:
        if self.flame is not None:
            self.zoom = self.selected

    def action_zoom_out(self) -> None:
        if self.flame is not None and self.zoom != 0:
            old = self.zoom
            self.zoom = self.flame.parent(old)
            self.selected = old

    def action_callers(self) -> None:
        if self.flame is not None:
            f = self.flame.frame(self.selected)
            if f is not None:
                self.post_message(ShowFunction(f))

    # -- mouse ----------------------------------------------------------------------------
    def _box_at(self, x: int, y: int) -> int | None:
        lay = self.layout_now
        depth = y + self._top
        if lay is None or not 0 <= depth < len(lay.rows):
            return None
        for b in lay.rows[depth]:
            if b.x <= x < b.x + b.width:
                return b.node
        return None

    def on_click(self, event: events.Click) -> None:
        node = self._box_at(event.x, event.y)
        if node is None:
            return
        if event.chain >= 2 or node == self.selected:
            self.selected = node
            self.action_zoom()
        else:
            self.selected = node

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        lay = self.layout_now
        if lay is not None and self._top + self.size.height < len(lay.rows):
            self._top += 1
            self.refresh()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self._top > 0:
            self._top -= 1
            self.refresh()

    # -- drawing --------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lay = self.layout_now
        depth = y + self._top
        if lay is None or depth >= len(lay.rows):
            return Strip.blank(width, self.rich_style)
        segs: list[Segment] = []
        x = 0
        blank = Style()
        for i, b in enumerate(lay.rows[depth]):
            if b.x > x:
                segs.append(Segment(" " * (b.x - x), blank))
            if self.painter is not None:
                text, style = self.painter(b, i, b.node == self.selected)
                segs.append(Segment(text[: b.width].ljust(b.width), style))
                x = b.x + b.width
                continue
            bg = KIND_COLOURS[b.kind][i % 2]
            if b.node == self.selected:
                style = Style(bgcolor="#f0f0f0", color="#000000", bold=True)
            elif self.matches is not None and self.flame is not None:
                hit = self.flame.frame_id(b.node) in self.matches
                style = (Style(bgcolor="#f1c40f", color="#000000", bold=True) if hit
                         else Style(bgcolor="#303030", color="#909090"))
            else:
                style = Style(bgcolor=bg, color="#ffffff")
            if b.width >= 3:
                # a dark edge at each box's start: neighbours of one colour stay apart
                segs.append(Segment("▏", style + Style(color="#101010")))
                segs.append(Segment(clip(b.name or b.label, b.width - 1).ljust(b.width - 1),
                                    style))
            else:
                segs.append(Segment(b.label.ljust(b.width), style))
            x = b.x + b.width
        if x < width:
            segs.append(Segment(" " * (width - x), blank))
        return Strip(segs, width)

    def rows_as_text(self) -> list[str]:
        """What is drawn, as plain text (tests)."""
        return [self.render_line(y).text for y in range(self.size.height)]


HEAT_STYLES = ("", "green", "bold red")  # perf report's: from 0.5% green, from 5% red


def heat_style(pct_value: float) -> str:
    return HEAT_STYLES[heat(pct_value)]


TREE_CHILDREN_LIMIT = 200  # children shown per call-tree node; the rest summed in one line
EXPAND_ALL_LINES = 5000  # E opens at most this many lines (a real tree has millions)
TREE_COLUMNS = 17  # "Total" and "Self", 7 cells each, and their gaps


class CallTreeView(Widget, can_focus=True):
    """A call tree with perf report's layout: Total and Self in fixed columns at the
    left, only the name indented (a 30-frame node stack stays on the screen: past the
    room for indentation the depth is written as a number). Owns what is open and the
    cursor; posts ``TreeMoved`` on every move and ``ShowFunction`` for ``c``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First line", show=False),
        Binding("end", "last", "Last line", show=False),
        Binding("left", "left", "Collapse, or go to the parent", show=False),
        Binding("right", "right", "Expand, or go to the first child", show=False),
        Binding("enter,space", "toggle_node", "Expand/collapse", show=False),
        Binding("E", "expand_all", "Expand all below"),
        Binding("C", "collapse_all", "Collapse all"),
    ]

    cursor: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.calls: CallTree | None = None
        self.expanded: set[tuple[int, ...]] = set()
        self.lines: list[TreeLine] = []
        self._top = 0

    # -- state ----------------------------------------------------------------------------
    def set_tree(self, tree: CallTree, path: list[CallNode]) -> None:
        """Show ``tree`` open along ``path`` (nodes from the root), the cursor on its end."""
        self.calls = tree
        self.expanded = set()
        self._top = 0
        self.show_path(path)

    def show_path(self, path: list[CallNode]) -> None:
        """Open the nodes along ``path`` (from the root) and put the cursor on the last."""
        for n in path[:-1]:
            self.expanded.add(n.path)
        self._relayout(path[-1].path if path else ())

    @property
    def cursor_node(self) -> CallNode | None:
        if 0 <= self.cursor < len(self.lines):
            return self.lines[self.cursor].node
        return None

    def _relayout(self, keep: tuple[int, ...] | None) -> None:
        if self.calls is None:
            return
        self.lines = tree_lines(self.calls, self.expanded, TREE_CHILDREN_LIMIT)
        at = 0
        if keep is not None:
            at = next((i for i, ln in enumerate(self.lines)
                       if ln.node is not None and ln.node.path == keep), 0)
        if at == self.cursor:
            self._moved()
        self.cursor = at

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.lines) - 1))

    def watch_cursor(self) -> None:
        self._moved()

    def _moved(self) -> None:
        h = self.size.height
        if h > 0:
            if self.cursor < self._top:
                self._top = self.cursor
            elif self.cursor >= self._top + h:
                self._top = self.cursor - h + 1
        self.refresh()
        if self.calls is not None:
            self.post_message(TreeMoved(self.cursor_node, self.calls))

    def on_resize(self, event: events.Resize) -> None:
        self._moved()

    # -- actions --------------------------------------------------------------------------
    def action_move(self, step: int) -> None:
        self.cursor += step

    def action_page(self, step: int) -> None:
        self.cursor += step * max(1, self.size.height - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.lines) - 1

    def _set_open(self, i: int, opened: bool) -> None:
        ln = self.lines[i]
        if ln.node is None or ln.depth == 0 or not ln.expandable:
            return
        if opened:
            self.expanded.add(ln.node.path)
        else:
            self.expanded.discard(ln.node.path)
        self._relayout(ln.node.path)

    def action_toggle_node(self) -> None:
        if self.lines:
            self._set_open(self.cursor, not self.lines[self.cursor].expanded)

    def action_left(self) -> None:
        """perf report's and every file tree's Left: close an open node, else go up."""
        if not self.lines:
            return
        ln = self.lines[self.cursor]
        if ln.expanded and ln.expandable and ln.depth > 0:
            self._set_open(self.cursor, False)
        elif ln.parent >= 0:
            self.cursor = ln.parent

    def action_right(self) -> None:
        if not self.lines:
            return
        ln = self.lines[self.cursor]
        if ln.expandable and not ln.expanded:
            self._set_open(self.cursor, True)
        elif ln.expanded and self.cursor + 1 < len(self.lines) and (
                self.lines[self.cursor + 1].parent == self.cursor):
            self.cursor += 1

    def action_expand_all(self) -> None:
        """Open everything under the cursor (perf's E), up to EXPAND_ALL_LINES lines."""
        tree, node = self.calls, self.cursor_node
        if tree is None or node is None:
            return
        budget = EXPAND_ALL_LINES - len(self.lines)
        todo = [node]
        while todo and budget > 0:
            n = todo.pop(0)  # breadth first: the heavy levels open before the deep ones
            kids = tree.children(n)
            if not kids:
                continue
            if n.path:
                self.expanded.add(n.path)
            budget -= min(len(kids), TREE_CHILDREN_LIMIT)
            todo.extend(k for k in kids[:TREE_CHILDREN_LIMIT] if k.weight > k.self_weight)
        self._relayout(node.path)

    def action_collapse_all(self) -> None:
        """Close every node (perf's C); the cursor goes to the outermost node above it."""
        node = self.cursor_node
        self.expanded = set()
        self._relayout(node.path[:1] if node is not None else None)

    # -- mouse ----------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        i = self._top + event.y
        if 0 <= i < len(self.lines):
            if i == self.cursor or event.chain >= 2:
                self.cursor = i
                self.action_toggle_node()
            else:
                self.cursor = i

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self._top + self.size.height < len(self.lines):
            self._top += 1
            self.refresh()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self._top > 0:
            self._top -= 1
            self.refresh()

    # -- drawing --------------------------------------------------------------------------
    def line_text(self, ln: TreeLine, width: int) -> Text:
        """One line: "  Total    Self  " then the indented marker, name and kind."""
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f"{ln.total:>7}", style=heat_style(ln.total_pct))
        t.append(" ")
        t.append(f"{ln.self:>7}", style=heat_style(ln.self_pct) if ln.self else "")
        t.append("  ")
        kind = f" {ln.kind.value}" if ln.kind is not None else ""
        room = width - TREE_COLUMNS - 2  # the marker and its space
        max_indent = max(0, min(room - 32, room // 2))  # 32 cells stay for the name
        indent = 2 * max(0, ln.depth - 1)  # the root's children start at the left
        if indent > max_indent:
            t.append(" " * max(0, max_indent - 4) + f"{ln.depth:>3}›", style="dim")
            indent = max(max_indent, 4)
        else:
            t.append(" " * indent)
        mark = ("▼ " if ln.expanded else "▶ ") if ln.expandable else "  "
        if ln.depth == 0:
            mark = "  "
        t.append(mark, style="dim")
        name_room = max(1, room - indent - len(kind))
        t.append(clip(ln.name, name_room), style="dim" if ln.node is None else "")
        if kind and ln.kind is not None:
            t.append(kind, style=kind_colour(ln.kind))
        return t

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        i = y + self._top
        if i >= len(self.lines) or width <= 0:
            return Strip.blank(width, self.rich_style)
        t = self.line_text(self.lines[i], width)
        if i == self.cursor:
            t.stylize("reverse" if self.has_focus else "underline")
        t.truncate(width, pad=True)
        return Strip(list(t.render(self.app.console, end="")), width).simplify()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def cursor_text(self) -> str:
        """The line under the cursor as plain text (tests)."""
        if not 0 <= self.cursor < len(self.lines):
            return ""
        return self.line_text(self.lines[self.cursor], self.size.width or 80).plain

    def lines_as_text(self) -> list[str]:
        """Every line as plain text at the current width (tests)."""
        width = self.size.width or 80
        return [self.line_text(ln, width).plain for ln in self.lines]


ALL_COLOUR = "#5dade2"
FUNCTION_COLOUR = "#f5b041"
SELECTION_BG = "#34495e"
OUTSIDE_COLOUR = "#5a5a5a"


class TimelineStrip(Widget, can_focus=True):
    """Samples over time (Firefox Profiler's track): the whole profile's weight per cell
    of time above, the chosen function's below (on the same scale, so its share shows),
    and the time axis. A range of time, chosen with the keys or the mouse, is posted as
    ``RangeChosen`` (bins); the App filters every view by it and gives back ``chosen``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Earlier", show=False),
        Binding("right", "move(1)", "Later", show=False),
        Binding("shift+left", "move(-10)", "10 cells earlier", show=False),
        Binding("shift+right", "move(10)", "10 cells later", show=False),
        Binding("home", "edge(0)", "Start", show=False),
        Binding("end", "edge(1)", "End", show=False),
        Binding("enter,space", "mark", "Mark range start / end"),
        Binding("escape", "clear", "Cancel / whole profile"),
    ]

    timeline: reactive[Timeline | None] = reactive(None, always_update=True)
    function: reactive[tuple[str, list[int]] | None] = reactive(None, always_update=True)
    chosen: reactive[tuple[int, int] | None] = reactive(None, always_update=True)
    cursor: reactive[int] = reactive(0)
    mark_from: reactive[int | None] = reactive(None)

    def __init__(self, *, id: str | None = None, label: str = "",
                 compact: bool = False) -> None:
        """``compact``: two lines, the samples and the axis (no function row);
        ``label``: what the strip is of ("before"), said on the axis line."""
        super().__init__(id=id, classes="compact" if compact else None)
        self.label = label
        self.compact = compact

    def watch_timeline(self) -> None:
        self.refresh()

    def watch_function(self) -> None:
        self.refresh()

    def watch_chosen(self) -> None:
        self.refresh()

    def watch_cursor(self) -> None:
        self.refresh()

    def watch_mark_from(self) -> None:
        self.refresh()

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, max(0, self.size.width - 1)))

    def _cells(self) -> list[tuple[int, int]]:
        tl = self.timeline
        return tl.cell_bins(self.size.width) if tl is not None else []

    def _range_of(self, a: int, b: int) -> tuple[int, int] | None:
        cells = self._cells()
        if not cells:
            return None
        a, b = sorted((max(0, min(a, len(cells) - 1)), max(0, min(b, len(cells) - 1))))
        return cells[a][0], cells[b][1]

    # -- actions --------------------------------------------------------------------------
    def action_move(self, step: int) -> None:
        self.cursor += step

    def action_edge(self, end: int) -> None:
        self.cursor = self.size.width - 1 if end else 0

    def action_mark(self) -> None:
        if self.mark_from is None:
            self.mark_from = self.cursor
            return
        rng = self._range_of(self.mark_from, self.cursor)
        self.mark_from = None
        if rng is not None:
            self.post_message(RangeChosen(rng, self.id or ""))

    def action_clear(self) -> None:
        if self.mark_from is not None:
            self.mark_from = None
        elif self.chosen is not None:
            self.post_message(RangeChosen(None, self.id or ""))

    # -- mouse: press, drag, release ------------------------------------------------------
    _dragging = False

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self.focus()
        self.cursor = event.x
        self.mark_from = event.x
        self._dragging = True
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.cursor = event.x

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self.release_mouse()
        if not self._dragging or self.mark_from is None:
            return
        self._dragging = False
        self.cursor = event.x
        if self.mark_from != self.cursor:  # a plain click only moves the cursor
            self.action_mark()
        else:
            self.mark_from = None

    # -- drawing --------------------------------------------------------------------------
    def _marked(self) -> tuple[int, int] | None:
        """The cells highlighted: the range being chosen, else the one chosen."""
        if self.mark_from is not None:
            return tuple(sorted((self.mark_from, self.cursor)))  # type: ignore[return-value]
        if self.chosen is None:
            return None
        lo, hi = self.chosen
        cells = self._cells()
        inside = [i for i, (a, b) in enumerate(cells) if a < hi and b > lo]
        return (inside[0], inside[-1]) if inside else None

    def info(self) -> Text:
        """The axis line: the span, the cursor's time, the range, the legend."""
        tl = self.timeline
        t = Text(no_wrap=True, overflow="ellipsis")
        if self.label:
            t.append(f"{self.label} ", style="bold")
        if tl is None:
            t.append("no time bins: the input has no sample times", style="dim")
            return t
        cells = self._cells()
        t.append(f"{tl.seconds(tl.first):.2f} s ", style="dim")
        if cells and self.has_focus:
            a, _b = cells[min(self.cursor, len(cells) - 1)]
            t.append(f"▏{tl.seconds(a):.2f} s ", style="bold")
        if self.mark_from is not None:
            rng = self._range_of(self.mark_from, self.cursor)
            if rng is not None:
                t.append(f"choosing {tl.span(*rng)}: enter ends, esc cancels ", style="bold")
        elif self.chosen is not None:
            t.append(f"range {tl.span(*self.chosen)} ", style="bold")
        if not self.compact:
            t.append("▇", style=ALL_COLOUR)
            t.append(" all ")
        if self.function is not None and not self.compact:
            t.append("▇", style=FUNCTION_COLOUR)
            t.append(f" {self.function[0]} ")
        t.append(f"· to {tl.seconds(tl.end):.2f} s", style="dim")
        if not self.has_focus:
            t.append("  t: choose a range", style="dim")
        return t

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        tl = self.timeline
        info_row = 1 if self.compact else 2
        if tl is None or width <= 0 or y > info_row:
            return Strip.blank(width, self.rich_style)
        if y == info_row:
            t = self.info()
            t.truncate(width, pad=True)
            return Strip(list(t.render(self.app.console, end="")), width)
        cells = self._cells()
        all_values = cell_values(tl.weights, tl.first, cells)
        top = max(all_values, default=0)
        if y == 0:
            bars, colour = sparkline(all_values, top), ALL_COLOUR
        elif self.function is not None:
            # the function on the whole profile's scale: its bar is its share of the time
            bars = sparkline(cell_values(self.function[1], tl.first, cells), top)
            colour = FUNCTION_COLOUR
        else:
            bars, colour = " " * len(cells), FUNCTION_COLOUR
        marked = self._marked()
        segs = []
        for i, ch in enumerate(bars):
            # a range: the time outside it greyed, the range in colour on a light band
            inside = marked is None or marked[0] <= i <= marked[1]
            bg = SELECTION_BG if marked is not None and inside else None
            if self.has_focus and i == self.cursor:
                bg = "#f0f0f0"
            segs.append(Segment(ch, Style(color=colour if inside else OUTSIDE_COLOUR,
                                          bgcolor=bg)))
        return Strip(segs, width).simplify()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.mark_from = None
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()

    def rows_as_text(self) -> list[str]:
        """What is drawn, as plain text (tests)."""
        return [self.render_line(y).text for y in range(2 if self.compact else 3)]


def pct_cell(text: str, value: float) -> Text:
    return Text(text, justify="right", style=heat_style(value))


def kind_cell(kind: Kind) -> Text:
    return Text(kind.value, style=kind_colour(kind))


HOT_FIXED = (7, 7, 7, 7)  # Self, Total, Samples, Kind: cells (each padded 1 a side)


class HotFunctions(DataTable[Text]):
    """The hot-function table of a ``HotView``: redraws when given a new view or a new
    width. Names are cut to the room left (so a cut shows, "…"), the DSO column grows
    with the terminal. ``frame``: the row to keep under the cursor across redraws."""

    view: reactive[HotView | None] = reactive(None, always_update=True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.frame: Frame | None = None
        self._drawn: list[Frame] = []
        self._width = 0

    def watch_view(self) -> None:
        self._fill()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            self._fill()

    @property
    def cursor_frame(self) -> Frame | None:
        """The function of the row under the cursor, of the rows drawn."""
        if 0 <= self.cursor_row < len(self._drawn) and self.row_count:
            return self._drawn[self.cursor_row]
        return None

    def _fill(self) -> None:
        v = self.view
        if v is None:
            return
        self.frame = self.cursor_frame or self.frame
        self._drawn = [r.frame for r in v.rows]
        width = self._width = self.size.width or self.app.size.width
        arrow = {k: " ▼" if k == v.sort else "" for k in
                 ("self", "total", "samples", "kind", "dso", "function")}
        cells = [r.cells for r in v.rows]
        # the room left after the fixed columns, their padding and a scroll bar
        room = width - sum(HOT_FIXED) - 2 * 6 - 2
        longest_dso = max((len(c[4]) for c in cells), default=3)
        dso_w = max(3, min(longest_dso, max(12, room // 5)))
        fn_w = max(8, room - dso_w)
        self.clear(columns=True)
        for (key, title), w in zip((("self", "Self"), ("total", "Total"),
                                    ("samples", "Samples"), ("kind", "Kind")), HOT_FIXED,
                                   strict=True):
            self.add_column(f"{title}{arrow[key]}", key=key, width=w)
        self.add_column(f"DSO{arrow['dso']}", key="dso", width=dso_w)
        # the width given, not measured on idle: a first paint under load would otherwise
        # show the names cut to the header's width until the table's idle pass
        names = [clip_name(r.frame.name, fn_w) for r in v.rows]
        self.add_column(f"Function{arrow['function']}", key="function",
                        width=max([8 + len(arrow["function"]), *map(len, names)]))
        cursor = 0
        for i, (r, c, name) in enumerate(zip(v.rows, cells, names, strict=True)):
            self.add_row(pct_cell(c[0], r.self_pct), pct_cell(c[1], r.total_pct),
                         Text(c[2], justify="right"), kind_cell(r.frame.kind),
                         Text(clip(c[4], dso_w)), Text(name))  # Text: names are no markup
            if r.frame == self.frame:
                cursor = i
        if v.rows:
            self.move_cursor(row=cursor, animate=False)


class NeighbourTable(DataTable[Text]):
    """Callers or callees of one function. Back (``escape``, ``left``, ``backspace``) goes
    to the previous function, or at the first to the view it was opened from."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,left,backspace", "app.detail_back", "Back", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.rows_shown: list[Neighbour] = []
        self._width = 0

    def show(self, rows: list[Neighbour]) -> None:
        self.rows_shown = rows
        self._fill()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            self._fill()

    def _fill(self) -> None:
        width = self._width = self.size.width or self.app.size.width
        fn_w = max(8, width - 3 * 7 - 2 * 4 - 2)
        self.clear(columns=True)
        self.add_column("Of fn", width=7)
        self.add_column("Of all", width=7)
        self.add_column("Kind", width=7)
        names = [clip_name(n.frame.name, fn_w) for n in self.rows_shown]
        self.add_column("Function", width=max([8, *map(len, names)]))
        for n, name in zip(self.rows_shown, names, strict=True):
            self.add_row(pct_cell(f"{n.pct_of_function:.2f}%", n.pct_of_function),
                         pct_cell(f"{n.pct_of_all:.2f}%", n.pct_of_all),
                         kind_cell(n.frame.kind), Text(name))


class Line(Static):
    """One line of text cut to the widget's width with "…" (a Static wraps a long text
    and shows only its first line, cut with no sign). ``full``: the text as given."""

    def __init__(self, content: str | Text = "", *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.full: Text = Text(content) if isinstance(content, str) else content

    def update(self, content: object = "", *, layout: bool = True) -> None:
        self.full = content if isinstance(content, Text) else Text(str(content))
        self._draw()

    def _draw(self) -> None:
        width = self.content_region.width or (self.app.size.width - 2)
        t = self.full.copy()
        t.no_wrap = True
        t.truncate(max(width, 1), overflow="ellipsis")
        super().update(t)

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self, event: events.Resize) -> None:
        self._draw()


def pack(parts: list[tuple[str, str]], width: int, sep: str = " · ", start: int = 0
         ) -> Text:
    """Styled pieces joined by ``sep`` and broken into lines only between pieces (a piece
    like "every 2 s" never splits); a piece wider than a line is cut with "…". ``start``:
    cells of the first line already used."""
    t = Text()
    used = start
    width = max(width, 8)
    for i, (piece, style) in enumerate(parts):
        piece = clip(piece, width)
        if i and used + len(sep) + len(piece) > width:
            t.append("\n")
            used = 0
        elif i:
            t.append(sep, style="dim")
            used += len(sep)
        t.append(piece, style=style)
        used += len(piece)
    return t


class StatusBar(Static):
    """Samples, event, time span, inputs and map health, broken only between pieces."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts: list[tuple[str, str]] = []

    def show(self, st: Status | None, note: str = "") -> None:
        parts = [] if st is None else [(p, "") for p in st.parts] + [(m, "dim") for m in st.maps]
        if note:  # beside the time span it qualifies (the status keeps 2 lines)
            parts.insert(min(3, len(parts)), (note, "italic"))
        self._parts = parts
        self._draw()

    def _draw(self) -> None:
        self.update(pack(self._parts, (self.size.width or self.app.size.width) - 2))

    def on_resize(self, event: events.Resize) -> None:
        self._draw()


WARNING_LINES = 2  # warnings shown in the bar; the rest behind "!"


def clip_words(text: str, width: int) -> str:
    """``text`` cut at a word boundary to fit ``width`` cells, with "…" where cut."""
    if len(text) <= width:
        return text
    cut = text[: max(width - 1, 1)]
    space = cut.rfind(" ")
    if space > width // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


class WarningBar(Static):
    """The report's warnings, one line each, cut between words; more than fit, or cut
    ones, are all in full behind ``!`` (WarningsScreen)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.warnings: list[str] = []

    def show(self, warnings: list[str]) -> None:
        self.warnings = list(warnings)
        self.display = bool(warnings)
        self._draw()

    def _draw(self) -> None:
        width = (self.size.width or self.app.size.width) - 2
        ws = self.warnings
        shown = ws[:WARNING_LINES] if len(ws) <= WARNING_LINES else ws[:WARNING_LINES - 1]
        lines = [clip_words(f"⚠ {w}", width) for w in shown]
        hidden = len(ws) - len(shown)
        if hidden or any(ln.endswith("…") for ln in lines):
            more = f"+{hidden} more: " if hidden else ""
            lines.append(f"  {more}! shows every warning in full")
        self.update(Text("\n".join(lines)))  # paths are no markup

    def on_resize(self, event: events.Resize) -> None:
        self._draw()


class WarningsScreen(ModalScreen[None]):
    """Every warning in full (the bar cuts them to one line each)."""

    BINDINGS = [Binding("escape,q,exclamation_mark", "dismiss", "Close")]

    def __init__(self, warnings: list[str]) -> None:
        super().__init__()
        self.warnings = warnings

    def compose(self) -> ComposeResult:
        t = Text()
        for w in self.warnings:
            t.append(f"⚠ {w}\n\n")
        t.append("escape, q or ! closes this", style="dim")
        with VerticalScroll(id="help-box"):
            yield Static(t, id="warnings-text")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key, by view (built from the bindings, so it cannot drift)."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        t = Text()
        width = 18  # a longer key gets a line of its own: it never runs into its text
        for title, keys in self.sections:
            t.append(f"{title}\n", style="bold underline")
            for key, desc in keys:
                if len(key) > width - 2:
                    t.append(f"  {key}\n", style="bold")
                    key = ""
                t.append(f"  {key:<{width}}", style="bold")
                t.append(f"{desc}\n")
            t.append("\n")
        t.append("escape, q or ? closes this help", style="dim")
        with VerticalScroll(id="help-box"):
            yield Static(t, id="help-text")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class LoadingScreen(ModalScreen[None]):
    """Bytes of the input read, while the worker loads the profile."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.quit", "Quit")]

    def __init__(self, inputs: list[str]) -> None:
        super().__init__()
        self.inputs = inputs

    def compose(self) -> ComposeResult:
        with Vertical(id="loading-box"):
            yield Label(Text(f"Reading {', '.join(self.inputs)}"), id="loading-what")
            yield ProgressBar(total=None, show_eta=False, id="loading-bar")
            yield Label("", id="loading-bytes")

    def progress(self, done: int, total: int) -> None:
        bar = self.query_one(ProgressBar)
        mib = f"{done / (1 << 20):,.1f} MiB"
        if total:
            bar.update(total=total, progress=min(done, total))
            self.query_one("#loading-bytes", Label).update(f"{mib} of {total / (1 << 20):,.1f}"
                                                           " MiB")
        else:
            self.query_one("#loading-bytes", Label).update(f"{mib} read")
        if total and done >= total:
            self.query_one("#loading-what", Label).update("Naming frames and aggregating…")
