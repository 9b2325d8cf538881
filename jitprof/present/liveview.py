"""What `jitprof top` shows live, as data: when to refresh, which window, the paused display,
rates and the status line. No Textual: the TUI (``jitprof/tui/live.py``) draws it, tests
drive it with text fed to a ``LiveProfiler``.

One refresh is a ``Refresh``: a snapshot of the whole run or of the last N seconds and its
view models, computed off the UI thread (``compute``; its cost is O(distinct stacks) for
the snapshot plus O(frames in the profile) for the hot table). The UI thread asks
``due()``, marks the start (``begin``) and hands the result back (``accept``): a result
started before a reset, a window switch or a pause is dropped (``generation``); after a
reset or a window switch a new one is due at once.

Pause freezes the display only, like htop's ``Z``: perf keeps recording and the next
refresh after resuming includes everything recorded meanwhile (the status line counts it).
``r`` (reset) and ``w`` (window) apply at once, also while paused (one refresh each).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jitprof.acquire.live import LiveProfiler
from jitprof.errors import RecordError
from jitprof.model import Profile
from jitprof.present.timeline import restrict_bins
from jitprof.present.views import ProfileViews

INTERVALS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)  # what + and - step through (seconds)
DEFAULT_WINDOW = 10  # seconds, when --window is not given
RATE_SPAN = 2.0  # seconds of arrivals the samples/s figure averages
QUIET_S = 3.0  # no new sample for this long: the status line says how long


@dataclass(frozen=True, slots=True)
class Refresh:
    """One snapshot and its view models (``profile`` None: no samples yet, or none since
    the reset)."""

    generation: int
    profile: Profile | None
    views: ProfileViews | None
    window: int | None  # seconds; None: the whole run
    samples_read: int  # LiveStats.samples when the snapshot was taken (at least these)
    map_lines: int | None  # lines of the processes' maps read so far; None: no map
    cost: float  # seconds the snapshot and views took


def process_alive(pid: int) -> bool:
    """Running (a zombie, exited but not yet reaped, is not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    state = stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3]
    return state not in (b"Z", b"X", b"x")


def step_interval(current: float, step: int) -> float:
    """The next longer (``step`` > 0) or shorter interval of ``INTERVALS``, or the same at
    either end."""
    if step > 0:
        return next((i for i in INTERVALS if i > current), current)
    return next((i for i in reversed(INTERVALS) if i < current), current)


def _seconds(s: float) -> str:
    s = max(s, 0.0)
    if s < 60:
        return f"{s:.0f} s"
    m, sec = divmod(int(s), 60)
    return f"{m}:{sec:02d} min" if m < 60 else f"{m // 60}:{m % 60:02d} h"


def _interval(s: float) -> str:
    return f"{s:g} s"


class LiveView:
    """The state of one ``jitprof top`` screen over a started (or fed) ``LiveProfiler``.

    Call ``tick(now)`` a few times a second (samples/s, perf's end); ``due(now)`` says when
    to ``begin`` a refresh, ``compute`` it in a worker and ``accept`` the result."""

    def __init__(self, live: LiveProfiler, interval: float = 2.0, window: int = DEFAULT_WINDOW,
                 windowed: bool = False, clock: Callable[[], float] = time.monotonic,
                 alive: Callable[[int], bool] = process_alive) -> None:
        self.live = live
        self.alive = alive  # is this pid running (tests: a fixed answer)
        self.interval = interval
        self.window = window
        self.windowed = windowed
        self.clock = clock
        self.paused = False
        self.generation = 0
        self.busy = False
        self.pending = True  # one refresh wanted whatever the pause and the interval
        self.shown: Refresh | None = None
        self.map_lines: int | None = None  # of the last refresh (a reset keeps it)
        self.last_begin: float | None = None
        self.since = clock()  # start or last reset
        self.reset_count = 0
        self.ended = ""  # why perf stopped by itself without failing ("pid 12 exited")
        self.stopped_at: float | None = None
        self.drained = False  # perf stopped and what it wrote was read
        self.failure: RecordError | None = None
        self._tried = 0  # LiveStats.samples at the last refresh or reset
        self._latest: float | None = None  # LiveProfiler.latest at the last tick...
        self._latest_at = self.since  # ...and when it last changed (our clock)
        self._arrivals: deque[tuple[float, int]] = deque()
        self._compute_lock = threading.Lock()

    # -- what the user chose ---------------------------------------------------------------
    @property
    def current_window(self) -> int | None:
        return self.window if self.windowed else None

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.generation += 1  # a refresh still computing is not shown: what is on
            # the screen when p is pressed stays
        else:
            self.pending = True  # show what was recorded meanwhile at once

    def toggle_window(self) -> None:
        self.windowed = not self.windowed
        self._invalidate()

    def reset(self) -> None:
        """Forget the samples so far (perf goes on recording)."""
        self.live.reset()
        self.since = self.clock()
        self.reset_count += 1
        self.shown = None
        self._tried = self.live.stats.samples
        self._invalidate()

    def step_interval(self, step: int) -> None:
        self.interval = step_interval(self.interval, step)

    def set_event(self, event: str) -> None:
        """Show ``event`` from the next refresh on (cpu-clock, off-cpu, wall: issue 17)."""
        self.live.event = event
        self._invalidate()

    def _invalidate(self) -> None:
        self.generation += 1
        self.pending = True

    # -- refreshing ------------------------------------------------------------------------
    def due(self, now: float) -> bool:
        """A refresh should start now: none running, and one was asked for (start, resume,
        reset, window), or the interval passed (not paused), or nothing is shown yet and
        samples arrived since the last try."""
        if self.busy:
            return False
        if self.pending:
            return True
        if self.paused or (self.drained and self.shown is not None
                           and self.shown.generation == self.generation):
            return False
        if self.shown is None or self.shown.profile is None:
            return self.live.stats.samples > self._tried
        return self.last_begin is None or now - self.last_begin >= self.interval

    def begin(self, now: float) -> tuple[int, int | None]:
        """Mark a refresh as started: (generation, window) to pass to ``compute``."""
        self.busy = True
        self.pending = False
        self.last_begin = now
        return self.generation, self.current_window

    def compute(self, generation: int, window: int | None,
                prepare: Callable[[ProfileViews], object] | None = None) -> Refresh:
        """The snapshot and its views (call it in a worker thread). ``prepare`` builds
        what the active view needs (the call tree, the flame graph) here too."""
        with self._compute_lock:
            t = time.perf_counter()
            samples = self.live.stats.samples
            prof = self.live.snapshot(window)
            views = None
            if prof is not None:
                # the views read it without its time axis (the timeline reads the bins)
                views = ProfileViews(restrict_bins(prof, None, None, keep_bins=False))
                views.hot  # noqa: B018 - the per-function sums, off the UI thread
                if prepare is not None:
                    prepare(views)
            maps = [p.map.lines for p in self.live.procs.values() if p.map is not None]
            return Refresh(generation, prof, views, window, samples,
                           sum(maps) if maps else None, time.perf_counter() - t)

    def accept(self, r: Refresh) -> bool:
        """Take a computed refresh; False if it is stale (a reset, a window switch or a
        pause came after it began): it is dropped."""
        self.busy = False
        if r.generation != self.generation:
            return False  # what came after it (r, w, resuming) asked for the next one
        self.shown = r
        self._tried = r.samples_read
        self.map_lines = r.map_lines
        return True

    def abandon(self) -> None:
        """The refresh failed or was cancelled: allow the next one."""
        self.busy = False

    # -- perf and the processes ------------------------------------------------------------
    def tick(self, now: float) -> bool:
        """Note the samples read so far (for samples/s); True when perf just stopped by
        itself (the processes exited, or perf failed: ``failure``): call ``finish``."""
        n = self.live.stats.samples
        if self.live.latest != self._latest:
            self._latest, self._latest_at = self.live.latest, now
        self._arrivals.append((now, n))
        while len(self._arrivals) > 2 and now - self._arrivals[1][0] >= RATE_SPAN:
            self._arrivals.popleft()
        if self.ended or self.failure is not None or self.live.stream is None:
            return False
        if self.live.running():
            return False
        self.failure = self.live.failure()
        if self.failure is None:
            pids = self.live.pids
            self.ended = (f"pid {pids[0]} exited" if len(pids) == 1
                          else f"the {len(pids)} processes exited")
        self.stopped_at = now
        return True

    def finish(self) -> None:
        """Stop perf and read what it wrote last (a worker thread: it waits for perf);
        then one last refresh is due."""
        with self._compute_lock:  # close() waits for it
            self.live.stop()
            self.drained = True
            self.pending = True

    def close(self, timeout: float = 30) -> None:
        """Stop perf and let go of the maps (after any refresh or finish still running
        in a worker)."""
        got = self._compute_lock.acquire(timeout=timeout)
        try:
            self.live.close()
        finally:
            if got:
                self._compute_lock.release()

    def rate(self) -> float | None:
        """Samples per second read from perf lately (0 once perf stopped; None until
        there are ticks half a second apart to tell)."""
        if self.stopped_at is not None:
            return 0.0
        if len(self._arrivals) < 2:
            return None
        (t0, n0), (t1, n1) = self._arrivals[0], self._arrivals[-1]
        return (n1 - n0) / (t1 - t0) if t1 - t0 >= 0.5 else None

    # -- what to say -------------------------------------------------------------------------
    def state(self) -> str:
        """One word: failed, ended, paused or live."""
        if self.failure is not None:
            return "failed"
        if self.ended:
            return "ended"
        return "paused" if self.paused else "live"

    def status(self, now: float, alive: Sequence[int] | None = None) -> list[str]:
        """The status line in pieces, most important first: state, window, samples in
        view, samples/s (and how long ago the newest sample came, when that is more than
        QUIET_S: the window counts back from it), elapsed, map lines, processes, interval
        (and, paused, how many samples came meanwhile). ``alive``: the pids still running
        (default: asked now)."""
        pids = self.live.pids
        if alive is None:
            alive = [p for p in pids if self.alive(p)]
        st = self.state()
        head = {"failed": "PERF FAILED", "ended": "ENDED", "paused": "PAUSED",
                "live": "LIVE"}[st]
        if st == "ended":
            head += f": {self.ended}, perf stopped, the last profile stays"
        parts = [head, "whole run" if not self.windowed else f"last {self.window} s"]
        shown = self.shown
        in_view = shown.profile.samples if shown is not None and shown.profile else 0
        parts.append(f"{in_view:,} samples")
        if st in ("live", "paused"):
            rate = self.rate()
            parts.append("?/s" if rate is None else f"{rate:,.0f}/s")
            quiet = now - self._latest_at
            if self._latest is not None and quiet >= QUIET_S:
                # the window counts back from the newest sample, not from now
                parts.append(f"newest sample {_seconds(quiet)} ago")
        if st == "paused":
            came = self.live.stats.samples - self._tried
            parts.append(f"+{max(came, 0):,} since (p resumes)")
        end = self.stopped_at if self.stopped_at is not None else now
        since = "since reset" if self.reset_count else "elapsed"
        parts.append(f"{_seconds(end - self.since)} {since}")
        lines = self.map_lines
        parts.append("no map yet" if lines is None else f"map {lines:,} lines")
        if len(pids) == 1:
            parts.append(f"pid {pids[0]} " + ("alive" if alive else "exited"))
        else:
            parts.append(f"{len(alive)} of {len(pids)} processes alive")
        if st in ("live", "paused"):
            parts.append(f"every {_interval(self.interval)}")
        return parts

    def waiting(self) -> str | None:
        """What to say instead of an empty table (None: there is a profile to show)."""
        if self.shown is not None and self.shown.profile is not None:
            return None
        who = ", ".join(f"pid {p.info.pid} ({p.info.comm})" for p in self.live.procs.values())
        if self.failure is not None:
            return f"perf failed before any sample of {who} was shown (see above); q quits."
        if self.ended:
            if self.live.latest is None:
                return f"{self.ended} before perf took a sample of it."
            return f"{self.ended}; no samples since the reset."
        if self.reset_count:
            return f"Reset: waiting for new samples from {who}..." + (
                " (paused: p shows them)" if self.paused else "")
        return (f"Waiting for samples from {who}... perf takes a second or two to start; "
                "an idle process has none.")
