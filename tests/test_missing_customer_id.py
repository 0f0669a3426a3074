"""Lines without a customer id, and the tie-out of the data-quality report.

An Online Retail-shaped export (``Invoice, StockCode, Description, Quantity, InvoiceDate,
Price, Customer ID, Country``) has about a quarter of its lines without a Customer ID.  By
default they are refused with the rows and a hint; with ``missing_customer_id = "set_aside"``
they are counted, with their amount and example rows, and kept out of the analyses.  Every
line read is in exactly one bucket of the tie-out, and the buckets add up to the lines and
the amount read.  Expected figures come from the generator (exact decimals), not from the
code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from cli_helpers import run_main as run

from workbench.app.cli import EXIT_OK
from workbench.app.project_check import check_project
from workbench.core.io import read_transactions, split_missing_customer_id
from workbench.core.prepare import prepare_orders
from workbench.core.project import load_project
from workbench.core.quality import BUCKETS, KEPT
from workbench.errors import DataValidationError

HEADER = [
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
]
PRICES = ["2.55", "3.39", "0.85", "1.25", "12.75", "4.95"]


def retail_export_with_blanks(path: Path, *, lines: int = 5000, seed: int = 11) -> dict:
    """Write an Online Retail-shaped export; return what was written (exact decimals).

    About a quarter of the invoices have no Customer ID (every line of such an invoice is
    blank there, as in the UCI data).  Several lines per invoice; some cancellations of one
    line (invoice ``C…``, negative quantity, the same time) and some of a whole invoice.
    """
    rng = random.Random(seed)
    customers = [12346 + 37 * i for i in range(60)]
    when = dt.datetime(2010, 12, 1, 8, 26)
    rows: list[list[str]] = []
    invoice = 536365
    while len(rows) < lines:
        customer = "" if rng.random() < 0.25 else f"{rng.choice(customers)}.0"
        when += dt.timedelta(minutes=rng.randint(30, 1500))
        stamp = f"{when.month}/{when.day}/{when.year} {when.hour}:{when.minute:02d}"
        basket = [
            [
                str(invoice),
                f"2{rng.randint(1000, 9999)}",
                "ITEM",
                str(rng.randint(1, 24)),
                stamp,
                rng.choice(PRICES),
                customer,
                "United Kingdom",
            ]
            for _ in range(rng.randint(1, 6))
        ]
        rows += basket
        draw = rng.random()
        if draw < 0.06:  # a later cancellation of one line
            line = list(rng.choice(basket))
            line[0], line[3] = f"C{invoice}", str(-int(line[3]))
            rows.append(line)
        elif draw < 0.10:  # the whole invoice cancelled
            for line in basket:
                rows.append([f"C{invoice}", line[1], line[2], str(-int(line[3])), *line[4:]])
        invoice += 1
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)

    def amount(r: list[str]) -> Decimal:
        return Decimal(r[3]) * Decimal(r[5])

    blank = [i + 1 for i, r in enumerate(rows) if r[6] == ""]
    return {
        "lines": len(rows),
        "revenue_in": sum((amount(r) for r in rows), Decimal(0)),
        "blank_rows": blank,
        "blank_revenue": sum((amount(rows[i - 1]) for i in blank), Decimal(0)),
    }


@pytest.fixture
def export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, dict]:
    path = tmp_path / "export.csv"
    written = retail_export_with_blanks(path)
    code, out, err = run(["init", str(path)], capsys)
    assert code == EXIT_OK, out + err
    n = len(written["blank_rows"])
    assert (
        f"{n:,} of {written['lines']:,} lines ({n / written['lines']:.1%}) have no "
        "customer id: set aside" in out
    )
    return tmp_path / "workbench.toml", written


def _set_aside(config: Path) -> None:
    """``workbench init`` saw the blank ids and proposed setting them aside."""
    assert 'missing_customer_id = "set_aside"' in config.read_text()


def _refuse(config: Path) -> None:
    text = config.read_text()
    config.write_text(
        text.replace('missing_customer_id = "set_aside"', 'missing_customer_id = "refuse"', 1)
    )


def test_the_generator_has_a_quarter_of_lines_without_customer_id(export) -> None:
    _, written = export
    share = len(written["blank_rows"]) / written["lines"]
    assert 0.18 < share < 0.32 and written["lines"] >= 5000


def test_lines_without_customer_id_are_refused_by_default_with_a_hint(export, capsys) -> None:
    config, written = export
    _refuse(config)
    code, out, err = run(["check", "--config", str(config)], capsys)
    assert code != EXIT_OK and "error:" in err, out + err
    first = written["blank_rows"][0]
    assert "export.csv" in err and "'customer_id'" in err and "'Customer ID'" in err
    assert f"{len(written['blank_rows'])} rows; first rows: {first}" in err
    assert 'missing_customer_id = "set_aside"' in err


def test_set_aside_counts_reports_and_ties_out(export, capsys) -> None:
    config, written = export
    _set_aside(config)
    code, out, err = run(["check", "--config", str(config)], capsys)
    assert code == EXIT_OK, out + err
    n_blank = len(written["blank_rows"])
    assert re.search(rf"no_customer_id\s+{n_blank:,}\s+set aside", out)
    # example rows of the lines without a customer id, by their row in the file
    assert f"row {written['blank_rows'][0]}: customer_id=None" in out
    share = written["blank_revenue"] / written["revenue_in"]
    assert (
        f"{n_blank:,} lines ({n_blank / written['lines']:.1%} of the lines, {share:.1%} "
        "of the revenue in) have no customer id" in out
    )
    assert "ties out" in out and "Tie-out: every line read is in exactly one bucket" in out

    report = check_project(load_project(config))
    quality = report.quality
    assert quality.rows_read == written["lines"]
    assert quality.count("no_customer_id") == n_blank
    assert Decimal(str(quality.amount("no_customer_id"))) == written["blank_revenue"]
    # exact: amounts have 2 decimals, so the tie-out is in cents
    assert quality.scale == 2
    assert quality.units_in == int(written["revenue_in"] * 100)
    ledger = quality.ledger
    assert ledger is not None and ledger["bucket"].to_list() == list(BUCKETS)
    assert int(ledger["lines"].sum()) == written["lines"]
    assert int(ledger["units"].sum()) == int(written["revenue_in"] * 100)
    assert report.ties_out and not report.errors
    assert report.orders["customer_id"].null_count() == 0
    # the lines without an id are in no order
    assert report.orders["lines"].sum() == ledger.filter(pl.col("bucket") == KEPT)["lines"][0]


def _partition(tx: pl.DataFrame, without: pl.DataFrame | None, as_of: str | None) -> None:
    """Every line in exactly one bucket: the set-aside and netted-return rows are disjoint,
    the kept lines are the lines of the orders, and together they are all the lines."""
    orders, quality = prepare_orders(tx, as_of, without_customer_id=without)
    seen: list[int] = []
    for entry in quality.entries:
        if entry.reason != "multi_line_order":  # describes kept lines; not a bucket
            seen += entry.rows["source_row"].to_list()
    assert len(seen) == len(set(seen)), "a line in two buckets"
    kept = int(orders["lines"].sum()) if orders.height else 0
    n_without = 0 if without is None else without.height
    assert len(seen) + kept == tx.height + n_without == quality.rows_read
    ledger = quality.ledger
    assert ledger is not None
    by_bucket = dict(zip(ledger["bucket"], ledger["lines"], strict=True))
    assert by_bucket[KEPT] == kept
    for reason in BUCKETS[1:]:
        assert by_bucket[reason] == quality.count(reason), reason
    assert quality.ties_out
    # the used buckets add up to the orders' net revenue, exactly
    used = ledger.filter(pl.col("bucket").is_in([KEPT, "return_netted", "return_netted_latest"]))[
        "units"
    ].sum()
    scale = 10**quality.scale
    assert used == round(sum(Decimal(str(a)) for a in orders["amount"]) * scale)


def test_every_line_in_exactly_one_bucket_on_the_export(export) -> None:
    config, written = export
    _set_aside(config)
    project = load_project(config)
    tx, without = project.read_lines()
    assert without.height == len(written["blank_rows"])
    assert without["source_row"].to_list() == written["blank_rows"]
    _partition(tx, without, None)
    _partition(tx, without, "2011-01-15")  # with lines after the as-of date


def test_every_line_in_exactly_one_bucket_on_the_sample(sample_data_dir: Path) -> None:
    path = sample_data_dir / "transactions.csv"
    tx = read_transactions(path)
    _partition(tx, None, "2026-03-31")
    # the amount read, added up from the file's text independently of the readers
    text = pl.read_csv(path, schema_overrides={"amount": pl.String})["amount"]
    cents = sum(int(Decimal(a) * 100) for a in text.to_list())
    _, quality = prepare_orders(tx, "2026-03-31")
    assert quality.scale == 2 and quality.units_in == cents
    assert int(quality.ledger["units"].sum()) == cents


def test_buckets_of_a_small_log_by_hand() -> None:
    """Each rule once; the expected buckets follow from the rules in the README."""
    rows = [
        ("a", "2024-01-01", 10.0, "o1"),  # 1 o1 is cancelled by row 3
        ("a", "2024-01-01", 5.0, "o1"),  # 2
        ("a", "2024-01-03", -15.0, "o1"),  # 3 own return, brings o1 to 0: cancelled
        ("b", "2024-01-02", 20.0, "o2"),  # 4 kept
        ("b", "2024-01-05", -5.0, "r9"),  # 5 no own order: netted into o2 (kept)
        ("c", "2024-01-02", -3.0, "r8"),  # 6 no purchase before: set aside
        ("b", "2024-01-02", 20.0, "o2"),  # 7 exact copy of row 4
        ("b", "2024-03-01", 8.0, "o3"),  # 8 after the as-of date
    ]
    tx = pl.DataFrame(
        rows, schema=["customer_id", "order_date", "amount", "order_id"], orient="row"
    ).with_columns(pl.col("order_date").str.to_date())
    tx = tx.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))
    without = pl.DataFrame(
        {
            "source_row": [9],
            "customer_id": pl.Series([None], dtype=pl.String),
            "order_date": [dt.date(2024, 1, 4)],
            "amount": [7.0],
            "order_id": ["o4"],
        }
    )
    orders, quality = prepare_orders(tx, "2024-01-31", without_customer_id=without)
    assert orders.rows() == [("b", "o2", dt.date(2024, 1, 2), 15.0, -5.0, 1)]
    got = {r["bucket"]: (r["lines"], r["amount"]) for r in quality.tie_out().iter_rows(named=True)}
    assert got == {
        "kept": (1, 20.0),
        "return_netted_latest": (1, -5.0),
        "no_customer_id": (1, 7.0),
        "exact_duplicate": (1, 20.0),
        "after_as_of": (1, 8.0),
        "return_without_purchase": (1, -3.0),
        "cancelled_order": (3, 0.0),
    }
    assert quality.count("return_netted") == 0  # the own return left with its order
    # 10 + 5 - 15 + 20 - 5 - 3 + 20 + 8 + 7
    assert quality.rows_read == 9 and quality.amount_in == 47.0 and quality.ties_out


def test_the_reader_refuses_or_keeps_them() -> None:
    frame = pl.DataFrame(
        {
            "Customer ID": ["1", "", "2", " "],
            "order_date": ["2024-01-01"] * 4,
            "amount": ["1", "2", "3", "4"],
        }
    )
    with pytest.raises(DataValidationError) as err:
        read_transactions_frame(frame)
    text = str(err.value)
    assert "column 'customer_id': null ids in the file's column 'Customer ID' (" in text
    assert "in 2 rows; first rows: 2, 4" in text and 'missing_customer_id = "set_aside"' in text
    kept = read_transactions_frame(frame, missing_customer_id="keep")
    with_id, without = split_missing_customer_id(kept)
    assert with_id["source_row"].to_list() == [1, 3]
    assert without["source_row"].to_list() == [2, 4]
    with pytest.raises(ValueError, match="missing_customer_id"):
        read_transactions_frame(frame, missing_customer_id="drop")


def read_transactions_frame(frame: pl.DataFrame, **options: str) -> pl.DataFrame:
    from workbench.core.io import validate_transactions

    return validate_transactions(frame, columns={"Customer ID": "customer_id"}, **options)


def test_the_project_file_validates_the_key(tmp_path: Path) -> None:
    from workbench.core.project import parse_project
    from workbench.errors import ConfigError

    ok = parse_project(
        {"transactions": {"path": "x.csv", "missing_customer_id": "set_aside"}},
        tmp_path / "workbench.toml",
    )
    assert ok.missing_customer_id == "set_aside"
    assert (
        parse_project(
            {"transactions": {"path": "x.csv"}}, tmp_path / "workbench.toml"
        ).missing_customer_id
        == "refuse"
    )
    with pytest.raises(ConfigError, match=r"missing_customer_id: unknown value 'drop'"):
        parse_project(
            {"transactions": {"path": "x.csv", "missing_customer_id": "drop"}},
            tmp_path / "workbench.toml",
        )


def test_summary_json_counts_them(export) -> None:
    from workbench.app.run_summary import analyse

    config, written = export
    _set_aside(config)
    tx, without = load_project(config).read_lines()
    analysis = analyse(tx, "2011-12-31", without_customer_id=without)
    quality = analysis.quality
    assert quality["no_customer_id_rows"] == len(written["blank_rows"])
    assert quality["rows_read"] == written["lines"]
    assert sum(b["lines"] for b in quality["tie_out"].values()) == written["lines"]
    total = sum(Decimal(str(b["amount"])) for b in quality["tie_out"].values())
    assert total == written["revenue_in"]
    assert quality["tie_out"]["no_customer_id"]["amount"] == float(written["blank_revenue"])
    frame = analysis.quality_frame
    assert frame.filter(pl.col("reason") == "no_customer_id")["rows"].item() == len(
        written["blank_rows"]
    )


def test_the_report_shows_them(export, capsys, tmp_path: Path) -> None:
    config, written = export
    _set_aside(config)
    out_dir = tmp_path / "reports"
    code, out, err = run(
        [
            "report",
            "--config",
            str(config),
            "--notebook",
            "rfm_segmentation",
            "--out",
            str(out_dir),
            "--no-progress",
        ],
        capsys,
    )
    assert code == EXIT_OK, out + err
    executed = (out_dir / "rfm_segmentation.ipynb").read_text()
    line = re.search(r"KEY_FIGURES (\{.*?\})\\n", executed)
    assert line is not None
    figures = json.loads(line.group(1).replace('\\"', '"'))
    assert figures["rows_without_customer_id"] == len(written["blank_rows"])
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["data_quality"]["no_customer_id_rows"] == len(written["blank_rows"])
    html = (out_dir / "rfm_segmentation.html").read_text()
    assert "no_customer_id" in html and "Tie-out" in html
    n = len(written["blank_rows"])
    # on the first screen too: the summary's headline table
    assert "Lines without a customer id" in html and f"{n:,}" in html
    assert f"{n / written['lines']:.1%} of the lines read" in html


def test_the_loyalty_report_says_so(export, capsys, tmp_path: Path) -> None:
    config, written = export
    out_dir = tmp_path / "reports"
    code, out, err = run(
        [
            "report",
            "--config",
            str(config),
            "--notebook",
            "loyalty",
            "--out",
            str(out_dir),
            "--no-progress",
        ],
        capsys,
    )
    assert code == EXIT_OK, out + err
    html = (out_dir / "loyalty.html").read_text()
    n = len(written["blank_rows"])
    assert f"{n:,} lines without a customer id were set aside" in html
