"""Benchmark: scoring millions of customers with Pareto/NBD against BG/NBD.

Usage::

    python bench/bench_paretonbd_scoring.py [--customers 2500000] [--repeat 3] [--seed 11]

Simulates ``--customers`` customers from a Pareto/NBD process (Schmittlein, Morrison & Colombo
1987) with CDNOW-like parameters (``r 0.55, alpha 10.6, s 0.61, beta 11.7`` in weeks, Fader &
Hardie 2005 note) and continuous times: each customer's age ``T`` is uniform on
``(1, 78)`` weeks, her purchase times are continuous, so almost every ``(x, t_x, T)`` row is
distinct and grouping customers with the same history cannot help either model.  Both models
are given fixed parameters (no fit is timed): BG/NBD ``r 0.243, alpha 4.41, a 0.793, b 2.43``
(Fader, Hardie & Lee 2005), Pareto/NBD the simulation's parameters.

For each model the timed step is what scoring a customer base needs: P(alive) for every
customer plus the conditional expected purchases over the next 52 weeks (``predict``, which
computes both in one pass).  Each model is timed ``--repeat`` times in this process; the best
and the median are printed with the ratio Pareto/NBD / BG/NBD (target: at most 2).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import polars as pl

from workbench.models.clv import BetaGeoModel, ParetoNBDModel

PNBD_PARAMS = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
BGNBD_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def simulate(n: int, seed: int, days: bool = True) -> pl.DataFrame:
    """Customer summary (``frequency``, ``recency``, ``T`` in weeks) of a Pareto/NBD process.

    ``lambda ~ Gamma(r, 1/alpha)``, ``mu ~ Gamma(s, 1/beta)``, lifetime ``~ Exp(mu)``; the
    ``x`` purchases of a customer active for ``L = min(lifetime, T)`` are uniform on ``(0, L)``
    given ``x ~ Poisson(lambda L)``, so ``t_x`` is ``L`` times the maximum of ``x`` uniforms
    (``L U^(1/x)``).  With ``days`` (the default) ``T`` and ``t_x`` are whole days expressed in
    weeks, as :func:`workbench.core.summary.customer_summary` produces them from dated transactions
    (``T`` then takes 540 values, so a quarter of the 2.5M rows are distinct triples but the
    ``(x, t_x)`` and ``(x, T)`` pairs repeat); otherwise they are continuous and every row is
    distinct.
    """
    rng = np.random.default_rng(seed)
    p = PNBD_PARAMS
    lam = rng.gamma(p["r"], 1.0 / p["alpha"], n)
    mu = rng.gamma(p["s"], 1.0 / p["beta"], n)
    T = rng.uniform(1.0, 78.0, n)
    life = np.minimum(rng.exponential(1.0, n) / mu, T)
    x = rng.poisson(lam * life)
    with np.errstate(divide="ignore"):
        t_x = np.where(x > 0, life * rng.uniform(0.0, 1.0, n) ** (1.0 / np.maximum(x, 1)), 0.0)
    if days:
        T = np.round(T * 7.0) / 7.0
        t_x = np.minimum(np.floor(t_x * 7.0) / 7.0, T)
    return pl.DataFrame({"customer_id": np.arange(n), "frequency": x.astype(float),
                         "recency": t_x, "T": T})


def _time(model: BetaGeoModel | ParetoNBDModel, summary: pl.DataFrame,
          repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        model.predict(summary, horizon=52.0)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    """Simulate, time both models and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=2_500_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--continuous", action="store_true",
                    help="continuous times instead of whole days (every row distinct)")
    args = ap.parse_args()
    summary = simulate(args.customers, args.seed, days=not args.continuous)
    distinct = summary.select("frequency", "recency", "T").unique().height
    print(f"{args.customers:,} simulated customers, {distinct:,} distinct (x, t_x, T) rows, "
          f"{int((summary['frequency'] > 0).sum()):,} repeaters")
    bg, pn = BetaGeoModel(), ParetoNBDModel()
    bg.params_ = dict(BGNBD_PARAMS)
    pn.params_ = dict(PNBD_PARAMS)
    results = {}
    for name, model in (("BG/NBD", bg), ("Pareto/NBD", pn)):
        times = _time(model, summary, args.repeat)
        results[name] = times
        print(f"{name:<11} P(alive) + 52-week expected purchases: best {min(times):.3f} s, "
              f"median {statistics.median(times):.3f} s  (runs: "
              + ", ".join(f"{t:.3f}" for t in times) + ")")
    ratio_best = min(results["Pareto/NBD"]) / min(results["BG/NBD"])
    ratio_med = statistics.median(results["Pareto/NBD"]) / statistics.median(results["BG/NBD"])
    print(f"ratio Pareto/NBD / BG/NBD: best {ratio_best:.2f}x, median {ratio_med:.2f}x "
          "(target <= 2x)")


if __name__ == "__main__":
    main()
