"""Benchmark: from a 10-million-row transaction file to a CLV per customer.

Usage::

    python bench/bench_clv.py [--rows 10000000] [--customers 3600000] [--repeat 3]
                              [--order both|sorted|shuffled] [--peers lifetimes,pymc]
                              [--pymc-python .venv-pymc/bin/python]

The workbench contestant times the whole path in one process: load the CSV, build the weekly
customer summary, fit BG/NBD and Gamma-Gamma, and score every customer (expected purchases,
P(alive), expected spend, 12-month discounted CLV).  The peers fit the same two models on the very
same summary (read from a Parquet file the parent writes beforehand, untimed) and score P(alive)
and 52-week expected purchases:

* ``lifetimes`` (``BetaGeoFitter``, ``GammaGammaFitter``) with its own best configuration: one
  weighted row per distinct history through its ``weights=`` argument, the grouping timed as part
  of its fit, exactly as the workbench's is;
* ``pymc-marketing`` (``clv.BetaGeoModel``, ``clv.GammaGammaModel``) fitted with
  ``fit(data, method="map")`` (``pymc.find_MAP``, L-BFGS-B on the analytic gradient) under flat
  priors (``HalfFlat`` on every parameter), so that its estimate is the maximum-likelihood
  estimate the other two compute.  It has no weights: it fits one row per customer.
  pymc-marketing 1.3.0 needs Python >= 3.12 and the project's environment is 3.11, so it runs in
  its own environment, by default ``.venv-pymc`` at the repository root::

      python3.12 -m venv .venv-pymc && .venv-pymc/bin/pip install pymc-marketing==1.3.0 pyarrow

  Its fit time includes building the PyMC model and compiling it with PyTensor (PyTensor keeps
  compiled C modules in ``~/.pytensor`` between processes, so runs after the first reuse them).

Conditions: every contestant runs ``--repeat`` times (default 3), each run a fresh process
(imports are not timed); best and median runs are printed with the load average before and after
each run.  Both input orders run (``--order both``, the default): the log as generated (sorted by
date, which lets the summary skip a sort) and a shuffled copy (same rows, random order).  Every
cached file is keyed by content and code: the generated log by the hash of its generator's code
(regenerated when it changes), the shuffled copy by the log's content hash, the shuffle seed and
the Polars version, the peers' summary by the hash of the input's bytes and of the workbench's
code.  The versions of every package involved, the git commit and the thread-pool settings
(``OPENBLAS_NUM_THREADS`` etc.; on a loaded machine spinning BLAS threads slow the threaded
steps far more than single-threaded code) are printed.
Targets (issue 3): the BG/NBD fit at least 20x faster than lifetimes, and the whole path under
10 seconds on the 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    DATA_DIR,
    Timer,
    benchmark_log,
    code_hash,
    report_child,
    sha256_file,
    shuffled_copy,
)

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-06-30"
PEERS = ("lifetimes", "pymc")
PYMC_PYTHON = ROOT / ".venv-pymc" / "bin" / "python"
SHUFFLE_SEED = 1
#: Thread-pool settings that change the timings (a busy machine punishes spinning BLAS threads).
THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "POLARS_MAX_THREADS",
)


# ----------------------------------------------------------------------------- contestants


def _versions(*names: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "(not installed)"
    return out


def run_workbench(path: str) -> None:
    from workbench.core.io import read_transactions
    from workbench.core.summary import customer_summary
    from workbench.models.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value

    timer = Timer()
    with timer.step("load"):
        tx = read_transactions(path)
    with timer.step("summary"):
        summary = customer_summary(tx, as_of=AS_OF, unit="W", sort=False)
    with timer.step("fit_bgnbd"):
        bg = BetaGeoModel().fit(summary)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with timer.step("fit_gamma_gamma"):
            gg = GammaGammaModel().fit(summary)
        with timer.step("score_clv"):
            clv = customer_lifetime_value(summary, bg, gg, 12, margin=0.3, period="M")
    report_child(
        {
            "rows": tx.height,
            "customers": clv.height,
            "steps": timer.steps,
            "params": bg.params_,
            "gg_params": gg.params_,
            "total_clv": float(clv["clv"].sum()),
            "versions": _versions("polars", "numpy", "scipy"),
        }
    )


def run_lifetimes(summary_path: str) -> None:
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    summary = pd.read_parquet(summary_path)
    timer = Timer()
    with timer.step("fit_bgnbd"):
        # lifetimes' own best configuration: one weighted row per distinct history
        rows = summary.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
        bg = BetaGeoFitter(penalizer_coef=0.0).fit(
            rows["frequency"], rows["recency"], rows["T"], weights=rows["n"]
        )
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    with timer.step("fit_gamma_gamma"):
        spend = repeat.groupby(["frequency", "monetary_value"]).size().reset_index(name="n")
        gg = GammaGammaFitter(penalizer_coef=0.0).fit(
            spend["frequency"], spend["monetary_value"], weights=spend["n"]
        )
    with timer.step("score"):
        bg.conditional_expected_number_of_purchases_up_to_time(
            52, summary["frequency"], summary["recency"], summary["T"]
        )
        bg.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
    report_child(
        {
            "rows": len(summary),
            "customers": len(summary),
            "steps": timer.steps,
            "params": {k: float(v) for k, v in bg.params_.items()},
            "gg_params": {("gamma" if k == "v" else k): float(v) for k, v in gg.params_.items()},
            "distinct_histories": len(rows),
            "versions": _versions("lifetimes", "pandas", "numpy", "scipy", "autograd"),
        }
    )


def run_pymc(summary_path: str) -> None:
    import pandas as pd
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    summary = pd.read_parquet(summary_path)
    timer = Timer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with timer.step("fit_bgnbd"):
            # flat priors: the MAP estimate is the maximum-likelihood estimate
            bg = BetaGeoModel(model_config={k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")})
            bg.fit(
                summary[["customer_id", "frequency", "recency", "T"]],
                method="map",
                progressbar=False,
            )
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        with timer.step("fit_gamma_gamma"):
            gg = GammaGammaModel(model_config={k: Prior("HalfFlat") for k in ("p", "q", "v")})
            gg.fit(
                repeat[["customer_id", "frequency", "monetary_value"]],
                method="map",
                progressbar=False,
            )
        with timer.step("score"):
            bg.expected_purchases(future_t=52)
            bg.expected_probability_alive()
        bg_params = bg.fit_summary()
        gg_params = gg.fit_summary()
    report_child(
        {
            "rows": len(summary),
            "customers": len(summary),
            "steps": timer.steps,
            "params": {k: float(bg_params[k]) for k in ("r", "alpha", "a", "b")},
            "gg_params": {
                "p": float(gg_params["p"]),
                "q": float(gg_params["q"]),
                "gamma": float(gg_params["v"]),
            },
            "versions": _versions("pymc-marketing", "pymc", "pytensor", "pandas", "numpy", "scipy"),
        }
    )


# ----------------------------------------------------------------------------- cached inputs


def peer_summary(path: Path, content: str) -> Path:
    """The customer summary the peers fit, keyed by the input's content hash and the
    workbench's code version."""
    key = hashlib.sha256((content + code_hash("**/*.py", "*.c")).encode()).hexdigest()[:16]
    out = DATA_DIR / f"summary_{key}.parquet"
    if not out.exists():
        from workbench.core.io import read_transactions
        from workbench.core.summary import customer_summary

        tmp = out.with_suffix(".tmp")
        customer_summary(read_transactions(path), AS_OF, "W", sort=False).select(
            "customer_id", "frequency", "recency", "T", "monetary_value"
        ).write_parquet(tmp)
        tmp.replace(out)
    return out


# ----------------------------------------------------------------------------- runs


def run_contestant(
    python: str, contestant: str, data: Path, repeat: int, timeout: float = 4 * 3600
) -> list[dict]:
    """``repeat`` runs, each a fresh process; the load average before and after each run."""
    runs = []
    for i in range(repeat):
        before = os.getloadavg()[0]
        proc = subprocess.run(
            [python, __file__, "--contestant", contestant, "--data", str(data)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        after = os.getloadavg()[0]
        result = next(
            (
                json.loads(line[7:])
                for line in reversed(proc.stdout.splitlines())
                if line.startswith("RESULT ")
            ),
            None,
        )
        if result is None:
            print(
                f"  {contestant} run {i + 1} failed (exit {proc.returncode}):\n"
                f"{proc.stderr[-2000:]}",
                flush=True,
            )
            continue
        result["load"] = [before, after]
        runs.append(result)
        print(
            f"  {contestant} run {i + 1}: {sum(result['steps'].values()):.2f} s "
            f"(load average {before:.1f} -> {after:.1f})",
            flush=True,
        )
    return runs


def _total(run: dict) -> float:
    return sum(run["steps"].values())


def _best_median(runs: list[dict]) -> tuple[dict, dict]:
    ordered = sorted(runs, key=_total)
    return ordered[0], ordered[(len(ordered) - 1) // 2]


def _fmt(params: dict) -> str:
    return ", ".join(f"{k} {v:.6g}" for k, v in params.items())


def show(results: dict[str, list[dict]]) -> None:
    for name, runs in results.items():
        if not runs:
            print(f"{name:<10} no successful run")
            continue
        best, median = _best_median(runs)
        for label, r in (("best", best), ("median", median)):
            steps = ", ".join(f"{k} {v:.2f} s" for k, v in r["steps"].items())
            print(
                f"{name:<10} {label:<6} customers {r['customers']:,}  total {_total(r):.2f} s "
                f"({steps})  peak RSS {r['peak_rss_mib']:,.0f} MiB  load average "
                f"{r['load'][0]:.1f} -> {r['load'][1]:.1f}"
            )
        print(f"{'':<10} BG/NBD: {_fmt(best['params'])}")
        print(f"{'':<10} Gamma-Gamma: {_fmt(best['gg_params'])}")
    wb = results.get("workbench")
    if wb:
        print(
            f"whole path, transaction file -> CLV per customer: {min(map(_total, wb)):.2f} s "
            "best (target < 10 s)"
        )
    for peer in PEERS:
        runs = results.get(peer)
        if not (wb and runs):
            continue
        if "distinct_histories" in runs[0]:
            print(f"{peer} fitted {runs[0]['distinct_histories']:,} weighted rows")
        for step in ("fit_bgnbd", "fit_gamma_gamma"):
            best = min(r["steps"][step] for r in runs) / min(r["steps"][step] for r in wb)
            med = statistics.median(r["steps"][step] for r in runs) / statistics.median(
                r["steps"][step] for r in wb
            )
            print(f"{step}: workbench {best:.1f}x faster than {peer} (best), {med:.1f}x (median)")
        worst = max(abs(runs[0]["params"][k] / wb[0]["params"][k] - 1) for k in wb[0]["params"])
        print(f"BG/NBD estimates, {peer} vs workbench: largest relative difference {worst:.1e}")


def conditions(args: argparse.Namespace, pymc_python: str | None) -> None:
    """Print everything a reader needs to judge the figures."""

    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(
                cmd, cwd=ROOT, capture_output=True, text=True, timeout=60
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "(unknown)"

    dirty = out(["git", "status", "--porcelain", "--", "workbench"])
    print(
        f"date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; "
        f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    print(
        f"git {out(['git', 'rev-parse', '--short', 'HEAD'])}"
        f"{' (workbench/ has uncommitted changes)' if dirty else ''}; "
        f"{args.repeat} runs per contestant, each a fresh process; input order: {args.order}"
    )
    print(
        f"workbench side: {sys.executable} "
        + json.dumps(_versions("polars", "numpy", "scipy", "lifetimes", "pandas"))
    )
    if pymc_python:
        print(
            f"pymc-marketing side: {pymc_python} "
            + out(
                [
                    pymc_python,
                    "-c",
                    (
                        "import json, platform; from importlib.metadata import version as v; "
                        "print(json.dumps({'python': platform.python_version(), "
                        "**{n: v(n) for n in ('pymc-marketing', 'pymc', 'pytensor', "
                        "'pandas', 'numpy', 'scipy')}}))"
                    ),
                ]
            )
        )
    threads = {v: os.environ.get(v, "(unset)") for v in THREAD_VARIABLES}
    print("thread settings: " + ", ".join(f"{k}={v}" for k, v in threads.items()))
    if args.repeat < 3:
        print(f"NOTE: {args.repeat} run(s) per contestant: a smoke test, not a benchmark figure")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=3_600_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="fresh processes per contestant; the best and the median are shown",
    )
    parser.add_argument(
        "--order",
        choices=["both", "sorted", "shuffled"],
        default="both",
        help="input log as generated (sorted by date), shuffled, or both",
    )
    parser.add_argument(
        "--peers",
        default=",".join(PEERS),
        help="comma-separated peers to run: lifetimes, pymc (or none)",
    )
    parser.add_argument(
        "--pymc-python",
        default=os.environ.get("BENCH_PYMC_PYTHON", str(PYMC_PYTHON)),
        help="interpreter with pymc-marketing installed (default .venv-pymc)",
    )
    parser.add_argument(
        "--contestant",
        choices=["workbench", *PEERS],
        help="internal: run one contestant in this process",
    )
    parser.add_argument("--data", help="internal: the contestant's input file")
    return parser.parse_args()


def main() -> None:
    args = parse_arguments()
    if args.contestant:
        return {"workbench": run_workbench, "lifetimes": run_lifetimes, "pymc": run_pymc}[
            args.contestant
        ](args.data)

    peers = [p for p in args.peers.split(",") if p in PEERS]
    interpreters = {"workbench": sys.executable}
    if "lifetimes" in peers:
        try:
            import lifetimes  # noqa: F401

            interpreters["lifetimes"] = sys.executable
        except ImportError:
            print("lifetimes not installed: no lifetimes comparison (pip install '.[bench]')")
    if "pymc" in peers:
        ok = (
            Path(args.pymc_python).exists()
            and subprocess.run(
                [args.pymc_python, "-c", "import pymc_marketing, pyarrow"], capture_output=True
            ).returncode
            == 0
        )
        if ok:
            interpreters["pymc"] = args.pymc_python
        else:
            print(
                f"pymc-marketing not importable with {args.pymc_python}: no pymc-marketing "
                "comparison (see the docstring for its environment)"
            )
    conditions(args, interpreters.get("pymc"))

    path = benchmark_log(args.rows, args.customers)
    content = sha256_file(path)
    inputs = []
    if args.order in ("sorted", "both"):
        inputs.append(("sorted by date (as generated)", path, content))
    if args.order in ("shuffled", "both"):
        shuffled = shuffled_copy(path, SHUFFLE_SEED)
        inputs.append((f"shuffled (seed {SHUFFLE_SEED})", shuffled, sha256_file(shuffled)))
    for label, data, digest in inputs:
        print(
            f"\n== input {label}: {data.name} ({data.stat().st_size / 2**20:.0f} MiB CSV, "
            f"sha256 {digest[:16]})",
            flush=True,
        )
        results = {"workbench": run_contestant(sys.executable, "workbench", data, args.repeat)}
        if len(interpreters) > 1:
            summary = peer_summary(data, digest)
            for peer in PEERS:
                if peer in interpreters:
                    results[peer] = run_contestant(interpreters[peer], peer, summary, args.repeat)
        show(results)


if __name__ == "__main__":
    main()
