"""The RFM segmentation report notebook, executed for real under papermill on sample data."""

from __future__ import annotations

from pathlib import Path

import pytest
from notebook_figures import recorded_figures

import workbench as wb
from workbench.app.report import run_report

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "rfm_segmentation.ipynb"


@pytest.mark.slow
def test_rfm_report_runs_and_matches_the_package(tmp_path, sample_data_dir):
    params = {
        "transactions_path": str(sample_data_dir / "transactions.csv"),
        "customers_path": str(sample_data_dir / "customers.csv"),
        "surveys_path": str(sample_data_dir / "surveys.csv"),
        "as_of": "2026-03-31",
        "segment_rules": "rf_grid",
    }
    result = run_report(NOTEBOOK, tmp_path, params)
    assert result.ok, result.error
    html = result.html.read_text()
    assert "RFM segmentation report" in html and "Segment migration" in html
    assert "image/svg+xml" in html  # charts rendered offline as SVG (embedded images)
    assert "import workbench" not in html  # exported without code
    figures = recorded_figures(result.executed)

    tx = wb.read_transactions(params["transactions_path"])
    summary = wb.customer_summary(tx, "2026-03-31", "W")
    segments = wb.rfm_segments(summary, "rf_grid")
    table = wb.segment_table(segments, summary)
    _, quality = wb.prepare_orders(tx, "2026-03-31")
    assert figures["as_of"] == "2026-03-31"
    assert figures["customers"] == summary.height
    assert figures["repeat_purchases"] == summary["frequency"].sum()
    assert figures["rows_set_aside"] == quality.n_set_aside > 0  # the later rows at least
    assert figures["segments"] == dict(zip(table["segment"], table["customers"], strict=True))
    assert figures["top20_share"] == pytest.approx(wb.top_share(summary, 0.2), abs=1e-6)
