"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting your customers' the easy
way: an alternative to the Pareto/NBD model", *Marketing Science* 24(2), 275-284
(below: FHL 2005).  While active, a customer buys as a Poisson process with rate
``lambda ~ Gamma(r, alpha)``; after each purchase she becomes inactive with probability
``p ~ Beta(a, b)``.  Time is in the unit of the customer summary (``recency`` and ``T``,
e.g. weeks); ``alpha`` is in that unit, ``r``, ``a``, ``b`` are dimensionless.

Inputs per customer: ``frequency`` ``x`` (repeat purchases), ``recency`` ``t_x`` (time of
the last purchase since the first) and ``T`` (time since the first purchase).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.special import betainc, betaln, digamma, exprel, gammaln, log_expit, logsumexp

from workbench.models.clv._fit import (
    FloatArray,
    as_horizon,
    history_rows,
    id_frame,
    maximize_likelihood,
    unique_inverse,
    warm_start,
    warm_start_rows,
)
from workbench.models.clv._purchase import SUMMARY_COLUMNS as _COLS
from workbench.models.clv._purchase import PurchaseModelBase
from workbench.models.clv._special import log_integrate_unit


def bgnbd_total_loglik(
    log_params: FloatArray, stats: dict[str, FloatArray], want_grad: bool
) -> tuple[float, FloatArray | None]:
    """Weighted total BG/NBD log-likelihood, FHL 2005 eq. (6), on sufficient statistics.

    Per customer ``log L = ln Gamma(r+x) - ln Gamma(r) + r ln alpha + ln(A1 + A2)`` with
    ``A1 = B(a, b+x)/B(a, b) (alpha+T)^-(r+x)`` and, for ``x > 0``,
    ``A2 = B(a+1, b+x-1)/B(a, b) (alpha+t_x)^-(r+x)``; the gradient is analytic (digamma
    functions) and taken with respect to ``(ln r, ln alpha, ln a, ln b)``.

    ``stats`` comes from :func:`bgnbd_sufficient_stats`.  Customers with ``x = 0`` have
    ``ln L = ln Gamma-terms - r ln(alpha + T)`` and are summed per distinct ``T``.  For
    ``x > 0`` the row term ``ln(A1 + A2)`` needs one ``logaddexp`` per distinct
    ``(x, t_x, T)`` row, but ``ln A1`` depends only on the pair ``(x, T)`` and ``ln A2`` only on
    ``(x, t_x)``: they are computed per distinct pair and gathered, and the gradient is
    accumulated back per pair with ``bincount``.
    """
    r, alpha, a, b = np.exp(log_params)
    xu, wx = stats["xu"], stats["wx"]
    t0, w0 = stats["t0"], stats["w0"]
    p1x, p1T, p1i = stats["p1x"], stats["p1T"], stats["p1i"]
    p2x, p2t, p2i = stats["p2x"], stats["p2t"], stats["p2i"]
    w = stats["w"]
    log_a0 = np.log(alpha + t0)
    log_at = np.log(alpha + p1T)
    log_atx = np.log(alpha + p2t)
    # the beta-function ratios as products (no difference of large betaln values, which
    # loses digits at large a + b), as in the predictions: _log_beta_ratios
    l1p = _log_beta_ratios(a, b, p1x)[0] - (r + p1x) * log_at
    l2p = _log_beta_ratios(a, b, p2x)[1] - (r + p2x) * log_atx
    l1, l2 = l1p[p1i], l2p[p2i]
    # logaddexp and the mixing weight w2 = exp(l2 - lse) from one exponential
    d = l2 - l1
    e = np.exp(-np.abs(d))
    lse = np.maximum(l1, l2) + np.log1p(e)
    lg = gammaln(r + xu) - gammaln(r) + r * np.log(alpha)
    total = float(np.dot(wx, lg)) - r * float(np.dot(w0, log_a0)) + float(np.dot(w, lse))
    if not want_grad:
        return total, None
    ww2 = w * np.where(d > 0, 1.0, e) / (1.0 + e)
    ww1 = w - ww2
    s1 = np.bincount(p1i, weights=ww1, minlength=p1x.size)
    s2 = np.bincount(p2i, weights=ww2, minlength=p2x.size)
    psi_ab = digamma(a + b)
    d_r = (float(np.dot(wx, digamma(r + xu) - digamma(r) + np.log(alpha)))
           - float(np.dot(w0, log_a0)) - float(np.dot(s1, log_at)) - float(np.dot(s2, log_atx)))
    d_alpha = (r / alpha * float(wx.sum()) - r * float(np.dot(w0, 1.0 / (alpha + t0)))
               - float(np.dot(s1, (r + p1x) / (alpha + p1T)))
               - float(np.dot(s2, (r + p2x) / (alpha + p2t))))
    psi_abx1 = digamma(a + b + p1x)
    psi_abx2 = digamma(a + b + p2x)
    d_a = (float(np.dot(s1, psi_ab - psi_abx1))
           + float(np.dot(s2, digamma(a + 1) - digamma(a) + psi_ab - psi_abx2)))
    d_b = (float(np.dot(s1, digamma(b + p1x) - psi_abx1 - digamma(b) + psi_ab))
           + float(np.dot(s2, digamma(b + p2x - 1) - psi_abx2 - digamma(b) + psi_ab)))
    return total, np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])


def bgnbd_sufficient_stats(x: FloatArray, t_x: FloatArray, T: FloatArray,
                           w: FloatArray) -> dict[str, FloatArray]:
    """Sufficient statistics of distinct rows for :func:`bgnbd_total_loglik`.

    Weights per distinct ``x``; per distinct ``T`` of one-time buyers; and, for repeat
    buyers, the distinct ``(x, T)`` and ``(x, t_x)`` pairs with each row's pair index.
    """
    xu, xi = np.unique(x, return_inverse=True)
    wx = np.bincount(xi, weights=w, minlength=xu.size)
    zero = x == 0
    t0, ti = np.unique(T[zero], return_inverse=True)
    w0 = np.bincount(ti, weights=w[zero], minlength=t0.size)
    pos = ~zero
    xp, tp, Tp = x[pos], t_x[pos], T[pos]
    (p1x, p1T), p1i = unique_inverse([xp, Tp])
    (p2x, p2t), p2i = unique_inverse([xp, tp])
    return {"xu": xu, "wx": wx, "t0": t0, "w0": w0, "p1x": p1x, "p1T": p1T, "p1i": p1i,
            "p2x": p2x, "p2t": p2t, "p2i": p2i, "w": w[pos]}


def _log_p_alive_odds(params: Sequence[float], x: FloatArray, t_x: FloatArray,
                      T: FloatArray) -> FloatArray:
    """``log(a / (b + x - 1) ((alpha+T)/(alpha+t_x))^(r+x))`` for ``x > 0``, ``-inf`` else."""
    r, alpha, a, b = params
    out = np.full_like(x, -np.inf, dtype=float)
    pos = x > 0
    xp = x[pos]
    out[pos] = (np.log(a) - np.log(b + xp - 1)
                + (r + xp) * (np.log(alpha + T[pos]) - np.log(alpha + t_x[pos])))
    return out


#: Largest count for which :func:`_log_beta_ratios` sums the product of ratios.
_MAX_PRODUCT_TERMS = 100_000


def _log_beta_ratios(a: float, b: float, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``log B(a, b+n)/B(a, b)`` and ``log B(a+1, b+n-1)/B(a, b)`` (``n >= 1`` for the second).

    The coefficients of FHL 2005 eq. (8).  For integer ``n`` they are the products
    ``B(a, b+n)/B(a, b) = prod_{j<n} (b+j)/(a+b+j)`` and
    ``B(a+1, b+n-1)/B(a, b) = a/(a+b+n-1) prod_{j<n-1} (b+j)/(a+b+j)`` (from
    ``B(x, y) = Gamma(x) Gamma(y)/Gamma(x+y)`` and ``Gamma(y+1) = y Gamma(y)``), summed in
    log space as cumulative sums of ``log1p(-a/(a+b+j))``: no difference of large
    ``betaln`` values, which loses about ``eps * |betaln|`` (3e-9 relative at ``a + b =
    1e6``).  Counts above ``_MAX_PRODUCT_TERMS`` or not integer use ``betaln``.
    """
    n = np.asarray(n, dtype=float)
    n_max = float(n.max()) if n.size else 0.0
    if n_max <= _MAX_PRODUCT_TERMS and np.all(n == np.floor(n)) and np.all(n >= 0):
        j = np.arange(int(n_max) + 1, dtype=float)
        cum = np.concatenate([[0.0], np.cumsum(np.log1p(-a / (a + b + j)))])  # cum[k]: j < k
        k = n.astype(np.int64)
        first = cum[k]
        second = np.log(a) - np.log(a + b + np.maximum(n, 1.0) - 1) + cum[np.maximum(k - 1, 0)]
        return first, second
    lb = betaln(a, b)
    return betaln(a, b + n) - lb, betaln(a + 1, b + np.maximum(n, 1.0) - 1) - lb


#: Standard deviation of the log-odds of ``p ~ Beta(a, b + x)`` up to which the mixing
#: distribution counts as concentrated: ``E_p[.]`` is then integrated in the log-odds
#: (:func:`_log_alive_expectation_logit`).
_CONCENTRATED_SIGMA = 1.5
#: Largest ``C = a + b + x - 1`` and number of terms for which the Euler-transformed series
#: is used (above, ``C`` times a small bracket loses digits, or the series converges slowly).
_SERIES_MAX_C = 50.0
_SERIES_MAX_TERMS = 300
#: Nodes of the trapezoidal rule in the log-odds.
_LOGIT_NODES = 512


def _alive_expectation(params: Sequence[float], t: FloatArray, x: FloatArray,
                       T: FloatArray) -> FloatArray:
    """``E[Y(t) | alive at T, x, T]``: FHL 2005 eq. (10) without its P(alive) factor.

    ``G = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]``
    with ``z = t / (alpha+T+t)``; equivalently (the derivation of eq. 10) the mixture
    ``G = E_p[(1 - (1 + p tau)^-(r+x)) / p]`` with ``p ~ Beta(a, b+x)`` and
    ``tau = t / (alpha+T)``.  Three evaluations, chosen per row, all accurate to about
    1e-12 relative (checked against a 50-digit reference in ``tests/test_clv_reference.py``):

    * ``p`` concentrated (standard deviation of its log-odds ``sqrt(1/a + 1/(b+x))`` at most
      ``_CONCENTRATED_SIGMA``; this covers every large ``a + b``): the mixture integral in
      the log-odds of ``p``, :func:`_log_alive_expectation_logit`;
    * otherwise, when ``a + b + x - 1 <= _SERIES_MAX_C`` and the series below converges in
      at most ``_SERIES_MAX_TERMS`` terms: Euler's transformation (Abramowitz & Stegun
      15.3.3) turns the ``2F1`` into ``u^(a-1-r-x) 2F1(a+b-1-r, a-1; a+b+x-1; z)`` with
      ``u = (alpha+T)/(alpha+T+t)``, whose parameters do not grow with ``x``; dividing
      ``1 - u^(a-1) F`` by ``a - 1`` term by term (``(a-1)_k = (a-1)(a)_(k-1)``, and
      ``exprel`` for the leading term) removes the removable singularity at ``a = 1``; the
      series is summed in log space with signs;
    * else the mixture integral in ``p`` by tanh-sinh quadrature with a refined step,
      :func:`_log_alive_expectation_quad`.

    Unit: purchases.
    """
    r, alpha, a, b = params
    t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, T)))
    t, x, T = t.ravel(), x.ravel(), T.ravel()
    out = np.zeros(t.size)
    live = np.flatnonzero(t > 0)
    if live.size == 0:
        return out
    tt, xx, TT = t[live], x[live], T[live]
    sigma = np.sqrt(1.0 / a + 1.0 / (b + xx))
    conc = sigma <= _CONCENTRATED_SIGMA
    g = np.empty(live.size)
    if conc.any():
        g[conc] = np.exp(_log_alive_expectation_logit(params, tt[conc], xx[conc], TT[conc]))
    rest = np.flatnonzero(~conc)
    if rest.size:
        z = tt[rest] / (alpha + TT[rest] + tt[rest])
        C = a + b + xx[rest] - 1
        # terms behave like (a)_k / k! z^k: they peak near k = a z / (1 - z) and then fall
        # by a factor z per term
        n_terms = (max(a, 1.0) * z + 40.0) / np.maximum(-np.log(z), 1e-300)
        use = (C >= 0.5) & (C <= _SERIES_MAX_C) & (n_terms <= _SERIES_MAX_TERMS)
        vals = np.full(rest.size, np.nan)
        if use.any():
            vals[use] = _alive_expectation_series(params, tt[rest][use], xx[rest][use],
                                                  TT[rest][use])
        quad = ~np.isfinite(vals)
        if quad.any():
            r_idx = rest[quad]
            quad_fn = (_log_alive_expectation_small_a if a < _SMALL_A
                       else _log_alive_expectation_quad)
            vals[quad] = np.exp(quad_fn(params, tt[r_idx], xx[r_idx], TT[r_idx], refine=4))
        g[rest] = vals
    out[live] = g
    return out


#: Rows of one frequency from which :func:`_alive_expectation_smooth` interpolates.
_SMOOTH_MIN_ROWS = 64
#: Relative accuracy the interpolant must show at its check points, else it is not used.
_SMOOTH_TOL = 1e-11
#: Number of check points (between interpolation nodes) per frequency.
_SMOOTH_CHECKS = 7


def _cheb_degree(half_width: float) -> int:
    """Chebyshev degree for about 1e-13 on an interval of ``half_width`` in ``log tau``.

    ``log G`` is analytic in ``s = log tau`` within ``|Im s| < pi`` (``1 + p tau`` vanishes
    at ``Im s = pi``); a strip of half-width ``d = pi / 2`` (a margin) gives the Bernstein
    ellipse ``rho = d/L + sqrt(1 + (d/L)^2)`` and the error ``~ rho^-N`` (Trefethen 2013,
    *Approximation Theory and Approximation Practice*, Thm. 8.2).
    """
    d = 0.5 * np.pi / max(half_width, 1e-12)
    rho = d + np.sqrt(1.0 + d * d)
    return int(min(max(np.ceil(13.0 / np.log10(rho)), 12), 400))


def _alive_expectation_smooth(params: Sequence[float], t: FloatArray, x: FloatArray,
                              T: FloatArray) -> FloatArray:
    """:func:`_alive_expectation` for many rows, interpolated in ``log tau`` per frequency.

    ``G`` depends on ``(t, T)`` only through ``tau = t / (alpha + T)`` (the mixture form
    ``E_p[(1 - (1 + p tau)^-(r+x)) / p]`` of FHL 2005 eq. 10), and ``log G`` is an analytic
    function of ``log tau``.  For a frequency ``x`` with at least ``_SMOOTH_MIN_ROWS`` rows,
    ``log G`` is evaluated exactly at Chebyshev points spanning the rows' ``log tau`` and
    interpolated (degree from :func:`_cheb_degree`); ``_SMOOTH_CHECKS`` points between the
    nodes are also evaluated exactly, and when the interpolant misses any of them by more
    than ``_SMOOTH_TOL`` relative, the rows of that frequency are evaluated exactly instead.
    Rows with ``t = 0`` give 0.  Unit: purchases.
    """
    r, alpha, a, b = params
    t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, T)))
    t, x, T = t.ravel(), x.ravel(), T.ravel()
    out = np.zeros(t.size)
    live = t > 0
    with np.errstate(divide="ignore"):
        s = np.log(np.where(live, t, 1.0)) - np.log(alpha + T)
    xu, xi = np.unique(x, return_inverse=True)
    direct = np.zeros(t.size, dtype=bool)
    cheb = np.polynomial.chebyshev
    for k, xv in enumerate(xu):
        rows = np.flatnonzero((xi == k) & live)
        if rows.size < _SMOOTH_MIN_ROWS:
            direct[rows] = True
            continue
        lo, hi = float(s[rows].min()), float(s[rows].max())
        half = 0.5 * (hi - lo)
        if half == 0.0:
            out[rows] = _alive_expectation(params, t[rows[:1]], x[rows[:1]], T[rows[:1]])[0]
            continue
        deg = _cheb_degree(half)
        if deg + 1 + _SMOOTH_CHECKS >= rows.size:
            direct[rows] = True
            continue
        mid = 0.5 * (hi + lo)
        nodes = np.cos(np.pi * (np.arange(deg + 1) + 0.5) / (deg + 1))  # first kind
        checks = np.cos(np.pi * (np.arange(_SMOOTH_CHECKS) + 0.5) / _SMOOTH_CHECKS
                        + 0.37 * np.pi / (deg + 1))
        u = np.concatenate([nodes, checks])
        tau = np.exp(mid + half * u)
        # G at (t = tau, T with alpha + T = 1): the same tau
        g = _alive_expectation(params, tau, np.full(u.size, xv), np.full(u.size, 1.0 - alpha))
        if not np.all(g > 0) or not np.all(np.isfinite(g)):
            direct[rows] = True
            continue
        coef = cheb.chebfit(nodes, np.log(g[: deg + 1]), deg)
        test = cheb.chebval(checks, coef)
        if np.max(np.abs(np.expm1(test - np.log(g[deg + 1:])))) > _SMOOTH_TOL:
            direct[rows] = True
            continue
        out[rows] = np.exp(cheb.chebval((s[rows] - mid) / half, coef))
    idx = np.flatnonzero(direct)
    if idx.size:
        out[idx] = _alive_expectation(params, t[idx], x[idx], T[idx])
    return out


def _alive_expectation_series(params: Sequence[float], t: FloatArray, x: FloatArray,
                              T: FloatArray) -> FloatArray:
    """The Euler-transformed series of :func:`_alive_expectation` (``t > 0``).

    Returns NaN for rows where it has not converged within ``_SERIES_MAX_TERMS + 100``
    terms (the caller integrates those).
    """
    r, alpha, a, b = params
    L = -np.log1p(t / (alpha + T))  # log u
    z = t / (alpha + T + t)
    log_z = np.log(z)
    A, C = a + b - 1 - r, a + b + x - 1
    lead = -L * exprel((a - 1) * L)
    # series S = sum_{k>=1} (A)_k (a)_(k-1) / ((C)_k k!) z^k, log-magnitudes and signs
    m = t.size
    lpos = np.full(m, -np.inf)
    lneg = np.full(m, -np.inf)
    log_c = np.zeros(m)
    sign = np.ones(m)
    active = np.arange(m)
    done_mask = np.zeros(m, dtype=bool)
    for k in range(1, _SERIES_MAX_TERMS + 101):
        if active.size == 0:
            break
        Ak = A + (k - 1)
        if Ak == 0:  # terminating series
            done_mask[active] = True
            break
        Ck = C[active] + (k - 1)  # negative for k = 1 when a + b + x < 1
        log_c[active] += (np.log(abs(Ak)) + np.log(a + k - 2 if k > 1 else 1.0)
                          - np.log(np.abs(Ck)) - np.log(k) + log_z[active])
        sign[active] *= np.sign(Ak) * np.sign(Ck)
        lc = log_c[active]
        sp = sign[active] > 0
        lpos[active[sp]] = np.logaddexp(lpos[active[sp]], lc[sp])
        lneg[active[~sp]] = np.logaddexp(lneg[active[~sp]], lc[~sp])
        ratio_lt1 = np.abs(A + k) * (a + k - 1) * z[active] < np.abs(C[active] + k) * (k + 1)
        small = lc - np.maximum(lpos[active], lneg[active]) < -39.0
        fin = ratio_lt1 & small
        done_mask[active[fin]] = True
        active = active[~fin]
    ua = (a - 1) * L
    g = C * (lead - np.exp(ua + lpos) + np.exp(ua + lneg))
    g[~done_mask] = np.nan
    return g


def _log_one_minus_pow(n: FloatArray, log_y: FloatArray) -> FloatArray:
    """``log(1 - (1 + y)^-n)`` for ``y = exp(log_y) >= 0``, accurate for tiny and huge ``y``.

    ``-expm1(-n log1p(y))`` with ``log1p(y) = logaddexp(0, log y)``; below ``y = e^-40``
    the first-order value ``n y`` (relative error under ``(n+1) y / 2``).
    """
    tiny = log_y < -40.0
    with np.errstate(divide="ignore"):
        exact = np.log(-np.expm1(-n * np.logaddexp(0.0, np.where(tiny, 0.0, log_y))))
    return np.where(tiny, np.log(n) + log_y, exact)


def _log_alive_expectation_logit(params: Sequence[float], t: FloatArray, x: FloatArray,
                                 T: FloatArray) -> FloatArray:
    """``log E_p[(1 - (1 + p tau)^-(r+x)) / p]``, ``p ~ Beta(a, b+x)``, in the log-odds of p.

    With ``y = log(p / (1 - p))`` the Beta density becomes
    ``exp(a log expit(y) + (b+x) log expit(-y)) / B(a, b+x)``, log-concave with mode
    ``y* = log(a / (b+x))``, curvature ``1 / sigma^2 = a (b+x) / (a+b+x)`` and exponential
    tails (rates ``a`` and ``b+x``).  The trapezoidal rule on ``_LOGIT_NODES`` equal steps
    over ``[y* - 10 sigma - 60/a, y* + 10 sigma + 60/(b+x)]`` converges geometrically for
    this analytic integrand (strip ``|Im y| < pi``); with ``sigma <= 1.5`` the step is at
    most ``sigma / 3`` and ``0.3``, which puts the discretisation error below 1e-15.  The
    log density is taken relative to its mode as ``a d - (a+b+x) log1p(p* expm1(d))``
    (``d = y - y*``, ``p* = a/(a+b+x)``), which does not cancel for ``a + b`` up to 1e8 and
    beyond, and the normalising constant ``B(a, b+x)`` is the same rule applied to the
    density alone (its discretisation error cancels in the ratio).
    """
    r, alpha, a, b = params
    B = b + x
    n = r + x
    log_tau = np.log(t) - np.log(alpha + T)
    sigma = np.sqrt(1.0 / a + 1.0 / B)
    y_mode = np.log(a) - np.log(B)
    p_mode = a / (a + B)
    lo = -10.0 * sigma - 60.0 / a
    hi = 10.0 * sigma + 60.0 / B
    h = (hi - lo) / _LOGIT_NODES
    k = np.arange(_LOGIT_NODES + 1, dtype=float)[None, :]
    out = np.empty(t.size)
    chunk = 1024
    for start in range(0, t.size, chunk):
        sl = slice(start, min(start + chunk, t.size))
        d = lo[sl, None] + h[sl, None] * k  # y - y_mode
        # log density relative to the mode, without cancellation for large a + b:
        # a d - (a + b + x) log(1 + p_mode (e^d - 1))
        log_dens = a * d - (a + B[sl, None]) * np.log1p(p_mode[sl, None] * np.expm1(d))
        lp = log_expit(y_mode[sl, None] + d)
        vals = _log_one_minus_pow(n[sl, None], lp + log_tau[sl, None]) - lp + log_dens
        # the normalising constant by the same rule: its error cancels in the ratio
        out[sl] = logsumexp(vals, axis=1) - logsumexp(log_dens, axis=1)
    return out


#: Below this ``a`` the Beta mixing distribution puts much of its mass below the smallest
#: ``p`` a double can hold (``P(p < 1e-300)`` is about ``exp(-690 a)``): the expectation is
#: then split at ``p0 = exp(-_LOG_P0_SPAN)`` (:func:`_log_alive_expectation_small_a`).
_SMALL_A = 0.05
_LOG_P0_SPAN = 40.0


def _log_alive_expectation_small_a(params: Sequence[float], t: FloatArray, x: FloatArray,
                                   T: FloatArray, refine: int = 1) -> FloatArray:
    """``log E_p[(1 - (1 + p tau)^-(r+x)) / p]``, ``p ~ Beta(a, b+x)``, for small ``a``.

    With ``a`` small the density ``p^(a-1) (1-p)^(b+x-1) / B(a, b+x)`` spreads its mass evenly
    in ``log p`` down to ``p`` near ``exp(-1/a)`` (``exp(-62,500)`` for ``a = 1.6e-5``), far
    below what a quadrature node in ``p`` can reach.  The integral is split at
    ``p0 = exp(-40)``: below it the integrand ``(1 - (1 + p tau)^-n) / p`` equals ``n tau`` to
    within ``(n+1) tau p0 / 2`` relative, so that part is ``n tau I_p0(a, b+x)`` (the
    regularized incomplete Beta function); above it the integral is taken in ``y = log p``
    over ``[-40, 0]`` by the tanh-sinh rule of
    :func:`workbench.models.clv._special.log_integrate_unit` (the endpoint ``p = 1`` singularity of
    ``(1-p)^(b+x-1)`` is what that rule handles best).  FHL 2005 eq. (10) is this mixture
    (its derivation); unit: purchases.
    """
    r, alpha, a, b = params
    log_tau = np.log(t) - np.log(alpha + T)
    n = r + x
    B = b + x
    lb = betaln(a, B)
    span = _LOG_P0_SPAN

    def integrand(log_u: FloatArray, log_1mu: FloatArray, rows: slice) -> FloatArray:
        # p = exp(y), y = -span (1 - u): dp = p span du
        y = -span * np.exp(log_1mu)
        # log(1 - e^y) = log(-y) + log(exprel(y)), exact also where y underflows to 0
        log_1mp = np.log(span) + log_1mu + np.log(exprel(y))
        lt, nr = log_tau[rows, None], n[rows, None]
        log_g = _log_one_minus_pow(nr, y + lt) - y
        return (log_g + a * y + (B[rows, None] - 1) * log_1mp - lb[rows, None]
                + np.log(span))

    upper = log_integrate_unit(integrand, t.size, refine=refine)
    with np.errstate(divide="ignore"):
        lower = np.log(n) + log_tau + np.log(betainc(a, B, np.exp(-span)))
    return np.logaddexp(upper, lower)


def _log_alive_expectation_quad(params: Sequence[float], t: FloatArray, x: FloatArray,
                                T: FloatArray, refine: int = 1) -> FloatArray:
    """``log E_p[(1 - (1 + p tau)^-(r+x)) / p]`` with ``p ~ Beta(a, b+x)``, by quadrature.

    Tanh-sinh quadrature in ``p`` (:func:`workbench.models.clv._special.log_integrate_unit`, its
    step divided by ``refine``).
    """
    r, alpha, a, b = params
    log_tau = np.log(t) - np.log(alpha + T)
    tau = np.exp(log_tau)
    n = r + x
    lb = betaln(a, b + x)

    def integrand(log_p: FloatArray, log_1mp: FloatArray, rows: slice) -> FloatArray:
        lt, tr, nr = log_tau[rows, None], tau[rows, None], n[rows, None]
        log_ptau = log_p + lt
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            exact = np.log(-np.expm1(-nr * np.log1p(np.exp(log_p) * tr)))
        # first order for tiny p*tau: 1 - (1+y)^-n ~ n y
        log_g = np.where(log_ptau < -30, np.log(nr) + log_ptau, exact) - log_p
        return (log_g + (a - 1) * log_p + (b + x[rows, None] - 1) * log_1mp
                - lb[rows, None])

    return log_integrate_unit(integrand, t.size, refine=refine)


class BetaGeoModel(PurchaseModelBase):
    """BG/NBD model (FHL 2005) fitted by maximum likelihood on a customer summary.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * (r^2 + alpha^2 + a^2 + b^2)`` added to the mean negative
        log-likelihood (the ``lifetimes`` convention); 0 = plain MLE (the literature).
    max_iter
        Iteration limit of the optimiser, per starting point.
    tol
        Gradient tolerance of the optimiser (mean log-likelihood per customer, in
        log-parameter space).

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (time unit of the summary), ``a``, ``b``.
    log_likelihood_ : float
        Maximised log-likelihood (sum over customers, FHL 2005 eq. 7).
    standard_errors_ : dict
        From the observed information matrix (see :mod:`workbench.models.clv._fit`).
    n_customers_, n_distinct_ : int
        Customers used, and distinct ``(frequency, recency, T)`` rows the likelihood ran on.

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> s = customer_summary(read_cdnow("sample_data/cdnow/CDNOW_sample.txt"), "1997-09-30")
    >>> m = BetaGeoModel().fit(s)  # CDNOW, 39 weeks: the estimates FHL 2005 report
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """

    _param_names = ("r", "alpha", "a", "b")
    _model_name = "BG/NBD"

    # ------------------------------------------------------------------ fitting
    def fit(self, summary: pl.DataFrame, weights_col: str | None = None) -> BetaGeoModel:
        """Fit by maximum likelihood (FHL 2005 eq. 7) on the distinct customer histories.

        Parameters
        ----------
        summary
            One row per customer with ``frequency``, ``recency``, ``T`` (e.g.
            ``workbench.core.summary.customer_summary``); or, with ``weights_col``, one row per
            distinct history with the number of customers in ``weights_col``.
        weights_col
            Optional column of non-negative customer counts per row.

        Returns
        -------
        BetaGeoModel
            ``self``, fitted.

        Raises
        ------
        ValueError
            Missing columns, negative or non-integer frequency, recency > T.
        workbench.models.clv.NotEnoughDataError
            Fewer than 2 customers with repeat purchases (a ``ModelError``, also a
            ``ValueError``).
        ConvergenceError
            When the optimiser does not converge from any starting point.
        """
        stats, weights = history_rows(self._model_name, summary, weights_col, _COLS)
        x, t_x, T = (stats[c] for c in _COLS)
        # start: r = 1 and alpha matching the observed repeat rate; a second, more
        # heterogeneous start guards against a poor local optimum
        rate = float(weights @ x) / max(float(weights @ T), 1e-12)
        alpha0 = 1.0 / max(rate, 1e-12)
        starts = [np.log([1.0, alpha0, 1.0, 1.0]), np.log([0.3, 0.3 * alpha0, 0.7, 2.5])]

        hess_inv0 = None
        pick = warm_start_rows(x.size)
        big = pick is not None
        if big:
            # warm start: fit a random subset of the distinct rows first; its optimum and
            # curvature let BFGS finish the full likelihood in a few Newton-like steps
            sub = bgnbd_sufficient_stats(x[pick], t_x[pick], T[pick], weights[pick])
            starts, hess_inv0 = warm_start(
                self._model_name, self._param_names,
                lambda lp, g: bgnbd_total_loglik(lp, sub, g), float(weights[pick].sum()),
                starts, penalizer=self.penalizer, max_iter=self.max_iter, tol=self.tol)
        suff = bgnbd_sufficient_stats(x, t_x, T, weights)

        def total_ll(lp: FloatArray, want_grad: bool) -> tuple[float, FloatArray | None]:
            return bgnbd_total_loglik(lp, suff, want_grad)

        out = maximize_likelihood(self._model_name, self._param_names, total_ll,
                                  float(weights.sum()), starts, penalizer=self.penalizer,
                                  max_iter=self.max_iter, tol=self.tol,
                                  central_hessian=not big, hess_inv0=hess_inv0)
        self._store_fit(out, float(weights.sum()), int(x.size))
        r_, _, a_, b_ = np.exp(out.log_params)
        self._diagnose_no_dropout(a_, b_)
        self._diagnose_rates_and_data(r_, float(weights[x > 0].sum()))
        return self

    def _p(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    # ------------------------------------------------------------------ array API
    def p_alive_array(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """P(alive at T | x, t_x, T): ``1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``.

        Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model" (note;
        the expression also follows from FHL 2005 eq. 10's denominator).  Dimensionless.
        """
        lo = _log_p_alive_odds(self._p(), np.asarray(x, float), np.asarray(t_x, float),
                               np.asarray(T, float))
        return np.exp(-np.logaddexp(0.0, lo))

    def expected_purchases_array(self, horizon: float | FloatArray, x: FloatArray,
                                 t_x: FloatArray, T: FloatArray) -> FloatArray:
        """Conditional expected purchases in ``(T, T + horizon]``, FHL 2005 eq. (10).

        ``E[Y(t) | x, t_x, T] = P(alive) * G(t; x, T)``, see ``_alive_expectation``.  The
        ``G`` part depends on ``(x, T)`` only and is computed once per distinct pair.
        Unit: number of purchases.
        """
        return self._expected_and_alive(horizon, x, t_x, T)[0]

    def _expected_and_alive(self, horizon: float | FloatArray, x: FloatArray, t_x: FloatArray,
                            T: FloatArray) -> tuple[FloatArray, FloatArray]:
        params = self._p()
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        h = np.broadcast_to(np.asarray(horizon, dtype=float), x.shape)
        (hu, xu, Tu), inv = unique_inverse([h.ravel(), x.ravel(), T.ravel()])
        g = _alive_expectation_smooth(params, hu, xu, Tu)[inv].reshape(x.shape)
        pa = self.p_alive_array(x, t_x, T)
        return g * pa, pa

    def expected_purchases_horizons(self, horizons: Sequence[float] | FloatArray,
                                    x: FloatArray, t_x: FloatArray,
                                    T: FloatArray) -> FloatArray:
        """Eq. (10) for several horizons at once: array of shape ``(len(horizons), n)``.

        P(alive) and the distinct ``(x, T)`` pairs are computed once; used by
        :func:`workbench.models.clv.value.customer_lifetime_value`.
        """
        params = self._p()
        x, t_x, T = (np.asarray(v, dtype=float).ravel() for v in (x, t_x, T))
        hs = np.atleast_1d(np.asarray(horizons, dtype=float))
        pa = self.p_alive_array(x, t_x, T)
        (xu, Tu), inv = unique_inverse([x, T])
        # all horizons in one call: G is interpolated in log(t / (alpha + T)) per frequency
        g = _alive_expectation_smooth(params, np.repeat(hs, xu.size), np.tile(xu, hs.size),
                                      np.tile(Tu, hs.size)).reshape(hs.size, xu.size)
        return g[:, inv] * pa

    def expected_purchases_new_customer_array(self, t: float | FloatArray) -> FloatArray:
        """Population ``E[X(t)]`` for a customer just acquired, FHL 2005 eq. (9).

        ``(a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]``, computed as
        eq. (10) with ``x = 0``, ``T = 0`` (``P(alive) = 1``).  Unit: repeat purchases.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        z = np.zeros_like(t)
        return _alive_expectation(self._p(), t, z, z)

    def probability_of_n_purchases_array(self, n: NDArray[np.int64] | int,
                                         t: float | FloatArray) -> FloatArray:
        """``P(X(t) = n)`` for a new customer, FHL 2005 eq. (8).

        ``B(a, b+n)/B(a, b) NB(n; r, alpha/(alpha+t)) + [n>0] B(a+1, b+n-1)/B(a, b)
        (1 - sum_{j<n} NB(j))``, where the bracket is the NBD tail probability, computed
        as the regularised incomplete beta ``I_{t/(alpha+t)}(n, r)`` (no cancellation).
        The Beta-function ratios are products of ratios (:func:`_log_beta_ratios`), exact
        for ``a + b`` up to 1e8 and beyond where differences of ``betaln`` lose digits.
        Dimensionless.
        """
        r, alpha, a, b = self._p()
        nf, t = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(t, dtype=float))
        log_nb = (gammaln(r + nf) - gammaln(r) - gammaln(nf + 1) - r * np.log1p(t / alpha)
                  + np.where(nf > 0, nf * np.log(np.where(t > 0, t, 1.0) / (alpha + t)), 0.0))
        log_nb = np.where((t == 0) & (nf > 0), -np.inf, log_nb)
        log_c1, log_c2 = _log_beta_ratios(a, b, nf)
        first = np.exp(log_c1 + log_nb)
        nn = np.maximum(nf, 1.0)
        second = np.where(nf > 0, np.exp(log_c2) * betainc(nn, r, t / (alpha + t)), 0.0)
        return first + second

    # ------------------------------------------------------------------ frame API
    def predict(self, summary: pl.DataFrame, horizon: float) -> pl.DataFrame:
        """``customer_id``, ``expected_purchases`` (next ``horizon`` units), ``p_alive``."""
        h = as_horizon("horizon", horizon)
        x, t_x, T = self._arrays(summary)
        expected, p_alive = self._expected_and_alive(h, x, t_x, T)
        return id_frame(summary).with_columns(
            pl.Series("expected_purchases", expected), pl.Series("p_alive", p_alive))
