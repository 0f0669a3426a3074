"""Validation of the input tables: each bad input gives one clear message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from workbench.core.io import read_customers, read_surveys, read_transactions, validate_transactions
from workbench.errors import DataValidationError

GOOD = "customer_id,order_date,amount\nc1,2024-01-05,10.50\nc2,2024-02-01,20\n"


def write(tmp_path: Path, text: str, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_file_is_typed_and_numbered(tmp_path):
    tx = read_transactions(write(tmp_path, GOOD))
    assert tx.schema["customer_id"] == pl.String
    assert tx.schema["order_date"] == pl.Date
    assert tx["amount"].to_list() == [10.5, 20.0]
    assert tx["source_row"].to_list() == [1, 2]


def test_missing_column_names_file_and_column(tmp_path):
    path = write(tmp_path, "customer_id,order_date\nc1,2024-01-05\n")
    with pytest.raises(DataValidationError) as err:
        read_transactions(path)
    msg = str(err.value)
    assert str(path) in msg and "'amount'" in msg and "missing" in msg
    assert err.value.column == "amount"


def test_text_in_numeric_column_lists_first_rows(tmp_path):
    path = write(tmp_path, GOOD + "c3,2024-02-02,abc\nc4,2024-02-03,5\nc5,2024-02-04,n/a\n")
    with pytest.raises(DataValidationError) as err:
        read_transactions(path)
    e = err.value
    assert e.column == "amount" and e.rows == [3, 5] and e.values == ["abc", "n/a"]
    assert e.n_rows == 2
    assert "text in a numeric column" in str(e) and str(path) in str(e)


def test_null_ids(tmp_path):
    path = write(tmp_path, GOOD + ",2024-02-02,3\n  ,2024-02-03,4\n")
    with pytest.raises(DataValidationError) as err:
        read_transactions(path)
    assert err.value.column == "customer_id" and err.value.rows == [3, 4]
    assert "null ids" in str(err.value)


def test_unparseable_dates(tmp_path):
    path = write(tmp_path, GOOD + "c3,31/02/2024,3\nc4,2024-13-01,3\n")
    with pytest.raises(DataValidationError) as err:
        read_transactions(path)
    assert err.value.column == "order_date" and err.value.rows == [3, 4]
    assert "unparseable date" in str(err.value)


def test_wrong_type_in_parquet(tmp_path):
    path = tmp_path / "tx.parquet"
    pl.DataFrame(
        {"customer_id": ["a"], "order_date": [dt.date(2024, 1, 1)], "amount": [dt.date(2024, 1, 1)]}
    ).write_parquet(path)
    with pytest.raises(DataValidationError, match="wrong type: expected a number"):
        read_transactions(path)


def test_parquet_roundtrip_and_int_ids(tmp_path):
    path = tmp_path / "tx.parquet"
    pl.DataFrame(
        {"customer_id": [1, 2], "order_date": ["2024-01-01", "2024-01-02"], "amount": [1, 2]}
    ).write_parquet(path)
    tx = read_transactions(path)
    assert tx["customer_id"].to_list() == ["1", "2"] and tx.schema["amount"] == pl.Float64


def test_mixed_time_zones_convert_to_business_zone():
    frame = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "order_date": [
                "2024-03-01T23:30:00+00:00",
                "2024-03-01T23:30:00-05:00",
                "2024-03-01 10:00:00",
                "20240301",
            ],
            "amount": ["1", "1", "1", "1"],
        }
    )
    utc = validate_transactions(frame)["order_date"].to_list()
    assert utc == [
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 2),
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 1),
    ]
    berlin = validate_transactions(frame, timezone="Europe/Berlin")["order_date"].to_list()
    assert berlin[0] == dt.date(2024, 3, 2)


def test_rename_columns(tmp_path):
    path = write(tmp_path, "CustomerID,Date,Revenue\nc1,2024-01-05,3\n")
    tx = read_transactions(
        path, columns={"CustomerID": "customer_id", "Date": "order_date", "Revenue": "amount"}
    )
    assert tx.columns[:3] == ["customer_id", "order_date", "amount"] or "amount" in tx.columns


def test_missing_file_and_bad_suffix(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        read_transactions(tmp_path / "nope.csv")
    with pytest.raises(DataValidationError, match="unsupported file type"):
        read_transactions(write(tmp_path, GOOD, "tx.xlsx"))


def test_input_file_is_not_modified(tmp_path):
    path = write(tmp_path, GOOD + "c1,2024-01-05,10.50\n")
    before = path.read_bytes()
    read_transactions(path)
    assert path.read_bytes() == before


def test_customers_choices_and_duplicates(tmp_path):
    ok = read_customers(
        write(
            tmp_path,
            "customer_id,customer_type,payment_terms\na,b2b,Credit\nb,B2C,prepayment\n",
            "c.csv",
        )
    )
    assert ok["customer_type"].to_list() == ["B2B", "B2C"]
    assert ok["payment_terms"].to_list() == ["credit", "prepayment"]
    with pytest.raises(DataValidationError, match="unknown value") as err:
        read_customers(write(tmp_path, "customer_id,payment_terms\na,cash\n", "c2.csv"))
    assert err.value.rows == [1]
    with pytest.raises(DataValidationError, match="duplicate customer ids"):
        read_customers(write(tmp_path, "customer_id\na\na\n", "c3.csv"))


def test_surveys_ranges(tmp_path):
    ok = read_surveys(
        write(
            tmp_path,
            "customer_id,survey_date,nps,score_price\na,2024-01-01,10,5\nb,2024-01-02,,\n",
            "s.csv",
        )
    )
    assert ok["nps"].to_list() == [10.0, None]
    with pytest.raises(DataValidationError, match="outside the allowed range 0-10") as err:
        read_surveys(write(tmp_path, "customer_id,survey_date,nps\na,2024-01-01,11\n", "s2.csv"))
    assert err.value.column == "nps"


def test_csv_with_offsets_and_spaces_takes_the_careful_path(tmp_path):
    """The typed fast path must not truncate date-times with offsets or misread padded cells."""
    path = write(
        tmp_path,
        "customer_id,order_date,amount\n c1 ,2024-03-01T23:30:00-05:00, 10.5\nc2,2024-03-01,3\n",
    )
    tx = read_transactions(path)
    assert tx["order_date"].to_list() == [dt.date(2024, 3, 2), dt.date(2024, 3, 1)]
    assert tx["customer_id"].to_list() == ["c1", "c2"]
    assert tx["amount"].to_list() == [10.5, 3.0]
