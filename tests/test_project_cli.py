"""The two-step flow on an Online Retail-shaped export: init, check, summary, report."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
from pathlib import Path

import polars as pl
import pytest
from cli_helpers import run_main as run

from workbench.app.cli import EXIT_OK, EXIT_USAGE
from workbench.app.project_check import check_project
from workbench.core.project import load_project

HEADER = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
          "Customer ID", "Country"]


def retail_export(path: Path, *, iso: bool = False, seed: int = 3, lines: int = 500) -> float:
    """Write an export in the UCI Online Retail shape; return the revenue in (qty x price).

    Several lines per invoice, identical lines, cancellations (invoice 'C…', negative
    quantity), Customer ID as float text (17850.0), US-style or ISO date-times.
    """
    rng = random.Random(seed)
    customers = [12346 + 37 * i for i in range(40)]
    when = dt.datetime(2010, 12, 1, 8, 26)
    rows: list[list[object]] = []
    invoice = 536365
    while len(rows) < lines:
        customer = rng.choice(customers)
        when += dt.timedelta(minutes=rng.randint(30, 2000))
        stamp = (when.strftime("%Y-%m-%d %H:%M:%S") if iso
                 else f"{when.month}/{when.day}/{when.year} {when.hour}:{when.minute:02d}")
        basket = []
        for _ in range(rng.randint(1, 8)):
            basket.append([str(invoice), f"2{rng.randint(1000, 9999)}", "ITEM",
                           rng.randint(1, 24), stamp, rng.choice(["2.55", "3.39", "0.85",
                                                                  "1.25", "12.75"]),
                           f"{customer}.0", "United Kingdom"])
        if rng.random() < 0.2:
            basket.append(list(basket[-1]))  # the same product scanned twice
        rows += basket
        if rng.random() < 0.08:  # a later cancellation of one line
            line = list(rng.choice(basket))
            line[0], line[3] = f"C{invoice}", -int(line[3])
            rows.append(line)
        invoice += 1
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return sum(round(int(r[3]) * float(r[5]), 6) for r in rows)  # type: ignore[arg-type]


def test_init_then_check_then_summary(tmp_path: Path, capsys) -> None:
    export = tmp_path / "export.csv"
    revenue_in = retail_export(export)
    code, out, err = run(["init", str(export)], capsys)
    assert code == EXIT_OK, out + err
    config = tmp_path / "workbench.toml"
    assert config.is_file()
    assert "customer_id <- column 'Customer ID'" in out
    assert "date format: '%m/%d/%Y %H:%M'" in out and "17850" in out
    assert "as-of date:" in out and "the last transaction date" in out

    code, out, err = run(["init", str(export)], capsys)  # never overwrites silently
    assert code == EXIT_USAGE and "--force" in err
    assert run(["init", str(export), "--force"], capsys)[0] == EXIT_OK

    code, out, err = run(["check", "--config", str(config)], capsys)
    assert code == EXIT_OK, out + err
    assert "Identical lines" in out and "kept as separate purchases" in out
    assert "ties out" in out and "OK: the data can be analysed" in out

    project = load_project(config)
    report = check_project(project)
    assert report.revenue_in == pytest.approx(revenue_in, abs=1e-6)

    summary = tmp_path / "summary.csv"
    code, out, err = run(["summary", "--config", str(config), "--out", str(summary)], capsys)
    assert code == EXIT_OK, err
    assert f"As of {report.as_of} (the last transaction date" in err
    total = pl.read_csv(summary)["total_spend"].sum()
    # revenue in = revenue summarised + revenue set aside
    assert total == pytest.approx(report.revenue_summarised, abs=1e-6)
    assert revenue_in == pytest.approx(total + report.revenue_set_aside, abs=1e-6)


def test_iso_dates_and_drop_identical_lines(tmp_path: Path, capsys) -> None:
    export = tmp_path / "export.csv"
    revenue_in = retail_export(export, iso=True, seed=5)
    assert run(["init", str(export)], capsys)[0] == EXIT_OK
    config = tmp_path / "workbench.toml"
    text = config.read_text()
    assert 'date_format = ""' in text
    config.write_text(text.replace('identical_lines = "keep"', 'identical_lines = "drop"'))
    code, out, _ = run(["check", "--config", str(config)], capsys)
    assert code == EXIT_OK and "exact_duplicate" in out
    report = check_project(load_project(config))
    assert report.quality.count("exact_duplicate") == report.identical.height > 0
    assert revenue_in == pytest.approx(
        report.revenue_summarised + report.revenue_set_aside, abs=1e-6)


def test_check_errors_exit_2(tmp_path: Path, capsys) -> None:
    export = tmp_path / "export.csv"
    retail_export(export, lines=40)
    assert run(["init", str(export)], capsys)[0] == EXIT_OK
    config = tmp_path / "workbench.toml"
    code, _, err = run(["check", "--config", str(config), "--as-of", "2001-01-01"], capsys)
    assert code == EXIT_USAGE
    config.write_text(config.read_text().replace("\ncustomer_id =", "\ncustomer_idd ="))
    code, _, err = run(["check", "--config", str(config)], capsys)
    assert code == EXIT_USAGE and "unknown target 'customer_idd'" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    code, _, err = run(["check", "--config", str(tmp_path / "nope.toml")], capsys)
    assert code == EXIT_USAGE and "workbench init" in err


def test_init_reports_an_unmapped_required_column(tmp_path: Path, capsys) -> None:
    export = tmp_path / "odd.csv"
    export.write_text("who,when,what\na,2024-01-01,3\n")
    code, out, err = run(["init", str(export)], capsys)
    assert code == EXIT_USAGE and "no column found for customer_id" in err
    assert '# customer_id = "?"' in (tmp_path / "workbench.toml").read_text()


def test_report_config_and_data_dir_conflict(tmp_path: Path, capsys) -> None:
    code, _, err = run(["report", "--config", "x.toml", "--data-dir", str(tmp_path)], capsys)
    assert code == EXIT_USAGE and "give one" in err


@pytest.mark.slow
def test_two_commands_from_export_to_report(tmp_path: Path, capsys) -> None:
    export = tmp_path / "export.csv"
    retail_export(export)
    assert run(["init", str(export)], capsys)[0] == EXIT_OK
    config = tmp_path / "workbench.toml"
    out_dir = tmp_path / "reports"
    code, out, err = run(["report", "--config", str(config), "--notebook", "rfm_segmentation",
                          "--out", str(out_dir), "--no-progress"], capsys)
    assert code == EXIT_OK, out + err
    report = check_project(load_project(config))
    assert f"As of {report.as_of} (the last transaction date" in out
    assert (out_dir / "rfm_segmentation.html").is_file()
    assert (out_dir / "data" / "transactions.parquet").is_file()
    executed = (out_dir / "rfm_segmentation.ipynb").read_text()
    line = re.search(r"KEY_FIGURES (\{.*?\})\\n", executed)
    assert line is not None
    figures = json.loads(line.group(1).replace('\\"', '"'))
    assert figures["as_of"] == str(report.as_of)
    assert figures["customers"] == report.orders["customer_id"].n_unique()
    assert figures["rows_set_aside"] == report.quality.n_set_aside
