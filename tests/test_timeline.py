"""The time axis of a binned profile (jitprof/present/timeline.py): hand-computed profiles, and the
demo recording read with bins against the same text counted by hand (sample times)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from jitprof.model import TIMELINE_BIN, Kind, Profile, ProfileBuilder
from jitprof.present.timeline import (
    BinIndex,
    cell_values,
    restrict_bins,
    sparkline,
    timeline,
)
from jitprof.resolve import load_profile

ROOT = Path(__file__).resolve().parent.parent
SLOW = ROOT / "samples" / "hhvm-demo" / "slow" / "perf.script.gz"


def _binned() -> Profile:
    """Bins of 0.5 s. Bin 10: (B, main) 3, (A, main) 1 | bin 11: (A, main) 2 |
    bin 13: (B, main) 4, (B, A, main) 5 (thread 2). Bin 12 is empty."""
    b = ProfileBuilder("cpu-clock")
    main = b.frame("main", Kind.NATIVE, "/bin/app")
    a = b.frame("PHP::A", Kind.PHP, "[JIT]", "")
    bb = b.frame("HPHP::B", Kind.HPHP, "/bin/app", "")
    t1 = b.thread(1, "app")
    t2 = b.thread(2, "app")
    b.add((bb, main), t1, 3, 3, bin=10)
    b.add((a, main), t1, 1, 1, bin=10)
    b.add((a, main), t1, 2, 2, bin=11)
    b.add((bb, main), t1, 4, 4, bin=13)
    b.add((bb, a, main), t2, 5, 5, bin=13)
    p = b.finish()
    p.bin_width = 0.5
    p.time_first, p.time_last = 5.1, 6.9
    p.verify()
    return p


def _stats(p: Profile) -> dict[str, tuple[int, int]]:
    return {p.frames[s.frame_id].name: (s.self_weight, s.total_weight)
            for s in p.function_stats()}


def test_restrict_bins_by_hand() -> None:
    p = _binned()
    mid = restrict_bins(p, 11, 14)  # bins 11..13
    mid.verify()
    assert mid.weight == 11 and mid.samples == 11 and sorted(mid.stack_bin) == [11, 13, 13]
    assert _stats(mid) == {"main": (0, 11), "PHP::A": (2, 7), "HPHP::B": (9, 9)}
    # the span shrinks to the bins kept: [5.5, 7.0) cut by the recording's [5.1, 6.9]
    assert (mid.time_first, mid.time_last) == (5.5, 6.9)
    assert mid.frames is p.frames and mid.threads is p.threads  # shared, not copied
    one = restrict_bins(p, 10, 11)
    assert one.weight == 4 and (one.time_first, one.time_last) == (5.1, 5.5)
    assert restrict_bins(p, 12, 13).weight == 0  # an empty bin
    assert restrict_bins(p, 12, 13).time_first is None
    # open bounds
    assert restrict_bins(p, None, 11).weight == 4 and restrict_bins(p, 13, None).weight == 9
    # the given profile is unchanged
    assert p.weight == 15 and len(p.stacks) == 5


def test_restrict_bins_without_the_time_axis_merges_stacks() -> None:
    p = _binned()
    flat = restrict_bins(p, None, None, keep_bins=False)
    flat.verify()
    # (B, main) of bins 10 and 13 merge; (A, main) of 10 and 11; the thread-2 stack stays
    assert len(flat.stacks) == 3 and flat.stack_bin == [] and flat.bin_width is None
    assert flat.weight == p.weight and _stats(flat) == _stats(p)
    assert sorted(flat.stack_weight) == [3, 5, 7]
    plain = ProfileBuilder("cpu-clock").finish()
    assert restrict_bins(plain, None, None) is plain
    with pytest.raises(ValueError, match="no time bins"):
        restrict_bins(plain, 0, 1)


def test_timeline_and_the_function_strip() -> None:
    p = _binned()
    tl = timeline(p)
    assert tl is not None and tl.first == 10 and tl.weights == (4, 2, 0, 9) and tl.end == 14
    assert tl.span(11, 13) == "5.50-6.50 s (1.00 s)"
    assert tl.bin_at(5.6) == 11 and tl.bin_at(0) == 10 and tl.bin_at(99) == 13
    index = BinIndex(p, tl)
    a = next(i for i, f in enumerate(p.frames) if f.name == "PHP::A")
    b = next(i for i, f in enumerate(p.frames) if f.name == "HPHP::B")
    assert index.weights_of([a]) == [1, 2, 0, 5]
    assert index.weights_of([b]) == [3, 0, 0, 9]
    assert index.weights_of([a, b]) == [4, 2, 0, 9]  # a stack holding both counts once
    assert index.weights_of([]) == [0, 0, 0, 0]
    assert timeline(ProfileBuilder("x").finish()) is None
    # 8 cells over 4 bins: two cells each; 2 cells over 4 bins: two bins each (their mean)
    assert tl.cell_bins(8)[:3] == [(10, 11), (10, 11), (11, 12)]
    assert tl.cell_bins(2) == [(10, 12), (12, 14)]
    assert cell_values(tl.weights, tl.first, tl.cell_bins(2)) == [3.0, 4.5]
    assert sparkline([0, 1, 4, 8]) == " ▁▄█" and sparkline([0.1, 8]) == "▁█"
    assert sparkline([0, 0]) == "  "


def _times_by_hand(path: Path) -> list[float]:
    """Each sample's time in the perf script text (the header line: '... 945.160123: ')."""
    out = []
    with gzip.open(path, "rt") as f:
        for line in f:
            if line and not line[0].isspace() and ": " in line and "PERF_RECORD" not in line:
                head = line.split(": ", 1)[0].split()
                try:
                    out.append(float(head[-1]))
                except ValueError:
                    continue
    return out


def test_the_demo_read_with_bins_matches_its_sample_times() -> None:
    """The profile the TUI reads: bins of TIMELINE_BIN (at most 256), whose counts are
    the samples with those times in the text; restricted to a range, its samples are
    those of the range, and without the axis it is the unbinned profile."""
    binned = load_profile([str(SLOW)], search_tmp=False, bin_width=TIMELINE_BIN)
    plain = load_profile([str(SLOW)], search_tmp=False)
    binned.verify()
    times = _times_by_hand(SLOW)
    assert len(times) == plain.samples == binned.samples == 2002
    width = binned.bin_width
    assert width is not None and len(set(binned.stack_bin)) <= 256
    tl = timeline(binned)
    assert tl is not None
    counts = [0] * len(tl.weights)
    # the reader's bin (int(t / 0.01)) merged k at a time (k = width / 0.01)
    k = round(width / TIMELINE_BIN)
    for t in times:
        counts[int(t / TIMELINE_BIN) // k - tl.first] += 1
    per_bin = [0] * len(tl.weights)
    for (_st, _w, s, _t), b in zip(binned.iter_stacks(), binned.stack_bin, strict=True):
        per_bin[b - tl.first] += s
    assert per_bin == counts
    flat = restrict_bins(binned, None, None, keep_bins=False)
    assert _stats(flat) == _stats(plain) and len(flat.stacks) == len(plain.stacks)
    lo, hi = tl.first + 20, tl.first + 120
    part = restrict_bins(binned, lo, hi, keep_bins=False)
    part.verify()
    assert part.samples == sum(counts[20:120]) > 0
