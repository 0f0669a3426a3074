"""Behavioural loyalty: what each customer's purchases say at an as-of date.

Kiseleva et al. (2016): behavioural loyalty is monitored "by observing the actual
behaviour of the client", a retrospective transactional analysis.  Per customer (docs/loyalty.md,
'Behavioural loyalty') this module measures, from orders net of returns
(:func:`workbench.core.prepare.prepare_orders`) collapsed into one purchase per customer and day
(:func:`workbench.core.summary.purchases`, as the customer summary does):

* ``tenure_days``: days from the first purchase to the as-of date (inclusive of neither end);
* ``purchases_per_year`` = ``n_purchases * days_per_year / max(tenure_days, min_tenure_days)``
  (purchases per year).  The floor ``min_tenure_days`` (default 365 days) stops a customer with
  two purchases in a fortnight being annualised to 52 a year: a customer younger than a year is
  judged on the purchases of a full year;
* ``behaviour``: ``"regular"`` when ``purchases_per_year > regular_threshold`` (2), else
  ``"one-time"``.  Okhunov: regular = "more than two purchases per
  year", one-time = "two or less", so exactly 2.0 a year is **one-time**;
* ``mean_gap_days``, ``gap_cv``: mean and coefficient of variation (sample standard deviation /
  mean, dimensionless) of the gaps between consecutive purchases, in days.  ``gap_cv`` is null
  with fewer than 3 purchases (fewer than two gaps carry no spread);
* ``days_since_last``, ``gap_ratio`` = ``days_since_last / mean_gap_days`` (null with one
  purchase: there is no own rhythm to compare with) and ``recency_status`` (docs/loyalty.md,
  the convention of commercial tools): ``gap_ratio < at_risk_ratio`` (1.5) ``"active"``,
  ``>= 1.5`` ``"at risk"``, ``>= lapsed_ratio`` (2) ``"lapsed"``, ``> churned_ratio`` (3, "over
  3x") ``"churned"``; ``"single purchase"`` with one purchase;
* ``spend_last`` / ``spend_prev``: net spend (currency) in ``(as_of - trend_days, as_of]`` and in
  the equally long period before it; ``spend_trend`` = ``spend_last / spend_prev - 1`` (a
  fraction, -0.4 = down 40 %), null when ``spend_prev`` is 0; the same for purchase counts
  (``n_last``, ``n_prev``) and, when the orders carry ``profit``, ``profit_last``;
* ``p_alive`` when a frame ``customer_id, p_alive`` (a fitted BG/NBD, Fader, Hardie & Lee 2005)
  is passed;
* ``bvdp_loyal``: the Buckinx & Van den Poel (2005, "Customer base analysis: partial defection of
  behaviourally loyal clients in a non-contractual FMCG retail setting", European Journal of
  Operational Research 164(1), 252-268) rule: purchase frequency above the average of the
  customers analysed **and** inter-purchase-time CV below the average; customers without a CV
  (fewer than 3 purchases) are not behaviourally loyal by this rule.

Money (``total_spend``, ``spend_last``, ``spend_prev``, ``profit_last``, the spend and profit of
:func:`period_purchase_counts` and the group totals of :func:`behaviour_summary`) is added
exactly, as whole minor units (:mod:`workbench.core.money`), and turned into currency by one
division (:func:`workbench.core.money.from_minor_units`): the same bits for any row order or
thread count, and ``total_spend`` is bit for bit the customer summary's
(:func:`workbench.core.summary.summary_from_orders`).  Money with more than six decimals is
refused as the customer summary refuses it.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench.core import schema
from workbench.core.money import from_minor_units, money_scale, to_minor_units
from workbench.core.prepare import DateLike, order_money_columns, to_date
from workbench.core.stable import stable_mean
from workbench.core.summary import purchases

_CID = schema.CUSTOMER_ID
_DATE = schema.ORDER_DATE

#: Defaults, with their sources (see the module docstring).
REGULAR_THRESHOLD = 2.0  # purchases a year; Okhunov
MIN_TENURE_DAYS = 365
DAYS_PER_YEAR = 365.0
TREND_DAYS = 365
AT_RISK_RATIO = 1.5  # docs/loyalty.md, 'Behavioural loyalty'
LAPSED_RATIO = 2.0
CHURNED_RATIO = 3.0

RECENCY_STATUSES = ("active", "at risk", "lapsed", "churned", "single purchase")


def _purchases(orders: pl.DataFrame, as_of: dt.date) -> tuple[pl.DataFrame, int]:
    """One row per customer and day up to ``as_of``, ``value`` (and ``profit``) in whole minor
    units; and the scale (decimals of the minor unit).

    :func:`workbench.core.summary.purchases` sums a day's orders exactly and refuses money that
    is not whole in a minor unit, naming the rows by their position in ``orders`` (as
    :func:`workbench.core.summary.summary_from_orders` does).  A day's sum of ``K`` units,
    ``K / 10**scale`` in currency up to two roundings, gives back ``K`` at the orders' scale
    (the relative error, at most 3 * 2**-53, moves ``K`` by less than half a unit while ``K`` is
    below ``2**50``), so sums of these units are the exact sums of the orders' amounts.
    """
    numbered = orders.drop("source_row", strict=False).with_row_index("source_row", offset=1)
    upto = numbered.filter(pl.col(_DATE) <= as_of)
    purch = purchases(upto, unit="D").collect().sort(_CID, _DATE)
    scale = money_scale(upto, order_money_columns(upto.columns))
    assert scale is not None  # purchases() has refused money with more than six decimals
    money = [c for c in ("value", "profit") if c in purch.columns]
    return to_minor_units(purch, money, source="orders", scale=scale)


def _money_sum(expr: pl.Expr, scale: int) -> pl.Expr:
    """Currency from a sum of whole minor units (exact: module docstring)."""
    return from_minor_units(expr.sum(), scale)


def behavioural_loyalty(
    orders: pl.DataFrame,
    as_of: DateLike,
    *,
    p_alive: pl.DataFrame | None = None,
    regular_threshold: float = REGULAR_THRESHOLD,
    min_tenure_days: int = MIN_TENURE_DAYS,
    days_per_year: float = DAYS_PER_YEAR,
    trend_days: int = TREND_DAYS,
    at_risk_ratio: float = AT_RISK_RATIO,
    lapsed_ratio: float = LAPSED_RATIO,
    churned_ratio: float = CHURNED_RATIO,
    cv_ddof: int = 1,
) -> pl.DataFrame:
    """Behavioural loyalty measures per customer at ``as_of`` (definitions: module docstring).

    Parameters
    ----------
    orders
        :func:`workbench.core.prepare.prepare_orders` output (``customer_id``, ``order_date``,
        ``amount`` net of returns, optional ``profit``).  Orders after ``as_of`` are ignored.
    as_of
        End of the observation period, inclusive.
    p_alive
        Optional frame ``customer_id, p_alive`` (probability 0-1 from a fitted BG/NBD).
    regular_threshold
        Purchases a year above which a customer is regular (Okhunov: 2; exactly 2 is one-time).
    min_tenure_days
        Floor of the tenure used to annualise, in days (default 365).
    days_per_year
        Days in a year for the annualisation (365, so 2 purchases in 365 days are exactly 2.0).
    trend_days
        Length of the two comparison periods of the spend trend, in days (default 365).
    at_risk_ratio, lapsed_ratio, churned_ratio
        Thresholds on ``days_since_last / mean_gap_days`` (1.5, 2, over 3; docs/loyalty.md).
    cv_ddof
        Delta degrees of freedom of the gap standard deviation (1 = sample standard deviation).

    Returns
    -------
    polars.DataFrame
        One row per customer with a purchase: ``customer_id``, ``n_purchases``,
        ``first_purchase``, ``last_purchase``, ``tenure_days``, ``purchases_per_year``,
        ``behaviour``, ``mean_gap_days``, ``gap_cv``, ``last_gap_days``, ``prior_mean_gap_days``,
        ``days_since_last``, ``gap_ratio``, ``recency_status``, ``total_spend``, ``spend_last``,
        ``spend_prev``, ``spend_trend``, ``n_last``, ``n_prev``, ``profit_last`` (null without
        profit), ``p_alive`` (null unless given), ``bvdp_loyal``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> o = pl.DataFrame({"customer_id": ["a", "a", "a"],
    ...                   "order_date": [dt.date(2025, 1, 1), dt.date(2025, 4, 1),
    ...                                  dt.date(2025, 7, 1)],
    ...                   "amount": [10.0, 20.0, 30.0]})
    >>> b = behavioural_loyalty(o, "2025-12-31")
    >>> b.select("purchases_per_year", "behaviour", "recency_status").row(0)
    (3.0, 'regular', 'lapsed')
    """
    as_of = to_date(as_of)
    if min_tenure_days <= 0 or days_per_year <= 0 or trend_days <= 0:
        raise ValueError("min_tenure_days, days_per_year and trend_days must be positive")
    if not at_risk_ratio <= lapsed_ratio <= churned_ratio:
        raise ValueError("need at_risk_ratio <= lapsed_ratio <= churned_ratio")
    out = _purchase_aggregates(*_purchases(orders, as_of), as_of, trend_days, cv_ddof)
    n = pl.col("n_purchases")
    tenure = (pl.lit(as_of) - pl.col("first_purchase")).dt.total_days()
    ratio = pl.col("gap_ratio")
    out = out.with_columns(
        tenure.alias("tenure_days"),
        (n * days_per_year / pl.max_horizontal(tenure, pl.lit(min_tenure_days)))
        .alias("purchases_per_year"),
        pl.when(n >= 3).then(pl.col("_gap_sd") / pl.col("mean_gap_days")).alias("gap_cv"),
        (pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().alias("days_since_last"),
        pl.when(pl.col("spend_prev") != 0)
        .then(pl.col("spend_last") / pl.col("spend_prev") - 1.0).alias("spend_trend"),
    ).with_columns(
        pl.when(pl.col("purchases_per_year") > regular_threshold).then(pl.lit("regular"))
        .otherwise(pl.lit("one-time")).alias("behaviour"),
        pl.when(pl.col("mean_gap_days") > 0)
        .then(pl.col("days_since_last") / pl.col("mean_gap_days")).alias("gap_ratio"),
    ).with_columns(
        pl.when(n < 2).then(pl.lit("single purchase"))
        .when(ratio > churned_ratio).then(pl.lit("churned"))
        .when(ratio >= lapsed_ratio).then(pl.lit("lapsed"))
        .when(ratio >= at_risk_ratio).then(pl.lit("at risk"))
        .otherwise(pl.lit("active")).alias("recency_status"),
    )
    if p_alive is not None:
        pa = p_alive.select(pl.col(_CID).cast(pl.String), pl.col("p_alive").cast(pl.Float64))
        out = out.join(pa, on=_CID, how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("p_alive"))
    out = out.with_columns(buckinx_van_den_poel(pl.col("purchases_per_year"), pl.col("gap_cv"))
                           .alias("bvdp_loyal"))
    cols = ["customer_id", "n_purchases", "first_purchase", "last_purchase", "tenure_days",
            "purchases_per_year", "behaviour", "mean_gap_days", "gap_cv", "last_gap_days",
            "prior_mean_gap_days", "days_since_last", "gap_ratio", "recency_status",
            "total_spend", "spend_last", "spend_prev", "spend_trend", "n_last", "n_prev",
            "profit_last", "p_alive", "bvdp_loyal"]
    return out.select(cols).sort(_CID)


def _purchase_aggregates(purch: pl.DataFrame, scale: int, as_of: dt.date, trend_days: int,
                         cv_ddof: int) -> pl.DataFrame:
    """Per customer: counts, first / last day, gap statistics and the spend (and profit) of
    the last ``trend_days`` and of the ``trend_days`` before them (currency; gaps in days).

    ``purch``: :func:`_purchases`, money in minor units of ``scale`` decimals."""
    has_profit = "profit" in purch.columns
    last_start = as_of - dt.timedelta(days=trend_days)
    prev_start = as_of - dt.timedelta(days=2 * trend_days)
    date = pl.col(_DATE)
    in_last = date > last_start
    in_prev = (date > prev_start) & (date <= last_start)
    gaps = purch.with_columns(date.diff().dt.total_days().cast(pl.Float64).over(_CID).alias("_gap"))
    gap = pl.col("_gap").drop_nulls()
    aggs = [
        pl.len().cast(pl.Int64).alias("n_purchases"),
        date.min().alias("first_purchase"),
        date.max().alias("last_purchase"),
        gap.mean().alias("mean_gap_days"),
        gap.std(ddof=cv_ddof).alias("_gap_sd"),
        gap.last().alias("last_gap_days"),
        gap.head(gap.len() - 1).mean().alias("prior_mean_gap_days"),
        _money_sum(pl.col("value"), scale).alias("total_spend"),
        _money_sum(pl.col("value").filter(in_last), scale).alias("spend_last"),
        _money_sum(pl.col("value").filter(in_prev), scale).alias("spend_prev"),
        in_last.sum().cast(pl.Int64).alias("n_last"),
        in_prev.sum().cast(pl.Int64).alias("n_prev"),
    ]
    if has_profit:
        aggs.append(_money_sum(pl.col("profit").filter(in_last), scale).alias("profit_last"))
    out = gaps.group_by(_CID).agg(aggs)
    if not has_profit:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("profit_last"))
    return out


def buckinx_van_den_poel(frequency: pl.Expr, gap_cv: pl.Expr) -> pl.Expr:
    """Behaviourally loyal by Buckinx & Van den Poel (2005): frequency above average, CV below.

    Both averages are taken over the rows the expression runs on (the customers analysed; the CV
    average over the customers that have a CV).  A customer without a CV (fewer than 3
    purchases) is not loyal by this rule.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"f": [1.0, 4.0, 5.0], "cv": [None, 0.2, 0.8]})
    >>> df.select(buckinx_van_den_poel(pl.col("f"), pl.col("cv"))).to_series().to_list()
    [False, True, False]
    """
    return ((frequency > frequency.mean()) & (gap_cv < gap_cv.mean())).fill_null(False)


def period_purchase_counts(
    orders: pl.DataFrame,
    start: DateLike,
    end: DateLike,
) -> pl.DataFrame:
    """Purchases (customer-days) per customer in ``(start, end]``; customers with none are absent.

    Returns ``customer_id``, ``n``, ``spend`` (currency, an exact sum) and ``profit`` when the
    orders carry it.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> o = pl.DataFrame({"customer_id": ["a", "a", "b"], "amount": [1.0, 2.0, 3.0],
    ...                   "order_date": [dt.date(2025, 1, 1), dt.date(2025, 1, 1),
    ...                                  dt.date(2025, 3, 1)]})
    >>> period_purchase_counts(o, "2024-12-31", "2025-12-31")["n"].to_list()
    [1, 1]
    """
    start, end = to_date(start, "start"), to_date(end, "end")
    purch, scale = _purchases(orders, end)
    purch = purch.filter(pl.col(_DATE) > start)
    aggs = [pl.len().cast(pl.Int64).alias("n"), _money_sum(pl.col("value"), scale).alias("spend")]
    if "profit" in purch.columns:
        aggs.append(_money_sum(pl.col("profit"), scale).alias("profit"))
    return purch.group_by(_CID).agg(aggs).sort(_CID)


def behaviour_summary(behaviour: pl.DataFrame) -> pl.DataFrame:
    """Customers, mean purchases a year and spend per behaviour x recency status.

    ``total_spend`` and ``spend_last_period`` add the customers' ``total_spend`` and
    ``spend_last`` as whole minor units (module docstring), exactly.  A customer value with more
    than six decimals raises a
    :class:`~workbench.errors.DataValidationError` (:func:`workbench.core.money.to_minor_units`).

    Examples
    --------
    >>> import polars as pl
    >>> b = pl.DataFrame({"behaviour": ["regular", "regular", "one-time"],
    ...                   "recency_status": ["active", "active", "single purchase"],
    ...                   "purchases_per_year": [4.0, 6.0, 1.0], "total_spend": [10.0, 30.0, 5.0],
    ...                   "spend_last": [5.0, 10.0, 0.0]})
    >>> behaviour_summary(b).row(0)
    ('regular', 'active', 2, 5.0, 40.0, 15.0)
    """
    order = {s: i for i, s in enumerate(RECENCY_STATUSES)}
    units, scale = to_minor_units(behaviour, ["total_spend", "spend_last"], source="behaviour")
    return (units.group_by("behaviour", "recency_status")
            .agg(pl.len().cast(pl.Int64).alias("customers"),
                 stable_mean("purchases_per_year").alias("mean_purchases_per_year"),
                 _money_sum(pl.col("total_spend"), scale).alias("total_spend"),
                 _money_sum(pl.col("spend_last"), scale).alias("spend_last_period"))
            .sort(pl.col("behaviour") == "one-time",
                  pl.col("recency_status").replace_strict(order, default=len(order),
                                                          return_dtype=pl.Int32)))
