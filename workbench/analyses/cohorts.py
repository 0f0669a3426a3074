"""Cohort retention: acquisition cohorts x periods since the first purchase.

A customer's **cohort** is the period (by default the calendar month) of their first purchase
on or before the as-of date; **period** ``k`` is the ``k``-th period after it (0 = the month of
the first purchase).  For each cohort and period the table gives the customers with at least
one purchase in that period (**active**), their share of the cohort (**retention**) and the net
revenue of their orders.  Purchases are the orders of :func:`workbench.core.prepare.prepare_orders`
(net of returns, identical lines treated as the data rules say); transactions are turned into
orders first, so both give the same table.

Every cohort gets a row for each period from 0 up to the period that holds the as-of date, so
a period without purchases shows 0 customers instead of a gap; later periods are not observed
and have no row.  The last period of each cohort is incomplete when the as-of date is not the
period's last day (``complete`` says so).  Revenue is summed exactly (whole minor units,
:mod:`workbench.core.money`), so the revenue of all cells equals the revenue of the orders.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import polars as pl

from workbench.core import schema
from workbench.core.money import from_minor_units, to_minor_units
from workbench.core.prepare import DateLike, prepare_orders, to_date

#: Supported period lengths: Polars duration strings and the months (or days) in each.
FREQUENCIES: Final = {"1mo": ("mo", 1), "3mo": ("mo", 3), "1q": ("mo", 3), "1y": ("mo", 12),
                      "12mo": ("mo", 12), "1w": ("d", 7), "7d": ("d", 7)}

_COLUMNS: Final = pl.Schema({
    "cohort": pl.Date,
    "period": pl.Int64,
    "period_start": pl.Date,
    "cohort_customers": pl.UInt32,
    "customers": pl.UInt32,
    "retention": pl.Float64,
    "revenue": pl.Float64,
    "revenue_per_cohort_customer": pl.Float64,
    "complete": pl.Boolean,
})


def _is_orders(frame: pl.DataFrame) -> bool:
    return "lines" in frame.columns and "source_row" not in frame.columns


def _period_start(expr: pl.Expr, unit: str, step: int) -> pl.Expr:
    if unit == "d":  # weeks start on Monday
        return expr.dt.truncate("1w")
    months = expr.dt.year().cast(pl.Int64) * 12 + expr.dt.month().cast(pl.Int64) - 1
    months = months - months % step
    return pl.date(months // 12, months % 12 + 1, 1)


def _index(expr: pl.Expr, unit: str, step: int) -> pl.Expr:
    """A period number that grows by one per period (comparable across cohorts)."""
    if unit == "d":
        return (expr.cast(pl.Int64) + 3) // 7  # day 0 (1970-01-01) is a Thursday
    months = expr.dt.year().cast(pl.Int64) * 12 + expr.dt.month().cast(pl.Int64) - 1
    return months // step


def cohort_retention(
    orders_or_transactions: pl.DataFrame,
    as_of: DateLike,
    freq: str = "1mo",
) -> pl.DataFrame:
    """Acquisition cohorts x periods since the first purchase: active customers and revenue.

    Parameters
    ----------
    orders_or_transactions
        Orders of :func:`workbench.core.prepare.prepare_orders` (they have a ``lines`` column), or
        a validated transactions table (turned into orders at ``as_of`` first).
    as_of
        End of the observation period (inclusive); later orders are left out.
    freq
        Period length: ``"1mo"`` (calendar months, default), ``"3mo"``/``"1q"`` (calendar
        quarters), ``"1y"`` (calendar years) or ``"1w"`` (weeks from Monday).

    Returns
    -------
    polars.DataFrame
        One row per cohort and period, sorted: ``cohort`` (first day of the cohort's period),
        ``period`` (0, 1, ...), ``period_start``, ``cohort_customers``, ``customers`` (active
        in the period), ``retention`` (customers / cohort_customers), ``revenue`` (net, of
        the cohort's orders in the period), ``revenue_per_cohort_customer`` and ``complete``
        (False for the period holding the as-of date, unless it ends on it).  Empty (with
        these columns) when there is no order.

    Raises
    ------
    ValueError
        An unknown ``freq`` or an unreadable ``as_of``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> orders = pl.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c"], "order_id": ["1", "2", "3", "4"],
    ...     "order_date": [dt.date(2024, 1, 5), dt.date(2024, 3, 1), dt.date(2024, 1, 20),
    ...                    dt.date(2024, 2, 2)],
    ...     "amount": [10.0, 5.0, 7.0, 3.0], "lines": [1, 1, 1, 1]})
    >>> t = cohort_retention(orders, "2024-03-31")
    >>> t.select("cohort", "period", "customers", "retention", "revenue").rows()[:3]
    ... # doctest: +NORMALIZE_WHITESPACE
    [(datetime.date(2024, 1, 1), 0, 2, 1.0, 17.0),
     (datetime.date(2024, 1, 1), 1, 0, 0.0, 0.0),
     (datetime.date(2024, 1, 1), 2, 1, 0.5, 5.0)]
    """
    # long: one Polars pipeline (cohort, period index, counts, shares) read best top to bottom
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {', '.join(FREQUENCIES)}, got {freq!r}")
    unit, step = FREQUENCIES[freq]
    end = to_date(as_of)
    assert end is not None
    frame = orders_or_transactions
    orders = frame if _is_orders(frame) else prepare_orders(frame, end)[0]
    orders = orders.filter(pl.col(schema.ORDER_DATE) <= end).select(
        schema.CUSTOMER_ID, schema.ORDER_DATE, pl.col(schema.AMOUNT).cast(pl.Float64)
    )
    if orders.height == 0:
        return pl.DataFrame(schema=_COLUMNS)
    units, scale = to_minor_units(orders, [schema.AMOUNT], source="orders")
    date = pl.col(schema.ORDER_DATE)
    units = units.with_columns(_index(date, unit, step).alias("_idx"))
    first = units.group_by(schema.CUSTOMER_ID).agg(pl.col("_idx").min().alias("_cohort_idx"),
                                                   date.min().alias("_first"))
    units = units.join(first, on=schema.CUSTOMER_ID)
    cells = (
        units.group_by("_cohort_idx", "_idx")
        .agg(
            pl.col(schema.CUSTOMER_ID).n_unique().alias("customers"),
            pl.col(schema.AMOUNT).sum().alias("_units"),
        )
    )
    cohorts = first.group_by("_cohort_idx").agg(
        pl.len().alias("cohort_customers"),
        _period_start(pl.col("_first").min(), unit, step).alias("cohort"),
    )
    end_idx = pl.select(_index(pl.lit(end), unit, step)).item()
    grid = cohorts.with_columns(
        pl.int_ranges(0, end_idx - pl.col("_cohort_idx") + 1).alias("period")
    ).explode("period")
    grid = grid.with_columns((pl.col("_cohort_idx") + pl.col("period")).alias("_idx"))
    table = grid.join(cells, on=["_cohort_idx", "_idx"], how="left").with_columns(
        pl.col("customers").fill_null(0).cast(pl.UInt32),
        pl.col("_units").fill_null(0.0),
        pl.col("cohort_customers").cast(pl.UInt32),
        pl.col("period").cast(pl.Int64),
    )
    next_day = end + dt.timedelta(days=1)
    complete_last = pl.select(
        _index(pl.lit(next_day), unit, step) != end_idx
    ).item()
    if unit == "d":
        start_expr = pl.col("cohort") + pl.duration(days=7 * pl.col("period"))
    else:
        start_expr = pl.col("cohort").dt.offset_by(
            pl.format("{}mo", pl.col("period") * step)
        )
    table = table.with_columns(
        start_expr.alias("period_start"),
        (pl.col("customers") / pl.col("cohort_customers")).alias("retention"),
        from_minor_units(pl.col("_units"), scale).alias("revenue"),
        ((pl.col("_idx") != end_idx) | pl.lit(complete_last)).alias("complete"),
    ).with_columns(
        (pl.col("revenue") / pl.col("cohort_customers")).alias("revenue_per_cohort_customer")
    )
    return table.select(list(_COLUMNS)).cast(_COLUMNS).sort("cohort", "period")


def cohort_matrix(table: pl.DataFrame, value: str = "retention") -> pl.DataFrame:
    """The cohort table as a wide matrix: one row per cohort, one column per period.

    Parameters
    ----------
    table
        :func:`cohort_retention` output.
    value
        The measure in the cells: ``"retention"``, ``"customers"``, ``"revenue"`` or
        ``"revenue_per_cohort_customer"``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = pl.DataFrame({"cohort": [dt.date(2024, 1, 1)] * 2, "period": [0, 1],
    ...                   "cohort_customers": [2, 2], "retention": [1.0, 0.5]})
    >>> cohort_matrix(t).columns
    ['cohort', 'cohort_customers', '0', '1']
    """
    if value not in table.columns:
        raise ValueError(f"value {value!r} is not a column of the cohort table")
    if table.height == 0:
        return pl.DataFrame(schema={"cohort": pl.Date, "cohort_customers": pl.UInt32})
    return (
        table.select("cohort", "cohort_customers", pl.col("period").cast(pl.String), value)
        .pivot(on="period", index=["cohort", "cohort_customers"], values=value)
        .sort("cohort")
    )
