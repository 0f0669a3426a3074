"""Tests written against the mutants of ``clv/bgnbd.py`` and ``clv/gammagamma.py`` that survived
``bench/mutation_test.py`` (30 sampled mutants each, seed 1).

Each test asserts values with a reason that does not come from the code under test: FHL 2005
eq. (8) and eq. (10) evaluated with ``mpmath`` at 30 digits, central differences of the
log-likelihood, closed forms of Fader & Hardie's Gamma-Gamma note (2013, eq. 5), and the
documented behaviour of the independence check (defaults, which customers it uses).
"""

from __future__ import annotations

import dataclasses
import warnings

import mpmath as mp
import numpy as np
import polars as pl
import pytest

from workbench.models.clv import (
    BetaGeoModel,
    GammaGammaAssumptionWarning,
    GammaGammaModel,
    NotEnoughDataError,
    check_spend_frequency_independence,
)
from workbench.models.clv.bgnbd import _alive_expectation
from workbench.models.clv.gammagamma import gamma_gamma_row_loglik

#: FHL 2005 Table 1 (CDNOW, weeks): the published BG/NBD estimates, used as fixed inputs.
FHL = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _bg(params: dict[str, float]) -> BetaGeoModel:
    m = BetaGeoModel()
    m.params_ = dict(params)
    return m


def _ref_pmf(r: float, al: float, a: float, b: float, n: int, t: float) -> float:
    """FHL 2005 eq. (8) at 30 digits."""
    with mp.workdps(30):
        r, al, a, b, t = (mp.mpf(v) for v in (r, al, a, b, t))
        nb = (
            mp.gamma(r + n)
            / (mp.gamma(r) * mp.factorial(n))
            * (al / (al + t)) ** r
            * (t / (al + t)) ** n
        )
        out = mp.beta(a, b + n) / mp.beta(a, b) * nb
        if n > 0:
            tail = 1 - sum(
                mp.gamma(r + j)
                / (mp.gamma(r) * mp.factorial(j))
                * (al / (al + t)) ** r
                * (t / (al + t)) ** j
                for j in range(n)
            )
            out += mp.beta(a + 1, b + n - 1) / mp.beta(a, b) * tail
        return float(out)


def _ref_G(r: float, al: float, a: float, b: float, x: float, T: float, t: float) -> float:
    """FHL 2005 eq. (10) without its P(alive) factor, with ``mpmath.hyp2f1`` at 30 digits."""
    with mp.workdps(30):
        r, al, a, b, x, T, t = (mp.mpf(v) for v in (r, al, a, b, x, T, t))
        return float(
            (a + b + x - 1)
            / (a - 1)
            * (
                1
                - ((al + T) / (al + T + t)) ** (r + x)
                * mp.hyp2f1(r + x, b + x, a + b + x - 1, t / (al + T + t))
            )
        )


# ----------------------------------------------------------------------------- BG/NBD


def test_pmf_on_the_betaln_path_matches_eq8() -> None:
    # a count above 100,000 in the batch sends every count through the betaln branch of
    # _log_beta_ratios (the product branch is checked by the lifetimes comparison)
    m = _bg(FHL)
    n = np.array([0, 1, 2, 5, 150_000])
    got = m.probability_of_n_purchases_array(n, 39.0)
    for k, value in zip(n[:4], got[:4], strict=True):
        # achieved: 3e-15 relative
        assert value == pytest.approx(_ref_pmf(*FHL.values(), int(k), 39.0), rel=1e-12), k
    assert 0 <= got[4] < 1e-300


def test_pmf_at_time_zero_is_a_point_mass_at_zero() -> None:
    # X(0) = 0 surely: P(X(0) = 0) = 1 and P(X(0) = n) = 0 for n >= 1 (eq. 8 at t = 0)
    m = _bg(FHL)
    got = m.probability_of_n_purchases_array(np.array([0, 1, 2, 3]), 0.0)
    assert got.tolist() == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ((0.1, 50.0, 5.0, 0.3), "series"),  # log-odds spread 1.88 > 1.5, C = 4.3
        ((0.5, 2.0, 0.3, 0.1), "quadrature"),  # C = a + b - 1 = -0.6 < 0.5
        ((0.243, 4.414, 0.01, 0.3), "small a"),  # a < 0.05
        ((0.243, 4.414, 0.793, 2.426), "log-odds"),  # spread 1.29 <= 1.5
    ],
)
def test_conditional_expectation_on_each_path_matches_eq10(params: tuple, path: str) -> None:
    x = np.array([0.0, 0.0, 2.0, 1.0])
    T = np.array([10.0, 0.0, 30.0, 77.0])
    t = np.array([39.0, 1.0, 52.0, 5.0])
    # only the x = 0 rows take the named path for the first three parameter sets
    got = _alive_expectation(params, t, x, T)
    ref = [_ref_G(*params, xi, Ti, ti) for xi, Ti, ti in zip(x, T, t, strict=True)]
    # achieved: below 1e-12 relative on every path
    np.testing.assert_allclose(got, ref, rtol=1e-10, err_msg=path)


def test_zero_horizon_gives_zero_without_warnings() -> None:
    # E[Y(0)] = 0 exactly; a zero horizon must not reach log(0) on any path
    s = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "frequency": [0, 3, 1],
            "recency": [0.0, 8.0, 2.0],
            "T": [10.0, 10.0, 0.0 + 2.0],
        }
    )
    for params in (
        FHL,
        {"r": 0.1, "alpha": 50.0, "a": 5.0, "b": 0.3},
        {"r": 0.243, "alpha": 4.414, "a": 0.01, "b": 0.3},
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = _bg(params).predict(s, 0.0)
            new = _bg(params).expected_purchases_new_customer_array([0.0, 0.0])
        assert out["expected_purchases"].to_list() == [0.0, 0.0, 0.0]
        assert new.tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------------- Gamma-Gamma


def _spend(f: list[float], m: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"customer_id": [f"c{i}" for i in range(len(f))], "frequency": f, "monetary_value": m}
    )


def test_independence_check_defaults_and_result_is_frozen() -> None:
    s = _spend([1, 2, 3, 4, 5], [3.0, 1.0, 2.0, 1.0, 3.0])
    res = check_spend_frequency_independence(s)
    # the documented defaults
    assert res.threshold == 0.3 and res.alpha == 0.05
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.violated = True  # type: ignore[misc]
    assert hash(res) == hash(dataclasses.replace(res))


def test_independence_check_boundaries() -> None:
    # a symmetric spend pattern: Pearson and Spearman correlations are exactly 0 (the
    # deviations of frequency, -2..2, against m = (a, b, c, b, a) sum to 0), p-values 1
    s = _spend([1, 2, 3, 4, 5], [3.0, 1.0, 2.0, 1.0, 3.0])
    res = check_spend_frequency_independence(s, alpha=1.0)
    assert res.pearson == 0.0 and res.spearman == 0.0
    assert res.pearson_p_value == 1.0 and res.spearman_p_value == 1.0
    # "significant at alpha" is p < alpha: p = 1 is not significant at alpha = 1
    assert not res.violated
    # threshold 0 is allowed: any correlation at all exceeds it
    with pytest.warns(GammaGammaAssumptionWarning):
        zero = check_spend_frequency_independence(
            _spend([1, 2, 3], [1.0, 3.0, 2.0]), threshold=0.0, alpha=1e-9
        )
    assert zero.violated and zero.pearson == pytest.approx(0.5, rel=1e-12)


def test_independence_check_uses_repeat_customers_only() -> None:
    # one-time buyers (frequency 0) with a spend are left out, as are zero spends
    s = _spend([0, 0, 1, 2, 3, 4, 5], [50.0, 7.0, 3.0, 1.0, 2.0, 1.0, 3.0])
    res = check_spend_frequency_independence(s, alpha=1.0)
    assert res.n_customers == 5 and res.pearson == 0.0
    s0 = _spend([1, 2, 3, 4, 5, 6], [3.0, 1.0, 2.0, 1.0, 3.0, 0.0])
    assert check_spend_frequency_independence(s0, alpha=1.0).n_customers == 5


def test_independence_check_needs_three_varying_customers() -> None:
    with pytest.raises(NotEnoughDataError, match="found 2"):
        check_spend_frequency_independence(_spend([1, 2], [1.0, 2.0]))
    with pytest.raises(NotEnoughDataError, match="found 3"):  # frequency constant
        check_spend_frequency_independence(_spend([2, 2, 2], [1.0, 2.0, 4.0]))
    with pytest.raises(NotEnoughDataError, match="found 3"):  # spend constant
        check_spend_frequency_independence(_spend([1, 2, 3], [5.0, 5.0, 5.0]))
    # a range of exactly 1 in either column is enough variation
    res = check_spend_frequency_independence(
        _spend([1, 2, 1, 2], [10.0, 11.0, 11.0, 10.0]), alpha=1.0
    )
    assert res.n_customers == 4 and res.pearson == 0.0


def test_gamma_gamma_gradient_matches_central_differences() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(1, 15, 200).astype(float)
    m = rng.gamma(3.0, 10.0, 200)
    for params in [(6.25, 3.74, 15.44), (0.5, 1.2, 300.0), (40.0, 20.0, 2.0)]:
        lp = np.log(params)
        _, grad = gamma_gamma_row_loglik(lp, x, m, want_grad=True)
        total_grad = np.array([g.sum() for g in grad])
        num = []
        for k in range(3):
            e = np.zeros(3)
            e[k] = 1e-5
            up = gamma_gamma_row_loglik(lp + e, x, m)[0].sum()
            down = gamma_gamma_row_loglik(lp - e, x, m)[0].sum()
            num.append((up - down) / 2e-5)
        # achieved: about 1e-9 relative (central differences, step 1e-5)
        np.testing.assert_allclose(total_grad, num, rtol=1e-6)


def test_gamma_gamma_q_at_most_one_is_diagnosed_not_degenerate() -> None:
    # spend per purchase so heavy-tailed that q <= 1 fits: the parameters are identified
    # (not a degenerate fit), only the population mean is infinite
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.integers(1, 8, n)
    nu = rng.gamma(0.6, 1.0 / 20.0, n)
    m = rng.gamma(2.0 * x, 1.0 / (nu * x))
    with pytest.warns(GammaGammaAssumptionWarning, match="q = "):
        gg = GammaGammaModel().fit(_spend(x.tolist(), m.tolist()))
    assert gg.params_["q"] <= 1
    assert gg.is_degenerate is False
    assert any("q = " in d for d in gg.diagnosis)


def test_expected_spend_defined_for_q_between_one_and_two() -> None:
    # eq. 5 exists whenever p x + q > 1: with q = 1.5 a one-time buyer gets p gamma / (q - 1)
    gg = GammaGammaModel()
    gg.params_ = {"p": 2.0, "q": 1.5, "gamma": 10.0}
    out, undefined = gg.expected_spend_or_null(np.array([0.0, 2.0]), np.array([0.0, 7.0]))
    assert not undefined.any()
    assert out.tolist() == [2.0 * 10.0 / 0.5, 2.0 * (10.0 + 14.0) / (4.0 + 0.5)]


def test_gamma_gamma_row_loglik_is_the_mixture_density() -> None:
    # the mean of x Gamma(p, nu) spends is Gamma(p x, rate nu x); nu ~ Gamma(q, rate gamma):
    # the row log-likelihood is the log of that mixture, integrated here over nu with mpmath
    p, q, g = 6.25, 3.74, 15.44  # Fader, Hardie & Lee (2005b), CDNOW
    x = np.array([1.0, 2.0, 7.0, 30.0])
    m = np.array([12.5, 40.0, 3.2, 101.0])
    got, _ = gamma_gamma_row_loglik(np.log([p, q, g]), x, m)
    with mp.workdps(30):
        for xi, mi, value in zip(x, m, got, strict=True):
            shape = mp.mpf(p) * xi

            def dens(nu, shape=shape, xi=xi, mi=mi):  # noqa: ANN001, ANN202
                rate = nu * xi
                return (
                    rate**shape
                    * mp.mpf(mi) ** (shape - 1)
                    * mp.exp(-rate * mi)
                    / mp.gamma(shape)
                    * g**q
                    * nu ** (q - 1)
                    * mp.exp(-g * nu)
                    / mp.gamma(q)
                )

            ref = mp.log(mp.quad(dens, [0, 0.01, 0.1, 1, 10, mp.inf]))
            # achieved: 1e-15 absolute
            assert value == pytest.approx(float(ref), abs=1e-10), (xi, mi)


def test_expected_spend_of_repeat_buyer_with_zero_spend_is_the_population_mean() -> None:
    # documented in expected_spend_or_null: m <= 0 carries no spend information, so the
    # customer gets the prior mean p gamma / (q - 1) (eq. 5 at x = 0), not p gamma / (p x + q - 1)
    gg = GammaGammaModel()
    gg.params_ = {"p": 2.0, "q": 3.0, "gamma": 10.0}
    out, undefined = gg.expected_spend_or_null(np.array([3.0, 3.0]), np.array([0.0, -5.0]))
    assert not undefined.any()
    assert out.tolist() == [2.0 * 10.0 / 2.0, 2.0 * 10.0 / 2.0]


# ------------------------------------------------- BG/NBD: interpolation of G in log tau


def _count_exact_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many rows each call of the exact ``_alive_expectation`` evaluates."""
    from workbench.models.clv import bgnbd

    sizes: list[int] = []
    exact = bgnbd._alive_expectation

    def counting(params, t, x, T):  # noqa: ANN001, ANN202
        sizes.append(int(np.size(np.broadcast_arrays(t, x, T)[0])))
        return exact(params, t, x, T)

    monkeypatch.setattr(bgnbd, "_alive_expectation", counting)
    return sizes


@pytest.mark.parametrize(
    "params",
    [(0.243, 4.414, 0.793, 2.426), (0.1, 50.0, 5.0, 0.3), (0.243, 4.414, 0.01, 0.3)],
)
def test_interpolated_expectation_equals_the_exact_one(params: tuple, monkeypatch) -> None:
    from workbench.models.clv.bgnbd import _alive_expectation, _alive_expectation_smooth

    rng = np.random.default_rng(8)
    n = 3000
    x = rng.choice([0.0, 1.0, 4.0, 30.0], n)
    T = rng.uniform(0.0, 80.0, n)
    t = np.where(rng.random(n) < 0.02, 0.0, rng.choice([1.0, 13.0, 39.0, 52.0, 400.0], n))
    exact = _alive_expectation(params, t, x, T)
    sizes = _count_exact_rows(monkeypatch)
    got = _alive_expectation_smooth(params, t, x, T)
    # the interpolant is checked to 1e-11 at its test points (docstring); achieved: 1.3e-13
    np.testing.assert_allclose(got, exact, rtol=1e-10)
    assert np.all(got[t == 0] == 0.0)
    # four frequencies of about 750 rows each: G is evaluated exactly at the Chebyshev and
    # check points only (a few dozen per frequency), not row by row
    assert sum(sizes) < n / 4, sizes


def test_few_rows_of_a_frequency_are_evaluated_exactly(monkeypatch) -> None:
    from workbench.models.clv.bgnbd import (
        _SMOOTH_MIN_ROWS,
        _alive_expectation,
        _alive_expectation_smooth,
    )

    params = (0.243, 4.414, 0.793, 2.426)
    n = _SMOOTH_MIN_ROWS - 1
    x = np.full(n, 2.0)
    T = np.linspace(1.0, 70.0, n)
    t = np.full(n, 39.0)
    exact = _alive_expectation(params, t, x, T)
    sizes = _count_exact_rows(monkeypatch)
    got = _alive_expectation_smooth(params, t, x, T)
    assert sizes == [n]
    assert got.tolist() == exact.tolist()
