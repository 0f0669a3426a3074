"""The engine-neutral definitions through a Spark Connect client (the code path of Databricks
and other Connect clusters): the same results as the Polars path, bit for bit.

The job runs in its own process (tests/spark_connect_job.py) against a local Spark Connect
server started by PySpark; marked ``spark`` like tests/test_engines_spark.py and run in
``.ci/run`` (about two minutes: a second JVM and gRPC round trips).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from engine_parity import require_spark

pytestmark = [pytest.mark.spark, pytest.mark.slow]

HERE = Path(__file__).resolve().parent


def test_cdnow_and_a_random_log_through_spark_connect(repo_root: Path) -> None:
    require_spark("grpc")  # pyspark's Spark Connect client needs grpcio
    cdnow = repo_root / "sample_data" / "cdnow" / "CDNOW_sample.txt"
    done = subprocess.run(
        [sys.executable, str(HERE / "spark_connect_job.py"), str(cdnow)],
        capture_output=True, text=True, timeout=1200, cwd=repo_root,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-4000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    # a Connect client session, not classic PySpark, and recognised as the Spark engine
    assert result["session"] == "pyspark.sql.connect.session"
    assert result["detected_engine"] == "spark"
    # the BTYD reference figures of CDNOW (Fader, Hardie & Lee 2005)
    assert (result["customers"], result["repeat"], result["holdout"]) == (2357, 2457, 1882)
