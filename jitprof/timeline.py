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

# The bin the TUI reads with (seconds). The reader keeps one count per (stack, bin);
# resolve merges adjacent bins so that at most MAX_BINS (256) remain, so a long recording
# gets wider bins and a stack appears at most 256 times.
TIMELINE_BIN = 0.01

SPARKS = " ▁▂▃▄▅▆▇█"  # 0 and 8 heights of a one-cell bar


def restrict_bins(profile: Profile, lo: int | None, hi: int | None,
                  keep_bins: bool = True) -> Profile:
    """``profile`` with only the samples of time bins ``lo <= bin < hi`` (None: no bound
    on that side); with ``keep_bins`` False, also without its time axis: the stacks that
    differ only by bin merge into one (what the views need: fewer, heavier stacks). An
    unbinned profile is returned as it is when no bound is given, and refused otherwise.
    Frames, threads, inputs and diagnostics are the original's (shared, not copied); the
    time span shrinks to the bins kept. O(stacks)."""
    if not profile.stack_bin or profile.bin_width is None:
        if lo is None and hi is None:
            return profile
        raise ValueError("the profile has no time bins (read without a bin width)")
    width = profile.bin_width
    keyed: dict[tuple[tuple[int, ...], int, int], int] = {}
    stacks: list[tuple[int, ...]] = []
    threads: list[int] = []
    weights: list[int] = []
    samples: list[int] = []
    bins: list[int] = []
    first: int | None = None
    last: int | None = None
    for (stack, w, s, t), b in zip(profile.iter_stacks(), profile.stack_bin, strict=True):
        if (lo is not None and b < lo) or (hi is not None and b >= hi):
            continue
        first = b if first is None or b < first else first
        last = b if last is None or b > last else last
        key = (stack, t, b if keep_bins else 0)
        i = keyed.get(key)
        if i is None:
            keyed[key] = len(stacks)
            stacks.append(stack)
            threads.append(t)
            weights.append(w)
            samples.append(s)
            if keep_bins:
                bins.append(b)
        else:
            weights[i] += w
            samples[i] += s
    t0, t1 = profile.time_first, profile.time_last
    if first is not None and last is not None and t0 is not None and t1 is not None:
        t0 = max(t0, first * width)
        t1 = min(t1, (last + 1) * width)
    elif first is None:
        t0 = t1 = None
    return Profile(
        event=profile.event, frames=profile.frames, stacks=stacks, stack_thread=threads,
        stack_weight=weights, stack_samples=samples, threads=profile.threads,
        time_first=t0, time_last=t1, inputs=profile.inputs,
        diagnostics=profile.diagnostics, stack_bin=bins,
        bin_width=width if keep_bins else None, full_names=profile.full_names)


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
    if not profile.stack_bin or profile.bin_width is None:
        return None
    first = min(profile.stack_bin)
    last = max(profile.stack_bin)
    weights = [0] * (last - first + 1)
    for (_stack, w, _s, _t), b in zip(profile.iter_stacks(), profile.stack_bin, strict=True):
        weights[b - first] += w
    return Timeline(profile.bin_width, first, tuple(weights))


class BinIndex:
    """Which time bins one function's samples fall in, for any function: the stacks are
    flattened into numpy arrays once (O(frames on all stacks), in C after one pass), then
    each function costs O(that) in C. ``weights_of(frame ids)``: per bin of ``tl``, the
    weight of the samples whose stacks hold any of them (a recursive frame counts once)."""

    def __init__(self, profile: Profile, tl: Timeline) -> None:
        import numpy as np

        self.timeline = tl
        self.nframes = len(profile.frames)
        stacks = []
        weights = []
        for st, w, _s, _t in profile.iter_stacks():
            stacks.append(st)
            weights.append(w)
        lengths = np.fromiter(map(len, stacks), dtype=np.int64, count=len(stacks))
        self._bounds = np.concatenate(([0], np.cumsum(lengths)))
        self._flat = np.fromiter((f for st in stacks for f in st), dtype=np.int64,
                                 count=int(lengths.sum()))
        self._weights = np.asarray(weights, dtype=np.int64)
        self._bins = np.asarray(profile.stack_bin, dtype=np.int64) - tl.first

    def weights_of(self, frame_ids: Iterable[int]) -> list[int]:
        import numpy as np

        mask = np.zeros(self.nframes, dtype=bool)
        ids = np.fromiter(frame_ids, dtype=np.int64)
        if len(ids) == 0:
            return [0] * len(self.timeline.weights)
        mask[ids] = True
        hits = np.concatenate(([0], np.cumsum(mask[self._flat])))
        through = hits[self._bounds[1:]] > hits[self._bounds[:-1]]
        out: Any = np.bincount(self._bins[through], weights=self._weights[through],
                               minlength=len(self.timeline.weights))
        return [int(x) for x in out.round()]


def sparkline(values: list[float], top: float | None = None) -> str:
    """One character per value, its height of ``top`` (default the largest) in eighths;
    any value above zero shows at least the lowest bar."""
    top = max(values, default=0) if top is None else top
    if top <= 0:
        return " " * len(values)
    out = []
    for v in values:
        h = round(8 * v / top)
        out.append(SPARKS[max(h, 1 if v > 0 else 0)])
    return "".join(out)


def cell_values(weights: tuple[int, ...] | list[int], first: int,
                cells: list[tuple[int, int]]) -> list[float]:
    """The mean weight per bin in each cell's bins (a rate: cells that cover different
    numbers of bins compare)."""
    return [sum(weights[a - first:b - first]) / (b - a) for a, b in cells]
