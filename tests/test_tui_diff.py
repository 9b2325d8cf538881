"""Pilot tests of the diff view (``jitprof diff --tui``) on the committed slow and fast
demo recordings: press keys, then check the widgets' state as plain data. The f_sort
numbers are checked against counts taken from the script texts directly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.widgets import DataTable, Static, TabbedContent

from jitprof.analysis.diff import (
    DEFAULT_BLOCK,
    DiffResult,
    Normalization,
    diff_profiles,
)
from jitprof.commands import main
from jitprof.errors import EXIT_USAGE, DiffUsageError
from jitprof.model import Profile
from jitprof.present.diffviews import PALETTE, DiffViews
from jitprof.resolve import load_profile
from jitprof.tui.diff import SELECTED, DiffApp, diff_key_sections
from jitprof.tui.widgets import FlameGraph, HelpScreen, LoadingScreen
from tests.test_diff_demo import _leaf_counts

ROOT = Path(__file__).resolve().parent.parent
SLOW = ROOT / "samples" / "hhvm-demo" / "slow" / "perf.script.gz"
FAST = ROOT / "samples" / "hhvm-demo" / "fast" / "perf.script.gz"


def _load(path: Path) -> Profile:
    return load_profile([str(path)], search_tmp=False, bin_width=DEFAULT_BLOCK)


@pytest.fixture(scope="module")
def sides() -> tuple[Profile, Profile]:
    return _load(SLOW), _load(FAST)


@pytest.fixture(scope="module")
def views(sides: tuple[Profile, Profile]) -> DiffViews:
    pb, pa = sides
    return DiffViews(diff_profiles([pb], [pa]), [pb], [pa])


# -- plain data out of widgets -------------------------------------------------------------------
def rows(app: DiffApp, table: str = "#dtable") -> list[list[str]]:
    t = app.screen.query_one(table, DataTable)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


def column(app: DiffApp, label: str, table: str = "#dtable") -> list[str]:
    t = app.screen.query_one(table, DataTable)
    i = [str(c.label) for c in t.columns.values()].index(label)
    return [r[i] for r in rows(app, table)]


def text(app: DiffApp, sel: str) -> str:
    return str(app.screen.query_one(sel, Static).content)


def active_tab(app: DiffApp) -> str:
    return app.screen.query_one(TabbedContent).active


def _num(cell: str) -> float:
    return float(cell.rstrip("%"))


# -- the first screen ------------------------------------------------------------------------------
async def test_first_screen_tells_the_seed_story(views: DiffViews) -> None:
    hb, nb = _leaf_counts(SLOW, " HPHP::f_sort+")
    ha, na = _leaf_counts(FAST, " HPHP::f_sort+")
    app = DiffApp(views)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first = rows(app)[0]
        before, after, delta, ci, verdict, name = first
        assert name == "HPHP::f_sort" and verdict == "▼ down"
        assert _num(before) == pytest.approx(100 * hb / nb, abs=0.005)
        assert _num(after) == pytest.approx(100 * ha / na, abs=0.005)
        assert float(delta) == pytest.approx(100 * (ha / na - hb / nb), abs=0.005)
        lo, hi = (float(x) for x in ci.strip("[]").split(", "))
        assert lo < float(delta) < hi < 0
        head = text(app, "#dhead")
        assert f"before  {nb:,} samples" in head and f"after   {na:,} samples" in head
        assert "method  block bootstrap over time" in head and "BINOMIAL" not in head
        kinds = text(app, "#dkinds").splitlines()
        hphp = next(k for k in kinds if k.startswith("HPHP"))
        assert "▼ down" in hphp and hphp.endswith("of which HPHP::f_sort -55.27")
        # everything above is on the screen: the f_sort row is in the table's first lines
        table = app.screen.query_one("#dtable", DataTable)
        assert table.region.y + 1 < 24 and table.cursor_row == 0
        assert active_tab(app) == "changes"


async def test_binomial_is_said_plainly(sides: tuple[Profile, Profile]) -> None:
    pb, pa = sides
    app = DiffApp(DiffViews(diff_profiles([pb], [pa], method="binomial"), [pb], [pa]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "BINOMIAL: samples taken as independent" in text(app, "#dhead")
        # 100 columns: the q-value too (ratio and kind from 120)
        labels = [str(c.label) for c in app.screen.query_one("#dtable", DataTable).columns
                  .values()]
        assert labels == ["Before", "After", "Δ pts", "95% CI", "q", "Verdict", "ms/s",
                          "Function"]
        assert column(app, "q")[0] == "<1e-4"


async def test_cpu_per_second_beside_the_shares_and_n_switches(
        sides: tuple[Profile, Profile]) -> None:
    """Issue 14, item 9: beside the shares, CPU ms per second of recording. By hand from
    the script texts: f_sort has 1,164 self samples before, 47 after, each of period
    1,001,001 ns, over 2.513 s and 2.507 s: 463.6 and 18.8 ms/s. n compares rates."""
    pb, pa = sides

    def run(how: str, b: Sequence[Profile], a: Sequence[Profile]) -> DiffResult:
        return diff_profiles(list(b), list(a), normalization=Normalization(how, None))

    app = DiffApp(DiffViews(run("share", [pb], [pa]), [pb], [pa], rerun=run))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert rows(app)[0][-1] == "HPHP::f_sort"
        span_b = pb.time_last - pb.time_first  # type: ignore[operator]
        span_a = pa.time_last - pa.time_first  # type: ignore[operator]
        fb = next(f for f in app.views.result.functions  # type: ignore[union-attr]
                  if f.name == "HPHP::f_sort")
        assert fb.self_samples == (1164, 47)
        want = (f"{1164 * 1.001001 / span_b:,.0f}→{47 * 1.001001 / span_a:,.0f}")
        assert column(app, "ms/s")[0] == want == "464→19"
        await pilot.press("enter")  # the Function tab: total ms beside self ms, and per s
        head = text(app, "#fn-head").splitlines()
        self_rate = next(ln for ln in head if ln.startswith("self ms/s"))
        assert self_rate.split()[2:4] == [f"{1164 * 1.001001 / span_b:,.1f}",
                                          f"{47 * 1.001001 / span_a:,.1f}"]
        total_ms = next(ln for ln in head if ln.startswith("total ms "))
        assert total_ms.split()[2:4] == [f"{fb.total_ms[0]:,.1f}", f"{fb.total_ms[1]:,.1f}"]
        assert fb.total_samples[0] * 1.001001 == pytest.approx(fb.total_ms[0], rel=1e-6)
        await pilot.press("1", "n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.views.result.normalization.mode == "rate"  # type: ignore[union-attr]
        assert "ms/s" not in [str(c.label) for c in app.screen.query_one(
            "#dtable", DataTable).columns.values()]  # the values are rates themselves
        assert rows(app)[0][-1] == "HPHP::f_sort"
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.views.result.normalization.mode == "share"  # type: ignore[union-attr]


async def test_sorts_kind_filter_and_search(views: DiffViews) -> None:
    app = DiffApp(views)
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause()
        assert column(app, "Kind")  # the wide table has ratio, q and kind
        deltas = [float(d) for d in column(app, "Δ pts")]
        assert [abs(d) for d in deltas] == sorted((abs(d) for d in deltas), reverse=True)
        await pilot.press("s")  # delta: the biggest cut first
        assert "sorted by delta" in text(app, "#dinfo")
        deltas = [float(d) for d in column(app, "Δ pts")]
        assert deltas == sorted(deltas) and column(app, "Function")[0] == "HPHP::f_sort"
        await pilot.press("s")  # before
        before = [_num(x) for x in column(app, "Before")]
        assert before == sorted(before, reverse=True)
        await pilot.press("s")  # after
        after = [_num(x) for x in column(app, "After")]
        assert after == sorted(after, reverse=True)
        assert column(app, "Function")[0] == "HPHP::f_str_replace"
        await pilot.press("r")  # reversed
        after = [_num(x) for x in column(app, "After")]
        assert after == sorted(after) and "reversed" in text(app, "#dinfo")
        await pilot.press("r", "s")  # name
        names = column(app, "Function")
        assert names == sorted(names)
        await pilot.press("s")  # back to |delta|
        assert column(app, "Function")[0] == "HPHP::f_sort"
        # a click on a column header sorts by it
        await pilot.click("#dtable", offset=(3, 0))
        assert "sorted by before" in text(app, "#dinfo")
        await pilot.click("#dtable", offset=(110, 0))  # Function (after 9 columns)
        await pilot.pause()
        assert "sorted by name" in text(app, "#dinfo")
        await pilot.press("s")  # back to |delta|
        # kind filter: All -> PHP -> HPHP
        await pilot.press("k")
        assert set(column(app, "Kind")) == {"PHP"} and "kind PHP" in text(app, "#dinfo")
        await pilot.press("k")
        assert set(column(app, "Kind")) == {"HPHP"}
        assert column(app, "Function")[0] == "HPHP::f_sort"
        await pilot.press("K", "K")
        assert len(set(column(app, "Kind"))) > 2
        # a click on a kind line's name filters by it; a second click shows all again
        kinds = text(app, "#dkinds").splitlines()
        line = next(i for i, k in enumerate(kinds) if k.startswith("native"))
        await pilot.click("#dkinds", offset=(2, line))
        await pilot.pause()
        assert set(column(app, "Kind")) == {"native"}
        await pilot.click("#dkinds", offset=(2, line))
        await pilot.pause()
        assert len(set(column(app, "Kind"))) > 2
        # search as you type; escape clears
        await pilot.press("slash", *"json")
        assert column(app, "Function") == ["HPHP::f_json_encode"]
        assert "search 'json'" in text(app, "#dinfo")
        await pilot.press("escape")
        assert len(rows(app)) == len(views.result.functions)


async def test_enter_shows_the_function_before_and_after(views: DiffViews) -> None:
    app = DiffApp(views)
    f = views.result.functions[0]
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        assert active_tab(app) == "function"
        head = text(app, "#fn-head").splitlines()
        assert head[0].startswith("HPHP::f_sort  [HPHP]")
        self_line = next(x for x in head if x.startswith("self "))
        assert self_line.split()[:5] == ["self", f"{f.self_samples[0]:,}",
                                         f"{f.self_pct[0]:.2f}%", f"{f.self_samples[1]:,}",
                                         f"{f.self_pct[1]:.2f}%"]
        assert any(x.startswith("delta -55.27 pts [") and x.endswith("▼ down") for x in head)
        callers = rows(app, "#fn-callers")
        # f_sort's one caller: every stack through f_sort, before and after
        assert [r[-1] for r in callers] == ["PHP::Api_Handler::respond"]
        assert callers[0][:2] == [f"{f.total_pct[0]:.2f}%", f"{f.total_pct[1]:.2f}%"]
        callees = [r[-1] for r in rows(app, "#fn-callees")]
        assert callees[0].startswith("+std::__introsort_loop")  # new after
        await pilot.press("enter")  # to the caller
        assert text(app, "#fn-head").startswith("PHP::Api_Handler::respond")
        await pilot.press("backspace")
        assert text(app, "#fn-head").startswith("HPHP::f_sort")


async def test_flame_diff_shapes_zoom_and_detail(views: DiffViews) -> None:
    app = DiffApp(views)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        assert active_tab(app) == "dflame"
        fg = app.screen.query_one("#dflamegraph", FlameGraph)
        assert "AFTER-sized (b: before)" in text(app, "#dflame-head")
        lay = fg.layout_now
        assert lay is not None
        tree = views.flame("after")
        sort_box = next(b for b in lay.boxes if tree.name(b.node) == "HPHP::f_sort")
        width_after = sort_box.width
        # f_sort shrank: drawn blue at the strongest step; its self share went 58 -> 3 %
        assert tree.level(sort_box.node) == -4
        text_, style = app.paint_box(sort_box, 0, False)
        assert style.bgcolor is not None and style.bgcolor.name == PALETTE[-4][0]
        new = next(b for b in lay.boxes if tree.name(b.node).startswith("std::__introsort"))
        assert tree.status(new.node) == "new" and app.paint_box(new, 0, False)[0][0] == "+"
        assert app.paint_box(sort_box, 0, True)[1] == SELECTED
        drawn = fg.rows_as_text()  # the widget draws the painter's labels
        assert any("+std::" in row for row in drawn) and any("HPHP::f_s" in r for r in drawn)
        # walk down to f_sort: 8 x down (heaviest callee) in the after shape ends at
        # PHP::Api_View::render; go there by path instead: zoom on f_sort
        fg.selected = sort_box.node
        await pilot.press("enter")
        await pilot.pause()
        assert text(app, "#dflame-crumb").endswith("› HPHP::f_sort")
        info = text(app, "#dflame-info")
        b, a = tree.values(sort_box.node)
        assert info.startswith(f"HPHP::f_sort  {b:.2f}% → {a:.2f}% {a - b:+.2f} pts")
        assert f"{b:.2f}%" == "58.39%"  # 1,169 of 2,002 stacks pass through f_sort
        # the before shape keeps the zoom; f_sort is far wider there
        await pilot.press("b")
        await pilot.pause()
        assert "BEFORE-sized (b: after)" in text(app, "#dflame-head")
        assert text(app, "#dflame-crumb").endswith("› HPHP::f_sort")
        await pilot.press("escape")
        await pilot.pause()
        lay = fg.layout_now
        assert lay is not None
        tb = views.flame("before")
        box = next(b for b in lay.boxes if tb.name(b.node) == "HPHP::f_sort")
        assert box.width > 3 * width_after
        assert any(row.strip() for row in fg.rows_as_text())
        # c: the frame's function before and after
        fg.selected = box.node
        await pilot.press("c")
        assert active_tab(app) == "function"
        assert text(app, "#fn-head").startswith("HPHP::f_sort")


async def test_help_lists_every_key_and_the_docs_too(views: DiffViews) -> None:
    app = DiffApp(views)
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text", Static).content)
        for _title, keys in diff_key_sections():
            for key, desc in keys:
                assert key in help_text and desc in help_text
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for want in ("Sort by delta", "Kind: HPHP", "Go to Flame diff", "Search"):
            assert want in titles
        await pilot.press("q")
    assert app.return_code == 0
    page = (ROOT / "docs" / "diff.md").read_text()  # the diff's page (once the README's)
    section = page[page.index("## The diff view"):]
    for _title, keys in diff_key_sections():
        for key, _desc in keys:
            assert f"`{key}`" in section, key


# -- loading ------------------------------------------------------------------------------------
async def test_loading_in_a_worker(sides: tuple[Profile, Profile]) -> None:
    seen: list[tuple[int, int]] = []

    def loader(progress: Any) -> DiffViews:
        progress(1, 2)
        seen.append((1, 2))
        pb, pa = sides
        return DiffViews(diff_profiles([pb], [pa], method="binomial"), [pb], [pa])

    app = DiffApp(loader=loader, inputs=[str(SLOW), str(FAST)])
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, LoadingScreen)
        assert rows(app)[0][-1] == "HPHP::f_sort"
    assert seen == [(1, 2)]


async def test_a_usage_error_found_while_loading_exits_2(sides: tuple[Profile, Profile]
                                                         ) -> None:
    def loader(progress: Any) -> DiffViews:
        raise DiffUsageError("--normalize rate needs the time span of every input")

    app = DiffApp(loader=loader, inputs=[str(SLOW)])
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.return_code == 2 and app.error is not None
    assert app.error[0].startswith("--normalize rate needs")


async def test_per_unit_normalisation_labels(sides: tuple[Profile, Profile]) -> None:
    pb, pa = sides
    r = diff_profiles([pb], [pa], normalization=Normalization("per", (1000.0, 1000.0)))
    app = DiffApp(DiffViews(r, [pb], [pa]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "samples per unit of work (1000 before, 1000 after)" in text(app, "#dhead")
        assert rows(app)[0][-1] == "HPHP::f_sort"
        # 1.164 -> 0.049 samples per unit: the largest value is in [1, 1000), no scaling
        assert column(app, "Δ")[0] == f"{r.functions[0].cmp.delta:+.2f}" == "-1.12"


# -- the command ----------------------------------------------------------------------------------
def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))  # CliRunner's streams are not terminals
    return r.exit_code, r.stdout, r.stderr


def test_command_without_a_terminal_one_line() -> None:
    code, out, err = run("diff", str(SLOW), str(FAST), "--tui", "--no-tmp")
    assert code == EXIT_USAGE and out == ""
    assert err == ("jitprof: error: the TUI needs a terminal (stdin, stdout and stderr are "
                   f"not one); for text leave out --tui: jitprof diff {SLOW} {FAST}\n")
    code, _, err = run("diff", "-b", str(SLOW), "-b", str(SLOW), "-a", str(FAST), "--tui",
                       "--format", "table")
    assert code == EXIT_USAGE and err.endswith(f"-b {SLOW} -b {SLOW} -a {FAST}\n")


def test_command_refuses_printing_options_with_tui(tmp_path: Path) -> None:
    for extra in (["--format", "json"], ["--format", "difffolded"],
                  ["-o", str(tmp_path / "x.txt")]):
        code, out, err = run("diff", str(SLOW), str(FAST), "--tui", *extra)
        assert code == EXIT_USAGE and out == "" and "--tui shows the comparison" in err
        assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    code, _, err = run("diff", str(SLOW), str(tmp_path / "nope"), "--tui")
    assert code == 1 and err == f"jitprof: error: {tmp_path / 'nope'}: cannot read: No such " \
        "file or directory\n"


async def test_starts_with_the_kind_asked_for(views: DiffViews) -> None:
    from jitprof.model import Kind

    app = DiffApp(views, kind=Kind.HPHP)  # jitprof diff ... --tui --kind HPHP
    async with app.run_test(size=(130, 30)) as pilot:
        await pilot.pause()
        assert set(column(app, "Kind")) == {"HPHP"} and "kind HPHP" in text(app, "#dinfo")
        assert column(app, "Function")[0] == "HPHP::f_sort"


async def test_rows_are_drawn_300_at_a_time() -> None:
    from jitprof.model import Kind, ProfileBuilder
    from jitprof.tui.diff import ROW_LIMIT

    def side(shift: int) -> Profile:
        b = ProfileBuilder("cpu-clock")
        t = b.thread(1, "x")
        main_ = b.frame("main", Kind.NATIVE, "/bin/x")
        for i in range(450):
            b.add((b.frame(f"fn{i:03d}", Kind.NATIVE, "/bin/x"), main_), t, 1 + (i + shift) % 7,
                  1 + (i + shift) % 7)
        return b.finish()

    pb, pa = side(0), side(3)
    r = diff_profiles([pb], [pa], method="binomial")
    assert len(r.functions) == 451
    app = DiffApp(DiffViews(r, [pb], [pa]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert len(rows(app)) == ROW_LIMIT
        assert f"first {ROW_LIMIT}, more at the last row" in text(app, "#dinfo")
        await pilot.press("ctrl+end")  # the last row drawn: the next 300 come
        await pilot.pause()
        assert len(rows(app)) == 451 and "more at the last row" not in text(app, "#dinfo")
        names = column(app, "Function")
        assert names == [f.name for f in r.functions]
        table = app.screen.query_one("#dtable", DataTable)
        assert table.cursor_row == ROW_LIMIT - 1  # still on the same function


async def test_a_time_range_a_side(sides: tuple[Profile, Profile]) -> None:
    """The timeline of each side: a range chosen on the before side compares only its
    samples (counted by hand from the script text's sample times) with the whole after."""
    from jitprof.tui.widgets import TimelineStrip
    from tests.test_timeline import _times_by_hand

    pb, pa = sides

    def run(how: str, b: Sequence[Profile], a: Sequence[Profile]) -> DiffResult:
        return diff_profiles(list(b), list(a), normalization=Normalization(how, None))

    app = DiffApp(DiffViews(run("share", [pb], [pa]), [pb], [pa], rerun=run))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        before = app.screen.query_one("#tl-before", TimelineStrip)
        after = app.screen.query_one("#tl-after", TimelineStrip)
        assert before.display and after.display  # 40 lines: room for both
        assert before.timeline is not None and sum(before.timeline.weights) == pb.weight
        assert before.rows_as_text()[1].startswith("before 945.1")
        await pilot.press("t")
        assert app.focused is before
        await pilot.press("home", "enter", *["right"] * 49, "enter")  # the first half
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert before.chosen is not None
        lo, hi = before.chosen
        width = pb.bin_width
        assert width is not None
        want = sum(1 for t in _times_by_hand(SLOW) if lo <= int(t / width) < hi)
        res = app.views.result  # type: ignore[union-attr]
        assert 0 < res.before.samples == want < pb.samples
        assert res.after.samples == pa.samples  # the other side whole
        assert "range" in before.rows_as_text()[1]
        await pilot.press("escape")  # back to the whole before side
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.views.result.before.samples == pb.samples  # type: ignore[union-attr]
        await pilot.press("tab")  # the after side's strip is next
        assert app.focused is after
    app = DiffApp(DiffViews(run("share", [pb], [pa]), [pb], [pa], rerun=run))
    async with app.run_test(size=(80, 24)) as pilot:  # small: hidden until t
        await pilot.pause()
        assert not app.screen.query_one("#tl-before").display
        await pilot.press("t")
        assert app.screen.query_one("#tl-before").display
