"""Customer lifetime value from a purchase model and a spend model.

CLV over a finite horizon, discounted period by period, as in Fader, Hardie & Lee (2005b),
"RFM and CLV: using iso-value curves for customer base analysis", *JMR* 42(4) (the
discounted expected residual transactions times expected spend, there in continuous time;
here the discrete-period version ``lifetimes`` and most practitioners use):

``CLV_i = sum_{k=1..K} (E[X_i(k P)] - E[X_i((k-1) P)]) * E[M_i] * margin / (1 + d)^k``

* ``E[X_i(t)]`` is the purchase model's conditional expected number of purchases in the
  next ``t`` time units (BG/NBD: FHL 2005 eq. 10; Pareto/NBD: FH 2005 note eq. 41);
* ``P`` is the length of one period in the summary's time unit, ``K`` the horizon in
  periods;
* ``E[M_i]`` the Gamma-Gamma conditional expected spend per purchase (FH 2013 note eq. 5);
* ``d`` the per-period discount rate equivalent to the annual rate ``D`` under compounding:
  ``d = (1 + D)^(period length in years) - 1`` (a month is 1/12 year, a week 7/365.25).
  Cash flows of period ``k`` are discounted as if received at its end.

Historical value (what the customer already spent, the summary's ``total_spend`` column
when present) is reported beside the predicted value, never added to it.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray

from workbench.errors import DataValidationError
from workbench.models.clv._fit import (
    FloatArray,
    id_frame,
    unique_inverse,
    validate_int,
    validate_positive_number,
    validate_summary,
)
from workbench.models.clv.gammagamma import UNDEFINED_SPEND_REASON

#: Days per time unit of a summary (``"M"``: the mean calendar month, 365.25 / 12 days).
UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0, "Q": 365.25 / 4.0, "Y": 365.25}


class PurchaseModel(Protocol):
    """What CLV needs from a fitted BG/NBD or Pareto/NBD model."""

    def expected_purchases_horizons(self, horizons: FloatArray, x: FloatArray,
                                    t_x: FloatArray, T: FloatArray) -> FloatArray: ...

    def p_alive_array(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray: ...


class SpendModel(Protocol):
    """What CLV needs from a fitted Gamma-Gamma model."""

    def expected_spend_or_null(self, x: FloatArray,
                               m: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]: ...


def period_length(period: str | float, unit: str = "W") -> float:
    """Length of one CLV period in summary time units.

    Parameters
    ----------
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"`` or a positive number of summary units.
    unit
        Time unit of the summary (``"D"``, ``"W"`` or ``"M"``).

    Examples
    --------
    >>> round(period_length("M", "W"), 4)
    4.3482
    """
    if unit not in UNIT_DAYS:
        raise ValueError(f"unit must be one of {sorted(UNIT_DAYS)}, got {unit!r}")
    if isinstance(period, str):
        if period not in UNIT_DAYS:
            raise ValueError(f"period must be one of {sorted(UNIT_DAYS)} or a number of "
                             f"units, got {period!r}")
        return UNIT_DAYS[period] / UNIT_DAYS[unit]
    return validate_positive_number("period", period)


def per_period_discount_rate(annual_rate: float, period: str | float, unit: str = "W") -> float:
    """``(1 + annual_rate)^(years per period) - 1`` (compounding-equivalent rate).

    Examples
    --------
    >>> round(per_period_discount_rate(0.10, "M"), 6)
    0.007974
    """
    rate = validate_positive_number("annual_discount_rate", annual_rate, allow_zero=True)
    years = period_length(period, unit) * UNIT_DAYS[unit] / 365.25
    return float(np.expm1(years * np.log1p(rate)))


def customer_lifetime_value(
    summary: pl.DataFrame,
    purchase_model: PurchaseModel,
    spend_model: SpendModel,
    horizon: int = 12,
    *,
    margin: float | str,
    unit: str = "W",
    period: str | float = "M",
    annual_discount_rate: float = 0.10,
) -> pl.DataFrame:
    """Discounted customer lifetime value over ``horizon`` periods (see module docstring).

    Parameters
    ----------
    summary
        Customer summary (``frequency``, ``recency``, ``T``, ``monetary_value``; optional
        ``total_spend`` for historical value), time in ``unit``.
    purchase_model
        Fitted :class:`~workbench.models.clv.bgnbd.BetaGeoModel` or
        :class:`~workbench.models.clv.paretonbd.ParetoNBDModel` (fitted in the same ``unit``).
    spend_model
        Fitted :class:`~workbench.models.clv.gammagamma.GammaGammaModel`.
    horizon
        Number of periods (e.g. 12 monthly periods = one year).
    margin
        Profit margin as a share of revenue in ``[0, 1]`` (1 gives revenue CLV), or the
        name of a summary column holding a per-customer margin.
    unit
        Time unit of the summary: ``"D"``, ``"W"`` or ``"M"``.
    period
        Discounting period: ``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"`` or a number of
        ``unit`` per period.
    annual_discount_rate
        Annual discount rate (default 10 %), converted to the period rate by
        :func:`per_period_discount_rate`.

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``expected_purchases`` (undiscounted, over the horizon),
        ``p_alive``, ``expected_spend`` (per purchase), ``clv`` (discounted margin),
        ``historical_value`` (``total_spend``; null when the summary has none), ``reason``
        (why ``expected_spend`` and ``clv`` are null, e.g. "spend model undefined:
        p*x+q <= 1"; null when they are numbers).

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> s = customer_summary(read_cdnow("sample_data/cdnow/CDNOW_sample.txt"), "1997-09-30")
    >>> from workbench.models.clv import BetaGeoModel, GammaGammaModel
    >>> clv = customer_lifetime_value(s, BetaGeoModel().fit(s), GammaGammaModel().fit(s), 12,
    ...                               margin=0.3)
    >>> clv.height, round(clv["clv"].sum())
    (2357, 21721)
    """
    horizon = validate_int("horizon", horizon, 1)
    p_len = period_length(period, unit)
    d = per_period_discount_rate(annual_discount_rate, period, unit)
    cols = ["frequency", "recency", "T", "monetary_value"]
    data = validate_summary(summary, cols + ([margin] if isinstance(margin, str) else []))
    if isinstance(margin, str):
        marg = data[margin]
        if np.any((marg < 0) | (marg > 1)):
            raise DataValidationError("customer summary", margin, "margins must be in [0, 1]")
    else:
        m = validate_positive_number("margin", margin, allow_zero=True)
        if m > 1:
            raise ValueError(f"margin is a share of revenue in [0, 1], got {margin!r}")
        marg = np.full(summary.height, m)
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    # every per-history quantity is computed once per distinct (x, t_x, T), then gathered
    (xu, txu, Tu), inv = unique_inverse([x, t_x, T])
    times = p_len * np.arange(0, horizon + 1, dtype=float)
    cum = purchase_model.expected_purchases_horizons(times, xu, txu, Tu)
    discount = (1.0 + d) ** -np.arange(1, horizon + 1, dtype=float)
    discounted = (discount @ np.diff(cum, axis=0))[inv]
    # NaN where the spend model is undefined (Gamma-Gamma with p x + q <= 1): null CLV with
    # a reason, never a number
    spend, undefined = spend_model.expected_spend_or_null(x, data["monetary_value"])
    clv = discounted * spend * marg
    reason = pl.Series("reason", [UNDEFINED_SPEND_REASON if u else None for u in undefined],
                       dtype=pl.String)
    hist = (summary["total_spend"].cast(pl.Float64) if "total_spend" in summary.columns
            else pl.Series([None] * summary.height, dtype=pl.Float64))
    return id_frame(summary).with_columns(
        pl.Series("expected_purchases", cum[-1][inv]),
        pl.Series("p_alive", purchase_model.p_alive_array(xu, txu, Tu)[inv]),
        pl.Series("expected_spend", spend).fill_nan(None),
        pl.Series("clv", clv).fill_nan(None),
        hist.alias("historical_value"),
        reason,
    )
