"""View models of a finished Profile: hot-function table, sandwich, call trees, flame layout.

Pure data (no textual, rich or click): the TUI draws these and tests check their numbers.
Weights are the profile's (periods, or 1 per sample); every percentage says what it is
relative to. Frames are identified across profiles by their ``Frame`` (name, kind, dso),
never by id, so a view state survives swapping in a new profile (``jitprof top``).

Costs: ``HotTable`` takes the rows of ``jitprof.present.rows`` once (``Profile.function_stats``,
O(frames on all stacks)) and sorts them in that module's one order.
Call trees and the flame graph share a ``StackIndex``: the stacks sorted as root-first
paths (one sort), where every call path is a contiguous range, so a node's children cost
O(children x log stacks) and a flame layout touches only the nodes at least one cell wide.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from jitprof.model import CPU_TIME_EVENTS, KIND_ORDER, SYNTHETIC_EVENTS, Frame, Kind, Profile
from jitprof.present.rows import FunctionRow, SortKey, pct, profile_rows, sort_key

CPU_MEASURES = CPU_TIME_EVENTS
TIME_MEASURES = SYNTHETIC_EVENTS  # made from context switches (issue 17)


def next_measure(events: Iterable[str], current: str) -> str | None:
    """The event the TUI's ``e`` key shows after ``current``: round the CPU event
    (cpu-clock or task-clock), off-cpu and wall, those the input has; None when it has
    fewer than two of them (a recording without context switches)."""
    names = list(events)
    cpu = next((n for n in names if n.split(":")[0].split("/")[0] in CPU_MEASURES), None)
    choices = ([cpu] if cpu is not None else []) + [m for m in TIME_MEASURES if m in names]
    if len(choices) < 2:
        return None
    i = choices.index(current) if current in choices else -1
    return choices[(i + 1) % len(choices)]


def compile_search(text: str, regex: bool = False) -> Callable[[str], bool] | None:
    """A name matcher: case-insensitive substring, or a regex searched anywhere (case
    folded unless it has an upper-case letter, like less/vim smartcase). ``None`` for an
    empty text. A bad regex raises ``ValueError`` with re's message."""
    if not text:
        return None
    if regex:
        flags = 0 if any(c.isupper() for c in text) else re.IGNORECASE
        try:
            rx = re.compile(text, flags)
        except re.error as e:
            raise ValueError(f"bad regex {text!r}: {e}") from None
        return lambda name: rx.search(name) is not None
    needle = text.casefold()
    return lambda name: needle in name.casefold()


# -- hot functions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HotRow:
    """A line of the hot table: one of the profile's rows (``jitprof.present.rows``), with
    its percentages of what the view divides by (all the weight, as the row's own, or
    with ``relative`` the weight of the samples through the shown functions)."""

    row: FunctionRow
    self_pct: float
    total_pct: float

    @property
    def frame(self) -> Frame:
        return self.row.frame

    @property
    def self_weight(self) -> int:
        return self.row.self_weight

    @property
    def total_weight(self) -> int:
        return self.row.total_weight

    @property
    def self_samples(self) -> int:
        return self.row.self_samples

    @property
    def total_samples(self) -> int:
        return self.row.total_samples

    @property
    def cells(self) -> tuple[str, str, str, str, str]:
        """Self %, total %, self samples, kind and short dso as the tables print them."""
        r = self.row
        return (f"{self.self_pct:.2f}%", f"{self.total_pct:.2f}%", f"{r.self_samples:,}",
                r.kind.value, short_dso(r.dso))


def short_dso(dso: str) -> str:
    """A file's base name ("/usr/lib/libc.so.6" -> "libc.so.6"); "[JIT]" etc. as they are."""
    return dso.rsplit("/", 1)[-1] if dso.startswith("/") else dso


@dataclass(frozen=True, slots=True)
class KindShare:
    """One kind filter button: ``kind`` None is All; the share is of the self weight."""

    kind: Kind | None
    weight: int
    pct: float
    label: str


@dataclass(frozen=True, slots=True)
class HotView:
    rows: list[HotRow]
    matched: int  # rows that pass the filters (``rows`` may be cut to a limit)
    denominator: int  # what the percentages are of
    relative: bool
    sort: SortKey = "self"
    filters: tuple[str, ...] = ()  # the active filters in words: "kind PHP", "search 'Api'"

    @property
    def summary(self) -> str:
        """The line above the table: how many rows, every active filter in words (first:
        a narrow terminal cuts the end), the order and what the % are of."""
        n = self.matched
        noun = "function" if n == 1 else "functions"
        shown = f"{n:,} {noun}" if n == len(self.rows) else (
            f"top {len(self.rows):,} of {n:,} functions, more at the last row")
        what = ("% of the samples through the shown functions (relative)" if self.relative
                else "% of all samples")
        return " · ".join([shown, *self.filters, f"sorted by {self.sort}", what])


class HotTable:
    """The rows of one profile (``jitprof.present.rows``, made once), filtered and sorted
    on demand in the rows' one order.

    Percentages: absolute (default) are of all the profile's weight, as ``jitprof report``;
    relative are of the weight of the samples whose stacks hold at least one function that
    passes the kind and search filters: no share exceeds 100% (a function's total counts
    only such samples), and with no filter relative is absolute. (perf's ``--percentage
    relative`` divides by the shown functions' self, so its Children column passes 100%.)"""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.total = profile.weight
        self.rows = profile_rows(profile)  # in the profile's frame order
        self._flat: tuple[Any, Any, Any] | None = None
        self._shares: list[KindShare] | None = None

    def kind_shares(self) -> list[KindShare]:
        """All, then each kind present, with its share of the self weight (the leaf's kind)."""
        if self._shares is None:
            ks = self.profile.kind_stats()
            present = {r.kind for r in self.rows}
            out = [KindShare(None, self.total, 100.0 if self.total else 0.0, "All")]
            for k in KIND_ORDER:
                w = ks[k][0]
                if w or k in present:
                    out.append(KindShare(k, w, pct(w, self.total), k.value))
            self._shares = out
        return self._shares

    def weight_through(self, frame_ids: Iterable[int]) -> int:
        """The weight of the samples whose stacks hold any of ``frame_ids``: numpy over
        all stacks flattened once (O(frames on all stacks) the first time, then O(that) in
        C per call)."""
        import numpy as np

        if self._flat is None:
            p = self.profile
            lengths = np.fromiter((len(st) for st, _w, _s, _t in p.iter_stacks()),
                                  dtype=np.int64)
            flat = np.fromiter((f for st, _w, _s, _t in p.iter_stacks() for f in st),
                               dtype=np.int64, count=int(lengths.sum()))
            weights = np.fromiter((w for _st, w, _s, _t in p.iter_stacks()), dtype=np.int64)
            self._flat = (np.concatenate(([0], np.cumsum(lengths))), flat, weights)
        bounds, flat, weights = self._flat
        mask = np.zeros(len(self.profile.frames), dtype=bool)
        mask[np.fromiter(frame_ids, dtype=np.int64)] = True
        hits = np.concatenate(([0], np.cumsum(mask[flat])))
        through = hits[bounds[1:]] > hits[bounds[:-1]]
        return int(weights[through].sum())

    def view(
        self,
        sort: SortKey = "self",
        kind: Kind | None = None,
        search: str = "",
        regex: bool = False,
        relative: bool = False,
        limit: int | None = None,
        time: str = "",
        fixed: tuple[str, ...] = (),
    ) -> HotView:
        """The rows that pass the filters; ``time``: the time range the profile was cut
        to, and ``fixed``: the filters it was read with ("pid 1234"), in words, for the
        summary."""
        match = compile_search(search, regex)
        key = sort_key(sort)
        sel = [r for r in self.rows if (kind is None or r.kind is kind)
               and (match is None or match(r.name))]
        if relative and len(sel) < len(self.rows):
            denom = self.weight_through(r.frame_id for r in sel) if sel else 0
        else:
            denom = self.total
        sel.sort(key=key)
        matched = len(sel)
        if limit is not None:
            sel = sel[:limit]
        rows = [HotRow(r, pct(r.self_weight, denom), pct(r.total_weight, denom)) for r in sel]
        filters = list(fixed)
        if kind is not None:
            filters.append(f"kind {kind.value}")
        if search:
            filters.append(f"{'regex' if regex else 'search'} {search!r}")
        if time:
            filters.append(f"time {time}")
        return HotView(rows, matched, denom, relative, sort, tuple(filters))


# -- sandwich (callers and callees of one function) ---------------------------------------


@dataclass(frozen=True, slots=True)
class Neighbour:
    frame: Frame
    weight: int
    samples: int
    pct_of_function: float  # of the function's total weight
    pct_of_all: float


@dataclass(frozen=True, slots=True)
class Sandwich:
    """Callers (frames directly above the function on a stack) and callees (directly
    below). Each neighbour counts a stack once however often the pair occurs in it (as
    speedscope does with recursion), so for a function that is not recursive the callers
    add up to ``total - root_weight`` and the callees to ``total - self``."""

    frame: Frame
    self_weight: int
    total_weight: int
    self_samples: int
    total_samples: int
    root_weight: int  # stacks where the function is the outermost frame (no caller)
    callers: list[Neighbour]
    callees: list[Neighbour]
    all_weight: int

    @property
    def numbers(self) -> str:
        """"self 6.44% · total 98.45% (1,971 samples) · outermost in 0.10%" (of all)."""
        out = (f"self {pct(self.self_weight, self.all_weight):.2f}% · total "
               f"{pct(self.total_weight, self.all_weight):.2f}% ({self.total_samples:,} "
               f"samples)")
        if self.root_weight:
            out += f" · outermost frame in {pct(self.root_weight, self.all_weight):.2f}%"
        return out


def sandwich(profile: Profile, frame: Frame) -> Sandwich:
    """O(frames on all stacks); the frame need not be in the profile (then all zero)."""
    fid = _frame_id(profile, frame)
    callers: dict[int, list[int]] = {}
    callees: dict[int, list[int]] = {}
    sw = tw = ss = ts = root = 0
    if fid is not None:
        for stack, w, s, _t in profile.iter_stacks():
            if fid not in stack:
                continue
            tw += w
            ts += s
            if stack[0] == fid:
                sw += w
                ss += s
            if stack[-1] == fid:
                root += w
            up: set[int] = set()
            down: set[int] = set()
            n = len(stack)
            for i, f in enumerate(stack):  # leaf first: stack[i + 1] called stack[i]
                if f == fid:
                    if i + 1 < n:
                        up.add(stack[i + 1])
                    if i > 0:
                        down.add(stack[i - 1])
            for c in up:
                acc = callers.setdefault(c, [0, 0])
                acc[0] += w
                acc[1] += s
            for c in down:
                acc = callees.setdefault(c, [0, 0])
                acc[0] += w
                acc[1] += s
    total = profile.weight

    def neighbours(d: dict[int, list[int]]) -> list[Neighbour]:
        out = [Neighbour(profile.frames[f], w, s, pct(w, tw), pct(w, total))
               for f, (w, s) in d.items()]
        out.sort(key=lambda n: (-n.weight, n.frame.name, n.frame.dso))
        return out

    return Sandwich(frame, sw, tw, ss, ts, root, neighbours(callers), neighbours(callees),
                    total)


def _frame_id(profile: Profile, frame: Frame) -> int | None:
    for i, f in enumerate(profile.frames):
        if f == frame:
            return i
    return None


class Neighbourhood:
    """Callers and callees of every function at once, as ``sandwich`` counts them (a
    stack once per neighbour), by frame id: each edge (caller, callee) carries the weight
    and samples of the stacks where ``caller`` directly calls ``callee``; ``roots[f]``
    is the weight of stacks whose outermost frame is ``f``. The edges are numpy arrays
    sorted twice (by callee and by caller, heaviest first): a function's callers or
    callees are one slice (O(log edges) to find)."""

    def __init__(self, caller: Any, callee: Any, weight: Any, samples: Any,
                 roots: dict[int, int]) -> None:
        import numpy as np

        self.roots = roots
        self._cols = (caller, callee, weight, samples)
        self._up = np.lexsort((caller, -weight, callee))  # by callee, heaviest first
        self._down = np.lexsort((callee, -weight, caller))
        self._up_key = callee[self._up]
        self._down_key = caller[self._down]

    def __len__(self) -> int:
        return len(self._cols[0])

    @property
    def edges(self) -> dict[tuple[int, int], tuple[int, int]]:
        a, b, w, s = (c.tolist() for c in self._cols)
        return {(x, y): (v, n) for x, y, v, n in zip(a, b, w, s, strict=True)}

    def _arrays(self, order: Any, keys: Any, other: Any, fid: int) -> tuple[Any, Any, Any]:
        lo = int(keys.searchsorted(fid))
        hi = int(keys.searchsorted(fid + 1))
        idx = order[lo:hi]
        return other[idx], self._cols[2][idx], self._cols[3][idx]

    def caller_arrays(self, fid: int) -> tuple[Any, Any, Any]:
        """Numpy arrays (callers, weights, samples), heaviest first: no Python objects made
        (a root's callees can be most functions)."""
        return self._arrays(self._up, self._up_key, self._cols[0], fid)

    def callee_arrays(self, fid: int) -> tuple[Any, Any, Any]:
        return self._arrays(self._down, self._down_key, self._cols[1], fid)

    @staticmethod
    def _listed(arrays: tuple[Any, Any, Any], limit: int | None
                ) -> list[tuple[int, int, int]]:
        ids, w, s = (a[:limit].tolist() for a in arrays)
        return list(zip(ids, w, s, strict=True))

    def callers(self, fid: int, limit: int | None = None) -> list[tuple[int, int, int]]:
        """(caller, weight, samples), heaviest first (ties by frame id), the first
        ``limit``."""
        return self._listed(self.caller_arrays(fid), limit)

    def callees(self, fid: int, limit: int | None = None) -> list[tuple[int, int, int]]:
        return self._listed(self.callee_arrays(fid), limit)


def neighbourhood(profile: Profile) -> Neighbourhood:
    """One pass over all stacks (numpy: the adjacent pairs of every stack, made distinct
    per stack by one sort): O(frames on all stacks), where ``sandwich`` is that per
    function."""
    stacks = [st for st, _w, _s, _t in profile.iter_stacks()]
    return stack_neighbourhood(stacks, [w for _st, w, _s, _t in profile.iter_stacks()],
                               [s for _st, _w, s, _t in profile.iter_stacks()],
                               len(profile.frames))


def stack_neighbourhood(stacks: Sequence[tuple[int, ...]], weights: Sequence[int],
                        samples: Sequence[int], nframes: int) -> Neighbourhood:
    """``neighbourhood`` of any stacks (leaf first, frame ids below ``nframes``) with
    their weights and samples."""
    import numpy as np

    from jitprof.model import distinct_ints

    m = len(stacks)
    ws = np.asarray(weights, dtype=np.int64).reshape(m)
    ss = np.asarray(samples, dtype=np.int64).reshape(m)
    lengths = np.fromiter(map(len, stacks), dtype=np.int64, count=m)
    flat = np.fromiter(itertools.chain.from_iterable(stacks), dtype=np.int64,
                       count=int(lengths.sum()))
    row = np.repeat(np.arange(m, dtype=np.int64), lengths)
    roots: dict[int, int] = {}
    full = np.flatnonzero(lengths)
    if len(full):
        outer = flat[(np.cumsum(lengths) - 1)[full]]
        tot = np.zeros(max(nframes, 1), dtype=np.int64)
        np.add.at(tot, outer, ws[full])
        roots = {int(f): int(tot[f]) for f in np.flatnonzero(tot)}
    empty = np.zeros(0, dtype=np.int64)
    if len(flat) < 2:
        return Neighbourhood(empty, empty, empty, empty, roots)
    same = np.flatnonzero(row[1:] == row[:-1])  # flat[j + 1] calls flat[j]
    n = max(nframes, 1)
    pair = flat[same + 1] * n + flat[same]
    kinds, pid = np.unique(pair, return_inverse=True)
    code = distinct_ints(row[same] * len(kinds) + pid.reshape(-1))  # (stack, pair) once
    prow, ppair = np.divmod(code, len(kinds))
    w = np.zeros(len(kinds), dtype=np.int64)
    s = np.zeros(len(kinds), dtype=np.int64)
    np.add.at(w, ppair, ws[prow])
    np.add.at(s, ppair, ss[prow])
    caller, callee = np.divmod(kinds, n)
    return Neighbourhood(caller, callee, w, s, roots)


# -- call trees and the flame graph: one sorted index of the stacks ------------------------


class StackIndex:
    """The profile's stacks as paths from the tree's root side (outermost caller first,
    or, ``inverted``, leaf first), sorted. Every call path is then one contiguous range of
    that order: a node is (prefix length, lo, hi), its children are found by bisection
    (O(children x log stacks), whatever the samples under it) and the weight of any range
    comes from prefix sums. Building costs one sort of the stacks (C comparisons)."""

    def __init__(self, profile: Profile, inverted: bool = False,
                 by_samples: bool = False) -> None:
        """``by_samples``: weights are sample counts (a flame graph drawn by samples)."""
        keys = profile.stacks if inverted else [s[::-1] for s in profile.stacks]
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self.keys: list[tuple[int, ...]] = [keys[i] for i in order]
        # one list each: on a columnar Profile ``stack_samples`` makes a new list a call
        samples = profile.stack_samples
        self.cum_samples = list(accumulate((samples[i] for i in order), initial=0))
        weights = samples if by_samples else profile.stack_weight
        self.cum_weight = self.cum_samples if by_samples else list(
            accumulate((weights[i] for i in order), initial=0))
        self.size = len(order)

    def weight(self, lo: int, hi: int) -> int:
        return self.cum_weight[hi] - self.cum_weight[lo]

    def samples(self, lo: int, hi: int) -> int:
        return self.cum_samples[hi] - self.cum_samples[lo]

    def ends(self, depth: int, lo: int, hi: int) -> int:
        """Where the stacks that end at this node (exactly ``depth`` frames) stop: they
        sort first in the range."""
        if lo >= hi:
            return lo
        return bisect_right(self.keys, self.keys[lo][:depth], lo, hi)

    def split(self, depth: int, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """The children of node (depth, lo, hi): (frame id, lo, hi) in frame-id order."""
        keys = self.keys
        out: list[tuple[int, int, int]] = []
        i = self.ends(depth, lo, hi)
        if i >= hi:
            return out
        prefix = keys[lo][:depth]
        while i < hi:
            fid = keys[i][depth]
            j = bisect_left(keys, (*prefix, fid + 1), i, hi)
            out.append((fid, i, j))
            i = j
        return out


@dataclass(slots=True)
class CallNode:
    """A call path: ``path`` is frame ids from the tree's root side (outermost caller for
    top-down, the leaf for bottom-up). ``weight``: stacks through the path;
    ``self_weight``: stacks that end there. ``lo``/``hi``: its range in the StackIndex."""

    path: tuple[int, ...]
    weight: int
    samples: int
    self_weight: int
    self_samples: int
    lo: int = field(repr=False)
    hi: int = field(repr=False)
    _children: list[CallNode] | None = field(default=None, repr=False)

    @property
    def depth(self) -> int:
        return len(self.path)


class CallTree:
    """Top-down (callers above callees, roots are outermost frames) or, ``inverted``,
    bottom-up (roots are leaves, children their callers: a root's weight is its function's
    self weight). Children are computed when first asked for and sorted by weight."""

    def __init__(self, profile: Profile, inverted: bool = False,
                 index: StackIndex | None = None) -> None:
        self.profile = profile
        self.inverted = inverted
        self.index = index if index is not None else StackIndex(profile, inverted)
        self.total = profile.weight
        self.root = self._node((), 0, self.index.size)

    def _node(self, path: tuple[int, ...], lo: int, hi: int) -> CallNode:
        ix = self.index
        end = ix.ends(len(path), lo, hi)
        return CallNode(path, ix.weight(lo, hi), ix.samples(lo, hi), ix.weight(lo, end),
                        ix.samples(lo, end), lo, hi)

    def frame(self, node: CallNode) -> Frame | None:
        return self.profile.frames[node.path[-1]] if node.path else None

    def children(self, node: CallNode) -> list[CallNode]:
        if node._children is not None:
            return node._children
        out = [self._node((*node.path, fid), lo, hi)
               for fid, lo, hi in self.index.split(node.depth, node.lo, node.hi)]
        frames = self.profile.frames
        out.sort(key=lambda n: (-n.weight, frames[n.path[-1]].name, n.path[-1]))
        node._children = out
        return out

    def hottest_path(self, node: CallNode | None = None) -> list[CallNode]:
        """From ``node`` (default the root, not included) down the heaviest child each
        time, while that child weighs at least the node's self weight (below that the
        time is the node's own: a 58% function with a 0.2% interrupt under it ends
        the path)."""
        out: list[CallNode] = []
        cur = node or self.root
        while True:
            kids = self.children(cur)
            if not kids or kids[0].weight < cur.self_weight:
                return out
            cur = kids[0]
            out.append(cur)

    def find(self, frames: Sequence[Frame]) -> list[CallNode]:
        """The nodes along a path given as Frames (as far as it exists in this profile)."""
        out = []
        cur = self.root
        for fr in frames:
            nxt = next((c for c in self.children(cur) if self.frame(c) == fr), None)
            if nxt is None:
                break
            out.append(nxt)
            cur = nxt
        return out


@dataclass(frozen=True, slots=True)
class TreeLine:
    """One line of a call tree as drawn: percentages formatted for fixed columns (perf
    report's Children and Self at the left), the name indented by ``depth``. ``node`` None
    is the "… n more" line that sums the children beyond the limit."""

    node: CallNode | None
    depth: int  # the root ("all") is 0
    parent: int  # the index of the parent's line, -1 for the root
    expandable: bool
    expanded: bool
    total: str  # "59.78%", of all the profile's weight
    self: str  # "" where the tree has no self time to show (a bottom-up caller)
    total_pct: float
    self_pct: float
    name: str
    kind: Kind | None


def tree_lines(tree: CallTree, expanded: Collection[tuple[int, ...]], limit: int = 200,
               max_lines: int | None = None) -> list[TreeLine]:
    """The lines of ``tree`` with the nodes whose paths are in ``expanded`` open (the root
    always), children heaviest first, at most ``limit`` per node (the rest summed in one
    line), at most ``max_lines`` in all. Self: top-down, the stacks that end at the node;
    bottom-up, a root (a leaf function) shows its weight, which is its self time, and its
    callers show none (a stack ending at a caller is only where the recording's stacks
    stop, not time spent there)."""
    total = tree.total
    out: list[TreeLine] = []
    frames = tree.profile.frames

    def line(node: CallNode, depth: int, parent: int) -> TreeLine:
        f = frames[node.path[-1]] if node.path else None
        if tree.inverted:
            sw = node.weight if depth == 1 else None
        else:
            sw = node.self_weight if depth else None
        opened = depth == 0 or node.path in expanded
        tp = pct(node.weight, total)
        sp = pct(sw, total) if sw is not None else 0.0
        return TreeLine(node, depth, parent, node.weight > node.self_weight, opened,
                        f"{tp:.2f}%", f"{sp:.2f}%" if sw is not None else "", tp, sp,
                        "all" if f is None else f.name, None if f is None else f.kind)

    todo: list[tuple[CallNode | int, int, int]] = [(tree.root, 0, -1)]
    while todo and (max_lines is None or len(out) < max_lines):
        item, depth, parent = todo.pop()
        if isinstance(item, int):  # the rest of a node's children: ``item`` of them
            rest = tree.children(out[parent].node)[limit:]  # type: ignore[arg-type]
            w = sum(c.weight for c in rest)
            p = pct(w, total)
            out.append(TreeLine(None, depth, parent, False, False, f"{p:.2f}%", "", p, 0.0,
                                f"… {len(rest):,} more", None))
            continue
        ln = line(item, depth, parent)
        out.append(ln)
        if ln.expanded and ln.expandable:
            me = len(out) - 1
            kids = tree.children(item)
            nxt: list[tuple[CallNode | int, int, int]] = [
                (c, depth + 1, me) for c in kids[:limit]]
            if len(kids) > limit:
                nxt.append((len(kids) - limit, depth + 1, me))
            todo.extend(reversed(nxt))
    return out


def heat(pct_value: float) -> int:
    """perf report's colours for a percentage: 2 (red) from 5%, 1 (green) from 0.5%,
    else 0 (plain)."""
    return 2 if pct_value >= 5.0 else 1 if pct_value >= 0.5 else 0


class FlameTree:
    """The top-down tree of all stacks for the flame graph, root (node 0, "all") at the
    top, children left-heavy (heaviest first, ties by name). Nodes are small ints made
    when first reached (a layout reaches only what it draws), over a ``StackIndex``."""

    def __init__(self, profile: Profile, index: StackIndex | None = None) -> None:
        self.profile = profile
        self.index = index if index is not None else StackIndex(profile)
        self._depth = [0]
        self._lo = [0]
        self._hi = [self.index.size]
        self._parent = [-1]
        self._frame = [-1]
        self._children: dict[int, list[int]] = {}

    def __len__(self) -> int:
        """Nodes made so far."""
        return len(self._parent)

    def weight(self, node: int) -> int:
        return self.index.weight(self._lo[node], self._hi[node])

    def self_weight(self, node: int) -> int:
        lo = self._lo[node]
        return self.index.weight(lo, self.index.ends(self._depth[node], lo, self._hi[node]))

    def samples(self, node: int) -> int:
        return self.index.samples(self._lo[node], self._hi[node])

    def self_samples(self, node: int) -> int:
        lo = self._lo[node]
        return self.index.samples(lo, self.index.ends(self._depth[node], lo, self._hi[node]))

    def info(self, node: int) -> tuple[str, str]:
        """The numbers and the full name of a node, for the line under the graph:
        ("total 53.33% · self 33.33% · 16 samples · HPHP · /bin/app", "HPHP::B")."""
        total = self.weight(0)
        f = self.frame(node)
        nums = (f"total {pct(self.weight(node), total):.2f}% · self "
                f"{pct(self.self_weight(node), total):.2f}% · {self.samples(node):,} samples")
        if f is not None:
            nums += f" · {f.kind.value} · {f.dso}"
        return nums, self.name(node)

    def parent(self, node: int) -> int:
        return self._parent[node]

    def frame_id(self, node: int) -> int:
        return self._frame[node]

    def children(self, node: int) -> list[int]:
        kids = self._children.get(node)
        if kids is not None:
            return kids
        kids = []
        d = self._depth[node] + 1
        for fid, lo, hi in self.index.split(d - 1, self._lo[node], self._hi[node]):
            kids.append(len(self._parent))
            self._depth.append(d)
            self._lo.append(lo)
            self._hi.append(hi)
            self._parent.append(node)
            self._frame.append(fid)
        frames = self.profile.frames
        w = self.weight
        kids.sort(key=lambda n: (-w(n), frames[self._frame[n]].name, self._frame[n]))
        self._children[node] = kids
        return kids

    def frame(self, node: int) -> Frame | None:
        f = self._frame[node]
        return self.profile.frames[f] if f >= 0 else None

    def name(self, node: int) -> str:
        f = self.frame(node)
        return "all" if f is None else f.name

    def path(self, node: int) -> list[int]:
        """Nodes from the root (0) to ``node``, both included."""
        out = [node]
        while self._parent[out[-1]] >= 0:
            out.append(self._parent[out[-1]])
        return out[::-1]

    def find(self, frames: Iterable[Frame]) -> int:
        """The deepest node along a path of Frames from the root's children (0 if none)."""
        node = 0
        for fr in frames:
            nxt = next((c for c in self.children(node) if self.frame(c) == fr), None)
            if nxt is None:
                break
            node = nxt
        return node

    def frames_of(self, node: int) -> list[Frame]:
        """The path to ``node`` as Frames (root excluded): survives a profile swap."""
        out = []
        for n in self.path(node)[1:]:
            f = self.frame(n)
            assert f is not None
            out.append(f)
        return out


@dataclass(frozen=True, slots=True)
class FlameBox:
    node: int
    x: int  # first cell
    width: int  # cells, >= 1
    depth: int  # row, the zoom root is 0
    label: str  # name clipped to the width
    kind: Kind | None  # None for "all"
    name: str = ""  # the whole name (a painter may clip it its own way)


@dataclass(slots=True)
class FlameLayout:
    root: int
    width: int
    boxes: list[FlameBox]
    rows: list[list[FlameBox]]  # by depth, left to right
    by_node: dict[int, FlameBox]


def clip(text: str, width: int) -> str:
    """Text clipped to ``width`` cells with "…" where cut (one cell per character)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return text[: width - 1] + "…"


def clip_name(name: str, width: int) -> str:
    """A function name cut to ``width`` cells so the cut shows and the method stays: a
    qualified name loses the middle of its scope ("HPHP::Memo…::mallocSmall"), any
    other name its end ("JS:*fib /work/sam…"). Never a shorter name that looks whole."""
    if len(name) <= width:
        return name
    scope, sep, method = name.rpartition("::")
    if sep and scope and len(method) + len(sep) + 2 <= width:
        head = width - len(method) - len(sep) - 1
        return name[:head] + "…" + sep + method
    return clip(name, width)


def breadcrumb(names: Sequence[str], width: int, sep: str = " › ") -> str:
    """The path joined with ``sep``, its start dropped ("…") to fit ``width`` cells: the
    end (where one is zoomed) matters most; a last name too long is clipped."""
    text = sep.join(names)
    if len(text) <= width:
        return text
    kept: list[str] = []
    used = 1  # the "…"
    for name in reversed(names):
        if used + len(sep) + len(name) > width:
            break
        kept.append(name)
        used += len(sep) + len(name)
    if not kept:
        return clip(names[-1], width)
    return sep.join(["…", *reversed(kept)])


def flame_layout(tree: FlameTree, root: int, width: int, max_depth: int | None = None
                 ) -> FlameLayout:
    """Boxes of the subtree under ``root`` drawn ``width`` cells wide: a node's cells are
    [floor(W*a/T), floor(W*b/T)) where [a, b) is its weight interval among its siblings
    and T the root's weight, so boxes never overlap and a row never exceeds its parent.
    Nodes lighter than T/W (narrower than one cell) are left out with everything under
    them; children are heaviest first, so the cost is that of the boxes drawn."""
    boxes: list[FlameBox] = []
    rows: list[list[FlameBox]] = []
    total = tree.weight(root)
    if width <= 0 or total <= 0:
        return FlameLayout(root, width, boxes, rows, {})
    weight = tree.weight
    frames = tree.profile.frames
    # (node, start weight offset, depth); children are visited left to right
    todo = [(root, 0, 0)]
    while todo:
        node, start, depth = todo.pop()
        w = weight(node)
        x0 = width * start // total
        x1 = width * (start + w) // total
        if x1 <= x0:
            continue
        fid = tree.frame_id(node)
        if fid >= 0:
            fr = frames[fid]
            box = FlameBox(node, x0, x1 - x0, depth, clip(fr.name, x1 - x0), fr.kind,
                           fr.name)
        else:
            box = FlameBox(node, x0, x1 - x0, depth, clip("all", x1 - x0), None, "all")
        boxes.append(box)
        if max_depth is not None and depth + 1 >= max_depth:
            continue
        off = start
        pending = []
        for c in tree.children(node):
            cw = weight(c)
            if cw * width < total:
                break  # this one and all lighter ones are under a cell
            pending.append((c, off, depth + 1))
            off += cw
        todo.extend(reversed(pending))
    for b in boxes:
        while len(rows) <= b.depth:
            rows.append([])
        rows[b.depth].append(b)
    for r in rows:
        r.sort(key=lambda b: b.x)
    return FlameLayout(root, width, boxes, rows, {b.node: b for b in boxes})


@dataclass(frozen=True, slots=True)
class FrameSearch:
    """Frames whose names match a search, and the share of the samples whose stacks hold
    any of them (speedscope's search: how much time is under what you looked for)."""

    frame_ids: frozenset[int]
    functions: int
    weight: int
    pct: float
    text: str

    @property
    def summary(self) -> str:
        noun = "function" if self.functions == 1 else "functions"
        return (f"search {self.text!r}: {self.functions:,} {noun}, {self.pct:.2f}% of all "
                "samples")


def search_frames(hot: HotTable, text: str, regex: bool = False) -> FrameSearch | None:
    """The frames of ``hot``'s profile that match ``text`` (None: no text); bad regex:
    ValueError."""
    match = compile_search(text, regex)
    if match is None:
        return None
    ids = [r.frame_id for r in hot.rows if match(r.name)]
    w = hot.weight_through(ids) if ids else 0
    return FrameSearch(frozenset(ids), len(ids), w, pct(w, hot.total), text)


# -- all views of one profile -----------------------------------------------------------------


class ProfileViews:
    """The view models of one profile, each built when first used and then kept."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._hot: HotTable | None = None
        self._trees: dict[bool, CallTree] = {}
        self._index: dict[bool, StackIndex] = {}
        self._flame: FlameTree | None = None

    @property
    def hot(self) -> HotTable:
        if self._hot is None:
            self._hot = HotTable(self.profile)
        return self._hot

    def index(self, inverted: bool) -> StackIndex:
        ix = self._index.get(inverted)
        if ix is None:
            ix = self._index[inverted] = StackIndex(self.profile, inverted)
        return ix

    def tree(self, inverted: bool) -> CallTree:
        t = self._trees.get(inverted)
        if t is None:
            t = self._trees[inverted] = CallTree(self.profile, inverted, self.index(inverted))
        return t

    @property
    def flame(self) -> FlameTree:
        if self._flame is None:
            self._flame = FlameTree(self.profile, self.index(False))
        return self._flame

    def sandwich(self, frame: Frame) -> Sandwich:
        return sandwich(self.profile, frame)
