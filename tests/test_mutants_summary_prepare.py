"""Exact cases for the small bugs mutation testing planted in summary.py, prepare.py and money.py
without a failing test (``bench/mutation_test.py``; each test names the mutant it kills)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.core.prepare import check_transactions, to_date
from workbench.core.summary import no_purchases_problem, purchases, summary_from_orders
from workbench.errors import DataValidationError


def _tx(amounts, dates=None):
    n = len(amounts)
    return pl.DataFrame(
        {
            "customer_id": ["a"] * n,
            "order_date": dates or [dt.date(2024, 1, 5)] * n,
            "amount": [float(x) for x in amounts],
        }
    )


def test_purchases_default_collapse_is_the_day_for_weeks():
    # summary.py `collapse or (...)` -> `and`: the default would collapse per week
    o = pl.DataFrame(
        {
            "customer_id": ["a", "a", "a"],
            "order_date": [dt.date(2024, 1, 1), dt.date(2024, 1, 3), dt.date(2024, 1, 3)],
            "amount": [1.0, 2.0, 4.0],
        }
    )
    got = purchases(o, "W").collect().sort("order_date")
    assert got["value"].to_list() == [1.0, 6.0]
    assert got["period"].to_list() == [dt.date(2024, 1, 1), dt.date(2024, 1, 3)]
    # per unit: one purchase in the ISO week starting Monday 2024-01-01
    week = purchases(o, "W", collapse="unit").collect()
    assert week["value"].to_list() == [7.0]
    assert week["period"].to_list() == [dt.date(2024, 1, 1)]
    # calendar months collapse per month by default
    month = purchases(o, "M").collect()
    assert month["value"].to_list() == [7.0]


def test_no_purchases_problem_with_a_purchase_of_exactly_one():
    # summary.py `amount > 0` -> `> 1`: a purchase of 1.0 would count as a return
    assert no_purchases_problem(_tx([1.0]), dt.date(2024, 1, 4)) == (
        "no purchases on or before 2024-01-04 (the first purchase is on 2024-01-05)"
    )
    # on the as-of date itself the purchase is not "after": the generic reason
    assert no_purchases_problem(_tx([1.0]), dt.date(2024, 1, 5)) == (
        "no purchases on or before 2024-01-05 once returns are netted"
    )


def test_no_purchases_problem_when_every_row_is_a_return():
    # summary.py `bought.height == 0` -> `!= 0`
    assert no_purchases_problem(_tx([-1.0]), dt.date(2024, 2, 1)) == (
        "no purchases: the only row is a return (amounts of zero or less)"
    )
    assert no_purchases_problem(_tx([0.0, -2.0, -3.0]), dt.date(2024, 2, 1)) == (
        "no purchases: all 3 rows are returns (amounts of zero or less)"
    )
    assert no_purchases_problem(None, "2024-02-01") == (
        "no customers with a purchase on or before 2024-02-01"
    )
    assert no_purchases_problem(None) == "no customers with a purchase"


def test_summary_from_orders_numbers_the_order_rows_from_one():
    # summary.py `with_row_index("source_row", offset=1)` -> offset 2
    orders = _tx([2.0, 1 / 3])
    with pytest.raises(DataValidationError) as err:
        summary_from_orders(orders, "2024-02-01")
    assert err.value.rows == [2]
    assert err.value.column == "amount"


def test_check_transactions_numbers_the_rows_from_one():
    # prepare.py `with_row_index("source_row", offset=1)` -> offset 2
    t = pl.DataFrame(
        {"customer_id": ["a", "b"], "order_date": [dt.date(2024, 1, 1)] * 2,
         "amount": [None, 2.0]},
        schema_overrides={"amount": pl.Float64},
    )
    with pytest.raises(DataValidationError) as err:
        check_transactions(t, "tx")
    assert (err.value.rows, err.value.n_rows, err.value.problem) == ([1], 1, "missing amounts")
    assert check_transactions(t.drop_nulls(), "tx")["source_row"].to_list() == [1]


def test_to_date_drops_the_time_of_a_datetime():
    # prepare.py `not isinstance(value, dt.datetime)` with `not` removed: a datetime came back
    got = to_date(dt.datetime(2024, 3, 1, 15, 30))
    assert type(got) is dt.date
    assert got == dt.date(2024, 3, 1)
    day = dt.date(2024, 3, 1)
    assert to_date(day) is day
    assert to_date(None) is None


def test_to_date_shows_up_to_forty_characters_of_bad_text():
    # prepare.py `len(text) <= 40` -> `< 40`
    forty = "x" * 40
    with pytest.raises(ValueError) as err:
        to_date(forty, "start")
    assert str(err.value) == f"start: cannot read {forty!r} as a date (use YYYY-MM-DD)"
    with pytest.raises(ValueError) as err:
        to_date("y" * 41)
    assert str(err.value) == f"as_of: cannot read {'y' * 37 + '...'!r} as a date (use YYYY-MM-DD)"


def test_check_transactions_casts_integer_amounts_and_refuses_text():
    # prepare.py `not tx[amount].dtype.is_numeric()` with `not` removed
    t = pl.DataFrame({"customer_id": ["a"], "order_date": [dt.date(2024, 1, 1)], "amount": [3]})
    got = check_transactions(t, "tx")
    assert got["amount"].dtype == pl.Float64
    assert got["amount"].to_list() == [3.0]
    with pytest.raises(DataValidationError, match="expected a number, found String"):
        check_transactions(t.with_columns(pl.lit("3").alias("amount")), "tx")


def test_null_rows_named_are_the_first_five():
    # prepare.py `bad["source_row"].head(5)` -> head(6)
    t = pl.DataFrame(
        {"customer_id": ["a"] * 8, "order_date": [None] * 7 + [dt.date(2024, 1, 1)],
         "amount": [1.0] * 8},
        schema_overrides={"order_date": pl.Date},
    )
    with pytest.raises(DataValidationError) as err:
        check_transactions(t, "tx")
    assert err.value.rows == [1, 2, 3, 4, 5]
    assert (err.value.n_rows, err.value.column) == (7, "order_date")


def test_needs_order_rules_only_for_order_ids_or_negative_amounts():
    # prepare.py `(amount < 0).any()` -> `< 1`, and `has_ids or ...` -> `and`
    from workbench.core.prepare import needs_order_rules

    small = _tx([0.0, 0.5])
    assert needs_order_rules(small) is False
    assert needs_order_rules(_tx([0.5, -0.5])) is True
    with_ids = small.with_columns(pl.Series("order_id", ["o1", None]))
    assert needs_order_rules(with_ids) is True
    no_ids = small.with_columns(pl.Series("order_id", [None, None], dtype=pl.String))
    assert needs_order_rules(no_ids) is False


def test_profit_of_orders_without_returns_and_with_missing_margin():
    # prepare.py margin `.fill_null(0.0)` -> 1.0, and the returned profit `.fill_null(0.0)` -> 1.0
    from workbench.core.prepare import prepare_orders

    t = pl.DataFrame(
        {"customer_id": ["a", "a", "b"],
         "order_date": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 1)],
         "amount": [10.0, 20.0, 7.0], "margin": [4.0, None, 2.5]}
    )
    orders, _ = prepare_orders(t)
    assert orders["profit"].to_list() == [4.0, 0.0, 2.5]
    assert orders["returned"].to_list() == [0.0, 0.0, 0.0]
    cost = t.drop("margin").with_columns(pl.Series("cost", [6.0, 15.0, 7.0]))
    orders, _ = prepare_orders(cost)
    assert orders["profit"].to_list() == [4.0, 5.0, 0.0]


def test_no_purchases_problem_without_amount_or_date_columns():
    # summary.py `AMOUNT in columns and ORDER_DATE in columns` -> `or`
    ids_only = pl.DataFrame({"customer_id": ["a"], "amount": [5.0]})
    assert no_purchases_problem(ids_only, "2024-01-01") == (
        "no purchases on or before 2024-01-01 once returns are netted"
    )
    dates_only = pl.DataFrame({"customer_id": ["a"], "order_date": [dt.date(2024, 1, 5)]})
    assert no_purchases_problem(dates_only, "2024-01-01") == (
        "no purchases on or before 2024-01-01 once returns are netted"
    )


def test_holdout_columns_of_a_customer_without_holdout_purchases():
    # summary.py `monetary_value_holdout.fill_null(0.0)` -> 1.0
    from workbench.core.summary import calibration_holdout_summary

    t = pl.DataFrame(
        {"customer_id": ["a", "a", "b"],
         "order_date": [dt.date(2024, 1, 1), dt.date(2024, 2, 5), dt.date(2024, 1, 3)],
         "amount": [10.0, 6.0, 4.0]}
    )
    s = calibration_holdout_summary(t, "2024-01-31", "2024-03-31", "D").sort("customer_id")
    assert s["frequency_holdout"].to_list() == [1, 0]
    assert s["monetary_value_holdout"].to_list() == [6.0, 0.0]
    assert s["duration_holdout"].to_list() == [60.0, 60.0]
