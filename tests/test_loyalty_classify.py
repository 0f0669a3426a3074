"""Loyalty typing (workbench.analyses.loyalty.classify): the matrix, reasons, segments, ladder."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.analyses.loyalty import attitude_axis, loyalty_matrix, loyalty_types, type_summary


def behaviour(**cols) -> pl.DataFrame:
    n = len(cols["customer_id"])
    base = {"n_purchases": [5] * n, "gap_cv": [0.3] * n, "spend_last": [100.0] * n,
            "profit_last": [None] * n}
    base.update(cols)
    return pl.DataFrame(base, schema_overrides={"profit_last": pl.Float64})


def perceived(rows: list[tuple]) -> pl.DataFrame:
    """rows: (customer_id, nps, intent, share, zone)."""
    cls = {None: None}
    for v in range(11):
        cls[float(v)] = "promoter" if v >= 9 else "detractor" if v <= 6 else "passive"
    return pl.DataFrame({
        "customer_id": [r[0] for r in rows], "surveyed": [True] * len(rows),
        "nps": [r[1] for r in rows], "nps_class": [cls[r[1]] for r in rows],
        "repurchase_intent": [r[2] for r in rows],
        "satisfaction_index": [None if r[3] is None else 200 * r[3] for r in rows],
        "satisfaction_share": [r[3] for r in rows], "satisfaction_zone": [r[4] for r in rows]},
        schema_overrides={"nps": pl.Float64, "repurchase_intent": pl.Float64,
                          "satisfaction_index": pl.Float64, "satisfaction_share": pl.Float64})


@pytest.fixture()
def typed() -> pl.DataFrame:
    b = behaviour(customer_id=["prem", "inert", "lat", "none", "reg_u", "one_u", "recip"],
                  purchases_per_year=[3.4, 5.0, 2.0, 1.0, 4.0, 0.5, 6.0],
                  n_purchases=[7, 10, 2, 1, 8, 1, 12],
                  spend_last=[100.0, 50.0, 40.0, 10.0, 60.0, 5.0, 900.0])
    p = perceived([("prem", 9.0, 5.0, 0.86, "satisfied"), ("inert", 6.0, 2.0, 0.25, "loss"),
                   ("lat", 10.0, 4.0, 0.6, "weak"), ("none", 8.0, 3.0, 0.5, "weak"),
                   ("recip", 10.0, 5.0, 0.7, "weak")])
    return loyalty_types(b, p, reciprocal_top_share=1 / 7)


def get(t: pl.DataFrame, cid: str) -> dict:
    return t.filter(pl.col("customer_id") == cid).row(0, named=True)


def test_four_types_unknown_and_reciprocal(typed):
    types = dict(zip(typed["customer_id"], typed["loyalty_type"], strict=True))
    assert types == {"prem": "premium", "inert": "inertia", "lat": "latent", "none": "no loyalty",
                     "reg_u": "regular, attitude unknown", "one_u": "one-time, attitude unknown",
                     "recip": "reciprocal"}
    assert get(typed, "recip")["dick_basu"] == "premium" and get(typed, "recip")["reciprocal"]
    # exactly 2 purchases a year is one-time (seed 001)
    assert get(typed, "lat")["behaviour"] == "one-time"


def test_reasons_strings(typed):
    assert get(typed, "prem")["reasons"] == (
        "3.4 purchases/yr > 2 (regular); NPS 9 (promoter); repurchase intent 5/5 (high); "
        "satisfaction 86 % (satisfied); attitude high (all of nps, intent)")
    assert get(typed, "lat")["reasons"] == (
        "2.0 purchases/yr <= 2 (one-time); NPS 10 (promoter); repurchase intent 4/5 (high); "
        "satisfaction 60 % (weak); attitude high (all of nps, intent)")
    assert get(typed, "reg_u")["reasons"] == (
        "4.0 purchases/yr > 2 (regular); no survey at or before the as-of date "
        "(attitude unknown)")
    assert get(typed, "recip")["reasons"].endswith(
        "value 900.0 (spend) in the top 14 % (>= 900.0): reciprocal")


def test_reciprocal_needs_premium_promoter_and_top_value():
    b = behaviour(customer_id=["a", "b", "c", "d", "e"], purchases_per_year=[5.0] * 5,
                  spend_last=[500.0, 400.0, 300.0, 200.0, 100.0])
    p = perceived([("a", 9.0, 5.0, None, None), ("b", 9.0, 5.0, None, None),
                   ("c", 9.0, 5.0, None, None), ("d", 9.0, 5.0, None, None),
                   ("e", 9.0, 5.0, None, None)])
    t = loyalty_types(b, p, reciprocal_top_share=0.4)  # top 2 of 5 by value
    assert t.filter(pl.col("reciprocal"))["customer_id"].to_list() == ["a", "b"]
    # value from profit when known
    b2 = b.with_columns(pl.Series("profit_last", [1.0, 2.0, 3.0, 50.0, 40.0]))
    t2 = loyalty_types(b2, p, reciprocal_top_share=0.4)
    assert t2.filter(pl.col("reciprocal"))["customer_id"].to_list() == ["d", "e"]
    assert t2["value_basis"].unique().to_list() == ["profit"]


def test_attitude_rule_combinations():
    p = pl.DataFrame({"nps": [9.0, 9.0, 7.0, None, None],
                      "repurchase_intent": [5.0, 3.0, 3.0, 4.0, None],
                      "satisfaction_zone": ["weak", "satisfied", "satisfied", None, None]})
    def run(**kw):
        return p.select(attitude_axis(p, **kw)).to_series().to_list()
    assert run() == ["high", "low", "low", "high", "unknown"]
    assert run(combine="any") == ["high", "high", "low", "high", "unknown"]
    assert run(signals=("nps", "intent", "satisfaction"), combine="majority") == [
        "high", "high", "low", "high", "unknown"]
    assert run(signals=("satisfaction",)) == ["low", "high", "high", "unknown", "unknown"]
    with pytest.raises(ValueError):
        run(signals=("mood",))


def test_loyal_neutral_vulnerable(typed):
    seg = dict(zip(typed["customer_id"], typed["attitude_segment"], strict=True))
    assert seg["prem"] == "Loyal" and seg["lat"] == "Loyal"
    assert seg["inert"] == "Vulnerable"  # detractor, intent 2, loss zone
    assert seg["none"] == "Neutral"  # passive, intent 3, weak zone
    assert seg["reg_u"] == "unknown"


def test_loyalty_ladder_with_prospects(typed):
    b = behaviour(customer_id=["one", "rep", "sup", "adv"], purchases_per_year=[1.0, 3.0, 3.0, 3.0],
                  n_purchases=[1, 3, 3, 3])
    p = perceived([("one", 10.0, 5.0, None, None), ("sup", 7.0, 3.0, None, None),
                   ("adv", 9.0, 2.0, None, None)])
    customers = pl.DataFrame({"customer_id": ["one", "rep", "sup", "adv", "pros"]})
    t = loyalty_types(b, p, customers=customers, reciprocal_top_share=0.01)
    ladder = dict(zip(t["customer_id"], t["ladder_stage"], strict=True))
    assert ladder == {"one": "customer", "rep": "client", "sup": "supporter", "adv": "advocate",
                      "pros": "prospect"}
    pros = get(t, "pros")
    assert pros["loyalty_type"] == "prospect" and pros["behaviour"] is None
    assert get(typed, "recip")["ladder_stage"] == "partner"


def test_bvdp_behaviour_rule():
    b = behaviour(customer_id=["a", "b", "c"], purchases_per_year=[1.0, 4.0, 5.0],
                  gap_cv=[None, 0.2, 0.8])
    t = loyalty_types(b, None, behaviour_rule="bvdp")
    assert t["behaviour"].to_list() == ["one-time", "regular", "one-time"]
    assert "B&VdP" in get(t, "b")["reasons"]


def test_matrix_counts_value_and_unknown_column(typed):
    m = loyalty_matrix(typed)
    assert m.height == 6  # 2 behaviours x (high, low, unknown)
    cell = {(r["behaviour"], r["attitude"]): r for r in m.iter_rows(named=True)}
    assert cell[("regular", "high")]["customers"] == 2  # premium + reciprocal
    assert cell[("regular", "high")]["reciprocal"] == 1
    assert cell[("regular", "unknown")]["customers"] == 1
    assert cell[("one-time", "unknown")]["value"] == 5.0
    assert m["customers"].sum() == typed.height
    assert m["value_share"].sum() == pytest.approx(1.0)


def test_type_summary_orders_types(typed):
    s = type_summary(typed)
    assert s["loyalty_type"].to_list()[:3] == ["reciprocal", "premium", "inertia"]
    assert s["customers"].sum() == typed.height
