"""Charts of the purchase-model diagnostics (:mod:`workbench.models.clv.diagnostics`) and of the
model comparison (:mod:`workbench.models.clv.compare`).

Frames in, ``alt.Chart`` out (small frames only; no renderer choice):

* :func:`repeat_count_chart`: observed vs expected customers by repeat purchases (FHL 2005,
  Figure 1);
* :func:`expected_purchases_heatmap`: conditional expected purchases over frequency x recency;
* :func:`p_alive_history_chart`: one customer's P(alive) through time, purchases marked;
* :func:`heterogeneity_chart`: the fitted mixing densities side by side;
* :func:`interval_chart`: estimates with their intervals (e.g. the top customers' CLV).
"""

from __future__ import annotations

import math

import altair as alt
import polars as pl

from workbench.presentation.charts.clv import (
    ACTUAL_COLOR,
    MAX_ROWS,
    PREDICTED_COLOR,
    _require,
    _title,
)
from workbench.presentation.charts.theme import MUTED


def repeat_count_chart(fit: pl.DataFrame, *, title: str | None = None,
                       subtitle: str | None = None, width: int = 420,
                       height: int = 220) -> alt.Chart:
    """Grouped bars: observed and expected customers per number of repeat purchases.

    Parameters
    ----------
    fit
        :func:`workbench.models.clv.diagnostics.repeat_count_fit` output.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"frequency": [0, 1], "frequency_bucket": ["0", "1+"],
    ...                   "observed": [5.0, 3.0], "expected": [4.8, 3.2]})
    >>> repeat_count_chart(f).to_dict()["mark"]["type"]
    'bar'
    """
    _require(fit, ["frequency_bucket", "observed", "expected"], "repeat_count_chart")
    order = fit["frequency_bucket"].to_list()
    long = fit.select("frequency_bucket", pl.col("observed").alias("Observed"),
                      pl.col("expected").alias("Expected")).unpivot(
        index="frequency_bucket", variable_name="measure", value_name="customers")
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("frequency_bucket:N", sort=order, title="Repeat purchases in the period",
                axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("measure:N", sort=["Observed", "Expected"]),
        y=alt.Y("customers:Q", title="Customers"),
        color=alt.Color("measure:N", title=None, sort=["Observed", "Expected"],
                        scale=alt.Scale(domain=["Observed", "Expected"],
                                        range=[ACTUAL_COLOR, PREDICTED_COLOR])),
        tooltip=[alt.Tooltip("frequency_bucket:N", title="Repeat purchases"),
                 alt.Tooltip("measure:N", title=" "),
                 alt.Tooltip("customers:Q", title="Customers", format=",.1f")],
    ).properties(width=width, height=height, title=_title(
        title or "Customers by repeat purchases: observed and expected", subtitle))


def expected_purchases_heatmap(matrix: pl.DataFrame, *, horizon_label: str = "",
                               unit_label: str = "weeks", title: str | None = None,
                               subtitle: str | None = None, max_cells: int = 1000,
                               width: int = 420, height: int = 260) -> alt.Chart:
    """Expected purchases over a frequency x recency grid (darker = more).

    Parameters
    ----------
    matrix
        :func:`workbench.models.clv.diagnostics.expected_purchases_matrix` output.
    horizon_label
        Words for the horizon in the subtitle (``"the next 52 weeks"``).
    max_cells
        Most rects drawn; above it every ``k``-th recency column is kept, drawn ``k`` wide.
    """
    _require(matrix, ["frequency", "recency", "expected_purchases"], "expected_purchases_heatmap")
    if not 1 <= max_cells <= MAX_ROWS:
        raise ValueError(f"max_cells must be in [1, {MAX_ROWS}], got {max_cells!r}")
    step = max(1, math.ceil(matrix.height / max_cells))
    data = (matrix.with_columns(pl.col("frequency").cast(pl.Float64),
                                pl.col("recency").cast(pl.Float64))
            .filter((pl.col("recency") % step) == 0)
            .with_columns((pl.col("frequency") + 1).alias("frequency_end"),
                          (pl.col("recency") + step).alias("recency_end")))
    if subtitle is None and "T" in matrix.columns and matrix.height:
        subtitle = (f"Customers whose first purchase was {float(matrix['T'][0]):g} {unit_label} "
                    f"ago; expected purchases{' in ' + horizon_label if horizon_label else ''}")
    return alt.Chart(data).mark_rect().encode(
        x=alt.X("recency:Q", title=f"Recency: {unit_label} from the first to the last purchase",
                scale=alt.Scale(nice=False, zero=True)),
        x2="recency_end:Q",
        y=alt.Y("frequency:Q", title="Repeat purchases", scale=alt.Scale(nice=False, zero=True)),
        y2="frequency_end:Q",
        color=alt.Color("expected_purchases:Q", title="Expected purchases",
                        scale=alt.Scale(scheme="blues"), legend=alt.Legend(orient="right")),
        tooltip=[alt.Tooltip("frequency:Q", title="Repeat purchases", format="d"),
                 alt.Tooltip("recency:Q", title="Recency", format=".0f"),
                 alt.Tooltip("expected_purchases:Q", title="Expected purchases", format=".2f")],
    ).properties(width=width, height=height,
                 title=_title(title or "Expected purchases by frequency and recency", subtitle))


def p_alive_history_chart(history: pl.DataFrame, *, customer: str = "",
                          unit_label: str = "weeks", title: str | None = None,
                          subtitle: str | None = None, width: int = 460,
                          height: int = 200) -> alt.LayerChart:
    """One customer's P(alive) through time, with her purchases as ticks.

    Parameters
    ----------
    history
        :func:`workbench.models.clv.diagnostics.p_alive_history` output (``t``, ``p_alive``,
        ``purchase``).
    """
    _require(history, ["t", "p_alive", "purchase"], "p_alive_history_chart")
    if history.height > MAX_ROWS:  # keep purchases, thin the rest
        k = math.ceil(history.height / MAX_ROWS) + 1
        history = history.with_row_index("_i").filter(
            pl.col("purchase") | (pl.col("_i") % k == 0)).drop("_i")
    x = alt.X("t:Q", title=f"{unit_label.capitalize()} since the first purchase")
    line = alt.Chart(history).mark_line(color=PREDICTED_COLOR, interpolate="step-after").encode(
        x=x, y=alt.Y("p_alive:Q", title="P(alive)", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("t:Q", title=unit_label, format=".1f"),
                 alt.Tooltip("p_alive:Q", title="P(alive)", format=".2f")])
    ticks = alt.Chart(history.filter(pl.col("purchase"))).mark_rule(
        color=MUTED, strokeDash=[3, 3]).encode(
        x=x, tooltip=[alt.Tooltip("t:Q", title="Purchase at", format=".1f")])
    who = f" of customer {customer}" if customer else ""
    layered = alt.LayerChart(layer=[ticks, line])
    return layered.properties(width=width, height=height, title=_title(
        title or f"P(alive) history{who}",
        subtitle or "Dashed lines: purchases; P(alive) falls while she is silent"))


def heterogeneity_chart(dists: pl.DataFrame, *, title: str | None = None,
                        subtitle: str | None = None, width: int = 220,
                        height: int = 170) -> alt.HConcatChart:
    """The fitted mixing densities side by side, each on its own scale, mean marked.

    Parameters
    ----------
    dists
        :func:`workbench.models.clv.diagnostics.heterogeneity_distributions` output.
    """
    _require(dists, ["quantity", "value", "density", "mean"], "heterogeneity_chart")
    panels = []
    for label in dists["quantity"].unique(maintain_order=True).to_list():
        part = dists.filter(pl.col("quantity") == label)
        area = alt.Chart(part).mark_area(opacity=0.35, color=PREDICTED_COLOR,
                                         line={"color": PREDICTED_COLOR}).encode(
            x=alt.X("value:Q", title=label),
            y=alt.Y("density:Q", title="Density"),
            tooltip=[alt.Tooltip("value:Q", format=".3g"),
                     alt.Tooltip("density:Q", format=".3g")])
        mean = alt.Chart(part.head(1)).mark_rule(color=ACTUAL_COLOR, strokeDash=[4, 3]).encode(
            x="mean:Q", tooltip=[alt.Tooltip("mean:Q", title="Mean", format=".3g")])
        panels.append(alt.LayerChart(layer=[area, mean]).properties(width=width, height=height))
    return alt.hconcat(*panels).properties(title=_title(
        title or "How customers differ: the fitted distributions",
        subtitle or "Dashed line: the mean"))


def interval_chart(frame: pl.DataFrame, *, label: str = "customer_id",
                   estimate: str = "clv", lower: str = "clv_lower", upper: str = "clv_upper",
                   value_title: str = "Predicted CLV", title: str | None = None,
                   subtitle: str | None = None, width: int = 420) -> alt.LayerChart:
    """Point estimates with interval bars, one row each (at most 5,000 rows, in order)."""
    _require(frame, [label, estimate, lower, upper], "interval_chart")
    df = frame.head(MAX_ROWS).with_columns(pl.col(label).cast(pl.String))
    y = alt.Y(f"{label}:N", sort=df[label].to_list(), title=None)
    bars = alt.Chart(df).mark_rule(color=MUTED, strokeWidth=2).encode(
        y=y, x=alt.X(f"{lower}:Q", title=value_title), x2=f"{upper}:Q")
    dots = alt.Chart(df).mark_point(filled=True, color=PREDICTED_COLOR).encode(
        y=y, x=f"{estimate}:Q",
        tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{estimate}:Q", format=",.2f"),
                 alt.Tooltip(f"{lower}:Q", format=",.2f"),
                 alt.Tooltip(f"{upper}:Q", format=",.2f")])
    layered = alt.LayerChart(layer=[bars, dots])
    return layered.properties(width=width, height=alt.Step(16), title=_title(
        title or f"{value_title} with its interval", subtitle))
