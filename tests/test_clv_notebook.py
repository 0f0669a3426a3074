"""The CLV report notebook: structure, and papermill runs (sample data, CDNOW) whose recorded
key figures must equal what the package functions give."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import nbformat
import pytest

import workbench as wb
from workbench import clv

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "clv.ipynb"


def key_figures(executed: Path) -> dict:
    nb = nbformat.read(executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    assert errors == []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for line in out.get("text", "").splitlines():
                if line.startswith("KEY_FIGURES "):
                    return json.loads(line[len("KEY_FIGURES "):])
    raise AssertionError("the notebook printed no KEY_FIGURES line")


def test_notebook_structure():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    lines = [ln for ln in tagged[0].source.splitlines() if ln.strip()]
    for ln in lines:  # a type hint and a plain comment papermill keeps
        name, _, rest = ln.partition(":")
        assert name.isidentifier() and "=" in rest and "  # " in rest, ln
        comment = rest.split("  # ", 1)[1]
        assert not set(comment) & set("\"'=()"), ln
    for cell in nb.cells:  # committed without outputs
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_parameters_are_declared_for_the_report_runner():
    from workbench.report import inspect_parameters

    declared = inspect_parameters(NOTEBOOK)
    assert set(declared) == {
        "transactions_path", "as_of", "calibration_end", "horizon_periods", "period",
        "annual_discount_rate", "margin", "model", "unit", "segment_rules", "at_risk_days",
        "top_customers"}
    assert declared["horizon_periods"]["inferred_type_name"] == "int"
    assert declared["annual_discount_rate"]["inferred_type_name"] == "float"
    assert declared["margin"]["inferred_type_name"] == "float"
    assert all(spec["help"] for spec in declared.values())


def _expected(tx, as_of: str, cal_end: str, **fit_kw) -> dict:
    summary = wb.customer_summary(tx, as_of, "W")
    fit = clv.fit_clv(summary, 12, "M", None, 0.10, "bgnbd", "W", **fit_kw)
    cal = wb.calibration_holdout_summary(tx, cal_end, as_of, "W")
    cal_model = clv.make_purchase_model("bgnbd").fit(cal)
    metrics = clv.error_metrics(cal, cal_model)
    return {"summary": summary, "fit": fit, "cal_model": cal_model, "metrics": metrics}


def _check(figures: dict, exp: dict) -> None:
    fit, totals = exp["fit"], exp["fit"].totals()
    assert figures["customers"] == exp["summary"].height
    assert figures["params"] == pytest.approx(fit.purchase_model.params_, rel=1e-6)
    assert figures["log_likelihood"] == pytest.approx(fit.purchase_model.log_likelihood_,
                                                      rel=1e-9)
    assert figures["calibration_params"] == pytest.approx(exp["cal_model"].params_, rel=1e-6)
    assert figures["gamma_gamma_params"] == pytest.approx(fit.spend_model.params_, rel=1e-6)
    assert figures["margin"] == pytest.approx(fit.margin)
    assert figures["margin_source"] == fit.margin_source
    assert figures["total_predicted_clv"] == pytest.approx(totals["predicted_clv"], rel=1e-6)
    assert figures["total_historical_value"] == pytest.approx(totals["historical_value"])
    assert figures["holdout_actual"] == exp["metrics"]["total_actual"][0]
    assert figures["holdout_predicted"] == pytest.approx(exp["metrics"]["total_predicted"][0],
                                                         rel=1e-6)


@pytest.mark.slow
def test_notebook_runs_on_the_sample_data(sample_data_dir, tmp_path):
    from workbench.report import run_report

    params = {"transactions_path": str(sample_data_dir / "transactions.csv"),
              "as_of": "2026-03-31", "top_customers": "10"}
    result = run_report(NOTEBOOK, tmp_path, params)
    assert result.ok, result.error
    print(f"clv.ipynb on the sample data: {result.seconds:.1f} s")
    assert result.seconds < 60
    html = result.html.read_text()
    assert "Customer lifetime value report" in html and "image/svg+xml" in html
    assert "import workbench" not in html
    figures = key_figures(result.executed)
    assert figures["as_of"] == "2026-03-31"
    # empty calibration_end: 39 weeks before the as-of date
    assert figures["calibration_end"] == str(dt.date(2026, 3, 31) - dt.timedelta(weeks=39))
    tx = wb.read_transactions(sample_data_dir / "transactions.csv")
    _check(figures, _expected(tx, "2026-03-31", figures["calibration_end"]))
    assert figures["margin_source"] == "data"
    assert figures["at_risk_customers"] > 0


@pytest.mark.slow
def test_notebook_reproduces_fhl_2005_on_cdnow(cdnow_transactions, tmp_path):
    from workbench.report import run_report

    path = tmp_path / "cdnow.csv"
    cdnow_transactions.drop("source_row").write_csv(path)
    params = {"transactions_path": str(path), "as_of": "1998-06-30",
              "calibration_end": "1997-09-30"}
    result = run_report(NOTEBOOK, tmp_path / "out", params)
    assert result.ok, result.error
    figures = key_figures(result.executed)
    # Fader, Hardie & Lee (2005): BG/NBD on the 39-week CDNOW calibration period
    cal = figures["calibration_params"]
    assert {k: round(v, 3) for k, v in cal.items()} == {
        "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(figures["calibration_log_likelihood"], 1) == -9582.4
    assert figures["margin_source"] == "default" and figures["margin"] == clv.DEFAULT_MARGIN
    assert figures["holdout_customers"] == 2357
    _check(figures, _expected(wb.read_transactions(path), "1998-06-30", "1997-09-30"))
