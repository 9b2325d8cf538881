"""The time axis of a binned Profile: samples per time bin, one function's share of them,
and the profile restricted to a range of bins (``restrict_bins``).

A Profile read with a bin width has ``stack_bin[i]``, the time bin ``int(t / bin_width)``
of the samples in ``stacks[i]`` (jitprof/model.py). Everything here reads the Profile only
through its public API (``iter_stacks``, ``stack_bin``, ``bin_width``, ``frames``, ...),
so a columnar Profile can keep these functions or reimplement ``restrict_bins`` alone.
Pure data: no textual, rich or click.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jitprof.model import Profile

SPARKS = " ▁▂▃▄▅▆▇█"  # 0 and 8 heights of a one-cell bar


def restrict_bins(profile: Profile, lo: int | None, hi: int | None,
                  keep_bins: bool = True) -> Profile:
    """``profile`` with only the samples of time bins ``lo <= bin < hi`` (None: no bound
    on that side); with ``keep_bins`` False, also without its time axis: the groups that
    differ only by bin merge into one (what the views need: fewer, heavier groups). An
    unbinned profile is returned as it is when no bound is given, and refused otherwise.
    Frames, threads, the stack table, inputs and diagnostics are the original's (shared,
    not copied); the time span shrinks to the bins kept. numpy over the groups: O(groups
    log groups) for the merge."""
    import numpy as np

    bins = profile.group_bin
    if not len(bins) or profile.bin_width is None:
        if lo is None and hi is None:
            return profile
        raise ValueError("the profile has no time bins (read without a bin width)")
    width = profile.bin_width
    keep = np.ones(len(bins), dtype=bool)
    if lo is not None:
        keep &= bins >= lo
    if hi is not None:
        keep &= bins < hi
    node = profile.group_node[keep]
    thread = profile.group_thread[keep]
    weight = profile.group_weight[keep]
    samples = profile.group_samples[keep]
    kept_bins = bins[keep]
    if keep_bins:
        tables = (node, thread, weight, samples, kept_bins)
    else:
        # one group per (stack node, thread), in the order of their first group
        key = (node.astype(np.int64) + 1) * (len(profile.threads) + 1) + thread
        uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(uniq), dtype=np.int64)
        rank[order] = np.arange(len(uniq))
        g = rank[inv]
        tables = (node[first[order]], thread[first[order]],
                  np.bincount(g, weights=weight, minlength=len(uniq)).astype(np.int64)
                  if not len(weight) or int(weight.sum()) < 1 << 52 else
                  _exact_sums(g, weight, len(uniq)),
                  np.bincount(g, weights=samples, minlength=len(uniq)).astype(np.int64),
                  ())
    out = Profile(event=profile.event, frames=profile.frames, threads=profile.threads)
    out.set_tables(profile.node_prefix, profile.node_frame, tables[0], tables[1], tables[2],
                   tables[3], tables[4])
    out.inputs = profile.inputs
    out.diagnostics = profile.diagnostics
    out.full_names = profile.full_names
    out.versions = profile.versions
    out.bin_width = width if keep_bins else None
    t0, t1 = profile.time_first, profile.time_last
    if len(kept_bins) and t0 is not None and t1 is not None:
        out.time_first = max(t0, int(kept_bins.min()) * width)
        out.time_last = min(t1, (int(kept_bins.max()) + 1) * width)
    elif not len(kept_bins):
        out.time_first = out.time_last = None
    else:
        out.time_first, out.time_last = t0, t1
    return out


def _exact_sums(groups: Any, values: Any, n: int) -> Any:
    """Sums by group in exact int64 (bincount adds in float64: exact only below 2**53)."""
    import numpy as np

    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, groups, values)
    return out


@dataclass(frozen=True, slots=True)
class Timeline:
    """The weight per time bin of a binned profile, from bin ``first`` on (empty bins 0).
    Bin ``b`` covers [b * bin_width, (b + 1) * bin_width) seconds of perf time."""

    bin_width: float
    first: int
    weights: tuple[int, ...]

    @property
    def end(self) -> int:
        """One past the last bin."""
        return self.first + len(self.weights)

    def seconds(self, b: int) -> float:
        return b * self.bin_width

    def span(self, lo: int, hi: int) -> str:
        """Bins [lo, hi) in words: "945.20-946.10 s (0.90 s)"."""
        a, b = self.seconds(lo), self.seconds(hi)
        return f"{a:.2f}-{b:.2f} s ({b - a:.2f} s)"

    def bin_at(self, seconds: float) -> int:
        """The bin holding ``seconds``, within [first, end)."""
        return min(max(int(seconds / self.bin_width), self.first), self.end - 1)

    def cell_bins(self, width: int) -> list[tuple[int, int]]:
        """The bins [lo, hi) each of ``width`` cells shows: every bin in at least one cell,
        cells in order (several cells per bin when there are fewer bins than cells)."""
        n = len(self.weights)
        if width <= 0 or n == 0:
            return []
        out = []
        for c in range(width):
            a = c * n // width
            b = max((c + 1) * n // width, a + 1)
            out.append((self.first + a, self.first + b))
        return out


def timeline(profile: Profile) -> Timeline | None:
    """The profile's weight per bin; None for a profile without time bins."""
    import numpy as np

    bins = profile.group_bin
    if not len(bins) or profile.bin_width is None:
        return None
    first = int(bins.min())
    w = _exact_sums(bins.astype(np.int64) - first, profile.group_weight,
                    int(bins.max()) - first + 1)
    return Timeline(profile.bin_width, first, tuple(int(x) for x in w))


class BinIndex:
    """Which time bins one function's samples fall in, for any function: which stack
    nodes hold the function comes from the stack table (a node holds it if its frame is
    it or its caller's node holds it: one pass over the nodes, callers first), then the
    groups at those nodes are summed by bin. Building costs nothing; each function
    O(nodes + groups) in numpy. ``weights_of(frame ids)``: per bin of ``tl``, the weight
    of the samples whose stacks hold any of them (a recursive frame counts once)."""

    def __init__(self, profile: Profile, tl: Timeline) -> None:
        import numpy as np

        self.timeline = tl
        self.profile = profile
        self._bins = profile.group_bin.astype(np.int64) - tl.first
        self._depth = profile.node_depth()
        # nodes by depth, for the callers-first pass a level at a time
        self._levels = np.argsort(self._depth, kind="stable")
        self._level_ends = np.searchsorted(self._depth[self._levels],
                                           np.arange(int(self._depth.max(initial=0)) + 2))

    def weights_of(self, frame_ids: Iterable[int]) -> list[int]:
        import numpy as np

        p = self.profile
        ids = np.fromiter(frame_ids, dtype=np.int64)
        n = len(self.timeline.weights)
        if not len(ids) or not len(p.node_frame):
            return [0] * n
        mask = np.zeros(len(p.frames), dtype=bool)
        mask[ids] = True
        holds = mask[p.node_frame]
        pre = p.node_prefix
        for d in range(1, len(self._level_ends) - 1):  # level d: their callers are done
            nodes = self._levels[self._level_ends[d]:self._level_ends[d + 1]]
            if len(nodes):
                holds[nodes] |= holds[pre[nodes]]
        g = p.group_node
        through = (g >= 0) & holds[np.maximum(g, 0)]
        out = _exact_sums(self._bins[through], p.group_weight[through], n)
        return [int(x) for x in out]


def sparkline(values: list[float], top: float | None = None) -> str:
    """One character per value, its height of ``top`` (default the largest) in eighths;
    any value above zero shows at least the lowest bar."""
    top = max(values, default=0) if top is None else top
    if top <= 0:
        return " " * len(values)
    out = []
    for v in values:
        h = min(round(8 * v / top), 8)
        out.append(SPARKS[max(h, 1 if v > 0 else 0)])
    return "".join(out)


def cell_values(weights: tuple[int, ...] | list[int], first: int,
                cells: list[tuple[int, int]]) -> list[float]:
    """The mean weight per bin in each cell's bins (a rate: cells that cover different
    numbers of bins compare)."""
    return [sum(weights[a - first:b - first]) / (b - a) for a, b in cells]
