"""Statistics for comparing profiles: intervals, tests, FDR control and the block bootstrap.

Pure Python (``math`` only) except ``block_bootstrap_var``, which resamples with numpy
(imported there, so nothing else pays for it). Quantiles: the normal by Wichura's AS 241
(relative error ~1e-16), Student's t by inverting its cdf (regularised incomplete beta,
continued fraction); both are checked against scipy in the tests.

Conventions: counts ``x`` of a function among ``n`` samples (shares) or over an exposure
``e`` (seconds, units of work: rates). A design effect ``d`` >= 1 says how much more a
count varies than under independent sampling (from a bootstrap or repeated runs): the
intervals and tests then use the effective counts ``x/d`` and ``n/d`` (Kish).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

EXACT_MAX = 2000  # conditional binomial tests sum the pmf exactly up to this many samples


# -- distributions ------------------------------------------------------------------------
def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_sf(x: float) -> float:
    """P(Z > x), accurate far into the upper tail."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def norm_ppf(p: float) -> float:
    """Inverse of the standard normal cdf (Wichura 1988, AS 241, PPND16)."""
    if not 0.0 < p < 1.0:
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        raise ValueError(f"probability out of range: {p}")
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                    + 67265.770927008700853) * r + 45921.953931549871457) * r
                  + 13731.693765509461125) * r + 1971.5909503065514427) * r
                + 133.14166789178437745) * r + 3.387132872796366608)
        den = (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                    + 39307.89580009271061) * r + 21213.794301586595867) * r
                  + 5394.1960214247511077) * r + 687.1870074920579083) * r
                + 42.313330701600911252) * r + 1.0)
        return q * num / den
    r = p if q < 0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        num = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
                    + 0.24178072517745061177) * r + 1.27045825245236838258) * r
                  + 3.64784832476320460504) * r + 5.7694972214606914055) * r
                + 4.6303378461565452959) * r + 1.42343711074968357734)
        den = (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                    + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
                  + 0.68976733498510000455) * r + 1.6763848301838038494) * r
                + 2.05319162663775882187) * r + 1.0)
    else:
        r -= 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
                  + 0.29656057182850489123) * r + 1.7848265399172913358) * r
                + 5.4637849111641143699) * r + 6.6579046435011037772)
        den = (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                    + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
                  + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
                + 0.59983220655588793769) * r + 1.0)
    val = num / den
    return -val if q < 0 else val


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = tiny if abs(d) < tiny else d
    d = 1.0 / d
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbt = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
           + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbt) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


@functools.lru_cache(maxsize=256)
def t_ppf(p: float, df: float) -> float:
    """Inverse of Student's t cdf (bisection on ``t_sf``; 1e-12 relative)."""
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    lo, hi = 0.0, max(1.0, 2.0 * norm_ppf(p))
    while t_sf(hi, df) > 1.0 - p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_sf(mid, df) > 1.0 - p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


# -- intervals ----------------------------------------------------------------------------
def wilson(x: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval for a proportion x/n (x, n may be effective, non-integer)."""
    if n <= 0:
        return (0.0, 1.0)
    p = x / n
    z2 = z * z
    den = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / den
    half = z * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def poisson_score(x: float, e: float, z: float) -> tuple[float, float]:
    """Score interval for a Poisson rate x/e (count over an exposure)."""
    if e <= 0:
        return (0.0, math.inf)
    z2 = z * z
    half = z * math.sqrt(x + z2 / 4.0)
    return (max(0.0, (x + z2 / 2.0 - half) / e), (x + z2 / 2.0 + half) / e)


def mover_diff(
    v1: float, ci1: tuple[float, float], v2: float, ci2: tuple[float, float]
) -> tuple[float, float]:
    """Interval for v2 - v1 from the two intervals (MOVER, Zou & Donner 2008; with Wilson
    intervals this is Newcombe's hybrid score interval for a difference of proportions)."""
    d = v2 - v1
    lo = d - math.sqrt((v2 - ci2[0]) ** 2 + (ci1[1] - v1) ** 2)
    hi = d + math.sqrt((ci2[1] - v2) ** 2 + (v1 - ci1[0]) ** 2)
    return (lo, hi)


# -- tests --------------------------------------------------------------------------------
def binom_test(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial test of k successes in n trials (the p-value sums every
    outcome no more likely than k, as R's binom.test and scipy do). O(n)."""
    if n == 0:
        return 1.0
    if p <= 0.0:
        return 1.0 if k == 0 else 0.0
    if p >= 1.0:
        return 1.0 if k == n else 0.0
    lp, lq = math.log(p), math.log1p(-p)
    lgn = math.lgamma(n + 1)
    logs = [lgn - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
            for i in range(n + 1)]
    ref = logs[k] + 1e-7  # relative tolerance, as R and scipy use
    top = max(logs)
    total = sum(math.exp(v - top) for v in logs)
    tail = sum(math.exp(v - top) for v in logs if v <= ref)
    return min(1.0, tail / total)


def conditional_test(x1: int, e1: float, x2: int, e2: float) -> float:
    """Two counts with exposures e1, e2: under "same rate", x2 given x1 + x2 = m is
    Binomial(m, e2 / (e1 + e2)). Exact up to ``EXACT_MAX`` samples, then the normal
    approximation of that binomial."""
    m = x1 + x2
    if m == 0:
        return 1.0
    p0 = e2 / (e1 + e2)
    if m <= EXACT_MAX:
        return binom_test(x2, m, p0)
    z = (x2 - m * p0) / math.sqrt(m * p0 * (1 - p0))
    return min(1.0, 2.0 * norm_sf(abs(z)))


def share_test(x1: int, n1: int, x2: int, n2: int, d1: float = 1.0, d2: float = 1.0,
               df: float | None = None) -> float:
    """Two-sided p-value for "the share x/n is the same on both sides". Without design
    effects: the exact conditional test for small counts (x1 + x2 < 50: shares of rare
    functions are nearly Poisson), else the pooled z-test. With them: the pooled test
    with its variance inflated by the design effects, referred to t with ``df`` degrees
    of freedom when given: the effects are estimates, also where an estimate fell to the
    floor of 1 (two runs that happen to agree say little about the spread between runs,
    and the intervals use the same t)."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    if d1 == d2 == 1.0 and df is None and x1 + x2 < 50:
        return conditional_test(x1, n1, x2, n2)
    p = (x1 + x2) / (n1 + n2)
    var = p * (1 - p) * (d1 / n1 + d2 / n2)
    if var <= 0:
        return 1.0
    z = (x2 / n2 - x1 / n1) / math.sqrt(var)
    return _two_sided(z, df)


def rate_test(x1: int, e1: float, x2: int, e2: float, d1: float = 1.0, d2: float = 1.0,
              df: float | None = None) -> float:
    """Two-sided p-value for "the rate x/e is the same on both sides" (Poisson counts)."""
    if e1 <= 0 or e2 <= 0:
        return 1.0
    if d1 == d2 == 1.0 and df is None:
        return conditional_test(x1, e1, x2, e2)
    r = (x1 + x2) / (e1 + e2)
    var = r * (d1 / e1 + d2 / e2)
    if var <= 0:
        return 1.0
    z = (x2 / e2 - x1 / e1) / math.sqrt(var)
    return _two_sided(z, df)


def _two_sided(z: float, df: float | None) -> float:
    if df is None:
        return min(1.0, 2.0 * norm_sf(abs(z)))
    return min(1.0, 2.0 * t_sf(abs(z), df))


def bh_adjust(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values): reject where q <= alpha controls
    the false discovery rate at alpha for independent or positively dependent tests."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * m / rank)
        out[i] = min(1.0, running)
    return out


# -- design effects -----------------------------------------------------------------------
def block_bootstrap_var(
    before: np.ndarray, after: np.ndarray, resamples: int, seed: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Bootstrap variances of every function's share and count on each side.

    ``before``/``after``: (blocks x (1 + functions)) sample counts, column 0 the block's
    total. Each resample draws as many blocks as the side has, with replacement (a
    non-overlapping block bootstrap), and takes a function's count = the sum of its
    counts and its share = that over the sum of totals. Returns ((share variances, count
    variances) before, (...) after), one value per function. Cost: one (resamples x
    blocks) @ (blocks x functions) product per side.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for counts in (before, after):
        m = counts.shape[0]
        picks = rng.multinomial(m, np.full(m, 1.0 / m), size=resamples).astype(np.float64)
        sums = picks @ counts.astype(np.float64)
        tot = sums[:, :1].copy()
        tot[tot == 0] = 1.0
        shares = sums[:, 1:] / tot
        out.append((shares.var(axis=0, ddof=1), sums[:, 1:].var(axis=0, ddof=1)))
    return out[0], out[1]


def design_effect(var: float, p: float, n: float) -> float:
    """Observed variance of a share over the binomial one, at least 1 (a workload can
    vary less than independent sampling would; the binomial stays the floor)."""
    base = p * (1 - p) / n if n > 0 else 0.0
    if base <= 0 or var <= base:
        return 1.0
    return var / base
