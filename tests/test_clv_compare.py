"""Model choice: MBG/NBD and NBD models, compare_models and its recommendation rule, time units.

MBG/NBD on CDNOW is checked against the estimates ``lifetimes`` reports for the same 2,357
customers (r 0.525, alpha 6.183, a 0.891, b 1.614) and against the closed forms of Batislam,
Denizel & Filiztekin (2007) evaluated with ``scipy.special.hyp2f1``.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy.special import hyp2f1

import workbench as wb
from workbench.models import clv
from workbench.models.clv.compare import BIC_MARGIN, _recommend, model_key


@pytest.fixture(scope="module")
def comparison(cdnow_calibration):
    return clv.compare_models(cdnow_calibration, cdnow_calibration, unit="W")


def test_mbgnbd_on_cdnow_and_its_closed_forms(comparison):
    m = comparison.models["mbgnbd"]
    assert {k: round(v, 3) for k, v in m.params_.items()} == {
        "r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    assert m.log_likelihood_ == pytest.approx(-9582.14, abs=0.01)
    assert m.diagnosis == [] and m.is_degenerate is False
    r, al, a, b = (m.params_[k] for k in ("r", "alpha", "a", "b"))
    for t in (1.0, 39.0, 78.0):  # BDF 2007 eq. (3)
        direct = b / (a - 1) * (1 - (al / (al + t)) ** r * hyp2f1(r, b + 1, a + b, t / (al + t)))
        assert m.expected_purchases_new_customer_array(t)[0] == pytest.approx(direct, rel=1e-10)
    x, tx, T, t = 2.0, 30.43, 38.86, 39.0  # BDF 2007 eqs. (5)-(6)
    pa = 1 / (1 + a / (b + x) * ((al + T) / (al + tx)) ** (r + x))
    direct = (a + b + x) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x)
                                      * hyp2f1(r + x, b + x + 1, a + b + x, t / (al + T + t))) * pa
    got = m.expected_purchases_array(t, np.array([x]), np.array([tx]), np.array([T]))[0]
    assert got == pytest.approx(direct, rel=1e-10)
    hz = m.expected_purchases_horizons([0.0, t], np.array([x]), np.array([tx]), np.array([T]))
    assert hz[0, 0] == 0 and hz[1, 0] == pytest.approx(direct, rel=1e-10)
    # a one-time buyer may be gone (BG/NBD would say 1)
    assert m.p_alive_array(np.array([0.0]), np.array([0.0]), np.array([30.0]))[0] < 1
    # P(X(t) = n), eq. (2), is a distribution whose mean is eq. (3)
    n = np.arange(400)
    pmf = m.probability_of_n_purchases_array(n, 39.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    assert (n * pmf).sum() == pytest.approx(m.expected_purchases_new_customer_array(39.0)[0],
                                            rel=1e-8)


def test_nbd_model(comparison, cdnow_calibration):
    m = comparison.models["nbd"]
    r, alpha = m.params_["r"], m.params_["alpha"]
    s = cdnow_calibration.head(5)
    pred = m.predict(s, 10.0)
    assert pred["p_alive"].to_list() == [1.0] * 5
    assert pred["expected_purchases"].to_numpy() == pytest.approx(
        (r + s["frequency"].to_numpy()) * 10 / (alpha + s["T"].to_numpy()))
    n = np.arange(300)
    assert m.probability_of_n_purchases_array(n, 39.0).sum() == pytest.approx(1.0)
    # nested in BG/NBD: never a better likelihood
    assert m.log_likelihood_ < comparison.models["bgnbd"].log_likelihood_


def test_comparison_on_cdnow_keeps_the_published_figures(comparison, cdnow_calibration):
    t = comparison.table
    bg, pareto = comparison.models["bgnbd"], comparison.models["paretonbd"]
    assert {k: round(v, 3) for k, v in bg.params_.items()} == {  # FHL 2005
        "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(bg.log_likelihood_, 1) == -9582.4
    assert {k: round(v, 2) for k, v in pareto.params_.items()} == {  # FH 2005 note
        "r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    assert round(pareto.log_likelihood_, 1) == -9595.0
    row = t.filter(pl.col("model") == "bgnbd").row(0, named=True)
    assert row["aic"] == pytest.approx(8 - 2 * row["log_likelihood"])
    assert row["bic"] == pytest.approx(4 * math.log(2357) - 2 * row["log_likelihood"])
    assert row["holdout_actual"] == 1882
    assert row["holdout_error_pct"] == pytest.approx(
        100 * (row["holdout_predicted"] - 1882) / 1882)
    assert t["delta_bic"].min() == 0 and t["n_params"].to_list() == [4, 4, 4, 2]
    # the rule: smallest |aggregate holdout error| (Pareto/NBD -11.5 % against BG/NBD -12.1 %)
    assert comparison.recommended == "paretonbd"
    assert t.filter(pl.col("recommended"))["model"].to_list() == ["paretonbd"]
    assert "Pareto/NBD is recommended" in comparison.reason and "-11.5 %" in comparison.reason
    assert not comparison.time_unit.too_coarse
    # without a holdout: the lowest BIC
    no_holdout = clv.compare_models(cdnow_calibration.select("frequency", "recency", "T"))
    assert no_holdout.recommended == no_holdout.table.sort("bic")["model"][0]
    assert "lowest BIC" in no_holdout.reason


def test_monthly_cdnow_is_too_coarse_and_degenerate(cdnow_transactions):
    cal = wb.calibration_holdout_summary(cdnow_transactions, "1997-09-30", "1998-06-30", "M")
    c = clv.compare_models(cal, cal, unit="M")
    g = c.time_unit
    assert g.too_coarse and g.suggested_unit == "W" and g.distinct_T == 3
    assert "too coarse" in g.sentence and "use weeks" in g.sentence
    bg = c.table.filter(pl.col("model") == "bgnbd").row(0, named=True)
    assert bg["degenerate"] and bg["diagnosis"]
    assert bg["holdout_error_pct"] == pytest.approx(41, abs=1.0)  # issue 10: +41 %
    assert c.recommended is not None and not c.table.filter(
        pl.col("recommended"))["degenerate"][0]


def _table(rows):
    base = {"error": None, "diagnosis": None, "holdout_error_pct": None,
            "holdout_predicted": None, "holdout_actual": None}
    return pl.DataFrame([{**base, **r} for r in rows])


def test_recommendation_rule():
    rows = [{"model": "bgnbd", "label": "BG/NBD", "bic": 100.0, "degenerate": True,
             "diagnosis": "The data do not show customers dropping out."},
            {"model": "paretonbd", "label": "Pareto/NBD", "bic": 100.0 + BIC_MARGIN - 1,
             "degenerate": False},
            {"model": "nbd", "label": "NBD", "bic": 120.0, "degenerate": False}]
    key, reason = _recommend(_table(rows), False)
    assert key == "paretonbd" and "degenerate" in reason and "dropping out" in reason
    rows[1]["bic"] = 100.0 + BIC_MARGIN + 1  # beyond the margin: the degenerate fit stays
    key, reason = _recommend(_table(rows), False)
    assert key == "bgnbd" and "degenerate" in reason
    # holdout: ties within half a point go to the lower BIC
    rows = [{"model": "bgnbd", "label": "BG/NBD", "bic": 90.0, "degenerate": False,
             "holdout_error_pct": 4.4, "holdout_predicted": 1.0, "holdout_actual": 1.0},
            {"model": "mbgnbd", "label": "MBG/NBD", "bic": 95.0, "degenerate": False,
             "holdout_error_pct": -4.0, "holdout_predicted": 1.0, "holdout_actual": 1.0}]
    assert _recommend(_table(rows), True)[0] == "bgnbd"
    rows[0]["holdout_error_pct"] = 5.0
    assert _recommend(_table(rows), True)[0] == "mbgnbd"


def test_models_that_cannot_be_fitted_are_reported():
    s = pl.DataFrame({"frequency": [0, 0, 3], "recency": [0.0, 0.0, 5.0], "T": [9.0, 8.0, 9.0]})
    c = clv.compare_models(s)
    assert c.recommended is None and c.table["error"].null_count() == 0
    assert "needs at least 2 customers" in c.reason
    with pytest.raises(ValueError, match="model must be one of"):
        model_key("weibull")


def test_fit_clv_accepts_the_new_models(cdnow_transactions):
    summary = wb.customer_summary(cdnow_transactions, "1998-06-30", "W")
    for key, cls in (("mbgnbd", clv.ModifiedBetaGeoModel), ("nbd", clv.NBDModel)):
        fit = clv.fit_clv(summary, model=key)
        assert isinstance(fit.purchase_model, cls) and fit.table["clv"].null_count() == 0
