"""Intervals for the whole CLV table and its total; fast BG/NBD expectations on real times."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

import workbench as wb
from workbench.models import clv
from workbench.models.clv import bgnbd


@pytest.fixture(scope="module")
def summary(cdnow_transactions):
    return wb.customer_summary(cdnow_transactions, "1998-06-30", "W")


@pytest.mark.parametrize(
    "params",
    [
        (0.2426, 4.4136, 0.7930, 2.4259),  # CDNOW (FHL 2005): the series path
        (0.20, 2.2, 0.6, 4.0),  # sample data ground truth: the log-odds path
        (0.2426, 4.4136, 5e4, 9.5e5),  # huge a + b
        (0.5, 3.0, 0.02, 0.3),  # small a: quadrature
    ],
)
def test_interpolated_expectation_equals_the_direct_one(params):
    """G interpolated in log(t / (alpha + T)) per frequency agrees with the direct evaluation
    (itself checked against a 50-digit reference in test_clv_reference.py) to 1e-10."""
    rng = np.random.default_rng(7)
    n = 3000
    x = rng.integers(0, 6, n).astype(float)
    T = rng.uniform(0.0, 78.0, n)  # weeks with day resolution: real, not integer, times
    t = rng.choice([0.0, 4.348, 13.0, 52.18], n)
    direct = bgnbd._alive_expectation(params, t, x, T)
    smooth = bgnbd._alive_expectation_smooth(params, t, x, T)
    assert np.all(smooth[t == 0] == 0.0)
    pos = direct > 0
    assert np.max(np.abs(smooth[pos] / direct[pos] - 1.0)) < 1e-10


def test_nbd_interval_equals_the_closed_form_delta_method(summary):
    """NBD: E[X(H) | x, T] = (r + x) H / (alpha + T), so d log E / d log r = r / (r + x) and
    d log E / d log alpha = -alpha / (alpha + T); the bounds are E exp(+-z sd)."""
    fit = clv.fit_clv(summary, 12, "M", 0.3, model="nbd", intervals=True)
    m = fit.purchase_model
    r, alpha = m.params_["r"], m.params_["alpha"]
    x, T = summary["frequency"].to_numpy(), summary["T"].to_numpy()
    H = 12 * clv.value.period_length("M", "W")
    e = (r + x) * H / (alpha + T)
    jac = np.column_stack([r / (r + x), -alpha / (alpha + T)])
    sd = np.sqrt(np.einsum("ij,jk,ik->i", jac, m.covariance_log_, jac))
    z = norm.ppf(0.95)
    t = fit.table
    assert t["expected_purchases"].to_numpy() == pytest.approx(e, rel=1e-12)
    assert t["expected_purchases_lower"].to_numpy() == pytest.approx(e * np.exp(-z * sd), rel=1e-5)
    assert t["expected_purchases_upper"].to_numpy() == pytest.approx(e * np.exp(z * sd), rel=1e-5)


def test_table_intervals_agree_with_the_full_bootstrap(summary):
    fit = clv.fit_clv(summary, intervals=True)
    assert {
        "expected_purchases_lower",
        "expected_purchases_upper",
        "clv_lower",
        "clv_upper",
        "interval_note",
    } <= set(fit.table.columns)
    t = fit.table.filter(pl.col("clv").is_not_null())
    assert (t["clv_lower"] <= t["clv"]).all() and (t["clv"] <= t["clv_upper"]).all()
    some = (
        summary.sort("total_spend", descending=True)
        .head(10)
        .vstack(summary.filter(pl.col("frequency") == 0).head(3))
    )
    boot = clv.clv_intervals(fit, some, n_draws=1000, seed=5)
    j = boot.join(
        fit.table.select("customer_id", "clv_lower", "clv_upper"), on="customer_id", suffix="_table"
    )
    width = j["clv_upper"] - j["clv_lower"]
    for side in ("clv_lower", "clv_upper"):
        # the quantiles of 1,000 draws are themselves uncertain by a few % of the width
        assert ((j[f"{side}_table"] - j[side]).abs() / width).max() < 0.08


def test_total_interval_sums_draws_not_bounds(summary):
    fit = clv.fit_clv(summary, intervals=True, interval_draws=400)
    tot = fit.totals()
    assert tot["predicted_clv_lower"] < tot["predicted_clv"] < tot["predicted_clv_upper"]
    assert (
        tot["expected_purchases_lower"]
        < tot["expected_purchases"]
        < tot["expected_purchases_upper"]
    )
    assert tot["interval_level"] == 0.9
    assert tot["predicted_clv"] == pytest.approx(float(fit.table["clv"].sum()), rel=1e-12)
    # customers share the parameters: the total's interval is narrower than the sum of the
    # customers' bounds (which would assume every customer at her bound together)
    assert tot["predicted_clv_upper"] < float(fit.table["clv_upper"].sum())
    assert tot["predicted_clv_lower"] > float(fit.table["clv_lower"].sum())
    # seeded: the same interval again
    again = clv.fit_clv(summary, intervals=True, interval_draws=400).totals()
    assert again["predicted_clv_lower"] == tot["predicted_clv_lower"]


def test_one_customer_total_matches_her_own_interval(summary):
    """With one customer the total is her CLV: the quantiles of 20,000 summed draws equal her
    lognormal bounds to Monte Carlo accuracy."""
    fit = clv.fit_clv(summary)
    one = summary.filter(pl.col("frequency") == 5).head(1)
    table, total = clv.uncertainty.clv_table_intervals(fit, one, n_draws=20_000, seed=1)
    assert total["predicted_clv_lower"] == pytest.approx(table["clv_lower"][0], rel=0.01)
    assert total["predicted_clv_upper"] == pytest.approx(table["clv_upper"][0], rel=0.01)


def test_fit_clv_reuses_a_fitted_purchase_model(summary):
    model = clv.BetaGeoModel().fit(summary)
    fit = clv.fit_clv(summary, purchase_model=model)
    assert fit.purchase_model is model
    assert fit.table["clv"].equals(clv.fit_clv(summary).table["clv"])
    with pytest.raises(ValueError, match="purchase_model"):
        clv.fit_clv(summary, model="paretonbd", purchase_model=model)


def test_bgnbd_likelihood_at_huge_a_plus_b_matches_a_50_digit_reference():
    """FHL 2005 eq. (6) for one customer at a + b = 1e6: the beta-function ratios are taken
    as products, not as differences of betaln values of about -1e1 (which lose ~1e-10)."""
    mp = pytest.importorskip("mpmath")
    r, alpha, a, b = 0.2426, 4.4136, 5e4, 9.5e5
    x, t_x, T = 3.0, 20.0, 38.0
    with mp.workdps(50):
        R, AL, A, B = (mp.mpf(v) for v in (r, alpha, a, b))
        lb = mp.beta(A, B)
        l1 = mp.beta(A, B + x) / lb * (AL + T) ** -(R + x)
        l2 = mp.beta(A + 1, B + x - 1) / lb * (AL + t_x) ** -(R + x)
        ref = float(mp.loggamma(R + x) - mp.loggamma(R) + R * mp.log(AL) + mp.log(l1 + l2))
    stats = bgnbd.bgnbd_sufficient_stats(
        np.array([x]), np.array([t_x]), np.array([T]), np.array([1.0])
    )
    got, _ = bgnbd.bgnbd_total_loglik(np.log([r, alpha, a, b]), stats, False)
    assert got == pytest.approx(ref, rel=1e-13)
