"""The customer-base indices of Okhunov (docs/loyalty.md, 'The customer-base indices').

* **Loyalty index** per segment for a pair of periods:
  ``I_l = (R_c1 / R_c0) * a_n + (O_c1 / O_c0) * a_p`` (dimensionless), with ``R`` the number of
  regular customers (more than two purchases a year) and ``O`` the number of one-time customers
  (two or fewer, at least one) in period 0 (the earlier) and period 1 (the later); ``a_n = 1`` (the
  "constant clientele" coefficient) and ``a_p = 0.3`` (the "random clientele" coefficient), both
  set "based on expert opinions" and meant to be chosen by each company.  A customer's count is
  the purchases (customer-days) inside the period, annualised when the period is not a year.
  An unchanged base gives ``a_n + a_p`` = 1.3; ``I_l_relative = I_l / (a_n + a_p)`` puts that at 1.
  **Zero denominators**: a ratio with ``R_c0 = 0`` (or ``O_c0 = 0``) is undefined; it is null, the
  index is null and ``note`` says which count was zero (no silent 0 or infinity).
* **Value index** per customer: ``I_v = C_pr / V_p * K_rp * K_pt`` (value points), ``C_pr`` the
  profit of the period (currency; the paper advises profit, not revenue), ``V_p`` the cost of one
  value point (currency per point, a company choice; default 1), ``K_rp`` the regularity of
  purchases (1 at least once a quarter, 0.9 once a half-year, 0.8 once a year or less) and
  ``K_pt`` the payment terms (1.1 prepayment, 1.0 credit).  ``K_rp`` is read from the purchases
  in the period, annualised: >= 4 a year is at least quarterly (1.0), >= 2 a year at least
  half-yearly (0.9), fewer is yearly or less (0.8).  When the orders carry no profit (no margin
  or cost column) revenue is used instead, ``value_basis`` says ``"revenue"`` and a
  :class:`UserWarning` is raised.  Unknown payment terms get ``k_unknown_terms`` (1.0) and are
  flagged in ``payment_terms``.
* **Satisfaction index** per surveyed customer:
:func:`workbench.analyses.loyalty.satisfaction_index`.
* **Weighted means per segment** (Okhunov's algorithm, step 3: "calculate the indicators of
  value, loyalty and satisfaction for each customer and the weighted average for the segment"):
  Okhunov does not name the weights, so :func:`segment_indices` gives, per segment, the plain
  mean of each index (every customer weight 1) **and** the value-weighted mean of the
  satisfaction index (weights = the customers' value index, negative values counted as 0), so
  that the satisfaction of the customers who bring the value stands out.  The loyalty index is a
  segment-level quantity already.
"""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl

from workbench.analyses.loyalty.behaviour import (
    DAYS_PER_YEAR,
    REGULAR_THRESHOLD,
    period_purchase_counts,
)
from workbench.core import schema
from workbench.core.prepare import DateLike, to_date
from workbench.core.stable import stable_mean, stable_sum

_CID = schema.CUSTOMER_ID

A_N = 1.0  # Okhunov: constant clientele coefficient
A_P = 0.3  # Okhunov: random clientele coefficient
K_QUARTER, K_HALF_YEAR, K_YEAR = 1.0, 0.9, 0.8  # Okhunov: regularity of purchases
K_PREPAYMENT, K_CREDIT = 1.1, 1.0  # Okhunov: payment terms


def _segment_frame(ids: pl.DataFrame, segments: pl.DataFrame | None,
                   segment_col: str) -> pl.DataFrame:
    if segments is None:
        return ids.with_columns(pl.lit("All").alias("segment"))
    seg = segments.select(pl.col(_CID).cast(pl.String),
                          pl.col(segment_col).cast(pl.String).alias("segment"))
    return ids.join(seg, on=_CID, how="left").with_columns(
        pl.col("segment").fill_null("(no segment)"))


def loyalty_index(
    orders: pl.DataFrame,
    as_of: DateLike,
    *,
    period_days: int = 365,
    segments: pl.DataFrame | None = None,
    segment_col: str = "segment",
    a_n: float = A_N,
    a_p: float = A_P,
    regular_threshold: float = REGULAR_THRESHOLD,
    days_per_year: float = DAYS_PER_YEAR,
) -> pl.DataFrame:
    """Okhunov's loyalty index per segment: period 1 = the ``period_days`` up to ``as_of``.

    Parameters
    ----------
    orders
        :func:`workbench.core.prepare.prepare_orders` output.
    as_of
        End of period 1 (inclusive); period 1 = ``(as_of - period_days, as_of]``, period 0 = the
        ``period_days`` before it.
    period_days
        Length of each period in days (default 365: counts are purchases a year).
    segments
        Frame ``customer_id, <segment_col>`` (e.g. RFM segments or ``customer_type``); customers
        not in it go to ``"(no segment)"``; ``None`` gives only the ``"All"`` row.
    a_n, a_p
        Coefficients of the regular and one-time terms (Okhunov: 1 and 0.3).
    regular_threshold
        Purchases a year above which a customer is regular in a period (2; exactly 2 is
        one-time).
    days_per_year
        For the annualisation of the period counts.

    Returns
    -------
    polars.DataFrame
        Per segment (and ``"All"``): ``R_c0``, ``R_c1``, ``O_c0``, ``O_c1`` (customers),
        ``regular_ratio`` (R_c1/R_c0), ``one_time_ratio`` (O_c1/O_c0), ``I_l``,
        ``I_l_relative`` (``I_l / (a_n + a_p)``), ``note``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> d = dt.date
    >>> o = pl.DataFrame({"customer_id": ["a"] * 6 + ["b"],
    ...     "order_date": [d(2024, 2, 1), d(2024, 3, 1), d(2024, 4, 1),
    ...                    d(2025, 2, 1), d(2025, 3, 1), d(2025, 4, 1), d(2025, 5, 1)],
    ...     "amount": [1.0] * 7})
    >>> loyalty_index(o, "2025-12-31").select("R_c0", "R_c1", "O_c0", "O_c1", "I_l").row(0)
    (1, 1, 0, 1, None)
    """
    as_of = to_date(as_of)
    if period_days <= 0:
        raise ValueError("period_days must be positive")
    p1_start = as_of - dt.timedelta(days=period_days)
    p0_start = p1_start - dt.timedelta(days=period_days)
    scale = days_per_year / period_days

    def counts(start: dt.date, end: dt.date, tag: str) -> pl.DataFrame:
        c = period_purchase_counts(orders, start, end)
        return c.select(_CID, (pl.col("n") * scale > regular_threshold).alias(f"regular_{tag}"))

    both = counts(p0_start, p1_start, "0").join(counts(p1_start, as_of, "1"), on=_CID,
                                                 how="full", coalesce=True)
    both = _segment_frame(both, segments, segment_col)
    aggs = [
        (pl.col("regular_0") == True).sum().cast(pl.Int64).alias("R_c0"),  # noqa: E712
        (pl.col("regular_1") == True).sum().cast(pl.Int64).alias("R_c1"),  # noqa: E712
        (pl.col("regular_0") == False).sum().cast(pl.Int64).alias("O_c0"),  # noqa: E712
        (pl.col("regular_1") == False).sum().cast(pl.Int64).alias("O_c1"),  # noqa: E712
    ]
    per = both.group_by("segment").agg(aggs).sort("segment")
    if segments is not None:
        per = pl.concat([per, both.with_columns(pl.lit("All").alias("segment"))
                         .group_by("segment").agg(aggs)])
    return loyalty_index_from_counts(per, a_n=a_n, a_p=a_p)


def loyalty_index_from_counts(counts: pl.DataFrame, *, a_n: float = A_N,
                              a_p: float = A_P) -> pl.DataFrame:
    """``I_l`` from the four counts ``R_c0, R_c1, O_c0, O_c1`` (zero denominators -> null + note).

    Examples
    --------
    >>> import polars as pl
    >>> c = pl.DataFrame({"R_c0": [10, 0], "R_c1": [12, 3], "O_c0": [50, 5], "O_c1": [40, 5]})
    >>> loyalty_index_from_counts(c)["I_l"].to_list()
    [1.44, None]
    """
    r = pl.when(pl.col("R_c0") > 0).then(pl.col("R_c1") / pl.col("R_c0"))
    o = pl.when(pl.col("O_c0") > 0).then(pl.col("O_c1") / pl.col("O_c0"))
    note = (pl.when((pl.col("R_c0") == 0) & (pl.col("O_c0") == 0))
            .then(pl.lit("R_c0 = 0 and O_c0 = 0: no customers in period 0, index undefined"))
            .when(pl.col("R_c0") == 0)
            .then(pl.lit("R_c0 = 0: no regular customers in period 0, index undefined"))
            .when(pl.col("O_c0") == 0)
            .then(pl.lit("O_c0 = 0: no one-time customers in period 0, index undefined")))
    out = counts.with_columns(r.alias("regular_ratio"), o.alias("one_time_ratio"))
    return out.with_columns(
        (pl.col("regular_ratio") * a_n + pl.col("one_time_ratio") * a_p).alias("I_l"),
    ).with_columns(
        (pl.col("I_l") / (a_n + a_p)).alias("I_l_relative"),
        note.alias("note"),
    )


def regularity_coefficient(purchases_per_year: pl.Expr, *, k_quarter: float = K_QUARTER,
                           k_half_year: float = K_HALF_YEAR, k_year: float = K_YEAR) -> pl.Expr:
    """``K_rp`` of Okhunov from purchases a year: >= 4 -> 1.0, >= 2 -> 0.9, else 0.8.

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(regularity_coefficient(pl.Series([5.0, 4.0, 3.9, 2.0, 1.9, 0.0]))
    ...           ).to_series().to_list()
    [1.0, 1.0, 0.9, 0.9, 0.8, 0.8]
    """
    return (pl.when(purchases_per_year >= 4).then(pl.lit(k_quarter))
            .when(purchases_per_year >= 2).then(pl.lit(k_half_year))
            .otherwise(pl.lit(k_year)))


def value_index(
    orders: pl.DataFrame,
    as_of: DateLike,
    customers: pl.DataFrame | None = None,
    *,
    period_days: int = 365,
    point_cost: float = 1.0,
    k_quarter: float = K_QUARTER,
    k_half_year: float = K_HALF_YEAR,
    k_year: float = K_YEAR,
    k_prepayment: float = K_PREPAYMENT,
    k_credit: float = K_CREDIT,
    k_unknown_terms: float = 1.0,
    days_per_year: float = DAYS_PER_YEAR,
) -> pl.DataFrame:
    """Okhunov's value index per customer for the ``period_days`` up to ``as_of``.

    Parameters
    ----------
    orders
        :func:`workbench.core.prepare.prepare_orders` output (with ``profit`` when cost is known).
    as_of
        End of the period, inclusive; the period is ``(as_of - period_days, as_of]``.
    customers
        Customers table with ``payment_terms`` (prepayment / credit); optional.
    period_days
        Length of the period in days (default 365).
    point_cost
        ``V_p``: currency per value point (default 1: one point per unit of profit).
    k_quarter, k_half_year, k_year
        ``K_rp`` for >= 4, >= 2 and < 2 purchases a year (1.0, 0.9, 0.8).
    k_prepayment, k_credit, k_unknown_terms
        ``K_pt`` for prepayment (1.1), credit (1.0) and unknown terms (1.0).
    days_per_year
        For annualising the purchases of the period.

    Returns
    -------
    polars.DataFrame
        Customers with a purchase in the period: ``customer_id``, ``purchases``,
        ``purchases_per_year``, ``C_pr`` (currency), ``value_basis`` (profit / revenue),
        ``K_rp``, ``payment_terms`` (``"unknown"`` when missing), ``K_pt``, ``I_v`` (points).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> o = pl.DataFrame({"customer_id": ["a", "a"], "amount": [100.0, 50.0],
    ...                   "profit": [40.0, 20.0],
    ...                   "order_date": [dt.date(2025, 3, 1), dt.date(2025, 9, 1)]})
    >>> c = pl.DataFrame({"customer_id": ["a"], "payment_terms": ["prepayment"]})
    >>> value_index(o, "2025-12-31", c, point_cost=10.0)["I_v"].round(4).to_list()
    [5.94]
    """
    as_of = to_date(as_of)
    if point_cost <= 0:
        raise ValueError("point_cost (V_p) must be positive")
    start = as_of - dt.timedelta(days=period_days)
    counts = period_purchase_counts(orders, start, as_of)
    if "profit" in counts.columns:
        c_pr, basis = pl.col("profit"), "profit"
    else:
        warnings.warn("value_index: the orders carry no profit (no margin or cost column); "
                      "revenue is used for C_pr, the paper advises profit", UserWarning,
                      stacklevel=2)
        c_pr, basis = pl.col("spend"), "revenue"
    out = counts.with_columns((pl.col("n") * days_per_year / period_days)
                              .alias("purchases_per_year"))
    if customers is not None and "payment_terms" in customers.columns:
        terms = customers.select(pl.col(_CID).cast(pl.String), pl.col("payment_terms"))
        out = out.join(terms, on=_CID, how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.String).alias("payment_terms"))
    out = out.with_columns(
        c_pr.alias("C_pr"), pl.lit(basis).alias("value_basis"),
        regularity_coefficient(pl.col("purchases_per_year"), k_quarter=k_quarter,
                               k_half_year=k_half_year, k_year=k_year).alias("K_rp"),
        pl.col("payment_terms").fill_null("unknown"),
        pl.col("payment_terms").replace_strict({"prepayment": k_prepayment, "credit": k_credit},
                                               default=k_unknown_terms,
                                               return_dtype=pl.Float64).alias("K_pt"),
    ).with_columns((pl.col("C_pr") / point_cost * pl.col("K_rp") * pl.col("K_pt")).alias("I_v"))
    return out.select(_CID, pl.col("n").alias("purchases"), "purchases_per_year", "C_pr",
                      "value_basis", "K_rp", "payment_terms", "K_pt", "I_v").sort(_CID)


def segment_indices(
    values: pl.DataFrame,
    perceived: pl.DataFrame | None = None,
    loyalty: pl.DataFrame | None = None,
    segments: pl.DataFrame | None = None,
    segment_col: str = "segment",
) -> pl.DataFrame:
    """Per segment: mean value index, plain and value-weighted mean satisfaction, loyalty index.

    Parameters
    ----------
    values
        :func:`value_index` output (the customers of the period).
    perceived
        :func:`workbench.analyses.loyalty.perceived_loyalty` output (``satisfaction_index``).
    loyalty
        :func:`loyalty_index` output for the same ``segments`` (its ``I_l`` is joined on).
    segments
        Frame ``customer_id, <segment_col>``; ``None`` = one ``"All"`` row.

    Returns
    -------
    polars.DataFrame
        ``segment``, ``customers``, ``I_v_sum``, ``I_v_mean`` (points), ``I_v_share``,
        ``satisfaction_n``, ``I_s_mean`` (points, plain), ``I_s_value_weighted`` (points, weights
        = max(I_v, 0)), ``I_l`` (when ``loyalty`` is given), sorted by ``I_v_sum``.

    Examples
    --------
    >>> import polars as pl
    >>> v = pl.DataFrame({"customer_id": ["a", "b"], "I_v": [30.0, 10.0]})
    >>> p = pl.DataFrame({"customer_id": ["a", "b"], "satisfaction_index": [160.0, 80.0]})
    >>> segment_indices(v, p).select("I_s_mean", "I_s_value_weighted").row(0)
    (120.0, 140.0)
    """
    v = _segment_frame(values.select(_CID, "I_v"), segments, segment_col)
    if perceived is not None and "satisfaction_index" in perceived.columns:
        v = v.join(perceived.select(_CID, "satisfaction_index"), on=_CID, how="left")
    else:
        v = v.with_columns(pl.lit(None, dtype=pl.Float64).alias("satisfaction_index"))
    w = pl.col("I_v").clip(0.0, None)
    has_s = pl.col("satisfaction_index").is_not_null()
    wsum = stable_sum(w.filter(has_s))
    aggs = [
        pl.len().cast(pl.Int64).alias("customers"),
        stable_sum("I_v").alias("I_v_sum"),
        stable_mean("I_v").alias("I_v_mean"),
        pl.col("satisfaction_index").count().cast(pl.Int64).alias("satisfaction_n"),
        stable_mean("satisfaction_index").alias("I_s_mean"),
        pl.when(wsum > 0).then(stable_sum((pl.col("satisfaction_index") * w).filter(has_s)) / wsum)
        .alias("I_s_value_weighted"),
    ]
    out = v.group_by("segment").agg(aggs)
    if segments is not None:
        out = pl.concat([out, v.with_columns(pl.lit("All").alias("segment"))
                         .group_by("segment").agg(aggs)])
    total = v.select(stable_sum("I_v")).item()
    out = out.with_columns((pl.col("I_v_sum") / total if total else pl.lit(None, pl.Float64))
                           .alias("I_v_share"))
    if loyalty is not None:
        out = out.join(loyalty.select("segment", "I_l"), on="segment", how="left")
    first = ["segment", "customers", "I_v_sum", "I_v_mean", "I_v_share", "satisfaction_n",
             "I_s_mean", "I_s_value_weighted"]
    rest = [c for c in out.columns if c not in first]
    return out.select(first + rest).sort(pl.col("segment") == "All", pl.col("I_v_sum"),
                                         pl.col("segment"), descending=[False, True, False])
