"""The two-step flow of a new user on an export they did not make for us (issue 11): an
Online-Retail-shaped file (several lines per invoice, cancellations, ids like ``17850.0``, a
quarter of the lines without a customer id), ``workbench init``, then ``workbench report`` and
``workbench serve`` with the project file it wrote.  Every report runs, the revenue ties out
(revenue in = revenue kept + revenue set aside, to the cent), and the dashboard served from the
project file shows the library's numbers on every tab, in a real Chromium."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from browser import assert_no_errors, open_dashboard, start_serve, stop
from cli_helpers import run_main
from playwright.sync_api import Page, expect
from test_dashboard_browser import expected_kpis
from test_missing_customer_id import retail_export_with_blanks

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
TABS = ("Migration", "Concentration", "Lifetime value", "Loyalty")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("own-data")
    written = retail_export_with_blanks(folder / "export.csv", lines=3000)
    from workbench.app.cli import main

    assert main(["init", str(folder / "export.csv")]) == 0
    config = folder / "workbench.toml"
    assert 'missing_customer_id = "set_aside"' in config.read_text()
    return config, written


def test_every_report_runs_and_the_revenue_ties_out(project, tmp_path: Path, capsys) -> None:
    config, written = project
    out = tmp_path / "reports"
    code, stdout, stderr = run_main(
        ["report", "--config", str(config), "--out", str(out), "--no-progress"], capsys)
    assert code == 0, stdout + stderr
    summary = json.loads((out / "summary.json").read_text())
    assert [r["ok"] for r in summary["reports"]] == [True, True, True]
    quality = summary["data_quality"]
    assert quality["rows_read"] == written["lines"]
    assert quality["no_customer_id_rows"] == len(written["blank_rows"])
    # every line and every cent in exactly one bucket
    buckets = quality["tie_out"]
    assert sum(b["lines"] for b in buckets.values()) == written["lines"]
    total = sum(Decimal(str(b["amount"])) for b in buckets.values())
    assert total.quantize(Decimal("0.01")) == written["revenue_in"].quantize(Decimal("0.01"))
    assert Decimal(str(quality["revenue_in"])).quantize(Decimal("0.01")) == (
        written["revenue_in"].quantize(Decimal("0.01")))
    for name in ("clv", "loyalty", "rfm_segmentation"):
        assert (out / f"{name}.html").is_file(), name


@pytest.fixture(scope="module")
def served(project, tmp_path_factory: pytest.TempPathFactory):
    config, _ = project
    proc, url, _ = start_serve(
        "--config", str(config), "--viewers", "2",
        "--cache-dir", str(tmp_path_factory.mktemp("own-data-cache")), cwd=ROOT,
    )
    yield url
    stop(proc)


@pytest.mark.parametrize("width", [1440, 390])
def test_the_dashboard_of_the_project_shows_the_library_numbers(project, served, page: Page,
                                                                width: int) -> None:
    config, written = project
    page.set_viewport_size({"width": width, "height": 1200})
    dash = open_dashboard(page, served)
    # the lines set aside are said on the dashboard, not silently left out
    expect(page.locator(".wb-status")).to_contain_text(
        f"{len(written['blank_rows']):,} lines without a customer id set aside")
    expected = expected_kpis(config)
    # no surveys in this project: no NPS tile, and the library has no NPS either
    assert expected.get("nps") is None
    expect(page.locator(".kpi-nps")).to_be_hidden()
    for kpi in ("active_customers", "revenue", "repeat_rate", "top20_share"):
        value = page.locator(f".kpi-{kpi} .wb-kpi-value")
        expect(value).to_have_attribute("data-value", re.compile(r"\d"))
        assert float(value.get_attribute("data-value")) == pytest.approx(
            expected[kpi], rel=1e-12), kpi
    for tab in TABS:
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        page.wait_for_timeout(500)
    expect(page.locator(".wb-loading")).to_be_hidden(timeout=60_000)
    assert page.locator(".wb-error").count() == 0
    assert "Traceback" not in page.locator("body").inner_text()
    assert_no_errors(dash)
