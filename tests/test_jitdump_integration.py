"""Real jitdumps written in the test run: the demo JIT (which reuses a code range) recorded
with ``perf record -k CLOCK_MONOTONIC``, named by jitprof from its jitdump and checked
against ``perf inject --jit`` + ``perf report`` (perf's own time-aware naming) and against
the call stacks; and node ``--perf-prof`` checked against its own perf map of the same run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.symbols.jitdump import load_jitdump
from jitprof.symbols.perfmap import load_perf_map
from tests.conftest import require_tools, tool_failed
from tests.nativecheck import assert_native_equals_script
from tests.perfreport import perf_children, perf_self
from tests.workloads import node_loop

TOLERANCE = 0.1  # percentage points
THRESHOLD = 0.5
LEGACY_SECONDS = "0.4"  # dispatch runs this long before its space is reused


@pytest.fixture(scope="module")
def jit_recording(tmp_path_factory: pytest.TempPathFactory, demo_recorder: Any
                  ) -> Iterator[dict]:
    require_tools("perf", "g++")
    out = tmp_path_factory.mktemp("jitdump-demo")
    dumps = out / "dumps"  # apart from the script, so that only --jitdump finds it
    dumps.mkdir()
    try:
        binary = demo_recorder.build(out)
    except demo_recorder.RecordError as e:
        tool_failed("building the demo", e)
        raise
    data = out / "perf.data"
    env = dict(os.environ, HHVM_DEMO_JITDUMP=str(dumps), HHVM_DEMO_LEGACY_SECONDS=LEGACY_SECONDS)
    r = subprocess.run(["perf", "record", "-k", "CLOCK_MONOTONIC", "-F", "999", "-g", "-e",
                        "cpu-clock", "-o", str(data), "--", str(binary), "slow", "1.2"],
                       capture_output=True, text=True, timeout=120, env=env, cwd=out)
    m = re.search(r"hhvm_demo: pid=(\d+) mode=", r.stdout)
    if r.returncode != 0 or m is None:
        tool_failed("perf record -k CLOCK_MONOTONIC of the demo", RuntimeError(r.stderr[-500:]))
    pid = int(m.group(1)) if m else 0
    tmp_map = Path(f"/tmp/perf-{pid}.map")
    try:
        shutil.copy(tmp_map, out / f"perf-{pid}.map")
        script = out / "perf.script"
        with open(script, "w") as f:
            subprocess.run(["perf", "script", "-i", str(data), "--show-mmap-events"], stdout=f,
                           stderr=subprocess.DEVNULL, check=True, timeout=120)
        injected = out / "jit.data"  # perf writes jitted-<pid>-<n>.so beside the dump
        subprocess.run(["perf", "inject", "--jit", "-i", str(data), "-o", str(injected)],
                       capture_output=True, check=True, timeout=120)
    finally:
        tmp_map.unlink(missing_ok=True)  # perf inject's report needs no map
    yield {"pid": pid, "data": data, "script": script, "map": out / f"perf-{pid}.map",
           "dump": dumps / f"jit-{pid}.dump", "injected": injected}


def _report(rec: dict, *extra: str) -> dict:
    res = CliRunner().invoke(main, ["report", str(rec["script"]), "--no-tmp", "--top", "0",
                                    "--format", "json", *extra])
    assert res.exit_code == 0, res.output
    doc: dict = json.loads(res.output)
    return doc


def _self_samples(doc: dict) -> dict[str, int]:
    return {f["name"]: f["self_samples"] for f in doc["functions"]}


def test_the_demo_dump_holds_the_map_lines(jit_recording: dict) -> None:
    jd = load_jitdump(str(jit_recording["dump"]))
    pm = load_perf_map(str(jit_recording["map"]))
    assert jd.pid == jit_recording["pid"] and jd.closed and jd.truncated is None
    assert [(c.start, c.size, c.name) for c in jd.loads] == [
        (pm.starts[i], pm.ends[i] - pm.starts[i], pm.name(i)) for i in range(len(pm))]
    assert jd.loads == sorted(jd.loads, key=lambda c: c.time)


def _phase_counts(rec: dict) -> tuple[int, int]:
    """Independent of time: samples whose leaf lies in the reused range, split by their
    stack: route runs only inside requests (HPHP::HttpRequestHandler::handleRequest is on
    the stack, even when the unwinder skips the leaf's caller in a prologue); dispatch
    runs only before the request loop (from HPHP::jit::runLegacyOnce)."""
    pm = load_perf_map(str(rec["map"]))
    names = [pm.name(i) for i in range(len(pm))]
    i = names.index("PHP::Api_Legacy::dispatch")
    lo, hi = pm.starts[i], pm.ends[i]
    legacy = routed = 0
    for block in rec["script"].read_text(errors="replace").split("\n\n"):
        frames = [ln.split() for ln in block.split("\n") if ln.startswith("\t")]
        if not frames or not lo <= int(frames[0][0], 16) < hi:
            continue
        if "handleRequest" in block:
            routed += 1
        else:
            legacy += 1
    return legacy, routed


def test_reused_range_jitdump_vs_map(jit_recording: dict) -> None:
    by_dump = _self_samples(_report(jit_recording, "--jitdump", str(jit_recording["dump"])))
    by_map = _self_samples(_report(jit_recording, "--map", str(jit_recording["map"])))
    legacy, routed = _phase_counts(jit_recording)
    assert legacy >= 50, "dispatch must have run long enough to be sampled"
    # the dump names each phase's samples after the code that ran
    assert by_dump["PHP::Api_Legacy::dispatch"] == legacy
    in_range = by_dump["PHP::Api_Router::route"] + by_dump.get("PHP::Api_View::render", 0)
    assert in_range == routed > 0
    # the map (later line wins) gives dispatch's samples to route
    assert "PHP::Api_Legacy::dispatch" not in by_map
    assert by_map["PHP::Api_Router::route"] == (by_dump["PHP::Api_Router::route"]
                                                + by_dump["PHP::Api_Legacy::dispatch"])


def test_jitdump_naming_matches_perf_inject_jit(jit_recording: dict) -> None:
    doc = _report(jit_recording, "--jitdump", str(jit_recording["dump"]))
    assert not [w for w in doc["diagnostics"]["warnings"] if "jitdump" in w]
    ours = {f["name"]: f["self_pct"] for f in doc["functions"]}
    theirs = perf_self(jit_recording["injected"])
    compared = 0
    for name, pct in theirs.items():
        if pct > THRESHOLD or name.startswith("PHP::"):
            assert abs(ours.get(name, 0.0) - pct) <= TOLERANCE, (name, ours.get(name), pct)
            compared += 1
    assert compared >= 8 and theirs["PHP::Api_Legacy::dispatch"] > 1.0
    totals = {f["name"]: f["total_pct"] for f in doc["functions"]}
    for name, (total, _self) in perf_children(jit_recording["injected"]).items():
        if name.startswith("PHP::"):
            assert abs(totals.get(name, 0.0) - total) <= TOLERANCE, (name, totals.get(name), total)


def test_perf_data_input_finds_the_dump_beside_it(jit_recording: dict, tmp_path: Path) -> None:
    # perf.data read through perf script (times included); the dump found beside the input
    shutil.copy(jit_recording["data"], tmp_path / "perf.data")
    shutil.copy(jit_recording["dump"], tmp_path / jit_recording["dump"].name)
    tmp_map = Path(f"/tmp/perf-{jit_recording['pid']}.map")
    shutil.copy(jit_recording["map"], tmp_map)  # perf script names the binary's frames only
    try:
        res = CliRunner().invoke(main, ["report", str(tmp_path / "perf.data"), "--no-tmp",
                                        "--top", "0", "--format", "json"])
    finally:
        tmp_map.unlink(missing_ok=True)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert not [w for w in doc["diagnostics"]["warnings"] if "jitdump" in w]
    by_dump = _self_samples(doc)
    assert by_dump["PHP::Api_Legacy::dispatch"] == _phase_counts(jit_recording)[0]


def test_native_reader_equals_perf_script_with_the_jitdump(jit_recording: dict) -> None:
    """Issue 15: ``-k CLOCK_MONOTONIC`` read from the perf.data's clock id, the sample times
    natively as perf script prints them: the jitdump splits the reused range alike."""
    from jitprof.parse.perfdata import read_perf_data

    rec = jit_recording
    assert read_perf_data(str(rec["data"])).clockid == 1  # CLOCK_MONOTONIC
    native, _ = assert_native_equals_script(rec["data"], "-k mono + jitdump",
                                            jitdumps=[str(rec["dump"])], search_tmp=False)
    self_samples: dict[str, int] = {}
    for st in native.function_stats():
        name = native.frames[st.frame_id].name
        self_samples[name] = self_samples.get(name, 0) + st.self_samples
    assert self_samples["PHP::Api_Legacy::dispatch"] == _phase_counts(rec)[0]
    assert_native_equals_script(rec["data"], "-k mono + map", maps=[str(rec["map"])],
                                search_tmp=False)


# -- node --perf-prof ----------------------------------------------------------------------

NODE_JS = """
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
const end = Date.now() + 300; let s = 0;
while (Date.now() < end) s += fib(20);
console.log(s > 0);
"""


def test_node_perf_prof_dump_matches_its_perf_map(tmp_path: Path) -> None:
    require_tools("node")
    (tmp_path / "t.js").write_text(NODE_JS)
    proc = subprocess.run(["node", "--perf-prof", "--perf-basic-prof", "t.js"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    dumps = list(tmp_path.glob("jit-*.dump"))
    pid = int(dumps[0].name[4:-5]) if dumps else 0
    tmp_map = Path(f"/tmp/perf-{pid}.map")
    try:
        assert proc.returncode == 0, proc.stderr
        shutil.copy(tmp_map, tmp_path / tmp_map.name)
    finally:
        tmp_map.unlink(missing_ok=True)
    jd = load_jitdump(str(dumps[0]))
    pm = load_perf_map(str(tmp_path / tmp_map.name))
    assert (jd.pid, jd.byte_order, jd.elf_mach, jd.version) == (pid, "<", 62, 1)
    assert jd.truncated is None and jd.unknown_records == 0
    assert jd.counts["CODE_LOAD"] > 1000 and jd.counts["CODE_UNWINDING_INFO"] > 0
    loads = [(c.start, c.size, c.name) for c in jd.loads]
    entries = [(pm.starts[i], pm.ends[i] - pm.starts[i], pm.name(i)) for i in range(len(pm))]
    # every code load is a map line, in the same order; the map also has the interpreted
    # functions' bytecode ("~"), which V8 does not put in the dump
    assert [e for e in entries if e in set(loads)] == loads
    extra = [e[2] for e in entries if e not in set(loads)]
    assert extra and all(re.match(r"^\w+:~", n) for n in extra), extra[:5]
    assert any(n.startswith("JS:*fib ") for _, _, n in loads)  # optimized by TurboFan
    # V8 writes DEBUG_INFO for optimized code (lines of t.js or of node's own sources); its
    # addresses, once V8's 0x40 is taken off, lie in the code they describe
    with_lines = [c for c in jd.loads if c.lines]
    assert len(with_lines) == jd.counts["CODE_DEBUG_INFO"] > 0
    for c in with_lines:
        assert all(c.start <= x.addr < c.end and x.line > 0 for x in c.lines), c
    fib = [c for c in with_lines if c.name.startswith("JS:*fib ")]
    assert fib and {x.file for x in fib[0].lines} == {str(tmp_path / "t.js")}
    assert {x.line for x in fib[0].lines} <= {2}  # fib is line 2 of NODE_JS


# -- jitprof maps --tidy, read by perf ------------------------------------------------------

def _perf_with_map(rec: dict, map_file: Path) -> tuple[dict[str, float], dict]:
    """perf report of the recording with ``map_file`` as /tmp/perf-<pid>.map (the only
    place perf reads it from), removed after."""
    tmp_map = Path(f"/tmp/perf-{rec['pid']}.map")
    assert not tmp_map.exists(), f"{tmp_map} belongs to someone else"
    shutil.copy(map_file, tmp_map)
    try:
        return perf_self(rec["data"]), perf_children(rec["data"])
    finally:
        tmp_map.unlink(missing_ok=True)


def test_tidy_map_makes_perf_report_agree_with_jitprof(jit_recording: dict,
                                                      tmp_path: Path) -> None:
    tidied = tmp_path / "tidy.map"
    res = CliRunner().invoke(main, ["maps", str(jit_recording["map"]), "--tidy", "-o",
                                    str(tidied)])
    assert res.exit_code == 0, res.output
    doc = _report(jit_recording, "--map", str(jit_recording["map"]))  # later line wins
    ours = {f["name"]: f["self_pct"] for f in doc["functions"]}
    totals = {f["name"]: f["total_pct"] for f in doc["functions"]}
    theirs, children = _perf_with_map(jit_recording, tidied)
    compared = 0
    for name in set(theirs) | {n for n in ours if n.startswith("PHP::")}:
        pct = theirs.get(name, 0.0)
        if pct > THRESHOLD or name.startswith("PHP::"):
            assert abs(ours.get(name, 0.0) - pct) <= TOLERANCE, (name, ours.get(name), pct)
            compared += 1
    assert compared >= 8 and theirs["PHP::Api_Router::route"] > 1.0
    for name, (total, _s) in children.items():
        if name.startswith(("PHP::", "HHVM::")):
            assert abs(totals.get(name, 0.0) - total) <= TOLERANCE, (name, totals.get(name))
    # with the untidy map perf picks the big stale range for the reused space instead
    raw, _ = _perf_with_map(jit_recording, jit_recording["map"])
    assert abs(raw.get("PHP::Api_Router::route", 0.0) - ours["PHP::Api_Router::route"]) > 1.0


# -- the samples' clock, from the perf.data header ------------------------------------------

def test_perf_data_clock(jit_recording: dict) -> None:
    from jitprof.inputs.perftool import perf_data_clock

    require_tools("perf")
    assert perf_data_clock(str(jit_recording["data"])) == "monotonic"
    committed = Path(__file__).parent.parent / "samples" / "hhvm-demo" / "slow" / "perf.data"
    assert perf_data_clock(str(committed)) == "perf's default clock"  # recorded without -k


def test_perf_data_without_monotonic_clock_falls_back(tmp_path: Path) -> None:
    """The committed slow recording was made without -k CLOCK_MONOTONIC: a jitdump of its
    map's history (loaded at time 0) must not be used by time, and the report says so."""
    from tests.jitdumpfile import Dump, Load

    require_tools("perf")
    slow = Path(__file__).parent.parent / "samples" / "hhvm-demo" / "slow"
    pm = load_perf_map(str(slow / "perf-14089.map"))
    loads = [Load(0, pm.starts[i], pm.ends[i] - pm.starts[i], pm.name(i), i)
             for i in range(len(pm))]
    shutil.copy(slow / "perf.data", tmp_path / "perf.data")
    Dump(14089, loads, closed=False).write(tmp_path / "jit-14089.dump")  # beside the input
    res = CliRunner().invoke(main, ["report", str(tmp_path / "perf.data"), "--no-tmp", "--top",
                                    "0", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    (w,) = [w for w in doc["diagnostics"]["warnings"] if "jitdump" in w]
    assert "recorded on perf's default clock, not CLOCK_MONOTONIC" in w
    by_map = CliRunner().invoke(main, ["report", str(slow / "perf.script.gz"), "--map",
                                       str(slow / "perf-14089.map"), "--no-tmp", "--top", "0",
                                       "--format", "json"])
    want = {f["name"]: f["self_samples"] for f in json.loads(by_map.output)["functions"]
            if f["name"].startswith("PHP::")}
    assert {f["name"]: f["self_samples"] for f in doc["functions"]
            if f["name"].startswith("PHP::")} == want


# -- node --perf-prof recorded: jitprof vs perf inject --jit ---------------------------------

NODE_WORK = node_loop(1500)


def test_node_jitdump_matches_perf_inject_jit(tmp_path: Path) -> None:
    require_tools("perf", "node")
    (tmp_path / "work.js").write_text(NODE_WORK)
    data = tmp_path / "perf.data"
    r = subprocess.run(["perf", "record", "-k", "CLOCK_MONOTONIC", "-F", "999", "-g", "-e",
                        "cpu-clock", "-o", str(data), "--", "node", "--perf-prof",
                        "--interpreted-frames-native-stack", "work.js"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    if r.returncode != 0:
        tool_failed("perf record of node --perf-prof", RuntimeError(r.stderr[-500:]))
    injected = tmp_path / "jit.data"
    subprocess.run(["perf", "inject", "--jit", "-i", str(data), "-o", str(injected)],
                   capture_output=True, check=True, timeout=120)
    script = tmp_path / "perf.script"
    with open(script, "w") as f:
        subprocess.run(["perf", "script", "-i", str(data), "--show-mmap-events"], stdout=f,
                       stderr=subprocess.DEVNULL, check=True, timeout=120)
    res = CliRunner().invoke(main, ["report", str(script), "--no-tmp", "--top", "0",
                                    "--format", "json"])  # the dump is beside the script
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    (note,) = doc["diagnostics"]["jitdumps"]
    assert not [w for w in doc["diagnostics"]["warnings"] if "jitdump" in w]
    ours = {f["name"]: f["self_pct"] for f in doc["functions"]}
    theirs = perf_self(injected)
    # JS code: named from the dump by both (node's builtins live in /usr/bin/node, which
    # jitprof names from the ELF file and perf inject from the dump: different spellings)
    js = {n for n in set(ours) | set(theirs) if n.startswith("JS:")}
    assert any("fib" in n for n in js) and any("sortMany" in n for n in js)
    for name in js:
        assert abs(ours.get(name, 0.0) - theirs.get(name, 0.0)) <= TOLERANCE, (
            name, ours.get(name), theirs.get(name))
    # per sample: the leaf of every sample in JS code gets the name perf inject gives it
    def leaves(path: Path) -> list[list[str]]:
        out = subprocess.run(["perf", "script", "-i", str(path), "-F", "time,ip,sym", "-G"],
                             capture_output=True, text=True, errors="replace", check=True,
                             timeout=120).stdout
        return [ln.split(None, 2) for ln in out.splitlines() if ln.strip()]

    tl = load_jitdump(str(next(tmp_path.glob("jit-*.dump")))).timeline()
    compared = 0
    for raw, inj in zip(leaves(data), leaves(injected), strict=True):
        c = tl.at(int(raw[1], 16), round(float(raw[0].rstrip(":")) * 1e9) + 999)
        theirs_name = inj[2] if len(inj) > 2 else ""
        if c is not None and c.name.startswith("JS:"):
            assert theirs_name.startswith(c.name), (raw, inj, c.name)
            compared += 1
        else:
            assert not theirs_name.startswith("JS:"), (raw, inj)
    assert compared >= 50
