"""Pareto concentration of value (the *Customer relationships* lecture notes, topic 6: the top
20 % of customers and their share of revenue; docs/rfm.md, 'Pareto concentration').

All functions take a customer summary (one row per customer) and a value column, by default
``total_spend`` (net revenue to date, currency); ``total_profit`` or a predicted CLV column work
the same way.

A summary without customers (no purchase on or before the as-of date) is refused with a
:class:`~workbench.errors.DataValidationError`: a share of nothing is not 0.  Customers whose
values are all zero (or negative, counted as 0) give shares of 0 and a Gini coefficient of 0.
"""

from __future__ import annotations

import math
from typing import cast

import polars as pl

from workbench.core.summary import require_purchases


def _values(summary: pl.DataFrame, value: str) -> pl.Series:
    if value not in summary.columns:
        raise ValueError(f"value column {value!r} not in the summary (columns: {summary.columns})")
    require_purchases(summary, source="customer summary")
    return (
        summary[value].fill_null(0.0).clip(lower_bound=0.0).cast(pl.Float64).sort(descending=True)
    )


def lorenz_curve(
    summary: pl.DataFrame, value: str = "total_spend", points: int = 100
) -> pl.DataFrame:
    """Cumulative share of value held by the top x % of customers (best customers first).

    Parameters
    ----------
    summary
        One row per customer.
    value
        Value column (currency).
    points
        Number of points on the curve (plus the origin), so charts stay small.

    Returns
    -------
    polars.DataFrame
        ``customer_share`` (0-1), ``value_share`` (0-1), ``customers``.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"total_spend": [80.0, 10.0, 5.0, 5.0]})
    >>> lorenz_curve(s, points=4)["value_share"].to_list()
    [0.0, 0.8, 0.9, 0.95, 1.0]
    """
    v = _values(summary, value)
    n = v.len()
    total = v.sum()
    cum = v.cum_sum()
    idx = sorted({max(1, round(n * k / points)) for k in range(1, points + 1)}) if n else []
    shares = [0.0] + [cum[i - 1] / total if total else 0.0 for i in idx]
    return pl.DataFrame(
        {
            "customer_share": [0.0] + [i / n for i in idx],
            "value_share": shares,
            "customers": [0, *idx],
        }
    )


def _top_count(share: float, n: int) -> int:
    """``ceil(share * n)`` customers, at least one, robust to float error (0.2 * 5 = 1)."""
    return max(1, math.ceil(share * n - 1e-9)) if n else 0


def top_share(summary: pl.DataFrame, share: float = 0.2, value: str = "total_spend") -> float:
    """Share of total value held by the top ``share`` of customers (0-1).

    The number of top customers is ``ceil(share * n)``.

    Examples
    --------
    >>> import polars as pl
    >>> top_share(pl.DataFrame({"total_spend": [80.0, 10.0, 5.0, 5.0, 0.0]}), 0.2)
    0.8
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    v = _values(summary, value)
    total = cast(float, v.sum())  # a Float64 series sums to a float
    if v.len() == 0 or total == 0:
        return 0.0
    k = _top_count(share, v.len())
    return float(cast(float, v.head(k).sum()) / total)


def gini(summary: pl.DataFrame, value: str = "total_spend") -> float:
    """Gini coefficient of value across customers (0 = equal, -> 1 = concentrated).

    ``G = sum_i (2i - n - 1) x_(i) / (n sum x)`` with ``x`` sorted ascending (the standard
    sample formula).

    Examples
    --------
    >>> import polars as pl
    >>> gini(pl.DataFrame({"total_spend": [1.0, 1.0, 1.0, 1.0]}))
    0.0
    """
    v = _values(summary, value).sort()
    n, total = v.len(), cast(float, v.sum())  # a Float64 series sums to a float
    if n == 0 or total == 0:
        return 0.0
    i = pl.int_range(1, n + 1, eager=True).cast(pl.Float64)
    return float(cast(float, ((2 * i - n - 1) * v).sum()) / (n * total))


def pareto_table(
    summary: pl.DataFrame,
    value: str = "total_spend",
    shares: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2, 0.5),
) -> pl.DataFrame:
    """Share of value held by the top 1 %, 5 %, 10 %, 20 % and 50 % of customers.

    Examples
    --------
    >>> summary = pl.DataFrame({"customer_id": list("abcdefghij"),
    ...                         "total_spend": [910.0] + [10.0] * 9})
    >>> pareto_table(summary, shares=(0.1, 0.5)).rows()  # the top 10 %: 910 of 1000
    [(0.1, 1, 0.91), (0.5, 5, 0.95)]
    """
    n = require_purchases(summary, source="customer summary").height
    return pl.DataFrame(
        {
            "top_customers_share": list(shares),
            "customers": [_top_count(s, n) for s in shares],
            "value_share": [top_share(summary, s, value) for s in shares],
        }
    )
