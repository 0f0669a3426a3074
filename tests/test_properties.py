"""Property-based tests (Hypothesis): the summary does not depend on the order of the rows or on
the code path (compiled scan or Polars), on random logs with returns, duplicates and multi-line
orders."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from workbench.core.io import validate_transactions
from workbench.core.prepare import prepare_orders
from workbench.core.summary import customer_summary
from workbench.errors import DataValidationError
from workbench.native import customer_scan

START = dt.date(2024, 1, 1)
AS_OF = "2024-03-31"

line = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "a-long-customer-identifier"]),
    st.integers(0, 120),  # day offset: some after the as-of date
    st.integers(-3_000, 20_000),  # cents: returns are negative
    st.one_of(st.none(), st.sampled_from(["o1", "o2", "o3"])),  # order ids, some missing
    st.sampled_from(["x", "y"]),
)


@st.composite
def logs(draw, with_ids: bool) -> pl.DataFrame:
    rows = draw(st.lists(line, min_size=1, max_size=40))
    copies = draw(st.lists(st.integers(0, len(rows) - 1), max_size=5))
    rows = rows + [rows[i] for i in copies]  # exact duplicates
    frame = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "order_date": [(START + dt.timedelta(days=r[1])).isoformat() for r in rows],
            "amount": [f"{r[2] / 100:.2f}" for r in rows],
            "category": [r[4] for r in rows],
            **({"order_id": [r[3] for r in rows]} if with_ids else {}),
        }
    )
    return validate_transactions(frame)


def _summary_or_error(tx: pl.DataFrame, unit: str):
    try:
        return customer_summary(tx, AS_OF, unit)
    except DataValidationError as exc:  # e.g. every row after the as-of date
        return type(exc).__name__


def _same(a, b) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
    else:
        assert_frame_equal(a, b, check_exact=True)


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(logs(with_ids=True), st.integers(0, 2**32 - 1), st.sampled_from(["D", "W", "M"]))
def test_summary_ignores_row_order_with_order_ids(tx, seed, unit):
    shuffled = tx.sample(fraction=1.0, shuffle=True, seed=seed)
    _same(_summary_or_error(tx, unit), _summary_or_error(shuffled, unit))
    orders, report = prepare_orders(tx, AS_OF)
    orders2, report2 = prepare_orders(shuffled, AS_OF)
    assert_frame_equal(orders, orders2, check_exact=True)
    assert report.to_frame(0).drop("example_rows").equals(report2.to_frame(0).drop("example_rows"))


@SETTINGS
@given(logs(with_ids=False), st.integers(0, 2**32 - 1), st.sampled_from(["D", "W", "M"]))
def test_summary_ignores_row_order_without_order_ids(tx, seed, unit):
    shuffled = tx.sample(fraction=1.0, shuffle=True, seed=seed)
    _same(_summary_or_error(tx, unit), _summary_or_error(shuffled, unit))


@SETTINGS
@given(st.booleans().flatmap(lambda ids: logs(with_ids=ids)), st.sampled_from(["D", "W", "M"]))
def test_compiled_and_polars_paths_agree_bit_for_bit(tx, unit):
    fast = _summary_or_error(tx, unit)
    with mock.patch.object(customer_scan, "usable_for", lambda ids: False):
        exact = _summary_or_error(tx, unit)
    _same(fast, exact)


@SETTINGS
@given(logs(with_ids=True))
def test_every_row_is_used_or_reported(tx):
    """Rows in = rows used + rows set aside, and each set-aside row has one reason."""
    orders, report = prepare_orders(tx, AS_OF)
    aside = report.set_aside()
    used_lines = orders["lines"].sum() if orders.height else 0
    assert aside.height == report.n_set_aside
    if aside.height:
        assert aside["source_row"].is_unique().all()
    assert used_lines <= tx.height - report.n_set_aside
