"""One definition, every engine: Polars (engine-neutral path) and DuckDB against the Polars path.

Spark runs the same checks in tests/test_engines_spark.py (marked ``spark``).
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from engine_parity import check_parity, random_log
from polars.testing import assert_frame_equal

from workbench import engines
from workbench.core.summary import customer_summary
from workbench.engines import scoring
from workbench.engines.frames import Engine

duckdb = pytest.importorskip("duckdb")

ENGINES = ["polars", "duckdb"]


@pytest.mark.parametrize("name", ENGINES)
def test_cdnow_figures_on_every_engine(name, cdnow_transactions):
    figures = check_parity(Engine(name), cdnow_transactions, "1997-09-30", "1998-06-30")
    assert (figures["customers"], figures["repeat"], figures["holdout"]) == (2357, 2457, 1882)


@pytest.mark.parametrize("name", ENGINES)
def test_sample_data_on_every_engine(name, sample_data_dir):
    from workbench.core.io import read_transactions

    tx = read_transactions(sample_data_dir / "transactions.csv")
    check_parity(Engine(name), tx, "2026-03-31", "2026-06-30", units=("W", "M"))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name", ENGINES)
def test_random_logs_with_returns_duplicates_and_multi_line_orders(name, seed):
    check_parity(Engine(name), random_log(seed), "2024-01-15", "2024-02-04", clv=seed == 1)


@pytest.mark.parametrize("buckets", [1, 2, 7])
def test_spilled_polars_summary_in_customer_buckets_is_the_one_pass_summary(buckets, tmp_path):
    """Out of core on Polars: the summary computed in ``buckets`` passes over hash buckets of
    customers (each spilled to Parquet) equals the library's summary, bit for bit, from a
    Parquet file as from a frame; the automatic choice gives one pass for a small log."""
    tx = random_log(3, rows=6_000, customers=700)
    reference = customer_summary(tx, as_of="2024-01-15", unit="W")
    spilled = Engine("polars", spill=True, buckets=buckets)
    got = engines.customer_summary(tx, "2024-01-15", engine=spilled)
    assert_frame_equal(reference, got.select(reference.columns), check_exact=True,
                       check_dtypes=False)
    path = tmp_path / "tx.parquet"
    tx.write_parquet(path)
    from_file = engines.customer_summary(str(path), "2024-01-15", engine=spilled)
    assert_frame_equal(got, from_file, check_exact=True)
    from workbench.engines import _summary_buckets

    assert _summary_buckets(spilled.read(str(path)), Engine("polars", spill=True)) == 1
    assert _summary_buckets(spilled.read(str(path)), spilled) == buckets


def test_polars_and_duckdb_clv_are_the_same_bits(cdnow_transactions):
    a = check_parity(Engine("polars"), cdnow_transactions, "1997-09-30", units=("W",))
    b = check_parity(Engine("duckdb"), cdnow_transactions, "1997-09-30", units=("W",))
    assert_frame_equal(a["clv"], b["clv"], check_exact=True)
    assert a["pareto"] == b["pareto"]
    assert a["gini"] == b["gini"]
    assert_frame_equal(a["lorenz"], b["lorenz"], check_exact=True)


def test_the_kind_of_frame_is_kept():
    tx = random_log(4, rows=300, customers=40)
    assert isinstance(engines.customer_summary(tx, "2024-01-15"), pl.DataFrame)
    assert isinstance(engines.customer_summary(tx.lazy(), "2024-01-15"), pl.LazyFrame)
    con = duckdb.connect()
    rel = engines.customer_summary(con.from_arrow(tx.to_arrow()), "2024-01-15")
    assert isinstance(rel, duckdb.DuckDBPyRelation)
    # the library's own customer_summary hands a DuckDB relation to the engine path
    lazy = customer_summary(con.from_arrow(tx.to_arrow()), "2024-01-15")
    assert isinstance(lazy, duckdb.DuckDBPyRelation)


@pytest.mark.parametrize("name", ENGINES)
def test_files_globs_and_tables(name, tmp_path):
    tx = random_log(5, rows=2_000, customers=200)
    expected = customer_summary(tx, "2024-01-15")
    parts = tx.with_row_index("i").with_columns(pl.col("i") % 3)
    for i in range(3):
        part = parts.filter(pl.col("i") == i).drop("i")
        part.write_parquet(tmp_path / f"part-{i}.parquet")
        part.write_csv(tmp_path / f"part-{i}.csv")
    for pattern in ("part-*.parquet", "part-*.csv"):
        got = engines.customer_summary(str(tmp_path / pattern), "2024-01-15", engine=name)
        assert_frame_equal(expected, got, check_exact=True, check_dtypes=False)
    if name == "duckdb":
        engine = Engine("duckdb")
        engine.connection.execute(
            f"create table order_lines as select * from read_parquet('{tmp_path}/*.parquet')"
        )
        got = engines.customer_summary("order_lines", "2024-01-15", engine=engine)
        assert_frame_equal(expected, got, check_exact=True, check_dtypes=False)


def test_order_statistics_are_exact_through_several_refinements(monkeypatch):
    import narwhals as nw
    import numpy as np

    monkeypatch.setattr(scoring, "COLLECT_LIMIT", 50)
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.lognormal(3, 2, 5_000), np.full(700, 12.5), [1e9, -3.0]])
    ranks = [0, 1, 699, 2_500, 5_000, values.size - 1]
    frame = nw.from_native(pl.LazyFrame({"v": values}))
    assert scoring.order_statistics(frame, "v", ranks) == np.sort(values)[ranks].tolist()
    rel = duckdb.connect().from_arrow(pl.DataFrame({"v": values}).to_arrow())
    assert scoring.order_statistics(nw.from_native(rel), "v", ranks) == np.sort(values)[
        ranks
    ].tolist()


def test_cli_summary_on_duckdb(tmp_path, capsys):
    from workbench.app.cli import main
    from workbench.core.prepare import prepare_orders

    tx = random_log(6, rows=1_000, customers=100)
    tx.write_parquet(tmp_path / "a.parquet")
    tx.write_parquet(tmp_path / "b.parquet")
    out = tmp_path / "summary.parquet"
    glob = str(tmp_path / "*.parquet")
    assert main(["summary", glob, "--as-of", "2024-01-15", "--engine", "duckdb",
                 "--out", str(out)]) == 0
    expected = customer_summary(pl.concat([tx, tx]), "2024-01-15")
    assert_frame_equal(expected, pl.read_parquet(out), check_exact=True, check_dtypes=False)
    # the tie-out printed is the Polars report's, counted by DuckDB
    err = capsys.readouterr().err
    assert f"{2 * tx.height:,} lines read" in err
    _, report = prepare_orders(pl.concat([tx, tx]), "2024-01-15")
    for row in report.ledger.filter(pl.col("lines") > 0).iter_rows(named=True):
        assert re.search(rf"{row['bucket']}\s+{row['lines']:,} lines", err), row


def _engine_ledger(engine: Engine, tx: pl.DataFrame, as_of: str | None):
    from engine_parity import on_engine

    from workbench.core.prepare import to_date
    from workbench.engines import quality, rules

    frame = rules.standardise(engine.frame(on_engine(engine, tx)))
    checked = rules.check_and_scale(frame)
    return quality.ledger(frame, to_date(as_of), checked.scale), checked.scale


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_tie_out_on_every_engine_is_the_polars_report(name, seed, cdnow_transactions):
    """Every bucket of the data-quality tie-out (kept lines, returns netted into their own or
    the latest order, orphan returns, cancelled orders, duplicates, lines after the as-of date):
    the same lines and the same minor units as ``prepare_orders``' report, and they add up to
    the lines read."""
    from workbench.core.prepare import prepare_orders

    for tx, as_of in ((random_log(seed), "2024-01-15"), (random_log(seed), None),
                      (cdnow_transactions, "1997-09-30")):
        _, report = prepare_orders(tx, as_of)
        got, scale = _engine_ledger(Engine(name), tx, as_of)
        assert scale == report.scale
        assert_frame_equal(got, report.ledger.select(got.columns), check_dtypes=False)
        assert got["lines"].sum() == tx.height
        assert got.filter(pl.col("bucket") == "cancelled_order")["lines"].item() > 0 or (
            tx is cdnow_transactions)


@pytest.mark.parametrize("name", ENGINES)
def test_one_check_pass_for_the_summary_and_the_tie_out(name, monkeypatch):
    """``prepare`` runs the money-scale and null check once; ``summary_frame`` and
    ``data_quality`` given its result do not run it again and give what they give from the
    transactions themselves."""
    from engine_parity import on_engine

    from workbench.engines import rules

    tx = random_log(8, rows=800, customers=90)
    native = on_engine(Engine(name), tx)
    engine = Engine(name) if name == "polars" else engines.engine_for(native)
    expected_summary = customer_summary(tx, "2024-01-15")
    expected_tie_out = engines.data_quality(native, "2024-01-15", engine=engine)
    calls = []
    check = rules.check_and_scale

    def counted(*args, **kwargs):
        calls.append(1)
        return check(*args, **kwargs)

    monkeypatch.setattr(rules, "check_and_scale", counted)
    prepared = engines.prepare(native, "2024-01-15", engine=engine)
    frame, _, _, scale = engines.summary_frame(prepared)
    tie_out = engines.data_quality(prepared)
    assert len(calls) == 1 and scale == prepared.checked.scale == 2
    got = frame.collect("polars").to_native().sort("customer_id")
    assert_frame_equal(expected_summary, got.select(expected_summary.columns), check_exact=True,
                       check_dtypes=False)
    assert_frame_equal(tie_out, expected_tie_out, check_exact=True)
    with pytest.raises(ValueError, match="differs from the prepared"):
        engines.summary_frame(prepared, "2024-01-01")


def test_cli_summary_on_duckdb_checks_once(tmp_path, monkeypatch, capsys):
    from workbench.app.cli import main
    from workbench.engines import rules

    random_log(9, rows=500, customers=60).write_parquet(tmp_path / "a.parquet")
    calls = []
    check = rules.check_and_scale
    monkeypatch.setattr(rules, "check_and_scale",
                        lambda *a, **k: calls.append(1) or check(*a, **k))
    assert main(["summary", str(tmp_path / "a.parquet"), "--as-of", "2024-01-15",
                 "--engine", "duckdb", "--out", str(tmp_path / "s.parquet")]) == 0
    assert len(calls) == 1
    assert "lines read" in capsys.readouterr().err
