"""`jitprof top`'s live TUI: the JitprofApp, given a new snapshot of a ``LiveView`` every
interval.

A timer ticks four times a second on the UI thread: it redraws the live status line and
asks the ``LiveView`` whether a refresh is due; the snapshot and its view models are
computed in a thread worker (never on the UI thread: keys stay live) and come back as a
``LiveRefreshed`` message, shown with ``set_profile`` (sort, filter, search, the function
under the hot table's cursor, the call tree path and the flame zoom carry over). Until the
first samples arrive, and after a reset, a "waiting for samples" panel stands in for the
views. When perf stops by itself (the processes exited) the last profile stays on screen;
when it fails, the status line says why and the CLI exits with its code after ``q``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static, TabbedContent

from jitprof.errors import JitprofError
from jitprof.model import Kind
from jitprof.present.liveview import LiveView
from jitprof.present.rows import SortKey
from jitprof.present.views import ProfileViews
from jitprof.tui.app import JitprofApp, compose_main, key_sections
from jitprof.tui.base import KeySections
from jitprof.tui.livemessages import LiveRefreshed, LiveRefreshFailed
from jitprof.tui.widgets import pack

TICK = 0.25  # seconds between status redraws and refresh checks
STATE_STYLES = {"live": "bold black on #27ae60", "paused": "bold black on #d4ac0d",
                "ended": "bold white on #616a6b", "failed": "bold white on #cb4335"}


class LiveApp(JitprofApp):
    """The TUI over a ``LiveView`` whose ``LiveProfiler`` is started (or fed) by the
    caller, who also closes it after the App exits (``LiveView.close``)."""

    CSS_PATH = [JitprofApp.CSS_PATH,  # type: ignore[assignment]  # App takes a list too
                str(Path(__file__).with_name("live.tcss"))]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p,space", "pause", "Pause", key_display="p"),
        Binding("r", "reset", "Reset"),
        Binding("w", "window", "Window"),
        Binding("plus", "interval(1)", "Longer interval", key_display="+", show=False),
        Binding("minus", "interval(-1)", "Shorter interval", key_display="-", show=False),
    ]

    def __init__(self, view: LiveView, sort: SortKey = "self", kind: Kind | None = None
                 ) -> None:
        super().__init__(inputs=[f"pid {p}" for p in view.live.pids])
        self.view = view
        self.state.sort = sort
        self.state.kind = kind
        self._waiting = True
        self.refreshes = 0  # profiles shown (tests wait on it)

    def compose(self) -> ComposeResult:
        yield Static(id="live-status")
        yield Static(id="live-waiting")
        yield from compose_main()

    def on_mount(self) -> None:
        footer = self._main().query_one(Footer)  # room for the live keys at 80 columns
        footer.compact = True
        footer.show_command_palette = False  # ctrl+p still opens it (listed under ?)
        for p in self.view.live.procs.values():  # also on stderr, seen after quitting
            for doubt in p.problems:
                self.notify(f"{p.map_source}: used with --trust-map although {doubt}",
                            title="map", severity="warning", timeout=15)
        self._show_waiting(True)
        self._tick()
        self.set_interval(TICK, self._tick)

    # -- the clock -------------------------------------------------------------------------
    def _up(self) -> bool:
        """The views exist (not yet torn down: a worker's message or a tick can come
        while the App shuts down)."""
        return self.is_running and bool(self.screen_stack)

    def _tick(self) -> None:
        if not self._up():
            return
        view = self.view
        now = view.clock()
        if view.tick(now):
            if view.failure is not None:
                self.error = (str(view.failure), view.failure.exit_code)
            self._finish()
        if view.due(now):
            generation, window = view.begin(now)
            tab = self._main().query_one(TabbedContent).active
            inverted = self.state.inverted

            def prepare(v: ProfileViews) -> None:
                if tab == "tree":
                    v.tree(inverted)
                elif tab == "flame":
                    v.flame  # noqa: B018 - built here, off the UI thread

            self._compute(generation, window, prepare)
        self._draw(now)

    @work(thread=True, group="live-refresh")
    def _compute(self, generation: int, window: int | None,
                 prepare: Callable[[ProfileViews], None]) -> None:
        # post_message, not call_from_thread: safe while the App shuts down
        try:
            r = self.view.compute(generation, window, prepare)
        except JitprofError as e:
            self.post_message(LiveRefreshFailed(str(e)))
            return
        except Exception as e:  # a bug: said in a notification, the next refresh tries again
            self.post_message(LiveRefreshFailed(f"internal error: {type(e).__name__}: {e}"))
            return
        self.post_message(LiveRefreshed(r))

    @work(thread=True, group="live-finish")
    def _finish(self) -> None:
        self.view.finish()  # waits for perf to exit and its last text to be read

    def on_live_refresh_failed(self, msg: LiveRefreshFailed) -> None:
        self.view.abandon()
        if self._up():
            self.notify(msg.message, title="refresh failed", severity="error")

    def on_live_refreshed(self, msg: LiveRefreshed) -> None:
        if not self.view.accept(msg.refresh) or not self._up():
            return
        r = msg.refresh
        if r.profile is None:
            self._show_waiting(True)
        else:
            was_waiting = self._waiting
            self._show_waiting(False)
            self.set_profile(r.profile, r.views)
            self.refreshes += 1
            if was_waiting:
                self._focus_tab(self._main().query_one(TabbedContent).active)
        self._draw(self.view.clock())

    # -- drawing ---------------------------------------------------------------------------
    def _show_waiting(self, waiting: bool) -> None:
        self._waiting = waiting
        main = self._main()
        main.query_one("#live-waiting").display = waiting
        main.query_one("#tabs").display = not waiting
        main.query_one("#status").display = not waiting
        if waiting:
            main.query_one("#warning").display = False

    def _draw(self, now: float) -> None:
        view = self.view
        main = self._main()
        parts = view.status(now)
        state = view.state()
        t = Text(no_wrap=False)
        t.append(f" {parts[0]} ", style=STATE_STYLES[state])
        t.append(" ")
        # broken only between pieces: "every 2 s" never splits over two lines
        width = (main.query_one("#live-status").size.width or self.size.width) - 2
        t.append_text(pack([(p, "") for p in parts[1:]], width, start=len(parts[0]) + 3))
        if view.failure is not None:
            t.append(f"\n{view.failure}", style="bold red")
        main.query_one("#live-status", Static).update(t)
        if self._waiting:
            text = view.waiting() or "Computing the first profile..."
            main.query_one("#live-waiting", Static).update(
                Text(text + "\n\np: pause  r: reset  w: whole run / last "
                     f"{view.window} s  ?: keys  q: quit", justify="center"))

    # -- keys ------------------------------------------------------------------------------
    def action_pause(self) -> None:
        self.view.toggle_pause()
        self._tick()

    def action_reset(self) -> None:
        self.view.reset()
        self._show_waiting(True)
        self._tick()

    def action_window(self) -> None:
        self.view.toggle_window()
        self._tick()

    def show_measure(self, event: str) -> None:
        """e: the next snapshots are of ``event`` (made from the same samples)."""
        self.view.set_event(event)
        self._tick()

    def action_interval(self, step: int) -> None:
        self.view.step_interval(step)
        self._draw(self.view.clock())

    def key_sections(self) -> KeySections:
        return live_key_sections()


def live_key_sections() -> KeySections:
    """The help screen of ``jitprof top``: its own keys first, then the TUI's."""
    return [("Live (jitprof top)", [
        ("p, space", "Pause the display; perf keeps recording"),
        ("", "(p again shows it all; in the call tree"),
        ("", "space expands a node: use p there)"),
        ("r", "Reset: forget the samples so far"),
        ("w", "Whole run <-> last N s (--window, 10)"),
        ("+, -", "Refresh less / more often (--interval)"),
        ("e", "CPU / off-CPU / wall (with --off-cpu)"),
        ("", "Sort, filter, search, the cursor's"),
        ("", "function, tree path and flame zoom stay"),
        ("", "across refreshes; r and w apply at once,"),
        ("", "also while paused."),
    ]), *key_sections()]
