"""The project file (workbench.toml): loading, validation messages, reading the tables."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import polars as pl
import pytest

from workbench.app.project_init import (
    propose_columns,
    propose_project,
    render_toml,
    sniff_date_format,
    toml_string,
)
from workbench.core.io import validate_transactions
from workbench.core.prepare import prepare_orders
from workbench.core.project import LINE_NO, identical_lines, load_project, parse_project
from workbench.errors import ConfigError, DataValidationError

RETAIL = (
    "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    "536365,85123A,HEART,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
    "536365,71053,LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom\n"
    "536365,71053,LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom\n"
    "536366,22633,HAND WARMER,6,12/13/2010 8:28,1.85,13047.0,United Kingdom\n"
    "C536367,22633,HAND WARMER,-2,12/14/2010 9:00,1.85,13047.0,United Kingdom\n"
)


def write_project(folder: Path, toml: str, data: str = RETAIL, name: str = "export.csv") -> Path:
    (folder / name).write_text(data)
    path = folder / "workbench.toml"
    path.write_text(toml)
    return path


RETAIL_TOML = """
[project]
currency = "GBP"
locale = "en_GB"
timezone = "Europe/London"

[ids]
trailing_zeros = true

[transactions]
path = "export.csv"
date_format = "%m/%d/%Y %H:%M"

[transactions.columns]
customer_id = "Customer ID"
order_id = "Invoice"
order_date = "InvoiceDate"
quantity = "Quantity"
unit_price = "Price"
"""


def test_retail_export_reads_through_the_project(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, RETAIL_TOML))
    assert project.currency == "GBP" and project.locale == "en_GB"
    assert project.transactions.path == tmp_path / "export.csv"
    tx = project.read_transactions()
    assert tx["customer_id"].to_list() == ["17850"] * 3 + ["13047"] * 2
    assert tx["amount"].to_list() == [15.3, 20.34, 20.34, 11.1, -3.7]
    assert tx["order_date"].to_list()[0] == dt.date(2010, 12, 1)
    assert tx[LINE_NO].to_list() == [1, 2, 3, 4, 5]
    assert {"StockCode", "Country", "quantity", "unit_price"} <= set(tx.columns)
    assert project.resolve_as_of(tx) == (dt.date(2010, 12, 14), "the last transaction date")


def test_identical_lines_keep_and_drop(tmp_path: Path) -> None:
    keep = load_project(write_project(tmp_path, RETAIL_TOML))
    tx = keep.read_transactions()
    assert identical_lines(tx)["source_row"].to_list() == [3]
    orders, quality = prepare_orders(tx)
    assert quality.count("exact_duplicate") == 0
    assert orders.filter(pl.col("order_id") == "536365")["amount"].item() == pytest.approx(55.98)

    drop = load_project(
        write_project(tmp_path, RETAIL_TOML.replace("[transactions]\n",
                                                    '[transactions]\nidentical_lines = "drop"\n'))
    )
    assert drop.identical_lines == "drop"
    tx = drop.read_transactions()
    assert LINE_NO not in tx.columns
    orders, quality = prepare_orders(tx)
    assert quality.count("exact_duplicate") == 1
    assert orders.filter(pl.col("order_id") == "536365")["amount"].item() == pytest.approx(35.64)


def test_as_of_given_in_the_file(tmp_path: Path) -> None:
    toml = RETAIL_TOML.replace('currency = "GBP"', 'currency = "GBP"\nas_of = "2010-12-10"')
    project = load_project(write_project(tmp_path, toml))
    assert project.resolve_as_of() == (dt.date(2010, 12, 10), "set in workbench.toml")
    toml = RETAIL_TOML.replace('currency = "GBP"', "currency = \"GBP\"\nas_of = 2010-12-10")
    assert load_project(write_project(tmp_path, toml)).as_of == dt.date(2010, 12, 10)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"transactions": {"path": "t.csv", "columns": {"amout": "x"}}},
         "workbench.toml: [transactions] columns: unknown target 'amout' (did you mean "
         "'amount'?); allowed: customer_id, order_date, amount"),
        ({"transactions": {"path": "t.csv", "seperator": ";"}},
         "[transactions]: unknown key 'seperator' (did you mean 'separator'?)"),
        ({"transactions": {}}, "[transactions] path: missing"),
        ({"project": {}}, "[transactions]: missing: the transactions table is required"),
        ({"transactions": {"path": "t.csv"}, "project": {"as_of": "yesterday"}},
         "[project] as_of: expected \"last\" or a date YYYY-MM-DD, got 'yesterday'"),
        ({"transactions": {"path": "t.csv"}, "project": {"currency": "$"}},
         "[project] currency: expected an ISO 4217 code"),
        ({"transactions": {"path": "t.csv"}, "project": {"locale": "english"}},
         "[project] locale: expected a locale"),
        ({"transactions": {"path": "t.csv"}, "project": {"timezone": "Mars/Olympus"}},
         "[project] timezone: unknown time zone 'Mars/Olympus'"),
        ({"transactions": {"path": "t.csv", "identical_lines": "merge"}},
         "[transactions] identical_lines: unknown value 'merge'; allowed: 'keep', 'drop'"),
        ({"transactions": {"path": "t.csv", "decimal_comma": "yes"}},
         "[transactions] decimal_comma: expected true or false"),
        ({"transactions": {"path": "t.csv", "separator": ";;"}},
         "[transactions] separator: expected one ASCII character"),
        ({"transactions": {"path": "t.csv", "encoding": "klingon"}},
         "[transactions] encoding: unknown encoding 'klingon'"),
        ({"transactions": {"path": "t.csv", "date_format": "dd/mm/yyyy"}},
         "[transactions] date_format: 'dd/mm/yyyy' is not a strptime format"),
        ({"transactions": {"path": "t.csv", "columns": {"unit_price": "P"}}},
         "unit_price needs quantity too"),
        ({"transactions": {"path": "t.csv",
                           "columns": {"unit_price": "P", "quantity": "Q", "amount": "A"}}},
         "map either amount, or quantity and unit_price"),
        ({"transactions": {"path": "t.csv", "columns": {"customer_id": "A", "order_id": "A"}}},
         "column 'A' is mapped twice"),
        ({"transactions": {"path": "t.csv"}, "ids": {"case": "title"}},
         "[ids] case: unknown value 'title'"),
        ({"transactions": {"path": "t.csv"}, "surveys": {"path": "s.csv",
                                                         "columns": {"nsp": "NPS"}}},
         "[surveys] columns: unknown target 'nsp' (did you mean 'nps'?)"),
        ({"transactions": {"path": "t.csv"}, "customer": {}},
         "unknown key 'customer' (did you mean 'customers'?)"),
    ],
)
def test_config_errors_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_project(data, "workbench.toml")
    assert message in str(err.value)
    assert isinstance(err.value, ValueError) and "\n" not in str(err.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="project file not found .*workbench init"):
        load_project(tmp_path / "workbench.toml")
    (tmp_path / "workbench.toml").write_text("[transactions\npath = 1\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_project(tmp_path)  # a folder means its workbench.toml


def test_data_errors_still_name_file_and_column(tmp_path: Path) -> None:
    bad = RETAIL.replace("2.55", "two")
    project = load_project(write_project(tmp_path, RETAIL_TOML, bad))
    with pytest.raises(DataValidationError) as err:
        project.read_transactions()
    assert err.value.column == "unit_price" and err.value.rows == [1]


def test_optional_tables_and_id_clean_up_apply_to_every_table(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("id,type\n17850.0,b2b\n13047,b2c\n")
    toml = RETAIL_TOML + '\n[customers]\npath = "customers.csv"\n' \
        '[customers.columns]\ncustomer_id = "id"\ncustomer_type = "type"\n'
    project = load_project(write_project(tmp_path, toml))
    customers = project.read_customers()
    assert customers is not None
    assert customers["customer_id"].to_list() == ["17850", "13047"]
    assert project.read_surveys() is None


def test_reader_options_decimal_comma_and_id_case() -> None:
    frame = pl.DataFrame({"customer_id": [" ab1 ", "AB1"], "order_date": ["2024-01-02"] * 2,
                          "amount": ["1.234,5", "3,25"]})
    tx = validate_transactions(frame, decimal_comma=True, id_case="lower")
    assert tx["amount"].to_list() == [1234.5, 3.25]
    assert tx["customer_id"].to_list() == ["ab1", "ab1"]
    with pytest.raises(DataValidationError, match="decimal_comma"):
        validate_transactions(frame.with_columns(pl.lit("3.5").alias("amount")),
                              decimal_comma=True)


# ------------------------------------------------------------------------- init proposals


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
          "CustomerID", "Country"],
         {"customer_id": "CustomerID", "order_id": "InvoiceNo", "order_date": "InvoiceDate",
          "quantity": "Quantity", "unit_price": "UnitPrice"}),
        (["customer", "date", "cds", "dollars"],
         {"customer_id": "customer", "order_date": "date", "amount": "dollars",
          "quantity": "cds"}),
        (["CUSTOMER ID", "ORDER DATE", "REVENUE"],
         {"customer_id": "CUSTOMER ID", "order_date": "ORDER DATE", "amount": "REVENUE"}),
        (["customer_id", "order_date", "price"],  # a lone price is the amount
         {"customer_id": "customer_id", "order_date": "order_date", "amount": "price"}),
    ],
)
def test_propose_columns_recognises_common_names(header: list[str], expected: dict) -> None:
    assert propose_columns(header) == expected


def test_sniff_date_format_prefers_the_format_that_reads_every_date() -> None:
    assert sniff_date_format(pl.Series(["13/01/2011 10:00", "1/2/2011 9:05"]))[0] == \
        "%d/%m/%Y %H:%M"
    fmt, notes = sniff_date_format(pl.Series(["1/2/2011", "3/4/2011"]))
    assert fmt == "%m/%d/%Y" and "check date_format" in notes[0]
    assert sniff_date_format(pl.Series(["2011-01-02T10:00:00Z"]))[0] == ""


def test_propose_semicolon_decimal_comma_cp1252(tmp_path: Path) -> None:
    text = "Kunde;Datum;Umsatz;Café\nK1;01.02.2024;1.234,50;é\nK2;15.03.2024;9,99;x\n"
    path = tmp_path / "export.csv"
    path.write_bytes(text.replace("Kunde", "Customer").replace("Datum", "Date")
                     .replace("Umsatz", "Sales").encode("cp1252"))
    prop = propose_project(path)
    assert (prop.separator, prop.encoding, prop.decimal_comma) == (";", "cp1252", True)
    assert prop.date_format == "%d.%m.%Y" and not prop.missing
    toml = render_toml(prop, tmp_path / "workbench.toml")
    (tmp_path / "workbench.toml").write_text(toml)
    tx = load_project(tmp_path / "workbench.toml").read_transactions()
    assert tx["amount"].to_list() == [1234.5, 9.99]
    assert tx["order_date"].to_list() == [dt.date(2024, 2, 1), dt.date(2024, 3, 15)]


def test_toml_strings_are_escaped() -> None:
    for value in ['a "quoted" name', "back\\slash", "tab\there", "del\x7f", "ünï"]:
        assert tomllib.loads(f"k = {toml_string(value)}")["k"] == value


def test_dashboard_dataset_and_serve_environment_use_the_project(tmp_path: Path) -> None:
    from workbench.app.serve import CONFIG_ENV, DATA_DIR_ENV, ServeError, server_environment
    from workbench.presentation.widgets.state import Dataset

    config = write_project(tmp_path, RETAIL_TOML)
    data = Dataset.from_dir(config)  # what the dashboard does with WORKBENCH_DATA_DIR
    assert data.transactions.height == 5 and data.currency == "GBP"
    assert data.transactions["customer_id"][0] == "17850"
    env = server_environment(config=config, base={})
    assert env[CONFIG_ENV] == env[DATA_DIR_ENV] == str(config.resolve())
    assert CONFIG_ENV not in server_environment(tmp_path, base={CONFIG_ENV: "x"})
    with pytest.raises(ServeError, match="give one"):
        server_environment(tmp_path, base={}, config=config)
