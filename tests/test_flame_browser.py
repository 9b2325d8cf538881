"""The flame graphs and report pages of the committed demo recordings in a real browser
(headless Chromium through selenium; gated like the perf tests: they skip only where
JITPROF_REQUIRE_PERF is unset). What is drawn is compared with ``jitprof report`` and
``jitprof diff`` on the same inputs: widths, the share a search reports, the colours of
the differential flame. Each test keeps a screenshot and prints where (the session that
changes the pictures looks at them; JITPROF_ARTIFACT_DIR=DIR keeps them in DIR)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.export.flame import MATCH_FILL
from jitprof.model import Kind
from jitprof.present.diffviews import PALETTE
from jitprof.present.views import sandwich
from jitprof.resolve import load_profile
from tests.browser import chromium, console_errors, open_file, screenshot
from tests.conftest import SAMPLES

SLOW = SAMPLES / "hhvm-demo" / "slow" / "perf.script.gz"
FAST = SAMPLES / "hhvm-demo" / "fast" / "perf.script.gz"

FRAMES_JS = """
var svg = arguments[0] ? document.getElementById(arguments[0]) : document;
return Array.from(document.querySelectorAll('g.f')).map(function (g) {
  var rect = g.querySelector('rect'), box = rect.getBoundingClientRect();
  return {name: g.querySelector('title').textContent.split('\\n')[0],
          title: g.querySelector('title').textContent,
          left: box.left, width: box.width, fill: rect.getAttribute('fill'),
          computed: getComputedStyle(rect).fill,
          shown: getComputedStyle(g).display !== 'none',
          level: g.getAttribute('data-l'), depth: +g.getAttribute('data-d'),
          merged: g.hasAttribute('data-m')};
});
"""


def cli(*args: str) -> str:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files under test, written by the commands a user runs, and the screenshots."""
    keep = os.environ.get("JITPROF_ARTIFACT_DIR")  # screenshots to keep past pytest's 3 runs
    d = Path(keep) / "flame-browser" if keep else tmp_path_factory.mktemp("flame-browser")
    d.mkdir(parents=True, exist_ok=True)
    cli("export", str(SLOW), "-o", str(d / "slow.svg"), "--no-tmp")
    cli("export", str(SLOW), "-o", str(d / "slow.html"), "--no-tmp")
    cli("diff", str(SLOW), str(FAST), "-o", str(d / "diff.svg"), "--no-tmp")
    cli("diff", str(SLOW), str(FAST), "-o", str(d / "diff.html"), "--no-tmp")
    print(f"flame graphs and screenshots in {d}")
    return d


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """``jitprof report`` of the slow recording (all rows) as JSON: the oracle."""
    doc: dict[str, Any] = json.loads(cli("report", str(SLOW), "--format", "json", "--top",
                                         "0", "--no-tmp"))
    return doc


@pytest.fixture(scope="module")
def report_fast() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(cli("report", str(FAST), "--format", "json", "--top",
                                         "0", "--no-tmp"))
    return doc


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def frames(driver: Any) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = driver.execute_script(FRAMES_JS, "")
    return got


def row(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in report["functions"] if f["name"] == name)


def union_width(boxes: list[dict[str, Any]]) -> float:
    """The width the boxes cover together (nested or overlapping ones once)."""
    spans = sorted((b["left"], b["left"] + b["width"]) for b in boxes if b["shown"])
    covered, end = 0.0, float("-inf")
    for a, b in spans:
        if a >= end:
            covered += b - a
        elif b > end:
            covered += b - end
        end = max(end, b)
    return covered


def check_sort_width(driver: Any, report: dict[str, Any]) -> dict[str, Any]:
    """HPHP::f_sort's frames together are its total share of the root's width."""
    fs = frames(driver)
    root = fs[0]
    assert root["name"] == "all" and root["width"] > 1000
    share = 100 * union_width([f for f in fs if f["name"] == "HPHP::f_sort"]) / root["width"]
    want = row(report, "HPHP::f_sort")["total_pct"]
    assert abs(share - want) <= 0.5 and abs(share / want - 1) <= 0.005, (share, want)
    return root


def php_facts(report: dict[str, Any]) -> tuple[float, float, float]:
    """What a search for ^PHP:: must report, from the report and the stacks:
    its self share is the report's PHP kind total (self time by the leaf's kind), because
    exactly the PHP-kind functions are named PHP::...; its total share counts each stack
    through a PHP frame once (computed here from the stacks), at least the largest PHP
    function's total."""
    names = {f["name"]: f["kind"] for f in report["functions"]}
    assert {n for n, k in names.items() if k == "PHP"} == {
        n for n in names if n.startswith("PHP::")}
    profile = load_profile([str(SLOW)], search_tmp=False)
    php = {i for i, f in enumerate(profile.frames) if f.kind is Kind.PHP}
    through = sum(w for st, w, _s, _t in profile.iter_stacks() if php & set(st))
    total = 100 * through / profile.weight
    biggest = max(f["total_pct"] for f in report["functions"] if f["kind"] == "PHP")
    assert total >= biggest
    return report["kinds"]["PHP"]["self_pct"], total, biggest


def matched(text: str) -> tuple[float, float, int]:
    m = re.search(r"atched ([\d.]+)% (?:of all )?\(self ([\d.]+)%, (\d+) frames\)", text)
    assert m is not None, text
    return float(m.group(1)), float(m.group(2)), int(m.group(3))


def test_profile_svg(browser: Any, out: Path, report: dict[str, Any]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_file(browser, out / "slow.svg")
    assert console_errors(browser) == []
    root = check_sort_width(browser, report)
    screenshot(browser, out / "slow-svg.png")

    # the status line says what the frame under the pointer is
    rects = browser.find_elements(By.CSS_SELECTOR, "g.f rect")
    fs = frames(browser)
    sort_i = max((i for i, f in enumerate(fs) if f["name"] == "HPHP::f_sort"),
                 key=lambda i: fs[i]["width"])
    ActionChains(browser).move_to_element(rects[sort_i]).perform()
    status = browser.find_element(By.ID, "jpflame-status").text
    sort_row = row(report, "HPHP::f_sort")
    assert status.startswith("HPHP::f_sort · HPHP · ")
    assert f"total {sort_row['total_pct']:.2f}%" in status  # the function's, all paths

    # a click zooms the frame to the root's full width; the rest of the graph goes
    rects[sort_i].click()
    fs = frames(browser)
    assert abs(fs[sort_i]["width"] - root["width"]) <= 1.0
    assert abs(fs[sort_i]["left"] - root["left"]) <= 1.0
    shown = {f["name"] for f in fs if f["shown"]}
    assert "PHP::Api_View::render" not in shown and "PHP::Api_Handler::respond" in shown
    assert browser.find_element(By.ID, "jpflame-reset").is_displayed()
    screenshot(browser, out / "slow-svg-zoomed.png")
    browser.find_element(By.ID, "jpflame-reset").click()
    assert abs(frames(browser)[sort_i]["width"] - fs[sort_i]["width"] * (
        sort_row["total_pct"] / 100)) <= 2.0

    # search through the button (a prompt), as a user does
    browser.find_element(By.ID, "jpflame-search").click()
    alert = browser.switch_to.alert
    alert.send_keys("^PHP::")
    alert.accept()
    fs = frames(browser)
    lit = {f["name"] for f in fs if f["fill"] == MATCH_FILL}
    assert lit == {f["name"] for f in fs if f["name"].startswith("PHP::")} and lit
    total, self_, n = matched(browser.find_element(By.ID, "jpflame-matched").text)
    want_self, want_total, _biggest = php_facts(report)
    assert abs(self_ - want_self) <= 0.006, (self_, want_self)
    assert abs(total - want_total) <= 0.006, (total, want_total)
    assert n == sum(1 for f in fs if f["fill"] == MATCH_FILL)
    assert console_errors(browser) == []
    screenshot(browser, out / "slow-svg-search.png")


def test_profile_html(browser: Any, out: Path, report: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    open_file(browser, out / "slow.html")
    assert console_errors(browser) == []
    check_sort_width(browser, report)
    table = browser.find_element(By.ID, "hot-table")
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == len(report["functions"])
    first = rows[0].find_elements(By.TAG_NAME, "td")
    top = report["functions"][0]  # the report's order: by self
    assert [first[0].text, first[1].text, first[4].text] == [
        f"{top['self_pct']:.2f}%", f"{top['total_pct']:.2f}%", top["name"]]
    # sort by total, then the other way
    browser.find_element(By.XPATH, "//table[@id='hot-table']//th[text()='Total']").click()
    cells = browser.find_elements(By.CSS_SELECTOR, "#hot-table tbody tr td:nth-child(2)")
    totals = [float(c.text.rstrip("%")) for c in cells]
    assert totals == sorted(totals, reverse=True)
    assert totals[0] == round(max(f["total_pct"] for f in report["functions"]), 2)
    browser.find_element(By.XPATH, "//table[@id='hot-table']//th[text()='Total']").click()
    cells = browser.find_elements(By.CSS_SELECTOR, "#hot-table tbody tr td:nth-child(2)")
    assert [float(c.text.rstrip("%")) for c in cells] == sorted(totals)
    # search the table, pick the row: callers and callees as the TUI's (views.sandwich)
    browser.find_element(By.ID, "table-search").send_keys("f_sort")
    rows = browser.find_elements(By.CSS_SELECTOR, "#hot-table tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[4].text for r in rows] == ["HPHP::f_sort"]
    rows[0].click()
    assert browser.find_element(By.ID, "detail-name").text == "HPHP::f_sort"
    profile = load_profile([str(SLOW)], search_tmp=False)
    frame = next(f for f in profile.frames if f.name == "HPHP::f_sort")
    sw = sandwich(profile, frame)
    for which, want in (("callers", sw.callers), ("callees", sw.callees)):
        got = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in
               browser.find_elements(By.CSS_SELECTOR, f"#detail-{which} tbody tr")]
        assert got == [[f"{n.pct_of_function:.2f}%", f"{n.pct_of_all:.2f}%", f"{n.samples:,}",
                        n.frame.name] for n in want]
    assert sw.callers  # f_sort has callers to show
    # the row's function is highlighted in the flame graph, with its total share
    total, _self, _n = matched(browser.find_element(By.ID, "flame-matched").text)
    assert abs(total - row(report, "HPHP::f_sort")["total_pct"]) <= 0.006
    screenshot(browser, out / "slow-html.png")
    # a click on a frame shows its function
    fs = frames(browser)
    i = next(i for i, f in enumerate(fs) if f["name"] == "PHP::Api_View::render")
    browser.find_elements(By.CSS_SELECTOR, "g.f rect")[i].click()
    assert browser.find_element(By.ID, "detail-name").text == "PHP::Api_View::render"
    # the page's search box searches the flame graph
    box = browser.find_element(By.ID, "flame-search")
    box.clear()
    box.send_keys("^PHP::")
    total, self_, _n = matched(browser.find_element(By.ID, "flame-matched").text)
    want_self, want_total, _biggest = php_facts(report)
    assert abs(self_ - want_self) <= 0.006 and abs(total - want_total) <= 0.006
    assert console_errors(browser) == []
    screenshot(browser, out / "slow-html-render.png")


@pytest.fixture(scope="module")
def diff_total() -> dict[str, Any]:
    """``jitprof diff --by total`` of the demo recordings: the verdicts the colours obey."""
    doc: dict[str, Any] = json.loads(cli("diff", str(SLOW), str(FAST), "--by", "total",
                                         "--format", "json", "--top", "0", "--no-tmp"))
    return doc


def rgb(css: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", css)
    assert m is not None, css
    r, g, b = (int(x) for x in m.groups())
    return r, g, b


def test_diff_svg(browser: Any, out: Path, report: dict[str, Any],
                  report_fast: dict[str, Any], diff_total: dict[str, Any]) -> None:
    open_file(browser, out / "diff.svg")
    assert console_errors(browser) == []
    fs = frames(browser)
    strong = {lv: {PALETTE[lv][0], PALETTE[lv][1]} for lv in PALETTE}
    # HPHP::f_sort shrank: from the two reports, and the diff calls it down
    before, after = (row(r, "HPHP::f_sort")["total_pct"] for r in (report, report_fast))
    assert after < before - 40
    verdicts = {f["name"]: f["verdict"] for f in diff_total["functions"]}
    assert verdicts["HPHP::f_sort"] == "down"
    sort = [f for f in fs if f["name"] == "HPHP::f_sort"]
    assert sort
    for f in sort:
        r, g, b = rgb(f["computed"])
        assert b > r + 60 and b > g  # blue
        assert int(f["level"]) <= -2 and f["fill"] in strong[int(f["level"])]
    # frames whose totals did not move (the reports say so) are neutral grey
    for name in ("main", "__libc_start_call_main", "HPHP::runRequestLoop"):
        assert abs(row(report, name)["total_pct"] - row(report_fast, name)["total_pct"]) < 0.5
        for f in (f for f in fs if f["name"] == name):
            r, g, b = rgb(f["computed"])
            assert r == g == b and f["level"] == "0", (name, f)
    # nothing the diff found no clear change in is drawn in a strong colour
    quiet = {n for n, v in verdicts.items() if v == "no clear change"}
    for f in fs:
        if f["name"] in quiet:
            assert int(f["level"]) in (-1, 0, 1), f
    assert any(f["name"] in quiet for f in fs)
    screenshot(browser, out / "diff-svg.png")


def test_diff_html(browser: Any, out: Path, diff_total: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    self_diff: dict[str, Any] = json.loads(cli("diff", str(SLOW), str(FAST), "--format",
                                               "json", "--top", "0", "--no-tmp"))
    open_file(browser, out / "diff.html")
    assert console_errors(browser) == []
    rows = browser.find_elements(By.CSS_SELECTOR, "#changes-table tbody tr")
    assert len(rows) == len(self_diff["functions"])
    names = [r.find_elements(By.TAG_NAME, "td")[8].text for r in rows]
    want = [("" if f["status"] == "both" else f"[{f['status']}] ") + f["name"]
            for f in self_diff["functions"]]
    assert names == want  # the diff's order: largest |delta| first
    first = [td.text for td in rows[0].find_elements(By.TAG_NAME, "td")]
    top = self_diff["functions"][0]
    assert first[0] == f"{top['before']['value']:.2f}%" and first[6] == "▼ down"
    rows[0].click()
    assert browser.find_element(By.ID, "detail-name").text == "HPHP::f_sort"
    detail = browser.find_element(By.CSS_SELECTOR, "#detail-body pre").text
    assert "q <1e-4" in detail and "▼ down" in detail
    # its callers and callees before and after, as the diff TUI counts them
    from jitprof.present.diffviews import DiffStacks

    pb, pa = ([load_profile([str(x)], search_tmp=False)] for x in (SLOW, FAST))
    ds = DiffStacks(pb, pa)
    fid = next(i for i, f in enumerate(ds.frames) if f.name == "HPHP::f_sort")
    nb, na = ds.samples
    for which, want in zip(("callers", "callees"), ds.neighbours(fid), strict=True):
        got = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in
               browser.find_elements(By.CSS_SELECTOR, f"#detail-{which} tbody tr")]
        assert [(g[0], g[1], g[3]) for g in got] == [
            (f"{100 * w.before / nb:.2f}%", f"{100 * w.after / na:.2f}%", w.frame.name)
            for w in want[:20]]
        assert got or which == "callees"
    browser.find_element(By.ID, "table-search").send_keys("^PHP::")
    shown = [r.find_elements(By.TAG_NAME, "td")[8].text for r in
             browser.find_elements(By.CSS_SELECTOR, "#changes-table tbody tr")]
    assert shown and all(s.startswith("PHP::") for s in shown)
    fs = frames(browser)
    sort = [f for f in fs if f["name"] == "HPHP::f_sort"]
    assert sort and all(int(f["level"]) <= -2 for f in sort)
    assert console_errors(browser) == []
    screenshot(browser, out / "diff-html.png")
