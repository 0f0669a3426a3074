"""Perceived loyalty (workbench.analyses.loyalty.attitude): NPS, satisfaction index, zones, missing
rule."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from workbench.analyses.loyalty import (
    latest_surveys,
    nps_class,
    nps_score,
    perceived_loyalty,
    satisfaction_index,
    segment_attitude,
    survey_coverage,
)
from workbench.core.io import validate_surveys
from workbench.core.schema import CRITERIA

D = dt.date


def survey(scores: list[int | None], weights: list[int | None], cid: str = "a",
           date: dt.date | None = None, **extra) -> dict:
    out = {"customer_id": cid, "survey_date": date or D(2025, 1, 1), **extra}
    for c, s, w in zip(CRITERIA, scores, weights, strict=True):
        out[f"score_{c}"] = s
        out[f"weight_{c}"] = w
    return out


def frame(*rows: dict) -> pl.DataFrame:
    ints = {**{f"score_{c}": pl.Int64 for c in CRITERIA},
            **{f"weight_{c}": pl.Int64 for c in CRITERIA}}
    return pl.DataFrame(list(rows), schema_overrides=ints)


def index_row(scores, weights, **kw) -> dict:
    return satisfaction_index(frame(survey(scores, weights)), **kw).row(0, named=True)


def test_nps_classes_boundaries():
    got = pl.select(nps_class(pl.Series([0, 6, 7, 8, 9, 10, None]))).to_series().to_list()
    assert got == ["detractor", "detractor", "passive", "passive", "promoter", "promoter", None]


def test_satisfaction_index_maximum_is_200_and_satisfied():
    r = index_row([5] * 8, [5] * 8)
    assert r["satisfaction_index"] == 200.0 and r["satisfaction_share"] == 1.0
    assert r["satisfaction_zone"] == "satisfied" and r["criteria_answered"] == 8


def test_exactly_30_percent_is_weak_and_just_below_is_loss():
    # 4 x (3*3) + 4 x (3*2) = 36 + 24 = 60 points = exactly 30 % of 200
    r = index_row([3, 3, 3, 3, 3, 3, 3, 3], [3, 3, 3, 3, 2, 2, 2, 2])
    assert r["satisfaction_index"] == 60.0 and r["satisfaction_share"] == pytest.approx(0.3)
    assert r["satisfaction_zone"] == "weak"
    # 36 + 3 x 6 + 1 x 5 = 59 points = 29.5 % -> loss zone
    r = index_row([3, 3, 3, 3, 3, 3, 3, 5], [3, 3, 3, 3, 2, 2, 2, 1])
    assert r["satisfaction_index"] == 59.0 and r["satisfaction_zone"] == "loss"


def test_exactly_80_percent_is_weak_and_above_is_satisfied():
    r = index_row([5] * 8, [4] * 8)  # 8 x 20 = 160 = exactly 80 %
    assert r["satisfaction_index"] == 160.0 and r["satisfaction_zone"] == "weak"
    r = index_row([5] * 8, [4] * 7 + [5])  # 140 + 25 = 165 = 82.5 %
    assert r["satisfaction_index"] == 165.0 and r["satisfaction_zone"] == "satisfied"


def test_missing_criteria_rescaled_from_six_answered():
    # 6 answered with 4*5 = 20 each: raw 120, rescaled 120 * 8 / 6 = 160 = exactly 80 % -> weak
    r = index_row([5] * 6 + [None, None], [4] * 6 + [None, None])
    assert r["criteria_answered"] == 6 and r["satisfaction_points_raw"] == 120.0
    assert r["satisfaction_index"] == pytest.approx(160.0)
    assert r["satisfaction_zone"] == "weak"  # not 0.7999999 -> the rounding rule holds
    assert r["satisfaction_note"] is None


def test_fewer_than_min_answered_gives_null_with_reason():
    r = index_row([5] * 5 + [None] * 3, [5] * 5 + [None] * 3)
    assert r["criteria_answered"] == 5
    assert r["satisfaction_index"] is None and r["satisfaction_zone"] is None
    assert "only 5 of 8 criteria answered" in r["satisfaction_note"]
    # the threshold is a parameter
    r = index_row([5] * 5 + [None] * 3, [5] * 5 + [None] * 3, min_answered=5)
    assert r["satisfaction_index"] == 200.0


def test_score_without_weight_or_weight_without_score_counts_as_missing():
    # criteria 7 and 8: a score without weight and a weight without score -> 6 answered
    r = index_row([2] * 6 + [5, None], [5] * 6 + [None, 5])
    assert r["criteria_answered"] == 6
    assert r["satisfaction_points_raw"] == 60.0  # the half-answered pairs add nothing
    assert r["satisfaction_index"] == pytest.approx(80.0)


def test_share_basis_weights_measures_satisfaction_alone():
    r = index_row([5] * 8, [3] * 8)  # 120 of 200 = 60 % under the seed's rule
    assert r["satisfaction_zone"] == "weak"
    r = index_row([5] * 8, [3] * 8, share_basis="weights")  # 120 / (5 * 24) = 100 %
    assert r["satisfaction_share"] == 1.0 and r["satisfaction_zone"] == "satisfied"


def test_latest_survey_at_or_before_as_of_and_later_ones_ignored():
    s = pl.DataFrame({"customer_id": ["a", "a", "a", "b"],
                      "survey_date": [D(2025, 1, 1), D(2025, 6, 30), D(2025, 7, 1), D(2025, 8, 1)],
                      "nps": [3.0, 9.0, 0.0, 10.0]})
    latest = latest_surveys(s, "2025-06-30")
    assert latest["customer_id"].to_list() == ["a"]
    assert latest["nps"].to_list() == [9.0]  # the survey on the as-of date counts
    assert latest["surveys_to_date"].to_list() == [2]
    cov = survey_coverage(s, "2025-06-30", pl.Series(["a", "b", "c"]))
    assert cov == {"customers": 3, "surveyed": 1, "unknown": 2, "surveys_used": 1,
                   "surveys_superseded": 1, "surveys_after_as_of": 2,
                   "surveys_of_other_customers": 0}


def test_same_day_surveys_take_the_last_row_in_file_order():
    s = validate_surveys(pl.DataFrame({"customer_id": ["a", "a"],
                                       "survey_date": ["2025-01-01", "2025-01-01"],
                                       "nps": ["2", "8"]}))
    assert latest_surveys(s, "2025-12-31")["nps"].to_list() == [8.0]


def test_customers_without_survey_are_unknown_never_guessed():
    s = pl.DataFrame({"customer_id": ["a"], "survey_date": [D(2025, 1, 1)], "nps": [9.0],
                      "repurchase_intent": [4.0]})
    p = perceived_loyalty(s, "2025-12-31", pl.Series(["a", "b"]))
    b = p.filter(pl.col("customer_id") == "b").row(0, named=True)
    assert b["surveyed"] is False
    assert b["nps"] is None and b["nps_class"] is None and b["satisfaction_index"] is None
    # no surveys table at all: everybody unknown
    p = perceived_loyalty(None, "2025-12-31", pl.Series(["a", "b"]))
    assert p["surveyed"].to_list() == [False, False]


def test_nps_score_and_interval_hand_computed():
    classes = pl.Series(["promoter"] * 5 + ["passive"] * 3 + ["detractor"] * 2)
    r = nps_score(classes)
    # NPS = 100 * (0.5 - 0.2) = 30; var = (0.5 + 0.2 - 0.3**2) / 10 = 0.061
    half = 1.959963984540054 * 100 * math.sqrt(0.061)
    assert r["nps"] == pytest.approx(30.0)
    assert r["nps_low"] == pytest.approx(30 - half) and r["nps_high"] == pytest.approx(30 + half)
    assert nps_score(pl.Series([], dtype=pl.String))["nps"] is None
    assert nps_score(pl.Series(["promoter"] * 3))["nps_high"] == 100.0  # clipped


def test_segment_attitude_counts_unknown_and_matches_nps_score():
    p = pl.DataFrame({
        "customer_id": list("abcdefgh"),
        "surveyed": [True] * 6 + [False] * 2,
        "nps_class": ["promoter", "promoter", "passive", "detractor", "promoter", "detractor",
                      None, None],
        "satisfaction_index": [150.0, 170.0, 100.0, 50.0, None, 120.0, None, None],
        "satisfaction_share": [0.75, 0.85, 0.5, 0.25, None, 0.6, None, None],
        "satisfaction_zone": ["weak", "satisfied", "weak", "loss", None, "weak", None, None],
        "repurchase_intent": [5.0, 5.0, 3.0, 1.0, 4.0, 2.0, None, None]})
    seg = pl.DataFrame({"customer_id": list("abcdefgh"), "segment": list("XXXXYYYY")})
    out = segment_attitude(p, seg)
    assert out["segment"].to_list() == ["X", "Y", "All"]
    x = out.row(0, named=True)
    assert (x["customers"], x["surveyed"], x["unknown"], x["nps_n"]) == (4, 4, 0, 4)
    assert x["nps"] == pytest.approx(25.0)  # 2 promoters, 1 detractor of 4
    assert x["mean_satisfaction_index"] == pytest.approx(117.5)
    assert (x["zone_loss"], x["zone_weak"], x["zone_satisfied"]) == (1, 2, 1)
    y = out.row(1, named=True)
    assert (y["customers"], y["surveyed"], y["unknown"], y["satisfaction_n"]) == (4, 2, 2, 1)
    assert y["nps"] == pytest.approx(0.0) and "interval indicative" in y["note"]
    a = out.row(2, named=True)
    expected = nps_score(p["nps_class"])
    assert a["nps"] == pytest.approx(expected["nps"])
    assert a["nps_low"] == pytest.approx(expected["nps_low"])
