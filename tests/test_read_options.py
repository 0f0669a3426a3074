"""ReadOptions: the readers' settings in one frozen object, validated once."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from workbench.core.io import (
    ReadOptions,
    read_customers,
    read_surveys,
    read_transactions,
    validate_customers,
    validate_transactions,
)
from workbench.errors import ConfigError


def test_defaults_are_the_documented_ones():
    opts = ReadOptions()
    # the data contract (workbench.core.io.readers): dates 1900-01-01 .. 2200-12-31, amounts up to
    # 1e12, UTF-8 with '"' quotes, the separator from the suffix, ids kept as read
    assert (opts.min_date, opts.max_date) == (dt.date(1900, 1, 1), dt.date(2200, 12, 31))
    assert opts.max_abs_amount == 1e12
    assert (opts.encoding, opts.quote_char, opts.separator) == ("utf8", '"', None)
    assert (opts.id_case, opts.missing_customer_id, opts.timezone) == ("keep", "refuse", "UTC")
    assert len(dataclasses.fields(ReadOptions)) == 14


def test_options_are_validated_once_and_frozen():
    opts = ReadOptions(min_date="2000-01-01", columns={"CustomerID": "customer_id"})
    assert opts.min_date == dt.date(2000, 1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.separator = ";"  # type: ignore[misc]
    with pytest.raises(ConfigError, match="min_date 2001-01-01 is after max_date 2000-01-01"):
        ReadOptions(min_date="2001-01-01", max_date="2000-01-01")
    with pytest.raises(ConfigError, match="max_date: cannot read '31/12/2020' as a date"):
        ReadOptions(max_date="31/12/2020")
    with pytest.raises(ConfigError, match="id_case must be one of keep, upper, lower"):
        ReadOptions(id_case="title")
    with pytest.raises(ConfigError, match="missing_customer_id must be one of refuse, keep"):
        ReadOptions(missing_customer_id="drop")
    with pytest.raises(ConfigError, match="max_abs_amount must be a positive number"):
        ReadOptions(max_abs_amount=0)
    assert ReadOptions(max_abs_amount=float("inf")).max_abs_amount == float("inf")


CSV = "CustomerID;Date;Amount\nA1;2024-01-02;3,5\nA2;2024-01-03;1.234,5\n"


def test_options_and_keywords_read_the_same(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text(CSV, encoding="utf-8")
    settings = {
        "separator": ";",
        "decimal_comma": True,
        "columns": {"CustomerID": "customer_id", "Date": "order_date", "Amount": "amount"},
    }
    by_keywords = read_transactions(path, **settings)
    by_options = read_transactions(path, options=ReadOptions(**settings))
    assert by_keywords.equals(by_options)
    assert by_options["amount"].to_list() == [3.5, 1234.5]


def test_options_or_keywords_not_both_and_no_unknown_keyword(tmp_path):
    frame = pl.DataFrame({"customer_id": ["a"], "order_date": ["2024-01-02"], "amount": [1.0]})
    with pytest.raises(TypeError, match="not both"):
        validate_transactions(frame, options=ReadOptions(), separator=";")
    with pytest.raises(TypeError, match="unexpected keyword argument 'sep'"):
        validate_transactions(frame, sep=";")
    # the transactions-only settings stay refused as keywords of the other readers ...
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_abs_amount'"):
        validate_customers(pl.DataFrame({"customer_id": ["a"]}), max_abs_amount=10.0)
    # ... and are ignored when they come in a shared ReadOptions
    opts = ReadOptions(id_case="upper", amount_from=("q", "p"), max_abs_amount=1.0)
    out = validate_customers(pl.DataFrame({"customer_id": ["ab"]}), options=opts)
    assert out["customer_id"].to_list() == ["AB"]


def test_one_options_object_serves_every_reader(tmp_path):
    (tmp_path / "c.csv").write_text("customer_id|customer_type\nx|b2c\n", encoding="utf-8")
    (tmp_path / "s.csv").write_text(
        "customer_id|survey_date|nps\nx|2024-05-01|9\n", encoding="utf-8"
    )
    opts = ReadOptions(separator="|")
    assert read_customers(tmp_path / "c.csv", options=opts)["customer_type"].to_list() == ["B2C"]
    assert read_surveys(tmp_path / "s.csv", options=opts)["nps"].to_list() == [9.0]
