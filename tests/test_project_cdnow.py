"""The CDNOW data set brought as the user's own data: ``format = "cdnow"`` in workbench.toml."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from cli_helpers import run_main as run

from workbench.app.cli import EXIT_OK
from workbench.core.io.cdnow import read_cdnow
from workbench.core.project import cdnow_problem, load_project
from workbench.core.summary import customer_summary
from workbench.errors import ConfigError, DataValidationError

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "cdnow" / "CDNOW_sample.txt"


@pytest.fixture
def cdnow_copy(tmp_path: Path) -> Path:
    target = tmp_path / "CDNOW_sample.txt"
    shutil.copyfile(SAMPLE, target)
    return target


def test_init_writes_format_cdnow_and_check_passes(
    cdnow_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["init", str(cdnow_copy)], capsys)
    assert code == EXIT_OK, out
    config = cdnow_copy.parent / "workbench.toml"
    section = tomllib.loads(config.read_text())["transactions"]
    assert section == {"path": "CDNOW_sample.txt", "format": "cdnow"}
    # the 1/10th sample of Fader, Hardie & Lee (2005): 6,919 purchases to 1998-06-30
    assert "6,919 lines from 1997-01-01 to 1998-06-30" in out
    code, out, _ = run(["check", "--config", str(config)], capsys)
    assert code == EXIT_OK, out
    assert "OK: the data can be analysed" in out
    assert "6,919 orders of 2,357 customers" in out


def test_project_reads_what_read_cdnow_reads(cdnow_copy: Path) -> None:
    config = cdnow_copy.parent / "workbench.toml"
    config.write_text('[transactions]\npath = "CDNOW_sample.txt"\nformat = "cdnow"\n')
    project = load_project(config)
    tx, without_id = project.read_lines()
    direct = read_cdnow(cdnow_copy)
    assert tx.equals(direct)
    assert without_id.height == 0
    assert tx.height == 6919 and tx["customer_id"].n_unique() == 2357
    day, _ = project.resolve_as_of(tx)
    assert day.isoformat() == "1998-06-30"
    via_project = customer_summary(project.read_transactions(), as_of=day)
    assert via_project.equals(customer_summary(direct, as_of=day))
    assert via_project.height == 2357


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('separator = " "', "separator"),
        ('date_format = "%Y%m%d"', "date_format"),
        ('encoding = "utf8"', "encoding"),
        ('identical_lines = "drop"', "identical_lines"),
        ('[transactions.columns]\ncustomer_id = "id"', "columns"),
    ],
)
def test_keys_that_make_no_sense_with_cdnow_are_refused(
    cdnow_copy: Path, line: str, key: str
) -> None:
    config = cdnow_copy.parent / "workbench.toml"
    config.write_text(f'[transactions]\npath = "CDNOW_sample.txt"\nformat = "cdnow"\n{line}\n')
    with pytest.raises(ConfigError) as caught:
        load_project(config)
    message = str(caught.value)
    assert f"[transactions] {key}" in message
    assert 'not allowed with format = "cdnow"' in message


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "workbench.toml"
    config.write_text('[transactions]\npath = "x.txt"\nformat = "cdnw"\n')
    with pytest.raises(ConfigError, match=r"\[transactions\] format: unknown value 'cdnw'"):
        load_project(config)


def test_a_file_not_in_the_cdnow_layout_names_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "export.txt"
    data.write_text(
        " 00001 19970101  1   11.77\n"
        " 00002 19970112  1   12.00\n"
        "customer,date,amount\n"  # line 3: one field
    )
    config = tmp_path / "workbench.toml"
    config.write_text('[transactions]\npath = "export.txt"\nformat = "cdnow"\n')
    project = load_project(config)
    with pytest.raises(DataValidationError) as caught:
        project.read_transactions()
    message = str(caught.value)
    assert str(data) in message
    assert "line 3: not in the CDNOW layout" in message
    # a comma-separated export is refused at its first line, never read as zero rows
    data.write_text("customer,date,amount\n1,2024-01-01,5\n")
    with pytest.raises(DataValidationError, match="line 1: not in the CDNOW layout"):
        project.read_transactions()


def test_cdnow_problem_examples() -> None:
    assert cdnow_problem(["1 19970101 1 11.77", "2 19970102 2 3"]) is None
    assert cdnow_problem(["1 19970101 1 11.77", "2 2 19970102 2 3"]) == (
        2,
        "5 whitespace-separated fields, expected 4 (customer id, [sample id,] date "
        "YYYYMMDD, CDs, dollars)",
    )
    assert cdnow_problem(["1 1997011 1 1"]) == (1, "date '1997011' is not 8 digits YYYYMMDD")
    assert cdnow_problem(["1 19970101 1 x"]) == (1, "'x' is not a number")
    assert cdnow_problem(["", "  "]) == (1, "no data lines")
