"""Segment migration between two as-of dates: a Sankey-style flow chart and a transition matrix.

The flow chart is drawn with plain Altair marks (Vega-Lite has no Sankey mark): the layout --
stacked segment blocks on the "from" and "to" sides and one ribbon per (from, to) pair, as thick
as its number of customers -- is computed here in Python and drawn as ``rect`` blocks, ``area``
ribbons (one area per flow, an S-shaped band between the two columns) and ``text`` labels.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from workbench.presentation.charts.theme import (
    HEAT_SCHEME,
    INK,
    MUTED,
    segment_order,
    segment_scale,
)

#: Points along each ribbon (the S-curve is sampled, then drawn as an area).
RIBBON_POINTS = 17
_X_FROM, _X_TO, _BLOCK = 0.0, 1.0, 0.045


def _require(frame: pl.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs column(s) {missing}; got {frame.columns}")


def _spread(centres: list[float], min_gap: float, low: float, high: float) -> list[float]:
    """Move label positions apart (keeping their order) so no two are closer than min_gap."""
    out = list(centres)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1] + min_gap)
    if out and out[-1] > high:
        out[-1] = high
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - min_gap)
    return [max(low, v) for v in out]


def flow_layout(matrix: pl.DataFrame, *, gap: float = 0.012,
                label_px: float = 15, height: int = 440) -> dict[str, pl.DataFrame]:
    """Positions of the blocks, ribbons and labels of :func:`migration_flow_chart`.

    Parameters
    ----------
    matrix
        ``segment_from``, ``segment_to``, ``customers``
        (:func:`workbench.analyses.migration.migration_matrix`).
    gap
        Space between two blocks, as a share of all customers.
    label_px, height
        Minimum label spacing and chart height in pixels (labels are moved apart to not
        overlap).

    Returns
    -------
    dict of polars.DataFrame
        ``blocks`` (side, segment, customers, y0, y1), ``ribbons`` (flow, segment_from,
        segment_to, customers, share_of_from, x, top, bottom) and ``labels`` (side, segment,
        customers, x, y, text, align); y runs downwards from 0 to ``extent``.

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({"segment_from": ["Loyal", "Loyal"], "segment_to": ["Loyal", "Lost"],
    ...                   "customers": [3, 1]})
    >>> flow_layout(m)["blocks"]["customers"].to_list()
    [4, 3, 1]
    """
    # long: one Sankey layout computed in order (nodes, columns, link positions); the steps share
    # many local arrays
    m = (matrix.select("segment_from", "segment_to", pl.col("customers").cast(pl.Int64))
         .filter(pl.col("customers") > 0))
    total = int(m["customers"].sum() or 0)
    left = segment_order(m["segment_from"].unique().to_list())
    right = segment_order(m["segment_to"].unique().to_list())
    pad = max(total, 1) * gap
    extent = max(total, 1) + pad * max(len(left), len(right), 1)

    def stack(order: list[str], col: str) -> dict[str, tuple[float, int]]:
        sizes = dict(m.group_by(col).agg(pl.col("customers").sum()).iter_rows())
        used = sum(sizes[s] for s in order) + pad * (len(order) - 1)
        y = (extent - used) / 2  # centre the shorter column
        out = {}
        for s in order:
            out[s] = (y, sizes[s])
            y += sizes[s] + pad
        return out

    lpos, rpos = stack(left, "segment_from"), stack(right, "segment_to")
    lrank, rrank = {s: i for i, s in enumerate(left)}, {s: i for i, s in enumerate(right)}
    flows = m.to_dicts()
    l_off = {s: lpos[s][0] for s in left}
    bands: dict[tuple[str, str], list[float]] = {}
    for f in sorted(flows, key=lambda f: (lrank[f["segment_from"]], rrank[f["segment_to"]])):
        y0 = l_off[f["segment_from"]]
        bands[(f["segment_from"], f["segment_to"])] = [y0, y0 + f["customers"]]
        l_off[f["segment_from"]] = y0 + f["customers"]
    r_off = {s: rpos[s][0] for s in right}
    for f in sorted(flows, key=lambda f: (rrank[f["segment_to"]], lrank[f["segment_from"]])):
        y0 = r_off[f["segment_to"]]
        bands[(f["segment_from"], f["segment_to"])] += [y0, y0 + f["customers"]]
        r_off[f["segment_to"]] = y0 + f["customers"]

    from_totals = {s: lpos[s][1] for s in left}
    rows = []
    x_start, x_end = _X_FROM + _BLOCK / 2, _X_TO - _BLOCK / 2
    for i, f in enumerate(sorted(flows, key=lambda f: (lrank[f["segment_from"]],
                                                        rrank[f["segment_to"]]))):
        ly0, ly1, ry0, ry1 = bands[(f["segment_from"], f["segment_to"])]
        for k in range(RIBBON_POINTS):
            t = k / (RIBBON_POINTS - 1)
            ease = t * t * (3 - 2 * t)  # smoothstep: horizontal at both ends
            rows.append({"flow": i, "segment_from": f["segment_from"],
                         "segment_to": f["segment_to"], "customers": f["customers"],
                         "share_of_from": f["customers"] / from_totals[f["segment_from"]],
                         "x": x_start + t * (x_end - x_start),
                         "top": ly0 + ease * (ry0 - ly0), "bottom": ly1 + ease * (ry1 - ly1)})
    ribbons = pl.DataFrame(rows, schema={"flow": pl.Int64, "segment_from": pl.String,
                                         "segment_to": pl.String, "customers": pl.Int64,
                                         "share_of_from": pl.Float64, "x": pl.Float64,
                                         "top": pl.Float64, "bottom": pl.Float64})
    blocks, labels = [], []
    min_gap = extent * label_px / height
    for side, order, pos, x, align in (("from", left, lpos, _X_FROM - _BLOCK, "right"),
                                       ("to", right, rpos, _X_TO + _BLOCK, "left")):
        for s in order:
            y0, n = pos[s]
            blocks.append({"side": side, "segment": s, "customers": n, "y0": y0, "y1": y0 + n,
                           "x0": (_X_FROM if side == "from" else _X_TO) - _BLOCK / 2,
                           "x1": (_X_FROM if side == "from" else _X_TO) + _BLOCK / 2})
        ys = _spread([pos[s][0] + pos[s][1] / 2 for s in order], min_gap, min_gap / 2,
                     extent - min_gap / 2)
        for s, y in zip(order, ys, strict=True):
            labels.append({"side": side, "segment": s, "customers": pos[s][1], "x": x, "y": y,
                           "text": f"{s}  {pos[s][1]:,}", "align": align})
    return {"blocks": pl.DataFrame(blocks), "ribbons": ribbons, "labels": pl.DataFrame(labels),
            "extent": pl.DataFrame({"extent": [extent]})}


def migration_flow_chart(
    matrix: pl.DataFrame,
    *,
    from_label: str = "Before",
    to_label: str = "Now",
    title: str = "Segment migration",
    subtitle: str | None = None,
    width: int = 720,
    height: int = 440,
) -> alt.LayerChart:
    """Sankey-style flows of customers from their earlier segment to their current one.

    Left column: segments at the earlier date (``"No purchase yet"`` = customers new since
    then); right column: segments now.  Each ribbon's thickness is proportional to its
    customers; ribbons take the colour of the segment they leave, so a segment "bleeding" into
    worse segments shows at a glance.  Hover a ribbon for the customers and the share of its
    origin segment.

    Parameters
    ----------
    matrix
        :func:`workbench.analyses.migration.migration_matrix` output: ``segment_from``,
        ``segment_to``, ``customers`` (``share_of_from`` is recomputed).
    from_label, to_label
        Column headings, e.g. the two as-of dates.
    title, subtitle
        Chart title and subtitle.
    width, height
        Plot size in pixels.

    Returns
    -------
    altair.LayerChart
        Ribbons (``area``), blocks (``rect``), labels and headings (``text``).

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({"segment_from": ["Loyal", "Loyal", "No purchase yet"],
    ...                   "segment_to": ["Loyal", "Lost", "New Customers"],
    ...                   "customers": [30, 10, 5]})
    >>> [layer["mark"]["type"] for layer in migration_flow_chart(m).to_dict()["layer"]]
    ['area', 'rect', 'text', 'text', 'text']
    """
    _require(matrix, ["segment_from", "segment_to", "customers"], "migration_flow_chart")
    lay = flow_layout(matrix, height=height)
    extent = float(lay["extent"]["extent"][0])
    head = extent * 26 / height
    segments = sorted(set(lay["blocks"]["segment"].to_list()) if lay["blocks"].height else [])
    color = alt.Color("segment_from:N", scale=segment_scale(segments), legend=None)
    xs = alt.Scale(domain=[-0.55, 1.55], nice=False, zero=False)
    ys = alt.Scale(domain=[-head, extent], nice=False, zero=False, reverse=True)
    x = alt.X("x:Q", scale=xs, axis=None)
    ribbons = alt.Chart(lay["ribbons"]).mark_area(opacity=0.42, orient="vertical",
                                                  interpolate="monotone").encode(
        x=x, y=alt.Y("top:Q", scale=ys, axis=None), y2="bottom:Q",
        detail="flow:N", color=color,
        tooltip=[alt.Tooltip("segment_from:N", title="From"),
                 alt.Tooltip("segment_to:N", title="To"),
                 alt.Tooltip("customers:Q", title="Customers", format=","),
                 alt.Tooltip("share_of_from:Q", title="Share of 'from' segment",
                             format=".1%")])
    blocks = alt.Chart(lay["blocks"]).mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("x0:Q", scale=xs, axis=None), x2="x1:Q",
        y=alt.Y("y0:Q", scale=ys, axis=None), y2="y1:Q",
        color=alt.Color("segment:N", scale=segment_scale(segments), legend=None),
        tooltip=[alt.Tooltip("segment:N", title="Segment"),
                 alt.Tooltip("side:N", title="Side"),
                 alt.Tooltip("customers:Q", title="Customers", format=",")])
    label_base = alt.Chart(lay["labels"]).encode(
        x=x, y=alt.Y("y:Q", scale=ys, axis=None), text="text:N",
        tooltip=[alt.Tooltip("segment:N", title="Segment"),
                 alt.Tooltip("customers:Q", title="Customers", format=",")])
    left_labels = label_base.mark_text(fontSize=11, color=INK, baseline="middle",
                                       align="right").transform_filter(alt.datum.side == "from")
    right_labels = label_base.mark_text(fontSize=11, color=INK, baseline="middle",
                                        align="left").transform_filter(alt.datum.side == "to")
    heads = pl.DataFrame({"x": [_X_FROM, _X_TO], "y": [-head * 0.6] * 2,
                          "text": [from_label, to_label]})
    headings = alt.Chart(heads).mark_text(fontSize=12, fontWeight=600, color=MUTED,
                                          baseline="middle").encode(
        x=x, y=alt.Y("y:Q", scale=ys, axis=None), text="text:N")
    props = {"title": alt.Title(title, subtitle=subtitle) if subtitle else title}
    layered = alt.LayerChart(layer=[ribbons, blocks, left_labels, right_labels, headings])
    return layered.properties(
        width=width, height=height, **props)


def migration_heatmap(
    matrix: pl.DataFrame,
    *,
    title: str = "Transition matrix",
    subtitle: str | None = "Row share: where the customers of each earlier segment went",
    cell: int = 34,
) -> alt.LayerChart:
    """Customers per (earlier segment, current segment) pair as a shaded matrix.

    Rows are the earlier segments, columns the current ones, both in segment order (best first)
    so the diagonal holds the customers who stayed.  Shading is the row share (where each
    segment's customers went), text the number of customers.

    Parameters
    ----------
    matrix
        :func:`workbench.analyses.migration.migration_matrix` output: ``segment_from``,
        ``segment_to``, ``customers`` (``share_of_from`` is recomputed).
    title, subtitle
        Chart title and subtitle.
    cell
        Cell size in pixels.

    Returns
    -------
    altair.LayerChart
        Layered rect + text chart.

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({"segment_from": ["Loyal", "Loyal"], "segment_to": ["Loyal", "Lost"],
    ...                   "customers": [3, 1]})
    >>> migration_heatmap(m).to_dict()["layer"][0]["encoding"]["color"]["field"]
    'share_of_from'
    """
    _require(matrix, ["segment_from", "segment_to", "customers"], "migration_heatmap")
    data = matrix.select("segment_from", "segment_to", pl.col("customers").cast(pl.Int64))
    data = data.with_columns(
        (pl.col("customers") / pl.col("customers").sum().over("segment_from").clip(lower_bound=1))
        .alias("share_of_from"))
    rows = segment_order(data["segment_from"].unique().to_list())
    cols = segment_order(data["segment_to"].unique().to_list())
    base = alt.Chart(data).encode(
        x=alt.X("segment_to:N", sort=cols, title="Segment now",
                axis=alt.Axis(labelAngle=-40, ticks=False, domain=False, orient="top")),
        y=alt.Y("segment_from:N", sort=rows, title="Segment before",
                axis=alt.Axis(ticks=False, domain=False)),
    )
    rects = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
        color=alt.Color("share_of_from:Q", title="Share of row",
                        scale=alt.Scale(scheme=HEAT_SCHEME, domain=[0, 1]),
                        legend=alt.Legend(format="%", orient="right")),
        tooltip=[alt.Tooltip("segment_from:N", title="From"),
                 alt.Tooltip("segment_to:N", title="To"),
                 alt.Tooltip("customers:Q", title="Customers", format=","),
                 alt.Tooltip("share_of_from:Q", title="Share of 'from' segment", format=".1%")])
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("customers:Q", format=","),
        color=alt.when(alt.datum.share_of_from > 0.55).then(alt.value("white"))
        .otherwise(alt.value(INK)))
    props = {"title": alt.Title(title, subtitle=subtitle) if subtitle else title}
    return (rects + text).properties(width=alt.Step(cell), height=alt.Step(cell * 0.75),
                                     **props)
