"""Exploration helpers: segment-rule editor, customer lookup, chart-linked table, export."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from workbench.analyses.rfm import load_segment_rules
from workbench.errors import DataValidationError
from workbench.presentation.export import to_file
from workbench.presentation.widgets.lookup import CustomerLookup, linked_table, selected_rows
from workbench.presentation.widgets.rule_editor import RuleEditor, RuleTable


@pytest.fixture(scope="module")
def scored(sample_data_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    import workbench as wb

    tx = wb.read_transactions(sample_data_dir / "transactions.csv")
    orders, _ = wb.prepare_orders(tx, "2026-06-30")
    summary = wb.summary_from_orders(orders, "2026-06-30", "W")
    return summary, wb.rfm_scores(summary), orders


def test_rule_table_sizes_follow_edits(scored, tmp_path: Path) -> None:
    summary, scores, _ = scored
    table = RuleTable.from_rules("rf_grid", scores, summary)
    sizes = table.segment_sizes()
    assert sizes["customers"].sum() == summary.height
    champions = sizes.filter(pl.col("segment") == "Champions")["customers"].item()
    # rename every Champions rule: the size moves to the new name
    for i, row in enumerate(table.rows):
        if row[3] == "Champions":
            table.set_cell(i, "segment", "Stars")
    after = table.segment_sizes()
    assert after.filter(pl.col("segment") == "Stars")["customers"].item() == champions
    assert "Champions" not in after["segment"].to_list()
    saved = table.save(tmp_path / "rules" / "mine.csv")
    assert load_segment_rules(saved).height == 125


def test_rule_table_validation_uses_the_library(scored) -> None:
    _, scores, _ = scored
    table = RuleTable.from_rules("rf_grid", scores)
    table.remove_rule(0)
    cells, problem = table.validate()
    assert cells is None and "score cells have no segment" in problem
    assert table.segment_sizes() is None
    with pytest.raises(DataValidationError):
        table.save("/tmp/never-written.csv")
    table.add_rule("1", "1", "*", "Lost")
    assert table.validate()[1] is None
    table.add_rule("1", "1", "*", "Other")  # the same cell, another segment: ambiguous
    assert "ambiguous" in table.validate()[1]


def test_rule_table_from_code_table() -> None:
    table = RuleTable.from_rules("default")
    assert len(table.rows) == 125 and table.validate()[1] is None


def test_rule_editor_widget(scored, tmp_path: Path) -> None:
    summary, scores, _ = scored
    seen = []
    editor = RuleEditor.from_rules("three_level", scores, summary,
                                   save_path=tmp_path / "r.csv", on_change=seen.append)
    assert "valid" in editor.status.value and "<table" in editor.sizes.value
    first_segment = editor.rows_box.children[0].children[3]
    first_segment.value = ""
    assert "no segment name" in editor.status.value
    first_segment.value = "Lapsed one-time"
    assert editor.save() == tmp_path / "r.csv" and seen


def test_customer_lookup(scored) -> None:
    import workbench as wb

    summary, scores, orders = scored
    segments = wb.assign_segments(scores)
    lookup = CustomerLookup(summary, segments, orders)
    cid = summary["customer_id"][0]
    record = lookup.find(f" {cid} ")
    assert record.found and record.summary.height == 1
    assert record.segment == segments.filter(pl.col("customer_id") == cid)["segment"].item()
    assert record.orders.height == orders.filter(pl.col("customer_id") == cid).height
    assert record.orders["order_date"].is_sorted(descending=True)
    assert not lookup.find("nobody").found
    box = lookup.widget(cid)
    assert cid in box.children[1].value


def test_selected_rows_and_linked_table() -> None:
    import altair as alt

    frame = pl.DataFrame({"segment": ["A", "B"], "customers": [3, 4]})
    assert selected_rows(frame, [{"segment": "B"}])["customers"].to_list() == [4]
    pick = alt.selection_point(name="pick", fields=["segment"])
    chart = alt.Chart(frame).mark_bar().encode(x="segment", y="customers").add_params(pick)
    box = linked_table(chart, frame)
    assert "<table" in box.children[1].value


def test_export_csv_and_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame({"b": [2, 1], "d": [None, 1.5]})
    csv = to_file(frame.lazy(), tmp_path / "x" / "y" / "t.csv", sort_by="b")
    assert csv.read_text() == "b,d\n1,1.5\n2,\n"
    pq = to_file(frame, tmp_path / "t.parquet")
    assert pl.read_parquet(pq).equals(frame)
    assert to_file(frame, tmp_path / "u.parquet").read_bytes() == pq.read_bytes()
    with pytest.raises(ValueError, match="write .csv, .parquet or .pq"):
        to_file(frame, tmp_path / "t.xlsx")
