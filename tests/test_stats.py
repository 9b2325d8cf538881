"""jitprof.analysis.stats against scipy (the oracle) and published worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats

from jitprof.analysis import stats


@pytest.mark.parametrize("p", [1e-300, 1e-20, 1e-9, 0.0001, 0.01, 0.025, 0.2, 0.4249, 0.425,
                               0.5, 0.575, 0.6, 0.975, 0.999, 1 - 1e-12])
def test_norm_ppf_matches_scipy(p: float) -> None:
    assert stats.norm_ppf(p) == pytest.approx(scipy.stats.norm.ppf(p), rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("x", [-40.0, -8.0, -1.96, 0.0, 0.3, 1.0, 5.0, 37.0])
def test_norm_cdf_sf_match_scipy(x: float) -> None:
    assert stats.norm_cdf(x) == pytest.approx(scipy.stats.norm.cdf(x), rel=1e-12, abs=1e-300)
    assert stats.norm_sf(x) == pytest.approx(scipy.stats.norm.sf(x), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(("a", "b", "x"), [(0.5, 0.5, 0.3), (1, 1, 0.7), (2.5, 0.5, 0.01),
                                           (10, 0.5, 0.9), (200, 0.5, 0.995), (3, 7, 0.5)])
def test_betainc_matches_scipy(a: float, b: float, x: float) -> None:
    assert stats.betainc(a, b, x) == pytest.approx(scipy.special.betainc(a, b, x), rel=1e-11)


@pytest.mark.parametrize("df", [1, 2, 3, 7.5, 30, 500])
@pytest.mark.parametrize("t", [0.0, 0.5, 2.0, 12.7, 100.0])
def test_t_sf_matches_scipy(t: float, df: float) -> None:
    assert stats.t_sf(t, df) == pytest.approx(scipy.stats.t.sf(t, df), rel=1e-10, abs=1e-300)
    assert stats.t_sf(-t, df) == pytest.approx(scipy.stats.t.sf(-t, df), rel=1e-10)


@pytest.mark.parametrize("df", [1, 2, 5, 40])
@pytest.mark.parametrize("p", [0.6, 0.975, 0.995, 0.025])
def test_t_ppf_matches_scipy(p: float, df: float) -> None:
    assert stats.t_ppf(p, df) == pytest.approx(scipy.stats.t.ppf(p, df), rel=1e-9)


def test_wilson_worked_examples() -> None:
    # Newcombe (1998), Stat Med 17:857, Table I: 81/263 -> 0.2553-0.3662; 0/10 -> 0-0.2775
    lo, hi = stats.wilson(81, 263, 1.959964)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    lo, hi = stats.wilson(0, 10, 1.959964)
    assert lo == 0.0 and round(hi, 4) == 0.2775
    # the same interval as statsmodels' proportion_confint(method="wilson") computes
    lo, hi = stats.wilson(15, 148, 1.959964)
    assert (round(lo, 4), round(hi, 4)) == (0.0624, 0.1605)


def test_newcombe_difference_worked_example() -> None:
    # Newcombe (1998) Stat Med 17:873, example (a): 56/70 - 48/80, method 10 -> 0.0524-0.3339
    z = stats.norm_ppf(0.975)
    p1, p2 = 48 / 80, 56 / 70
    lo, hi = stats.mover_diff(p1, stats.wilson(48, 80, z), p2, stats.wilson(56, 70, z))
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def test_poisson_score_interval_inverts_the_score_test() -> None:
    # the score interval is {r: |x - r e| / sqrt(r e) <= z}: its ends solve it exactly
    x, e, z = 17, 3.5, 1.959964
    lo, hi = stats.poisson_score(x, e, z)
    for r in (lo, hi):
        assert abs(x - r * e) / math.sqrt(r * e) == pytest.approx(z, rel=1e-9)


@pytest.mark.parametrize(("k", "n", "p"), [(0, 10, 0.3), (3, 10, 0.3), (7, 20, 0.5),
                                           (18, 20, 0.5), (2, 400, 0.02), (150, 1000, 0.12),
                                           (1000, 2000, 0.45)])
def test_binom_test_matches_scipy(k: int, n: int, p: float) -> None:
    want = scipy.stats.binomtest(k, n, p).pvalue
    assert stats.binom_test(k, n, p) == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_conditional_test_large_counts_use_the_normal_approximation() -> None:
    x1, x2 = 3000, 3300  # above EXACT_MAX: z of the conditional binomial
    m, p0 = x1 + x2, 0.5
    z = (x2 - m * p0) / math.sqrt(m * p0 * (1 - p0))
    assert stats.conditional_test(x1, 1.0, x2, 1.0) == pytest.approx(
        2 * scipy.stats.norm.sf(z), rel=1e-9)
    exact = scipy.stats.binomtest(x2, m, p0).pvalue
    assert stats.conditional_test(x1, 1.0, x2, 1.0) == pytest.approx(exact, rel=0.05)


def test_share_test_pooled_z_matches_hand_formula() -> None:
    x1, n1, x2, n2 = 400, 2000, 300, 1800
    p = 700 / 3800
    z = (300 / 1800 - 400 / 2000) / math.sqrt(p * (1 - p) * (1 / 2000 + 1 / 1800))
    assert stats.share_test(x1, n1, x2, n2) == pytest.approx(2 * scipy.stats.norm.sf(abs(z)))
    # a design effect of 4 on both sides = a quarter of the samples
    z4 = z / 2
    assert stats.share_test(x1, n1, x2, n2, 4.0, 4.0) == pytest.approx(
        2 * scipy.stats.norm.sf(abs(z4)))
    # estimated design effects (runs, bootstrap) refer to t with their degrees of freedom,
    # also where both estimates fell to the floor of 1: two runs that agree by chance say
    # little about the spread between runs (A/A recordings were flagged at q 3e-6 before)
    assert stats.share_test(x1, n1, x2, n2, 1.0, 1.0, 2.0) == pytest.approx(
        2 * scipy.stats.t.sf(abs(z), 2))
    assert stats.share_test(3, n1, 12, n2, 1.0, 1.0, 2.0) > stats.share_test(3, n1, 12, n2)
    zr = (300 / 9.0 - 400 / 10.0) / math.sqrt(700 / 19.0 * (1 / 10.0 + 1 / 9.0))
    assert stats.rate_test(400, 10.0, 300, 9.0, 1.0, 1.0, 2.0) == pytest.approx(
        2 * scipy.stats.t.sf(abs(zr), 2))


def test_bh_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    ps = list(rng.uniform(size=40) ** 3)
    ps[3] = ps[7]  # ties
    want = scipy.stats.false_discovery_control(ps, method="bh")
    assert stats.bh_adjust(ps) == pytest.approx(list(want), rel=1e-12)
    assert stats.bh_adjust([]) == []


def test_block_bootstrap_variance_of_a_share() -> None:
    # blocks of 10 samples with 0..10 hits: the bootstrap variance of the pooled share
    # approaches the variance of the block shares over the number of blocks (equal blocks)
    rng = np.random.default_rng(2)
    hits = rng.integers(0, 11, size=40).astype(float)
    m = np.column_stack([np.full(40, 10.0), hits])
    (vs, vc), _ = stats.block_bootstrap_var(m, m, 20000, 3)
    want = np.var(hits / 10.0) / 40
    assert vs[0] == pytest.approx(want, rel=0.05)
    assert vc[0] == pytest.approx(np.var(hits) * 40, rel=0.05)


def test_design_effect_floor() -> None:
    assert stats.design_effect(0.0, 0.5, 100) == 1.0
    assert stats.design_effect(0.01, 0.5, 100) == pytest.approx(4.0)
    assert stats.design_effect(0.5, 0.0, 100) == 1.0
