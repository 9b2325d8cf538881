"""jitprof.present.diffviews on hand-computed profiles: the paired stacks, the differential flame
tree (widths, colour levels from deltas, new and gone frames), callers/callees before vs
after, and the changes table (rows, sorts, filters)."""

from __future__ import annotations

import pytest

from jitprof.analysis.diff import DiffResult, Normalization, diff_profiles, folded_diff
from jitprof.model import Frame, Kind, Profile, ProfileBuilder
from jitprof.present.diffviews import (
    PALETTE,
    DiffViews,
    cells,
    change_level,
    display,
    fmt_delta,
    fmt_value,
    function_lines,
    header_lines,
    kind_lines,
    per_sample,
    short_input,
    short_name,
    status_of,
    verdict_text,
)
from jitprof.present.views import flame_layout

MAIN = ("main", Kind.NATIVE, "/bin/app")
A = ("PHP::A", Kind.PHP, "/tmp/perf-1.map")
B = ("HPHP::B(long)", Kind.HPHP, "/bin/app")
C = ("HPHP::C", Kind.HPHP, "/bin/app")
D = ("d", Kind.NATIVE, "/usr/lib/libd.so")


def _profile(stacks: list[tuple[list[tuple[str, Kind, str]], int]], pid: int) -> Profile:
    """Stacks root first as (name, kind, dso), with a sample count each."""
    b = ProfileBuilder("cpu-clock")
    t = b.thread(pid, "app")
    for frames, n in stacks:
        ids = tuple(b.frame(name, kind, dso.replace("-1.", f"-{pid}."))
                    for name, kind, dso in reversed(frames))
        b.add(ids, t, n, n)
    p = b.finish()
    p.inputs = [f"/data/run{pid}/perf.script"]
    p.verify()
    return p


# before (10 samples): main>A>B 6, main>A 2, main>C 2
# after (10 samples):  main>A>B 2, main>A 2, main>D 4, main>A>D 2
# JIT A pairs across the two pids' maps; HPHP::B(long) pairs as HPHP::B
def _sides() -> tuple[Profile, Profile]:
    before = _profile([([MAIN, A, B], 6), ([MAIN, A], 2), ([MAIN, C], 2)], pid=1)
    after = _profile([([MAIN, A, ("HPHP::B(int)", Kind.HPHP, "/bin/app")], 2), ([MAIN, A], 2),
                      ([MAIN, D], 4), ([MAIN, A, D], 2)], pid=2)
    return before, after


@pytest.fixture
def views() -> DiffViews:
    before, after = _sides()
    result = diff_profiles([before], [after], method="binomial")
    return DiffViews(result, [before], [after])


# -- paired stacks --------------------------------------------------------------------------
def test_paired_stacks_match_the_folded_diff(views: DiffViews) -> None:
    s = views.stacks
    got = sorted((";".join(s.frames[f].name for f in key), b, a)
                 for key, (b, a) in zip(s.keys, s.counts, strict=True))
    assert got == [("main;HPHP::C", 2, 0), ("main;PHP::A", 2, 2),
                   ("main;PHP::A;HPHP::B", 6, 2), ("main;PHP::A;d", 0, 2), ("main;d", 0, 4)]
    # and the same as diff.folded_diff (its own pass over the profiles)
    assert got == sorted(folded_diff(*([p] for p in _sides())))
    assert s.samples == (10, 10)
    names = [f.name for f in s.frames]
    assert names.count("PHP::A") == 1 and names.count("HPHP::B") == 1


def _frame(views: DiffViews, name: str) -> Frame:
    return next(f for f in views.stacks.frames if f.name == name)


# -- the differential flame tree ------------------------------------------------------------
def _boxes(tree: object, width: int) -> list[tuple[int, str, int, int]]:
    from jitprof.present.diffviews import DiffFlameTree

    assert isinstance(tree, DiffFlameTree)
    lay = flame_layout(tree, 0, width)
    return [(b.depth, b.label, b.x, b.width) for b in sorted(lay.boxes,
                                                              key=lambda b: (b.depth, b.x))]


def test_after_shape_widths_and_colours(views: DiffViews) -> None:
    t = views.flame("after")
    assert _boxes(t, 40) == [(0, "all", 0, 40), (1, "main", 0, 40), (2, "PHP::A", 0, 24),
                             (2, "d", 24, 16), (3, "HPHP::B", 0, 8), (3, "d", 8, 8)]
    by = {"/".join(f.name for f in t.frames_of(n)): n for n in range(len(t))}
    # shares in percent of each side's 10 samples: deltas by hand
    expect = {"main": (100, 100, 0.0), "main/PHP::A": (80, 60, -20.0),
              "main/PHP::A/HPHP::B": (60, 20, -40.0), "main/PHP::A/d": (0, 20, 20.0),
              "main/d": (0, 40, 40.0), "main/HPHP::C": (20, 0, -20.0)}
    for path, (b, a, d) in expect.items():
        n = by[path]
        assert t.values(n) == pytest.approx((b, a)) and t.delta(n) == pytest.approx(d), path
    assert t.scale == pytest.approx(40.0)
    # level = 1 + steps passed of |d|/40 (0.02 grey, 0.1, 0.3, 0.6), signed
    assert [t.level(by[p]) for p in expect] == [0, -3, -4, 3, 4, -3]
    assert [t.status(by[p]) for p in expect] == ["both", "both", "both", "new", "new", "gone"]
    assert t.self_counts(by["main/PHP::A"]) == (2, 2)
    assert t.counts(0) == (10, 10)


def test_before_shape_shows_what_went(views: DiffViews) -> None:
    t = views.flame("before")
    assert _boxes(t, 40) == [(0, "all", 0, 40), (1, "main", 0, 40), (2, "PHP::A", 0, 32),
                             (2, "HPHP::C", 32, 8), (3, "HPHP::B", 0, 24)]
    assert t.scale == views.flame("after").scale  # one colour scale for both shapes
    c = t.find([_frame(views, "main"), _frame(views, "HPHP::C")])
    assert t.name(c) == "HPHP::C" and t.status(c) == "gone" and t.level(c) == -3


def test_change_levels() -> None:
    assert change_level(0.0, 10) == 0 and change_level(5.0, 0) == 0
    assert change_level(0.19, 10) == 0  # under 2% of the scale: unchanged
    assert [change_level(d, 10) for d in (0.2, 0.99, 1.0, 2.99, 3.0, 5.99, 6.0, 10)] == [
        1, 1, 2, 2, 3, 3, 4, 4]
    assert change_level(-6.0, 10) == -4
    assert set(PALETTE) == set(range(-4, 5))
    assert status_of(0, 3) == "new" and status_of(3, 0) == "gone" and status_of(1, 1) == "both"


def test_rate_normalisation_values() -> None:
    before, after = _sides()
    before.time_first, before.time_last = 0.0, 2.0
    after.time_first, after.time_last = 0.0, 5.0
    r = diff_profiles([before], [after], method="binomial",
                      normalization=Normalization("rate"))
    assert per_sample(r) == (0.5, 0.2)
    t = DiffViews(r, [before], [after]).flame("after")
    frames = {f.name: f for f in t.stacks.frames}
    n = t.find([frames["main"], frames["PHP::A"]])
    assert t.name(n) == "PHP::A"
    assert t.values(n) == pytest.approx((8 / 2.0, 6 / 5.0))


# -- callers / callees ------------------------------------------------------------------------
def test_neighbours_before_and_after(views: DiffViews) -> None:
    a = next(f for f in views.result.functions if f.name == "PHP::A")
    callers, callees = views.neighbours(a)
    assert [(n.frame.name, n.before, n.after) for n in callers] == [("main", 8, 6)]
    assert [(n.frame.name, n.before, n.after) for n in callees] == [("HPHP::B", 6, 2),
                                                                     ("d", 0, 2)]


# -- the table ----------------------------------------------------------------------------------
def _names(views: DiffViews, **kw: object) -> list[str]:
    return [f.name for f in views.table.view(**kw).rows]  # type: ignore[arg-type]


def test_table_sorts_and_filters(views: DiffViews) -> None:
    # self shares: B 60 -> 20, A 20 -> 20, C 20 -> 0 (gone), d 0 -> 60 (new), main 0 -> 0
    first = _names(views)
    assert first[:3] == ["d", "HPHP::B", "HPHP::C"]  # |delta| 60, 40, 20
    assert set(first[3:]) == {"PHP::A", "main"}
    assert _names(views, sort="delta")[:2] == ["HPHP::B", "HPHP::C"]
    assert _names(views, sort="delta")[-1] == "d"
    assert _names(views, sort="before")[0] == "HPHP::B"
    assert _names(views, sort="after")[0] == "d"
    assert _names(views, sort="name") == sorted(first)
    assert _names(views, sort="name", reverse=True) == sorted(first, reverse=True)
    assert _names(views, kind=Kind.HPHP) == ["HPHP::B", "HPHP::C"]
    assert _names(views, search="hphp::") == ["HPHP::B", "HPHP::C"]
    assert _names(views, search="^[A-Z]+::[BC]$", regex=True) == ["HPHP::B", "HPHP::C"]
    v = views.table.view(limit=2)
    assert len(v.rows) == 2 and v.matched == 5
    assert views.table.kinds() == [Kind.PHP, Kind.HPHP, Kind.NATIVE]
    with pytest.raises(ValueError, match="bad regex"):
        views.table.view(search="(", regex=True)
    with pytest.raises(ValueError, match="unknown sort"):
        views.table.view(sort="size")


def test_row_cells(views: DiffViews) -> None:
    r = views.result
    by = {f.name: cells(f, r) for f in r.functions}
    b = by["HPHP::B"]
    assert (b.before, b.after, b.delta, b.kind) == ("60.00%", "20.00%", "-40.00", "HPHP")
    assert b.ratio == "0.333" and b.direction == (-1 if "down" in b.verdict else 0)
    d = by["d"]
    assert d.before == "0.00%" and d.after == "60.00%" and d.ratio == "-"
    assert d.verdict in ("▲ up, new", "new, unclear")
    assert verdict_text("up", "new") == "▲ up, new"
    assert verdict_text("no clear change", "gone") == "gone, unclear"
    assert verdict_text("down") == "▼ down" and verdict_text("no clear change") == (
        "no clear change")
    lo, hi = b.ci.strip("[]").split(", ")
    f = next(f for f in r.functions if f.name == "HPHP::B")
    assert float(lo) == pytest.approx(f.cmp.delta_lo, abs=0.05)
    assert float(hi) == pytest.approx(f.cmp.delta_hi, abs=0.05)


def test_header_kinds_and_function_lines(views: DiffViews) -> None:
    r: DiffResult = views.result
    head = header_lines(r)
    assert head[0][0].startswith("before  10 samples") and head[1][0].startswith("after")
    assert "/data/run1/perf.script" in head[0][0]
    method, warn = head[2]
    assert warn and "BINOMIAL: samples taken as independent" in method
    assert "FDR 5% over" in head[3][0]
    lines = {k.kind: k for k in kind_lines(r)}
    hphp = lines[Kind.HPHP]
    # HPHP self: B+C = 80% before, 20% after; the biggest HPHP change is B (-40)
    assert hphp.text.startswith("HPHP   80.00% → 20.00%  -60.00")
    assert hphp.text.endswith("of which HPHP::B -40.00")
    assert hphp.text[hphp.delta_at:].startswith(hphp.delta)
    assert hphp.text[hphp.verdict_at:].startswith(hphp.verdict)
    b = next(f for f in r.functions if f.name == "HPHP::B")
    fl = function_lines(b, r)
    assert fl[0].startswith("HPHP::B  [HPHP]  app  · in both")
    self_line = next(x for x in fl if x.startswith("self "))
    assert self_line.split() == ["self", "6", "60.00%", "2", "20.00%", "-40.00", "pts"]
    assert any(x.startswith("delta -40.00 pts [") for x in fl)


def test_short_forms() -> None:
    assert short_input("a/b.txt") == "a/b.txt"
    assert short_input("/very/long/directory/name/here/slow/perf.script.gz") == (
        "…/slow/perf.script.gz")
    assert short_name("HPHP::f_sort", 20) == "HPHP::f_sort"
    s = short_name("std::__introsort_loop<__gnu_cxx::__normal_iterator<double*>>", 20)
    assert len(s) == 20 and s.startswith("std::__intro") and s.endswith("*>>")


def test_header_says_why_auto_fell_back_to_binomial() -> None:
    before, after = _sides()  # no time bins: auto cannot bootstrap
    r = diff_profiles([before], [after], by="total")
    assert r.method == "binomial"
    method, warn = header_lines(r)[2]
    assert warn and method.startswith("method  BINOMIAL: samples taken as independent")
    assert "; no bootstrap: /data/run1/perf.script has no per-sample time" in method
    assert header_lines(r)[3][0].startswith("compare total time (kinds: self) · ")


def test_rates_and_work_units_are_scaled_to_fit() -> None:
    before, after = _sides()
    before.time_first, before.time_last = 0.0, 2.0
    after.time_first, after.time_last = 0.0, 5.0
    # per unit of work: B 6 -> 2 samples over 2,000 and 4,000 requests: 0.003 -> 0.0005
    r = diff_profiles([before], [after], method="binomial",
                      normalization=Normalization("per", (2000.0, 4000.0)))
    d = display(r)
    assert d.factor == 1000.0 and d.short == "/1k units"
    assert d.long == "samples per 1k units of work"
    b = next(f for f in r.functions if f.name == "HPHP::B")
    c = cells(b, r)
    assert (c.before, c.after, c.delta) == ("3.00", "0.50", "-2.50")
    assert any(x.startswith("compared (self /1k units, 95% CI): 3.00 [") for x in
               function_lines(b, r))
    assert header_lines(r)[3][0].startswith(
        "compare self time · samples per 1k units of work (2000 before, 4000 after)")
    # rates: B 6 samples in 2 s = 3/s; x 1000 samples: thousands per second
    many = _profile([([MAIN, A, B], 6000)], pid=1)
    many.time_first, many.time_last = 0.0, 2.0
    r = diff_profiles([many], [after], method="binomial", normalization=Normalization("rate"))
    d = display(r)
    assert d.factor == 0.001 and d.short == "k/s"
    b = next(f for f in r.functions if f.name == "HPHP::B")
    assert cells(b, r).before == "3.00" and fmt_value(1234.5, r) == "1.23"
    assert fmt_delta(-250_000.0, r) == "-250.0" and fmt_delta(-250_000.0, r, 1) == "-250"
    # shares are never scaled
    r = diff_profiles([before], [after], method="binomial")
    assert display(r).factor == 1.0 and fmt_value(100.0, r) == "100.0%"
