"""Engines: reading inputs, materialising intermediate tables and moving small tables.

The definitions in :mod:`workbench.engines.rules` are lazy Narwhals expressions that run on any
of the supported engines.  What differs between engines is only *where the data live*:

* how an input is opened (files, globs of Parquet/CSV, a table of the engine);
* how a result that is read several times is materialised (a Polars frame in memory or a
  spilled Parquet file, a DuckDB temporary table, a Spark ``localCheckpoint``);
* how a small table computed on the driver (scores of the distinct histories, RFM thresholds)
  is put back on the engine to be joined (a Spark broadcast join).

An :class:`Engine` holds that, plus the engine's handle (a DuckDB connection, a Spark
session).  :func:`engine_for` finds the engine of a native frame, so a function given a Polars,
DuckDB or PySpark frame returns the same kind.
"""

from __future__ import annotations

import glob as _glob
import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import narwhals as nw
import polars as pl
from narwhals.typing import IntoDType

from workbench.core import schema

EngineName = Literal["polars", "duckdb", "spark"]
#: Engines users can pick (``--engine``); Ibis, SQLFrame and Spark Connect frames also work
#: when passed in Python (Narwhals runs the same expressions on them).
ENGINES: tuple[EngineName, ...] = ("polars", "duckdb", "spark")

#: Types of the known columns when read from CSV (everything else stays text).
CSV_TYPES: dict[str, str] = {
    schema.CUSTOMER_ID: "string",
    schema.ORDER_DATE: "date",
    schema.AMOUNT: "double",
    schema.ORDER_ID: "string",
    schema.MARGIN: "double",
    schema.COST: "double",
}
_counter = itertools.count()


def _is_file_source(source: str | Path) -> bool:
    text = str(source)
    return (
        isinstance(source, Path)
        or any(ch in text for ch in "*?[")
        or Path(text).suffix.lower() in (".parquet", ".pq", ".csv", ".tsv")
        or Path(text).exists()
    )


def _file_format(source: str) -> str:
    suffix = Path(source.rstrip("/*")).suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".parquet", ".pq", ""):
        return "parquet"
    raise ValueError(f"{source}: unknown file type {suffix!r} (use Parquet or CSV)")


#: Input rows per customer-hash bucket of a spilled Polars summary (:attr:`Engine.buckets`):
#: the 100M-row benchmark log (36M customers) then runs in 8 passes within 6 GB.
ROWS_PER_BUCKET = 12_500_000

#: Largest table :meth:`Engine.small` asks Spark to broadcast (bytes, Polars' estimate): 64 MiB,
#: about 1.4 million scored histories of six Float64 columns.
BROADCAST_LIMIT_BYTES = 64 * 2**20


@dataclass
class Engine:
    """One engine and its handle.

    Attributes
    ----------
    name
        ``"polars"``, ``"duckdb"`` or ``"spark"``.
    connection
        The DuckDB connection (DuckDB only; default: a new in-memory database).
    spark
        The Spark session (Spark only; default: the active session, else ``local[*]``).
    spill
        Polars only: materialise intermediate tables as Parquet files in a temporary folder
        and scan them (out of core) instead of keeping them in memory.
    buckets
        Polars with ``spill`` only: compute the customer summary in this many passes, each
        over the customers of one hash bucket of ``customer_id``, so that the group-bys hold
        only a share of the customers in memory.  ``None`` (the default) picks one bucket per
        :data:`ROWS_PER_BUCKET` input rows.  Every rule works within one customer, so the
        result does not depend on the number of buckets.
    """

    name: str
    connection: Any = None
    spark: Any = None
    spill: bool = False
    buckets: int | None = None
    _folder: Any = field(default=None, repr=False)
    _tables: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.name!r}")
        if self.name == "duckdb" and self.connection is None:
            import duckdb

            self.connection = duckdb.connect()
        if self.name == "spark" and self.spark is None:
            self.spark = local_spark()

    # ------------------------------------------------------------------------------- inputs
    def read(self, source: str | Path) -> nw.LazyFrame:
        """Open ``source`` lazily: a file, a folder or glob of Parquet/CSV, or a table name.

        CSV columns are typed as the data contract says (:data:`CSV_TYPES`); Parquet keeps
        its own types.  A table name is looked up on the engine (DuckDB, Spark).
        """
        text = str(source)
        if not _is_file_source(source):
            if self.name == "polars":
                raise ValueError(f"{text!r} is not a file or glob; Polars has no tables")
            native = (
                self.connection.table(text) if self.name == "duckdb" else self.spark.table(text)
            )
            return nw.from_native(native)
        if not any(ch in text for ch in "*?[") and not Path(text).exists():
            raise FileNotFoundError(text)
        if any(ch in text for ch in "*?[") and not _glob.glob(text) and "://" not in text:
            raise FileNotFoundError(f"no file matches {text}")
        fmt = _file_format(text)
        if self.name == "polars":
            if fmt == "parquet":
                path = f"{text.rstrip('/')}/**/*.parquet" if Path(text).is_dir() else text
                return nw.from_native(pl.scan_parquet(path))
            types = {"string": pl.String, "date": pl.Date, "double": pl.Float64}
            lf = pl.scan_csv(
                text,
                infer_schema=False,
                separator="\t" if text.endswith(".tsv") else ",",
            )
            names = lf.collect_schema().names()
            return nw.from_native(
                lf.with_columns(
                    pl.col(c).str.to_date() if t == "date" else pl.col(c).cast(types[t])
                    for c, t in CSV_TYPES.items()
                    if c in names
                )
            )
        if self.name == "duckdb":
            if fmt == "parquet":
                path = f"{text.rstrip('/')}/**/*.parquet" if Path(text).is_dir() else text
                return nw.from_native(self.connection.read_parquet(path))
            rel = self.connection.read_csv(text, header=True, all_varchar=True)
            return nw.from_native(rel).with_columns(*_typed(rel.columns))
        reader = self.spark.read
        if fmt == "parquet":
            return nw.from_native(reader.parquet(text))
        frame = reader.option("header", True).option(
            "sep", "\t" if text.endswith(".tsv") else ","
        ).csv(text)
        return nw.from_native(frame).with_columns(*_typed(frame.columns))

    def frame(self, native: Any) -> nw.LazyFrame:
        """A native frame of this engine (or a Polars frame, moved onto it) as Narwhals."""
        if isinstance(native, pl.DataFrame):
            return self.small(native)
        if isinstance(native, nw.DataFrame | nw.LazyFrame):
            return native.lazy()
        return nw.from_native(native).lazy()

    # --------------------------------------------------------------------- materialising
    def persist(self, frame: nw.LazyFrame) -> nw.LazyFrame:
        """Compute ``frame`` once and return a frame that reads the result.

        Used for tables read several times (the customer summary before scoring).
        """
        native = frame.to_native()
        if self.name == "polars":
            if not self.spill:
                return nw.from_native(native.collect().lazy())
            if self._folder is None:
                self._folder = tempfile.TemporaryDirectory(prefix="workbench-")
            path = Path(self._folder.name) / f"t{next(_counter)}.parquet"
            native.sink_parquet(path)
            return nw.from_native(pl.scan_parquet(path))
        if self.name == "duckdb":
            name = f"_workbench_{next(_counter)}"
            native.to_table(name)
            self._tables.append(name)
            return nw.from_native(native.query("_src", f"select * from {name}"))
        return nw.from_native(native.localCheckpoint(eager=True))

    def small(self, table: pl.DataFrame, *, broadcast: bool = True) -> nw.LazyFrame:
        """A Polars table put on the engine, to be joined (a broadcast hint on Spark).

        The hint is given only to a table of at most :data:`BROADCAST_LIMIT_BYTES`: every task
        of a broadcast join holds the whole table as a hash map, and the scored distinct
        histories of tens of millions of customers (several million rows) overran a 3 GB local
        driver that way; a larger table is left to Spark's own choice (a sort-merge join).
        Also the way tests and notebooks move a Polars frame onto an engine
        (``broadcast=False``).
        """
        if self.name == "polars":
            return nw.from_native(table.lazy())
        import polars.selectors as cs

        # Spark has no unsigned integers
        table = table.with_columns(cs.unsigned_integer().cast(pl.Int64))
        arrow = table.to_arrow(compat_level=pl.CompatLevel.oldest())
        if self.name == "duckdb":
            return nw.from_native(self.connection.from_arrow(arrow))
        frame = self.spark.createDataFrame(arrow)
        # the frame's own hint (= functions.broadcast): classic or Connect, whichever it is,
        # also in a process that runs both (a classic session serving Connect)
        hint = broadcast and table.estimated_size() <= BROADCAST_LIMIT_BYTES
        return nw.from_native(frame.hint("broadcast") if hint else frame)

    def release(self) -> None:
        """Drop the temporary tables and files of :meth:`persist`."""
        for name in self._tables:
            self.connection.execute(f"drop table if exists {name}")
        self._tables.clear()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


_NW_TYPES: dict[str, IntoDType] = {"string": nw.String, "date": nw.Date, "double": nw.Float64}


def _typed(columns: list[str]) -> list[nw.Expr]:
    """Casts of the known text columns of a CSV read as text."""
    out = []
    for c, t in CSV_TYPES.items():
        if c not in columns:
            continue
        out.append(nw.col(c).cast(_NW_TYPES[t]))
    return out


def local_spark(master: str = "local[2]", shuffle_partitions: int = 8) -> Any:
    """The active Spark session, else a local one (no UI, few shuffle partitions).

    Examples
    --------
    >>> # starts a JVM (Java 17, several seconds): not run here
    >>> spark = local_spark()  # doctest: +SKIP
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return (
        SparkSession.builder.master(master)
        .appName("workbench")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def engine_for(native: Any, engine: Engine | None = None) -> Engine:
    """The engine of a native frame (Polars, DuckDB, PySpark), or ``engine`` when given.

    Examples
    --------
    >>> import polars as pl
    >>> engine_for(pl.LazyFrame({"a": [1]})).name
    'polars'
    """
    if engine is not None:
        return engine
    if isinstance(native, pl.DataFrame | pl.LazyFrame):
        return Engine("polars")
    frame = native if isinstance(native, nw.DataFrame | nw.LazyFrame) else nw.from_native(native)
    impl = frame.implementation
    if impl.is_polars():
        return Engine("polars")
    if impl.is_duckdb():
        return Engine("duckdb", connection=_duckdb_connection(frame.to_native()))
    if impl.is_pyspark() or impl.is_pyspark_connect():
        return Engine("spark", spark=frame.to_native().sparkSession)
    raise TypeError(f"unsupported engine {impl}: use Polars, DuckDB or PySpark")


def _duckdb_connection(relation: Any) -> Any:
    """The connection of a DuckDB relation (tables made for it must live there)."""
    con = getattr(relation, "_con", None)
    if con is None:
        import duckdb

        con = duckdb.default_connection()
    return con
