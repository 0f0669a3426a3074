"""From transaction lines to orders: the documented rules for dirty data.

Rules, applied in this order (each recorded in the :class:`~workbench.quality.DataQualityReport`):

1. **Exact duplicates**: a row equal to an earlier row in every column is set aside; the
   first copy is kept.
2. **After the as-of date**: rows dated after ``as_of`` are set aside for this analysis (they are
   not known at that date; the holdout checks read them separately).
3. **Multi-line orders**: lines with the same customer and ``order_id`` form one order, dated at
   its earliest non-negative line.  Without ``order_id`` (or where it is empty) a customer's lines
   of one day form one order.
4. **Returns** (negative amounts) are netted into their own order (same customer and order id, or
   same customer and day without order ids); a return with no such order is netted into the
   customer's latest order on or before the return date; a return before any purchase is set
   aside.  Monetary values are therefore net of returns (``DOMAIN.md`` §3).
5. **Cancelled orders**: an order that returns bring to a net value of zero or less is not a
   purchase and is set aside.  A zero-value order without returns (a free or promotional
   order, as CDNOW has) is still a purchase.

``profit`` is ``margin`` where the table has it, else ``amount - cost`` where it has ``cost``
(``DOMAIN.md`` §1); otherwise it is absent.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench import schema
from workbench.quality import DataQualityReport

_KEY = "_order_key"
_CID = schema.CUSTOMER_ID
_DATE = schema.ORDER_DATE
_AMT = schema.AMOUNT

DateLike = dt.date | dt.datetime | str


def to_date(value: DateLike | None, name: str = "as_of") -> dt.date | None:
    """Turn a date, a datetime or an ISO string into a :class:`datetime.date`.

    Examples
    --------
    >>> to_date("1997-09-30")
    datetime.date(1997, 9, 30)
    """
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        raise ValueError(f"{name}: cannot read {value!r} as a date (use YYYY-MM-DD)") from exc


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


def profit_expr(columns: list[str]) -> pl.Expr | None:
    """``margin``, else ``amount - cost``, else ``None`` (``DOMAIN.md`` §1)."""
    if schema.MARGIN in columns:
        return pl.col(schema.MARGIN).fill_null(0.0)
    if schema.COST in columns:
        return pl.col(_AMT) - pl.col(schema.COST).fill_null(0.0)
    return None


def prepare_orders(
    transactions: pl.DataFrame,
    as_of: DateLike | None = None,
    *,
    source: str = "transactions",
) -> tuple[pl.DataFrame, DataQualityReport]:
    """Apply the data rules and return one row per order, net of returns.

    Parameters
    ----------
    transactions
        A validated transactions table (:func:`workbench.io.read_transactions`).
    as_of
        End of the observation period (inclusive); ``None`` keeps every row.
    source
        Name of the table for the report.

    Returns
    -------
    orders : polars.DataFrame
        ``customer_id``, ``order_date``, ``amount`` (net, currency), ``returned`` (currency
        netted from returns, <= 0), ``lines``, and ``profit`` when margin or cost is known.
    report : DataQualityReport
        Rows set aside or used by each rule.

    Examples
    --------
    >>> import polars as pl
    >>> from workbench.io import validate_transactions
    >>> tx = validate_transactions(pl.DataFrame({
    ...     "customer_id": ["a", "a", "a"],
    ...     "order_date": ["2024-01-02", "2024-01-02", "2024-01-09"],
    ...     "amount": [10.0, 5.0, -3.0]}))
    >>> orders, report = prepare_orders(tx)
    >>> orders["amount"].to_list()
    [12.0]
    """
    as_of = to_date(as_of)
    report = DataQualityReport(source, transactions.height)
    tx = transactions
    if "source_row" not in tx.columns:
        tx = tx.with_row_index("source_row", offset=1)
    data_cols = [c for c in tx.columns if c != "source_row"]

    dup = exact_duplicates(tx, data_cols)
    report.add("exact_duplicate", tx.filter(dup))
    tx = tx.filter(~dup)

    if as_of is not None:
        late = pl.col(_DATE) > as_of
        report.add("after_as_of", tx.filter(late))
        tx = tx.filter(~late)

    profit = profit_expr(tx.columns)
    has_profit = profit is not None
    key = pl.col(_DATE).cast(pl.String)
    if schema.ORDER_ID in tx.columns:
        key = pl.coalesce(pl.col(schema.ORDER_ID), key)
    tx = tx.with_columns(key.alias(_KEY), (profit if has_profit else pl.lit(0.0)).alias("_profit"))

    lines = tx.filter(pl.col(_AMT) >= 0)
    returns = tx.filter(pl.col(_AMT) < 0)
    orders = lines.group_by(_CID, _KEY).agg(
        pl.col(_DATE).min(),
        pl.col(_AMT).sum(),
        pl.col("_profit").sum(),
        pl.len().alias("lines"),
        pl.col("source_row").min(),
    )
    multi = orders.filter(pl.col("lines") > 1)
    if multi.height:
        report.add(
            "multi_line_order",
            lines.join(multi.select(_CID, _KEY), on=[_CID, _KEY], how="semi").drop(_KEY, "_profit"),
        )

    netted = pl.DataFrame(
        schema={_CID: pl.String, _KEY: pl.String, "returned": pl.Float64, "_rprofit": pl.Float64}
    )
    if returns.height:
        own = returns.join(orders.select(_CID, _KEY), on=[_CID, _KEY], how="semi")
        report.add("return_netted", own.drop(_KEY, "_profit"))
        other = returns.join(orders.select(_CID, _KEY), on=[_CID, _KEY], how="anti")
        if other.height:
            target = other.sort(_DATE).join_asof(
                orders.select(_CID, _DATE, pl.col(_KEY).alias("_target")).sort(_DATE),
                on=_DATE,
                by=_CID,
                strategy="backward",
                check_sortedness=False,
            )
            orphan = target.filter(pl.col("_target").is_null())
            report.add("return_without_purchase", orphan.drop(_KEY, "_target", "_profit"))
            latest = target.filter(pl.col("_target").is_not_null())
            report.add("return_netted_latest", latest.drop(_KEY, "_target", "_profit"))
            own = pl.concat(
                [own, latest.with_columns(pl.col("_target").alias(_KEY)).drop("_target")],
                how="diagonal_relaxed",
            )
        netted = own.group_by(_CID, _KEY).agg(
            pl.col(_AMT).sum().alias("returned"), pl.col("_profit").sum().alias("_rprofit")
        )

    orders = (
        orders.join(netted, on=[_CID, _KEY], how="left")
        .with_columns(pl.col("returned").fill_null(0.0), pl.col("_rprofit").fill_null(0.0))
        .with_columns(
            (pl.col(_AMT) + pl.col("returned")).alias(_AMT),
            (pl.col("_profit") + pl.col("_rprofit")).alias("profit"),
        )
    )
    bad = (pl.col(_AMT) <= 0) & (pl.col("returned") < 0)
    if orders.select(bad.any()).item():
        dead = orders.filter(bad).select(_CID, _KEY)
        report.add(
            "cancelled_order", tx.join(dead, on=[_CID, _KEY], how="semi").drop(_KEY, "_profit")
        )
        orders = orders.filter(~bad)
    cols = [_CID, pl.col(_KEY).alias(schema.ORDER_ID), _DATE, _AMT, "returned", "lines"]
    if has_profit:
        cols.append("profit")
    return orders.select(cols).sort(_CID, _DATE), report
