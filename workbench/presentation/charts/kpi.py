"""KPI changes as a static chart, for reports (the dashboard shows KPI tiles as HTML instead:
:mod:`workbench.presentation.widgets.kpi_panel`)."""

from __future__ import annotations

import altair as alt
import polars as pl

from workbench.presentation.charts.theme import BAD, GOOD, INK, MUTED

#: KPIs for which a fall is good news (none of the shipped ones; extend for e.g. churn rate).
LOWER_IS_BETTER: frozenset[str] = frozenset()


def kpi_change_chart(
    kpis: pl.DataFrame,
    *,
    title: str = "Change against the previous period",
    subtitle: str | None = None,
    width: int = 360,
) -> alt.LayerChart:
    """Relative change of each KPI against the previous period, as diverging bars.

    Green bars are improvements, red ones deteriorations; the text gives the change and the
    current value.  KPIs without a previous value (or a previous value of 0) have no bar.
    Percentage KPIs (repeat rate, top-20 % share) and NPS change in points, so for them the bar
    shows the change in points divided by 100 and the label says "pp" / "pts".

    Parameters
    ----------
    kpis
        :func:`workbench.analyses.kpi.executive_kpis` output: ``kpi``, ``label``, ``value``,
        ``previous``, ``change``, ``change_pct``, ``fmt``.
    title, subtitle
        Chart title and subtitle (e.g. the two periods).
    width
        Plot width in pixels.

    Returns
    -------
    altair.LayerChart
        Bars and labels, one row per KPI in the input order.

    Examples
    --------
    >>> import polars as pl
    >>> k = pl.DataFrame({"kpi": ["revenue"], "label": ["Revenue"], "value": [110.0],
    ...                   "previous": [100.0], "change": [10.0], "change_pct": [0.1],
    ...                   "fmt": ["currency"]})
    >>> kpi_change_chart(k).to_dict()["layer"][0]["mark"]["type"]
    'bar'
    """
    missing = [c for c in ("kpi", "label", "change", "change_pct", "fmt") if c not in kpis.columns]
    if missing:
        raise ValueError(f"kpi_change_chart needs column(s) {missing}; got {kpis.columns}")
    points = pl.col("fmt").is_in(["pct", "score"])
    change = pl.when(pl.col("fmt") == "pct").then(pl.col("change")).when(pl.col("fmt") == "score") \
        .then(pl.col("change") / 100).otherwise(pl.col("change_pct"))
    data = kpis.with_columns(
        change.alias("bar"),
        pl.when(pl.col("change").is_null()).then(pl.lit("n/a"))
        .when(pl.col("fmt") == "pct")
        .then(pl.format("{} pp", (pl.col("change") * 100).round(1)))
        .when(pl.col("fmt") == "score").then(pl.format("{} pts", pl.col("change").round(1)))
        .when(pl.col("change_pct").is_null()).then(pl.lit("new"))
        .otherwise(pl.format("{} %", (pl.col("change_pct") * 100).round(1)))
        .alias("change_text"),
        (pl.col("change").fill_null(0) * pl.when(pl.col("kpi").is_in(list(LOWER_IS_BETTER)))
         .then(-1).otherwise(1) >= 0).alias("good"),
        points.alias("in_points"),
    )
    order = data["label"].to_list()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(ticks=False, domain=False,
                                                               labelColor=INK, labelFontSize=12))
    bars = alt.Chart(data).mark_bar(height={"band": 0.6}).encode(
        y=y,
        x=alt.X("bar:Q", title="Change (relative; percentage points for shares and NPS)",
                axis=alt.Axis(format="+%", tickCount=5)),
        color=alt.Color("good:N", scale=alt.Scale(domain=[True, False], range=[GOOD, BAD]),
                        legend=None),
        tooltip=[alt.Tooltip("label:N", title="KPI"),
                 alt.Tooltip("value:Q", title="This period", format=",.3~f"),
                 alt.Tooltip("previous:Q", title="Previous period", format=",.3~f"),
                 alt.Tooltip("change_text:N", title="Change")],
    )
    labels = alt.Chart(data).mark_text(align="left", dx=4, color=MUTED, fontSize=11).encode(
        y=y, x=alt.value(width + 6), text="change_text:N")
    props = {"title": alt.Title(title, subtitle=subtitle) if subtitle else title}
    return (bars + labels).properties(width=width, height=alt.Step(28), **props)
