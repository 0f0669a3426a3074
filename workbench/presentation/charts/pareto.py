"""Pareto concentration: the Lorenz-style curve of value held by the best customers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import altair as alt
import polars as pl

from workbench.presentation.charts.theme import ACCENT, INK, MUTED, REVENUE_COLOR

if TYPE_CHECKING:
    from altair.utils.schemapi import UndefinedType


def _one_point_per_customer(curve: pl.DataFrame) -> bool:
    """Whether the curve holds every customer (``customers`` is 0, 1, ..., n): then it is the
    exact Lorenz step function, not a sample of it (:func:`workbench.analyses.pareto.lorenz_curve`
    keeps every customer when there are at most ``points`` of them)."""
    if "customers" not in curve.columns or curve.height < 2:
        return False
    return curve["customers"].to_list() == list(range(curve.height))


def _interpolate(curve: pl.DataFrame, x: float, steps: bool = False) -> float:
    """The curve's value share at customer share ``x``: linear between the points, or with
    ``steps`` the share of the top ``ceil(x n)`` customers (the value of the first point at or
    right of ``x``, as Vega-Lite's ``step-before`` line draws it)."""
    xs, ys = curve["customer_share"].to_list(), curve["value_share"].to_list()
    if steps:
        # 1e-9: robust to float error (0.2 * 5 customers is 1 customer), as pareto._top_count
        return next((y for x1, y in zip(xs, ys, strict=True) if x1 >= x - 1e-9),
                    ys[-1] if ys else 0.0)
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

    When the curve holds every customer (``customers`` is 0, 1, ..., n: at most 100 customers
    with the default :func:`~workbench.analyses.pareto.lorenz_curve`), it is drawn as the step
    function it is, one step per customer: the top ``share`` of customers are the top
    ``ceil(share * n)`` (as :func:`~workbench.analyses.pareto.top_share` counts them), so the
    marker lies on the curve even for one customer.  A sampled curve (more customers) is drawn
    with straight lines between its points.

    Parameters
    ----------
    curve
        :func:`workbench.analyses.pareto.lorenz_curve` output: ``customer_share`` and
        ``value_share`` (0-1, cumulative, best customers first); ``customers`` is shown in the
        tooltip when present.
    share
        Share of top customers to mark (0-1).
    top_value_share
        Their share of value; default: read off the curve as it is drawn (pass
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
    >>> chart.to_dict()["layer"][1]["mark"]["interpolate"]  # 5 customers: one step each
    'step-before'
    """
    missing = [c for c in ("customer_share", "value_share") if c not in curve.columns]
    if missing:
        raise ValueError(f"lorenz_chart needs column(s) {missing}; got {curve.columns}")
    if not 0 < share < 1:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    steps = _one_point_per_customer(curve)
    y_mark = (_interpolate(curve, share, steps) if top_value_share is None
              else float(top_value_share))
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
    # step-before: vertical then horizontal, so x in ((k-1)/n, k/n] reads the top k's share
    shape: Literal["step-before"] | UndefinedType = (
        "step-before" if steps else alt.Undefined)  # Undefined: Vega-Lite's default, linear
    area = base.mark_area(color=REVENUE_COLOR, opacity=0.08, interpolate=shape)
    line = base.mark_line(color=REVENUE_COLOR, strokeWidth=2.5, interpolate=shape).encode(
        tooltip=tooltip)
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
