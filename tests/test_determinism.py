"""Same input, same output, bit for bit: across thread counts and input row orders.

Every public analysis runs on the sample data (its first 5,000 customers, as-of 2026-06-30) and
on the CDNOW sample (as-of 1998-06-30, calibration to 1997-09-30) in fresh interpreters, one per
(``POLARS_MAX_THREADS``, input order) combination: the input as read, and shuffled with two
seeds.  Each interpreter prints one JSON object: output name -> SHA-256 of the output's exact
bits (floats by their IEEE 754 bit pattern, nulls marked, every column in its returned row
order).  The test asserts that the objects are identical.

Row order is compared as returned: each function returns its rows in one order (by customer
id, by segment, by period, by value with the name or id as tie-break...), and a table's order
is part of its output.  The one exception, ``satisfaction_index``, returns the survey rows as
given; it is compared sorted by customer and survey date.

Run this file as a script (``python tests/test_determinism.py [shuffle-seed]``) to print the
hashes of one combination.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
CDNOW = SAMPLE / "cdnow" / "CDNOW_sample.txt"
#: Customers of the sample data used (ids sort as strings): 5,000 of 20,000.
SAMPLE_LAST_ID = "C005000"


# ----------------------------------------------------------------------------------------------
# the driver (runs in the child interpreter)


def _bits(value: Any) -> Any:
    """A JSON-able exact image of a scalar: floats by their bit pattern."""
    if isinstance(value, float):
        return ["f", value.hex()]
    if isinstance(value, dict):
        return {str(k): _bits(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_bits(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return ["r", repr(value)]


def frame_digest(frame: Any) -> str:
    """SHA-256 of a Polars frame's column names, dtypes and values in row order (floats exact)."""
    import polars as pl

    h = hashlib.sha256()
    for name in frame.columns:
        s = frame[name]
        h.update(f"{name}:{s.dtype}:{s.len()}".encode())
        h.update(s.is_null().to_numpy().tobytes())
        if s.dtype.is_float():
            h.update(s.cast(pl.Float64).fill_null(0.0).to_numpy().view("u8").tobytes())
        else:
            h.update(json.dumps(_bits(s.to_list()), default=str).encode())
    return h.hexdigest()


def digest(value: Any) -> str:
    import polars as pl

    if isinstance(value, pl.DataFrame):
        return frame_digest(value)
    return hashlib.sha256(json.dumps(_bits(value), default=str).encode()).hexdigest()


def _shuffled(frame: Any, seed: int | None) -> Any:
    return frame if seed is None else frame.sample(fraction=1.0, shuffle=True, seed=seed)


def _common(out: dict[str, Any], tag: str, tx: Any, as_of: str, before: str,
            customers: Any = None, surveys: Any = None) -> None:
    """Every public analysis of one data set; results stored under ``tag/name``."""
    import datetime as dt

    import workbench as wb
    from workbench.analyses.kpi import trailing_revenue
    from workbench.analyses.loyalty.behaviour import behaviour_summary
    from workbench.analyses.loyalty.classify import type_examples
    from workbench.analyses.loyalty.early_warning import warning_counts
    from workbench.models.clv.pipeline import clv_by_segment

    def put(name: str, value: Any) -> None:
        out[f"{tag}/{name}"] = value

    orders, _ = wb.prepare_orders(tx, as_of)
    put("prepare_orders", orders)
    summary = wb.customer_summary(tx, as_of)
    put("customer_summary", summary)
    put("summary_from_orders", wb.summary_from_orders(orders, as_of))
    cal = wb.calibration_holdout_summary(tx, before, as_of)
    put("calibration_holdout_summary", cal)
    scores = wb.rfm_scores(summary)
    put("rfm_scores", scores)
    segments = wb.rfm_segments(summary)
    put("rfm_segments", segments)
    put("segment_table", wb.segment_table(segments, summary))
    put("segment_table_monetary", wb.segment_table(segments))
    put("cell_counts", wb.cell_counts(scores))
    put("score_bins", wb.score_bins(scores))
    put("lorenz_curve", wb.lorenz_curve(summary))
    put("gini", wb.gini(summary))
    put("top_share", wb.top_share(summary))
    put("pareto_table", wb.pareto_table(summary))
    previous = wb.rfm_segments(wb.customer_summary(tx, before))
    migration = wb.segment_migration(previous, segments)
    put("segment_migration", migration)
    put("migration_matrix", wb.migration_matrix(migration))
    put("migration_summary", wb.migration_summary(migration))
    history = wb.segment_history(tx, [before, as_of])
    put("segment_history", history)
    put("segment_changes", wb.segment_changes(history))
    put("executive_kpis", wb.executive_kpis(tx, as_of, surveys=surveys))
    put("trailing_revenue", trailing_revenue(orders, as_of))
    cohorts = wb.cohort_retention(tx, as_of)
    put("cohort_retention", cohorts)
    put("cohort_matrix", wb.cohort_matrix(cohorts))
    put("cohort_matrix_revenue", wb.cohort_matrix(cohorts, "revenue"))

    la = wb.analyse_loyalty(orders, as_of, surveys=surveys, customers=customers,
                            segments=segments)
    for field in ("behaviour", "perceived", "coverage", "types", "matrix", "type_summary",
                  "segment_attitude", "loyalty_index", "value_index", "segment_indices",
                  "warnings", "drivers", "value_basis"):
        put(f"analyse_loyalty.{field}", getattr(la, field))
    put("behavioural_loyalty", wb.behavioural_loyalty(orders, as_of))
    put("loyalty_index", wb.loyalty_index(orders, as_of, segments=segments))
    put("value_index", wb.value_index(orders, as_of, customers))
    put("early_warnings", wb.early_warnings(la.behaviour))
    put("behaviour_summary", behaviour_summary(la.behaviour))
    put("warning_counts", warning_counts(la.warnings))
    put("type_examples", type_examples(la.types))
    if surveys is not None:
        put("perceived_loyalty", wb.perceived_loyalty(surveys, as_of))
        # documented to return the survey rows as given: compared in one order
        put("satisfaction_index",
            wb.satisfaction_index(surveys).sort("customer_id", "survey_date"))
        put("key_drivers", wb.key_drivers(surveys, n_boot=200))

    fit = wb.fit_clv(summary)
    put("fit_clv.table", fit.table)
    put("fit_clv.params", [fit.purchase_model.params_, fit.spend_model.params_])
    put("clv_by_segment", clv_by_segment(fit.table, segments))
    put("clv_table", wb.clv_table(tx, as_of))
    cmp = wb.compare_models(cal, cal, models=("bgnbd", "paretonbd"))
    put("compare_models.table", cmp.table)
    model = cmp.calibration_models["bgnbd"]
    put("holdout_by_frequency", wb.holdout_by_frequency(cal, model))
    put("error_metrics", wb.error_metrics(cal, model))
    put("tracking", wb.tracking(tx, cal, model, dt.date.fromisoformat(before),
                                dt.date.fromisoformat(as_of)))
    put("p_alive_matrix", wb.p_alive_matrix(model, 10, 30))
    check = wb.check_spend_frequency_independence(summary)
    put("check_spend_frequency_independence", repr(check))
    put("at_risk_customers", wb.at_risk_customers(summary, wb.customer_summary(tx, before),
                                                  fit.purchase_model))


def compute(seed: int | None) -> dict[str, str]:
    """Hashes of every output, the inputs shuffled with ``seed`` (``None``: as read)."""
    import warnings

    import workbench as wb

    warnings.simplefilter("ignore")  # model-assumption warnings are not outputs
    out: dict[str, Any] = {}
    # a quarter of the sample's customers keeps the run short; the CDNOW sample is whole
    def part(frame: Any) -> Any:
        return _shuffled(frame.filter(frame["customer_id"] <= SAMPLE_LAST_ID), seed)

    tx = part(wb.read_transactions(SAMPLE / "transactions.csv"))
    customers = part(wb.read_customers(SAMPLE / "customers.csv"))
    surveys = part(wb.read_surveys(SAMPLE / "surveys.csv"))
    _common(out, "sample", tx, "2026-06-30", "2025-12-31", customers, surveys)
    cd = _shuffled(wb.read_cdnow(CDNOW), seed)
    _common(out, "cdnow", cd, "1998-06-30", "1997-09-30")
    return {name: digest(value) for name, value in out.items()}


# ----------------------------------------------------------------------------------------------
# the test (parent process)

#: (threads, shuffle seed): as read on 1 and 8 threads, shuffled on 1 and 4 threads.  Before
#: the stable sums, 8 threads changed per-customer spend sums that 4 threads left alone.
COMBINATIONS = [(1, None), (8, None), (1, 1), (4, 2)]
#: Interpreters run at once (each takes 10-25 s; two keep two cores busy).
PARALLEL = 2


def _start(threads: int, seed: int | None) -> subprocess.Popen[str]:
    env = {**os.environ, "POLARS_MAX_THREADS": str(threads)}
    argv = [sys.executable, str(Path(__file__).resolve())] + ([] if seed is None else [str(seed)])
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen[str]) -> dict[str, str]:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def _run_all() -> dict[tuple[int, int | None], dict[str, str]]:
    runs: dict[tuple[int, int | None], dict[str, str]] = {}
    for i in range(0, len(COMBINATIONS), PARALLEL):
        batch = COMBINATIONS[i:i + PARALLEL]
        procs = [_start(*combo) for combo in batch]
        for combo, proc in zip(batch, procs, strict=True):
            runs[combo] = _finish(proc)
    return runs


def _differences(runs: dict[tuple[int, int | None], dict[str, str]]) -> Iterator[str]:
    (ref_key, ref), *others = runs.items()
    for key, hashes in others:
        for name in sorted(set(ref) | set(hashes)):
            if ref.get(name) != hashes.get(name):
                yield f"{name}: threads/shuffle {ref_key} != {key}"


@pytest.mark.slow
def test_outputs_identical_across_threads_and_row_orders():
    runs = _run_all()
    assert len(next(iter(runs.values()))) > 60  # every output was hashed
    differences = list(_differences(runs))
    assert not differences, "\n".join(differences)


def test_digest_sees_the_last_bit():
    """The comparison can fail: one ulp, a row swap or a null changes the hash."""
    import math

    import polars as pl

    base = pl.DataFrame({"id": ["a", "b"], "x": [0.1 + 0.2, 1.0]})
    assert frame_digest(base) == frame_digest(base.clone())
    ulp = base.with_columns(pl.Series("x", [math.nextafter(0.1 + 0.2, 1.0), 1.0]))
    assert frame_digest(ulp) != frame_digest(base)
    assert frame_digest(base.reverse()) != frame_digest(base)
    assert frame_digest(base.with_columns(pl.Series("x", [None, 1.0]))) != frame_digest(base)
    assert digest(0.30000000000000004) != digest(0.3)


def test_stable_sum_and_mean_ignore_row_order():
    """Plain float addition depends on the order; the stable sum and mean do not."""
    import numpy as np
    import polars as pl

    from workbench.core.stable import stable_mean, stable_sum

    rng = np.random.default_rng(3)
    x = rng.lognormal(3.0, 2.0, 5000) * rng.choice([-1.0, 1.0], 5000)
    base = pl.DataFrame({"g": rng.integers(0, 7, 5000), "x": x})
    plain, stable = set(), set()
    for seed in range(6):
        df = base.sample(fraction=1.0, shuffle=True, seed=seed)
        plain.add(df["x"].sum())
        stable.add(df.group_by("g").agg(stable_sum("x").alias("s"), stable_mean("x").alias("m"))
                   .sort("g").rows().__repr__())
        stable.add(repr(df.select(stable_sum("x")).item()))
    assert len(plain) > 1  # the plain sum does change with the order (the test can fail)
    assert len(stable) == 2  # one grouped table, one total, whatever the order
    # the same value as math.fsum up to float rounding
    import math
    total = float(base.select(stable_sum("x")).item())
    assert total == pytest.approx(math.fsum(x), rel=1e-13)


def test_key_drivers_ignore_row_order():
    import workbench as wb

    surveys = wb.read_surveys(SAMPLE / "surveys.csv").head(600)
    a = wb.key_drivers(surveys, n_boot=50, seed=4)
    b = wb.key_drivers(surveys.sample(fraction=1.0, shuffle=True, seed=9), n_boot=50, seed=4)
    assert frame_digest(a) == frame_digest(b)


def test_ties_sorted_by_name():
    import polars as pl

    import workbench as wb

    migration = pl.DataFrame({"customer_id": list("abcd"),
                              "segment_from": ["L", "L", "L", "L"],
                              "segment_to": ["Z", "A", "M", "L"], "changed": [True] * 4})
    assert wb.migration_matrix(migration)["segment_to"].to_list() == ["A", "L", "M", "Z"]
    segments = pl.DataFrame({"customer_id": list("abc"), "segment": ["b", "c", "a"],
                             "total_spend": [5.0, 5.0, 5.0], "recency_days": [1, 2, 3],
                             "purchases": [1, 1, 1]})
    assert wb.segment_table(segments)["segment"].to_list() == ["a", "b", "c"]


def _main(argv: list[str]) -> None:
    seed = int(argv[0]) if argv else None
    print(json.dumps(compute(seed), sort_keys=True))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    _main(sys.argv[1:])

