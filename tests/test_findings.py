"""The plain-language findings that open each report: exact sentences on hand-built frames."""

from __future__ import annotations

import polars as pl

from workbench.presentation import findings as f


def _segments() -> pl.DataFrame:
    return pl.DataFrame({
        "segment": ["Champions", "At Risk", "Can't Lose Them", "Lost"],
        "customers": [20, 30, 10, 40],
        "revenue": [6000.0, 1500.0, 1500.0, 1000.0],
        "customer_share": [0.2, 0.3, 0.1, 0.4],
        "revenue_share": [0.6, 0.15, 0.15, 0.1],
    })


def _migration() -> pl.DataFrame:
    return pl.DataFrame({"segment": ["Champions", "At Risk", "Can't Lose Them", "Lost",
                                     "No purchase yet"],
                         "start": [25, 20, 10, 35, 10], "end": [20, 30, 10, 40, 0]})


def _kpis(comparable: bool = True) -> pl.DataFrame:
    return pl.DataFrame({
        "kpi": ["active_customers", "revenue", "repeat_rate", "nps"],
        "label": ["Active customers", "Revenue", "Repeat rate", "NPS"],
        "value": [50.0, 12345.0, 0.5, 31.2],
        "previous": [40.0, 15000.0, 0.45, 28.7],
        "change": [10.0, -2655.0, 0.05, 2.5],
        "change_pct": [0.25 if comparable else None, -0.177, 0.1111, 0.0871],
        "comparable": [comparable, True, True, True],
        "definition": ["Bought in the period.", "Net revenue.", "Bought twice.", "NPS."],
        "fmt": ["int", "currency", "pct", "score"],
    })


def test_rfm_findings_exact_sentences() -> None:
    assert f.rfm_findings(_segments(), _migration(), _kpis(), 0.72, "2026-03-31", 90) == [
        "Largest segment moves since 2026-03-31: Champions shrank by 5 customers (25 to 20) "
        "and At Risk grew by 10 (20 to 30).",
        "The top 20 % of customers brought 72.0% of revenue to date; Champions alone, 20.0% "
        "of customers, brought 60.0%.",
        "Can't Lose Them and At Risk: 40 customers (40.0% of customers) who brought $3,000 "
        "(30.0% of revenue to date) and are slipping away: the win-back list, most valuable "
        "first.",
        "Revenue in the last 90 days: $12.3K, down 17.7% on the 90 days before; active "
        "customers: 50, up 25.0%.",
    ]


def test_rfm_findings_without_moves_at_risk_segments_or_comparable_base() -> None:
    table = _segments().filter(pl.col("segment").is_in(["Champions", "Lost"]))
    still = pl.DataFrame({"segment": ["Champions", "Lost"], "start": [20, 40], "end": [20, 40]})
    found = f.rfm_findings(table, still, _kpis(comparable=False), 0.6, "2026-03-31", 30)
    assert found[0] == "No segment changed size since 2026-03-31."
    assert len(found) == 3  # no at-risk segment in this rule table
    assert found[2] == ("Revenue in the last 30 days: $12.3K, down 17.7% on the 30 days "
                        "before; active customers: 50, no comparison (previous period too "
                        "small).")


def test_kpi_headlines_say_what_changed_and_n_a_against_a_small_base() -> None:
    rows = f.kpi_headlines(_kpis(comparable=False), 90)
    assert rows[0] == f.Headline("Active customers", "50",
                                 "n/a (previous period too small to compare)",
                                 "Bought in the period.")
    assert [r.change for r in rows[1:]] == ["-17.7% vs the previous period",
                                            "+5.0 pts vs the previous period",
                                            "+2.5 points vs the previous period"]
    assert [r.value for r in rows] == ["50", "$12.3K", "50.0%", "+31.2"]
    frame = f.headline_frame(rows)
    assert frame.columns == ["measure", "value", "change", "definition"]
    assert frame.height == 4


def test_clv_findings_exact_sentences() -> None:
    table = pl.DataFrame({"clv": [500.0, 200.0, 100.0, 100.0, 50.0, 50.0, None, 0.0, 0.0,
                                  0.0]})
    at_risk = pl.DataFrame({"value_at_stake": [1200.0, 800.5]})
    totals = {"predicted_clv": 1000.0, "customers": 10}
    assert f.clv_findings(totals, "the next 12 periods of M", "BG/NBD", "BG/NBD",
                          "It forecast the holdout best.", table, at_risk, 90,
                          interval=(900.0, 1150.0)) == [
        "Predicted CLV over the next 12 periods of M: $1,000 from 10 customers (discounted "
        "margin; 90% interval $900 to $1,150).",
        "Recommended purchase model: BG/NBD, used in this report. It forecast the holdout "
        "best.",
        "The top 20 % of customers by CLV hold 70.0% of the predicted value.",
        "2 valuable customers are at risk (P(alive) fell over the last 90 days), with $2,000 "
        "of revenue to date at stake.",
    ]


def test_clv_findings_other_model_and_nobody_at_risk() -> None:
    found = f.clv_findings({"predicted_clv": 0.0, "customers": 1}, "a year", "Pareto/NBD",
                           "BG/NBD", "", pl.DataFrame({"clv": [0.0]}),
                           pl.DataFrame({"value_at_stake": []}, schema={"value_at_stake":
                                                                        pl.Float64}), 30)
    assert found == [
        "Predicted CLV over a year: $0.00 from 1 customer (discounted margin).",
        "Recommended purchase model: Pareto/NBD; this report uses BG/NBD, as asked.",
        "No valuable customer is at risk over the last 30 days.",
    ]


def _types() -> pl.DataFrame:
    return pl.DataFrame({
        "loyalty_type": ["reciprocal", "premium", "inertia", "latent", "no loyalty",
                         "regular, attitude unknown", "one-time, attitude unknown"],
        "customers": [5, 10, 15, 20, 50, 100, 300],
        "value_share": [0.1, 0.05, 0.1, 0.02, 0.03, 0.5, 0.2],
    })


def _drivers() -> pl.DataFrame:
    return pl.DataFrame({"target": ["nps", "nps", "repurchase_intent"],
                         "criterion": ["service_level", "price", "quality"],
                         "n": [95, 95, 95], "rho": [0.41, 0.12, 0.5],
                         "ci_low": [0.22, -0.08, 0.3], "ci_high": [0.57, 0.31, 0.66],
                         "rank": [1, 2, 1]})


def test_loyalty_findings_exact_sentences() -> None:
    figures = {"nps": 12.5, "nps_low": 2.04, "nps_high": 22.96, "nps_n": 100, "warnings": 7,
               "warning_value_at_stake": 15250.0}
    counts = pl.DataFrame({"warning": ["lapsing", "spend reduction", "fewer purchases"],
                           "customers": [3, 5, 5]})
    assert f.loyalty_findings(_types(), _drivers(), figures, counts) == [
        "Of the 100 buyers with a known attitude, the largest loyalty type is no loyalty (50, "
        "50.0%); premium and reciprocal customers are 15 (15.0%) and bring 15.0% of all value.",
        "400 of 500 buyers (80.0%) have no survey; the 100 regular ones among them bring 50.0% "
        "of all value: survey them first.",
        "Biggest driver of NPS: service level (Spearman correlation 0.41, 95 % interval 0.22 "
        "to 0.57, 95 answers).",
        "NPS is +12.5 (95 % interval +2.0 to +23.0; 100 answers).",
        "7 customers show an early warning, with $15.2K at stake; the commonest is fewer "
        "purchases (5 customers).",
    ]


def test_loyalty_findings_without_surveys() -> None:
    types = _types().with_columns(
        pl.when(pl.col("loyalty_type").str.ends_with("unknown")).then(pl.col("customers"))
        .otherwise(0).alias("customers"))
    empty = _drivers().clear()
    counts = pl.DataFrame({"warning": ["lapsing"], "customers": [0]})
    found = f.loyalty_findings(types, empty, {"nps": None, "warnings": 0}, counts)
    assert found == [
        "400 of 400 buyers (100.0%) have no survey; the 100 regular ones among them bring "
        "50.0% of all value: survey them first.",
        "No customer shows an early warning.",
    ]


def test_findings_use_the_currency_set_for_the_report() -> None:
    from workbench.presentation.formatting import use_formats

    try:
        use_formats("EUR", "de_DE")
        text = f.clv_at_risk_finding(pl.DataFrame({"value_at_stake": [1234.0]}), 90)
    finally:
        use_formats()
    assert "1.234\xa0€" in text
