"""The CLV report notebook: structure, and papermill runs (sample data, CDNOW) whose recorded
key figures must equal what the package functions give."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from notebook_figures import recorded_figures

import workbench as wb
from workbench.models import clv

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "clv.ipynb"


def test_parameters_are_declared_for_the_report_runner():
    from workbench.app.report import inspect_parameters

    declared = inspect_parameters(NOTEBOOK)
    assert set(declared) == {
        "transactions_path", "as_of", "calibration_end", "horizon_periods", "period",
        "annual_discount_rate", "margin", "model", "purchase_model", "unit", "segment_rules",
        "at_risk_days", "top_customers", "interval_level", "interval_draws"}
    assert declared["horizon_periods"]["inferred_type_name"] == "int"
    assert declared["annual_discount_rate"]["inferred_type_name"] == "float"
    assert declared["margin"]["inferred_type_name"] == "float"
    assert all(spec["help"] for spec in declared.values())


def _expected(tx, as_of: str, cal_end: str, model: str = "bgnbd", **fit_kw) -> dict:
    summary = wb.customer_summary(tx, as_of, "W")
    fit = clv.fit_clv(summary, 12, "M", None, 0.10, model, "W", **fit_kw)
    cal = wb.calibration_holdout_summary(tx, cal_end, as_of, "W")
    cal_model = clv.make_purchase_model(model).fit(cal)
    metrics = clv.error_metrics(cal, cal_model)
    return {"summary": summary, "fit": fit, "cal_model": cal_model, "metrics": metrics,
            "calibration": cal}


def _check_new_sections(figures: dict, exp: dict) -> None:
    """Model comparison, time-unit guidance, diagnosis, diagnostics and intervals ran."""
    comparison = clv.compare_models(exp["summary"], exp["calibration"], unit="W")
    assert figures["recommended_model"] == comparison.recommended
    assert figures["recommendation_reason"] == comparison.reason
    assert [r["model"] for r in figures["comparison"]] == ["bgnbd", "mbgnbd", "paretonbd", "nbd"]
    assert [r["bic"] for r in figures["comparison"]] == pytest.approx(
        comparison.table["bic"].to_list(), rel=1e-9)
    assert figures["time_unit_sentence"] == comparison.time_unit.sentence
    assert figures["time_unit_too_coarse"] is False
    assert figures["diagnosis"] == clv.model_diagnosis(exp["fit"].purchase_model)
    assert sum(figures["repeat_count_observed"]) == exp["calibration"].height
    assert sum(figures["repeat_count_expected"]) == pytest.approx(exp["calibration"].height)
    assert figures["interval_level"] == 0.9 and figures["top_clv_intervals"]
    for _, value, lower, upper in figures["top_clv_intervals"]:
        assert lower <= value <= upper
    # the total CLV's interval: the parameter draws summed over customers per draw
    assert figures["total_predicted_clv_lower"] < figures["total_predicted_clv"] \
        < figures["total_predicted_clv_upper"]


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
    from workbench.app.report import run_report

    params = {"transactions_path": str(sample_data_dir / "transactions.csv"),
              "as_of": "2026-03-31", "top_customers": "10"}
    result = run_report(NOTEBOOK, tmp_path, params)
    assert result.ok, result.error
    print(f"clv.ipynb on the sample data: {result.seconds:.1f} s")
    assert result.seconds < 60
    html = result.html.read_text()
    assert "Customer lifetime value report" in html and "image/svg+xml" in html
    assert "import workbench" not in html
    figures = recorded_figures(result.executed)
    assert figures["as_of"] == "2026-03-31"
    # empty calibration_end: 39 weeks before the as-of date
    assert figures["calibration_end"] == str(dt.date(2026, 3, 31) - dt.timedelta(weeks=39))
    tx = wb.read_transactions(sample_data_dir / "transactions.csv")
    # no purchase_model: the recommended model (BG/NBD, the model the sample data come from)
    assert figures["model"] == figures["recommended_model"] == "bgnbd"
    exp = _expected(tx, "2026-03-31", figures["calibration_end"], figures["model"])
    _check(figures, exp)
    _check_new_sections(figures, exp)
    assert "Which purchase model" in html and "Model diagnostics" in html
    assert figures["margin_source"] == "data"
    assert figures["at_risk_customers"] > 0


@pytest.mark.slow
def test_notebook_reproduces_fhl_2005_on_cdnow(cdnow_transactions, tmp_path):
    from workbench.app.report import run_report

    path = tmp_path / "cdnow.csv"
    cdnow_transactions.drop("source_row").write_csv(path)
    params = {"transactions_path": str(path), "as_of": "1998-06-30",
              "calibration_end": "1997-09-30", "purchase_model": "bgnbd"}
    result = run_report(NOTEBOOK, tmp_path / "out", params)
    assert result.ok, result.error
    figures = recorded_figures(result.executed)
    # Fader, Hardie & Lee (2005): BG/NBD on the 39-week CDNOW calibration period
    cal = figures["calibration_params"]
    assert {k: round(v, 3) for k, v in cal.items()} == {
        "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(figures["calibration_log_likelihood"], 1) == -9582.4
    assert figures["margin_source"] == "default" and figures["margin"] == clv.DEFAULT_MARGIN
    assert figures["holdout_customers"] == 2357
    exp = _expected(wb.read_transactions(path), "1998-06-30", "1997-09-30")
    _check(figures, exp)
    # the comparison recommends Pareto/NBD (holdout -11.5 % against -12.1 %); the report uses
    # BG/NBD because purchase_model names it, and says so
    assert figures["model"] == "bgnbd" and figures["recommended_model"] == "paretonbd"
    _check_new_sections(figures, exp)
    html = result.html.read_text()
    assert "as <code>purchase_model</code> asks" in html or "purchase_model" in html
