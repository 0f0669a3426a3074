"""Altair charts of the loyalty analysis (:mod:`workbench.analyses.loyalty`).

Every function aggregates in Polars first and hands Altair a small frame (a few dozen rows at
most), so the charts stay light in Voila (``alt.JupyterChart``) and in the reports (the svg
renderer).  Functions return ``alt.Chart`` / ``alt.LayerChart`` objects and never display them.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from workbench.analyses.loyalty.attitude import LOSS_BELOW, SATISFIED_ABOVE
from workbench.presentation.charts._scalars import column_max
from workbench.presentation.formatting import NumberFormats

_ATTITUDE_ORDER = ["high", "low", "unknown"]
_BEHAVIOUR_ORDER = ["regular", "one-time"]
_ZONE_ORDER = ["loss", "weak", "satisfied"]
_ZONE_COLORS = ["#d62728", "#ffbf00", "#2ca02c"]
#: Readable names of the loyalty measures of the key-driver analysis.
_TARGET_LABELS = {"nps": "NPS (0-10)", "repurchase_intent": "Repurchase intent (1-5)"}
#: Tooltip format of money (the currency symbol comes from the chart's locale,
#: :meth:`workbench.presentation.formatting.NumberFormats.vega_locale`).
_MONEY = "$,.0f"


def _fmt_money(x: float) -> str:
    if abs(x) >= 1e6:
        return f"{x / 1e6:.1f} M"
    if abs(x) >= 1e4:
        return f"{x / 1e3:.0f} k"
    return f"{x:,.0f}"


def _cell_labels(matrix: pl.DataFrame, value_label: str,
                 formats: NumberFormats | None) -> tuple[list[str], list[str]]:
    """The count and value labels of the matrix cells: ``"2 customers (25.0 %)"`` and
    ``"profit 1,500 (50.0 %)"``; in the locale of ``formats`` when given (``"2 customers
    (25,0%)"``, ``"profit 1.500 € (50,0%)"``, as the dashboard's tables write them).

    Examples
    --------
    >>> m = pl.DataFrame({"customers": [1], "customer_share": [0.25], "value": [1500.0],
    ...                   "value_share": [None]})
    >>> _cell_labels(m, "profit", None)
    (['1 customer (25.0 %)'], ['profit 1,500 (0.0 %)'])
    >>> _cell_labels(m, "profit", NumberFormats("EUR", "de_DE"))
    (['1 customer (25,0%)'], ['profit 1.500\xa0€ (0,0%)'])
    """
    counts, values = [], []
    for row in matrix.select("customers", "customer_share", "value", "value_share").iter_rows():
        n, share, value, value_share = row
        noun = "customer" if n == 1 else "customers"
        value_share = 0.0 if value_share is None else value_share
        if formats is None:
            counts.append(f"{n} {noun} ({round(share * 100, 1)} %)")
            values.append(f"{value_label} {_fmt_money(value)} ({round(value_share * 100, 1)} %)")
        else:
            counts.append(f"{formats.count(n, 'customer')} ({formats.percent(share)})")
            values.append(f"{value_label} {formats.money(value)} "
                          f"({formats.percent(value_share)})")
    return counts, values


def loyalty_matrix_chart(matrix: pl.DataFrame, *, value_label: str = "value",
                         width: int = 420, height: int = 220,
                         formats: NumberFormats | None = None) -> alt.LayerChart:
    """Attitude x behaviour matrix: cells coloured by customers, labelled with type, count, value.

    Parameters
    ----------
    matrix
        :func:`workbench.analyses.loyalty.loyalty_matrix` output (six cells, unknown attitude
        included).
    value_label
        Name of the value measure in the labels (e.g. ``"profit"``).
    formats
        Number formats of the labels (the dashboard's locale and currency); ``None``: English
        numbers without a currency symbol (:func:`_cell_labels`).

    Examples
    --------
    >>> from workbench.core.io import read_surveys, read_transactions
    >>> from workbench.analyses.loyalty import analyse_loyalty
    >>> from workbench.core.prepare import prepare_orders
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
    >>> la = analyse_loyalty(orders, "2026-06-30", surveys=read_surveys("sample_data/surveys.csv"))
    >>> type(loyalty_matrix_chart(la.matrix)).__name__
    'LayerChart'
    """
    counts, values = _cell_labels(matrix, value_label, formats)
    df = matrix.with_columns(
        pl.col("dick_basu").str.replace(", attitude unknown", "").alias("label_type"),
        pl.Series("label_n", counts, dtype=pl.String),
        pl.Series("label_v", values, dtype=pl.String),
        pl.when(pl.col("attitude") == "unknown").then(pl.lit("attitude unknown (no survey)"))
        .otherwise(pl.format("attitude {}", pl.col("attitude"))).alias("attitude_label"),
    )
    att_labels = ["attitude high", "attitude low", "attitude unknown (no survey)"]
    x = alt.X("attitude_label:N", sort=att_labels, title=None,
              axis=alt.Axis(orient="top", labelAngle=0, labelLimit=220))
    y = alt.Y("behaviour:N", sort=_BEHAVIOUR_ORDER, title="repeat patronage")
    tooltip = [alt.Tooltip("dick_basu:N", title="Loyalty type"),
               alt.Tooltip("behaviour:N", title="Repeat patronage"),
               alt.Tooltip("attitude_label:N", title="Attitude"),
               alt.Tooltip("customers:Q", format=",", title="Customers"),
               alt.Tooltip("customer_share:Q", format=".1%", title="Share of customers"),
               alt.Tooltip("value:Q", format=_MONEY, title=value_label.capitalize()),
               alt.Tooltip("value_share:Q", format=".1%", title=f"Share of {value_label}"),
               alt.Tooltip("reciprocal:Q", format=",", title="Of which reciprocal")]
    base = alt.Chart(df).encode(x=x, y=y)
    rect = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=tooltip)
    peak = column_max(df["customers"])  # customers per cell: a count, never null
    dark = peak * 0.6 if peak is not None else 0
    ink = alt.condition(alt.datum.customers > dark, alt.value("white"), alt.value("black"))
    t1 = base.mark_text(dy=-16, fontWeight="bold", baseline="middle", fontSize=11).encode(
        text="label_type:N", color=ink)
    t2 = base.mark_text(dy=0, baseline="middle", fontSize=11).encode(text="label_n:N", color=ink)
    t3 = base.mark_text(dy=16, baseline="middle", fontSize=11).encode(text="label_v:N", color=ink)
    return (rect + t1 + t2 + t3).properties(
        width=width, height=height,
        title="Loyalty types: repeat patronage x attitude (Dick & Basu 1994)")


def satisfaction_zones_chart(perceived: pl.DataFrame, *, bin_width: float = 0.05,
                             loss_below: float = LOSS_BELOW,
                             satisfied_above: float = SATISFIED_ABOVE,
                             width: int = 420, height: int = 200) -> alt.LayerChart:
    """Histogram of the satisfaction share (0-100 % of 200 points) coloured by zone, with the
    30 % and 80 % boundaries.

    Parameters
    ----------
    perceived
        :func:`workbench.analyses.loyalty.perceived_loyalty` output (rows without an index are
        skipped).
    bin_width
        Width of the bins as a share (0.05 = 5 percentage points).

    Examples
    --------
    >>> from workbench.core.io import read_surveys, read_transactions
    >>> from workbench.analyses.loyalty import analyse_loyalty
    >>> from workbench.core.prepare import prepare_orders
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
    >>> la = analyse_loyalty(orders, "2026-06-30", surveys=read_surveys("sample_data/surveys.csv"))
    >>> type(satisfaction_zones_chart(la.perceived)).__name__
    'LayerChart'
    """
    zone_rank = pl.col("satisfaction_zone").replace_strict(
        {z: i for i, z in enumerate(_ZONE_ORDER)}, default=len(_ZONE_ORDER), return_dtype=pl.Int32)
    df = (perceived.filter(pl.col("satisfaction_share").is_not_null())
          .with_columns(((pl.col("satisfaction_share").round(10) / bin_width).floor() * bin_width)
                        .clip(0.0, 1.0 - bin_width).alias("share_from"))
          .group_by("share_from", "satisfaction_zone").agg(pl.len().alias("customers"))
          .sort("share_from", zone_rank)
          .with_columns((pl.col("share_from") + bin_width).alias("share_to"),
                        pl.col("customers").cum_sum().over("share_from").alias("y_top"))
          .with_columns((pl.col("y_top") - pl.col("customers")).alias("y_bottom")))
    # Stacked by hand (x/x2 plus y/y2): a ranged bar on x alone would be drawn as a thin
    # horizontal bar.
    bars = alt.Chart(df).mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("share_from:Q", title="satisfaction index, share of the maximum (200 points)",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        x2="share_to:Q",
        y=alt.Y("y_bottom:Q", title="customers"),
        y2="y_top:Q",
        color=alt.Color("satisfaction_zone:N", title="zone", sort=_ZONE_ORDER,
                        scale=alt.Scale(domain=_ZONE_ORDER, range=_ZONE_COLORS)),
        tooltip=[alt.Tooltip("share_from:Q", format=".0%", title="Satisfaction from"),
                 alt.Tooltip("share_to:Q", format=".0%", title="Satisfaction to"),
                 alt.Tooltip("satisfaction_zone:N", title="Zone"),
                 alt.Tooltip("customers:Q", format=",", title="Customers")])
    rules = alt.Chart(pl.DataFrame({"x": [loss_below, satisfied_above],
                                    "label": [f"{loss_below:.0%}", f"{satisfied_above:.0%}"]}))
    lines = rules.mark_rule(strokeDash=[4, 3], color="black").encode(x="x:Q")
    labels = rules.mark_text(align="left", dx=3, dy=-4, baseline="top").encode(
        x="x:Q", y=alt.value(0), text="label:N")
    return (bars + lines + labels).properties(
        width=width, height=height, title="Satisfaction zones (Okhunov: < 30 % loss, "
        "30-80 % weak, > 80 % satisfied)")


def zone_counts_chart(segment_attitude: pl.DataFrame, *, width: int = 420,
                      height: int = 160) -> alt.Chart:
    """Stacked bars: customers per satisfaction zone per segment, plus "no survey".

    Examples
    --------
    >>> from workbench.core.io import read_surveys, read_transactions
    >>> from workbench.analyses.loyalty import analyse_loyalty
    >>> from workbench.core.prepare import prepare_orders
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
    >>> la = analyse_loyalty(orders, "2026-06-30", surveys=read_surveys("sample_data/surveys.csv"))
    >>> type(zone_counts_chart(la.segment_attitude)).__name__
    'Chart'
    """
    df = (segment_attitude.select("segment", "zone_loss", "zone_weak", "zone_satisfied",
                                  "unknown")
          .unpivot(index="segment", variable_name="zone", value_name="customers")
          .with_columns(pl.col("zone").str.replace("zone_", "").replace({"unknown": "no survey"})))
    order = [*_ZONE_ORDER, "no survey"]
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("segment:N", title=None),
        x=alt.X("customers:Q", stack="normalize", title="share of customers",
                axis=alt.Axis(format="%")),
        color=alt.Color("zone:N", sort=order,
                        scale=alt.Scale(domain=order, range=[*_ZONE_COLORS, "#c7c7c7"])),
        order=alt.Order("zone_order:Q"),
        tooltip=[alt.Tooltip("segment:N", title="Segment"), alt.Tooltip("zone:N", title="Zone"),
                 alt.Tooltip("customers:Q", format=",", title="Customers")],
    ).transform_calculate(
        zone_order="indexof(['loss', 'weak', 'satisfied', 'no survey'], datum.zone)"
    ).properties(width=width, height=height, title="Satisfaction zone by segment")


def drivers_chart(drivers: pl.DataFrame, *, width: int = 260, height: int = 220) -> alt.FacetChart:
    """Spearman correlation of each criterion with each loyalty measure, with the bootstrap CI.

    Parameters
    ----------
    drivers
        :func:`workbench.analyses.loyalty.key_drivers` output.

    Examples
    --------
    >>> from workbench.core.io import read_surveys, read_transactions
    >>> from workbench.analyses.loyalty import analyse_loyalty
    >>> from workbench.core.prepare import prepare_orders
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
    >>> la = analyse_loyalty(orders, "2026-06-30", surveys=read_surveys("sample_data/surveys.csv"))
    >>> type(drivers_chart(la.drivers)).__name__
    'FacetChart'
    """
    df = drivers.select("target", "criterion", "n", "rho", "ci_low", "ci_high", "mean_weight",
                        "note").with_columns(
        pl.col("target").replace(_TARGET_LABELS).alias("target_label"),
        pl.col("criterion").str.replace_all("_", " ").str.to_titlecase()
        .alias("criterion_label"),
    )
    order = (df.group_by("criterion_label").agg(pl.col("rho").mean())
             .sort("rho", "criterion_label", descending=[True, False])["criterion_label"]
             .to_list())
    base = alt.Chart(df).encode(y=alt.Y("criterion_label:N", sort=order, title=None))
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="Spearman rho (95 % bootstrap CI)",
                scale=alt.Scale(domain=[-0.2, 1])),
        x2="ci_high:Q")
    points = base.mark_point(filled=True, size=60).encode(
        x="rho:Q",
        tooltip=[alt.Tooltip("criterion_label:N", title="Criterion"),
                 alt.Tooltip("target_label:N", title="Loyalty measure"),
                 alt.Tooltip("rho:Q", format=".2f", title="Spearman rho"),
                 alt.Tooltip("ci_low:Q", format=".2f", title="Interval from (95 %)"),
                 alt.Tooltip("ci_high:Q", format=".2f", title="Interval to (95 %)"),
                 alt.Tooltip("n:Q", format=",", title="Answers"),
                 alt.Tooltip("mean_weight:Q", format=".2f",
                             title="Stated importance (mean weight 1-5)"),
                 alt.Tooltip("note:N", title="Note")])
    zero = alt.Chart(df).mark_rule(color="grey", strokeDash=[3, 3]).encode(x=alt.datum(0))
    return (zero + bars + points).properties(width=width, height=height).facet(
        column=alt.Column("target_label:N", title=None)).properties(
        title="Key drivers: criterion score vs loyalty")


def early_warning_chart(warnings: pl.DataFrame, *, top: int = 15, width: int = 420,
                        height: int | None = None) -> alt.Chart:
    """Horizontal bars of the value at stake of the top ``top`` warned customers, reasons in
    the tooltip.

    Examples
    --------
    >>> from workbench.core.io import read_surveys, read_transactions
    >>> from workbench.analyses.loyalty import analyse_loyalty
    >>> from workbench.core.prepare import prepare_orders
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
    >>> la = analyse_loyalty(orders, "2026-06-30", surveys=read_surveys("sample_data/surveys.csv"))
    >>> type(early_warning_chart(la.warnings)).__name__
    'Chart'
    """
    df = (warnings.head(top)
          .with_columns(pl.col("warnings").list.join(", ").alias("triggers"))
          .select("rank", "customer_id", "triggers", "reasons", "value_at_stake",
                  "value_source"))
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("customer_id:N", sort=alt.SortField("rank"), title=None),
        x=alt.X("value_at_stake:Q", title="value at stake"),
        color=alt.Color("triggers:N", title="warnings", legend=alt.Legend(orient="bottom",
                                                                         columns=1)),
        tooltip=[alt.Tooltip("rank:Q", title="Rank"),
                 alt.Tooltip("customer_id:N", title="Customer"),
                 alt.Tooltip("triggers:N", title="Warnings"),
                 alt.Tooltip("reasons:N", title="Why"),
                 alt.Tooltip("value_at_stake:Q", format="$,.2f", title="Value at stake"),
                 alt.Tooltip("value_source:N", title="Value measured as")],
    ).properties(width=width, height=height or max(120, 18 * df.height),
                 title=f"Early warnings: top {df.height} by value at stake")


def type_share_chart(type_summary: pl.DataFrame, *, width: int = 420,
                     height: int = 220) -> alt.Chart:
    """Share of customers beside share of value per loyalty type.

    Examples
    --------
    >>> from workbench.core.io import read_surveys, read_transactions
    >>> from workbench.analyses.loyalty import analyse_loyalty
    >>> from workbench.core.prepare import prepare_orders
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
    >>> la = analyse_loyalty(orders, "2026-06-30", surveys=read_surveys("sample_data/surveys.csv"))
    >>> type(type_share_chart(la.type_summary)).__name__
    'Chart'
    """
    order = type_summary["loyalty_type"].to_list()
    df = (type_summary.select("loyalty_type", "customer_share", "value_share")
          .unpivot(index="loyalty_type", variable_name="measure", value_name="share")
          .with_columns(pl.col("measure").replace({"customer_share": "customers",
                                                   "value_share": "value"})))
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("loyalty_type:N", sort=order, title=None),
        x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share"),
        yOffset=alt.YOffset("measure:N"),
        color=alt.Color("measure:N", title=None),
        tooltip=[alt.Tooltip("loyalty_type:N", title="Loyalty type"),
                 alt.Tooltip("measure:N", title="Share of"),
                 alt.Tooltip("share:Q", format=".1%", title="Share")],
    ).properties(width=width, height=height, title="Customers and value per loyalty type")
