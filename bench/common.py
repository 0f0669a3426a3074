"""Shared helpers of the benchmarks: cached data, child processes, peak memory.

Every contestant runs in its own child process so that its peak resident memory
(``ru_maxrss``) is its own; the parent prints the figures and the ratios.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def benchmark_log(rows: int, customers: int, seed: int = 7) -> Path:
    """Path of the cached benchmark transaction log (CSV), generated on first use."""
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"transactions_{rows}_{customers}_{seed}.csv"
    if not path.exists():
        from workbench.sample_data import write_benchmark_transactions

        t0 = time.perf_counter()
        write_benchmark_transactions(path, n_rows=rows, n_customers=customers, seed=seed)
        print(f"generated {path.name} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


class Timer:
    """Collects named wall-clock steps."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    @contextmanager
    def step(self, name: str):
        t0 = time.perf_counter()
        yield
        self.steps[name] = time.perf_counter() - t0


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_child(result: dict) -> None:
    """Print the child's result as the last line, as JSON."""
    result["peak_rss_mib"] = peak_rss_mib()
    print("RESULT " + json.dumps(result), flush=True)


def run_child(script: str, *args: str, timeout: float = 3600) -> dict | None:
    """Run ``python script args...`` and return its RESULT dict (None if it failed)."""
    proc = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, timeout=timeout
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return None


def lifetimes_available() -> bool:
    try:
        import lifetimes  # noqa: F401
    except ImportError:
        return False
    return True


def parse_arguments(description: str):
    """The options every benchmark takes: log size, and the child-process contestant mode."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=3_600_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh processes per contestant; the best and the median are shown")
    parser.add_argument("--contestant", choices=["workbench", "lifetimes"],
                        help="internal: run one contestant in this process")
    parser.add_argument("--data", help="internal: the contestant's input file")
    return parser.parse_args()


def run_repeated(script: str, contestant: str, data: Path, repeat: int) -> list[dict]:
    """``repeat`` runs of one contestant, each in a fresh process (failed runs left out)."""
    runs = []
    for _ in range(repeat):
        result = run_child(script, "--contestant", contestant, "--data", str(data))
        if result is not None:
            runs.append(result)
    return runs


def total_seconds(run: dict) -> float:
    return sum(run["steps"].values())
