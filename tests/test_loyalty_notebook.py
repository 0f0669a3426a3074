"""The loyalty report notebook: structure, and a papermill run on the sample data whose key
figures must equal what the package functions give."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from workbench.loyalty import KEY_FIGURES_PREFIX, analyse_loyalty, choose_segments

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "loyalty.ipynb"


def test_notebook_structure():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    lines = [ln for ln in tagged[0].source.splitlines() if ln.strip()]
    for ln in lines:  # every parameter: a type hint and a comment
        name, _, rest = ln.partition(":")
        assert name.isidentifier() and "=" in rest and "  # " in rest, ln
    names = {ln.split(":")[0] for ln in lines}
    assert {"transactions_path", "customers_path", "surveys_path", "as_of"} <= names
    for cell in nb.cells:  # committed without outputs
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_parameters_are_declared_for_the_report_runner():
    from workbench.report import inspect_parameters

    declared = inspect_parameters(NOTEBOOK)
    assert declared["as_of"]["inferred_type_name"] == "str"
    assert declared["n_boot"]["inferred_type_name"] == "int"
    assert declared["a_p"]["inferred_type_name"] == "float"
    assert len(declared) == 20


@pytest.mark.slow
def test_notebook_runs_and_records_the_package_figures(sample_data_dir, tmp_path):
    from workbench.io import read_customers, read_surveys, read_transactions
    from workbench.prepare import prepare_orders
    from workbench.report import data_dir_parameters, run_report

    params = {**data_dir_parameters(sample_data_dir), "as_of": "2026-03-31", "n_boot": 100}
    result = run_report(NOTEBOOK, tmp_path, params)
    assert result.ok, result.error
    assert result.html is not None and result.html.stat().st_size > 10_000

    executed = nbformat.read(result.executed, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    figures = None
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/plain", "")
            if text.startswith(KEY_FIGURES_PREFIX):
                figures = json.loads(text[len(KEY_FIGURES_PREFIX):])
                assert out["data"]["application/json"] == figures
    assert figures is not None

    tx = read_transactions(sample_data_dir / "transactions.csv")
    customers = read_customers(sample_data_dir / "customers.csv")
    orders, _ = prepare_orders(tx, "2026-03-31")
    la = analyse_loyalty(orders, "2026-03-31", surveys=read_surveys(sample_data_dir /
                                                                    "surveys.csv"),
                         customers=customers,
                         segments=choose_segments("customer_type", customers=customers),
                         n_boot=100)
    expected = json.loads(json.dumps(la.key_figures()))
    assert figures == expected
    assert figures["as_of"] == "2026-03-31"
    assert all(figures["types"][t] > 0 for t in ("premium", "inertia", "latent", "no loyalty"))
