"""The documented rules for returns, multi-line orders, duplicates and late rows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.io import validate_transactions
from workbench.prepare import prepare_orders, to_date


def tx(rows, **extra):
    cols = ["customer_id", "order_date", "amount", *extra.get("cols", [])]
    return validate_transactions(
        pl.DataFrame(
            [dict(zip(cols, r, strict=False)) for r in rows],
            schema={c: pl.String for c in cols},
            orient="row",
        )
    )


def test_multi_line_orders_are_one_order():
    t = tx(
        [
            ("a", "2024-01-01", "10", "o1"),
            ("a", "2024-01-01", "5", "o1"),
            ("a", "2024-01-01", "7", "o2"),
        ],
        cols=["order_id"],
    )
    orders, report = prepare_orders(t)
    assert sorted(orders["amount"].to_list()) == [7.0, 15.0]
    assert orders.filter(pl.col("order_id") == "o1")["lines"].item() == 2
    assert report.count("multi_line_order") == 2


def test_return_netted_into_its_order_and_latest_order():
    t = tx(
        [
            ("a", "2024-01-01", "10", "o1"),
            ("a", "2024-01-20", "-4", "o1"),
            ("a", "2024-02-01", "30", "o2"),
            ("a", "2024-03-01", "-5", None),
        ],
        cols=["order_id"],
    )
    orders, report = prepare_orders(t)
    assert orders.sort("order_date")["amount"].to_list() == [6.0, 25.0]
    assert orders.sort("order_date")["returned"].to_list() == [-4.0, -5.0]
    assert report.count("return_netted") == 1 and report.count("return_netted_latest") == 1
    assert report.n_set_aside == 0


def test_return_before_any_purchase_is_set_aside():
    t = tx([("a", "2024-01-01", "-4"), ("a", "2024-02-01", "10")])
    orders, report = prepare_orders(t)
    assert orders["amount"].to_list() == [10.0]
    assert report.count("return_without_purchase") == 1
    assert report.examples("return_without_purchase")["source_row"].to_list() == [1]


def test_fully_returned_order_is_not_a_purchase_but_free_order_is():
    t = tx(
        [
            ("a", "2024-01-01", "10", "o1"),
            ("a", "2024-01-05", "-10", "o1"),
            ("b", "2024-01-01", "0", "o9"),
        ],
        cols=["order_id"],
    )
    orders, report = prepare_orders(t)
    assert orders["customer_id"].to_list() == ["b"]
    assert report.count("cancelled_order") == 2


def test_exact_duplicates_keep_first_copy():
    t = tx([("a", "2024-01-01", "10"), ("a", "2024-01-01", "10"), ("a", "2024-01-01", "3")])
    orders, report = prepare_orders(t)
    assert orders["amount"].to_list() == [13.0]
    assert report.count("exact_duplicate") == 1
    assert report.examples("exact_duplicate")["source_row"].to_list() == [2]


def test_rows_after_as_of_are_set_aside_and_reported():
    t = tx([("a", "2024-01-01", "10"), ("a", "2024-06-01", "10")])
    orders, report = prepare_orders(t, as_of="2024-03-31")
    assert orders.height == 1
    assert report.count("after_as_of") == 1
    frame = report.to_frame()
    assert frame.filter(pl.col("reason") == "after_as_of")["example_rows"].item() == "2"
    assert "after_as_of" in str(report)


def test_every_row_is_accounted_for():
    t = tx(
        [
            ("a", "2024-01-01", "10", "o1"),
            ("a", "2024-01-01", "10", "o1"),
            ("b", "2024-01-01", "-1", None),
            ("c", "2025-01-01", "5", "o3"),
        ],
        cols=["order_id"],
    )
    orders, report = prepare_orders(t, as_of="2024-12-31")
    used = orders["lines"].sum()
    assert used + report.n_set_aside == t.height


def test_profit_from_cost_or_margin():
    t = tx([("a", "2024-01-01", "10", "6"), ("a", "2024-01-01", "-5", "-3")], cols=["cost"])
    orders, _ = prepare_orders(t)
    assert orders["profit"].to_list() == [pytest.approx(2.0)]


def test_to_date():
    assert to_date("2024-03-01") == dt.date(2024, 3, 1)
    with pytest.raises(ValueError, match="as_of"):
        to_date("March")
