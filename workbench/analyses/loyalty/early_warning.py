"""Early warnings: customers whose pattern of consumption changed, ranked by the value at stake.

Kiseleva et al. (2016), principle d: "the most painful blow to the company's income
is applied by customers who have changed the pattern of consumption - reduction and irregular
visits"; preventing even small reductions in spending is said to be far more effective than
measures aimed only at retention.  The triggers, each with a parameter and a reason string:

* ``spend reduction``: net spend in the last ``trend_days`` (365) fell by at least
  ``spend_drop`` (30 %) against the period before, in which the customer had an established
  pattern: at least ``min_prev_purchases`` (2) purchases and at least ``min_prev_spend``
  (currency, default 0 = any).  A one-time buyer who simply did not come back is not a changed
  pattern and is left to the one-time / lapsed views;
* ``fewer purchases``: purchases in the last period fell by at least ``frequency_drop`` (50 %)
  against the previous one, which had at least ``min_prev_purchases`` (2);
* ``irregular visits``: the latest gap between two purchases is at least ``irregular_ratio``
  (2) times the mean of the customer's earlier gaps (needs at least two earlier gaps, i.e. four
  purchases);
* ``lapsing``: the time since the last purchase is ``at risk`` / ``lapsed`` / ``churned``
  against the customer's own mean gap (docs/loyalty.md: 1.5x / 2x / over 3x; see
  :mod:`workbench.analyses.loyalty.behaviour`), for customers with at least ``min_purchases_lapse``
  (3) purchases, so that a rhythm exists;
* ``low P(alive)``: when P(alive) from a fitted BG/NBD is known and below ``p_alive_below``
  (0.5) for a repeat customer.

The value at stake is the ``value`` frame's column when given (e.g. predicted CLV), else the
spend of the previous period (what the old pattern brought in a year), else total spend.
"""

from __future__ import annotations

import polars as pl

from workbench.core import schema
from workbench.core.stable import stable_sum

_CID = schema.CUSTOMER_ID

SPEND_DROP = 0.30
FREQUENCY_DROP = 0.50
IRREGULAR_RATIO = 2.0
P_ALIVE_BELOW = 0.5
WARNINGS = ("spend reduction", "fewer purchases", "irregular visits", "lapsing", "low P(alive)")


def early_warnings(
    behaviour: pl.DataFrame,
    *,
    value: pl.DataFrame | None = None,
    value_col: str = "value",
    spend_drop: float = SPEND_DROP,
    min_prev_spend: float = 0.0,
    frequency_drop: float = FREQUENCY_DROP,
    min_prev_purchases: int = 2,
    irregular_ratio: float = IRREGULAR_RATIO,
    lapse_statuses: tuple[str, ...] = ("at risk", "lapsed", "churned"),
    min_purchases_lapse: int = 3,
    p_alive_below: float = P_ALIVE_BELOW,
    top: int | None = None,
) -> pl.DataFrame:
    """Customers with at least one warning, most value at stake first, with the reasons.

    Parameters
    ----------
    behaviour
        :func:`workbench.analyses.loyalty.behavioural_loyalty` output.
    value
        Optional frame ``customer_id, <value_col>`` with the value at stake (e.g. CLV).
    value_col
        Column of ``value`` to rank by.
    spend_drop, min_prev_spend
        Spend-reduction trigger: ``spend_trend <= -spend_drop`` with ``spend_prev >=
        min_prev_spend`` (and > 0) and ``n_prev >= min_prev_purchases``.
    frequency_drop, min_prev_purchases
        ``n_last <= (1 - frequency_drop) * n_prev`` with ``n_prev >= min_prev_purchases``; the
        latter also gates the spend trigger.
    irregular_ratio
        ``last_gap_days >= irregular_ratio * prior_mean_gap_days``.
    lapse_statuses, min_purchases_lapse
        ``recency_status`` values that warn, and the fewest purchases for the lapse trigger.
    p_alive_below
        P(alive) threshold (used only where ``p_alive`` is known).
    top
        Keep only the first ``top`` rows.

    Returns
    -------
    polars.DataFrame
        ``rank``, ``customer_id``, ``warnings`` (list of trigger names), ``n_warnings``,
        ``reasons`` (one string), ``value_at_stake``, ``value_source``, ``spend_last``,
        ``spend_prev``, ``recency_status``.

    Examples
    --------
    >>> import polars as pl
    >>> b = pl.DataFrame({"customer_id": ["a"], "spend_last": [60.0], "spend_prev": [100.0],
    ...     "spend_trend": [-0.4], "n_last": [2], "n_prev": [4], "last_gap_days": [90.0],
    ...     "prior_mean_gap_days": [30.0], "recency_status": ["lapsed"], "gap_ratio": [2.5],
    ...     "days_since_last": [75], "mean_gap_days": [30.0], "n_purchases": [6],
    ...     "p_alive": [None], "total_spend": [400.0]})
    >>> w = early_warnings(b)
    >>> w["warnings"].to_list()
    [['spend reduction', 'fewer purchases', 'irregular visits', 'lapsing']]
    >>> print(w["reasons"][0])  # doctest: +NORMALIZE_WHITESPACE
    spend down 40 % (100.0 -> 60.0 in the last period); purchases 4 -> 2;
    last gap 90 d = 3.0x the earlier mean gap 30 d; 75 d since the last purchase = 2.5x the own
    mean gap 30 d (lapsed)
    """
    b = behaviour
    if "p_alive" not in b.columns:
        b = b.with_columns(pl.lit(None, dtype=pl.Float64).alias("p_alive"))
    b = b.with_columns(pl.col("p_alive").cast(pl.Float64))
    spend = ((pl.col("spend_trend") <= -spend_drop) & (pl.col("spend_prev") > 0)
             & (pl.col("spend_prev") >= min_prev_spend)
             & (pl.col("n_prev") >= min_prev_purchases)).fill_null(False)
    fewer = ((pl.col("n_prev") >= min_prev_purchases)
             & (pl.col("n_last") <= (1 - frequency_drop) * pl.col("n_prev"))).fill_null(False)
    irregular = (pl.col("last_gap_days") >= irregular_ratio * pl.col("prior_mean_gap_days")) \
        .fill_null(False) & (pl.col("prior_mean_gap_days") > 0).fill_null(False)
    lapsing = (pl.col("recency_status").is_in(list(lapse_statuses))
               & (pl.col("n_purchases") >= min_purchases_lapse)).fill_null(False)
    dead = ((pl.col("p_alive") < p_alive_below) & (pl.col("n_purchases") >= 2)).fill_null(False)
    reasons = [
        pl.when(spend).then(pl.format(
            "spend down {} % ({} -> {} in the last period)",
            (-pl.col("spend_trend") * 100).round(0).cast(pl.Int64),
            pl.col("spend_prev").round(2), pl.col("spend_last").round(2))),
        pl.when(fewer).then(pl.format("purchases {} -> {}", pl.col("n_prev"), pl.col("n_last"))),
        pl.when(irregular).then(pl.format(
            "last gap {} d = {}x the earlier mean gap {} d", pl.col("last_gap_days").cast(pl.Int64),
            (pl.col("last_gap_days") / pl.col("prior_mean_gap_days")).round(1),
            pl.col("prior_mean_gap_days").round(0).cast(pl.Int64))),
        pl.when(lapsing).then(pl.format(
            "{} d since the last purchase = {}x the own mean gap {} d ({})",
            pl.col("days_since_last"), pl.col("gap_ratio").round(1),
            pl.col("mean_gap_days").round(0).cast(pl.Int64), pl.col("recency_status"))),
        pl.when(dead).then(pl.format("P(alive) {} < {}", pl.col("p_alive").round(2),
                                     pl.lit(p_alive_below))),
    ]
    flags = [spend, fewer, irregular, lapsing, dead]
    names = [pl.when(f).then(pl.lit(n)) for f, n in zip(flags, WARNINGS, strict=True)]
    out = b.with_columns(
        pl.concat_list(names).list.drop_nulls().alias("warnings"),
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias("reasons"),
    ).with_columns(pl.col("warnings").list.len().cast(pl.Int64).alias("n_warnings"))
    return _rank(out.filter(pl.col("n_warnings") > 0), value, value_col, top)


def _rank(out: pl.DataFrame, value: pl.DataFrame | None, value_col: str,
          top: int | None) -> pl.DataFrame:
    """The warned customers with their value at stake, most value first (``top`` rows)."""
    if value is not None:
        v = value.select(pl.col(_CID).cast(pl.String), pl.col(value_col).cast(pl.Float64)
                         .alias("value_at_stake"))
        out = out.join(v, on=_CID, how="left").with_columns(pl.lit(value_col).alias("value_source"))
    else:
        out = out.with_columns(
            pl.when(pl.col("spend_prev") > 0).then(pl.col("spend_prev"))
            .otherwise(pl.col("total_spend")).alias("value_at_stake"),
            pl.when(pl.col("spend_prev") > 0).then(pl.lit("spend in the previous period"))
            .otherwise(pl.lit("total spend")).alias("value_source"))
    out = (out.sort(["value_at_stake", "n_warnings", _CID], descending=[True, True, False],
                    nulls_last=True)
           .with_row_index("rank", offset=1)
           .select("rank", _CID, "warnings", "n_warnings", "reasons", "value_at_stake",
                   "value_source", "spend_last", "spend_prev", "recency_status"))
    if top is not None:
        out = out.head(top)
    return out.with_columns(pl.col("rank").cast(pl.Int64))


def warning_counts(warnings: pl.DataFrame) -> pl.DataFrame:
    """Customers and value at stake per trigger (a customer counts under each of its triggers).

    Examples
    --------
    >>> import polars as pl
    >>> w = pl.DataFrame({"warnings": [["lapsing"], ["lapsing", "spend reduction"]],
    ...                   "value_at_stake": [10.0, 5.0]})
    >>> warning_counts(w).rows()
    [('lapsing', 2, 15.0), ('spend reduction', 1, 5.0)]
    """
    return (warnings.select("warnings", "value_at_stake").explode("warnings")
            .group_by(pl.col("warnings").alias("warning"))
            .agg(pl.len().cast(pl.Int64).alias("customers"),
                 stable_sum("value_at_stake").alias("value_at_stake"))
            .sort("value_at_stake", "warning", descending=[True, False]))
