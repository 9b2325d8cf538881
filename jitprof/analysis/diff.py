"""Compare profiles before and after a change: functions paired by name, deltas, verdicts.

Pairing: a function is (kind, name, dso) with the dso pid-free and reduced to its base
name (``/tmp/perf-123.map`` and ``[JIT]`` pair across runs), no dso at all for runtime and
JIT names (``PHP::``, ``HPHP::``, ``HHVM::``, map names), C++ parameter lists cut from
``HPHP::`` and native names; never by address. JIT names are taken as the map gives them.

Per function and side: self and total samples, CPU time (sum of periods of a time event,
ms), and the compared value of one metric (self or total) normalised one of three ways:
share of the side's samples (percent; delta in points), rate (samples per second of
recording) or per unit of work (samples per request, the counts given by the user).
Every value carries a confidence interval, every delta an interval, a p-value, a
Benjamini-Hochberg q-value across all functions compared, and a verdict.

Uncertainty (``method``): ``binomial`` takes samples as independent (a lower bound);
``bootstrap`` resamples blocks of time of each recording to measure how much more a
function's count varies than that (a design effect per function and side, never below
1); ``runs`` measures it across the recordings given per side (t with their degrees of
freedom). ``auto`` picks runs with two or more recordings per side, else the bootstrap
when every input has times, else binomial; the result says which and why.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from jitprof.analysis import stats
from jitprof.errors import DiffUsageError
from jitprof.model import (
    CPU_TIME_EVENTS,
    SYNTHETIC_EVENTS,
    Frame,
    Kind,
    Profile,
    distinct_ints,
)
from jitprof.model.names import jit_map_pid, strip_params

RUNTIME_KINDS = (Kind.PHP, Kind.HPHP, Kind.HHVM, Kind.JIT, Kind.JAVA, Kind.JVM)
TIME_EVENTS = (*CPU_TIME_EVENTS, *SYNTHETIC_EVENTS)  # weights in nanoseconds
# off-cpu and wall (issue 17): a sample is a wait of any length, so what is counted is
# its weight in milliseconds (a cpu-clock sample at 999 Hz is one): shares are of time
DURATION_EVENTS = SYNTHETIC_EVENTS
DURATION_UNIT_NS = 1_000_000
# the modes, one definition each (the CLI's choices are made from them)
Method = Literal["auto", "binomial", "bootstrap", "runs"]  # how uncertainty is measured
Metric = Literal["self", "total"]  # the time compared (--by)
NormalizationMode = Literal["share", "rate", "per"]  # of samples, per second, per work unit
Verdict = Literal["up", "down", "no clear change"]
METHODS: tuple[Method, ...] = get_args(Method)
METRICS: tuple[Metric, ...] = get_args(Metric)
NORMALIZATIONS: tuple[NormalizationMode, ...] = get_args(NormalizationMode)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
DEFAULT_BLOCK = 0.1  # seconds of recording per bootstrap block (at least)
MAX_BLOCKS = 50  # per recording: longer recordings get longer blocks
MIN_BLOCKS = 10  # per side, for the bootstrap to say anything

FunctionKey = tuple[Kind, str, str]


def pair_dso(dso: str) -> str:
    """The pid-free, path-free dso a function pairs by: ``/tmp/perf-123.map`` -> ``[JIT]``,
    ``/usr/lib/libc.so.6`` -> ``libc.so.6``."""
    if jit_map_pid(dso) is not None:
        return "[JIT]"
    return os.path.basename(dso) if "/" in dso.rstrip("/") else dso


def function_key(frame: Frame) -> FunctionKey:
    """What pairs a function across profiles (see the module docstring)."""
    name = frame.name
    if frame.kind in (Kind.HPHP, Kind.NATIVE):
        name = strip_params(name)
    dso = "" if frame.kind in RUNTIME_KINDS else pair_dso(frame.dso)
    return (frame.kind, name, dso)


@dataclass(frozen=True, slots=True)
class Normalization:
    """``share`` (default), ``rate`` (per second of recording) or ``per`` (per unit of
    work: ``units`` = (before, after), e.g. request counts)."""

    mode: NormalizationMode = "share"
    units: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.mode not in NORMALIZATIONS:
            raise DiffUsageError(f"unknown normalisation {self.mode!r}")
        if self.mode == "per" and (self.units is None or min(self.units) <= 0):
            raise DiffUsageError("--per needs a positive count of work units for each side")

    @property
    def unit(self) -> str:
        return {"share": "%", "rate": "samples/s", "per": "samples/unit"}[self.mode]

    @property
    def delta_unit(self) -> str:
        return "pts" if self.mode == "share" else self.unit


@dataclass(slots=True)
class _Counts:
    """Samples of one unit of variation (a whole side, a recording or a block of time)."""

    samples: int = 0
    self_: dict[int, int] = field(default_factory=dict)
    total: dict[int, int] = field(default_factory=dict)
    kinds: dict[Kind, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SideInfo:
    inputs: list[str]
    runs: int
    event: str
    samples: int
    weight: int
    span: float | None  # seconds of recording, summed over the runs
    cpu_ms: float | None  # None unless a time event with periods
    exposure: float  # what values are per: samples (share), seconds (rate), units (per)


@dataclass(frozen=True, slots=True)
class Estimate:
    count: int  # samples of the compared metric
    value: float  # normalised (percent, per second or per unit)
    lo: float
    hi: float
    design_effect: float


@dataclass(frozen=True, slots=True)
class Comparison:
    before: Estimate
    after: Estimate
    delta: float
    delta_lo: float
    delta_hi: float
    ratio: float | None  # after / before; None when before is 0
    p: float
    q: float  # Benjamini-Hochberg adjusted p over the family compared
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class FunctionDiff:
    name: str
    kind: Kind
    dso: str
    status: str  # "both", "new" (no samples before), "gone" (no samples after)
    self_samples: tuple[int, int]  # before, after
    total_samples: tuple[int, int]
    self_ms: tuple[float | None, float | None]
    total_ms: tuple[float | None, float | None]
    self_pct: tuple[float, float]  # share of the side's samples
    total_pct: tuple[float, float]
    self_delta: float  # the change of self time, normalised (as the kind summary's)
    cmp: Comparison  # of the compared metric (``DiffResult.by``)


@dataclass(frozen=True, slots=True)
class KindDiff:
    kind: Kind
    self_samples: tuple[int, int]
    self_ms: tuple[float | None, float | None]
    cmp: Comparison
    top: FunctionDiff | None  # the function of this kind whose self value changed most


@dataclass(frozen=True, slots=True)
class DiffResult:
    before: SideInfo
    after: SideInfo
    by: Metric
    normalization: Normalization
    method: Method  # what was used: binomial, bootstrap, runs
    method_note: str  # how, or why the asked one could not be
    alpha: float
    confidence: float
    functions: list[FunctionDiff]  # every function seen, largest |delta| first
    compared: int  # functions in the FDR family: those with samples of the metric
    kinds: list[KindDiff]  # self by kind, in Kind order, kinds with samples only
    df: float | None  # degrees of freedom (runs, bootstrap), None for normal-based tests


# -- gathering -----------------------------------------------------------------------------
class _Keys:
    def __init__(self) -> None:
        self.ids: dict[FunctionKey, int] = {}
        self.keys: list[FunctionKey] = []
        self.dso: list[str] = []  # display dso (first seen)

    def of(self, frame: Frame) -> int:
        k = function_key(frame)
        i = self.ids.get(k)
        if i is None:
            i = self.ids[k] = len(self.keys)
            self.keys.append(k)
            self.dso.append(k[2] or pair_dso(frame.dso))
        return i


def _time_event(event: str) -> bool:
    return event.split(":")[0].split("/")[0] in TIME_EVENTS


@dataclass(slots=True)
class _Side:
    profiles: Sequence[Profile]
    whole: _Counts = field(default_factory=_Counts)
    self_w: dict[int, int] = field(default_factory=dict)
    total_w: dict[int, int] = field(default_factory=dict)
    kind_w: dict[Kind, int] = field(default_factory=dict)
    runs: list[_Counts] = field(default_factory=list)
    blocks: list[_Counts] = field(default_factory=list)


def _gather(profiles: Sequence[Profile], keys: _Keys, block: float | None,
            runs: bool, block_totals: bool) -> _Side:
    """Count samples per function key for the whole side, and, when asked, per
    recording (``runs``) and per block of ``block`` seconds (binned profiles; the blocks
    get total counts only with ``block_totals``).

    Vectorised: every stack's frames are flattened into one array of function keys; a
    function's total counts each stack once (recursion counted once), found as the
    distinct (stack row, key) pairs; self is the leaf's key. Sums are exact integers."""
    import numpy as np

    side = _Side(profiles)
    kind_list = list(Kind)
    kind_pos = {k: i for i, k in enumerate(kind_list)}
    for prof in profiles:
        kmap = np.fromiter((keys.of(f) for f in prof.frames), dtype=np.int64,
                           count=len(prof.frames))
        fkind = np.fromiter((kind_pos[f.kind] for f in prof.frames), dtype=np.int64,
                            count=len(prof.frames))
        m = len(prof.stacks)
        lengths = np.fromiter(map(len, prof.stacks), dtype=np.int64, count=m)
        n = np.asarray(prof.stack_samples, dtype=np.int64)
        wt = np.asarray(prof.stack_weight, dtype=np.int64)
        if prof.event in DURATION_EVENTS:
            n = np.rint(wt / DURATION_UNIT_NS).astype(np.int64)
        nkeys = max(len(keys.keys), 1)
        whole_n = int(n.sum())
        full = lengths > 0
        rows = np.flatnonzero(full)
        # leaves: the first frame of every non-empty stack
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if m else lengths
        flat = np.fromiter(itertools.chain.from_iterable(prof.stacks), dtype=np.int64,
                           count=int(lengths.sum()))
        leaf_frame = flat[starts[rows]] if len(rows) else np.zeros(0, dtype=np.int64)
        leaf = kmap[leaf_frame] if len(rows) else leaf_frame
        leaf_kind = fkind[leaf_frame] if len(rows) else leaf_frame
        # distinct (row, key) pairs: a function counts once per stack
        row_of = np.repeat(np.arange(m, dtype=np.int64), lengths)
        code = distinct_ints(row_of * nkeys + kmap[flat])
        pair_row, pair_key = np.divmod(code, nkeys)

        nk, nkind = len(keys.keys), len(kind_list)
        _add(side.self_w, leaf, wt[rows], nk)
        _add(side.kind_w, leaf_kind, wt[rows], nkind, kind_list)
        _add(side.total_w, pair_key, wt[pair_row], nk)
        run = _Counts()
        for c in ([side.whole, run] if runs else [side.whole]):
            c.samples += whole_n
            _add(c.self_, leaf, n[rows], nk)
            _add(c.kinds, leaf_kind, n[rows], nkind, kind_list)
            _add(c.total, pair_key, n[pair_row], nk)
        side.runs.append(run)
        binned = block is not None and prof.bin_width is not None and bool(prof.stack_bin)
        if not binned:
            continue
        per = max(1, round(block / prof.bin_width))  # type: ignore[operator]
        sbin = np.asarray(prof.stack_bin, dtype=np.int64)
        blk_of = (sbin - sbin.min()) // per
        present = distinct_ints(blk_of)
        blk_idx = np.searchsorted(present, blk_of)
        nb = len(present)
        blocks = [_Counts() for _ in range(nb)]
        for b, s_ in enumerate(_sums(blk_idx, n, nb).tolist()):
            blocks[b].samples = s_

        _spread(blocks, "self_", blk_idx[rows], leaf, n[rows], nkeys)
        _spread(blocks, "kinds", blk_idx[rows], leaf_kind, n[rows], nkind, kind_list)
        if block_totals:
            _spread(blocks, "total", blk_idx[pair_row], pair_key, n[pair_row], nkeys)
        side.blocks.extend(blocks)
    return side


def _sums(idx: Any, vals: Any, size: int) -> Any:
    """Exact int64 sums of ``vals`` grouped by ``idx`` (0 <= idx < size)."""
    import numpy as np

    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, idx, vals)
    return out


def _add(d: dict[Any, int], idx: Any, vals: Any, size: int,
         names: Sequence[Any] | None = None) -> None:
    """Add the grouped sums into ``d`` (keys: the group index, or ``names[index]``)."""
    import numpy as np

    tot = _sums(idx, vals, size)
    for i in np.flatnonzero(tot).tolist():
        k = names[i] if names is not None else i
        d[k] = d.get(k, 0) + int(tot[i])


def _spread(blocks: list[_Counts], attr: str, bi: Any, ki: Any, vals: Any, size: int,
            names: Sequence[Any] | None = None) -> None:
    """Sums of ``vals`` per (block ``bi``, key ``ki``) into ``blocks[b].<attr>``."""
    import numpy as np

    codes = bi * size + ki
    present = distinct_ints(codes)
    tot = _sums(np.searchsorted(present, codes), vals, len(present))
    for c, t in zip(present.tolist(), tot.tolist(), strict=True):
        if t:
            b, k = divmod(c, size)
            getattr(blocks[b], attr)[names[k] if names is not None else k] = t


def _span(profiles: Iterable[Profile]) -> float | None:
    total = 0.0
    for p in profiles:
        if p.time_first is None or p.time_last is None:
            return None
        total += p.time_last - p.time_first
    return total


def _side_info(profiles: Sequence[Profile], side: _Side, norm: Normalization,
               which: int) -> SideInfo:
    event = profiles[0].event
    span = _span(profiles)
    weight = sum(p.weight for p in profiles)
    timed = _time_event(event) and all(p.diagnostics.has_period for p in profiles)
    if norm.mode == "share":
        exposure = float(side.whole.samples)
    elif norm.mode == "rate":
        if not span:
            where = ", ".join(i for p in profiles for i in p.inputs)
            raise DiffUsageError(f"--normalize rate needs the time span of every input "
                                 f"(no time field, or one sample) in: {where}")
        exposure = span
    else:
        assert norm.units is not None
        exposure = norm.units[which]
    return SideInfo([i for p in profiles for i in p.inputs], len(profiles), event,
                    side.whole.samples, weight, span, weight / 1e6 if timed else None,
                    exposure)


# -- method -------------------------------------------------------------------------------
def _choose_method(method: Method, before: Sequence[Profile], after: Sequence[Profile],
                   block: float | None) -> tuple[Method, str, float | None]:
    """(method used, note, block seconds for the bootstrap)."""
    if method not in METHODS:
        raise DiffUsageError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    if method == "runs" or (method == "auto" and len(before) >= 2 and len(after) >= 2):
        if len(before) < 2 or len(after) < 2:
            raise DiffUsageError("--method runs needs at least two recordings on each side "
                                 f"(got {len(before)} before, {len(after)} after)")
        return ("runs", f"variation across recordings ({len(before)} before, "
                f"{len(after)} after)", None)
    if method in ("bootstrap", "auto"):
        why = _no_bootstrap(before, after)
        if why is None:
            blk = _block_length(before, after, block)
            nb = [_count_blocks(ps, blk) for ps in (before, after)]
            if min(nb) >= MIN_BLOCKS:
                return ("bootstrap", f"block bootstrap over time ({blk:g} s blocks: "
                        f"{nb[0]} before, {nb[1]} after)", blk)
            why = (f"recordings too short for {MIN_BLOCKS} blocks of {blk:g} s per side "
                   f"({nb[0]} before, {nb[1]} after)")
        return ("binomial", f"binomial, samples taken as independent: no bootstrap, {why}",
                None)
    return ("binomial", "binomial, samples taken as independent (a lower bound on the "
            "uncertainty)", None)


def _no_bootstrap(before: Sequence[Profile], after: Sequence[Profile]) -> str | None:
    for p in (*before, *after):
        if p.bin_width is None or not p.stack_bin:
            where = ", ".join(p.inputs) or "an input"
            if p.time_first is None:
                return f"{where} has no per-sample time (no time field in the text)"
            return (f"{where} kept no per-sample time (a saved profile, or JIT code named "
                    "by jitdump times)")
    return None


def _block_length(before: Sequence[Profile], after: Sequence[Profile],
                  block: float | None) -> float:
    width = max(p.bin_width or 0.0 for p in (*before, *after))
    if block is not None:
        return max(block, width)
    spans = [(p.time_last - p.time_first) for p in (*before, *after)
             if p.time_first is not None and p.time_last is not None]
    longest = max(spans, default=0.0)
    blk = max(DEFAULT_BLOCK, width)
    while longest / blk > MAX_BLOCKS:
        blk *= 2
    return blk


def _count_blocks(profiles: Sequence[Profile], block: float) -> int:
    n = 0
    for p in profiles:
        assert p.bin_width is not None
        per = max(1, round(block / p.bin_width))
        first = min(p.stack_bin)
        n += len({(b - first) // per for b in p.stack_bin})
    return n


# -- design effects -----------------------------------------------------------------------
def _bootstrap_effects(b: _Side, a: _Side, cols: list[object], which: str,
                       resamples: int, seed: int, rate: bool
                       ) -> tuple[dict[object, float], dict[object, float]]:
    """Design effect per column (function key id or Kind) and side from the block
    bootstrap; ``which`` picks the counts: self_, total or kinds."""
    import numpy as np

    def matrix(side: _Side) -> np.ndarray:
        m = np.zeros((len(side.blocks), 1 + len(cols)), dtype=np.float64)
        index = {c: j + 1 for j, c in enumerate(cols)}
        for r, blk in enumerate(side.blocks):
            m[r, 0] = blk.samples
            for k, n in getattr(blk, which).items():
                j = index.get(k)
                if j is not None:
                    m[r, j] = n
        return m

    mb, ma = matrix(b), matrix(a)
    (vb_share, vb_count), (va_share, va_count) = stats.block_bootstrap_var(
        mb, ma, resamples, seed)
    out: list[dict[object, float]] = []
    for side, vs, vc in ((b, vb_share, vb_count), (a, va_share, va_count)):
        n = side.whole.samples
        counts = getattr(side.whole, which)
        d: dict[object, float] = {}
        for j, c in enumerate(cols):
            x = counts.get(c, 0)
            if rate:
                d[c] = max(1.0, float(vc[j]) / x) if x > 0 else 1.0
            else:
                d[c] = stats.design_effect(float(vs[j]), x / n if n else 0.0, n)
        out.append(_pool(d, counts))
    return out[0], out[1]


POOL_MIN_SAMPLES = 10  # functions with this many samples inform the common design effect


def _pool(d: dict[object, float], counts: dict[object, int]) -> dict[object, float]:
    """Each function's design effect, at least the median over the functions with
    ``POOL_MIN_SAMPLES`` samples: one function's estimate from a few blocks or runs is
    noisy, and an underestimate would pass noise for a change; the median is stable."""
    common = sorted(v for c, v in d.items() if counts.get(c, 0) >= POOL_MIN_SAMPLES)
    if len(common) < 3:
        return d
    med = common[len(common) // 2] if len(common) % 2 else (
        0.5 * (common[len(common) // 2 - 1] + common[len(common) // 2]))
    return {c: max(v, med) for c, v in d.items()}


def _runs_effects(side: _Side, cols: list[object], which: str, exposures: list[float] | None
                  ) -> dict[object, float]:
    """Design effect per column from the spread across recordings (linearised variance of
    the pooled share or rate, k/(k-1) small-sample factor)."""
    k = len(side.runs)
    n = side.whole.samples
    counts = getattr(side.whole, which)
    out: dict[object, float] = {}
    for c in cols:
        x = counts.get(c, 0)
        if exposures is None:  # shares
            s = x / n if n else 0.0
            var = k / (k - 1) * sum((getattr(r, which).get(c, 0) - s * r.samples) ** 2
                                    for r in side.runs) / (n * n)
            out[c] = stats.design_effect(var, s, n)
        else:
            e = sum(exposures)
            rate = x / e
            var = k / (k - 1) * sum((getattr(r, which).get(c, 0) - rate * ei) ** 2
                                    for r, ei in zip(side.runs, exposures, strict=True)) / (e * e)
            base = rate / e
            out[c] = max(1.0, var / base) if base > 0 else 1.0
    return _pool(out, counts)


# -- comparing ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Family:
    """What every comparison of one family shares: both sides, the normalisation, and
    the test's critical value and degrees of freedom (None: normal)."""

    before: SideInfo
    after: SideInfo
    norm: Normalization
    z: float
    df: float | None


def _estimate(x: int, side: SideInfo, norm: Normalization, d: float, z: float) -> Estimate:
    e = side.exposure
    if norm.mode == "share":
        lo, hi = stats.wilson(x / d, side.samples / d, z) if side.samples else (0.0, 1.0)
        v = x / side.samples if side.samples else 0.0
        return Estimate(x, 100.0 * v, 100.0 * lo, 100.0 * hi, d)
    lo, hi = stats.poisson_score(x / d, e / d, z)
    return Estimate(x, x / e, lo, hi, d)


def _compare(x1: int, x2: int, d1: float, d2: float, fam: _Family) -> Comparison:
    """Counts ``x1`` before and ``x2`` after, with design effects ``d1``/``d2``."""
    before, after, norm, z, df = fam.before, fam.after, fam.norm, fam.z, fam.df
    eb = _estimate(x1, before, norm, d1, z)
    ea = _estimate(x2, after, norm, d2, z)
    lo, hi = stats.mover_diff(eb.value, (eb.lo, eb.hi), ea.value, (ea.lo, ea.hi))
    if norm.mode == "share":
        p = stats.share_test(x1, before.samples, x2, after.samples, d1, d2, df)
    else:
        p = stats.rate_test(x1, before.exposure, x2, after.exposure, d1, d2, df)
    ratio = ea.value / eb.value if eb.value else None
    # q and the verdict are the family's (``_with_q``): until then q 1, no clear change
    return Comparison(eb, ea, ea.value - eb.value, lo, hi, ratio, p, 1.0, "no clear change")


def _with_q(c: Comparison, q: float, alpha: float) -> Comparison:
    verdict: Verdict = "no clear change"
    if q <= alpha:
        verdict = "up" if c.delta > 0 else "down"
    return Comparison(c.before, c.after, c.delta, c.delta_lo, c.delta_hi, c.ratio, c.p, q,
                      verdict)


@dataclass(frozen=True, slots=True)
class DiffOptions:
    """How ``diff_profiles`` compares: the time compared (``by``), the normalisation
    (None: shares), the method ("auto", "binomial", "bootstrap", "runs"), the false
    discovery rate ``alpha``, the intervals' ``confidence``, the bootstrap's block length
    (s; None: chosen), resamples and seed."""

    by: Metric = "self"
    normalization: Normalization | None = None
    method: Method = "auto"
    alpha: float = 0.05
    confidence: float = 0.95
    block: float | None = None
    resamples: int = 1000
    seed: int = 0


def diff_profiles(before: Sequence[Profile], after: Sequence[Profile],
                  options: DiffOptions | None = None, **changes: Any) -> DiffResult:
    """Compare the merged ``before`` profiles with the merged ``after`` ones (each list:
    one profile per recording), as ``options`` say (``changes``: fields of it to change,
    e.g. ``method="runs"``)."""
    import dataclasses

    opt = options if options is not None else DiffOptions()
    if changes:
        opt = dataclasses.replace(opt, **changes)
    by = opt.by
    _check_inputs(before, after, opt)
    norm = opt.normalization or Normalization()
    used, note, blk = _choose_method(opt.method, before, after, opt.block)
    keys = _Keys()
    sb = _gather(before, keys, blk, used == "runs", by == "total")
    sa = _gather(after, keys, blk, used == "runs", by == "total")
    ib = _side_info(before, sb, norm, 0)
    ia = _side_info(after, sa, norm, 1)
    if not ib.samples or not ia.samples:
        raise DiffUsageError("a side has no samples")
    which = "self_" if by == "self" else "total"
    fcols: list[object] = list(range(len(keys.keys)))
    kind_list = [k for k in Kind if sb.whole.kinds.get(k) or sa.whole.kinds.get(k)]
    sides = _Sides(before, after, sb, sa, ib, ia)
    eff = _effects(sides, used, (fcols, list(kind_list)), which, norm, opt)
    tail = 1.0 - (1.0 - opt.confidence) / 2.0
    z = stats.t_ppf(tail, eff.df) if eff.df is not None else stats.norm_ppf(tail)
    fam = _Family(ib, ia, norm, z, eff.df)
    counts_b = sb.whole.self_ if by == "self" else sb.whole.total
    counts_a = sa.whole.self_ if by == "self" else sa.whole.total
    raw = [_compare(counts_b.get(i, 0), counts_a.get(i, 0), eff.fd_b[i], eff.fd_a[i], fam)
           for i in range(len(keys.keys))]
    # the family: functions with samples of the metric on some side (the others cannot
    # change and would only dilute the correction)
    family = [i for i, c in enumerate(raw) if c.before.count or c.after.count]
    qs = [1.0] * len(raw)
    for i, q in zip(family, stats.bh_adjust([raw[i].p for i in family]), strict=True):
        qs[i] = q
    funcs = _function_diffs(sides, keys, [_with_q(c, q, opt.alpha) for c, q in
                                          zip(raw, qs, strict=True)], norm)
    kinds = _kind_diffs(sides, kind_list, eff, fam, funcs, opt.alpha)
    return DiffResult(ib, ia, by, norm, used, note, opt.alpha, opt.confidence, funcs,
                      len(family), kinds, eff.df)


def _check_inputs(before: Sequence[Profile], after: Sequence[Profile], opt: DiffOptions
                  ) -> None:
    if not before or not after:
        raise DiffUsageError("need at least one profile on each side")
    if opt.by not in METRICS:
        raise DiffUsageError(f"unknown metric {opt.by!r}: self or total")
    if not 0 < opt.alpha < 1 or not 0 < opt.confidence < 1:
        raise DiffUsageError("alpha and confidence must lie between 0 and 1")
    events = {p.event for p in (*before, *after)}
    if len(events) > 1:
        named = sorted(e or "no event field" for e in events)
        fix = ("choose one with --event" if "" not in events else
               "print every input with the same perf script fields (-F), event included")
        raise DiffUsageError(f"the profiles are of different events ({', '.join(named)}): "
                             + fix)


@dataclass(frozen=True, slots=True)
class _Sides:
    """Both sides: their profiles, the counts gathered from them, and their facts."""

    before: Sequence[Profile]
    after: Sequence[Profile]
    sb: _Side
    sa: _Side
    ib: SideInfo
    ia: SideInfo


@dataclass(frozen=True, slots=True)
class _Effects:
    """Design effects per function column and per kind, each side; and the degrees of
    freedom they come with (None: known, normal)."""

    fd_b: dict[object, float]
    fd_a: dict[object, float]
    kd_b: dict[object, float]
    kd_a: dict[object, float]
    df: float | None


def _effects(sides: _Sides, used: Method, cols: tuple[list[object], list[object]],
             which: str, norm: Normalization, opt: DiffOptions) -> _Effects:
    """The design effects of the method used (binomial: none, 1)."""
    fcols, kcols = cols
    sb, sa, ib, ia = sides.sb, sides.sa, sides.ib, sides.ia
    rate = norm.mode != "share"
    if used == "bootstrap":
        fd_b, fd_a = _bootstrap_effects(sb, sa, fcols, which, opt.resamples, opt.seed, rate)
        kd_b, kd_a = _bootstrap_effects(sb, sa, kcols, "kinds", opt.resamples, opt.seed + 1,
                                        rate)
        # the design effects are estimates from the blocks: t with their degrees of freedom
        return _Effects(fd_b, fd_a, kd_b, kd_a, float(len(sb.blocks) + len(sa.blocks) - 2))
    if used == "runs":
        exp_b = exp_a = None
        if norm.mode == "rate":
            exp_b = [_span([p]) or 0.0 for p in sides.before]
            exp_a = [_span([p]) or 0.0 for p in sides.after]
        elif norm.mode == "per":  # work units split by the runs' samples (unknown per run)
            exp_b = [ib.exposure * r.samples / ib.samples for r in sb.runs]
            exp_a = [ia.exposure * r.samples / ia.samples for r in sa.runs]
        return _Effects(_runs_effects(sb, fcols, which, exp_b),
                        _runs_effects(sa, fcols, which, exp_a),
                        _runs_effects(sb, kcols, "kinds", exp_b),
                        _runs_effects(sa, kcols, "kinds", exp_a),
                        float(len(sides.before) + len(sides.after) - 2))
    ones = dict.fromkeys(fcols + kcols, 1.0)
    return _Effects(ones, ones, ones, ones, None)


def _function_diffs(sides: _Sides, keys: _Keys, cmps: list[Comparison], norm: Normalization
                    ) -> list[FunctionDiff]:
    """One FunctionDiff per function some sample holds (its comparison ``cmps[i]``),
    biggest change first."""
    sb, sa, ib, ia = sides.sb, sides.sa, sides.ib, sides.ia
    funcs: list[FunctionDiff] = []
    for i, (kind, name, _dso) in enumerate(keys.keys):
        s = (sb.whole.self_.get(i, 0), sa.whole.self_.get(i, 0))
        t = (sb.whole.total.get(i, 0), sa.whole.total.get(i, 0))
        if not t[0] and not t[1]:
            continue  # a frame the profiles list but no sample holds
        status = "new" if t[0] == 0 else "gone" if t[1] == 0 else "both"
        funcs.append(FunctionDiff(
            name, kind, keys.dso[i], status, s, t,
            (_ms(ib, sb.self_w.get(i, 0)), _ms(ia, sa.self_w.get(i, 0))),
            (_ms(ib, sb.total_w.get(i, 0)), _ms(ia, sa.total_w.get(i, 0))),
            (100.0 * s[0] / ib.samples, 100.0 * s[1] / ia.samples),
            (100.0 * t[0] / ib.samples, 100.0 * t[1] / ia.samples),
            _norm(s[1], ia, norm) - _norm(s[0], ib, norm),
            cmps[i]))
    funcs.sort(key=lambda f: (-abs(f.cmp.delta), f.cmp.p, f.name))
    return funcs


def _kind_diffs(sides: _Sides, kind_list: list[Kind], eff: _Effects, fam: _Family,
                funcs: list[FunctionDiff], alpha: float) -> list[KindDiff]:
    """Per kind of code: its comparison (its own family) and its most changed function."""
    sb, sa = sides.sb, sides.sa
    kraw = [_compare(sb.whole.kinds.get(k, 0), sa.whole.kinds.get(k, 0), eff.kd_b[k],
                     eff.kd_a[k], fam) for k in kind_list]
    kq = stats.bh_adjust([c.p for c in kraw])
    kinds: list[KindDiff] = []
    for k, c, q in zip(kind_list, kraw, kq, strict=True):
        mine = [f for f in funcs if f.kind is k]
        top = max(mine, key=lambda f: abs(f.self_delta)) if mine else None
        kinds.append(KindDiff(
            k, (sb.whole.kinds.get(k, 0), sa.whole.kinds.get(k, 0)),
            (_ms(sides.ib, sb.kind_w.get(k, 0)), _ms(sides.ia, sa.kind_w.get(k, 0))),
            _with_q(c, q, alpha), top))
    return kinds


def _norm(x: int, side: SideInfo, norm: Normalization) -> float:
    """A count as the normalised value: percent of the side's samples, or per exposure."""
    if norm.mode == "share":
        return 100.0 * x / side.samples if side.samples else 0.0
    return x / side.exposure


def _ms(side: SideInfo, weight: int) -> float | None:
    return weight / 1e6 if side.cpu_ms is not None else None


def folded_diff(before: Sequence[Profile], after: Sequence[Profile]) -> list[tuple[str, int, int]]:
    """Stacks root first as FlameGraph folds them (``a;b;c``, ``;`` in names shown as
    ``:``), with their sample counts before and after (``difffolded.pl`` output, which
    ``flamegraph.pl`` reads), sorted by stack. Frames are the pairing names."""
    acc: dict[str, list[int]] = {}
    for side, profiles in enumerate((before, after)):
        for prof in profiles:
            names = [function_key(f)[1].replace(";", ":").replace("\n", " ")
                     for f in prof.frames]
            for stack, _w, n, _t in prof.iter_stacks():
                if not stack:
                    continue
                key = ";".join(names[f] for f in reversed(stack))
                c = acc.get(key)
                if c is None:
                    c = acc[key] = [0, 0]
                c[side] += n
    return [(k, v[0], v[1]) for k, v in sorted(acc.items())]

