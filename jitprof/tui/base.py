"""What the profile view (``JitprofApp``) and the diff view (``DiffApp``) share: loading in
a worker thread behind a progress screen, tabs that each focus one widget, the help
screen built from the bindings, and a search box over the first tab's table.

A subclass names its parts in class attributes (``FOCUS``, ``SEARCH``), makes its result
in ``loaded`` (worker thread) and shows it in its own message handler, and redraws the
searched table in ``refresh_list``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, TabbedContent
from textual.worker import get_current_worker

from jitprof.errors import EXIT_INTERNAL, JitprofError
from jitprof.tui.messages import LoadFailed, LoadProgress
from jitprof.tui.widgets import HelpScreen, LoadingScreen

KeySections = list[tuple[str, list[tuple[str, str]]]]
KEY_NAMES = {"question_mark": "?", "slash": "/", "percent_sign": "%", "exclamation_mark": "!"}


def binding_keys(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys as typed, description) of each Binding, for the help screen and docs/."""
    out = []
    for b in bindings:
        if isinstance(b, Binding):
            shown = b.key_display or ", ".join(KEY_NAMES.get(k, k) for k in b.key.split(","))
            out.append((shown, b.description))
    return out


class _LoadCancelled(Exception):
    """Raised from the progress callback when the App quits while loading."""


class TabbedApp(App[None]):
    FOCUS: ClassVar[dict[str, str]] = {}  # tab id -> the widget that takes the keys there
    # tab id -> the widgets tab / shift+tab go round (default: FOCUS's one), so the focus
    # never lands on a widget that takes no keys (the tab bar, a hidden box)
    CYCLE: ClassVar[dict[str, tuple[str, ...]]] = {}
    STRIPS: ClassVar[tuple[str, ...]] = ()  # widgets above the tabs that join the round
    # ctrl+c quits, as in perf report, less and htop (Textual's default shows a toast)
    BINDINGS: ClassVar[list[BindingType]] = [  # merged with each subclass's
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("tab", "cycle_focus(1)", "Next widget", show=False, priority=True),
        Binding("shift+tab", "cycle_focus(-1)", "Previous widget", show=False, priority=True),
    ]
    SEARCH: ClassVar[tuple[str, str, str]] = ("", "", "")  # (tab, Input id, table id)
    state: Any  # the subclass's view state (the search box sets its ``search``)

    def __init__(self) -> None:
        super().__init__()
        self.error: tuple[str, int] | None = None  # (message, exit code) for the CLI

    def action_cycle_focus(self, step: int) -> None:
        """tab / shift+tab: the next widget of the tab shown that takes keys."""
        main = self._main()
        if self.screen is not main:  # a help screen, the palette: their own order
            if step > 0:
                self.screen.focus_next()
            else:
                self.screen.focus_previous()
            return
        tab = main.query_one(TabbedContent).active
        ids = self.CYCLE.get(tab) or ((self.FOCUS[tab],) if tab in self.FOCUS else ())
        widgets = [w for w in (main.query_one(i) for i in (*self.STRIPS, *ids)) if w.display]
        _tab, box, _table = self.SEARCH
        if tab == _tab:
            inp = main.query_one(box)
            if inp.display:
                widgets.insert(0, inp)
        if not widgets:
            return
        cur = main.focused
        i = widgets.index(cur) if cur in widgets else -step if step > 0 else 0
        main.set_focus(widgets[(i + step) % len(widgets)])

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # Textual's own "Keys" (its key panel) goes: the App's "Keys" is the help screen
        for c in super().get_system_commands(screen):
            if c.title != "Keys":
                yield c

    # -- for subclasses ----------------------------------------------------------------------
    def key_sections(self) -> KeySections:
        raise NotImplementedError

    def loaded(self, result: Any) -> Message:
        """The message that carries a loader's ``result`` (made in the worker thread)."""
        raise NotImplementedError

    def refresh_list(self) -> None:
        """Redraw the searched table (the search text changed)."""
        raise NotImplementedError

    def _refresh_active_tab(self) -> None:
        """Build what the tab just shown needs (nothing by default)."""

    # -- loading ---------------------------------------------------------------------------
    def start_loading(self, loader: Callable[[Callable[[int, int], None]], Any],
                      inputs: Iterable[str]) -> None:
        self.push_screen(LoadingScreen(list(inputs)))
        self._load(loader)

    @work(thread=True, exclusive=True)
    def _load(self, loader: Callable[[Callable[[int, int], None]], Any]) -> None:
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            # called per 4 MiB: quitting while loading stops the reading here (the
            # process would otherwise wait for this thread at exit)
            if worker.is_cancelled:
                raise _LoadCancelled
            self.post_message(LoadProgress(done, total))

        try:
            msg = self.loaded(loader(progress))
        except _LoadCancelled:
            return
        except JitprofError as e:  # its exit code (a comparison that cannot be made: 2)
            self.post_message(LoadFailed(str(e), e.exit_code))
            return
        except Exception as e:  # a bug: the CLI prints one line
            self.post_message(LoadFailed(f"internal error: {type(e).__name__}: {e}",
                                         EXIT_INTERNAL))
            return
        self.post_message(msg)

    def loading_done(self) -> None:
        if isinstance(self.screen, LoadingScreen):
            self.pop_screen()

    def on_load_progress(self, msg: LoadProgress) -> None:
        if isinstance(self.screen, LoadingScreen):
            self.screen.progress(msg.done, msg.total)

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.error = (msg.message, msg.exit_code)
        self.exit(return_code=msg.exit_code)

    # -- tabs and help ---------------------------------------------------------------------
    def _main(self) -> Screen[object]:
        """The default screen (the views), under any help or loading screen."""
        return self.screen_stack[0]

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._refresh_active_tab()
        self._focus_tab(event.pane.id or "")

    def _focus_tab(self, tab: str) -> None:
        target = self.FOCUS.get(tab)
        if target:  # at once (not .focus(), which waits a cycle): keys already typed go there
            main = self._main()
            main.set_focus(main.query_one(target))

    def action_tab(self, tab: str) -> None:
        self._main().query_one(TabbedContent).active = tab
        self._refresh_active_tab()
        self._focus_tab(tab)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_sections()))

    # -- search ----------------------------------------------------------------------------
    def action_search(self) -> None:
        tab, box, _table = self.SEARCH
        if self._main().query_one(TabbedContent).active != tab:
            self.action_tab(tab)
        inp = self._main().query_one(box, Input)
        inp.display = True
        inp.focus()

    def close_search(self, clear: bool) -> None:
        _tab, box, table = self.SEARCH
        main = self._main()
        inp = main.query_one(box, Input)
        typing = main.focused is inp
        if clear:
            inp.value = ""
            self.state.search = ""
            inp.display = False
            self.refresh_list()
        if typing:  # (only then: a key typed next may have moved the focus already)
            main.set_focus(main.query_one(table))

    @on(Input.Changed)
    def _search_changed(self, event: Input.Changed) -> None:
        if f"#{event.input.id}" == self.SEARCH[1]:
            self.state.search = event.value
            self.refresh_list()

    @on(Input.Submitted)
    def _search_done(self, event: Input.Submitted) -> None:
        if f"#{event.input.id}" == self.SEARCH[1]:
            self.close_search(clear=False)
