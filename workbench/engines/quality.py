"""The data-quality tie-out on any engine: every line read in exactly one bucket, with its exact
amount (docs/data-rules.md, 'Rows a rule sets aside or combines').

The same buckets and the same numbers as the Polars path's ``DataQualityReport.ledger``
(:func:`workbench.core.quality.ledger_frame`), computed as a handful of aggregates on the engine (no
line reaches the driver): exact duplicates, lines after the as-of date, the purchase lines of
the orders kept, the returns netted into their own order or into the customer's latest order on
or before the return, returns without such an order, and the lines of cancelled orders (an
order whose returns took its whole amount, with the returns netted into it).  Lines without a
customer id are refused on the engines (``no_customer_id`` is 0).
"""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import polars as pl

from workbench.core import schema
from workbench.core.quality import BUCKETS, KEPT
from workbench.engines import rules

_AMT, _DATE = schema.AMOUNT, schema.ORDER_DATE


def _sums(frame: nw.LazyFrame, **aggregates: nw.Expr) -> dict[str, int]:
    """One row of integer aggregates (nulls of an empty frame read as 0)."""
    row = frame.select(**aggregates).collect("polars").to_native().row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


def _when(condition: nw.Expr, value: nw.Expr) -> nw.Expr:
    return nw.when(condition).then(value).otherwise(0)


def ledger(tx: nw.LazyFrame, as_of: dt.date | None, scale: int) -> pl.DataFrame:
    """Lines and minor units of each tie-out bucket of ``tx`` (:func:`rules.standardise` d).

    Parameters
    ----------
    tx
        The transactions on their engine.
    as_of
        Last day kept (inclusive); ``None`` keeps every line.
    scale
        Decimals of the minor unit (:func:`rules.check_and_scale`).

    Returns
    -------
    polars.DataFrame
        ``bucket``, ``lines`` (Int64), ``units`` (Int64, the amount in minor units), one row
        per bucket of :data:`workbench.core.quality.BUCKETS` in that order; ``lines`` add up to the
        lines read and ``units`` to their amount.

    Examples
    --------
    >>> import narwhals as nw, polars as pl, datetime as dt
    >>> tx = nw.from_native(pl.LazyFrame({"customer_id": ["a", "a", "a"],
    ...     "order_date": [dt.date(2026, 1, 2)] * 3, "amount": [5.0, 5.0, -1.5]}))
    >>> ledger(rules.standardise(tx), None, 2).filter(pl.col("lines") > 0).rows()
    [('kept', 1, 500), ('return_netted', 1, -150), ('exact_duplicate', 1, 500)]
    """
    units = rules.to_units(nw.col(_AMT), scale)
    read = _sums(tx, n=nw.len(), u=units.sum())
    unique = tx.unique()
    # (dates are never null on the engines: the date against itself is a column of False)
    late = nw.col(_DATE) > (nw.lit(as_of, dtype=nw.Date) if as_of is not None else nw.col(_DATE))
    is_return = (nw.col(_AMT) < 0) & ~late
    distinct = _sums(
        unique,
        n=nw.len(),
        u=units.sum(),
        n_late=late.cast(nw.Int64).sum(),
        u_late=_when(late, units).sum(),
        n_ret=is_return.cast(nw.Int64).sum(),
        u_ret=_when(is_return, units).sum(),
    )
    table = rules.orders(tx, as_of, scale, keep_cancelled=True)
    dead, kept = nw.col("_cancelled"), ~nw.col("_cancelled")
    latest_n = nw.col("_n_returns") - nw.col("_own_returns")
    latest_u = nw.col("_returned") - nw.col("_own_units")
    o = _sums(
        table,
        kept_n=_when(kept, nw.col("lines")).sum(),
        kept_u=_when(kept, nw.col("_line_units")).sum(),
        own_n=_when(kept, nw.col("_own_returns")).sum(),
        own_u=_when(kept, nw.col("_own_units")).sum(),
        lat_n=_when(kept, latest_n).sum(),
        lat_u=_when(kept, latest_u).sum(),
        dead_n=_when(dead, nw.col("lines") + nw.col("_n_returns")).sum(),
        dead_u=_when(dead, nw.col("_line_units") + nw.col("_returned")).sum(),
        netted_n=nw.col("_n_returns").sum(),
        netted_u=nw.col("_returned").sum(),
    )
    buckets = {
        KEPT: (o["kept_n"], o["kept_u"]),
        "return_netted": (o["own_n"], o["own_u"]),
        "return_netted_latest": (o["lat_n"], o["lat_u"]),
        "no_customer_id": (0, 0),
        "exact_duplicate": (read["n"] - distinct["n"], read["u"] - distinct["u"]),
        "after_as_of": (distinct["n_late"], distinct["u_late"]),
        "return_without_purchase": (distinct["n_ret"] - o["netted_n"],
                                    distinct["u_ret"] - o["netted_u"]),
        "cancelled_order": (o["dead_n"], o["dead_u"]),
    }
    return pl.DataFrame(
        {
            "bucket": list(BUCKETS),
            "lines": [buckets[b][0] for b in BUCKETS],
            "units": [buckets[b][1] for b in BUCKETS],
        },
        schema={"bucket": pl.String, "lines": pl.Int64, "units": pl.Int64},
    )
