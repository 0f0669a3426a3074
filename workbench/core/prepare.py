"""From transaction lines to orders: the documented rules for dirty data.

Rules, applied in this order (each recorded in the
:class:`~workbench.core.quality.DataQualityReport`):

0. **No customer id**: lines without a customer id are refused by the readers, or, with a
   project's ``missing_customer_id = "set_aside"``, read apart and handed in as
   ``without_customer_id``: they are recorded as set aside and never analysed.
1. **Exact duplicates**: a row equal to an earlier row in every column of the table as read
   (``source_row`` aside) is set aside; the first copy is kept.  The customer summary's fast
   path uses the same rule (:func:`duplicate_rows`).
2. **After the as-of date**: rows dated after ``as_of`` are set aside for this analysis (they are
   not known at that date; the holdout checks read them separately).
3. **Multi-line orders**: lines with the same customer and ``order_id`` form one order, dated at
   its earliest non-negative line.  Without ``order_id`` (or where it is empty) a customer's lines
   of one day form one order.
4. **Returns** (negative amounts) are netted into their own order (same customer and order id, or
   same customer and day without order ids); a return with no such order is netted into the
   customer's latest order on or before the return date (among several orders of that day, the
   one with the greatest order id, in text order: a total order, so the choice never depends on
   the order of the rows); a return before any purchase is set aside.  Monetary values are
   therefore net of returns (docs/data-rules.md, 'Rows a rule sets aside or combines').
5. **Cancelled orders**: an order that returns bring to a net value of zero or less is not a
   purchase and is set aside, with the returns netted into it (so that every line is in
   exactly one bucket of the tie-out, :meth:`~workbench.core.quality.DataQualityReport.tie_out`).
   A zero-value order without returns (a free or promotional order, as CDNOW has) is still a
   purchase.

``profit`` is ``margin`` where the table has it, else ``amount - cost`` where it has ``cost``
(docs/data-rules.md, 'Input tables'); otherwise it is absent.

Money is summed exactly, as whole minor units (:mod:`workbench.core.money`): the same rows give the
same sums, bit for bit, in any order, on any code path and with any number of threads.
"""

from __future__ import annotations

import datetime as dt
from typing import overload

import polars as pl

from workbench.core import schema
from workbench.core.money import from_minor_units, to_minor_units
from workbench.core.quality import KEPT, DataQualityReport, ledger_frame
from workbench.errors import DataValidationError

_KEY = "_order_key"
_UNITS = "_units"
_PROFIT = "_profit"
_CID = schema.CUSTOMER_ID
_DATE = schema.ORDER_DATE
_AMT = schema.AMOUNT

DateLike = dt.date | dt.datetime | str


@overload
def to_date(value: DateLike, name: str = "as_of") -> dt.date: ...
@overload
def to_date(value: None, name: str = "as_of") -> None: ...
def to_date(value: DateLike | None, name: str = "as_of") -> dt.date | None:
    """Turn a date, a datetime or an ISO string into a :class:`datetime.date`.

    Text must be a whole ISO date (``YYYY-MM-DD``) or an ISO date-time
    (``YYYY-MM-DDTHH:MM[:SS]``, the time is dropped); anything else, such as
    ``2025-06-30garbage``, raises.

    Raises
    ------
    ValueError
        The text is not an ISO date (the message names ``name``).

    Examples
    --------
    >>> to_date("1997-09-30")
    datetime.date(1997, 9, 30)
    >>> to_date("1997-09-30x")
    Traceback (most recent call last):
    ...
    ValueError: as_of: cannot read '1997-09-30x' as a date (use YYYY-MM-DD)
    """
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    text = str(value).strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        if len(text) > 10 and text[10] in "T ":
            return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise ValueError(f"{name}: cannot read {shown!r} as a date (use YYYY-MM-DD)")


def exact_duplicates(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """Mask of rows equal in ``columns`` to an earlier row (the first copy is not marked).

    Hashes find the candidate rows cheaply; the exact comparison runs on the candidates only,
    so a hash collision can never set a row aside.

    Examples
    --------
    >>> import polars as pl
    >>> exact_duplicates(pl.DataFrame({"a": [1, 1, 2]}), ["a"]).to_list()
    [False, True, False]
    """
    candidate = frame.select(pl.struct(columns).hash().is_duplicated()).to_series()
    if not candidate.any():
        return pl.Series("duplicate", [False] * frame.height, dtype=pl.Boolean)
    idx = candidate.arg_true()
    later = frame[idx].select(~pl.struct(columns).is_first_distinct()).to_series()
    mask = pl.Series("duplicate", [False] * frame.height, dtype=pl.Boolean)
    return mask.scatter(idx.filter(later), True)


def data_columns(transactions: pl.DataFrame) -> list[str]:
    """The columns that define an exact duplicate: every column but ``source_row``."""
    return [c for c in transactions.columns if c != "source_row"]


def duplicate_rows(transactions: pl.DataFrame) -> pl.Series:
    """The exact-duplicate rule, the one implementation every path uses.

    A row is an exact duplicate when it equals an earlier row in **every** column of the table
    as read (``source_row`` aside); the first copy is kept.  Which columns the table has does
    not depend on what else is in the file, so one return elsewhere cannot change the rule.

    Examples
    --------
    >>> import polars as pl
    >>> tx = pl.DataFrame({"customer_id": ["a", "a", "a"], "amount": [5.0, 5.0, 5.0],
    ...                    "category": ["x", "x", "y"]})
    >>> duplicate_rows(tx).to_list()
    [False, True, False]
    """
    return exact_duplicates(transactions, data_columns(transactions))


def check_transactions(transactions: pl.DataFrame | pl.LazyFrame, source: str) -> pl.DataFrame:
    """A transactions frame ready for the data rules: collected, text ids, required values.

    * a LazyFrame is collected;
    * Enum and Categorical ids become text (so that ids sort by their text, not by category
      order), integer ids their decimal text;
    * null customer ids, dates or amounts are refused with the rows (the readers refuse them
      too; a frame built by hand gets the same treatment on every code path).

    Raises
    ------
    DataValidationError
        A required column is missing or holds nulls.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> tx = pl.DataFrame({"customer_id": pl.Series(["b", "a"], dtype=pl.Categorical),
    ...                    "order_date": [dt.date(2024, 1, 1)] * 2, "amount": [1.0, 2.0]})
    >>> check_transactions(tx, "tx")["customer_id"].dtype
    String
    """
    tx = transactions.collect() if isinstance(transactions, pl.LazyFrame) else transactions
    for col in (_CID, _DATE, _AMT):
        if col not in tx.columns:
            raise DataValidationError(
                source, col, f"required column missing (found columns: {', '.join(tx.columns)})"
            )
    cid = tx[_CID]
    if cid.dtype != pl.String:
        if isinstance(cid.dtype, pl.Enum | pl.Categorical) or cid.dtype.is_integer():
            tx = tx.with_columns(cid.cast(pl.String))
        else:
            raise DataValidationError(
                source, _CID, f"wrong type: expected text ids, found {cid.dtype}"
            )
    if tx[_AMT].dtype != pl.Float64:
        if not tx[_AMT].dtype.is_numeric():
            raise DataValidationError(
                source, _AMT, f"wrong type: expected a number, found {tx[_AMT].dtype}"
            )
        tx = tx.with_columns(pl.col(_AMT).cast(pl.Float64))
    if "source_row" not in tx.columns:
        tx = tx.with_row_index("source_row", offset=1)
    for col, what in ((_CID, "null ids"), (_DATE, "missing dates"), (_AMT, "missing amounts")):
        nulls = tx[col].is_null()
        if nulls.any():
            bad = tx.filter(nulls)
            raise DataValidationError(
                source, col, what, bad["source_row"].head(5).to_list(), n_rows=bad.height
            )
    return tx


def needs_order_rules(transactions: pl.DataFrame) -> bool:
    """True when order ids or returns make :func:`prepare_orders`' order rules matter.

    Without order ids and negative amounts, the orders are the customer-days, which the customer
    summary forms itself (faster, same result).
    """
    has_ids = (
        schema.ORDER_ID in transactions.columns
        and transactions[schema.ORDER_ID].null_count() < transactions.height
    )
    return has_ids or bool((transactions[_AMT] < 0).any())


def money_columns(columns: list[str]) -> list[str]:
    """The money columns of a transactions table: ``amount``, ``margin``, ``cost``."""
    return [c for c in (_AMT, schema.MARGIN, schema.COST) if c in columns]


def order_money_columns(columns: list[str]) -> list[str]:
    """The money columns whose decimals set the minor unit of orders or lines: those of
    :func:`money_columns` and the orders' ``profit`` (:mod:`workbench.core.money`).

    Examples
    --------
    >>> order_money_columns(["customer_id", "profit", "amount"])
    ['amount', 'profit']
    """
    return [*money_columns(columns), *(["profit"] if "profit" in columns else [])]


def profit_expr(columns: list[str]) -> pl.Expr | None:
    """``margin``, else ``amount - cost``, else ``None`` (docs/data-rules.md, 'Input tables')."""
    if schema.MARGIN in columns:
        return pl.col(schema.MARGIN).fill_null(0.0)
    if schema.COST in columns:
        return pl.col(_AMT) - pl.col(schema.COST).fill_null(0.0)
    return None


#: Working columns of :func:`prepare_orders`, never shown in the data-quality report.
_INTERNAL = (_KEY, _UNITS, _PROFIT, "_target", "_own")


def _shown(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop([c for c in _INTERNAL if c in frame.columns])


def prepare_orders(
    transactions: pl.DataFrame,
    as_of: DateLike | None = None,
    *,
    source: str = "transactions",
    without_customer_id: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, DataQualityReport]:
    """Apply the data rules and return one row per order, net of returns.

    Money is added exactly, as whole minor units (:mod:`workbench.core.money`), so the result does
    not depend on the order of the rows.

    Parameters
    ----------
    transactions
        A validated transactions table (:func:`workbench.core.io.read_transactions`).
    as_of
        End of the observation period (inclusive); ``None`` keeps every row.
    source
        Name of the table for the report and error messages.
    without_customer_id
        The lines of the same file that have no customer id, set aside when it was read
        (``missing_customer_id = "set_aside"``, :meth:`workbench.core.project.Project.read_lines`):
        recorded as ``no_customer_id``, counted in the lines read and in the tie-out, never
        analysed.  ``None`` (default) when there are none.

    Returns
    -------
    orders : polars.DataFrame
        ``customer_id``, ``order_id`` (the order id, or the day as text without ids),
        ``order_date``, ``amount`` (net, currency), ``returned`` (currency netted from returns,
        <= 0), ``lines``, and ``profit`` when margin or cost is known; sorted by customer, date
        and order id.
    report : DataQualityReport
        Rows set aside or used by each rule.

    Examples
    --------
    >>> import polars as pl
    >>> from workbench.core.io import validate_transactions
    >>> tx = validate_transactions(pl.DataFrame({
    ...     "customer_id": ["a", "a", "a"],
    ...     "order_date": ["2024-01-02", "2024-01-02", "2024-01-09"],
    ...     "amount": [10.0, 5.0, -3.0]}))
    >>> orders, report = prepare_orders(tx)
    >>> orders["amount"].to_list()
    [12.0]
    """
    # long: the documented order of the data rules (docs/data-rules.md), applied step by step with
    # the quality counts
    as_of = to_date(as_of)
    tx = check_transactions(transactions, source)
    no_id = _without_customer_id(without_customer_id, source)
    report = DataQualityReport(source, tx.height + no_id.height)
    report.add("no_customer_id", no_id)
    report.units_in, report.scale = _units_in(tx, no_id, source)
    buckets: dict[str, pl.DataFrame] = {"no_customer_id": no_id}

    dup = duplicate_rows(tx)
    buckets["exact_duplicate"] = tx.filter(dup)
    report.add("exact_duplicate", buckets["exact_duplicate"])
    tx = tx.filter(~dup)

    if as_of is not None:
        late = pl.col(_DATE) > as_of
        buckets["after_as_of"] = tx.filter(late)
        report.add("after_as_of", buckets["after_as_of"])
        tx = tx.filter(~late)

    money = money_columns(tx.columns)
    units, scale = to_minor_units(tx.select(["source_row", *money]), money, source=source)
    profit = profit_expr(tx.columns)
    has_profit = profit is not None
    key = pl.col(_DATE).cast(pl.String)
    if schema.ORDER_ID in tx.columns:
        key = pl.coalesce(pl.col(schema.ORDER_ID), key)
    tx = tx.with_columns(
        key.alias(_KEY),
        units[_AMT].alias(_UNITS),
        (units.select(profit).to_series() if has_profit else pl.lit(0.0)).alias(_PROFIT),
    )

    lines = tx.filter(pl.col(_AMT) >= 0)
    returns = tx.filter(pl.col(_AMT) < 0)
    orders = lines.group_by(_CID, _KEY).agg(
        pl.col(_DATE).min(),
        pl.col(_UNITS).sum(),
        pl.col(_PROFIT).sum(),
        pl.len().alias("lines"),
        pl.col("source_row").min(),
    )
    # each return with the order it is netted into (``_target``); returns with none
    targeted, orphan = _return_targets(returns, orders)
    netted = targeted.group_by(_CID, "_target").agg(
        pl.col(_UNITS).sum().alias("returned"), pl.col(_PROFIT).sum().alias("_rprofit")
    ).rename({"_target": _KEY})
    orders = (
        orders.join(netted, on=[_CID, _KEY], how="left")
        .with_columns(pl.col("returned").fill_null(0.0), pl.col("_rprofit").fill_null(0.0))
        .with_columns(
            (pl.col(_UNITS) + pl.col("returned")).alias(_UNITS),
            (pl.col(_PROFIT) + pl.col("_rprofit")).alias(_PROFIT),
        )
    )
    bad = (pl.col(_UNITS) <= 0) & (pl.col("returned") < 0)
    dead = orders.filter(bad).select(_CID, _KEY)
    orders = orders.filter(~bad)
    kept_lines = lines.join(dead, on=[_CID, _KEY], how="anti")
    dead_target = dead.rename({_KEY: "_target"})
    kept_returns = targeted.join(dead_target, on=[_CID, "_target"], how="anti")
    cancelled = pl.concat(
        [
            lines.join(dead, on=[_CID, _KEY], how="semi"),
            targeted.join(dead_target, on=[_CID, "_target"], how="semi").drop("_own"),
        ],
        how="diagonal_relaxed",
    ).sort("source_row")
    multi = orders.filter(pl.col("lines") > 1).select(_CID, _KEY)
    if multi.height:
        report.add(
            "multi_line_order", _shown(kept_lines.join(multi, on=[_CID, _KEY], how="semi"))
        )
    own = kept_returns.filter(pl.col("_own"))
    latest = kept_returns.filter(~pl.col("_own"))
    report.add("return_netted", _shown(own.drop("_own")))
    report.add("return_without_purchase", _shown(orphan))
    report.add("return_netted_latest", _shown(latest.drop("_own")))
    report.add("cancelled_order", _shown(cancelled))
    buckets.update(
        {
            KEPT: kept_lines,
            "return_netted": own,
            "return_netted_latest": latest,
            "return_without_purchase": orphan,
            "cancelled_order": cancelled,
        }
    )
    report.ledger = ledger_frame(buckets, report.scale)
    cols = [
        _CID,
        pl.col(_KEY).alias(schema.ORDER_ID),
        _DATE,
        from_minor_units(pl.col(_UNITS), scale).alias(_AMT),
        from_minor_units(pl.col("returned"), scale).alias("returned"),
        "lines",
    ]
    if has_profit:
        cols.append(from_minor_units(pl.col(_PROFIT), scale).alias("profit"))
    return orders.select(cols).sort(_CID, _DATE, schema.ORDER_ID), report


def _without_customer_id(frame: pl.DataFrame | None, source: str) -> pl.DataFrame:
    """The lines set aside for want of a customer id, checked (empty when ``None``)."""
    if frame is None:
        return pl.DataFrame(schema={"source_row": pl.Int64, _AMT: pl.Float64})
    for col in ("source_row", _AMT):
        if col not in frame.columns:
            raise DataValidationError(
                source, col, "the lines without a customer id need this column "
                "(read them with the project's reader)"
            )
    return frame


def _units_in(tx: pl.DataFrame, no_id: pl.DataFrame, source: str) -> tuple[int, int]:
    """The amount of every line read, in minor units, and the scale (one for the tie-out)."""
    # with the source rows, so that an amount refused is named by its row
    cols = [pl.col("source_row").cast(pl.Int64), pl.col(_AMT).cast(pl.Float64)]
    money = pl.concat([tx.select(cols), no_id.select(cols)])
    units, scale = to_minor_units(money, [_AMT], source=source)
    return int(units[_AMT].sum()), scale


def _return_targets(
    returns: pl.DataFrame, orders: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The order each return is netted into (``_target``, ``_own``); and the returns with none.

    A return with an order of its own (same customer and order key) goes to it (``_own`` is
    true); any other to the customer's latest order dated on or before the return, among
    orders of that same day the one with the greatest order id (text order).  The choice is a
    total order, so it never depends on the order of the rows.
    """
    keys = orders.select(_CID, _KEY)
    own = returns.join(keys, on=[_CID, _KEY], how="semi").with_columns(
        pl.col(_KEY).alias("_target"), pl.lit(True).alias("_own")
    )
    other = returns.join(keys, on=[_CID, _KEY], how="anti")
    if other.height == 0:
        return own, other
    targets = (
        orders.group_by(_CID, _DATE)
        .agg(pl.col(_KEY).max().alias("_target"))
        .sort(_DATE, _CID)
    )
    found = other.sort(_DATE, "source_row").join_asof(
        targets, on=_DATE, by=_CID, strategy="backward", check_sortedness=False
    )
    found = found.sort("source_row")
    latest = found.filter(pl.col("_target").is_not_null()).with_columns(
        pl.lit(False).alias("_own")
    )
    orphan = found.filter(pl.col("_target").is_null()).drop("_target")
    return pl.concat([own, latest], how="vertical_relaxed"), orphan
