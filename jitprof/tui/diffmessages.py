"""Messages of the diff view (``jitprof diff --tui``)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from jitprof.present.diffviews import DiffViews


@dataclass
class DiffLoaded(Message):
    """The comparison of ``jitprof diff --tui`` is ready (made in the loading worker)."""

    views: DiffViews
