"""View models against hand-computed profiles, and their consistency with the Profile."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from jitprof.model import Frame, Kind, Profile, ProfileBuilder
from jitprof.present.views import (
    CallTree,
    FlameTree,
    HotTable,
    clip,
    compile_search,
    flame_layout,
    sandwich,
)


def _hand() -> Profile:
    """Six stacks (leaf first), total weight 30:
    (B, A, main) 10 | (C, A, main) 5 | (A, main) 3 | (B, main) 2 | (A, A, main) 4 (recursion)
    | (k, B, A, main) 6."""
    b = ProfileBuilder("cpu-clock")
    main = b.frame("main", Kind.NATIVE, "/bin/app")
    a = b.frame("PHP::A", Kind.PHP, "[JIT]", "")
    bb = b.frame("HPHP::B", Kind.HPHP, "/bin/app", "")
    c = b.frame("HPHP::C", Kind.HPHP, "/bin/app", "")
    k = b.frame("schedule", Kind.KERNEL, "[kernel.kallsyms]")
    t = b.thread(1, "app")
    b.add((bb, a, main), t, 10)
    b.add((c, a, main), t, 5)
    b.add((a, main), t, 3)
    b.add((bb, main), t, 2)
    b.add((a, a, main), t, 4)
    b.add((k, bb, a, main), t, 6)
    p = b.finish()
    p.verify()
    return p


def _f(p: Profile, name: str) -> Frame:
    return next(f for f in p.frames if f.name == name)


# -- hot table --------------------------------------------------------------------------------


def test_hot_rows_hand_computed() -> None:
    p = _hand()
    v = HotTable(p).view()
    got = [(r.frame.name, r.self_weight, r.total_weight, round(r.self_pct, 2),
            round(r.total_pct, 2)) for r in v.rows]
    assert got == [
        ("HPHP::B", 12, 18, 40.0, 60.0),
        ("PHP::A", 7, 28, 23.33, 93.33),
        ("schedule", 6, 6, 20.0, 20.0),
        ("HPHP::C", 5, 5, 16.67, 16.67),
        ("main", 0, 30, 0.0, 100.0),
    ]
    assert v.matched == 5 and v.denominator == 30 and not v.relative


def test_hot_sorts() -> None:
    t = HotTable(_hand())

    def names(sort: str) -> list[str]:
        return [r.frame.name for r in t.view(sort=sort).rows]

    assert names("total") == ["main", "PHP::A", "HPHP::B", "schedule", "HPHP::C"]
    assert names("function") == ["HPHP::B", "HPHP::C", "PHP::A", "main", "schedule"]
    # kind order PHP, HPHP, ..., native, kernel; ties by self
    assert names("kind") == ["PHP::A", "HPHP::B", "HPHP::C", "main", "schedule"]
    # "/bin/app" < "[JIT]" < "[kernel.kallsyms]"
    assert names("dso") == ["HPHP::B", "HPHP::C", "main", "PHP::A", "schedule"]
    # self samples 2, 2, 1, 1, 0: ties by total samples (A 5, B 3), then self weight
    assert names("samples") == ["PHP::A", "HPHP::B", "schedule", "HPHP::C", "main"]
    with pytest.raises(ValueError):
        t.view(sort="bogus")


def test_kind_filter_shares_and_relative_percentages() -> None:
    t = HotTable(_hand())
    shares = {s.label: (s.weight, round(s.pct, 2)) for s in t.kind_shares()}
    # native has a function (main) but no self weight: still a button, at 0%
    assert shares == {"All": (30, 100.0), "PHP": (7, 23.33), "HPHP": (17, 56.67),
                      "native": (0, 0.0), "kernel": (6, 20.0)}
    v = t.view(kind=Kind.HPHP)
    assert [(r.frame.name, round(r.self_pct, 2)) for r in v.rows] == [
        ("HPHP::B", 40.0), ("HPHP::C", 16.67)]
    # relative: of the samples whose stacks hold B or C: 10 + 5 + 2 + 6 (not (A, main),
    # (A, A, main)); B's total 18 of 23, no share over 100% (issue 14, item 4)
    rel = t.view(kind=Kind.HPHP, relative=True)
    assert rel.denominator == 23
    assert [(round(r.self_pct, 2), round(r.total_pct, 2)) for r in rel.rows] == [
        (52.17, 78.26), (21.74, 21.74)]
    assert rel.filters == ("kind HPHP",)
    assert rel.summary == ("2 functions · kind HPHP · sorted by self · % of the samples "
                           "through the shown functions (relative)")
    # a kernel function alone: its stacks weigh 6, its total is all of them
    one = t.view(kind=Kind.KERNEL, relative=True)
    assert one.denominator == 6 and one.rows[0].total_pct == 100.0
    assert one.summary.startswith("1 function · ")
    assert t.view(kind=Kind.KERNEL, search="zzz", relative=True).denominator == 0


def test_search_substring_and_regex() -> None:
    t = HotTable(_hand())
    assert [r.frame.name for r in t.view(search="hphp::").rows] == ["HPHP::B", "HPHP::C"]
    assert [r.frame.name for r in t.view(search="^(main|sched)", regex=True).rows] == [
        "schedule", "main"]
    # smartcase: an upper-case letter makes the regex case-sensitive
    assert [r.frame.name for r in t.view(search="Main", regex=True).rows] == []
    assert [r.frame.name for r in t.view(search="B$", regex=True, sort="function").rows] == [
        "HPHP::B"]
    # relative to what the search keeps
    # relative to what the search keeps: every stack holds A, B or C, so all 30
    rel = t.view(search="::", relative=True)
    assert rel.denominator == 30 and round(rel.rows[0].self_pct, 2) == 40.0
    rel = t.view(search="sched", relative=True)
    assert rel.denominator == 6 and rel.filters == ("search 'sched'",)
    with pytest.raises(ValueError, match="bad regex"):
        compile_search("(", regex=True)
    assert compile_search("") is None
    assert t.view(limit=2).matched == 5 and len(t.view(limit=2).rows) == 2


# -- sandwich ---------------------------------------------------------------------------------


def test_sandwich_hand_computed_with_recursion() -> None:
    p = _hand()
    s = sandwich(p, _f(p, "PHP::A"))
    assert (s.self_weight, s.total_weight, s.root_weight) == (7, 28, 0)
    # (A, A, main) gives A a caller A and a caller main, each once
    assert [(n.frame.name, n.weight) for n in s.callers] == [("main", 28), ("PHP::A", 4)]
    assert [(n.frame.name, n.weight) for n in s.callees] == [
        ("HPHP::B", 16), ("HPHP::C", 5), ("PHP::A", 4)]
    assert round(s.callees[0].pct_of_function, 2) == 57.14
    assert round(s.callees[0].pct_of_all, 2) == 53.33
    m = sandwich(p, _f(p, "main"))
    assert (m.self_weight, m.total_weight, m.root_weight) == (0, 30, 30)
    assert m.callers == [] and [(n.frame.name, n.weight) for n in m.callees] == [
        ("PHP::A", 28), ("HPHP::B", 2)]
    absent = sandwich(p, Frame("nope", Kind.JIT, "[JIT]"))
    assert absent.total_weight == 0 and absent.callers == [] == absent.callees


# -- call trees -------------------------------------------------------------------------------


def _labels(tree: CallTree, node: object = None, depth: int = 9) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []

    def walk(n, d):  # type: ignore[no-untyped-def]
        for c in tree.children(n):
            f = tree.frame(c)
            assert f is not None
            out.append((d, f.name, c.weight, c.self_weight))
            if d + 1 < depth:
                walk(c, d + 1)

    walk(node or tree.root, 0)
    return out


def test_top_down_tree_hand_computed() -> None:
    t = CallTree(_hand())
    assert t.root.weight == 30
    assert _labels(t) == [
        (0, "main", 30, 0),
        (1, "PHP::A", 28, 3),
        (2, "HPHP::B", 16, 10),
        (3, "schedule", 6, 6),
        (2, "HPHP::C", 5, 5),
        (2, "PHP::A", 4, 4),
        (1, "HPHP::B", 2, 2),
    ]
    # B (self 10) stops the path: its heaviest child (schedule, 6) weighs less
    assert [t.frame(n).name for n in t.hottest_path()] == [  # type: ignore[union-attr]
        "main", "PHP::A", "HPHP::B"]
    a = t.children(t.children(t.root)[0])[0]
    assert [t.frame(n).name for n in t.hottest_path(a)] == ["HPHP::B"]  # type: ignore[union-attr]


def test_bottom_up_tree_hand_computed() -> None:
    t = CallTree(_hand(), inverted=True)
    assert _labels(t, depth=2) == [
        (0, "HPHP::B", 12, 0),
        (1, "PHP::A", 10, 0),
        (1, "main", 2, 2),
        (0, "PHP::A", 7, 0),
        (1, "PHP::A", 4, 0),
        (1, "main", 3, 3),
        (0, "schedule", 6, 0),
        (1, "HPHP::B", 6, 0),
        (0, "HPHP::C", 5, 0),
        (1, "PHP::A", 5, 0),
    ]
    # roots of the inverted tree are the self weights
    assert {t.frame(n).name: n.weight for n in t.children(t.root)} == {  # type: ignore[union-attr]
        f.frame.name: f.self_weight for f in HotTable(t.profile).view().rows if f.self_weight}
    path = [_f(t.profile, "HPHP::B"), _f(t.profile, "PHP::A"), _f(t.profile, "main")]
    assert [n.weight for n in t.find(path)] == [12, 10, 10]


# -- flame graph ------------------------------------------------------------------------------


def test_flame_tree_and_layout_hand_computed() -> None:
    p = _hand()
    ft = FlameTree(p)
    lay = flame_layout(ft, 0, 30)
    got = [(b.depth, b.x, b.width, b.label) for b in lay.boxes]
    assert got == [
        (0, 0, 30, "all"),
        (1, 0, 30, "main"),
        (2, 0, 28, "PHP::A"),
        (3, 0, 16, "HPHP::B"),
        (4, 0, 6, "sched…"),
        (3, 16, 5, "HPHP…"),
        (3, 21, 4, "PHP…"),
        (2, 28, 2, "H…"),
    ]
    narrow = flame_layout(ft, 0, 10)
    # weight < 30/10 = 3 is under a cell: main>B (2) goes
    assert [(b.depth, b.x, b.width, b.label) for b in narrow.boxes] == [
        (0, 0, 10, "all"), (1, 0, 10, "main"), (2, 0, 9, "PHP::A"), (3, 0, 5, "HPHP…"),
        (4, 0, 2, "s…"), (3, 5, 2, "H…"), (3, 7, 1, "P")]
    # zoom on main>A>B: it fills the width, its child keeps its share
    node_b = ft.find([_f(p, "main"), _f(p, "PHP::A"), _f(p, "HPHP::B")])
    zoom = flame_layout(ft, node_b, 16)
    assert [(b.depth, b.x, b.width, b.label, b.kind) for b in zoom.boxes] == [
        (0, 0, 16, "HPHP::B", Kind.HPHP), (1, 0, 6, "sched…", Kind.KERNEL)]
    assert [ft.name(n) for n in ft.path(node_b)] == ["all", "main", "PHP::A", "HPHP::B"]
    assert ft.find(ft.frames_of(node_b)) == node_b
    assert lay.rows[3] == sorted(lay.rows[3], key=lambda b: b.x)


def test_clip() -> None:
    assert clip("abcdef", 6) == "abcdef" and clip("abcdef", 4) == "abc…"
    assert clip("abc", 1) == "a" and clip("abc", 0) == ""


# -- consistency on random profiles -----------------------------------------------------------


def _random_profile(seed: int, nstacks: int = 300, nframes: int = 25) -> Profile:
    rnd = random.Random(seed)
    b = ProfileBuilder("cycles")
    kinds = list(Kind)
    ids = [b.frame(f"f{i}", kinds[i % len(kinds)], f"/lib{i % 3}.so") for i in range(nframes)]
    t = b.thread(7, "x")
    for _ in range(nstacks):
        depth = rnd.randint(1, 8)
        b.add(tuple(rnd.choice(ids) for _ in range(depth)), t, rnd.randint(1, 1000))
    p = b.finish()
    p.verify()
    return p


def _walk(tree: CallTree) -> int:
    """Check every node: weight = self + children; return the nodes seen."""
    seen = 0
    todo = [tree.root]
    while todo:
        n = todo.pop()
        seen += 1
        kids = tree.children(n)
        assert n.weight == n.self_weight + sum(c.weight for c in kids)
        assert [c.weight for c in kids] == sorted((c.weight for c in kids), reverse=True)
        todo.extend(kids)
    return seen


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_views_agree_with_profile(seed: int) -> None:
    p = _random_profile(seed)
    stats = {p.frames[s.frame_id]: s for s in p.function_stats()}
    rows = HotTable(p).view(sort="total").rows
    assert {r.frame: (r.self_weight, r.total_weight) for r in rows} == {
        f: (s.self_weight, s.total_weight) for f, s in stats.items()}
    assert sum(r.self_weight for r in rows) == p.weight
    assert sum(s.weight for s in HotTable(p).kind_shares()[1:]) == p.weight

    td = CallTree(p)
    bu = CallTree(p, inverted=True)
    assert td.root.weight == bu.root.weight == p.weight
    _walk(td)
    _walk(bu)
    # bottom-up roots = self weights; top-down leaves add up to the same
    assert {bu.frame(n): n.weight for n in bu.children(bu.root)} == {
        f: s.self_weight for f, s in stats.items() if s.self_weight}

    ft = FlameTree(p)
    assert ft.weight(0) == p.weight
    todo = [0]
    while todo:  # every node, made on the way
        n = todo.pop()
        kids = ft.children(n)
        assert ft.weight(n) == ft.self_weight(n) + sum(ft.weight(c) for c in kids)
        todo.extend(kids)
    # the same tree as the top-down call tree
    def shape(t: CallTree, node: object) -> list[object]:
        return [(t.frame(c), c.weight, c.self_weight, shape(t, c))  # type: ignore[arg-type]
                for c in t.children(node)]  # type: ignore[arg-type]

    def fshape(n: int) -> list[object]:
        return [(ft.frame(c), ft.weight(c), ft.self_weight(c), fshape(c))
                for c in ft.children(n)]

    assert shape(td, td.root) == fshape(0)
    for width in (7, 80, 333):
        lay = flame_layout(ft, 0, width)
        for row in lay.rows:
            for a, b2 in zip(row, row[1:], strict=False):
                assert a.x + a.width <= b2.x  # no overlap
            for b2 in row:
                assert 0 <= b2.x and b2.x + b2.width <= width and len(b2.label) <= b2.width
                if b2.depth:  # inside its parent
                    par = lay.by_node[ft.parent(b2.node)]
                    assert par.x <= b2.x and b2.x + b2.width <= par.x + par.width

    for f, s in stats.items():
        sw = sandwich(p, f)
        assert (sw.self_weight, sw.total_weight) == (s.self_weight, s.total_weight)
        # a neighbour's weight never exceeds the function's total (once per stack)
        assert all(n.weight <= sw.total_weight for n in sw.callers + sw.callees)


def test_non_recursive_sandwich_adds_up() -> None:
    rnd = random.Random(5)
    b = ProfileBuilder("e")
    ids = [b.frame(f"g{i}", Kind.NATIVE, "/x") for i in range(30)]
    t = b.thread(1, "x")
    for _ in range(200):
        b.add(tuple(rnd.sample(ids, rnd.randint(1, 6))), t, rnd.randint(1, 9))  # no repeats
    p = b.finish()
    for fr in p.frames:
        s = sandwich(p, fr)
        assert sum(n.weight for n in s.callers) == s.total_weight - s.root_weight
        assert sum(n.weight for n in s.callees) == s.total_weight - s.self_weight


def test_status_has_the_report_header_numbers(tmp_path: Path) -> None:
    from jitprof.present.header import header_lines, status
    from jitprof.resolve import load_profile

    slow = Path(__file__).resolve().parent.parent / "samples" / "hhvm-demo" / "slow"
    p = load_profile([str(slow / "perf.script.gz")], search_tmp=False)
    st = status(p)
    head = "\n".join(header_lines(p))
    assert st.parts[:3] == ["cpu-clock", "2,002 samples", "945.160-947.673 s (2.513 s)"]
    for piece in ("samples: 2,002", "945.160-947.673 s (2.513 s)", "100.0% named"):
        assert piece in head
    assert st.parts[3] == "JIT 100.0% named" and st.parts[4] == "perf.script.gz"
    assert st.maps == ["map perf-14089.map: 8 lines, 3 overlapping"]
    assert "perf-14089.map: 8 lines, 0 bad, 3 overlapping, 0 zero-size" in head
    assert st.warnings == []
    # a missing map is a warning the status bar shows (no map beside a copy of the text)
    alone = tmp_path / "perf.script.gz"
    alone.write_bytes((slow / "perf.script.gz").read_bytes())
    st = status(load_profile([str(alone)], search_tmp=False))
    assert st.maps == ["no perf map used"]
    assert len(st.warnings) >= 1 and st.warnings[0].startswith("no perf map for pid 14089")


def test_breadcrumb_keeps_the_end() -> None:
    from jitprof.present.views import breadcrumb

    names = ["all", "main", "HPHP::runRequestLoop", "PHP::respond", "HPHP::f_sort"]
    full = "all › main › HPHP::runRequestLoop › PHP::respond › HPHP::f_sort"
    assert breadcrumb(names, len(full)) == full
    # "all" (3 cells) gives way to "…" (1)
    assert breadcrumb(names, len(full) - 1) == "… › " + full[len("all › "):]
    tail = "… › PHP::respond › HPHP::f_sort"
    assert breadcrumb(names, len(tail)) == tail
    assert breadcrumb(names, len(tail) - 1) == "… › HPHP::f_sort"
    assert breadcrumb(names, 16) == "… › HPHP::f_sort"
    assert breadcrumb(names, 10) == "HPHP::f_s…"
    assert all(len(breadcrumb(names, w)) <= w for w in range(1, 80))
