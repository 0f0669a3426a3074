"""Loyalty charts (workbench.presentation.charts.loyalty), the full analysis and the dashboard
panel."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl
import pytest

from workbench.analyses.loyalty import analyse_loyalty, choose_segments, key_figures_line
from workbench.app.sample_data import generate_sample_data
from workbench.core.io import validate_customers, validate_surveys, validate_transactions
from workbench.core.prepare import prepare_orders
from workbench.presentation.charts import loyalty as lc
from workbench.presentation.widgets.state import DashboardState, Dataset

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def data() -> Dataset:
    raw = generate_sample_data(n_customers=800, seed=11)
    return Dataset(validate_transactions(raw["transactions"]),
                   validate_customers(raw["customers"]), validate_surveys(raw["surveys"]))


@pytest.fixture(scope="module")
def analysis(data):
    orders, _ = prepare_orders(data.transactions, AS_OF)
    seg = choose_segments("customer_type", customers=data.customers)
    return analyse_loyalty(orders, AS_OF, surveys=data.surveys, customers=data.customers,
                           segments=seg, n_boot=100)


def test_analysis_is_consistent(analysis):
    la = analysis
    buyers = la.types.filter(pl.col("behaviour").is_not_null())
    assert la.matrix["customers"].sum() == buyers.height == la.behaviour.height
    assert la.coverage["surveyed"] + la.coverage["unknown"] == buyers.height
    unknown = buyers.filter(pl.col("attitude") == "unknown").height
    assert unknown == la.coverage["unknown"]
    assert la.value_basis == "profit"  # the sample data have cost
    assert la.segment_attitude["segment"].to_list() == ["B2B", "B2C", "All"]
    figs = la.key_figures()
    assert sum(figs["types"].values()) == la.types.height
    assert key_figures_line(figs).startswith("LOYALTY_KEY_FIGURES {")


def test_charts_build_and_render(analysis):
    la = analysis
    charts = [lc.loyalty_matrix_chart(la.matrix, value_label="profit"),
              lc.satisfaction_zones_chart(la.perceived),
              lc.zone_counts_chart(la.segment_attitude),
              lc.drivers_chart(la.drivers),
              lc.early_warning_chart(la.warnings, top=10),
              lc.type_share_chart(la.type_summary)]
    for chart in charts:
        spec = chart.to_dict()
        assert "$schema" in spec

    def rows(chart: alt.TopLevelMixin) -> list[dict]:
        (data,) = chart.to_dict()["datasets"].values()
        return data

    # zone counts: one row per segment and zone, the customers of each zone column
    zones = la.segment_attitude
    got = {(r["segment"], r["zone"]): r["customers"] for r in rows(charts[2])}
    assert len(got) == 4 * zones.height
    for r in zones.iter_rows(named=True):
        for zone in ("loss", "weak", "satisfied"):
            assert got[(r["segment"], zone)] == r[f"zone_{zone}"]
        assert got[(r["segment"], "no survey")] == r["unknown"]
    # drivers: every criterion x target with its correlation and interval
    assert sorted((r["target"], r["criterion"], r["rho"]) for r in rows(charts[3])) == sorted(
        la.drivers.select("target", "criterion", "rho").rows())
    # early warnings: the top 10 by value at stake, in rank order
    top = la.warnings.sort("rank").head(10)
    assert [r["customer_id"] for r in rows(charts[4])] == top["customer_id"].to_list()
    assert [r["value_at_stake"] for r in rows(charts[4])] == top["value_at_stake"].to_list()
    # type shares: customer and value share of every loyalty type
    shares = {(r["loyalty_type"], r["measure"]): r["share"] for r in rows(charts[5])}
    for r in la.type_summary.iter_rows(named=True):
        assert shares[(r["loyalty_type"], "customers")] == pytest.approx(r["customer_share"])
        assert shares[(r["loyalty_type"], "value")] == pytest.approx(r["value_share"])
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(charts[0].to_dict())
    assert "premium" in svg and "attitude unknown (no survey)" in svg
    # the matrix chart data carry the unknown-attitude column
    matrix_data = next(iter(charts[0].to_dict()["datasets"].values()))
    assert {r["attitude"] for r in matrix_data} == {"high", "low", "unknown"}
    zones = next(iter(charts[1].to_dict()["datasets"].values()))
    assert sum(r["customers"] for r in zones) == la.perceived["satisfaction_share"].count()


def test_panel_renders_with_stable_classes(data):
    from workbench.presentation.widgets.loyalty_panel import LoyaltyPanel

    state = DashboardState(data, AS_OF)
    panel = LoyaltyPanel(top_warnings=5)
    panel.update(state)
    kids = panel.widget.children
    assert "wb-loyalty" in panel.widget._dom_classes
    assert not any("wb-error" in getattr(k, "value", "") for k in kids)

    def walk(w):
        yield w
        for c in getattr(w, "children", ()):
            yield from walk(c)

    classes = {cls for w in walk(panel.widget) for cls in w._dom_classes}
    for cls in ("wb-loyalty-matrix", "wb-early-warnings", "wb-satisfaction-zones",
                "wb-loyalty-summary", "wb-loyalty-matrix-table", "wb-chart-loyalty-matrix"):
        assert cls in classes
    charts = [w for w in walk(panel.widget) if isinstance(w, alt.JupyterChart)]
    assert len(charts) == 2
    assert panel.warnings_table.value.count("<tr data-customer=") == 5
    assert "attitude known for" in panel.summary.value
    # the dashboard filter applies: a new state (B2B only) recomputes
    b2b = state.with_selection(filter_column="customer_type", filter_value="B2B")
    panel.update(b2b)
    la = b2b.extras["loyalty_analysis"]
    assert f"{la.coverage['customers']:,} buyers" in panel.summary.value
    assert set(la.types["customer_id"]) <= set(
        data.customers.filter(pl.col("customer_type") == "B2B")["customer_id"])


def test_panel_uses_the_purchase_model(data):
    """The tab's analysis carries BG/NBD P(alive) and ranks warnings by predicted CLV."""
    from workbench.analyses.loyalty import purchase_model_inputs
    from workbench.presentation.widgets.loyalty_panel import LoyaltyPanel

    state = DashboardState(data, AS_OF)
    la = LoyaltyPanel().analysis(state)
    assert la.behaviour["p_alive"].null_count() == 0
    assert la.behaviour["p_alive"].is_between(0, 1).all()
    assert (la.warnings["value_source"] == "value").all()
    clv = purchase_model_inputs(state.transactions, AS_OF)["value_at_stake"]
    top = la.warnings.row(0, named=True)
    assert top["value_at_stake"] == pytest.approx(
        clv.filter(pl.col("customer_id") == top["customer_id"])["value"].item(), rel=1e-6)
