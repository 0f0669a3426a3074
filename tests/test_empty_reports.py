"""The report notebooks on empty and odd data, executed for real under papermill.

On data with no purchase by the as-of date, or too few repeat customers for the CLV models, a
report fails in its first data cell with one clear error (so ``workbench report`` exits
non-zero with a one-line reason); an optional table given as ``""`` is "not provided", and the
sections that need it say so in one sentence.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from workbench.app.report import run_report

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
HEADER = "customer_id,order_date,amount\n"
#: The first data cell: [1] parameters, [2] papermill's injected parameters, [3] data.
FIRST_DATA_CELL = "cell [3]"


def write(folder: Path, rows: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "transactions.csv"
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows))
    return path


def params(notebook: str, tx: Path, as_of: str, **extra) -> dict:
    p = {"transactions_path": str(tx), "as_of": as_of}
    if notebook != "clv.ipynb":
        p.update(customers_path="", surveys_path="")
    if notebook == "loyalty.ipynb":
        p["n_boot"] = 0
    return {**p, **extra}


def outputs_text(executed: Path) -> str:
    nb = nbformat.read(executed, as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


def error_outputs(executed: Path) -> list[str]:
    nb = nbformat.read(executed, as_version=4)
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.parametrize(
    ("notebook", "rows", "as_of", "error"),
    [
        ("rfm_segmentation.ipynb", [], "2024-12-31",
         "DataValidationError: transactions.csv: no purchases: the transactions have no data "
         "rows"),
        ("clv.ipynb", ["a,2024-01-01,-10", "b,2024-02-01,-5"], "2024-12-31",
         "DataValidationError: transactions.csv: no purchases: all 2 rows are returns"),
        ("loyalty.ipynb", ["a,2024-01-01,10", "a,2024-03-01,5"], "2023-01-01",
         "DataValidationError: transactions.csv: no purchases on or before 2023-01-01 (the "
         "first purchase is on 2024-01-01)"),
        ("clv.ipynb", ["a,2024-01-01,10", "b,2024-03-01,5", "c,2024-06-01,7"], "2024-12-31",
         "NotEnoughDataError: BG/NBD needs at least 2 customers with repeat purchases; found 0 "
         "among 3 customers"),
    ],
    ids=["rfm-header-only", "clv-all-returns", "loyalty-before-first", "clv-no-repeat"],
)
def test_report_fails_in_its_first_data_cell(tmp_path, notebook, rows, as_of, error):
    tx = write(tmp_path / "data", rows)
    result = run_report(NOTEBOOKS / notebook, tmp_path / "out", params(notebook, tx, as_of))
    assert not result.ok
    assert result.error.startswith(f"{notebook}: {FIRST_DATA_CELL} failed: {error}"), result.error
    assert "\n" not in result.error
    assert result.executed.exists()  # kept for inspection
    errors = error_outputs(result.executed)  # one error, in the first data cell
    assert len(errors) == 1 and errors[0].startswith(error), errors


@pytest.mark.parametrize("notebook", ["rfm_segmentation.ipynb", "loyalty.ipynb"])
@pytest.mark.parametrize(
    "rows",
    [["a,2024-01-01,10", "a,2024-03-01,5", "a,2024-06-01,7"],
     ["a,2024-01-01,10", "b,2024-03-01,5", "c,2024-06-01,7"]],
    ids=["one-customer", "no-repeat-buyer"],
)
def test_rfm_and_loyalty_run_on_one_customer_and_one_time_buyers(tmp_path, notebook, rows):
    tx = write(tmp_path / "data", rows)
    result = run_report(NOTEBOOKS / notebook, tmp_path / "out",
                        params(notebook, tx, "2024-12-31"))
    assert result.ok, result.error
    text = outputs_text(result.executed)
    if notebook == "loyalty.ipynb":
        assert "No P(alive): BG/NBD needs at least 2 customers with repeat purchases" in text
        assert "No survey data: the perceived-loyalty section is skipped." in text
    else:
        assert "No survey data: the NPS KPI is left out." in text


def test_clv_report_skips_the_holdout_check_when_the_calibration_is_too_small(tmp_path):
    # every customer starts after the calibration end (39 weeks before the as-of date)
    rows = [f"c{i},2024-{m:02d}-{5 + i:02d},{10 + i}" for i in range(8) for m in (10, 11, 12)]
    tx = write(tmp_path / "data", rows)
    result = run_report(NOTEBOOKS / "clv.ipynb", tmp_path / "out",
                        params("clv.ipynb", tx, "2024-12-31"))
    assert result.ok, result.error
    text = outputs_text(result.executed)
    assert "No holdout check: on the data up to 2024-04-02, on the calibration period: BG/NBD " \
           "needs at least 2 customers with repeat purchases; found 0 (the summary has no " \
           "customers)." in text
    line = next(ln for ln in text.splitlines() if ln.startswith("KEY_FIGURES "))
    figures = json.loads(line.removeprefix("KEY_FIGURES "))
    assert figures["customers"] == 8 and figures["holdout_customers"] is None


@pytest.mark.parametrize("notebook", ["loyalty.ipynb", "rfm_segmentation.ipynb"])
def test_empty_table_paths_mean_not_provided(tmp_path, sample_data_dir, notebook):
    tx = sample_data_dir / "transactions.csv"
    extra = {"segment_by": "customer_type", "n_boot": 0} if notebook == "loyalty.ipynb" else {}
    result = run_report(NOTEBOOKS / notebook, tmp_path / "out",
                        params(notebook, tx, "2026-03-31", **extra))
    assert result.ok, result.error
    assert error_outputs(result.executed) == []
    text = outputs_text(result.executed)
    if notebook == "loyalty.ipynb":
        assert "No survey data: the perceived-loyalty section is skipped." in text
        assert "No customer data with a 'customer_type' column" in text
    else:
        assert "No survey data: the NPS KPI is left out." in text
