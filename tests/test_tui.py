"""Pilot tests of the TUI: press keys, then check the widgets' state as plain data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static, TabbedContent

from jitprof.model import Kind, Profile, ProfileBuilder
from jitprof.resolve import load_profile
from jitprof.tui.app import HOT_LIMIT, JitprofApp, key_sections
from jitprof.tui.widgets import (
    CallTreeView,
    FlameGraph,
    HelpScreen,
    Line,
    LoadingScreen,
    TimelineStrip,
    WarningBar,
    WarningsScreen,
)
from tests.test_timeline import _binned

ROOT = Path(__file__).resolve().parent.parent
SLOW = ROOT / "samples" / "hhvm-demo" / "slow" / "perf.script.gz"


@pytest.fixture(scope="module")
def slow() -> Profile:
    return load_profile([str(SLOW)], search_tmp=False)


def _hand() -> Profile:
    """(B, A, main) 10 | (C, A, main) 5 | (A, main) 3 | (B, main) 2 | (A, A, main) 4 |
    (k, B, A, main) 6: the profile of tests/test_views.py."""
    b = ProfileBuilder("cpu-clock")
    main = b.frame("main", Kind.NATIVE, "/bin/app")
    a = b.frame("PHP::A", Kind.PHP, "[JIT]", "")
    bb = b.frame("HPHP::B", Kind.HPHP, "/bin/app", "")
    c = b.frame("HPHP::C", Kind.HPHP, "/bin/app", "")
    k = b.frame("schedule", Kind.KERNEL, "[kernel.kallsyms]")
    t = b.thread(1, "app")
    for stack, w in (((bb, a, main), 10), ((c, a, main), 5), ((a, main), 3), ((bb, main), 2),
                     ((a, a, main), 4), ((k, bb, a, main), 6)):
        b.add(stack, t, w)
    p = b.finish()
    p.inputs = ["hand.txt"]
    return p


# -- plain data out of widgets -----------------------------------------------------------------


def rows(app: JitprofApp, table: str = "#hot-table") -> list[list[str]]:
    t = app.screen.query_one(table, DataTable)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


def names(app: JitprofApp, table: str = "#hot-table") -> list[str]:
    return [r[-1] for r in rows(app, table)]


def text(app: JitprofApp, sel: str) -> str:
    """A line's whole text (a Line cuts what it draws to the width: see ``shown``)."""
    w = app.screen.query_one(sel, Static)
    return str(w.full) if isinstance(w, Line) else str(w.content)


def shown(app: JitprofApp, sel: str) -> str:
    """What a line draws: cut to the terminal with "…"."""
    return str(app.screen.query_one(sel, Static).content)


def tree_labels(app: JitprofApp) -> list[str]:
    """The call tree's lines as drawn (Total and Self columns, then the indented name)."""
    return [ln.rstrip() for ln in app.screen.query_one(CallTreeView).lines_as_text()]


def cursor_label(app: JitprofApp) -> str:
    return app.screen.query_one(CallTreeView).cursor_text().rstrip()


def active_tab(app: JitprofApp) -> str:
    return app.screen.query_one(TabbedContent).active


# -- hot functions ------------------------------------------------------------------------------


async def test_first_screen_and_status(slow: Profile) -> None:
    app = JitprofApp(profile=slow)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert names(app)[:3] == ["HPHP::f_sort", "HPHP::f_str_replace", "HPHP::f_json_encode"]
        assert rows(app)[0][:5] == ["58.14%", "58.39%", "1,164", "HPHP", "hhvm_demo"]
        status = text(app, "#status")
        assert "2,002 samples" in status and "945.160-947.673 s (2.513 s)" in status
        assert "perf.script.gz" in status and "map perf-14089.map: 8 lines" in status
        assert not app.screen.query_one("#warning").display
        assert "All 100.0%" in text(app, "#kinds") and "HPHP 82.8%" in text(app, "#kinds")
        assert app.focused is app.screen.query_one("#hot-table")


async def test_missing_map_shows_a_warning(tmp_path: Path) -> None:
    alone = tmp_path / "perf.script.gz"
    alone.write_bytes(SLOW.read_bytes())
    app = JitprofApp(profile=load_profile([str(alone)], search_tmp=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        warn = app.screen.query_one("#warning", Static)
        assert warn.display and "no perf map for pid 14089" in str(warn.content)


async def test_sort_keys_and_header_click() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert names(app) == ["HPHP::B", "PHP::A", "schedule", "HPHP::C", "main"]
        await pilot.press("s")  # self -> total
        assert app.state.sort == "total"
        assert names(app) == ["main", "PHP::A", "HPHP::B", "schedule", "HPHP::C"]
        assert "sorted by total" in text(app, "#hot-info")
        await pilot.press("s", "s", "s")  # samples, kind, function
        assert app.state.sort == "function"
        assert names(app) == ["HPHP::B", "HPHP::C", "PHP::A", "main", "schedule"]
        # clicking the Self header sorts by self again
        table = app.screen.query_one("#hot-table", DataTable)
        table.post_message(DataTable.HeaderSelected(table, table.ordered_columns[0].key, 0,
                                                    table.ordered_columns[0].label))
        await pilot.pause()
        assert app.state.sort == "self" and names(app)[0] == "HPHP::B"


async def test_kind_filter_and_relative_percentages() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("k")  # All -> PHP
        assert app.state.kind is Kind.PHP and names(app) == ["PHP::A"]
        await pilot.press("k")
        assert app.state.kind is Kind.HPHP and names(app) == ["HPHP::B", "HPHP::C"]
        assert [r[0] for r in rows(app)] == ["40.00%", "16.67%"]
        await pilot.press("percent_sign")
        # of the 23 whose stacks hold B or C: B's total 18 is 78.26%, nothing over 100%
        assert app.state.relative and [r[:2] for r in rows(app)] == [
            ["52.17%", "78.26%"], ["21.74%", "21.74%"]]
        assert text(app, "#hot-info").startswith(
            "2 functions · kind HPHP · sorted by self · % of the samples through the shown "
            "functions (relative)")
        await pilot.press("slash", "B", "enter")  # search as well: both filters in words
        assert names(app) == ["HPHP::B"]
        assert text(app, "#hot-info").startswith(
            "1 function · kind HPHP · search 'B' · sorted by self · % of the samples through "
            "the shown functions (relative)  x: clear")
        assert rows(app)[0][:2] == ["66.67%", "100.00%"]  # 12 and 18 of B's 18
        drawn = shown(app, "#hot-info")  # 80 columns: cut, and the cut shows
        assert drawn.endswith("…") and len(drawn) == 78
        assert drawn.startswith("1 function · kind HPHP · search 'B' · sorted by self")
        await pilot.press("x")  # one key clears them all
        assert app.state.kind is None and app.state.search == "" and len(names(app)) == 5
        assert "kind" not in text(app, "#hot-info") and "x: clear" not in text(app, "#hot-info")
        assert not app.screen.query_one("#search").display
        await pilot.press("k", "k")
        await pilot.press("K", "K")  # back past PHP to All
        assert app.state.kind is None and len(names(app)) == 5
        await pilot.press("percent_sign")
        assert not app.state.relative and rows(app)[0][0] == "40.00%"
        # the kind buttons are links: app.kind('kernel')
        await app.run_action("kind('kernel')")
        await pilot.pause()
        assert names(app) == ["schedule"]


async def test_search_substring_regex_and_escape() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        inp = app.screen.query_one("#search", Input)
        assert inp.display and app.focused is inp
        await pilot.press("h", "p", "h", "p")
        assert names(app) == ["HPHP::B", "HPHP::C"]
        await pilot.press("enter")  # keep the search, back to the table
        assert app.focused is app.screen.query_one("#hot-table")
        assert names(app) == ["HPHP::B", "HPHP::C"] and "search 'hphp'" in text(app, "#hot-info")
        await pilot.press("slash", "ctrl+u", "ctrl+r", *"B$|^m")
        assert app.state.regex and names(app) == ["HPHP::B", "main"]
        await pilot.press("(")  # a bad regex: rows stay, the error shows
        assert names(app) == ["HPHP::B", "main"] and "bad regex" in text(app, "#hot-info")
        await pilot.press("escape")  # clears the search
        assert app.state.search == "" and len(names(app)) == 5 and not inp.display


async def test_hot_table_is_limited_but_counts_everything() -> None:
    b = ProfileBuilder("e")
    t = b.thread(1, "x")
    for i in range(HOT_LIMIT + 50):
        b.add((b.frame(f"fn{i:05d}", Kind.NATIVE, "/x"),), t, 1 + i)
    app = JitprofApp(profile=b.finish())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert len(names(app)) == HOT_LIMIT
        assert f"top {HOT_LIMIT:,} of {HOT_LIMIT + 50:,} functions" in text(app, "#hot-info")
        assert names(app)[0] == f"fn{HOT_LIMIT + 49:05d}"
        table = app.screen.query_one("#hot-table", DataTable)
        await pilot.press("ctrl+end")  # the last row shown: the rest are added below it
        await pilot.pause()
        assert len(names(app)) == HOT_LIMIT + 50
        assert text(app, "#hot-info").startswith(f"{HOT_LIMIT + 50:,} functions")
        assert table.cursor_row == HOT_LIMIT - 1  # still on the same function
        assert names(app)[table.cursor_row] == "fn00050"
        await pilot.press("ctrl+end")  # now the true end: nothing more to add
        await pilot.pause()
        assert table.cursor_row == HOT_LIMIT + 49 and names(app)[-1] == "fn00000"
        await pilot.press("s")  # a new view starts from the first rows again
        await pilot.pause()
        assert len(names(app)) == HOT_LIMIT


# -- callers / callees --------------------------------------------------------------------------


async def test_enter_opens_callers_callees_and_backspace_goes_back() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")  # PHP::A
        assert active_tab(app) == "detail" and app.state.detail is not None
        assert app.state.detail.name == "PHP::A"
        assert text(app, "#detail-head") == "[PHP] PHP::A  [JIT]"
        assert text(app, "#detail-numbers") == (
            "self 23.33% · total 93.33% (5 samples) · esc: back to Hot functions")
        assert [r[0] + " " + r[-1] for r in rows(app, "#callers")] == [
            "100.00% main", "14.29% PHP::A"]
        assert [r[0] + " " + r[-1] for r in rows(app, "#callees")] == [
            "57.14% HPHP::B", "17.86% HPHP::C", "14.29% PHP::A"]
        assert app.focused is app.screen.query_one("#callers")
        await pilot.press("enter")  # go to the caller: main
        assert app.state.detail.name == "main" and names(app, "#callees") == [
            "PHP::A", "HPHP::B"]
        assert names(app, "#callers") == []
        await pilot.press("tab")  # to the callees
        assert app.focused is app.screen.query_one("#callees")
        await pilot.press("down", "enter")  # HPHP::B
        assert app.state.detail.name == "HPHP::B"
        assert [h.name for h in app.state.history] == ["PHP::A", "main"]
        await pilot.press("escape")  # escape, left and backspace all go back
        assert app.state.detail.name == "main"
        await pilot.press("left")
        assert app.state.detail.name == "PHP::A" and app.state.history == []
        assert app.focused is app.screen.query_one("#callees")
        await pilot.press("tab")  # round the two tables, never off them
        assert app.focused is app.screen.query_one("#callers")
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#callees")
        await pilot.press("backspace")  # the first function: back to where it was opened
        assert active_tab(app) == "hot" and app.focused is app.screen.query_one("#hot-table")
        assert app.state.detail.name == "PHP::A"


# -- call tree ----------------------------------------------------------------------------------


async def test_call_tree_lazy_hottest_path_and_invert() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3")
        assert active_tab(app) == "tree" and app.focused is app.screen.query_one("#calltree")
        assert tree_labels(app) == ["100.00%            all",
                                    "100.00%   0.00%  ▶ main native"]
        await pilot.press("h")  # hottest path from the root
        # Total and Self stay in their columns (of 30 weight: 28, 3; 16, 10; ...); only
        # the names are indented
        assert tree_labels(app) == [
            "100.00%            all",
            "100.00%   0.00%  ▼ main native",
            " 93.33%  10.00%    ▼ PHP::A PHP",
            " 53.33%  33.33%      ▶ HPHP::B HPHP",  # the path ends here (schedule < self)
            " 16.67%  16.67%        HPHP::C HPHP",
            " 13.33%  13.33%        PHP::A PHP",
            "  6.67%   6.67%      HPHP::B HPHP",
        ]
        assert cursor_label(app) == " 53.33%  33.33%      ▶ HPHP::B HPHP"
        assert text(app, "#tree-info").startswith("HPHP::B  HPHP  /bin/app  ")
        await pilot.press("i")  # bottom-up
        assert app.state.inverted
        # a root's Self is its function's self time; its callers show none (item 5)
        assert tree_labels(app) == [
            "100.00%            all",
            " 40.00%  40.00%  ▶ HPHP::B HPHP",
            " 23.33%  23.33%  ▶ PHP::A PHP",
            " 20.00%  20.00%  ▶ schedule kernel",
            " 16.67%  16.67%  ▶ HPHP::C HPHP",
        ]
        await pilot.press("down", "enter")  # expand HPHP::B: its callers, loaded now
        assert tree_labels(app)[2:4] == [" 33.33%            ▶ PHP::A PHP",
                                         "  6.67%              main native"]
        await pilot.press("c")  # callers/callees of the node under the cursor
        assert active_tab(app) == "detail" and app.state.detail is not None
        assert app.state.detail.name == "HPHP::B"


async def test_call_tree_left_right_expand_all_collapse_all() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3", "down", "right")  # right opens main
        assert tree_labels(app)[1:3] == ["100.00%   0.00%  ▼ main native",
                                         " 93.33%  10.00%    ▶ PHP::A PHP"]
        await pilot.press("right")  # open: right goes to the first child
        assert cursor_label(app) == " 93.33%  10.00%    ▶ PHP::A PHP"
        await pilot.press("left")  # closed: left goes to the parent
        assert cursor_label(app) == "100.00%   0.00%  ▼ main native"
        await pilot.press("left")  # open: left closes it
        assert tree_labels(app) == ["100.00%            all",
                                    "100.00%   0.00%  ▶ main native"]
        await pilot.press("E")  # everything below the cursor
        # all, main, A, B, schedule, C, A (recursion), B (from main)
        assert len(tree_labels(app)) == 8 and tree_labels(app)[4] == (
            " 20.00%  20.00%          schedule kernel")
        await pilot.press("down", "down", "C")  # all closed, the cursor on main
        assert tree_labels(app) == ["100.00%            all",
                                    "100.00%   0.00%  ▶ main native"]
        assert cursor_label(app) == "100.00%   0.00%  ▶ main native"
        await pilot.press("space")  # space toggles as enter does
        assert len(tree_labels(app)) == 4
        await pilot.press("end")
        assert cursor_label(app) == "  6.67%   6.67%      HPHP::B HPHP"
        await pilot.press("home")
        assert cursor_label(app).endswith("all")


# -- flame graph --------------------------------------------------------------------------------


async def test_flame_graph_keys() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("4")
        fg = app.screen.query_one(FlameGraph)
        assert active_tab(app) == "flame" and app.focused is fg
        lines = fg.rows_as_text()
        # each box opens with a dark edge, so neighbours of one colour stay apart
        assert lines[0].startswith("▏all") and lines[1].startswith("▏main")
        assert lines[2].startswith("▏PHP::A") and lines[2].endswith("▏HPHP…")  # 6 cells
        assert text(app, "#breadcrumb") == "all"
        await pilot.press("down", "down", "down")  # main > A > B (heaviest each time)
        assert [f.name for f in app.state.flame_selected] == ["main", "PHP::A", "HPHP::B"]
        # the frame's numbers (16 of 30, 10 of 30; 2 stacks of 1 sample) and full name
        assert text(app, "#flame-info").startswith(
            "total 53.33% · self 33.33% · 2 samples · HPHP · /bin/app")
        assert text(app, "#flame-name") == "HPHP::B"
        await pilot.press("right")
        assert [f.name for f in app.state.flame_selected][-1] == "HPHP::C"
        await pilot.press("left", "enter")  # zoom on B
        assert text(app, "#breadcrumb") == "all › main › PHP::A › HPHP::B"
        lines = fg.rows_as_text()
        assert lines[0].rstrip() == "▏HPHP::B" and lines[1].startswith("▏schedule")
        assert len(lines[1].rstrip()) == 80 * 6 // 16 or lines[1][80 * 6 // 16] == " "
        await pilot.press("escape")  # zoom out one level: A fills the width
        assert text(app, "#breadcrumb") == "all › main › PHP::A"
        assert [f.name for f in app.state.flame_selected] == ["main", "PHP::A", "HPHP::B"]
        await pilot.press("up", "up")  # up to the zoom root, not above it
        assert [f.name for f in app.state.flame_selected] == ["main", "PHP::A"]
        await pilot.press("escape", "escape", "escape")  # to the root and no further
        assert text(app, "#breadcrumb") == "all"
        assert [f.name for f in app.state.flame_selected] == ["main"]
        await pilot.press("c")
        assert active_tab(app) == "detail" and app.state.detail is not None
        assert app.state.detail.name == "main"


async def test_flame_graph_search_highlights_and_sums() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("4", "slash", "H", "P", "H", "P", "enter")
        fg = app.screen.query_one(FlameGraph)
        assert app.focused is fg and app.state.flame_search == "HPHP"
        # B and C: the stacks through either weigh 10 + 5 + 2 + 6 = 23 of 30
        assert fg.matches == frozenset(i for i, f in enumerate(app.views.profile.frames)
                                       if f.name.startswith("HPHP::"))
        assert text(app, "#flame-found").startswith(
            "search 'HPHP': 2 functions, 76.67% of all samples")

        def bg(y: int, name: str) -> str:
            seg = next(s for s in fg.render_line(y) if s.text.startswith(name))
            assert seg.style is not None and seg.style.bgcolor is not None
            return str(seg.style.bgcolor.name)

        assert bg(3, "HPHP::B") == "#f1c40f" and bg(3, "HPHP::C") == "#f1c40f"  # lit
        assert bg(2, "PHP::A") == "#303030"  # the rest dimmed
        await pilot.press("x")  # clear: no highlight
        assert fg.matches is None and not app.screen.query_one("#flame-found").display


async def test_flame_graph_mouse() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("4")
        fg = app.screen.query_one(FlameGraph)
        # row 2 is main > A (cells 0..73) and main > B (74..79)
        await pilot.click(FlameGraph, offset=(77, 2))
        assert [f.name for f in app.state.flame_selected] == ["main", "HPHP::B"]
        await pilot.click(FlameGraph, offset=(77, 2))  # again: zoom
        assert text(app, "#breadcrumb") == "all › main › HPHP::B"
        assert fg.rows_as_text()[0].rstrip() == "▏HPHP::B"


# -- everywhere ---------------------------------------------------------------------------------


async def test_tabs_help_palette_and_quit() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key, tab in (("2", "detail"), ("3", "tree"), ("4", "flame"), ("1", "hot")):
            await pilot.press(key)
            assert active_tab(app) == tab
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text", Static).content)
        for _title, keys in key_sections():
            for key, desc in keys:
                assert key in help_text and desc in help_text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for want in ("Sort by total", "Kind: PHP", "Search", "Invert call tree",
                     "Expand hottest path", "Go to Flame graph", "Keys",
                     "Toggle relative percentages"):
            assert want in titles
        await pilot.press("q")
    assert app.return_code == 0


def test_every_key_is_in_the_docs() -> None:
    section = (ROOT / "docs" / "tui.md").read_text()  # the TUI's page (once the README's)
    for _title, keys in key_sections():
        for key, desc in keys:
            assert f"`{key}`" in section, (key, desc)


# -- loading and swapping ------------------------------------------------------------------------


async def test_loading_in_a_worker_with_progress(slow: Profile) -> None:
    seen: list[tuple[int, int]] = []

    def loader(progress: Any) -> Profile:
        def spy(done: int, total: int) -> None:
            seen.append((done, total))
            progress(done, total)

        return load_profile([str(SLOW)], search_tmp=False, progress=spy)

    app = JitprofApp(loader=loader, inputs=[str(SLOW)])
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, LoadingScreen)
        assert names(app)[0] == "HPHP::f_sort"
    assert seen and seen[-1] == (SLOW.stat().st_size, SLOW.stat().st_size)


async def test_loading_failure_exits_with_the_message() -> None:
    from jitprof.errors import InputError

    def loader(progress: Any) -> Profile:
        raise InputError("x.txt", "not perf script output", 3)

    app = JitprofApp(loader=loader, inputs=["x.txt"])
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.error == ("x.txt:3: not perf script output", 1)
    assert app.return_code == 1


async def test_loading_screen_shows_bytes() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = LoadingScreen(["big.txt"])
        await app.push_screen(screen)
        screen.progress(3 << 20, 12 << 20)
        await pilot.pause()
        from textual.widgets import Label, ProgressBar

        assert screen.query_one(ProgressBar).percentage == 0.25
        assert str(screen.query_one("#loading-bytes", Label).content) == "3.0 MiB of 12.0 MiB"


async def test_set_profile_keeps_the_view_state(slow: Profile) -> None:
    app = JitprofApp(profile=slow)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#hot-table", DataTable)
        assert names(app)[table.cursor_row] == "HPHP::f_sort"
        await pilot.press("k", "k", "s")  # HPHP, by total: the cursor stays on f_sort
        assert names(app)[table.cursor_row] == "HPHP::f_sort"
        await pilot.press("down")
        row = names(app)[table.cursor_row]
        assert row != "HPHP::f_sort"
        await pilot.press("4", "down", "down", "enter")
        zoom = text(app, "#breadcrumb")
        await pilot.press("1")
        fresh = load_profile([str(SLOW)], search_tmp=False)  # a new Profile, same functions
        app.set_profile(fresh)
        await pilot.pause()
        assert app.views is not None and app.views.profile is fresh
        assert app.state.kind is Kind.HPHP and app.state.sort == "total"
        assert names(app)[table.cursor_row] == row
        await pilot.press("4")
        assert text(app, "#breadcrumb") == zoom


async def test_names_are_shown_verbatim_not_as_markup() -> None:
    b = ProfileBuilder("e")
    t = b.thread(1, "x")
    b.add((b.frame("[unknown]", Kind.UNKNOWN, "[JIT]"),), t, 2)
    b.add((b.frame("[b]bold[/b]", Kind.JIT, "[JIT]", ""),), t, 1)
    app = JitprofApp(profile=b.finish())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        svg = app.export_screenshot()
        assert "[unknown]" in svg and "[b]bold[/b]" in svg


async def test_mouse_kind_button_and_rows() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert str(app.screen.query_one("#kinds", Static).content).startswith(
            " All 100.0%   PHP 23.3% ")
        await pilot.click("#kinds", offset=(16, 0))  # on "PHP 23.3%"
        assert app.state.kind is Kind.PHP and names(app) == ["PHP::A"]
        await pilot.click("#kinds", offset=(3, 0))  # on "All"
        assert app.state.kind is None
        # a row: the first click moves the cursor, the second opens it (header is row 0)
        await pilot.click("#hot-table", offset=(30, 2))
        assert active_tab(app) == "hot"
        await pilot.click("#hot-table", offset=(30, 2))
        assert active_tab(app) == "detail" and app.state.detail is not None
        assert app.state.detail.name == "PHP::A"


async def test_q_while_loading_quits_and_stops_the_reading() -> None:
    import threading

    stopped = threading.Event()

    def loader(progress: Any) -> Profile:
        try:
            for i in range(6000):  # a long read: 10 ms per "chunk", 60 s in all
                progress(i << 22, 6000 << 22)
                threading.Event().wait(0.01)
        except BaseException:
            stopped.set()
            raise
        raise AssertionError("the reading was not stopped")

    app = JitprofApp(loader=loader, inputs=["big.txt"])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        assert isinstance(app.screen, LoadingScreen)
        await pilot.press("q")
    assert stopped.wait(10) and app.return_code == 0 and app.error is None


async def test_a_subclass_in_another_module_finds_the_styles() -> None:
    class LiveApp(JitprofApp):  # what a live view or a diff view would do
        pass

    app = LiveApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert names(app)[0] == "HPHP::B"
        assert app.screen.query_one("#status").styles.max_height is not None


async def test_an_empty_profile_then_a_real_one() -> None:
    """A live view may start before any sample: every view copes, then fills in."""
    empty = ProfileBuilder("cpu-clock").finish()
    app = JitprofApp(profile=empty)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert names(app) == [] and "0 functions" in text(app, "#hot-info")
        for key in ("enter", "2", "backspace", "3", "h", "i", "4", "down", "enter", "escape",
                    "c", "1", "k", "s", "percent_sign"):
            await pilot.press(key)
        assert tree_labels(app) == ["  0.00%            all"]
        app.set_profile(_hand())
        await pilot.pause()
        assert app.state.sort == "total" and app.state.kind is None  # "s" and "k" above
        assert names(app) == ["main", "PHP::A", "HPHP::B", "schedule", "HPHP::C"]


async def test_command_palette_runs_an_action() -> None:
    from textual.command import CommandPalette

    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Sort by total")
        await pilot.pause(0.5)  # the palette searches in the background
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        assert app.state.sort == "total" and names(app)[0] == "main"


# -- the timeline -------------------------------------------------------------------------------


async def test_timeline_range_filters_every_view() -> None:
    """Bins 10..13 of 0.5 s weigh 4, 2, 0, 9 (tests/test_timeline.py); 80 cells: 20 each."""
    app = JitprofApp(profile=_binned())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        strip = app.screen.query_one(TimelineStrip)
        assert strip.display and strip.timeline is not None
        rows_drawn = strip.rows_as_text()
        # all samples on one scale: 4 -> ▄, 2 -> ▂, 0 -> blank, 9 -> █, 20 cells each
        assert rows_drawn[0] == "▄" * 20 + "▂" * 20 + " " * 20 + "█" * 20
        # the function under the hot table's cursor (HPHP::B: 3, 0, 0, 4 + 5), same scale
        assert strip.function is not None and strip.function[0] == "HPHP::B"
        assert rows_drawn[1] == "▃" * 20 + " " * 40 + "█" * 20
        assert "5.00 s" in rows_drawn[2] and "HPHP::B" in rows_drawn[2]
        await pilot.press("t")
        assert app.focused is strip
        await pilot.press("home", "enter", *["right"] * 25, "enter")  # cells 0..25
        # bins [10, 12): 4 + 2 of the 15
        assert strip.chosen == (10, 12) and app.state.time_range == (5.0, 6.0)
        assert app.views is not None and app.views.profile.weight == 6
        assert names(app) == ["HPHP::B", "PHP::A", "main"]
        assert rows(app)[0][:3] == ["50.00%", "50.00%", "3"]  # 3 of the range's 6
        assert "time 5.00-6.00 s (1.00 s)" in text(app, "#hot-info")
        status = text(app, "#status")
        assert "6 samples" in status and "a range of the 1.80 s" in status
        assert "range 5.00-6.00 s (1.00 s)" in strip.rows_as_text()[2]
        await pilot.press("t", "3", "E")  # the call tree of the range
        assert tree_labels(app)[:2] == ["100.00%            all",
                                        "100.00%   0.00%  ▼ main native"]
        assert len(tree_labels(app)) == 4  # main > B, main > A: no B under A in [10, 12)
        await pilot.press("4")  # the flame graph too
        assert app.screen.query_one(FlameGraph).flame.weight(0) == 6  # type: ignore[union-attr]
        await pilot.press("1", "x")  # x clears the range with the other filters
        assert app.state.time_range is None and app.views.profile.weight == 15
        assert strip.chosen is None and "time" not in text(app, "#hot-info")
        # escape in the strip: cancel a marking, then drop the range
        await pilot.press("t", "enter", "right", "escape")
        assert strip.mark_from is None and strip.chosen is None
        await pilot.press("end", "enter", *["left"] * 10, "enter")
        assert strip.chosen == (13, 14) and app.views.profile.weight == 9
        await pilot.press("escape")
        assert strip.chosen is None and app.views.profile.weight == 15


async def test_timeline_mouse_drag_and_small_terminals() -> None:
    app = JitprofApp(profile=_binned())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.mouse_down(TimelineStrip, offset=(65, 0))
        await pilot.hover(TimelineStrip, offset=(75, 0))
        await pilot.mouse_up(TimelineStrip, offset=(79, 0))
        await pilot.pause()
        assert app.state.time_range == (6.5, 7.0) and app.views is not None
        assert app.views.profile.weight == 9
    app = JitprofApp(profile=_binned())
    async with app.run_test(size=(80, 18)) as pilot:  # too few lines: no strip
        await pilot.pause()
        assert not app.screen.query_one(TimelineStrip).display
    app = JitprofApp(profile=_hand())  # no sample times: no strip, t does nothing
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.screen.query_one(TimelineStrip).display
        await pilot.press("t")
        assert app.focused is app.screen.query_one("#hot-table")


# -- keys and small terminals (issue 14, items 7 and 12) -----------------------------------------


async def test_ctrl_c_quits() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running


async def test_tab_never_strands_the_focus_and_keys_once_in_the_palette() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#hot-table")
        await pilot.press("tab", "tab", "shift+tab")
        assert app.focused is table
        await pilot.press("down", "enter")  # up and enter still work
        assert app.state.detail is not None and app.state.detail.name == "PHP::A"
        await pilot.press("1", "slash", "a")  # the search box open: tab goes round both
        assert app.focused is app.screen.query_one("#search")
        await pilot.press("tab")
        assert app.focused is table
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#search")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert titles.count("Keys") == 1
        await pilot.press("escape", "3", "tab")
        assert app.focused is app.screen.query_one("#calltree")


async def test_the_filters_the_profile_was_read_with_are_said() -> None:
    app = JitprofApp(profile=_hand(), filters=["pid 1234"])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("k")
        assert text(app, "#hot-info").startswith("1 function · pid 1234 · kind PHP · ")


async def test_empty_callers_callees_says_which_key() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("2")
        head = text(app, "#detail-head")
        assert "enter on a row of Hot functions" in head and "c in the call tree" in head
        assert shown(app, "#detail-head") == head  # it fits 80 columns


async def test_help_keys_never_run_into_their_text() -> None:
    app = JitprofApp(profile=_hand())
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text", Static).content)
        import re

        lines = help_text.splitlines()
        i = next(i for i, ln in enumerate(lines) if "pgup/pgdn" in ln)
        # a key too long for the column: on its own line, its text below it
        assert lines[i] == "  up/down, pgup/pgdn" and lines[i + 1].strip() == "Move"
        assert "pgdnMove" not in help_text
        # every key has at least two spaces before its text
        for ln in help_text.splitlines():
            if ln.startswith("  ") and ln.strip():
                assert re.fullmatch(r"  \S.*? {2,}\S.*|  +\S.*", ln), ln


async def test_warnings_are_cut_between_words_and_shown_in_full() -> None:
    p = _hand()
    long = ("no perf map for pid 14089 was found in /tmp or the --map-dir directories: JIT "
            "frames stay unnamed; record with the map kept (Eval.KeepPerfPidMap) and retry")
    p.diagnostics.warnings = [long, "a second warning", "a third warning"]
    app = JitprofApp(profile=p)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(WarningBar)
        lines = str(bar.content).splitlines()
        assert len(lines) == 2 and all(len(ln) <= 78 for ln in lines)
        assert lines[0].endswith("…") and long.startswith(lines[0][2:-1].rstrip())
        assert lines[0][-2] != " " and " " + lines[0][2:-1].split()[-1] + " " in " " + long
        assert lines[1] == "  +2 more: ! shows every warning in full"
        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, WarningsScreen)
        full = str(app.screen.query_one("#warnings-text", Static).content)
        assert long in full and "a third warning" in full
        await pilot.press("escape")
        assert not isinstance(app.screen, WarningsScreen)


def test_pack_breaks_only_between_pieces() -> None:
    """The status lines (profile and live) wrap between pieces, never inside one."""
    from jitprof.tui.widgets import pack

    parts = [(p, "") for p in ("LIVE", "whole run", "2,002 samples", "every 2 s")]
    lines = pack(parts, 30).plain.splitlines()
    assert lines == ["LIVE · whole run", "2,002 samples · every 2 s"]
    assert pack(parts, 30, start=20).plain.splitlines()[0] == "LIVE"
    assert pack([("x" * 50, "")], 20).plain == "x" * 19 + "…"
