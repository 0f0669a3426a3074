"""The executive dashboard without a browser: controls, tiles, panels, errors."""

from __future__ import annotations

import datetime as dt

import altair as alt
import ipywidgets as widgets
import numpy as np
import polars as pl
import pytest
from ipywidgets.widgets.widget import _instances as widget_models

from workbench.analyses.kpi import executive_kpis
from workbench.presentation.widgets import (
    ExecutiveDashboard,
    KpiPanel,
    MigrationPanel,
    Panel,
    ParetoPanel,
    SegmentsPanel,
)
from workbench.presentation.widgets.dashboard import as_of_options, month_ends
from workbench.presentation.widgets.kpi_panel import format_value
from workbench.presentation.widgets.panel import widget_tree
from workbench.presentation.widgets.state import DashboardState, Dataset

LAST = dt.date(2025, 6, 30)
REGIONS = ("North", "South")


def small_dataset(n_customers: int = 150, seed: int = 3) -> Dataset:
    """Random purchases 2024-01 .. 2025-06, two regions, and NPS surveys."""
    rng = np.random.default_rng(seed)
    start = dt.date(2024, 1, 1)
    span = (LAST - start).days
    tx, cust, surv = [], [], []
    for i in range(n_customers):
        cid = f"C{i:04d}"
        region = REGIONS[i % 2]
        cust.append((cid, region, "online" if i % 3 else "store"))
        day = int(rng.integers(0, span))
        gap = rng.choice([0, 15, 45, 120]) * (0.7 if region == "North" else 1.3)
        while day <= span:
            tx.append((cid, start + dt.timedelta(days=day),
                       round(float(rng.lognormal(3.8 if region == "North" else 3.2, 0.7)), 2)))
            if gap == 0:
                break
            day += int(rng.exponential(gap)) + 1
        if i % 4 == 0:
            for _ in range(2):
                surv.append((cid, start + dt.timedelta(days=int(rng.integers(0, span + 1))),
                             float(rng.integers(0, 11))))
    transactions = pl.DataFrame(tx, schema={"customer_id": pl.String, "order_date": pl.Date,
                                            "amount": pl.Float64}, orient="row")
    customers = pl.DataFrame(cust, schema={"customer_id": pl.String, "region": pl.String,
                                           "channel": pl.String}, orient="row")
    surveys = pl.DataFrame(surv, schema={"customer_id": pl.String, "survey_date": pl.Date,
                                         "nps": pl.Float64}, orient="row")
    return Dataset(transactions.sort("customer_id", "order_date"), customers, surveys)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return small_dataset()


@pytest.fixture
def dash(data) -> ExecutiveDashboard:
    return ExecutiveDashboard(data)


def expected_kpis(data: Dataset, as_of: dt.date, region: str | None = None) -> dict[str, dict]:
    tx, surveys = data.transactions, data.surveys
    if region:
        ids = data.customers.filter(pl.col("region") == region)["customer_id"].implode()
        tx = tx.filter(pl.col("customer_id").is_in(ids))
        surveys = surveys.filter(pl.col("customer_id").is_in(ids))
    frame = executive_kpis(tx, as_of, 90, surveys)
    return {r["kpi"]: r for r in frame.iter_rows(named=True)}


def assert_tiles_match(dash: ExecutiveDashboard, expected: dict[str, dict]) -> None:
    assert set(dash.kpis.values) == set(expected)
    for kpi, row in expected.items():
        shown = dash.kpis.values[kpi]
        for col in ("value", "previous", "change"):
            assert shown[col] == pytest.approx(row[col], nan_ok=True), (kpi, col)
        tile = dash.kpis.tiles[kpi]
        assert tile.layout.display != "none"
        assert format_value(row["value"], row["fmt"]) in tile.value
        assert f"kpi-{kpi}" in tile._dom_classes


def panel_errors(dash: ExecutiveDashboard) -> list[str]:
    out = []
    for panel in dash.built_panels:
        for child in panel.widget.children:
            if isinstance(child, widgets.HTML) and "wb-error" in child.value:
                out.append(child.value)
    return out


# -- construction ---------------------------------------------------------------------------------

def test_month_ends_and_as_of_options():
    assert month_ends(dt.date(2024, 11, 30), dt.date(2025, 1, 31)) == [
        dt.date(2024, 11, 30), dt.date(2024, 12, 31), dt.date(2025, 1, 31)]
    options = as_of_options(dt.date(2024, 1, 1), dt.date(2025, 6, 30), 90)
    dates = [d for _, d in options]
    assert dates[0] == dt.date(2025, 6, 30) and dates == sorted(dates, reverse=True)
    assert min(dates) >= dt.date(2024, 3, 31)  # a full comparison period after the first order


def test_dashboard_builds_with_defaults(dash, data):
    assert dash.state.as_of == data.last_date == LAST
    assert dash.as_of_control.value == LAST
    assert "wb-asof" in dash.as_of_control._dom_classes
    assert "wb-filter-attr" in dash.filter_attr._dom_classes
    assert "wb-filter-value" in dash.filter_value._dom_classes
    assert "wb-loading" in dash.loading._dom_classes
    assert dash.loading.layout.visibility == "hidden"
    assert not dash.as_of_control.disabled
    assert dash.filter_value.disabled  # "All customers": no value to choose
    assert [v for _, v in dash.filter_attr.options] == ["", "region", "channel"]
    assert list(dash.tabs.titles) == ["Segments", "Migration", "Concentration",
                                      "Lifetime value", "Loyalty", "Cohorts", "Customer"]
    # only the KPI tiles and the first tab are built; the other tabs when first opened
    assert [type(p) for p in dash.built_panels] == [KpiPanel, SegmentsPanel]
    assert [len(box.children) for box in dash.tabs.children] == [1, 0, 0, 0, 0, 0, 0]
    assert panel_errors(dash) == []
    assert dash.message.layout.display == "none"
    assert_tiles_match(dash, expected_kpis(data, LAST))
    assert "application/vnd.jupyter.widget-view+json" in dash._repr_mimebundle_()


def test_segments_panel_uses_jupyter_charts(dash):
    segments = next(p for p in dash.panels if isinstance(p, SegmentsPanel))
    charts = segments._charts
    assert set(charts) == {"segments", "rf"}
    assert all(isinstance(c, alt.JupyterChart) for c in charts.values())
    assert charts["segments"].embed_options["renderer"] == "svg"
    spec = charts["segments"].spec
    assert spec["layer"][0]["mark"]["type"] == "bar"


def test_hidden_tabs_are_computed_when_opened(dash):
    migration = next(p for p in dash.panels if isinstance(p, MigrationPanel))  # builds them
    pareto = next(p for p in dash.panels if isinstance(p, ParetoPanel))
    assert migration.widget.children == ()  # lazy: not drawn yet
    dash.tabs.selected_index = 1
    assert "flow" in migration._charts
    assert "Added" in migration.table.value
    assert pareto.widget.children == ()
    dash.tabs.selected_index = 2
    assert "lorenz" in pareto._charts
    assert panel_errors(dash) == []


def reachable(root: widgets.Widget) -> set[str]:
    """Model ids of ``root`` and every widget its synced traits refer to (children, layout,
    style...): what a page showing ``root`` receives."""
    return {w.model_id for w in widget_tree([root])}


def shown(box: widgets.Widget) -> tuple[list[str], list[dict]]:
    """The HTML texts and chart specs under ``box``, in order."""
    texts, specs, todo = [], [], [box]
    while todo:
        w = todo.pop(0)
        if isinstance(w, widgets.HTML):
            texts.append(w.value)
        elif isinstance(w, alt.JupyterChart):
            specs.append(w.spec)
        todo.extend(getattr(w, "children", ()))
    return texts, specs


def test_fresh_dashboard_creates_no_widget_of_hidden_tabs(data):
    before = set(widget_models)
    dash = ExecutiveDashboard(data)
    created = set(widget_models) - before
    boxes = dash.tabs.children
    for box in boxes[1:]:  # an empty box (and its layout) per hidden tab, nothing inside
        assert box.children == () and reachable(box) == {box.model_id, box.layout.model_id}
    # every model made is on the page (an untitled panel, the KPI tiles, makes no heading):
    # no panel of a hidden tab was built off-page
    assert created == reachable(dash.widget)
    # opening a tab builds its panels inside its own box (the Customer tab also the shared
    # CLV panel, placed in the Lifetime value tab) and changes no other tab
    for i in range(1, len(boxes)):
        before = set(widget_models)
        dash.tabs.selected_index = i
        new = (set(widget_models) - before) & reachable(dash.widget)
        assert new and boxes[i].children, dash.tabs.titles[i]
        assert new <= reachable(boxes[i]) | reachable(boxes[3]), dash.tabs.titles[i]


def test_opening_each_tab_draws_what_the_eager_build_draws(data):
    eager = ExecutiveDashboard(data, lazy=False)
    dash = ExecutiveDashboard(data)
    for i, title in enumerate(dash.tabs.titles):
        dash.tabs.selected_index = i
        texts, specs = shown(dash.tabs.children[i])
        assert texts and (texts, specs) == shown(eager.tabs.children[i]), title
    assert dash.clv.totals.value == eager.clv.totals.value
    assert "wb-clv-total-clv" in dash.clv.totals.value
    assert [type(p) for p in dash.built_panels] == [type(p) for p in eager.panels]
    assert panel_errors(dash) == [] and dash.message.layout.display == "none"


def test_tab_opened_after_a_change_draws_the_current_selection(data):
    eager = ExecutiveDashboard(data, lazy=False)
    dash = ExecutiveDashboard(data)
    dash.tabs.selected_index = 1  # Migration drawn as of the last date, then left
    dash.tabs.selected_index = 0
    for d in (eager, dash):
        d.set_selection(as_of=dt.date(2025, 3, 31), filter_column="region",
                        filter_value="North")
    titles = list(dash.tabs.titles)
    for title in ("Loyalty", "Migration", "Customer", "Lifetime value"):
        i = titles.index(title)
        dash.tabs.selected_index = i
        assert shown(dash.tabs.children[i]) == shown(eager.tabs.children[i]), title
    assert "31 Mar 2025" in str(shown(dash.tabs.children[titles.index("Migration")]))


def test_customer_tab_builds_the_shared_clv_panel_once(data):
    dash = ExecutiveDashboard(data)
    titles = list(dash.tabs.titles)
    seen = []  # the loading indicator is shown before the panels are built, hidden after
    dash.loading.layout.observe(lambda c: seen.append((c["new"], len(dash.built_panels))),
                                names="visibility")
    dash.tabs.selected_index = titles.index("Customer")
    assert seen == [("visible", 2), ("hidden", 4)]
    clv = dash.customer_view.clv_panel
    assert [type(p).__name__ for p in dash.built_panels] == [
        "KpiPanel", "SegmentsPanel", "ClvPanel", "CustomerView"]
    lifetime = dash.tabs.children[titles.index("Lifetime value")]
    assert lifetime.children == (clv.widget,) and clv.widget.children == ()  # not drawn yet
    dash.tabs.selected_index = titles.index("Lifetime value")
    export = dash.built_panels[3]
    assert dash.clv is clv and export.clv_panel is clv
    assert lifetime.children == (clv.widget, export.widget) and clv.widget.children
    assert sum(type(p).__name__ == "ClvPanel" for p in dash.panels) == 1


def test_not_lazy_draws_every_panel(data):
    dash = ExecutiveDashboard(data, lazy=False)
    assert all(p.widget.children for p in dash.panels)
    assert panel_errors(dash) == []


# -- controls -------------------------------------------------------------------------------------

def test_changing_as_of_updates_tiles_and_charts(dash, data):
    segments = next(p for p in dash.panels if isinstance(p, SegmentsPanel))
    chart_widget = segments._charts["segments"]
    before_spec = chart_widget.spec
    new_date = dt.date(2025, 2, 28)
    dash.as_of_control.value = new_date
    assert dash.state.as_of == new_date
    assert_tiles_match(dash, expected_kpis(data, new_date))
    assert segments._charts["segments"] is chart_widget  # updated in place, not replaced
    assert chart_widget.spec != before_spec
    assert "28 Feb 2025" in str(chart_widget.spec["title"])
    assert dash.loading.layout.visibility == "hidden" and not dash.as_of_control.disabled


def test_filter_by_region_updates_tiles(dash, data):
    dash.filter_attr.value = "region"
    assert list(dash.filter_value.options) == ["All", "North", "South"]
    assert dash.filter_value.value == "All" and not dash.filter_value.disabled
    assert dash.state.customer_ids is None
    dash.filter_value.value = "North"
    assert dash.state.filter_column == "region" and dash.state.filter_value == "North"
    north = expected_kpis(data, LAST, "North")
    assert_tiles_match(dash, north)
    assert north["revenue"]["value"] != expected_kpis(data, LAST)["revenue"]["value"]
    assert "Region = North" in dash.status.value
    # as-of change keeps the filter
    dash.as_of_control.value = dt.date(2025, 3, 31)
    assert_tiles_match(dash, expected_kpis(data, dt.date(2025, 3, 31), "North"))
    # back to everybody
    dash.filter_attr.value = ""
    assert dash.filter_value.disabled and dash.state.customer_ids is None
    assert_tiles_match(dash, expected_kpis(data, dt.date(2025, 3, 31)))


def test_set_selection(dash, data):
    dash.set_selection(as_of=dt.date(2025, 5, 15), filter_column="region", filter_value="South")
    assert dash.as_of_control.value == dt.date(2025, 5, 15)
    assert_tiles_match(dash, expected_kpis(data, dt.date(2025, 5, 15), "South"))


# -- errors ---------------------------------------------------------------------------------------

class BrokenPanel(Panel):
    title = "Broken"
    css_class = "wb-broken"

    def render(self, state):
        raise RuntimeError("no <model> fitted")


def test_panel_shows_message_on_broken_data(data):
    broken = Dataset(data.transactions.drop("amount"), data.customers, data.surveys)
    state = DashboardState(broken, LAST)
    for panel in (SegmentsPanel(), KpiPanel(), MigrationPanel(), ParetoPanel()):
        panel.update(state)  # must not raise
        html = " ".join(c.value for c in panel.widget.children if isinstance(c, widgets.HTML))
        assert "wb-error" in html and "could not be computed" in html
        assert "Traceback" not in html


def test_added_panel_failure_is_contained(dash):
    dash.add_panel(BrokenPanel(), tab="Experimental")
    assert list(dash.tabs.titles)[-1] == "Experimental"
    broken = dash.panels[-1]
    assert broken.widget.children == ()  # lazy: hidden tab
    dash.tabs.selected_index = len(dash.tabs.titles) - 1
    errors = panel_errors(dash)
    assert len(errors) == 1 and "no &lt;model&gt; fitted" in errors[0]
    assert dash.message.layout.display == "none"  # the rest of the dashboard is fine
    dash.filter_attr.value = "region"
    dash.filter_value.value = "South"  # still updates the other panels
    assert dash.kpis.values["revenue"]["value"] is not None


def test_add_panel_to_existing_tab_and_visible_tab(dash):
    class Hello(Panel):
        title = "Hello"

        def render(self, state):
            return [widgets.HTML(f"as of {state.as_of}")]

    panel = dash.add_panel(Hello(), tab="Segments")  # the visible tab: drawn at once
    assert len(dash.tabs.children) == 7
    assert panel.widget in dash.tabs.children[0].children
    assert "as of 2025-06-30" in panel.widget.children[-1].value


def test_from_dir_with_missing_data_shows_message(tmp_path):
    dash = ExecutiveDashboard.from_dir(tmp_path / "nowhere")
    html = dash.widget.children[0].value
    assert "wb-error" in html and "could not be read" in html
    assert dash.state is None


def test_dashboard_survives_data_without_customers_or_surveys(data):
    dash = ExecutiveDashboard(Dataset(data.transactions))
    assert dash.filter_attr.disabled
    assert "nps" not in dash.kpis.values
    assert dash.kpis.tiles["nps"].layout.display == "none"
    assert panel_errors(dash) == []


# -- bounded kernel memory (issue 12) -------------------------------------------------------------

def open_widgets(root: widgets.Widget) -> tuple[int, list[str]]:
    """How many widgets ``root`` shows, and the names of those already closed (no comm)."""
    seen: set[int] = set()
    closed: list[str] = []
    todo = [root]
    while todo:
        w = todo.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        if w.comm is None:
            closed.append(type(w).__name__)
            continue
        for name in w.keys:
            value = getattr(w, name)
            items = value if isinstance(value, (list, tuple)) else [value]
            todo.extend(v for v in items if isinstance(v, widgets.Widget))
    return len(seen), closed


def test_redraws_close_the_widgets_they_replace(sample_data_dir, tmp_path):
    """Changing the as-of date back and forth does not pile up widget models in the kernel,
    shows no closed widget and shows the same page each time it comes back to a date."""
    dash = ExecutiveDashboard.open(sample_data_dir, tmp_path / "cache")
    titles = dash.tabs.titles

    def open_every_tab() -> None:
        for i in range(len(titles)):
            dash.tabs.selected_index = i

    open_every_tab()
    dash.customer_view.show(str(dash.data.transactions["customer_id"][0]))  # a redraw of its own
    first = dash.as_of_control.value
    other = next(d for _, d in dash.as_of_control.options if d != first)
    revenue = dash.kpis.values["revenue"]["value"]
    tile = dash.kpis.tiles["revenue"].value
    page = [shown(box) for box in dash.tabs.children]
    counts = []
    for _ in range(5):
        for as_of in (other, first):
            dash.as_of_control.value = as_of
            open_every_tab()
        counts.append(len(widget_models))
        assert dash.kpis.values["revenue"]["value"] == revenue
        assert dash.kpis.tiles["revenue"].value == tile
        n_shown, closed = open_widgets(dash.widget)
        assert closed == [] and n_shown <= len(widget_models)
    assert [shown(box) for box in dash.tabs.children] == page
    assert "wb-customer-summary" in str(shown(dash.tabs.children[titles.index("Customer")]))
    assert panel_errors(dash) == []
    # each round redraws every panel twice: without closing, each round added 78 models
    assert counts[-1] - counts[0] <= 5, counts
