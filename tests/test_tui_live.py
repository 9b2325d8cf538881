"""`jitprof top`'s live TUI (jitprof/tui/live.py) on real processes and a real perf stream.

The process is the demo JIT (hhvm_demo slow: HPHP::f_sort is hot by construction, under
PHP:: functions named from the /tmp/perf-<pid>.map it writes). Pilot tests press keys and
read the widgets; a tmux test runs the real `jitprof top --pid PID` in an 80x24 terminal.
No perf mock anywhere: a perf failure is a real one (an event perf does not know)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from jitprof.acquire.live import LiveProfiler
from jitprof.commands import main
from jitprof.errors import EXIT_USAGE
from jitprof.present.liveview import LiveView
from jitprof.tui.live import LiveApp, live_key_sections
from jitprof.tui.widgets import CallTreeView, TimelineStrip
from tests.conftest import ROOT, require_tools
from tests.test_record import DEMO_MAP_LINES, Live, wait_for
from tests.test_record import demo_bin as demo_bin  # the module-scoped build, a fixture
from tests.test_tui_e2e import Tmux
from tests.test_tui_e2e import tmux as tmux  # a private tmux server, a fixture


@pytest.fixture(scope="module")
def demo(demo_bin: Path) -> Iterator[Live]:
    """One hhvm_demo slow process for the module's live tests (killed at the end)."""
    d = Live([str(demo_bin), "slow", "120"])
    try:
        wait_for(d.map, lines=DEMO_MAP_LINES)
        yield d
    finally:
        d.stop()


def hot(app: LiveApp) -> list[tuple[float, float, int, str]]:
    """The hot table as (self %, total %, samples, function)."""
    t = app.screen.query_one("#hot-table", DataTable)
    out = []
    for i in range(t.row_count):
        c = [str(x) for x in t.get_row_at(i)]
        out.append((float(c[0].rstrip("%")), float(c[1].rstrip("%")),
                    int(c[2].replace(",", "")), c[-1]))
    return out


def cursor_function(app: LiveApp) -> str:
    t = app.screen.query_one("#hot-table", DataTable)
    return str(t.get_row_at(t.cursor_row)[-1])


def status_line(app: LiveApp) -> str:
    return str(app.screen.query_one("#live-status", Static).content)


async def until(pilot: Pilot[Any], ok: Callable[[], bool], what: str,
                timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not after {timeout} s")
        await pilot.pause(0.05)


def perf_children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` and whose command is perf."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0]
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        if ppid == pid and os.path.basename(argv0) == b"perf":
            out.append(int(d))
    return out


async def test_live_app_on_the_demo(demo: Live) -> None:
    require_tools("perf")
    live = LiveProfiler([demo.pid])
    live.start(freq=999)
    view = LiveView(live, interval=0.5, window=1)
    app = LiveApp(view)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            # until the first samples: the waiting panel, no table (unless perf was quicker
            # than the pilot: perf starts before the App; the test of the waiting state
            # without perf checks the panel itself)
            assert app._waiting or (view.shown is not None and view.shown.profile is not None)
            await until(pilot, lambda: app.refreshes >= 1 and view.shown is not None
                        and view.shown.profile is not None
                        and view.shown.profile.samples >= 300, "300 samples shown")
            await until(pilot, lambda: not app._waiting, "the views")
            rows = hot(app)
            names = [r[-1] for r in rows]
            # the demo's story: f_sort on top with about half of the samples, called from
            # JIT code named from the map
            assert names[0] == "HPHP::f_sort" and 30 < rows[0][0] < 90, rows[:3]
            by = {r[-1]: r for r in rows}
            assert by["PHP::Api_Handler::respond"][1] > 80  # every request goes through it
            for fn in ("PHP::Api_Router::route", "PHP::Api_View::render"):
                assert 0.5 < by[fn][0] < 30, by[fn]
            assert sum(r[2] for r in rows) == view.shown.profile.samples
            assert "JIT 100.0% named" in str(app.screen.query_one("#status", Static).content)
            assert status_line(app).startswith(" LIVE ")
            assert f"pid {demo.pid} alive" in status_line(app)
            assert "map 8 lines" in status_line(app)
            # the timeline of the run: its bins hold every sample shown
            strip = app.screen.query_one(TimelineStrip)
            assert strip.display and strip.timeline is not None
            assert sum(strip.timeline.weights) == view.shown.profile.weight

            # the function under the cursor stays under it across refreshes (chosen while
            # paused: a refresh between reading the rows and moving could reorder them)
            await pilot.press("p")
            k = [r[-1] for r in hot(app)].index("PHP::Api_Router::route")
            await pilot.press(*["down"] * k)
            assert cursor_function(app) == "PHP::Api_Router::route"
            await pilot.press("p")
            n = app.refreshes
            await until(pilot, lambda: app.refreshes >= n + 2, "two more refreshes")
            assert cursor_function(app) == "PHP::Api_Router::route"
            await pilot.press("enter")  # its callers/callees, kept across refreshes too
            n = app.refreshes
            await until(pilot, lambda: app.refreshes >= n + 1, "a refresh")
            head = str(app.screen.query_one("#detail-head", Static).content)
            assert head.startswith("[PHP] PHP::Api_Router::route")
            # the flame graph's zoom and the call tree's path, kept while open and refreshed
            await pilot.press("4", *["down"] * 8, "enter")
            crumbs = str(app.screen.query_one("#breadcrumb", Static).content)
            assert crumbs.endswith("› HPHP::f_sort"), crumbs
            n = app.refreshes
            await until(pilot, lambda: app.refreshes >= n + 1, "a refresh of the flame graph")
            assert str(app.screen.query_one("#breadcrumb", Static).content) == crumbs
            await pilot.press("3", "h")
            await pilot.pause(0.2)
            assert "HPHP::f_sort" in app.screen.query_one(CallTreeView).cursor_text()
            n = app.refreshes
            await until(pilot, lambda: app.refreshes >= n + 1, "a refresh of the call tree")
            await pilot.pause(0.2)
            assert "HPHP::f_sort" in app.screen.query_one(CallTreeView).cursor_text()
            await pilot.press("1")

            # pause: the display stays, perf goes on recording
            await pilot.press("p")
            n, shown = app.refreshes, view.shown.profile.samples
            table = hot(app)
            read = live.stats.samples
            await pilot.pause(1.6)  # three intervals
            assert app.refreshes == n and hot(app) == table
            assert view.shown.profile.samples == shown
            assert live.stats.samples > read + 100  # perf kept recording (fewer on a busy machine)
            assert status_line(app).startswith(" PAUSED ") and "since (p resumes)" in (
                status_line(app))
            await pilot.press("p")
            await until(pilot, lambda: app.refreshes > n, "a refresh after resuming")
            assert view.shown.profile.samples > shown + 100

            # w: the last second (1 to 2 s of samples) against the whole run (> 2 s now)
            whole = view.shown.profile
            assert whole is not None and whole.time_first is not None
            assert whole.time_last is not None and whole.time_last - whole.time_first > 2.0
            await pilot.press("w")
            await until(pilot, lambda: view.shown is not None and view.shown.window == 1,
                        "the window")
            last = view.shown.profile
            assert last is not None and last.time_first is not None
            assert last.time_last is not None and 0.5 < last.time_last - last.time_first < 2.0
            assert last.samples < whole.samples
            assert "last 1 s" in status_line(app)
            assert sum(r[2] for r in hot(app)) == last.samples
            await pilot.press("w")
            await until(pilot, lambda: view.shown is not None and view.shown.window is None,
                        "the whole run again")
            assert "whole run" in status_line(app)

            # r: the samples so far are forgotten
            before = view.shown.profile
            assert before is not None and before.time_last is not None
            await pilot.press("r")
            assert app._waiting or (view.shown is not None and view.shown.profile is not None
                                    and view.shown.profile.samples < before.samples)
            await until(pilot, lambda: view.shown is not None and view.shown.profile
                        is not None and view.shown.profile.samples > 50, "samples again")
            after = view.shown.profile
            assert after is not None and after.time_first is not None
            assert after.time_first > before.time_last and after.samples < before.samples
            assert "since reset" in status_line(app)
            assert hot(app)[0][-1] == "HPHP::f_sort"
            await pilot.press("q")
    finally:
        view.close()
    assert not live.running() and perf_children(os.getpid()) == []


async def test_the_process_exits(demo_bin: Path) -> None:
    require_tools("perf")
    d = Live([str(demo_bin), "slow", "2"])
    try:
        wait_for(d.map, lines=DEMO_MAP_LINES)
        live = LiveProfiler([d.pid])
        live.start(freq=999)
        view = LiveView(live, interval=0.5)
        app = LiveApp(view)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: view.state() == "ended" and view.drained
                            and not view.pending and not view.busy, "the end", timeout=40)
                assert live.stream is None and perf_children(os.getpid()) == []
                line = status_line(app)
                assert line.startswith(f" ENDED: pid {d.pid} exited, perf stopped, the last "
                                       "profile stays ")
                assert f"pid {d.pid} exited" in line
                rows = hot(app)
                assert rows and rows[0][-1] == "HPHP::f_sort" and not app._waiting
                n = app.refreshes
                await pilot.pause(1.2)
                assert app.refreshes == n  # nothing new is coming
                assert app.error is None
        finally:
            view.close()
    finally:
        d.stop()


async def test_perf_failing_is_said_and_is_the_exit_status(demo: Live) -> None:
    require_tools("perf")
    live = LiveProfiler([demo.pid])
    live.start(freq=999, event="no-such-event")
    view = LiveView(live, interval=0.5)
    app = LiveApp(view)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: view.failure is not None and view.drained, "the failure")
            line = status_line(app)
            assert line.startswith(" PERF FAILED ")
            assert app.error is not None and app.error[1] == 4
            assert str(view.failure) in line and "no-such-event" in app.error[0]
            assert "perf failed before any sample" in str(
                app.screen.query_one("#live-waiting", Static).content)
    finally:
        view.close()
    assert perf_children(os.getpid()) == []


def test_help_lists_the_live_keys() -> None:
    sections = dict(live_key_sections())
    keys = [k for k, _ in sections["Live (jitprof top)"]]
    assert keys[:1] == ["p, space"] and {"r", "w", "+, -"} <= set(keys)
    assert "Everywhere" in sections and "Hot functions" in sections
    bound = {b.key for b in LiveApp.BINDINGS if hasattr(b, "key")}
    assert bound == {"p,space", "r", "w", "plus", "minus"}


# A JIT that keeps compiling: a new hot function (hot_0, hot_1, ...) every 0.3 s, each
# named in the map only when V8 compiles it, long after the live view started
GROWING_JS = """
let k = 0, t = 0;
const end = Date.now() + 30000;
function step() {
  const f = eval(`(function hot_${k++}(n) { let s = 0; for (let i = 0; i < n; i++) `
                 + `s += i % 7; return s; })`);
  const stop = Date.now() + 300;
  while (Date.now() < stop) t += f(100000);
  if (Date.now() < end) setTimeout(step, 0);
}
step();
"""


def _map_names(path: str) -> set[str]:
    with open(path, "rb") as f:
        return {ln.split(b" ", 2)[2].decode().strip() for ln in f.read().splitlines()
                if ln.count(b" ") >= 2}


async def test_functions_compiled_later_are_named(tmp_path: Path) -> None:
    """The map is re-read as the JIT appends: a function V8 compiled after the view's
    first refresh is named in a later one (perf top reads the map once)."""
    require_tools("perf", "node")
    (tmp_path / "grow.js").write_text(GROWING_JS)
    d = Live(["node", "--perf-basic-prof", str(tmp_path / "grow.js")], cwd=tmp_path)
    try:
        wait_for(d.map)
        live = LiveProfiler([d.pid])
        live.start(freq=999)
        view = LiveView(live, interval=0.5)
        app = LiveApp(view)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: app.refreshes >= 1, "the first profile")
                first_lines = view.map_lines
                known = _map_names(d.map)  # at least what the first refresh read

                def new_hot() -> list[str]:
                    return [r[-1] for r in hot(app) if "hot_" in r[-1] and r[-1] not in known
                            and r[0] > 5]

                await until(pilot, lambda: bool(new_hot()), "a function compiled later")
                assert first_lines is not None and view.map_lines is not None
                assert view.map_lines > first_lines
                assert f"map {view.map_lines:,} lines" in status_line(app)
                assert all(n.startswith("JS:") for n in new_hot())
                shown = view.shown.profile
                assert shown is not None
                named = shown.diagnostics.jit_samples_resolved_pct
                assert named is not None and named > 95
        finally:
            view.close()
    finally:
        d.stop()


async def test_waiting_then_the_first_profile_with_the_chosen_sort_and_kind() -> None:
    """No perf: text fed to the engine while the App runs (the numbers: test_liveview)."""
    from jitprof.model import Kind
    from tests.test_liveview import HAND, block

    live = LiveProfiler([], keep=60)
    live.pids = [4242]
    view = LiveView(live, interval=0.5)
    app = LiveApp(view, sort="total", kind=Kind.NATIVE)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.6)
        assert app._waiting and app.refreshes == 0
        waiting = str(app.screen.query_one("#live-waiting", Static).content)
        assert waiting.startswith("Waiting for samples from") and "q: quit" in waiting
        assert not app.screen.query_one("#tabs").display
        live.feed(HAND)
        await until(pilot, lambda: app.refreshes >= 1, "the first profile")
        assert not app._waiting and app.screen.query_one("#tabs").display
        assert [(r[1], r[2], r[3]) for r in hot(app)] == [
            (100.0, 0, "main"), (77.78, 7, "hot"), (22.22, 2, "cold")]  # 9 samples: 7 + 2
        assert app.state.sort == "total" and app.state.kind == Kind.NATIVE
        assert status_line(app).startswith(" LIVE  whole run · 9 samples · ")
        await pilot.press("plus")
        assert view.interval == 1.0 and "every 1 s" in status_line(app)
        await pilot.press("minus", "minus")
        assert view.interval == 0.5
        await pilot.press("w")  # the last 10 s: seconds 95..105, all of them
        await until(pilot, lambda: view.shown is not None and view.shown.window == 10, "w")
        assert "last 10 s · 9 samples" in status_line(app)
        live.feed(block(120.0, "cold", "main"))  # now seconds 110..120: one sample
        await until(pilot, lambda: view.shown is not None and view.shown.profile is not None
                    and view.shown.profile.samples == 1, "the window moving on")
        assert sorted((r[1], r[2], r[3]) for r in hot(app)) == [(100.0, 0, "main"),
                                                                (100.0, 1, "cold")]
        await pilot.press("r")
        assert app._waiting
        waiting = str(app.screen.query_one("#live-waiting", Static).content)
        assert waiting.startswith("Reset: waiting for new samples from")
    live.close()


async def test_a_failed_refresh_is_said_and_the_next_one_is_tried(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from jitprof.errors import InputError
    from tests.test_liveview import HAND

    live = LiveProfiler([], keep=60)
    live.pids = [4242]
    view = LiveView(live, interval=0.5)
    real = view.compute
    calls = []

    def compute_once_failing(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise InputError("perf (live)", "a line jitprof cannot read", 7)
        return real(*args, **kw)

    monkeypatch.setattr(view, "compute", compute_once_failing)
    live.feed(HAND)
    app = LiveApp(view)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.refreshes >= 1, "the refresh after the failed one")
        assert len(calls) >= 2  # the first failed, the next one worked
        assert [n.message for n in app._notifications] == [
            "perf (live):7: a line jitprof cannot read"]
    live.close()


async def test_a_map_used_with_trust_map_is_said() -> None:
    """A stale map (written before the process started), kept with --trust-map: the
    doubt is a notification in the live view (no perf needed: nothing is recorded)."""
    p = subprocess.Popen(["sleep", "30"])
    path = f"/tmp/perf-{p.pid}.map"
    try:
        with open(path, "w") as f:
            f.write("7f0000001000 100 PHP::A::run\n")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
        live = LiveProfiler([p.pid], trust_map=True)
        assert live.procs[p.pid].problems
        app = LiveApp(LiveView(live))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.1)
            notes = [n.message for n in app._notifications]
            assert len(notes) == 1 and notes[0].startswith(
                f"{path}: used with --trust-map although last written ")
            assert "stale, left by an older process with the same pid?" in notes[0]
        live.close()
    finally:
        p.kill()
        p.wait()
        os.unlink(path)


async def test_a_move_made_just_before_a_new_profile_is_kept() -> None:
    """A live refresh (set_profile) can come after a key's action but before the widget
    reports the move: the call tree's hottest path and the flame graph's zoom are kept."""
    from jitprof.resolve import load_profile
    from jitprof.tui.app import JitprofApp
    from jitprof.tui.widgets import FlameGraph

    slow = ROOT / "samples" / "hhvm-demo" / "slow" / "perf.script.gz"
    app = JitprofApp(profile=load_profile([str(slow)], search_tmp=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        app.expand_hottest()  # moves the cursor on the next refresh of the widget...
        app.set_profile(load_profile([str(slow)], search_tmp=False))  # ...a new profile first
        await pilot.pause(0.3)
        assert "HPHP::f_sort" in app.screen.query_one(CallTreeView).cursor_text()
        await pilot.press("4", *["down"] * 8)
        flame = app.screen.query_one(FlameGraph)
        flame.action_zoom()  # FlameChanged is queued...
        app.set_profile(load_profile([str(slow)], search_tmp=False))  # ...behind a refresh
        await pilot.pause(0.3)
        assert [f.name for f in app.state.flame_zoom][-1] == "HPHP::f_sort"
        crumbs = str(app.screen.query_one("#breadcrumb", Static).content)
        assert crumbs.endswith("› HPHP::f_sort"), crumbs
        assert flame.flame is app.views.flame and flame.zoom != 0


# --- the command ------------------------------------------------------------------------------


def test_without_a_terminal_one_line_and_exit_2() -> None:
    r = CliRunner().invoke(main, ["top", "--pid", str(os.getpid())])
    assert r.exit_code == EXIT_USAGE and r.stdout == ""
    assert r.stderr.startswith("jitprof: error: the live view needs a terminal")
    assert r.stderr.count("\n") == 1 and f"jitprof top --stdio --pid {os.getpid()}" in r.stderr
    r = CliRunner().invoke(main, ["top", "--pid", str(os.getpid()), "--count", "2"])
    assert r.exit_code == EXIT_USAGE and "--count is for --stdio" in r.stderr
    r = CliRunner().invoke(main, ["top", "--pid", "1", "--kind", "PHP", "--kind", "HPHP"])
    assert r.exit_code == EXIT_USAGE and "one --kind at a time" in r.stderr


def in_a_pty(*args: str, timeout: float = 60) -> tuple[int, str]:
    """Run jitprof with a terminal as stdin, stdout and stderr: (exit status, output)."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    p = subprocess.Popen([sys.executable, "-m", "jitprof", *args], stdin=slave, stdout=slave,
                         stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    out = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    return p.wait(timeout=timeout), out.decode("utf-8", "replace")


def test_errors_before_the_ui_are_one_line(demo: Live) -> None:
    require_tools("perf")
    rc, out = in_a_pty("top", "--pid", str(demo.pid), "--event", "no-such-event")
    assert rc == 4, out
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jitprof: error: ") and (
        "no-such-event" in lines[0])
    assert perf_children(os.getpid()) == []
    rc, out = in_a_pty("top", "--pid", "4194304")  # above any pid_max
    assert rc == 4 and out.strip() == ("jitprof: error: pid 4194304: no such process (is it "
                                      "running on this host? check with: ps -p 4194304)")


def _descendants(pid: int) -> list[int]:
    kids = [int(d) for d in os.listdir("/proc") if d.isdigit() and _ppid(int(d)) == pid]
    return kids + [g for k in kids for g in _descendants(k)]


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return -1
    return int(stat[stat.rfind(b")") + 2 :].split()[1])


def test_top_in_a_terminal(tmux: Tmux, demo: Live) -> None:
    require_tools("perf")
    tmp_before = set(os.listdir("/tmp"))
    env = f"PYTHONPATH={ROOT}"
    r = tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", "-c", str(ROOT),
             "-e", env, sys.executable, "-m", "jitprof", "top", "--pid", str(demo.pid),
             "--interval", "1")
    assert r.returncode == 0, r.stderr
    screen = tmux.wait_for(lambda s: "HPHP::f_sort" in s and "PHP::Api_Router::route" in s,
                           "the hot functions")
    lines = screen.splitlines()
    assert lines[0].startswith("  LIVE  whole run · ")
    first_row = next(ln for ln in lines if "HPHP::f_sort" in ln)
    assert float(first_row.split()[0].rstrip("%")) > 30
    pane = int(tmux("display-message", "-p", "-t", "demo", "#{pane_pid}").stdout)
    perf = [p for p in _descendants(pane) if p in perf_children(_ppid(p))]
    assert len(perf) == 1  # perf record alone: its stream is read as perf.data
    with open(f"/proc/{perf[0]}/cmdline", "rb") as f:
        argv = f.read().split(b"\0")
    assert argv[1] == b"record" and argv[-3:-1] == [b"-o", b"-"]
    tmux("send-keys", "-t", "demo", "p")
    tmux.wait_for(lambda s: s.startswith("  PAUSED "), "paused")
    tmux("send-keys", "-t", "demo", "p")
    tmux.wait_for(lambda s: s.startswith("  LIVE "), "live again")
    tmux("send-keys", "-t", "demo", "w")
    tmux.wait_for(lambda s: "last 10 s" in s, "the window")
    tmux("send-keys", "-t", "demo", "r")
    tmux.wait_for(lambda s: "since reset" in s and "HPHP::f_sort" in s, "the reset")
    tmux("send-keys", "-t", "demo", "q")
    end = time.monotonic() + 20
    while tmux("has-session", "-t", "demo").returncode == 0 and time.monotonic() < end:
        time.sleep(0.1)
    assert tmux("has-session", "-t", "demo").returncode != 0, "q did not quit"
    assert [p for p in perf if os.path.exists(f"/proc/{p}")] == []
    left = {n for n in set(os.listdir("/tmp")) - tmp_before
            if n.startswith(("perf-vdso", "jitprof", "textual"))}
    assert left == set()
