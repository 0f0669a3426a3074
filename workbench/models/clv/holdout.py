"""Calibration / holdout checks of a purchase model (FHL 2005, section 4).

The standard validation of Fader, Hardie & Lee (2005), "'Counting your customers' the easy
way", *Marketing Science* 24(2): fit on the calibration period, then compare

* the conditional expectation (eq. 10) with the actual number of purchases in the holdout,
  averaged by calibration frequency (their Figure 4);
* the expected cumulative repeat purchases of the whole cohort, ``sum_i E[X(t - t0_i)]``
  with the population expectation (eq. 9) and ``t0_i`` the customer's first purchase, with
  the actual weekly and cumulative repeat purchases (their Figures 2-3).

All functions take the purchase model (``BetaGeoModel`` or ``ParetoNBDModel``) already
fitted on the calibration summary and return Polars frames ready for charts.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray

from workbench.core.stable import stable_mean
from workbench.errors import DataValidationError
from workbench.models.clv._fit import FloatArray, validate_int, validate_summary
from workbench.models.clv.value import UNIT_DAYS

_CAL = ("frequency", "recency", "T")
_HOLD = ("frequency_holdout", "duration_holdout")


class HoldoutModel(Protocol):
    """What the holdout checks need from a fitted purchase model."""

    def expected_purchases_array(self, horizon: float | FloatArray, x: FloatArray,
                                 t_x: FloatArray, T: FloatArray) -> FloatArray: ...

    def expected_purchases_new_customer_array(self, t: float | FloatArray) -> FloatArray: ...

    def p_alive_array(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray: ...


def _predicted_holdout(summary: pl.DataFrame, model: HoldoutModel) -> tuple[FloatArray, ...]:
    d = validate_summary(summary, _CAL + _HOLD)
    pred = model.expected_purchases_array(d["duration_holdout"], d["frequency"], d["recency"],
                                          d["T"])
    return d["frequency"], d["frequency_holdout"], pred


def holdout_by_frequency(cal_holdout_summary: pl.DataFrame, model: HoldoutModel,
                         max_frequency: int = 7) -> pl.DataFrame:
    """Mean actual vs predicted holdout purchases by calibration frequency (FHL 2005 Fig. 4).

    Parameters
    ----------
    cal_holdout_summary
        ``workbench.core.summary.calibration_holdout_summary`` output (``frequency``,
        ``recency``, ``T``, ``frequency_holdout``, ``duration_holdout``).
    model
        Purchase model fitted on the calibration columns.
    max_frequency
        Last separate bucket; higher frequencies are pooled in ``"<max>+"``.

    Returns
    -------
    polars.DataFrame
        ``frequency_bucket`` (str: ``"0"`` .. ``"7+"``), ``customers``,
        ``actual_mean`` and ``predicted_mean`` (purchases per customer in the holdout
        period; prediction = FHL 2005 eq. 10 with ``t = duration_holdout``).

    Examples
    --------
    >>> from workbench.models.clv import BetaGeoModel
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import calibration_holdout_summary
    >>> cal = calibration_holdout_summary(read_cdnow("sample_data/cdnow/CDNOW_sample.txt"),
    ...                                   "1997-09-30", "1998-06-30")
    >>> h = holdout_by_frequency(cal, BetaGeoModel().fit(cal), max_frequency=7)
    >>> h.head(2).select("frequency_bucket", "customers", pl.col("actual_mean").round(3),
    ...                  pl.col("predicted_mean").round(3)).rows()
    [('0', 1411, 0.237, 0.225), ('1', 439, 0.697, 0.523)]
    """
    max_frequency = validate_int("max_frequency", max_frequency, 0)
    x, actual, pred = _predicted_holdout(cal_holdout_summary, model)
    bucket = np.minimum(x, max_frequency).astype(np.int64)
    frame = pl.DataFrame({"b": bucket, "actual": actual, "predicted": pred})
    out = (frame.group_by("b").agg(pl.len().alias("customers"),
                                   stable_mean("actual").alias("actual_mean"),
                                   stable_mean("predicted").alias("predicted_mean"))
           .sort("b"))
    labels = [f"{b}+" if b == max_frequency else str(b) for b in out["b"].to_list()]
    return out.with_columns(pl.Series("frequency_bucket", labels)).select(
        "frequency_bucket", pl.col("customers").cast(pl.Int64), "actual_mean",
        "predicted_mean")


def error_metrics(cal_holdout_summary: pl.DataFrame, model: HoldoutModel) -> pl.DataFrame:
    """Per-customer accuracy of the holdout prediction, one row.

    Columns: ``customers``, ``mae`` and ``rmse`` (purchases per customer),
    ``total_actual``, ``total_predicted`` (purchases in the holdout period, whole cohort),
    ``total_error_pct`` (``100 (predicted - actual) / actual``), ``correlation`` (Pearson,
    actual vs predicted).
    """
    _, actual, pred = _predicted_holdout(cal_holdout_summary, model)
    err = pred - actual
    tot_a, tot_p = float(actual.sum()), float(pred.sum())
    corr = float(np.corrcoef(actual, pred)[0, 1]) if actual.size > 1 and np.ptp(actual) > 0 \
        else float("nan")
    return pl.DataFrame({
        "customers": [actual.size],
        "mae": [float(np.abs(err).mean())],
        "rmse": [float(np.sqrt((err**2).mean()))],
        "total_actual": [tot_a],
        "total_predicted": [tot_p],
        "total_error_pct": [100 * (tot_p - tot_a) / tot_a if tot_a > 0 else float("nan")],
        "correlation": [corr],
    })


def frequency_recency_grid(
    max_frequency: int, max_recency: int, T: float | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64], float]:
    """The possible cells ``frequency = 0..max_frequency`` x ``recency = 0..max_recency``.

    Cells with ``frequency = 0`` and ``recency > 0`` are impossible and left out; ``T``
    (default ``max_recency``) is the customer age of every cell and must be at least
    ``max_recency``.  Returns the frequencies, the recencies and the age.

    Examples
    --------
    >>> f, r, age = frequency_recency_grid(1, 2)
    >>> f.tolist(), r.tolist(), age
    ([0, 1, 1, 1], [0.0, 0.0, 1.0, 2.0], 2.0)
    """
    max_frequency = validate_int("max_frequency", max_frequency, 0)
    max_recency = validate_int("max_recency", max_recency, 0)
    age = float(max_recency if T is None else T)
    if age < max_recency:
        raise ValueError(f"T ({age}) must be >= max_recency ({max_recency})")
    fg, rg = np.meshgrid(np.arange(max_frequency + 1), np.arange(max_recency + 1), indexing="ij")
    f, r = fg.ravel(), rg.ravel().astype(float)
    keep = (f > 0) | (r == 0)
    return f[keep], r[keep], age


def p_alive_matrix(model: HoldoutModel, max_frequency: int, max_recency: int,
                   T: float | None = None) -> pl.DataFrame:
    """P(alive) over a grid of frequency x recency (long format, for a heatmap).

    Parameters
    ----------
    model
        Fitted purchase model.
    max_frequency, max_recency
        Grid ``frequency = 0..max_frequency``, ``recency = 0..max_recency`` (time units).
    T
        Customer age used for every cell (default ``max_recency``).  Cells with
        ``frequency = 0`` and ``recency > 0`` are impossible and omitted.

    Returns
    -------
    polars.DataFrame
        ``frequency`` (Int64), ``recency`` (Float64), ``T``, ``p_alive``.
    """
    f, r, age = frequency_recency_grid(max_frequency, max_recency, T)
    pa = model.p_alive_array(f.astype(float), r, np.full(r.shape, age))
    return pl.DataFrame({"frequency": f.astype(np.int64), "recency": r,
                         "T": np.full(r.shape, age), "p_alive": pa})


def tracking(
    transactions: pl.DataFrame,
    cal_holdout_summary: pl.DataFrame,
    model: HoldoutModel,
    calibration_end: dt.date,
    observation_end: dt.date,
    unit: str = "W",
) -> pl.DataFrame:
    """Actual vs expected repeat purchases per time unit and cumulative (FHL 2005 Figs. 2-3).

    The cohort is the customers of ``cal_holdout_summary``.  Actual repeat purchases: each
    customer's purchase days after her first (purchases on one day collapse to one, as in
    the summary), counted per period ``[start + k u, start + (k+1) u)`` where ``start`` is
    the cohort's first purchase date and ``u`` the unit.  Expected cumulative repeat
    purchases at time ``t`` (units since ``start``): ``sum_i E[X(t - t0_i)]`` over customers
    with ``t0_i < t``, with the population expectation of the model (BG/NBD FHL 2005 eq. 9,
    Pareto/NBD FH 2005 note eq. 27) and ``t0_i`` the first purchase, recovered from the
    summary as ``calibration_end - T_i``.

    Parameters
    ----------
    transactions
        ``customer_id``, ``order_date`` (date or datetime).
    cal_holdout_summary
        The calibration/holdout summary the model was fitted on (``T`` is needed).
    model
        Fitted purchase model.
    calibration_end, observation_end
        End of calibration and of the holdout period.
    unit
        ``"D"``, ``"W"`` or ``"M"`` (mean calendar month); must be the summary's unit.

    Returns
    -------
    polars.DataFrame
        ``period`` (index), ``period_start``, ``period_end`` (dates), ``t_end`` (units since
        start), ``actual``, ``expected`` (repeat purchases in the period),
        ``actual_cumulative``, ``expected_cumulative``, ``holdout`` (period starts after
        ``calibration_end``).
    """
    if unit not in ("D", "W", "M"):
        raise ValueError(f"unit must be 'D', 'W' or 'M', got {unit!r}")
    missing = [c for c in ("customer_id", "order_date") if c not in transactions.columns]
    if missing:
        raise DataValidationError("transactions", None, f"missing required column(s) {missing}")
    if "customer_id" not in cal_holdout_summary.columns:
        raise DataValidationError("cal_holdout_summary", None,
                                  "missing required column(s) ['customer_id']")
    if observation_end <= calibration_end:
        raise ValueError("observation_end must be after calibration_end")
    d = validate_summary(cal_holdout_summary, ("T",), check_recency=False)
    u_days = UNIT_DAYS[unit]
    ids = cal_holdout_summary["customer_id"].cast(pl.String)
    tx = (transactions.select(pl.col("customer_id").cast(pl.String),
                              pl.col("order_date").cast(pl.Date).alias("day"))
          .filter(pl.col("customer_id").is_in(ids.implode()) & (pl.col("day") <= observation_end))
          .unique())
    first = tx.group_by("customer_id").agg(pl.col("day").min().alias("first"))
    start = first["first"].min()
    if start is None:
        raise DataValidationError("transactions", None,
                                  "no transactions of the summary's customers before "
                                  "observation_end")
    assert isinstance(start, dt.date)
    repeat = tx.join(first, on="customer_id").filter(pl.col("day") > pl.col("first"))
    total_days = (observation_end - start).days + 1
    n_periods = int(np.ceil(total_days / u_days))
    offs = repeat.select((pl.col("day") - pl.lit(start)).dt.total_days()).to_series().to_numpy()
    k = np.floor(offs / u_days).astype(np.int64)
    actual = np.bincount(k, minlength=n_periods)[:n_periods].astype(float)

    # first-purchase offsets (units since start), from the summary's T
    cal_offset = (calibration_end - start).days / u_days
    t0 = cal_offset - d["T"]
    t0_u, counts = np.unique(np.round(t0, 9), return_counts=True)
    t_end = np.minimum(np.arange(1, n_periods + 1) * u_days, total_days) / u_days
    age = np.maximum(t_end[:, None] - t0_u[None, :], 0.0)
    exp_new = model.expected_purchases_new_customer_array(age.ravel()).reshape(age.shape)
    expected_cum = exp_new @ counts.astype(float)
    expected = np.diff(np.concatenate([[0.0], expected_cum]))
    p_start = [start + dt.timedelta(days=float(i * u_days)) for i in range(n_periods)]
    p_end = [start + dt.timedelta(days=float(min((i + 1) * u_days, total_days) - 1))
             for i in range(n_periods)]
    return pl.DataFrame({
        "period": np.arange(n_periods, dtype=np.int64),
        "period_start": pl.Series(p_start, dtype=pl.Date),
        "period_end": pl.Series(p_end, dtype=pl.Date),
        "t_end": t_end,
        "actual": actual,
        "expected": expected,
        "actual_cumulative": np.cumsum(actual),
        "expected_cumulative": expected_cum,
        "holdout": pl.Series([ps > calibration_end for ps in p_start], dtype=pl.Boolean),
    })
