"""``workbench report``: relative paths, ``--data-dir`` with optional tables absent, data errors.

The fixture ``tests/fixtures/data_report.ipynb`` prints the paths it was given (and whether
each file exists as seen from the kernel, which runs in the notebook's folder), and on request
raises the workbench's own ``DataValidationError`` or ``ModelError``, as a report notebook does
on data it cannot use.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from cli_helpers import run_main

from workbench.app.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from workbench.app.report import (
    MAX_MESSAGE,
    ReportParameterError,
    data_dir_parameters,
    find_notebooks,
    plan_parameters,
    run_report,
)

FIXTURES = Path(__file__).parent / "fixtures"
DATA_REPORT = FIXTURES / "data_report.ipynb"
TX = "customer_id,order_date,amount\nA,2026-01-05,10\n"


def printed(executed: Path) -> str:
    """All stream output of an executed notebook."""
    nb = nbformat.read(executed, as_version=4)
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream"
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with ``notebooks/data_report.ipynb`` and ``data/transactions.csv``."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / DATA_REPORT.name).write_bytes(DATA_REPORT.read_bytes())
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "transactions.csv").write_text(TX, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ------------------------------------------------------------------ data folders (no run)


def test_data_dir_with_transactions_only_passes_empty_optional_tables(tmp_path: Path) -> None:
    (tmp_path / "transactions.csv").write_text(TX)
    assert data_dir_parameters(tmp_path) == {
        "transactions_path": str(tmp_path / "transactions.csv"),
        "customers_path": "",
        "surveys_path": "",
    }


def test_data_dir_accepts_parquet_and_finds_optional_tables(tmp_path: Path) -> None:
    (tmp_path / "transactions.parquet").write_bytes(b"PAR1")
    (tmp_path / "surveys.csv").write_text("customer_id\n")
    params = data_dir_parameters(tmp_path)
    assert params["transactions_path"] == str(tmp_path / "transactions.parquet")
    assert params["surveys_path"] == str(tmp_path / "surveys.csv")
    assert params["customers_path"] == ""


def test_data_dir_without_transactions_names_folder_and_files(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("customer_id\n")
    with pytest.raises(ReportParameterError) as info:
        data_dir_parameters(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message
    assert "transactions.csv" in message and "transactions.parquet" in message
    assert "\n" not in message


def test_data_dir_with_two_transactions_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "transactions.csv").write_text(TX)
    (tmp_path / "transactions.parquet").write_bytes(b"PAR1")
    with pytest.raises(ReportParameterError, match="both transactions.csv and transactions"):
        data_dir_parameters(tmp_path)


def test_cli_data_dir_without_transactions_exits_2(project: Path, capsys) -> None:
    (project / "empty").mkdir()
    code, stdout, err = run_main(
        ["report", "--notebooks-dir", "notebooks", "--data-dir", "empty", "--out", "out"], capsys
    )
    assert code == EXIT_USAGE
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(project / "empty") in err and "transactions.csv" in err
    assert not (project / "out").exists() and "Writing" not in stdout


def test_relative_path_parameters_are_made_absolute(project: Path) -> None:
    plan = plan_parameters(
        find_notebooks("notebooks"),
        {"transactions_path": "data/transactions.csv", "as_of": "2026-03-31"},
        data_dir="data",
    )
    (params,) = plan.values()
    assert params["transactions_path"] == str(project / "data" / "transactions.csv")
    assert params["customers_path"] == "" and params["surveys_path"] == ""


# ------------------------------------------------------------------------ real runs


@pytest.mark.slow
def test_relative_out_and_data_dir_with_only_transactions(project: Path, capsys) -> None:
    code, stdout, err = run_main(
        ["report", "--notebooks-dir", "notebooks", "--data-dir", "data", "--out", "reports/x",
         "--as-of", "2026-03-31", "--no-progress"],
        capsys,
    )
    assert code == EXIT_OK, stdout + err
    out = project / "reports" / "x"
    assert (out / "data_report.html").is_file() and (out / "data_report.kernel.log").is_file()
    text = printed(out / "data_report.ipynb")
    assert f"RESULT transactions=True {project / 'data' / 'transactions.csv'}" in text
    assert "RESULT customers=none" in text and "RESULT surveys=none" in text
    assert "RESULT as_of=2026-03-31" in text and "RESULT done" in text


@pytest.mark.slow
def test_relative_param_path_reaches_the_kernel(project: Path, capsys) -> None:
    code, stdout, err = run_main(
        ["report", "--notebooks-dir", "notebooks", "--out", "out", "--no-progress",
         "--param", "transactions_path=data/transactions.csv"],
        capsys,
    )
    assert code == EXIT_OK, stdout + err
    text = printed(project / "out" / "data_report.ipynb")
    assert f"RESULT transactions=True {project / 'data' / 'transactions.csv'}" in text


@pytest.mark.slow
def test_data_error_in_a_cell_gives_one_line_reason_exit_1_and_kept_notebook(
    project: Path, capsys
) -> None:
    code, stdout, err = run_main(
        ["report", "--notebooks-dir", "notebooks", "--data-dir", "data", "--out", "out",
         "--no-progress", "--param", "fail=data", "--param", "repeat=100"],
        capsys,
    )
    assert code == EXIT_FAILED, stdout + err
    assert "Traceback" not in err and "Traceback" not in stdout
    executed = project / "out" / "data_report.ipynb"
    assert executed.is_file() and not (project / "out" / "data_report.html").exists()
    lines = err.strip().splitlines()
    assert lines[0] == "1 of 1 report(s) failed:"
    reason, inspect = lines[1].strip(), lines[2].strip()
    assert reason.startswith("data_report.ipynb: cell [")
    assert "failed: DataValidationError: " in reason
    assert f"{project / 'data' / 'transactions.csv'}: no rows after the header" in reason
    assert len(reason) <= MAX_MESSAGE and reason.endswith("...")
    assert inspect == f"inspect: {executed}"
    assert len(lines) == 3, err
    nb = nbformat.read(executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert [e.ename for e in errors] == ["DataValidationError"]


@pytest.mark.slow
def test_model_error_reason_is_type_and_message(project: Path) -> None:
    result = run_report(
        project / "notebooks" / DATA_REPORT.name, "out",
        {"fail": "model", "problem": "no repeat buyer: cannot fit BG/NBD"},
    )
    assert not result.ok and result.executed.is_file()
    assert result.executed == project / "out" / "data_report.ipynb"  # relative out: absolute
    assert result.error is not None and "\n" not in result.error
    assert result.error.endswith("failed: ModelError: no repeat buyer: cannot fit BG/NBD")
