"""The executive dashboard in headless Chromium, served by Voilà with the sample data."""

from __future__ import annotations

import re
import time

import pytest
from browser import assert_no_errors, open_dashboard, save_screenshot
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KPIS = ("active_customers", "revenue", "repeat_rate", "top20_share", "nps")


def expected_kpis(data_dir, *, as_of=None, filter_column=None, filter_value=None) -> dict:
    """The KPI values the library gives for the same data, date and filter as the page."""
    from workbench.analyses.kpi import executive_kpis
    from workbench.presentation.widgets.state import DashboardState, Dataset

    data = Dataset.from_dir(data_dir)
    state = DashboardState(data, as_of or data.last_date, 90, filter_column=filter_column,
                           filter_value=filter_value)
    kpis = executive_kpis(state.transactions, state.as_of, 90, state.surveys)
    return {r["kpi"]: r["value"] for r in kpis.iter_rows(named=True)}


def assert_tiles_show(page: Page, expected: dict, timeout: float = 30.0) -> None:
    """Every KPI tile's raw value (``data-value``) equals the library's value."""
    deadline = time.monotonic() + timeout
    while True:
        shown = {k: page.locator(f".kpi-{k} .wb-kpi-value").get_attribute("data-value")
                 for k in KPIS}
        ok = all(
            (shown[k] == "" and expected[k] is None)
            or (shown[k] not in (None, "") and expected[k] is not None
                and float(shown[k]) == pytest.approx(expected[k], rel=1e-12, abs=1e-12))
            for k in KPIS
        )
        if ok:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"tiles show {shown}, the library gives "
                                 f"{ {k: expected[k] for k in KPIS} }")
        time.sleep(0.2)
SEGMENT_MARKS = ".wb-chart-segments svg [role='graphics-symbol'][aria-label]"


def segment_labels(page: Page) -> list[str]:
    return page.locator(SEGMENT_MARKS).evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))")


def wait_until_idle(page: Page) -> None:
    """The loading indicator is hidden and the controls are enabled again."""
    expect(page.locator(".wb-loading")).to_be_hidden(timeout=30_000)
    expect(page.locator(".wb-asof select")).to_be_enabled(timeout=30_000)


def wait_for_change(page: Page, read, before, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = read()
        if now and now != before:
            return now
        page.wait_for_timeout(200)
    raise AssertionError(f"no change within {timeout:.0f} s (still {before!r})")


def test_executive_dashboard(voila_server, page: Page, sample_data_dir):
    page.set_viewport_size({"width": 1280, "height": 1400})
    started = time.monotonic()
    dash = open_dashboard(page, voila_server.url("executive.ipynb"))

    # KPI tiles with numbers
    for kpi in KPIS:
        value = page.locator(f".kpi-{kpi} .wb-kpi-value")
        expect(value).to_have_text(re.compile(r"\d"))
        expect(page.locator(f".kpi-{kpi} .wb-kpi-change")).to_have_text(re.compile(r"[▲▼▬]"))

    # ... and the numbers are the library's for the same data and date
    assert_tiles_show(page, expected_kpis(sample_data_dir))

    # the segment chart has marks (SVG renderer: one DOM element per bar)
    page.locator(SEGMENT_MARKS).first.wait_for(state="attached")
    first_render = time.monotonic() - started
    # includes waiting for the preheated kernel when the server has just started
    print(f"first render (navigation to segment marks): {first_render:.2f} s")
    before = segment_labels(page)
    assert len(before) >= 10 and any("Champions" in label for label in before)
    assert page.locator(".wb-chart-rf svg [role='graphics-symbol']").count() >= 25
    save_screenshot(page, "executive-dashboard")

    # filter by region: tiles and the segment chart change
    revenue = page.locator(".kpi-revenue .wb-kpi-value")
    revenue_all = revenue.inner_text()
    page.locator(".wb-filter-attr select").select_option(value=None, label="Region")
    expect(page.locator(".wb-filter-value select")).to_be_enabled()
    region = page.locator(".wb-filter-value select option").nth(1).inner_text()
    page.locator(".wb-filter-value select").select_option(label=region)
    wait_for_change(page, lambda: revenue.inner_text(), revenue_all)
    after = wait_for_change(page, lambda: segment_labels(page), before)
    assert len(after) >= 2
    wait_until_idle(page)
    expect(page.locator(".wb-status")).to_contain_text(f"Region = {region}")
    assert_tiles_show(page, expected_kpis(sample_data_dir, filter_column="region",
                                          filter_value=region))

    # an earlier as-of date: the tiles change
    revenue_region = revenue.inner_text()
    active = page.locator(".kpi-active_customers .wb-kpi-value").inner_text()
    page.locator(".wb-asof select").select_option(index=6)
    wait_for_change(page, lambda: (revenue.inner_text(),
                                   page.locator(".kpi-active_customers .wb-kpi-value")
                                   .inner_text()), (revenue_region, active))
    wait_until_idle(page)
    from workbench.presentation.widgets.dashboard import as_of_options
    from workbench.presentation.widgets.state import Dataset

    data = Dataset.from_dir(sample_data_dir)
    chosen = as_of_options(data.first_date, data.last_date, 90, extra=data.last_date)[6][1]
    assert_tiles_show(page, expected_kpis(sample_data_dir, as_of=chosen,
                                          filter_column="region", filter_value=region))

    # the other tabs draw when opened
    page.get_by_role("tab", name="Migration").click()
    page.locator(".wb-chart-flow svg [role='graphics-symbol']").first.wait_for(state="attached")
    expect(page.locator(".wb-migration-table table")).to_be_visible()
    save_screenshot(page, "executive-dashboard-migration")
    page.get_by_role("tab", name="Concentration").click()
    page.locator(".wb-chart-lorenz svg [role='graphics-symbol']").first.wait_for(
        state="attached")
    wait_until_idle(page)

    # no error output, traceback or panel error anywhere
    assert page.locator(".wb-error").count() == 0
    assert "Traceback" not in page.locator("body").inner_text()
    assert_no_errors(dash)
    save_screenshot(page, "executive-dashboard-final")


CLV_VALUE = ".wb-clv-total-clv .wb-kpi-value"


def clv_value(page: Page) -> str | None:
    locator = page.locator(CLV_VALUE)
    return locator.get_attribute("data-value") if locator.count() else None


def test_lifetime_value_and_loyalty_tabs(voila_server, page: Page):
    page.set_viewport_size({"width": 1280, "height": 1400})
    dash = open_dashboard(page, voila_server.url("executive.ipynb"))
    page.locator(".kpi-revenue .wb-kpi-value").wait_for()
    wait_until_idle(page)

    # Lifetime value: computed when the tab is first opened
    started = time.monotonic()
    page.get_by_role("tab", name="Lifetime value").click()
    expect(page.locator(CLV_VALUE)).to_have_text(re.compile(r"\$\d"), timeout=60_000)
    for key in ("clv-segments", "clv-distribution"):
        page.locator(f".wb-chart-{key} svg [role='graphics-symbol']").first.wait_for(
            state="attached")
    first_render = time.monotonic() - started
    print(f"Lifetime value tab, first render (click to chart marks): {first_render:.2f} s")
    for tile in ("historical", "purchases", "alive"):
        expect(page.locator(f".wb-clv-total-{tile} .wb-kpi-value")).to_have_text(
            re.compile(r"\d"))
    assert page.locator(".wb-chart-clv-segments svg [role='graphics-symbol']").count() >= 10
    rows = page.locator(".wb-at-risk table tbody tr")
    expect(rows.first).to_be_visible()
    assert 1 <= rows.count() <= 10
    expect(rows.first.locator("td.wb-why")).to_contain_text("P(alive)")
    expect(page.locator(".wb-clv-caption")).to_contain_text("margin")
    wait_until_idle(page)
    save_screenshot(page, "executive-dashboard-clv")

    # a region filter refits on the selection: the predicted value changes
    before = clv_value(page)
    page.locator(".wb-filter-attr select").select_option(label="Region")
    expect(page.locator(".wb-filter-value select")).to_be_enabled()
    region = page.locator(".wb-filter-value select option").nth(1).inner_text()
    page.locator(".wb-filter-value select").select_option(label=region)
    after = wait_for_change(page, lambda: clv_value(page), before)
    assert float(after) < float(before)
    wait_until_idle(page)
    expect(page.locator(".wb-status")).to_contain_text(f"Region = {region}")
    expect(page.locator(".wb-at-risk")).to_be_visible()
    save_screenshot(page, "executive-dashboard-clv-region")

    # Loyalty: the type matrix and the early warnings
    page.get_by_role("tab", name="Loyalty").click()
    page.locator(".wb-chart-loyalty-matrix svg [role='graphics-symbol']").first.wait_for(
        state="attached", timeout=60_000)
    expect(page.locator(".wb-loyalty-matrix")).to_be_visible()
    expect(page.locator(".wb-loyalty-matrix-table table")).to_be_visible()
    expect(page.locator(".wb-early-warnings table")).to_be_visible()
    wait_until_idle(page)
    save_screenshot(page, "executive-dashboard-loyalty")

    assert page.locator(".wb-error").count() == 0
    assert "Traceback" not in page.locator("body").inner_text()
    assert_no_errors(dash)


def test_header_only_data_shows_a_plain_message(start_voila, repo_root, tmp_path_factory,
                                                page: Page):
    """A data folder whose transactions file has only a header: every panel says so in one
    sentence; no traceback, no server path."""
    data_dir = tmp_path_factory.mktemp("header-only-data")
    (data_dir / "transactions.csv").write_text("customer_id,order_date,amount\n")
    server = start_voila(repo_root / "dashboards", data_dir)
    dash = open_dashboard(page, server.url("executive.ipynb"))
    message = "No customers with purchases: the transactions have no data rows."
    for panel in (".wb-kpis", ".wb-segments"):
        expect(page.locator(f"{panel} .wb-notice")).to_have_text(message, timeout=60_000)
    expect(page.locator(".wb-status")).to_contain_text("No transactions in the data")
    page.get_by_role("tab", name="Lifetime value").click()
    expect(page.locator(".wb-clv .wb-notice")).to_have_text(message, timeout=60_000)
    assert page.locator(".wb-error").count() == 0
    assert page.locator(".wb-kpi-value").count() == 0 or not page.locator(
        ".wb-kpi-value").first.is_visible()
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and str(data_dir) not in body
    assert_no_errors(dash)
    save_screenshot(page, "executive-dashboard-header-only")
