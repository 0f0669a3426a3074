"""Executive KPIs with the change against the previous period (``DOMAIN.md`` §7).

The period is the ``period_days`` days ending at the as-of date (inclusive); the previous period
is the same length just before it.  Definitions:

* ``active_customers``: customers with at least one purchase in the period;
* ``revenue``: net revenue (after returns) of the period's orders, currency;
* ``repeat_rate``: repeat-customer rate, the share of all customers who bought by the period end
  that bought on at least two different days (a within-period "returning customer" share is
  near 100 % whenever a period brings few new customers, so it tells an executive little);
* ``top20_share``: share of the trailing-365-day net revenue that the top 20 % of customers hold
  (seed 004_1db8fb040c21ceee.txt);
* ``nps``: Net Promoter Score of the surveys answered in the period (latest per customer):
  % promoters (9-10) - % detractors (0-6), -100..100 (Reichheld 2003); null without surveys.

Data without any purchase on or before the as-of date (header-only, all returns, an as-of date
before the first purchase) are refused with a :class:`~workbench.errors.DataValidationError`;
a period without purchases after earlier ones is fine (0 active customers, 0 revenue).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench import schema
from workbench.errors import DataValidationError
from workbench.pareto import top_share
from workbench.prepare import DateLike, prepare_orders, to_date
from workbench.rfm import no_purchases_problem

_CID = schema.CUSTOMER_ID
KPI_LABELS = {
    "active_customers": ("Active customers", "int"),
    "revenue": ("Revenue", "currency"),
    "repeat_rate": ("Repeat rate", "pct"),
    "top20_share": ("Revenue share of top 20 %", "pct"),
    "nps": ("NPS", "score"),
}


def net_promoter_score(nps: pl.Series) -> float | None:
    """NPS in points: % promoters (9-10) minus % detractors (0-6) (Reichheld 2003).

    Examples
    --------
    >>> import polars as pl
    >>> net_promoter_score(pl.Series([10, 9, 8, 3]))
    25.0
    """
    s = nps.drop_nulls()
    if s.len() == 0:
        return None
    return float(100.0 * (((s >= 9).sum() - (s <= 6).sum()) / s.len()))


def _period_values(
    transactions: pl.DataFrame, surveys: pl.DataFrame | None, end: dt.date, days: int
) -> dict[str, float | None]:
    start = end - dt.timedelta(days=days)
    orders, _ = prepare_orders(transactions, end)
    date = pl.col(schema.ORDER_DATE)
    in_period = orders.filter(date > start)
    active = in_period[_CID].unique()
    days_per_customer = orders.group_by(_CID).agg(date.n_unique().alias("n"))
    repeat = float((days_per_customer["n"] >= 2).mean()) if days_per_customer.height else None
    year = (
        orders.filter(date > end - dt.timedelta(days=365))
        .group_by(_CID)
        .agg(pl.col(schema.AMOUNT).sum().alias("total_spend"))
    )
    nps = None
    if surveys is not None and "nps" in surveys.columns:
        answered = (
            surveys.filter(
                (pl.col(schema.SURVEY_DATE) > start)
                & (pl.col(schema.SURVEY_DATE) <= end)
                & pl.col("nps").is_not_null()
            )
            .sort(schema.SURVEY_DATE)
            .group_by(_CID)
            .agg(pl.col("nps").last())
        )
        nps = net_promoter_score(answered["nps"])
    return {
        "active_customers": float(active.len()),
        "revenue": float(in_period[schema.AMOUNT].sum()),
        "repeat_rate": repeat,
        "top20_share": top_share(year, 0.2) if year.height else None,
        "nps": nps,
        "_orders": orders.height,
    }


def executive_kpis(
    transactions: pl.DataFrame,
    as_of: DateLike,
    period_days: int = 90,
    surveys: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """KPI tiles: value in the period, value in the previous period, and the change.

    Parameters
    ----------
    transactions
        Validated transactions.
    as_of
        Period end (inclusive).
    period_days
        Period length in days (90 = a quarter).
    surveys
        Validated surveys, for NPS (optional).

    Returns
    -------
    polars.DataFrame
        ``kpi``, ``label``, ``value``, ``previous``, ``change`` (value - previous),
        ``change_pct`` (relative change, null when previous is 0 or null), ``fmt`` (``int``,
        ``currency``, ``pct``, ``score``), ``period_start``, ``period_end``.

    Raises
    ------
    workbench.errors.DataValidationError
        When there is no purchase on or before ``as_of``.

    Examples
    --------
    >>> executive_kpis(tx, "2026-06-30", surveys=surveys)  # doctest: +SKIP
    """
    if period_days <= 0:
        raise ValueError(f"period_days must be positive, got {period_days}")
    end = to_date(as_of)
    prev_end = end - dt.timedelta(days=period_days)
    cur = _period_values(transactions, surveys, end, period_days)
    if not cur["_orders"]:
        raise DataValidationError("transactions", None, no_purchases_problem(transactions, end))
    prev = _period_values(transactions, surveys, prev_end, period_days)
    rows = []
    for kpi, (label, fmt) in KPI_LABELS.items():
        if kpi == "nps" and surveys is None:
            continue
        v, p = cur[kpi], prev[kpi]
        change = None if v is None or p is None else v - p
        pct = None if change is None or not p else change / abs(p)
        rows.append(
            {
                "kpi": kpi,
                "label": label,
                "value": v,
                "previous": p,
                "change": change,
                "change_pct": pct,
                "fmt": fmt,
                "period_start": end - dt.timedelta(days=period_days - 1),
                "period_end": end,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "kpi": pl.String,
            "label": pl.String,
            "value": pl.Float64,
            "previous": pl.Float64,
            "change": pl.Float64,
            "change_pct": pl.Float64,
            "fmt": pl.String,
            "period_start": pl.Date,
            "period_end": pl.Date,
        },
    )
