"""Executive KPIs with the change against the previous period.

**One definition per number.**  Every tile of the dashboard and every tab that shows the same
number read it from a function of this module, so the KPI tile and the tab agree:

* ``active_customers``: customers with at least one purchase in the ``period_days`` days ending
  at the as-of date (:func:`active_customer_ids`).  Not the expected number of customers still
  "alive" of a purchase model (a sum of P(alive)), which counts customers who may buy again;
* ``revenue``: net revenue (after returns) of the period's orders, currency;
* ``repeat_rate``: repeat-customer rate, the share of all customers who bought by the period end
  that bought on at least two different days (a within-period "returning customer" share is
  near 100 % whenever a period brings few new customers, so it tells an executive little);
* ``top20_share``: share of the net revenue of the 12 months to the as-of date
  (:data:`CONCENTRATION_DAYS`, :func:`trailing_revenue`) that the top 20 % of those customers
  hold (the Pareto 80/20 differentiation of the *Customer relationships* lecture notes, topic 6;
  docs/rfm.md); the Concentration tab draws its Lorenz curve and table from the same frame;
* ``nps``: Net Promoter Score of the surveys answered in the period (latest answer per
  customer, :func:`period_nps`): % promoters (9-10) - % detractors (0-6), -100..100
  (Reichheld 2003); null without surveys.  The loyalty tab's headline NPS is the same number.

The text of each definition is :func:`kpi_definition` (shown as the tile's info line).

**Money is added exactly.**  ``revenue`` and the per-customer revenue of :func:`trailing_revenue`
are sums of whole minor units (:mod:`workbench.core.money`, as in the customer summary), turned
into currency by one division (:func:`workbench.core.money.from_minor_units`): the same bits
whatever the row order or thread count, and a customer's trailing revenue over the whole
history is bit for bit the ``total_spend`` of :func:`workbench.core.summary.summary_from_orders`.
Money with more than six decimals is refused as the customer summary refuses it.

**When a change is "n/a".**  A change against a base too small to compare is not shown
(``comparable`` is False and ``change_pct`` null; displays show "n/a"): when the previous
period's base has fewer than :data:`MIN_BASE_CUSTOMERS` customers (active customers for
``active_customers`` and ``revenue``; customers to date for ``repeat_rate``; customers with
revenue in the trailing 12 months for ``top20_share``; survey answers for ``nps``), or, for
counts and money, when the previous value is below :data:`MIN_BASE_SHARE` (5 %) of the current
one (e.g. the first weeks of the data: +9852 % tells nothing).

Data without any purchase on or before the as-of date (header-only, all returns, an as-of date
before the first purchase) are refused with a :class:`~workbench.errors.DataValidationError`;
a period without purchases after earlier ones is fine (0 active customers, 0 revenue).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Final, cast

import polars as pl

from workbench.analyses.pareto import top_share
from workbench.analyses.rfm import no_purchases_problem
from workbench.core import schema
from workbench.core.money import from_minor_units, to_minor_units
from workbench.core.prepare import DateLike, order_money_columns, prepare_orders, to_date
from workbench.errors import DataValidationError

_CID = schema.CUSTOMER_ID
KPI_LABELS = {
    "active_customers": ("Active customers", "int"),
    "revenue": ("Revenue", "currency"),
    "repeat_rate": ("Repeat rate", "pct"),
    "top20_share": ("Revenue share of top 20 %", "pct"),
    "nps": ("NPS", "score"),
}
#: What each KPI counts (``{days}``: the period length), shown on the dashboard's tiles.
KPI_DEFINITIONS: Final = {
    "active_customers": "Customers who bought in the last {days} days",
    "revenue": "Net revenue (after returns) of the last {days} days",
    "repeat_rate": "Share of all customers to date who bought on two or more days",
    "top20_share": "Share of the last 12 months' revenue held by the top 20 % of customers",
    "nps": "Net Promoter Score of the surveys answered in the last {days} days "
           "(latest answer per customer)",
}
#: Days of revenue behind the concentration measures (top-20 % share, Lorenz curve).
CONCENTRATION_DAYS: Final = 365
#: A previous period with fewer customers (or survey answers) than this is too small a base.
MIN_BASE_CUSTOMERS: Final = 20
#: A previous count or amount below this share of the current one is too small a base.
MIN_BASE_SHARE: Final = 0.05


def kpi_definition(kpi: str, period_days: int = 90) -> str:
    """What ``kpi`` counts, in one sentence (the dashboard's info line).

    Examples
    --------
    >>> kpi_definition("active_customers")
    'Customers who bought in the last 90 days'
    """
    return KPI_DEFINITIONS.get(kpi, kpi).format(days=period_days)


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
    promoters, detractors = cast(int, (s >= 9).sum()), cast(int, (s <= 6).sum())  # counts
    return float(100.0 * ((promoters - detractors) / s.len()))


def period_answers(surveys: pl.DataFrame | None, end: DateLike, days: int) -> pl.DataFrame:
    """The latest NPS answer per customer among the surveys of the ``days`` days to ``end``.

    Returns ``customer_id``, ``nps`` (empty without surveys or an ``nps`` column).
    """
    end_date = to_date(end)
    start = end_date - dt.timedelta(days=days)
    if surveys is None or "nps" not in surveys.columns:
        return pl.DataFrame(schema={_CID: pl.String, "nps": pl.Float64})
    return (
        surveys.filter(
            (pl.col(schema.SURVEY_DATE) > start)
            & (pl.col(schema.SURVEY_DATE) <= end_date)
            & pl.col("nps").is_not_null()
        )
        .sort(schema.SURVEY_DATE, _CID)
        .group_by(_CID, maintain_order=True)
        .agg(pl.col("nps").last())
    )


def period_nps(surveys: pl.DataFrame | None, end: DateLike, days: int = 90) -> dict:
    """NPS of the surveys answered in the ``days`` days to ``end`` (the ``nps`` KPI).

    Returns ``{"nps", "nps_low", "nps_high", "n"}``: the score, a 95 % Wald interval
    (indicative below 30 answers) and the number of answers; ``None`` values without answers.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> s = pl.DataFrame({"customer_id": ["a", "b"], "nps": [10.0, 3.0],
    ...                   "survey_date": [dt.date(2024, 6, 1)] * 2})
    >>> period_nps(s, "2024-06-30")["nps"], period_nps(s, "2024-06-30")["n"]
    (0.0, 2)
    """
    answers = period_answers(surveys, end, days)["nps"]
    n = answers.len()
    score = net_promoter_score(answers)
    if score is None:
        return {"nps": None, "nps_low": None, "nps_high": None, "n": 0}
    pp, pd_ = float((answers >= 9).sum() / n), float((answers <= 6).sum() / n)
    half = 1.959963984540054 * 100.0 * math.sqrt(max(pp + pd_ - (pp - pd_) ** 2, 0.0) / n)
    return {"nps": score, "nps_low": max(score - half, -100.0),
            "nps_high": min(score + half, 100.0), "n": n}


def _amount_units(orders: pl.DataFrame, end: dt.date) -> tuple[pl.DataFrame, int]:
    """The orders to ``end`` (``customer_id``, ``order_date``, ``amount``) with the amount in
    whole minor units, and the scale (decimals of the minor unit).

    Checked as :func:`workbench.core.summary.summary_from_orders` checks orders: every money
    column at one scale (:func:`workbench.core.money.to_minor_units`), an error naming the rows
    by their position in ``orders`` (1 = the first).
    """
    numbered = orders.drop("source_row", strict=False).with_row_index("source_row", offset=1)
    upto = numbered.filter(pl.col(schema.ORDER_DATE) <= end)
    money = order_money_columns(upto.columns)
    units, scale = to_minor_units(upto.select("source_row", *money), money, source="orders")
    return upto.select(_CID, schema.ORDER_DATE, units[schema.AMOUNT]), scale


def _revenue_by_customer(units: pl.DataFrame, scale: int, end: dt.date,
                         days: int) -> pl.DataFrame:
    """:func:`trailing_revenue` from orders to ``end`` in minor units (:func:`_amount_units`)."""
    date = pl.col(schema.ORDER_DATE)
    return (
        units.filter(date > end - dt.timedelta(days=days))
        .group_by(_CID)
        .agg(from_minor_units(pl.col(schema.AMOUNT).sum(), scale).alias("total_spend"))
        .sort(_CID)
    )


def trailing_revenue(orders: pl.DataFrame, end: DateLike,
                     days: int = CONCENTRATION_DAYS) -> pl.DataFrame:
    """Net revenue per customer of the ``days`` days to ``end``: the concentration basis.

    ``orders`` are those of :func:`workbench.core.prepare.prepare_orders`.  Returns
    ``customer_id``, ``total_spend`` (customers with an order in the window), sorted by id:
    the frame behind the ``top20_share`` KPI and the dashboard's Lorenz curve and share table.
    ``total_spend`` (currency) is an exact sum in minor units (module docstring).

    Raises
    ------
    workbench.errors.DataValidationError
        A money value of an order to ``end`` has more than six decimals or is not finite, or
        the amounts are too large to add exactly (:func:`workbench.core.money.to_minor_units`).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> o = pl.DataFrame({"customer_id": ["a", "a", "b"], "amount": [5.0, 7.0, 1.0],
    ...                   "order_date": [dt.date(2023, 1, 1), dt.date(2024, 6, 1),
    ...                                  dt.date(2024, 6, 2)]})
    >>> trailing_revenue(o, "2024-06-30").rows()
    [('a', 7.0), ('b', 1.0)]
    >>> cents = pl.DataFrame({"customer_id": ["a", "a"], "amount": [0.1, 0.2],
    ...                       "order_date": [dt.date(2024, 6, 1), dt.date(2024, 6, 2)]})
    >>> trailing_revenue(cents, "2024-06-30")["total_spend"].item()  # not 0.30000000000000004
    0.3
    """
    end_date = to_date(end)
    units, scale = _amount_units(orders, end_date)
    return _revenue_by_customer(units, scale, end_date, days)


def active_customer_ids(orders: pl.DataFrame, end: DateLike, days: int = 90) -> pl.Series:
    """Ids of the customers with an order in the ``days`` days to ``end`` (``active_customers``).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> o = pl.DataFrame({"customer_id": ["a", "b"],
    ...                   "order_date": [dt.date(2024, 1, 1), dt.date(2024, 6, 1)]})
    >>> active_customer_ids(o, "2024-06-30").to_list()
    ['b']
    """
    end_date = to_date(end)
    date = pl.col(schema.ORDER_DATE)
    return (orders.filter((date > end_date - dt.timedelta(days=days)) & (date <= end_date))[_CID]
            .unique().sort())


def _period_values(
    transactions: pl.DataFrame, surveys: pl.DataFrame | None, end: dt.date, days: int
) -> tuple[dict[str, float | None], dict[str, int]]:
    start = end - dt.timedelta(days=days)
    orders, _ = prepare_orders(transactions, end)
    date = pl.col(schema.ORDER_DATE)
    units, scale = _amount_units(orders, end)
    revenue = units.filter(date > start).select(  # an exact sum (module docstring)
        from_minor_units(pl.col(schema.AMOUNT).sum(), scale)
    )
    active = active_customer_ids(orders, end, days)
    days_per_customer = orders.group_by(_CID).agg(date.n_unique().alias("n"))
    # the mean of a Boolean series (the share of True) is a float
    repeat = (float(cast(float, (days_per_customer["n"] >= 2).mean()))
              if days_per_customer.height else None)
    year = _revenue_by_customer(units, scale, end, CONCENTRATION_DAYS)
    nps: dict[str, Any] = (period_nps(surveys, end, days) if surveys is not None
                           else {"nps": None, "n": 0})
    values: dict[str, float | None] = {
        "active_customers": float(active.len()),
        "revenue": float(revenue.item()),
        "repeat_rate": repeat,
        "top20_share": top_share(year, 0.2) if year.height else None,
        "nps": nps["nps"],
    }
    bases: dict[str, int] = {
        "active_customers": active.len(),
        "revenue": active.len(),
        "repeat_rate": days_per_customer.height,
        "top20_share": year.height,
        "nps": nps["n"],
        "_orders": orders.height,
    }
    return values, bases


def comparable(kpi: str, value: float | None, previous: float | None, base: int) -> bool:
    """Whether the change of ``kpi`` against a previous value on ``base`` customers means much.

    False when there is no previous value, the previous base has fewer than
    :data:`MIN_BASE_CUSTOMERS` customers (or answers), or, for counts and money, the previous
    value is below :data:`MIN_BASE_SHARE` of the current one.

    Examples
    --------
    >>> comparable("revenue", 9852.4, 100.0, 50), comparable("revenue", 110.0, 100.0, 50)
    (False, True)
    >>> comparable("nps", 30.0, 20.0, 12)
    False
    """
    if value is None or previous is None or base < MIN_BASE_CUSTOMERS:
        return False
    if KPI_LABELS.get(kpi, ("", "int"))[1] in ("int", "currency"):
        return abs(previous) >= MIN_BASE_SHARE * abs(value) and previous != 0
    return True


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
        ``change_pct`` (relative change; null when previous is 0 or null or the change is not
        comparable), ``comparable`` (False: show "n/a", see the module docstring),
        ``previous_base`` (customers or answers behind the previous value), ``definition``
        (what the KPI counts), ``fmt`` (``int``, ``currency``, ``pct``, ``score``),
        ``period_start``, ``period_end``.

    Raises
    ------
    workbench.errors.DataValidationError
        When there is no purchase on or before ``as_of``.

    Examples
    --------
    >>> from workbench.core.io import read_surveys, read_transactions
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> surveys = read_surveys("sample_data/surveys.csv")
    >>> kpis = executive_kpis(tx, "2026-06-30", surveys=surveys)
    >>> kpis.select("kpi", pl.col("value").round(3)).rows()
    [('active_customers', 3409.0), ('revenue', 627175.14), ('repeat_rate', 0.501),
     ('top20_share', 0.697), ('nps', 31.22)]
    """
    if period_days <= 0:
        raise ValueError(f"period_days must be positive, got {period_days}")
    end = to_date(as_of)
    prev_end = end - dt.timedelta(days=period_days)
    cur, cur_base = _period_values(transactions, surveys, end, period_days)
    if not cur_base["_orders"]:
        raise DataValidationError("transactions", None, no_purchases_problem(transactions, end))
    prev, prev_base = _period_values(transactions, surveys, prev_end, period_days)
    rows = []
    for kpi, (label, fmt) in KPI_LABELS.items():
        if kpi == "nps" and surveys is None:
            continue
        v, p = cur[kpi], prev[kpi]
        change = None if v is None or p is None else v - p
        ok = comparable(kpi, v, p, prev_base[kpi])
        pct = None if change is None or not p or not ok else change / abs(p)
        rows.append(
            {
                "kpi": kpi,
                "label": label,
                "value": v,
                "previous": p,
                "change": change,
                "change_pct": pct,
                "comparable": ok,
                "previous_base": prev_base[kpi],
                "definition": kpi_definition(kpi, period_days),
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
            "comparable": pl.Boolean,
            "previous_base": pl.Int64,
            "definition": pl.String,
            "fmt": pl.String,
            "period_start": pl.Date,
            "period_end": pl.Date,
        },
    )
