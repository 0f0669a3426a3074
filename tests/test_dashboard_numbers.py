"""One definition per number, locale formats, CSV export and the customer view (no browser)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

import polars as pl
import pytest

from workbench.analyses.kpi import MIN_BASE_CUSTOMERS, comparable, executive_kpis, period_nps
from workbench.core.io import validate_surveys, validate_transactions
from workbench.presentation.formatting import NumberFormats, use_formats
from workbench.presentation.widgets.kpi_panel import format_value, tile_html
from workbench.presentation.widgets.state import DashboardState, Dataset


@pytest.fixture(scope="module")
def state(sample_data_dir) -> DashboardState:
    data = Dataset.from_dir(sample_data_dir)
    return DashboardState(data, data.last_date, 90)


def kpi_rows(state: DashboardState) -> dict[str, dict]:
    k = executive_kpis(state.transactions, state.as_of, 90, state.surveys)
    return {r["kpi"]: r for r in k.iter_rows(named=True)}


def test_top20_share_tile_equals_concentration_tab(state):
    from workbench.analyses.pareto import pareto_table, top_share
    from workbench.presentation.widgets.rfm_panels import ParetoPanel

    tile = kpi_rows(state)["top20_share"]["value"]
    assert top_share(state.trailing_revenue, 0.2) == tile
    panel = ParetoPanel()
    panel.update(state)
    assert state.extras["top20"] == tile
    table = pareto_table(state.trailing_revenue)
    assert table.filter(pl.col("top_customers_share") == 0.2)["value_share"].item() == tile
    shown = format_value(tile, "pct")
    assert shown in panel.table.value  # the table prints the tile's number


def test_nps_tile_equals_loyalty_headline(state):
    from workbench.presentation.widgets.loyalty_panel import LoyaltyPanel

    tile = kpi_rows(state)["nps"]["value"]
    assert period_nps(state.surveys, state.as_of, 90)["nps"] == tile
    panel = LoyaltyPanel()
    panel.update(state)
    assert f"NPS {tile:+.0f} of the surveys of the last 90 days" in panel.summary.value


def test_active_customers_is_defined_on_the_tile(state):
    rows = kpi_rows(state)
    active = rows["active_customers"]
    since = state.as_of - dt.timedelta(days=90)
    bought = state.orders.filter(pl.col("order_date") > since)["customer_id"].n_unique()
    assert active["value"] == bought
    assert active["definition"] == "Customers who bought in the last 90 days"
    html = tile_html(active)
    assert "Customers who bought in the last 90 days" in html and "title='Active" in html


def test_change_against_a_tiny_base_is_na():
    # 1 customer in the previous period, 40 in the current one
    ids = ["old"] + [f"c{i}" for i in range(40)]
    dates = ["2024-02-01"] + ["2024-06-01"] * 40
    tx = validate_transactions(pl.DataFrame({"customer_id": ids, "order_date": dates,
                                             "amount": ["1"] + ["250"] * 40}))
    rows = {r["kpi"]: r for r in executive_kpis(tx, "2024-06-30", 90).iter_rows(named=True)}
    rev = rows["revenue"]
    assert rev["previous"] == 1.0 and rev["change"] == pytest.approx(9999.0)
    assert rev["comparable"] is False and rev["change_pct"] is None
    html = tile_html(rev)
    assert "n/a" in html and "%" not in html.split("wb-kpi-change")[1].split("vs")[0]
    assert "wb-good" not in html


def test_comparable_rule():
    assert comparable("revenue", 100.0, 90.0, MIN_BASE_CUSTOMERS)
    assert not comparable("revenue", 100.0, 90.0, MIN_BASE_CUSTOMERS - 1)
    assert not comparable("revenue", 100.0, 4.9, 1000)  # below 5 % of the current value
    assert comparable("revenue", 100.0, 5.0, 1000)
    assert comparable("repeat_rate", 0.5, 0.01, 1000)  # shares: the base size only
    assert not comparable("nps", 30.0, None, 1000)


def test_hand_computed_kpis_say_what_they_count():
    tx = validate_transactions(pl.DataFrame({
        "customer_id": ["a", "a", "b"], "order_date": ["2024-01-10", "2024-05-10", "2024-05-20"],
        "amount": ["10", "20", "30"]}))
    surveys = validate_surveys(pl.DataFrame({"customer_id": ["a"], "survey_date": ["2024-06-01"],
                                             "nps": ["9"]}))
    k = executive_kpis(tx, "2024-06-30", 90, surveys)
    assert k["definition"].null_count() == 0
    assert not k["comparable"].any()  # two customers: nothing is comparable
    assert k.filter(pl.col("kpi") == "nps")["previous_base"].item() == 0


@pytest.mark.parametrize(("currency", "locale", "expected"), [
    ("USD", "en_US", "$620.6K"), ("EUR", "de_DE", "620.624\xa0€"), ("GBP", "en_GB", "£620.6k"),
])
def test_currency_from_the_locale(currency, locale, expected):
    formats = NumberFormats(currency, locale)
    assert format_value(620624.1, "currency", formats) == expected
    try:
        use_formats(currency, locale)
        assert format_value(620624.1, "currency") == expected
    finally:
        use_formats()


def test_charts_get_the_locale():
    import altair as alt

    from workbench.presentation.widgets.panel import localized

    try:
        use_formats("EUR", "de_DE")
        spec = localized(alt.Chart(pl.DataFrame({"x": [1]})).mark_bar().encode(x="x:Q"))
        number = spec.to_dict()["config"]["locale"]["number"]
        assert number["currency"] == ["", "\xa0€"] and number["decimal"] == ","
    finally:
        use_formats()


def test_dataset_currency_reaches_the_dashboard(sample_data_dir):
    from workbench.presentation.formatting import current
    from workbench.presentation.widgets.dashboard import ExecutiveDashboard

    data = Dataset.from_dir(sample_data_dir)
    data.currency, data.locale = "EUR", "de_DE"
    try:
        dash = ExecutiveDashboard(data)
        assert current().code == "EUR"
        revenue = dash.kpis.tiles["revenue"].value
        assert "€" in revenue and "$" not in revenue
        assert "amounts in EUR" in dash.status.value
    finally:
        use_formats()


def test_no_survey_data_is_said_plainly(sample_data_dir):
    from workbench.presentation.widgets.loyalty_panel import LoyaltyPanel

    data = Dataset.from_dir(sample_data_dir)
    data.surveys = None
    state = DashboardState(data, data.last_date, 90)
    panel = LoyaltyPanel()
    panel.update(state)
    text = " ".join(getattr(w, "value", "") for w in panel.widget.children
                    if isinstance(getattr(w, "value", None), str))
    assert "No survey data" in text
    assert "nps" not in executive_kpis(state.transactions, state.as_of, 90)["kpi"].to_list()


def _link_csv(html: str) -> pl.DataFrame:
    data = re.search(r"base64,([A-Za-z0-9+/=]+)", html).group(1)
    return pl.read_csv(io.BytesIO(base64.b64decode(data)), infer_schema=False)


def test_segment_export_is_the_segment(state):
    from workbench.presentation.widgets.rfm_panels import SegmentsPanel, segment_members

    panel = SegmentsPanel()
    panel.update(state)
    panel.segment_choice.value = "Champions"
    panel.export.button.click()
    got = _link_csv(panel.export.link.value)
    expected = segment_members(state, "Champions")
    assert got.columns == expected.columns and got.height == expected.height
    assert got["customer_id"].to_list() == expected["customer_id"].to_list()
    assert "download='segment-champions-" in panel.export.link.value


def test_migration_cell_export(state):
    from workbench.analyses.migration import segment_migration
    from workbench.presentation.widgets.rfm_panels import MigrationPanel

    panel = MigrationPanel()
    panel.update(state)
    panel.export.button.click()
    got = _link_csv(panel.export.link.value)
    moves = segment_migration(state.previous_segments, state.segments)
    n = moves.filter((pl.col("segment_from") == panel.from_choice.value)
                     & (pl.col("segment_to") == panel.to_choice.value)).height
    assert got.height == n > 0
    assert set(got["segment_before"]) == {panel.from_choice.value}


def test_customer_view_history_and_unknown_id(state):
    from workbench.presentation.widgets.customer_view import CustomerView

    view = CustomerView()
    view.update(state)
    cid = state.orders["customer_id"].sort()[0]
    view.show(cid)
    n = state.orders.filter(pl.col("customer_id") == cid).height
    assert view.history_rows == n
    html = " ".join(w.value for w in view.body.children if hasattr(w, "value"))
    assert f"data-rows='{n}'" in html
    view.show("no-such-id")
    assert view.body.children[0].value.endswith("Customer no-such-id is not in the data.</div>")


def test_cohort_panel_draws(state):
    from workbench.presentation.widgets.cohort_panel import CohortPanel

    panel = CohortPanel()
    panel.update(state)
    spec = panel._charts["cohorts"].chart.to_dict()
    assert spec["layer"][0]["mark"]["type"] == "rect"
    panel.measure.value = "Revenue"
    assert panel._charts["cohorts"].chart.to_dict()["layer"][0]["encoding"]["color"][
        "field"] == "revenue"
