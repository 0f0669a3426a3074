"""Shared helpers of the benchmarks: cached data, child processes, peak memory.

Every contestant runs in its own child process so that its peak resident memory
(``ru_maxrss``) is its own; the parent prints the figures and the ratios.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


ROOT = Path(__file__).resolve().parents[1]


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def code_hash(*patterns: str) -> str:
    """Hash of the workbench's source files matching ``patterns`` (its code version): their
    names and contents, not their folders, so that moving a module keeps its data caches."""
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted((ROOT / "workbench").glob(pattern)):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def benchmark_log(rows: int, customers: int, seed: int = 7) -> Path:
    """Path of the cached benchmark transaction log (CSV), keyed by its generator's code: made
    on first use, and made again (to a temporary file moved into place) when
    ``workbench/app/sample_data.py`` changed since; the code hash is kept in ``<log>.key``."""
    DATA_DIR.mkdir(exist_ok=True)
    key = code_hash("app/sample_data.py")
    path = DATA_DIR / f"transactions_{rows}_{customers}_{seed}.csv"
    sidecar = path.with_name(path.name + ".key")
    if path.exists() and sidecar.exists() and sidecar.read_text().strip() == key:
        return path
    from workbench.app.sample_data import write_benchmark_transactions

    if path.exists():
        print(f"{path.name}: made by other or unrecorded generator code; generating it again")
    t0 = time.perf_counter()
    tmp = path.with_name(f"tmp{os.getpid()}_{path.name}")
    write_benchmark_transactions(tmp, n_rows=rows, n_customers=customers, seed=seed)
    tmp.replace(path)
    sidecar.write_text(key + "\n")
    print(f"generated {path.name} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def shuffled_copy(path: Path, seed: int = 1) -> Path:
    """The log with its rows in a random order, keyed by the log's content hash, the seed and
    the Polars version (which defines the permutation); made once, beside the log."""
    import polars as pl

    content = sha256_file(path)
    out = path.with_name(f"shuffled_{content[:16]}_seed{seed}_polars{pl.__version__}.csv")
    if not out.exists():
        frame = pl.read_csv(path, infer_schema=False)
        tmp = out.with_suffix(".tmp")
        frame.sample(fraction=1.0, shuffle=True, seed=seed).write_csv(tmp)
        tmp.replace(out)
    return out


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
    for i in range(repeat):
        before = os.getloadavg()[0]
        result = run_child(script, "--contestant", contestant, "--data", str(data))
        after = os.getloadavg()[0]
        if result is not None:
            result["load_average"] = [before, after]
            runs.append(result)
            print(f"  {contestant} run {i + 1}: {total_seconds(result):.2f} s "
                  f"(load average {before:.1f} -> {after:.1f})", flush=True)
    return runs


def total_seconds(run: dict) -> float:
    return sum(run["steps"].values())
