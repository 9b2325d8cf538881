"""Messages between the loading worker, the widgets and the App (small dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from jitprof.diffviews import DiffViews
from jitprof.liveview import Refresh
from jitprof.model import Frame, Profile
from jitprof.views import CallNode, CallTree, FlameTree, ProfileViews


@dataclass
class LoadProgress(Message):
    """Bytes of the input read so far (``total`` 0: unknown, e.g. a perf.data's pipe)."""

    done: int
    total: int


@dataclass
class ProfileLoaded(Message):
    profile: Profile
    views: ProfileViews  # built in the worker (the hot table's sums are done)


@dataclass
class LoadFailed(Message):
    """The loader raised: a one-line ``message`` and the CLI's exit code."""

    message: str
    exit_code: int


@dataclass
class ShowFunction(Message):
    """Open the callers/callees of this function (from any view)."""

    frame: Frame


@dataclass
class FlameChanged(Message):
    """The flame graph's selection or zoom changed (breadcrumb and info follow).
    ``flame``: the tree the node ids are of (a live view may have a newer one by the
    time the message is handled)."""

    selected: int
    zoom: int
    flame: FlameTree | None = None


@dataclass
class RangeChosen(Message):
    """The timeline's chosen range of time bins [lo, hi), or None: the whole profile."""

    bins: tuple[int, int] | None


@dataclass
class TreeMoved(Message):
    """The call tree's cursor moved to ``node`` (None: a "… more" line) of ``tree``."""

    node: CallNode | None
    tree: CallTree


@dataclass
class DiffLoaded(Message):
    """The comparison of ``jitprof diff --tui`` is ready (made in the loading worker)."""

    views: DiffViews


@dataclass
class LiveRefreshed(Message):
    """A live snapshot and its views, computed in a worker (``jitprof top``)."""

    refresh: Refresh


@dataclass
class LiveRefreshFailed(Message):
    """A live snapshot could not be made: a one-line ``message`` (the next one is tried)."""

    message: str
