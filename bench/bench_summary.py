"""Benchmark: load + customer summary + RFM scoring on a 10-million-row transaction log.

Usage::

    python bench/bench_summary.py [--rows 10000000] [--customers 3600000]

Prints, for the workbench and (where installed) ``lifetimes``'
``summary_data_from_transaction_data``
on the same CSV in the same run: wall time per step, rows per second and peak resident memory,
then the ratios.  Each contestant runs in its own process.  Targets (issue 2): at least 10x
faster than lifetimes and lower peak memory.
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
    run_child,
)

AS_OF = "2026-06-30"


def run_workbench(path: str) -> None:
    from workbench.io import read_transactions
    from workbench.rfm import rfm_segments
    from workbench.summary import customer_summary

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
    args = parse_arguments(__doc__.splitlines()[0])
    if args.contestant == "workbench":
        return run_workbench(args.data)
    if args.contestant == "lifetimes":
        return run_lifetimes(args.data)

    path = benchmark_log(args.rows, args.customers)
    print(f"data: {path} ({path.stat().st_size / 2**20:.0f} MiB CSV)")
    results = {"workbench": run_child(__file__, "--contestant", "workbench", "--data", str(path))}
    if lifetimes_available():
        results["lifetimes"] = run_child(__file__, "--contestant", "lifetimes", "--data", str(path))
    else:
        print("lifetimes not installed: no peer comparison (pip install '.[bench]')")
    for name, r in results.items():
        if r is None:
            continue
        total = sum(r["steps"].values())
        steps = ", ".join(f"{k} {v:.2f} s" for k, v in r["steps"].items())
        print(
            f"{name:<10} rows {r['rows']:,}  customers {r['customers']:,}  total {total:.2f} s "
            f"({steps})  {r['rows'] / total:,.0f} rows/s  peak RSS {r['peak_rss_mib']:,.0f} MiB"
        )
    wb, lt = results.get("workbench"), results.get("lifetimes")
    if wb and lt:
        wb_total = sum(wb["steps"].values())
        lt_total = sum(lt["steps"].values())
        wb_core = wb["steps"]["load"] + wb["steps"]["summary"]
        print(f"speed-up load+summary+RFM vs lifetimes load+summary: {lt_total / wb_total:.1f}x")
        print(
            f"speed-up load+summary only: {lt_total / wb_core:.1f}x; "
            f"summary step only: {lt['steps']['summary'] / wb['steps']['summary']:.1f}x"
        )
        print(
            f"peak memory: workbench {wb['peak_rss_mib']:,.0f} MiB vs lifetimes "
            f"{lt['peak_rss_mib']:,.0f} MiB ({wb['peak_rss_mib'] / lt['peak_rss_mib']:.2f}x)"
        )


if __name__ == "__main__":
    main()
