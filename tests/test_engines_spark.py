"""The engine-neutral definitions on one real local Spark (``local[2]``): the same results as
the Polars path, bit for bit (tests/engine_parity.py).  Marked ``spark``; they run in
``.ci/run`` (about a minute, most of it the JVM's start and first queries)."""

from __future__ import annotations

import pytest
from engine_parity import check_parity, random_log
from polars.testing import assert_frame_equal

from workbench.engines.frames import Engine

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_cdnow_sample_data_and_random_logs_on_spark(spark_session, cdnow_transactions,
                                                    sample_data_dir):
    from workbench.core.io import read_transactions

    engine = Engine("spark", spark=spark_session)
    figures = check_parity(engine, cdnow_transactions, "1997-09-30", "1998-06-30")
    assert (figures["customers"], figures["repeat"], figures["holdout"]) == (2357, 2457, 1882)
    polars = check_parity(Engine("polars"), cdnow_transactions, "1997-09-30", units=("W",))
    assert_frame_equal(figures["clv"], polars["clv"], check_exact=True)
    assert figures["pareto"] == polars["pareto"]
    assert figures["gini"] == polars["gini"]
    assert_frame_equal(figures["lorenz"], polars["lorenz"], check_exact=True)
    tx = read_transactions(sample_data_dir / "transactions.csv")
    check_parity(engine, tx, "2026-03-31", units=("W",), scores=False)
    check_parity(engine, random_log(1), "2024-01-15", "2024-02-04", units=("W", "M"),
                 scores=False)


def test_the_tie_out_on_spark_is_the_polars_report(spark_session):
    from engine_parity import on_engine

    from workbench.core.prepare import prepare_orders, to_date
    from workbench.engines import quality, rules

    engine = Engine("spark", spark=spark_session)
    tx = random_log(2)
    _, report = prepare_orders(tx, "2024-01-15")
    frame = rules.standardise(engine.frame(on_engine(engine, tx)))
    got = quality.ledger(frame, to_date("2024-01-15"), rules.check_and_scale(frame).scale)
    assert_frame_equal(got, report.ledger.select(got.columns), check_dtypes=False)


def test_gini_and_lorenz_on_spark_sample_data_and_a_random_log(spark_session, sample_data_dir,
                                                                monkeypatch):
    """The exact Gini and Lorenz points of tests/engine_parity.py, from a summary computed on
    Spark; the random log again with the histogram refined several levels deep."""
    from engine_parity import check_concentration, on_engine

    from workbench import engines
    from workbench.core.io import read_transactions
    from workbench.core.summary import customer_summary
    from workbench.engines import concentration

    engine = Engine("spark", spark=spark_session)
    for tx, as_of in ((read_transactions(sample_data_dir / "transactions.csv"), "2026-03-31"),
                      (random_log(2), "2024-01-15")):
        frame, _, _, scale = engines.summary_frame(on_engine(engine, tx), as_of, engine=engine)
        frame = engine.persist(frame)
        check_concentration(frame, customer_summary(tx, as_of), scale)
    monkeypatch.setattr(concentration, "BUCKETS", 16)
    monkeypatch.setattr(concentration, "WINDOW_LIMIT", 40)
    check_concentration(frame, customer_summary(tx, as_of), scale)


def test_only_a_small_table_gets_the_broadcast_hint(spark_session, monkeypatch):
    import polars as pl

    from workbench.engines import frames

    engine = Engine("spark", spark=spark_session)
    table = pl.DataFrame({"frequency": [0, 1], "score": [0.5, 1.5]})

    def hinted(frame) -> bool:
        return "broadcast" in frame.to_native()._jdf.queryExecution().logical().toString()

    assert hinted(engine.small(table))
    assert not hinted(engine.small(table, broadcast=False))
    # above the limit (here: any table) Spark chooses the join itself
    monkeypatch.setattr(frames, "BROADCAST_LIMIT_BYTES", table.estimated_size() - 1)
    assert not hinted(engine.small(table))
