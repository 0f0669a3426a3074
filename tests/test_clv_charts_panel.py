"""CLV charts (data, encodings, SVG rendering with vl-convert) and the dashboard's ClvPanel."""

from __future__ import annotations

import datetime as dt
import warnings

import altair as alt
import polars as pl
import pytest

import workbench as wb
from workbench.models.clv import (
    at_risk_customers,
    clv_by_segment,
    fit_clv,
    holdout_by_frequency,
    make_purchase_model,
    model_diagnosis,
    p_alive_matrix,
    tracking,
)
from workbench.presentation import charts
from workbench.presentation.widgets.state import DashboardState, Dataset

AS_OF = dt.date(2026, 6, 30)


def svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    out = vlc.vegalite_to_svg(chart.to_dict())
    assert out.startswith("<svg") and "NaN" not in out
    return out


def values(chart: alt.TopLevelMixin) -> list[dict]:
    """The inline data rows of a (layered) chart."""
    spec = chart.to_dict()
    name = (spec.get("data") or spec["layer"][0].get("data", {})).get("name")
    return spec["datasets"][name]


@pytest.fixture(scope="module")
def sample(sample_data_dir):
    tx = wb.read_transactions(sample_data_dir / "transactions.csv")
    summary = wb.customer_summary(tx, AS_OF, "W")
    fit = fit_clv(summary)
    return tx, summary, fit


@pytest.fixture(scope="module")
def holdout(cdnow_transactions, cdnow_calibration):
    model = make_purchase_model("bgnbd").fit(cdnow_calibration)
    return cdnow_transactions, cdnow_calibration, model


def test_clv_bins_are_a_1_2_5_partition(sample):
    _, _, fit = sample
    bins = charts.clv_bins(fit.table)
    assert bins.height <= 12
    assert bins["lower"][0] == 0 and bins["upper"].to_list() == sorted(bins["upper"].to_list())
    mantissas = {float(f"{u:e}".split("e")[0]) for u in bins["upper"]}
    assert mantissas <= {1.0, 2.0, 5.0}
    assert bins["customers"].sum() == fit.table.height
    assert bins["value"].sum() == pytest.approx(fit.table["clv"].sum())
    assert bins["customer_share"].sum() == pytest.approx(1.0)
    assert bins["upper"].max() > fit.table["clv"].max() >= bins["lower"].max()
    # the skew the chart is made to show: the top bands hold far more value than customers
    top = bins.tail(5)
    assert top["value_share"].sum() > 3 * top["customer_share"].sum()
    with pytest.raises(ValueError, match="needs column"):
        charts.clv_bins(fit.table, "nope")
    assert charts.clv_bins(pl.DataFrame({"clv": [0.0, None]}))["customers"].sum() == 1


def test_distribution_and_segment_charts(sample):
    _, summary, fit = sample
    dist = charts.clv_distribution_chart(fit.table)
    spec = dist.to_dict()
    enc = spec["layer"][0]["encoding"]
    assert (enc["x"]["field"], enc["xOffset"]["field"], enc["y"]["field"]) == (
        "band", "measure", "share")
    rows = values(dist)
    assert len(rows) < 50 and {r["measure"] for r in rows} == {"Customers", "Predicted value"}
    assert "<svg" in svg(dist)

    by_seg = clv_by_segment(fit.table, wb.rfm_segments(summary))
    seg = charts.clv_segment_chart(by_seg)
    spec = seg.to_dict()
    assert len(spec["hconcat"]) == 2
    left = spec["hconcat"][0]
    assert left["encoding"]["y"]["sort"][0] == by_seg["segment"][0]  # largest predicted first
    assert left["encoding"]["x"]["field"] == "amount"
    measures = set(left["encoding"]["color"]["scale"]["domain"])
    assert measures == {"Predicted CLV", "Historical profit"}  # cost known: profit to date
    revenue = charts.clv_segment_chart(by_seg, historical="revenue").to_dict()
    assert "Historical revenue" in revenue["hconcat"][0]["encoding"]["color"]["scale"]["domain"]
    text = svg(seg)
    assert "Champions" in text and "Per customer" in text
    with pytest.raises(ValueError, match="historical"):
        charts.clv_segment_chart(by_seg, historical="margin")


def test_holdout_tracking_and_p_alive_charts(holdout):
    tx, cal, model = holdout
    by_freq = holdout_by_frequency(cal, model)
    chart = charts.holdout_frequency_chart(by_freq)
    spec = chart.to_dict()
    assert spec["layer"][0]["mark"]["type"] == "line"
    assert spec["layer"][0]["encoding"]["x"]["sort"] == by_freq["frequency_bucket"].to_list()
    rows = values(chart)
    assert len(rows) == 2 * by_freq.height
    assert {r["measure"] for r in rows} == {"Actual", "Predicted"}
    svg(chart)

    track = tracking(tx, cal, model, dt.date(1997, 9, 30), dt.date(1998, 6, 30), "W")
    cum = charts.tracking_chart(track)
    spec = cum.to_dict()
    assert len(spec["layer"]) == 2  # lines and the calibration-end rule
    rows = values(cum)
    assert len(rows) == 2 * track.height
    last = max(r["purchases"] for r in rows if r["measure"] == "Actual")
    assert last == pytest.approx(float(track["actual_cumulative"][-1]))
    weekly = charts.tracking_chart(track, cumulative=False)
    assert max(r["purchases"] for r in values(weekly)) == pytest.approx(
        max(float(track["actual"].max()), float(track["expected"].max())))
    svg(weekly)

    matrix = p_alive_matrix(model, 20, 39)
    heat = charts.p_alive_heatmap(matrix)
    spec = heat.to_dict()
    assert spec["mark"]["type"] == "rect"
    assert spec["encoding"]["color"]["field"] == "p_alive"
    assert spec["encoding"]["color"]["scale"]["domain"] == [0, 1]
    assert len(values(heat)) == matrix.height <= 1000  # small grid: every cell drawn
    coarse = charts.p_alive_heatmap(p_alive_matrix(model, 30, 200, 200), max_cells=500)
    assert len(values(coarse)) <= 500
    assert "<svg" in svg(heat)
    assert len(values(charts.p_alive_heatmap(p_alive_matrix(model, 60, 200)))) <= 1000
    with pytest.raises(ValueError, match="max_cells"):
        charts.p_alive_heatmap(matrix, max_cells=10_000)


def test_at_risk_chart(sample, sample_data_dir):
    tx, summary, fit = sample
    before = wb.customer_summary(tx, AS_OF - dt.timedelta(days=90), "W")
    risk = at_risk_customers(summary, before, fit.purchase_model, "historical_value",
                             values=fit.table)
    chart = charts.at_risk_chart(risk, top=12)
    rows = values(chart)
    assert len(rows) == 12
    spec = chart.to_dict()
    assert spec["layer"][0]["encoding"]["y"]["sort"] == risk["customer_id"].head(12).to_list()
    assert spec["layer"][0]["encoding"]["x"]["field"] == "value_at_stake"
    assert all(r["label"].startswith("P(alive)") for r in rows)
    assert "Why" in {t.get("title") for t in spec["layer"][0]["encoding"]["tooltip"]}
    assert risk["customer_id"][0] in svg(chart)


# ------------------------------------------------------------------ the dashboard panel


@pytest.fixture(scope="module")
def dataset(sample_data_dir):
    return Dataset.from_dir(sample_data_dir)


def test_clv_panel_renders_and_follows_the_filter(dataset):
    from workbench.presentation.widgets.clv_panel import ClvPanel

    state = DashboardState(dataset, AS_OF)
    panel = ClvPanel(top_at_risk=8)
    panel.update(state)
    classes = [c for w in panel.widget.children for c in w._dom_classes]
    assert "wb-error" not in str([getattr(w, "value", "") for w in panel.widget.children])
    assert {"wb-clv-totals", "wb-clv-caption", "wb-at-risk"} <= set(classes)
    assert {"wb-chart-clv-segments", "wb-chart-clv-distribution"} <= {
        c for ch in panel._charts.values() for c in ch._dom_classes}
    fit = panel.fit(state)
    totals = fit.totals()
    assert f"data-value='{totals['predicted_clv']:.6g}'" in panel.totals.value
    for tile in ("clv", "historical", "purchases", "alive"):
        assert f"wb-clv-total-{tile}" in panel.totals.value
    assert "margin 35." in panel.caption.value  # from the sample data's cost
    risk = panel.at_risk(state)
    table = panel.at_risk_table.value
    assert table.count("<tr>") == 1 + min(8, risk.height)  # header + rows
    assert risk["customer_id"][0] in table and "class='wb-why'" in table
    # the model: recommended (lowest BIC on the selection) with its reason, the time-unit
    # guidance, the degenerate-fit sentences; the CLV of the at-risk list with its interval
    comparison = panel.comparison(state)
    assert fit.model == comparison.recommended
    assert "wb-clv-model" in classes
    note = panel.model_note.value
    assert "wb-clv-reason" in note and "is recommended" in note and "wb-clv-time-unit" in note
    assert note.count("wb-clv-diagnosis") == len(model_diagnosis(fit.purchase_model))
    assert "Predicted CLV (90% interval)" in table and "–" in table
    bounds = panel.intervals(state, risk["customer_id"].head(8).to_list())
    assert (bounds["clv_lower"] <= bounds["clv"]).all()
    assert (bounds["clv"] <= bounds["clv_upper"]).all()
    # the total CLV tile shows the interval of the total (summed draws), and the panel reused
    # the purchase model the comparison fitted instead of fitting it again
    lo, hi = totals["predicted_clv_lower"], totals["predicted_clv_upper"]
    assert lo < totals["predicted_clv"] < hi and "90% interval" in panel.totals.value
    assert fit.purchase_model is comparison.models[fit.model]
    # cached per selection: the same objects on a second call, and per kernel: a new state
    # of the same selection gets the same fit without refitting
    assert panel.fit(state) is fit
    assert panel.fit(state.with_selection()) is fit
    from workbench.presentation.widgets.customer_view import CustomerView

    view = CustomerView(panel)
    top_id = str(fit.table.sort("clv", descending=True)["customer_id"][0])
    assert view._drivers_html(state, top_id, fit.model).count("90% interval") == 2

    north = state.with_selection(filter_column="region", filter_value="North")
    panel.update(north)
    north_total = panel.fit(north).totals()
    assert north_total["customers"] < totals["customers"]
    assert north_total["predicted_clv"] < totals["predicted_clv"]
    assert f"data-value='{north_total['predicted_clv']:.6g}'" in panel.totals.value
    fixed = ClvPanel(model="mbgnbd", top_at_risk=3)
    fixed.update(state)
    assert fixed.fit(state).model == "mbgnbd" and "as set for this dashboard" in \
        fixed.model_note.value


def test_clv_panel_shows_a_message_instead_of_a_traceback(dataset):
    from workbench.presentation.widgets.clv_panel import ClvPanel

    # one customer only: no repeat buyers to fit Gamma-Gamma on
    one = dataset.transactions["customer_id"][0]
    tiny = Dataset(dataset.transactions.filter(pl.col("customer_id") == one),
                   dataset.customers, None)
    panel = ClvPanel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the panel keeps model warnings away from viewers
        panel.update(DashboardState(tiny, AS_OF))
    text = " ".join(getattr(w, "value", "") for w in panel.widget.children)
    assert "wb-error" in text and "could not be computed" in text and "Traceback" not in text

    early = DashboardState(dataset, dt.date(2023, 12, 31))  # before the first order
    panel.update(early)
    assert "No customers" in " ".join(getattr(w, "value", "") for w in panel.widget.children)


def test_dashboard_registers_the_lazy_clv_and_loyalty_tabs(sample_data_dir):
    from workbench.presentation.widgets.clv_panel import ClvPanel
    from workbench.presentation.widgets.dashboard import ExecutiveDashboard
    from workbench.presentation.widgets.loyalty_panel import LoyaltyPanel

    dash = ExecutiveDashboard.from_dir(sample_data_dir)
    titles = list(dash.tabs.titles)
    assert titles.index("Lifetime value") + 1 == titles.index("Loyalty")
    clv_panel = next(p for p in dash.panels if isinstance(p, ClvPanel))
    loyalty = next(p for p in dash.panels if isinstance(p, LoyaltyPanel))
    assert clv_panel.widget.children == () and loyalty.widget.children == ()  # lazy
    dash.tabs.selected_index = titles.index("Lifetime value")
    assert clv_panel.widget.children and loyalty.widget.children == ()
    assert dash.message.layout.display == "none"
    dash.tabs.selected_index = titles.index("Loyalty")
    assert loyalty.widget.children
