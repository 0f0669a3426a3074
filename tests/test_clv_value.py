"""CLV: discounting period by period, margins, historical value."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    customer_lifetime_value,
    per_period_discount_rate,
)
from workbench.models.clv.value import period_length

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fitted(cdnow_transactions) -> tuple[pl.DataFrame, BetaGeoModel, GammaGammaModel]:
    from workbench.core.summary import customer_summary

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = customer_summary(cdnow_transactions, "1997-09-30", unit="W")
    return s, BetaGeoModel().fit(s), GammaGammaModel().fit(s)


def test_discount_rate_conversion() -> None:
    assert per_period_discount_rate(0.10, "M") == pytest.approx(1.1 ** (1 / 12) - 1)
    assert per_period_discount_rate(0.10, "Y") == pytest.approx(0.10)
    assert per_period_discount_rate(0.10, 52.0, unit="W") == pytest.approx(
        1.1 ** (52 * 7 / 365.25) - 1)
    assert period_length("M", "W") == pytest.approx(365.25 / 12 / 7)
    assert period_length("W", "D") == 7
    with pytest.raises(ValueError, match="period"):
        period_length("fortnight", "W")
    with pytest.raises(ValueError, match="annual_discount_rate"):
        per_period_discount_rate(-0.1, "M")


def test_clv_is_the_discounted_sum_of_period_increments(fitted) -> None:
    s, bg, gg = fitted
    out = customer_lifetime_value(s, bg, gg, 12, margin=0.3, unit="W", period="M",
                                  annual_discount_rate=0.10)
    assert out.columns == ["customer_id", "expected_purchases", "p_alive", "expected_spend",
                           "clv", "historical_value", "reason"]
    assert out["reason"].null_count() == out.height  # CDNOW: q > 1, spend defined for all
    # independent computation with the public per-customer methods
    plen = 365.25 / 12 / 7
    d = 1.1 ** (1 / 12) - 1
    cum = [np.zeros(s.height)] + [bg.expected_purchases(s, k * plen)["expected_purchases"]
                                  .to_numpy() for k in range(1, 13)]
    spend = gg.expected_spend(s)["expected_spend"].to_numpy()
    manual = sum((cum[k] - cum[k - 1]) / (1 + d) ** k for k in range(1, 13)) * spend * 0.3
    np.testing.assert_allclose(out["clv"].to_numpy(), manual, rtol=1e-10)
    np.testing.assert_allclose(out["expected_purchases"].to_numpy(), cum[12], rtol=1e-12)
    np.testing.assert_allclose(out["p_alive"].to_numpy(),
                               bg.probability_alive(s)["p_alive"].to_numpy())
    assert out["historical_value"].to_list() == s["total_spend"].to_list()
    assert (out["clv"] > 0).all()


def test_no_discount_and_monotonicity(fitted) -> None:
    s, bg, gg = fitted
    flat = customer_lifetime_value(s, bg, gg, 12, margin=1.0, annual_discount_rate=0.0)
    np.testing.assert_allclose(
        flat["clv"].to_numpy(),
        flat["expected_purchases"].to_numpy() * flat["expected_spend"].to_numpy(), rtol=1e-10)
    disc = customer_lifetime_value(s, bg, gg, 12, margin=1.0, annual_discount_rate=0.2)
    longer = customer_lifetime_value(s, bg, gg, 24, margin=1.0, annual_discount_rate=0.2)
    assert (disc["clv"] < flat["clv"]).all()
    assert (longer["clv"] > disc["clv"]).all()
    # a 13-week (quarter-ish) period in weeks, given as a number of units
    q = customer_lifetime_value(s, bg, gg, 4, margin=1.0, period=13.0, annual_discount_rate=0)
    np.testing.assert_allclose(q["expected_purchases"].to_numpy(),
                               bg.expected_purchases(s, 52)["expected_purchases"].to_numpy())


def test_margin_column_pareto_model_and_errors(fitted) -> None:
    s, _, gg = fitted
    pn = ParetoNBDModel().fit(s)
    s2 = s.with_columns(pl.lit(0.25).alias("m"))
    a = customer_lifetime_value(s2, pn, gg, 6, margin="m")
    b = customer_lifetime_value(s2, pn, gg, 6, margin=0.25)
    assert a["clv"].to_list() == pytest.approx(b["clv"].to_list())
    assert a["historical_value"].null_count() == 0
    no_hist = customer_lifetime_value(s.drop("total_spend"), pn, gg, 6, margin=0.25)
    assert no_hist["historical_value"].null_count() == s.height
    with pytest.raises(ValueError, match="margin"):
        customer_lifetime_value(s, pn, gg, 6, margin=30)
    with pytest.raises(ValueError, match="horizon"):
        customer_lifetime_value(s, pn, gg, 0, margin=0.3)
    with pytest.raises(ValueError, match="unit"):
        customer_lifetime_value(s, pn, gg, 6, margin=0.3, unit="fortnight")
