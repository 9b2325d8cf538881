"""The progress of `jitprof record` on stderr: one redrawn line on a terminal, a line every
5 s otherwise; warnings and perf's own lines go between."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from jitprof.acquire.record import Progress

PLAIN_EVERY_S = 5.0  # seconds between progress lines when stderr is no terminal


class RecordReporter:
    """Progress on stderr: one redrawn line on a terminal, a line every 5 s otherwise."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.tty = sys.stderr.isatty()
        self.drawn = False
        self.last_plain = -PLAIN_EVERY_S

    def _clear(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\033[K")
            self.drawn = False

    def progress(self, p: Progress) -> None:
        text = f"jitprof record: {self.what}: {p.elapsed:5.1f} s"
        if p.duration is not None:
            text += f" of {p.duration:g} s ({max(p.duration - p.elapsed, 0):.1f} s left)"
        text += f", map {p.map_lines:,} lines"
        text += ", stopping..." if p.stopping else ", Ctrl-C stops and keeps the recording"
        if self.tty:
            sys.stderr.write("\r\033[K" + text)
            self.drawn = True
        elif p.stopping or p.elapsed - self.last_plain >= PLAIN_EVERY_S:
            self.last_plain = p.elapsed
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def warning(self, text: str) -> None:
        self._clear()
        click.echo(f"jitprof: warning: {text}", err=True)

    def passthrough(self, line: bytes) -> None:
        self._clear()
        sys.stderr.buffer.write(line)
        sys.stderr.flush()

    def done(self) -> None:
        self._clear()
