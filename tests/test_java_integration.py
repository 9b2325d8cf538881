"""A real JVM (HotSpot, JDK 17) recorded with perf in the test run (issue 13): Java methods
in the Java kind named like a Java profiler, checked against perf report summed by method.

The workload (tests/workloads.py ``JAVA_HOT``) is compiled here with javac and run with
``-XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer``; HotSpot writes /tmp/perf-<pid>.map
when it exits. perf report, the oracle, prints the map's names (``long Hot.fib(int)``) and
one row per name: its rows are summed by method (``Hot.fib``) to compare with jitprof's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from jitprof.commands import main
from jitprof.model.names import java_method
from tests.conftest import perf_record, perf_script, require_tools
from tests.nativecheck import assert_native_equals_script
from tests.perfreport import map_lines, overlapping_names, perf_self
from tests.workloads import JAVA_FLAGS, JAVA_HOT

TOLERANCE = 0.1
THRESHOLD = 0.5
ROOT = Path(__file__).resolve().parent.parent


def _javac(out: Path) -> Path:
    (out / "Hot.java").write_text(JAVA_HOT)
    subprocess.run(["javac", "-d", str(out), str(out / "Hot.java")], check=True, timeout=300,
                   capture_output=True)
    return out


def _jvm_pid(script: Path) -> int:
    for line in script.read_text(errors="replace").splitlines():
        if "PERF_RECORD_COMM" in line and "java" in line:
            continue
        if line.startswith("java "):
            return int(line.split()[1].split("/")[0])
    raise AssertionError("no java sample")


@pytest.fixture(scope="module")
def jvm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    require_tools("perf", "java", "javac")
    out = tmp_path_factory.mktemp("java")
    classes = _javac(out)
    data = out / "perf.data"
    t0 = time.monotonic()
    perf_record(["java", *JAVA_FLAGS, "-XX:+DumpPerfMapAtExit", "-cp", str(classes), "Hot",
                 "2500"], data, cwd=out)
    elapsed = time.monotonic() - t0
    script = perf_script(data, out / "perf.script")
    text = script.read_text(errors="replace")
    pids = sorted({int(p.name[5:-4]) for p in Path("/tmp").glob("perf-*.map")
                   if f"/tmp/{p.name}" in text})
    assert pids, "the JVM wrote no perf map (or something deleted it)"
    pid = pids[0]
    tmp_map = Path(f"/tmp/perf-{pid}.map")
    shutil.copy(tmp_map, out / tmp_map.name)
    try:
        # perf report, the oracle, reads the map in /tmp only
        theirs = perf_self(data)
        yield {"data": data, "script": script, "map": out / tmp_map.name, "pid": pid,
               "theirs": theirs, "seconds": elapsed, "tmp_map": tmp_map}
    finally:
        tmp_map.unlink(missing_ok=True)


def _report(*args: str) -> dict:
    res = CliRunner().invoke(main, ["report", *args, "--no-tmp", "--top", "0", "--format",
                                    "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def by_method(theirs: dict[str, float]) -> dict[str, float]:
    """perf report's rows summed by method: ``long Hot.fib(int)`` -> ``Hot.fib`` (several
    compiled versions and overloads are one method, as in a Java profiler)."""
    out: dict[str, float] = {}
    for name, pct in theirs.items():
        java = java_method(name)
        key = java[0] if java is not None else name
        out[key] = out.get(key, 0.0) + pct
    return out


def test_java_methods_match_perf_report_summed_by_method(jvm: dict) -> None:
    doc = _report(str(jvm["script"]), "--map", str(jvm["map"]))
    assert sum(f["self_samples"] for f in doc["functions"]) == doc["samples"]
    ours: dict[str, float] = {}
    kinds: dict[str, str] = {}
    for f in doc["functions"]:
        ours[f["name"]] = ours.get(f["name"], 0.0) + f["self_pct"]
        kinds[f["name"]] = f["kind"]
    skip = {java_method(n)[0] if java_method(n) else n  # type: ignore[index]
            for n in overlapping_names(map_lines(jvm["map"]))}
    theirs = by_method(jvm["theirs"])
    compared = 0
    for name, pct in theirs.items():
        if pct <= THRESHOLD or name in skip:
            continue
        assert abs(ours.get(name, 0.0) - pct) <= TOLERANCE, (name, ours.get(name), pct)
        compared += 1
    assert compared >= 5
    # the hot methods by construction, in the Java kind, named like a Java profiler
    java = {n: p for n, p in ours.items() if kinds[n] == "Java"}
    assert "Hot.fib" in java and java["Hot.fib"] > 3.0, sorted(java.items())[:10]
    assert any(n.startswith("java.util.DualPivotQuicksort.") for n in java), sorted(java)
    assert doc["kinds"]["Java"]["self_pct"] > 30.0, doc["kinds"]
    fib = next(f for f in doc["functions"] if f["name"] == "Hot.fib")
    assert fib["full_names"] == ["long Hot.fib(int)"]  # the full form is kept
    # HotSpot's runtime code is JVM, never Java or JIT
    jvm_rows = [f for f in doc["functions"] if f["kind"] == "JVM"]
    assert all(java_method(f["name"]) is None for f in jvm_rows)
    assert not any(f["kind"] == "JIT" for f in doc["functions"]), [
        f["name"] for f in doc["functions"] if f["kind"] == "JIT"]
    # methods compiled more than once (C1, then C2) are one row with their versions counted
    assert any(f.get("versions", 0) >= 2 for f in doc["functions"] if f["kind"] == "Java")
    assert doc["diagnostics"]["jit_samples_resolved_pct"] >= 95.0


def test_a_jvms_perf_data_maps_every_thread_to_the_jvm(jvm: dict, tmp_path: Path) -> None:
    """perf.data is read with task events: the compiler and GC threads are the JVM's, and
    no thread "could not be mapped"."""
    maps = tmp_path / "maps"
    maps.mkdir()
    shutil.copy(jvm["map"], maps / jvm["map"].name)
    doc = _report(str(jvm["data"]), "--map-dir", str(maps))
    assert {p["pid"] for p in doc["processes"]} == {jvm["pid"]}, doc["processes"]
    assert len({p["comm"] for p in doc["processes"]}) > 1  # java, C2 CompilerThre, GC ...
    assert not any("could not be mapped" in w for w in doc["diagnostics"]["warnings"])
    assert doc["kinds"]["Java"]["self_pct"] > 30.0


def test_native_reader_equals_perf_script(jvm: dict) -> None:
    """Issue 15: the JVM's perf.data read natively (its many threads, HotSpot's code in
    libjvm.so, the map's Java methods and their compiled versions) as through perf script."""
    native, _ = assert_native_equals_script(jvm["data"], "jvm", maps=[str(jvm["map"])],
                                            search_tmp=False)
    assert {pid for pid, _comm in native.threads} == {jvm["pid"]}
    assert any(f.name == "Hot.fib" and f.kind.value == "Java" for f in native.frames)


def test_a_jvm_without_a_map_gets_the_java_hint(jvm: dict, tmp_path: Path) -> None:
    shutil.copy(jvm["script"], tmp_path / "perf.script")  # no map beside it, none given
    doc = _report(str(tmp_path / "perf.script"))
    w = " ".join(doc["diagnostics"]["warnings"])
    assert f"no perf map for pid {jvm['pid']}" in w
    for hint in ("-XX:+DumpPerfMapAtExit", "-XX:+PreserveFramePointer", "jcmd PID "
                 "Compiler.perfmap"):
        assert hint in w


def test_maps_groups_java_names_by_class(jvm: dict) -> None:
    res = CliRunner().invoke(main, ["maps", str(jvm["map"])])
    assert res.exit_code == 0, res.output
    prefixes = next(ln for ln in res.output.splitlines() if "name prefixes:" in ln)
    assert "Hot " in prefixes and "java.util.DualPivotQuicksort " in prefixes
    assert "long " not in prefixes and "void " not in prefixes
    kinds = next(ln for ln in res.output.splitlines() if ln.strip().startswith("kinds:"))
    assert "Java " in kinds and "JVM " in kinds


def test_record_pid_asks_the_jvm_for_a_fresh_map(tmp_path: Path) -> None:
    """``record --pid`` on a running JVM (started without any map option): before perf
    stops, jcmd PID Compiler.perfmap writes the map, which the bundle holds."""
    require_tools("perf", "java", "javac", "jcmd")
    classes = _javac(tmp_path)
    proc = subprocess.Popen(["java", *JAVA_FLAGS, "-cp", str(classes), "Hot", "9000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp_map = Path(f"/tmp/perf-{proc.pid}.map")
    try:
        deadline = time.monotonic() + 30
        while b"/libjvm.so" not in Path(f"/proc/{proc.pid}/maps").read_bytes():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        time.sleep(1.5)  # let the hot methods be compiled
        assert not tmp_map.exists()
        out = tmp_path / "bundle"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        r = subprocess.run([sys.executable, "-m", "jitprof", "record", "-p", str(proc.pid),
                            "-d", "2", "-o", str(out)], capture_output=True, text=True,
                           timeout=120, env=env)
        assert r.returncode == 0, r.stderr
    finally:
        proc.kill()
        proc.wait()
        tmp_map.unlink(missing_ok=True)
    bundled = out / "maps" / f"perf-{proc.pid}.map"
    assert bundled.is_file(), sorted(str(p) for p in out.rglob("*"))
    assert "long Hot.fib(int)" in bundled.read_text()
    doc = _report(str(out))
    assert doc["kinds"]["Java"]["self_pct"] > 30.0, doc["kinds"]
    assert not any("no perf map" in w for w in doc["diagnostics"]["warnings"])


def test_go_pprof_reads_the_java_profile(jvm: dict, tmp_path: Path) -> None:
    from jitprof.resolve import load_profile
    from tests.test_pprof_go import assert_same_shares, export_pprof, go_pprof_top

    prof = load_profile([str(jvm["script"])], maps=[str(jvm["map"])], search_tmp=False)
    theirs = go_pprof_top(export_pprof(prof, tmp_path / "java.pb.gz"), "-symbolize=none")
    assert assert_same_shares(prof, theirs) >= 10
    assert theirs["Hot.fib"][0] > 3.0
