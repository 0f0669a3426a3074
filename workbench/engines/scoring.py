"""RFM scores and Pareto figures of a customer summary on any engine, without a global window.

A rank over all customers (``rank().over()`` with no partition) makes Spark move every row to
one partition.  The mid-rank quantile score needs far less: the four values at which the score
steps up (:func:`workbench.analyses.rfm.midrank_thresholds`).  They are found here from order
statistics, each located by **histogram refinement**: one group-by over a few thousand equal-width
buckets of the value range, collected to the driver, finds the bucket that holds the wanted rank;
the next pass looks inside that bucket only, until few enough values are left to collect.  Each pass
is an aggregation (partial aggregates on every executor), so nothing moves to one partition, and the
result is exact: the values compared are the engine's own.  The score itself is then
``1 + #(thresholds <= value)``, one expression per customer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import narwhals as nw
import numpy as np
import polars as pl

from workbench.analyses.rfm import DEFAULT_CUTOFFS, SCORES, load_segment_rules
from workbench.core import schema

_CID = schema.CUSTOMER_ID
_BUCKETS = 4096
#: Values collected to the driver once a bucket holds at most this many rows.
COLLECT_LIMIT = 200_000
_METRIC = {"R": "recency_days", "F": "purchases", "M": "monetary"}


def order_statistics(frame: nw.LazyFrame, value: str, ranks: Sequence[int]) -> list[float]:
    """The ``ranks``-th smallest values (0-based) of a numeric column without nulls.

    Exact; a few aggregation passes over ``frame`` (materialise it first).

    Examples
    --------
    >>> import narwhals as nw, polars as pl
    >>> f = nw.from_native(pl.LazyFrame({"v": [5.0, -1.0, 3.0, 3.0]}))
    >>> order_statistics(f, "v", [0, 2, 3])
    [-1.0, 3.0, 5.0]
    """
    stats = frame.select(
        nw.col(value).min().alias("lo"), nw.col(value).max().alias("hi"), nw.len().alias("n")
    ).collect("polars").to_native().row(0, named=True)
    n0 = int(stats["n"])
    for rank in ranks:
        if not 0 <= int(rank) < n0:
            raise IndexError(f"rank {rank} outside 0..{n0 - 1}")
    if n0 <= COLLECT_LIMIT:  # small: one collect answers every rank
        values = np.sort(frame.select(value).collect("polars").to_native()[value].to_numpy())
        return [float(values[int(r)]) for r in ranks]
    out = []
    for rank in ranks:
        lo, hi, n, r = float(stats["lo"]), float(stats["hi"]), n0, int(rank)
        while True:
            inside = frame.filter((nw.col(value) >= lo) & (nw.col(value) <= hi))
            if lo == hi:
                out.append(lo)
                break
            if n <= COLLECT_LIMIT:
                values = inside.select(value).collect("polars").to_native()[value].to_numpy()
                out.append(float(np.partition(values, r)[r]))
                break
            width = (hi - lo) / _BUCKETS
            bucket = ((nw.col(value) - lo) / width).floor().clip(0, _BUCKETS - 1).cast(nw.Int64)
            hist = (
                inside.group_by(bucket.alias("_b"))
                .agg(
                    nw.len().alias("n"),
                    nw.col(value).min().alias("lo"),
                    nw.col(value).max().alias("hi"),
                )
                .collect("polars")
                .to_native()
                .sort("_b")
            )
            before = hist["n"].cum_sum() - hist["n"]
            at = int(np.searchsorted((before + hist["n"]).to_numpy(), r, side="right"))
            row = hist.row(at, named=True)
            r -= int(before[at])
            lo, hi, n = float(row["lo"]), float(row["hi"]), int(row["n"])
    return out


def midrank_thresholds(frame: nw.LazyFrame, value: str, n_scores: int = 5) -> list[float]:
    """Lowest value reaching each score 2..``n_scores`` (mid-rank percentiles; ``inf`` if none).

    The same thresholds as :func:`workbench.analyses.rfm.midrank_thresholds`: a value ``v`` held by
    ``E`` of ``n`` customers, ``L`` of them lower, reaches score ``j + 1`` when
    ``n_scores (2L + E) >= 2 j n``; the lowest such value is the order statistic at position
    ``ceil(j n / n_scores)`` or the next larger value.
    """
    n = frame.select(nw.len()).collect("polars").item()
    if n == 0:
        return [math.inf] * (n_scores - 1)
    targets = [2 * n * j for j in range(1, n_scores)]
    positions = [min(max(-(-t // (2 * n_scores)), 1), n) - 1 for t in targets]
    candidates = order_statistics(frame, value, positions)
    v = nw.col(value)
    aggs = []
    for i, c in enumerate(candidates):
        aggs += [
            ((v < c).cast(nw.Int64).sum() + (v <= c).cast(nw.Int64).sum()).alias(f"t{i}"),
            nw.when(v > c).then(v).otherwise(None).min().alias(f"a{i}"),
        ]
    row = frame.select(aggs).collect("polars").to_native().row(0, named=True)
    out = []
    for i, (c, target) in enumerate(zip(candidates, targets, strict=True)):
        above = row[f"a{i}"]
        out.append(c if n_scores * row[f"t{i}"] >= target else
                   (math.inf if above is None else float(above)))
    return out


def _threshold_score(value: nw.Expr, thresholds: Sequence[float]) -> nw.Expr:
    score = nw.lit(1, dtype=nw.Int64)
    for t in thresholds:
        if math.isfinite(t):
            score = score + (value >= t).cast(nw.Int64)
    return score.cast(nw.Int8)


def _fixed_score(value: nw.Expr, edges: Sequence[float], lower_is_better: bool) -> nw.Expr:
    if len(edges) != 4 or list(edges) != sorted(edges):
        raise ValueError(f"cut-offs must be 4 increasing upper edges, got {list(edges)}")
    score = nw.lit(1, dtype=nw.Int64)
    for e in edges:
        score = score + (value > e).cast(nw.Int64)
    return (6 - score).cast(nw.Int8) if lower_is_better else score.cast(nw.Int8)


def rfm_scores(
    summary: nw.LazyFrame,
    *,
    method: str = "quantile",
    monetary: str = "total",
    cutoffs: Mapping[str, Sequence[float]] | None = None,
) -> nw.LazyFrame:
    """The scores of :func:`workbench.analyses.rfm.rfm_scores` on any engine (lazy, unsorted).

    ``summary`` should be materialised (:meth:`workbench.engines.Engine.persist`): the
    thresholds take a few passes over it.  Returns ``customer_id``, ``recency_days``,
    ``purchases``, ``monetary``, ``R``, ``F``, ``M`` and ``rfm_code``.
    """
    if method not in ("quantile", "fixed"):
        raise ValueError(f"method must be 'quantile' or 'fixed', got {method!r}")
    if monetary not in ("total", "mean"):
        raise ValueError(f"monetary must be 'total' or 'mean', got {monetary!r}")
    cut: dict[str, Sequence[float]] = dict(DEFAULT_CUTOFFS if method == "fixed" else {})
    cut.update(cutoffs or {})
    base = summary.select(
        _CID,
        nw.col("days_since_last").alias("recency_days"),
        nw.col("n_purchases").alias("purchases"),
        nw.col("total_spend" if monetary == "total" else "mean_spend").alias("monetary"),
    )
    scores = []
    for letter in SCORES:
        col = _METRIC[letter]
        if letter in cut:
            scores.append(_fixed_score(nw.col(col), cut[letter], letter == "R").alias(letter))
            continue
        if letter == "R":  # fewer days is better: score the negated days
            neg = base.select((-nw.col(col)).alias("_v"))
            scores.append(_threshold_score(-nw.col(col), midrank_thresholds(neg, "_v"))
                          .alias(letter))
        else:
            scores.append(_threshold_score(nw.col(col), midrank_thresholds(base, col))
                          .alias(letter))
    out = base.with_columns(*scores)
    code = nw.concat_str([nw.col(s).cast(nw.String) for s in SCORES])
    return out.with_columns(code.alias("rfm_code"))


def assign_segments(
    scores: nw.LazyFrame, rules: pl.DataFrame | str = "default", *, small=None
) -> nw.LazyFrame:
    """Add ``segment`` from a rule table (125 rows, joined by ``rfm_code``; broadcast)."""
    table = load_segment_rules(rules) if not isinstance(rules, pl.DataFrame) else rules
    lookup = small(table) if small is not None else nw.from_native(table.lazy())
    return scores.join(lookup, on="rfm_code", how="left")


def pareto_table(
    summary: nw.LazyFrame,
    value: str = "total_spend",
    shares: Sequence[float] = (0.01, 0.05, 0.1, 0.2, 0.5),
    scale: int = 2,
) -> pl.DataFrame:
    """Share of value held by the top 1 %, 5 %, ... of customers (:func:`workbench.analyses.pareto.
    pareto_table`), with sums of whole minor units: the same bits on every engine.

    The top ``k = ceil(share n)`` customers are those above the ``(n - k)``-th order statistic
    ``t``, plus ``k - #(v > t)`` customers at ``t`` (ties share a value, so which ones does not
    matter).
    """
    from workbench.analyses.pareto import _top_count

    v = nw.when(nw.col(value) > 0).then(nw.col(value)).otherwise(0.0).fill_null(0.0)
    frame = summary.select(v.alias("_v"), (v * 10.0**scale).round(0).cast(nw.Int64).alias("_u"))
    n = frame.select(nw.len()).collect("polars").item()
    total = frame.select(nw.col("_u").sum()).collect("polars").item() or 0
    counts = [_top_count(s, n) for s in shares]
    cuts = order_statistics(frame, "_v", [n - k for k in counts])
    aggs = []
    for i, t in enumerate(cuts):
        above = nw.col("_v") > t
        aggs += [
            nw.when(above).then(nw.col("_u")).otherwise(0).sum().alias(f"s{i}"),
            above.cast(nw.Int64).sum().alias(f"c{i}"),
        ]
    row = frame.select(aggs).collect("polars").to_native().row(0, named=True)
    values = []
    for i, (k, t) in enumerate(zip(counts, cuts, strict=True)):
        units = row[f"s{i}"] + (k - row[f"c{i}"]) * round(t * 10.0**scale)
        values.append(float(units) / float(total) if total else 0.0)
    return pl.DataFrame(
        {"top_customers_share": list(shares), "customers": counts, "value_share": values}
    )
