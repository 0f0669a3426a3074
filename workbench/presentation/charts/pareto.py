"""Pareto concentration: the Lorenz-style curve of value held by the best customers."""

from __future__ import annotations

import altair as alt
import polars as pl

from workbench.presentation.charts.theme import ACCENT, INK, MUTED, REVENUE_COLOR


def _interpolate(curve: pl.DataFrame, x: float) -> float:
    xs, ys = curve["customer_share"].to_list(), curve["value_share"].to_list()
    for (x0, y0), (x1, y1) in zip(zip(xs, ys, strict=True), zip(xs[1:], ys[1:], strict=True),
                                  strict=False):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return ys[-1] if ys else 0.0


def lorenz_chart(
    curve: pl.DataFrame,
    *,
    share: float = 0.2,
    top_value_share: float | None = None,
    value_label: str = "revenue",
    title: str = "Concentration of revenue",
    subtitle: str | None = None,
    width: int = 420,
    height: int = 320,
) -> alt.LayerChart:
    """Cumulative share of value against the share of customers, best customers first.

    The curve rises steeply when a few customers bring most of the value.  The dashed diagonal
    is perfect equality (every customer brings the same); the red marker reads off the share of
    value held by the top ``share`` of customers (the 80/20 rule of thumb).

    Parameters
    ----------
    curve
        :func:`workbench.analyses.pareto.lorenz_curve` output: ``customer_share`` and
        ``value_share`` (0-1, cumulative, best customers first); ``customers`` is shown in the
        tooltip when present.
    share
        Share of top customers to mark (0-1).
    top_value_share
        Their share of value; default: interpolated on the curve (pass
        :func:`workbench.analyses.pareto.top_share` for the exact figure).
    value_label
        What the value is, for the labels ("revenue", "profit", "CLV").
    title, subtitle
        Chart title and subtitle.
    width, height
        Plot size in pixels.

    Returns
    -------
    altair.LayerChart
        Area + line of the curve, the diagonal, and the marker (rules, point and label).

    Examples
    --------
    >>> import polars as pl
    >>> from workbench.analyses.pareto import lorenz_curve
    >>> s = pl.DataFrame({"total_spend": [80.0, 10.0, 5.0, 5.0, 0.0]})
    >>> chart = lorenz_chart(lorenz_curve(s, points=5), top_value_share=0.8)
    >>> len(chart.to_dict()["layer"])
    7
    """
    missing = [c for c in ("customer_share", "value_share") if c not in curve.columns]
    if missing:
        raise ValueError(f"lorenz_chart needs column(s) {missing}; got {curve.columns}")
    if not 0 < share < 1:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    y_mark = _interpolate(curve, share) if top_value_share is None else float(top_value_share)
    data = curve.select("customer_share", "value_share",
                        *([c for c in ("customers",) if c in curve.columns]))
    x = alt.X("customer_share:Q", title="Share of customers (best first)",
              axis=alt.Axis(format="%", tickCount=5), scale=alt.Scale(domain=[0, 1], nice=False))
    y = alt.Y("value_share:Q", title=f"Cumulative share of {value_label}",
              axis=alt.Axis(format="%", tickCount=5), scale=alt.Scale(domain=[0, 1], nice=False))
    tooltip = [alt.Tooltip("customer_share:Q", title="Top customers", format=".0%"),
               alt.Tooltip("value_share:Q", title=f"Share of {value_label}", format=".1%")]
    if "customers" in data.columns:
        tooltip.append(alt.Tooltip("customers:Q", title="Customers", format=","))
    base = alt.Chart(data).encode(x=x, y=y)
    area = base.mark_area(color=REVENUE_COLOR, opacity=0.08)
    line = base.mark_line(color=REVENUE_COLOR, strokeWidth=2.5).encode(tooltip=tooltip)
    diagonal = alt.Chart(pl.DataFrame({"customer_share": [0.0, 1.0],
                                       "value_share": [0.0, 1.0]})).mark_line(
        color=MUTED, strokeDash=[4, 4], strokeWidth=1).encode(x=x, y=y)
    mark = pl.DataFrame({"customer_share": [share], "value_share": [y_mark], "zero": [0.0],
                         "label": [f"Top {share:.0%} of customers: {y_mark:.0%} of {value_label}"]})
    marker = alt.Chart(mark)
    vrule = marker.mark_rule(color=ACCENT, strokeDash=[3, 3]).encode(
        x=x, y=alt.Y("zero:Q"), y2="value_share:Q")
    hrule = marker.mark_rule(color=ACCENT, strokeDash=[3, 3]).encode(
        y=y, x=alt.X("zero:Q"), x2="customer_share:Q")
    point = marker.mark_point(color=ACCENT, filled=True, size=70).encode(
        x=x, y=y, tooltip=[alt.Tooltip("label:N", title="Pareto")])
    label = marker.mark_text(align="left", dx=10, dy=14, color=INK, fontSize=12,
                             fontWeight=600).encode(x=x, y=y, text="label:N")
    props = {"title": alt.Title(title, subtitle=subtitle) if subtitle else title}
    layered = alt.LayerChart(layer=[area, line, diagonal, vrule, hrule, point, label])
    return layered.properties(
        width=width, height=height, **props)
