"""Early warnings (workbench.analyses.loyalty.early_warning): triggers, reasons, ranking."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.analyses.loyalty import behavioural_loyalty, early_warnings, warning_counts

D = dt.date
AS_OF = D(2025, 12, 31)


def orders(rows) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": [r[0] for r in rows], "order_date": [r[1] for r in rows],
                         "amount": [r[2] for r in rows]})


def every(cid: str, start: dt.date, step: int, n: int, amount: float):
    return [(cid, start + dt.timedelta(days=step * i), amount) for i in range(n)]


@pytest.fixture()
def behaviour() -> pl.DataFrame:
    rows = (
        # steady monthly buyer in both years: no warning
        every("steady", D(2024, 1, 5), 30, 24, 50.0)
        # spent 12 x 100 in 2024, 12 x 40 in 2025 at the same rhythm: spend reduction only
        + every("cutter", D(2024, 1, 5), 30, 12, 100.0)
        + every("cutter", D(2025, 1, 3), 30, 12, 40.0)
        # 10 purchases in 2024, 3 in 2025, the last one in mid-2025: fewer purchases, lapsing
        + every("fader", D(2024, 1, 10), 30, 10, 20.0)
        + every("fader", D(2025, 2, 1), 60, 3, 20.0)
        # regular 10-day rhythm, then a 60-day gap before the latest purchase: irregular visits
        + every("gappy", D(2025, 6, 1), 10, 8, 10.0) + [("gappy", D(2025, 9, 9), 10.0)]
        + [("gappy", D(2025, 12, 28), 10.0)]
        # one purchase in 2024, none in 2025: a one-timer, not a changed pattern
        + [("once", D(2024, 6, 1), 500.0)]
    )
    return behavioural_loyalty(orders(rows), AS_OF)


def warned(w: pl.DataFrame, cid: str) -> dict | None:
    hit = w.filter(pl.col("customer_id") == cid)
    return hit.row(0, named=True) if hit.height else None


def test_triggers_and_reasons(behaviour):
    w = early_warnings(behaviour)
    assert warned(w, "steady") is None
    assert warned(w, "once") is None  # no established pattern in the previous period
    cutter = warned(w, "cutter")
    assert cutter["warnings"] == ["spend reduction"]
    assert cutter["reasons"] == "spend down 60 % (1200.0 -> 480.0 in the last period)"
    fader = warned(w, "fader")
    assert "fewer purchases" in fader["warnings"] and "lapsing" in fader["warnings"]
    assert "purchases 10 -> 3" in fader["reasons"]
    gappy = warned(w, "gappy")
    assert gappy["warnings"] == ["irregular visits"]
    assert gappy["reasons"].startswith("last gap 110 d = ")


def test_ranked_by_value_at_stake(behaviour):
    w = early_warnings(behaviour)
    assert w["rank"].to_list() == list(range(1, w.height + 1))
    assert w["value_at_stake"].to_list() == sorted(w["value_at_stake"].to_list(), reverse=True)
    assert w["customer_id"][0] == "cutter"  # 1,200 spent in the previous period
    assert warned(w, "gappy")["value_source"] == "total spend"  # nothing in the previous period
    # an external value (e.g. CLV) reorders the list
    clv = pl.DataFrame({"customer_id": ["gappy", "cutter", "fader"], "clv": [9e3, 1.0, 2.0]})
    w2 = early_warnings(behaviour, value=clv, value_col="clv")
    assert w2["customer_id"][0] == "gappy" and w2["value_source"][0] == "clv"
    assert early_warnings(behaviour, top=1).height == 1


def test_thresholds_are_parameters(behaviour):
    assert warned(early_warnings(behaviour, spend_drop=0.7), "cutter") is None
    assert warned(early_warnings(behaviour, irregular_ratio=20), "gappy") is None
    w = early_warnings(behaviour, lapse_statuses=())
    assert "lapsing" not in warned(w, "fader")["warnings"]


def test_low_p_alive_trigger():
    rows = every("a", D(2025, 3, 15), 30, 10, 10.0)
    b = behavioural_loyalty(orders(rows), AS_OF,
                            p_alive=pl.DataFrame({"customer_id": ["a"], "p_alive": [0.2]}))
    w = early_warnings(b)
    assert w["warnings"].to_list() == [["low P(alive)"]]
    assert w["reasons"][0] == "P(alive) 0.2 < 0.5"


def test_warning_counts(behaviour):
    c = warning_counts(early_warnings(behaviour))
    counts = dict(zip(c["warning"], c["customers"], strict=True))
    # cutter and fader spend less; fader also buys less and is lapsing; gappy is irregular
    assert counts == {"spend reduction": 2, "lapsing": 1, "fewer purchases": 1,
                      "irregular visits": 1}
