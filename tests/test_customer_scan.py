"""The compiled kernels: customer scan, id sort, text check, mid-rank scores.

Each is checked against a plain Polars / NumPy / fractions computation of the same thing, on
data built to reach the awkward paths: several Arrow chunks, long ids stored outside the views,
tables that must grow, several threads, hash collisions, rows out of order.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench.analyses.rfm import midrank_scores
from workbench.core.summary import customer_summary
from workbench.native import customer_scan, kernels, sorting
from workbench.native.customer_scan import scan_customers


def test_the_compiled_kernels_are_installed():
    """The README's install builds them; without them everything silently runs slower."""
    assert kernels.LIBRARY is not None


def _log(n_rows: int, n_customers: int, seed: int, chunks: int = 1) -> pl.DataFrame:
    """Rows in date order; some ids longer than 12 bytes (outside the string views)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i}" if i % 3 else f"customer-with-a-long-id-{i}" for i in
                    range(n_customers)])
    day = np.sort(rng.integers(19_000, 19_400, n_rows)).astype(np.int32)
    frame = pl.DataFrame({
        "customer_id": ids[rng.integers(0, n_customers, n_rows)],
        "day": day,
        "amount": np.round(rng.gamma(2.0, 20.0, n_rows), 2),
        "profit": np.round(rng.normal(5.0, 2.0, n_rows), 2),
    })
    if chunks > 1:  # several Arrow chunks of different lengths per column
        edges = sorted(set(rng.integers(1, n_rows - 1, chunks - 1).tolist()))
        parts = [frame[a:b] for a, b in zip([0, *edges], [*edges, n_rows], strict=True)]
        frame = pl.concat(parts, rechunk=False)
    return frame


def _reference(frame: pl.DataFrame, period: str) -> pl.DataFrame:
    """The same aggregates with Polars group-bys, in order of first appearance."""
    rows = frame.with_row_index("row")
    per_period = rows.group_by("customer_id", period).agg(
        pl.col("row").min(), pl.col("amount").sum().alias("value")
    )
    first = per_period.sort("row").group_by("customer_id").agg(
        pl.col("value").first().alias("first_value")
    )
    return (
        rows.group_by("customer_id")
        .agg(
            pl.col("row").min().alias("first_row"),
            pl.col(period).n_unique().alias("n_purchases"),
            pl.col("amount").sum().alias("total"),
            pl.col("profit").sum(),
            pl.col("day").min().alias("first_day"),
            pl.col("day").max().alias("last_day"),
        )
        .join(first, on="customer_id")
        .sort("first_row")
    )


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("expected", [None, 1, 50_000])
def test_scan_equals_group_by_whatever_the_threads_and_table_sizes(threads, expected):
    frame = _log(60_000, 9_000, seed=threads, chunks=7)
    frame = frame.with_columns((pl.col("day") // 7).alias("week"))
    for period in ("day", "week"):
        scan = scan_customers(
            frame["customer_id"], frame[period], frame["amount"], frame["profit"], frame["day"],
            expected_customers=expected, threads=threads,
        )
        ref = _reference(frame, period)
        values = scan.values()
        assert not scan.collision
        assert scan.first_row.tolist() == ref["first_row"].to_list()
        assert values["n_purchases"].tolist() == ref["n_purchases"].to_list()
        assert values["first_day"].tolist() == ref["first_day"].to_list()
        assert values["last_day"].tolist() == ref["last_day"].to_list()
        for ours, theirs in (("total", "total"), ("first_value", "first_value"),
                             ("profit", "profit")):
            np.testing.assert_allclose(values[ours], ref[theirs].to_numpy(), rtol=1e-12)


def test_results_do_not_depend_on_threads_to_the_last_bit():
    frame = _log(300_000, 40_000, seed=3, chunks=5)
    one, two = (
        scan_customers(frame["customer_id"], frame["day"], frame["amount"], threads=t).values()
        for t in (1, 2)
    )
    for name in one:
        assert np.array_equal(one[name], two[name]), name


def test_rows_sharing_a_period_and_their_customers():
    ids = pl.Series(["a", "b", "a", "a", "b", "c"])
    period = np.array([1, 1, 1, 2, 3, 3])
    scan = scan_customers(ids, period, np.ones(6))
    assert scan.shares_period.tolist() == [True, False, True, False, False, False]
    assert scan.customers_of(np.array([2])).tolist() == [0]  # row 2 belongs to "a"
    ordered = scan.values(np.array([2, 0, 1]))  # c, a, b
    assert ordered["n_purchases"].tolist() == [1, 2, 2]


def test_a_hash_collision_is_reported():
    """Two ids with the same key hash but different check hashes: the scan says so."""
    h1 = np.array([5, 5, 9], dtype=np.uint64)
    same = scan_customers((h1, np.array([1, 1, 2], dtype=np.uint64)), np.arange(3), np.ones(3))
    assert not same.collision and same.first_row.tolist() == [0, 2]
    other = scan_customers((h1, np.array([1, 7, 2], dtype=np.uint64)), np.arange(3), np.ones(3))
    assert other.collision


def test_periods_going_backwards_are_an_error():
    with pytest.raises(RuntimeError, match="non-decreasing"):
        scan_customers(pl.Series(["a", "a"]), np.array([5, 4]), np.ones(2))


def test_summary_after_a_collision_uses_the_exact_path(monkeypatch):
    tx = _transactions()
    fast = customer_summary(tx, "2024-07-01", "W")
    real = customer_scan.scan_customers

    def colliding(*args, **kwargs):
        scan = real(*args, **kwargs)
        scan.collision = True
        return scan

    monkeypatch.setattr(customer_scan, "scan_customers", colliding)
    assert_frame_equal(customer_summary(tx, "2024-07-01", "W"), fast, rel_tol=1e-12)


def _transactions() -> pl.DataFrame:
    from workbench.core.io import validate_transactions

    rows = []
    for i in range(400):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=(i * 37) % 170)
        rows.append((f"c{i % 61:03d}", day.isoformat(), f"{(i * 13) % 50 + 1}.25"))
    rows += [rows[5], rows[5], rows[17]]  # exact duplicates
    frame = pl.DataFrame(rows, schema=["customer_id", "order_date", "amount"], orient="row")
    return validate_transactions(frame)


@pytest.mark.parametrize("unit", ["D", "W", "M"])
def test_without_the_kernels_the_summary_and_scores_are_the_same(monkeypatch, unit):
    """A machine that could not compile the kernels gets the same answers (more slowly)."""
    from workbench.analyses.rfm import rfm_segments

    tx = _transactions()
    fast = customer_summary(tx, "2024-07-01", unit)
    fast_segments = rfm_segments(fast)
    for module in (kernels, customer_scan, sorting):
        monkeypatch.setattr(module, "LIBRARY", None)
    assert not customer_scan.available()
    slow = customer_summary(tx, "2024-07-01", unit)
    assert_frame_equal(slow, fast, rel_tol=1e-12, abs_tol=1e-9)
    assert_frame_equal(rfm_segments(slow), fast_segments)


def test_string_order_is_polars_byte_order():
    rng = np.random.default_rng(4)
    alphabet = ["a", "b", "0", "Z", "\x00", "é", " "]
    for max_len in (3, 8, 14):
        ids = pl.Series(
            ["".join(rng.choice(alphabet, rng.integers(0, max_len + 1))) for _ in range(5_000)]
        )
        expected = ids.to_frame("id").with_row_index("i").sort("id", maintain_order=True)["i"]
        assert sorting.string_order(ids).tolist() == expected.to_list()


def test_radix_argsort_is_a_stable_sort():
    rng = np.random.default_rng(5)
    for keys in (rng.integers(0, 2**64, 50_000, dtype=np.uint64),
                 rng.integers(0, 50, 50_000).astype(np.uint64) << np.uint64(40)):
        assert np.array_equal(kernels.radix_argsort(keys), np.argsort(keys, kind="stable"))
    assert kernels.radix_argsort(np.zeros(0, dtype=np.uint64)).tolist() == []


@pytest.mark.parametrize(
    ("values", "dirty"),
    [
        (["a", "b c", "C0001"], False),
        (["a", " b"], True),
        (["a", "b\t"], True),
        (["a", "\u00a0b"], True),
        (["a", "b\u3000"], True),
        (["a", ""], True),
        (["a", None], True),
        (["é", "日本"], False),
        (["a-very-long-customer-identifier ", "x"], True),
    ],
)
def test_text_needs_cleaning_agrees_with_polars_strip(values, dirty):
    s = pl.Series(values, dtype=pl.String)
    polars_says = bool(
        ((s.str.strip_chars() != s) | (s == "")).fill_null(True).any()
    )
    assert polars_says == dirty
    assert kernels.text_needs_cleaning(s) == dirty


def _exact_scores(x, n_scores, higher_is_better):
    values = list(x if higher_is_better else [-v for v in x])
    n, out = len(values), []
    for v in values:
        less = sum(w < v for w in values)
        equal = sum(w == v for w in values)
        out.append(min(int((Fraction(less) + Fraction(equal, 2)) / n * n_scores) + 1, n_scores))
    return out


def test_midrank_scores_equal_exact_fractions():
    """Integers (counted), wide integers and floats (thresholds), both directions."""
    rng = np.random.default_rng(6)
    for trial in range(600):
        n = int(rng.integers(1, 40))
        kind = trial % 3
        if kind == 0:
            x = rng.integers(0, int(rng.integers(1, 6)), n) - int(rng.integers(0, 3))
        elif kind == 1:
            x = rng.integers(0, 10**9, n)
        else:
            x = np.round(rng.normal(size=n), 1)
        n_scores, better = int(rng.integers(2, 7)), bool(trial % 2)
        assert midrank_scores(x, n_scores, better).tolist() == _exact_scores(
            x.tolist(), n_scores, better
        ), (x, n_scores, better)


def test_a_library_from_another_kernels_version_is_not_used(monkeypatch):
    """A stale build (say, an old .venv after a pull) must not be called with new arguments."""
    import sys
    import types

    stale = types.ModuleType("workbench.native._kernels")
    stale.__file__ = "libc.so.6"  # loads, but has no wb_abi_version
    monkeypatch.setitem(sys.modules, "workbench.native._kernels", stale)
    monkeypatch.setattr(sys.modules["workbench.native"], "_kernels", stale, raising=False)
    with pytest.warns(RuntimeWarning, match="another version"):
        assert kernels._load() is None


def test_integer_ids_become_text_ids_with_the_same_result():
    """An unvalidated frame with integer ids gets the summary of their decimal text."""
    tx = _transactions()
    numeric = tx.with_columns(pl.col("customer_id").str.slice(1).cast(pl.Int64))
    text = customer_summary(numeric.with_columns(pl.col("customer_id").cast(pl.String)),
                            "2024-07-01")
    ints = customer_summary(numeric, "2024-07-01", "W")
    assert ints["customer_id"].dtype == pl.String
    assert_frame_equal(ints, text, check_exact=True)


@pytest.mark.parametrize("kind", ["categorical", "enum", "lazy", "large_string", "nulls"])
def test_the_kernel_is_never_the_reason_for_an_error(kind):
    """Inputs the kernel cannot read take the exact Polars path and give the same summary;
    null ids are refused on every path alike."""
    from workbench.errors import DataValidationError

    tx = _transactions()
    expected = customer_summary(tx, "2024-07-01")
    ids = tx["customer_id"]
    if kind == "categorical":
        other = tx.with_columns(ids.cast(pl.Categorical))
    elif kind == "enum":  # categories in reverse order: ids must still sort by their text
        other = tx.with_columns(ids.cast(pl.Enum(sorted(ids.unique().to_list(), reverse=True))))
    elif kind == "lazy":
        other = tx.lazy()
    elif kind == "large_string":  # a non-view export: arrow large_string chunks
        import pyarrow as pa

        other = tx.with_columns(pl.from_arrow(ids.to_arrow().cast(pa.large_string())))
    else:
        other = tx.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(ids)
                                .alias("customer_id"))
        with pytest.raises(DataValidationError, match="null ids"):
            customer_summary(other, "2024-07-01")
        return
    assert_frame_equal(customer_summary(other, "2024-07-01"), expected, check_exact=True)


def test_values_refuses_positions_out_of_range():
    scan = scan_customers(pl.Series(["a", "b"]), np.array([1, 1]), np.ones(2))
    with pytest.raises(IndexError):
        scan.values(np.array([0, 2]))


def test_order_statistics_equal_a_full_sort():
    """Radix select, including values crowded into one bin and signed zeros and infinities."""
    rng = np.random.default_rng(7)
    for x in (
        rng.normal(size=100_000),
        rng.integers(0, 5, 100_000).astype(float),
        rng.uniform(64.0, 64.001, 200_000),  # one top-16-bit bin: refined level by level
        np.array([-0.0, 0.0, -1.0, np.inf, -np.inf, 2.5]),
        np.full(1_000, 3.5),
    ):
        ranks = np.unique(rng.integers(0, len(x), 6))
        assert np.array_equal(kernels.order_statistics(x, ranks), np.sort(x)[ranks])


def test_summary_bits_do_not_depend_on_threads_row_order_or_path(monkeypatch):
    """300k rows (several threads): one thread, two threads, shuffled rows and the Polars path
    give bit-identical summaries, money columns included (sums of whole minor units)."""
    from workbench.native import customer_scan

    frame = _log(300_000, 60_000, seed=11, chunks=3)
    tx = frame.select(
        "customer_id",
        (pl.col("day").cast(pl.Date)).alias("order_date"),
        "amount",
        pl.col("profit").alias("margin"),
    )
    results = {}
    for threads in (1, 2):
        monkeypatch.setattr(customer_scan, "usable_cores", lambda t=threads: t)
        results[f"threads={threads}"] = customer_summary(tx, "2024-01-31", "W")
    results["shuffled"] = customer_summary(tx.sample(fraction=1.0, shuffle=True, seed=3),
                                           "2024-01-31", "W")
    monkeypatch.setattr(customer_scan, "usable_for", lambda ids: False)
    results["polars"] = customer_summary(tx, "2024-01-31", "W")
    first = results.pop("threads=1")
    assert first.height > 50_000
    for name, other in results.items():
        assert_frame_equal(first, other, check_exact=True), name
