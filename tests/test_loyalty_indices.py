"""Seed-001 indices (workbench.analyses.loyalty.indices): loyalty, value, per-segment means."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.analyses.loyalty import (
    loyalty_index,
    loyalty_index_from_counts,
    regularity_coefficient,
    segment_indices,
    value_index,
)

D = dt.date
AS_OF = D(2025, 12, 31)  # period 1 = 2025, period 0 = 2024 (365-day periods)


def buys(cid: str, year: int, n: int, amount: float = 10.0, profit: float | None = None):
    days = [D(year, 1, 15) + dt.timedelta(days=25 * i) for i in range(n)]
    return [(cid, d, amount, profit) for d in days]


def orders(rows, with_profit: bool = True) -> pl.DataFrame:
    df = pl.DataFrame({"customer_id": [r[0] for r in rows], "order_date": [r[1] for r in rows],
                       "amount": [r[2] for r in rows], "profit": [r[3] for r in rows]},
                      schema_overrides={"profit": pl.Float64})
    return df if with_profit else df.drop("profit")


def test_loyalty_index_hand_computed():
    rows = []
    # period 0: 2 regular (3 and 5 purchases), 4 one-time (1, 2, 2, 1 purchases)
    # period 1: 3 regular, 2 one-time; exactly 2 purchases is one-time
    for cid, n0, n1 in [("r1", 3, 4), ("r2", 5, 2), ("o1", 1, 3), ("o2", 2, 0), ("o3", 2, 2),
                        ("o4", 1, 0), ("n1", 0, 6)]:
        rows += buys(cid, 2024, n0) + buys(cid, 2025, n1)
    li = loyalty_index(orders(rows), AS_OF).row(0, named=True)
    assert (li["R_c0"], li["O_c0"], li["R_c1"], li["O_c1"]) == (2, 4, 3, 2)
    assert li["I_l"] == pytest.approx(3 / 2 * 1.0 + 2 / 4 * 0.3)  # 1.65
    assert li["I_l_relative"] == pytest.approx(1.65 / 1.3)
    assert li["note"] is None
    li = loyalty_index(orders(rows), AS_OF, a_n=2.0, a_p=0.5).row(0, named=True)
    assert li["I_l"] == pytest.approx(3 / 2 * 2.0 + 2 / 4 * 0.5)


def test_unchanged_base_gives_a_n_plus_a_p():
    rows = buys("r", 2024, 3) + buys("r", 2025, 3) + buys("o", 2024, 1) + buys("o", 2025, 1)
    assert loyalty_index(orders(rows), AS_OF)["I_l"].item() == pytest.approx(1.3)


def test_loyalty_index_zero_denominators_are_explicit():
    c = pl.DataFrame({"R_c0": [0, 4, 0, 2], "R_c1": [3, 4, 0, 1], "O_c0": [5, 0, 0, 2],
                      "O_c1": [5, 1, 0, 4]})
    out = loyalty_index_from_counts(c)
    assert out["I_l"].to_list()[:3] == [None, None, None]
    assert out["regular_ratio"].to_list()[:2] == [None, 1.0]
    assert out["one_time_ratio"].to_list()[0] == 1.0
    assert out["note"].to_list()[:3] == [
        "R_c0 = 0: no regular customers in period 0, index undefined",
        "O_c0 = 0: no one-time customers in period 0, index undefined",
        "R_c0 = 0 and O_c0 = 0: no customers in period 0, index undefined"]
    assert out["I_l"][3] == pytest.approx(0.5 + 2 * 0.3)


def test_loyalty_index_per_segment_with_all_row():
    rows = (buys("a", 2024, 3) + buys("a", 2025, 3) + buys("b", 2024, 1) + buys("b", 2025, 3)
            + buys("c", 2024, 3) + buys("c", 2025, 1))
    seg = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["X", "Y"]})
    out = loyalty_index(orders(rows), AS_OF, segments=seg)
    assert out["segment"].to_list() == ["(no segment)", "X", "Y", "All"]
    y = out.filter(pl.col("segment") == "Y").row(0, named=True)
    assert (y["R_c0"], y["R_c1"], y["O_c0"], y["O_c1"]) == (0, 1, 1, 0)
    assert y["I_l"] is None
    a = out.filter(pl.col("segment") == "All").row(0, named=True)
    assert (a["R_c0"], a["R_c1"], a["O_c0"], a["O_c1"]) == (2, 2, 1, 1)


def test_regularity_coefficient_bands():
    got = pl.select(regularity_coefficient(pl.Series([12.0, 4.0, 3.99, 2.0, 1.99, 1.0])))
    assert got.to_series().to_list() == [1.0, 1.0, 0.9, 0.9, 0.8, 0.8]
    got = pl.select(regularity_coefficient(pl.Series([4.0]), k_quarter=1.2))
    assert got.item() == 1.2


def test_value_index_coefficients_hand_computed():
    rows = (buys("q", 2025, 4, profit=25.0)      # 4/yr: K_rp 1.0; profit 100
            + buys("h", 2025, 2, profit=50.0)    # 2/yr: K_rp 0.9; profit 100
            + buys("y", 2025, 1, profit=100.0)   # 1/yr: K_rp 0.8; profit 100
            + buys("old", 2024, 5, profit=9.0))  # nothing in the period: not listed
    customers = pl.DataFrame({"customer_id": ["q", "h", "y"],
                              "payment_terms": ["prepayment", "credit", None]})
    v = value_index(orders(rows), AS_OF, customers, point_cost=10.0)
    got = {r["customer_id"]: r for r in v.iter_rows(named=True)}
    assert set(got) == {"q", "h", "y"}
    assert got["q"]["I_v"] == pytest.approx(100 / 10 * 1.0 * 1.1)
    assert got["h"]["I_v"] == pytest.approx(100 / 10 * 0.9 * 1.0)
    assert got["y"]["I_v"] == pytest.approx(100 / 10 * 0.8 * 1.0)
    assert got["y"]["payment_terms"] == "unknown" and got["y"]["K_pt"] == 1.0
    assert got["q"]["K_pt"] == 1.1 and got["q"]["value_basis"] == "profit"
    v2 = value_index(orders(rows), AS_OF, customers, k_prepayment=1.5, k_year=0.5)
    got2 = {r["customer_id"]: r["I_v"] for r in v2.iter_rows(named=True)}
    assert got2["q"] == pytest.approx(150.0) and got2["y"] == pytest.approx(50.0)


def test_value_index_falls_back_to_revenue_with_a_warning():
    rows = buys("a", 2025, 2, amount=30.0)
    with pytest.warns(UserWarning, match="revenue is used"):
        v = value_index(orders(rows, with_profit=False), AS_OF)
    r = v.row(0, named=True)
    assert r["value_basis"] == "revenue" and r["C_pr"] == 60.0
    assert r["I_v"] == pytest.approx(60.0 * 0.9 * 1.0)  # no customers table: K_pt 1.0


def test_value_index_rejects_nonpositive_point_cost():
    with pytest.raises(ValueError):
        value_index(orders(buys("a", 2025, 1, profit=1.0)), AS_OF, point_cost=0)


def test_segment_indices_weighted_means():
    v = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "I_v": [30.0, 10.0, -5.0, 20.0]})
    p = pl.DataFrame({"customer_id": ["a", "b", "c", "d"],
                      "satisfaction_index": [160.0, 80.0, 40.0, None]})
    seg = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment": ["X", "X", "X", "Y"]})
    li = pl.DataFrame({"segment": ["X", "Y", "All"], "I_l": [1.1, None, 1.2]})
    out = segment_indices(v, p, li, seg)
    x = out.filter(pl.col("segment") == "X").row(0, named=True)
    assert x["customers"] == 3 and x["I_v_sum"] == 35.0
    assert x["I_v_mean"] == pytest.approx(35 / 3)
    assert x["I_s_mean"] == pytest.approx((160 + 80 + 40) / 3)
    # weights max(I_v, 0): (160*30 + 80*10 + 40*0) / 40 = 140
    assert x["I_s_value_weighted"] == pytest.approx(140.0)
    assert x["I_l"] == 1.1 and x["I_v_share"] == pytest.approx(35 / 55)
    y = out.filter(pl.col("segment") == "Y").row(0, named=True)
    assert y["satisfaction_n"] == 0 and y["I_s_value_weighted"] is None
    assert out["segment"].to_list()[-1] == "All"


def test_period_edges_are_exact():
    """Purchases exactly on and one day inside every period edge (a period one day short or long
    moves a customer between regular and one-time).  Period 1 = (as_of - 365, as_of], period 0 =
    (as_of - 730, as_of - 365]."""
    p1_start = AS_OF - dt.timedelta(days=365)
    p0_start = p1_start - dt.timedelta(days=365)
    mid0 = p0_start + dt.timedelta(days=180)
    mid1 = p1_start + dt.timedelta(days=180)
    rows = [
        # edge0: 3 purchases in period 0 only if the one on p0_start + 1 day counts
        ("edge0", p0_start + dt.timedelta(days=1), 10.0, None),
        ("edge0", mid0, 10.0, None),
        ("edge0", mid0 + dt.timedelta(days=1), 10.0, None),
        # out0: the purchase on p0_start itself is outside period 0 -> 2 purchases, one-time
        ("out0", p0_start, 10.0, None),
        ("out0", mid0, 10.0, None),
        ("out0", mid0 + dt.timedelta(days=1), 10.0, None),
        # end0: the purchase on p1_start is the last day of period 0 -> 3 purchases, regular
        ("end0", mid0, 10.0, None),
        ("end0", mid0 + dt.timedelta(days=1), 10.0, None),
        ("end0", p1_start, 10.0, None),
        # start1 / end1: p1_start + 1 day and as_of itself are in period 1
        ("p1", p1_start + dt.timedelta(days=1), 10.0, None),
        ("p1", mid1, 10.0, None),
        ("p1", AS_OF, 10.0, None),
        # after: a purchase the day after as_of is in no period
        ("after", mid1, 10.0, None),
        ("after", mid1 + dt.timedelta(days=1), 10.0, None),
        ("after", AS_OF + dt.timedelta(days=1), 10.0, None),
    ]
    segments = pl.DataFrame({"customer_id": ["edge0", "out0", "end0", "p1", "after"],
                             "segment": ["edge0", "out0", "end0", "p1", "after"]})
    li = loyalty_index(orders(rows), AS_OF, segments=segments)
    got = {r["segment"]: (r["R_c0"], r["O_c0"], r["R_c1"], r["O_c1"])
           for r in li.iter_rows(named=True)}
    assert got["edge0"] == (1, 0, 0, 0)
    assert got["out0"] == (0, 1, 0, 0)
    assert got["end0"] == (1, 0, 0, 0)
    assert got["p1"] == (0, 0, 1, 0)
    assert got["after"] == (0, 0, 0, 1)
