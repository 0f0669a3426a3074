"""Behavioural loyalty (workbench.analyses.loyalty.behaviour): hand-computed cases and
boundaries."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.analyses.loyalty import (
    behavioural_loyalty,
    buckinx_van_den_poel,
    period_purchase_counts,
)

D = dt.date


def orders(rows: list[tuple[str, dt.date, float]], profit: bool = False) -> pl.DataFrame:
    df = pl.DataFrame({"customer_id": [r[0] for r in rows], "order_date": [r[1] for r in rows],
                       "amount": [r[2] for r in rows]})
    if profit:
        df = df.with_columns((pl.col("amount") * 0.25).alias("profit"))
    return df


def row(frame: pl.DataFrame, cid: str) -> dict:
    return frame.filter(pl.col("customer_id") == cid).row(0, named=True)


def test_exactly_two_purchases_a_year_is_one_time_and_three_is_regular():
    # tenure 364 days < 365: the 365-day floor applies, so 2 purchases -> exactly 2.0 a year
    o = orders([("two", D(2025, 1, 1), 10.0), ("two", D(2025, 7, 1), 10.0),
                ("three", D(2025, 1, 1), 10.0), ("three", D(2025, 4, 1), 10.0),
                ("three", D(2025, 7, 1), 10.0)])
    b = behavioural_loyalty(o, "2025-12-31")
    assert row(b, "two")["purchases_per_year"] == 2.0
    assert row(b, "two")["behaviour"] == "one-time"
    assert row(b, "three")["purchases_per_year"] == 3.0
    assert row(b, "three")["behaviour"] == "regular"


def test_min_tenure_stops_annualising_a_young_customer():
    # two purchases 14 days apart, as-of 14 days after the first: not 2 / 14 * 365 = 52 a year
    o = orders([("new", D(2025, 12, 17), 5.0), ("new", D(2025, 12, 24), 5.0)])
    b = behavioural_loyalty(o, "2025-12-31")
    assert row(b, "new")["tenure_days"] == 14
    assert row(b, "new")["purchases_per_year"] == 2.0
    assert row(b, "new")["behaviour"] == "one-time"
    # without the floor (1 day) the same customer would be annualised
    b1 = behavioural_loyalty(o, "2025-12-31", min_tenure_days=1)
    assert row(b1, "new")["purchases_per_year"] == pytest.approx(2 * 365 / 14)


def test_long_tenure_uses_the_real_tenure():
    # 4 purchases over 730 days of tenure = 2.0 a year -> one-time
    o = orders([("c", D(2024, 1, 1), 1.0), ("c", D(2024, 6, 1), 1.0), ("c", D(2025, 1, 1), 1.0),
                ("c", D(2025, 6, 1), 1.0)])
    b = behavioural_loyalty(o, D(2024, 1, 1) + dt.timedelta(days=730))
    assert row(b, "c")["purchases_per_year"] == 2.0
    assert row(b, "c")["behaviour"] == "one-time"


def test_regularity_cv_null_below_three_purchases_and_hand_computed():
    o = orders([("a", D(2025, 1, 1), 1.0), ("a", D(2025, 1, 11), 1.0), ("a", D(2025, 1, 31), 1.0),
                ("b", D(2025, 1, 1), 1.0), ("b", D(2025, 2, 1), 1.0)])
    b = behavioural_loyalty(o, "2025-03-01")
    a = row(b, "a")
    # gaps 10 and 20 days: mean 15, sample sd 7.0711, CV 0.4714
    assert a["mean_gap_days"] == 15.0
    assert a["gap_cv"] == pytest.approx(7.0710678 / 15, rel=1e-6)
    assert a["last_gap_days"] == 20.0 and a["prior_mean_gap_days"] == 10.0
    assert row(b, "b")["gap_cv"] is None  # two purchases: one gap, no spread
    assert row(b, "b")["mean_gap_days"] == 31.0


@pytest.mark.parametrize(("days_since", "status"), [
    (14, "active"),   # ratio 1.4
    (15, "at risk"),  # exactly 1.5
    (19, "at risk"),  # 1.9
    (20, "lapsed"),   # exactly 2
    (30, "lapsed"),   # exactly 3: "over 3x" is churned, so 3.0 is still lapsed
    (31, "churned"),  # 3.1
])
def test_gap_ratio_status_boundaries(days_since, status):
    last = D(2025, 1, 21)
    o = orders([("a", D(2025, 1, 1), 1.0), ("a", D(2025, 1, 11), 1.0), ("a", last, 1.0)])
    b = behavioural_loyalty(o, last + dt.timedelta(days=days_since))
    r = row(b, "a")
    assert r["gap_ratio"] == pytest.approx(days_since / 10)
    assert r["recency_status"] == status


def test_single_purchase_has_no_rhythm():
    b = behavioural_loyalty(orders([("a", D(2025, 1, 1), 1.0)]), "2025-06-30")
    r = row(b, "a")
    assert r["gap_ratio"] is None and r["mean_gap_days"] is None
    assert r["recency_status"] == "single purchase"


def test_spend_trend_last_period_vs_previous_equal_length():
    # as-of 2025-12-31, trend 365 days: last = (2024-12-31, 2025-12-31], prev = the year before
    o = orders([("a", D(2024, 3, 1), 100.0), ("a", D(2024, 12, 31), 100.0),
                ("a", D(2025, 1, 1), 50.0), ("a", D(2025, 6, 1), 100.0),
                ("b", D(2025, 3, 1), 40.0)], profit=True)
    b = behavioural_loyalty(o, "2025-12-31")
    a = row(b, "a")
    assert (a["spend_prev"], a["spend_last"]) == (200.0, 150.0)
    assert a["spend_trend"] == pytest.approx(-0.25)
    assert (a["n_prev"], a["n_last"]) == (2, 2)
    assert a["profit_last"] == pytest.approx(37.5)
    assert row(b, "b")["spend_trend"] is None  # nothing in the previous period: undefined


def test_orders_after_as_of_ignored_and_same_day_orders_are_one_purchase():
    o = orders([("a", D(2025, 1, 1), 10.0), ("a", D(2025, 1, 1), 5.0),
                ("a", D(2025, 2, 1), 1.0), ("a", D(2026, 1, 1), 99.0)])
    r = row(behavioural_loyalty(o, "2025-12-31"), "a")
    assert r["n_purchases"] == 2
    assert r["total_spend"] == 16.0
    assert r["last_purchase"] == D(2025, 2, 1)


def test_p_alive_joined_when_given_else_null():
    o = orders([("a", D(2025, 1, 1), 1.0), ("b", D(2025, 1, 2), 1.0)])
    b = behavioural_loyalty(o, "2025-06-30",
                            p_alive=pl.DataFrame({"customer_id": ["a"], "p_alive": [0.3]}))
    assert row(b, "a")["p_alive"] == 0.3 and row(b, "b")["p_alive"] is None
    assert behavioural_loyalty(o, "2025-06-30")["p_alive"].null_count() == 2


def test_buckinx_van_den_poel_rule():
    df = pl.DataFrame({"f": [1.0, 4.0, 5.0, 6.0], "cv": [None, 0.2, 0.8, 0.4]})
    # mean f = 4.0, mean cv = 0.4667: only f > 4 and cv < 0.4667 -> the last row
    got = df.select(buckinx_van_den_poel(pl.col("f"), pl.col("cv"))).to_series().to_list()
    assert got == [False, False, False, True]


def test_bvdp_column_in_behaviour_table():
    rows = []
    for day in [1, 8, 15, 22, 29]:  # very regular, frequent
        rows.append(("reg", D(2025, 1, day), 1.0))
    rows += [("irr", D(2025, 1, 1), 1.0), ("irr", D(2025, 1, 2), 1.0), ("irr", D(2025, 5, 1), 1.0)]
    rows += [("one", D(2025, 3, 1), 1.0)]
    b = behavioural_loyalty(orders(rows), "2025-06-30")
    assert row(b, "reg")["bvdp_loyal"] is True
    assert row(b, "irr")["bvdp_loyal"] is False
    assert row(b, "one")["bvdp_loyal"] is False


def test_invalid_parameters_raise():
    o = orders([("a", D(2025, 1, 1), 1.0)])
    with pytest.raises(ValueError):
        behavioural_loyalty(o, "2025-06-30", at_risk_ratio=3.0, lapsed_ratio=2.0)
    with pytest.raises(ValueError):
        behavioural_loyalty(o, "2025-06-30", min_tenure_days=0)


def test_period_purchase_counts_window_is_left_open_right_closed():
    o = orders([("a", D(2024, 12, 31), 1.0), ("a", D(2025, 1, 1), 2.0),
                ("a", D(2025, 12, 31), 3.0)])
    c = period_purchase_counts(o, "2024-12-31", "2025-12-31")
    assert c.row(0, named=True)["n"] == 2 and c.row(0, named=True)["spend"] == 5.0
