"""Every tooltip of the loyalty and cohort charts has a readable title and a format.

A viewer must never see a raw field name (``share_pct``, ``customer_share``): each tooltip
entry names its field with a ``title`` written for people (no underscores, capitalised), and
each number carries a format.  Cohorts read as months (``Jan 2026``), not as timestamps.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

from workbench.analyses.cohorts import cohort_retention
from workbench.analyses.loyalty import analyse_loyalty, choose_segments
from workbench.app.sample_data import generate_sample_data
from workbench.core.io import validate_customers, validate_surveys, validate_transactions
from workbench.core.prepare import prepare_orders
from workbench.presentation.charts import loyalty as lc
from workbench.presentation.charts.cohorts import cohort_heatmap

AS_OF = dt.date(2026, 6, 30)


def tooltips(spec: Any) -> Iterator[dict]:
    """Every tooltip entry of a Vega-Lite spec (any depth: layers, facets)."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "tooltip":
                yield from (value if isinstance(value, list) else [value])
            else:
                yield from tooltips(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from tooltips(item)


def check_readable(chart: Any) -> int:
    entries = [t for t in tooltips(chart.to_dict()) if isinstance(t, dict) and "field" in t]
    assert entries, "a chart without tooltips"
    for t in entries:
        title = t.get("title")
        assert isinstance(title, str) and title, f"no title for {t['field']!r}"
        assert "_" not in title and title[0].isupper(), f"raw title {title!r}"
        if t.get("type") == "quantitative" and t["field"] not in ("rank",):
            assert t.get("format"), f"number {t['field']!r} without a format"
    return len(entries)


@pytest.fixture(scope="module")
def analysis():
    raw = generate_sample_data(n_customers=600, seed=5)
    tx = validate_transactions(raw["transactions"])
    customers, surveys = validate_customers(raw["customers"]), validate_surveys(raw["surveys"])
    orders, _ = prepare_orders(tx, AS_OF)
    return analyse_loyalty(
        orders,
        AS_OF,
        surveys=surveys,
        customers=customers,
        segments=choose_segments("customer_type", customers=customers),
        n_boot=50,
    ), orders


def test_loyalty_tooltips_are_readable(analysis) -> None:
    la, _ = analysis
    charts = [
        lc.loyalty_matrix_chart(la.matrix, value_label="profit"),
        lc.satisfaction_zones_chart(la.perceived),
        lc.zone_counts_chart(la.segment_attitude),
        lc.drivers_chart(la.drivers),
        lc.early_warning_chart(la.warnings, top=10),
        lc.type_share_chart(la.type_summary),
    ]
    assert sum(check_readable(c) for c in charts) >= 30


def test_driver_chart_names_measures_and_criteria_for_people(analysis) -> None:
    la, _ = analysis
    (data,) = lc.drivers_chart(la.drivers).to_dict()["datasets"].values()
    assert {r["target_label"] for r in data} == {"NPS (0-10)", "Repurchase intent (1-5)"}
    assert "Service Level" in {r["criterion_label"] for r in data}


def test_cohort_tooltips_and_month_labels(analysis) -> None:
    _, orders = analysis
    table = cohort_retention(orders, AS_OF, "1mo")
    chart = cohort_heatmap(table)
    check_readable(chart)
    (data,) = chart.to_dict()["datasets"].values()
    labels = list(dict.fromkeys(r["cohort_label"] for r in data))
    months = sorted({d.replace(day=1) for d in table["cohort"].to_list()})
    assert labels == [m.strftime("%b %Y") for m in months]  # oldest first, as months
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", label) for label in labels)
    y = chart.to_dict()["layer"][0]["encoding"]["y"]
    assert y["sort"] == labels


def test_weekly_cohorts_keep_the_day() -> None:
    t = pl.DataFrame(
        {
            "cohort": [dt.date(2026, 1, 5), dt.date(2026, 1, 12)],
            "period": [0, 0],
            "cohort_customers": [2, 3],
            "customers": [2, 3],
            "retention": [1.0, 1.0],
            "revenue": [10.0, 12.0],
        }
    )
    (data,) = cohort_heatmap(t).to_dict()["datasets"].values()
    assert [r["cohort_label"] for r in data] == ["5 Jan 2026", "12 Jan 2026"]
