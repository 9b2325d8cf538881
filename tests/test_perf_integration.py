"""Record the demo JIT workload with perf in the test run; jitprof must agree with perf report.

The oracle is ``perf report --stdio --sort sym`` on the same perf.data. The one place where
jitprof must differ is a JIT range that was reused: perf's choice among overlapping map
lines is arbitrary, jitprof follows the later line; there the oracle is a brute-force
"latest map line containing the sample address" computed here from the raw sample ips.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from tests.conftest import perf_record, perf_script, require_tools, tool_failed
from tests.nativecheck import assert_native_equals_script
from tests.perfreport import (
    check_shares,
    compare_weights,
    jitprof_bucket,
    map_lines,
    overlapping_names,
    perf_bucket,
    perf_children,
    perf_rows,
    perf_script_total_samples,
    perf_self,
)

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
    doc = jitprof_json(slow_recording)
    ours = {f["name"]: f["self_pct"] for f in doc["functions"]}
    theirs = perf_self(slow_recording["perf_data"])
    skip = overlapping_names(map_lines(slow_recording["map"]))
    # every name and DSO above 0.5% on either side, and the whole long tail, on weights
    check_shares(doc, slow_recording["perf_data"], skip,
                 per_pid=lambda pid: jitprof_json(slow_recording, "--pid", str(pid)))
    compared = sum(1 for n, p in theirs.items() if p > THRESHOLD and n not in skip)
    assert compared >= 5
    assert max(theirs, key=theirs.__getitem__) == "HPHP::f_sort"
    assert max(ours, key=ours.__getitem__) == "HPHP::f_sort"


def test_total_shares_match_perf_report_children(slow_recording: dict) -> None:
    doc = jitprof_json(slow_recording, "--sort", "total")
    ours = {f["name"]: (f["total_pct"], f["self_pct"]) for f in doc["functions"]}
    dup: set[str] = set()
    theirs = perf_children(slow_recording["perf_data"], dup)
    skip = overlapping_names(map_lines(slow_recording["map"]))
    compared = check_totals(ours, theirs, skip | dup)
    assert compared >= 8
    # the story: f_sort is called from JIT code under PHP::Api_Handler::respond
    assert ours["PHP::Api_Handler::respond"][0] >= ours["HPHP::f_sort"][0] > 30


def test_native_reader_equals_perf_script(slow_recording: dict) -> None:
    """Issue 15: the perf.data read natively gives the profile perf script's text gives,
    and perf report's shares on the same file (every row, by name and DSO)."""
    rec = slow_recording
    assert_native_equals_script(rec["perf_data"], "demo", maps=[str(rec["map"])],
                                search_tmp=False)
    res = CliRunner().invoke(main, ["report", str(rec["perf_data"]), "--perf-data-reader",
                                    "native", "--map", str(rec["map"]), "--no-tmp", "--top",
                                    "0", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    check_shares(doc, rec["perf_data"], overlapping_names(map_lines(rec["map"])))
    assert doc["diagnostics"]["jit_samples_resolved_pct"] == 100.0


def test_total_samples_column_matches_perf(slow_recording: dict) -> None:
    """The table's Total# column (the text a user reads, --sort total, every row) against
    perf's own naming of the same perf.data: exactly the samples whose ``perf script``
    callchain holds the name (once per sample); and against ``perf report --children``:
    its Samples column is the self count, but cpu-clock's period is fixed (1e9/freq ns),
    so its Children % is total samples / samples, to its 2 decimals."""
    res = CliRunner().invoke(main, ["report", str(slow_recording["perf_script"]), "--map",
                                    str(slow_recording["map"]), "--no-tmp", "--top", "0",
                                    "--sort", "total"])
    assert res.exit_code == 0, res.output
    head = re.search(r"samples: ([\d,]+) ", res.output)
    assert head is not None
    samples = int(head.group(1).replace(",", ""))
    named: dict[str, list[int]] = {}
    for line in res.output.splitlines():
        if not line.startswith("#"):
            _s, _t, _n, n_total, _k, _d, name = line.split(None, 6)
            named.setdefault(name, []).append(int(n_total))
    reused = overlapping_names(map_lines(slow_recording["map"]))
    theirs, n = perf_script_total_samples(slow_recording["perf_data"])
    assert n == samples
    checked = 0
    for name, count in theirs.items():
        if name in reused or len(named.get(name, [])) > 1:
            continue
        assert named.get(name) == [count], (name, named.get(name), count)
        checked += 1
    assert checked >= 10
    assert {x for x in named if x not in theirs} <= reused | {"[unknown]"}
    # the outermost callers: on (nearly) every stack
    assert named["main"][0] > 0.95 * samples and named["HPHP::runRequestLoop"][0] > 0.95 * samples
    periods = {line.split()[0] for line in subprocess.run(
        ["perf", "script", "-i", str(slow_recording["perf_data"]), "-F", "period"],
        capture_output=True, text=True, check=True, timeout=300).stdout.splitlines()
        if line.strip()}
    assert len(periods) == 1, f"cpu-clock periods differ: {sorted(periods)[:5]}"
    dup: set[str] = set()
    children = perf_children(slow_recording["perf_data"], dup)
    checked = 0
    for name, (total_pct, _self_pct) in children.items():
        if name in reused or len(named.get(name, [])) != 1:
            continue
        assert abs(named[name][0] * 100.0 / samples - total_pct) <= 0.005 + 1e-9, (
            name, named[name][0], samples, total_pct)
        checked += 1
    assert checked >= 10


def check_totals(ours: dict[str, tuple[float, float]], theirs: dict[str, tuple[float, float]],
                 skip: set[str]) -> int:
    """Total and self % of every name above THRESHOLD on either side (``skip``: reused
    ranges and names perf shows on several rows, see ``perf_children``); returns how
    many were compared."""
    compared = 0
    for name in {*theirs, *ours}:
        if name in skip or name.startswith("["):
            continue
        a, b = ours.get(name, (0.0, 0.0)), theirs.get(name, (0.0, 0.0))
        if max(a[0], b[0]) <= THRESHOLD:
            continue
        assert name in theirs, f"jitprof has {name} ({a}) that perf report lacks"
        assert name in ours, f"{name} ({b}) missing from jitprof"
        assert abs(a[0] - b[0]) <= TOLERANCE, (name, a, b)
        assert abs(a[1] - b[1]) <= TOLERANCE, (name, a, b)
        compared += 1
    return compared


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


KERNEL_START = 0xFFFF800000000000  # x86-64: the kernel half of the address space


def _latest_line(entries: list[tuple[int, int, str]], addr: int) -> str | None:
    winner = None
    for s, e, name in entries:  # later lines overwrite: the last containing one wins
        if s <= addr < e:
            winner = name
    return winner


def test_reused_range_totals_follow_the_later_map_line(slow_recording: dict) -> None:
    """Total weights of the JIT functions, brute force from the raw callchains: every JIT
    frame named by the latest map line containing its address (the leaf and the first
    user frame under kernel frames at the address, other callers at the return address
    - 1), each name counted once per sample."""
    entries = map_lines(slow_recording["map"])
    reused = overlapping_names(entries)
    text = subprocess.run(
        ["perf", "script", "-i", str(slow_recording["perf_data"]), "-F", "period,ip,dso"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    samples: list[tuple[int, list[tuple[int, str]]]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("\t"):
            hex_ip, where = line.split(None, 1)
            samples[-1][1].append((int(hex_ip, 16), where))
        else:
            samples.append((int(line.split()[0]), []))
    expected: dict[str, int] = {}
    deep = 0
    for period, chain in samples:
        names: set[str] = set()
        user_seen = False
        for i, (ip, dso) in enumerate(chain):
            kernel = ip >= KERNEL_START
            exact = i == 0 or (not kernel and not user_seen)
            user_seen = user_seen or not kernel
            if "perf-" not in dso and "//anon" not in dso:
                continue
            name = _latest_line(entries, ip if exact else ip - 1)
            if name is not None:
                names.add(name)
        deep += len(names & reused) > 0 and len(names) > 1
        for name in names:
            expected[name] = expected.get(name, 0) + period
    doc = jitprof_json(slow_recording)
    assert doc["weight"] == sum(p for p, _ in samples)
    ours = {f["name"]: f["total"] for f in doc["functions"]}
    assert {n: ours.get(n) for n in expected} == expected
    assert len(expected.keys() & reused) >= 2 and deep > 0, "no stack through the reused range"
    # and nothing else is a JIT function (their names are all in the map)
    jit_names = {name for _s, _e, name in entries}
    assert {f["name"] for f in doc["functions"] if f["total"] and f["name"] in jit_names
            } == set(expected)


FIELD_SETS = [
    ("comm,pid,tid,time,period,event,ip,sym,dso", False),
    ("comm,tid,time,event,ip,sym,symoff,dso", True),  # also --ns
    ("tid,ip,sym,dso", False),  # a header of the tid alone
    ("ip,sym,dso", False),  # an empty header line
    ("comm,tid,period,ip,sym,dso", False),  # no time, no event
]


def _sample_counts(script: Path, map_path: Path
                   ) -> tuple[dict[tuple[str, str], tuple[int, int]], int]:
    from jitprof.present.rows import function_rows
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
        # issue 15: the native reader, each process's JIT frames by its own map
        native, _ = assert_native_equals_script(data, "two processes", map_dirs=[str(maps)],
                                                search_tmp=False)
        assert {pid for pid, comm in native.threads if comm == "hhvm_demo"} >= set(pids)
    finally:
        for pid in pids:
            Path(f"/tmp/perf-{pid}.map").unlink(missing_ok=True)


def _check_two(script: Path, data: Path, maps: Path, pids: list[int]) -> None:
    def report(*extra: str) -> dict:
        res = CliRunner().invoke(main, ["report", str(script), "--map-dir", str(maps),
                                        "--no-tmp", "--top", "0", "--format", "json", *extra])
        assert res.exit_code == 0, res.output
        return json.loads(res.output)

    doc = report()
    assert {p["pid"] for p in doc["processes"] if p["comm"] == "hhvm_demo"} == set(pids)
    assert doc["diagnostics"]["jit_samples_resolved_pct"] == 100.0
    ours = {f["name"]: f["self_pct"] for f in doc["functions"]}
    skip = set()
    for pid in pids:
        skip |= overlapping_names(map_lines(maps / f"perf-{pid}.map"))
    # by name, by DSO, and per process (perf's --sort pid,sym)
    check_shares(doc, data, skip, per_pid=lambda pid: report("--pid", str(pid)))
    theirs = perf_self(data)
    assert sum(1 for n, p in theirs.items() if p > THRESHOLD and n not in skip) >= 5
    assert "PHP::Api_Handler::respond" in ours


# -- a software event in frequency mode: the periods vary, weights are not sample counts --

FAULTS = r"""
#include <sys/mman.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
static inline __attribute__((always_inline)) long touch(size_t pages) {
  char* p = static_cast<char*>(mmap(nullptr, pages * 4096, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  long s = 0;
  for (size_t i = 0; i < pages; i++) { p[i * 4096] = (char)i; s += p[i * 4096]; }
  munmap(p, pages * 4096);
  return s;
}
namespace pf {
__attribute__((noinline)) long fault_a(size_t n) { return touch(n); }
__attribute__((noinline)) long fault_b(size_t n) { return touch(n); }
__attribute__((noinline)) double spin(long n) {
  double s = 0; for (long i = 0; i < n; i++) s += (double)i / (double)(i + 1); return s;
}
}
int main(int argc, char** argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  auto start = std::chrono::steady_clock::now();
  auto half = start + std::chrono::duration<double>(secs / 2);
  auto end = start + std::chrono::duration<double>(secs);
  double t = 0;
  // two phases at different fault rates: perf's frequency mode gives the samples of the
  // busy phase (fault_a) periods several times those of the slow one (fault_b)
  while (std::chrono::steady_clock::now() < half) t += pf::fault_a(4000);
  while (std::chrono::steady_clock::now() < end) { t += pf::fault_b(200); t += pf::spin(300000); }
  std::printf("%f\n", t);
}
"""


@pytest.fixture(scope="module")
def faults_recording(tmp_path_factory: pytest.TempPathFactory) -> dict:
    require_tools("perf", "g++")
    out = tmp_path_factory.mktemp("faults")
    (out / "faults.cpp").write_text(FAULTS)
    exe = out / "faults"
    r = subprocess.run(["g++", "-O1", "-g", "-fno-omit-frame-pointer", "-o", str(exe),
                        str(out / "faults.cpp")], capture_output=True, text=True, timeout=180)
    if r.returncode != 0:
        tool_failed("compiling the page-fault workload", RuntimeError(r.stderr[-500:]))
    data = out / "perf.data"
    r = subprocess.run(["perf", "record", "-F", "999", "-g", "-e", "page-faults", "-o",
                        str(data), "--", str(exe), "1.5"], capture_output=True, text=True,
                       timeout=180)
    if r.returncode != 0:
        tool_failed("perf record -e page-faults", RuntimeError(r.stderr[-500:]))
    return {"data": data, "script": perf_script(data, out / "perf.script")}


def faults_json(rec: dict, *extra: str) -> dict:
    res = CliRunner().invoke(main, ["report", str(rec["script"]), "--no-tmp", "--top", "0",
                                    "--format", "json", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_variable_periods_weights_and_samples_match_perf_report(faults_recording: dict
                                                                ) -> None:
    data = faults_recording["data"]
    text = faults_recording["script"].read_text(errors="replace")
    periods = [int(m) for m in re.findall(r" (\d+) page-faults:", text)]
    assert len(periods) > 100 and len(set(periods)) > 20, "the periods must vary"
    doc = faults_json(faults_recording)
    assert doc["event"] == "page-faults" and doc["weight_unit"] == "period"
    assert doc["samples"] == len(periods) and doc["weight"] == sum(periods)
    # weights: every name and DSO, the long tail, per process
    check_shares(doc, data, per_pid=lambda pid: faults_json(faults_recording, "--pid", str(pid)))
    # sample counts, on their own: perf report -n
    ours: dict[str, int] = {}
    for f in doc["functions"]:
        ours[jitprof_bucket(f["name"])] = ours.get(jitprof_bucket(f["name"]), 0) + f[
            "self_samples"]
    theirs: dict[str, int] = {}
    by_weight: dict[str, int] = {}
    for (sym,), n, period in perf_rows(data, "sym"):
        theirs[perf_bucket(sym)] = theirs.get(perf_bucket(sym), 0) + n
        by_weight[perf_bucket(sym)] = by_weight.get(perf_bucket(sym), 0) + period
    compare_weights(ours, theirs, doc["samples"], "self samples by name")
    # and the two differ by far more than the tolerance: confusing them cannot pass
    a_w = by_weight["pf::fault_a"] * 100 / doc["weight"]
    a_n = theirs["pf::fault_a"] * 100 / doc["samples"]
    assert a_w - a_n > 5, (a_w, a_n)
    # totals (perf report --children)
    dup: set[str] = set()
    totals = {f["name"]: (f["total_pct"], f["self_pct"]) for f in doc["functions"]}
    assert check_totals(totals, perf_children(data, dup), dup) >= 3


def test_variable_periods_native_reader_equals_perf_script(faults_recording: dict) -> None:
    """Issue 15: periods read from the SAMPLE records, the same weights as perf script's."""
    native, _ = assert_native_equals_script(faults_recording["data"], "page-faults",
                                            search_tmp=False)
    assert native.event == "page-faults" and native.weight > 3 * native.samples
