"""Charts of customer lifetime value (:mod:`workbench.models.clv`).

Frames in, ``alt.Chart`` out: every function aggregates in Polars first and hands Altair a
small frame (a few hundred rows at most, always below Altair's 5,000-row limit), so the charts
stay light in Voilà (``alt.JupyterChart``) and in the reports (the svg renderer).  No I/O, no
renderer choice (see :mod:`workbench.presentation.charts.theme`).

* :func:`clv_distribution_chart`: customers and predicted value per CLV band on a 1-2-5
  (logarithmic) binning (:func:`clv_bins`);
* :func:`clv_segment_chart`: total and mean predicted CLV per segment beside historical value;
* :func:`holdout_frequency_chart`: actual vs predicted holdout purchases by calibration
  frequency (Fader, Hardie & Lee 2005, Figure 4);
* :func:`tracking_chart`: cumulative or per-period repeat purchases, actual vs expected
  (FHL 2005, Figures 2-3);
* :func:`p_alive_heatmap`: P(alive) over frequency x recency;
* :func:`at_risk_chart`: value at stake of the at-risk list.
"""

from __future__ import annotations

import math

import altair as alt
import polars as pl

from workbench.presentation.charts._scalars import column_max
from workbench.presentation.charts.theme import ACCENT, CUSTOMERS_COLOR, INK, MUTED, REVENUE_COLOR

#: Largest frame handed to Altair (its MaxRowsError limit).
MAX_ROWS = 5000
ACTUAL_COLOR = INK
PREDICTED_COLOR = REVENUE_COLOR


def _require(frame: pl.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs column(s) {missing}; got {frame.columns}")


def _title(title: str, subtitle: str | None) -> alt.Title | str:
    return alt.Title(title, subtitle=subtitle) if subtitle else title


def _money(v: float) -> str:
    """Short currency label: 1-2-5 bin edges and tile values.

    Examples
    --------
    >>> _money(0.5), _money(20), _money(5000), _money(2_000_000)
    ('0.5', '20', '5k', '2M')
    """
    for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            return f"{v / limit:g}{suffix}"
    return f"{v:g}"


def _nice_edges(low: float, high: float) -> list[float]:
    """1-2-5 numbers from the largest one <= ``low`` to the first one > ``high``."""
    low = max(low, 1e-9)
    exp = math.floor(math.log10(low))
    edges: list[float] = []
    while True:
        for m in (1, 2, 5):
            e = float(f"{m}e{exp}")
            if e <= low and (not edges or e > edges[0]):
                edges = [e]
            elif e > low:
                edges.append(e)
                if e > high:
                    return edges
        exp += 1


def clv_bins(table: pl.DataFrame, column: str = "clv", min_share: float = 0.05,
             max_bands: int = 12) -> pl.DataFrame:
    """Customers and value per band of ``column`` on a 1-2-5 (logarithmic) binning.

    CLV is very skewed (most customers are worth little, a few a lot), so equal-width bins
    hide everything but the first.  Band edges are 0 and then the 1-2-5 sequence (1, 2, 5, 10,
    20, 50, ...) from the largest such number at or below the ``min_share`` quantile of the
    positive values up to the maximum, keeping the top ``max_bands - 1`` positive edges when
    there would be more bands; bands are ``[lower, upper)``.  Nulls are left out.

    Parameters
    ----------
    table
        Frame with a numeric ``column`` (e.g. :func:`workbench.models.clv.fit_clv` ``table``).
    column
        Value to bin (currency).
    min_share
        Quantile of the positive values where the first positive edge is placed.
    max_bands
        Most bands (the lowest band then starts at 0 and is wider).

    Returns
    -------
    polars.DataFrame
        ``band`` (label, e.g. ``"10-20"``), ``order`` (0, 1, ...), ``lower``, ``upper``,
        ``customers``, ``value`` (sum), ``customer_share``, ``value_share``; every band from
        the first to the last edge, empty ones included.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"clv": [0.5, 1.5, 3.0, 30.0, 40.0]})
    >>> clv_bins(t, min_share=0.0).select("band", "customers").rows()
    [('0-0.5', 0), ('0.5-1', 1), ('1-2', 1), ('2-5', 1), ('5-10', 0), ('10-20', 0), ('20-50', 2)]
    """
    _require(table, [column], "clv_bins")
    if max_bands < 2:
        raise ValueError(f"max_bands must be >= 2, got {max_bands!r}")
    values = table.select(pl.col(column).cast(pl.Float64)).to_series().drop_nulls().drop_nans()
    positive = values.filter(values > 0)
    if positive.len() == 0:
        edges = [0.0, 1.0]
    else:
        low, high = positive.quantile(min_share, interpolation="lower"), column_max(positive)
        # ``positive`` is not empty and has no nulls (dropped above), so both exist
        assert low is not None and high is not None
        edges = [0.0, *_nice_edges(float(low), float(high))[-max(max_bands, 2):]]
    uppers = edges[1:]
    labels = [f"{_money(lo)}-{_money(hi)}" for lo, hi in zip(edges[:-1], uppers, strict=True)]
    idx = pl.Series(uppers).search_sorted(values, side="right")
    frame = pl.DataFrame({"order": idx.cast(pl.Int64), "value": values}).with_columns(
        pl.col("order").clip(upper_bound=len(uppers) - 1))
    agg = frame.group_by("order").agg(pl.len().cast(pl.Int64).alias("customers"),
                                      pl.col("value").sum())
    bands = pl.DataFrame({"band": labels, "order": list(range(len(labels))),
                          "lower": edges[:-1], "upper": uppers},
                         schema={"band": pl.String, "order": pl.Int64, "lower": pl.Float64,
                                 "upper": pl.Float64})
    out = bands.join(agg, on="order", how="left").with_columns(
        pl.col("customers").fill_null(0), pl.col("value").fill_null(0.0)).sort("order")
    n, total = max(int(out["customers"].sum()), 1), float(out["value"].sum())
    return out.with_columns(
        (pl.col("customers") / n).alias("customer_share"),
        (pl.col("value") / total if total > 0 else pl.lit(0.0)).alias("value_share"))


def clv_distribution_chart(
    table: pl.DataFrame,
    column: str = "clv",
    *,
    title: str = "Distribution of predicted customer value",
    subtitle: str | None = "Share of customers and of total predicted value per CLV band",
    value_label: str = "Predicted value",
    width: int = 460,
    height: int = 220,
) -> alt.LayerChart:
    """Share of customers beside share of predicted value per CLV band (:func:`clv_bins`).

    The grey bars show where the customers are, the blue bars where the value is: with a
    skewed base the customers crowd the low bands while the value sits in the top ones.

    Parameters
    ----------
    table
        Per-customer frame with ``column`` (e.g. the ``table`` of
        :func:`workbench.models.clv.fit_clv`).
    column
        The value (currency).
    title, subtitle
        Chart title and subtitle.
    value_label
        Legend label of the value bars.
    width, height
        Plot size in pixels.

    Returns
    -------
    altair.LayerChart
        Bars (x: ``band``, x offset: measure) and share labels; data in long form.

    Examples
    --------
    >>> import polars as pl
    >>> chart = clv_distribution_chart(pl.DataFrame({"clv": [1.0, 5.0, 50.0]}))
    >>> chart.to_dict()["layer"][0]["encoding"]["x"]["field"]
    'band'
    """
    bins = clv_bins(table, column)
    measures = {"customer_share": "Customers", "value_share": value_label}
    long = (bins.unpivot(index=["band", "order", "lower", "upper", "customers", "value"],
                         on=list(measures), variable_name="measure", value_name="share")
            .with_columns(pl.col("measure").replace_strict(measures)))
    order = bins["band"].to_list()
    base = alt.Chart(long).encode(
        x=alt.X("band:N", sort=order, title=f"{value_label} per customer (band)",
                axis=alt.Axis(labelAngle=-35 if bins.height > 8 else 0, labelFontSize=10)),
        xOffset=alt.XOffset("measure:N", sort=list(measures.values())),
        y=alt.Y("share:Q", title="Share of total", axis=alt.Axis(format="%", tickCount=5)),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("measure:N", title=None,
                        scale=alt.Scale(domain=list(measures.values()),
                                        range=[CUSTOMERS_COLOR, REVENUE_COLOR])),
        tooltip=[alt.Tooltip("band:N", title="Band"),
                 alt.Tooltip("measure:N", title="Share of"),
                 alt.Tooltip("share:Q", title="Share", format=".1%"),
                 alt.Tooltip("customers:Q", title="Customers", format=","),
                 alt.Tooltip("value:Q", title=value_label, format="$,.0f")],
    )
    labels = base.mark_text(dy=-5, fontSize=9, color=MUTED).encode(
        text=alt.Text("share:Q", format=".0%"))
    return (bars + labels).properties(width=width, height=height,
                                      title=_title(title, subtitle))


def clv_segment_chart(
    by_segment: pl.DataFrame,
    *,
    historical: str = "auto",
    title: str = "Predicted value by segment",
    subtitle: str | None = None,
    width: int = 230,
) -> alt.HConcatChart:
    """Total (left) and mean per customer (right) predicted CLV per segment beside history.

    Parameters
    ----------
    by_segment
        :func:`workbench.models.clv.clv_by_segment` output.
    historical
        ``"profit"`` (historical profit to date, comparable with a margin CLV),
        ``"revenue"`` (revenue to date) or ``"auto"`` (profit when known, else revenue).
    title, subtitle
        Chart title and subtitle.
    width
        Width of each of the two panels in pixels; the height follows the segments.

    Returns
    -------
    altair.HConcatChart
        Two bar charts (segments in rows, predicted and historical as paired bars); data in
        long form: ``segment``, ``measure``, ``kind`` (``total`` / ``mean``), ``amount``.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"segment": ["Champions", "Lost"], "customers": [2, 8],
    ...     "predicted_total": [90.0, 10.0], "predicted_mean": [45.0, 1.25],
    ...     "historical_total": [300.0, 200.0], "historical_mean": [150.0, 25.0],
    ...     "profit_total": [None, None], "profit_mean": [None, None]})
    >>> len(clv_segment_chart(t).to_dict()["hconcat"])
    2
    """
    _require(by_segment, ["segment", "customers", "predicted_total", "predicted_mean",
                          "historical_total", "historical_mean"], "clv_segment_chart")
    if historical not in ("auto", "profit", "revenue"):
        raise ValueError(f"historical must be 'auto', 'profit' or 'revenue', got {historical!r}")
    has_profit = ("profit_total" in by_segment.columns
                  and by_segment["profit_total"].null_count() < by_segment.height)
    use_profit = historical == "profit" or (historical == "auto" and has_profit)
    if use_profit and not has_profit:
        raise ValueError("historical='profit' needs profit_total (cost data)")
    h_total, h_mean = ("profit_total", "profit_mean") if use_profit else (
        "historical_total", "historical_mean")
    pred_label = "Predicted CLV"
    hist_label = "Historical profit" if use_profit else "Historical revenue"
    order = by_segment.sort("predicted_total", descending=True, nulls_last=True)["segment"]
    rows = []
    for kind, pred, hist in (("total", "predicted_total", h_total),
                             ("mean", "predicted_mean", h_mean)):
        for label, col in ((pred_label, pred), (hist_label, hist)):
            rows.append(by_segment.select(
                "segment", "customers", pl.lit(label).alias("measure"), pl.lit(kind).alias("kind"),
                pl.col(col).cast(pl.Float64).fill_null(0.0).alias("amount")))
    long = pl.concat(rows)
    measures = [pred_label, hist_label]
    color = alt.Color("measure:N", title=None,
                      scale=alt.Scale(domain=measures, range=[REVENUE_COLOR, CUSTOMERS_COLOR]))

    def panel(kind: str, heading: str, show_labels: bool) -> alt.Chart:
        axis = (alt.Axis(labelFontSize=12, labelColor=INK, ticks=False, domain=False)
                if show_labels else None)
        return alt.Chart(long.filter(pl.col("kind") == kind)).mark_bar(
            height={"band": 0.9}).encode(
            y=alt.Y("segment:N", sort=order.to_list(), title=None, axis=axis),
            yOffset=alt.YOffset("measure:N", sort=measures),
            x=alt.X("amount:Q", title=heading, axis=alt.Axis(format="$~s", tickCount=4)),
            color=color,
            tooltip=[alt.Tooltip("segment:N", title="Segment"),
                     alt.Tooltip("measure:N", title="Measure"),
                     alt.Tooltip("amount:Q", title=heading, format="$,.0f"),
                     alt.Tooltip("customers:Q", title="Customers", format=",")],
        ).properties(width=width, height=alt.Step(11))

    return alt.hconcat(panel("total", "Total", True), panel("mean", "Per customer", False),
                       spacing=16).properties(title=_title(title, subtitle))


def holdout_frequency_chart(
    by_frequency: pl.DataFrame,
    *,
    title: str = "Holdout check: purchases per customer by calibration frequency",
    subtitle: str | None = "Actual vs predicted mean purchases in the holdout period",
    width: int = 420,
    height: int = 240,
) -> alt.LayerChart:
    """Actual vs predicted mean holdout purchases per calibration-frequency bucket.

    Fader, Hardie & Lee (2005), Figure 4: the model is fitted on the calibration period and
    predicts each customer's purchases in the holdout period; the lines should lie close.

    Parameters
    ----------
    by_frequency
        :func:`workbench.models.clv.holdout_by_frequency` output.

    Returns
    -------
    altair.LayerChart
        Lines with points, ``frequency_bucket`` on x (in the frame's order), ``measure``
        (``Actual`` / ``Predicted``) in colour.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"frequency_bucket": ["0", "1+"], "customers": [5, 3],
    ...                   "actual_mean": [0.2, 1.5], "predicted_mean": [0.25, 1.4]})
    >>> holdout_frequency_chart(t).to_dict()["layer"][0]["mark"]["type"]
    'line'
    """
    _require(by_frequency, ["frequency_bucket", "customers", "actual_mean", "predicted_mean"],
             "holdout_frequency_chart")
    order = by_frequency["frequency_bucket"].to_list()
    long = (by_frequency.select("frequency_bucket", "customers", "actual_mean", "predicted_mean")
            .unpivot(index=["frequency_bucket", "customers"], variable_name="measure",
                     value_name="purchases")
            .with_columns(pl.col("measure").replace_strict({"actual_mean": "Actual",
                                                            "predicted_mean": "Predicted"})))
    base = alt.Chart(long).encode(
        x=alt.X("frequency_bucket:O", sort=order, title="Repeat purchases in calibration",
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("purchases:Q", title="Mean purchases in holdout"),
        color=alt.Color("measure:N", title=None, scale=alt.Scale(
            domain=["Actual", "Predicted"], range=[ACTUAL_COLOR, PREDICTED_COLOR])),
        strokeDash=alt.StrokeDash("measure:N", title=None, scale=alt.Scale(
            domain=["Actual", "Predicted"], range=[[1, 0], [5, 3]])),
        tooltip=[alt.Tooltip("frequency_bucket:O", title="Calibration frequency"),
                 alt.Tooltip("measure:N", title="Measure"),
                 alt.Tooltip("purchases:Q", title="Mean purchases", format=".3f"),
                 alt.Tooltip("customers:Q", title="Customers", format=",")],
    )
    return (base.mark_line() + base.mark_point(filled=True, size=45)).properties(
        width=width, height=height, title=_title(title, subtitle))


def tracking_chart(
    track: pl.DataFrame,
    *,
    cumulative: bool = True,
    title: str | None = None,
    subtitle: str | None = "The dashed line marks the end of the calibration period",
    width: int = 520,
    height: int = 240,
) -> alt.LayerChart:
    """Repeat purchases of the cohort per period or cumulated, actual vs expected.

    Fader, Hardie & Lee (2005), Figures 2 (weekly) and 3 (cumulative); a vertical dashed rule
    marks the start of the holdout period.

    Parameters
    ----------
    track
        :func:`workbench.models.clv.tracking` output (``period_start``, ``actual``, ``expected``,
        ``actual_cumulative``, ``expected_cumulative``, ``holdout``).
    cumulative
        Cumulative totals (default) or purchases per period.

    Returns
    -------
    altair.LayerChart
        Lines (``measure``: ``Actual`` / ``Expected``) over ``period_start`` and the rule.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = pl.DataFrame({"period_start": [dt.date(2024, 1, 1), dt.date(2024, 1, 8)],
    ...     "actual": [1.0, 2.0], "expected": [1.2, 1.8], "actual_cumulative": [1.0, 3.0],
    ...     "expected_cumulative": [1.2, 3.0], "holdout": [False, True]})
    >>> tracking_chart(t).to_dict()["layer"][0]["mark"]["type"]
    'line'
    """
    _require(track, ["period_start", "actual", "expected", "actual_cumulative",
                     "expected_cumulative", "holdout"], "tracking_chart")
    if track.height > MAX_ROWS // 2:
        raise ValueError(f"tracking_chart: {track.height} periods; use a coarser unit")
    a, e = ("actual_cumulative", "expected_cumulative") if cumulative else ("actual", "expected")
    long = (track.select("period_start", pl.col(a).alias("Actual"), pl.col(e).alias("Expected"))
            .unpivot(index="period_start", variable_name="measure", value_name="purchases"))
    what = "Cumulative repeat purchases" if cumulative else "Repeat purchases per period"
    base = alt.Chart(long).encode(
        x=alt.X("period_start:T", title=None),
        y=alt.Y("purchases:Q", title=what),
        color=alt.Color("measure:N", title=None, scale=alt.Scale(
            domain=["Actual", "Expected"], range=[ACTUAL_COLOR, PREDICTED_COLOR])),
        strokeDash=alt.StrokeDash("measure:N", title=None, scale=alt.Scale(
            domain=["Actual", "Expected"], range=[[1, 0], [5, 3]])),
        tooltip=[alt.Tooltip("period_start:T", title="Period from"),
                 alt.Tooltip("measure:N", title="Measure"),
                 alt.Tooltip("purchases:Q", title=what, format=",.1f")],
    )
    layers: list[alt.Chart] = [base.mark_line(strokeWidth=1.8)]
    holdout = track.filter(pl.col("holdout"))
    if holdout.height:
        start = holdout.select(pl.col("period_start").min()).rename({"period_start": "start"})
        layers.append(alt.Chart(start).mark_rule(strokeDash=[4, 3], color=MUTED).encode(
            x="start:T", tooltip=[alt.Tooltip("start:T", title="Holdout from")]))
    return alt.LayerChart(layer=layers).properties(
        width=width, height=height,
        title=_title(title or f"Tracking: {what.lower()}, actual vs expected", subtitle))


def p_alive_heatmap(
    matrix: pl.DataFrame,
    *,
    title: str = "P(alive) by frequency and recency",
    subtitle: str | None = None,
    unit_label: str = "weeks",
    max_cells: int = 1000,
    width: int = 420,
    height: int = 260,
) -> alt.Chart:
    """P(alive) over a frequency x recency grid (red = probably gone, green = alive).

    For a fixed customer age ``T``, P(alive) falls as the last purchase lies further back
    (low recency) and falls faster for frequent buyers, whose silence means more.

    Parameters
    ----------
    matrix
        :func:`workbench.models.clv.p_alive_matrix` output (``frequency``, ``recency``, ``T``,
        ``p_alive``).
    title, subtitle
        Chart title; the subtitle defaults to the customer age used.
    unit_label
        Name of the time unit (``"weeks"``, ``"days"``, ``"months"``).
    max_cells
        Most cells drawn (an SVG rect each): above it, every ``k``-th recency column is kept
        and drawn ``k`` units wide (its left edge's P(alive)).
    width, height
        Plot size in pixels.

    Returns
    -------
    altair.Chart
        Rects from ``(recency, frequency)`` to ``(recency_end, frequency_end)``.

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({"frequency": [0, 1], "recency": [0.0, 1.0], "T": [2.0, 2.0],
    ...                   "p_alive": [1.0, 0.6]})
    >>> p_alive_heatmap(m).to_dict()["mark"]["type"]
    'rect'
    """
    _require(matrix, ["frequency", "recency", "p_alive"], "p_alive_heatmap")
    if not 1 <= max_cells <= MAX_ROWS:
        raise ValueError(f"max_cells must be in [1, {MAX_ROWS}], got {max_cells!r}")
    step = max(1, math.ceil(matrix.height / max(max_cells, 1)))
    data = (matrix.with_columns(pl.col("frequency").cast(pl.Float64),
                                pl.col("recency").cast(pl.Float64))
            .filter((pl.col("recency") % step) == 0)
            .with_columns((pl.col("frequency") + 1).alias("frequency_end"),
                          (pl.col("recency") + step)
                          .clip(upper_bound=pl.col("recency").max() + 1).alias("recency_end")))
    if subtitle is None and "T" in matrix.columns and matrix.height:
        subtitle = (f"Customers whose first purchase was {float(matrix['T'][0]):g} {unit_label} "
                    "ago; red = probably gone, green = probably still buying")
    return alt.Chart(data).mark_rect().encode(
        x=alt.X("recency:Q", title=f"Recency: {unit_label} from the first to the last purchase",
                scale=alt.Scale(nice=False, zero=True)),
        x2="recency_end:Q",
        y=alt.Y("frequency:Q", title="Repeat purchases", scale=alt.Scale(nice=False, zero=True)),
        y2="frequency_end:Q",
        color=alt.Color("p_alive:Q", title="P(alive)",
                        scale=alt.Scale(scheme="redyellowgreen", domain=[0, 1]),
                        legend=alt.Legend(orient="right", format=".0%")),
        tooltip=[alt.Tooltip("frequency:Q", title="Repeat purchases", format="d"),
                 alt.Tooltip("recency:Q", title="Recency", format=".0f"),
                 alt.Tooltip("p_alive:Q", title="P(alive)", format=".2f")],
    ).properties(width=width, height=height, title=_title(title, subtitle))


def at_risk_chart(
    at_risk: pl.DataFrame,
    *,
    top: int = 15,
    value_label: str = "Value at stake",
    title: str | None = None,
    subtitle: str | None = None,
    width: int = 420,
) -> alt.LayerChart:
    """Horizontal bars of the value at stake of the first ``top`` at-risk customers.

    Parameters
    ----------
    at_risk
        :func:`workbench.models.clv.at_risk_customers` output (ranked).
    top
        Bars to draw.
    value_label
        Axis title of the value.
    title, subtitle
        Chart title and subtitle.
    width
        Plot width in pixels (the labels need about 150 more); the height follows the rows.

    Returns
    -------
    altair.LayerChart
        Bars (``customer_id`` by ``rank``, coloured by ``status``) with P(alive) labels; the
        reason is in the tooltip.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"rank": [1], "customer_id": ["a"], "status": ["falling"],
    ...     "value_at_stake": [900.0], "p_alive_before": [0.9], "p_alive_now": [0.2],
    ...     "reason": ["P(alive) fell from 0.90 to 0.20"]})
    >>> at_risk_chart(t).to_dict()["layer"][0]["mark"]["type"]
    'bar'
    """
    _require(at_risk, ["rank", "customer_id", "status", "value_at_stake", "p_alive_before",
                       "p_alive_now", "reason"], "at_risk_chart")
    df = at_risk.sort("rank").head(top)
    labels = [f"P(alive) {b:.2f} → {n:.2f}" if b is not None else f"P(alive) now {n:.2f}"
              for b, n in zip(df["p_alive_before"], df["p_alive_now"], strict=True)]
    df = df.with_columns(pl.Series("label", labels, dtype=pl.String))
    statuses = ["falling", "low", "lapsed"]
    peak = max(float(column_max(df["value_at_stake"]) or 0.0), 1.0)
    base = alt.Chart(df).encode(
        y=alt.Y("customer_id:N", sort=df["customer_id"].to_list(), title=None),
        x=alt.X("value_at_stake:Q", title=value_label, axis=alt.Axis(format="$~s"),
                scale=alt.Scale(domain=[0, peak * 1.45], nice=False)),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("status:N", title=None, scale=alt.Scale(
            domain=statuses, range=[ACCENT, "#ea580c", "#57534e"])),
        tooltip=[alt.Tooltip("rank:Q", title="#"), alt.Tooltip("customer_id:N", title="Customer"),
                 alt.Tooltip("value_at_stake:Q", title=value_label, format="$,.0f"),
                 alt.Tooltip("p_alive_before:Q", title="P(alive) before", format=".2f"),
                 alt.Tooltip("p_alive_now:Q", title="P(alive) now", format=".2f"),
                 alt.Tooltip("reason:N", title="Why")],
    )
    labels = base.mark_text(align="left", dx=4, fontSize=10, color=MUTED).encode(text="label:N")
    return (bars + labels).properties(
        width=width, height=alt.Step(18),
        title=_title(title or f"At risk: top {df.height} by {value_label.lower()}", subtitle))
