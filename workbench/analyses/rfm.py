"""RFM scores and named segments (docs/rfm.md).

Scores run 1-5, 5 = best (most recent, most frequent, highest spend):

* ``method="quantile"`` (default): the score of a customer is ``floor(5 * p) + 1`` where ``p`` is
  the customer's **mid-rank percentile**, ``(average rank - 0.5) / n``.  Equal values always share
  a score, so 60 % one-time buyers all get the same F score instead of being spread over several
  scores by row order (``qcut(rank(method="first"))``) or collapsing the scale
  (``qcut(duplicates="drop")``).
* ``method="fixed"``: business cut-offs.  The defaults follow common commercial practice
  (Klaviyo-style recency bands at 180 and 365 days): R from days since the last purchase with
  upper edges 30 / 90 / 180 / 365 days (score 5 = at most 30 days ... score 1 = over 365 days);
  F from the number of purchases with upper edges 1 / 2 / 4 / 9 (scores 1, 2, 3-4 -> 3, 5-9 -> 4,
  10+ -> 5); M by quantile unless cut-offs are given.

M is explicit: ``monetary="total"`` (net spend to date, the default) or ``"mean"`` (mean purchase
value), both net of returns.

Small and odd data: with **one customer** every quantile score is 3 (the mid-rank percentile of a
single value is 0.5), and when **nobody bought twice** every customer shares the F score 3 (all
tie); R and M still rank.  A summary with **no customers** (no purchase on or before the as-of
date, header-only or all-returns data) is refused with a
:class:`~workbench.errors.DataValidationError` (:func:`require_purchases`), except with
``allow_empty=True``, for a comparison date before the first purchase, where "no purchase yet"
is the answer.

Segment names come from a rule table that is data (CSV), validated on load: every one of the 125
score cells must be covered and no cell may get two different segments.  Shipped tables
(``workbench/analyses/rules/``): ``default`` (the complete 125-code map usually credited to
Bloomreach/Exponea; docs/rfm.md, 'The 125-code segment map'), ``rf_grid`` (the R x F 5x5 grid
of many tutorials, M ignored), ``three_level`` (three recency levels x three frequency levels,
meant for ``method="fixed"``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Literal, TypeGuard, cast

import numpy as np
import polars as pl

from workbench.core import schema, stable
from workbench.core.summary import (  # noqa: F401  (re-exported: their home until 0.2)
    no_purchases_problem,
    require_purchases,
)
from workbench.errors import DataValidationError
from workbench.native.kernels import (
    int_counts,
    int_lookup,
    order_statistics,
    threshold_scores,
    twice_midranks,
)

_CID = schema.CUSTOMER_ID
SCORES = ("R", "F", "M")
SHIPPED_RULES = ("default", "rf_grid", "three_level")
_RULE_FILES = {
    "default": "default_125.csv",
    "rf_grid": "rf_grid.csv",
    "three_level": "three_level.csv",
}

#: Default fixed cut-offs: upper edges of scores 1-4 (score 5 above the last edge) for F and M;
#: for R the edges are days since the last purchase, score 5 for at most the first edge.
DEFAULT_CUTOFFS: dict[str, list[float]] = {"R": [30, 90, 180, 365], "F": [1, 2, 4, 9]}

_METRIC_COLUMN = {"R": "recency_days", "F": "purchases", "M": "monetary"}


#: Score cell number (R*100 + F*10 + M) -> its text, e.g. 543 -> "543".
_CODE_TEXT = {
    r * 100 + f * 10 + m: f"{r}{f}{m}"
    for r in range(1, 6)
    for f in range(1, 6)
    for m in range(1, 6)
}


def _code_expr() -> pl.Expr:
    """The score cell as a number, R*100 + F*10 + M (543 for R5 F4 M3)."""
    code = sum(pl.col(s).cast(pl.Int16) * w for s, w in zip(SCORES, (100, 10, 1), strict=True))
    return cast(pl.Expr, code)  # sum() starts from the int 0; 0 + Expr is an Expr


def _cell_labels(scores: pl.DataFrame, labels: Mapping[int, str]) -> pl.Series:
    """The label of each customer's score cell (``labels`` keyed by ``R*100 + F*10 + M``).

    A gather from the 125 labels: cheaper than a per-row lookup of millions of codes.
    """
    codes = scores.select(_code_expr()).to_series()
    if codes.null_count():  # a customer without a score keeps a null label
        return codes.replace_strict(dict(labels), default=None, return_dtype=pl.String)
    code_array = codes.to_numpy()
    keys = sorted(labels)
    position = np.zeros(max(keys) + 1, dtype=np.uint32)
    position[keys] = np.arange(len(keys), dtype=np.uint32)
    return pl.Series([labels[k] for k in keys], dtype=pl.String).gather(position[code_array])


def midrank_thresholds(values: np.ndarray, n_scores: int = 5) -> np.ndarray:
    """Lowest value of each score 2..``n_scores`` under mid-rank percentile scoring.

    A value ``v`` held by ``E`` of ``n`` customers, ``L`` of them having less, has the mid-rank
    percentile ``p = (L + E / 2) / n`` (``(average rank - 0.5) / n``) and the score
    ``min(floor(n_scores p) + 1, n_scores)``, so it reaches score ``j + 1`` when
    ``n_scores (2L + E) >= 2 j n``: integers, so no rounding error at the boundaries.  The values
    that reach it form an upper set whose lowest member is the order statistic at position
    ``ceil(j n / n_scores)`` or the next larger value.  Integers in a range of at most ``4 n``
    are counted; other values use a radix select (:func:`workbench.native.kernels.order_statistics`)
    and one counting pass.  O(n); ``inf`` where a score is never reached.

    Examples
    --------
    >>> midrank_thresholds(np.array([1.0, 1, 1, 2, 5])).tolist()
    [1.0, 2.0, 2.0, 5.0]
    """
    x = np.asarray(values)
    n = x.shape[0]
    targets = 2 * n * np.arange(1, n_scores, dtype=np.int64)
    if n == 0:
        return np.full(n_scores - 1, np.inf)
    if np.issubdtype(x.dtype, np.integer):
        table = _integer_score_table(x.astype(np.int64, copy=False), n_scores, True)
        if table is not None:  # scores rise with the value: the first value reaching each
            low, counts, score_of = table
            present = np.flatnonzero(counts)
            first = np.searchsorted(score_of[present], np.arange(2, n_scores + 1))
            found = first < present.shape[0]
            return np.where(found, low + present[np.minimum(first, present.shape[0] - 1)], np.inf)
    x = np.ascontiguousarray(x, dtype=np.float64)
    positions = np.minimum(np.maximum(-(-targets // (2 * n_scores)), 1), n) - 1
    candidates = order_statistics(x, positions)
    twice, above = twice_midranks(x, candidates)
    return np.where(n_scores * twice >= targets, candidates, above)


def _integer_score_table(
    x: np.ndarray, n_scores: int, higher_is_better: bool
) -> tuple[int, np.ndarray, np.ndarray] | None:
    """Mid-rank scores of integers in a range of at most ``4 n`` values, by counting; else None.

    With ``counts`` per value, ``L`` (customers with a worse value) and ``E`` (the value's
    count) give the score ``min(floor(n_scores (2L + E) / 2n) + 1, n_scores)`` per value.
    Returns ``(low, counts, score per value low..high)``.
    """
    n = x.shape[0]
    low, high = int(x.min()), int(x.max())
    if high - low > 4 * n:
        return None
    counts = int_counts(x, low, high)
    worse = np.cumsum(counts) - counts  # values below
    if not higher_is_better:
        worse = n - worse - counts  # values above
    score_of = np.minimum((n_scores * (2 * worse + counts)) // (2 * n) + 1, n_scores)
    return low, counts, score_of.astype(np.int8)


def midrank_scores(
    values: np.ndarray, n_scores: int = 5, higher_is_better: bool = True
) -> np.ndarray:
    """Quantile scores 1..``n_scores`` (int8) of a numeric array from mid-rank percentiles.

    The score of a value is ``min(floor(n_scores p) + 1, n_scores)`` with ``p = (average rank -
    0.5) / n``: ties share a score.  O(n): integers in a compact range are counted, other values
    scored against :func:`midrank_thresholds`.

    Examples
    --------
    >>> midrank_scores(np.array([1, 1, 1, 2, 5])).tolist()
    [2, 2, 2, 4, 5]
    """
    x = np.asarray(values)
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"midrank_scores needs numbers, got {x.dtype}")
    if x.shape[0] == 0:
        return np.zeros(0, dtype=np.int8)
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.int64, copy=False)
        table = _integer_score_table(x, n_scores, higher_is_better)
        if table is not None:  # each customer's score read from the value's
            low, _, score_of = table
            return int_lookup(x, low, score_of)
    if not higher_is_better:
        x = -x.astype(np.float64)
    return threshold_scores(x, midrank_thresholds(x, n_scores))


def midrank_score(
    values: pl.Expr | pl.Series, n_scores: int = 5, higher_is_better: bool = True
) -> pl.Expr:
    """Quantile score 1..``n_scores`` from mid-rank percentiles; ties share a score.

    ``p = (average rank - 0.5) / n`` over the non-null values, score
    ``= min(floor(n_scores * p) + 1, n_scores)`` (:func:`midrank_scores`); null stays null.

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(midrank_score(pl.Series([1, 1, 1, 2, 5]))).to_series().to_list()
    [2, 2, 2, 4, 5]
    """

    def score(series: pl.Series) -> pl.Series:
        valid = series.is_not_null()
        out = np.zeros(series.len(), dtype=np.int8)
        scored = midrank_scores(series.filter(valid).to_numpy(), n_scores, higher_is_better)
        if series.null_count():
            out[valid.to_numpy()] = scored
            return pl.Series(series.name, out).set(~valid, None)
        return pl.Series(series.name, scored)

    if isinstance(values, pl.Series):
        values = pl.lit(values)
    return values.map_batches(score, return_dtype=pl.Int8)


def fixed_score(values: pl.Expr, edges: Sequence[float], lower_is_better: bool = False) -> pl.Expr:
    """Score 1-5 from four upper edges (``value <= edges[0]`` -> 1, above ``edges[3]`` -> 5).

    With ``lower_is_better`` the scale is reversed (``value <= edges[0]`` -> 5), as for days since
    the last purchase.

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(fixed_score(pl.Series([1, 2, 3, 7, 12]), [1, 2, 4, 9])).to_series().to_list()
    [1, 2, 3, 4, 5]
    """
    if len(edges) != 4 or list(edges) != sorted(edges):
        raise ValueError(f"cut-offs must be 4 increasing upper edges, got {list(edges)}")
    expr = pl.lit(5, dtype=pl.Int8)
    for i, edge in reversed(list(enumerate(edges))):
        expr = pl.when(values <= edge).then(pl.lit(i + 1, dtype=pl.Int8)).otherwise(expr)
    return (6 - expr).cast(pl.Int8) if lower_is_better else expr


def rfm_scores(
    summary: pl.DataFrame,
    *,
    method: Literal["quantile", "fixed"] = "quantile",
    monetary: Literal["total", "mean"] = "total",
    cutoffs: Mapping[str, Sequence[float]] | None = None,
    as_of: dt.date | None = None,
    allow_empty: bool = False,
) -> pl.DataFrame:
    """Score every customer 1-5 on recency, frequency and monetary value.

    Parameters
    ----------
    summary
        :func:`workbench.core.summary.customer_summary` output (uses ``days_since_last``,
        ``n_purchases``, ``total_spend`` / ``mean_spend``).
    method
        ``"quantile"`` (mid-rank percentiles, ties share a score) or ``"fixed"`` cut-offs.
    monetary
        ``"total"`` net spend or ``"mean"`` purchase value (currency).
    cutoffs
        Fixed cut-offs per score letter, 4 upper edges each (see :data:`DEFAULT_CUTOFFS`);
        with ``method="fixed"`` a letter without cut-offs is scored by quantile.
    as_of
        The date the scores refer to, stored in the ``as_of`` column; default: derived from the
        summary (last purchase + days since last purchase).
    allow_empty
        Return an empty table for a summary without customers instead of raising (a
        comparison date before the first purchase: everyone is "no purchase yet").

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``recency_days``, ``purchases``, ``monetary``, ``R``, ``F``, ``M``,
        ``rfm_code`` (e.g. ``"543"``), ``as_of``.  One customer gets 3 on every quantile
        score; customers who all tie on a measure share its score 3.

    Raises
    ------
    workbench.errors.DataValidationError
        When the summary has no customers (and not ``allow_empty``).

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> summary = customer_summary(tx, "1998-06-30")
    >>> scores = rfm_scores(summary)
    >>> scores.group_by("F").len().sort("F")["len"].to_list()
    [1218, 612, 527]
    """
    if method not in ("quantile", "fixed"):
        raise ValueError(f"method must be 'quantile' or 'fixed', got {method!r}")
    if monetary not in ("total", "mean"):
        raise ValueError(f"monetary must be 'total' or 'mean', got {monetary!r}")
    needed = [
        "days_since_last",
        "n_purchases",
        "total_spend" if monetary == "total" else "mean_spend",
    ]
    missing = [c for c in [_CID, *needed] if c not in summary.columns]
    if missing:
        raise DataValidationError("summary", None, f"lacks column(s) {missing}; build it with "
                                  "customer_summary()")
    if not allow_empty:
        require_purchases(summary, as_of, source="customer summary")
    cut: dict[str, Sequence[float]] = dict(DEFAULT_CUTOFFS if method == "fixed" else {})
    cut.update(cutoffs or {})
    unknown = set(cut) - set(SCORES)
    if unknown:
        raise ValueError(f"cutoffs keys must be among {SCORES}, got {sorted(unknown)}")
    if as_of is None and "last_purchase" in summary.columns and summary.height:
        row = summary.row(0, named=True)
        as_of = row["last_purchase"] + dt.timedelta(days=int(row["days_since_last"]))

    def score(letter: str) -> pl.Expr:
        col = pl.col(_METRIC_COLUMN[letter])
        if letter in cut:
            return fixed_score(col, cut[letter], lower_is_better=letter == "R")
        return midrank_score(col, higher_is_better=letter != "R")

    base = summary.select(
        _CID,
        pl.col("days_since_last").alias("recency_days"),
        pl.col("n_purchases").alias("purchases"),
        pl.col(needed[2]).alias("monetary"),
    )
    scored = base.with_columns(score(s).alias(s) for s in SCORES)
    return scored.with_columns(
        _cell_labels(scored, _CODE_TEXT).alias("rfm_code"),
        pl.lit(as_of, dtype=pl.Date).alias("as_of"),
    )


def score_bins(scores: pl.DataFrame) -> pl.DataFrame:
    """The bins actually used: per score letter and score, the value range and customers.

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> summary = customer_summary(tx, "1998-06-30")
    >>> score_bins(rfm_scores(summary)).filter(pl.col("score_of") == "F").rows()
    [('F', 'purchases', 2, 1.0, 1.0, 1218), ('F', 'purchases', 4, 2.0, 3.0, 612),
     ('F', 'purchases', 5, 4.0, 44.0, 527)]
    """
    frames = []
    for letter in SCORES:
        col = _METRIC_COLUMN[letter]
        frames.append(
            scores.group_by(letter)
            .agg(
                pl.col(col).min().cast(pl.Float64).alias("min"),
                pl.col(col).max().cast(pl.Float64).alias("max"),
                pl.len().alias("customers"),
            )
            .select(
                pl.lit(letter).alias("score_of"),
                pl.lit(col).alias("measure"),
                pl.col(letter).alias("score"),
                "min",
                "max",
                "customers",
            )
        )
    return pl.concat(frames).sort("score_of", "score")


def cell_counts(scores: pl.DataFrame, by: Sequence[str] = ("R", "F")) -> pl.DataFrame:
    """Customers per score cell (every cell of the grid, zeros included).

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> summary = customer_summary(tx, "1998-06-30")
    >>> counts = cell_counts(rfm_scores(summary))
    >>> counts.height, counts["customers"].sum()
    (25, 2357)
    """
    grid = pl.DataFrame({by[0]: list(range(1, 6))}, schema={by[0]: pl.Int8})
    for b in by[1:]:
        grid = grid.join(pl.DataFrame({b: list(range(1, 6))}, schema={b: pl.Int8}), how="cross")
    counts = scores.group_by(list(by)).agg(
        pl.len().alias("customers"), stable.stable_sum("monetary").alias("monetary")
    )
    return (
        grid.join(counts, on=list(by), how="left")
        .with_columns(pl.col("customers").fill_null(0), pl.col("monetary").fill_null(0.0))
        .sort(list(by))
    )


# ---------------------------------------------------------------------------------------------
# Segment rule tables
# ---------------------------------------------------------------------------------------------


def _all_cells() -> pl.DataFrame:
    r = pl.DataFrame({"R": list(range(1, 6))}, schema={"R": pl.Int8})
    return (
        r.join(r.rename({"R": "F"}), how="cross")
        .join(r.rename({"R": "M"}), how="cross")
        .with_columns(pl.concat_str([pl.col(s).cast(pl.String) for s in SCORES]).alias("rfm_code"))
    )


def _expand_rules(table: pl.DataFrame, source: str) -> pl.DataFrame:
    """Turn a rule table into (rfm_code, segment, rule_row) rows."""
    cols = set(table.columns)
    if "segment" not in cols:
        raise DataValidationError(source, "segment", "rule table has no 'segment' column")
    table = table.with_row_index("rule_row", offset=1)
    if "rfm_code" in cols:
        t = table.with_columns(pl.col("rfm_code").cast(pl.String).str.strip_chars())
        bad = ~t["rfm_code"].str.contains(r"^[1-5]{3}$")
        if bad.any():
            b = t.filter(bad)
            raise DataValidationError(
                source,
                "rfm_code",
                "codes must be three digits 1-5",
                b["rule_row"].head(5).to_list(),
                b["rfm_code"].head(5).to_list(),
                b.height,
            )
        return t.select("rfm_code", pl.col("segment").cast(pl.String), "rule_row")
    letters = [c for c in ("r", "f", "m") if c in cols]
    if not letters:
        raise DataValidationError(source, None, "rule table needs 'rfm_code' or r/f/m columns")
    cells = _all_cells()
    out = []
    for rule in table.iter_rows(named=True):
        cond = pl.lit(True)
        for c in letters:
            spec = str(rule[c]).strip()
            if spec in ("*", "", "None"):
                continue
            try:
                if "-" in spec:
                    lo, hi = (int(x) for x in spec.split("-"))
                    cond &= pl.col(c.upper()).is_between(lo, hi)
                else:
                    cond &= pl.col(c.upper()) == int(spec)
            except ValueError as exc:
                raise DataValidationError(
                    source, c, "use a score 1-5, a range like 2-4, or *", [rule["rule_row"]], [spec]
                ) from exc
        out.append(
            cells.filter(cond).select(
                "rfm_code",
                pl.lit(str(rule["segment"])).alias("segment"),
                pl.lit(rule["rule_row"], pl.UInt32).alias("rule_row"),
            )
        )
    return pl.concat(out)


def load_segment_rules(rules: str | Path | pl.DataFrame = "default") -> pl.DataFrame:
    """Load and validate a segment rule table: one segment for each of the 125 score cells.

    Parameters
    ----------
    rules
        A shipped table name (``"default"``, ``"rf_grid"``, ``"three_level"``), a CSV path, or a
        frame.  Two formats: ``rfm_code,segment`` (codes like ``543``) or ``r,f,m,segment``
        where each score is a number 1-5, a range ``2-4`` or ``*`` (any).

    Returns
    -------
    polars.DataFrame
        ``rfm_code`` (125 rows) and ``segment``.

    Raises
    ------
    DataValidationError
        A cell no rule covers, or a cell two rules give different segments (ambiguity).

    Examples
    --------
    >>> rules = load_segment_rules("default")
    >>> rules.height, rules["segment"].n_unique()
    (125, 11)
    """
    if isinstance(rules, pl.DataFrame):
        table, source = rules, "<segment rules frame>"
    else:
        name = str(rules)
        if name in _RULE_FILES:
            ref = resources.files("workbench.analyses.rules").joinpath(_RULE_FILES[name])
            source = f"segment rules '{name}'"
            with resources.as_file(ref) as p:
                table = pl.read_csv(p, infer_schema=False)
        else:
            path = Path(name)
            if not path.exists():
                raise DataValidationError(
                    name, None, f"rule table not found (shipped tables: {', '.join(SHIPPED_RULES)})"
                )
            table, source = pl.read_csv(path, infer_schema=False), name
    cells = _expand_rules(table, source)
    per_cell = (
        cells.unique(["rfm_code", "segment"])
        .group_by("rfm_code")
        .agg(pl.col("segment").sort(), pl.len().alias("n"))
    )
    ambiguous = per_cell.filter(pl.col("n") > 1).sort("rfm_code")
    if ambiguous.height:
        rows = cells.join(ambiguous.select("rfm_code"), on="rfm_code").sort("rfm_code", "rule_row")
        first = ambiguous.row(0, named=True)
        raise DataValidationError(
            source,
            "segment",
            f"ambiguous: {ambiguous.height} score cells match rules with different segments "
            f"(e.g. cell {first['rfm_code']} -> {' / '.join(first['segment'])}); "
            "give each cell one segment",
            rows["rule_row"].head(5).to_list(),
            rows["segment"].head(5).to_list(),
            rows.height,
        )
    uncovered = _all_cells().join(per_cell, on="rfm_code", how="anti").sort("rfm_code")
    if uncovered.height:
        codes = uncovered["rfm_code"].to_list()
        raise DataValidationError(
            source,
            "segment",
            f"incomplete: {len(codes)} of 125 score cells have no segment "
            f"(first: {', '.join(codes[:10])})",
        )
    return per_cell.select("rfm_code", pl.col("segment").list.first()).sort("rfm_code")


def assign_segments(
    scores: pl.DataFrame, rules: str | Path | pl.DataFrame = "default"
) -> pl.DataFrame:
    """Add the ``segment`` of each customer from a rule table.

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> summary = customer_summary(tx, "1998-06-30")
    >>> seg = assign_segments(rfm_scores(summary))
    >>> seg.filter(pl.col("rfm_code") == "555")["segment"].unique().to_list()
    ['Champions']
    """
    table = rules if _is_loaded(rules) else load_segment_rules(rules)
    lookup = dict(
        zip(table["rfm_code"].cast(pl.Int16).to_list(), table["segment"].to_list(), strict=True)
    )
    return scores.with_columns(_cell_labels(scores, lookup).alias("segment"))


def _is_loaded(rules: object) -> TypeGuard[pl.DataFrame]:
    return (
        isinstance(rules, pl.DataFrame)
        and rules.columns == ["rfm_code", "segment"]
        and rules.height == 125
    )


def rfm_segments(
    summary: pl.DataFrame,
    rules: str | Path | pl.DataFrame = "default",
    **score_options,
) -> pl.DataFrame:
    """Scores and segments in one call: :func:`rfm_scores` then :func:`assign_segments`.

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> summary = customer_summary(tx, "1998-06-30")
    >>> seg = rfm_segments(summary, rules="rf_grid", method="quantile")
    >>> seg["segment"].n_unique()
    7
    """
    return assign_segments(rfm_scores(summary, **score_options), rules)


def segment_table(segments: pl.DataFrame, summary: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per segment: customers, revenue (net spend), their shares, mean recency and purchases.

    Rows by revenue, largest first, ties by segment name.  Sums and means add the values in
    sorted order (:mod:`workbench.core.stable`): the same bits for any row order and thread count.

    Parameters
    ----------
    segments
        :func:`rfm_segments` output.
    summary
        Optional customer summary to take ``total_spend`` from (else ``monetary`` is used).

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> summary = customer_summary(tx, "1998-06-30")
    >>> table = segment_table(rfm_segments(summary), summary)
    >>> table.columns
    ['segment', 'customers', 'revenue', 'mean_recency_days', 'mean_purchases',
     'customer_share', 'revenue_share']
    """
    seg = segments
    if summary is not None and "total_spend" not in seg.columns:
        seg = seg.join(summary.select(_CID, "total_spend"), on=_CID, how="left")
    value = pl.col("total_spend") if "total_spend" in seg.columns else pl.col("monetary")
    return (
        seg.group_by("segment")
        .agg(
            pl.len().alias("customers"),
            stable.stable_sum(value).alias("revenue"),
            stable.stable_mean("recency_days").alias("mean_recency_days"),
            stable.stable_mean("purchases").alias("mean_purchases"),
        )
        .with_columns(
            (pl.col("customers") / pl.col("customers").sum()).alias("customer_share"),
            (pl.col("revenue") / stable.stable_sum("revenue")).alias("revenue_share"),
        )
        .sort("revenue", "segment", descending=[True, False])
    )
