"""Cohort retention: exact counts on a hand-built example, revenue ties out on the sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import vl_convert as vlc

from workbench.analyses.cohorts import cohort_matrix, cohort_retention
from workbench.core.io import read_transactions, validate_transactions
from workbench.core.prepare import prepare_orders
from workbench.presentation.charts.cohorts import cohort_heatmap

D = dt.date


def hand_built() -> pl.DataFrame:
    # a: Jan, Feb, Apr; b: Jan (two lines one day), Mar with a return; c: Feb; d: after as-of
    return validate_transactions(pl.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "b", "b", "c", "d"],
        "order_date": ["2024-01-05", "2024-02-10", "2024-04-30", "2024-01-20", "2024-01-20",
                       "2024-03-03", "2024-03-04", "2024-02-28", "2024-05-01"],
        "amount": [10.0, 5.0, 2.5, 7.0, 3.0, 20.0, -4.0, 8.0, 99.0],
    }))


def test_exact_counts_on_a_hand_built_example() -> None:
    t = cohort_retention(hand_built(), "2024-04-30")
    rows = t.select("cohort", "period", "cohort_customers", "customers", "revenue").rows()
    assert rows == [
        (D(2024, 1, 1), 0, 2, 2, 20.0),
        (D(2024, 1, 1), 1, 2, 1, 5.0),
        (D(2024, 1, 1), 2, 2, 1, 16.0),  # b's return netted into its March order
        (D(2024, 1, 1), 3, 2, 1, 2.5),
        (D(2024, 2, 1), 0, 1, 1, 8.0),
        (D(2024, 2, 1), 1, 1, 0, 0.0),
        (D(2024, 2, 1), 2, 1, 0, 0.0),
    ]
    assert t["retention"].to_list() == [1.0, 0.5, 0.5, 0.5, 1.0, 0.0, 0.0]
    assert t["complete"].all()  # 2024-04-30 ends April
    assert t.filter(pl.col("period") == 2)["period_start"].to_list() == [D(2024, 3, 1),
                                                                         D(2024, 4, 1)]


def test_orders_and_transactions_give_the_same_table() -> None:
    tx = hand_built()
    orders, _ = prepare_orders(tx, "2024-04-15")
    by_tx = cohort_retention(tx, "2024-04-15")
    assert by_tx.equals(cohort_retention(orders, "2024-04-15"))
    assert by_tx.filter(pl.col("period_start") == D(2024, 4, 1))["complete"].to_list() == \
        [False, False]


def test_quarters_weeks_and_empty() -> None:
    q = cohort_retention(hand_built(), "2024-04-30", freq="1q")
    assert q.select("cohort", "period", "customers").rows() == [
        (D(2024, 1, 1), 0, 3), (D(2024, 1, 1), 1, 1)]
    w = cohort_retention(hand_built(), "2024-01-31", freq="1w")
    assert w["cohort"].to_list()[0] == D(2024, 1, 1)  # the Monday of 2024-01-05
    assert w.filter(pl.col("period") == 0)["customers"].to_list() == [1, 1]
    empty = cohort_retention(hand_built(), "2023-12-31")
    assert empty.height == 0 and "retention" in empty.columns
    with pytest.raises(ValueError, match="freq must be one of"):
        cohort_retention(hand_built(), "2024-04-30", freq="2d")


def test_matrix_and_chart_render_as_svg() -> None:
    t = cohort_retention(hand_built(), "2024-04-30")
    m = cohort_matrix(t, "customers")
    assert m.columns == ["cohort", "cohort_customers", "0", "1", "2", "3"]
    assert m.row(1)[2:] == (1, 0, 0, None)
    svg = vlc.vegalite_to_svg(cohort_heatmap(t, subtitle="as of 2024-04-30").to_dict())
    assert svg.startswith("<svg") and "Cohort retention" in svg
    assert vlc.vegalite_to_svg(cohort_heatmap(t, "revenue").to_dict()).startswith("<svg")


def test_sample_revenue_ties_out(sample_data_dir: Path) -> None:
    tx = read_transactions(sample_data_dir / "transactions.csv")
    orders, _ = prepare_orders(tx, "2026-03-31")
    t = cohort_retention(orders, "2026-03-31")
    assert t["revenue"].sum() == pytest.approx(orders["amount"].sum(), abs=1e-6)
    first = t.filter(pl.col("period") == 0)
    assert first["customers"].sum() == orders["customer_id"].n_unique()
    assert (first["retention"] == 1.0).all()
