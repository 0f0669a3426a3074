"""The customer summary: the inputs of RFM scoring and of the BTYD models (``DOMAIN.md`` §2).

For an as-of date (end of the observation period, inclusive) and a time unit:

* purchases are orders net of returns (:func:`workbench.prepare.prepare_orders`); the orders of
  one customer in the same *purchase period* are one purchase, their spend summed.  The purchase
  period is the **day** for units ``"D"`` and ``"W"`` (as in Fader, Hardie & Lee 2005, whose CDNOW
  calibration counts 2,457 repeat purchases this way) and the **calendar month** for ``"M"``;
  ``collapse="unit"`` collapses per unit instead (``lifetimes``' convention: one purchase per
  week for ``"W"``);
* ``frequency`` = number of repeat purchases (purchases after the first);
* ``recency`` = time from the first to the last purchase; ``T`` = time from the first purchase to
  the as-of date, both in the unit: days, weeks (days / 7) or calendar months (difference of
  month numbers, so 31 Jan -> 1 Feb is one month);
* ``monetary_value`` = mean value of the repeat purchases, 0 when there are none (the
  Gamma-Gamma input; Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves");
* conventional RFM inputs: ``days_since_last``, ``n_purchases``, ``total_spend``,
  ``mean_spend`` (total / purchases), all net of returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl

from workbench import schema
from workbench.prepare import (
    DateLike,
    exact_duplicates,
    needs_order_rules,
    prepare_orders,
    profit_expr,
    to_date,
)

Unit = Literal["D", "W", "M"]
_CID = schema.CUSTOMER_ID
_DAYS_PER_UNIT = {"D": 1.0, "W": 7.0}


def _check_unit(unit: str) -> None:
    if unit not in schema.TIME_UNITS:
        raise ValueError(
            f"unit must be one of {schema.TIME_UNITS} (days, weeks, calendar months), got {unit!r}"
        )


def _check_options(unit: str, collapse: str | None) -> None:
    _check_unit(unit)
    if collapse not in (None, "day", "unit"):
        raise ValueError(f"collapse must be 'day' or 'unit', got {collapse!r}")


def _month_number(expr: pl.Expr) -> pl.Expr:
    return expr.dt.year().cast(pl.Int32) * 12 + expr.dt.month().cast(pl.Int32)


def elapsed(start: pl.Expr, end: pl.Expr | DateLike, unit: Unit) -> pl.Expr:
    """Time from ``start`` to ``end`` in ``unit`` (days, weeks, calendar months) as Float64.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> pl.select(elapsed(pl.lit(dt.date(1997, 1, 1)), dt.date(1997, 9, 30), "W")).item()
    38.857142857142854
    """
    end_expr = end if isinstance(end, pl.Expr) else pl.lit(to_date(end))
    if unit == "M":
        return (_month_number(end_expr) - _month_number(start)).cast(pl.Float64)
    days = (end_expr - start).dt.total_days().cast(pl.Float64)
    return days / _DAYS_PER_UNIT[unit]


def _period_key(unit: Unit, collapse: str) -> pl.Expr:
    date = pl.col(schema.ORDER_DATE)
    if collapse == "day" or unit == "D":
        return date
    return date.dt.truncate({"W": "1w", "M": "1mo"}[unit])


def purchases(
    orders: pl.DataFrame | pl.LazyFrame,
    unit: Unit = "W",
    collapse: Literal["day", "unit"] | None = None,
) -> pl.LazyFrame:
    """Collapse orders into purchases: one per customer and purchase period (lazy).

    Returns ``customer_id``, ``period``, ``order_date`` (first order of the period),
    ``last_order_date`` (last order of the period), ``value``
    (currency) and ``profit`` (when the orders have it).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> o = pl.DataFrame({"customer_id": ["a", "a"], "order_date": [dt.date(2024, 1, 1)] * 2,
    ...                   "amount": [1.0, 2.0]})
    >>> purchases(o).collect()["value"].to_list()
    [3.0]
    """
    _check_options(unit, collapse)
    collapse = collapse or ("unit" if unit == "M" else "day")
    lf = orders.lazy()
    aggs = [
        pl.col(schema.ORDER_DATE).min(),
        pl.col(schema.ORDER_DATE).max().alias("last_order_date"),
        pl.col(schema.AMOUNT).sum().alias("value"),
    ]
    if "profit" in lf.collect_schema().names():
        aggs.append(pl.col("profit").sum())
    return lf.group_by(_CID, _period_key(unit, collapse).alias("period")).agg(aggs)


def _summarise(
    rows: pl.DataFrame, as_of: dt.date, unit: Unit, collapse: str | None, dedupe: bool
) -> pl.DataFrame:
    """Per-customer summary from order rows (orders, or lines when there are no order ids).

    Fast path: one group-by over all rows with cheap aggregations keyed by a hash of the
    customer id; the rows that share a customer and purchase period with another row (few in
    practice) are then grouped exactly to correct the purchase count and the first purchase's
    value, and, with ``dedupe``, to find exact duplicate rows (which always share a customer and
    a day).  A second, independent hash per group detects hash collisions; on one the exact
    (string-keyed) computation is used instead.
    """
    collapse = collapse or ("unit" if unit == "M" else "day")
    date = pl.col(schema.ORDER_DATE)
    if not rows[schema.ORDER_DATE].is_sorted():
        rows = rows.sort(schema.ORDER_DATE, maintain_order=True)
    has_profit = "profit" in rows.columns
    rows = rows.with_columns(
        pl.col(_CID).hash(seed=0).alias("_h"),
        pl.col(_CID).hash(seed=1).alias("_h2"),
        _period_key(unit, collapse).alias("_p"),
    )
    shared = rows.select(pl.struct("_h", "_p").hash().is_duplicated()).to_series()
    multi = rows.filter(shared)
    if dedupe and multi.height:
        data_cols = [c for c in multi.columns if c not in ("source_row", "_h", "_h2", "_p")]
        dup = exact_duplicates(multi, data_cols)
        if dup.any():
            rows = rows.filter(
                ~pl.col("source_row").is_in(multi.filter(dup)["source_row"].implode())
            )
            multi = multi.filter(~dup)
    aggs = [
        pl.col(_CID).first(),
        pl.col("_h2").min().alias("_h2min"),
        pl.col("_h2").max().alias("_h2max"),
        date.min().alias("first_purchase"),
        date.max().alias("last_purchase"),
        pl.col("_p").min().alias("_first_period"),
        pl.len().cast(pl.Int64).alias("_rows"),
        pl.col(schema.AMOUNT).sum().alias("total_spend"),
        pl.col(schema.AMOUNT).first().alias("_first_value"),
    ]
    if has_profit:
        aggs.append(pl.col("profit").sum().alias("total_profit"))
    per = rows.group_by("_h").agg(aggs)
    if (per["_h2min"] != per["_h2max"]).any():  # hash collision: exact path
        return _summarise_exact(rows.drop("_h", "_h2", "_p"), as_of, unit, collapse)
    if multi.height:
        days = multi.group_by("_h", "_p").agg(
            pl.len().alias("_n"), pl.col(schema.AMOUNT).sum().alias("_day_value")
        )
        extra = days.group_by("_h").agg((pl.col("_n") - 1).sum().alias("_extra"))
        per = (
            per.join(extra, on="_h", how="left")
            .join(
                days.select("_h", pl.col("_p").alias("_first_period"), "_day_value"),
                on=["_h", "_first_period"],
                how="left",
            )
            .with_columns(
                (pl.col("_rows") - pl.col("_extra").fill_null(0)).alias("_rows"),
                pl.coalesce("_day_value", "_first_value").alias("_first_value"),
            )
        )
    return _finish(per.rename({"_rows": "n_purchases"}), as_of, unit, has_profit)


def _summarise_exact(rows: pl.DataFrame, as_of: dt.date, unit: Unit, collapse: str) -> pl.DataFrame:
    """The same summary through an exact string-keyed group-by (slower; collision fallback)."""
    purch = purchases(rows, unit, collapse).sort(schema.ORDER_DATE)
    date = pl.col(schema.ORDER_DATE)
    has_profit = "profit" in rows.columns
    aggs = [
        date.min().alias("first_purchase"),
        pl.col("last_order_date").max().alias("last_purchase"),
        pl.len().cast(pl.Int64).alias("n_purchases"),
        pl.col("value").sum().alias("total_spend"),
        pl.col("value").first().alias("_first_value"),
    ]
    if has_profit:
        aggs.append(pl.col("profit").sum().alias("total_profit"))
    per = purch.group_by(_CID).agg(aggs).collect(engine="in-memory")
    return _finish(per, as_of, unit, has_profit)


def _finish(per: pl.DataFrame, as_of: dt.date, unit: Unit, has_profit: bool) -> pl.DataFrame:
    frequency = pl.col("n_purchases") - 1
    cols = [
        _CID,
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "n_purchases",
        "total_spend",
        "mean_spend",
        "days_since_last",
        "first_purchase",
        "last_purchase",
    ]
    if has_profit:
        cols.append("total_profit")
    return per.with_columns(
        frequency.alias("frequency"),
        elapsed(pl.col("first_purchase"), pl.col("last_purchase"), unit).alias("recency"),
        elapsed(pl.col("first_purchase"), as_of, unit).alias("T"),
        pl.when(frequency > 0)
        .then((pl.col("total_spend") - pl.col("_first_value")) / frequency)
        .otherwise(0.0)
        .alias("monetary_value"),
        (pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().alias("days_since_last"),
        (pl.col("total_spend") / pl.col("n_purchases")).alias("mean_spend"),
    ).select(cols)


def customer_summary(
    transactions: pl.DataFrame,
    as_of: DateLike | None = None,
    unit: Unit = "W",
    *,
    collapse: Literal["day", "unit"] | None = None,
    sort: bool = True,
) -> pl.DataFrame:
    """One row per customer with the RFM and BTYD inputs at ``as_of``.

    Parameters
    ----------
    transactions
        Validated transactions (:func:`workbench.io.read_transactions`).  The data rules of
        :mod:`workbench.prepare` are applied; use :func:`workbench.prepare.prepare_orders` to
        see what they set aside.
    as_of
        End of the observation period, inclusive; default: the last order date.
    unit
        ``"D"`` days, ``"W"`` weeks, ``"M"`` calendar months: the unit of ``recency`` and ``T``.
    collapse
        ``"day"`` (default for D/W) or ``"unit"`` (default for M): the period within which a
        customer's orders count as one purchase.
    sort
        Sort the rows by customer id (set ``False`` to save time on millions of customers).

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``, ``monetary_value``, ``n_purchases``,
        ``total_spend``, ``mean_spend`` (currency per purchase), ``days_since_last``,
        ``first_purchase``, ``last_purchase`` (and ``total_profit`` when margin or cost is known).

    Examples
    --------
    >>> from workbench.io import read_cdnow
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")  # doctest: +SKIP
    >>> s = customer_summary(tx, as_of="1997-09-30", unit="W")  # doctest: +SKIP
    >>> s.height, s["frequency"].sum()  # doctest: +SKIP
    (2357, 2457)
    """
    _check_options(unit, collapse)
    as_of = to_date(as_of) if as_of is not None else transactions[schema.ORDER_DATE].max()
    if needs_order_rules(transactions):
        orders, _ = prepare_orders(transactions, as_of)
        return summary_from_orders(orders, as_of, unit, collapse=collapse, sort=sort)
    rows = transactions.filter(pl.col(schema.ORDER_DATE) <= as_of)
    if "source_row" not in rows.columns:
        rows = rows.with_row_index("source_row", offset=1)
    profit = profit_expr(rows.columns)
    keep = [_CID, schema.ORDER_DATE, schema.AMOUNT, "source_row"]
    rows = rows.select(*keep, *([profit.alias("profit")] if profit is not None else []))
    out = _summarise(rows, as_of, unit, collapse, dedupe=True)
    return out.sort(_CID) if sort else out


def summary_from_orders(
    orders: pl.DataFrame,
    as_of: DateLike,
    unit: Unit = "W",
    *,
    collapse: Literal["day", "unit"] | None = None,
    sort: bool = True,
) -> pl.DataFrame:
    """The customer summary from orders already prepared at ``as_of``.

    Same result as :func:`customer_summary` on the transactions, without applying the data
    rules a second time: pass the ``orders`` of :func:`workbench.prepare.prepare_orders` run
    with the same ``as_of`` (a report or dashboard that shows the data-quality report has them).

    Examples
    --------
    >>> orders, quality = prepare_orders(tx, "2026-06-30")  # doctest: +SKIP
    >>> summary = summary_from_orders(orders, "2026-06-30", "W")  # doctest: +SKIP
    """
    _check_options(unit, collapse)
    out = _summarise(orders.with_row_index("source_row"), to_date(as_of), unit, collapse,
                     dedupe=False)
    return out.sort(_CID) if sort else out


def calibration_holdout_summary(
    transactions: pl.DataFrame,
    calibration_end: DateLike,
    observation_end: DateLike,
    unit: Unit = "W",
    *,
    collapse: Literal["day", "unit"] | None = None,
) -> pl.DataFrame:
    """Calibration summary plus what each customer did in the holdout period.

    Customers are those with a first purchase on or before ``calibration_end``; the calibration
    columns are :func:`customer_summary` at ``calibration_end`` (returns after it are not netted
    back into it).  The holdout is ``(calibration_end, observation_end]``.

    Returns
    -------
    polars.DataFrame
        The calibration summary plus ``frequency_holdout`` (purchases in the holdout),
        ``monetary_value_holdout`` (their mean value, 0 when none) and ``duration_holdout``
        (holdout length in ``unit``).

    Examples
    --------
    >>> s = calibration_holdout_summary(tx, "1997-09-30", "1998-06-30")  # doctest: +SKIP
    >>> s["frequency_holdout"].sum()  # doctest: +SKIP
    1882
    """
    cal_end, obs_end = (
        to_date(calibration_end, "calibration_end"),
        to_date(observation_end, "observation_end"),
    )
    if obs_end <= cal_end:
        raise ValueError(f"observation_end ({obs_end}) must be after calibration_end ({cal_end})")
    cal = customer_summary(transactions, cal_end, unit, collapse=collapse)
    orders, _ = prepare_orders(transactions, obs_end)
    hold = (
        purchases(orders, unit, collapse)
        .filter(pl.col(schema.ORDER_DATE) > cal_end)
        .group_by(_CID)
        .agg(
            pl.len().cast(pl.Int64).alias("frequency_holdout"),
            pl.col("value").mean().alias("monetary_value_holdout"),
        )
        .collect()
    )
    duration = pl.select(elapsed(pl.lit(cal_end), obs_end, unit)).item()
    return cal.join(hold, on=_CID, how="left").with_columns(
        pl.col("frequency_holdout").fill_null(0),
        pl.col("monetary_value_holdout").fill_null(0.0),
        pl.lit(duration).alias("duration_holdout"),
    )
