"""Messages between the loading worker, the widgets and the profile App (small dataclasses;
the diff and live apps keep theirs beside them: importing the profile TUI imports neither)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from jitprof.model import Frame, Profile
from jitprof.present.views import CallNode, CallTree, FlameTree, ProfileViews


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
    strip: str = ""  # the id of the strip it came from (the diff view has one a side)


@dataclass
class TreeMoved(Message):
    """The call tree's cursor moved to ``node`` (None: a "… more" line) of ``tree``."""

    node: CallNode | None
    tree: CallTree
