"""Record the demo JIT workload with perf in the test run; jitprof must agree with perf report.

The oracle is ``perf report --stdio --sort sym`` on the same perf.data. The one place where
jitprof must differ is a JIT range that was reused: perf's choice among overlapping map
lines is arbitrary, jitprof follows the later line; there the oracle is a brute-force
"latest map line containing the sample address" computed here from the raw sample ips.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jitprof.cli import main
from tests.conftest import perf_record, perf_script, require_tools, tool_failed
from tests.perfreport import map_lines, overlapping_names, perf_children, perf_self

TOLERANCE = 0.1  # percentage points
THRESHOLD = 0.5  # compare every function above this share


@pytest.fixture(scope="module")
def slow_recording(tmp_path_factory: pytest.TempPathFactory, demo_recorder: Any
                   ) -> Iterator[dict]:
    require_tools("perf", "g++")
    out = tmp_path_factory.mktemp("demo")
    try:
        binary = demo_recorder.build(out)
        rec = demo_recorder.record(binary, "slow", 2, out / "slow")
    except demo_recorder.RecordError as e:
        tool_failed("recording the demo with perf", e)
        raise
    yield rec  # perf report needs /tmp/perf-<pid>.map while the tests run
    Path(rec["tmp_map"]).unlink(missing_ok=True)


def jitprof_json(rec: dict, *extra: str) -> dict:
    res = CliRunner().invoke(main, ["report", str(rec["perf_script"]), "--map", str(rec["map"]),
                                    "--no-tmp", "--top", "0", "--format", "json", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_demo_has_a_reused_range(slow_recording: dict) -> None:
    assert overlapping_names(map_lines(slow_recording["map"])), "the demo must reuse a JIT range"


def test_self_shares_match_perf_report(slow_recording: dict) -> None:
    ours = {f["name"]: f["self_pct"] for f in jitprof_json(slow_recording)["functions"]}
    theirs = perf_self(slow_recording["perf_data"])
    skip = overlapping_names(map_lines(slow_recording["map"]))
    compared = 0
    for name, pct in theirs.items():
        if pct <= THRESHOLD or name in skip:
            continue
        assert name in ours, f"{name} ({pct}%) missing from jitprof"
        assert abs(ours[name] - pct) <= TOLERANCE, (name, ours[name], pct)
        compared += 1
    for name, pct in ours.items():
        if pct > THRESHOLD and name not in skip and not name.startswith("["):
            assert name in theirs, f"jitprof has {name} ({pct}%) that perf report lacks"
    assert compared >= 5
    assert max(theirs, key=theirs.__getitem__) == "HPHP::f_sort"
    assert max(ours, key=ours.__getitem__) == "HPHP::f_sort"


def test_total_shares_match_perf_report_children(slow_recording: dict) -> None:
    doc = jitprof_json(slow_recording, "--sort", "total")
    ours = {f["name"]: (f["total_pct"], f["self_pct"]) for f in doc["functions"]}
    theirs = perf_children(slow_recording["perf_data"])
    skip = overlapping_names(map_lines(slow_recording["map"]))
    compared = 0
    for name, (total, self_) in theirs.items():
        if total <= THRESHOLD or name in skip:
            continue
        assert name in ours, f"{name} ({total}%) missing from jitprof"
        assert abs(ours[name][0] - total) <= TOLERANCE, (name, ours[name], total)
        assert abs(ours[name][1] - self_) <= TOLERANCE, (name, ours[name], self_)
        compared += 1
    assert compared >= 8
    # the story: f_sort is called from JIT code under PHP::Api_Handler::respond
    assert ours["PHP::Api_Handler::respond"][0] >= ours["HPHP::f_sort"][0] > 30


def test_reused_range_follows_the_later_map_line(slow_recording: dict) -> None:
    entries = map_lines(slow_recording["map"])
    reused = overlapping_names(entries)
    # raw sample ips (-G prints the sample ip, always a runtime address) and periods
    text = subprocess.run(
        ["perf", "script", "-i", str(slow_recording["perf_data"]), "-G", "-F", "period,ip,dso"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    expected: dict[str, int] = {}
    total = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        period, ip, dso = int(parts[0]), int(parts[1], 16), parts[-1]
        total += period
        if "perf-" not in dso and "//anon" not in dso:
            continue
        winner = None
        for s, e, name in entries:  # later lines overwrite: the last containing one wins
            if s <= ip < e:
                winner = name
        if winner is not None:
            expected[winner] = expected.get(winner, 0) + period
    doc = jitprof_json(slow_recording)
    assert doc["weight"] == total
    ours = {f["name"]: f["self"] for f in doc["functions"]}
    checked = 0
    for name, w in expected.items():
        assert ours.get(name) == w, (name, ours.get(name), w)
        checked += name in reused
    assert checked >= 1, "no samples landed in the reused range"
    assert doc["diagnostics"]["jit_samples_resolved_pct"] == 100.0
    assert doc["diagnostics"]["maps"][0]["overlapping"] >= 2


FIELD_SETS = [
    ("comm,pid,tid,time,period,event,ip,sym,dso", False),
    ("comm,tid,time,event,ip,sym,symoff,dso", True),  # also --ns
    ("tid,ip,sym,dso", False),  # a header of the tid alone
    ("ip,sym,dso", False),  # an empty header line
    ("comm,tid,period,ip,sym,dso", False),  # no time, no event
]


def _sample_counts(script: Path, map_path: Path
                   ) -> tuple[dict[tuple[str, str], tuple[int, int]], int]:
    from jitprof.report import function_rows
    from jitprof.resolve import load_profile

    prof = load_profile([str(script)], maps=[str(map_path)], search_tmp=False)
    prof.verify()
    # by name and dso: "[unknown]" can be a row of several dsos (an unnamed spot of a
    # stripped libstdc++ and an unknown caller were once keyed as one, and one hid the other)
    rows = {(r.name, r.dso): (r.self_samples, r.total_samples) for r in function_rows(prof)}
    assert len(rows) == len(function_rows(prof))
    return rows, prof.samples


@pytest.mark.parametrize(("fields", "ns"), FIELD_SETS)
def test_any_field_set_gives_the_same_profile(slow_recording: dict, tmp_path: Path,
                                              fields: str, ns: bool) -> None:
    want, n = _sample_counts(slow_recording["perf_script"], slow_recording["map"])
    out = perf_script(slow_recording["perf_data"], tmp_path / "perf.script", "-F", fields,
                      *(["--ns"] if ns else []))
    got, m = _sample_counts(out, slow_recording["map"])
    assert m == n
    assert got == want


def test_samples_without_callchains_give_the_same_self(slow_recording: dict,
                                                       tmp_path: Path) -> None:
    want, n = _sample_counts(slow_recording["perf_script"], slow_recording["map"])
    out = perf_script(slow_recording["perf_data"], tmp_path / "perf.script", "-G")
    got, m = _sample_counts(out, slow_recording["map"])
    assert m == n
    assert {k: v[0] for k, v in got.items() if v[0]} == {k: v[0] for k, v in want.items()
                                                          if v[0]}


def test_two_jit_processes_each_named_by_its_own_map(
    tmp_path_factory: pytest.TempPathFactory, demo_recorder: Any
) -> None:
    """One recording of two demo processes (slow and fast) started by a parent: every JIT
    frame must be looked up in its own process's map (the addresses differ by ASLR)."""
    import re
    import shutil
    import sys

    require_tools("perf", "g++")
    out = tmp_path_factory.mktemp("two")
    binary = demo_recorder.build(out)
    launcher = (
        "import subprocess, sys\n"
        f"ps = [subprocess.Popen([{str(binary)!r}, m, '1.5']) for m in ('slow', 'fast')]\n"
        "sys.exit(max(p.wait() for p in ps))\n"
    )
    data = out / "perf.data"
    perf_record([sys.executable, "-c", launcher], data)
    script = perf_script(data, out / "perf.script")
    pids = sorted({int(p) for p in re.findall(r"/tmp/perf-(\d+)\.map", script.read_text())})
    assert len(pids) == 2
    maps = out / "maps"
    maps.mkdir()
    for pid in pids:
        shutil.copy(f"/tmp/perf-{pid}.map", maps / f"perf-{pid}.map")
    try:
        _check_two(script, data, maps, pids)
    finally:
        for pid in pids:
            Path(f"/tmp/perf-{pid}.map").unlink(missing_ok=True)


def _check_two(script: Path, data: Path, maps: Path, pids: list[int]) -> None:
    res = CliRunner().invoke(main, ["report", str(script), "--map-dir", str(maps), "--no-tmp",
                                    "--top", "0", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert {p["pid"] for p in doc["processes"] if p["comm"] == "hhvm_demo"} == set(pids)
    assert doc["diagnostics"]["jit_samples_resolved_pct"] == 100.0
    ours = {f["name"]: f["self_pct"] for f in doc["functions"]}
    theirs = perf_self(data)
    skip = set()
    for pid in pids:
        skip |= overlapping_names(map_lines(maps / f"perf-{pid}.map"))
    compared = 0
    for name, pct in theirs.items():
        if pct > THRESHOLD and name not in skip:
            assert abs(ours.get(name, 0.0) - pct) <= TOLERANCE, (name, ours.get(name), pct)
            compared += 1
    assert compared >= 5 and "PHP::Api_Handler::respond" in ours
