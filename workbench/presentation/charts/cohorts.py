"""The cohort retention heatmap: acquisition cohorts (rows) x periods since the first purchase.

Frames in, ``alt.Chart`` out: no I/O, no renderer choice (see
:mod:`workbench.presentation.charts.theme`).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from workbench.presentation.charts._scalars import column_max
from workbench.presentation.charts.theme import HEAT_SCHEME, INK

#: Measures the heatmap can show: column, title and number format.
MEASURES = {
    "retention": ("Share of the cohort active", ".0%"),
    "customers": ("Active customers", ","),
    "revenue": ("Revenue", "$,.0f"),
    "revenue_per_cohort_customer": ("Revenue per cohort customer", "$,.2f"),
}


def cohort_unit(cohorts: pl.Series) -> str:
    """``"month"`` when every cohort starts on the first of a month, else ``"day"``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> cohort_unit(pl.Series([dt.date(2026, 1, 1), dt.date(2026, 2, 1)]))
    'month'
    >>> cohort_unit(pl.Series([dt.date(2026, 1, 5)]))
    'day'
    """
    days = cohorts.drop_nulls().dt.day()
    return "month" if days.len() and bool((days == 1).all()) else "day"


def cohort_label(cohort: pl.Expr, unit: str = "month") -> pl.Expr:
    """Readable cohort names: ``Jan 2026`` for monthly cohorts, ``5 Jan 2026`` for others
    (weekly cohorts start on another day than the first).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> pl.select(cohort_label(pl.lit(dt.date(2026, 1, 1)))).item()
    'Jan 2026'
    >>> pl.select(cohort_label(pl.lit(dt.date(2026, 1, 5)), "day")).item()
    '5 Jan 2026'
    """
    if unit == "month":
        return cohort.dt.strftime("%b %Y")
    return pl.format("{} {}", cohort.dt.day(), cohort.dt.strftime("%b %Y"))


def cohort_heatmap(
    table: pl.DataFrame,
    value: str = "retention",
    *,
    title: str | None = None,
    subtitle: str | None = None,
    period_label: str = "Months since the first purchase",
    cell: int = 26,
    max_periods: int | None = 24,
) -> alt.LayerChart:
    """Cohorts (rows, oldest at the top) x periods since the first purchase, shaded by ``value``.

    Each cell is labelled with its value (retention in percent by default); the tooltip gives
    the cohort, the period, the cohort's size, the active customers, retention and revenue,
    and marks the period that holds the as-of date as incomplete.

    Parameters
    ----------
    table
        :func:`workbench.analyses.cohorts.cohort_retention` output.
    value
        ``"retention"`` (default), ``"customers"``, ``"revenue"`` or
        ``"revenue_per_cohort_customer"``.
    title, subtitle
        Chart title (default from ``value``) and subtitle (e.g. the as-of date).
    period_label
        Title of the period axis.
    cell
        Size of one cell in pixels.
    max_periods
        Periods shown at most (0 to ``max_periods - 1``); ``None`` shows all.

    Returns
    -------
    altair.LayerChart
        Layered rect + text chart.

    Raises
    ------
    ValueError
        An unknown ``value``, or a table without the cohort columns.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = pl.DataFrame({"cohort": [dt.date(2024, 1, 1)] * 2, "period": [0, 1],
    ...                   "cohort_customers": [2, 2], "customers": [2, 1],
    ...                   "retention": [1.0, 0.5], "revenue": [17.0, 5.0],
    ...                   "complete": [True, False]})
    >>> cohort_heatmap(t).to_dict()["layer"][0]["mark"]["type"]
    'rect'
    """
    if value not in MEASURES:
        raise ValueError(f"value must be one of {', '.join(MEASURES)}, got {value!r}")
    needed = ["cohort", "period", "cohort_customers", "customers", "retention", "revenue", value]
    missing = [c for c in dict.fromkeys(needed) if c not in table.columns]
    if missing:
        raise ValueError(f"cohort_heatmap needs column(s) {missing}; got {table.columns}")
    label, fmt = MEASURES[value]
    data = table
    if max_periods is not None:
        data = data.filter(pl.col("period") < max_periods)
    if "complete" not in data.columns:
        data = data.with_columns(pl.lit(True).alias("complete"))
    data = data.sort("cohort", "period").with_columns(
        cohort_label(pl.col("cohort"), cohort_unit(data["cohort"])).alias("cohort_label"),
        pl.when(pl.col("complete")).then(pl.lit("complete"))
        .otherwise(pl.lit("incomplete (holds the as-of date)")).alias("status"),
    )
    cohorts = data["cohort_label"].unique(maintain_order=True).to_list()  # oldest first
    n_periods = int(column_max(data["period"]) or 0) + 1 if data.height else 1
    base = alt.Chart(data).encode(
        x=alt.X("period:O", title=period_label,
                axis=alt.Axis(labelAngle=0, ticks=False, domain=False)),
        y=alt.Y("cohort_label:O", title="Cohort (first purchase)", sort=cohorts,
                axis=alt.Axis(ticks=False, domain=False)),
    )
    rects = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(f"{value}:Q", title=label,
                        scale=alt.Scale(scheme=HEAT_SCHEME, domainMin=0), legend=None),
        opacity=alt.condition("datum.complete", alt.value(1.0), alt.value(0.55)),
        tooltip=[
            alt.Tooltip("cohort_label:N", title="Cohort (first purchase)"),
            alt.Tooltip("period:O", title=period_label),
            alt.Tooltip("cohort_customers:Q", title="Customers in the cohort", format=","),
            alt.Tooltip("customers:Q", title="Active customers", format=","),
            alt.Tooltip("retention:Q", title="Share of the cohort active", format=".1%"),
            alt.Tooltip("revenue:Q", title="Revenue", format="$,.2f"),
            alt.Tooltip("status:N", title="Period status"),
        ],
    )
    peak = float(column_max(data[value]) or 0) if data.height else 0.0
    labels = base.mark_text(fontSize=9).encode(
        text=alt.Text(f"{value}:Q", format=fmt),
        color=alt.condition(f"datum['{value}'] > {peak * 0.6!r}", alt.value("white"),
                            alt.value(INK)),
    )
    chart_title = title or f"Cohort retention: {label.lower()}"
    props = {"title": alt.Title(chart_title, subtitle=subtitle) if subtitle else chart_title}
    return (rects + labels).properties(
        width=cell * n_periods, height=cell * max(len(cohorts), 1), **props
    )
