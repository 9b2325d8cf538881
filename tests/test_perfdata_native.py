"""Issue 15: the native perf.data reader (jitprof/parse/perfdata.py), on recordings made in
the test run and on bad input.

The oracles: the ``perf script`` path on the same perf.data (``tests/nativecheck.py``: the
two profiles must be the same, function by function and stack by stack), ``perf report``
(``tests/perfreport.py``), and an independent walker of the format (``tests/perfdatafile.py``)
that counts the records and samples and says where a file can be cut or mangled.

The recordings here are the ones the perf script path never had: ``perf record -z``, pipe
mode (``-o -`` to a file, and piped into ``jitprof report -``), two events at once, a
tracepoint with callchains, ``--call-graph dwarf`` (the fallback to perf script), a
recording with no samples and one whose perf was killed. The demo JIT, PIE and shared
library programs, node, the JVM, several processes and ``-k mono`` with a jitdump are
compared where the perf script path's tests record them (``test_native_reader_equals_perf_script``
in tests/test_perf_integration.py, test_symbolize_integration.py, test_node_integration.py,
test_java_integration.py, test_jitdump_integration.py).
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jitprof.commands import main
from jitprof.errors import InputError, JitprofError
from tests import perfdatafile as pdf
from tests.conftest import perf_record, require_tools, tool_failed
from tests.nativecheck import assert_native_equals_script, differences
from tests.workloads import BUSY2_CPP, BUSY2_FLAGS

ROOT = Path(__file__).resolve().parent.parent
TRUNCATED_RX = re.compile(r"truncated at byte ([\d,]+): ([\d,]+) samples? read")
LEFT_OUT_RX = re.compile(r"([\d,]+) (?:such )?samples?(?:\(s\))? left out")


def notes(doc: dict) -> list[str]:
    """What a JSON report says about its input (warnings and messages)."""
    d = doc["diagnostics"]
    return [*d.get("warnings", []), *d.get("messages", [])]


def truncated(doc: dict) -> tuple[int, int] | None:
    """(N, K) of the report's "truncated at byte N: K samples read", if it says so."""
    for w in notes(doc):
        m = TRUNCATED_RX.search(w)
        if m is not None:
            return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))
    return None


# -- recordings, made once a session -------------------------------------------------------

@pytest.fixture(scope="session")
def busy2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tools("perf", "g++")
    out = tmp_path_factory.mktemp("busy2")
    (out / "busy2.cpp").write_text(BUSY2_CPP)
    exe = out / "busy2"
    r = subprocess.run(["g++", *BUSY2_FLAGS, "-o", str(exe), str(out / "busy2.cpp")],
                       capture_output=True, text=True, timeout=180)
    if r.returncode != 0:
        tool_failed("compiling the two-thread workload", RuntimeError(r.stderr[-500:]))
    return exe


def record(exe: Path, data: Path, *perf_args: str, seconds: str = "0.6", sleepy: str = "0",
           pipe: bool = False) -> Path:
    """``perf record PERF_ARGS -o DATA -- busy2 SECONDS SLEEPY`` (pipe: ``-o -`` to DATA)."""
    argv = ["perf", "record", *perf_args, "-o", "-" if pipe else str(data), "--", str(exe),
            seconds, sleepy]
    with open(data, "wb") if pipe else open(os.devnull, "wb") as out:
        r = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, timeout=180)
    if r.returncode != 0:
        tool_failed(" ".join(argv), RuntimeError(r.stderr.decode(errors="replace")[-500:]))
    return data


DEFAULT = ("-F", "999", "-g", "-e", "cpu-clock")


@pytest.fixture(scope="session")
def plain(busy2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(busy2, tmp_path_factory.mktemp("plain") / "perf.data", *DEFAULT)


@pytest.fixture(scope="session")
def compressed(busy2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(busy2, tmp_path_factory.mktemp("z") / "perf.data", "-z", *DEFAULT)


@pytest.fixture(scope="session")
def piped(busy2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(busy2, tmp_path_factory.mktemp("pipe") / "perf.data", *DEFAULT, pipe=True)


@pytest.fixture(scope="session")
def two_events(busy2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(busy2, tmp_path_factory.mktemp("two") / "perf.data", "-F", "999", "-g",
                  "-e", "cpu-clock", "-e", "page-faults")


@pytest.fixture(scope="session")
def tracepoint(busy2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(busy2, tmp_path_factory.mktemp("tp") / "perf.data", "-g", "-e",
                  "sched:sched_switch", sleepy="300")


RECORDINGS = ["plain", "compressed", "piped", "tracepoint"]
EQUAL_CASES = ["plain", "compressed", "piped", "tracepoint"]


def _rec(request: pytest.FixtureRequest, name: str) -> Path:
    path: Path = request.getfixturevalue(name)
    return path


def report_json(data: Path | str, *extra: str, reader: str | None = "native") -> dict:
    argv = ["report", str(data), "--no-tmp", "--top", "0", "--format", "json", *extra]
    if reader is not None:
        argv += ["--perf-data-reader", reader]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 0, res.output
    doc: dict = json.loads(res.stdout)
    return doc


def rows(doc: dict) -> dict[tuple[str, str, str], tuple[int, ...]]:
    """A JSON report's function table, order-free."""
    out: dict[tuple[str, str, str], tuple[int, ...]] = {}
    for f in doc["functions"]:
        k = (f["name"], f["kind"], f["dso"])
        v = (f["self"], f["total"], f["self_samples"], f["total_samples"])
        out[k] = tuple(a + b for a, b in zip(out.get(k, (0, 0, 0, 0)), v, strict=True))
    return out


def assert_same_report(a: dict, b: dict, what: str) -> None:
    """Two JSON reports: the same samples, weight, functions, kinds, dsos and processes."""
    assert (a["samples"], a["weight"], a["event"]) == (b["samples"], b["weight"], b["event"]), (
        what)
    ra, rb = rows(a), rows(b)
    diff = sorted(k for k in {*ra, *rb} if ra.get(k) != rb.get(k))
    assert not diff, (what, [(k, ra.get(k), rb.get(k)) for k in diff[:8]])
    assert {k: v["self"] for k, v in a["kinds"].items()} == {
        k: v["self"] for k, v in b["kinds"].items()}, what
    assert {k: v["self"] for k, v in a["dsos"].items()} == {
        k: v["self"] for k, v in b["dsos"].items()}, what
    assert sorted((p["pid"], p["comm"], p["weight"]) for p in a["processes"]) == sorted(
        (p["pid"], p["comm"], p["weight"]) for p in b["processes"]), what


# -- the low-level reader against the walker and the machine -------------------------------

def test_read_perf_data_on_a_plain_recording(plain: Path, busy2: Path) -> None:
    from jitprof.parse.perfdata import read_perf_data

    buf = plain.read_bytes()
    lay = pdf.layout(buf)
    pd = read_perf_data(str(plain))
    assert pd.samples == len(lay.samples) > 100
    assert pd.record_counts == lay.counts()
    assert pd.truncated_at is None and pd.lost == 0 and pd.lost_samples == 0
    assert [(a.name, a.type, a.config) for a in pd.attrs] == [("cpu-clock", 1, 0)]
    assert pd.attrs[0].sample_type == lay.sample_types[0] and pd.attrs[0].ids
    f = pd.facts
    assert f.hostname == socket.gethostname()
    assert f.os_release == platform.release() and f.arch == platform.machine()
    version = subprocess.run(["perf", "--version"], capture_output=True, text=True).stdout
    assert f.perf_version and f.perf_version in version
    assert f.cmdline and "record" in f.cmdline and str(busy2) in f.cmdline
    assert pd.nrcpus == os.cpu_count()
    assert pd.clockid is None  # no -k
    # build-ids: what perf itself lists from the same file
    listed = subprocess.run(["perf", "buildid-list", "-i", str(plain)], capture_output=True,
                            text=True, check=True).stdout
    theirs = {path: bid for bid, path in (ln.split(None, 1) for ln in listed.splitlines()
                                          if ln.strip())}
    assert str(busy2) in theirs
    assert pd.build_ids == theirs


def test_read_perf_data_of_each_kind_counts_what_the_walker_counts(
        request: pytest.FixtureRequest) -> None:
    from jitprof.parse.perfdata import read_perf_data

    for name in ("compressed", "piped", "two_events", "tracepoint"):
        path = _rec(request, name)
        lay = pdf.layout(path.read_bytes())
        pd = read_perf_data(str(path))
        assert pd.samples == len(lay.samples) > 0, name
        assert pd.truncated_at is None, name
        for kind, n in lay.counts().items():  # (-z: the records inside counted too)
            assert pd.record_counts.get(kind) == n, (name, kind, pd.record_counts, n)
    pd = read_perf_data(str(_rec(request, "two_events")))
    assert [(a.name, a.type, a.config) for a in pd.attrs] == [
        ("cpu-clock", 1, 0), ("page-faults", 1, 2)]
    pd = read_perf_data(str(_rec(request, "tracepoint")))
    assert [(a.name, a.type) for a in pd.attrs] == [("sched:sched_switch", 2)]
    assert pd.record_counts.get("COMPRESSED") is None
    assert read_perf_data(str(_rec(request, "compressed"))).record_counts["COMPRESSED"] > 0


# -- the same profile as the perf script path, and perf report's shares --------------------

@pytest.mark.parametrize("name", EQUAL_CASES)
def test_native_equals_perf_script(request: pytest.FixtureRequest, name: str) -> None:
    path = _rec(request, name)
    native, _script = assert_native_equals_script(path, name, search_tmp=False)
    assert native.samples == len(pdf.layout(path.read_bytes()).samples)
    names = {f.name for f in native.frames}
    if name != "tracepoint":  # (and the vdso's function, from perf's copy of the image)
        assert {"work::spin_a", "work::spin_b", "__vdso_clock_gettime"} <= names, sorted(names)


@pytest.mark.parametrize("name", RECORDINGS)
def test_native_matches_perf_report(request: pytest.FixtureRequest, name: str) -> None:
    from tests.test_symbolize_integration import check_all_rows

    path = _rec(request, name)
    doc = report_json(path)
    check_all_rows(doc, path)
    ours = {f["name"]: f for f in doc["functions"]}
    if name == "tracepoint":  # every sample is a switch away, in the kernel's scheduler
        assert doc["event"] == "sched:sched_switch"
        assert doc["kinds"]["kernel"]["self_pct"] > 90, doc["kinds"]
        # switches away from the spinning threads (preempted) and from usleep
        assert sum(f["total_pct"] for n, f in ours.items() if n.startswith("work::")) > 1
        assert any(n.startswith("clock_nanosleep") and f["total_pct"] > 20
                   for n, f in ours.items())
    else:
        for fn in ("work::spin_a", "work::spin_b"):
            assert ours[fn]["self_pct"] > 10 and ours[fn]["kind"] == "native", ours.get(fn)


FORK_NO_EXEC = """
import os, time
pid = os.fork()
if pid == 0:  # the child runs the parent's code, in the parent's mappings, never execs
    end = time.time() + 0.4
    while time.time() < end:
        sum(range(1000))
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_forked_child_runs_in_its_parents_mappings(tmp_path: Path) -> None:
    """A child that forks and never execs has no MMAP of its own: perf gives it a copy of
    its parent's maps at the FORK; its samples are named from them."""
    require_tools("perf")
    data = tmp_path / "fork.data"
    perf_record([sys.executable, "-c", FORK_NO_EXEC], data)
    native, _ = assert_native_equals_script(data, "fork without exec", search_tmp=False)
    pids = {pid for pid, _comm in native.threads}
    assert len(pids) == 2, native.threads
    child = max(pids)  # (pids grow; the child's samples must be named, not [unknown])
    named = sum(w for stack, w, _n, th in native.iter_stacks() if native.threads[th][0] == child
                and stack and native.frames[stack[0]].kind.value != "unknown")
    assert named > 0.5 * sum(w for _s, w, _n, th in native.iter_stacks()
                             if native.threads[th][0] == child)


def test_two_events_each_equal_perf_script(two_events: Path) -> None:
    events = subprocess.run(["perf", "script", "-i", str(two_events), "-F", "event"],
                            capture_output=True, text=True, check=True).stdout.split()
    counts = {e.rstrip(":"): events.count(e) for e in set(events)}
    assert set(counts) == {"cpu-clock", "page-faults"}, counts
    for event in counts:
        native, _ = assert_native_equals_script(two_events, event, search_tmp=False,
                                                event=event)
        assert native.event == event and native.samples == counts[event]
        assert native.diagnostics.events == counts
    assert sum(counts.values()) == len(pdf.layout(two_events.read_bytes()).samples)
    # the page faults are work::touch's: in its frame or under it
    faults = report_json(two_events, "--event", "page-faults")
    touch = next(f for f in faults["functions"] if f["name"] == "work::touch")
    assert touch["total_pct"] > 50, touch


def test_perf_record_piped_into_report(busy2: Path, tmp_path: Path) -> None:
    """``perf record -o - | jitprof report -``: the stream read as it comes (a copy kept by
    tee is the oracle, read through perf script)."""
    require_tools("tee")
    copy = tmp_path / "stream.data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    perf = subprocess.Popen(["perf", "record", *DEFAULT, "-o", "-", "--", str(busy2), "0.6",
                             "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert perf.stdout is not None
    tee = subprocess.Popen(["tee", str(copy)], stdin=perf.stdout, stdout=subprocess.PIPE)
    perf.stdout.close()
    assert tee.stdout is not None
    rep = subprocess.run([sys.executable, "-m", "jitprof", "report", "-", "--no-tmp", "--top",
                          "0", "--format", "json"], stdin=tee.stdout, capture_output=True,
                         text=True, env=env, timeout=120)
    tee.stdout.close()
    assert perf.wait(timeout=60) == 0 and tee.wait(timeout=60) == 0
    assert rep.returncode == 0, rep.stderr
    doc = json.loads(rep.stdout)
    assert doc["samples"] == len(pdf.layout(copy.read_bytes()).samples) > 100
    assert_same_report(doc, report_json(copy, reader="script"), "piped into report -")


def test_export_and_diff_read_natively(plain: Path, tmp_path: Path) -> None:
    """export's folded stacks natively are perf script's, line for line; diff of a
    recording against itself, one side read each way: nothing changed."""
    out = {}
    for reader in ("native", "script"):
        dest = tmp_path / f"{reader}.folded"
        res = CliRunner().invoke(main, ["export", str(plain), "-o", str(dest), "--no-tmp",
                                        "--perf-data-reader", reader])
        assert res.exit_code == 0, res.output
        out[reader] = sorted(dest.read_text().splitlines())
    assert out["native"] == out["script"] and len(out["native"]) > 5
    res = CliRunner().invoke(main, ["diff", str(plain), str(plain), "--no-tmp", "--format",
                                    "json", "--perf-data-reader", "native"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["before"]["samples"] == doc["after"]["samples"] == len(
        pdf.layout(plain.read_bytes()).samples), {k: doc[k] for k in doc if k != "functions"}
    assert doc["functions"] and all(f["self_samples"][0] == f["self_samples"][1]
                                    for f in doc["functions"])


# -- perf absent ---------------------------------------------------------------------------

def _no_perf_env(tmp_path: Path) -> dict[str, str]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(sys.executable)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(bindir)}
    return env


def test_report_where_perf_is_not_installed(plain: Path, tmp_path: Path) -> None:
    env = _no_perf_env(tmp_path)
    argv = [sys.executable, "-m", "jitprof", "report", str(plain), "--no-tmp", "--top", "0",
            "--format", "json"]
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert_same_report(doc, report_json(plain, reader="script"), "perf not on PATH")
    assert {"work::spin_a", "work::spin_b"} <= {f["name"] for f in doc["functions"]}
    # the perf script path cannot run there, and says why in one line
    r = subprocess.run([*argv, "--perf-data-reader", "script"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 1 and "perf" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# -- what the native reader cannot read: perf script, with a note --------------------------

@pytest.fixture(scope="session")
def dwarf(busy2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(busy2, tmp_path_factory.mktemp("dwarf") / "perf.data", "-F", "199",
                  "--call-graph", "dwarf,4096", "-e", "cpu-clock", seconds="0.3")


def test_dwarf_callchains_fall_back_to_perf_script(dwarf: Path, tmp_path: Path) -> None:
    from jitprof.resolve import load_profile

    auto = load_profile([str(dwarf)], search_tmp=False)  # the default: "auto"
    script = load_profile([str(dwarf)], search_tmp=False, perf_data="script")
    assert not differences(auto, script)
    notes = [m for m in (*auto.diagnostics.messages, *auto.diagnostics.warnings)
             if "perf script" in m]
    assert len(notes) == 1 and "dwarf" in notes[0].lower(), (auto.diagnostics.messages,
                                                              auto.diagnostics.warnings)
    with pytest.raises(JitprofError, match="(?i)dwarf"):
        load_profile([str(dwarf)], search_tmp=False, perf_data="native")
    # without perf, auto cannot fall back: an error that names the feature
    r = subprocess.run([sys.executable, "-m", "jitprof", "report", str(dwarf), "--no-tmp"],
                       capture_output=True, text=True, env=_no_perf_env(tmp_path), timeout=120)
    assert r.returncode == 1 and "dwarf" in r.stderr.lower(), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


# -- bad input: one line, non-zero exit; a file cut short: "truncated at byte N" ------------

def cli(path: Path, *extra: str) -> Any:
    return CliRunner().invoke(main, ["report", str(path), "--no-tmp", "--top", "0",
                                     "--format", "json", "--perf-data-reader", "native",
                                     *extra])


def assert_one_line_error(res: Any, path: Path, exit_codes: tuple[int, ...] = (1,)) -> str:
    out = res.output.strip()
    assert res.exit_code in exit_codes, (res.exit_code, out)
    assert "Traceback" not in out and "internal error" not in out, out
    assert len(out.splitlines()) == 1 and str(path) in out, out
    return out


def _put(buf: bytes, offset: int, fmt: str, *values: int) -> bytes:
    b = bytearray(buf)
    struct.pack_into(fmt, b, offset, *values)
    return bytes(b)


CUT_SHORT = ("shorter than a header", "attrs past the end", "data past the end")


def _header_cases(buf: bytes) -> dict[str, bytes]:
    return {
        "wrong magic": b"PERFILE3" + buf[8:],
        "version 1": pdf.MAGIC1 + buf[8:],
        "text, not perf.data": b"not a perf.data file at all\n" * 3,
        "shorter than a header": buf[:60],
        "header size too small": _put(buf, 8, "<Q", 7),
        "header size huge": _put(buf, 8, "<Q", 1 << 40),
        "attr size zero": _put(buf, 16, "<Q", 0),
        "attr size not the attrs'": _put(buf, 16, "<Q", 100),
        "attr size huge": _put(buf, 16, "<Q", 1 << 33),
        "attrs past the end": _put(buf, 24, "<Q", len(buf) + 4096),
        "attrs section huge": _put(buf, 32, "<Q", 1 << 50),
        "data past the end": _put(buf, 40, "<Q", len(buf) + 4096),
    }


def test_bad_headers_are_one_line_errors(plain: Path, tmp_path: Path) -> None:
    from jitprof.parse.perfdata import read_perf_data

    buf = plain.read_bytes()
    for what, data in _header_cases(buf).items():
        path = tmp_path / (re.sub(r"\W+", "-", what) + ".data")
        path.write_bytes(data)
        try:
            pd = read_perf_data(str(path))
        except InputError as e:
            msg = str(e)
            assert str(path) in msg and "\n" not in msg, (what, msg)
            assert re.search(r"\b(bytes?|offset)\b", msg), (what, msg)
            if what == "version 1":
                assert "version" in msg.lower(), msg
        else:  # a file that ends before its sections: read as cut short, nothing in it
            assert what in CUT_SHORT, (what, "no error")
            assert pd.samples == 0 and pd.truncated_at is not None, what
        assert_one_line_error(cli(path), path, (1, 3))
    # an attr whose own size is 0 is perf's ABI 0 (the first 64 bytes), as perf reads it
    path = tmp_path / "abi0.data"
    path.write_bytes(_put(buf, struct.unpack_from("<Q", buf, 24)[0] + 4, "<I", 0))
    pd = read_perf_data(str(path))
    assert pd.samples == len(pdf.layout(buf).samples) and pd.attrs[0].name == "cpu-clock"


def test_attr_size_past_its_slot(plain: Path, tmp_path: Path) -> None:
    from jitprof.parse.perfdata import read_perf_data

    buf = plain.read_bytes()
    path = tmp_path / "attr4096.data"
    path.write_bytes(_put(buf, struct.unpack_from("<Q", buf, 24)[0] + 4, "<I", 4096))
    with pytest.raises(InputError, match=r"\b(bytes?|offset)\b"):
        read_perf_data(str(path))
    assert_one_line_error(cli(path), path, (1, 3))


def _mid_record(buf: bytes) -> tuple[pdf.Record, int]:
    """A record in the middle of the data section, and the samples before it."""
    lay = pdf.layout(buf)
    rec = lay.records[len(lay.records) // 2]
    return rec, sum(1 for r in lay.samples if r.offset < rec.offset)


def _cut_or_error(res: Any, path: Path, offset: int, before: int, whole: int) -> None:
    """A bad record at ``offset`` after ``before`` of ``whole`` samples: a one-line error
    that names the offset; or a report of the ``before`` samples that says it stopped
    there ("truncated at byte OFFSET: BEFORE samples read"); or a report of the others
    that names the offset and says how many samples it left out."""
    if res.exit_code != 0:
        out = assert_one_line_error(res, path, (1, 3))
        assert str(offset) in out.replace(",", ""), (offset, out)
        return
    doc = json.loads(res.stdout)
    cut = truncated(doc)
    if cut is not None:
        assert cut == (offset, before) and doc["samples"] == before, (cut, doc["samples"])
        return
    said = [m for w in notes(doc) if str(offset) in w.replace(",", "")
            for m in LEFT_OUT_RX.finditer(w)]
    assert said, ("a partial profile presented as complete", offset, notes(doc))
    left_out = int(said[0].group(1).replace(",", ""))
    assert 0 < left_out and doc["samples"] == whole - left_out, (said, doc["samples"], whole)


@pytest.mark.parametrize("size", [0, 4, 0xFFF8])
def test_record_size_zero_small_or_past_the_end(plain: Path, tmp_path: Path, size: int) -> None:
    buf = plain.read_bytes()
    rec, before = _mid_record(buf)
    path = tmp_path / f"size-{size}.data"
    path.write_bytes(_put(buf, rec.offset + 6, "<H", size))
    if size == 0xFFF8:
        assert rec.offset + size > pdf.layout(buf).end, "past the data section's end"
    _cut_or_error(cli(path), path, rec.offset, before, len(pdf.layout(buf).samples))


@pytest.mark.parametrize("nr", [1 << 40, (1 << 64) - 1, 200])
def test_huge_callchain_nr(plain: Path, tmp_path: Path, nr: int) -> None:
    buf = plain.read_bytes()
    rec, at = pdf.first_callchain(buf)
    before = sum(1 for r in pdf.layout(buf).samples if r.offset < rec.offset)
    assert nr * 8 > rec.size
    path = tmp_path / f"nr-{nr}.data"
    path.write_bytes(_put(buf, at, "<Q", nr))
    t0 = time.monotonic()
    _cut_or_error(cli(path), path, rec.offset, before, len(pdf.layout(buf).samples))
    assert time.monotonic() - t0 < 60


def _check_cut(buf: bytes, cut: int, path: Path) -> int:
    """``buf`` cut at ``cut`` into ``path``: the whole records before it read, and the
    report says where it stopped; returns the samples read."""
    from jitprof.parse.perfdata import read_perf_data

    path.write_bytes(buf[:cut])
    expect = sum(1 for r in pdf.layout(buf).samples if r.offset + r.size <= cut)
    pd = read_perf_data(str(path))
    assert pd.truncated_at is not None and pd.truncated_at <= cut, (cut, pd.truncated_at)
    assert pd.samples == expect, (cut, pd.samples, expect)
    res = cli(path)
    if expect == 0:
        assert_one_line_error(res, path, (1, 3))
        return 0
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    said = truncated(doc)
    assert said is not None, (cut, notes(doc))
    n, got = said
    assert n == pd.truncated_at and got == doc["samples"] == expect, (cut, n, got, expect)
    return got


def test_file_cut_at_every_twentieth(plain: Path, tmp_path: Path) -> None:
    """``head -c`` of a real recording at 1/20, 2/20, ... of its size, every cut inside its
    data section (the next test: after it): the whole records before the cut are read,
    and the report says where it stopped."""
    buf = plain.read_bytes()
    whole = pdf.layout(buf)
    data_end = whole.data[0] + whole.data[1]
    seen = [_check_cut(buf, cut, tmp_path / f"cut{k}.data") for k in range(1, 20)
            if (cut := len(buf) * k // 20) < data_end]
    assert len(seen) >= 15 and seen == sorted(seen) and seen[0] < seen[-1]
    assert seen[-1] <= len(whole.samples)


def test_file_cut_in_its_feature_sections(plain: Path, tmp_path: Path) -> None:
    """Cut after the data section, inside the feature sections (build-ids, hostname, event
    names...): every sample is there, but what the header promises is not: said."""
    buf = plain.read_bytes()
    whole = pdf.layout(buf)
    data_end = whole.data[0] + whole.data[1]
    assert len(buf) - data_end > 100
    for cut in (data_end + 1, (data_end + len(buf)) // 2, len(buf) - 1):
        assert _check_cut(buf, cut, tmp_path / f"cut{cut}.data") == len(whole.samples)


def test_pipe_mode_cut_short(piped: Path, tmp_path: Path) -> None:
    """A pipe-mode stream cut short (``perf record -o -`` killed, or its copy cut): read as
    a file and as ``jitprof report -`` on stdin, the whole records before the cut."""
    from jitprof.parse.perfdata import read_perf_data

    buf = piped.read_bytes()
    whole = pdf.layout(buf)

    def inside(at: int) -> int:  # the middle of the record at ``at``: a stream ending
        # between two records cannot tell it was cut (pipe mode has no sizes, no trailer)
        rec = next(r for r in whole.records if r.offset <= at < r.offset + r.size)
        return rec.offset + rec.size // 2

    for k in (2, 3, 4):
        cut = inside(len(buf) * k // 5)
        path = tmp_path / f"pipe-cut{k}.data"
        path.write_bytes(buf[:cut])
        expect = sum(1 for r in whole.samples if r.offset + r.size <= cut)
        pd = read_perf_data(str(path))
        assert pd.samples == expect > 0 and pd.truncated_at is not None, (k, pd.samples, expect)
        assert pd.truncated_at <= cut
    cut = inside(len(buf) // 2)
    r = subprocess.run([sys.executable, "-m", "jitprof", "report", "-", "--no-tmp", "--top",
                        "0", "--format", "json"], input=buf[:cut],
                       capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                       timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    cut_at = truncated(doc)
    expect = sum(1 for rec in whole.samples if rec.offset + rec.size <= cut)
    assert cut_at is not None and cut_at[1] == doc["samples"] == expect, (cut_at, notes(doc))
    # and garbage on stdin: one line
    r = subprocess.run([sys.executable, "-m", "jitprof", "report", "-", "--perf-data-reader",
                        "native"], input=b"PERFILE2" + b"\xff" * 100, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    err = r.stderr.decode(errors="replace").strip()
    assert r.returncode in (1, 3) and len(err.splitlines()) == 1 and "Traceback" not in err, err


def test_perf_killed_mid_recording(busy2: Path, tmp_path: Path) -> None:
    """perf killed (SIGKILL) while it records: the header's data size is still 0 and no
    feature section was written; what reached the file is read, and said to be partial
    (perf report refuses such a file)."""
    data = tmp_path / "killed.data"
    perf = subprocess.Popen(["perf", "record", "-F", "4999", "-g", "-e", "cpu-clock", "-o",
                             str(data), "--", str(busy2), "20", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # until perf has written some of its buffers (a loaded machine: later)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (
                not data.exists() or data.stat().st_size < 256 * 1024):
            time.sleep(0.1)
        children = [int(c) for f in Path(f"/proc/{perf.pid}/task").glob("*/children")
                    for c in f.read_text().split()]
    finally:
        perf.kill()
        perf.wait(timeout=30)
    for pid in children:  # the workload, perf's child, outlives it
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    buf = data.read_bytes()
    assert struct.unpack_from("<Q", buf, 48)[0] == 0, "perf wrote its header at exit"
    lay = pdf.layout(buf)
    if not lay.samples:
        tool_failed("perf killed before it wrote a sample", RuntimeError(str(len(buf))))
    res = cli(data)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["samples"] == len(lay.samples)
    # "truncated at byte N: K samples read" (a record cut in two), or, the file ending
    # between records, that perf did not finish and how many samples were read
    cut = truncated(doc)
    if cut is not None:
        assert cut == (lay.end, len(lay.samples)), cut
    else:
        said = [w for w in notes(doc) if f"{len(lay.samples):,}" in w
                or str(len(lay.samples)) in w]
        assert said and re.search(r"(?i)did not finish|killed|truncated", said[0]), notes(doc)
    assert {"work::spin_a", "work::spin_b"} <= {f["name"] for f in doc["functions"]}


def test_a_recording_without_samples(busy2: Path, tmp_path: Path) -> None:
    from jitprof.parse.perfdata import read_perf_data

    data = tmp_path / "none.data"
    # a period no 0.1 s run reaches: no sample, every other record there
    r = subprocess.run(["perf", "record", "-c", "1000000000000", "-g", "-e", "cpu-clock", "-o",
                        str(data), "--", str(busy2), "0.1", "0"], capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        tool_failed("perf record -c", RuntimeError(r.stderr[-300:]))
    assert not pdf.layout(data.read_bytes()).samples
    pd = read_perf_data(str(data))
    assert pd.samples == 0 and pd.truncated_at is None and pd.record_counts.get("COMM")
    assert_one_line_error(cli(data), data, (3,))


# -- fuzz: mangled bytes of a real recording -----------------------------------------------

@pytest.fixture(scope="session")
def tiny(busy2: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    data = record(busy2, tmp_path_factory.mktemp("tiny") / "perf.data", "-F", "499", "-g",
                  "-e", "cpu-clock", seconds="0.15")
    return data.read_bytes()


FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@st.composite
def mangled(draw: st.DrawFn, buf: bytes) -> bytes:
    """The recording with a few fields of its records overwritten (a size, a type, a
    callchain's nr, with small, huge and edge values), a few bytes anywhere, a range
    dropped or repeated, or the end cut off."""
    lay = pdf.layout(buf)
    sample_type = lay.sample_types[0]
    data_off = lay.data[0]
    b = bytearray(buf)
    for _ in range(draw(st.integers(1, 4))):
        rec = draw(st.sampled_from(lay.records))
        what = draw(st.sampled_from(["size", "type", "nr", "byte", "anywhere"]))
        if what == "size":
            struct.pack_into("<H", b, rec.offset + 6, draw(st.sampled_from(
                [0, 1, 7, 8, rec.size - 8, rec.size + 8, 0xFFFF])))
        elif what == "type":
            struct.pack_into("<I", b, rec.offset, draw(st.sampled_from(
                [0, 9, 10, 81, 68, 200, 0xFFFFFFFF])))
        elif what == "nr" and rec.type == pdf.SAMPLE:
            at = pdf.callchain_offset(buf, rec, sample_type)
            if at is not None:
                struct.pack_into("<Q", b, at, draw(st.sampled_from(
                    [0, 1, 127, 1 << 31, 1 << 40, (1 << 64) - 1])))
        else:
            lo = rec.offset if what == "byte" else 0
            hi = rec.offset + rec.size if what == "byte" else len(b)
            b[draw(st.integers(lo, hi - 1))] = draw(st.integers(0, 255))
    how = draw(st.sampled_from(["fields", "drop", "repeat", "cut"]))
    if how != "fields":
        i = draw(st.integers(data_off, len(b) - 1))
        j = draw(st.integers(i, min(len(b), i + 600)))
        b = b[:i] if how == "cut" else b[:i] + b[j:] if how == "drop" else b[:j] + b[i:]
    return bytes(b)


def test_fuzz_native_reader(tiny: bytes, tmp_path: Path) -> None:
    from jitprof.parse.perfdata import native_script_data, read_perf_data
    from jitprof.present.rows import function_rows
    from jitprof.resolve import MapFinder, build_profile

    path = tmp_path / "fuzz.data"

    @FUZZ
    @given(mangled(tiny))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        try:
            pd = read_perf_data(str(path))
        except InputError:
            return
        assert 0 <= pd.samples <= pd.record_counts.get("SAMPLE", 0)
        assert pd.truncated_at is None or 0 <= pd.truncated_at <= len(data)
        assert pd.lost >= 0 and pd.lost_samples >= 0
        try:
            sd = native_script_data([str(path)])
        except InputError:
            return
        # every sample read is in the tables, once
        assert sum(len(ev.s_stack) for ev in sd.events.values()) == pd.samples
        try:
            prof = build_profile(sd, MapFinder(search_tmp=False))
        except JitprofError:
            return
        prof.verify()
        assert prof.samples == len(sd.events[prof.event].s_stack)
        assert sum(r.self_samples for r in function_rows(prof)) == prof.samples

    run()
