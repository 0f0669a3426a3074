"""The NBD model: repeat purchasing without drop-out (Ehrenberg 1959).

Ehrenberg, A. S. C. (1959), "The pattern of consumer purchases", *Journal of the Royal
Statistical Society C* 8(1), 26-41; Morrison & Schmittlein (1988), "Generalizing the NBD
model for customer purchases: what are the implications and is it worth the effort?",
*Journal of Business & Economic Statistics* 6(2), 145-159.  Every customer buys forever as a
Poisson process with rate ``lambda ~ Gamma(r, alpha)`` (shape ``r``, rate ``alpha`` in the
summary's time unit); nobody drops out, so ``P(alive) = 1``.  It is the limit of BG/NBD as
``p -> 0`` (``a -> 0`` or ``b -> infinity``) and of Pareto/NBD as ``mu -> 0``: the baseline a
drop-out model has to beat, and the model a degenerate BG/NBD or Pareto/NBD fit reduces to.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.special import digamma, gammaln

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


def nbd_row_loglik(
    log_params: FloatArray, x: FloatArray, T: FloatArray, want_grad: bool,
) -> tuple[FloatArray, list[FloatArray] | None]:
    """Per-customer NBD log-likelihood of the purchase times and its gradient.

    Given ``lambda``, ``x`` repeat purchases at given times in ``(0, T]`` have density
    ``lambda^x e^(-lambda T)`` (Poisson process); integrating over ``Gamma(r, alpha)``
    gives ``L = Gamma(r+x)/Gamma(r) alpha^r (alpha+T)^-(r+x)`` (FHL 2005 eq. 3 with no
    drop-out; the count likelihood would add the factor ``T^x / x!``, which does not depend on
    the parameters).  Being a density of the purchase times like the BG/NBD, MBG/NBD and
    Pareto/NBD likelihoods, its log-likelihood, AIC and BIC are comparable with theirs.
    Gradient with respect to ``(ln r, ln alpha)``.
    """
    r, alpha = np.exp(log_params)
    log_at = np.log(alpha + T)
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * log_at
    if not want_grad:
        return ll, None
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - log_at
    d_alpha = r / alpha - (r + x) / (alpha + T)
    return ll, [d_r * r, d_alpha * alpha]


class NBDModel(PurchaseModelBase):
    """NBD (gamma-Poisson, no drop-out) model fitted by maximum likelihood.

    Same API as :class:`workbench.models.clv.bgnbd.BetaGeoModel`; ``P(alive)`` is 1 for everyone.

    Attributes
    ----------
    params_ : dict
        ``r`` (dimensionless), ``alpha`` (time unit of the summary); the mean purchase rate
        is ``r / alpha`` purchases per unit.
    log_likelihood_, standard_errors_, covariance_log_, n_customers_, n_distinct_
        As for :class:`~workbench.models.clv.bgnbd.BetaGeoModel`.
    diagnosis : list of str
        Plain sentences on a degenerate fit (empty when the fit is regular).
    is_degenerate : bool

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"frequency": [0, 2, 5, 1], "recency": [0.0, 20.0, 30.0, 3.0],
    ...                   "T": [30.0, 35.0, 38.0, 39.0]})
    >>> m = NBDModel().fit(s)
    >>> round(m.params_["r"] / m.params_["alpha"], 4) > 0
    True
    """

    _param_names = ("r", "alpha")
    _model_name = "NBD"

    def fit(self, summary: pl.DataFrame, weights_col: str | None = None) -> NBDModel:
        """Fit by maximum likelihood on the distinct ``(frequency, T)`` rows.

        Parameters, return value and errors as for
        :meth:`workbench.models.clv.bgnbd.BetaGeoModel.fit` (at least 2 customers with repeat
        purchases, else :class:`~workbench.models.clv.NotEnoughDataError`).
        """
        stats, weights = history_rows(self._model_name, summary, weights_col, _COLS,
                                      grouped=("frequency", "T"))
        x, T = stats["frequency"], stats["T"]
        rate = float(weights @ x) / max(float(weights @ T), 1e-12)
        starts = [np.log([1.0, 1.0 / max(rate, 1e-12)]),
                  np.log([0.3, 0.3 / max(rate, 1e-12)])]

        def row_ll(lp: FloatArray, want_grad: bool) -> tuple[FloatArray, list[FloatArray] | None]:
            return nbd_row_loglik(lp, x, T, want_grad)

        out = maximize_likelihood(self._model_name, self._param_names,
                                  weighted_total(row_ll, weights), float(weights.sum()), starts,
                                  penalizer=self.penalizer, max_iter=self.max_iter, tol=self.tol)
        self._store_fit(out, float(weights.sum()), int(x.size))
        self._diagnose_rates_and_data(float(np.exp(out.log_params[0])),
                                      float(weights[x > 0].sum()))
        return self

    def _p(self) -> tuple[float, float]:
        self._check_fitted()
        return self.params_["r"], self.params_["alpha"]

    # ------------------------------------------------------------------ array API
    def p_alive_array(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """``P(alive) = 1``: the NBD model has no drop-out.  Dimensionless."""
        self._check_fitted()
        return np.ones(np.broadcast(np.asarray(x), np.asarray(t_x), np.asarray(T)).shape)

    def expected_purchases_array(self, horizon: float | FloatArray, x: FloatArray,
                                 t_x: FloatArray, T: FloatArray) -> FloatArray:
        """Conditional expected purchases in ``(T, T + horizon]``: ``(r+x) t / (alpha+T)``.

        The posterior of ``lambda`` after ``x`` purchases in ``(0, T]`` is
        ``Gamma(r+x, alpha+T)`` (Morrison & Schmittlein 1988, section 2); its mean times the
        horizon ``t``.  Unit: purchases.
        """
        r, alpha = self._p()
        x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
        return (r + x) * np.asarray(horizon, dtype=float) / (alpha + T)

    def expected_purchases_horizons(self, horizons: Sequence[float] | FloatArray,
                                    x: FloatArray, t_x: FloatArray,
                                    T: FloatArray) -> FloatArray:
        """The conditional expectation for several horizons: shape ``(len(horizons), n)``."""
        r, alpha = self._p()
        x, T = (np.asarray(v, dtype=float).ravel() for v in (x, T))
        hs = np.atleast_1d(np.asarray(horizons, dtype=float))
        return hs[:, None] * ((r + x) / (alpha + T))[None, :]

    def expected_purchases_new_customer_array(self, t: float | FloatArray) -> FloatArray:
        """Population ``E[X(t)] = r t / alpha`` (Ehrenberg 1959).  Unit: repeat purchases."""
        r, alpha = self._p()
        return r / alpha * np.atleast_1d(np.asarray(t, dtype=float))

    def probability_of_n_purchases_array(self, n: NDArray[np.int64] | int,
                                         t: float | FloatArray) -> FloatArray:
        """``P(X(t) = n)``: the negative binomial ``NB(n; r, alpha/(alpha+t))``.

        ``Gamma(r+n)/(Gamma(r) n!) (alpha/(alpha+t))^r (t/(alpha+t))^n`` (Ehrenberg 1959).
        Dimensionless.
        """
        r, alpha = self._p()
        n, t = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(t, dtype=float))
        safe_t = np.where(t > 0, t, 1.0)
        log_nb = (gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + t))
                  + np.where(n > 0, n * np.log(safe_t / (alpha + t)), 0.0))
        return np.exp(np.where((t == 0) & (n > 0), -np.inf, log_nb))

    # ------------------------------------------------------------------ frame API
    def predict(self, summary: pl.DataFrame, horizon: float) -> pl.DataFrame:
        """``customer_id``, ``expected_purchases`` (next ``horizon`` units), ``p_alive``."""
        h = as_horizon("horizon", horizon)
        x, t_x, T = self._arrays(summary)
        return id_frame(summary).with_columns(
            pl.Series("expected_purchases", self.expected_purchases_array(h, x, t_x, T)),
            pl.Series("p_alive", self.p_alive_array(x, t_x, T)))
