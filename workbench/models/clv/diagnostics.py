"""Diagnostics of a fitted purchase model, as the BTYD packages show them.

Each function is pure: a fitted model (BG/NBD, MBG/NBD, Pareto/NBD or NBD) and data in, a
Polars frame out, ready for the charts of :mod:`workbench.presentation.charts.clv_diagnostics`.

* :func:`repeat_count_fit`: observed against expected number of customers by number of repeat
  purchases in the calibration period (FHL 2005, Figure 1; the ``BTYD`` package's
  ``bgnbd.PlotFrequencyInCalibration``);
* :func:`expected_purchases_matrix`: conditional expected purchases over a horizon on a
  frequency x recency grid (FHL 2005b's iso-value view; ``lifetimes``'
  ``plot_frequency_recency_matrix``);
* :func:`p_alive_history`: P(alive) of one customer through time, given her purchases
  (``BTYD``'s ``bgnbd.PlotPaliveHistory``); :func:`customer_purchase_times` builds the input;
* :func:`heterogeneity_distributions`: the fitted mixing distributions (gamma density of the
  purchase rate ``lambda``; beta density of the drop-out probability ``p`` for BG/NBD and
  MBG/NBD; gamma density of the drop-out rate ``mu`` for Pareto/NBD);
* :func:`model_diagnosis`: the plain sentences a fitted model
  carries about a degenerate fit (``model.diagnosis``); when the model does not carry them
  (models fitted before that existed), a short check of the covariance and the boundaries.

References: Fader, Hardie & Lee (2005), "'Counting your customers' the easy way",
*Marketing Science* 24(2) (FHL 2005); Fader, Hardie & Lee (2005b), "RFM and CLV: using
iso-value curves for customer base analysis", *JMR* 42(4); Batislam, Denizel & Filiztekin
(2007), *IJRM* 24(3) (MBG/NBD); Schmittlein, Morrison & Colombo (1987), *Management Science*
33(1) (Pareto/NBD).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from workbench.errors import NotFittedError
from workbench.models.clv._fit import FloatArray, validate_int, validate_summary
from workbench.models.clv.holdout import frequency_recency_grid

#: A drop-out probability per purchase below this mean (``a / (a + b)``) or a Pareto/NBD mean
#: lifetime (``beta / s`` time units) above this many times the longest customer age counts as
#: "no drop-out".
NO_DROPOUT_MEAN_P = 1e-4
#: Parameters beyond these bounds are said to have run to a boundary of the parameter space.
BOUNDARY_LOW, BOUNDARY_HIGH = 1e-6, 1e6


# --------------------------------------------------------------------------- degenerate fits


def _fallback_sentences(model: Any) -> list[str]:
    params: dict[str, float] = getattr(model, "params_", {})
    name = getattr(model, "_model_name", type(model).__name__)
    out: list[str] = []
    if set(params) >= {"a", "b"}:
        a, b = params["a"], params["b"]
        if a / (a + b) < NO_DROPOUT_MEAN_P:
            out.append(f"The data do not show customers dropping out ({name} fitted a = {a:.3g},"
                       f" b = {b:.3g}, a mean drop-out chance per purchase of "
                       f"{a / (a + b):.2g}); its predictions equal those of an NBD model "
                       "without drop-out.")
    if set(params) >= {"s", "beta"} and params["s"] < BOUNDARY_LOW * 1e3:
        out.append(f"The data do not show customers dropping out ({name} fitted s = "
                   f"{params['s']:.3g}); its predictions equal those of an NBD model without "
                   "drop-out.")
    for key, value in params.items():
        if not BOUNDARY_LOW < value < BOUNDARY_HIGH and not out:
            out.append(f"{name}: parameter {key} ran to {value:.3g}, the edge of what the data "
                       "can determine; read its predictions with care.")
    cov = getattr(model, "covariance_log_", None)
    if cov is not None and not np.all(np.isfinite(cov)):
        out.append(f"{name}: the likelihood is flat in some direction at its maximum (the "
                   "Hessian is not positive definite), so the parameters have no standard "
                   "errors and no intervals can be given for its predictions.")
    return out


def model_diagnosis(model: Any) -> list[str]:
    """Plain sentences about a degenerate fit of ``model`` (empty when the fit is regular).

    ``model.diagnosis`` when the model carries it (the fitting code's own diagnosis);
    otherwise a short check: a covariance that is not finite (Hessian not positive definite),
    a drop-out process that vanished (BG/NBD, MBG/NBD ``a / (a + b) < 1e-4``; Pareto/NBD
    ``s < 1e-3``) or a parameter outside ``(1e-6, 1e6)``.
    """
    diagnosis = getattr(model, "diagnosis", None)
    if diagnosis is not None:
        return [str(s) for s in diagnosis]
    return _fallback_sentences(model)


def is_degenerate(model: Any) -> bool:
    """``model.is_degenerate`` when the model carries it, else whether
    :func:`model_diagnosis` has anything to say."""
    flag = getattr(model, "is_degenerate", None)
    if flag is not None:
        return bool(flag)
    return bool(model_diagnosis(model))


# --------------------------------------------------------------------------- repeat counts


def _pmf(model: Any, n: FloatArray, t: FloatArray) -> FloatArray:
    """``P(X(t_j) = n_k)``, shape ``(len(n), len(t))``; one call per ``t`` when the model's
    formula takes a scalar time only (Pareto/NBD)."""
    try:
        out = model.probability_of_n_purchases_array(n[:, None], t[None, :])
        out = np.asarray(out, dtype=float)
        if out.shape == (n.size, t.size):
            return out
    except (TypeError, ValueError):
        pass
    return np.column_stack([np.asarray(model.probability_of_n_purchases_array(n, float(tj)),
                                       dtype=float) for tj in t])


def repeat_count_fit(model: Any, summary: pl.DataFrame, max_frequency: int = 7) -> pl.DataFrame:
    """Observed vs expected number of customers by repeat purchases in the calibration period.

    Expected customers with ``n`` repeat purchases: ``sum_i P(X(T_i) = n)``, the model's
    probability of ``n`` repeat purchases in a customer's own observation time ``T_i``
    (BG/NBD: FHL 2005 eq. 8; MBG/NBD: BDF 2007 eq. 2; Pareto/NBD: Fader & Hardie 2006 note;
    NBD: the negative binomial), computed once per distinct ``T``.  This is FHL 2005's
    Figure 1 for customers of unequal age.

    Parameters
    ----------
    model
        Purchase model fitted on ``summary``.
    summary
        ``frequency`` and ``T`` per customer (time in the model's unit).
    max_frequency
        Last bucket; it pools ``max_frequency`` and more (``"7+"``).

    Returns
    -------
    polars.DataFrame
        ``frequency`` (Int64, bucket's lower end), ``frequency_bucket`` (str), ``observed``
        and ``expected`` (customers), ``difference`` (expected - observed).
    """
    max_frequency = validate_int("max_frequency", max_frequency, 1)
    d = validate_summary(summary, ("frequency", "T"), check_recency=False)
    x = np.minimum(d["frequency"], max_frequency).astype(np.int64)
    observed = np.bincount(x, minlength=max_frequency + 1).astype(float)
    t_u, counts = np.unique(d["T"], return_counts=True)
    n = np.arange(max_frequency, dtype=float)
    pmf = _pmf(model, n, t_u) if t_u.size else np.zeros((max_frequency, 0))
    expected = pmf @ counts.astype(float)
    expected = np.append(expected, max(float(counts.sum()) - float(expected.sum()), 0.0))
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    return pl.DataFrame({
        "frequency": np.arange(max_frequency + 1, dtype=np.int64), "frequency_bucket": labels,
        "observed": observed, "expected": expected, "difference": expected - observed})


# --------------------------------------------------------------------------- matrices


def expected_purchases_matrix(model: Any, horizon: float, max_frequency: int, max_recency: int,
                              T: float | None = None) -> pl.DataFrame:
    """Conditional expected purchases in the next ``horizon`` over frequency x recency.

    For a customer of age ``T`` (default ``max_recency``) with ``frequency`` repeat
    purchases, the last at ``recency``: the model's conditional expectation (BG/NBD FHL 2005
    eq. 10; MBG/NBD BDF 2007 eq. 6; Pareto/NBD Fader & Hardie 2005 note eq. 41; NBD
    ``(r+x) t/(alpha+T)``).  Cells with ``frequency = 0`` and ``recency > 0`` are
    impossible and omitted.

    Returns
    -------
    polars.DataFrame
        ``frequency`` (Int64), ``recency``, ``T`` (time units), ``expected_purchases``
        (purchases in the horizon).
    """
    if not (isinstance(horizon, (int, float)) and math.isfinite(horizon) and horizon >= 0):
        raise ValueError(f"horizon must be a finite number >= 0, got {horizon!r}")
    f, r, age = frequency_recency_grid(max_frequency, max_recency, T)
    ages = np.full(r.shape, age)
    e = model.expected_purchases_array(float(horizon), f.astype(float), r, ages)
    return pl.DataFrame({"frequency": f.astype(np.int64), "recency": r, "T": ages,
                         "expected_purchases": np.asarray(e, dtype=float)})


# --------------------------------------------------------------------------- P(alive) history

_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}


def customer_purchase_times(transactions: pl.DataFrame, customer_id: Any,
                            as_of: dt.date | str, unit: str = "W") -> tuple[list[float], float]:
    """One customer's purchase times, in ``unit`` since her first purchase, and her age.

    Purchases on one day count once (as in the customer summary); orders after ``as_of``
    are ignored.  Months are mean calendar months (365.25 / 12 days), so times may differ
    from a monthly summary's calendar-month counts by a fraction of a month.

    Returns
    -------
    (times, T)
        Sorted purchase times (the first is 0) and the time from the first purchase to
        ``as_of``.

    Raises
    ------
    ValueError
        When the customer has no purchase on or before ``as_of``.
    """
    if unit not in _UNIT_DAYS:
        raise ValueError(f"unit must be one of {sorted(_UNIT_DAYS)}, got {unit!r}")
    end = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    days = (transactions.filter(pl.col("customer_id").cast(pl.String) == str(customer_id))
            .select(pl.col("order_date").cast(pl.Date).alias("day"))
            .filter(pl.col("day") <= end).unique().sort("day")["day"].to_list())
    if not days:
        raise ValueError(f"customer {customer_id!r} has no purchase on or before {end}")
    first = days[0]
    u = _UNIT_DAYS[unit]
    return [(d - first).days / u for d in days], (end - first).days / u


def p_alive_history(model: Any, purchase_times: Sequence[float], T: float,
                    step: float = 1.0) -> pl.DataFrame:
    """P(alive) of one customer at each time from her first purchase to ``T``.

    At time ``tau`` the customer's history is ``x(tau)`` repeat purchases up to ``tau``, the
    last at ``t_x(tau)``, and age ``tau``; P(alive) is the model's (BG/NBD: FHL 2008 note;
    MBG/NBD: BDF 2007 eq. 5; Pareto/NBD: FH 2005 note eq. 18; NBD: 1).  The grid is every
    ``step`` time units plus each purchase time, so the jump at a purchase shows.

    Parameters
    ----------
    model
        Fitted purchase model (time unit of ``purchase_times``).
    purchase_times
        Purchase times since the first purchase (the first is 0), e.g. from
        :func:`customer_purchase_times`.
    T
        End of the history (the customer's age at the as-of date).
    step
        Grid spacing, in time units.

    Returns
    -------
    polars.DataFrame
        ``t`` (time units since the first purchase), ``frequency``, ``recency``,
        ``p_alive``, ``purchase`` (True at a purchase time).
    """
    times = np.sort(np.asarray(purchase_times, dtype=float))
    if times.size == 0 or not np.all(np.isfinite(times)) or times[0] < 0:
        raise ValueError("purchase_times must be finite, non-negative and not empty")
    times = times - times[0]
    if not (math.isfinite(T) and T >= times[-1]):
        raise ValueError(f"T ({T!r}) must be finite and >= the last purchase time")
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be > 0, got {step!r}")
    grid = np.unique(np.concatenate([np.arange(0.0, T, step), [T], times]))
    count = np.searchsorted(times, grid, side="right")  # purchases at or before each time
    x = (count - 1).astype(float)
    t_x = times[count - 1]
    pa = model.p_alive_array(x, t_x, grid)
    return pl.DataFrame({"t": grid, "frequency": x.astype(np.int64), "recency": t_x,
                         "p_alive": np.asarray(pa, dtype=float),
                         "purchase": np.isin(grid, times)})


# --------------------------------------------------------------------------- heterogeneity


def heterogeneity_distributions(model: Any, n_points: int = 200) -> pl.DataFrame:
    """The fitted mixing distributions of a purchase model, as densities on a grid.

    * purchase rate ``lambda ~ Gamma(shape r, rate alpha)`` (every model; FHL 2005 eq. 2),
      in purchases per time unit, mean ``r / alpha``;
    * BG/NBD and MBG/NBD: drop-out probability per purchase ``p ~ Beta(a, b)`` (FHL 2005
      eq. 4; BDF 2007), mean ``a / (a + b)``;
    * Pareto/NBD: drop-out rate ``mu ~ Gamma(shape s, rate beta)`` (SMC 1987), per time unit,
      mean ``s / beta``.

    The grid runs over the 0.5 % to 99.5 % quantiles (evenly in probability, so it follows the
    mass even when a density is infinite at 0).

    Returns
    -------
    polars.DataFrame
        ``quantity`` (label), ``parameter`` (``"lambda"``, ``"p"`` or ``"mu"``), ``value``,
        ``density``, ``mean`` (of the distribution).
    """
    n_points = validate_int("n_points", n_points, 10)
    params: dict[str, float] = getattr(model, "params_", None) or {}
    if not params:
        raise NotFittedError(type(model).__name__)
    probs = np.linspace(0.005, 0.995, n_points)
    dists: list[tuple[str, str, Any]] = [
        ("lambda", "Purchase rate per time unit (gamma)",
         stats.gamma(params["r"], scale=1.0 / params["alpha"]))]
    if "a" in params and "b" in params:
        dists.append(("p", "Drop-out probability per purchase (beta)",
                      stats.beta(params["a"], params["b"])))
    if "s" in params and "beta" in params:
        dists.append(("mu", "Drop-out rate per time unit (gamma)",
                      stats.gamma(params["s"], scale=1.0 / params["beta"])))
    frames = []
    for key, label, dist in dists:
        with np.errstate(all="ignore"):
            values = np.unique(dist.ppf(probs))
            dens = dist.pdf(values)
        ok = np.isfinite(values) & np.isfinite(dens)
        frames.append(pl.DataFrame({
            "quantity": [label] * int(ok.sum()), "parameter": [key] * int(ok.sum()),
            "value": values[ok], "density": dens[ok],
            "mean": np.full(int(ok.sum()), float(dist.mean()))}))
    return pl.concat(frames)
