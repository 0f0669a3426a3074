"""Money sums of the KPIs and of behavioural loyalty are exact: the double nearest the decimal sum.

The customer summary adds money as whole minor units (workbench.core.money); the revenue KPI,
the trailing revenue per customer (workbench.analyses.kpi) and the loyalty spend sums
(workbench.analyses.loyalty.behaviour) must do the same.  The oracle is independent of the code:
Python's ``decimal`` adds the amounts as written (``Decimal(str(x))``) and the sum is rounded
once to a float.  The amounts are chosen so that a float sum, even of the sorted values, is off
in the last bit (``test_the_amounts_defeat_a_float_sum``), so each test fails on a float sum.
They also agree bit for bit with the customer summary's ``total_spend``, and the division back
to currency is correctly rounded even for a column of sums, which Polars would divide by a
literal as a product with its reciprocal (``test_customer_totals_are_the_nearest_float``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from workbench.analyses.kpi import executive_kpis, trailing_revenue
from workbench.analyses.loyalty.behaviour import (
    behaviour_summary,
    behavioural_loyalty,
    period_purchase_counts,
)
from workbench.core.io import read_transactions, validate_transactions
from workbench.core.prepare import prepare_orders
from workbench.core.stable import stable_sum
from workbench.core.summary import customer_summary, summary_from_orders
from workbench.errors import DataValidationError

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "transactions.csv"
AS_OF = dt.date(2026, 6, 30)
#: Customer a's orders (6.7 in decimal; 6.699999999999999 as a sorted float sum per group).
AMOUNTS_A = [0.1] * 10 + [0.2] * 4 + [0.7] * 7
#: Customer b's orders (0.9; 0.8999999999999999 as a float sum).
AMOUNTS_B = [0.3, 0.6]
SEEDS = (1, 2, 3, 4, 5)


def exact(amounts: list[float]) -> float:
    """The decimal sum of the amounts as written, rounded once to the nearest float."""
    return float(sum(Decimal(str(x)) for x in amounts))


def orders() -> pl.DataFrame:
    """One order a day for a, then for b, in the 23 days to AS_OF (inside every window)."""
    ids = ["a"] * len(AMOUNTS_A) + ["b"] * len(AMOUNTS_B)
    amounts = AMOUNTS_A + AMOUNTS_B
    days = [AS_OF - dt.timedelta(days=i) for i in range(len(amounts))]
    return pl.DataFrame({"customer_id": ids, "order_date": days, "amount": amounts})


def shuffled(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


def spend(frame: pl.DataFrame, column: str = "total_spend") -> dict[str, float]:
    return dict(zip(frame["customer_id"].to_list(), frame[column].to_list(), strict=True))


def test_the_amounts_defeat_a_float_sum():
    """The cases can fail: a float sum of sorted values is off from the decimal sum, per
    customer (in a group-by) and over all orders (Polars adds the two ways differently)."""
    for amounts in (AMOUNTS_A, AMOUNTS_B):
        per_group = pl.DataFrame({"g": 1, "x": amounts}).group_by("g").agg(stable_sum("x"))
        assert per_group["x"].item() != exact(amounts)
    everything = pl.DataFrame({"x": AMOUNTS_A + AMOUNTS_B}).select(stable_sum("x")).item()
    assert everything != exact(AMOUNTS_A + AMOUNTS_B)
    assert (exact(AMOUNTS_A), exact(AMOUNTS_B), exact(AMOUNTS_A + AMOUNTS_B)) == (6.7, 0.9, 7.6)


def test_revenue_kpi_is_the_exact_decimal_sum_in_any_row_order():
    tx = validate_transactions(orders().with_columns(pl.col("order_date").cast(pl.String),
                                                     pl.col("amount").cast(pl.String)))
    expected = exact(AMOUNTS_A + AMOUNTS_B)
    for frame in (tx, *(shuffled(tx, s) for s in SEEDS)):
        k = executive_kpis(frame, AS_OF, period_days=90)
        assert k.filter(pl.col("kpi") == "revenue")["value"].item() == expected
        assert k.schema["value"] == pl.Float64


def test_trailing_revenue_is_the_exact_decimal_sum_per_customer_in_any_row_order():
    expected = {"a": exact(AMOUNTS_A), "b": exact(AMOUNTS_B)}
    for frame in (orders(), *(shuffled(orders(), s) for s in SEEDS)):
        year = trailing_revenue(frame, AS_OF)
        assert spend(year) == expected
        assert year.schema == pl.Schema({"customer_id": pl.String, "total_spend": pl.Float64})


def test_loyalty_spend_is_the_exact_decimal_sum_per_customer_in_any_row_order():
    expected = {"a": exact(AMOUNTS_A), "b": exact(AMOUNTS_B)}
    for frame in (orders(), *(shuffled(orders(), s) for s in SEEDS)):
        b = behavioural_loyalty(frame, AS_OF)
        # every order is in the last trend period (365 days): spend_last is the total too
        assert spend(b) == expected and spend(b, "spend_last") == expected
        assert spend(b, "spend_prev") == {"a": 0.0, "b": 0.0}
        assert b.schema["total_spend"] == b.schema["spend_last"] == pl.Float64
        counts = period_purchase_counts(frame, AS_OF - dt.timedelta(days=365), AS_OF)
        assert spend(counts, "spend") == expected


def test_loyalty_profit_is_exact():
    profit = orders().with_columns(pl.col("amount").alias("profit"))
    b = behavioural_loyalty(shuffled(profit, 7), AS_OF)
    assert spend(b, "profit_last") == {"a": exact(AMOUNTS_A), "b": exact(AMOUNTS_B)}


def test_behaviour_summary_adds_customer_totals_exactly():
    # one customer per amount: the group total is the decimal sum of the customer totals
    n = len(AMOUNTS_A)
    b = pl.DataFrame({"behaviour": ["regular"] * n, "recency_status": ["active"] * n,
                      "purchases_per_year": [3.0] * n, "total_spend": AMOUNTS_A,
                      "spend_last": AMOUNTS_A[::-1]})
    for frame in (b, *(shuffled(b, s) for s in SEEDS)):
        row = behaviour_summary(frame).row(0, named=True)
        assert row["total_spend"] == row["spend_last_period"] == exact(AMOUNTS_A)


def test_sums_agree_with_the_customer_summary_on_the_sample_data():
    """Same exact sums as the customer summary (workbench.core.summary) to the last bit."""
    tx = read_transactions(SAMPLE).filter(pl.col("customer_id") <= "C002000")
    o, _ = prepare_orders(tx, AS_OF)
    total = spend(summary_from_orders(o, AS_OF))
    assert spend(behavioural_loyalty(o, AS_OF)) == total
    assert spend(trailing_revenue(o, AS_OF, days=100_000)) == total
    start = AS_OF - dt.timedelta(days=90)
    in_period = o.filter(pl.col("order_date") > start)["amount"].to_list()
    revenue = executive_kpis(tx, AS_OF).filter(pl.col("kpi") == "revenue")["value"].item()
    # the sample's amounts are whole cents; an order total can be a float one ulp off its cents
    # (e.g. 10.950000000000001, see test_customer_totals_are_the_nearest_float), so the oracle
    # adds the cents as decimals
    cents = [Decimal(repr(x)).quantize(Decimal("0.01")) for x in in_period]
    assert revenue == float(sum(cents))


def test_customer_totals_are_the_nearest_float():
    """55.69 + 109.2 is 164.89, whose nearest float 16489 / 100 gives; Polars' vectorised
    division by 100 gives the next float up when more than one customer is divided."""
    o = pl.DataFrame({"customer_id": ["a", "a", "b"], "amount": [55.69, 109.2, 1.0],
                      "order_date": [AS_OF - dt.timedelta(days=i) for i in range(3)]})
    expected = {"a": exact([55.69, 109.2]), "b": 1.0}
    assert expected["a"] == 16489 / 100 == 164.89
    assert spend(summary_from_orders(o, AS_OF)) == expected
    assert spend(trailing_revenue(o, AS_OF)) == expected
    assert spend(behavioural_loyalty(o, AS_OF)) == expected


BAD = pl.DataFrame({"customer_id": ["a", "b", "a"], "order_date": [AS_OF] * 3,
                    "amount": [1.0, 0.1234567, 2.0]})


def _message(call: Callable[[], object]) -> str:
    with pytest.raises(DataValidationError) as err:
        call()
    return str(err.value)


def test_amounts_not_whole_in_a_minor_unit_are_refused_as_by_the_summary():
    summary = _message(lambda: summary_from_orders(BAD, AS_OF))
    assert "column 'amount': more than 6 decimal places" in summary and "2 (0.1234567)" in summary
    assert _message(lambda: trailing_revenue(BAD, AS_OF)) == summary
    assert _message(lambda: behavioural_loyalty(BAD, AS_OF)) == summary
    assert _message(lambda: period_purchase_counts(BAD, "2026-01-01", AS_OF)) == summary
    # transactions: with order ids both go through prepare_orders (same message); without, the
    # summary adds the customer-days itself and its message also lists the rows
    tx = validate_transactions(BAD.with_columns(pl.col("order_date").cast(pl.String),
                                                pl.col("amount").cast(pl.String),
                                                pl.Series("order_id", ["1", "2", "3"])))
    kpis = _message(lambda: executive_kpis(tx, AS_OF))
    assert kpis == _message(lambda: customer_summary(tx, AS_OF))
    assert kpis.startswith("transactions: column 'amount': more than 6 decimal places")
    assert kpis.endswith("in 1 row; first rows: 2 (0.1234567)"), kpis  # the row is named
    assert _message(lambda: prepare_orders(tx, AS_OF)) == kpis
    no_ids = tx.drop("order_id")
    assert _message(lambda: executive_kpis(no_ids, AS_OF)) == _message(
        lambda: customer_summary(no_ids, AS_OF))


def test_behaviour_summary_refuses_totals_not_whole_in_a_minor_unit():
    b = pl.DataFrame({"behaviour": ["regular"], "recency_status": ["active"],
                      "purchases_per_year": [3.0], "total_spend": [1 / 3], "spend_last": [0.0]})
    message = _message(lambda: behaviour_summary(b))
    assert message.startswith("behaviour: column 'total_spend': more than 6 decimal places")
