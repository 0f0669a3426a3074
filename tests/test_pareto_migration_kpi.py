"""Pareto concentration, segment migration and executive KPIs on hand-computed cases."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.analyses.kpi import executive_kpis, net_promoter_score
from workbench.analyses.migration import (
    NO_PURCHASE_YET,
    migration_matrix,
    migration_summary,
    segment_changes,
    segment_history,
    segment_migration,
)
from workbench.analyses.pareto import gini, lorenz_curve, pareto_table, top_share
from workbench.core.io import validate_surveys, validate_transactions


def spend(values):
    return pl.DataFrame(
        {
            "customer_id": [str(i) for i in range(len(values))],
            "total_spend": [float(v) for v in values],
        }
    )


def test_top_share_and_lorenz():
    s = spend([50, 20, 10, 5, 5, 4, 3, 1, 1, 1])
    assert top_share(s, 0.2) == pytest.approx(0.70)
    curve = lorenz_curve(s, points=10)
    assert curve["value_share"].to_list()[:3] == pytest.approx([0.0, 0.5, 0.7])
    assert curve["value_share"][-1] == pytest.approx(1.0)
    assert curve["customer_share"][-1] == pytest.approx(1.0)
    table = pareto_table(s)
    assert table.filter(pl.col("top_customers_share") == 0.2)[
        "value_share"
    ].item() == pytest.approx(0.7)
    with pytest.raises(ValueError, match="share must be"):
        top_share(s, 0)
    with pytest.raises(ValueError, match="value column"):
        top_share(s, 0.2, value="clv")


def test_gini_bounds():
    assert gini(spend([1, 1, 1, 1])) == 0.0
    assert gini(spend([0, 0, 0, 10])) == pytest.approx(0.75)  # (n-1)/n for one holder
    assert top_share(spend([0, 0]), 0.2) == 0.0


def test_migration_counts_add_up():
    prev = pl.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["Loyal", "Loyal", "Lost"]})
    cur = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "segment": ["At Risk", "Loyal", "Lost", "New Customers"],
        }
    )
    mig = segment_migration(prev, cur)
    assert mig.filter(pl.col("customer_id") == "d")["segment_from"].item() == NO_PURCHASE_YET
    assert mig["changed"].sum() == 2
    matrix = migration_matrix(mig)
    assert matrix["customers"].sum() == 4
    summ = migration_summary(mig)
    for row in summ.iter_rows(named=True):
        assert row["end"] == row["start"] + row["added"] - row["dropped"]
    loyal = summ.filter(pl.col("segment") == "Loyal").row(0, named=True)
    assert (loyal["start"], loyal["end"], loyal["dropped"]) == (2, 1, 1)
    assert loyal["share_change"] == pytest.approx(1 / 4 - 2 / 3)
    with pytest.raises(ValueError, match="missing at the later date"):
        segment_migration(cur, prev)


def test_segment_history_and_changes():
    tx = validate_transactions(
        pl.DataFrame(
            {
                "customer_id": ["a", "a", "b", "c"],
                "order_date": ["2024-01-05", "2024-06-01", "2024-01-10", "2024-05-01"],
                "amount": ["10", "30", "20", "5"],
            }
        )
    )
    hist = segment_history(tx, ["2024-03-31", "2024-06-30"], rules="rf_grid")
    # Mid-rank scores by hand.  On 2024-03-31: a (last bought 86 days ago) and b (81 days):
    # R percentiles 0.25 / 0.75 -> R2 / R4; one purchase each -> F3: a At Risk (R2 F3), b
    # Potential Loyalist (R4 F3).  On 2024-06-30: a (29 days, 2 purchases) R5 F5 Champions;
    # c (60 days, 1) R3 F2 Need Attention; b (172 days, 1) R1 F2 Lost.
    assert hist.select("as_of", "customer_id", "segment").rows() == [
        (dt.date(2024, 3, 31), "a", "At Risk"),
        (dt.date(2024, 6, 30), "a", "Champions"),
        (dt.date(2024, 3, 31), "b", "Potential Loyalist"),
        (dt.date(2024, 6, 30), "b", "Lost"),
        (dt.date(2024, 6, 30), "c", "Need Attention"),
    ]
    changes = segment_changes(hist).sort("customer_id")
    assert changes.rows() == [
        ("a", "Champions", "At Risk", dt.date(2024, 6, 30)),
        ("b", "Lost", "Potential Loyalist", dt.date(2024, 6, 30)),
        ("c", "Need Attention", NO_PURCHASE_YET, dt.date(2024, 6, 30)),
    ]
    assert changes.columns == ["customer_id", "segment", "previous_segment", "changed_at"]
    # a customer whose segment does not change has no previous segment and no change date
    same = segment_changes(hist.filter(pl.col("customer_id") == "a").with_columns(
        pl.lit("Champions").alias("segment")))
    assert same.rows() == [("a", "Champions", None, None)]


def test_nps():
    assert net_promoter_score(pl.Series([10, 9, 8, 7, 6, 0])) == pytest.approx(0.0)
    assert net_promoter_score(pl.Series([9, 9, 9, 5])) == pytest.approx(50.0)
    assert net_promoter_score(pl.Series([], dtype=pl.Float64)) is None


def test_executive_kpis_hand_computed():
    tx = validate_transactions(
        pl.DataFrame(
            {
                "customer_id": ["a", "a", "b", "c", "c", "d"],
                "order_date": [
                    "2024-01-10",
                    "2024-05-10",
                    "2024-05-20",
                    "2024-02-01",
                    "2024-02-15",
                    "2024-06-30",
                ],
                "amount": ["10", "20", "30", "5", "5", "100"],
            }
        )
    )
    surveys = validate_surveys(
        pl.DataFrame(
            {
                "customer_id": ["a", "b", "a"],
                "survey_date": ["2024-05-01", "2024-05-02", "2024-06-01"],
                "nps": ["3", "10", "9"],
            }
        )
    )
    k = executive_kpis(tx, "2024-06-30", period_days=90, surveys=surveys)
    row = {r["kpi"]: r for r in k.iter_rows(named=True)}
    # period 2024-04-02..2024-06-30: a, b, d active; revenue 20 + 30 + 100
    assert row["active_customers"]["value"] == 3
    assert row["revenue"]["value"] == pytest.approx(150.0)
    # all customers by 2024-06-30: a (2 days), b, c (2 days), d -> 2 of 4 repeat
    assert row["repeat_rate"]["value"] == pytest.approx(2 / 4)
    # by 2024-04-01: a (1 day), c (2 days) -> 1 of 2
    assert row["repeat_rate"]["previous"] == pytest.approx(1 / 2)
    # previous period 2024-01-03..2024-04-01: a, c active, revenue 20
    assert row["active_customers"]["previous"] == 2
    assert row["revenue"]["previous"] == pytest.approx(20.0)
    # +650 % on 2 customers: too small a base to compare (workbench.analyses.kpi.comparable)
    assert row["revenue"]["change"] == pytest.approx(130.0)
    assert row["revenue"]["comparable"] is False and row["revenue"]["change_pct"] is None
    # latest answers in the period: a 9 (promoter), b 10 (promoter)
    assert row["nps"]["value"] == pytest.approx(100.0)
    assert row["nps"]["previous"] is None
    assert "nps" not in executive_kpis(tx, "2024-06-30")["kpi"].to_list()
