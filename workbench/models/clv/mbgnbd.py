"""MBG/NBD model of repeat purchasing (Batislam, Denizel & Filiztekin 2007).

Batislam, E. P., Denizel, M. & Filiztekin, A. (2007), "Empirical validation and comparison of
models for customer base analysis", *International Journal of Research in Marketing* 24(3),
201-209 (below: BDF 2007).  As in BG/NBD (Fader, Hardie & Lee 2005, FHL 2005), an active
customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)`` and may drop out
with probability ``p ~ Beta(a, b)``; but the drop-out coin is also tossed at time 0, right
after the first purchase.  So a customer who never bought again may be gone (BG/NBD gives
every one-time buyer ``P(alive) = 1``), which is what makes MBG/NBD the better choice when
many customers buy once.  Time is in the unit of the customer summary; ``alpha`` is in that
unit, ``r``, ``a``, ``b`` are dimensionless.

Every MBG/NBD formula is the BG/NBD one with ``b`` replaced by ``b + 1`` in the part that
describes the future of a customer who is alive, because the posterior of ``p`` given ``x``
repeat purchases and survival is ``Beta(a, b + x + 1)`` (``x + 1`` survived tosses) instead
of ``Beta(a, b + x)``.  The predictions reuse the BG/NBD implementation
(:class:`workbench.models.clv.bgnbd.BetaGeoModel`) with that substitution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.special import betainc, betaln, digamma, gammaln

from workbench.models.clv._fit import (
    FloatArray,
    as_horizon,
    history_rows,
    id_frame,
    maximize_likelihood,
    weighted_total,
)
from workbench.models.clv._purchase import SUMMARY_COLUMNS as _COLS
from workbench.models.clv._purchase import PurchaseModelBase
from workbench.models.clv.bgnbd import BetaGeoModel


def mbgnbd_row_loglik(
    log_params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, want_grad: bool,
) -> tuple[FloatArray, list[FloatArray] | None]:
    """Per-customer MBG/NBD log-likelihood, BDF 2007 eq. (4), and its gradient.

    ``L = Gamma(r+x) alpha^r / Gamma(r) [B(a, b+x+1)/B(a, b) (alpha+T)^-(r+x)
    + B(a+1, b+x)/B(a, b) (alpha+t_x)^-(r+x)]`` for every ``x >= 0`` (the second term is
    the customer who dropped out right after her last purchase, including at time 0).  The
    sum is taken with ``logaddexp``; the gradient is analytic (digamma functions) and taken
    with respect to ``(ln r, ln alpha, ln a, ln b)``.  ``L`` is a density of the purchase
    times (unit: ``time^-x``), on the same footing as the BG/NBD and Pareto/NBD likelihoods,
    so log-likelihoods, AIC and BIC of the three models are comparable.
    """
    r, alpha, a, b = np.exp(log_params)
    lb_ab = betaln(a, b)
    rx = r + x
    log_at, log_atx = np.log(alpha + T), np.log(alpha + t_x)
    l1 = betaln(a, b + x + 1) - lb_ab - rx * log_at
    l2 = betaln(a + 1, b + x) - lb_ab - rx * log_atx
    lse = np.logaddexp(l1, l2)
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + lse
    if not want_grad:
        return ll, None
    w2 = np.exp(l2 - lse)
    w1 = 1.0 - w2
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + x + 1)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - (w1 * log_at + w2 * log_atx)
    d_alpha = r / alpha - rx * (w1 / (alpha + T) + w2 / (alpha + t_x))
    d_a = w1 * (psi_ab - psi_abx) + w2 * (digamma(a + 1) - digamma(a) + psi_ab - psi_abx)
    d_b = (w1 * (digamma(b + x + 1) - psi_abx - digamma(b) + psi_ab)
           + w2 * (digamma(b + x) - psi_abx - digamma(b) + psi_ab))
    return ll, [d_r * r, d_alpha * alpha, d_a * a, d_b * b]


class ModifiedBetaGeoModel(PurchaseModelBase):
    """MBG/NBD model (BDF 2007) fitted by maximum likelihood on a customer summary.

    Same API as :class:`workbench.models.clv.bgnbd.BetaGeoModel`: ``fit(summary)``, then
    ``p_alive_array``, ``expected_purchases_array``, ``expected_purchases_horizons``,
    ``expected_purchases_new_customer_array``, ``probability_of_n_purchases_array`` and the
    frame methods (``probability_alive``, ``expected_purchases``, ``predict``, ...).

    Parameters
    ----------
    penalizer, max_iter, tol
        As for :class:`~workbench.models.clv.bgnbd.BetaGeoModel`.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (time unit of the summary), ``a``, ``b``.
    log_likelihood_ : float
        Maximised log-likelihood (sum over customers, BDF 2007 eq. 4).
    standard_errors_, covariance_log_, n_customers_, n_distinct_
        As for :class:`~workbench.models.clv.bgnbd.BetaGeoModel`.
    diagnosis : list of str
        Plain sentences on a degenerate fit (empty when the fit is regular).
    is_degenerate : bool

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> s = customer_summary(read_cdnow("sample_data/cdnow/CDNOW_sample.txt"), "1997-09-30")
    >>> m = ModifiedBetaGeoModel().fit(s)
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614}
    """

    _param_names = ("r", "alpha", "a", "b")
    _model_name = "MBG/NBD"

    def fit(self, summary: pl.DataFrame, weights_col: str | None = None) -> ModifiedBetaGeoModel:
        """Fit by maximum likelihood (BDF 2007 eq. 4) on the distinct customer histories.

        Parameters, return value and errors as for
        :meth:`workbench.models.clv.bgnbd.BetaGeoModel.fit` (at least 2 customers with repeat
        purchases, else :class:`~workbench.models.clv.NotEnoughDataError`).
        """
        stats, weights = history_rows(self._model_name, summary, weights_col, _COLS)
        x, t_x, T = (stats[c] for c in _COLS)
        rate = float(weights @ x) / max(float(weights @ T), 1e-12)
        alpha0 = 1.0 / max(rate, 1e-12)
        starts = [np.log([1.0, alpha0, 1.0, 1.0]), np.log([0.3, 0.3 * alpha0, 0.7, 2.5])]

        def row_ll(lp: FloatArray, want_grad: bool) -> tuple[FloatArray, list[FloatArray] | None]:
            return mbgnbd_row_loglik(lp, x, t_x, T, want_grad)

        out = maximize_likelihood(self._model_name, self._param_names,
                                  weighted_total(row_ll, weights), float(weights.sum()), starts,
                                  penalizer=self.penalizer, max_iter=self.max_iter, tol=self.tol,
                                  all_starts=True)
        self._store_fit(out, float(weights.sum()), int(x.size))
        r_, _, a_, b_ = np.exp(out.log_params)
        self._diagnose_no_dropout(a_, b_)
        self._diagnose_rates_and_data(r_, float(weights[x > 0].sum()))
        return self

    def _p(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def _alive_part(self) -> BetaGeoModel:
        """A BG/NBD model with ``b + 1``: its ``E[Y(t) | alive]`` is the MBG/NBD one."""
        r, alpha, a, b = self._p()
        bg = BetaGeoModel()
        bg.params_ = {"r": r, "alpha": alpha, "a": a, "b": b + 1.0}
        return bg

    # ------------------------------------------------------------------ array API
    def p_alive_array(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """P(alive at T | x, t_x, T), BDF 2007 eq. (5).

        ``1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))`` for every ``x >= 0`` (a
        one-time buyer may be gone).  Dimensionless.
        """
        r, alpha, a, b = self._p()
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        lo = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.exp(-np.logaddexp(0.0, lo))

    def expected_purchases_array(self, horizon: float | FloatArray, x: FloatArray,
                                 t_x: FloatArray, T: FloatArray) -> FloatArray:
        """Conditional expected purchases in ``(T, T + horizon]``, BDF 2007 eq. (6).

        ``E[Y(t) | x, t_x, T] = P(alive) (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
        2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))]``: the bracket is FHL 2005 eq. (10)'s with
        ``b + 1`` for ``b``, computed by the BG/NBD code (its own P(alive) divided out).
        Unit: purchases.
        """
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        h = np.broadcast_to(np.asarray(horizon, dtype=float), x.shape)
        return self._g(h, x, T) * self.p_alive_array(x, t_x, T)

    def _g(self, h: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
        bg = self._alive_part()
        # with t_x = T the BG/NBD odds are a/(b+x) at most: no cancellation in the division
        return bg.expected_purchases_array(h, x, T, T) / bg.p_alive_array(x, T, T)

    def expected_purchases_horizons(self, horizons: Sequence[float] | FloatArray,
                                    x: FloatArray, t_x: FloatArray,
                                    T: FloatArray) -> FloatArray:
        """Eq. (6) for several horizons at once: array of shape ``(len(horizons), n)``."""
        x, t_x, T = (np.asarray(v, dtype=float).ravel() for v in (x, t_x, T))
        bg = self._alive_part()
        g = (bg.expected_purchases_horizons(horizons, x, T, T)
             / bg.p_alive_array(x, T, T)[None, :])
        return g * self.p_alive_array(x, t_x, T)[None, :]

    def expected_purchases_new_customer_array(self, t: float | FloatArray) -> FloatArray:
        """Population ``E[X(t)]`` for a customer just acquired, BDF 2007 eq. (3).

        ``b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``, i.e.
        ``b/(a+b)`` (the probability of surviving the toss at time 0, averaged over ``p``
        with the ``b + 1`` posterior weight) times FHL 2005 eq. (9) with ``b + 1``.  Unit:
        repeat purchases.
        """
        _, _, a, b = self._p()
        return b / (a + b) * self._alive_part().expected_purchases_new_customer_array(t)

    def probability_of_n_purchases_array(self, n: NDArray[np.int64] | int,
                                         t: float | FloatArray) -> FloatArray:
        """``P(X(t) = n)`` for a new customer, BDF 2007 eq. (2).

        ``B(a, b+n+1)/B(a, b) NB(n; r, alpha/(alpha+t)) + B(a+1, b+n)/B(a, b)
        (1 - sum_{j<n} NB(j))``: alive after ``n + 1`` tosses with ``n`` purchases by ``t``,
        or gone right after the ``n``-th purchase (at time 0 for ``n = 0``), which came before
        ``t``.  The NBD tail is the regularised incomplete beta ``I_{t/(alpha+t)}(n, r)`` (1
        for ``n = 0``).  Dimensionless.
        """
        r, alpha, a, b = self._p()
        n, t = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(t, dtype=float))
        lb = betaln(a, b)
        safe_t = np.where(t > 0, t, 1.0)
        log_nb = (gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + t))
                  + np.where(n > 0, n * np.log(safe_t / (alpha + t)), 0.0))
        log_nb = np.where((t == 0) & (n > 0), -np.inf, log_nb)
        first = np.exp(betaln(a, b + n + 1) - lb + log_nb)
        tail = np.where(n > 0, betainc(np.maximum(n, 1.0), r, t / (alpha + t)), 1.0)
        return first + np.exp(betaln(a + 1, b + n) - lb) * tail

    # ------------------------------------------------------------------ frame API
    def predict(self, summary: pl.DataFrame, horizon: float) -> pl.DataFrame:
        """``customer_id``, ``expected_purchases`` (next ``horizon`` units), ``p_alive``."""
        h = as_horizon("horizon", horizon)
        x, t_x, T = self._arrays(summary)
        pa = self.p_alive_array(x, t_x, T)
        expected = self._g(np.full_like(x, h), x, T) * pa
        return id_frame(summary).with_columns(
            pl.Series("expected_purchases", expected), pl.Series("p_alive", pa))

