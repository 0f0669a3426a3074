"""One definition, every engine: the data rules, summary, RFM and CLV scoring on Polars, DuckDB
and Spark.

The functions take a native frame of any supported engine (a Polars ``DataFrame`` or
``LazyFrame``, a DuckDB relation, a PySpark or Spark Connect ``DataFrame``; Ibis and SQLFrame
frames work through Narwhals too), or a file, folder, glob or table name with ``engine=``, and
return the same kind: lazy stays lazy, and nothing but small tables (aggregates, the distinct
histories the CLV models are fitted on) is collected to the driver.

What runs where:

* on the engine (executors): the data rules, the customer summary, the holdout counts, the RFM
  scores (thresholds found by histogram refinement, then one expression per customer), Pareto
  sums, the Gini coefficient and the Lorenz curve (:func:`gini`, :func:`lorenz_curve`: exact
  sums of minor units over histogram buckets and windows partitioned by bucket), the
  distinct-history table and the join of the per-history CLV scores;
* on the driver: a few aggregate rows (money scale, null counts, histogram buckets), the model
  fits on the distinct histories, and the scoring of those histories (a small table joined back,
  broadcast on Spark).

The preparation (opening the source, the money-scale and null check, the as-of date) runs once
per :func:`prepare` call; :func:`summary_frame` and :func:`data_quality` accept its
:class:`Prepared` result in place of the transactions, so a caller that wants both pays once.

The engines layer sits above the analyses and models whose definitions it runs on other engines
(docs/architecture.md).

Examples
--------
>>> import duckdb
>>> from workbench import engines
>>> from workbench.core.io import read_cdnow
>>> rel = duckdb.from_arrow(read_cdnow("sample_data/cdnow/CDNOW_sample.txt").to_arrow())
>>> s = engines.customer_summary(rel, "1997-09-30", unit="W")  # computed in DuckDB
>>> s.aggregate("count(*), sum(frequency)").fetchall()  # as on Polars
[(2357, 2457)]
>>> # needs a Spark session (Java 17) and a table: not run here
>>> s = engines.customer_summary(spark.table("sales.order_lines"), "2026-06-30")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import narwhals as nw
import polars as pl

from workbench.core import schema
from workbench.core.prepare import DateLike, to_date
from workbench.core.summary import Unit, _check_options, elapsed
from workbench.engines import rules
from workbench.engines.concentration import gini, lorenz_curve
from workbench.engines.frames import ENGINES, ROWS_PER_BUCKET, Engine, engine_for, local_spark
from workbench.errors import DataValidationError

__all__ = [
    "ENGINES",
    "Engine",
    "Prepared",
    "calibration_holdout_summary",
    "customer_summary",
    "data_quality",
    "engine_for",
    "gini",
    "local_spark",
    "lorenz_curve",
    "open_source",
    "prepare",
    "prepare_orders",
    "summary_frame",
]

Source = Any


def open_source(
    source: Source, engine: str | Engine | None = None
) -> tuple[nw.LazyFrame, Engine, str]:
    """``(lazy frame, engine, kind)`` of a native frame, a path/glob or a table name.

    ``kind`` says what to give back: ``"eager"`` (a Polars DataFrame), ``"lazy"`` (the native
    lazy frame) or ``"polars"`` (a source opened by name: a Polars DataFrame of the result).
    """
    if isinstance(engine, str):
        engine = Engine(engine)
    if isinstance(source, str | Path):
        engine = engine or Engine("polars")
        return engine.read(source), engine, "polars"
    kind = "eager" if isinstance(source, pl.DataFrame | nw.DataFrame) else "lazy"
    engine = engine_for(source, engine)
    return engine.frame(source), engine, kind


def _give_back(frame: nw.LazyFrame, kind: str, sort_by: list[str] | None = None) -> Any:
    if kind == "lazy":
        return frame.to_native()
    out = frame.collect("polars").to_native()
    return out.sort(sort_by) if sort_by else out


@dataclass(frozen=True)
class Prepared:
    """Transactions opened and checked once (:func:`prepare`): pass it to :func:`summary_frame`
    and :func:`data_quality` in place of the transactions.

    Attributes
    ----------
    tx
        The standardised transactions on their engine (lazy).
    engine, kind
        As :func:`open_source` gives them.
    checked
        The money scale and row count (:func:`workbench.engines.rules.check_and_scale`).
    as_of
        The as-of date (the last order date when none was given).
    as_of_given
        Whether an as-of date was given.
    has_profit
        Whether the transactions have a margin or cost column.
    """

    tx: nw.LazyFrame
    engine: Engine
    kind: str
    checked: rules.Checked
    as_of: dt.date
    as_of_given: bool
    has_profit: bool


def prepare(
    transactions: Source,
    as_of: DateLike | None = None,
    *,
    engine: str | Engine | None = None,
    source: str = "transactions",
) -> Prepared:
    """Open ``transactions`` and run the one check pass (money scale, nulls) on its engine.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> tx = pl.DataFrame({"customer_id": ["a", "b"], "amount": [5.0, 2.5],
    ...                    "order_date": [dt.date(2026, 1, 2), dt.date(2026, 2, 1)]})
    >>> p = prepare(tx, "2026-01-31")
    >>> p.checked.scale, p.as_of
    (2, datetime.date(2026, 1, 31))
    >>> data_quality(p)["lines"].sum()  # both lines, one of them after the as-of date
    2
    >>> summary_frame(p)[0].collect()["customer_id"].to_list()  # the same check pass reused
    ['a']
    """
    tx, eng, kind = open_source(transactions, engine)
    tx = rules.standardise(tx)
    checked = rules.check_and_scale(tx, source)
    given = as_of is not None
    if as_of is None:
        last = tx.select(nw.col(schema.ORDER_DATE).max()).collect("polars").item()
        if last is None:
            raise DataValidationError(source, None, "no purchases: the transactions have no rows")
        as_of = last
    columns = tx.collect_schema().names()
    has_profit = schema.MARGIN in columns or schema.COST in columns
    return Prepared(tx, eng, kind, checked, to_date(as_of), given, has_profit)


def _prepared(
    source: Source, as_of: DateLike | None, engine: str | Engine | None, name: str
) -> Prepared:
    """``source`` prepared (:func:`prepare`), or ``source`` itself when it already is."""
    if not isinstance(source, Prepared):
        return prepare(source, as_of, engine=engine, source=name)
    if as_of is not None and to_date(as_of) != source.as_of:
        raise ValueError(f"as_of {to_date(as_of)} differs from the prepared {source.as_of}")
    if engine is not None and (engine if isinstance(engine, str) else engine.name) != (
        source.engine.name
    ):
        raise ValueError(f"engine {engine!r} differs from the prepared {source.engine.name!r}")
    return source


def prepare_orders(
    transactions: Source,
    as_of: DateLike | None = None,
    *,
    engine: str | Engine | None = None,
    source: str = "transactions",
) -> Any:
    """The data rules of :func:`workbench.core.prepare.prepare_orders` on any engine.

    Returns
    -------
    The orders (``customer_id``, ``order_id``, ``order_date``, ``amount``, ``returned``,
    ``lines`` and ``profit`` with margin or cost) as the same kind of frame as the input; the
    data-quality report is the Polars path's (:func:`workbench.core.prepare.prepare_orders`).
    """
    p = _prepared(transactions, as_of, engine, source)
    tx, kind, scale, has_profit = p.tx, p.kind, p.checked.scale, p.has_profit
    out = rules.orders(tx, p.as_of if p.as_of_given else None, scale)
    cols: list[nw.Expr | str] = [
        schema.CUSTOMER_ID,
        schema.ORDER_ID,
        schema.ORDER_DATE,
        rules.from_units(nw.col("_units"), scale).alias(schema.AMOUNT),
        rules.from_units(nw.col("_returned"), scale).alias("returned"),
        "lines",
    ]
    if has_profit:
        cols.append(rules.from_units(nw.col("_profit_units"), scale).alias("profit"))
    sort = [schema.CUSTOMER_ID, schema.ORDER_DATE, schema.ORDER_ID]
    return _give_back(out.select(cols), kind, sort)


def summary_frame(
    transactions: Source,
    as_of: DateLike | None = None,
    unit: str = "W",
    *,
    collapse: str | None = None,
    engine: str | Engine | None = None,
    source: str = "transactions",
) -> tuple[nw.LazyFrame, Engine, str, int]:
    """The lazy customer summary on its engine, its kind and the money scale.

    ``transactions`` may be a :class:`Prepared` (:func:`prepare`): its check pass is reused.
    """
    _check_options(unit, collapse)
    collapse = collapse or ("unit" if unit == "M" else "day")
    p = _prepared(transactions, as_of, engine, source)
    tx, eng, kind, checked, as_of_date = p.tx, p.engine, p.kind, p.checked, p.as_of
    scale, has_profit = checked.scale, p.has_profit

    def summary_of(rows: nw.LazyFrame) -> nw.LazyFrame:
        orders = rules.orders(rows, as_of_date, scale, checked.order_rules)
        return rules.summary(orders, as_of_date, unit, collapse, scale, has_profit)

    buckets = _summary_buckets(tx, eng)
    if buckets <= 1:
        return summary_of(tx), eng, kind, scale
    # Out of core on Polars: one pass per hash bucket of customers, each spilled to Parquet.
    # A customer's rows all fall in one bucket and every rule works within a customer, so the
    # union is the one-pass summary (row order aside: callers sort by customer_id).
    bucket = pl.col(schema.CUSTOMER_ID).cast(pl.String).hash(seed=0) % buckets
    parts = [
        eng.persist(summary_of(nw.from_native(tx.to_native().filter(bucket == b))))
        for b in range(buckets)
    ]
    return nw.concat(parts), eng, kind, scale


def _summary_buckets(tx: nw.LazyFrame, engine: Engine) -> int:
    """Passes of the summary: :attr:`Engine.buckets`, or one per
    :data:`~workbench.engines.frames.ROWS_PER_BUCKET` rows on a spilled Polars engine."""
    if engine.name != "polars" or not engine.spill:
        return 1
    if engine.buckets is not None:
        return max(1, int(engine.buckets))
    rows = tx.select(nw.len()).collect("polars").item()  # Parquet: from the file metadata
    return max(1, -(-int(rows) // ROWS_PER_BUCKET))


def customer_summary(
    transactions: Source,
    as_of: DateLike | None = None,
    unit: str = "W",
    *,
    collapse: str | None = None,
    engine: str | Engine | None = None,
    source: str = "transactions",
) -> Any:
    """The customer summary of :func:`workbench.core.summary.customer_summary` on any engine.

    Parameters
    ----------
    transactions
        A native frame (Polars, DuckDB relation, PySpark DataFrame...), or a file, folder, glob
        of Parquet/CSV files or a table name of ``engine``.
    as_of, unit, collapse, source
        As for :func:`workbench.core.summary.customer_summary`.
    engine
        ``"polars"``, ``"duckdb"``, ``"spark"`` or an :class:`Engine`; default: the engine of
        the frame (Polars for a path).

    Returns
    -------
    The same kind of frame as the input (a lazy frame stays lazy and unsorted; a Polars
    DataFrame, or a path, gives a Polars DataFrame sorted by ``customer_id``), with the same
    columns and, on every engine, the same values, bit for bit.

    Examples
    --------
    >>> import datetime as dt, duckdb
    >>> tx = pl.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["1", "2", "3"],
    ...                    "order_date": [dt.date(2026, 1, 5), dt.date(2026, 3, 2),
    ...                                   dt.date(2026, 6, 1)], "amount": [20.0, 30.0, 15.0]})
    >>> s = customer_summary(duckdb.from_arrow(tx.to_arrow()), "2026-06-30")  # a DuckDB relation
    >>> s.order("customer_id").select("customer_id", "frequency", "total_spend").fetchall()
    [('a', 1, 50.0), ('b', 0, 15.0)]
    """
    frame, _, kind, _ = summary_frame(
        transactions, as_of, unit, collapse=collapse, engine=engine, source=source
    )
    return _give_back(frame, kind, [schema.CUSTOMER_ID])


def data_quality(
    transactions: Source,
    as_of: DateLike | None = None,
    *,
    engine: str | Engine | None = None,
    source: str = "transactions",
) -> pl.DataFrame:
    """The data-quality tie-out of :func:`workbench.core.prepare.prepare_orders` on any engine.

    Every line read falls in exactly one bucket (kept purchase lines, returns netted into
    their own or the latest order, returns without a purchase, lines of cancelled orders,
    exact duplicates, lines after ``as_of``), counted and summed on the engine
    (:func:`workbench.engines.quality.ledger`): the same lines and minor units as the Polars
    path's ``DataQualityReport.ledger``.  ``transactions`` may be a :class:`Prepared`
    (:func:`prepare`), so the check pass of :func:`summary_frame` is not run again.

    Returns
    -------
    polars.DataFrame
        ``bucket``, ``lines``, ``units`` (minor units), ``amount`` (currency), one row per
        bucket of :data:`workbench.core.quality.BUCKETS`.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> tx = pl.DataFrame({"customer_id": ["a", "a", "b"], "amount": [5.0, 5.0, 2.0],
    ...                    "order_date": [dt.date(2026, 1, 2)] * 2 + [dt.date(2026, 2, 1)]})
    >>> data_quality(tx, "2026-01-31").filter(pl.col("lines") > 0).select(
    ...     "bucket", "lines", "amount").rows()
    [('kept', 1, 5.0), ('exact_duplicate', 1, 5.0), ('after_as_of', 1, 2.0)]
    """
    from workbench.engines import quality

    p = _prepared(transactions, as_of, engine, source)
    table = quality.ledger(p.tx, p.as_of, p.checked.scale)
    return table.with_columns((pl.col("units") / 10.0**p.checked.scale).alias("amount"))


def calibration_holdout_summary(
    transactions: Source,
    calibration_end: DateLike,
    observation_end: DateLike,
    unit: str = "W",
    *,
    collapse: str | None = None,
    engine: str | Engine | None = None,
) -> Any:
    """:func:`workbench.core.summary.calibration_holdout_summary` on any engine (same columns)."""
    cal_end = to_date(calibration_end, "calibration_end")
    obs_end = to_date(observation_end, "observation_end")
    if obs_end <= cal_end:
        raise ValueError(f"observation_end ({obs_end}) must be after calibration_end ({cal_end})")
    collapse_ = collapse or ("unit" if unit == "M" else "day")
    p = _prepared(transactions, obs_end, engine, "transactions")
    tx, kind, scale, has_profit = p.tx, p.kind, p.checked.scale, p.has_profit
    cal = rules.summary(
        rules.orders(tx, cal_end, scale), cal_end, unit, collapse_, scale, has_profit
    )
    hold = rules.holdout(rules.orders(tx, obs_end, scale), cal_end, unit, collapse_, scale)
    # the cast only names the type ("D", "W" or "M"; the signature says str)
    duration = pl.select(elapsed(pl.lit(cal_end), obs_end, cast(Unit, unit))).item()
    out = (
        cal.join(hold, on=schema.CUSTOMER_ID, how="left")
        .with_columns(
            nw.col("frequency_holdout").fill_null(0),
            nw.col("monetary_value_holdout").fill_null(0.0),
            nw.lit(duration, dtype=nw.Float64).alias("duration_holdout"),
        )
    )
    return _give_back(out, kind, [schema.CUSTOMER_ID])
