"""The data rules and the customer summary as one engine-neutral definition (Narwhals).

Every function here takes and returns lazy Narwhals frames and uses only expressions that
Polars, DuckDB and Spark evaluate the same way, so the same rows give the same numbers on every
engine, bit for bit:

* **money** is summed as whole minor units in Int64 (:func:`money_scale_expr`), never as
  floats, and turned into currency once, by a correctly rounded division by ``10**scale``
  written so that Polars too divides element by element (:func:`from_units`; the Polars path
  does the same, :func:`workbench.core.money.from_minor_units`);
* **dates** become day numbers by integer arithmetic on year and day of year
  (:func:`day_number`), which every engine has (Spark and Ibis have no ``total_days``);
* weeks are ``days * (1/7)``, again the operation of the Polars path;
* no rule depends on row order: duplicates are whole distinct rows, the first purchase of a
  customer is the one at the smallest date (periods are disjoint), the return target is the
  greatest order id of the latest order day (a total order);
* no global window: per-customer values use group-bys and windows partitioned by customer.

The rules are those of :mod:`workbench.core.prepare` (see its docstring); the summary columns
those of :func:`workbench.core.summary.customer_summary`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import narwhals as nw

from workbench.core import schema
from workbench.core.money import _ABS_TOLERANCE, _REL_TOLERANCE, _SCALES, MAX_DECIMALS
from workbench.errors import DataValidationError

_CID = schema.CUSTOMER_ID
_DATE = schema.ORDER_DATE
_AMT = schema.AMOUNT
_KEY = "_order_key"
_UNITS = "_units"
_PROFIT = "_profit_units"
#: 1970-01-01 counted in days from 1601-01-01 (the start of a 400-year Gregorian cycle).
_EPOCH_FROM_1601 = 134_774


def day_number(expr: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of a Date expression (Int64), from year and day of year.

    ``365 y + y // 4 - y // 100 + y // 400`` counts the days of the whole years since 1601,
    so all operands are non-negative for dates from 1601 on (the readers accept 1900-2200)
    and every engine's integer division gives the same result.
    """
    y = expr.dt.year().cast(nw.Int64) - 1601
    return (
        y * 365 + y // 4 - y // 100 + y // 400
        + expr.dt.ordinal_day().cast(nw.Int64) - 1 - _EPOCH_FROM_1601
    )


def month_number(expr: nw.Expr) -> nw.Expr:
    """``12 * year + month`` (Int64): calendar months between two dates by subtraction."""
    return expr.dt.year().cast(nw.Int64) * 12 + expr.dt.month().cast(nw.Int64)


def _whole_at(expr: nw.Expr, scale: int) -> nw.Expr:
    v = expr * (10.0**scale)
    return (v - v.round(0)).abs() <= v.abs() * _REL_TOLERANCE + _ABS_TOLERANCE


def _money_columns(columns: list[str]) -> list[str]:
    return [c for c in (_AMT, schema.MARGIN, schema.COST) if c in columns]


@dataclass(frozen=True)
class Checked:
    """What one aggregate pass over the transactions found: the money scale and the rows."""

    scale: int
    rows: int
    order_rules: bool


def check_and_scale(tx: nw.LazyFrame, source: str = "transactions") -> Checked:
    """One aggregate pass: required columns without nulls, and the money scale.

    The scale is the one :func:`workbench.core.money.money_scale` finds: 2 (cents) when every money
    value is whole in cents, else the smallest of 3..6 that fits.

    Raises
    ------
    DataValidationError
        A required column is missing or holds nulls, or a money value has more than 6
        decimals (counts only: engines have no row numbers).
    """
    columns = tx.collect_schema().names()
    for col in (_CID, _DATE, _AMT):
        if col not in columns:
            raise DataValidationError(
                source, col, f"required column missing (found columns: {', '.join(columns)})"
            )
    money = _money_columns(columns)
    aggs = [nw.len().alias("rows"), (nw.col(_AMT) < 0).cast(nw.Int64).sum().alias("returns")]
    if schema.ORDER_ID in columns:
        aggs.append(nw.col(schema.ORDER_ID).is_null().cast(nw.Int64).sum().alias("no_id"))
    aggs += [
        nw.col(c).is_null().cast(nw.Int64).sum().alias(f"null_{c}") for c in (_CID, _DATE, _AMT)
    ]
    for s in _SCALES:
        aggs += [
            (~_whole_at(nw.col(c), s)).cast(nw.Int64).sum().alias(f"frac{s}_{c}") for c in money
        ]
    row = tx.select(aggs).collect("polars").to_native().row(0, named=True)
    for col, what in ((_CID, "null ids"), (_DATE, "missing dates"), (_AMT, "missing amounts")):
        if row[f"null_{col}"]:
            raise DataValidationError(source, col, what, n_rows=row[f"null_{col}"])
    # without order ids and returns the orders are the customer-days (prepare.needs_order_rules)
    order_rules = bool(row["returns"]) or row.get("no_id", row["rows"]) < row["rows"]
    for s in _SCALES:
        if all(not row[f"frac{s}_{c}"] for c in money):
            return Checked(s, row["rows"], order_rules)
    bad = next(c for c in money if row[f"frac{MAX_DECIMALS}_{c}"])
    raise DataValidationError(
        source,
        bad,
        f"more than {MAX_DECIMALS} decimal places: money is summed exactly in minor units; "
        "round the column (e.g. to cents) in the export",
        n_rows=row[f"frac{MAX_DECIMALS}_{bad}"],
    )


def to_units(expr: nw.Expr, scale: int) -> nw.Expr:
    """Whole minor units of a currency expression, as Int64."""
    return (expr * (10.0**scale)).round(0).cast(nw.Int64)


def from_units(expr: nw.Expr, scale: int) -> nw.Expr:
    """Currency from a sum of minor units (Float64): ``units / 10**scale``, correctly rounded.

    The divisor is an expression of the units (``units * 0 + 10**scale``), not a literal:
    Polars would multiply by the literal's reciprocal instead (one unit in the last place off
    for some values); DuckDB and Spark divide either way.
    """
    units = expr.cast(nw.Float64)
    return units / (units * 0.0 + 10.0**scale)


def standardise(tx: nw.LazyFrame) -> nw.LazyFrame:
    """Text ids, Float64 amounts and Date order dates; ``source_row`` dropped."""
    columns = tx.collect_schema()
    casts = [nw.col(_CID).cast(nw.String), nw.col(_AMT).cast(nw.Float64)]
    if columns[_DATE] != nw.Date:
        casts.append(nw.col(_DATE).cast(nw.Date))
    if schema.ORDER_ID in columns and columns[schema.ORDER_ID] != nw.String:
        casts.append(nw.col(schema.ORDER_ID).cast(nw.String))
    out = tx.with_columns(*casts)
    return out.drop("source_row") if "source_row" in columns else out


def orders(
    tx: nw.LazyFrame,
    as_of: dt.date | None,
    scale: int,
    order_rules: bool = True,
    *,
    keep_cancelled: bool = False,
) -> nw.LazyFrame:
    """The order rules of :func:`workbench.core.prepare.prepare_orders` on any engine (lazy).

    Parameters
    ----------
    tx
        Transactions (:func:`standardise` d).
    as_of
        Last day kept (inclusive); ``None`` keeps every row.
    scale
        Money scale of :func:`check_and_scale`.
    order_rules
        ``False`` when the data have no order ids and no returns (:func:`check_and_scale`):
        the lines are returned as they are (deduplicated, to the as-of date), since grouping
        them into customer-days is what the purchases do anyway.  Only for the summary.
    keep_cancelled
        Keep the cancelled orders, flagged ``_cancelled``, with the columns the tie-out of
        :func:`ledger` needs: ``_line_units`` (the order's lines before netting),
        ``_n_returns`` and ``_own_returns`` (returns netted into it, those with its own order
        id), ``_own_units`` (their units).

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id``, ``order_id`` (the order key), ``order_date``, ``_units`` (net amount in
        minor units, Int64), ``_returned`` (units netted from returns, <= 0), ``lines`` and
        ``_profit_units`` (0 when the data have no margin or cost).
    """
    # long: the one reference definition of the order rules (duplicates, returns, netting), kept in
    # one place on purpose
    columns = tx.collect_schema().names()
    data = tx.unique()  # exact duplicates: equal in every column as read
    if as_of is not None:
        data = data.filter(nw.col(_DATE) <= nw.lit(as_of, dtype=nw.Date))
    key = nw.col(_DATE).cast(nw.String)
    if schema.ORDER_ID in columns:
        key = nw.coalesce(nw.col(schema.ORDER_ID), key)
    if schema.MARGIN in columns:
        profit = to_units(nw.col(schema.MARGIN).fill_null(0.0), scale)
    elif schema.COST in columns:
        profit = to_units(nw.col(_AMT), scale) - to_units(
            nw.col(schema.COST).fill_null(0.0), scale
        )
    else:
        profit = nw.lit(0, dtype=nw.Int64)
    rows = data.with_columns(
        key.alias(_KEY), to_units(nw.col(_AMT), scale).alias(_UNITS), profit.alias(_PROFIT)
    )
    if not order_rules:  # no order ids, no returns: each line is its own (part of an) order
        return rows.select(
            _CID, nw.col(_KEY).alias(schema.ORDER_ID), _DATE, _UNITS,
            nw.lit(0, dtype=nw.Int64).alias("_returned"), nw.lit(1, dtype=nw.Int64).alias("lines"),
            _PROFIT,
        )
    lines = rows.filter(nw.col(_AMT) >= 0)
    returns = rows.filter(nw.col(_AMT) < 0)
    per_order = lines.group_by(_CID, _KEY).agg(
        nw.col(_DATE).min(),
        nw.col(_UNITS).sum(),
        nw.col(_PROFIT).sum(),
        nw.len().cast(nw.Int64).alias("lines"),
    )
    keys = per_order.select(_CID, _KEY)
    ret = returns.select(_CID, _KEY, _DATE, _UNITS, _PROFIT, *[
        c for c in columns if c not in (_CID, _DATE, _AMT, schema.ORDER_ID, _KEY)
    ], nw.col(_AMT).alias("_amount"), *(
        [nw.col(schema.ORDER_ID).alias("_order_id")] if schema.ORDER_ID in columns else []
    ))
    own = ret.join(keys, on=[_CID, _KEY], how="semi").select(_CID, _KEY, _UNITS, _PROFIT)
    other = ret.join(keys, on=[_CID, _KEY], how="anti")
    # the latest order dated on or before the return; on that day, the greatest order id
    days = per_order.group_by(_CID, _DATE).agg(nw.col(_KEY).max().alias("_target"))
    row_cols = other.collect_schema().names()
    latest = (
        other.join(
            days.select(_CID, nw.col(_DATE).alias("_tdate")), on=_CID, how="inner"
        )
        .filter(nw.col("_tdate") <= nw.col(_DATE))
        .group_by(*row_cols)
        .agg(nw.col("_tdate").max())
        .join(days.rename({_DATE: "_tdate"}), on=[_CID, "_tdate"], how="inner")
        .select(_CID, nw.col("_target").alias(_KEY), _UNITS, _PROFIT)
    )
    one = nw.lit(1, dtype=nw.Int64)
    netted = (
        nw.concat([own.with_columns(one.alias("_own")),
                   latest.with_columns((one * 0).alias("_own"))], how="vertical")
        .group_by(_CID, _KEY)
        .agg(
            nw.col(_UNITS).sum().alias("_returned"),
            nw.col(_PROFIT).sum().alias("_rprofit"),
            nw.len().cast(nw.Int64).alias("_n_returns"),
            nw.col("_own").sum().alias("_own_returns"),
            (nw.col(_UNITS) * nw.col("_own")).sum().alias("_own_units"),
        )
    )
    zero = ["_returned", "_rprofit", "_n_returns", "_own_returns", "_own_units"]
    out = (
        per_order.join(netted, on=[_CID, _KEY], how="left")
        .with_columns(*(nw.col(c).fill_null(0).cast(nw.Int64) for c in zero))
        .with_columns(
            nw.col(_UNITS).alias("_line_units"),
            (nw.col(_UNITS) + nw.col("_returned")).alias(_UNITS),
            (nw.col(_PROFIT) + nw.col("_rprofit")).alias(_PROFIT),
        )
        .with_columns(  # cancelled: returns took the whole order (and it had some)
            ((nw.col(_UNITS) <= 0) & (nw.col("_returned") < 0)).alias("_cancelled")
        )
    )
    if not keep_cancelled:
        out = out.filter(~nw.col("_cancelled"))
    extra = ["_line_units", *zero[2:], "_cancelled"] if keep_cancelled else []
    return out.select(
        _CID, nw.col(_KEY).alias(schema.ORDER_ID), _DATE, _UNITS, "_returned", "lines", _PROFIT,
        *extra,
    )


def _period(unit: str, collapse: str) -> nw.Expr:
    """The purchase period of an order as an integer key."""
    date = nw.col(_DATE)
    if collapse == "day" or unit == "D":
        return day_number(date)
    if unit == "M":
        return month_number(date)
    # Monday-based weeks, as Polars' dt.truncate("1w"): 1970-01-01 was a Thursday
    return (day_number(date) + 3 + 7 * 200_000) // 7


def purchases(orders_: nw.LazyFrame, unit: str, collapse: str) -> nw.LazyFrame:
    """One row per customer and purchase period: first and last order day, units, profit."""
    return orders_.group_by(_CID, _period(unit, collapse).alias("_period")).agg(
        nw.col(_DATE).min(),
        nw.col(_DATE).max().alias("_last"),
        nw.col(_UNITS).sum(),
        nw.col(_PROFIT).sum(),
    )


def elapsed(start: nw.Expr, end: nw.Expr, unit: str) -> nw.Expr:
    """Time from ``start`` to ``end`` (Date) in days, weeks or calendar months (Float64)."""
    if unit == "M":
        return (month_number(end) - month_number(start)).cast(nw.Float64)
    days = (day_number(end) - day_number(start)).cast(nw.Float64)
    return days if unit == "D" else days * (1.0 / 7.0)


def summary(
    orders_: nw.LazyFrame,
    as_of: dt.date,
    unit: str,
    collapse: str,
    scale: int,
    has_profit: bool,
) -> nw.LazyFrame:
    """The customer summary of :func:`workbench.core.summary.customer_summary` from orders (lazy).

    Columns and types as there: ``customer_id``, ``frequency``, ``recency``, ``T``,
    ``monetary_value``, ``n_purchases``, ``total_spend``, ``mean_spend``, ``days_since_last``,
    ``first_purchase``, ``last_purchase`` (``total_profit`` with margin or cost).  Unsorted.
    """
    first = nw.col(_DATE).min().over(_CID)
    per = (
        purchases(orders_, unit, collapse)
        .with_columns(first.alias("_first"))
        .group_by(_CID)
        .agg(
            nw.col(_DATE).min().alias("first_purchase"),
            nw.col("_last").max().alias("last_purchase"),
            nw.len().cast(nw.Int64).alias("n_purchases"),
            nw.col(_UNITS).sum().alias("_total"),
            nw.when(nw.col(_DATE) == nw.col("_first"))
            .then(nw.col(_UNITS))
            .otherwise(0)
            .sum()
            .alias("_first_units"),
            nw.col(_PROFIT).sum().alias("_profit"),
        )
    )
    frequency = nw.col("n_purchases") - 1
    total = from_units(nw.col("_total"), scale)
    repeat = from_units(nw.col("_total") - nw.col("_first_units"), scale)
    end = nw.lit(as_of, dtype=nw.Date)
    cols: list[nw.Expr | str] = [
        _CID,
        frequency.alias("frequency"),
        elapsed(nw.col("first_purchase"), nw.col("last_purchase"), unit).alias("recency"),
        elapsed(nw.col("first_purchase"), end, unit).alias("T"),
        nw.when(frequency > 0)
        .then(repeat / frequency.cast(nw.Float64))
        .otherwise(0.0)
        .alias("monetary_value"),
        "n_purchases",
        total.alias("total_spend"),
        (total / nw.col("n_purchases").cast(nw.Float64)).alias("mean_spend"),
        (day_number(end) - day_number(nw.col("last_purchase"))).alias("days_since_last"),
        "first_purchase",
        "last_purchase",
    ]
    if has_profit:
        cols.append(from_units(nw.col("_profit"), scale).alias("total_profit"))
    return per.select(cols)


def holdout(
    orders_: nw.LazyFrame, calibration_end: dt.date, unit: str, collapse: str, scale: int
) -> nw.LazyFrame:
    """Purchases after ``calibration_end`` per customer: ``frequency_holdout`` and
    ``monetary_value_holdout`` (their mean value), as
    :func:`workbench.core.summary.calibration_holdout_summary`."""
    value = from_units(nw.col("_value"), scale)
    return (
        purchases(orders_, unit, collapse)
        .filter(nw.col(_DATE) > nw.lit(calibration_end, dtype=nw.Date))
        .group_by(_CID)
        .agg(
            nw.len().cast(nw.Int64).alias("frequency_holdout"),
            nw.col(_UNITS).sum().alias("_value"),
        )
        .select(
            _CID,
            "frequency_holdout",
            (value / nw.col("frequency_holdout").cast(nw.Float64)).alias(
                "monetary_value_holdout"
            ),
        )
    )
