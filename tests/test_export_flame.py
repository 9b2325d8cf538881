"""Flame graphs written as files (jitprof/export/flame.py, svg.py, diffsvg.py, html.py),
checked as data without a browser: names that need escaping, narrow frames merged, kind
colours, the differential flame's colours against hand-computed comparisons, and the CLI.
(The browser tests are tests/test_flame_browser.py; every profile exporter's numbers are
also checked by tests/test_export.py's shared test.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from jitprof.analysis.diff import diff_profiles
from jitprof.commands import main
from jitprof.export import ExportOptions, exporter_named
from jitprof.export import flame as fl
from jitprof.export.diffsvg import DiffSvgExporter, diff_flame
from jitprof.export.html import DiffHtmlExporter, HtmlExporter
from jitprof.export.svg import SvgExporter
from jitprof.model import Kind, Profile, ProfileBuilder
from jitprof.present.diffviews import PALETTE, DiffViews
from tests import flamecheck as fc
from tests.conftest import SAMPLES

SLOW = SAMPLES / "hhvm-demo" / "slow" / "perf.script.gz"
FAST = SAMPLES / "hhvm-demo" / "fast" / "perf.script.gz"

NASTY = [
    ("std::vector<std::pair<int, char const*> >::operator[]", Kind.NATIVE),
    ('"HHVM::pcre_jit::<lambda(int)>"', Kind.HHVM),
    ("a&b'c\"d&amp;", Kind.PHP),
    ("x]]>y</script><!--z", Kind.JIT),
    ("bad\udcffbyte", Kind.NATIVE),
    ("ctl\x01\x1bchar\x7f", Kind.UNKNOWN),
    ("tab\there\r\nnext", Kind.KERNEL),
]


def nasty_profile() -> Profile:
    b = ProfileBuilder("cpu-clock")
    main_ = b.frame("main", Kind.NATIVE, "/bin/<app>&")
    t = b.thread(1, "a<b>")
    for i, (name, kind) in enumerate(NASTY):
        f = b.frame(name, kind, "[JIT]" if kind in (Kind.PHP, Kind.JIT, Kind.HHVM) else "/l.so")
        b.add((f, main_), t, 1000 * (i + 1), i + 1)
    p = b.finish()
    p.diagnostics.has_period = True
    p.inputs = ["in<&>.txt"]
    p.diagnostics.warnings = ["map <x> & 'y' stale"]
    p.verify()
    return p


def test_names_are_escaped_in_svg() -> None:
    p = nasty_profile()
    text = SvgExporter().render(p).decode("utf-8")
    root = fc.parse_svg(text)  # well-formed: every special escaped, no bad character left
    frames = fc.frames_of(root)
    got = sorted(f.name for f in frames if f.d == 2)
    want = sorted(fl.clean(n) for n, _k in NASTY)
    assert got == want
    assert "bad\ufffdbyte" in got and "ctl\ufffd\ufffdchar\ufffd" in got
    assert "tab here  next" in got
    for f in frames:
        if f.label:  # the label is the name's start, cut with "…"
            assert f.name.startswith(f.label.rstrip("…"))
    assert text.count("]]>") == 1  # only the script's CDATA end
    assert 'WARNING: map <x> & \'y\' stale' in "".join(root.itertext())
    assert "in<&>.txt" in "".join(root.itertext())


def test_names_are_escaped_in_html() -> None:
    p = nasty_profile()
    text = HtmlExporter().render(p).decode("utf-8")
    assert text.count("</script>") == 2  # the data and the code, nothing a name closed
    assert text.count("<script") == 2
    data = fc.page_data(text)
    names = sorted(v[0] for v in data["functions"].values())
    assert names == sorted([fl.clean(n) for n, _k in NASTY] + ["main"])
    fc.frames_of(fc.page_svg(text))  # the inline SVG is well-formed XML too
    assert "<h1>jitprof: in&lt;&amp;&gt;.txt</h1>" in text
    assert "WARNING: map &lt;x&gt; &amp; &#39;y&#39; stale" in text


def test_script_json_cannot_end_its_script() -> None:
    s = fl.script_json({"a": "</script><!-- ]]> & \udcff"})
    assert "</" not in s and "]]>" not in s and "&" not in s
    assert json.loads(s) == {"a": "</script><!-- ]]> & \ufffd"}


def wide_and_narrow() -> Profile:
    """main -> heavy (1,000,000) and 2,000 light siblings (50 each, two frames deep):
    at 1200 px each light one is 0.055 px, together 109 px."""
    b = ProfileBuilder("cpu-clock")
    t = b.thread(1, "x")
    m = b.frame("main", Kind.NATIVE, "/x")
    heavy = b.frame("heavy", Kind.NATIVE, "/x")
    b.add((heavy, m), t, 1_000_000, 10)
    for i in range(2000):
        f = b.frame(f"light{i:04d}", Kind.JIT, "[JIT]")
        g = b.frame(f"under{i:04d}", Kind.JIT, "[JIT]")
        b.add((g, f, m), t, 50, 1)
    p = b.finish()
    p.diagnostics.has_period = True
    return p


def test_narrow_frames_are_merged() -> None:
    p = wide_and_narrow()
    text = SvgExporter().render(p).decode("utf-8")
    root = fc.parse_svg(text)
    frames = fc.frames_of(root)
    fc.check_geometry(frames, p.weight)
    assert [(f.name, f.w, f.merged) for f in frames] == [
        ("all", 1_100_000, 0), ("main", 1_100_000, 0), ("heavy", 1_000_000, 0),
        ("[2,000 narrow frames]", 100_000, 2000)]
    merged = frames[-1]
    assert merged.x == 1_000_000 and abs(merged.rect_w - 1200 / 11) < 0.01
    assert merged.fill == fl.MERGED_FILL
    assert "9.09% in all, are not searched" in root.get("data-note", "")
    # all drawn at minwidth 0; none of the light ones (nor the merged box) at 120 px
    every = fc.frames_of(fc.parse_svg(SvgExporter(ExportOptions(minwidth=0)).render(p).decode()))
    assert len(every) == 3 + 2 * 2000 and not any(f.merged for f in every)
    coarse = fc.frames_of(fc.parse_svg(
        SvgExporter(ExportOptions(minwidth=120)).render(p).decode()))
    assert [f.name for f in coarse] == ["all", "main", "heavy"]


def test_layout_costs_what_is_drawn() -> None:
    """A flame tree makes nodes only for the children of drawn boxes."""
    from jitprof.export.svg import flame_tree

    p = wide_and_narrow()
    tree = flame_tree(p, True)
    lay = fl.layout(tree, 1200, 0.1)
    assert len(lay.boxes) == 4
    assert len(tree) == 1 + 1 + 2001  # root, main, main's children; nothing under light*


def test_kind_colours_cover_every_kind_and_new_ones() -> None:
    fills = {k: fl.kind_colour(k) for k in Kind}
    assert len(set(fills.values())) == len(fills)  # each kind its own colour
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in fills.values())
    # the kinds being added (Java, JVM) have their colour waiting; any other gets one
    assert {"Java", "JVM"} <= set(fl._HUES) and {k.value for k in Kind} <= set(fl._HUES)
    other = SimpleNamespace(value="Python")
    h, s = fl.kind_hue(other)  # type: ignore[arg-type]
    assert (h, s) == fl.kind_hue(other) and 0 <= h < 360 and s == 0.5  # type: ignore[arg-type]
    for k in Kind:  # a frame's shade stays in its kind's hue and is stable
        a, b = fl.frame_fill(k, "f"), fl.frame_fill(k, "g")
        assert a == fl.frame_fill(k, "f") and re.fullmatch(r"#[0-9a-f]{6}", b)
        assert fl.text_colour(a) in ("#000000", "#ffffff")


def legend_of(root: Any) -> list[str]:
    g = next(g for g in root.iter(f"{fc.SVG}g") if g.get("class") == "legend")
    return [t.text or "" for t in g.iter(f"{fc.SVG}text")]


def test_legend_and_title_facts_of_the_demo() -> None:
    from jitprof.resolve import load_profile

    p = load_profile([str(SLOW)], search_tmp=False)
    root = fc.parse_svg(SvgExporter().render(p).decode())
    texts = [t.text or "" for t in root.iter(f"{fc.SVG}text")]
    assert any("samples: 2,002" in t and "cpu-clock" in t and "(2.513 s)" in t for t in texts)
    assert any("JIT frames 4,635/4,637 named" in t for t in texts)
    assert any(t.startswith("map ") and "perf-14089.map: 8 lines" in t for t in texts)
    legend = legend_of(root)
    # the report's kinds (self): PHP 15.3%  HPHP 82.8%  HHVM 0.9%  native 0.4%  kernel 0.5%
    assert legend == ["PHP 15.3%", "HPHP 82.8%", "HHVM 0.9%", "native 0.4%", "kernel 0.5%"]


# -- the differential flame -----------------------------------------------------------------
def side(counts: dict[str, int]) -> Profile:
    """main -> NAME with COUNT samples each (weight 1 per sample)."""
    b = ProfileBuilder("cpu-clock")
    t = b.thread(1, "x")
    m = b.frame("main", Kind.NATIVE, "/x")
    for name, n in counts.items():
        b.add((b.frame(name, Kind.PHP, "[JIT]"), m), t, n, n)
    p = b.finish()
    p.time_first, p.time_last = 0.0, 1.0
    return p


def diff_svg(before: Profile, after: Profile, shape: str = "after") -> tuple[Any, list[Any]]:
    r = diff_profiles([before], [after], by="total", method="binomial")
    views = DiffViews(r, [before], [after])
    text = DiffSvgExporter(shape=shape).render(views, r).decode("utf-8")
    root = fc.parse_svg(text)
    return root, fc.frames_of(root)


def test_diff_svg_colours_by_hand() -> None:
    """before: a 600, b 400; after: a 200, b 400, c 400 (new). Shares: a 60% -> 20%
    (shrank, significant), b 40% -> 40% (unchanged), c 0% -> 40% (new, grew)."""
    before, after = side({"a": 600, "b": 400}), side({"a": 200, "b": 400, "c": 400})
    root, frames = diff_svg(before, after)
    fc.check_geometry(frames, 1000)
    by = {f.name: f for f in frames}
    assert set(by) == {"all", "main", "a", "b", "c"}
    assert by["c"].label == "+c" and by["a"].label == "a"  # new frames marked, not by colour
    assert (by["a"].w, by["b"].w, by["c"].w) == (200, 400, 400)  # sized by after
    assert by["a"].level == -4 and by["a"].fill in PALETTE[-4][:2]
    assert by["c"].level == 4 and by["c"].fill in PALETTE[4][:2]
    for name in ("b", "main", "all"):
        assert by[name].level == 0 and by[name].fill in PALETTE[0][:2]
    a = by["a"].title
    assert "before 60.00% (600 samples) → after 20.00% (200 samples), Δ -40.00 pts" in a[2]
    assert "q <1e-4: ▼ down" in a[3] and "[" in a[3]
    assert "new: no samples before" in by["c"].title[1]
    # before-shape: c is not there, a is 60% wide
    _root, bframes = diff_svg(before, after, "before")
    bb = {f.name: f for f in bframes}
    assert "c" not in bb and bb["a"].w == 600 and bb["a"].level == -4
    assert "sized by BEFORE" in "".join(_root.itertext())


def test_diff_svg_strong_colour_only_where_significant() -> None:
    """Few samples: a 3 -> 1, b 2 -> 4 is a big change of share but no clear one; the
    frames are at most pale."""
    before, after = side({"a": 3, "b": 2}), side({"a": 1, "b": 4})
    r = diff_profiles([before], [after], by="total", method="binomial")
    assert {f.name: f.cmp.verdict for f in r.functions} == {
        "main": "no clear change", "a": "no clear change", "b": "no clear change"}
    views = DiffViews(r, [before], [after])
    df = diff_flame(views, ExportOptions(), "after", r)
    raw = {df.tree.name(b.node): df.tree.level(b.node) for b in df.layout.boxes}
    assert raw["a"] <= -2 and raw["b"] >= 2  # what the change alone would draw
    _root, frames = diff_svg(before, after)
    levels = {f.name: f.level for f in frames}
    assert levels == {"all": 0, "main": 0, "a": -1, "b": 1}


def test_diff_flame_needs_a_total_comparison() -> None:
    before, after = side({"a": 600, "b": 400}), side({"a": 200, "b": 400})
    r = diff_profiles([before], [after], by="self", method="binomial")
    with pytest.raises(ValueError, match="total"):
        diff_flame(DiffViews(r, [before], [after]), ExportOptions())


def test_diff_html_by_hand() -> None:
    before, after = side({"a": 600, "b": 400}), side({"a": 200, "b": 400, "c": 400})
    r = diff_profiles([before], [after], by="self", method="binomial")
    rt = diff_profiles([before], [after], by="total", method="binomial")
    text = DiffHtmlExporter().render(DiffViews(r, [before], [after]), rt).decode("utf-8")
    data = fc.page_data(text)
    rows = {row[0]: row for row in data["rows"]}
    assert [row[0] for row in data["rows"]] == [f.name for f in r.functions]
    assert rows["a"][4:7] == [60.0, 20.0, -40.0] and rows["a"][9][6] == "▼ down"
    assert rows["c"][3] == "new" and rows["c"][9][6] == "▲ up, new"
    assert data["lines"][0][0].startswith(r.functions[0].name)
    assert "compare self time" in text
    frames = fc.frames_of(fc.page_svg(text))
    assert {f.name for f in frames} == {"all", "main", "a", "b", "c"}
    # callers/callees before and after: as the diff TUI's (DiffStacks.neighbours)
    views = DiffViews(r, [before], [after])
    for i, f in enumerate(r.functions):
        fid = views.stacks.frame_id(f)
        assert fid is not None
        callers, callees = views.stacks.neighbours(fid)
        up, up_more, down, down_more = data["neighbours"][str(i)]
        for got, want in ((up, callers), (down, callees)):
            assert [(data["names"][str(n[0])], n[1], n[2]) for n in got] == [
                (w.frame.name, f"{100 * w.before / 1000:.2f}%", f"{100 * w.after / 1000:.2f}%")
                for w in want]
        assert up_more == down_more == 0
    main_row = next(i for i, f in enumerate(r.functions) if f.name == "main")
    assert [data["names"][str(n[0])] for n in data["neighbours"][str(main_row)][2]] == [
        "a", "b", "c"]


# -- the commands ---------------------------------------------------------------------------
def run(*args: str) -> Any:
    r = CliRunner().invoke(main, [*args], catch_exceptions=False)
    return r


def test_cli_export_svg_and_html(tmp_path: Path) -> None:
    for name in ("p.svg", "p.html"):
        out = tmp_path / name
        r = run("export", str(SLOW), "-o", str(out), "--no-tmp")
        assert r.exit_code == 0, r.output
        text = out.read_text(encoding="utf-8")
        root = fc.page_svg(text) if name.endswith(".html") else fc.parse_svg(text)
        frames = fc.frames_of(root)
        assert frames[0].name == "all" and frames[0].n == 2002
    r = run("export", str(SLOW), "-o", "-", "--format", "svg", "--icicle", "--minwidth",
            "5", "--no-tmp")
    assert r.exit_code == 0
    frames = fc.frames_of(fc.parse_svg(r.output))
    assert frames[0].rect_y == min(f.rect_y for f in frames)
    assert min(f.rect_w for f in frames if not f.merged) >= 5 - 0.01


def test_cli_diff_svg_and_html(tmp_path: Path) -> None:
    out = tmp_path / "d.svg"
    r = run("diff", str(SLOW), str(FAST), "-o", str(out), "--no-tmp", "--method", "binomial")
    assert r.exit_code == 0, r.output
    frames = fc.frames_of(fc.parse_svg(out.read_text(encoding="utf-8")))
    fc.check_geometry(frames, 1635)  # sized by after: its samples
    sort = [f for f in frames if f.name == "HPHP::f_sort"]
    assert sort and all(f.level is not None and f.level <= -2 for f in sort)
    r = run("diff", str(SLOW), str(FAST), "-o", "-", "--format", "svg", "--before-shape",
            "--no-tmp", "--method", "binomial")
    assert r.exit_code == 0
    frames = fc.frames_of(fc.parse_svg(r.output))
    assert frames[0].w == 2002
    out = tmp_path / "d.html"
    r = run("diff", str(SLOW), str(FAST), "-o", str(out), "--no-tmp", "--method", "binomial")
    assert r.exit_code == 0, r.output
    data = fc.page_data(out.read_text(encoding="utf-8"))
    assert data["rows"][0][0] == "HPHP::f_sort" and data["rows"][0][9][6] == "▼ down"


def test_every_kind_draws(tmp_path: Path) -> None:
    """One frame of each kind: each drawn in its own colour family, legend lists all."""
    b = ProfileBuilder("cpu-clock")
    t = b.thread(1, "x")
    for i, k in enumerate(Kind):
        b.add((b.frame(f"f{i}", k, "/x"),), t, 10, 1)
    p = b.finish()
    root = fc.parse_svg(exporter_named("svg")().render(p).decode())
    frames = fc.frames_of(root)
    assert {f.name: f.fill for f in frames[1:]} == {
        f"f{i}": fl.frame_fill(k, f"f{i}") for i, k in enumerate(Kind)}
    assert [x.split()[0] for x in legend_of(root)] == [k.value for k in Kind]
