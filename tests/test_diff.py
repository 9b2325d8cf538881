"""jitprof.analysis.diff on hand-computed profiles: pairing, counts, shares, CPU time, verdicts."""

from __future__ import annotations

import math

import pytest
import scipy.stats

from jitprof.analysis import stats
from jitprof.analysis.diff import (
    Normalization,
    diff_profiles,
    folded_diff,
    function_key,
    pair_dso,
)
from jitprof.errors import DiffUsageError
from jitprof.model import Frame, Kind, Profile, ProfileBuilder

PERIOD = 1_000_000  # cpu-clock at 1000 Hz: 1 ms per sample


def _profile(stacks: list[tuple[list[tuple[str, Kind, str]], int]], pid: int = 1,
             event: str = "cpu-clock", span: tuple[float, float] | None = (0.0, 2.0),
             bins: list[int] | None = None) -> Profile:
    """Stacks leaf first as (name, kind, dso) frames, with a sample count each."""
    b = ProfileBuilder(event)
    t = b.thread(pid, "x")
    for i, (frames, n) in enumerate(stacks):
        ids = tuple(b.frame(name, kind, dso, "" if kind in (Kind.PHP, Kind.HPHP, Kind.JIT)
                            else None) for name, kind, dso in frames)
        b.add(ids, t, n * PERIOD, n, None if bins is None else bins[i])
    p = b.finish()
    p.diagnostics.has_period = True
    if span is not None:
        p.time_first, p.time_last = span
    if bins is not None:
        p.bin_width = 0.1
    p.verify()
    return p


MAIN = ("main", Kind.NATIVE, "/usr/bin/hhvm")
SORT = ("HPHP::f_sort(HPHP::Variant&, long)", Kind.HPHP, "/tmp/perf-1.map")
SORT2 = ("HPHP::f_sort", Kind.HPHP, "/usr/bin/hhvm")
RESPOND = ("PHP::Api::respond", Kind.PHP, "[JIT]")
JS1 = ("JS:*fib /a.js:1:1", Kind.JIT, "/tmp/perf-1.map")
JS2 = ("JS:*fib /a.js:1:1", Kind.JIT, "/tmp/perf-2.map")
MEMCPY1 = ("memcpy", Kind.NATIVE, "/lib/x86_64-linux-gnu/libc.so.6")
MEMCPY2 = ("memcpy", Kind.NATIVE, "/usr/lib/x86_64-linux-gnu/libc.so.6")


def _before() -> Profile:
    return _profile([([SORT, RESPOND, MAIN], 60), ([RESPOND, MAIN], 20), ([JS1, MAIN], 10),
                     ([MEMCPY1, SORT, RESPOND, MAIN], 10)], pid=1)


def _after() -> Profile:
    return _profile([([SORT2, RESPOND, MAIN], 10), ([RESPOND, MAIN], 40), ([JS2, MAIN], 30),
                     ([MEMCPY2, RESPOND, MAIN], 10), ([("x::new", Kind.NATIVE, "/b")], 10)],
                    pid=2)


def test_keys_are_pid_free_and_parameter_free() -> None:
    assert pair_dso("/tmp/perf-123.map") == pair_dso("/tmp/perf-9.map") == "[JIT]"
    assert pair_dso("/usr/lib/libc.so.6") == "libc.so.6"
    assert pair_dso("[kernel.kallsyms]") == "[kernel.kallsyms]"
    assert function_key(Frame(*SORT)) == function_key(Frame(*SORT2)) == (
        Kind.HPHP, "HPHP::f_sort", "")
    assert function_key(Frame(*JS1)) == function_key(Frame(*JS2))
    assert function_key(Frame(*MEMCPY1)) == function_key(Frame(*MEMCPY2))
    # JIT names stay as the map gives them (no parameter cutting)
    assert function_key(Frame("Java: f(int)", Kind.JIT, "/tmp/perf-1.map"))[1] == "Java: f(int)"
    # native frames of different binaries stay apart
    assert function_key(Frame("main", Kind.NATIVE, "/a/x")) != function_key(
        Frame("main", Kind.NATIVE, "/a/y"))


def test_hand_computed_counts_shares_and_time() -> None:
    r = diff_profiles([_before()], [_after()], method="binomial")
    assert r.before.samples == 100 and r.after.samples == 100
    assert r.before.cpu_ms == 100.0 and r.after.cpu_ms == 100.0
    f = {x.name: x for x in r.functions}
    sort = f["HPHP::f_sort"]
    assert sort.self_samples == (60, 10) and sort.total_samples == (70, 10)
    assert sort.self_pct == (60.0, 10.0) and sort.total_pct == (70.0, 10.0)
    assert sort.self_ms == (60.0, 10.0) and sort.total_ms == (70.0, 10.0)
    assert sort.cmp.delta == pytest.approx(-50.0) and sort.cmp.ratio == pytest.approx(1 / 6)
    assert sort.status == "both" and sort.cmp.verdict == "down"
    respond = f["PHP::Api::respond"]
    assert respond.self_samples == (20, 40) and respond.total_samples == (90, 60)
    assert f["JS:*fib /a.js:1:1"].self_samples == (10, 30)  # paired across pids 1 and 2
    assert f["memcpy"].self_samples == (10, 10) and f["memcpy"].dso == "libc.so.6"
    assert f["memcpy"].cmp.verdict == "no clear change"
    assert f["x::new"].status == "new" and f["x::new"].self_samples == (0, 10)
    assert f["main"].self_samples == (0, 0) and f["main"].total_samples == (100, 90)
    # the family: functions with self samples on some side (main has none)
    assert r.compared == 5
    # sorted by the size of the change
    assert [x.name for x in r.functions[:3]] == ["HPHP::f_sort", "PHP::Api::respond",
                                                "JS:*fib /a.js:1:1"]
    kinds = {k.kind: k for k in r.kinds}
    assert kinds[Kind.HPHP].self_samples == (60, 10)
    assert kinds[Kind.HPHP].top is not None and kinds[Kind.HPHP].top.name == "HPHP::f_sort"
    assert kinds[Kind.NATIVE].self_samples == (10, 20)
    assert kinds[Kind.NATIVE].self_ms == (10.0, 20.0)
    assert set(kinds) == {Kind.HPHP, Kind.PHP, Kind.JIT, Kind.NATIVE}


def test_binomial_statistics_by_hand() -> None:
    r = diff_profiles([_before()], [_after()], method="binomial", confidence=0.95)
    sort = next(x for x in r.functions if x.name == "HPHP::f_sort")
    z = scipy.stats.norm.ppf(0.975)
    lo0, hi0 = stats.wilson(60, 100, z)
    lo1, hi1 = stats.wilson(10, 100, z)
    assert (sort.cmp.before.lo, sort.cmp.before.hi) == pytest.approx((100 * lo0, 100 * hi0))
    assert (sort.cmp.after.lo, sort.cmp.after.hi) == pytest.approx((100 * lo1, 100 * hi1))
    # Newcombe's interval for the difference, in points
    dlo = -50 - 100 * math.sqrt((0.10 - lo1) ** 2 + (hi0 - 0.60) ** 2)
    dhi = -50 + 100 * math.sqrt((hi1 - 0.10) ** 2 + (0.60 - lo0) ** 2)
    assert (sort.cmp.delta_lo, sort.cmp.delta_hi) == pytest.approx((dlo, dhi))
    # 70 samples in both: pooled two-proportion z test
    p = 70 / 200
    zval = 50 / 100 / math.sqrt(p * (1 - p) * (2 / 100))
    assert sort.cmp.p == pytest.approx(2 * scipy.stats.norm.sf(zval))
    # memcpy: 10 and 10 of 100 -> the exact conditional test: Binomial(20, 1/2) at 10
    memcpy = next(x for x in r.functions if x.name == "memcpy")
    assert memcpy.cmp.p == pytest.approx(scipy.stats.binomtest(10, 20, 0.5).pvalue)
    # q-values: BH over the five functions with self samples
    fam = [x for x in r.functions if sum(x.self_samples)]
    want = scipy.stats.false_discovery_control([x.cmp.p for x in fam])
    assert [x.cmp.q for x in fam] == pytest.approx(list(want))


def test_total_metric_and_rates_and_per_unit() -> None:
    b, a = _before(), _after()
    r = diff_profiles([b], [a], by="total", method="binomial")
    sort = next(x for x in r.functions if x.name == "HPHP::f_sort")
    assert (sort.cmp.before.count, sort.cmp.after.count) == (70, 10)
    assert r.compared == 6  # every function has total samples
    a.time_last = 4.0  # after: 4 s of recording, before 2 s
    r = diff_profiles([b], [a], normalization=Normalization("rate"), method="binomial")
    sort = next(x for x in r.functions if x.name == "HPHP::f_sort")
    assert (sort.cmp.before.value, sort.cmp.after.value) == (30.0, 2.5)  # samples per second
    # rate test: the 70 samples split 60:10 against exposures 2:4
    assert sort.cmp.p == pytest.approx(scipy.stats.binomtest(10, 70, 4 / 6).pvalue)
    r = diff_profiles([b], [a], normalization=Normalization("per", (1000.0, 50.0)),
                      method="binomial")
    sort = next(x for x in r.functions if x.name == "HPHP::f_sort")
    assert (sort.cmp.before.value, sort.cmp.after.value) == (0.06, 0.2)
    assert sort.cmp.verdict == "up"  # per request f_sort costs more after
    assert r.normalization.delta_unit == "samples/unit"


def test_several_recordings_per_side_merge_and_runs_method() -> None:
    b1 = _profile([([SORT, MAIN], 50), ([RESPOND, MAIN], 50)], pid=1)
    b2 = _profile([([SORT, MAIN], 60), ([RESPOND, MAIN], 40)], pid=2)
    a1 = _profile([([SORT2, MAIN], 20), ([RESPOND, MAIN], 80)], pid=3)
    a2 = _profile([([SORT2, MAIN], 30), ([RESPOND, MAIN], 70)], pid=4)
    r = diff_profiles([b1, b2], [a1, a2])
    assert r.method == "runs" and r.df == 2.0
    assert r.before.runs == 2 and r.before.samples == 200
    sort = next(x for x in r.functions if x.name == "HPHP::f_sort")
    assert sort.self_samples == (110, 50)
    # runs: the pooled share's spread across the two recordings, by hand
    s = 110 / 200
    var = 2 / 1 * ((50 - s * 100) ** 2 + (60 - s * 100) ** 2) / 200 ** 2
    d = max(1.0, var / (s * (1 - s) / 200))
    assert sort.cmp.before.design_effect == pytest.approx(d)
    sa = 50 / 200
    var_a = 2 * ((20 - sa * 100) ** 2 + (30 - sa * 100) ** 2) / 200 ** 2
    da = max(1.0, var_a / (sa * (1 - sa) / 200))
    pooled = 160 / 400
    t = (sa - s) / math.sqrt(pooled * (1 - pooled) * (d / 200 + da / 200))
    assert sort.cmp.p == pytest.approx(2 * scipy.stats.t.sf(abs(t), 2))
    with pytest.raises(DiffUsageError, match="two recordings"):
        diff_profiles([b1], [a1, a2], method="runs")


def test_bootstrap_falls_back_with_a_reason() -> None:
    r = diff_profiles([_before()], [_after()], method="bootstrap")
    assert r.method == "binomial" and "no per-sample time" in r.method_note
    # binned but short: too few blocks
    b = _profile([([SORT, MAIN], 5), ([RESPOND, MAIN], 5)], bins=[0, 1])
    a = _profile([([SORT, MAIN], 5), ([RESPOND, MAIN], 5)], bins=[0, 1])
    r = diff_profiles([b], [a], method="bootstrap")
    assert r.method == "binomial" and "too short" in r.method_note


def test_bootstrap_on_binned_profiles() -> None:
    # 20 blocks per side; f's samples come in bursts (all of a block or nothing), so the
    # bootstrap sees far more spread than the binomial and widens the interval
    stacks, bins = [], []
    for blk in range(20):
        stacks.append(([SORT, MAIN] if blk % 2 else [RESPOND, MAIN], 10))
        bins.append(blk)
    b = _profile(stacks, bins=bins)
    a = _profile(stacks, bins=bins)
    r = diff_profiles([b], [a], method="bootstrap", resamples=2000)
    assert r.method == "bootstrap" and "20 before, 20 after" in r.method_note
    sort = next(x for x in r.functions if x.name == "HPHP::f_sort")
    # share 0.5, blocks all-or-nothing: var = 0.25 / 20 blocks; binomial 0.25 / 200
    assert sort.cmp.before.design_effect == pytest.approx(10.0, rel=0.15)
    assert sort.cmp.verdict == "no clear change" and sort.cmp.p == 1.0
    r2 = diff_profiles([b], [a], method="binomial")
    s2 = next(x for x in r2.functions if x.name == "HPHP::f_sort")
    assert (sort.cmp.before.hi - sort.cmp.before.lo) > 2.5 * (s2.cmp.before.hi - s2.cmp.before.lo)


def test_usage_errors() -> None:
    b = _before()
    with pytest.raises(DiffUsageError, match="different events"):
        diff_profiles([b], [_profile([([MAIN], 1)], event="cycles")])
    with pytest.raises(DiffUsageError, match=r"\(cpu-clock, no event field\): print every"):
        diff_profiles([b], [_profile([([MAIN], 1)], event="")])
    with pytest.raises(DiffUsageError, match="--per"):
        Normalization("per")
    b.time_first = b.time_last = None
    with pytest.raises(DiffUsageError, match="time span"):
        diff_profiles([b], [_after()], normalization=Normalization("rate"))


def test_folded_diff_root_first_with_both_counts() -> None:
    b = _profile([([SORT, RESPOND, MAIN], 6), ([("a;b", Kind.NATIVE, "/x"), MAIN], 1)])
    a = _profile([([SORT2, RESPOND, MAIN], 2), ([RESPOND, MAIN], 3)])
    assert folded_diff([b], [a]) == [
        ("main;PHP::Api::respond", 0, 3),
        ("main;PHP::Api::respond;HPHP::f_sort", 6, 2),
        ("main;a:b", 1, 0),
    ]


def _naive_gather(profiles: list[Profile], block: float | None,
                  block_totals: bool) -> tuple[dict[object, int], ...]:
    """Counts the slow, obvious way: stack by stack, a function's total once per stack."""
    from jitprof.analysis.diff import function_key

    self_w: dict[object, int] = {}
    total_w: dict[object, int] = {}
    self_n: dict[object, int] = {}
    total_n: dict[object, int] = {}
    kinds: dict[object, int] = {}
    blocks: dict[object, int] = {}  # (recording, block, "self"/"total"/"kind"/"n", key)
    for r, p in enumerate(profiles):
        first = min(p.stack_bin) if p.stack_bin else 0
        per = max(1, round(block / p.bin_width)) if block and p.bin_width else 1
        for i, (stack, wt, n, _t) in enumerate(p.iter_stacks()):
            b = (p.stack_bin[i] - first) // per if block and p.stack_bin else None
            if b is not None:
                blocks[(r, b, "n", None)] = blocks.get((r, b, "n", None), 0) + n
            if not stack:
                continue
            leaf = function_key(p.frames[stack[0]])
            kind = p.frames[stack[0]].kind
            self_w[leaf] = self_w.get(leaf, 0) + wt
            self_n[leaf] = self_n.get(leaf, 0) + n
            kinds[kind] = kinds.get(kind, 0) + n
            on = {function_key(p.frames[f]) for f in stack}
            for k in on:
                total_w[k] = total_w.get(k, 0) + wt
                total_n[k] = total_n.get(k, 0) + n
            if b is not None:
                for what, ks in (("self", [leaf]), ("kind", [kind]),
                                 ("total", on if block_totals else [])):
                    for k in ks:
                        blocks[(r, b, what, k)] = blocks.get((r, b, what, k), 0) + n
    return self_w, total_w, self_n, total_n, kinds, blocks


@pytest.mark.parametrize("seed", range(6))
def test_gather_equals_a_naive_count(seed: int) -> None:
    """The vectorised gathering equals a stack-by-stack count: recursion, empty stacks,
    a name shared by two frames (two dsos of one runtime function), binned and unbinned
    recordings, blocks of several bins, weights larger than 2**53 in sum."""
    import random

    from jitprof.analysis.diff import _gather, _Keys

    rnd = random.Random(seed)
    profiles = []
    for r in range(rnd.randint(1, 3)):
        b = ProfileBuilder("cpu-clock")
        names = [(f"HPHP::f{i}", Kind.HPHP, "hhvm") for i in range(5)] + [
            ("HPHP::f0", Kind.HPHP, "/tmp/perf-9.map"),  # the same function key
            ("main", Kind.NATIVE, "/bin/a"), ("PHP::x", Kind.PHP, "[JIT]")]
        ids = [b.frame(*t) for t in names]
        th = b.thread(10 + r, "w")
        binned = bool(r % 2 == 0 or seed % 2)
        for _ in range(rnd.randint(1, 60)):
            stack = tuple(rnd.choice(ids) for _ in range(rnd.randint(0, 7)))
            b.add(stack, th, rnd.choice([1, 10**15]), rnd.randint(1, 4),
                  bin=rnd.randint(3, 12) if binned else None)
        p = b.finish()
        if binned:
            p.bin_width = 0.1
        profiles.append(p)
    for block, totals in ((None, False), (0.1, True), (0.3, True), (0.2, False)):
        keys = _Keys()
        side = _gather(profiles, keys, block, True, totals)
        self_w, total_w, self_n, total_n, kinds, blocks = _naive_gather(
            profiles, block, totals)
        assert {keys.keys[i]: v for i, v in side.self_w.items()} == self_w
        assert {keys.keys[i]: v for i, v in side.total_w.items()} == total_w
        assert {keys.keys[i]: v for i, v in side.whole.self_.items()} == self_n
        assert {keys.keys[i]: v for i, v in side.whole.total.items()} == total_n
        assert side.whole.kinds == kinds
        assert side.whole.samples == sum(sum(p.stack_samples) for p in profiles)
        assert [r.samples for r in side.runs] == [sum(p.stack_samples) for p in profiles]
        got: dict[object, int] = {}
        pos = 0
        for r, p in enumerate(profiles):
            if not (block and p.stack_bin):
                continue
            present = sorted({b for (rr, b, _w, _k) in blocks if rr == r})
            for b in present:
                blk = side.blocks[pos]
                pos += 1
                got[(r, b, "n", None)] = blk.samples
                for what, d in (("self", blk.self_), ("kind", blk.kinds),
                                ("total", blk.total)):
                    for k, v in d.items():
                        key = keys.keys[k] if what != "kind" else k
                        got[(r, b, what, key)] = v
        assert pos == len(side.blocks)
        assert got == blocks
