"""Undefined predictions, degenerate fits and too little data (issue 10, first half)."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

from workbench.errors import UndefinedPredictionError
from workbench.models.clv import BetaGeoModel, GammaGammaModel, NotEnoughDataError, ParetoNBDModel
from workbench.models.clv._fit import FitOutcome
from workbench.models.clv.gammagamma import UNDEFINED_SPEND_REASON, GammaGammaAssumptionWarning
from workbench.models.clv.pipeline import clv_totals
from workbench.models.clv.value import customer_lifetime_value


def _gg(p: float, q: float, g: float) -> GammaGammaModel:
    m = GammaGammaModel()
    m.params_ = {"p": p, "q": q, "gamma": g}
    return m


def test_undefined_spend_raises_in_the_array_api() -> None:
    m = _gg(0.2, 0.7, 10.0)  # the issue: x=1, m=20 gave -60
    with pytest.raises(UndefinedPredictionError, match="p\\*x\\+q <= 1"):
        m.expected_spend_array(np.array([1.0]), np.array([20.0]))
    vals, undefined = m.expected_spend_or_null(np.array([1.0, 5.0, 0.0]),
                                               np.array([20.0, 20.0, 0.0]))
    assert undefined.tolist() == [True, False, True]
    assert np.isnan(vals[0]) and vals[1] == pytest.approx(0.2 * (10 + 100) / (1 + 0.7 - 1))


def test_undefined_spend_is_null_with_a_reason_never_negative() -> None:
    m = _gg(0.2, 0.7, 10.0)
    s = pl.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [1, 5, 0],
                      "monetary_value": [20.0, 20.0, 0.0]})
    with pytest.warns(RuntimeWarning, match="undefined"):
        out = m.expected_spend(s)
    assert out["expected_spend"].to_list()[0] is None
    assert out["expected_spend"].to_list()[2] is None
    assert out["reason"].to_list() == [UNDEFINED_SPEND_REASON, None, UNDEFINED_SPEND_REASON]
    assert out["expected_spend"].drop_nulls().min() > 0


def test_one_time_buyers_get_the_population_mean() -> None:
    m = _gg(6.25, 3.74, 15.44)
    vals = m.expected_spend_array(np.array([0.0, 0.0]), np.array([0.0, 35.0]))
    np.testing.assert_allclose(vals, 6.25 * 15.44 / 2.74, rtol=1e-14)


def test_fit_with_q_below_one_warns_in_plain_words() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.integers(1, 10, n)
    nu = rng.gamma(0.6, 1 / 10.0, n)  # q = 0.6: heavy-tailed mean spend
    m = rng.gamma(2.0 * x, 1 / (nu * x))
    s = pl.DataFrame({"frequency": x, "monetary_value": m})
    with pytest.warns(GammaGammaAssumptionWarning, match="infinite"):
        gg = GammaGammaModel().fit(s)
    assert gg.params_["q"] <= 1
    assert any("q =" in d for d in gg.diagnosis)


def test_clv_totals_count_what_they_leave_out() -> None:
    bg = BetaGeoModel()
    bg.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    gg = _gg(0.2, 0.7, 10.0)
    s = pl.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [1, 5, 0],
                      "recency": [10.0, 20.0, 0.0], "T": [30.0, 30.0, 30.0],
                      "monetary_value": [20.0, 20.0, 0.0]})
    out = customer_lifetime_value(s, bg, gg, 12, margin=0.3)
    assert out["clv"].null_count() == 2
    assert out["reason"].to_list()[0] == UNDEFINED_SPEND_REASON
    assert out["clv"].drop_nulls().min() >= 0
    table = out.with_columns(pl.col("expected_purchases").alias("predicted_revenue"))
    totals = clv_totals(table)
    assert totals["n_undefined"] == 2
    assert "2 of 3 customers have no CLV" in totals["note"]
    assert totals["predicted_clv"] == pytest.approx(out["clv"].drop_nulls().sum())


def test_one_repeat_customer_is_refused_with_the_minimum() -> None:
    s = pl.DataFrame({"frequency": [3, 0, 0], "recency": [20.0, 0.0, 0.0],
                      "T": [30.0, 25.0, 10.0]})
    for model in (BetaGeoModel(), ParetoNBDModel()):
        with pytest.raises(NotEnoughDataError, match="at least 2 customers with repeat"):
            model.fit(s)


def test_diagnosis_of_a_fine_fit_is_empty(cdnow_calibration: pl.DataFrame) -> None:
    bg = BetaGeoModel().fit(cdnow_calibration)
    assert bg.diagnosis == [] and bg.is_degenerate is False


def _outcome(params: list[float], hessian: np.ndarray) -> FitOutcome:
    return FitOutcome(np.log(params), -1.0, 1, 0.0, "ok", hessian)


def test_no_dropout_boundary_and_undefined_standard_errors_are_explained() -> None:
    bg = BetaGeoModel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg._store_fit(_outcome([0.5, 5.0, 1.6e-5, 5759.0], np.zeros((4, 4))), 100, 50)
    assert bg.is_degenerate
    assert any("standard errors are undefined" in d for d in bg.diagnosis)


def test_small_data_fit_explains_its_degeneracy() -> None:
    # a handful of repeaters with regular buying: BG/NBD goes to a boundary
    rng = np.random.default_rng(0)
    n = 12
    T = np.full(n, 52.0)
    x = rng.integers(3, 8, n).astype(float)
    s = pl.DataFrame({"frequency": x, "recency": T - rng.uniform(0, 2, n), "T": T})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeoModel().fit(s)
    assert bg.diagnosis, bg.params_
    assert any("only 12 customers with repeat purchases" in d for d in bg.diagnosis)
    assert all(isinstance(d, str) and d.endswith(".") for d in bg.diagnosis)


def test_every_purchase_model_explains_few_repeaters_and_no_dropout() -> None:
    """MBG/NBD and the NBD say what BG/NBD says: too few repeat customers (all four models),
    and a vanished drop-out process (the two BG models) on regular buyers who all stay."""
    from workbench.models.clv import ModifiedBetaGeoModel, NBDModel

    rng = np.random.default_rng(0)
    n = 12
    T = np.full(n, 52.0)
    x = rng.integers(3, 8, n).astype(float)
    s = pl.DataFrame({"frequency": x, "recency": T - rng.uniform(0, 2, n), "T": T})
    for model in (ModifiedBetaGeoModel(), NBDModel(), BetaGeoModel()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(s)
        assert any("only 12 customers with repeat purchases" in d for d in model.diagnosis), (
            type(model).__name__, model.diagnosis)
    # many regular buyers, every one still buying at the end: no drop-out in the data
    n = 400
    T = np.full(n, 52.0)
    x = rng.poisson(10, n).astype(float) + 2
    s = pl.DataFrame({"frequency": x, "recency": T - rng.uniform(0, 0.5, n), "T": T})
    for model in (ModifiedBetaGeoModel(), BetaGeoModel()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(s)
        a, b = model.params_["a"], model.params_["b"]
        assert a / (a + b) < 1e-3, (type(model).__name__, model.params_)
        assert any("do not show customers dropping out" in d for d in model.diagnosis), (
            type(model).__name__, model.diagnosis)
