"""Benchmark: the three report notebooks on the sample data, as ``workbench report`` runs them.

Each round runs ``workbench report`` (all three notebooks, HTML export included) in a fresh
process into a new folder and times it from the outside; the per-notebook times come from the
run's ``summary.json``.  Prints every round, then the best and median of the rounds, the load
average before and after, and the versions.  The goal (issue 11): all three together within
30 s on the sample data on a quiet 2-core machine.

    .venv/bin/python bench/bench_reports.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_round(out: Path) -> tuple[float, dict[str, float]]:
    """Wall seconds of one ``workbench report`` and the seconds of each notebook."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "report", "--out", str(out), "--no-progress"],
        capture_output=True, text=True, cwd=ROOT,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"workbench report failed (exit {proc.returncode}):\n{proc.stderr}")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return wall, {name: float(v) for name, v in summary["timing"]["seconds"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    walls: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        for i in range(args.rounds):
            wall, per = one_round(Path(tmp) / f"round{i}")
            walls.append(wall)
            each = ", ".join(f"{k} {v:.1f} s" for k, v in per.items())
            print(f"round {i + 1}: {wall:.1f} s ({each})", flush=True)
    load_after = os.getloadavg()
    print(f"\nthree reports: best {min(walls):.1f} s, median {statistics.median(walls):.1f} s "
          f"over {args.rounds} rounds (target 30 s)")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}; "
          f"{os.cpu_count()} cores; Python {platform.python_version()}")


if __name__ == "__main__":
    main()
