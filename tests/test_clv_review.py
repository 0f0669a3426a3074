"""A sceptical reviewer's first checks of the BG/NBD and Gamma-Gamma fits on CDNOW.

Already covered elsewhere (not repeated here): the analytic BG/NBD gradient against
Richardson-extrapolated central differences and the published FHL 2005 estimates to three
decimals (``tests/test_clv_bgnbd.py``), the Gamma-Gamma estimates against the published ones
and against ``lifetimes`` (``tests/test_clv_gammagamma.py``).  This file adds what those do not
check:

* standard errors against ``lifetimes`` fitted here, in the same run, on the same data (the
  BG/NBD test in ``test_clv_bgnbd.py`` compares with numbers copied from an earlier run);
* the P(alive) matrix against a computation that does not use the closed form the code uses:
  Bayes' rule on the two terms of the FHL 2005 eq. (6) likelihood, at 30 digits with mpmath,
  and ``lifetimes``' ``conditional_probability_alive``;
* invariances a correct fit must have: the time unit only rescales ``alpha`` (and the
  log-likelihood by a known constant), and the row order changes nothing.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import polars as pl
import pytest

from workbench.models.clv import BetaGeoModel, GammaGammaModel, p_alive_matrix

#: FHL 2005 Table 1 (CDNOW, weeks); fixed inputs for the P(alive) checks.
FHL = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cal(cdnow_calibration: pl.DataFrame) -> pl.DataFrame:
    return cdnow_calibration


@pytest.fixture(scope="module")
def bg(cal: pl.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(cal)


def _p_alive_bayes(r: float, al: float, a: float, b: float, x: int, tx: float, T: float):
    """P(alive at T) as the share of the likelihood (FHL 2005 eq. 6) in which the customer has
    not dropped out after the x-th purchase: ``L_alive / (L_alive + L_dropped)`` with
    ``L_alive = B(a, b+x)/B(a, b) Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))`` and
    ``L_dropped = [x > 0] B(a+1, b+x-1)/B(a, b) Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))``
    (FHL 2005, derivation of eq. 6: dropout right after the x-th purchase at t_x)."""
    with mp.workdps(30):
        r, al, a, b, tx, T = (mp.mpf(v) for v in (r, al, a, b, tx, T))
        common = mp.gamma(r + x) * al**r / mp.gamma(r)
        alive = mp.beta(a, b + x) / mp.beta(a, b) * common / (al + T) ** (r + x)
        dropped = (
            mp.beta(a + 1, b + x - 1) / mp.beta(a, b) * common / (al + tx) ** (r + x)
            if x > 0
            else mp.mpf(0)
        )
        return float(alive / (alive + dropped))


def test_p_alive_matrix_equals_bayes_rule_on_the_likelihood() -> None:
    model = BetaGeoModel()
    model.params_ = dict(FHL)
    m = p_alive_matrix(model, max_frequency=12, max_recency=39)
    assert m.height == 1 + 12 * 40
    ref = [
        _p_alive_bayes(*FHL.values(), int(x), tx, T)
        for x, tx, T in m.select("frequency", "recency", "T").iter_rows()
    ]
    # achieved: 6e-15 relative
    np.testing.assert_allclose(m["p_alive"].to_numpy(), ref, rtol=1e-13)
    # a few cells by hand, from the same 30-digit computation, with the reason they are known:
    cell = {(x, tx): p for x, tx, p in m.select("frequency", "recency", "p_alive").iter_rows()}
    assert cell[(0, 0.0)] == 1.0  # no repeat purchase: the model has no dropout opportunity
    # bought last at T (recency = T = 39): only a dropout right after that purchase counts,
    # P(alive) = 1 / (1 + a/(b+x-1)) exactly
    for x in (1, 2, 7):
        assert cell[(x, 39.0)] == pytest.approx(1 / (1 + FHL["a"] / (FHL["b"] + x - 1)), rel=1e-14)


def test_p_alive_matrix_agrees_with_lifetimes(bg: BetaGeoModel) -> None:
    lifetimes = pytest.importorskip("lifetimes")
    import pandas as pd

    lf = lifetimes.BetaGeoFitter()
    lf.params_ = pd.Series(bg.params_)
    m = p_alive_matrix(bg, max_frequency=20, max_recency=52, T=60.0)
    theirs = lf.conditional_probability_alive(
        m["frequency"].to_numpy(), m["recency"].to_numpy(), m["T"].to_numpy()
    )
    # achieved: 1.4e-14 relative (the same closed form, evaluated differently)
    np.testing.assert_allclose(m["p_alive"].to_numpy(), np.asarray(theirs), rtol=1e-12)


def test_standard_errors_agree_with_lifetimes_fitted_now(
    bg: BetaGeoModel, cal: pl.DataFrame
) -> None:
    lifetimes = pytest.importorskip("lifetimes")

    d = cal.select("frequency", "recency", "T").to_pandas()
    lf = lifetimes.BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    # the estimates first: both maximise the same likelihood; achieved: 5.6e-7 relative (b)
    for k in ("r", "alpha", "a", "b"):
        assert bg.params_[k] == pytest.approx(float(lf.params_[k]), rel=1e-5), k
    # standard errors from the observed information (lifetimes: autograd Hessian at its own
    # optimum); achieved: 5.5e-7 absolute at most (on b), i.e. equal to 5 decimals
    for k in ("r", "alpha", "a", "b"):
        assert bg.standard_errors_[k] == pytest.approx(float(lf.standard_errors_[k]), abs=5e-6), k


def test_gamma_gamma_standard_errors_agree_with_lifetimes(cal: pl.DataFrame) -> None:
    lifetimes = pytest.importorskip("lifetimes")

    gg = GammaGammaModel().fit(cal)
    rep = cal.filter(pl.col("frequency") > 0).to_pandas()
    lf = lifetimes.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    for ours, theirs in (("p", "p"), ("q", "q"), ("gamma", "v")):
        se = float(lf.standard_errors_[theirs])
        # achieved: 2.8e-8 relative (on p)
        assert gg.standard_errors_[ours] == pytest.approx(se, rel=1e-6), ours


def test_time_unit_only_rescales_alpha(bg: BetaGeoModel, cal: pl.DataFrame) -> None:
    # measuring time in days instead of weeks multiplies recency, T and the scale alpha by 7;
    # r, a, b are dimensionless.  The log-likelihood (a density in time for the purchase
    # times) changes by -x ln 7 per customer: -2,457 ln 7 on CDNOW
    days = BetaGeoModel().fit(cal.with_columns(pl.col("recency") * 7, pl.col("T") * 7))
    # achieved: 2e-14 relative on the parameters, 2e-12 absolute on the log-likelihood
    assert days.params_["alpha"] == pytest.approx(7 * bg.params_["alpha"], rel=1e-9)
    for k in ("r", "a", "b"):
        assert days.params_[k] == pytest.approx(bg.params_[k], rel=1e-9), k
    assert days.log_likelihood_ == pytest.approx(bg.log_likelihood_ - 2457 * np.log(7), abs=1e-8)


def test_row_order_changes_nothing(bg: BetaGeoModel, cal: pl.DataFrame) -> None:
    shuffled = cal.sample(fraction=1.0, shuffle=True, seed=5)
    again = BetaGeoModel().fit(shuffled)
    assert again.params_ == bg.params_  # bit for bit: the fit runs on sorted distinct rows
    assert again.log_likelihood_ == bg.log_likelihood_
    gg1 = GammaGammaModel().fit(cal)
    gg2 = GammaGammaModel().fit(shuffled)
    assert gg1.params_ == gg2.params_
