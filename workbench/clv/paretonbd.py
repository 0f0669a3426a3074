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
from scipy.special import exprel, gammaln

from workbench.clv._fit import (
    FloatArray,
    as_horizon,
    group_rows,
    id_frame,
    maximize_likelihood,
    unique_inverse,
    validate_summary,
    weighted_total,
)
from workbench.clv._purchase import SUMMARY_COLUMNS as _COLS
from workbench.clv._purchase import PurchaseModelBase
from workbench.clv._special import log_diff_exp, log_hyp2f1_a_ap1, log_integrate_unit


def log_a0(params: Sequence[float], x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """``log A_0`` of the Pareto/NBD likelihood, FH 2005 note eqs. (19) and (20).

    For ``alpha >= beta``:
    ``A_0 = 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^(r+s+x)
    - [same with T]``; for ``alpha < beta`` the roles swap:
    ``2F1(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+y)) / (beta+y)^(r+s+x)``.  The ``2F1`` is
    evaluated in log space by :func:`workbench.clv._special.log_hyp2f1_a_ap1` (with ``1 - z``
    passed exactly as ``(min + y) / (max + y)``) and the difference by ``log_diff_exp``;
    ``A_0 = 0`` (log ``-inf``) when ``t_x = T``.  Unit: time^-(r+s+x).
    """
    r, alpha, s, beta = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    rsx = r + s + x
    if alpha >= beta:
        big, small, b = alpha, beta, np.full_like(x, s + 1.0)
    else:
        big, small, b = beta, alpha, r + x
    y = np.concatenate([t_x, T])
    aa = np.concatenate([rsx, rsx])
    bb = np.concatenate([b, b])
    z = (big - small) / (big + y)
    omz = (small + y) / (big + y)
    lf = log_hyp2f1_a_ap1(aa, bb, z, omz) - aa * np.log(big + y)
    n = x.size
    return log_diff_exp(lf[:n], lf[n:])


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
        Gradient tolerance (mean log-likelihood, log-parameter space).  The gradient is a
        central difference of the likelihood, so values below ~1e-9 cannot be reached.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``s``, ``beta`` (``alpha``, ``beta`` in the summary's time unit).
    log_likelihood_, standard_errors_, n_customers_, n_distinct_
        As for :class:`workbench.clv.bgnbd.BetaGeoModel`.

    Examples
    --------
    >>> m = ParetoNBDModel().fit(summary)  # doctest: +SKIP
    >>> m.predict(summary, horizon=39)  # doctest: +SKIP
    """

    _param_names = ("r", "alpha", "s", "beta")
    _model_name = "Pareto/NBD"

    def fit(self, summary: pl.DataFrame, weights_col: str | None = None) -> ParetoNBDModel:
        """Fit by maximum likelihood on the distinct ``(frequency, recency, T)`` rows.

        Parameters and errors as :meth:`workbench.clv.bgnbd.BetaGeoModel.fit`.
        """
        cols = list(_COLS) + ([weights_col] if weights_col else [])
        data = validate_summary(summary, cols)
        w = data.pop(weights_col) if weights_col else None
        stats, weights = group_rows(data, w)
        keep = weights > 0
        x, t_x, T = (stats[c][keep] for c in _COLS)
        weights = weights[keep]
        if not np.any(x > 0):
            raise ValueError("column 'frequency': no customer has a repeat purchase; the "
                             "Pareto/NBD purchase rate cannot be estimated")
        rate = float(weights @ x) / max(float(weights @ T), 1e-12)
        mean_t = max(float(weights @ T) / float(weights.sum()), 1e-12)
        alpha0 = 1.0 / max(rate, 1e-12)
        starts = [np.log([1.0, alpha0, 1.0, mean_t]),
                  np.log([0.5, 0.5 * alpha0, 0.5, 0.5 * mean_t])]

        def row_ll(lp: FloatArray, want_grad: bool) -> tuple[FloatArray, None]:
            return pareto_row_loglik(lp, x, t_x, T), None

        out = maximize_likelihood(self._model_name, self._param_names,
                                  weighted_total(row_ll, weights), float(weights.sum()),
                                  starts, penalizer=self.penalizer, max_iter=self.max_iter,
                                  tol=self.tol)
        self._store_fit(out, float(weights.sum()), int(x.size))
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
        (xu, txu, Tu), inv = unique_inverse([x.ravel(), t_x.ravel(), T.ravel()])
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
        n = np.atleast_1d(np.asarray(n, dtype=float))
        t = float(t)
        if t == 0:
            return (n == 0).astype(float)
        log_t = np.log(t)

        def log_nb(nn: FloatArray, log_tau: FloatArray) -> FloatArray:
            tau = np.exp(log_tau)
            return (gammaln(r + nn) - gammaln(r) - gammaln(nn + 1)
                    + r * (np.log(alpha) - np.log(alpha + tau))
                    + nn * (log_tau - np.log(alpha + tau)))

        first = log_nb(n, np.full_like(n, log_t)) + s * (np.log(beta) - np.log(beta + t))

        def integrand(log_u: FloatArray, log_1mu: FloatArray, rows: slice) -> FloatArray:
            log_tau = log_t + log_u
            nn = n[rows, None]
            return (log_nb(nn, log_tau) + np.log(s) + s * np.log(beta)
                    - (s + 1) * np.log(beta + np.exp(log_tau)) + log_t)

        second = log_integrate_unit(integrand, n.size)
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
