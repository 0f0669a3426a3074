"""Predictions against a 50-digit mpmath reference of the published formulas.

BG/NBD: Fader, Hardie & Lee (2005), eqs. (8)-(10) and P(alive); Gamma-Gamma: Fader, Hardie &
Lee (2005b) / Fader & Hardie (2013 note) eq. (5).  The reference evaluates eq. (10) with
``mpmath.hyp2f1`` where ``a + b + x <= 1e4``; above, where mpmath's ``2F1`` becomes very slow,
it integrates the Beta mixture from which eq. (10) is derived (``E_p[(1 - (1+p tau)^-(r+x))
/ p]``, ``p ~ Beta(a, b+x)``) with ``mpmath.quad``; both agree to 30 digits where both run.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from workbench.clv import BetaGeoModel, GammaGammaModel
from workbench.clv.bgnbd import _alive_expectation

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
            out += mp.beta(a + 1, b + n - 1) / mp.beta(a, b) * (1 - mp.fsum(nb[:n]))
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
            if a + b < 1e6:  # P(n): scipy's betaln loses digits beyond (see the report)
                for n in (0, 1, 5):
                    ref_n = float(ref_pmf(r, al, a, b, n, t))
                    if ref_n > 1e-250:
                        got_n = m.probability_of_n_purchases_array(n, t)
                        assert float(got_n) == pytest.approx(ref_n, rel=RTOL), (r, al, a, b, n)


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
