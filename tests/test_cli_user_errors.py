"""User mistakes on every ``workbench`` command: one line, no traceback, exit code 2.

Also the strict dates (``--as-of``, ``--param as_of=``) and the documented exit codes.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run_main

import workbench.app.cli
from workbench.app.cli import EXIT_USAGE
from workbench.app.report import (
    MAX_MESSAGE,
    ReportParameterError,
    coerce_parameters,
    is_date_parameter,
    one_line,
    parse_iso_date,
)

FIXTURES = Path(__file__).parent / "fixtures"
DATA_REPORT = FIXTURES / "data_report.ipynb"
#: Room for the ``workbench <command>: error: `` prefix on top of a message.
LINE_LIMIT = MAX_MESSAGE + 40


def assert_one_line_error(code: int, err: str, command: str) -> str:
    assert code == EXIT_USAGE, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"workbench {command}: error: ") or lines[0].startswith(
        "workbench: error: "
    ), err
    assert len(lines[0]) <= LINE_LIMIT, len(lines[0])
    return lines[0]


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    """A notebooks folder holding the data-report fixture only."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / DATA_REPORT.name).write_bytes(DATA_REPORT.read_bytes())
    return folder


@pytest.fixture
def tx_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "transactions.csv"
    path.parent.mkdir()
    path.write_text("customer_id,order_date,amount\nA,2026-01-05,10\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "text", ["2025-06-30garbage", "notadate", "2025-02-30", "2025-6-30", "2025-06-30T10:00",
             "20250630", "", " "]
)
def test_parse_iso_date_is_strict(text: str) -> None:
    with pytest.raises(ValueError, match="expected a date YYYY-MM-DD"):
        parse_iso_date(text)


def test_parse_iso_date_accepts_a_whole_date() -> None:
    assert parse_iso_date(" 2024-02-29 ") == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    "args",
    [
        ["--as-of", "2025-06-30garbage"],
        ["--param", "as_of=2025-06-30garbage"],
        ["--param", "as_of=notadate"],
        ["--param", "previous_as_of=2025-13-01"],
        ["--as-of", "2026-03-31", "--param", "as_of=2026-01-31"],
    ],
)
def test_report_bad_as_of_is_one_line_before_anything_runs(
    args: list[str], notebooks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run_main(
        ["report", "--notebooks-dir", str(notebooks), "--out", str(out), *args], capsys
    )
    line = assert_one_line_error(code, err, "report")
    assert "as_of" in line or "as-of" in line
    assert not out.exists() and "Writing" not in stdout, "nothing may run"


def test_report_date_parameters_are_checked_per_notebook(notebooks: Path) -> None:
    nb = notebooks / DATA_REPORT.name
    with pytest.raises(ReportParameterError, match=r"data_report\.ipynb: parameter as_of"):
        coerce_parameters(nb, {"as_of": "2025-06-30garbage"})
    with pytest.raises(ReportParameterError, match="as_of"):
        coerce_parameters(nb, {"as_of": ""})  # required: its default is a date
    assert coerce_parameters(nb, {"previous_as_of": ""}) == {"previous_as_of": ""}  # optional
    assert coerce_parameters(nb, {"as_of": dt.date(2026, 3, 31)}) == {"as_of": "2026-03-31"}
    assert coerce_parameters(nb, {"as_of": " 2026-03-31"}) == {"as_of": "2026-03-31"}


def test_is_date_parameter() -> None:
    assert is_date_parameter("as_of") and is_date_parameter("calibration_end")
    assert is_date_parameter("cutoff", {"help": "last day YYYY-MM-DD"})
    assert not is_date_parameter("unit", {"help": "D, W or M"})


@pytest.mark.parametrize("as_of", ["2025-06-30garbage", "notadate", "2025-06-31"])
def test_summary_bad_as_of_is_one_line(
    as_of: str, tx_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["summary", str(tx_file), "--as-of", as_of], capsys)
    assert "--as-of" in assert_one_line_error(code, err, "summary")


# --------------------------------------------------------------- paths and other mistakes


def test_summary_path_mistakes(tmp_path: Path, tx_file: Path, capsys) -> None:
    (tmp_path / "folder.csv").mkdir()
    cases = [
        ("not found", [str(tmp_path / "missing.csv")]),
        ("is a folder", [str(tx_file.parent)]),
        ("invalid choice", [str(tx_file), "--unit", "fortnight"]),
        ("is a folder, not a file", [str(tx_file), "--out", str(tmp_path / "folder.csv")]),
        ("must end in .csv or .parquet", [str(tx_file), "--out", str(tmp_path / "s.json")]),
    ]
    for expected, args in cases:
        code, _, err = run_main(["summary", *args, "--as-of", "2026-03-31"], capsys)
        assert expected in assert_one_line_error(code, err, "summary"), err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_summary_unwritable_out_is_one_line(tmp_path: Path, tx_file: Path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run_main(
        ["summary", str(tx_file), "--as-of", "2026-03-31", "--out", str(locked / "s.csv")], capsys
    )
    assert "not writable" in assert_one_line_error(code, err, "summary")


@pytest.mark.parametrize("out", ["/proc/workbench-test/out", "/proc/sys"])
def test_report_unwritable_out_is_one_line(
    out: str, notebooks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, err = run_main(["report", "--notebooks-dir", str(notebooks), "--out", out],
                                 capsys)
    assert "output folder" in assert_one_line_error(code, err, "report")
    assert "Writing" not in stdout


def test_report_out_that_is_a_file(notebooks: Path, tmp_path: Path, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = run_main(["report", "--notebooks-dir", str(notebooks), "--out", str(afile)],
                            capsys)
    assert "is a file" in assert_one_line_error(code, err, "report")


def test_report_path_mistakes(notebooks: Path, tmp_path: Path, tx_file: Path, capsys) -> None:
    base = ["report", "--notebooks-dir", str(notebooks), "--out", str(tmp_path / "out")]
    cases = {
        "notebooks folder not found": ["report", "--notebooks-dir", str(tmp_path / "nope")],
        "data folder not found": [*base, "--data-dir", str(tmp_path / "nope")],
        "file not found": [*base, "--param", f"customers_path={tmp_path / 'no.csv'}"],
        "is a folder, not a file": [*base, "--param", f"transactions_path={tx_file.parent}"],
        "--cell-timeout": [*base, "--cell-timeout", "0"],
    }
    for expected, args in cases.items():
        code, _, err = run_main(args, capsys)
        assert expected in assert_one_line_error(code, err, "report"), err
    assert not (tmp_path / "out").exists()


def test_unknown_parameter_is_one_line_with_a_hint(notebooks: Path, capsys) -> None:
    code, _, err = run_main(
        ["report", "--notebooks-dir", str(notebooks), "--param", "as_off=2026-03-31"], capsys
    )
    line = assert_one_line_error(code, err, "report")
    assert "'as_off'" in line and "did you mean as_of" in line and "data_report.ipynb" in line


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["serve", "--port", "abc"], "serve"),
        (["serve", "--port", "70000"], "serve"),
        (["serve", "--pool-size", "0"], "serve"),
        (["serve", "--host", "no-such-host.invalid"], "serve"),
        (["serve", "--token", "t", "--no-token", "--host", "0.0.0.0"], "serve"),
        (["generate-sample", "--customers", "0"], "generate-sample"),
        (["generate-sample", "--out", "/proc/workbench-test"], "generate-sample"),
        (["summary"], "summary"),
        (["no-such-command"], "workbench"),
        ([], "workbench"),
    ],
)
def test_argument_mistakes_are_one_line(
    args: list[str], command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(args, capsys)
    assert_one_line_error(code, err, command)


def test_serve_missing_data_dir_given_explicitly(tmp_path: Path, capsys) -> None:
    code, _, err = run_main(
        ["serve", "--dashboards-dir", str(tmp_path), "--data-dir", str(tmp_path / "nope")], capsys
    )
    assert "data folder not found" in assert_one_line_error(code, err, "serve")


def test_long_messages_are_cut(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from workbench.errors import ConfigError

    def boom(args) -> int:  # a data error would exit with 3 (README: "Errors")
        raise ConfigError("tx.csv", None, "cannot be read:\n" + "x" * 40_000)

    monkeypatch.setattr(workbench.app.cli, "_cmd_generate_sample", boom)
    code, _, err = run_main(["generate-sample"], capsys)
    line = assert_one_line_error(code, err, "generate-sample")
    assert line.endswith("...") and "tx.csv: cannot be read: xxx" in line


def test_one_line() -> None:
    assert one_line("a\n\n  b") == "a b"
    assert one_line("\x1b[31mred\x1b[0m") == "red"
    assert len(one_line("y" * 1000)) == MAX_MESSAGE


# ---------------------------------------------------------------------------- exit codes


def test_exit_codes_are_documented() -> None:
    doc = workbench.app.cli.__doc__ or ""
    assert "Exit codes" in doc
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "report", "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    help_text = " ".join(proc.stdout.split())
    assert "exit codes:" in help_text
    for code, words in [("0", "every report ran"), ("1", "a notebook failed"),
                        ("2", "bad arguments or input data")]:
        assert f"{code} {words}" in help_text, help_text
