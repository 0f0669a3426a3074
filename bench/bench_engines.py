"""Benchmark: the same job on every engine (load + customer summary + RFM scores).

Usage::

    python bench/bench_engines.py [--rows 10000000] [--customers 3600000] [--repeat 3]
        [--engines kernel,no-kernel,polars,duckdb,spark,lifetimes]
    python bench/bench_engines.py --out-of-core --rows 100000000 --customers 36000000 \\
        --engines duckdb,polars-streaming,spark --repeat 1

Contestants, each run in a fresh process (imports not timed), ``--repeat`` times (best and
median shown):

* ``kernel``: the library's Polars path (``read_transactions`` + ``customer_summary`` with the
  compiled scan + ``rfm_scores``);
* ``no-kernel``: the same with the compiled library switched off (the exact Polars fallback);
* ``polars``: the engine-neutral definition (:mod:`workbench.engines`) on Polars, lazy scan;
* ``polars-streaming``: the same, intermediate tables spilled to Parquet (out of core);
* ``duckdb``: the engine-neutral definition on DuckDB (``memory_limit`` 4 GB, spills to disk);
* ``spark``: the same on a local Spark session (``local[2]``, 3 GB driver);
* ``lifetimes``: pandas ``read_csv`` + ``summary_data_from_transaction_data``.

With ``--out-of-core`` the log is a folder of Parquet files (generated in parts) and the job
goes on to a CLV table (fits on the distinct histories, scores joined back) written to Parquet
by the engine.  Peak memory is the peak resident set of the process *and its children* (the
Spark JVM), sampled every 0.1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA_DIR, Timer, benchmark_log, code_hash, run_child  # noqa: E402

AS_OF = "2026-06-30"
CONTESTANTS = ("kernel", "no-kernel", "polars", "duckdb", "spark", "lifetimes")


class TreeMemory:
    """Peak resident memory of this process and its children, sampled on a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                for p in [self._proc, *self._proc.children(recursive=True)]:
                    total += p.memory_info().rss
            except Exception:  # a child that just ended
                pass
            self.peak = max(self.peak, total)
            time.sleep(interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def parquet_log(rows: int, customers: int, parts: int = 10, seed: int = 7) -> Path:
    """A folder of ``parts`` Parquet files with ``rows`` rows and ``customers`` customers in
    all (each part its own customers), generated once per version of the generator's code and
    of this function (both hashes are part of the folder's name)."""
    import hashlib
    import inspect

    own = hashlib.sha256(inspect.getsource(parquet_log).encode()).hexdigest()[:8]
    folder = DATA_DIR / (f"parquet_{rows}_{customers}_{seed}_{code_hash('app/sample_data.py')}"
                         f"_{own}")
    if (folder / "_done").exists():
        return folder
    import polars as pl

    from workbench.app.sample_data import generate_benchmark_transactions

    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i in range(parts):
        part = generate_benchmark_transactions(
            n_rows=rows // parts, n_customers=customers // parts, seed=seed + i
        )
        # each part its own customers: ids made unique per part
        part = part.with_columns(
            pl.format("P{}-{}", pl.lit(i), pl.col("customer_id")).alias("customer_id")
        )
        part.write_parquet(folder / f"part-{i:03d}.parquet")
        del part
    found = (pl.scan_parquet(folder / "*.parquet")
             .select(pl.len(), pl.col("customer_id").n_unique()).collect().row(0))
    if found != (rows, customers) or pl.read_parquet_schema(folder / "part-000.parquet").names() \
            != ["customer_id", "order_date", "amount"]:
        raise RuntimeError(f"{folder.name}: {found[0]:,} rows and {found[1]:,} customers "
                           f"generated, not {rows:,} and {customers:,}")
    (folder / "_done").write_text("")
    print(f"generated {folder.name} in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def _engine_job(name: str, source: str, timer: Timer, clv: bool, out: Path | None) -> dict:
    from workbench import engines
    from workbench.engines import clv_scoring, scoring
    from workbench.engines.frames import Engine

    if name == "duckdb":
        import duckdb

        con = duckdb.connect(config={"memory_limit": "4GB", "temp_directory": "/tmp/wb-duckdb"})
        engine = Engine("duckdb", connection=con)
    elif name == "spark":
        from pyspark.sql import SparkSession

        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "3g")
            .config("spark.sql.shuffle.partitions", "16")
            .getOrCreate()
        )
        spark.range(1).count()  # the JVM's start is not the job
        engine = Engine("spark", spark=spark)
    else:
        engine = Engine("polars", spill=name == "polars-streaming")
    data = source
    if not clv and name in ("polars", "duckdb"):  # in memory / a table, as the others load
        with timer.step("load"):
            data = engine.persist(engine.read(source)).to_native()
    with timer.step("summary"):
        frame, engine, _, _ = engines.summary_frame(data, AS_OF, "W", engine=engine)
        frame = engine.persist(frame)
    with timer.step("rfm"):
        scores = engine.persist(scoring.rfm_scores(frame))
    import narwhals as nw

    result = {"customers": scores.select(nw.len()).collect("polars").item()}
    if clv:
        with timer.step("clv"):
            fitted = clv_scoring.score_clv(frame, engine, margin=0.3)
            native = fitted.table.to_native()
            target = str(out)
            if name == "duckdb":
                native.to_parquet(target)
            elif name == "spark":
                native.write.mode("overwrite").parquet(target)
            else:
                native.sink_parquet(target)
        result["histories"] = fitted.histories
    engine.release()
    return result


def run_contestant(name: str, source: str, clv: bool) -> None:
    memory = TreeMemory()
    timer = Timer()
    result: dict = {}
    if name in ("kernel", "no-kernel"):
        if name == "no-kernel":
            from workbench.native import customer_scan, kernels, sorting

            kernels.LIBRARY = customer_scan.LIBRARY = sorting.LIBRARY = None
            import workbench.core.io.readers as readers

            readers.text_needs_cleaning = lambda s: True
        from workbench.analyses.rfm import rfm_scores
        from workbench.core.io import read_transactions
        from workbench.core.summary import customer_summary

        with timer.step("load"):
            tx = read_transactions(source)
        with timer.step("summary"):
            summary = customer_summary(tx, as_of=AS_OF, unit="W")
        with timer.step("rfm"):
            rfm_scores(summary)
        result["customers"] = summary.height
    elif name == "lifetimes":
        import pandas as pd
        from lifetimes.utils import summary_data_from_transaction_data

        with timer.step("load"):
            tx = pd.read_csv(source, dtype={"customer_id": str}, parse_dates=["order_date"])
        with timer.step("summary"):
            summary = summary_data_from_transaction_data(
                tx, "customer_id", "order_date", monetary_value_col="amount",
                observation_period_end=AS_OF, freq="D",
            )
        result["customers"] = len(summary)
    else:
        # beside the input folder, never inside it: a glob over the folder would read it back
        folder = Path(source).parent
        out = folder.parent / f"{folder.name}_clv_{name}.parquet"
        result.update(_engine_job(name, source, timer, clv, out))
    result["steps"] = timer.steps
    result["peak_mib"] = memory.stop()
    print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=3_600_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default=",".join(CONTESTANTS))
    parser.add_argument("--out-of-core", action="store_true",
                        help="Parquet folder input, job to a CLV table written by the engine")
    parser.add_argument("--contestant", help="internal: run one contestant in this process")
    parser.add_argument("--data", help="internal: the contestant's input")
    parser.add_argument("--clv", action="store_true", help="internal")
    args = parser.parse_args()
    if args.contestant:
        run_contestant(args.contestant, args.data, args.clv)
        return
    if args.out_of_core:
        source = str(parquet_log(args.rows, args.customers) / "*.parquet")
    else:
        source = str(benchmark_log(args.rows, args.customers))
    print(f"{args.rows:,} rows, {args.customers:,} customers: {source}", flush=True)
    table = {}
    for name in args.engines.split(","):
        runs = []
        for _ in range(args.repeat):
            extra = ["--clv"] if args.out_of_core else []
            load_before = os.getloadavg()[0]
            r = run_child(__file__, "--contestant", name, "--data", source, *extra,
                          timeout=4 * 3600)
            if r is not None:
                runs.append(r)
                total = sum(r["steps"].values())
                steps = ", ".join(f"{k} {v:.2f} s" for k, v in r["steps"].items())
                print(f"  {name:17s} {total:7.2f} s ({steps}), peak {r['peak_mib']:,.0f} MiB"
                      f" (load average {load_before:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
        if runs:
            totals = sorted(sum(r["steps"].values()) for r in runs)
            table[name] = (totals[0], statistics.median(totals),
                           max(r["peak_mib"] for r in runs))
    base = table.get("kernel") or next(iter(table.values()), None)
    print("\ncontestant         best      median    peak MiB   best/kernel")
    for name, (best, median, peak) in table.items():
        ratio = f"{best / base[0]:.2f}x" if base else ""
        print(f"{name:17s} {best:7.2f} s {median:7.2f} s {peak:9,.0f}   {ratio}")


if __name__ == "__main__":
    main()
