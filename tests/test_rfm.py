"""RFM scoring with ties, rule tables, segment tables."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.analyses.rfm import (
    SHIPPED_RULES,
    assign_segments,
    cell_counts,
    fixed_score,
    load_segment_rules,
    midrank_score,
    rfm_scores,
    rfm_segments,
    score_bins,
    segment_table,
)
from workbench.errors import DataValidationError


def summary(n_one_time=60, n_repeat=40):
    ids = [f"c{i:03d}" for i in range(n_one_time + n_repeat)]
    purchases = [1] * n_one_time + [2 + i % 7 for i in range(n_repeat)]
    return pl.DataFrame(
        {
            "customer_id": ids,
            "days_since_last": [i * 3 for i in range(len(ids))],
            "n_purchases": purchases,
            "total_spend": [float(10 + i) for i in range(len(ids))],
            "mean_spend": [float(10 + i) / p for i, p in enumerate(purchases)],
        }
    )


def test_ties_share_a_score_whatever_the_row_order():
    s = summary()
    scores = rfm_scores(s)
    one_time = scores.filter(pl.col("purchases") == 1)["F"].unique().to_list()
    assert one_time == [2]  # mid-rank percentile (30 + 0.5 - 0.5) / 100 = 0.3 -> score 2
    shuffled = rfm_scores(s.sample(fraction=1.0, shuffle=True, seed=1))
    joined = scores.join(shuffled, on="customer_id")
    assert (joined["F"] == joined["F_right"]).all()


def test_midrank_score_extremes():
    out = pl.select(midrank_score(pl.Series(list(range(10))))).to_series().to_list()
    assert out == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    rev = pl.select(midrank_score(pl.Series(list(range(10))), higher_is_better=False))
    assert rev.to_series().to_list() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_recency_five_is_most_recent_and_fixed_cutoffs():
    scores = rfm_scores(summary(), method="fixed")
    assert scores.filter(pl.col("recency_days") == 0)["R"].item() == 5
    # defaults: F 1 / 2 / 3-4 / 5-9 / 10+, R edges 30 / 90 / 180 / 365 days
    got = pl.select(fixed_score(pl.Series([1, 2, 3, 4, 5, 9, 10]), [1, 2, 4, 9])).to_series()
    assert got.to_list() == [1, 2, 3, 3, 4, 4, 5]
    r = pl.select(
        fixed_score(pl.Series([0, 30, 31, 180, 365, 366]), [30, 90, 180, 365], lower_is_better=True)
    ).to_series()
    assert r.to_list() == [5, 5, 4, 3, 2, 1]
    with pytest.raises(ValueError, match="4 increasing"):
        rfm_scores(summary(), cutoffs={"F": [3, 1, 2, 4]})


def test_monetary_is_explicit():
    total = rfm_scores(summary(), monetary="total")
    mean = rfm_scores(summary(), monetary="mean")
    assert not (total["monetary"] == mean["monetary"]).all()
    with pytest.raises(ValueError, match="monetary"):
        rfm_scores(summary(), monetary="median")


def test_bins_and_cells_report_every_customer():
    scores = rfm_scores(summary())
    bins = score_bins(scores)
    for letter in "RFM":
        assert bins.filter(pl.col("score_of") == letter)["customers"].sum() == 100
    cells = cell_counts(scores)
    assert cells.height == 25 and cells["customers"].sum() == 100


@pytest.mark.parametrize("name", SHIPPED_RULES)
def test_shipped_rule_tables_are_complete_and_unambiguous(name):
    rules = load_segment_rules(name)
    assert rules.height == 125 and rules["segment"].null_count() == 0


def test_default_map_has_the_eleven_segments():
    segs = set(load_segment_rules("default")["segment"])
    assert segs == {
        "Champions",
        "Loyal",
        "Potential Loyalist",
        "New Customers",
        "Promising",
        "Need Attention",
        "About To Sleep",
        "At Risk",
        "Can't Lose Them",
        "Hibernating",
        "Lost",
    }


def test_incomplete_rule_table_is_rejected(tmp_path):
    path = tmp_path / "rules.csv"
    path.write_text("r,f,m,segment\n5,*,*,Top\n1-3,*,*,Low\n")
    with pytest.raises(DataValidationError, match="incomplete: 25 of 125") as err:
        load_segment_rules(path)
    assert str(path) in str(err.value)


def test_ambiguous_rule_table_is_rejected():
    table = pl.DataFrame(
        {"r": ["*", "5"], "f": ["*", "5"], "m": ["*", "*"], "segment": ["Everyone", "Best"]}
    )
    with pytest.raises(DataValidationError, match="ambiguous: 5 score cells") as err:
        load_segment_rules(table)
    assert err.value.rows[:2] == [1, 2]


def test_custom_rule_table_is_used(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("r,f,m,segment\n4-5,*,*,Recent\n1-3,*,*,Not recent\n")
    seg = rfm_segments(summary(), rules=path)
    assert set(seg["segment"]) == {"Recent", "Not recent"}
    assert (seg.filter(pl.col("R") >= 4)["segment"] == "Recent").all()


def test_segment_table_shares_sum_to_one():
    s = summary()
    table = segment_table(assign_segments(rfm_scores(s)), s)
    assert table["customer_share"].sum() == pytest.approx(1.0)
    assert table["revenue_share"].sum() == pytest.approx(1.0)
    assert table["revenue"].sum() == pytest.approx(s["total_spend"].sum())
