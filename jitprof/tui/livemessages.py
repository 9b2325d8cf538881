"""Messages of the live view (``jitprof top``)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from jitprof.present.liveview import Refresh


@dataclass
class LiveRefreshed(Message):
    """A live snapshot and its views, computed in a worker (``jitprof top``)."""

    refresh: Refresh


@dataclass
class LiveRefreshFailed(Message):
    """A live snapshot could not be made: a one-line ``message`` (the next one is tried)."""

    message: str
