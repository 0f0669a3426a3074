"""Gamma-Gamma model of spend per purchase.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV: using iso-value curves
for customer base analysis", *Journal of Marketing Research* 42(4), 415-430 (FHL 2005b),
and Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma model of monetary value"
(note 025; below FH 2013 note).  A customer's transaction values are
``z ~ Gamma(p, nu)`` around her mean ``p / nu``; across customers ``nu ~ Gamma(q, gamma)``.
The model uses each repeat customer's number of repeat purchases ``x`` and their mean
value ``m`` (``monetary_value``, currency); ``gamma`` is in currency, ``p`` and ``q``
dimensionless.  It assumes spend per purchase is independent of purchase frequency: see
:func:`check_spend_frequency_independence`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy import stats
from scipy.special import digamma, gammaln

from workbench.errors import UndefinedPredictionError
from workbench.models.clv._fit import (
    FittedParamsMixin,
    FloatArray,
    NotEnoughDataError,
    group_rows,
    id_frame,
    maximize_likelihood,
    require_customers,
    validate_int,
    validate_positive_number,
    validate_summary,
    weighted_total,
)

_COLS = ("frequency", "monetary_value")


class GammaGammaAssumptionWarning(UserWarning):
    """A Gamma-Gamma assumption fails: spend per purchase looks dependent on purchase
    frequency, or the fitted ``q <= 1`` (spend so heavy-tailed that its mean is infinite)."""


#: Reason given per customer when the conditional expected spend is undefined.
UNDEFINED_SPEND_REASON = "spend model undefined: p*x+q <= 1"


def q_at_most_one_message(q: float) -> str:
    """The plain-language meaning of a fitted ``q <= 1`` (FH 2013 note, eq. 5)."""
    return (f"Gamma-Gamma fitted q = {q:.3g} <= 1: spend per purchase is so heavy-tailed that "
            "the model's average spend is infinite; expected spend (and CLV) is undefined for "
            "one-time buyers and for customers with p*x+q <= 1, and is shown as missing for "
            "them; consider capping extreme order values or a longer history")


@dataclass(frozen=True)
class IndependenceCheck:
    """Result of :func:`check_spend_frequency_independence`.

    Attributes
    ----------
    n_customers
        Repeat customers used (``frequency > 0`` and ``monetary_value > 0``).
    pearson, pearson_p_value
        Pearson correlation of frequency and monetary value, two-sided p-value.
    spearman, spearman_p_value
        Spearman rank correlation and its p-value.
    threshold, alpha
        The limits applied.
    violated
        True when ``|correlation| > threshold`` or a correlation is significant at
        ``alpha``.
    """

    n_customers: int
    pearson: float
    pearson_p_value: float
    spearman: float
    spearman_p_value: float
    threshold: float
    alpha: float
    violated: bool


def check_spend_frequency_independence(
    summary: pl.DataFrame, threshold: float = 0.3, alpha: float = 0.05
) -> IndependenceCheck:
    """Test the Gamma-Gamma independence assumption (FHL 2005b, section "spend model").

    The model assumes the mean spend per purchase is independent of how often a customer
    buys; Fader & Hardie check it with the correlation between ``frequency`` and
    ``monetary_value`` among repeat customers (0.11 on CDNOW).  Warns with
    :class:`GammaGammaAssumptionWarning` when either the Pearson or the Spearman
    correlation exceeds ``threshold`` in absolute value or is significant at ``alpha``.

    Parameters
    ----------
    summary
        Customer summary with ``frequency`` and ``monetary_value``.
    threshold
        Largest tolerated absolute correlation (default 0.3).
    alpha
        Significance level of the two-sided tests (default 0.05).  With thousands of
        customers even a negligible correlation is significant; read the correlation
        itself first.

    Returns
    -------
    IndependenceCheck

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"frequency": [1, 2, 3, 4, 5], "monetary_value": [10., 12., 9., 11., 10.]})
    >>> round(check_spend_frequency_independence(s).pearson, 3)
    -0.139
    """
    threshold = validate_positive_number("threshold", threshold, allow_zero=True)
    alpha = validate_positive_number("alpha", alpha)
    d = validate_summary(summary, _COLS, check_recency=False)
    use = (d["frequency"] > 0) & (d["monetary_value"] > 0)
    f, m = d["frequency"][use], d["monetary_value"][use]
    if f.size < 3 or np.ptp(f) == 0 or np.ptp(m) == 0:
        raise NotEnoughDataError(
            f"the independence check needs at least 3 repeat customers with varying frequency "
            f"and monetary_value; found {f.size}"
        )
    pr = stats.pearsonr(f, m)
    sr = stats.spearmanr(f, m)
    pc, pp = float(pr.statistic), float(pr.pvalue)
    sc, sp = float(sr.statistic), float(sr.pvalue)
    violated = max(abs(pc), abs(sc)) > threshold or min(pp, sp) < alpha
    if violated:
        warnings.warn(
            f"Gamma-Gamma assumption: frequency and monetary_value are correlated among the "
            f"{f.size} repeat customers (Pearson {pc:.3f}, p={pp:.2g}; Spearman {sc:.3f}, "
            f"p={sp:.2g}; threshold |r| > {threshold}, alpha {alpha}); expected spend may be "
            "biased",
            GammaGammaAssumptionWarning,
            stacklevel=2,
        )
    return IndependenceCheck(int(f.size), pc, pp, sc, sp, threshold, alpha, violated)


@dataclass(frozen=True)
class _SpendData:
    """The parameter-free parts of the Gamma-Gamma likelihood, computed once per fit.

    ``x`` takes few distinct values (purchase counts), so the Gamma-function terms, which depend
    on the parameters only through ``p x``, are evaluated per distinct ``x`` and gathered.
    """

    x: FloatArray
    m: FloatArray
    log_m: FloatArray
    log_x: FloatArray
    mx: FloatArray
    x_unique: FloatArray
    x_index: np.ndarray

    @classmethod
    def build(cls, x: FloatArray, m: FloatArray) -> _SpendData:
        xu, idx = np.unique(x, return_inverse=True)
        return cls(x, m, np.log(m), np.log(x), m * x, xu, idx)


def gamma_gamma_row_loglik(log_params: FloatArray, x: FloatArray | _SpendData,
                           m: FloatArray | None = None,
                           want_grad: bool = False) -> tuple[FloatArray, list[FloatArray] | None]:
    """Log density of a customer's mean spend ``m`` over ``x`` purchases (FH 2013 note eq. 1a).

    ``f(m | p, q, gamma; x) = Gamma(px+q) / (Gamma(px) Gamma(q)) gamma^q m^(px-1) x^(px)
    / (gamma + m x)^(px+q)``, and its analytic gradient with respect to
    ``(ln p, ln q, ln gamma)``.  ``x`` may be a prepared :class:`_SpendData` (then ``m`` is
    ignored), which the fit uses to avoid recomputing the parameter-free terms.
    """
    data = x if isinstance(x, _SpendData) else _SpendData.build(np.asarray(x, float),
                                                                np.asarray(m, float))
    p, q, g = np.exp(log_params)
    pxu = p * data.x_unique
    px = p * data.x
    log_gmx = np.log(g + data.mx)
    ll = ((gammaln(pxu + q) - gammaln(pxu))[data.x_index] - gammaln(q) + q * np.log(g)
          + (px - 1) * data.log_m + px * data.log_x - (px + q) * log_gmx)
    if not want_grad:
        return ll, None
    psi_u = digamma(pxu + q)
    psi = psi_u[data.x_index]
    d_p = data.x * ((psi_u - digamma(pxu))[data.x_index] + data.log_m + data.log_x - log_gmx)
    d_q = psi - digamma(q) + np.log(g) - log_gmx
    d_g = q / g - (px + q) / (g + data.mx)
    return ll, [d_p * p, d_q * q, d_g * g]


class GammaGammaModel(FittedParamsMixin):
    """Gamma-Gamma spend model fitted by maximum likelihood.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * (p^2 + q^2 + gamma^2)`` on the mean negative
        log-likelihood (``lifetimes`` convention); 0 = plain MLE.
    max_iter, tol
        Optimiser iteration limit and gradient tolerance.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``gamma`` (``gamma`` in currency; called ``v`` in ``lifetimes``).
    n_customers_ : int
        Customers used: ``frequency > 0`` and ``monetary_value > 0``.
    n_excluded_ : int
        Customers set aside (one-time buyers, zero or negative mean spend).

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> s = customer_summary(read_cdnow("sample_data/cdnow/CDNOW_sample.txt"), "1997-09-30")
    >>> gg = GammaGammaModel().fit(s)  # CDNOW, 946 repeat buyers: FHL 2005b report p, q, gamma
    >>> {k: round(v, 2) for k, v in gg.params_.items()}, gg.n_customers_
    ({'p': 6.25, 'q': 3.74, 'gamma': 15.44}, 946)
    """

    _param_names = ("p", "q", "gamma")
    _model_name = "Gamma-Gamma"

    def __init__(self, penalizer: float = 0.0, max_iter: int = 1000, tol: float = 1e-8) -> None:
        self.penalizer = validate_positive_number("penalizer", penalizer, allow_zero=True)
        self.max_iter = validate_int("max_iter", max_iter, 1)
        self.tol = validate_positive_number("tol", tol)

    def fit(self, summary: pl.DataFrame, weights_col: str | None = None) -> GammaGammaModel:
        """Fit on the repeat customers (``frequency > 0`` and ``monetary_value > 0``).

        Customers outside that set are excluded (counted in ``n_excluded_``, and reported
        in ``fit_report_``); the likelihood runs on distinct ``(frequency,
        monetary_value)`` rows with weights.

        Raises
        ------
        ValueError
            Missing columns or invalid values.
        workbench.models.clv.NotEnoughDataError
            Fewer than 2 usable customers (a ``ModelError``, also a ``ValueError``).
        ConvergenceError
            When the optimiser does not converge.
        """
        cols = list(_COLS) + ([weights_col] if weights_col else [])
        d = validate_summary(summary, cols, check_recency=False)
        w = d.pop(weights_col) if weights_col else np.ones(summary.height)
        use = (d["frequency"] > 0) & (d["monetary_value"] > 0) & (w > 0)
        n_used, n_all = float(w[use].sum()), float(w.sum())
        require_customers(self._model_name, "with repeat purchases and a positive mean spend "
                          "(frequency > 0 and monetary_value > 0)", int(use.sum()), 2,
                          summary.height)
        stats_, weights = group_rows({c: d[c][use] for c in _COLS}, w[use])
        x, m = stats_["frequency"], stats_["monetary_value"]
        mean_m = float(weights @ m) / float(weights.sum())
        starts = [np.log([1.0, 2.0, mean_m]), np.log([5.0, 5.0, 0.8 * mean_m])]

        prepared = _SpendData.build(x, m)

        def row_ll(lp: FloatArray, want_grad: bool) -> tuple[FloatArray, list[FloatArray] | None]:
            return gamma_gamma_row_loglik(lp, prepared, want_grad=want_grad)

        out = maximize_likelihood(self._model_name, self._param_names,
                                  weighted_total(row_ll, weights), float(weights.sum()),
                                  starts, penalizer=self.penalizer, max_iter=self.max_iter,
                                  tol=self.tol)
        self._store_fit(out, n_used, int(x.size))
        self.n_excluded_ = int(round(n_all - n_used))
        self.fit_report_ = (
            f"Gamma-Gamma fitted on {self.n_customers_} repeat customers "
            f"(frequency > 0 and monetary_value > 0); {self.n_excluded_} excluded"
        )
        q = self.params_["q"]
        if q <= 1:
            msg = q_at_most_one_message(q)
            self._diagnose(msg, degenerate=False)
            warnings.warn(msg, GammaGammaAssumptionWarning, stacklevel=2)
        return self

    def _p(self) -> tuple[float, float, float]:
        self._check_fitted()
        return self.params_["p"], self.params_["q"], self.params_["gamma"]

    def population_mean_spend(self) -> float:
        """``E[M] = p gamma / (q - 1)`` (FH 2013 note, mean of the spend distribution).

        Currency per purchase; infinite (returned as ``nan`` with a warning) when
        ``q <= 1``.
        """
        p, q, g = self._p()
        if q <= 1:
            warnings.warn("Gamma-Gamma q <= 1: the population mean spend is infinite",
                          RuntimeWarning, stacklevel=2)
            return float("nan")
        return p * g / (q - 1)

    def expected_spend_or_null(self, x: FloatArray,
                               m: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Conditional expected spend per purchase with NaN where it is undefined.

        FH 2013 note eq. (5): ``E[M | p, q, gamma, m, x] = p (gamma + m x) / (p x + q - 1)``,
        the weighted mean ``(q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * m`` of the
        population mean and the customer's own mean.  A customer with ``x = 0`` (a one-time
        buyer, whose ``monetary_value`` carries no repeat spend) or ``m <= 0`` gets the
        population mean ``p gamma / (q - 1)`` (eq. 5 at ``x = 0``: the prior mean).  The
        expectation exists only when ``p x + q > 1`` (the posterior of ``nu`` is
        ``Gamma(px + q, gamma + m x)`` and ``E[1/nu]`` needs shape > 1); elsewhere the value
        is NaN and the returned mask is True.  Currency per purchase.
        """
        p, q, g = self._p()
        x = np.asarray(x, dtype=float)
        m = np.asarray(m, dtype=float)
        rep = (x > 0) & (m > 0)
        xr = np.where(rep, x, 0.0)
        mr = np.where(rep, m, 0.0)
        denom = p * xr + q - 1
        undefined = denom <= 0
        out = np.full(np.broadcast(xr, mr).shape, np.nan)
        ok = ~undefined
        out[ok] = (p * (g + mr * xr) / np.where(ok, denom, 1.0))[ok]
        return out, undefined

    def expected_spend_array(self, x: FloatArray, m: FloatArray) -> FloatArray:
        """Conditional expected spend per purchase, FH 2013 note eq. (5) (FHL 2005b).

        See :meth:`expected_spend_or_null`.  Never NaN and never negative: raises when the
        expectation is undefined for some customer.

        Raises
        ------
        workbench.errors.UndefinedPredictionError
            Some customer has ``p x + q <= 1`` (``x = 0`` counts as ``x = 0``); use
            :meth:`expected_spend` (null and a reason per customer) or
            :meth:`expected_spend_or_null`.
        """
        out, undefined = self.expected_spend_or_null(x, m)
        if np.any(undefined):
            p, q, _ = self._p()
            raise UndefinedPredictionError(
                f"Gamma-Gamma expected spend is undefined for {int(undefined.sum())} of "
                f"{undefined.size} customers: p*x+q <= 1 (p={p:.4g}, q={q:.4g}); the model's "
                "mean spend is infinite for them. Use expected_spend() for a null and a reason "
                "per customer.")
        return out

    def expected_spend(self, summary: pl.DataFrame) -> pl.DataFrame:
        """Per customer: ``customer_id``, ``expected_spend`` (eq. 5; currency per purchase)
        and ``reason``.

        One-time buyers get the population mean ``p gamma / (q - 1)``.  Where the
        expectation is undefined (``p x + q <= 1``, e.g. every one-time buyer when
        ``q <= 1``) ``expected_spend`` is null and ``reason`` says why
        (:data:`UNDEFINED_SPEND_REASON`); ``reason`` is null elsewhere.
        """
        d = validate_summary(summary, _COLS, check_recency=False)
        vals, undefined = self.expected_spend_or_null(d["frequency"], d["monetary_value"])
        if np.any(undefined):
            warnings.warn(f"Gamma-Gamma: expected spend is undefined (infinite) for "
                          f"{int(undefined.sum())} customers with p*x+q <= 1; returned as "
                          "null with a reason", RuntimeWarning, stacklevel=2)
        reason = pl.Series("reason", [UNDEFINED_SPEND_REASON if u else None for u in undefined],
                           dtype=pl.String)
        return id_frame(summary).with_columns(
            pl.Series("expected_spend", vals).fill_nan(None), reason)

    def predict(self, summary: pl.DataFrame) -> pl.DataFrame:
        """Alias of :meth:`expected_spend`."""
        return self.expected_spend(summary)
