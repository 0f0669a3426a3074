"""Hardened readers: odd and hostile input files give a clear DataValidationError or a rule.

Each test is a regression test for a defect of issue 8 ("Readers and validation").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from workbench.core.io import (
    read_customers,
    read_surveys,
    read_table,
    read_transactions,
    validate_customers,
    validate_surveys,
    validate_transactions,
)
from workbench.errors import DataValidationError

HEADER = "customer_id,order_date,amount\n"
GOOD = HEADER + "c1,2024-01-05,10.50\nc2,2024-02-01,20\n"


def write(tmp_path: Path, data: str | bytes, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def refused(func, *args, **kwargs) -> DataValidationError:
    with pytest.raises(DataValidationError) as err:
        func(*args, **kwargs)
    assert len(str(err.value)) <= 320, str(err.value)
    return err.value


# -- 1. a path is a path -------------------------------------------------------------------


def test_brackets_in_a_name_are_not_a_glob(tmp_path):
    write(tmp_path, HEADER + "one,2024-01-01,1\n", "tx1.csv")
    write(tmp_path, HEADER + "two,2024-01-01,2\n", "tx2.csv")
    literal = write(tmp_path, HEADER + "literal,2024-01-01,3\n", "tx[12].csv")
    tx = read_transactions(literal)
    assert tx["customer_id"].to_list() == ["literal"]


def test_glob_characters_in_a_folder_name_are_literal(tmp_path):
    write(tmp_path, HEADER + "q1,2024-01-01,1\n", "q1/transactions.csv")
    path = write(tmp_path, HEADER + "literal,2024-01-01,1\n", "q[1]/transactions.csv")
    assert read_transactions(path)["customer_id"].to_list() == ["literal"]
    assert read_table(path)["customer_id"].to_list() == ["literal"]


def test_star_in_a_path_is_not_expanded(tmp_path):
    write(tmp_path, HEADER + "one,2024-01-01,1\n", "tx1.csv")
    e = refused(read_transactions, tmp_path / "tx*.csv")
    assert "file not found" in str(e)


def test_parquet_path_is_literal(tmp_path):
    frame = pl.DataFrame(
        {"customer_id": ["x"], "order_date": [dt.date(2024, 1, 1)], "amount": [1.0]}
    )
    frame.write_parquet(tmp_path / "tx1.parquet")
    frame.with_columns(pl.lit("literal").alias("customer_id")).write_parquet(
        tmp_path / "tx[1].parquet"
    )
    assert read_transactions(tmp_path / "tx[1].parquet")["customer_id"].to_list() == ["literal"]


def test_a_folder_is_not_a_file(tmp_path):
    (tmp_path / "data.csv").mkdir()
    e = refused(read_transactions, tmp_path / "data.csv")
    assert "is a folder, not a file" in str(e)
    assert "is a folder, not a file" in str(refused(read_transactions, tmp_path))


# -- 2. non-finite and absurd numbers ---------------------------------------------------------


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity", "1e400"])
def test_non_finite_amount_text_is_refused(tmp_path, text):
    e = refused(read_transactions, write(tmp_path, GOOD + f"c3,2024-02-02,{text}\n"))
    assert e.column == "amount" and e.rows == [3]
    assert "not a finite number" in str(e)


@pytest.mark.parametrize("column", ["amount", "margin", "cost", "quantity"])
def test_non_finite_floats_in_parquet_are_refused(tmp_path, column):
    frame = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "order_date": [dt.date(2024, 1, 1)] * 3,
            "amount": [1.0, 2.0, 3.0],
        }
    ).with_columns(pl.Series(column, [1.0, float("nan"), float("-inf")]))
    path = tmp_path / "tx.parquet"
    frame.write_parquet(path)
    e = refused(read_transactions, path)
    assert e.column == column and e.rows == [2, 3] and "not a finite number" in str(e)
    e = refused(validate_transactions, frame)
    assert e.column == column and e.rows == [2, 3]


def test_absurd_amounts_are_refused_and_the_bound_is_configurable(tmp_path):
    path = write(tmp_path, GOOD + "c3,2024-02-02,1e308\nc4,2024-02-02,-2e12\n")
    e = refused(read_transactions, path)
    assert e.column == "amount" and e.rows == [3, 4]
    assert "absolute value above 1e+12" in str(e)
    tx = read_transactions(path, max_abs_amount=1e309)
    assert tx["amount"].to_list()[2] == 1e308
    e = refused(read_transactions, write(tmp_path, GOOD, "small.csv"), max_abs_amount=15)
    assert e.rows == [2] and "above 15" in str(e)


def test_nan_in_a_survey_answer_is_refused():
    frame = pl.DataFrame(
        {"customer_id": ["a"], "survey_date": ["2024-01-01"], "nps": [float("nan")]}
    )
    e = refused(validate_surveys, frame)
    assert e.column == "nps" and "not a finite number" in str(e)


# -- 3. implausible dates ---------------------------------------------------------------------


def test_dates_before_the_floor_are_refused(tmp_path):
    path = write(tmp_path, GOOD + "c3,0001-01-01,3\nc4,1899-12-31,4\n")
    e = refused(read_transactions, path)
    assert e.column == "order_date" and e.rows == [3, 4]
    assert "1900-01-01" in str(e) and "min_date=" in str(e)
    tx = read_transactions(path, min_date="0001-01-01")
    assert tx["order_date"].min() == dt.date(1, 1, 1)


def test_dates_after_the_ceiling_are_refused():
    frame = pl.DataFrame(
        {
            "customer_id": ["a", "b"],
            "order_date": [dt.date(2024, 1, 1), dt.date(9999, 1, 1)],
            "amount": [1.0, 2.0],
        }
    )
    e = refused(validate_transactions, frame)
    assert e.rows == [2] and "2200-12-31" in str(e)
    assert validate_transactions(frame, max_date=dt.date(9999, 12, 31)).height == 2
    with pytest.raises(ValueError, match="min_date"):
        validate_transactions(frame, min_date="1900-13-01")


def test_date_bounds_apply_to_every_table(tmp_path):
    e = refused(
        validate_customers, pl.DataFrame({"customer_id": ["a"], "signup_date": ["0201-05-01"]})
    )
    assert e.column == "signup_date"
    e = refused(read_surveys, write(tmp_path, "customer_id,survey_date\na,1066-10-14\n", "s.csv"))
    assert e.column == "survey_date"
    ok = validate_customers(
        pl.DataFrame({"customer_id": ["a"], "signup_date": ["1850-01-01"]}), min_date="1800-01-01"
    )
    assert ok["signup_date"].to_list() == [dt.date(1850, 1, 1)]


def test_trailing_garbage_after_a_date_is_unparseable(tmp_path):
    e = refused(read_transactions, write(tmp_path, GOOD + "c3,2025-06-30garbage,1\n"))
    assert e.rows == [3] and "unparseable date" in str(e)


# -- 4. headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["customer_id,order_date,amount,amount", "customer_id,order_date,amount, amount "]
)
def test_duplicate_headers_are_refused(tmp_path, header):
    path = write(tmp_path, header + "\nc1,2024-01-05,1,2\n")
    e = refused(read_transactions, path)
    assert e.column == "amount" and "two columns have this name" in str(e)
    assert "columns 3 and 4" in str(e)
    assert e.column == refused(read_table, path).column


def test_duplicate_names_in_a_frame_after_stripping_are_refused():
    frame = pl.DataFrame(
        {"customer_id": ["a"], "order_date": ["2024-01-01"], "amount": ["1"], " amount": ["2"]}
    )
    e = refused(validate_transactions, frame)
    assert e.column == "amount" and "two columns have this name" in str(e)


def test_a_rename_that_makes_a_duplicate_is_refused(tmp_path):
    path = write(tmp_path, "customer_id,order_date,amount,Revenue\nc1,2024-01-05,1,2\n")
    e = refused(read_transactions, path, columns={"Revenue": "amount"})
    assert e.column == "amount" and "columns=" in str(e)
    tx = read_transactions(path, columns={"Revenue": "amount", "amount": "gross"})
    assert tx["amount"].to_list() == [2.0] and tx["gross"].to_list() == ["1"]


def test_rename_of_a_missing_column_lists_a_few_names_only(tmp_path):
    wide = ",".join(f"column_with_a_long_name_{i}" for i in range(200))
    path = write(tmp_path, "customer_id,order_date,amount," + wide + "\n")
    e = refused(read_transactions, path, columns={"Nope": "amount"})
    assert "column to rename not found" in str(e) and "more)" in str(e)


# -- 5. parquet and frame types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("amount", [[1.0], [2.0]], "a number"),
        ("customer_id", [[1], [2]], "text"),
        ("order_date", [{"y": 2024}, {"y": 2024}], "a date"),
        ("customer_id", [b"a", b"b"], "text"),
        ("channel", [True, False], "text"),
    ],
)
def test_nested_or_binary_known_columns_are_refused(tmp_path, column, values, expected):
    base = {
        "customer_id": ["a", "b"],
        "order_date": [dt.date(2024, 1, 1)] * 2,
        "amount": [1.0, 2.0],
    }
    frame = pl.DataFrame(base).with_columns(pl.Series(column, values))
    path = tmp_path / "tx.parquet"
    frame.write_parquet(path)
    e = refused(read_transactions, path)
    assert e.column == column and f"wrong type: expected {expected}, found" in str(e)


def test_nested_extra_columns_are_kept():
    frame = pl.DataFrame(
        {
            "customer_id": ["a"],
            "order_date": [dt.date(2024, 1, 1)],
            "amount": [1.0],
            "tags": [["x", "y"]],
            "meta": [{"k": 1}],
        }
    )
    tx = validate_transactions(frame)
    assert tx["tags"].to_list() == [["x", "y"]]
    assert tx.select(pl.struct([c for c in tx.columns if c != "source_row"]).hash()).height == 1


def test_object_columns_are_refused():
    frame = pl.DataFrame(
        {"customer_id": ["a"], "order_date": ["2024-01-01"], "amount": ["1"]}
    ).with_columns(pl.Series("blob", [object()], dtype=pl.Object))
    assert refused(validate_transactions, frame).column == "blob"


def test_float_ids_become_integer_text(tmp_path):
    path = tmp_path / "tx.parquet"
    pl.DataFrame(
        {
            "customer_id": [17850.0, 13047.0],
            "order_id": pl.Series([536365.0, None], dtype=pl.Float32),
            "order_date": [dt.date(2024, 1, 1)] * 2,
            "amount": [1.0, 2.0],
        }
    ).write_parquet(path)
    tx = read_transactions(path)
    assert tx["customer_id"].to_list() == ["17850", "13047"]
    assert tx["order_id"].to_list() == ["536365", None]


@pytest.mark.parametrize("bad", [17850.5, float("nan"), float("inf"), 1e300])
def test_non_integral_float_ids_are_refused(bad):
    frame = pl.DataFrame(
        {"customer_id": [1.0, bad], "order_date": ["2024-01-01"] * 2, "amount": [1.0, 2.0]}
    )
    e = refused(validate_transactions, frame)
    assert e.column == "customer_id" and e.rows == [2] and "not a whole number" in str(e)


def test_integer_and_decimal_ids():
    frame = pl.DataFrame(
        {
            "customer_id": pl.Series([7, -3], dtype=pl.Int16),
            "order_id": pl.Series([Decimal("12.00"), Decimal("13.00")], dtype=pl.Decimal(10, 2)),
            "order_date": [20240101, 20240102],
            "amount": [1, 2],
        }
    )
    tx = validate_transactions(frame)
    assert tx["customer_id"].to_list() == ["7", "-3"]
    assert tx["order_id"].to_list() == ["12", "13"]
    assert tx["order_date"].to_list() == [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]
    bad = frame.with_columns(
        pl.Series("order_id", [Decimal("12.50"), Decimal("1")], dtype=pl.Decimal(10, 2))
    )
    assert refused(validate_transactions, bad).rows == [1]


# -- 6. source_row is reserved ---------------------------------------------------------------


def test_source_row_in_a_file_is_refused(tmp_path):
    path = write(tmp_path, "source_row,customer_id,order_date,amount\n99,c1,2024-01-05,x\n")
    e = refused(read_transactions, path)
    assert e.column == "source_row" and "reserved column name" in str(e)
    assert "columns=" in str(e)
    e = refused(read_transactions, path, columns={"source_row": "their_row"})
    assert e.rows == [1]  # our own numbering, not the file's 99


def test_source_row_of_a_validated_frame_is_kept():
    once = validate_transactions(
        pl.DataFrame(
            {"customer_id": ["a", "b"], "order_date": ["2024-01-01"] * 2, "amount": ["1", "2"]}
        )
    )
    again = validate_transactions(once.reverse())
    assert again["source_row"].to_list() == [2, 1]


@pytest.mark.parametrize("values", [["7", "8"], [1, None], [1.0, 2.0]])
def test_a_bad_source_row_in_a_frame_is_refused(values):
    frame = pl.DataFrame(
        {
            "customer_id": ["a", "b"],
            "order_date": ["2024-01-01"] * 2,
            "amount": ["1", "2"],
            "source_row": values,
        }
    )
    e = refused(validate_transactions, frame)
    assert e.column == "source_row" and "reserved column name" in str(e)


# -- 7. survey scales --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "scale"),
    [
        ("nps", "7.5", "0-10"),
        ("repurchase_intent", "4.2", "1-5"),
        ("score_price", "2.5", "1-5"),
        ("weight_quality", "3.01", "1-5"),
    ],
)
def test_survey_answers_are_whole_numbers(tmp_path, column, value, scale):
    path = write(
        tmp_path,
        f"customer_id,survey_date,{column}\na,2024-01-01,3\nb,2024-01-02,{value}\n",
        "s.csv",
    )
    e = refused(read_surveys, path)
    assert e.column == column and e.rows == [2]
    assert f"not a whole number on the {scale} scale" in str(e)


# -- 8. parser errors -------------------------------------------------------------------------


def test_ragged_row_names_the_row_and_hints_at_the_separator(tmp_path):
    path = write(tmp_path, GOOD + "c3,2024-02-02,3\nc4,2024-02-03,4,extra\n")
    e = refused(read_transactions, path)
    assert "row 4 has 4 fields but the header has 3" in str(e) and "separator=" in str(e)


def test_unterminated_quote_is_short_and_names_the_row(tmp_path):
    body = "".join(f"c{i},2024-01-01,{i}\n" for i in range(3000))
    path = write(tmp_path, HEADER + 'c1,2024-01-01,1\nc2,"2024-01-02,2\n' + body)
    e = refused(read_transactions, path)
    assert "row 2" in str(e) and "quote_char=" in str(e) and "never closed" in str(e)
    assert "c17" not in str(e)  # no file content


def test_invalid_utf8_names_the_row_and_hints_at_the_encoding(tmp_path):
    path = write(tmp_path, GOOD.encode() + b"caf\xe9,2024-03-01,3\n")
    e = refused(read_transactions, path)
    assert "row 3" in str(e) and "encoding=" in str(e)
    tx = read_transactions(path, encoding="latin-1")
    assert tx["customer_id"].to_list()[2] == "café"


def test_cp1252_and_separator(tmp_path):
    text = "customer_id;order_date;amount\nMüller;2024-01-05;10.5\n\u20acuro;2024-01-06;2\n"
    path = write(tmp_path, text.encode("cp1252"))
    tx = read_transactions(path, separator=";", encoding="cp1252")
    assert tx["customer_id"].to_list() == ["Müller", "€uro"]
    assert tx["amount"].to_list() == [10.5, 2.0]
    e = refused(read_transactions, path, separator=";", encoding="no-such-codec")
    assert "unknown encoding" in str(e)


def test_tsv_uses_tabs_by_default(tmp_path):
    path = write(tmp_path, GOOD.replace(",", "\t"), "tx.tsv")
    assert read_transactions(path)["amount"].to_list() == [10.5, 20.0]


def test_quote_char_none(tmp_path):
    path = write(tmp_path, HEADER + 'c"1,2024-01-05,1\n')
    assert read_transactions(path, quote_char=None)["customer_id"].to_list() == ['c"1']


def test_empty_file_is_refused(tmp_path):
    e = refused(read_transactions, write(tmp_path, b""))
    assert "is empty" in str(e)


def test_messages_are_capped_and_public_message_hides_path_and_values(tmp_path):
    long = "x" * 5000
    rows = "".join(f"c{i},2024-01-01,{long}{i}\n" for i in range(20))
    path = write(tmp_path, HEADER + rows)
    e = refused(read_transactions, path)
    assert e.n_rows == 20 and len(e.values) == 5
    public = e.public_message()
    assert str(tmp_path) not in public and "tx.csv" in public
    assert "xxx" not in public and public.endswith("1, 2, 3, 4, 5")
    assert e.short_source == "tx.csv"


# -- 9. blank lines ---------------------------------------------------------------------------


def test_blank_lines_are_skipped_and_rows_keep_editor_numbers(tmp_path):
    path = write(tmp_path, GOOD + "\nc4,2024-02-03,4\nc5,2024-02-04,bad\n")
    e = refused(read_transactions, path)
    assert e.rows == [5] and e.column == "amount"
    tx = read_transactions(write(tmp_path, GOOD + "\nc4,2024-02-03,4\nc5,2024-02-04,5\n", "ok.csv"))
    assert tx["source_row"].to_list() == [1, 2, 4, 5]


def test_blank_and_separator_only_lines_are_not_null_ids(tmp_path):
    path = write(tmp_path, HEADER + "\nc1,2024-01-05,1\n,,\n  , ,\t\nc2,2024-01-06,2\n\n\n")
    tx = read_transactions(path)
    assert tx["customer_id"].to_list() == ["c1", "c2"]
    assert tx["source_row"].to_list() == [2, 5]


def test_blank_lines_in_a_frame_are_not_skipped():
    frame = pl.DataFrame(
        {"customer_id": ["a", None], "order_date": ["2024-01-01", None], "amount": ["1", None]}
    )
    assert refused(validate_transactions, frame).rows == [2]


# -- 10. BOM, CRLF, white space, long ids -----------------------------------------------------


def test_bom_and_crlf(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    tx = read_transactions(path)
    assert tx.columns == ["source_row", "customer_id", "order_date", "amount"]
    assert tx["customer_id"].to_list() == ["c1", "c2"]
    assert tx["amount"].to_list() == [10.5, 20.0]
    customers = read_customers(write(tmp_path, b"\xef\xbb\xbfcustomer_id\r\nc1\r\n", "c.csv"))
    assert customers.columns == ["source_row", "customer_id"]


def test_ids_are_stripped_of_unicode_white_space_including_nbsp(tmp_path):
    rows = "\u00a0c1\u00a0,2024-01-05,1\n\u3000c2 ,2024-01-05,1\n\u200bc3,2024-01-05,1\n"
    path = write(tmp_path, HEADER + rows)
    tx = read_transactions(path)
    assert tx["customer_id"].to_list() == ["c1", "c2", "\u200bc3"]


def test_a_one_kilobyte_id_is_kept(tmp_path):
    big = "k" * 1024
    tx = read_transactions(write(tmp_path, HEADER + f"{big},2024-01-05,1\n"))
    assert tx["customer_id"].to_list() == [big]


def test_a_semicolon_file_read_with_commas_gets_a_separator_hint(tmp_path):
    path = write(tmp_path, GOOD.replace(",", ";"))
    e = refused(read_transactions, path)
    assert e.column == "order_date" or e.column == "customer_id"
    assert "separator=';'" in str(e)
    assert read_transactions(path, separator=";")["amount"].to_list() == [10.5, 20.0]
