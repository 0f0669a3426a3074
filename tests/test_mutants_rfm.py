"""Exact cases for workbench.analyses.rfm that kill mutants ``bench/mutation_test.py`` planted:
default fixed cut-offs at every edge, lower-is-better float scores, the integer threshold
path, errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench.analyses.rfm import (
    DEFAULT_CUTOFFS,
    assign_segments,
    load_segment_rules,
    midrank_score,
    midrank_scores,
    midrank_thresholds,
    rfm_scores,
)
from workbench.errors import DataValidationError


def _summary(days, purchases):
    n = len(days)
    return pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "days_since_last": days,
            "n_purchases": purchases,
            "total_spend": [float(10 * (i + 1)) for i in range(n)],
            "mean_spend": [10.0] * n,
        }
    )


def test_default_fixed_cutoffs_at_every_edge():
    assert DEFAULT_CUTOFFS == {"R": [30, 90, 180, 365], "F": [1, 2, 4, 9]}
    s = _summary([30, 31, 90, 91, 180, 181, 365, 366], [1, 2, 3, 4, 5, 9, 10, 1])
    scores = rfm_scores(s, method="fixed")
    assert scores["R"].to_list() == [5, 4, 4, 3, 3, 2, 2, 1]
    assert scores["F"].to_list() == [1, 2, 3, 3, 4, 4, 5, 1]
    # M by quantile (no default M cut-offs): value i of 8 has p = (i + 0.5) / 8, score
    # floor(5 p) + 1
    assert scores["M"].to_list() == [1, 1, 2, 3, 3, 4, 5, 5]
    assert scores["rfm_code"].to_list() == ["511", "421", "432", "333", "343", "244", "255", "115"]


def test_lower_is_better_on_floats_and_wide_integer_ranges():
    expected = [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    floats = pl.Series([i + 0.5 for i in range(10)])
    got = pl.select(midrank_score(floats, higher_is_better=False)).to_series()
    assert got.to_list() == expected
    # integers spread over more than 4 n values are scored against thresholds, not counted
    wide = np.array([100 * i for i in range(10)], dtype=np.int64)
    assert midrank_scores(wide, higher_is_better=False).tolist() == expected
    assert midrank_scores(wide).tolist() == expected[::-1]


def test_midrank_thresholds_of_integers_equal_those_of_floats():
    for values, expected in [
        ([1, 1, 1, 2, 5], [1.0, 2.0, 2.0, 5.0]),
        ([3, 3, 3], [3.0, 3.0, np.inf, np.inf]),  # one value: p = 0.5, score 3 at most
        (list(range(10)), [2.0, 4.0, 6.0, 8.0]),
        ([7], [7.0, 7.0, np.inf, np.inf]),
    ]:
        ints = midrank_thresholds(np.array(values, dtype=np.int64))
        floats = midrank_thresholds(np.array(values, dtype=np.float64))
        assert ints.tolist() == expected
        assert floats.tolist() == expected
    assert midrank_thresholds(np.array([], dtype=np.float64)).tolist() == [np.inf] * 4


def test_an_empty_summary_is_refused_unless_allowed():
    empty = _summary([1], [1]).head(0)
    with pytest.raises(DataValidationError, match="no customers with a purchase"):
        rfm_scores(empty)
    assert rfm_scores(empty, allow_empty=True).height == 0


def test_ambiguous_rule_table_names_the_first_five_rows():
    table = pl.DataFrame(
        {"r": ["*", "5"], "f": ["*", "5"], "m": ["*", "*"], "segment": ["Everyone", "Best"]}
    )
    with pytest.raises(DataValidationError, match="ambiguous: 5 score cells") as err:
        load_segment_rules(table)
    assert err.value.rows == [1, 2, 1, 2, 1]
    assert err.value.values == ["Everyone", "Best", "Everyone", "Best", "Everyone"]
    assert err.value.n_rows == 10


def test_a_code_table_with_a_missing_cell_is_validated_before_use():
    rules = load_segment_rules("default")
    scores = rfm_scores(_summary([30, 31, 90], [1, 2, 3]))
    with pytest.raises(DataValidationError, match="incomplete: 1 of 125"):
        assign_segments(scores, rules.filter(pl.col("rfm_code") != "111"))
    assert assign_segments(scores, rules)["segment"].to_list() == (
        assign_segments(scores, "default")["segment"].to_list()
    )
