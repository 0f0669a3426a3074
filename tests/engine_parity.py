"""Parity checks shared by tests/test_engines.py and tests/test_engines_spark.py.

:func:`check_parity` runs the engine-neutral definitions on one engine and compares each result
with the Polars path of the library (``workbench.core.summary``, ``workbench.analyses.rfm``,
``workbench.analyses.pareto``, ``workbench.models.clv``): identical ids, counts and dates, and
bit-identical money and time columns.  The Gini coefficient and the Lorenz curve are compared
with the exact ratios of integer sums (:func:`exact_concentration`, from the definitions in
docs/rfm.md), and with the Polars functions to 1e-13.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shutil

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from workbench import engines
from workbench.analyses.pareto import gini, lorenz_curve, pareto_table
from workbench.analyses.rfm import rfm_scores
from workbench.core.summary import calibration_holdout_summary, customer_summary
from workbench.engines import clv_scoring, scoring
from workbench.engines.frames import Engine
from workbench.models.clv import fit_clv


def require_spark(*modules: str) -> None:
    """Skip unless ``pyspark`` (and ``modules``) import and ``java`` is on the PATH; with ``CI``
    set, fail instead (CI must run one real Spark)."""
    import pytest

    for name in ("pyspark", *modules):
        try:
            importlib.import_module(name)
        except ImportError:
            if os.environ.get("CI"):
                raise
            pytest.skip(f"{name} is not installed")
    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("java is missing: scripts/test.sh installs openjdk-17-jre-headless")
        pytest.skip("java is missing")


def random_log(seed: int, rows: int = 3_000, customers: int = 300) -> pl.DataFrame:
    """A log with multi-line orders, returns (own and orphan), exact duplicates, missing order
    ids, cost and an extra column."""
    rng = np.random.default_rng(seed)
    start = dt.date(2023, 1, 1)
    cid = rng.integers(0, customers, rows)
    day = rng.integers(0, 400, rows)
    cents = rng.integers(-4_000, 30_000, rows)
    order = rng.integers(0, 6, rows)
    frame = pl.DataFrame(
        {
            "customer_id": [f"c{c}" if c % 4 else f"customer-with-a-long-id-{c}" for c in cid],
            "order_date": [start + dt.timedelta(days=int(d)) for d in day],
            "amount": cents / 100,
            "order_id": [None if o == 0 else f"o{c}-{o}" for c, o in zip(cid, order, strict=True)],
            "cost": np.round(np.abs(cents) * 0.006, 2),
            "channel": rng.choice(["web", "store"], rows),
        }
    )
    copies = frame.sample(n=rows // 50, seed=seed)
    return pl.concat([frame, copies]).sample(fraction=1.0, shuffle=True, seed=seed)


def exact_concentration(values: pl.Series, scale: int = 2, points: int = 100):
    """Gini and Lorenz value shares of ``values`` from their definitions (docs/rfm.md, 'Pareto
    concentration'), in exact integer arithmetic on minor units sorted by Python: each ratio
    rounded once to a float."""
    units = sorted(int(round(max(v or 0.0, 0.0) * 10**scale)) for v in values.to_list())
    n, total = len(units), sum(units)
    g = sum((2 * i - n - 1) * x for i, x in enumerate(units, 1)) / (n * total) if total else 0.0
    desc = units[::-1]
    idx = sorted({max(1, round(n * k / points)) for k in range(1, points + 1)})
    shares = [0.0] + [sum(desc[:i]) / total if total else 0.0 for i in idx]
    return g, shares, [0, *idx]


def check_concentration(frame, reference: pl.DataFrame, scale: int) -> tuple[float, pl.DataFrame]:
    """``engines.gini`` and ``engines.lorenz_curve`` of ``frame`` (an engine's summary) against the
    exact values and the Polars functions on ``reference`` (the library's summary)."""
    g = engines.gini(frame, scale=scale)
    curve = engines.lorenz_curve(frame, scale=scale)
    exact_g, exact_shares, customers = exact_concentration(reference["total_spend"], scale)
    assert g == exact_g
    assert curve["value_share"].to_list() == exact_shares
    assert curve["customers"].to_list() == customers
    np.testing.assert_allclose(g, gini(reference), rtol=1e-13)
    polars_curve = lorenz_curve(reference)
    assert_frame_equal(curve.drop("value_share"), polars_curve.drop("value_share"),
                       check_exact=True)
    np.testing.assert_allclose(curve["value_share"], polars_curve["value_share"], rtol=1e-13)
    return g, curve


def on_engine(engine: Engine, frame: pl.DataFrame):
    """``frame`` as a native lazy frame of ``engine``."""
    if engine.name == "polars":
        return frame.lazy()
    return engine.small(frame, broadcast=False).to_native()


def _collect(native) -> pl.DataFrame:
    import narwhals as nw

    return nw.from_native(native).lazy().collect("polars").to_native().sort("customer_id")


def _same(reference: pl.DataFrame, got: pl.DataFrame) -> None:
    assert_frame_equal(reference, got.select(reference.columns), check_exact=True,
                       check_dtypes=False)
    for name, dtype in reference.schema.items():  # integers stay integers, dates dates
        assert got.schema[name].is_integer() == dtype.is_integer(), name
        assert (got.schema[name] == pl.Date) == (dtype == pl.Date), name


def check_parity(
    engine: Engine,
    tx: pl.DataFrame,
    as_of: str,
    holdout_end: str | None = None,
    units: tuple[str, ...] = ("W", "D", "M"),
    clv: bool = True,
    scores: bool = True,
) -> dict:
    """Compare every engine-neutral result with the Polars path; return the weekly figures."""
    native = on_engine(engine, tx)
    for unit in units:
        ref = customer_summary(tx, as_of, unit)
        got = _collect(engines.customer_summary(native, as_of, unit, engine=engine))
        _same(ref, got)
    ref = customer_summary(tx, as_of, "W")
    figures = {"customers": ref.height, "repeat": int(ref["frequency"].sum())}
    if holdout_end is not None:
        cal = calibration_holdout_summary(tx, as_of, holdout_end, "W")
        got = _collect(engines.calibration_holdout_summary(native, as_of, holdout_end, "W",
                                                           engine=engine))
        _same(cal, got)
        figures["holdout"] = int(got["frequency_holdout"].sum())
    if not scores:
        return figures
    frame, engine, _, scale = engines.summary_frame(native, as_of, "W", engine=engine)
    frame = engine.persist(frame)
    for monetary in ("total", "mean"):
        got = scoring.rfm_scores(frame, monetary=monetary).collect("polars").to_native()
        _same(rfm_scores(ref, monetary=monetary).drop("as_of"), got.sort("customer_id"))
    got = scoring.rfm_scores(frame, method="fixed").collect("polars").to_native()
    _same(rfm_scores(ref, method="fixed").drop("as_of"), got.sort("customer_id"))
    table = scoring.pareto_table(frame, scale=scale)
    expected = pareto_table(ref)
    assert table["customers"].to_list() == expected["customers"].to_list()
    np.testing.assert_allclose(table["value_share"], expected["value_share"], rtol=1e-13)
    figures["pareto"] = table["value_share"].to_list()
    figures["gini"], figures["lorenz"] = check_concentration(frame, ref, scale)
    if clv:
        scored = clv_scoring.score_clv(frame, engine, margin=0.3)
        got = scored.table.collect("polars").to_native().sort("customer_id")
        reference = fit_clv(ref, 12, "M", margin=0.3).table
        for col in ("expected_purchases", "p_alive", "expected_spend", "clv"):
            np.testing.assert_allclose(got[col], reference[col], rtol=1e-9, err_msg=col)
        figures["clv"] = got.select("customer_id", "clv")
    engine.release()
    return figures
