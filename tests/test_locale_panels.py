"""Locale formats (de_DE: decimal comma) and singular counts in the RFM and loyalty panels."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import re

import polars as pl

from workbench.presentation.charts.loyalty import loyalty_matrix_chart
from workbench.presentation.formatting import NumberFormats
from workbench.presentation.widgets import MigrationPanel
from workbench.presentation.widgets.demo import demo_dataset
from workbench.presentation.widgets.loyalty_panel import LoyaltyPanel
from workbench.presentation.widgets.state import DashboardState

AS_OF = dt.date(2024, 6, 28)


def german_state() -> DashboardState:
    return DashboardState(dataclasses.replace(demo_dataset(), currency="EUR", locale="de_DE"),
                          AS_OF)


def one_customer_state() -> DashboardState:
    """One customer who bought before the previous as-of date (30 Mar 2024) and after it."""
    data = demo_dataset()
    keep = pl.col("customer_id") == "C1"
    assert data.customers is not None
    return DashboardState(dataclasses.replace(data, transactions=data.transactions.filter(keep),
                                              customers=data.customers.filter(keep)), AS_OF)


def _cells(table_html: str, column: int) -> list[str]:
    rows = re.findall(r"<tr>(.*?)</tr>", table_html.split("<tbody>")[1])
    return [re.findall(r"<td>(.*?)</td>", r)[column] for r in rows]


def _chart_json(panel, key: str) -> str:
    return json.dumps(panel._charts[key].chart.to_dict(), ensure_ascii=False)


def test_migration_change_column_uses_the_locale_decimal_comma():
    state = german_state()
    panel = MigrationPanel()
    panel.update(state)
    summary = state.extras["migration_summary"]
    changes = _cells(panel.table.value, 6)  # Segment, Before, Now, Added, Dropped, Share, Change
    assert len(changes) == summary.height
    # a share change of x is 100 x percentage points, one decimal, with its sign; German
    # writes a decimal comma (CLDR de: decimal ",", plus "+", minus "-")
    by_segment = dict(zip(summary["segment"], summary["share_change"], strict=True))
    segments = _cells(panel.table.value, 0)
    for seg, text in zip(segments, changes, strict=True):
        expected = f"{100 * by_segment[html.unescape(seg)]:+.1f}".replace(".", ",") + " pp"
        assert text == expected
    assert any("," in t for t in changes)


def test_loyalty_summary_and_chart_labels_use_the_locale():
    panel = LoyaltyPanel()
    state = german_state()
    panel.update(state)
    spec = _chart_json(panel, "loyalty-matrix")
    matrix = panel.analysis(state).matrix
    for row in matrix.iter_rows(named=True):
        noun = "customer" if row["customers"] == 1 else "customers"
        share = f"{100 * row['customer_share']:.1f}".replace(".", ",")
        # as the Loyalty table writes a share in German (CLDR de, pattern #,##0.0%)
        assert f'"{row["customers"]} {noun} ({share}%)"' in spec
    assert not re.search(r"customers? \(\d+\.\d", spec)


def test_loyalty_matrix_chart_formats_default_to_the_current_behaviour():
    matrix = pl.DataFrame({
        "dick_basu": ["true loyalty"], "attitude": ["high"], "behaviour": ["regular"],
        "customers": [2], "customer_share": [0.25], "value": [1500.0], "value_share": [0.5],
        "reciprocal": [0]})
    spec = json.dumps(loyalty_matrix_chart(matrix).to_dict())
    assert "2 customers (25.0 %)" in spec
    german = json.dumps(loyalty_matrix_chart(matrix, formats=NumberFormats("EUR", "de_DE"))
                        .to_dict(), ensure_ascii=False)
    assert "2 customers (25,0%)" in german
    assert "value 1.500\u00a0€ (50,0%)" in german


def test_one_customer_is_singular():
    state = one_customer_state()
    migration = MigrationPanel()
    migration.update(state)
    assert re.search(r'"[01] of 1 customer changed segment', _chart_json(migration, "flow"))
    loyalty = LoyaltyPanel()
    loyalty.update(state)
    assert "· 1 buyer ·" in loyalty.summary.value
    spec = _chart_json(loyalty, "loyalty-matrix")
    assert "1 customer (100.0%)" in spec
    assert "1 customers" not in spec


def test_kpi_tile_changes_use_the_locale():
    """The KPI tiles' change line: pp, points and % with a decimal comma under de_DE (it read
    "+1.6 pp" next to German values)."""
    from workbench.presentation.widgets.kpi_panel import KpiPanel, tile_html

    german = NumberFormats("EUR", "de_DE")
    share = {"kpi": "repeat_rate", "label": "Repeat rate", "value": 0.489, "previous": 0.473,
             "change": 0.016, "change_pct": 0.0338, "fmt": "pct"}
    money = {"kpi": "revenue", "label": "Revenue", "value": 211.9, "previous": 262.1,
             "change": -50.2, "change_pct": -0.1915, "fmt": "currency"}
    assert "▲ +1,6 pp" in tile_html(share, german) and "▲ +1.6 pp" in tile_html(share)
    assert "▼ -19,2 %" in tile_html(money, german) and "▼ -19.2 %" in tile_html(money)
    panel = KpiPanel()
    panel.update(german_state())
    shown = " ".join(t.value for t in panel.tiles.values())
    changes = re.findall(r"wb-kpi-change[^>]*>[▲▼▬] ([^<]*?) <span", shown)
    assert changes and all("." not in c for c in changes if c not in ("n/a",)), changes
