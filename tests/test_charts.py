"""Chart functions: data, encodings, schema validation and static SVG rendering."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import altair as alt
import numpy as np
import polars as pl
import pytest

from workbench.analyses.migration import migration_matrix, segment_migration
from workbench.analyses.pareto import lorenz_curve, top_share
from workbench.analyses.rfm import cell_counts, rfm_segments, segment_table
from workbench.core.summary import customer_summary
from workbench.presentation.charts import (
    flow_layout,
    kpi_change_chart,
    lorenz_chart,
    migration_flow_chart,
    migration_heatmap,
    rf_heatmap,
    segment_chart,
    segment_order,
    segment_scale,
    use_report_renderer,
)
from workbench.presentation.charts.migration import RIBBON_POINTS


def synthetic_transactions(n_customers: int = 120, seed: int = 7) -> pl.DataFrame:
    """Small random purchase history, 2024-01-01 .. 2025-06-30."""
    rng = np.random.default_rng(seed)
    start, end = dt.date(2024, 1, 1), dt.date(2025, 6, 30)
    span = (end - start).days
    rows = []
    for i in range(n_customers):
        day = int(rng.integers(0, span))
        rate = rng.choice([0, 20, 60, 150])
        while day <= span:
            rows.append((f"C{i:04d}", start + dt.timedelta(days=day),
                         round(float(rng.lognormal(3.5, 0.8)), 2)))
            if rate == 0:
                break
            day += int(rng.exponential(rate)) + 1
    return pl.DataFrame(rows, schema={"customer_id": pl.String, "order_date": pl.Date,
                                      "amount": pl.Float64}, orient="row")


@pytest.fixture(scope="module")
def tx() -> pl.DataFrame:
    return synthetic_transactions()


@pytest.fixture(scope="module")
def summary(tx) -> pl.DataFrame:
    return customer_summary(tx, dt.date(2025, 6, 30))


@pytest.fixture(scope="module")
def segments(summary) -> pl.DataFrame:
    return rfm_segments(summary)


@pytest.fixture(scope="module")
def matrix(tx, segments) -> pl.DataFrame:
    previous = rfm_segments(customer_summary(tx, dt.date(2025, 3, 31)))
    return migration_matrix(segment_migration(previous, segments))


def render_svg(chart: alt.TopLevelMixin, tmp_path: Path) -> str:
    """Validate the spec and render it with vl-convert; return the SVG text."""
    chart.to_dict(validate=True)
    path = tmp_path / "chart.svg"
    chart.save(path)
    svg = path.read_text()
    assert svg.startswith("<svg")
    return svg


def layer_marks(chart: alt.TopLevelMixin) -> list[str]:
    spec = chart.to_dict()
    return [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
            for layer in spec["layer"]]


def dataset(chart: alt.TopLevelMixin, layer: int = 0) -> list[dict]:
    """The rows of one layer's data as they end up in the spec."""
    spec = chart.to_dict()
    data = spec["layer"][layer].get("data", spec.get("data"))
    return spec["datasets"][data["name"]]


# -- segment chart --------------------------------------------------------------------------------

def test_segment_chart_data_sorting_and_encodings(segments, summary, tmp_path):
    table = segment_table(segments, summary)
    chart = segment_chart(table, subtitle="As of 30 Jun 2025")
    assert layer_marks(chart) == ["bar", "text"]
    spec = chart.to_dict()
    bars = spec["layer"][0]["encoding"]
    # sorted by revenue share, largest first
    assert bars["y"]["sort"] == table.sort("revenue_share", descending=True)["segment"].to_list()
    assert bars["x"]["field"] == "share" and bars["x"]["type"] == "quantitative"
    assert bars["yOffset"]["field"] == "measure"
    assert bars["color"]["scale"]["domain"] == ["Customers", "Revenue"]
    assert {t["field"] for t in bars["tooltip"]} >= {"segment", "share", "customers", "revenue"}
    rows = dataset(chart)
    assert len(rows) == 2 * table.height
    for measure, column in (("Customers", "customer_share"), ("Revenue", "revenue_share")):
        got = {r["segment"]: r["share"] for r in rows if r["measure"] == measure}
        assert got == pytest.approx(dict(zip(table["segment"], table[column], strict=True)))
    svg = render_svg(chart, tmp_path)
    assert table["segment"][0] in svg


def test_segment_chart_rejects_missing_columns():
    with pytest.raises(ValueError, match="revenue_share"):
        segment_chart(pl.DataFrame({"segment": ["A"], "customers": [1], "revenue": [1.0],
                                    "customer_share": [1.0]}))


# -- R x F heatmap --------------------------------------------------------------------------------

def test_rf_heatmap_cells_counts_and_mean_value(segments, tmp_path):
    cells = cell_counts(segments)
    chart = rf_heatmap(cells)
    assert layer_marks(chart) == ["rect", "text"]
    enc = chart.to_dict()["layer"][0]["encoding"]
    assert (enc["x"]["field"], enc["y"]["field"], enc["color"]["field"]) == ("F", "R", "customers")
    assert enc["y"]["sort"] == "descending"  # recency 5 on top
    assert "mean_value" in {t["field"] for t in enc["tooltip"]}
    rows = dataset(chart)
    assert len(rows) == 25
    assert sum(r["customers"] for r in rows) == segments.height
    for r in rows:
        if r["customers"]:
            assert r["mean_value"] == pytest.approx(r["monetary"] / r["customers"])
        else:
            assert r["mean_value"] is None
    text = chart.to_dict()["layer"][1]["encoding"]["text"]
    assert text["field"] == "customers"
    render_svg(chart, tmp_path)


# -- Pareto / Lorenz ------------------------------------------------------------------------------

def test_lorenz_chart_layers_marker_and_diagonal(summary, tmp_path):
    curve = lorenz_curve(summary)
    top = top_share(summary, 0.2)
    chart = lorenz_chart(curve, top_value_share=top)
    assert layer_marks(chart) == ["area", "line", "line", "rule", "rule", "point", "text"]
    assert dataset(chart, 2) == [{"customer_share": 0.0, "value_share": 0.0},
                                 {"customer_share": 1.0, "value_share": 1.0}]
    marker = dataset(chart, 5)[0]
    assert marker["customer_share"] == 0.2 and marker["value_share"] == pytest.approx(top)
    assert f"{top:.0%}" in marker["label"]
    assert len(dataset(chart, 1)) == curve.height
    svg = render_svg(chart, tmp_path)
    assert "Top 20%" in svg


def test_lorenz_chart_interpolates_marker_when_not_given():
    curve = pl.DataFrame({"customer_share": [0.0, 0.1, 0.3, 1.0],
                          "value_share": [0.0, 0.5, 0.7, 1.0]})
    marker = dataset(lorenz_chart(curve), 5)[0]
    assert marker["value_share"] == pytest.approx(0.6)


# -- migration ------------------------------------------------------------------------------------

def test_flow_layout_conserves_customers(matrix):
    lay = flow_layout(matrix)
    total = int(matrix["customers"].sum())
    blocks = lay["blocks"]
    for side in ("from", "to"):
        side_blocks = blocks.filter(pl.col("side") == side)
        assert side_blocks["customers"].sum() == total
        # blocks are stacked without overlap
        ys = side_blocks.sort("y0")
        assert (ys["y0"].shift(-1).drop_nulls() >= ys["y1"].head(ys.height - 1)).all()
    ribbons = lay["ribbons"]
    flows = matrix.filter(pl.col("customers") > 0).height
    assert ribbons.height == flows * RIBBON_POINTS
    # each ribbon is as thick as its customers at both ends
    ends = ribbons.group_by("flow").agg(pl.col("customers").first(),
                                        (pl.col("bottom") - pl.col("top")).first().alias("w0"),
                                        (pl.col("bottom") - pl.col("top")).last().alias("w1"))
    assert ends["w0"].to_list() == pytest.approx(ends["customers"].cast(pl.Float64).to_list())
    assert ends["w1"].to_list() == pytest.approx(ends["customers"].cast(pl.Float64).to_list())
    # labels of one side never overlap
    for side in ("from", "to"):
        ys = lay["labels"].filter(pl.col("side") == side)["y"].sort()
        assert (ys.diff().drop_nulls() > 0).all()


def test_migration_flow_chart_encodings_and_render(matrix, tmp_path):
    chart = migration_flow_chart(matrix, from_label="31 Mar 2025", to_label="30 Jun 2025")
    assert layer_marks(chart) == ["area", "rect", "text", "text", "text"]
    ribbon = chart.to_dict()["layer"][0]
    assert ribbon["mark"]["orient"] == "vertical"
    assert ribbon["encoding"]["y2"]["field"] == "bottom"
    assert ribbon["encoding"]["detail"]["field"] == "flow"
    assert {t["field"] for t in ribbon["encoding"]["tooltip"]} >= {"segment_from", "segment_to",
                                                                   "customers"}
    heads = dataset(chart, 4)
    assert [h["text"] for h in heads] == ["31 Mar 2025", "30 Jun 2025"]
    svg = render_svg(chart, tmp_path)
    assert "30 Jun 2025" in svg


def test_migration_flow_chart_shows_new_customers():
    m = pl.DataFrame({"segment_from": ["Loyal", "Loyal", "No purchase yet"],
                      "segment_to": ["Loyal", "Lost", "New Customers"], "customers": [30, 10, 5]})
    lay = flow_layout(m)
    left = lay["blocks"].filter(pl.col("side") == "from")["segment"].to_list()
    assert left == ["Loyal", "No purchase yet"]  # known segments first, new customers last


def test_migration_heatmap(matrix, tmp_path):
    chart = migration_heatmap(matrix)
    assert layer_marks(chart) == ["rect", "text"]
    enc = chart.to_dict()["layer"][0]["encoding"]
    assert enc["y"]["field"] == "segment_from" and enc["x"]["field"] == "segment_to"
    assert enc["y"]["sort"] == segment_order(matrix["segment_from"].unique().to_list())
    rows = dataset(chart)
    per_from = {}
    for r in rows:
        per_from[r["segment_from"]] = per_from.get(r["segment_from"], 0) + r["share_of_from"]
    assert all(v == pytest.approx(1.0) for v in per_from.values())
    render_svg(chart, tmp_path)


# -- KPI chart and theme --------------------------------------------------------------------------

def test_kpi_change_chart(tmp_path):
    k = pl.DataFrame({"kpi": ["revenue", "repeat_rate", "nps"],
                      "label": ["Revenue", "Repeat rate", "NPS"], "value": [110.0, 0.3, 20.0],
                      "previous": [100.0, 0.25, 25.0], "change": [10.0, 0.05, -5.0],
                      "change_pct": [0.1, 0.2, -0.2], "fmt": ["currency", "pct", "score"]})
    chart = kpi_change_chart(k)
    rows = dataset(chart)
    assert [r["bar"] for r in rows] == pytest.approx([0.1, 0.05, -0.05])
    assert [r["change_text"] for r in rows] == ["10.0 %", "5.0 pp", "-5.0 pts"]
    assert [r["good"] for r in rows] == [True, True, False]
    render_svg(chart, tmp_path)


def test_segment_scale_fixed_colours():
    scale = segment_scale(["Lost", "Champions", "Something else"]).to_dict()
    assert scale["domain"] == ["Champions", "Lost", "Something else"]
    assert len(set(scale["range"])) == 3


def test_theme_and_report_renderer():
    use_report_renderer("svg")
    assert alt.theme.active == "workbench"
    assert alt.renderers.active == "svg"
    with pytest.raises(ValueError):
        use_report_renderer("html")  # type: ignore[arg-type]
    config = alt.Chart(pl.DataFrame({"a": [1]})).mark_point().encode(x="a:Q").to_dict()["config"]
    assert config["view"]["stroke"] is None


def _drawn_value_share(chart: alt.TopLevelMixin, x: float) -> float:
    """The value share the chart's curve line shows at customer share ``x``, evaluated from the
    spec (points and interpolation) independently of the chart code."""
    spec = chart.to_dict()
    mark = spec["layer"][1]["mark"]
    interpolate = mark.get("interpolate", "linear") if isinstance(mark, dict) else "linear"
    rows = sorted((r["customer_share"], r["value_share"]) for r in dataset(chart, 1))
    for (x0, y0), (x1, y1) in zip(rows, rows[1:], strict=False):
        if x0 < x <= x1:
            if interpolate == "step-before":  # vertical first, then flat up to x1
                return y1
            assert interpolate == "linear", interpolate
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    raise AssertionError(f"{x} is outside the curve")


@pytest.mark.parametrize(("spend", "top"), [
    ([40.0], 1.0),                 # 1 customer: ceil(0.2) = 1 customer holds all the revenue
    ([50.0, 30.0, 20.0], 0.5),     # 3 customers: ceil(0.6) = 1 customer, 50 of 100
])
@pytest.mark.parametrize("given", [True, False])
def test_lorenz_chart_marker_lies_on_the_curve_for_few_customers(spend, top, given):
    """The annotation counts the top ceil(0.2 n) customers; for small n the drawn curve must
    pass through the same point (not the diagonal's 20 % for one customer)."""
    summary = pl.DataFrame({"total_spend": spend})
    assert top_share(summary, 0.2) == pytest.approx(top)
    chart = lorenz_chart(lorenz_curve(summary), top_value_share=top if given else None)
    marker = dataset(chart, 5)[0]
    assert marker["value_share"] == pytest.approx(top)
    assert f"Top 20% of customers: {top:.0%} of revenue" == marker["label"]
    assert _drawn_value_share(chart, 0.2) == pytest.approx(top)
    # the points themselves are the exact Lorenz points, one per customer, from the origin
    n, total = len(spend), sum(spend)
    assert dataset(chart, 1) == [
        {"customer_share": k / n, "value_share": pytest.approx(sum(spend[:k]) / total),
         "customers": k} for k in range(n + 1)]


def test_lorenz_chart_of_a_sampled_curve_keeps_straight_lines(summary):
    """More customers than curve points (120 > 100): the look is unchanged."""
    chart = lorenz_chart(lorenz_curve(summary), top_value_share=top_share(summary, 0.2))
    for layer in chart.to_dict()["layer"][:2]:
        assert "interpolate" not in layer["mark"]
