"""The loyalty report notebook: structure, and a papermill run on the sample data whose key
figures must equal what the package functions give."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from notebook_figures import recorded_figures

from workbench.analyses.loyalty import (
    KEY_FIGURES_PREFIX,
    analyse_loyalty,
    choose_segments,
    purchase_model_inputs,
)

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "loyalty.ipynb"


def test_parameters_are_declared_for_the_report_runner():
    from workbench.app.report import inspect_parameters

    declared = inspect_parameters(NOTEBOOK)
    assert declared["as_of"]["inferred_type_name"] == "str"
    assert declared["n_boot"]["inferred_type_name"] == "int"
    assert declared["a_p"]["inferred_type_name"] == "float"
    assert len(declared) == 22


@pytest.mark.slow
def test_notebook_runs_and_records_the_package_figures(sample_data_dir, tmp_path):
    from workbench.app.report import data_dir_parameters, run_report
    from workbench.core.io import read_customers, read_surveys, read_transactions
    from workbench.core.prepare import prepare_orders

    params = {**data_dir_parameters(sample_data_dir), "as_of": "2026-03-31", "n_boot": 100}
    result = run_report(NOTEBOOK, tmp_path, params)
    assert result.ok, result.error
    assert result.html is not None and result.html.stat().st_size > 10_000

    executed = nbformat.read(result.executed, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    figures = recorded_figures(result.executed, KEY_FIGURES_PREFIX)

    tx = read_transactions(sample_data_dir / "transactions.csv")
    customers = read_customers(sample_data_dir / "customers.csv")
    orders, _ = prepare_orders(tx, "2026-03-31")
    la = analyse_loyalty(orders, "2026-03-31", surveys=read_surveys(sample_data_dir /
                                                                    "surveys.csv"),
                         customers=customers,
                         segments=choose_segments("customer_type", customers=customers),
                         n_boot=100, **purchase_model_inputs(tx, "2026-03-31"))
    expected = json.loads(json.dumps(la.key_figures()))
    # a sum of CLVs from an optimiser run: equal to its convergence tolerance
    assert figures.pop("warning_value_at_stake") == pytest.approx(
        expected.pop("warning_value_at_stake"), rel=1e-6)
    assert figures == expected
    assert figures["warnings"] > 0
    assert figures["as_of"] == "2026-03-31"
    assert all(figures["types"][t] > 0 for t in ("premium", "inertia", "latent", "no loyalty"))
