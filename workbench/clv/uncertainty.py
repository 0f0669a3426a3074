"""How sure are the predictions? Intervals from the uncertainty of the fitted parameters.

Method: parametric bootstrap from the asymptotic distribution of the maximum-likelihood
estimate (Efron & Tibshirani 1993, ch. 6; "simulation from the sampling distribution",
King, Tomz & Wittenberg 2000).  The fitters maximise the likelihood over the *log*
parameters ``phi = ln theta`` and store the inverse observed information there
(``model.covariance_log_``, :mod:`workbench.clv._fit`).  We draw ``phi* ~ N(phi_hat, Sigma)``
(``n_draws`` times, seeded), set ``theta* = exp(phi*)`` (always positive), recompute each
prediction once per distinct customer history and take the ``(1 - level)/2`` and
``(1 + level)/2`` quantiles of the draws.  The estimate is the prediction at the MLE, not the
mean of the draws.

What the interval covers: the uncertainty of the *expectation* (expected purchases, CLV)
that comes from estimating the parameters on a finite customer base.  It is not a
prediction interval for what one customer will actually buy (that adds the Poisson and
drop-out randomness of the customer herself, which is much larger).  For CLV the purchase and
spend parameters are drawn independently: the two models are fitted on separate likelihoods
(Gamma-Gamma assumes spend independent of the purchase process; FHL 2005b), so their joint
covariance is block-diagonal.

When the covariance is undefined (the Hessian is not positive definite: a degenerate fit),
no interval is given: the bounds are null and ``note`` says why.  A draw for which a
prediction is undefined (e.g. Gamma-Gamma with ``q <= 1`` has no finite mean spend) is left
out; when more than :data:`MAX_INVALID_SHARE` of the draws are left out for a customer, her
bounds are null with the reason.

Default: ``n_draws = 200``, enough for the 5 % and 95 % quantiles to within about 0.02 in
probability; raise it for publication figures.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from workbench.clv._fit import (
    FloatArray,
    as_horizon,
    id_frame,
    unique_inverse,
    validate_int,
    validate_summary,
)
from workbench.clv.diagnostics import model_diagnosis

#: Default number of parameter draws.
DEFAULT_DRAWS = 200
#: Largest share of draws allowed to give an undefined prediction before the interval is null.
MAX_INVALID_SHARE = 0.05


class _UnitSpend:
    """A spend model that predicts 1 per purchase (CLV then is discounted purchases)."""

    def expected_spend_array(self, x: FloatArray, m: FloatArray) -> FloatArray:
        return np.ones(np.shape(x))

    def expected_spend_or_null(self, x: FloatArray,
                               m: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
        """The spend-model protocol of :mod:`workbench.clv.value`: 1, never undefined."""
        return np.ones(np.shape(x)), np.zeros(np.shape(x), dtype=bool)


def _check_level(level: float) -> float:
    if not isinstance(level, (int, float)) or not 0 < float(level) < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return float(level)


def covariance_problem(model: Any) -> str | None:
    """Why ``model``'s parameter covariance cannot be used, or ``None`` when it can."""
    name = getattr(model, "_model_name", type(model).__name__)
    cov = getattr(model, "covariance_log_", None)
    if cov is None:
        return f"{name} is not fitted"
    cov = np.asarray(cov, dtype=float)
    if not np.all(np.isfinite(cov)) or np.any(np.linalg.eigvalsh(0.5 * (cov + cov.T)) <= 0):
        said = " ".join(model_diagnosis(model))
        return (f"no interval: the covariance of the {name} parameters is undefined (the "
                "likelihood is not curved in every direction at its maximum, a degenerate "
                "fit)" + (f". {said}" if said else "."))
    return None


def parameter_draws(model: Any, n_draws: int = DEFAULT_DRAWS, seed: int = 0) -> FloatArray:
    """Parameter vectors drawn from the asymptotic normal of the MLE in log space.

    ``theta* = exp(phi_hat + L z)``, ``z ~ N(0, I)``, ``L L' = covariance_log_``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_draws, n_params)``, natural parameters in ``model._param_names`` order.

    Raises
    ------
    ValueError
        When the covariance is undefined (:func:`covariance_problem`).
    """
    n_draws = validate_int("n_draws", n_draws, 2)
    problem = covariance_problem(model)
    if problem is not None:
        raise ValueError(problem)
    names = model._param_names
    phi = np.log([model.params_[k] for k in names])
    cov = np.asarray(model.covariance_log_, dtype=float)
    chol = np.linalg.cholesky(0.5 * (cov + cov.T))
    z = np.random.default_rng(seed).standard_normal((n_draws, len(names)))
    return np.exp(phi[None, :] + z @ chol.T)


def with_params(model: Any, theta: FloatArray) -> Any:
    """A shallow copy of a fitted model with other parameter values."""
    out = copy.copy(model)
    out.params_ = dict(zip(model._param_names, (float(v) for v in theta), strict=True))
    return out


def _quantiles(values: NDArray[np.float64], level: float) -> tuple[FloatArray, FloatArray,
                                                                   FloatArray]:
    """Per column: lower and upper quantile over the finite draws, and the invalid share."""
    finite = np.isfinite(values)
    invalid = 1.0 - finite.mean(axis=0)
    probs = [(1 - level) / 2, (1 + level) / 2]
    if np.all(finite):
        lo, hi = np.quantile(values, probs, axis=0)
    else:
        with warnings.catch_warnings():  # all-NaN columns give NaN bounds, said in the note
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanquantile(np.where(finite, values, np.nan), probs, axis=0)
    return lo, hi, invalid


def _frame(ids: pl.DataFrame, estimate: FloatArray, lower: FloatArray | None,
           upper: FloatArray | None, notes: list[str | None]) -> pl.DataFrame:
    n = ids.height
    lo = pl.Series("lower", lower if lower is not None else [None] * n, dtype=pl.Float64)
    hi = pl.Series("upper", upper if upper is not None else [None] * n, dtype=pl.Float64)
    return ids.with_columns(pl.Series("estimate", estimate, dtype=pl.Float64).fill_nan(None),
                            lo.fill_nan(None), hi.fill_nan(None),
                            pl.Series("note", notes, dtype=pl.String))


def _invalid_notes(invalid: FloatArray, what: str) -> tuple[NDArray[np.bool_], list[str | None]]:
    bad = invalid > MAX_INVALID_SHARE
    notes = [f"no interval: {what} is undefined in {share:.0%} of the parameter draws"
             if b else None for b, share in zip(bad, invalid, strict=True)]
    return bad, notes


def prediction_intervals(model: Any, summary: pl.DataFrame, t: float, level: float = 0.9,
                         n_draws: int = DEFAULT_DRAWS, seed: int = 0) -> pl.DataFrame:
    """Interval of each customer's conditional expected purchases in the next ``t`` units.

    Parametric bootstrap of the model's conditional expectation (BG/NBD FHL 2005 eq. 10;
    MBG/NBD BDF 2007 eq. 6; Pareto/NBD FH 2005 note eq. 41; NBD ``(r+x) t/(alpha+T)``); see
    the module docstring for the method and what the interval means.

    Parameters
    ----------
    model
        Fitted purchase model.
    summary
        ``frequency``, ``recency``, ``T`` (and ``customer_id``), in the model's unit.
    t
        Horizon in the model's time unit.
    level
        Coverage of the interval, in (0, 1).
    n_draws, seed
        Number of parameter draws and the seed of the generator.

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``estimate`` (purchases), ``lower``, ``upper`` (null when no interval
        can be given), ``note`` (why not, else null).
    """
    h = as_horizon("t", t)
    level = _check_level(level)
    n_draws = validate_int("n_draws", n_draws, 2)
    d = validate_summary(summary, ("frequency", "recency", "T"))
    (xu, txu, Tu), inv = unique_inverse([d["frequency"], d["recency"], d["T"]])
    estimate = np.asarray(model.expected_purchases_array(h, xu, txu, Tu), dtype=float)[inv]
    ids = id_frame(summary)
    problem = covariance_problem(model)
    if problem is not None:
        return _frame(ids, estimate, None, None, [problem] * summary.height)
    draws = parameter_draws(model, n_draws, seed)
    with np.errstate(all="ignore"):
        sims = np.vstack([with_params(model, th).expected_purchases_array(h, xu, txu, Tu)
                          for th in draws])
    lo, hi, invalid = _quantiles(sims, level)
    bad, notes = _invalid_notes(invalid[inv], "the expectation")
    lo, hi = np.where(bad, np.nan, lo[inv]), np.where(bad, np.nan, hi[inv])
    return _frame(ids, estimate, lo, hi, notes)


def population_interval(model: Any, t: float | list[float], level: float = 0.9,
                        n_draws: int = DEFAULT_DRAWS, seed: int = 0) -> pl.DataFrame:
    """Interval of the population expectation ``E[X(t)]`` of a newly acquired customer.

    The model's unconditional expectation (BG/NBD FHL 2005 eq. 9; MBG/NBD BDF 2007 eq. 3;
    Pareto/NBD FH 2005 note eq. 27; NBD ``r t / alpha``), bootstrapped as
    :func:`prediction_intervals`.

    Returns
    -------
    polars.DataFrame
        ``t`` (time units), ``estimate`` (repeat purchases), ``lower``, ``upper``, ``note``.
    """
    ts = np.atleast_1d(np.asarray(t, dtype=float))
    if np.any(~np.isfinite(ts)) or np.any(ts < 0):
        raise ValueError("t must be finite and >= 0")
    level = _check_level(level)
    estimate = np.asarray(model.expected_purchases_new_customer_array(ts), dtype=float)
    ids = pl.DataFrame({"t": ts})
    problem = covariance_problem(model)
    if problem is not None:
        return _frame(ids, estimate, None, None, [problem] * ts.size)
    draws = parameter_draws(model, n_draws, seed)
    with np.errstate(all="ignore"):
        sims = np.vstack([with_params(model, th).expected_purchases_new_customer_array(ts)
                          for th in draws])
    lo, hi, invalid = _quantiles(sims, level)
    bad, notes = _invalid_notes(invalid, "the expectation")
    return _frame(ids, estimate, np.where(bad, np.nan, lo), np.where(bad, np.nan, hi), notes)


def clv_intervals(fit: Any, summary: pl.DataFrame, level: float = 0.9,
                  n_draws: int = DEFAULT_DRAWS, seed: int = 0) -> pl.DataFrame:
    """Intervals of each customer's expected purchases and CLV of a :class:`ClvFit`.

    The purchase and the spend parameters are drawn independently (module docstring) and the
    CLV recomputed with :func:`workbench.clv.customer_lifetime_value` (the discounted sum of
    FHL 2005b) on the distinct ``(frequency, recency, T, monetary_value)`` rows, with the
    fit's horizon, period, margin, unit and discount rate.

    Parameters
    ----------
    fit
        :class:`workbench.clv.ClvFit` (``purchase_model``, ``spend_model`` and settings).
    summary
        The summary the fit was made on (``customer_id``, ``frequency``, ``recency``, ``T``,
        ``monetary_value``).
    level, n_draws, seed
        As for :func:`prediction_intervals`.

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``expected_purchases``, ``expected_purchases_lower``,
        ``expected_purchases_upper`` (over the horizon), ``clv``, ``clv_lower``,
        ``clv_upper`` (currency), ``interval_note`` (why a bound is null, else null).
    """
    from workbench.clv.value import customer_lifetime_value

    level = _check_level(level)
    n_draws = validate_int("n_draws", n_draws, 2)
    d = validate_summary(summary, ("frequency", "recency", "T", "monetary_value"))
    # CLV = (discounted expected purchases) x (expected spend) x margin: the first factor is
    # computed by customer_lifetime_value itself (a unit spend and margin 1) per distinct
    # (x, t_x, T), the second per distinct (x, m); so every draw costs the distinct histories
    (xu, txu, Tu), inv_p = unique_inverse([d["frequency"], d["recency"], d["T"]])
    (xs, ms), inv_s = unique_inverse([d["frequency"], d["monetary_value"]])
    distinct = pl.DataFrame({"frequency": xu, "recency": txu, "T": Tu,
                             "monetary_value": np.zeros_like(xu)})
    kw = {"margin": 1.0, "unit": fit.unit, "period": fit.period,
          "annual_discount_rate": fit.annual_discount_rate}

    def values(purchase: Any, spend: Any) -> tuple[FloatArray, FloatArray]:
        out = customer_lifetime_value(distinct, purchase, _UnitSpend(), fit.horizon_periods,
                                      **kw)
        money = np.asarray(spend.expected_spend_array(xs, ms), dtype=float)[inv_s]
        disc = out["clv"].fill_null(np.nan).to_numpy()[inv_p]
        return out["expected_purchases"].fill_null(np.nan).to_numpy()[inv_p], \
            disc * money * fit.margin

    e_hat, c_hat = values(fit.purchase_model, fit.spend_model)
    ids = id_frame(summary)
    problems = [p for p in (covariance_problem(fit.purchase_model),
                            covariance_problem(fit.spend_model)) if p]
    base = ids.with_columns(pl.Series("expected_purchases", e_hat).fill_nan(None))
    n = summary.height
    if covariance_problem(fit.purchase_model) is not None:
        e_lo = e_hi = c_lo = c_hi = np.full(n, np.nan)
        notes: list[str | None] = [" ".join(problems)] * n
    else:
        p_draws = parameter_draws(fit.purchase_model, n_draws, seed)
        s_draws = (parameter_draws(fit.spend_model, n_draws, seed + 1)
                   if covariance_problem(fit.spend_model) is None else None)
        e_sims = np.empty((n_draws, n))
        c_sims = np.empty((n_draws, n))
        with np.errstate(all="ignore"):
            for k in range(n_draws):
                purchase = with_params(fit.purchase_model, p_draws[k])
                spend = (with_params(fit.spend_model, s_draws[k]) if s_draws is not None
                         else fit.spend_model)
                e_sims[k], c_sims[k] = values(purchase, spend)
        e_lo, e_hi, _ = _quantiles(e_sims, level)
        c_lo, c_hi, c_bad = _quantiles(c_sims, level)
        bad, notes = _invalid_notes(c_bad, "the CLV (expected spend)")
        c_lo, c_hi = np.where(bad, np.nan, c_lo), np.where(bad, np.nan, c_hi)
        if s_draws is None:  # spend uncertainty unknown: no CLV interval rather than a narrow one
            c_lo = c_hi = np.full(n, np.nan)
            notes = [" ".join(problems)] * n
    return base.with_columns(
        pl.Series("expected_purchases_lower", e_lo).fill_nan(None),
        pl.Series("expected_purchases_upper", e_hi).fill_nan(None),
        pl.Series("clv", c_hat).fill_nan(None),
        pl.Series("clv_lower", c_lo).fill_nan(None),
        pl.Series("clv_upper", c_hi).fill_nan(None),
        pl.Series("interval_note", notes, dtype=pl.String),
    )
