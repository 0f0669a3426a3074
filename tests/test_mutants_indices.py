"""Exact cases for workbench.analyses.loyalty.indices that kill mutants ``bench/mutation_test.py``
planted: one-day periods, a denominator of exactly one, the warning's line, segment order."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.analyses.loyalty import (
    loyalty_index,
    loyalty_index_from_counts,
    segment_indices,
    value_index,
)
from workbench.analyses.loyalty.indices import (
    A_N,
    A_P,
    K_CREDIT,
    K_HALF_YEAR,
    K_PREPAYMENT,
    K_QUARTER,
    K_YEAR,
)

D = dt.date
AS_OF = D(2025, 12, 31)


def _orders(rows, profit=True):
    df = pl.DataFrame(
        {"customer_id": [r[0] for r in rows], "order_date": [r[1] for r in rows],
         "amount": [r[2] for r in rows]}
    )
    return df.with_columns((pl.col("amount") / 2).alias("profit")) if profit else df


def test_seed_coefficients():
    assert (A_N, A_P) == (1.0, 0.3)
    assert (K_QUARTER, K_HALF_YEAR, K_YEAR) == (1.0, 0.9, 0.8)
    assert (K_PREPAYMENT, K_CREDIT) == (1.1, 1.0)


def test_one_day_periods():
    # period 1 = (as_of - 1, as_of], period 0 = (as_of - 2, as_of - 1]: one purchase in a day
    # is 365 a year, regular
    rows = [("a", AS_OF - dt.timedelta(days=1), 10.0), ("a", AS_OF, 10.0),
            ("b", AS_OF - dt.timedelta(days=2), 10.0), ("b", AS_OF, 10.0)]
    got = loyalty_index(_orders(rows), AS_OF, period_days=1).row(0, named=True)
    assert (got["R_c0"], got["R_c1"], got["O_c0"], got["O_c1"]) == (1, 2, 0, 0)
    with pytest.raises(ValueError, match="period_days"):
        loyalty_index(_orders(rows), AS_OF, period_days=0)


def test_a_denominator_of_one_is_defined():
    out = loyalty_index_from_counts(
        pl.DataFrame({"R_c0": [1], "R_c1": [2], "O_c0": [1], "O_c1": [3]})
    ).row(0, named=True)
    assert (out["regular_ratio"], out["one_time_ratio"]) == (2.0, 3.0)
    assert out["I_l"] == 2.0 * 1.0 + 3.0 * 0.3
    assert out["I_l_relative"] == (2.0 * 1.0 + 3.0 * 0.3) / (1.0 + 0.3)
    assert out["note"] is None


def test_customers_new_in_period_one_keep_their_segment():
    rows = [("new", AS_OF - dt.timedelta(days=10 * i), 10.0) for i in range(3)]
    rows += [("old", D(2024, 6, 1), 10.0)]
    seg = pl.DataFrame({"customer_id": ["new", "old"], "segment": ["N", "O"]})
    out = loyalty_index(_orders(rows), AS_OF, segments=seg)
    got = {r["segment"]: (r["R_c0"], r["R_c1"], r["O_c0"], r["O_c1"])
           for r in out.iter_rows(named=True)}
    assert got == {"N": (0, 1, 0, 0), "O": (0, 0, 1, 0), "All": (0, 1, 1, 0)}


def test_the_revenue_warning_points_at_the_caller():
    with pytest.warns(UserWarning, match="revenue is used") as record:
        value_index(_orders([("a", AS_OF, 30.0)], profit=False), AS_OF)
    assert record[0].filename == __file__


def test_value_index_with_default_point_cost_and_two_year_period():
    # 3 purchases in 730 days: 1.5 a year -> K_rp 0.8; profit 3 * 5 = 15; credit -> 1.0
    rows = [("a", AS_OF - dt.timedelta(days=d), 10.0) for d in (0, 300, 700)]
    customers = pl.DataFrame({"customer_id": ["a"], "payment_terms": ["credit"]})
    r = value_index(_orders(rows), AS_OF, customers, period_days=730).row(0, named=True)
    assert (r["purchases"], r["purchases_per_year"], r["C_pr"]) == (3, 1.5, 15.0)
    assert (r["K_rp"], r["K_pt"], r["payment_terms"]) == (0.8, 1.0, "credit")
    assert r["I_v"] == 15.0 * 0.8 * 1.0


def test_segment_indices_without_satisfaction_and_their_order():
    v = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "I_v": [2.0, 10.0, 4.0, 0.0]})
    seg = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment": ["X", "Y", "Z", "Z"]})
    out = segment_indices(v, segments=seg)
    assert out["segment"].to_list() == ["Y", "Z", "X", "All"]  # by I_v_sum, descending
    assert out["I_v_sum"].to_list() == [10.0, 4.0, 2.0, 16.0]
    assert out["I_v_share"].to_list() == [0.625, 0.25, 0.125, 1.0]  # exact in binary
    assert out["satisfaction_n"].to_list() == [0, 0, 0, 0]
    assert out["I_s_mean"].to_list() == [None] * 4
    assert out["I_s_value_weighted"].to_list() == [None] * 4
    alone = segment_indices(v)
    assert alone.select("segment", "customers", "I_v_mean").row(0) == ("All", 4, 4.0)
    # every value index zero: no share (no division by zero)
    zero = segment_indices(v.with_columns(pl.lit(0.0).alias("I_v")))
    assert zero["I_v_share"].to_list() == [None]
