"""CLV pipeline (clv_table, fit_clv, clv_by_segment) and the at-risk list."""

from __future__ import annotations

import polars as pl
import pytest

import workbench as wb
from workbench.models.clv import (
    DEFAULT_MARGIN,
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    at_risk_customers,
    clv_by_segment,
    clv_table,
    clv_totals,
    customer_lifetime_value,
    data_margin,
    fit_clv,
    make_purchase_model,
)


class GapModel:
    """P(alive) = 1 / (1 + (T - recency) / 10): falls with the time since the last purchase."""

    def p_alive_array(self, x, t_x, T):
        return 1.0 / (1.0 + (T - t_x) / 10.0)


def _summary(ids, frequency, recency, T, spend, days=None):
    data = {"customer_id": ids, "frequency": frequency, "recency": [float(r) for r in recency],
            "T": [float(t) for t in T], "total_spend": [float(v) for v in spend]}
    if days is not None:
        data["days_since_last"] = days
    return pl.DataFrame(data)


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_transactions):
    return wb.customer_summary(cdnow_transactions, "1998-06-30", "W")


@pytest.fixture(scope="module")
def sample_tx(sample_data_dir):
    return wb.read_transactions(sample_data_dir / "transactions.csv")


# ------------------------------------------------------------------ pipeline


def test_make_purchase_model_and_margin():
    assert isinstance(make_purchase_model("bgnbd"), BetaGeoModel)
    assert isinstance(make_purchase_model("ParetoNBD"), ParetoNBDModel)
    from workbench.models.clv import ModifiedBetaGeoModel, NBDModel

    assert isinstance(make_purchase_model("mbgnbd"), ModifiedBetaGeoModel)
    assert isinstance(make_purchase_model("nbd"), NBDModel)
    with pytest.raises(ValueError, match="model must be one of"):
        make_purchase_model("bgnbd2")
    assert data_margin(pl.DataFrame({"total_spend": [50.0, 50.0],
                                     "total_profit": [10.0, 30.0]})) == (0.4, "data")
    assert data_margin(pl.DataFrame({"total_spend": [1.0]}), 0.5) == (0.5, "default")
    # losses clip to 0, never a negative CLV
    assert data_margin(pl.DataFrame({"total_spend": [10.0], "total_profit": [-5.0]}))[0] == 0.0
    with pytest.raises(ValueError, match="default_margin"):
        data_margin(pl.DataFrame({"total_spend": [1.0]}), 1.5)


def test_fit_clv_on_cdnow_matches_the_building_blocks(cdnow_summary):
    fit = fit_clv(cdnow_summary, horizon_periods=12, period="M")
    # CDNOW has no cost: the documented default margin
    assert (fit.margin, fit.margin_source) == (DEFAULT_MARGIN, "default")
    t = fit.table
    assert t.height == cdnow_summary.height
    assert t.columns == ["customer_id", "frequency", "recency", "T", "n_purchases",
                         "historical_value", "historical_profit", "expected_purchases", "p_alive",
                         "expected_spend", "spend_basis", "predicted_revenue", "clv"]
    bg = BetaGeoModel().fit(cdnow_summary)
    gg = GammaGammaModel().fit(cdnow_summary)
    ref = customer_lifetime_value(cdnow_summary, bg, gg, 12, margin=DEFAULT_MARGIN,
                                  period="M", annual_discount_rate=0.10)
    assert t["clv"].to_list() == pytest.approx(ref["clv"].to_list(), rel=1e-6)
    assert t["historical_value"].to_list() == cdnow_summary["total_spend"].to_list()
    assert t["historical_profit"].null_count() == t.height
    # one-time buyers (Gamma-Gamma excludes them) get the population mean spend
    one = t.filter(pl.col("frequency") == 0)
    assert one.height > 1000 and set(one["spend_basis"]) == {"population"}
    assert one["expected_spend"].to_list() == pytest.approx(
        [gg.population_mean_spend()] * one.height, rel=1e-9)
    assert t.filter(pl.col("frequency") > 0)["spend_basis"].unique().to_list() == ["customer"]
    assert t["clv"].null_count() == 0 and t["clv"].min() >= 0
    assert t["predicted_revenue"].to_list() == pytest.approx(
        (t["expected_purchases"] * t["expected_spend"]).to_list())
    totals = fit.totals()
    assert totals["customers"] == 2357
    assert totals["predicted_clv"] == pytest.approx(float(t["clv"].sum()))
    assert totals["historical_profit"] is None
    assert totals["expected_alive"] == pytest.approx(float(t["p_alive"].sum()))


def test_fit_clv_parameters(cdnow_summary):
    fit = fit_clv(cdnow_summary, 6, "M", margin=1.0, annual_discount_rate=0.0)
    assert fit.margin_source == "parameter"
    # margin 1 and no discounting: CLV is the predicted revenue over the horizon
    assert fit.table["clv"].to_list() == pytest.approx(fit.table["predicted_revenue"].to_list(),
                                                       rel=1e-9)
    longer = fit_clv(cdnow_summary, 24, "M", margin=1.0, annual_discount_rate=0.0)
    assert longer.totals()["predicted_clv"] > fit.totals()["predicted_clv"]
    with pytest.raises(ValueError, match="margin is a share"):
        fit_clv(cdnow_summary, margin=30)


def test_clv_table_from_transactions_uses_the_data_margin(sample_tx):
    table = clv_table(sample_tx, "2026-06-30", horizon_periods=12, period="M")
    summary = wb.customer_summary(sample_tx, "2026-06-30", "W")
    fit = fit_clv(summary)
    assert fit.margin_source == "data"
    ratio = summary["total_profit"].sum() / summary["total_spend"].sum()
    assert fit.margin == pytest.approx(ratio)
    assert 0.2 < fit.margin < 0.5  # cost is 55-75 % of the amount in the sample data
    # same customers and values (float sums may differ in the last bits between two runs)
    assert table["customer_id"].to_list() == fit.table["customer_id"].to_list()
    assert table["clv"].to_list() == pytest.approx(fit.table["clv"].to_list(), rel=1e-6)
    assert table["historical_profit"].null_count() == 0


def test_clv_by_segment_adds_up(sample_tx):
    summary = wb.customer_summary(sample_tx, "2026-06-30", "W")
    fit = fit_clv(summary)
    seg = clv_by_segment(fit.table, wb.rfm_segments(summary))
    totals = clv_totals(fit.table)
    assert int(seg["customers"].sum()) == summary.height
    assert float(seg["predicted_total"].sum()) == pytest.approx(totals["predicted_clv"])
    assert float(seg["historical_total"].sum()) == pytest.approx(totals["historical_value"])
    assert float(seg["profit_total"].sum()) == pytest.approx(totals["historical_profit"])
    assert float(seg["predicted_share"].sum()) == pytest.approx(1.0)
    assert seg["predicted_total"].is_sorted(descending=True)
    # Champions carry more predicted value per customer than Lost customers
    mean = dict(zip(seg["segment"], seg["predicted_mean"], strict=True))
    assert mean["Champions"] > 5 * mean["Lost"]
    # customers without a segment are kept as "Unknown"
    partial = clv_by_segment(fit.table, wb.rfm_segments(summary).head(10))
    assert "Unknown" in partial["segment"].to_list()
    with pytest.raises(ValueError, match="missing column"):
        clv_by_segment(fit.table.drop("clv"), wb.rfm_segments(summary))


# ------------------------------------------------------------------ at-risk list


def test_at_risk_rules_and_ranking():
    ids = ["fall", "low", "lapsed", "fine", "poor", "once", "new"]
    now = _summary(ids, [5, 5, 5, 5, 5, 0, 3], [20, 30, 5, 39, 20, 0, 1], [40] * 7,
                   [900, 800, 700, 600, 10, 5000, 650], days=[140, 70, 245, 7, 140, 280, 270])
    before = _summary(ids[:6], [5, 4, 5, 5, 5, 0], [20, 26, 2, 26, 20, 0], [27] * 6,
                      [800, 700, 600, 500, 10, 5000])
    out = at_risk_customers(now, before, GapModel(), value_quantile=0.0, min_value=100)
    assert out.columns == ["rank", "customer_id", "status", "value_at_stake", "p_alive_before",
                           "p_alive_now", "p_alive_change", "frequency", "days_since_last",
                           "usual_gap_days", "gap_ratio", "reason"]
    got = dict(zip(out["customer_id"], out["status"], strict=True))
    # fall: 0.59 -> 0.33 and low: 0.91 -> 0.50 (falling by >= 0.2); new: no earlier row and
    # P(alive) 0.20 < 0.3 (low); lapsed: 0.29 -> 0.22, below 0.3 at both dates (off by
    # default); fine: 0.91 at both dates; poor: not valuable; once: no repeat purchase
    assert got == {"fall": "falling", "low": "falling", "new": "low"}
    assert out["customer_id"].to_list() == ["fall", "low", "new"]
    assert out["rank"].to_list() == [1, 2, 3]
    assert out["value_at_stake"].is_sorted(descending=True)
    row = out.filter(pl.col("customer_id") == "new").row(0, named=True)
    assert row["p_alive_before"] is None and row["p_alive_change"] is None
    assert row["reason"].startswith("P(alive) 0.20, below 0.30")
    fall = out.filter(pl.col("customer_id") == "fall").row(0, named=True)
    assert fall["usual_gap_days"] == pytest.approx(20 * 7 / 5)
    assert fall["gap_ratio"] == pytest.approx(140 / 28)
    assert "5.0x the usual gap of 28 days" in fall["reason"]

    with_lapsed = at_risk_customers(now, before, GapModel(), value_quantile=0.0, min_value=100,
                                    include_lapsed=True)
    assert dict(zip(with_lapsed["customer_id"], with_lapsed["status"], strict=True))[
        "lapsed"] == "lapsed"
    # a larger min_drop keeps only the big falls; low_p_alive=None drops the "low" rule
    strict = at_risk_customers(now, before, GapModel(), value_quantile=0.0, min_value=100,
                               min_drop=0.4, low_p_alive=None)
    assert strict["customer_id"].to_list() == ["low"]
    # default thresholds: the top 20 % by value (here only "once", 5000, who has no repeat
    # purchase and is never at risk); with no value filter, top=2 keeps the two largest
    top = at_risk_customers(now, before, GapModel(), value_quantile=0.0, min_value=100, top=2)
    assert top["customer_id"].to_list() == ["fall", "low"]


def test_at_risk_value_threshold_and_values_frame():
    ids = [f"c{i}" for i in range(10)]
    now = _summary(ids, [3] * 10, [5] * 10, [40] * 10, [float(100 * (i + 1)) for i in range(10)])
    out = at_risk_customers(now, None, GapModel())  # all have P(alive) 0.22 < 0.3
    # default: the top 20 % by value (quantile 0.8, lower interpolation: 800 and up)
    assert out["customer_id"].to_list() == ["c9", "c8", "c7"]
    clv = pl.DataFrame({"customer_id": ids, "clv": [float(i) for i in range(10, 0, -1)]})
    by_clv = at_risk_customers(now, None, GapModel(), "clv", values=clv, value_quantile=0.5)
    assert by_clv["customer_id"].to_list()[:2] == ["c0", "c1"]
    assert by_clv["value_at_stake"].to_list()[0] == 10.0
    with pytest.raises(ValueError, match="value_column 'clv'"):
        at_risk_customers(now, None, GapModel(), "clv")
    with pytest.raises(ValueError, match="min_drop"):
        at_risk_customers(now, None, GapModel(), min_drop=0)
    with pytest.raises(ValueError, match="value_quantile"):
        at_risk_customers(now, None, GapModel(), value_quantile=1.5)
    empty = at_risk_customers(now, None, GapModel(), min_value=1e9)
    assert empty.height == 0 and empty.columns[0] == "rank"


def test_at_risk_on_cdnow_with_a_fitted_bgnbd(cdnow_transactions, cdnow_summary):
    before = wb.customer_summary(cdnow_transactions, "1998-03-31", "W")
    fit = fit_clv(cdnow_summary)
    out = at_risk_customers(cdnow_summary, before, fit.purchase_model, "historical_value",
                            values=fit.table)
    assert out.height > 10
    falling = out.filter(pl.col("status") == "falling")
    assert (falling["p_alive_change"] <= -0.2).all()
    low = out.filter(pl.col("status") == "low")
    assert (low["p_alive_now"] < 0.3).all()
    assert (out["frequency"] >= 1).all()
    threshold = fit.table["historical_value"].quantile(0.8, interpolation="lower")
    assert (out["value_at_stake"] >= threshold).all()
    # P(alive) before is what the same model gives on the earlier summary
    one = out.row(0, named=True)
    ref = fit.purchase_model.probability_alive(before).filter(
        pl.col("customer_id") == one["customer_id"])["p_alive"].item()
    assert one["p_alive_before"] == pytest.approx(ref)
    assert out["reason"].str.contains("repeat purchase").all()
