"""Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987).

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987), "Counting your customers: who are
they and what will they do next?", *Management Science* 33(1), 1-24.  Likelihood and
derived quantities as in Fader, P. S. & Hardie, B. G. S. (2005), "A note on deriving the
Pareto/NBD model and related expressions" (below: FH 2005 note, equation numbers of that
note).  While alive, a customer buys as a Poisson process with rate
``lambda ~ Gamma(r, alpha)``; her lifetime is exponential with rate ``mu ~ Gamma(s, beta)``.
Time is in the unit of the summary (e.g. weeks): ``alpha`` and ``beta`` are in that unit,
``r`` and ``s`` dimensionless.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.special import digamma, exprel, gammaln

from workbench.models.clv._fit import (
    FloatArray,
    as_horizon,
    history_rows,
    id_frame,
    maximize_likelihood,
    unique_inverse,
    warm_start,
    warm_start_rows,
    weighted_total,
)
from workbench.models.clv._purchase import SUMMARY_COLUMNS as _COLS
from workbench.models.clv._purchase import PurchaseModelBase
from workbench.models.clv._special import (
    log_diff_exp,
    log_hyp2f1_a_ap1,
    log_hyp2f1_a_ap1_grad,
    log_integrate_unit,
)


def log_a0(params: Sequence[float], x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """``log A_0`` of the Pareto/NBD likelihood, FH 2005 note eqs. (19) and (20).

    For ``alpha >= beta``:
    ``A_0 = 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^(r+s+x)
    - [same with T]``; for ``alpha < beta`` the roles swap:
    ``2F1(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+y)) / (beta+y)^(r+s+x)``.  The ``2F1`` is
    evaluated in log space by :func:`workbench.models.clv._special.log_hyp2f1_a_ap1` (with ``1 - z``
    passed exactly as ``(min + y) / (max + y)``) and the difference by ``log_diff_exp``;
    ``A_0 = 0`` (log ``-inf``) when ``t_x = T``.  The ``2F1`` terms are evaluated once per
    distinct ``(x, y)`` pair, ``y in {t_x, T}`` (:func:`pareto_pairs`).  Unit: time^-(r+s+x).
    """
    r, alpha, s, beta = params
    x, t_x, T = (np.asarray(v, dtype=float).ravel() for v in (x, t_x, T))
    n = x.size
    # the 2F1 terms depend on (x, y) only: evaluate them once per distinct pair
    px, py, inv = _scoring_pairs(x, t_x, T)
    a = r + s + px
    if alpha >= beta:
        big, small, b = alpha, beta, np.full_like(px, s + 1.0)
    else:
        big, small, b = beta, alpha, r + px
    z = (big - small) / (big + py)
    omz = (small + py) / (big + py)
    lf = (log_hyp2f1_a_ap1(a, b, z, omz) - a * np.log(big + py))[inv]
    return log_diff_exp(lf[:n], lf[n:])


#: Rows sampled by :func:`_group_if_it_pays` to judge whether grouping pays.
_GROUP_SAMPLE = 10_000


def _group_if_it_pays(arrays: list[FloatArray]) -> tuple[list[FloatArray], NDArray[np.int64]]:
    """:func:`workbench.models.clv._fit.unique_inverse`, or the rows as they are when it would not
    pay.

    Grouping sorts the rows; on summaries with continuous times almost every row is distinct
    and the sort costs more than it saves.  A fixed sample of ``_GROUP_SAMPLE`` rows decides:
    with more than 70 % of them distinct the rows are used as they are (``inverse`` the
    identity).  Scores are the same either way.
    """
    n = arrays[0].size
    if n > 4 * _GROUP_SAMPLE:
        pick = np.random.default_rng(0).choice(n, _GROUP_SAMPLE, replace=False)
        uniq, _ = unique_inverse([v[pick] for v in arrays])
        if uniq[0].size > 0.7 * _GROUP_SAMPLE:
            return list(arrays), np.arange(n, dtype=np.int64)
    return unique_inverse(arrays)


def _scoring_pairs(x: FloatArray, t_x: FloatArray,
                   T: FloatArray) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """:func:`pareto_pairs` where grouping pays (:func:`_group_if_it_pays`)."""
    (px, py), inv = _group_if_it_pays([np.concatenate([x, x]), np.concatenate([t_x, T])])
    return px, py, inv


def pareto_row_loglik(log_params: FloatArray, x: FloatArray, t_x: FloatArray,
                      T: FloatArray) -> FloatArray:
    """Per-customer Pareto/NBD log-likelihood, FH 2005 note eq. (18).

    ``L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x) (beta+T)^-s
    + s/(r+s+x) A_0 ]``, summed in log space with ``logaddexp``.
    """
    r, alpha, s, beta = np.exp(log_params)
    la0 = log_a0((r, alpha, s, beta), x, t_x, T)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dead = np.log(s) - np.log(r + s + x) + la0
    return (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
            + np.logaddexp(alive, dead))


def pareto_pairs(x: FloatArray, t_x: FloatArray,
                 T: FloatArray) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """Distinct ``(x, y)`` pairs behind the ``2F1`` terms of eq. (19)/(20), ``y in {t_x, T}``.

    Returns ``(px, py, inv)``; ``inv`` has length ``2 n``: the pair of ``(x_i, t_x,i)`` at
    ``i`` and of ``(x_i, T_i)`` at ``n + i``.
    """
    (px, py), inv = unique_inverse([np.concatenate([x, x]), np.concatenate([t_x, T])])
    return px, py, inv


def pareto_row_loglik_grad(
    log_params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray,
    pairs: tuple[FloatArray, FloatArray, NDArray[np.int64]] | None = None,
) -> tuple[FloatArray, list[FloatArray]]:
    """:func:`pareto_row_loglik` and its analytic gradient w.r.t. ``log(r, alpha, s, beta)``.

    With ``L = Gamma(r+x) alpha^r beta^s / Gamma(r) (e^alive + e^dead)`` (FH 2005 note
    eq. 18), ``alive = -(r+x) log(alpha+T) - s log(beta+T)``,
    ``dead = log s - log(r+s+x) + log A_0`` and ``A_0 = F(t_x) - F(T)`` (eqs. 19-20) with
    ``log F(y) = log 2F1(a, b; a+1; z) - a log(M + y)``, ``a = r+s+x``,
    ``z = (M - m) / (M + y)``, ``M = max(alpha, beta)``, ``m = min(alpha, beta)`` and
    ``b = s + 1`` (``alpha >= beta``) or ``r + x`` (``alpha < beta``):

    * ``d log L = [psi(r+x) - psi(r) + log alpha, r/alpha, log beta, s/beta]
      + p_alive d alive + p_dead d dead`` with ``p_alive = e^(alive - log(e^alive+e^dead))``;
    * ``d log A_0 = (d log F(t_x) - e d log F(T)) / (1 - e)``, ``e = F(T) / F(t_x)``;
    * ``d log F = (G_a - log(M+y)) da + G_b db + G_z dz - a / (M+y) dM``, with
      ``dz/dM = (m + y) / (M + y)^2``, ``dz/dm = -1 / (M + y)`` and ``G_*`` the derivatives
      of ``log 2F1`` from :func:`workbench.models.clv._special.log_hyp2f1_a_ap1_grad`.

    The ``2F1`` terms are computed once per distinct ``(x, y)`` pair (``pairs`` from
    :func:`pareto_pairs`, computed here when not given).  Returns the per-row
    log-likelihood and four per-row arrays ``d log L / d log theta``.
    """
    r, alpha, s, beta = np.exp(log_params)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    n = x.size
    px, py, inv = pareto_pairs(x, t_x, T) if pairs is None else pairs
    a = r + s + px
    if alpha >= beta:
        big, small, b = alpha, beta, np.full_like(px, s + 1.0)
    else:
        big, small, b = beta, alpha, r + px
    my = big + py
    log_my = np.log(my)
    g, ga, gb, gz = log_hyp2f1_a_ap1_grad(a, b, (big - small) / my, (small + py) / my)
    lf = g - a * log_my
    dfa = ga - log_my  # d log F / da (a = r + s + x)
    dfb = gb  # d log F / db
    df_big = gz * (small + py) / my**2 - a / my
    df_small = -gz / my
    # per pair: d log F / d(r, alpha, s, beta)
    if alpha >= beta:
        dpair = (dfa, df_big, dfa + dfb, df_small)
    else:
        dpair = (dfa + dfb, df_small, dfa, df_big)
    i1, i2 = inv[:n], inv[n:]
    lf1, lf2 = lf[i1], lf[i2]
    d = np.minimum(lf2 - lf1, 0.0)
    has_dead = d < 0
    with np.errstate(divide="ignore"):
        la0 = np.where(has_dead, lf1 + np.log(-np.expm1(d)), -np.inf)
    rsx = r + s + x
    log_at, log_bt = np.log(alpha + T), np.log(beta + T)
    alive = -(r + x) * log_at - s * log_bt
    dead = np.log(s) - np.log(rsx) + la0
    lse = np.logaddexp(alive, dead)
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + lse
    p_alive = np.exp(alive - lse)
    p_dead = np.exp(dead - lse)
    e = np.exp(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_1me = np.where(has_dead, 1.0 / -np.expm1(d), 0.0)
    dla0 = [np.where(has_dead, (dp[i1] - e * dp[i2]) * inv_1me, 0.0) for dp in dpair]
    d_r = (digamma(r + x) - digamma(r) + np.log(alpha) - p_alive * log_at
           + p_dead * (dla0[0] - 1.0 / rsx))
    d_alpha = r / alpha - p_alive * (r + x) / (alpha + T) + p_dead * dla0[1]
    d_s = (np.log(beta) - p_alive * log_bt + p_dead * (1.0 / s - 1.0 / rsx + dla0[2]))
    d_beta = s / beta - p_alive * s / (beta + T) + p_dead * dla0[3]
    return ll, [d_r * r, d_alpha * alpha, d_s * s, d_beta * beta]


class ParetoNBDModel(PurchaseModelBase):
    """Pareto/NBD model fitted by maximum likelihood on a customer summary.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * (r^2 + alpha^2 + s^2 + beta^2)`` on the mean negative
        log-likelihood (as in ``lifetimes``); 0 = plain MLE.
    max_iter
        Iteration limit of the optimiser per starting point.
    tol
        Gradient tolerance (mean log-likelihood, log-parameter space).  The gradient is
        analytic (:func:`pareto_row_loglik_grad`).

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``s``, ``beta`` (``alpha``, ``beta`` in the summary's time unit).
    log_likelihood_, standard_errors_, n_customers_, n_distinct_
        As for :class:`workbench.models.clv.bgnbd.BetaGeoModel`.

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> s = customer_summary(read_cdnow("sample_data/cdnow/CDNOW_sample.txt"), "1997-09-30")
    >>> # CDNOW, 39 weeks: Fader, Hardie & Lee (2005, "Counting your customers" the easy way)
    >>> # report r = 0.55, alpha = 10.58, s = 0.61, beta = 11.67
    >>> m = ParetoNBDModel().fit(s)
    >>> {k: round(v, 2) for k, v in m.params_.items()}
    {'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
    """

    _param_names = ("r", "alpha", "s", "beta")
    _model_name = "Pareto/NBD"

    def fit(self, summary: pl.DataFrame, weights_col: str | None = None) -> ParetoNBDModel:
        """Fit by maximum likelihood on the distinct ``(frequency, recency, T)`` rows.

        L-BFGS-B with the analytic gradient of :func:`pareto_row_loglik_grad`; the ``2F1``
        terms are computed once per distinct ``(x, t_x)`` and ``(x, T)`` pair.  With more
        than ``_fit.WARM_START_ROWS`` distinct rows a random subset is fitted first (warm start
        and curvature for BFGS) and the Hessian uses forward differences, as in
        :meth:`workbench.models.clv.bgnbd.BetaGeoModel.fit`.  Parameters and errors as there (at
        least 2 customers with repeat purchases, else
        :class:`~workbench.models.clv.NotEnoughDataError`).
        """
        stats, weights = history_rows(self._model_name, summary, weights_col, _COLS)
        x, t_x, T = (stats[c] for c in _COLS)
        rate = float(weights @ x) / max(float(weights @ T), 1e-12)
        mean_t = max(float(weights @ T) / float(weights.sum()), 1e-12)
        alpha0 = 1.0 / max(rate, 1e-12)
        starts = [np.log([1.0, alpha0, 1.0, mean_t]),
                  np.log([0.5, 0.5 * alpha0, 0.5, 0.5 * mean_t])]

        hess_inv0 = None
        pick = warm_start_rows(x.size)
        big = pick is not None
        if big:
            # warm start on a random subset of the distinct rows, as for the BG/NBD fit: its
            # optimum and curvature let BFGS finish the full likelihood in a few steps
            xs, ts, Ts, ws = x[pick], t_x[pick], T[pick], weights[pick]
            sub_pairs = pareto_pairs(xs, ts, Ts)

            def sub_ll(lp: FloatArray, want_grad: bool) -> tuple[FloatArray, list[FloatArray]]:
                return pareto_row_loglik_grad(lp, xs, ts, Ts, sub_pairs)

            starts, hess_inv0 = warm_start(
                self._model_name, self._param_names, weighted_total(sub_ll, ws),
                float(ws.sum()), starts, penalizer=self.penalizer, max_iter=self.max_iter,
                tol=self.tol)
        pairs = pareto_pairs(x, t_x, T)

        def row_ll(lp: FloatArray, want_grad: bool) -> tuple[FloatArray, list[FloatArray]]:
            return pareto_row_loglik_grad(lp, x, t_x, T, pairs)

        out = maximize_likelihood(self._model_name, self._param_names,
                                  weighted_total(row_ll, weights), float(weights.sum()),
                                  starts, penalizer=self.penalizer, max_iter=self.max_iter,
                                  tol=self.tol, central_hessian=not big, hess_inv0=hess_inv0)
        self._store_fit(out, float(weights.sum()), int(x.size))
        r_, _, s_, beta_ = np.exp(out.log_params)
        horizon = float(T.max())
        if s_ / beta_ * horizon < 1e-2 or s_ < 1e-3:
            self._diagnose(
                f"The data do not show customers dropping out (s = {s_:.3g}, beta = "
                f"{beta_:.3g}: mean dropout rate {s_ / beta_:.2g} per time unit); predictions "
                "equal those of an NBD model, and P(alive) is close to 1 for everyone.")
        self._diagnose_rates_and_data(r_, float(weights[x > 0].sum()))
        return self

    def _p(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        p = self.params_
        return p["r"], p["alpha"], p["s"], p["beta"]

    # ------------------------------------------------------------------ array API
    def p_alive_array(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """P(alive at T | x, t_x, T), FH 2005 note section 5.1 (eqs. 36-37 via eq. 18).

        ``1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A_0)``, as a logistic of the log
        odds.  Dimensionless; 1 when ``t_x = T``.
        """
        r, alpha, s, beta = self._p()
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        (xu, txu, Tu), inv = _group_if_it_pays([x.ravel(), t_x.ravel(), T.ravel()])
        la0 = log_a0((r, alpha, s, beta), xu, txu, Tu)[inv].reshape(x.shape)
        log_odds = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T)
                    + s * np.log(beta + T) + la0)
        return np.exp(-np.logaddexp(0.0, log_odds))

    def expected_purchases_array(self, horizon: float | FloatArray, x: FloatArray,
                                 t_x: FloatArray, T: FloatArray) -> FloatArray:
        """Conditional expected purchases in ``(T, T + horizon]``, FH 2005 note eq. (41).

        ``P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]``;
        the last factor is written ``-L exprel((s-1) L)`` with
        ``L = -log1p(t/(beta+T))`` so that ``s = 1`` (where it becomes
        ``(beta+T) log(1 + t/(beta+T))``) and small ``t`` are exact.  Unit: purchases.
        """
        r, alpha, s, beta = self._p()
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        t = np.asarray(horizon, dtype=float)
        L = -np.log1p(t / (beta + T))
        factor = (r + x) * (beta + T) / (alpha + T) * (-L) * exprel((s - 1) * L)
        return self.p_alive_array(x, t_x, T) * factor

    def expected_purchases_horizons(self, horizons: Sequence[float] | FloatArray,
                                    x: FloatArray, t_x: FloatArray,
                                    T: FloatArray) -> FloatArray:
        """Eq. (41) for several horizons at once: array of shape ``(len(horizons), n)``."""
        r, alpha, s, beta = self._p()
        x, t_x, T = (np.asarray(v, dtype=float).ravel() for v in (x, t_x, T))
        hs = np.atleast_1d(np.asarray(horizons, dtype=float))
        pa = self.p_alive_array(x, t_x, T)
        scale = pa * (r + x) * (beta + T) / (alpha + T)
        out = np.empty((hs.size, x.size))
        for k, h in enumerate(hs):
            L = -np.log1p(h / (beta + T))
            out[k] = scale * (-L) * exprel((s - 1) * L)
        return out

    def expected_purchases_new_customer_array(self, t: float | FloatArray) -> FloatArray:
        """Population ``E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``.

        FH 2005 note eq. (27); written with ``exprel`` (exact at ``s = 1``).  Unit: repeat
        purchases of a customer acquired at time 0.
        """
        r, alpha, s, beta = self._p()
        t = np.atleast_1d(np.asarray(t, dtype=float))
        L = -np.log1p(t / beta)
        return r / alpha * beta * (-L) * exprel((s - 1) * L)

    def probability_of_n_purchases_array(self, n: NDArray[np.int64] | int,
                                         t: float) -> FloatArray:
        """``P(X(t) = n)`` for a new customer.

        Fader & Hardie (2006), "Deriving an expression for P(X(t) = x) under the
        Pareto/NBD model" (note 012), sections 3-4: conditional on ``lambda, mu``,
        ``P = e^(-mu t) Poisson(n; lambda t) + int_0^t mu e^(-mu tau) Poisson(n; lambda tau)
        dtau``.  Removing the conditioning gives
        ``NB(n; r, alpha/(alpha+t)) (beta/(beta+t))^s
        + s beta^s int_0^t NB(n; r, alpha/(alpha+tau)) (beta+tau)^-(s+1) dtau``;
        instead of the note's closed form (a difference of ``2F1`` terms and a finite sum
        that cancels badly for large ``n``) the one-dimensional positive integral is
        evaluated by tanh-sinh quadrature in log space.  Dimensionless.
        """
        r, alpha, s, beta = self._p()
        nf: FloatArray = np.atleast_1d(np.asarray(n, dtype=float))
        t = float(t)
        if t == 0:
            return (nf == 0).astype(float)
        log_t = np.log(t)

        def log_nb(nn: FloatArray, log_tau: FloatArray) -> FloatArray:
            tau = np.exp(log_tau)
            return (gammaln(r + nn) - gammaln(r) - gammaln(nn + 1)
                    + r * (np.log(alpha) - np.log(alpha + tau))
                    + nn * (log_tau - np.log(alpha + tau)))

        first = log_nb(nf, np.full_like(nf, log_t)) + s * (np.log(beta) - np.log(beta + t))

        def integrand(log_u: FloatArray, log_1mu: FloatArray, rows: slice) -> FloatArray:
            log_tau = log_t + log_u
            nn = nf[rows, None]
            return (log_nb(nn, log_tau) + np.log(s) + s * np.log(beta)
                    - (s + 1) * np.log(beta + np.exp(log_tau)) + log_t)

        second = log_integrate_unit(integrand, nf.size)
        return np.exp(np.logaddexp(first, second))

    # ------------------------------------------------------------------ frame API
    def predict(self, summary: pl.DataFrame, horizon: float) -> pl.DataFrame:
        """``customer_id``, ``expected_purchases`` (next ``horizon`` units), ``p_alive``."""
        h = as_horizon("horizon", horizon)
        x, t_x, T = self._arrays(summary)
        p_alive = self.p_alive_array(x, t_x, T)
        r, alpha, s, beta = self._p()
        L = -np.log1p(h / (beta + T))
        factor = (r + x) * (beta + T) / (alpha + T) * (-L) * exprel((s - 1) * L)
        return id_frame(summary).with_columns(
            pl.Series("expected_purchases", p_alive * factor), pl.Series("p_alive", p_alive))
