"""The Gini coefficient and the Lorenz curve on the engines (workbench.engines.concentration):
exact ratios of integer sums of minor units, the same on Polars and DuckDB, through several
histogram refinements, and within 1e-13 of the Polars functions of workbench.analyses.pareto.

The CDNOW, sample-data and random-log parity runs are in tests/test_engines.py (check_parity),
Spark's in tests/test_engines_spark.py.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from engine_parity import check_concentration, exact_concentration, on_engine, random_log
from polars.testing import assert_frame_equal

from workbench import engines
from workbench.analyses.pareto import gini as polars_gini
from workbench.analyses.pareto import lorenz_curve as polars_lorenz
from workbench.core.summary import customer_summary
from workbench.engines import concentration
from workbench.engines.frames import Engine
from workbench.errors import DataValidationError

duckdb = pytest.importorskip("duckdb")

ENGINES = ["polars", "duckdb"]


def _spend(seed: int, n: int = 3_000) -> pl.DataFrame:
    """Heavy-tailed spend in cents with a big tie, zeros, negatives and nulls."""
    rng = np.random.default_rng(seed)
    cents = np.round(rng.lognormal(3, 2, n) * 100)
    cents[: n // 5] = 1250
    cents[n // 5: n // 5 + 40] = -300
    values = (cents / 100).tolist()
    values[-7:] = [None] * 7
    values[-20:-10] = [0.0] * 10
    return pl.DataFrame({"total_spend": values}, schema={"total_spend": pl.Float64})


def test_the_pareto_docstring_examples():
    """docs/rfm.md: 80, 10, 5, 5 -> G = (3*80 + 1*10 - 1*5 - 3*5) / (4*100) = 0.575."""
    s = pl.DataFrame({"total_spend": [80.0, 10.0, 5.0, 5.0]})
    assert engines.gini(s) == 0.575
    assert engines.lorenz_curve(s, points=4)["value_share"].to_list() == [
        0.0, 0.8, 0.9, 0.95, 1.0]
    assert engines.gini(pl.DataFrame({"total_spend": [1.0] * 4})) == 0.0
    # one customer holds everything: G = (n - 1) / n
    assert engines.gini(pl.DataFrame({"total_spend": [0.0, 0.0, 0.0, 7.5]})) == 0.75


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("seed", [1, 2])
def test_exact_through_several_refinements(name, seed, monkeypatch):
    """With 16 buckets and 40 distinct values a window, the histogram is refined three or four
    levels deep: the same exact figures as with one pass."""
    s = _spend(seed)
    g, shares, customers = exact_concentration(s["total_spend"])
    frame = on_engine(Engine(name), s)
    one_pass = engines.gini(frame), engines.lorenz_curve(frame)
    monkeypatch.setattr(concentration, "BUCKETS", 16)
    monkeypatch.setattr(concentration, "WINDOW_LIMIT", 40)
    refined = engines.gini(frame), engines.lorenz_curve(frame)
    assert refined[0] == one_pass[0] == g
    assert_frame_equal(refined[1], one_pass[1], check_exact=True)
    assert refined[1]["value_share"].to_list() == shares
    assert refined[1]["customers"].to_list() == customers
    np.testing.assert_allclose(g, polars_gini(s), rtol=1e-13)
    np.testing.assert_allclose(shares, polars_lorenz(s)["value_share"], rtol=1e-13)


@pytest.mark.parametrize("name", ENGINES)
def test_buckets_whose_sums_could_overflow_are_refined(name, monkeypatch):
    """With 4 buckets and the overflow bound at 10**9 (not the distinct-value limit), wide
    buckets of many customers are split (down to one value each if need be) instead of summed
    in one window: the figures stay exact."""
    s = _spend(4, n=1_500)
    g, shares, _ = exact_concentration(s["total_spend"])
    passes: list[int] = []
    histogram = concentration._histogram
    monkeypatch.setattr(concentration, "_histogram",
                        lambda *a: passes.append(1) or histogram(*a))
    monkeypatch.setattr(concentration, "BUCKETS", 4)
    monkeypatch.setattr(concentration, "_SAFE", 10**9)
    frame = on_engine(Engine(name), s)
    assert engines.gini(frame) == g
    assert engines.lorenz_curve(frame)["value_share"].to_list() == shares
    assert len(passes) > 2  # refined below the first histogram


def test_refinement_passes_are_bounded(monkeypatch):
    """Every collected histogram has at most BUCKETS rows; no window partition holds more than
    WINDOW_LIMIT distinct values."""
    seen: list[int] = []
    histogram = concentration._histogram

    def spy(inside, below_n, below_s):
        out = histogram(inside, below_n, below_s)
        seen.append(len(out))
        return out

    monkeypatch.setattr(concentration, "BUCKETS", 16)
    monkeypatch.setattr(concentration, "WINDOW_LIMIT", 40)
    monkeypatch.setattr(concentration, "_histogram", spy)
    windowed: list[int] = []
    windows = concentration._windows

    def spy_windows(inside, buckets, totals, ranks, gini):
        windowed.extend(b.d for b in buckets)
        return windows(inside, buckets, totals, ranks, gini)

    monkeypatch.setattr(concentration, "_windows", spy_windows)
    engines.gini(_spend(3))
    assert len(seen) > 3 and max(seen) <= 16
    assert windowed and max(windowed) <= 40


@pytest.mark.parametrize("name", ENGINES)
def test_sample_data_summary(name, sample_data_dir):
    from workbench.core.io import read_transactions

    tx = read_transactions(sample_data_dir / "transactions.csv")
    ref = customer_summary(tx, "2026-03-31")
    frame, engine, _, scale = engines.summary_frame(on_engine(Engine(name), tx), "2026-03-31",
                                                    engine=Engine(name))
    check_concentration(engine.persist(frame), ref, scale)


def test_zero_values_and_bad_input():
    zeros = pl.DataFrame({"total_spend": [0.0, -2.0, None]})
    assert engines.gini(zeros) == polars_gini(zeros) == 0.0
    assert engines.lorenz_curve(zeros, points=3)["value_share"].to_list() == [0.0] * 4
    with pytest.raises(DataValidationError, match="no customers"):
        engines.gini(pl.DataFrame({"total_spend": []}, schema={"total_spend": pl.Float64}))
    with pytest.raises(ValueError, match="'clv' not in the summary"):
        engines.lorenz_curve(zeros, "clv")
    with pytest.raises(DataValidationError, match="not whole in minor units") as err:
        engines.gini(pl.DataFrame({"total_spend": [1.005, 2.0, 3.0001]}))
    assert err.value.n_rows == 2
    # in mills: (2000 - 1005) / (2 * 3005), the exact ratio rounded once
    assert engines.gini(pl.DataFrame({"total_spend": [1.005, 2.0]}), scale=3) == 995 / 6010


def test_random_log_on_duckdb_is_polars_bit_for_bit():
    tx = random_log(7, rows=4_000, customers=900)
    got = {}
    for name in ENGINES:
        frame, engine, _, scale = engines.summary_frame(on_engine(Engine(name), tx),
                                                        "2024-01-15", engine=Engine(name))
        frame = engine.persist(frame)
        got[name] = (engines.gini(frame, scale=scale), engines.lorenz_curve(frame, scale=scale))
    assert got["polars"][0] == got["duckdb"][0]
    assert_frame_equal(got["polars"][1], got["duckdb"][1], check_exact=True)
