"""The executive dashboard's interactions in headless Chromium: CSV exports, the customer view,
the cohort panel, and the layout on a 390 px phone screen and at 1440 px."""

from __future__ import annotations

import csv
import io
import re

import polars as pl
import pytest
from browser import assert_no_errors, open_dashboard, save_screenshot
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def library_state(sample_data_dir):
    """The state the page starts with (sample data, last date, no filter)."""
    from workbench.presentation.widgets.state import DashboardState, Dataset

    data = Dataset.from_dir(sample_data_dir)
    return DashboardState(data, data.as_of or data.last_date, 90)


def wait_until_idle(page: Page) -> None:
    expect(page.locator(".wb-loading")).to_be_hidden(timeout=60_000)
    expect(page.locator(".wb-asof select")).to_be_enabled(timeout=60_000)


def download_csv(page: Page, box: str) -> tuple[list[str], list[list[str]], str]:
    """Click the CSV button in ``box``, then the link; the downloaded file's header and rows."""
    page.locator(f"{box} .wb-export-button").click()
    link = page.locator(f"{box} a.wb-download-link")
    link.wait_for(timeout=120_000)
    with page.expect_download() as info:
        link.click()
    download = info.value
    text = open(download.path(), encoding="utf-8").read()
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:], download.suggested_filename


def no_horizontal_scroll(page: Page) -> None:
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, f"page scrolls sideways: {scroll} px content on {width} px"


def test_exports_download_the_lists(voila_server, page: Page, library_state):
    from workbench.presentation.widgets.rfm_panels import migration_cell, segment_members

    page.set_viewport_size({"width": 1280, "height": 1200})
    dash = open_dashboard(page, voila_server.url("executive.ipynb"))
    page.locator(".wb-chart-segments svg [role='graphics-symbol']").first.wait_for(
        state="attached", timeout=60_000)
    wait_until_idle(page)

    # segment members: pick a segment, download, same customers as the library
    page.locator(".wb-segment-choice select").select_option(label="At Risk")
    header, rows, name = download_csv(page, ".wb-export-segment")
    expected = segment_members(library_state, "At Risk")
    assert header == expected.columns
    assert len(rows) == expected.height > 0
    assert {r[0] for r in rows} == set(expected["customer_id"].to_list())
    assert name.endswith(".csv") and "at-risk" in name
    save_screenshot(page, "dashboard-export-segment")

    # a migration cell
    page.get_by_role("tab", name="Migration").click()
    page.locator(".wb-chart-flow svg [role='graphics-symbol']").first.wait_for(
        state="attached", timeout=60_000)
    wait_until_idle(page)
    source = page.locator(".wb-migration-from select").input_value()
    target = page.locator(".wb-migration-to select").input_value()
    header, rows, _ = download_csv(page, ".wb-export-migration")
    cell = migration_cell(library_state, source, target)
    assert header == cell.columns and len(rows) == cell.height > 0
    assert {(r[1], r[2]) for r in rows} == {(source, target)}

    # the early warnings (Loyalty)
    page.get_by_role("tab", name="Loyalty").click()
    page.locator(".wb-early-warnings table").wait_for(timeout=120_000)
    wait_until_idle(page)
    header, rows, _ = download_csv(page, ".wb-export-warnings")
    shown = int(re.search(r"Early warnings: ([\d,]+) customers",
                          page.locator(".wb-early-warnings").inner_text()).group(1)
                .replace(",", ""))
    assert header[:2] == ["rank", "customer_id"] and len(rows) == shown > 0
    assert [int(r[0]) for r in rows] == sorted(int(r[0]) for r in rows)
    assert page.locator(".wb-error").count() == 0
    assert_no_errors(dash)


def test_customer_view(voila_server, page: Page, library_state):
    from workbench.core.prepare import prepare_orders

    orders, _ = prepare_orders(library_state.transactions, library_state.as_of)
    counts = orders.group_by("customer_id").len().sort(["len", "customer_id"],
                                                      descending=[True, False])
    customer, n_orders = counts.row(0)

    page.set_viewport_size({"width": 1280, "height": 1200})
    dash = open_dashboard(page, voila_server.url("executive.ipynb"))
    page.locator(".kpi-revenue .wb-kpi-value").wait_for(timeout=60_000)
    wait_until_idle(page)
    page.get_by_role("tab", name="Customer").click()
    page.locator(".wb-customer-id input").fill(customer)
    page.locator(".wb-customer-show").click()
    table = page.locator("table.wb-customer-history")
    table.wait_for(timeout=120_000)
    assert table.get_attribute("data-rows") == str(n_orders)
    assert table.locator("tbody tr").count() == n_orders
    page.locator(".wb-chart-customer-alive svg [role='graphics-symbol']").first.wait_for(
        state="attached", timeout=120_000)
    page.locator(".wb-chart-customer-segments svg [role='graphics-symbol']").first.wait_for(
        state="attached", timeout=60_000)
    expect(page.locator(".wb-customer-drivers")).to_contain_text("Predicted CLV")
    expect(page.locator(".wb-customer-drivers")).to_contain_text("P(alive)")
    wait_until_idle(page)
    save_screenshot(page, "dashboard-customer-view")

    # an unknown id: one plain sentence
    page.locator(".wb-customer-id input").fill("NO-SUCH-CUSTOMER")
    page.locator(".wb-customer-show").click()
    expect(page.locator(".wb-customer-message")).to_have_text(
        "Customer NO-SUCH-CUSTOMER is not in the data.", timeout=30_000)
    assert page.locator(".wb-error").count() == 0
    assert_no_errors(dash)


def test_cohort_panel(voila_server, page: Page, library_state):
    from workbench.analyses.cohorts import cohort_retention

    page.set_viewport_size({"width": 1280, "height": 1200})
    dash = open_dashboard(page, voila_server.url("executive.ipynb"))
    page.locator(".kpi-revenue .wb-kpi-value").wait_for(timeout=60_000)
    wait_until_idle(page)
    page.get_by_role("tab", name="Cohorts").click()
    marks = page.locator(".wb-chart-cohorts svg g.mark-rect [role='graphics-symbol']")
    marks.first.wait_for(state="attached", timeout=60_000)
    table = cohort_retention(library_state.orders, library_state.as_of)
    last = table["cohort"].unique().sort().tail(18)
    expected = table.filter(pl.col("cohort").is_in(last.implode()) & (pl.col("period") < 18))
    assert marks.count() == expected.height
    page.locator(".wb-cohort-measure button", has_text="Revenue").click()
    expect(page.locator(".wb-chart-cohorts")).to_contain_text("revenue", timeout=30_000)
    wait_until_idle(page)
    save_screenshot(page, "dashboard-cohorts")
    assert page.locator(".wb-error").count() == 0
    assert_no_errors(dash)


@pytest.mark.parametrize("width", [390, 1440])
def test_layout_fits_the_screen(voila_server, page: Page, width: int):
    page.set_viewport_size({"width": width, "height": 900 if width < 600 else 1000})
    dash = open_dashboard(page, voila_server.url("executive.ipynb"))
    page.locator(".wb-chart-segments svg [role='graphics-symbol']").first.wait_for(
        state="attached", timeout=60_000)
    wait_until_idle(page)
    no_horizontal_scroll(page)
    # the tiles wrap and say what they count
    for kpi in ("active_customers", "revenue"):
        tile = page.locator(f".kpi-{kpi} .wb-kpi-tile")
        box = tile.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    expect(page.locator(".kpi-active_customers .wb-kpi-def")).to_have_text(
        "Customers who bought in the last 90 days")
    save_screenshot(page, f"dashboard-{width}px", full_page=True)
    for tab, mark in (("Migration", ".wb-chart-flow"), ("Concentration", ".wb-chart-lorenz"),
                      ("Cohorts", ".wb-chart-cohorts")):
        page.get_by_role("tab", name=tab).click()
        page.locator(f"{mark} svg [role='graphics-symbol']").first.wait_for(
            state="attached", timeout=60_000)
        wait_until_idle(page)
        no_horizontal_scroll(page)
        save_screenshot(page, f"dashboard-{width}px-{tab.lower()}", full_page=True)
    assert page.locator(".wb-error").count() == 0
    assert_no_errors(dash)
