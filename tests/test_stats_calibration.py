"""Calibration of ``jitprof diff``'s intervals and p-values on simulations with known truth.

A rejection rate under alpha is not enough: an interval twice too wide, or a test that
never rejects, passes that. Here, with the true shares and rates set by the test:
- coverage: how often the 95% interval of the delta holds the true delta, per method;
- A/A: the p-values are Uniform(0, 1) (Kolmogorov-Smirnov), and the check is shown to fail
  on an over-conservative and on a too-liberal variant;
- power: the rejection rate at alpha 0.05 against the analytic two-proportion z power;
- the committed demo diff: two functions' intervals recomputed by a block bootstrap
  written here (numpy, own block counting from the script text).
Seeds are fixed, so every figure is reproducible (``pytest -s`` prints them).
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.stats
from click.testing import CliRunner

from jitprof.analysis import stats
from jitprof.analysis.diff import Normalization, diff_profiles
from jitprof.commands import main
from tests.conftest import ROOT, SAMPLES, load_module

K = 6  # functions per simulated recording: f0 is measured, f1..f5 share the rest
N = 2000  # samples per recording
SPAN = 2.0  # seconds per recording (20 time bins of 0.1 s: the bootstrap's blocks)
CONF = 0.95
ALPHA = 0.05
REPS = 500  # pairs per case; the standard error of a coverage of 0.95 is
# sqrt(0.95 * 0.05 / 500) = 0.0097, so a correct interval lands in 0.95 +- 0.03 (3.1
# standard errors: outside it by chance in 2 cases in 1000)
COVERAGE_BAND = (0.92, 0.98)
KS_LEVEL = 0.01  # a KS p-value under 1% says the A/A p-values are not uniform


@functools.cache
def _bench() -> Any:
    """benchmarks/diff_power.py: ``build`` makes a profile of single-frame stacks spread
    evenly over SPAN seconds in 0.1 s bins (what test_diff_simulation.py uses)."""
    return load_module(ROOT / "benchmarks" / "diff_power.py", "_jitprof_diff_power")


def shares(s0: float) -> np.ndarray:
    """f0's share s0; the others share 1 - s0 as 1/2 : 1/3 : ... : 1/K."""
    w = 1.0 / np.arange(2, K + 1)
    return np.concatenate(([s0], (1.0 - s0) * w / w.sum()))


def sequence(rng: np.random.Generator, sh: np.ndarray, n: int, rho: float) -> np.ndarray:
    """n samples' function indices, each distributed as ``sh``; a sample repeats the
    previous one's function with probability rho (a run of one function, as a request
    loop gives), else is a fresh draw. Two samples k apart are then the same draw with
    probability rho^k, so a share's variance is (1 + rho) / (1 - rho) times the binomial
    one (for n >> 1/(1 - rho)): 3 at rho 0.5."""
    fresh = rng.choice(K, size=n, p=sh)
    if rho <= 0:
        return fresh
    src = np.where(rng.random(n) < rho, 0, np.arange(n))
    src[0] = 0
    np.maximum.accumulate(src, out=src)
    return fresh[src]


@dataclass(frozen=True)
class Sim:
    truth: float  # f0's true delta, in the unit of the diff (points, or samples/s)
    lo: np.ndarray  # f0's delta interval, per pair
    hi: np.ndarray
    p: np.ndarray  # f0's p-value (raw, not the BH q), per pair
    x1: np.ndarray  # f0's sample counts before / after, and the sides' sample counts
    x2: np.ndarray
    n1: np.ndarray
    n2: np.ndarray

    def coverage(self) -> float:
        return float(np.mean((self.lo <= self.truth) & (self.truth <= self.hi)))

    def rejection(self) -> float:
        return float(np.mean(self.p <= ALPHA))


@functools.cache
def simulate(method: str, s_before: float, s_after: float, reps: int = REPS, n: int = N,
             rho: float = 0.0, runs: int = 1, between: float = 0.0,
             poisson: bool = False, seed: int = 0) -> Sim:
    """``reps`` diffs of simulated recordings, f0's share s_before -> s_after (the rest
    scaled to fill the other 1 - s0). ``runs`` recordings per side; ``between``: each
    recording's f0 share is s0 exp(N(0, between) - between^2 / 2), whose mean is s0, so
    s0 stays the truth the pooled share estimates. ``poisson``: independent Poisson
    counts of mean n * share per function (n and s0 then set the expected counts) and
    the rates compared (samples/s). Cached: coverage, power and KS share the pairs."""
    sb, sa = shares(s_before), shares(s_after)
    norm = Normalization("rate" if poisson else "share")
    truth = (s_after - s_before) * (n / SPAN if poisson else 100.0)
    rows = []
    for r in range(reps):
        rng = np.random.default_rng([seed, r])
        sides = []
        for sh in (sb, sa):
            side = []
            for _ in range(runs):
                own = sh
                if between > 0:
                    f0 = sh[0] * math.exp(rng.normal(0.0, between) - between ** 2 / 2)
                    own = np.concatenate(([f0], sh[1:] * (1.0 - f0) / sh[1:].sum()))
                if poisson:
                    seq = np.repeat(np.arange(K), rng.poisson(own * n))
                    rng.shuffle(seq)
                else:
                    seq = sequence(rng, own, n, rho)
                side.append(_bench().build(seq, K, SPAN))
            sides.append(side)
        res = diff_profiles(sides[0], sides[1], method=method, normalization=norm,
                            confidence=CONF, seed=r)
        c = next(f for f in res.functions if f.name == "f0").cmp
        rows.append((c.delta_lo, c.delta_hi, c.p, c.before.count, c.after.count,
                     res.before.samples, res.after.samples))
    cols = np.array(rows, dtype=np.float64).T
    return Sim(truth, *cols)


def ks_uniform(p: np.ndarray) -> float:
    return float(scipy.stats.kstest(p, "uniform").pvalue)


# -- coverage -------------------------------------------------------------------------------
COVERAGE_CASES: dict[str, tuple[str, float, float, dict[str, Any]]] = {
    # independent samples: Newcombe's interval from Wilson intervals
    "binomial, 25% -> 20%": ("binomial", 0.25, 0.20, {}),
    # small counts (40 -> 20 samples): where Wilson's asymmetry matters
    "binomial, 2% -> 1%": ("binomial", 0.02, 0.01, {}),
    # rates of independent Poisson counts (30 -> 15 samples in 2 s): Poisson score MOVER
    "binomial, rate 15/s -> 7.5/s": ("binomial", 0.015, 0.0075, {"poisson": True}),
    # runs of one function (design effect 3): what the bootstrap is for
    "bootstrap, 25% -> 20%, autocorrelated": ("bootstrap", 0.25, 0.20, {"rho": 0.5}),
    # three recordings per side whose f0 share differs (sd 20%): what runs is for
    "runs, 25% -> 20%, runs differ": ("runs", 0.25, 0.20, {"runs": 3, "between": 0.2}),
}


@pytest.mark.parametrize("case", list(COVERAGE_CASES))
def test_interval_coverage_is_nominal(case: str) -> None:
    method, s1, s2, kw = COVERAGE_CASES[case]
    sim = simulate(method, s1, s2, **kw)
    cov = sim.coverage()
    print(f"\ncoverage {case}: {cov:.3f} ({REPS} pairs; truth {sim.truth:+.3f})")
    assert COVERAGE_BAND[0] <= cov <= COVERAGE_BAND[1]


def test_bootstrap_on_independent_samples_is_conservative_by_its_floor() -> None:
    """With independent samples (a true design effect of 1) the bootstrap's estimate
    scatters around 1 (20 blocks a side: a relative sd of about 0.23), and jitprof keeps
    max(1, estimate, the median over functions) and refers that to t on 38 df: the
    binomial interval is its lower bound, so it covers more than 95% by construction
    (measured 0.982 and A/A rejection 0.028; the same pairs without the floor and the
    median: 0.952 and 0.046). This bounds the cost: coverage at most 0.99 (an interval
    at most about 2.58 / 1.96 = 1.3 times the right width), A/A rejections at least 2%."""
    cov = simulate("bootstrap", 0.25, 0.20)
    aa = simulate("bootstrap", 0.25, 0.25)
    print(f"\nbootstrap, independent: coverage {cov.coverage():.3f}, A/A rejection "
          f"{aa.rejection():.3f}, A/A KS p {ks_uniform(aa.p):.3f}")
    assert COVERAGE_BAND[0] <= cov.coverage() <= 0.99
    assert 0.02 <= aa.rejection() <= ALPHA


def test_coverage_catches_a_too_narrow_interval() -> None:
    """The same check fails where the method's assumptions do not hold: the binomial
    interval on autocorrelated samples (the variance is 3 times the binomial one, so it
    covers about 2 Phi(1.96 / sqrt 3) - 1 = 0.74), and the within-run bootstrap on
    recordings that differ from run to run; the methods meant for them cover (above)."""
    naive = simulate("binomial", 0.25, 0.20, rho=0.5)
    boot = simulate("bootstrap", 0.25, 0.20, reps=200, runs=3, between=0.2)
    want = 2 * scipy.stats.norm.cdf(scipy.stats.norm.ppf(0.975) / math.sqrt(3)) - 1
    print(f"\ncoverage binomial, autocorrelated: {naive.coverage():.3f} (about {want:.3f});"
          f" bootstrap, runs differ: {boot.coverage():.3f}")
    assert naive.coverage() < COVERAGE_BAND[0] and abs(naive.coverage() - want) < 0.06
    assert boot.coverage() < COVERAGE_BAND[0]


# -- A/A p-values ---------------------------------------------------------------------------
def randomised_exact_p(sim: Sim) -> np.ndarray:
    """The exact conditional test is discrete, so its p-values are not uniform: p is
    P(an outcome no more likely than the one seen), and the outcome's own tie class
    (outcomes as likely as it: x2 and m - x2 at p0 = 1/2) all land on one value. The
    randomised p-value p - U * P(tie class), U ~ Uniform(0, 1), is exactly uniform
    under the null when p is right (Lehmann & Romano, Testing Statistical Hypotheses,
    3.2); a mid-p (U = 1/2) is not. Equal spans: x2 given m = x1 + x2 is Binomial(m, 1/2)."""
    rng = np.random.default_rng(99)
    out = np.empty(len(sim.p))
    for i, (x1, x2, p) in enumerate(zip(sim.x1, sim.x2, sim.p, strict=True)):
        m = int(x1 + x2)
        logs = scipy.stats.binom.logpmf(np.arange(m + 1), m, 0.5)
        ties = np.exp(logs[np.abs(logs - logs[int(x2)]) <= 1e-7]).sum()
        out[i] = p - rng.random() * ties
    return out


AA_CASES: dict[str, tuple[str, float, dict[str, Any]]] = {
    # pooled two-proportion z test (f0: about 500 samples a side)
    "binomial, share 25%": ("binomial", 0.25, {"reps": 1000}),
    # exact conditional binomial test on Poisson counts (about 30 samples a side)
    "binomial, rate 15/s, exact (randomised)": ("binomial", 0.015, {"poisson": True}),
    "bootstrap, share 25%, autocorrelated": ("bootstrap", 0.25, {"rho": 0.5}),
    "runs, share 25%, runs differ": ("runs", 0.25, {"runs": 3, "between": 0.2}),
}


@pytest.mark.parametrize("case", list(AA_CASES))
def test_aa_pvalues_are_uniform(case: str) -> None:
    """KS at 500 pairs rejects (1%) a p-value distribution whose cdf is off by 0.073 or
    more, about what a variance misstated by 40% gives; at 1000 pairs, by 0.052
    (the sanity test below: a variance overstated by 50% fails at 1000)."""
    method, s0, kw = AA_CASES[case]
    sim = simulate(method, s0, s0, **kw)
    p = randomised_exact_p(sim) if kw.get("poisson") else sim.p
    ks = ks_uniform(p)
    print(f"\nA/A {case}: KS p {ks:.3f}, rejection at 5% {np.mean(p <= ALPHA):.3f} "
          f"({len(p)} pairs)")
    assert ks > KS_LEVEL


def test_ks_check_fails_on_miscalibrated_pvalues() -> None:
    """The uniformity check can fail, both ways: over-conservative p-values (doubled;
    or the same counts tested with the variance overstated by half, a design effect of
    1.5 on each side, which still rejects under 5%, so an FDR check passes it), the
    unrandomised exact test (discrete, conservative), and too-liberal ones (binomial on
    autocorrelated samples)."""
    sim = simulate("binomial", 0.25, 0.25, reps=1000)
    doubled = np.minimum(1.0, 2.0 * sim.p)
    wide = np.array([stats.share_test(int(a), int(n), int(b), int(m), 1.5, 1.5)
                     for a, n, b, m in zip(sim.x1, sim.n1, sim.x2, sim.n2, strict=True)])
    exact = simulate("binomial", 0.015, 0.015, poisson=True)
    liberal = simulate("binomial", 0.25, 0.25, rho=0.5)
    figs = {"doubled": doubled, "variance x1.5": wide, "exact unrandomised": exact.p,
            "binomial autocorrelated": liberal.p}
    print("\n" + "; ".join(f"{k}: KS p {ks_uniform(v):.2g}, rejection {np.mean(v <= ALPHA):.3f}"
                           for k, v in figs.items()))
    assert ks_uniform(sim.p) > KS_LEVEL  # the correct p-values of the same pairs pass
    assert ks_uniform(doubled) < 1e-6
    assert ks_uniform(wide) < KS_LEVEL and np.mean(wide <= ALPHA) < ALPHA
    assert ks_uniform(exact.p) < KS_LEVEL
    assert ks_uniform(liberal.p) < 1e-6


# -- power ----------------------------------------------------------------------------------
def z_power(p1: float, p2: float, n1: float, n2: float, alpha: float = ALPHA) -> float:
    """Power of the two-sided pooled two-proportion z test (normal approximation):
    with sigma0 = sqrt(pbar (1 - pbar) (1/n1 + 1/n2)) (the null's standard error, pbar
    the pooled share) and sigma1 = sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2) (the true
    one), power = Phi((|d| - z sigma0) / sigma1) + Phi((-|d| - z sigma0) / sigma1)."""
    d = abs(p2 - p1)
    pbar = (p1 * n1 + p2 * n2) / (n1 + n2)
    s0 = math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2))
    s1 = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    z = scipy.stats.norm.ppf(1 - alpha / 2)
    return float(scipy.stats.norm.cdf((d - z * s0) / s1) + scipy.stats.norm.cdf((-d - z * s0) / s1))


POWER_CASES = [  # (method, n, before, after, rho)
    ("binomial", 2000, 0.25, 0.225, 0.0),
    ("binomial", 2000, 0.25, 0.20, 0.0),
    ("binomial", 500, 0.25, 0.20, 0.0),
    ("binomial", 500, 0.10, 0.05, 0.0),
    ("bootstrap", 2000, 0.25, 0.20, 0.0),
    # autocorrelated: the analytic power at Kish's effective n = n (1 - rho) / (1 + rho)
    ("bootstrap", 2000, 0.25, 0.20, 0.5),
]


@pytest.mark.parametrize(("method", "n", "s1", "s2", "rho"), POWER_CASES)
def test_power_matches_the_two_proportion_z_test(method: str, n: int, s1: float, s2: float,
                                                 rho: float) -> None:
    """Within 0.08 of the analytic power: 3.2 standard errors of a rate near 0.5 from
    500 pairs (0.022); the bootstrap pays its t quantiles (38 df) and design-effect floor
    in power, and this bounds what that may cost."""
    sim = simulate(method, s1, s2, n=n, rho=rho)
    n_eff = n * (1 - rho) / (1 + rho)
    want = z_power(s1, s2, n_eff, n_eff)
    got = sim.rejection()
    print(f"\npower {method} n {n} {s1:.3f} -> {s2:.3f} rho {rho}: {got:.3f} "
          f"(analytic {want:.3f})")
    assert abs(got - want) <= 0.08


# -- the demo diff, its interval recomputed -------------------------------------------------
_HEADER = re.compile(r"\s(\d+\.\d+):\s+\d+\s+cpu-clock:")
DEMO_RESAMPLES = 100_000  # here and for jitprof (--resamples): see the tolerance


def _block_counts(script: Path, needle: str, block: float) -> tuple[np.ndarray, np.ndarray]:
    """Per block of ``block`` seconds of perf time (floor(t / block), as the reader bins
    time; blocks with no sample dropped): (samples, samples whose leaf frame line holds
    ``needle``), read from the script text directly."""
    with gzip.open(script, "rt") as f:
        lines = f.read().split("\n")
    times, hits = [], []
    for i, line in enumerate(lines):
        if line.startswith("\t") or " cpu-clock:" not in line:
            continue
        m = _HEADER.search(line)
        assert m is not None, line
        times.append(float(m.group(1)))
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        hits.append(nxt.startswith("\t") and needle in nxt)
    blk = np.floor(np.array(times) / block).astype(np.int64)
    blk -= blk.min()
    total = np.bincount(blk)
    hit = np.bincount(blk, weights=np.array(hits, dtype=np.float64), minlength=len(total))
    keep = total > 0
    return total[keep].astype(np.float64), hit[keep]


def _wilson(x: float, n: float, z: float) -> tuple[float, float]:
    """Wilson's score interval: the p with |x/n - p| <= z sqrt(p (1 - p) / n)."""
    p, z2 = x / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return centre - half, centre + half


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    r = CliRunner().invoke(main, ["diff", str(SAMPLES / "hhvm-demo" / "slow" / "perf.script.gz"),
                                  str(SAMPLES / "hhvm-demo" / "fast" / "perf.script.gz"),
                                  "--no-tmp", "--top", "0", "--format", "json",
                                  "--resamples", str(DEMO_RESAMPLES)])
    assert r.exit_code == 0, r.output
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


@pytest.mark.parametrize("name", ["HPHP::f_sort", "HPHP::f_str_replace"])
def test_demo_interval_matches_an_independent_block_bootstrap(demo: dict[str, Any],
                                                              name: str) -> None:
    """Each side's share resampled by blocks (non-overlapping blocks of the length
    jitprof reports, drawn with replacement, as many as the side has), its variance over
    the binomial one the design effect (at least 1, jitprof's documented floor), then
    Wilson at the effective counts x/d, n/d with t on (blocks - 2) degrees of freedom
    and MOVER for the difference (Newcombe). Tolerance: a variance from B resamples has
    a relative Monte Carlo error of sqrt(2/B), 0.45% at B = 100,000, and a half-width
    (its square root) 0.22%; the two bootstraps differ by sqrt(2) of that, 0.32%; 3 of
    those is 1%, and 0.5% more for the median floor jitprof applies (f_sort's before
    side sits at the median, 1.08, which is itself an estimate): 1.5% of the half-width.
    So t swapped for z (2.5%) or a different block length would show."""
    m = re.search(r"\(([\d.]+) s blocks: (\d+) before, (\d+) after\)", demo["method_note"])
    assert demo["method"] == "bootstrap" and m is not None, demo["method_note"]
    block, blocks = float(m.group(1)), (int(m.group(2)), int(m.group(3)))
    f = next(x for x in demo["functions"] if x["name"] == name)
    rng = np.random.default_rng(7)
    est = []
    for which, side in ((0, "slow"), (1, "fast")):
        total, hit = _block_counts(SAMPLES / "hhvm-demo" / side / "perf.script.gz",
                                   f" {name}+", block)
        assert len(total) == blocks[which]
        assert (hit.sum(), total.sum()) == (f["self_samples"][which],
                                            demo[("before", "after")[which]]["samples"])
        picks = rng.integers(0, len(total), size=(DEMO_RESAMPLES, len(total)))
        boot = hit[picks].sum(axis=1) / total[picks].sum(axis=1)
        x, n = hit.sum(), total.sum()
        d = max(1.0, boot.var(ddof=1) / (x / n * (1 - x / n) / n))
        est.append((x / n, x, n, d))
    df = sum(blocks) - 2
    assert demo["df"] == df
    z = scipy.stats.t.ppf(1 - (1 - demo["confidence"]) / 2, df)
    (p1, x1, n1, d1), (p2, x2, n2, d2) = est
    l1, u1 = _wilson(x1 / d1, n1 / d1, z)
    l2, u2 = _wilson(x2 / d2, n2 / d2, z)
    delta = p2 - p1
    lo = 100 * (delta - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2))
    hi = 100 * (delta + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2))
    print(f"\n{name}: design effects {d1:.3f} {d2:.3f} (jitprof "
          f"{f['before']['design_effect']:.3f} {f['after']['design_effect']:.3f}); "
          f"interval [{lo:+.3f}, {hi:+.3f}] (jitprof [{f['delta_lo']:+.3f}, "
          f"{f['delta_hi']:+.3f}])")
    assert f["delta"] == pytest.approx(100 * delta, abs=1e-9)
    assert f["delta_lo"] == pytest.approx(lo, abs=0.015 * (100 * delta - lo))
    assert f["delta_hi"] == pytest.approx(hi, abs=0.015 * (hi - 100 * delta))
