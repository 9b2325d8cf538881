"""jitprof record on live processes (the demo JIT, node --perf-basic-prof, a JIT that
deletes its map at exit, a process in its own pid namespace): bundles are complete and
report the JIT functions after the process and its /tmp map are gone; unsafe maps are
refused; errors say how to fix them."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from jitprof.acquire.record import explain_perf_failure
from tests.conftest import ROOT, require_tools, skip_or_fail
from tests.perfreport import check_shares, map_lines, overlapping_names
from tests.workloads import node_loop

NOBODY = 65534


def jitprof(*args: str, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.update(kw.pop("env", {}))
    cwd = kw.pop("cwd", ROOT)
    return subprocess.run([sys.executable, "-m", "jitprof", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=cwd, **kw)


def wait_for(path: str, timeout: float = 10, lines: int = 1) -> None:
    """Until ``path`` has ``lines`` complete lines (the demo writes its 8 at start)."""
    end = time.monotonic() + timeout
    while True:
        try:
            with open(path, "rb") as f:
                if f.read().count(b"\n") >= lines:
                    return
        except FileNotFoundError:
            pass
        if time.monotonic() > end:
            raise AssertionError(f"{path} did not get {lines} lines")
        time.sleep(0.02)


DEMO_MAP_LINES = 8


class Live:
    """A process started for a test; killed and its /tmp map removed at the end."""

    def __init__(self, argv: list[str], map_pid: int | None = None, **kw: Any) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     **kw)
        self.pid = self.proc.pid
        self.extra: list[str] = []

    @property
    def map(self) -> str:
        return f"/tmp/perf-{self.pid}.map"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for p in [self.map, *self.extra]:
            if os.path.lexists(p):
                os.unlink(p)


@pytest.fixture(scope="module")
def demo_bin(demo_recorder: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tools("perf", "g++")
    try:
        return demo_recorder.build(tmp_path_factory.mktemp("demo-bin"))
    except demo_recorder.RecordError as e:
        skip_or_fail(f"cannot build the demo: {e}")
        raise


@pytest.fixture
def live_demo(demo_bin: Path) -> Iterator[Live]:
    """hhvm_demo slow for up to 30 s (killed when the test ends)."""
    d = Live([str(demo_bin), "slow", "30"])
    try:
        wait_for(d.map, lines=DEMO_MAP_LINES)
        yield d
    finally:
        d.stop()


def manifest(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "manifest.json").read_text())


def check_complete(bundle: Path, script: bool = False) -> dict[str, Any]:
    """Every file is in the manifest with its true size and sha256, and nothing else;
    perf script's text only with ``script`` (record --with-script)."""
    m = manifest(bundle)
    on_disk = sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*")
                     if p.is_file() and p.name != "manifest.json")
    assert sorted(f["path"] for f in m["files"]) == on_disk
    for f in m["files"]:
        data = (bundle / f["path"]).read_bytes()
        assert f["bytes"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest()
    for name in ("perf.data", "buildids.txt", "perf-record.log"):
        assert name in on_disk, name
    assert ("perf.script.gz" in on_disk) == script
    assert m["format"] == "jitprof-bundle" and m["version"] == 1
    assert m["perf_version"].startswith("perf version")
    assert not [p for p in bundle.parent.iterdir() if ".tmp-" in p.name]  # temp dir renamed
    return m


def report_json(*args: str) -> dict[str, Any]:
    r = jitprof("report", *args, "--top", "0", "--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def self_pct(doc: dict[str, Any]) -> dict[str, float]:
    return {f["name"]: f["self_pct"] for f in doc["functions"]}


# --- recording by pid: the demo JIT ---------------------------------------------------------


@pytest.fixture(scope="module")
def demo_bundle(demo_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = Live([str(demo_bin), "slow", "30"])
    out = tmp_path_factory.mktemp("rec") / "bundle"
    try:
        wait_for(d.map, lines=DEMO_MAP_LINES)
        r = jitprof("record", "--pid", str(d.pid), "--duration", "1", "-o", str(out))
        tmp_map = Path(d.map).read_bytes()
    finally:
        d.stop()  # the process exits and its map is deleted before the report
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(d.map)
    return {"bundle": out, "pid": d.pid, "stderr": r.stderr, "tmp_map": tmp_map,
            "binary": demo_bin}


def test_pid_bundle_is_complete(demo_bundle: dict[str, Any]) -> None:
    b = demo_bundle["bundle"]
    pid = demo_bundle["pid"]
    m = check_complete(b)
    assert m["target"]["pids"] == [pid] and m["times"]["stopped_by"] == "duration"
    assert 0.9 <= m["times"]["duration_s"] < 30
    (proc,) = m["processes"]
    assert proc["pid"] == pid and proc["cmdline"][1:] == ["slow", "30"]
    assert abs(proc["start_time"] - m["times"]["started_epoch"]) < 30
    assert proc["map"]["source"] == f"/tmp/perf-{pid}.map" and proc["map"]["doubts"] == []
    # the map copy is the map the process wrote, byte for byte
    assert (b / "maps" / f"perf-{pid}.map").read_bytes() == demo_bundle["tmp_map"]
    assert (b / "proc" / str(pid) / "cmdline").read_bytes().split(b"\0")[1:3] == [b"slow", b"30"]
    assert b"[stack]" in (b / "proc" / str(pid) / "maps").read_bytes()
    # the hit binary's build-id, as readelf reads it from the ELF note
    note = subprocess.run(["readelf", "-n", str(demo_bundle["binary"])], capture_output=True,
                          text=True, check=True).stdout
    build_id = note.split("Build ID:")[1].split()[0]
    listed = (b / "buildids.txt").read_text()
    assert f"{build_id} {demo_bundle['binary']}" in listed
    # written from perf.data's build-id section: what perf buildid-list prints
    theirs = subprocess.run(["perf", "buildid-list", "-i", str(b / "perf.data")],
                            capture_output=True, text=True, check=True).stdout
    assert listed == theirs  # (the kernel is listed only when a sample hit it)
    assert m["samples"] > 100
    assert "samples in" in demo_bundle["stderr"] and "jitprof report" in demo_bundle["stderr"]


def test_report_bundle_after_the_process_and_its_map_are_gone(
        demo_bundle: dict[str, Any]) -> None:
    b = demo_bundle["bundle"]
    doc = report_json(str(b))
    pct = self_pct(doc)
    for fn in ("PHP::Api_Handler::respond", "PHP::Api_Router::route", "PHP::Api_View::render"):
        assert pct.get(fn, 0) > 0.5, (fn, pct)
    assert pct["HPHP::f_sort"] > 30
    assert doc["diagnostics"]["jit_samples_resolved_pct"] == 100.0
    assert [mp["path"] for mp in doc["diagnostics"]["maps"]] == [
        str(b / "maps" / f"perf-{demo_bundle['pid']}.map")]
    assert doc["samples"] == manifest(b)["samples"]  # every sample perf recorded
    assert doc["diagnostics"]["warnings"] == []


@contextlib.contextmanager
def with_tmp_map(pid: int, text: bytes) -> Iterator[None]:
    """``/tmp/perf-PID.map`` holds ``text`` while perf report (the oracle) runs: perf
    reads JIT names from there only. The process is gone; nothing else owns the path."""
    path = Path(f"/tmp/perf-{pid}.map")
    assert not path.exists()
    path.write_bytes(text)
    try:
        yield
    finally:
        path.unlink()


def test_bundle_matches_perf_report_on_its_perf_data(demo_bundle: dict[str, Any]) -> None:
    """jitprof's report of a bundle against perf report on the bundle's own perf.data,
    with the bundle's map copy where perf looks for it: every function, DSO and process,
    the whole long tail, on exact weights."""
    b = demo_bundle["bundle"]
    pid = demo_bundle["pid"]
    doc = report_json(str(b))
    bundle_map = b / "maps" / f"perf-{pid}.map"
    reused = overlapping_names(map_lines(bundle_map))
    with with_tmp_map(pid, bundle_map.read_bytes()):
        check_shares(doc, b / "perf.data", reused,
                     per_pid=lambda p: report_json(str(b), "--pid", str(p)))


def test_other_commands_take_a_bundle(demo_bundle: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "x.folded"
    r = jitprof("export", str(demo_bundle["bundle"]), "-o", str(out), "--weight", "samples")
    assert r.returncode == 0, r.stderr
    folded = out.read_text()
    assert ";PHP::Api_Handler::respond;" in folded
    total = sum(int(line.rsplit(" ", 1)[1]) for line in folded.splitlines())
    assert total == manifest(demo_bundle["bundle"])["samples"]


def rows(doc: dict[str, Any]) -> dict[tuple[str, str, str], tuple[int, int, int, int]]:
    return {(f["name"], f["kind"], f["dso"]): (f["self"], f["total"], f["self_samples"],
                                               f["total_samples"]) for f in doc["functions"]}


def test_bundle_reads_its_perf_data_without_perf(demo_bundle: dict[str, Any],
                                                 tmp_path: Path) -> None:
    """A bundle has no perf script text: its perf.data is read natively, also where perf
    is not installed (PATH holds nothing), with the same numbers."""
    b = demo_bundle["bundle"]
    doc = report_json(str(b))
    assert doc["inputs"] == [str(b / "perf.data")]
    r = jitprof("report", str(b), "--top", "0", "--format", "json",
                env={"PATH": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    alone = json.loads(r.stdout)
    assert rows(alone) == rows(doc) and alone["samples"] == doc["samples"]


def test_bundle_with_script(demo_bin: Path, tmp_path: Path) -> None:
    """record --with-script also writes perf script's text (as bundles did before perf.data
    was read natively); such a bundle reads through the text (perf named its frames where
    it was recorded), --perf-data-reader native through its perf.data: the same numbers."""
    d = Live([str(demo_bin), "slow", "30"])
    out = tmp_path / "bundle"
    try:
        wait_for(d.map, lines=DEMO_MAP_LINES)
        r = jitprof("record", "--pid", str(d.pid), "--duration", "1", "--with-script",
                    "-o", str(out))
    finally:
        d.stop()
    assert r.returncode == 0, r.stderr
    m = check_complete(out, script=True)
    text = gzip.decompress((out / "perf.script.gz").read_bytes()).decode()
    assert "PERF_RECORD_MMAP2" in text and "PERF_RECORD_COMM" in text
    by_text = report_json(str(out))
    native = report_json(str(out), "--perf-data-reader", "native")
    assert by_text["inputs"] == [str(out / "perf.script.gz")]
    assert native["inputs"] == [str(out / "perf.data")]
    assert by_text["samples"] == native["samples"] == m["samples"]
    assert rows(by_text) == rows(native)
    assert self_pct(native)["HPHP::f_sort"] > 30


def test_bundle_never_reads_tmp(demo_bundle: dict[str, Any], tmp_path: Path) -> None:
    """A map left at /tmp/perf-<pid>.map by another process is not used for a bundle,
    even when the bundle has no map of its own."""
    b = tmp_path / "b"
    shutil.copytree(demo_bundle["bundle"], b)
    pid = demo_bundle["pid"]
    (b / "maps" / f"perf-{pid}.map").unlink()
    m = manifest(b)
    m["files"] = [f for f in m["files"] if not f["path"].startswith("maps/")]
    (b / "manifest.json").write_text(json.dumps(m))
    planted = Path(f"/tmp/perf-{pid}.map")
    planted.write_text(demo_bundle["tmp_map"].decode().replace("PHP::", "PLANTED::"))
    try:
        doc = report_json(str(b))
    finally:
        planted.unlink()
    names = " ".join(self_pct(doc))
    assert "PLANTED" not in names and doc["diagnostics"]["maps"] == []
    # nor the names perf printed into the text from /tmp when it was recorded: a bundle's
    # JIT frames are named by its own maps only (perf follows a symlinked map; we do not)
    assert not [n for n in self_pct(doc) if n.startswith(("PHP::", "HHVM::"))]
    assert "[unknown]" in names
    assert doc["diagnostics"]["jit_samples_resolved_pct"] == 0.0


def test_changed_bundle_files_are_reported(demo_bundle: dict[str, Any], tmp_path: Path) -> None:
    b = tmp_path / "b"
    shutil.copytree(demo_bundle["bundle"], b)
    pid = demo_bundle["pid"]
    with open(b / "maps" / f"perf-{pid}.map", "ab") as f:
        f.write(b"1000 10 PHP::added_later\n")
    (b / "buildids.txt").unlink()
    (b / "notes.txt").write_text("mine")
    r = jitprof("report", str(b), "--top", "3")
    assert r.returncode == 0, r.stderr
    assert f"maps/perf-{pid}.map: sha256 does not match the manifest" in r.stdout
    assert "buildids.txt: listed in the manifest but missing" in r.stdout
    assert "notes.txt: not in the manifest" in r.stdout
    r = jitprof("report", str(demo_bundle["bundle"]), "--top", "3")
    assert "WARNING" not in r.stdout


def test_directory_that_is_no_bundle(tmp_path: Path) -> None:
    r = jitprof("report", str(tmp_path))
    assert r.returncode == 1
    assert r.stderr.strip() == (f"jitprof: error: {tmp_path}: is a directory but not a jitprof "
                                "bundle (no manifest.json; give the perf script text or "
                                "perf.data inside it)")


# --- node --perf-basic-prof by pid -------------------------------------------------------------

NODE_JS = node_loop(20000)


def test_node_by_pid(tmp_path: Path) -> None:
    require_tools("perf", "node")
    (tmp_path / "work.js").write_text(NODE_JS)
    d = Live(["node", "--perf-basic-prof", str(tmp_path / "work.js")], cwd=tmp_path)
    out = tmp_path / "bundle"
    try:
        wait_for(d.map)
        time.sleep(0.5)  # let the hot functions be compiled
        r = jitprof("record", "-p", str(d.pid), "-d", "1", "-o", str(out))
        assert r.returncode == 0, r.stderr
        time.sleep(0.2)
        later = Path(d.map).read_bytes()
    finally:
        d.stop()
    m = check_complete(out)
    copy = (out / "maps" / f"perf-{d.pid}.map").read_bytes()
    # node keeps appending: the copy is what the map held when recording ended
    assert len(copy) > 10_000 and later.startswith(copy)
    assert m["processes"][0]["map"]["lines"] == copy.count(b"\n")
    doc = report_json(str(out))
    hot = [f["name"] for f in doc["functions"] if f["total_pct"] > 1.0]
    assert any(n.startswith("JS:") and "fib" in n for n in hot), hot
    assert any(n.startswith("JS:") and "sortMany" in n for n in hot), hot
    assert doc["diagnostics"]["jit_samples_resolved_pct"] >= 95.0
    # sample times on CLOCK_MONOTONIC, the clock of jitdumps
    assert m["perf_command"][1:5] == ["record", "-g", "-k", "mono"]


# --- recording a command ------------------------------------------------------------------

# A JIT that deletes its map at exit (HHVM without Eval.KeepPerfPidMap): lines until the
# very end, the last one written just before the unlink. Plus a CPU loop to sample.
EXITING_JIT = """
import os, sys, time
path = f"/tmp/perf-{os.getpid()}.map"
f = open(path, "w")
end = time.monotonic() + float(sys.argv[1])
i = 0
while time.monotonic() < end:
    f.write(f"{0x7f0000000000 + i * 0x100:x} 100 PHP::fn{i}\\n"); f.flush(); i += 1
    x = sum(range(20000))
f.write("7fffff000000 10 PHP::written_just_before_exit\\n"); f.flush()
dump = f"jit-{os.getpid()}.dump"  # in its working directory, like node --perf-prof
with open(dump, "wb") as d:
    d.write(b"JiTD" + bytes(range(256)) * 40)
    d.flush()
    os.unlink(path)
    time.sleep(0.3)  # the dump is found by a poll, then deleted too
    d.write(b"LAST")
    d.flush()
    os.unlink(dump)
print(i, flush=True)
"""


def test_command_whose_map_is_deleted_at_exit(tmp_path: Path) -> None:
    require_tools("perf")
    script = tmp_path / "jit.py"
    script.write_text(EXITING_JIT)
    out = tmp_path / "bundle"
    r = jitprof("record", "-o", str(out), "--", sys.executable, str(script), "1.2",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = check_complete(out)
    assert m["times"]["stopped_by"] == "command exit"
    (p,) = [p for p in m["processes"] if "map" in p]
    assert p["cmdline"][-1] == "1.2"  # after its exec, not perf's
    assert p["map"]["deleted_by_process"] is True
    assert not os.path.exists(p["map"]["source"])
    data = (out / "maps" / f"perf-{p['pid']}.map").read_text()
    lines = data.splitlines()
    assert lines[-1] == "7fffff000000 10 PHP::written_just_before_exit"
    n = len(lines) - 1
    assert n > 10 and lines[:n] == [f"{0x7F0000000000 + i * 0x100:x} 100 PHP::fn{i}"
                                    for i in range(n)]
    # its jitdump, found in its working directory, also deleted at exit: complete
    assert p["jitdump"]["source"] == f"/proc/{p['pid']}/cwd/jit-{p['pid']}.dump"
    assert p["jitdump"]["deleted_by_process"] is True
    dump = (out / "jitdump" / f"jit-{p['pid']}.dump").read_bytes()
    assert dump == b"JiTD" + bytes(range(256)) * 40 + b"LAST"


def test_ctrl_c_keeps_the_recording(live_demo: Live, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "jitprof", "record", "--pid",
                             str(live_demo.pid), "-o", str(out)], stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first progress line: perf is recording
    assert first.startswith(f"jitprof record: pid {live_demo.pid}:"), first
    time.sleep(0.7)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    err = first + proc.communicate(timeout=60)[1]
    assert proc.returncode == 0, err
    m = check_complete(out)
    assert m["times"]["stopped_by"] == "interrupt", (err, live_demo.proc.poll())
    assert m["samples"] > 50
    assert live_demo.proc.poll() is None  # the recorded process was left alone
    doc = report_json(str(out))
    assert doc["samples"] == m["samples"]
    assert "PHP::Api_Handler::respond" in self_pct(doc)


# --- a process in its own pid namespace (a container) --------------------------------------


# pid 1 of a new pid and mount namespace: /tmp is a private tmpfs, then the demo
CONTAINER_INIT = """
import os, subprocess, sys
exe = os.open(sys.argv[1], os.O_RDONLY)  # the binary is under /tmp, about to be covered
subprocess.run(["mount", "-t", "tmpfs", "jitprof-test", "/tmp"], check=True)
os.execve(exe, sys.argv[1:], dict(os.environ))
"""


def test_process_in_a_container(demo_bin: Path, tmp_path: Path) -> None:
    """A process in its own pid and mount namespaces writes /tmp/perf-1.map in its own
    /tmp, which the host's /tmp does not have: found through NStgid and /proc/PID/root."""
    require_tools("unshare", "mount")
    if os.geteuid() != 0:
        skip_or_fail("unshare --pid --mount needs root")
    d = Live(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c",
              CONTAINER_INIT, str(demo_bin), "slow", "30"])
    out = tmp_path / "bundle"
    try:
        end = time.monotonic() + 10
        while not Path(f"/proc/{d.pid}/task/{d.pid}/children").read_text().split():
            assert time.monotonic() < end and d.proc.poll() is None, d.proc.stderr
            time.sleep(0.02)
        (child,) = Path(f"/proc/{d.pid}/task/{d.pid}/children").read_text().split()
        inside = f"/proc/{child}/root/tmp/perf-1.map"
        wait_for(inside, lines=DEMO_MAP_LINES)
        status = Path(f"/proc/{child}/status").read_text()
        assert [ln.split()[1:] for ln in status.splitlines() if ln.startswith("NStgid")] == [
            [child, "1"]]
        assert not os.path.exists(f"/tmp/perf-{child}.map")
        r = jitprof("record", "-p", child, "-d", "0.5", "-o", str(out))
        assert r.returncode == 0, r.stderr
    finally:
        d.stop()
    m = check_complete(out)
    (p,) = m["processes"]
    assert p["nspid"] == 1 and p["map"]["source"] == inside
    assert (out / "maps" / f"perf-{child}.map").is_file()
    doc = report_json(str(out))
    assert doc["diagnostics"]["jit_samples_resolved_pct"] == 100.0
    assert any(n.startswith("PHP::") for n in self_pct(doc))


# --- refused maps ----------------------------------------------------------------------------


def _no_bundle(tmp_path: Path) -> None:
    assert not (tmp_path / "bundle").exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_map_of_another_owner_is_refused(live_demo: Live, tmp_path: Path) -> None:
    os.chown(live_demo.map, NOBODY, NOBODY)
    r = jitprof("record", "-p", str(live_demo.pid), "-d", "1", "-o", str(tmp_path / "bundle"))
    assert r.returncode == 4
    assert r.stderr.strip().splitlines() == [
        f"jitprof: error: {live_demo.map}: refused: owned by uid {NOBODY}, but process "
        f"{live_demo.pid} runs as uid 0 (and it is not root's): another user may have planted "
        "it (check it, then record with --trust-map to use it anyway)"]
    _no_bundle(tmp_path)


def test_stale_map_is_refused(live_demo: Live, tmp_path: Path) -> None:
    old = time.time() - 3600
    os.utime(live_demo.map, (old, old))
    r = jitprof("record", "-p", str(live_demo.pid), "-d", "1", "-o", str(tmp_path / "bundle"))
    assert r.returncode == 4
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"jitprof: error: {live_demo.map}: refused: last written ")
    assert f"before process {live_demo.pid} started" in line and "--trust-map" in line
    _no_bundle(tmp_path)


def test_symlinked_map_is_not_followed(live_demo: Live, tmp_path: Path) -> None:
    real = tmp_path / "real.map"
    shutil.move(live_demo.map, real)
    os.symlink(real, live_demo.map)
    r = jitprof("record", "-p", str(live_demo.pid), "-d", "1", "-o", str(tmp_path / "bundle"))
    assert r.returncode == 4
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"jitprof: error: {live_demo.map}: is a symbolic link")
    _no_bundle(tmp_path)


def test_trust_map_keeps_doubtful_maps_but_never_follows_links(demo_bin: Path,
                                                               tmp_path: Path) -> None:
    """Two processes in one recording: A's map is another user's (kept with --trust-map,
    the manifest says why), B's is a symlink (left out: no map, with the warning)."""
    a = Live([str(demo_bin), "slow", "30"])
    b = Live([str(demo_bin), "slow", "30"])
    out = tmp_path / "bundle"
    try:
        wait_for(a.map, lines=DEMO_MAP_LINES)
        wait_for(b.map, lines=DEMO_MAP_LINES)
        os.chown(a.map, NOBODY, NOBODY)
        real = tmp_path / "real.map"
        shutil.move(b.map, real)
        os.symlink(real, b.map)
        r = jitprof("record", "-p", f"{a.pid},{b.pid}", "-d", "0.5", "--trust-map",
                    "-o", str(out))
    finally:
        a.stop()
        b.stop()
    assert r.returncode == 0, r.stderr
    m = check_complete(out)
    pa, pb = m["processes"]
    assert (pa["pid"], pb["pid"]) == (a.pid, b.pid)
    assert pa["map"]["doubts"][0].startswith(f"owned by uid {NOBODY}")
    assert (out / "maps" / f"perf-{a.pid}.map").is_file()
    assert "map" not in pb and pb["skipped_unsafe"] == [b.map]
    assert not (out / "maps" / f"perf-{b.pid}.map").exists()
    warnings = [ln[len("jitprof: warning: "):] for ln in r.stderr.splitlines()
                if ln.startswith("jitprof: warning: ")]
    assert warnings == m["warnings"]
    assert warnings == [
        f"{b.map}: is a symbolic link: jitprof never follows links in shared directories (it "
        "could point anywhere); left out",
        f"{a.map}: kept with --trust-map although owned by uid {NOBODY}, but process {a.pid} "
        "runs as uid 0 (and it is not root's): another user may have planted it",
        f"no perf map for pid {b.pid} (looked at /tmp/perf-{b.pid}.map): JIT frames will stay "
        "[unknown], native ones are fine. To have one: HHVM: -vEval.PerfPidMap=true "
        "-vEval.KeepPerfPidMap=true; node: --perf-basic-prof; Python 3.12+: -X perf; Java: "
        "java -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit (with "
        "-XX:+PreserveFramePointer for whole Java stacks), or jcmd PID Compiler.perfmap while "
        "it runs"]
    doc = report_json(str(out), "--pid", str(a.pid))
    assert doc["diagnostics"]["jit_samples_resolved_pct"] == 100.0


# --- errors that say how to fix them -------------------------------------------------------


def test_no_such_pid(tmp_path: Path) -> None:
    require_tools("perf")
    pid = (1 << 22) + 1  # above pid_max's ceiling (2^22): never a process
    r = jitprof("record", "-p", str(pid), "-o", str(tmp_path / "b"))
    assert r.returncode == 4
    assert r.stderr == (f"jitprof: error: pid {pid}: no such process (is it running on this "
                        f"host? check with: ps -p {pid})\n")


def test_perf_missing(tmp_path: Path) -> None:
    r = jitprof("record", "-p", str(os.getpid()), "-o", str(tmp_path / "b"),
                env={"PATH": str(tmp_path)})
    assert r.returncode == 4
    assert r.stderr.startswith("jitprof: error: perf: not found on PATH: install it: Debian: "
                               "apt-get install linux-perf")
    assert len(r.stderr.splitlines()) == 1


def test_perf_not_permitted_message(live_demo: Live, tmp_path: Path) -> None:
    """perf itself, run as nobody against root's process, fails; its real message becomes
    one line naming perf_event_paranoid's value and the capabilities."""
    require_tools("setpriv")
    if os.geteuid() != 0:
        skip_or_fail("needs root to switch to nobody")
    tmp_path.chmod(0o777)
    r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                        "perf", "record", "-g", "-p", str(live_demo.pid), "-o",
                        str(tmp_path / "x.data"), "--", "sleep", "0.2"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0, "perf let nobody profile root's process"
    err = explain_perf_failure(r.stderr, r.returncode, "cpu-clock", [], [live_demo.pid])
    par = Path("/proc/sys/kernel/perf_event_paranoid").read_text().strip()
    assert str(err) == (
        f"perf record: not permitted (kernel.perf_event_paranoid = {par}): run as root, or "
        "lower it (sysctl kernel.perf_event_paranoid=1; -1 for everything), or give perf "
        "CAP_PERFMON (setcap cap_perfmon,cap_sys_ptrace+ep $(command -v perf)); another "
        "user's process also needs CAP_SYS_PTRACE")
    assert err.exit_code == 4


def test_usage_errors(tmp_path: Path) -> None:
    r = jitprof("record", "-o", str(tmp_path / "b"))
    assert r.returncode == 2 and "give --pid PID or a command after --" in r.stderr
    (tmp_path / "b").mkdir()
    r = jitprof("record", "-p", str(os.getpid()), "-o", str(tmp_path / "b"))
    assert r.returncode == 4
    assert "already exists: choose another -o DIR or remove it" in r.stderr
