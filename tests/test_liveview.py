"""The live view's controller (jitprof/present/liveview.py), without perf: perf script text written
here is fed to a LiveProfiler, a fake clock drives the refreshes, and every number is
counted by hand from the text."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from jitprof.acquire.live import LiveProfiler
from jitprof.model import Profile
from jitprof.present.liveview import INTERVALS, LiveView, process_alive, step_interval


def block(t: float, *frames: str, pid: int = 7) -> str:
    """One perf script sample at perf time ``t`` (leaf first), named by perf already."""
    stack = "".join(f"\t{0x1000 + 16 * i:x} {f}+0x0 (/opt/app/bin)\n"
                    for i, f in enumerate(frames))
    return f"app {pid} {t:.6f}: 1001001 cpu-clock: \n{stack}\n"


def text(*samples: tuple[float, tuple[str, ...]]) -> str:
    return "".join(block(t, *frames) for t, frames in samples)


# second 100: hot x3; second 101: cold x2; second 105: hot x4 (all under main)
HAND = text(*[(100.1 + i / 10, ("hot", "main")) for i in range(3)],
            *[(101.5 + i / 10, ("cold", "main")) for i in range(2)],
            *[(105.2 + i / 10, ("hot", "main")) for i in range(4)])


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def self_samples(p: Profile | None) -> dict[str, int]:
    assert p is not None
    p.verify()
    out: dict[str, int] = {}
    for stack, n in zip(p.stacks, p.stack_samples, strict=True):
        leaf = p.frames[stack[0]].name
        out[leaf] = out.get(leaf, 0) + n
    return out


def refresh(v: LiveView) -> bool:
    """One refresh as the TUI does it (begin, compute in place of the worker, accept)."""
    gen, window = v.begin(v.clock())
    return v.accept(v.compute(gen, window))


@pytest.fixture
def view() -> LiveView:
    live = LiveProfiler([], keep=60)
    live.pids = [4242]  # what the status line names (no such process: "exited")
    return LiveView(live, interval=2.0, window=2, clock=Clock())


def test_whole_run_then_window(view: LiveView) -> None:
    assert view.due(view.clock())  # the first refresh is asked for at start
    assert refresh(view) and view.shown is not None and view.shown.profile is None
    assert view.waiting() is not None and "Waiting for samples" in view.waiting()
    assert not view.due(view.clock())  # nothing came: no refresh until samples do
    view.live.feed(HAND)
    assert view.due(view.clock())
    assert refresh(view)
    assert self_samples(view.shown.profile) == {"hot": 7, "cold": 2}
    assert view.waiting() is None
    parts = view.status(view.clock(), alive=[])
    assert parts[:3] == ["LIVE", "whole run", "9 samples"]
    assert "pid 4242 exited" in parts and "no map yet" in parts and "every 2 s" in parts
    # last 2 s of perf time, counted back from the newest sample (105.5): seconds 103..105
    view.toggle_window()
    assert view.due(view.clock()) and refresh(view)
    assert self_samples(view.shown.profile) == {"hot": 4}
    assert view.status(view.clock(), alive=[])[:3] == ["LIVE", "last 2 s", "4 samples"]
    view.toggle_window()
    assert refresh(view)
    assert view.shown is not None and view.shown.profile is not None
    assert view.shown.profile.samples == 9


def test_a_refresh_begun_before_a_window_switch_or_reset_is_dropped(view: LiveView) -> None:
    view.live.feed(HAND)
    gen, window = view.begin(view.clock())
    stale = view.compute(gen, window)
    view.toggle_window()
    assert not view.due(view.clock())  # one at a time
    assert not view.accept(stale) and view.shown is None
    assert view.due(view.clock())  # the new one at once
    gen, window = view.begin(view.clock())
    assert window == 2
    r = view.compute(gen, window)
    view.reset()
    assert not view.accept(r)
    assert view.shown is None
    # pausing: what is on the screen stays, and nothing new is due
    assert refresh(view)
    shown = view.shown
    gen, window = view.begin(view.clock())
    r = view.compute(gen, window)
    view.toggle_pause()
    assert not view.accept(r) and view.shown is shown
    assert not view.due(view.clock() + 100)
    view.toggle_pause()
    assert view.due(view.clock())


def test_interval_and_pause(view: LiveView) -> None:
    clock = view.clock
    assert isinstance(clock, Clock)
    view.live.feed(HAND)
    assert refresh(view)
    assert not view.due(clock())
    clock.t += 1.9
    assert not view.due(clock())
    clock.t += 0.1
    assert view.due(clock())
    view.toggle_pause()
    assert not view.due(clock())
    more = text(*[(106.1 + i / 100, ("cold", "main")) for i in range(5)])
    view.live.feed(more)
    clock.t += 10
    assert not view.due(clock())  # paused: the display stays
    parts = view.status(clock(), alive=[4242])
    assert parts[0] == "PAUSED" and parts[2] == "9 samples"
    assert "+5 since (p resumes)" in parts and "pid 4242 alive" in parts
    assert view.live.stats.samples == 14  # perf's samples kept coming in meanwhile
    view.toggle_pause()
    assert view.due(clock()) and refresh(view)
    assert self_samples(view.shown.profile) == {"hot": 7, "cold": 7}
    # the interval steps
    view.step_interval(1)
    assert view.interval == 3.0
    view.step_interval(-1)
    view.step_interval(-1)
    assert view.interval == 1.0


def test_reset_waits_for_new_samples(view: LiveView) -> None:
    view.live.feed(HAND)
    assert refresh(view)
    view.reset()
    assert view.shown is None and view.due(view.clock())  # one refresh at once...
    assert refresh(view) and view.shown is not None and view.shown.profile is None
    assert view.waiting() is not None and view.waiting().startswith("Reset: waiting")
    assert not view.due(view.clock())  # ...then only when samples come
    assert view.status(view.clock(), alive=[])[1:3] == ["whole run", "0 samples"]
    view.live.feed(block(107.0, "cold", "main"))
    assert view.due(view.clock()) and refresh(view)
    assert self_samples(view.shown.profile) == {"cold": 1}
    assert "since reset" in " ".join(view.status(view.clock(), alive=[]))


def test_reset_while_paused_says_so(view: LiveView) -> None:
    view.live.feed(HAND)
    assert refresh(view)
    view.toggle_pause()
    view.reset()
    assert refresh(view)  # r applies at once, also while paused
    view.live.feed(block(107.0, "cold", "main"))
    assert not view.due(view.clock())
    assert view.waiting() is not None and "(paused: p shows them)" in view.waiting()
    assert "+1 since (p resumes)" in view.status(view.clock(), alive=[])


def test_a_quiet_process_is_said(view: LiveView) -> None:
    """The window counts back from the newest sample: when none came for a while, the
    status line says how long ago the newest one came."""
    clock = view.clock
    assert isinstance(clock, Clock)
    view.live.feed(HAND)
    view.tick(clock())
    assert refresh(view)
    clock.t += 2.9
    view.tick(clock())
    assert not any("newest sample" in p for p in view.status(clock(), alive=[]))
    clock.t += 0.1
    view.tick(clock())
    assert "newest sample 3 s ago" in view.status(clock(), alive=[])
    view.live.feed(block(106.0, "hot", "main"))
    view.tick(clock())
    assert not any("newest sample" in p for p in view.status(clock(), alive=[]))


def test_samples_per_second(view: LiveView) -> None:
    clock = view.clock
    assert isinstance(clock, Clock)
    view.tick(clock())
    assert view.rate() is None and "?/s" in view.status(clock(), alive=[])  # not known yet
    for k in range(4):  # 10 samples every half second: 20/s
        view.live.feed(text(*[(100 + k + i / 100, ("hot", "main")) for i in range(10)]))
        clock.t += 0.5
        view.tick(clock())
    assert view.rate() == pytest.approx(20.0)
    assert view.live.stats.samples == 40
    clock.t += 3  # nothing for 3 s: the old arrivals drop out of the average
    view.tick(clock())
    view.tick(clock())
    assert view.rate() == 0.0


def test_map_lines_are_counted(tmp_path: object) -> None:
    from pathlib import Path

    d = Path(str(tmp_path))
    (d / "perf-4242.map").write_text("7f0000001000 100 PHP::A::run\n")
    live = LiveProfiler([], keep=60)
    live.add_map(4242, str(d), "perf-4242.map")
    v = LiveView(live, clock=Clock())
    live.feed(HAND)
    assert refresh(v) and v.map_lines == 1
    with open(d / "perf-4242.map", "a") as f:
        f.write("7f0000002000 100 PHP::B::run\n7f00000030")  # a line still being written
    assert refresh(v) and v.map_lines == 2
    v.reset()
    assert "map 2 lines" in v.status(v.clock(), alive=[])  # a reset keeps what was read
    v.close()


def test_step_interval() -> None:
    assert step_interval(2.0, 1) == 3.0 and step_interval(2.0, -1) == 1.0
    assert step_interval(1.5, 1) == 2.0 and step_interval(1.5, -1) == 1.0
    assert step_interval(INTERVALS[-1], 1) == INTERVALS[-1]
    assert step_interval(INTERVALS[0], -1) == INTERVALS[0]
    assert step_interval(0.1, 1) == 0.5


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    end = time.monotonic() + 30
    while process_alive(p.pid) and time.monotonic() < end:  # a zombie until reaped
        time.sleep(0.02)
    assert not process_alive(p.pid)
    assert os.path.exists(f"/proc/{p.pid}")  # the zombie is still there, and not alive
    p.wait()
    assert not process_alive(p.pid)
    assert not process_alive(2**22 + 1)  # beyond pid_max


def test_several_processes_are_counted() -> None:
    live = LiveProfiler([], keep=60)
    live.pids = [os.getpid(), 2**22 + 1]
    v = LiveView(live, clock=Clock())
    parts = v.status(v.clock())  # asks /proc: this process runs, the other cannot exist
    assert "1 of 2 processes alive" in parts
