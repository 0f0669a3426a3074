"""BG/NBD: published CDNOW estimates, simulation recovery, weights, errors, extremes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.models.clv import BetaGeoModel, ConvergenceError
from workbench.models.clv.bgnbd import _alive_expectation, _log_alive_expectation_quad

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cdnow_cal(cdnow_calibration: pl.DataFrame) -> pl.DataFrame:
    return cdnow_calibration


@pytest.fixture(scope="module")
def bg(cdnow_cal: pl.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow_cal)


def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, seed: int = 0,
                   t_min: float = 20.0, t_max: float = 80.0) -> pl.DataFrame:
    """Exact BG/NBD simulation (FHL 2005 assumptions), continuous time."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(t_min, t_max, n)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    # repeat purchases the customer makes before dropping out (dropout after a purchase)
    k_max = rng.geometric(p)
    n_arrivals = rng.poisson(lam * T)
    x = np.minimum(n_arrivals, k_max)
    # the x-th of n_arrivals uniform arrival times on (0, T]
    t_x = np.zeros(n)
    pos = x > 0
    t_x[pos] = rng.beta(x[pos], n_arrivals[pos] - x[pos] + 1) * T[pos]
    return pl.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "frequency": x,
                         "recency": t_x, "T": T})


def test_cdnow_matches_fader_hardie_lee_2005(bg: BetaGeoModel, cdnow_cal: pl.DataFrame) -> None:
    assert cdnow_cal.height == 2357
    assert cdnow_cal["frequency"].sum() == 2457
    p = bg.params_
    assert round(p["r"], 3) == 0.243
    assert round(p["alpha"], 3) == 4.414
    assert round(p["a"], 3) == 0.793
    assert round(p["b"], 3) == 2.426
    assert round(bg.log_likelihood_, 1) == -9582.4
    assert bg.n_customers_ == 2357
    assert bg.n_distinct_ < 2357


def test_standard_errors_and_intervals(bg: BetaGeoModel) -> None:
    table = bg.summary_table()
    assert table.columns == ["parameter", "estimate", "std_error", "lower", "upper"]
    assert table["parameter"].to_list() == ["r", "alpha", "a", "b"]
    se = table["std_error"].to_numpy()
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    assert (table["lower"] < table["estimate"]).all() and (table["estimate"] < table["upper"]).all()
    # lifetimes' standard errors (BetaGeoFitter on the same CDNOW calibration data, its
    # autograd Hessian): r 0.0125574, alpha 0.378224, a 0.185734, b 0.705414; ours agree to
    # 5 decimals (achieved: at most 5.5e-7 absolute, on b)
    lf_se = {"r": 0.012557379, "alpha": 0.378224101, "a": 0.185733750, "b": 0.705413850}
    for k, v in lf_se.items():
        assert round(bg.standard_errors_[k], 5) == round(v, 5), k
    wald = bg.confidence_intervals(0.9, method="wald")
    np.testing.assert_allclose(
        wald["upper"] - wald["estimate"], 1.6448536 * se, rtol=1e-6)
    with pytest.raises(ValueError, match="level"):
        bg.confidence_intervals(1.5)


def test_lifetimes_agrees_on_predictions(bg: BetaGeoModel, cdnow_cal: pl.DataFrame) -> None:
    lifetimes = pytest.importorskip("lifetimes")
    import pandas as pd

    lf = lifetimes.BetaGeoFitter()
    lf.params_ = pd.Series(bg.params_)
    x, tx, T = (cdnow_cal[c].to_numpy() for c in ("frequency", "recency", "T"))
    ours = bg.predict(cdnow_cal, 39)
    np.testing.assert_allclose(
        ours["expected_purchases"].to_numpy(),
        lf.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T), rtol=1e-8)
    np.testing.assert_allclose(ours["p_alive"].to_numpy(),
                               lf.conditional_probability_alive(x, tx, T), rtol=1e-10)
    ts = np.array([1.0, 39.0, 78.0, 200.0])
    np.testing.assert_allclose(bg.expected_purchases_new_customer(ts)["expected_purchases"],
                               lf.expected_number_of_purchases_up_to_time(ts), rtol=1e-8)
    pmf = bg.probability_of_n_purchases([0, 1, 2, 7, 20], 39)["probability"].to_numpy()
    ref = [lf.probability_of_n_purchases_up_to_time(39, n) for n in [0, 1, 2, 7, 20]]
    np.testing.assert_allclose(pmf, ref, rtol=1e-8)


def test_pmf_is_a_distribution_with_the_right_mean(bg: BetaGeoModel) -> None:
    n = np.arange(0, 400)
    pmf = bg.probability_of_n_purchases(n, 39)["probability"].to_numpy()
    assert np.all(pmf >= 0)
    assert abs(pmf.sum() - 1) < 1e-6
    mean = bg.expected_purchases_new_customer(39)["expected_purchases"][0]
    assert abs((n * pmf).sum() - mean) < 1e-4


def test_simulated_parameters_recovered() -> None:
    try:
        from workbench.app.sample_data import GROUND_TRUTH

        truth = {k: GROUND_TRUTH["bgnbd"][k] for k in ("r", "alpha", "a", "b")}
    except (ImportError, KeyError):
        truth = {"r": 0.2, "alpha": 2.2, "a": 0.6, "b": 4.0}
    s = simulate_bgnbd(20_000, **truth, seed=7)
    m = BetaGeoModel().fit(s)
    for k, v in truth.items():
        assert abs(m.params_[k] - v) < 3 * m.standard_errors_[k], (k, m.params_[k], v)
    ci = m.confidence_intervals(0.999)
    for row in ci.iter_rows(named=True):
        assert row["lower"] < truth[row["parameter"]] < row["upper"]


def test_weighted_fit_equals_fit_on_duplicated_rows() -> None:
    s = simulate_bgnbd(400, 0.5, 5.0, 0.8, 3.0, seed=3)
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 6, s.height)
    expanded = s.select(pl.all().repeat_by(pl.Series(counts)).explode())
    assert expanded.height == counts.sum()
    m_full = BetaGeoModel().fit(expanded)
    m_w = BetaGeoModel().fit(s.with_columns(pl.Series("n", counts)), weights_col="n")
    for k in m_full.params_:
        assert m_full.params_[k] == pytest.approx(m_w.params_[k], rel=1e-6)
    assert m_full.log_likelihood_ == pytest.approx(m_w.log_likelihood_, rel=1e-10)
    assert m_full.n_customers_ == m_w.n_customers_ == counts.sum()


def test_non_convergence_raises() -> None:
    s = simulate_bgnbd(2000, 0.5, 5.0, 0.8, 3.0, seed=5)
    with pytest.raises(ConvergenceError) as info:
        BetaGeoModel(max_iter=1).fit(s)
    err = info.value
    assert err.n_iter >= 1 and err.grad_norm > 0
    assert set(err.params) == {"r", "alpha", "a", "b"}
    assert "did not converge" in str(err)
    assert not hasattr(BetaGeoModel(max_iter=1), "params_")


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("frequency", [0, -1, 2], "negative"),
        ("frequency", [0, 1.5, 2], "non-integer"),
        ("recency", [0.0, 12.0, 1.0], "recency greater than T"),
        ("T", [5.0, None, 8.0], "null"),
    ],
)
def test_invalid_inputs_name_column_and_rows(column: str, values: list, message: str) -> None:
    s = pl.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [0, 1, 2],
                      "recency": [0.0, 3.0, 1.0], "T": [5.0, 10.0, 8.0]})
    s = s.with_columns(pl.Series(column, values, dtype=pl.Float64))
    with pytest.raises(ValueError, match=message) as info:
        BetaGeoModel().fit(s)
    assert f"'{column}'" in str(info.value)
    assert "customer_id='b'" in str(info.value)


def test_missing_column_and_bad_constructor() -> None:
    with pytest.raises(ValueError, match=r"missing required column.*'T'"):
        BetaGeoModel().fit(pl.DataFrame({"frequency": [1], "recency": [1.0]}))
    with pytest.raises(ValueError, match="penalizer"):
        BetaGeoModel(penalizer=-1)
    with pytest.raises(TypeError, match="max_iter"):
        BetaGeoModel(max_iter=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_iter"):
        BetaGeoModel(max_iter=0)
    with pytest.raises(RuntimeError, match="not fitted"):
        BetaGeoModel().predict(pl.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]}), 5)


def test_penalizer_shrinks_parameters(cdnow_cal: pl.DataFrame, bg: BetaGeoModel) -> None:
    pen = BetaGeoModel(penalizer=0.01).fit(cdnow_cal)
    norm = sum(v**2 for v in pen.params_.values())
    assert norm < sum(v**2 for v in bg.params_.values())
    assert pen.log_likelihood_ < bg.log_likelihood_


@pytest.mark.filterwarnings("ignore:BG/NBD. the Hessian")
def test_extreme_inputs_stay_finite(bg: BetaGeoModel) -> None:
    s = pl.DataFrame({
        "customer_id": ["x500", "x500_old", "rec0", "rec_eq_T", "new", "long"],
        "frequency": [500, 500, 3, 40, 0, 0],
        "recency": [1000.0, 10.0, 0.0, 1000.0, 0.0, 0.0],
        "T": [1000.0, 1000.0, 1000.0, 1000.0, 0.0, 1000.0],
    })
    for horizon in (0.0, 1.0, 39.0, 1000.0, 1e6):
        out = bg.predict(s, horizon)
        e, pa = out["expected_purchases"].to_numpy(), out["p_alive"].to_numpy()
        assert np.all(np.isfinite(e)) and np.all(e >= 0), (horizon, e)
        assert np.all((pa >= 0) & (pa <= 1))
    out = bg.predict(s, 52)
    e = dict(zip(out["customer_id"], out["expected_purchases"], strict=True))
    # a very active customer who is still buying expects about 0.5 purchases per week
    assert 20 < e["x500"] < 30
    assert e["x500_old"] < 1e-6  # 500 purchases then 990 weeks of silence: gone
    m = BetaGeoModel().fit(pl.concat([s, s.with_columns(pl.col("customer_id") + "_2")]))
    assert np.isfinite(m.log_likelihood_)
    new = bg.expected_purchases_new_customer([0, 1e-9, 1e5])["expected_purchases"].to_numpy()
    assert np.all(np.isfinite(new)) and new[0] == 0


def test_series_agrees_with_quadrature_of_the_definition() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 500, 300).astype(float)
    T = rng.uniform(0, 1000, 300)
    t = rng.uniform(1e-3, 500, 300)
    for params in [(0.243, 4.414, 0.793, 2.426), (2.0, 1.0, 1.0, 3.0), (0.1, 50.0, 5.0, 0.3)]:
        series = _alive_expectation(params, t, x, T)
        quad = np.exp(_log_alive_expectation_quad(params, t, x, T))
        np.testing.assert_allclose(series, quad, rtol=1e-9)


def test_frames_and_errors(bg: BetaGeoModel, cdnow_cal: pl.DataFrame) -> None:
    out = bg.expected_purchases(cdnow_cal, 39)
    assert out.columns == ["customer_id", "expected_purchases"]
    assert out["customer_id"].to_list() == cdnow_cal["customer_id"].to_list()
    assert bg.probability_alive(cdnow_cal).columns == ["customer_id", "p_alive"]
    # the population formula is the conditional one for a customer with no history
    brand_new = pl.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]})
    assert bg.expected_purchases(brand_new, 39)["expected_purchases"][0] == pytest.approx(
        bg.expected_purchases_new_customer(39)["expected_purchases"][0], rel=1e-12)
    with pytest.raises(ValueError, match="horizon"):
        bg.expected_purchases(cdnow_cal, -1)
    with pytest.raises(ValueError, match="n must be"):
        bg.probability_of_n_purchases(-1, 39)
    assert "BetaGeoModel(fitted" in repr(bg)


def test_large_data_path_gives_the_same_fit(cdnow_cal: pl.DataFrame, monkeypatch) -> None:
    """Above WARM_START_ROWS distinct rows: warm start on a subset, forward-difference Hessian."""
    from workbench.models.clv import _fit

    direct = BetaGeoModel().fit(cdnow_cal)
    monkeypatch.setattr(_fit, "WARM_START_ROWS", 800)
    warm = BetaGeoModel().fit(cdnow_cal)
    for name, value in direct.params_.items():
        assert warm.params_[name] == pytest.approx(value, rel=1e-5), name
    assert warm.log_likelihood_ == pytest.approx(direct.log_likelihood_, abs=1e-6)
    for name, se in direct.standard_errors_.items():
        assert warm.standard_errors_[name] == pytest.approx(se, rel=1e-2), name


def test_analytic_gradient_matches_central_differences(cdnow_cal: pl.DataFrame) -> None:
    # the gradient of bgnbd_total_loglik (FHL 2005 eq. 6, digamma terms) against Richardson-
    # extrapolated central differences, at the optimum and away from it
    from workbench.models.clv._fit import group_rows
    from workbench.models.clv.bgnbd import bgnbd_sufficient_stats, bgnbd_total_loglik

    stats, w = group_rows({c: cdnow_cal[c].to_numpy().astype(float)
                           for c in ("frequency", "recency", "T")}, None)
    suff = bgnbd_sufficient_stats(stats["frequency"], stats["recency"], stats["T"], w)
    for params in [(0.243, 4.414, 0.793, 2.426), (1.5, 0.3, 3.0, 0.2), (0.05, 40.0, 2e3, 5e4)]:
        lp = np.log(params)
        _, grad = bgnbd_total_loglik(lp, suff, True)
        num = [(4 * _central(suff, lp, 1e-3, k) - _central(suff, lp, 2e-3, k)) / 3
               for k in range(4)]
        # achieved: 3e-10 relative at the first two points; at a + b = 5.2e4 the value's
        # betaln differences carry ~1e-8 of rounding noise, 1e-5 after differencing
        np.testing.assert_allclose(grad, num, rtol=1e-7, atol=5e-5)


def _central(suff: dict, lp: np.ndarray, h: float, k: int) -> float:
    from workbench.models.clv.bgnbd import bgnbd_total_loglik

    e = np.zeros(4)
    e[k] = h
    return (bgnbd_total_loglik(lp + e, suff, False)[0]
            - bgnbd_total_loglik(lp - e, suff, False)[0]) / (2 * h)
