#!/usr/bin/env python3
"""False discovery rate and power of ``jitprof diff``'s verdicts on simulated profiles.

A/A: both sides drawn from the same distribution; every verdict other than "no clear
change" is false, so the FDR is the share of pairs with any discovery. A/B: one function's
share (or rate) shifted by a known factor; the power is the share of pairs where it is
flagged in the right direction. Samples can be autocorrelated (a Markov chain that repeats
the previous function with probability ``rho``: runs of one function, as a request loop
gives), which the binomial test ignores and the block bootstrap measures.

    python benchmarks/diff_power.py [--seeds 400]

tests/test_diff_simulation.py loads this file for the same simulations with fewer seeds.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jitprof.analysis.diff import Normalization, diff_profiles  # noqa: E402
from jitprof.model import Kind, Profile, ProfileBuilder  # noqa: E402

SPAN = 2.0  # seconds per simulated recording
BIN = 0.1  # time bin (s): 20 bins, the bootstrap's blocks


def zipf_shares(functions: int) -> np.ndarray:
    w = 1.0 / np.arange(1, functions + 1)
    return w / w.sum()


def sample_sequence(rng: np.random.Generator, shares: np.ndarray, n: int, rho: float
                    ) -> np.ndarray:
    """n function indices; each repeats the previous one with probability rho, else is a
    fresh draw (so the marginal distribution stays ``shares``)."""
    fresh = rng.choice(len(shares), size=n, p=shares)
    if rho <= 0:
        return fresh
    keep = rng.random(n) < rho
    keep[0] = False
    idx = np.where(keep, 0, np.arange(n))
    np.maximum.accumulate(idx, out=idx)
    return fresh[idx]


def build(seq: np.ndarray, functions: int, span: float = SPAN) -> Profile:
    """A profile of single-frame stacks, samples evenly spread over ``span`` seconds."""
    n = len(seq)
    bins = (np.arange(n) * (span / n) // BIN).astype(np.int64)
    nb = int(bins.max()) + 1 if n else 1
    counts = np.bincount(seq * nb + bins, minlength=functions * nb).reshape(functions, nb)
    b = ProfileBuilder("cpu-clock")
    t = b.thread(1, "sim")
    fids = [b.frame(f"f{i}", Kind.NATIVE, "/sim") for i in range(functions)]
    for i, j in zip(*np.nonzero(counts), strict=True):
        c = int(counts[i, j])
        b.add((fids[int(i)],), t, c * 1_000_000, c, int(j))
    p = b.finish()
    p.bin_width = BIN
    p.time_first, p.time_last = 0.0, span
    p.diagnostics.has_period = True
    return p


@dataclass
class Figures:
    pairs: int
    any_discovery: float  # share of pairs with at least one discovery
    fdr: float  # mean of false discoveries / max(discoveries, 1)
    power: float | None  # share of pairs with the shifted function flagged right


def run(method: str, seeds: int, n: int = 2000, functions: int = 30, rho: float = 0.0,
        shift: float = 1.0, alpha: float = 0.05, resamples: int = 400,
        poisson: bool = False, first_seed: int = 0, runs: int = 1,
        between: float = 0.0) -> Figures:
    """``shift``: the after/before factor of function 0's share (1.0: A/A). ``poisson``:
    draw each function's count independently (Poisson, rates) and compare rates, so the
    other functions are truly unchanged. ``runs`` recordings per side of ``n`` samples
    each; ``between``: each recording's shares are the side's times exp(N(0, between))
    per function, renormalised (runs of one program differ by more than sampling)."""
    shares = zipf_shares(functions)
    after_shares = shares.copy()
    after_shares[0] *= shift
    if not poisson:
        after_shares /= after_shares.sum()
    any_d = fdr = power = 0.0
    norm = Normalization("rate") if poisson else Normalization("share")
    for seed in range(first_seed, first_seed + seeds):
        rng = np.random.default_rng(seed)
        sides: list[list[Profile]] = []
        for sh in (shares, after_shares):
            side = []
            for _ in range(runs):
                own = sh
                if between > 0:
                    own = sh * np.exp(rng.normal(0.0, between, size=functions))
                    own = own / own.sum() * sh.sum()
                if poisson:
                    counts = rng.poisson(own * n)
                    seq = np.repeat(np.arange(functions), counts)
                    rng.shuffle(seq)
                else:
                    seq = sample_sequence(rng, own, n, rho)
                side.append(build(seq, functions))
            sides.append(side)
        r = diff_profiles(sides[0], sides[1], method=method, alpha=alpha,
                          normalization=norm, resamples=resamples, seed=seed)
        flagged = {f.name: f.cmp.verdict for f in r.functions
                   if f.cmp.verdict != "no clear change"}
        want = "down" if shift < 1 else "up"
        hit = shift != 1.0 and flagged.get("f0") == want
        false = len(flagged) - (1 if shift != 1.0 and "f0" in flagged else 0)
        any_d += bool(false)
        fdr += false / max(len(flagged), 1)
        power += hit
    return Figures(seeds, any_d / seeds, fdr / seeds, power / seeds if shift != 1.0 else None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=400)
    args = ap.parse_args(argv)
    s = args.seeds
    print(f"{s} simulated pairs each; 2000 samples per side, 30 functions (Zipf shares; "
          "f0 = 25%), alpha 5%")
    print(f"{'case':<58} {'method':<10} {'FDR':>6} {'power':>6}")
    cases = [
        ("A/A independent samples", "binomial", {}),
        ("A/A independent samples", "bootstrap", {}),
        ("A/A autocorrelated (rho 0.5)", "binomial", {"rho": 0.5}),
        ("A/A autocorrelated (rho 0.5)", "bootstrap", {"rho": 0.5}),
        ("A/A autocorrelated (rho 0.9)", "binomial", {"rho": 0.9}),
        ("A/A autocorrelated (rho 0.9)", "bootstrap", {"rho": 0.9}),
        ("A/A 3 runs per side, runs differ (sd 0.2)", "bootstrap",
         {"runs": 3, "between": 0.2}),
        ("A/A 3 runs per side, runs differ (sd 0.2)", "runs", {"runs": 3, "between": 0.2}),
        ("A/B f0 share x0.5, 3 runs per side", "runs", {"runs": 3, "shift": 0.5}),
        ("A/B f0 share x0.5, 3 runs per side, runs differ (sd 0.1)", "runs",
         {"runs": 3, "between": 0.1, "shift": 0.5}),
        ("A/B f0 share x0.8 (25% -> 21%)", "binomial", {"shift": 0.8}),
        ("A/B f0 share x0.8 (25% -> 21%)", "bootstrap", {"shift": 0.8}),
        ("A/B f0 share x0.5 (25% -> 14%)", "binomial", {"shift": 0.5}),
        ("A/B f0 share x0.5, autocorrelated (rho 0.9)", "bootstrap",
         {"shift": 0.5, "rho": 0.9}),
        ("A/B f0 rate x0.8, others unchanged (Poisson)", "binomial",
         {"shift": 0.8, "poisson": True}),
        ("A/B f0 rate x0.5, others unchanged (Poisson)", "binomial",
         {"shift": 0.5, "poisson": True}),
    ]
    for label, method, kw in cases:
        f = run(method, s, **kw)  # type: ignore[arg-type]
        power = f"{f.power:6.3f}" if f.power is not None else "     -"
        # with shares, a shift of f0 truly moves every other share: no false discoveries
        fdr = f"{f.fdr:6.3f}" if "A/A" in label or kw.get("poisson") else "     -"
        print(f"{label:<58} {method:<10} {fdr} {power}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
