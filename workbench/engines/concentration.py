"""The Gini coefficient and the Lorenz curve of a customer summary on any engine, exactly.

The definitions are those of :mod:`workbench.analyses.pareto` (docs/rfm.md, 'Pareto
concentration'): values below 0 or missing count as 0; the Lorenz curve gives the share of value
held by the best ``i`` customers; ``G = sum_i (2i - n - 1) x_(i) / (n sum x)`` with ``x`` sorted
ascending (the standard sample formula).  Both need the customers in order of value, which a
global window (``rank().over()`` with no partition) would give only by moving every customer to
one Spark partition.  Here no row is ordered globally:

* values become whole **minor units** (Int64, as :func:`workbench.engines.rules.to_units`) and are
  grouped into the table of *distinct* values with their customer counts;
* **histogram refinement** (as :func:`workbench.engines.scoring.order_statistics`): one group-by
  over at most :data:`BUCKETS` equal-width buckets of the value range collects each bucket's
  customers, units, distinct values and range; a bucket with more than :data:`WINDOW_LIMIT`
  distinct values, or so many customers over so wide a range that its Int64 sums could
  overflow, is refined the same way inside its own range;
* inside every other bucket, a window **partitioned by bucket** (at most :data:`WINDOW_LIMIT`
  rows a partition) orders the distinct values and gives each bucket's own Gini numerator
  ``W_b = sum over pairs of (x_j - x_i)``, and the few rows holding a Lorenz point;
* on the driver, with ``C_b`` customers in lower buckets, the numerator is
  ``sum_b W_b + (2 C_b + n_b - n) S_b`` (rank ``i = C_b + i_b``), in Python integers.

So the driver holds at most :data:`BUCKETS` histogram rows (and one row per Lorenz point) at a
time; each pass is an aggregation or a window over bounded partitions.  The cost: two or three
passes over the distinct values per refined range (one histogram, one or two window queries),
against one sort on Polars.  The sums are exact integers, so every engine gives the same bits:
``G`` is the exact ratio rounded once to Float64.  The Polars functions sum Float64 values in
their own order, so they may differ from these in the last bits (relative 1e-15).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import polars as pl

from workbench.engines import rules
from workbench.errors import DataValidationError

#: Equal-width buckets of one histogram pass.
BUCKETS = 4096
#: Most distinct values a window partition (one bucket) may hold; larger buckets are refined.
WINDOW_LIMIT = 200_000
#: Bound on ``n_b**2 * (max - min)`` of a bucket, so its Int64 sums cannot overflow.
_SAFE = 2**62
_U, _C, _B = "_u", "_c", "_b"


@dataclass
class _Totals:
    """Customers ``n``, units ``s``, Gini numerator ``numerator`` and the bottom sums."""

    n: int
    s: int
    numerator: int = 0
    bottom: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Bucket:
    """One histogram row: id, customers, units, distinct values, range, and what lies below."""

    id: int
    n: int
    s: int
    d: int
    lo: int
    hi: int
    below_n: int
    below_s: int


def _lazy(summary: Any) -> nw.LazyFrame:
    if isinstance(summary, nw.LazyFrame):
        return summary
    if isinstance(summary, nw.DataFrame):
        return summary.lazy()
    return nw.from_native(summary).lazy()


def _distinct_units(summary: Any, value: str, scale: int) -> nw.LazyFrame:
    """Distinct minor-unit values (``_u``) and their customer counts (``_c``), on the engine."""
    frame = _lazy(summary)
    columns = frame.collect_schema().names()
    if value not in columns:
        raise ValueError(f"value column {value!r} not in the summary (columns: {columns})")
    v = nw.when(nw.col(value) > 0).then(nw.col(value)).otherwise(0.0).fill_null(0.0)
    row = frame.select(
        nw.len().alias("n"), (~rules._whole_at(v, scale)).cast(nw.Int64).sum().alias("bad")
    ).collect("polars").to_native().row(0, named=True)
    if not row["n"]:
        raise DataValidationError(
            "customer summary", None, "no purchases: the summary has no customers"
        )
    if row["bad"]:
        raise DataValidationError(
            "customer summary", value, f"not whole in minor units of scale {scale}",
            n_rows=int(row["bad"]),
        )
    units = rules.to_units(v.cast(nw.Float64), scale).alias(_U)
    return frame.select(units).group_by(_U).agg(nw.len().cast(nw.Int64).alias(_C))


def _histogram(inside: nw.LazyFrame, below_n: int, below_s: int) -> list[_Bucket]:
    table = (
        inside.group_by(_B)
        .agg(
            nw.col(_C).sum().cast(nw.Int64).alias("n"),
            (nw.col(_U) * nw.col(_C)).sum().cast(nw.Int64).alias("s"),
            nw.len().cast(nw.Int64).alias("d"),
            nw.col(_U).min().alias("lo"),
            nw.col(_U).max().alias("hi"),
        )
        .collect("polars")
        .to_native()
        .sort(_B)
    )
    out = []
    for row in table.iter_rows(named=True):
        out.append(_Bucket(int(row[_B]), int(row["n"]), int(row["s"]), int(row["d"]),
                           int(row["lo"]), int(row["hi"]), below_n, below_s))
        below_n += int(row["n"])
        below_s += int(row["s"])
    return out


def _any(conditions: list[nw.Expr]) -> nw.Expr:
    """``c1 | c2 | ...`` as a balanced tree: a chain of a hundred ORs is nested too deep for
    Spark Connect's plan messages (protobuf's depth limit)."""
    while len(conditions) > 1:
        pairs = zip(conditions[::2], conditions[1::2], strict=False)
        conditions = [a | b for a, b in pairs] + conditions[len(conditions) // 2 * 2:]
    return conditions[0]


def _windows(
    inside: nw.LazyFrame, buckets: list[_Bucket], totals: _Totals, ranks: list[int], gini: bool
) -> None:
    """Own Gini numerators and Lorenz rows of buckets small enough for one window partition."""
    ids = [b.id for b in buckets]
    off = nw.col("_off") * nw.col(_C)  # units above the bucket's least value, times customers
    w = (
        inside.filter(nw.col(_B).is_in(ids))
        .with_columns((nw.col(_U) - nw.col(_U).min().over(_B)).alias("_off"))
        .with_columns(
            (nw.col(_C).cum_sum().over(_B, order_by=_U) - nw.col(_C)).cast(nw.Int64).alias("_l"),
            (off.cum_sum().over(_B, order_by=_U) - off).cast(nw.Int64).alias("_q"),
        )
    )
    if gini:  # one Int64 sum per bucket (bounded by _SAFE), added up in Python
        own = (nw.col(_C) * (nw.col("_l") * nw.col("_off") - nw.col("_q"))).sum()
        table = w.group_by(_B).agg(own.cast(nw.Int64).alias("w")).collect("polars").to_native()
        totals.numerator += sum(int(x) for x in table["w"])
    wanted = [(b, k - b.below_n) for b in buckets for k in ranks
              if b.below_n < k < b.below_n + b.n]
    if not wanted:
        return
    hits = [(nw.col(_B) == b.id) & (nw.col("_l") <= r) & (nw.col("_l") + nw.col(_C) > r)
            for b, r in wanted]
    rows = w.filter(_any(hits)).select(_B, _U, _C, "_l", "_q").collect("polars").to_native()
    by_bucket: dict[int, list[dict[str, Any]]] = {}
    for r in rows.iter_rows(named=True):
        by_bucket.setdefault(int(r[_B]), []).append(r)
    for b, r in wanted:
        row = next(x for x in by_bucket[b.id] if x["_l"] <= r < x["_l"] + x[_C])
        below = row["_q"] + row["_l"] * b.lo  # units of the lower values of the bucket
        totals.bottom[b.below_n + r] = b.below_s + below + (r - row["_l"]) * row[_U]


def _refine(dist: nw.LazyFrame, totals: _Totals, ranks: list[int], gini: bool,
            lo: int, hi: int) -> None:
    pending = [(lo, hi, 0, 0)]
    while pending:
        lo, hi, below_n, below_s = pending.pop()
        width = -(-(hi - lo + 1) // BUCKETS)
        inside = dist.filter((nw.col(_U) >= lo) & (nw.col(_U) <= hi)).with_columns(
            ((nw.col(_U) - lo) // width).cast(nw.Int64).alias(_B)
        )
        windowed = []
        for b in _histogram(inside, below_n, below_s):
            for k in ranks:
                if k == b.below_n:
                    totals.bottom[k] = b.below_s
            if b.d > 1 and (b.d > WINDOW_LIMIT or b.n * b.n * (b.hi - b.lo) > _SAFE):
                pending.append((b.lo, b.hi, b.below_n, b.below_s))
                continue
            totals.numerator += (2 * b.below_n + b.n - totals.n) * b.s
            if b.d == 1:  # one value: no pairs inside, Lorenz points by multiplication
                for k in ranks:
                    if b.below_n < k < b.below_n + b.n:
                        totals.bottom[k] = b.below_s + (k - b.below_n) * b.lo
            else:
                windowed.append(b)
        if windowed:
            _windows(inside, windowed, totals, ranks, gini)


def _concentration(summary: Any, value: str, scale: int, ranks: Sequence[int],
                   gini: bool) -> _Totals:
    """Customers, units, Gini numerator and the units of the ``k`` lowest values, ``k in ranks``."""
    dist = _distinct_units(summary, value, scale)
    row = dist.select(
        nw.col(_C).sum().cast(nw.Int64).alias("n"),
        (nw.col(_U) * nw.col(_C)).sum().cast(nw.Int64).alias("s"),
        nw.col(_U).min().alias("lo"),
        nw.col(_U).max().alias("hi"),
    ).collect("polars").to_native().row(0, named=True)
    totals = _Totals(int(row["n"]), int(row["s"]))
    inner = sorted({int(k) for k in ranks if 0 < k < totals.n})
    totals.bottom = {0: 0, totals.n: totals.s}
    if totals.s and (gini or inner):
        _refine(dist, totals, inner, gini, int(row["lo"]), int(row["hi"]))
    return totals


def gini(summary: Any, value: str = "total_spend", *, scale: int = 2) -> float:
    """Gini coefficient of value across customers (:func:`workbench.analyses.pareto.gini`).

    ``G = sum_i (2i - n - 1) x_(i) / (n sum x)`` with ``x`` sorted ascending (the standard
    sample formula; docs/rfm.md, 'Pareto concentration'), dimensionless, 0 = equal.

    Parameters
    ----------
    summary
        One row per customer, a frame of any engine (materialise it first: a few passes).
    value
        Value column (currency), whole in minor units of ``scale``.
    scale
        Decimals of the minor unit (the money scale of the summary, 2 for cents).

    Returns
    -------
    float
        The exact ratio of integer sums, rounded once: the same bits on every engine.

    Examples
    --------
    >>> import duckdb, polars as pl
    >>> s = pl.DataFrame({"total_spend": [80.0, 10.0, 5.0, 5.0]})
    >>> gini(duckdb.from_arrow(s.to_arrow()))  # (3*80 + 1*10 - 1*5 - 3*5) / (4*100)
    0.575
    """
    t = _concentration(summary, value, scale, [], gini=True)
    return t.numerator / (t.n * t.s) if t.s else 0.0


def lorenz_curve(
    summary: Any, value: str = "total_spend", points: int = 100, *, scale: int = 2
) -> pl.DataFrame:
    """The points of :func:`workbench.analyses.pareto.lorenz_curve`, computed on the engine.

    Cumulative share of value held by the top x % of customers, best first: the same
    ``customers`` (``max(1, round(n k / points))``, k = 1..points) and, from exact sums of minor
    units, the share of each (dimensionless, 0-1).

    Returns
    -------
    polars.DataFrame
        ``customer_share`` (0-1), ``value_share`` (0-1), ``customers``: at most
        ``points + 1`` rows, the origin first.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"total_spend": [80.0, 10.0, 5.0, 5.0]})
    >>> lorenz_curve(s, points=4)["value_share"].to_list()
    [0.0, 0.8, 0.9, 0.95, 1.0]
    """
    n = int(_lazy(summary).select(nw.len()).collect("polars").item())
    idx = sorted({max(1, round(n * k / points)) for k in range(1, points + 1)}) if n else []
    t = _concentration(summary, value, scale, [n - i for i in idx], gini=False)
    shares = [0.0] + [(t.s - t.bottom[t.n - i]) / t.s if t.s else 0.0 for i in idx]
    return pl.DataFrame(
        {
            "customer_share": [0.0] + [i / n for i in idx],
            "value_share": shares,
            "customers": [0, *idx],
        }
    )
