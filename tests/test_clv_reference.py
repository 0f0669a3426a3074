"""Predictions against a 50-digit mpmath reference of the published formulas.

BG/NBD: Fader, Hardie & Lee (2005), eqs. (8)-(10) and P(alive); Gamma-Gamma: Fader, Hardie &
Lee (2005b) / Fader & Hardie (2013 note) eq. (5); Pareto/NBD: Schmittlein, Morrison &
Colombo (1987) in the form of Fader & Hardie (2005), "A note on deriving the Pareto/NBD
model and related expressions", eqs. (18)-(20) (likelihood, ``A_0``), P(alive) (section 5.1)
and the conditional expectation eq. (41), with ``mpmath.hyp2f1``.  The BG/NBD reference
evaluates eq. (10) with ``mpmath.hyp2f1`` where ``a + b + x <= 1e4``; above, where mpmath's
``2F1`` becomes very slow, it integrates the Beta mixture from which eq. (10) is derived
(``E_p[(1 - (1+p tau)^-(r+x)) / p]``, ``p ~ Beta(a, b+x)``) with ``mpmath.quad``; both agree
to 30 digits where both run.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from workbench.models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from workbench.models.clv.bgnbd import _alive_expectation

mp = pytest.importorskip("mpmath")
mp.mp.dps = 50
RTOL = 1e-8


def _m(v: float):  # noqa: ANN202
    return mp.mpf(float(v))


def ref_G_2f1(r, al, a, b, x, T, t):  # noqa: ANN001, ANN201
    """FHL 2005 eq. (10) without its P(alive) denominator."""
    r, al, a, b, x, T, t = map(_m, (r, al, a, b, x, T, t))
    return (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x)
                                        * mp.hyp2f1(r + x, b + x, a + b + x - 1,
                                                    t / (al + T + t)))


def ref_G_mixture(r, al, a, b, x, T, t):  # noqa: ANN001, ANN201
    """The Beta mixture behind eq. (10), integrated in ``w = log p`` with breakpoints."""
    r, al, a, b, x, T, t = map(_m, (r, al, a, b, x, T, t))
    n, tau, B = r + x, t / (al + T), b + x
    lb = mp.log(mp.beta(a, B))
    wm = mp.log(a / (a + B))
    sw = mp.sqrt(1 / a + 1 / B)
    pts = {wm + k * sw for k in (-8, -2, 0, 2, 8)} | {wm - j / a for j in (1, 10, 60)}
    pts = sorted([w for w in pts if w < 0] + [mp.mpf(0)])

    def g(w):  # noqa: ANN001, ANN202
        if w >= 0:
            return mp.mpf(0)
        p = mp.exp(w)
        return (-mp.expm1(-n * mp.log1p(p * tau)) / p
                * mp.exp(a * w + (B - 1) * mp.log1p(-p) - lb))

    return mp.quad(g, [-mp.inf, *pts])


def ref_G(r, al, a, b, x, T, t):  # noqa: ANN001, ANN201
    if a + b + x <= 1e4:
        return ref_G_2f1(r, al, a, b, x, T, t)
    return ref_G_mixture(r, al, a, b, x, T, t)


def ref_p_alive(r, al, a, b, x, tx, T):  # noqa: ANN001, ANN201
    r, al, a, b, x, tx, T = map(_m, (r, al, a, b, x, tx, T))
    if x == 0:
        return mp.mpf(1)
    return 1 / (1 + a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x))


def ref_pmf(r, al, a, b, n, t):  # noqa: ANN001, ANN201
    """FHL 2005 eq. (8)."""
    r, al, a, b, t = map(_m, (r, al, a, b, t))
    with mp.workdps(80):
        nb = [mp.gamma(r + j) / (mp.gamma(r) * mp.factorial(j)) * (al / (al + t)) ** r
              * (t / (al + t)) ** j for j in range(n + 1)]
        out = mp.beta(a, b + n) / mp.beta(a, b) * nb[n]
        if n > 0:
            # NBD tail: 1 - sum_{j<n} NB(j) loses every digit when the tail is below
            # 10^-80; the regularised incomplete beta of mpmath does not
            tail = mp.betainc(n, r, 0, t / (al + t), regularized=True)
            out += mp.beta(a + 1, b + n - 1) / mp.beta(a, b) * tail
        return +out


def _grid(n: int, seed: int) -> list[tuple[float, ...]]:
    """Representative points: a + b in [1e-2, 1e8], r in [1e-3, 1e3], alpha in [1e-2, 1e4],
    x up to 5,000, T up to 3650 (days), t up to 3650."""
    rng = np.random.default_rng(seed)
    pts = [(0.2426, 4.4136, 5e4, 9.5e5, 0.0, 38.0, 39.0)]  # the issue's case
    while len(pts) < n:
        s = 10 ** rng.uniform(-2, 8)
        f = rng.uniform(0.05, 0.95)
        a, b = s * f, s * (1 - f)
        if abs(a - 1) < 1e-3:
            continue
        pts.append((10 ** rng.uniform(-3, 3), 10 ** rng.uniform(-2, 4), a, b,
                    float(rng.choice([0, 1, 3, 20, 300, 5000])),
                    float(rng.choice([0.0, 0.5, 38.0, 500.0, 3650.0])),
                    float(rng.choice([0.01, 1.0, 39.0, 365.0, 3650.0]))))
    return pts


def _check_G(points: list[tuple[float, ...]]) -> float:
    worst = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from a correct computation
        for r, al, a, b, x, T, t in points:
            got = _alive_expectation((r, al, a, b), np.array([t]), np.array([x]),
                                     np.array([T]))[0]
            ref = ref_G(r, al, a, b, x, T, t)
            err = abs(got - float(ref)) / float(ref)
            worst = max(worst, err)
            assert err < RTOL, ((r, al, a, b, x, T, t), got, ref)
    return worst


def test_issue_case_large_a_plus_b() -> None:
    m = BetaGeoModel()
    m.params_ = {"r": 0.2426, "alpha": 4.4136, "a": 5e4, "b": 9.5e5}
    got = m.expected_purchases_array(39.0, np.array([0.0]), np.array([0.0]), np.array([38.0]))
    ref = ref_G(0.2426, 4.4136, 5e4, 9.5e5, 0, 38, 39)
    assert got[0] == pytest.approx(float(ref), rel=RTOL)
    assert round(got[0], 5) == 0.21691
    new = m.expected_purchases_new_customer_array(np.array([39.0]))[0]
    assert new == pytest.approx(float(ref_G(0.2426, 4.4136, 5e4, 9.5e5, 0, 0, 39)), rel=RTOL)


def _small_a_grid(n: int, seed: int) -> list[tuple[float, ...]]:
    """Tiny ``a`` (the "no dropout" edge a degenerate fit runs to: monthly CDNOW gives
    a = 1.6e-5, b = 5759): most of the Beta mass lies below the smallest double."""
    rng = np.random.default_rng(seed)
    pts = [(0.5838, 5.944, 1.5835e-5, 5759.36, 0.0, 8.0, 9.0),  # monthly CDNOW's fit
           (0.5838, 5.944, 1.5835e-5, 5759.36, 5.0, 8.0, 9.0)]
    while len(pts) < n:
        pts.append((10 ** rng.uniform(-2, 1), 10 ** rng.uniform(-1, 3),
                    10 ** rng.uniform(-7, np.log10(0.049)), 10 ** rng.uniform(-1, 3.9),
                    float(rng.choice([0, 1, 3, 20, 300])),
                    float(rng.choice([0.5, 8.0, 38.0, 500.0])),
                    float(rng.choice([0.01, 1.0, 9.0, 39.0, 365.0]))))
    return pts


def test_conditional_expectation_for_tiny_a() -> None:
    """The regime the tanh-sinh rule in ``p`` missed (it returned 0.159 for monthly CDNOW's
    new customer, where the value is 0.3768: -40 % on the holdout instead of +41 %)."""
    _check_G(_small_a_grid(30, seed=5))
    m = BetaGeoModel()
    m.params_ = {"r": 0.5838, "alpha": 5.944, "a": 1.5835e-5, "b": 5759.36}
    got = m.expected_purchases_array(9.0, np.array([0.0]), np.array([0.0]), np.array([8.0]))
    assert got[0] == pytest.approx(float(ref_G(0.5838, 5.944, 1.5835e-5, 5759.36, 0, 8, 9)),
                                   rel=RTOL)


def test_references_agree_where_both_run() -> None:
    for c in [(0.243, 4.414, 0.793, 2.426, 3, 20, 39), (0.5, 10.0, 30.0, 400.0, 5, 40, 300),
              (2.0, 1.0, 1500.0, 3000.0, 20, 100, 52)]:
        assert abs(ref_G_2f1(*c) / ref_G_mixture(*c) - 1) < 1e-30


def test_conditional_expectation_grid() -> None:
    _check_G(_grid(40, seed=1))


@pytest.mark.slow
def test_conditional_expectation_wide_grid() -> None:
    _check_G(_grid(300, seed=7))


def test_p_alive_and_pmf_grid() -> None:
    rng = np.random.default_rng(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for r, al, a, b, x, T, t in _grid(30, seed=3):
            m = BetaGeoModel()
            m.params_ = {"r": r, "alpha": al, "a": a, "b": b}
            tx = float(rng.uniform(0, T)) if x > 0 else 0.0
            got = m.p_alive_array(np.array([x]), np.array([tx]), np.array([T]))[0]
            ref = float(ref_p_alive(r, al, a, b, x, tx, T))
            assert got == pytest.approx(ref, rel=RTOL), (r, al, a, b, x, tx, T)
                    # P(n) for every a + b, 1e6 and beyond included (products of ratios)
            for n in (0, 1, 5):
                ref_n = float(ref_pmf(r, al, a, b, n, t))
                if ref_n > 1e-250:
                    got_n = m.probability_of_n_purchases_array(n, t)
                    assert float(got_n) == pytest.approx(ref_n, rel=RTOL, abs=0), (r, al, a, b, n)


def test_gamma_gamma_expected_spend() -> None:
    rng = np.random.default_rng(4)
    for _ in range(50):
        p, q, g = 10 ** rng.uniform(-2, 3), 1 + 10 ** rng.uniform(-3, 3), 10 ** rng.uniform(-2, 4)
        x, mval = float(rng.integers(0, 5000)), 10 ** rng.uniform(-2, 4)
        gg = GammaGammaModel()
        gg.params_ = {"p": p, "q": q, "gamma": g}
        got = gg.expected_spend_array(np.array([x]), np.array([mval]))[0]
        P, Q, G, X, Mv = map(_m, (p, q, g, x, mval))
        ref = P * (G + Mv * X) / (P * X + Q - 1)
        assert got == pytest.approx(float(ref), rel=RTOL)


def ref_pnbd(r, al, s, be, x, tx, T, t):  # noqa: ANN001, ANN201
    """Pareto/NBD P(alive) and E[Y(t) | x, t_x, T], FH 2005 note eqs. (18)-(20), (41)."""
    r, al, s, be, x, tx, T, t = map(_m, (r, al, s, be, x, tx, T, t))
    big, small = (al, be) if al >= be else (be, al)
    b2 = s + 1 if al >= be else r + x

    def F(y):  # noqa: ANN001, ANN202
        return mp.hyp2f1(r + s + x, b2, r + s + x + 1, (big - small) / (big + y)) \
            / (big + y) ** (r + s + x)

    a0 = F(tx) - F(T)
    odds = s / (r + s + x) * (al + T) ** (r + x) * (be + T) ** s * a0
    p_alive = 1 / (1 + odds)
    if s == 1:
        bracket = (be + T) * mp.log((be + T + t) / (be + T))
    else:
        bracket = (be + T) / (s - 1) * (1 - ((be + T) / (be + T + t)) ** (s - 1))
    return p_alive, p_alive * (r + x) / (al + T) * bracket


def _pnbd_grid(n: int, seed: int) -> list[tuple[float, ...]]:
    """r, s in [1e-2, 1e2], alpha, beta in [1e-1, 1e4] (both orders), x up to 300, T up to
    3650 (days), t_x anywhere in [0, T], t up to 3650."""
    rng = np.random.default_rng(seed)
    pts = [(0.55, 10.58, 0.61, 11.67, 2.0, 30.43, 38.86, 39.0),  # FH 2005 note CDNOW fit
           (0.55, 10.58, 0.61, 11.67, 0.0, 0.0, 38.86, 39.0)]
    while len(pts) < n:
        r, s = 10 ** rng.uniform(-2, 2, 2)
        al, be = 10 ** rng.uniform(-1, 4, 2)
        x = float(rng.choice([0, 1, 3, 20, 300]))
        T = float(rng.choice([0.5, 38.0, 500.0, 3650.0]))
        tx = 0.0 if x == 0 else float(rng.uniform(0, T))
        pts.append((r, al, s, be, x, tx, T, float(rng.choice([1.0, 39.0, 365.0, 3650.0]))))
    return pts


def test_pareto_nbd_p_alive_and_conditional_expectation() -> None:
    worst_p = worst_e = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from a correct computation
        for r, al, s, be, x, tx, T, t in _pnbd_grid(40, seed=12):
            m = ParetoNBDModel()
            m.params_ = {"r": r, "alpha": al, "s": s, "beta": be}
            args = (np.array([x]), np.array([tx]), np.array([T]))
            ref_p, ref_e = (float(v) for v in ref_pnbd(r, al, s, be, x, tx, T, t))
            got_p = m.p_alive_array(*args)[0]
            got_e = m.expected_purchases_array(t, *args)[0]
            worst_p = max(worst_p, abs(got_p / ref_p - 1))
            worst_e = max(worst_e, abs(got_e / ref_e - 1))
            assert got_p == pytest.approx(ref_p, rel=RTOL, abs=0), (r, al, s, be, x, tx, T)
            assert got_e == pytest.approx(ref_e, rel=RTOL, abs=0), (r, al, s, be, x, tx, T, t)
    # achieved on this grid: 3.5e-13 for both (RTOL 1e-8 is the issue's requirement)
    assert worst_p < 1e-11 and worst_e < 1e-11


def test_bgnbd_pmf_large_a_plus_b() -> None:
    # a + b from 1e6 to 1e9: the Beta ratios of eq. (8) as products of ratios
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for r, al, a, b in [(0.2426, 4.4136, 5e4, 9.5e5), (0.5, 10.0, 3e5, 7e6),
                            (2.0, 1.0, 1e7, 9e7), (0.1, 100.0, 2.0, 1e9)]:
            m = BetaGeoModel()
            m.params_ = {"r": r, "alpha": al, "a": a, "b": b}
            for n in (0, 1, 2, 5, 40):
                for t in (1.0, 39.0, 3650.0):
                    ref = float(ref_pmf(r, al, a, b, n, t))
                    got = float(m.probability_of_n_purchases_array(n, t))
                    # achieved: 6e-15
                    assert got == pytest.approx(ref, rel=1e-12, abs=0), (r, al, a, b, n, t)
