"""The customer summary: the inputs of RFM scoring and of the BTYD models (docs/definitions.md).

For an as-of date (end of the observation period, inclusive) and a time unit:

* purchases are orders net of returns (:func:`workbench.core.prepare.prepare_orders`); the orders of
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
from typing import Literal, cast

import numpy as np
import polars as pl

from workbench.core import schema
from workbench.core.money import from_minor_units, to_minor_units
from workbench.core.prepare import (
    DateLike,
    check_transactions,
    data_columns,
    exact_duplicates,
    needs_order_rules,
    order_money_columns,
    prepare_orders,
    profit_expr,
    to_date,
)
from workbench.errors import DataValidationError
from workbench.native import customer_scan
from workbench.native.sorting import string_order

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


def _period_key(unit: Unit, collapse: str, column: str = schema.ORDER_DATE) -> pl.Expr:
    date = pl.col(column)
    if collapse == "day" or unit == "D":
        return date
    return date.dt.truncate({"W": "1w", "M": "1mo"}[unit])


_UNITS = "_units"
_PROFIT_UNITS = "_profit_units"


def _purchase_units(
    lf: pl.LazyFrame, unit: Unit, collapse: str, has_profit: bool
) -> pl.LazyFrame:
    """Purchases from rows with money in whole minor units (``_units``): exact sums."""
    aggs = [
        pl.col(schema.ORDER_DATE).min(),
        pl.col(schema.ORDER_DATE).max().alias("last_order_date"),
        pl.col(_UNITS).sum().alias("value"),
    ]
    if has_profit:
        aggs.append(pl.col(_PROFIT_UNITS).sum().alias("profit"))
    return lf.group_by(_CID, _period_key(unit, collapse).alias("period")).agg(aggs)


def _with_units(frame: pl.DataFrame, source: str) -> tuple[pl.DataFrame, int]:
    """``frame`` plus its amount (``_units``) and profit (``_profit_units``, when known) in
    whole minor units (:mod:`workbench.core.money`); the original columns are kept as they are.

    The profit is the ``profit`` column of orders, else ``margin`` or ``amount - cost`` of
    transaction lines.
    """
    money = order_money_columns(frame.columns)
    shown = ["source_row"] if "source_row" in frame.columns else []
    units, scale = to_minor_units(frame.select(*shown, *money), money, source=source)
    profit = pl.col("profit") if "profit" in frame.columns else profit_expr(frame.columns)
    added = [units[schema.AMOUNT].alias(_UNITS)]
    if profit is not None:
        added.append(units.select(profit).to_series().alias(_PROFIT_UNITS))
    return frame.with_columns(added), scale


def purchases(
    orders: pl.DataFrame | pl.LazyFrame,
    unit: Unit = "W",
    collapse: Literal["day", "unit"] | None = None,
) -> pl.LazyFrame:
    """Collapse orders into purchases: one per customer and purchase period (lazy).

    Returns ``customer_id``, ``period``, ``order_date`` (first order of the period),
    ``last_order_date`` (last order of the period), ``value`` (currency, an exact sum) and
    ``profit`` (when the orders have it).  The rows come in no particular order.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> o = pl.DataFrame({"customer_id": ["a", "a"], "order_date": [dt.date(2024, 1, 1)] * 2,
    ...                   "amount": [0.1, 0.2]})
    >>> purchases(o).collect()["value"].to_list()
    [0.3]
    """
    _check_options(unit, collapse)
    collapse = collapse or ("unit" if unit == "M" else "day")
    frame = orders.collect() if isinstance(orders, pl.LazyFrame) else orders
    units, scale = _with_units(frame, "orders")
    has_profit = "profit" in frame.columns
    money = ["value", *(["profit"] if has_profit else [])]
    return _purchase_units(units.lazy(), unit, collapse, has_profit).with_columns(
        from_minor_units(pl.col(c), scale) for c in money
    )


def _summarise(
    rows: pl.DataFrame,
    as_of: dt.date,
    unit: Unit,
    collapse: str | None,
    scale: int,
    sort: bool,
    duplicate_columns: list[str] | None = None,
) -> pl.DataFrame:
    """Per-customer summary from rows with money in whole minor units (:func:`_with_units`).

    ``rows`` are orders, or lines when there are no order ids; with ``duplicate_columns`` the
    exact duplicates of those columns (the rule of :func:`workbench.core.prepare.duplicate_rows`)
    are left out.  One compiled pass over the rows in date order
    (:func:`workbench.native.customer_scan.scan_customers`) counts each customer's distinct purchase
    periods and sums the spend, keyed by a 64-bit hash of the customer id.  Exact duplicates
    share a customer and purchase period with the row they copy, so only the rows that share one
    (few in practice) are compared, and the duplicates found are taken back out of the sums.  A
    second, independent hash detects hash collisions; on one, and whenever a precondition of the
    kernel does not hold (kernel not built, ids not Arrow string views, more than 2**32 rows),
    the exact, string-keyed Polars computation runs instead.  The sums are of whole numbers
    (:mod:`workbench.core.money`), so both paths give the same bits.
    """
    collapse = collapse or ("unit" if unit == "M" else "day")
    if not customer_scan.usable_for(rows[_CID]):
        return _summarise_polars(rows, as_of, unit, collapse, scale, sort, duplicate_columns)
    if not rows[schema.ORDER_DATE].is_sorted():
        rows = rows.sort(schema.ORDER_DATE, maintain_order=True)
    has_profit = _PROFIT_UNITS in rows.columns
    day = rows[schema.ORDER_DATE]
    if collapse == "day" or unit == "D":  # the purchase period is the day itself
        period = day
    else:
        period = rows.select(_period_key(unit, collapse)).to_series()
    scan = customer_scan.scan_customers(
        rows[_CID], period, rows[_UNITS], rows[_PROFIT_UNITS] if has_profit else None, day
    )
    if scan.collision:
        return _summarise_polars(rows, as_of, unit, collapse, scale, sort, duplicate_columns)
    ids = rows[_CID].gather(pl.Series(scan.first_row))  # first rows ascend: a fast gather
    order = string_order(ids) if sort else None
    values = scan.values(order)
    if order is not None:
        ids = ids.gather(pl.Series(order))
    if duplicate_columns is not None and scan.shares_period.any():
        candidates = np.flatnonzero(scan.shares_period)
        duplicate = exact_duplicates(rows[candidates], duplicate_columns).to_numpy()
        if duplicate.any():
            _take_out(values, scan, order, candidates[duplicate], rows, unit, collapse)
    per = pl.DataFrame(
        {
            _CID: ids,
            "first_purchase": values["first_day"],
            "last_purchase": values["last_day"],
            "n_purchases": values["n_purchases"],
            "total_spend": values["total"],
            "_first_value": values["first_value"],
            **({"total_profit": values["profit"]} if has_profit else {}),
        }
    ).with_columns(
        pl.col("first_purchase", "last_purchase").cast(pl.Date),
        pl.col("n_purchases").cast(pl.Int64),
    )
    return _finish(per, as_of, unit, has_profit, scale)


def _take_out(
    values: dict[str, np.ndarray],
    scan: customer_scan.CustomerScan,
    order: np.ndarray | None,
    duplicate_rows: np.ndarray,
    rows: pl.DataFrame,
    unit: Unit,
    collapse: str,
) -> None:
    """Take exact duplicate rows back out of the per-customer sums (in place; exact, since the
    sums are of whole minor units).

    A duplicate is a later copy of a row that stays, so it has the customer, date and purchase
    period of that row: the purchase count and the dates do not change, only the money sums.
    ``values`` are in ``order`` (positions in ``scan.first_row``; None: that order itself).
    """
    customers = scan.customers_of(duplicate_rows)
    if order is not None:
        position = np.empty_like(order)
        position[order] = np.arange(order.shape[0])
        customers = position[customers]
    dups = rows[duplicate_rows].with_columns(
        pl.Series("first_purchase", values["first_day"][customers]).cast(pl.Date)
    )
    in_first = dups.select(
        _period_key(unit, collapse) == _period_key(unit, collapse, "first_purchase")
    ).to_series().to_numpy()
    amount = dups[_UNITS].to_numpy()
    np.subtract.at(values["total"], customers, amount)
    np.subtract.at(values["first_value"], customers[in_first], amount[in_first])
    if "profit" in values:
        np.subtract.at(values["profit"], customers, dups[_PROFIT_UNITS].to_numpy())


def _summarise_polars(
    rows: pl.DataFrame,
    as_of: dt.date,
    unit: Unit,
    collapse: str,
    scale: int,
    sort: bool,
    duplicate_columns: list[str] | None,
) -> pl.DataFrame:
    """The same summary through exact string-keyed Polars group-bys (slower).

    Used on a hash collision and when the compiled kernel cannot run.
    """
    if duplicate_columns is not None:
        rows = rows.filter(~exact_duplicates(rows, duplicate_columns))
    has_profit = _PROFIT_UNITS in rows.columns
    purch = _purchase_units(rows.lazy(), unit, collapse, has_profit).sort(
        _CID, schema.ORDER_DATE
    )
    date = pl.col(schema.ORDER_DATE)
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
    out = _finish(per, as_of, unit, has_profit, scale)
    if sort:
        return out.sort(_CID)
    # the compiled path's order: first appearance in the rows sorted by date (stable)
    date = pl.col(schema.ORDER_DATE)
    first = rows.with_row_index("_pos").group_by(_CID).agg(
        pl.col("_pos").filter(date == date.min()).min()
    )
    return out.join(first, on=_CID).sort("first_purchase", "_pos").drop("_pos")


def _finish(
    per: pl.DataFrame, as_of: dt.date, unit: Unit, has_profit: bool, scale: int
) -> pl.DataFrame:
    """Summary columns from per-customer sums of whole minor units (money divided once)."""
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
    total = from_minor_units(pl.col("total_spend"), scale)
    repeat = from_minor_units(pl.col("total_spend") - pl.col("_first_value"), scale)
    return per.with_columns(
        frequency.alias("frequency"),
        elapsed(pl.col("first_purchase"), pl.col("last_purchase"), unit).alias("recency"),
        elapsed(pl.col("first_purchase"), as_of, unit).alias("T"),
        pl.when(frequency > 0).then(repeat / frequency).otherwise(0.0).alias("monetary_value"),
        (pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().alias("days_since_last"),
        total.alias("total_spend"),
        (total / pl.col("n_purchases")).alias("mean_spend"),
        *(
            [from_minor_units(pl.col("total_profit"), scale).alias("total_profit")]
            if has_profit
            else []
        ),
    ).select(cols)


def no_purchases_problem(
    transactions: pl.DataFrame | None = None, as_of: dt.date | str | None = None
) -> str:
    """Why there is no purchase to analyse, in words (for a ``DataValidationError``).

    Looks at the transactions: no data rows at all, only returns (amounts of zero or less),
    an as-of date before the first purchase, or purchases that returns cancel.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> tx = pl.DataFrame({"customer_id": ["a"], "order_date": [dt.date(2024, 1, 5)],
    ...                    "amount": [10.0]})
    >>> no_purchases_problem(tx, dt.date(2023, 1, 1))
    'no purchases on or before 2023-01-01 (the first purchase is on 2024-01-05)'
    >>> no_purchases_problem(tx.head(0), dt.date(2023, 1, 1))
    'no purchases: the transactions have no data rows'
    """
    as_of = to_date(as_of) if as_of is not None else None
    when = f" on or before {as_of}" if as_of is not None else ""
    if transactions is None:
        return f"no customers with a purchase{when}"
    if transactions.height == 0:
        return "no purchases: the transactions have no data rows"
    if schema.AMOUNT in transactions.columns and schema.ORDER_DATE in transactions.columns:
        bought = transactions.filter(pl.col(schema.AMOUNT) > 0)
        if bought.height == 0:
            n = transactions.height
            rows = "the only row is a return" if n == 1 else f"all {n:,} rows are returns"
            return f"no purchases: {rows} (amounts of zero or less)"
        # order_date of transactions as read holds dates; None only for an empty column
        first = cast("dt.date | None", bought[schema.ORDER_DATE].min())
        if as_of is not None and first is not None and first > as_of:
            return f"no purchases{when} (the first purchase is on {first})"
    return f"no purchases{when} once returns are netted"


def require_purchases(
    summary: pl.DataFrame,
    as_of: dt.date | str | None = None,
    transactions: pl.DataFrame | None = None,
    source: str = "transactions",
) -> pl.DataFrame:
    """``summary`` itself when it has a customer, else one clear ``DataValidationError``.

    The check every analysis of a customer summary (RFM, Pareto, CLV, loyalty) makes first, so
    that header-only or all-returns data and an as-of date before the first purchase give one
    message (:func:`no_purchases_problem`) instead of empty charts or a division by zero.

    Parameters
    ----------
    summary
        A customer summary, or any per-customer or per-order frame (only its height counts).
    as_of
        The as-of date, named in the message.
    transactions
        The transactions the summary came from: they say *why* there is no purchase.
    source
        File or frame name for the message.

    Raises
    ------
    workbench.errors.DataValidationError
        When ``summary`` has no rows.

    Examples
    --------
    >>> import polars as pl
    >>> try:
    ...     require_purchases(pl.DataFrame({"customer_id": []}), "2023-01-01")
    ... except DataValidationError as err:
    ...     print(err)
    transactions: no customers with a purchase on or before 2023-01-01
    """
    if summary.height:
        return summary
    raise DataValidationError(source, None, no_purchases_problem(transactions, as_of))


def customer_summary(
    transactions: pl.DataFrame | pl.LazyFrame,
    as_of: DateLike | None = None,
    unit: Unit = "W",
    *,
    collapse: Literal["day", "unit"] | None = None,
    sort: bool = True,
    allow_empty: bool = False,
    source: str = "transactions",
) -> pl.DataFrame:
    """One row per customer with the RFM and BTYD inputs at ``as_of``.

    Parameters
    ----------
    transactions
        Validated transactions (:func:`workbench.core.io.read_transactions`); a DuckDB relation or
        a Spark DataFrame is summarised on its engine (:mod:`workbench.engines`), lazily, and
        the same kind of frame is returned.  The data rules of
        :mod:`workbench.core.prepare` are applied; use :func:`workbench.core.prepare.prepare_orders`
        to see what they set aside.
    as_of
        End of the observation period, inclusive; default: the last order date.
    unit
        ``"D"`` days, ``"W"`` weeks, ``"M"`` calendar months: the unit of ``recency`` and ``T``.
    collapse
        ``"day"`` (default for D/W) or ``"unit"`` (default for M): the period within which a
        customer's orders count as one purchase.
    sort
        Sort the rows by customer id (set ``False`` to save time on millions of customers).
    allow_empty
        Return an empty summary when no customer has a purchase on or before ``as_of`` (a
        comparison date before the first purchase, where "no purchase yet" is the answer)
        instead of raising.
    source
        Name of the table (the file name) in error messages.

    Raises
    ------
    DataValidationError
        No customer has a purchase on or before ``as_of`` (header-only or all-returns data, an
        as-of date before the first purchase), with the reason
        (:func:`no_purchases_problem`); unless ``allow_empty``.

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``, ``monetary_value``, ``n_purchases``,
        ``total_spend``, ``mean_spend`` (currency per purchase), ``days_since_last``,
        ``first_purchase``, ``last_purchase`` (and ``total_profit`` when margin or cost is known).

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> s = customer_summary(tx, as_of="1997-09-30", unit="W")
    >>> s.height, s["frequency"].sum()
    (2357, 2457)
    """
    _check_options(unit, collapse)
    if not isinstance(transactions, pl.DataFrame | pl.LazyFrame):
        # a DuckDB relation, a Spark DataFrame...: the engine-neutral definition, on its engine
        from workbench import engines

        return engines.customer_summary(
            transactions, as_of, unit, collapse=collapse, source=source
        )
    tx = check_transactions(transactions, source)
    if as_of is None:
        if tx.height == 0:
            raise DataValidationError(source, None, no_purchases_problem(tx))
        # at least one row and no null dates (check_transactions): a date (or a text date)
        as_of = cast(DateLike, tx[schema.ORDER_DATE].max())
    as_of = to_date(as_of)
    if needs_order_rules(tx):
        orders, _ = prepare_orders(tx, as_of, source=source)
        out = summary_from_orders(orders, as_of, unit, collapse=collapse, sort=sort)
    else:
        # the duplicate rule of prepare_orders: equal in every column of the table as read
        rows, scale = _with_units(tx.filter(pl.col(schema.ORDER_DATE) <= as_of), source)
        out = _summarise(rows, as_of, unit, collapse, scale, sort, data_columns(tx))
    if out.height == 0 and not allow_empty:
        raise DataValidationError(source, None, no_purchases_problem(tx, as_of))
    return out


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
    rules a second time: pass the ``orders`` of :func:`workbench.core.prepare.prepare_orders` run
    with the same ``as_of`` (a report or dashboard that shows the data-quality report has them).

    Examples
    --------
    >>> import datetime as dt
    >>> tx = pl.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["1", "2", "3"],
    ...                    "order_date": [dt.date(2026, 1, 5), dt.date(2026, 3, 2),
    ...                                   dt.date(2026, 6, 1)], "amount": [20.0, 30.0, 15.0]})
    >>> orders, quality = prepare_orders(tx, "2026-06-30")
    >>> s = summary_from_orders(orders, "2026-06-30", "W")
    >>> s.select("customer_id", "frequency", "total_spend").rows()
    [('a', 1, 50.0), ('b', 0, 15.0)]
    """
    _check_options(unit, collapse)
    orders = orders.drop("source_row", strict=False).with_row_index("source_row", offset=1)
    rows, scale = _with_units(orders, "orders")
    return _summarise(rows, to_date(as_of), unit, collapse, scale, sort)


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
    >>> from workbench.core.io import read_cdnow
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> s = calibration_holdout_summary(tx, "1997-09-30", "1998-06-30")
    >>> s["frequency_holdout"].sum()
    1882
    """
    cal_end, obs_end = (
        to_date(calibration_end, "calibration_end"),
        to_date(observation_end, "observation_end"),
    )
    if obs_end <= cal_end:
        raise ValueError(f"observation_end ({obs_end}) must be after calibration_end ({cal_end})")
    cal = customer_summary(transactions, cal_end, unit, collapse=collapse, allow_empty=True)
    orders, _ = prepare_orders(transactions, obs_end)
    units, scale = _with_units(orders, "orders")
    hold = (
        _purchase_units(units.lazy(), unit, collapse or ("unit" if unit == "M" else "day"), False)
        .filter(pl.col(schema.ORDER_DATE) > cal_end)
        .group_by(_CID)
        .agg(
            pl.len().cast(pl.Int64).alias("frequency_holdout"),
            from_minor_units(pl.col("value").sum(), scale).alias("_holdout_value"),
        )
        .with_columns(
            (pl.col("_holdout_value") / pl.col("frequency_holdout")).alias(
                "monetary_value_holdout"
            )
        )
        .drop("_holdout_value")
        .collect()
    )
    duration = pl.select(elapsed(pl.lit(cal_end), obs_end, unit)).item()
    return cal.join(hold, on=_CID, how="left").with_columns(
        pl.col("frequency_holdout").fill_null(0),
        pl.col("monetary_value_holdout").fill_null(0.0),
        pl.lit(duration).alias("duration_holdout"),
    )
