"""Benchmark: load + customer summary + RFM scoring on a 10-million-row transaction log.

Usage::

    python bench/bench_summary.py [--rows 10000000] [--customers 3600000] [--repeat 3]

Prints, for the workbench and (where installed) ``lifetimes``'
``summary_data_from_transaction_data`` on the same CSV in the same run: wall time per step, rows
per second and peak resident memory, then the ratios.  Each run of a contestant is a fresh
process (imports are not timed, for either); each contestant runs ``--repeat`` times, and the
ratios compare the best runs and the median runs (the machines are shared and noisy: the best
run is the one least disturbed).  Both contestants run on the log as generated (sorted by date,
which lets a summary skip its sort) and on a shuffled copy of it (same rows, random order, made
once and cached beside the log): ``--order sorted``, ``shuffled`` or ``both`` (default).
Targets (issue 2): at least 10x faster than lifetimes and lower peak memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Timer,
    benchmark_log,
    lifetimes_available,
    parse_arguments,
    report_child,
    run_repeated,
    shuffled_copy,
    total_seconds,
)

AS_OF = "2026-06-30"


def run_workbench(path: str) -> None:
    from workbench.analyses.rfm import rfm_segments
    from workbench.core.io import read_transactions
    from workbench.core.summary import customer_summary

    timer = Timer()
    with timer.step("load"):
        tx = read_transactions(path)
    with timer.step("summary"):
        summary = customer_summary(tx, as_of=AS_OF, unit="W")
    with timer.step("rfm"):
        segments = rfm_segments(summary)
    report_child(
        {
            "rows": tx.height,
            "customers": summary.height,
            "segments": segments["segment"].n_unique(),
            "steps": timer.steps,
        }
    )


def run_lifetimes(path: str) -> None:
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    timer = Timer()
    with timer.step("load"):
        tx = pd.read_csv(
            path,
            usecols=["customer_id", "order_date", "amount"],
            dtype={"customer_id": str},
            parse_dates=["order_date"],
        )
    with timer.step("summary"):
        summary = summary_data_from_transaction_data(
            tx,
            "customer_id",
            "order_date",
            monetary_value_col="amount",
            observation_period_end=AS_OF,
            freq="D",
        )
    report_child({"rows": len(tx), "customers": len(summary), "steps": timer.steps})


def main() -> None:
    order = "both"
    if "--order" in sys.argv:
        at = sys.argv.index("--order")
        order = sys.argv[at + 1]
        del sys.argv[at : at + 2]
    args = parse_arguments(__doc__.splitlines()[0])
    if args.contestant == "workbench":
        return run_workbench(args.data)
    if args.contestant == "lifetimes":
        return run_lifetimes(args.data)

    path = benchmark_log(args.rows, args.customers)
    inputs = {"sorted": path, "shuffled": None}
    if order in ("shuffled", "both"):
        inputs["shuffled"] = shuffled_copy(path)
    for name, data in inputs.items():
        if data is not None and order in (name, "both"):
            compare(data, args.repeat, f"input {name} by date" if name == "sorted"
                    else "input shuffled")


def compare(path: Path, repeat: int, condition: str) -> None:
    """Both contestants on one input file; prints runs and ratios."""
    print(f"\ndata: {path.name} ({path.stat().st_size / 2**20:.0f} MiB CSV), {repeat} runs "
          f"each, {condition}")
    args = type("Args", (), {"repeat": repeat})()
    results = {"workbench": run_repeated(__file__, "workbench", path, args.repeat)}
    if lifetimes_available():
        results["lifetimes"] = run_repeated(__file__, "lifetimes", path, args.repeat)
    else:
        print("lifetimes not installed: no peer comparison (pip install '.[bench]')")
    best, median = {}, {}
    for name, runs in results.items():
        if not runs:
            continue
        ordered = sorted(runs, key=total_seconds)
        best[name], median[name] = ordered[0], ordered[(len(ordered) - 1) // 2]
        for label, r in (("best", best[name]), ("median", median[name])):
            total = total_seconds(r)
            steps = ", ".join(f"{k} {v:.2f} s" for k, v in r["steps"].items())
            print(
                f"{name:<10} {label:<6} rows {r['rows']:,}  customers {r['customers']:,}  "
                f"total {total:.2f} s ({steps})  {r['rows'] / total:,.0f} rows/s  "
                f"peak RSS {r['peak_rss_mib']:,.0f} MiB"
            )
    if "workbench" in best and "lifetimes" in best:
        for label, runs in (("best", best), ("median", median)):
            wb, lt = runs["workbench"], runs["lifetimes"]
            print(
                f"speed-up ({label} runs) load+summary+RFM vs lifetimes load+summary: "
                f"{total_seconds(lt) / total_seconds(wb):.1f}x; summary step alone: "
                f"{lt['steps']['summary'] / wb['steps']['summary']:.1f}x"
            )
        peak_wb = max(r["peak_rss_mib"] for r in results["workbench"])
        peak_lt = min(r["peak_rss_mib"] for r in results["lifetimes"])
        print(
            f"peak memory (highest workbench run vs lowest lifetimes run): {peak_wb:,.0f} MiB "
            f"vs {peak_lt:,.0f} MiB ({peak_wb / peak_lt:.2f}x)"
        )


if __name__ == "__main__":
    main()
