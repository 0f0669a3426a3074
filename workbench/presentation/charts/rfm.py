"""Charts of RFM segments: segment distribution and the R x F score grid.

Frames in, ``alt.Chart`` out: no I/O, no renderer choice (see
:mod:`workbench.presentation.charts.theme`).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from workbench.presentation.charts._scalars import column_max
from workbench.presentation.charts.theme import CUSTOMERS_COLOR, HEAT_SCHEME, INK, REVENUE_COLOR

_MEASURES = {"customer_share": "Customers", "revenue_share": "Revenue"}


def _require(frame: pl.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs column(s) {missing}; got {frame.columns}")


def segment_chart(
    table: pl.DataFrame,
    *,
    sort_by: str = "revenue_share",
    title: str = "Segments: share of customers and of revenue",
    subtitle: str | None = None,
    width: int = 440,
) -> alt.LayerChart:
    """Customer share beside revenue share for every segment, as paired horizontal bars.

    Segments are sorted by ``sort_by`` (largest first), so the segments that carry the business
    are at the top; a segment whose revenue bar is longer than its customer bar is worth more
    than its head count.  Each bar is labelled with its share; the tooltip adds customers and
    revenue.

    Parameters
    ----------
    table
        :func:`workbench.analyses.rfm.segment_table` output: ``segment``, ``customers``,
        ``revenue``, ``customer_share``, ``revenue_share`` (shares 0-1).
    sort_by
        Column the segments are ordered by, descending.
    title, subtitle
        Chart title and optional subtitle (e.g. the as-of date).
    width
        Width of the plot in pixels; the height follows the number of segments.

    Returns
    -------
    altair.LayerChart
        A layered bar + text chart; data in long form (``segment``, ``measure``, ``share``).

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"segment": ["Champions", "Lost"], "customers": [20, 80],
    ...                   "revenue": [900.0, 100.0], "customer_share": [0.2, 0.8],
    ...                   "revenue_share": [0.9, 0.1]})
    >>> segment_chart(t).to_dict()["layer"][0]["mark"]["type"]
    'bar'
    """
    _require(table, ["segment", "customers", "revenue", "customer_share", "revenue_share"],
             "segment_chart")
    if sort_by not in table.columns:
        raise ValueError(f"sort_by {sort_by!r} is not a column of the table")
    ordered = table.sort(sort_by, descending=True, nulls_last=True)
    order = ordered["segment"].to_list()
    long = (
        ordered.select("segment", "customers", "revenue", *_MEASURES)
        .unpivot(index=["segment", "customers", "revenue"], on=list(_MEASURES),
                 variable_name="measure", value_name="share")
        .with_columns(pl.col("measure").replace_strict(_MEASURES),
                      pl.col("share").fill_null(0.0))
    )
    y = alt.Y("segment:N", sort=order, title=None,
              axis=alt.Axis(labelFontSize=12, labelColor=INK, ticks=False, domain=False))
    x_max = max(0.05, float(column_max(long["share"]) or 0) * 1.15)
    base = alt.Chart(long).encode(
        y=y,
        yOffset=alt.YOffset("measure:N", sort=list(_MEASURES.values())),
        x=alt.X("share:Q", title="Share of total", axis=alt.Axis(format="%", tickCount=5),
                scale=alt.Scale(domain=[0, x_max])),
    )
    bars = base.mark_bar(height={"band": 0.9}).encode(
        color=alt.Color("measure:N", title=None,
                        scale=alt.Scale(domain=list(_MEASURES.values()),
                                        range=[CUSTOMERS_COLOR, REVENUE_COLOR])),
        tooltip=[alt.Tooltip("segment:N", title="Segment"),
                 alt.Tooltip("measure:N", title="Share of"),
                 alt.Tooltip("share:Q", title="Share", format=".1%"),
                 alt.Tooltip("customers:Q", title="Customers", format=","),
                 alt.Tooltip("revenue:Q", title="Revenue", format="$,.0f")],
    )
    labels = base.mark_text(align="left", dx=3, fontSize=10, color=INK).encode(
        text=alt.Text("share:Q", format=".0%"))
    props = {"title": alt.Title(title, subtitle=subtitle) if subtitle else title}
    return (bars + labels).properties(width=width, height=alt.Step(12), **props)


def rf_heatmap(
    cells: pl.DataFrame,
    *,
    title: str = "Customers by recency and frequency score",
    subtitle: str | None = "5 = most recent / most frequent",
    size: int = 250,
) -> alt.LayerChart:
    """The 5 x 5 grid of recency (rows) and frequency (columns) scores, shaded by customers.

    Every cell shows its number of customers (zeros included, so the grid is complete); the
    tooltip adds the mean and total spend of the cell's customers.  Recency 5 (most recent) is
    the top row and frequency 5 the right column, so the best customers sit top right.

    Parameters
    ----------
    cells
        :func:`workbench.analyses.rfm.cell_counts` output with ``by=("R", "F")``: ``R``, ``F``,
        ``customers``, ``monetary`` (summed spend of the cell).
    title, subtitle
        Chart title and subtitle.
    size
        Width and height of the grid in pixels.

    Returns
    -------
    altair.LayerChart
        Layered rect + text chart; the data carry ``mean_value`` (monetary / customers).

    Examples
    --------
    >>> import polars as pl
    >>> c = pl.DataFrame({"R": [1, 5], "F": [1, 5], "customers": [3, 0],
    ...                   "monetary": [30.0, 0.0]})
    >>> rf_heatmap(c).to_dict()["layer"][1]["mark"]["type"]
    'text'
    """
    _require(cells, ["R", "F", "customers", "monetary"], "rf_heatmap")
    data = cells.with_columns(
        pl.col("R").cast(pl.Int64), pl.col("F").cast(pl.Int64),
        pl.when(pl.col("customers") > 0).then(pl.col("monetary") / pl.col("customers"))
        .alias("mean_value"),
        (pl.col("customers") / pl.col("customers").sum().clip(lower_bound=1)).alias("share"),
    )
    peak = float(column_max(data["customers"]) or 0)
    base = alt.Chart(data).encode(
        x=alt.X("F:O", title="Frequency score", sort="ascending",
                axis=alt.Axis(labelAngle=0, ticks=False, domain=False)),
        y=alt.Y("R:O", title="Recency score", sort="descending",
                axis=alt.Axis(ticks=False, domain=False)),
    )
    rects = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("customers:Q", title="Customers",
                        scale=alt.Scale(scheme=HEAT_SCHEME, domainMin=0), legend=None),
        tooltip=[alt.Tooltip("R:O", title="Recency score"),
                 alt.Tooltip("F:O", title="Frequency score"),
                 alt.Tooltip("customers:Q", title="Customers", format=","),
                 alt.Tooltip("share:Q", title="Share of customers", format=".1%"),
                 alt.Tooltip("mean_value:Q", title="Mean spend", format="$,.0f"),
                 alt.Tooltip("monetary:Q", title="Total spend", format="$,.0f")],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("customers:Q", format=","),
        color=alt.when(alt.datum.customers > peak * 0.55).then(alt.value("white"))
        .otherwise(alt.value(INK)),
    )
    props = {"title": alt.Title(title, subtitle=subtitle) if subtitle else title}
    return (rects + text).properties(width=size, height=size, **props)
