"""The live engine (jitprof/acquire/live.py) and `jitprof top --stdio`.

Truth: a recording fed to the engine in arbitrary pieces gives the profile `jitprof report`
computes from the whole text at once (whole run), or from the samples of the last N
seconds picked out here independently (window); then a real perf stream on a live demo
process, and `jitprof top --stdio` on it."""

from __future__ import annotations

import gzip
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jitprof.acquire.live import LiveProfiler, ring_pages
from jitprof.model import Profile
from jitprof.present.rows import function_rows
from jitprof.resolve import load_profile
from tests.conftest import ROOT, SAMPLES, require_tools
from tests.test_record import DEMO_MAP_LINES, Live, wait_for
from tests.test_record import demo_bin as demo_bin  # the module-scoped build, a fixture
from tests.test_record import live_demo as live_demo  # hhvm_demo slow, killed after the test

SLOW = SAMPLES / "hhvm-demo" / "slow"
PID = 14089
TIME_RX = re.compile(r"(?:^|\s)(\d+\.\d+):(?=\s|$)")


@pytest.fixture(scope="module")
def slow_text() -> str:
    return gzip.decompress((SLOW / "perf.script.gz").read_bytes()).decode()


def rows(p: Profile) -> list[tuple[str, str, int, int, int, int]]:
    return sorted((r.name, r.kind.value, r.self_samples, r.total_samples, r.self_weight,
             r.total_weight)
                  for r in function_rows(p, top=None))


def report_of(text: str, tmp_path: Path, map_path: Path) -> Profile:
    f = tmp_path / "part.script"
    f.write_text(text)
    prof = load_profile([str(f)], maps=[str(map_path)], search_tmp=False)
    prof.verify()
    return prof


def feed_in_pieces(live: LiveProfiler, text: str, seed: int) -> None:
    rnd = random.Random(seed)
    i = 0
    while i < len(text):
        n = rnd.randint(1, 20000)
        live.feed(text[i : i + n])
        i += n


def live_on_map(tmp_path: Path, map_bytes: bytes, keep: float = 60) -> LiveProfiler:
    d = tmp_path / "maps"
    d.mkdir(exist_ok=True)
    (d / f"perf-{PID}.map").write_bytes(map_bytes)
    live = LiveProfiler([], keep=keep)
    live.add_map(PID, str(d), f"perf-{PID}.map")
    return live


def test_whole_run_equals_report(slow_text: str, tmp_path: Path) -> None:
    live = live_on_map(tmp_path, (SLOW / f"perf-{PID}.map").read_bytes(), keep=1)
    feed_in_pieces(live, slow_text + "\n", seed=1)
    snap = live.snapshot()
    assert snap is not None
    snap.verify()
    whole = report_of(slow_text, tmp_path, SLOW / f"perf-{PID}.map")
    assert snap.samples == whole.samples == 2002
    assert rows(snap) == rows(whole)  # with keep=1 most buckets were folded: same result
    assert dict(snap.diagnostics.events) == dict(whole.diagnostics.events)


def _blocks_since(text: str, first_second: int) -> str:
    keep = []
    for block in text.split("\n\n"):
        lines = [ln for ln in block.split("\n") if "PERF_RECORD_" not in ln]
        m = TIME_RX.search(lines[0]) if lines and lines[0] else None
        if m is not None and int(float(m.group(1))) >= first_second:
            keep.append("\n".join(lines))
    return "\n\n".join(keep) + "\n\n"


def test_window_is_the_last_seconds(slow_text: str, tmp_path: Path) -> None:
    live = live_on_map(tmp_path, (SLOW / f"perf-{PID}.map").read_bytes())
    feed_in_pieces(live, slow_text + "\n", seed=2)
    last = max(float(m.group(1)) for m in TIME_RX.finditer(slow_text))
    # one-second buckets of perf time: the window holds at least its seconds
    snap = live.snapshot(window=1)
    assert snap is not None
    truth = report_of(_blocks_since(slow_text, int(last - 1)), tmp_path,
                      SLOW / f"perf-{PID}.map")
    assert 0 < snap.samples == truth.samples < 2002
    assert rows(snap) == rows(truth)
    assert snap.time_first is not None and snap.time_last == last
    assert 1.0 <= snap.time_last - snap.time_first < 2.0
    two = live.snapshot(window=2)
    assert two is not None and two.samples == report_of(
        _blocks_since(slow_text, int(last - 2)), tmp_path, SLOW / f"perf-{PID}.map").samples
    with pytest.raises(ValueError):
        live.snapshot(window=61)


def test_map_lines_appended_later_name_the_samples(slow_text: str, tmp_path: Path) -> None:
    full = (SLOW / f"perf-{PID}.map").read_bytes()
    head, tail = full[: full.index(b"\n") + 1], full[full.index(b"\n") + 1 :]
    live = live_on_map(tmp_path, head)  # only HHVM::enterTCHelper so far
    live.feed(slow_text + "\n")
    before = live.snapshot()
    assert before is not None
    names = {r[0] for r in rows(before)}
    assert "HHVM::enterTCHelper" in names and "PHP::Api_Handler::respond" not in names
    assert before.diagnostics.maps[0].lines == 1
    with open(tmp_path / "maps" / f"perf-{PID}.map", "ab") as f:
        f.write(tail[:-5])  # the last line still being written
    mid = live.snapshot()
    with open(tmp_path / "maps" / f"perf-{PID}.map", "ab") as f:
        f.write(tail[-5:])
    after = live.snapshot()
    assert mid is not None and after is not None
    assert mid.diagnostics.maps[0].lines == DEMO_MAP_LINES - 1
    assert after.diagnostics.maps[0].lines == DEMO_MAP_LINES
    assert rows(after) == rows(report_of(slow_text, tmp_path, SLOW / f"perf-{PID}.map"))


def test_pause_and_reset(slow_text: str, tmp_path: Path) -> None:
    blocks = slow_text.split("\n\n")
    half = "\n\n".join(blocks[: len(blocks) // 2]) + "\n\n"
    rest = "\n\n".join(blocks[len(blocks) // 2 :]) + "\n\n"
    live = live_on_map(tmp_path, (SLOW / f"perf-{PID}.map").read_bytes())
    live.feed(half)
    first = live.snapshot()
    assert first is not None
    live.pause()
    live.feed(rest)
    paused = live.snapshot()
    assert paused is not None and paused.samples == first.samples
    assert live.stats.dropped_paused == 2002 - first.samples
    live.resume()
    live.reset()
    assert live.snapshot() is None  # nothing since the reset
    live.feed(rest)
    again = live.snapshot()
    assert again is not None
    assert again.samples == 2002 - first.samples
    assert rows(again) == rows(report_of(rest, tmp_path, SLOW / f"perf-{PID}.map"))


def test_ring_pages() -> None:
    assert [ring_pages(f) for f in (1, 99, 999, 4000, 100000)] == [4, 4, 8, 32, 128]


# --- a real perf stream on a live process -----------------------------------------------------




def _wait_samples(live: LiveProfiler, n: int, timeout: float = 30) -> Profile:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        snap = live.snapshot()
        if snap is not None and snap.samples >= n:
            return snap
        time.sleep(0.2)
    raise AssertionError(f"fewer than {n} samples in {timeout} s")


def test_engine_on_a_live_process(live_demo: Live) -> None:
    require_tools("perf")
    live = LiveProfiler([live_demo.pid])
    live.start(freq=999)
    try:
        snap = _wait_samples(live, 200)
        names = {r[0]: r for r in rows(snap)}
        for fn in ("PHP::Api_Handler::respond", "PHP::Api_Router::route", "HPHP::f_sort"):
            assert fn in names, sorted(names)
        assert snap.diagnostics.jit_samples_resolved_pct == 100.0
        live.pause()
        time.sleep(0.3)  # what was in flight
        held = live.data().events["cpu-clock"].samples
        time.sleep(1.0)
        assert live.data().events["cpu-clock"].samples == held
        assert live.stats.dropped_paused > 0
        live.resume()
        live.reset()
        later = _wait_samples(live, 20)
        # the samples before the reset are forgotten (all of these came after the pause)
        assert later.time_first is not None and snap.time_last is not None
        assert later.time_first > snap.time_last
    finally:
        live.close()
    assert not live.running()


def test_top_stdio_shows_the_hot_functions(live_demo: Live) -> None:
    require_tools("perf")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "jitprof", "top", "--pid", str(live_demo.pid),
                        "--stdio", "--interval", "1.5", "--count", "3", "--top", "8"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    frames = r.stdout.split("jitprof top: ")[1:]
    assert len(frames) == 3
    assert frames[0].startswith(f"pid {live_demo.pid} (hhvm_demo); whole run")
    last = frames[-1]
    assert "100.0% of JIT samples named" in last
    assert f"/tmp/perf-{live_demo.pid}.map 8 lines" in last
    table = [ln.split() for ln in last.splitlines()[2:]]
    assert table[0][-1] == "HPHP::f_sort" and float(table[0][0].rstrip("%")) > 30
    listed = [t[-1] for t in table]
    for fn in ("PHP::Api_Handler::respond", "PHP::Api_Router::route", "PHP::Api_View::render"):
        assert fn in listed, listed


# --- `jitprof top --stdio` against perf report on the very stream it read -------------------

# A `perf` first on PATH for jitprof top: `perf record ... -o -` runs the real perf and
# copies the stream it writes both to top (stdout) and to a file, which perf report then
# reads; anything else is the real perf. SIGINT (top stopping perf) is passed on.
TEE_PERF = """#!{python}
import os, signal, subprocess, sys
REAL, TEE = {real!r}, {tee!r}
args = sys.argv[1:]
if args[:1] != ["record"] or args[-2:] != ["-o", "-"]:
    os.execv(REAL, [REAL, *args])
fds = [int(x) for a in args if a.startswith("fd:") for x in a[3:].split(",")]
p = subprocess.Popen([REAL, *args], stdout=subprocess.PIPE, pass_fds=fds)
signal.signal(signal.SIGINT, lambda *_: p.send_signal(signal.SIGINT))
with open(TEE, "wb") as f:
    while chunk := p.stdout.read1(1 << 16):
        f.write(chunk)
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
rc = p.wait()
if rc < 0:
    signal.signal(-rc, signal.SIG_DFL)
    os.kill(os.getpid(), -rc)
sys.exit(rc)
"""
TOP_ROW = re.compile(r"^\s+(\d+\.\d+)% +(\d+\.\d+)% +(\d+) +(\d+)  (\S+) +(\S+) +(.*?)\s*$")


def test_top_stdio_matches_perf_report_on_its_stream(demo_bin: Path, tmp_path: Path) -> None:
    """The last table `jitprof top --stdio` prints (after the process exited and the
    stream drained: every sample perf recorded) against perf report on that stream: the
    sample count, each function's self samples exactly (the whole long tail bounded),
    self and total %, total samples (perf script's callchains)."""
    import shutil

    from tests.perfreport import (
        compare_weights,
        jitprof_bucket,
        map_lines,
        overlapping_names,
        perf_bucket,
        perf_rows,
        perf_script_total_samples,
        perf_script_totals,
    )

    require_tools("perf")
    real = shutil.which("perf")
    assert real is not None
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stream = tmp_path / "top.data"
    (bindir / "perf").write_text(TEE_PERF.format(python=sys.executable, real=real,
                                                 tee=str(stream)))
    (bindir / "perf").chmod(0o755)
    d = Live([str(demo_bin), "slow", "5"])
    try:
        wait_for(d.map, lines=DEMO_MAP_LINES)
        map_text = Path(d.map).read_bytes()  # the demo writes its whole map at start
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{bindir}:{os.environ['PATH']}"}
        r = subprocess.run([sys.executable, "-m", "jitprof", "top", "--pid", str(d.pid),
                            "--stdio", "--interval", "1", "--top", "1000"],
                           capture_output=True, text=True, timeout=120, env=env)
        assert r.returncode == 0, r.stderr
        assert "the process exited" in r.stderr
        last = r.stdout.split("jitprof top: ")[-1]
        head = re.search(r"; ([\d,]+) samples;", last)
        assert head is not None, last[:300]
        rows = [m.groups() for m in map(TOP_ROW.match, last.splitlines()) if m]
        # perf (the oracle) reads the map from /tmp: put it back if something on this
        # machine cleaned /tmp meanwhile (the process has exited; the pid is not reused yet)
        if not os.path.exists(d.map):
            Path(d.map).write_bytes(map_text)
        reused = overlapping_names(map_lines(Path(d.map)))
        perf = perf_rows(stream, "sym")
        # (perf report of a pipe-mode perf.data has no --children)
        totals, weight = perf_script_totals(stream)
        total_n, n_samples = perf_script_total_samples(stream)
    finally:
        d.stop()
    samples = sum(n for _k, n, _p in perf)
    assert int(head.group(1).replace(",", "")) == samples > 100  # (fewer on a loaded machine)
    ours: dict[str, int] = {}
    for _self, _total, n, _n_total, _kind, _dso, name in rows:
        ours[jitprof_bucket(name, reused)] = ours.get(jitprof_bucket(name, reused), 0) + int(n)
    theirs: dict[str, int] = {}
    for (sym,), n, _p in perf:
        theirs[perf_bucket(sym, reused)] = theirs.get(perf_bucket(sym, reused), 0) + n
    assert sum(ours.values()) == samples  # every sample is in a row shown
    compare_weights(ours, theirs, samples, "top --stdio self samples by name", at_least=5)
    # total %: every name above 0.5% on either side, within 0.1 pts (the table rounds to
    # 0.01), reused ranges left out (perf's pick there is arbitrary)
    shown = {name: float(total) for _s, total, _n, _nt, _k, _d, name in rows}
    checked = 0
    for name in {*totals, *shown}:
        theirs_pct = totals.get(name, 0) * 100.0 / weight
        if name in reused or name.startswith("[") or max(theirs_pct, shown.get(name, 0)) <= 0.5:
            continue
        assert abs(shown.get(name, 0.0) - theirs_pct) <= 0.1, (name, shown.get(name), theirs_pct)
        checked += 1
    assert checked >= 8 and shown["HPHP::f_sort"] > 30
    # total samples: exactly, every name perf names on one row of ours (the same name on
    # two rows, e.g. [unknown] of two dsos, has no one total), reused ranges left out
    assert n_samples == samples
    named: dict[str, list[int]] = {}
    for _s, _t, _n, n_total, _k, _d, name in rows:
        named.setdefault(name, []).append(int(n_total))
    checked = 0
    for name, n in total_n.items():
        if name in reused or len(named.get(name, [])) > 1:
            continue
        assert named.get(name) == [n], (name, named.get(name), n)
        checked += 1
    assert checked >= 8 and named["HPHP::runRequestLoop"][0] > 0.9 * samples
    assert {n for n in named if n not in total_n} <= reused | {"[unknown]"}


# --- perf record's stream read natively (one perf process) -----------------------------------


@pytest.fixture(scope="module")
def demo_stream(demo_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """``perf record -g -o -`` of the live demo for 2.5 s, as top reads it, and its map."""
    require_tools("perf")
    out = tmp_path_factory.mktemp("stream")
    d = Live([str(demo_bin), "slow", "30"])
    try:
        wait_for(d.map, lines=DEMO_MAP_LINES)
        (out / f"perf-{d.pid}.map").write_bytes(Path(d.map).read_bytes())
        with open(out / "top.data", "wb") as f:
            rec = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-e", "cpu-clock",
                                    "-p", str(d.pid), "-o", "-"], stdout=f,
                                   stderr=subprocess.DEVNULL)
            time.sleep(2.5)
            rec.send_signal(2)
            rec.wait(timeout=30)
    finally:
        d.stop()
    return {"stream": out / "top.data", "dir": out, "pid": d.pid}


def native_live(s: dict[str, object], seed: int, keep: float = 60) -> LiveProfiler:
    live = LiveProfiler([], keep=keep)
    pid = int(s["pid"])  # type: ignore[call-overload]
    live.add_map(pid, str(s["dir"]), f"perf-{pid}.map")
    data = Path(str(s["stream"])).read_bytes()
    rnd = random.Random(seed)
    i = 0
    while i < len(data):
        n = rnd.randint(1, 30000)
        live.feed_perf_data(data[i : i + n])
        i += n
    return live


def test_native_stream_in_pieces_equals_report(demo_stream: dict[str, object]) -> None:
    """The stream fed in random pieces (decoded at once, made samples every 0.5 s and at
    the snapshot) gives `jitprof report`'s profile of the same stream read whole: every
    function's self and total samples and weights; the same with most buckets folded."""
    stream = str(demo_stream["stream"])
    pid = demo_stream["pid"]
    whole = load_profile([stream], maps=[str(Path(str(demo_stream["dir"])) / f"perf-{pid}.map")],
                         search_tmp=False, perf_data="native")
    for seed, keep in ((1, 60), (2, 1)):
        live = native_live(demo_stream, seed, keep)
        snap = live.snapshot()
        assert snap is not None and live.native
        snap.verify()
        assert snap.samples == whole.samples > 100
        assert rows(snap) == rows(whole)
        assert live.stats.samples == whole.samples
        names = {r[0] for r in rows(snap)}
        assert {"HPHP::f_sort", "PHP::Api_Handler::respond"} <= names


def test_native_window_pause_reset(demo_stream: dict[str, object]) -> None:
    """The window of a native stream holds the samples whose perf time is in the last
    seconds' buckets, counted here from the stream's own sample times; pause drops (and
    counts) what comes meanwhile; reset forgets."""
    import numpy as np

    from jitprof.parse.perfdata import read_perf_data

    pd = read_perf_data(str(demo_stream["stream"]))
    t = np.concatenate([c.time for c in pd.samples_by_attr]).astype(np.float64) / 1e9
    live = native_live(demo_stream, 3)
    last = float(t.max())
    snap = live.snapshot(window=1)
    assert snap is not None
    want = int((np.floor(t) >= int(last - 1)).sum())
    assert 0 < snap.samples == want < len(t)
    assert live.latest is not None and abs(live.latest - last) < 1e-5
    # pause: the stream fed meanwhile is counted, not kept
    data = Path(str(demo_stream["stream"])).read_bytes()
    paused = LiveProfiler([], keep=60)
    half = len(data) // 2
    paused.feed_perf_data(data[:half])
    paused.pause()
    kept = paused.stats.samples
    paused.feed_perf_data(data[half:])
    paused.resume()
    assert paused.stats.samples == len(t)
    assert paused.stats.dropped_paused == len(t) - kept > 0
    (ev,) = paused.data().events.values()
    assert ev.samples == kept
    paused.reset()
    assert paused.snapshot() is None and paused.latest is None


def test_native_stream_that_is_no_perf_data() -> None:
    """Bytes that are not a perf.data stream: the reason, once, as the failure; no
    samples, no exception from a snapshot."""
    live = LiveProfiler([])
    live.feed_perf_data(b"# this is perf script text, not perf record -o -\n" * 4)
    live.feed_perf_data(b"more of it\n")
    failure = live.failure()
    assert failure is not None and failure.message == (
        "not a perf.data stream (no PERFILE2 magic at byte 0)")
    assert live.snapshot() is None and live.stats.samples == 0


# A `perf` first on PATH whose `perf record` records DWARF call graphs (user stacks that
# only perf's unwinder reads): what jitprof cannot read itself.
DWARF_PERF = """#!{python}
import os, sys
REAL = {real!r}
args = sys.argv[1:]
if args[:1] == ["record"] and args[-2:] == ["-o", "-"]:
    args = [*args[:-2], "--call-graph", "dwarf,8192", *args[-2:]]
os.execv(REAL, [REAL, *args])
"""


def test_top_falls_back_to_perf_script(live_demo: Live, tmp_path: Path) -> None:
    """A stream jitprof cannot read natively (DWARF call graphs): `auto` says so in one
    note and reads it through perf script (the table still names the demo's functions);
    `native` stops with a one-line error."""
    import shutil

    require_tools("perf")
    real = shutil.which("perf")
    assert real is not None
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "perf").write_text(DWARF_PERF.format(python=sys.executable, real=real))
    (bindir / "perf").chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{bindir}:{os.environ['PATH']}"}
    argv = [sys.executable, "-m", "jitprof", "top", "--pid", str(live_demo.pid), "--stdio",
            "--interval", "1.5", "--count", "2", "--top", "8"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    notes = [ln for ln in r.stderr.splitlines() if ln.startswith("jitprof: note:")]
    assert notes == ["jitprof: note: perf (live): perf's stream holds DWARF call graphs "
                     "(perf record --call-graph dwarf): user stacks are unwound by perf's "
                     "libunwind/libdw: read through perf script"], r.stderr
    last = r.stdout.split("jitprof top: ")[-1]
    listed = [ln.split()[-1] for ln in last.splitlines()[2:] if ln.strip()]
    assert "HPHP::f_sort" in listed, last
    r = subprocess.run([*argv, "--perf-data-reader", "native"], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 4, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines == ["jitprof: error: perf (live): perf's stream holds DWARF call graphs (perf "
                     "record --call-graph dwarf): user stacks are unwound by perf's "
                     "libunwind/libdw: jitprof cannot read that itself (use "
                     "--perf-data-reader script)"], r.stderr
