"""The engine parity checks through Spark Connect, run by tests/test_engines_spark_connect.py in
its own process (a Connect client and a classic Spark session do not share one process).

A local Spark session with the Spark Connect plugin (the ``spark-connect`` jar that ships with
PySpark) serves Connect on a free loopback port, and ``SparkSession.builder.remote`` returns a
Connect client of it: every DataFrame call then goes over gRPC, as it does against Databricks or
any Connect cluster, so a call that exists only in classic PySpark (``sparkContext``, RDDs,
``_jvm``) fails here.  (``remote("local[2]")`` would do the same on the fixed port 15002, which
fails while another Spark Connect server runs on the machine.)

Prints one line ``RESULT {json}`` with the CDNOW figures.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(cdnow_path: str) -> None:
    warnings.simplefilter("ignore", FutureWarning)  # PySpark's note on pandas 3
    started = time.perf_counter()
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    from workbench.app.serve import free_port

    sys.path.insert(0, str(HERE))
    port = free_port()
    server_conf = SparkConf().setMaster("local[2]").setAll([
        ("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin"),
        ("spark.connect.grpc.binding.address", "127.0.0.1"),
        ("spark.connect.grpc.binding.port", str(port)),
        ("spark.sql.shuffle.partitions", "2"),
        ("spark.sql.session.timeZone", "UTC"),
        ("spark.ui.enabled", "false"),
    ])
    server = SparkSession(SparkContext.getOrCreate(server_conf))  # classic, serves Connect
    # the Connect client's own builder: the classic one refuses while a classic session runs
    spark = ConnectSession.builder.remote(f"sc://127.0.0.1:{port}").getOrCreate()
    from engine_parity import check_parity, random_log

    from workbench.core.io import read_cdnow
    from workbench.engines.frames import Engine, engine_for

    engine = Engine("spark", spark=spark)
    session_kind = type(spark).__module__
    tx = read_cdnow(cdnow_path)
    figures = check_parity(engine, tx, "1997-09-30", "1998-06-30", units=("W",))
    # multi-line orders, returns, duplicates and missing order ids through the same client
    check_parity(engine, random_log(1), "2024-01-15", units=("W",), scores=False)
    detected = engine_for(engine.small(tx.head(3), broadcast=False).to_native()).name
    spark.stop()
    server.stop()
    print("RESULT " + json.dumps({
        "session": session_kind,
        "detected_engine": detected,
        "customers": figures["customers"],
        "repeat": figures["repeat"],
        "holdout": figures["holdout"],
        "seconds": round(time.perf_counter() - started, 1),
    }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
