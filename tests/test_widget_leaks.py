"""Exploration widgets redraw without piling up widget models in the kernel.

ipywidgets keeps every widget it has opened (with its ``Layout`` and ``Style`` models) in
``ipywidgets.widgets.widget._instances`` until ``close()`` is called; the browser keeps a view
of each.  A widget that rebuilds its rows on every edit and drops the old ones leaks them.  The
tests below redraw each exploration widget many times and check that the open models are
exactly those the widget shows (no more after five rounds than after the first build).
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import ipywidgets as widgets
import polars as pl
import pytest
from ipywidgets.widgets.widget import _instances as widget_models

import workbench as wb
from workbench.presentation.widgets.demo import demo_dataset
from workbench.presentation.widgets.lookup import CustomerLookup, linked_table
from workbench.presentation.widgets.panel import widget_tree
from workbench.presentation.widgets.rule_editor import RULE_COLUMNS, RuleEditor
from workbench.presentation.widgets.state import DashboardState

ROUNDS = 5


@pytest.fixture(scope="module")
def state() -> DashboardState:
    return DashboardState(demo_dataset(), dt.date(2024, 6, 28))


def reachable(root: widgets.Widget) -> set[str]:
    """Model ids of ``root`` and of every widget it shows (children, layouts, styles)."""
    return {w.model_id for w in widget_tree([root])}


def shown_rules(editor: RuleEditor) -> list[list[str]]:
    """The text of every rule row the editor shows, in order."""
    return [[box.value for box in row.children[: len(RULE_COLUMNS)]]
            for row in editor.rows_box.children]


def add_button(editor: RuleEditor) -> widgets.Button:
    """The editor's "Add rule" button (first in the row under the rules)."""
    button = editor.widget.children[1].children[0]
    assert isinstance(button, widgets.Button) and button.description == "Add rule"
    return button


def test_rule_editor_edits_leave_no_widget_models(state: DashboardState) -> None:
    scores = wb.rfm_scores(state.summary)
    changes: list[object] = []
    before = set(widget_models)
    editor = RuleEditor.from_rules("rf_grid", scores, state.summary, on_change=changes.append)
    original = [list(row) for row in editor.rules.rows]
    assert set(widget_models) - before == reachable(editor.widget)
    assert shown_rules(editor) == original
    counts = [len(widget_models)]
    expected = [list(row) for row in original]
    for _ in range(ROUNDS):
        # add a rule, fill it in, then remove it with its own button
        add_button(editor).click()
        assert f"rule {len(original) + 1} has no segment name" in editor.status.value
        new_row = editor.rows_box.children[-1]
        for box, text in zip(new_row.children, ["1", "1", "*", "Extra"], strict=False):
            box.value = text
        assert editor.rules.rows[-1] == ["1", "1", "*", "Extra"]
        assert "ambiguous" in editor.status.value  # R=1, F=1 is already a segment
        new_tree = widget_tree([new_row])
        new_row.children[-1].click()
        assert all(w.comm is None for w in new_tree)  # the row and its layouts and styles
        # remove the first rule and add it back at the end: every row below it shifts up
        editor.rows_box.children[0].children[-1].click()
        assert shown_rules(editor) == expected[1:]
        add_button(editor).click()
        for box, text in zip(editor.rows_box.children[-1].children, expected[0], strict=False):
            box.value = text
        expected = expected[1:] + expected[:1]
        assert shown_rules(editor) == editor.rules.rows == expected
        # an edit on a shifted row changes that rule, and the table is valid again
        editor.rows_box.children[0].children[3].value = "Renamed"
        assert editor.rules.rows[0] == [*expected[0][:3], "Renamed"]
        editor.rows_box.children[0].children[3].value = expected[0][3]
        assert editor.rules.rows == expected
        assert editor.status.value.startswith('<span class="wb-rule-ok">valid')
        editor.refresh()
        counts.append(len(widget_models))
        # every open model the editor made is on its page
        assert set(widget_models) - before == reachable(editor.widget)
    assert counts == [counts[0]] * (ROUNDS + 1), counts
    assert changes and changes[-1] is editor.rules


def test_rule_editor_removing_every_rule_closes_every_row(state: DashboardState) -> None:
    before = set(widget_models)
    editor = RuleEditor.from_rules("three_level", wb.rfm_scores(state.summary))
    rows = list(editor.rows_box.children)
    while editor.rows_box.children:
        editor.rows_box.children[-1].children[-1].click()
    assert editor.rules.rows == [] and "the rule table is empty" in editor.status.value
    assert all(w.comm is None for w in widget_tree(rows))
    assert set(widget_models) - before == reachable(editor.widget)


def test_customer_lookup_searches_leave_no_widget_models(state: DashboardState) -> None:
    lookup = CustomerLookup(state.summary, state.segments, state.orders)
    before = set(widget_models)
    box = lookup.widget("C1")
    assert set(widget_models) - before == reachable(box)
    counts = [len(widget_models)]
    search = box.children[0]
    for _ in range(ROUNDS):
        for cid in ("C2", "nobody", " C3 ", "", "C1"):
            search.value = cid
        assert box.children[1].value.startswith("<b>C1</b>: ")
        counts.append(len(widget_models))
        assert set(widget_models) - before == reachable(box)
    assert counts == [counts[0]] * (ROUNDS + 1), counts


def test_linked_table_selections_leave_no_widget_models() -> None:
    frame = pl.DataFrame({"segment": ["A", "B"], "customers": [3, 4]})
    pick = alt.selection_point(name="pick", fields=["segment"])
    chart = alt.Chart(frame).mark_bar().encode(x="segment", y="customers").add_params(pick)
    before = set(widget_models)
    box = linked_table(chart, frame)
    jchart, table = box.children
    assert set(widget_models) - before == reachable(box)
    counts = [len(widget_models)]
    for _ in range(ROUNDS):
        for segment, customers in (("A", 3), ("B", 4)):
            # what the browser sends when a bar is clicked
            jchart._vl_selections = {
                "pick": {"value": {"vlPoint": {"or": [{"segment": segment}]}}, "store": []}
            }
            assert f"<td>{customers}</td>" in table.value
            assert f"<td>{7 - customers}</td>" not in table.value
        counts.append(len(widget_models))
        assert set(widget_models) - before == reachable(box)
    assert counts == [counts[0]] * (ROUNDS + 1), counts
