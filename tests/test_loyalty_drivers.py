"""Key drivers (workbench.analyses.loyalty.drivers) on synthetic data with a known true driver."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from workbench.analyses.loyalty import driver_regression, key_drivers
from workbench.analyses.loyalty.drivers import _boot_ranks
from workbench.core.schema import CRITERIA


def synthetic(n: int, seed: int = 3) -> pl.DataFrame:
    """NPS and intent driven by quality only; the other criteria are noise."""
    rng = np.random.default_rng(seed)
    cols = {f"score_{c}": rng.integers(1, 6, n) for c in CRITERIA}
    cols.update({f"weight_{c}": rng.integers(1, 6, n) for c in CRITERIA})
    q = cols["score_quality"]
    cols["nps"] = np.clip(2 * q + rng.integers(-1, 2, n), 0, 10).astype(float)
    cols["repurchase_intent"] = np.clip(q + rng.integers(-1, 2, n), 1, 5).astype(float)
    return pl.DataFrame(cols)


def test_true_driver_is_found_with_intervals():
    d = key_drivers(synthetic(400), n_boot=300, seed=1)
    assert d.height == 2 * len(CRITERIA)
    for target in ("nps", "repurchase_intent"):
        t = d.filter(pl.col("target") == target)
        top = t.filter(pl.col("rank") == 1).row(0, named=True)
        assert top["criterion"] == "quality"
        assert top["ci_low"] > 0.5 and top["ci_low"] <= top["rho"] <= top["ci_high"]
        assert top["n"] == 400 and top["note"] is None
        noise = t.filter(pl.col("criterion") != "quality")
        # noise criteria: small correlations, and most intervals include 0
        assert noise["rho"].abs().max() < 0.2
        assert (noise["note"] == "interval includes 0: no clear relation").sum() >= 5


def test_rho_matches_scipy_and_seed_reproduces():
    df = synthetic(200)
    d1 = key_drivers(df, targets=["nps"], criteria=["quality", "price"], n_boot=200, seed=7)
    d2 = key_drivers(df, targets=["nps"], criteria=["quality", "price"], n_boot=200, seed=7)
    assert d1.equals(d2)
    q = d1.filter(pl.col("criterion") == "quality").row(0, named=True)
    assert q["rho"] == pytest.approx(stats.spearmanr(df["score_quality"], df["nps"]).statistic)
    assert q["mean_weight"] == pytest.approx(df["weight_quality"].mean())


def test_small_n_and_missing_answers_are_reported():
    df = synthetic(12).with_columns(
        pl.when(pl.int_range(pl.len()) < 2).then(None).otherwise(pl.col("nps")).alias("nps"))
    d = key_drivers(df, targets=["nps"], criteria=["quality"], n_boot=100)
    r = d.row(0, named=True)
    assert r["n"] == 10  # pairwise complete cases
    assert r["note"] == "only n = 10 answers: unreliable, read the interval"
    empty = key_drivers(df.head(2), targets=["nps"], criteria=["quality"], n_boot=10)
    assert empty["rho"].to_list() == [None] and "too few" in empty["note"][0]


def test_boot_ranks_equal_scipy_average_ranks():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 11, 60).astype(float)
    idx = rng.integers(0, 60, size=(9, 60))
    assert np.allclose(_boot_ranks(x, idx), stats.rankdata(x[idx], axis=1))
    y = rng.normal(size=200)  # many distinct values: the rankdata fallback
    idx = rng.integers(0, 200, size=(3, 200))
    assert np.allclose(_boot_ranks(y, idx), stats.rankdata(y[idx], axis=1))


def test_driver_regression_matches_least_squares_and_finds_driver():
    rng = np.random.default_rng(5)
    n = 500
    a, b, c = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    df = pl.DataFrame({"score_a": a, "score_b": b, "score_c": c,
                       "nps": 2 * a + 0.5 * b + rng.normal(size=n)})
    r = driver_regression(df, criteria=["a", "b", "c"], n_boot=200, seed=0)
    m = df.to_numpy()
    z = (m - m.mean(axis=0)) / m.std(axis=0)
    expected = np.linalg.lstsq(z[:, :3], z[:, 3], rcond=None)[0]
    assert np.allclose(r["beta"].to_numpy(), expected)
    got = {row["criterion"]: row for row in r.iter_rows(named=True)}
    assert got["a"]["ci_low"] > got["b"]["ci_high"] > 0
    assert got["c"]["note"] == "interval includes 0"
    assert 0.7 < got["a"]["r2"] < 0.9
    assert driver_regression(df.head(3), criteria=["a", "b", "c"]).height == 0
