"""Exact cases for workbench.core.money: the scale found, the tolerance edges, the 2**53 limit and
the rows an error names (each test kills mutants ``bench/mutation_test.py`` planted)."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.core.money import (
    EXACT_LIMIT,
    MAX_DECIMALS,
    from_minor_units,
    money_scale,
    to_minor_units,
)
from workbench.errors import DataValidationError


def scale_of(values):
    return money_scale(pl.DataFrame({"amount": values}, schema={"amount": pl.Float64}), ["amount"])


def test_constants():
    assert MAX_DECIMALS == 6
    assert EXACT_LIMIT == 9007199254740992.0  # 2**53


@pytest.mark.parametrize(
    ("values", "scale"),
    [
        ([19.99, 5.0], 2),  # cents first
        ([0.125], 3),  # one row (not the empty-frame shortcut)
        ([0.125, 20.0], 3),
        ([0.0001], 4),
        ([0.00001], 5),
        ([0.000001], 6),  # micro-units: the last scale tried
        ([0.0000001], None),  # 7 decimals: refused
        ([1 / 3], None),
        ([19.99, None], 2),  # nulls are ignored
        ([None], 2),
        ([], 2),  # no rows: cents
    ],
)
def test_money_scale(values, scale):
    assert scale_of(values) == scale


def test_money_scale_without_columns_is_cents():
    assert money_scale(pl.DataFrame({"amount": [0.125]}), []) == 2


def test_absolute_tolerance_edge():
    # 1.000000000000001e-08 in cents is 1.000000000000001e-06 off a whole number, exactly the
    # tolerance 1e-6 + |v| * 1e-15 in Float64: whole (<=, not <)
    assert scale_of([1.000000000000001e-08]) == 2
    # 0.010000012 is 1.2e-6 cents off a whole cent: beyond the 1e-6 tolerance, and not whole at
    # any scale up to 6
    assert scale_of([0.010000012]) is None
    # 0.0100000099 is 9.9e-7 cents off: whole in cents
    assert scale_of([0.0100000099]) == 2


def test_relative_tolerance_edge():
    # 1e10 + 1.1e-5: 0.0011 cents off a whole cent, above 1e-6 + 1e12 * 1e-15 = 0.001001;
    # at 5 decimals the allowance (1e-6 + 1e15 * 1e-15) covers the rounding
    x = 10000000000.000011
    assert scale_of([x]) == 5
    units, scale = to_minor_units(pl.DataFrame({"amount": [x]}), ["amount"])
    assert (units["amount"].to_list(), scale) == ([1000000000000001.0], 5)


def test_units_and_back():
    units, scale = to_minor_units(
        pl.DataFrame({"amount": [19.99, 0.01, None], "cost": [1.5, None, 2.25]}),
        ["amount", "cost", "absent"],
    )
    assert scale == 2
    assert units["amount"].to_list() == [1999.0, 1.0, None]
    assert units["cost"].to_list() == [150.0, None, 225.0]
    assert pl.select(from_minor_units(pl.lit(2000.0), 2)).item() == 20.0
    assert pl.select(from_minor_units(pl.lit(125.0), 3)).item() == 0.125
    milli, s = to_minor_units(pl.DataFrame({"amount": [0.125, 2.0]}), ["amount"])
    assert (milli["amount"].to_list(), s) == ([125.0, 2000.0], 3)
    # a given scale is used as is
    given, s = to_minor_units(pl.DataFrame({"amount": [1.5]}), ["amount"], scale=4)
    assert (given["amount"].to_list(), s) == ([15000.0], 4)


def test_sums_reaching_two_to_the_53_are_refused():
    # 90071992547409.92 is exactly 2**53 cents
    at_limit = pl.DataFrame({"amount": [90071992547409.92]})
    with pytest.raises(DataValidationError, match="too large to sum exactly") as err:
        to_minor_units(at_limit, ["amount"], source="tx")
    assert err.value.column == "amount"
    # one cent less (90071992547409.9 is 2**53 - 1 cents after rounding) is accepted
    below, scale = to_minor_units(pl.DataFrame({"amount": [90071992547409.9]}), ["amount"])
    assert (below["amount"].item(), scale) == (2.0**53 - 1, 2)
    # the absolute values add up: 2**52 cents and -2**52 cents together reach it
    half = 45035996273704.96  # 2**52 cents
    with pytest.raises(DataValidationError, match="too large"):
        to_minor_units(pl.DataFrame({"amount": [half, -half]}), ["amount"])


def _numbered(values):
    return pl.DataFrame(
        {"source_row": list(range(1, len(values) + 1)), "amount": values},
        schema={"source_row": pl.Int64, "amount": pl.Float64},
    )


def test_refusal_names_the_first_five_rows_and_values():
    values = [1.0] + [k + 1 / 3 for k in range(7)] + [None]
    with pytest.raises(DataValidationError, match="more than 6 decimal places") as err:
        to_minor_units(_numbered(values), ["amount"])
    assert err.value.rows == [2, 3, 4, 5, 6]  # nulls are not bad values
    assert err.value.values == [k + 1 / 3 for k in range(5)]
    assert err.value.n_rows == 7


def test_nulls_are_not_refused_as_non_finite():
    units, _ = to_minor_units(_numbered([None, 2.5]), ["amount"])
    assert units["amount"].to_list() == [None, 250.0]
    with pytest.raises(DataValidationError, match="not a finite number") as err:
        to_minor_units(_numbered([None, float("nan"), 1.0, float("inf")]), ["amount"])
    assert (err.value.rows, err.value.n_rows) == ([2, 4], 2)
