"""Verdicts on simulated profile pairs: the false discovery rate of A/A pairs stays at or
under alpha, and known A/B shifts are found (power printed; figures with more seeds:
``python benchmarks/diff_power.py``, benchmarks/README.md). Seeds are fixed, so the
figures are reproducible."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_module

ROOT = Path(__file__).resolve().parent.parent
ALPHA = 0.05
SEEDS = 100


@pytest.fixture(scope="module")
def sim() -> Any:
    return load_module(ROOT / "benchmarks" / "diff_power.py", "_jitprof_diff_power")


def _show(label: str, f: Any, fdr: bool = True) -> None:
    """Print the figure (pytest -s). With shares, shifting f0 truly moves every other
    share, so an A/B pair of shares has no false discoveries to count."""
    power = "" if f.power is None else f", power {f.power:.3f}"
    rate = f", FDR {f.fdr:.3f}" if fdr else ""
    print(f"\n{label}: {f.pairs} pairs{rate}{power}")


@pytest.mark.parametrize("method", ["binomial", "bootstrap"])
def test_aa_independent_samples_fdr_at_most_alpha(sim: Any, method: str) -> None:
    f = sim.run(method, SEEDS, alpha=ALPHA)
    _show(f"A/A independent, {method}", f)
    # under A/A every discovery is false: FDR = share of pairs with any discovery
    assert f.fdr == f.any_discovery
    assert f.fdr <= ALPHA


def test_aa_autocorrelated_samples_need_the_bootstrap(sim: Any) -> None:
    naive = sim.run("binomial", 40, rho=0.5, alpha=ALPHA)
    boot = sim.run("bootstrap", SEEDS, rho=0.5, alpha=ALPHA)
    _show("A/A autocorrelated rho 0.5, binomial", naive)
    _show("A/A autocorrelated rho 0.5, bootstrap", boot)
    assert naive.fdr > 0.5  # samples taken as independent: noise passes for change
    assert boot.fdr <= ALPHA


def test_ab_share_shift_power(sim: Any) -> None:
    big = sim.run("binomial", SEEDS, shift=0.5, alpha=ALPHA)
    big_boot = sim.run("bootstrap", SEEDS, shift=0.5, alpha=ALPHA)
    small = sim.run("binomial", SEEDS, shift=0.8, alpha=ALPHA)
    _show("A/B f0 share x0.5 (25% -> 14%), binomial", big, fdr=False)
    _show("A/B f0 share x0.5 (25% -> 14%), bootstrap", big_boot, fdr=False)
    _show("A/B f0 share x0.8 (25% -> 21%), binomial", small, fdr=False)
    assert big.power >= 0.95 and big_boot.power >= 0.9
    assert 0.1 < small.power < big.power  # a smaller shift is found less often


def test_ab_rate_shift_others_unchanged(sim: Any) -> None:
    f = sim.run("binomial", SEEDS, shift=0.5, poisson=True, alpha=ALPHA)
    _show("A/B f0 rate x0.5, others unchanged", f)
    assert f.power >= 0.95
    assert f.fdr <= ALPHA  # the other 29 functions did not change: flags on them are false


def test_runs_that_differ_need_the_runs_method(sim: Any) -> None:
    # three recordings per side whose shares differ from run to run (each function's
    # share times exp(N(0, 0.2))): within-run bootstrap flags that noise, runs do not
    boot = sim.run("bootstrap", 20, runs=3, between=0.2, alpha=ALPHA)
    runs = sim.run("runs", 60, runs=3, between=0.2, alpha=ALPHA)
    found = sim.run("runs", 60, runs=3, shift=0.5, alpha=ALPHA)
    _show("A/A 3 runs per side differing, bootstrap", boot)
    _show("A/A 3 runs per side differing, runs", runs)
    _show("A/B f0 share x0.5, 3 runs per side, runs", found, fdr=False)
    assert boot.fdr > 0.5
    assert runs.fdr <= ALPHA
    assert found.power >= 0.9
