"""The ``workbench`` command line.

Examples
--------
Serve the dashboards, write the reports, make sample data, summarise a file::

    workbench serve                       # http://127.0.0.1:8866/voila/render/<dashboard>.ipynb
    workbench report --param as_of=2026-03-31
    workbench generate-sample --customers 2000 --seed 7
    workbench summary sample_data/transactions.csv --as-of 2026-03-31 --out summary.parquet

Errors in the input (:class:`workbench.errors.DataValidationError`) and in the arguments are
printed as one line, without a traceback, and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workbench.report import ReportParameterError
from workbench.serve import DEFAULT_HOST, DEFAULT_PORT, project_root

#: Exit code for bad input or arguments (argparse uses 2 too).
EXIT_USAGE = 2


class CommandError(ValueError):
    """A command cannot do what was asked (bad path, unsupported suffix...)."""


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types shown as one message, without a traceback."""
    kinds: list[type[BaseException]] = [CommandError, ReportParameterError, FileNotFoundError]
    try:
        from workbench.errors import DataValidationError, ModelError
    except ImportError:  # pragma: no cover - errors.py is part of the package
        pass
    else:
        kinds += [DataValidationError, ModelError]
    return tuple(kinds)


# ---------------------------------------------------------------------------------- serve


def _cmd_serve(args: argparse.Namespace) -> int:
    from workbench.serve import serve

    return serve(
        args.dashboards_dir,
        port=args.port,
        host=args.host,
        data_dir=args.data_dir,
        preheat=not args.no_preheat,
        pool_size=args.pool_size,
        cell_timeout=args.cell_timeout,
        token=args.token,
    )


# --------------------------------------------------------------------------------- report


def _cmd_report(args: argparse.Namespace) -> int:
    from workbench.report import (
        default_out_dir,
        find_notebooks,
        format_summary,
        inspect_parameters,
        parse_param_args,
        run_reports,
    )

    notebooks = find_notebooks(args.notebooks_dir, args.notebook)
    if not notebooks:
        folder = args.notebooks_dir or project_root() / "notebooks"
        raise CommandError(f"no report notebooks in {folder}")
    if args.list:
        for nb in notebooks:
            print(nb.stem)
            for name, info in inspect_parameters(nb).items():
                kind = info.get("inferred_type_name") or "?"
                help_text = f"  # {info['help']}" if info.get("help") else ""
                print(f"    {name}: {kind} = {info.get('default')}{help_text}")
        return 0
    parameters = parse_param_args(args.param)
    out_dir = Path(args.out) if args.out else default_out_dir(project_root() / "reports")
    print(f"Writing {len(notebooks)} report(s) to {out_dir}", flush=True)
    results = run_reports(
        notebooks,
        out_dir,
        parameters,
        data_dir=args.data_dir,
        progress_bar=not args.no_progress,
        execution_timeout=args.cell_timeout,
        log=lambda line: print(line, flush=True),
    )
    print()
    print(format_summary(results))
    failures = [r for r in results if not r.ok]
    if failures:
        print(f"\n{len(failures)} of {len(results)} report(s) failed:", file=sys.stderr)
        for r in failures:
            print(f"  {r.error}\n    inspect: {r.executed}", file=sys.stderr)
        return 1
    return 0


# ------------------------------------------------------------------------ generate-sample


def _cmd_generate_sample(args: argparse.Namespace) -> int:
    from workbench.sample_data import write_sample_data

    out = Path(args.out) if args.out else project_root() / "sample_data"
    options: dict[str, Any] = {}
    if args.customers is not None:
        options["n_customers"] = args.customers
    if args.seed is not None:
        options["seed"] = args.seed
    written = write_sample_data(out, **options)
    print(f"Sample data written to {out}:")
    for path in sorted(Path(p) for p in dict(written or {}).values()):
        print(f"  {path.name}  ({path.stat().st_size:,} bytes)")
    return 0


# -------------------------------------------------------------------------------- summary

#: ``--unit`` words and the unit codes of :func:`workbench.summary.customer_summary`.
UNITS = {"day": "D", "week": "W", "month": "M", "D": "D", "W": "W", "M": "M"}


def _cmd_summary(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise CommandError(f"--out must end in .csv or .parquet, got {out.name!r}")
    from workbench.io import read_transactions
    from workbench.prepare import prepare_orders
    from workbench.summary import customer_summary

    tx = read_transactions(args.transactions)
    # customer_summary applies the same rules but keeps no report: ask prepare_orders for it.
    _, quality = prepare_orders(tx, args.as_of, source=str(args.transactions))
    print(quality, file=sys.stderr)
    frame = customer_summary(tx, as_of=args.as_of, unit=UNITS[args.unit])
    if out is None:
        frame.write_csv(sys.stdout)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        frame.write_csv(out)
    else:
        frame.write_parquet(out)
    print(f"{frame.height:,} customers written to {out}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``workbench`` with one sub-command per task.

    Examples
    --------
    >>> args = build_parser().parse_args(["serve", "--port", "0"])
    >>> args.command, args.port
    ('serve', 0)
    """
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Customer-analytics workbench: dashboards, reports and data tools.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help_text: str, func: Callable[[argparse.Namespace], int]):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add("serve", "Serve the Voilà dashboards of dashboards/ on a loopback port.", _cmd_serve)
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on; 0 picks a free one (default {DEFAULT_PORT})")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address (default {DEFAULT_HOST})")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="data folder for the dashboards (WORKBENCH_DATA_DIR; default sample_data/)")
    p.add_argument("--dashboards-dir", type=Path, default=None,
                   help="folder of dashboards to serve (default dashboards/)")
    p.add_argument("--no-preheat", action="store_true",
                   help="start a kernel per page load instead of keeping one ready")
    p.add_argument("--pool-size", type=int, default=1,
                   help="preheated kernels per dashboard (default 1)")
    p.add_argument("--cell-timeout", type=int, default=120,
                   help="seconds a dashboard cell may run (default 120)")
    p.add_argument("--token", default=None, help="require this token to log in")

    p = add("report", "Run the report notebooks with papermill; write notebooks and HTML.",
            _cmd_report)
    p.add_argument("--notebook", action="append", default=None, metavar="NAME",
                   help="notebook to run (repeatable; default all of notebooks/)")
    p.add_argument("--out", default=None,
                   help="output folder (default reports/<timestamp>)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="parameter for every notebook that declares it (repeatable)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="set transactions_path, customers_path, surveys_path to files in DIR")
    p.add_argument("--notebooks-dir", type=Path, default=None,
                   help="folder of report notebooks (default notebooks/)")
    p.add_argument("--cell-timeout", type=int, default=None,
                   help="seconds one cell may run (default no limit)")
    p.add_argument("--no-progress", action="store_true", help="hide the cell progress bar")
    p.add_argument("--list", action="store_true",
                   help="list the notebooks and their parameters, run nothing")

    p = add("generate-sample", "Write a synthetic sample data set (CSV files).",
            _cmd_generate_sample)
    p.add_argument("--out", default=None, help="output folder (default sample_data/)")
    p.add_argument("--customers", type=int, default=None,
                   help="number of customers (default: the generator's)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the generator's)")

    p = add("summary", "Summarise a transactions file per customer (frequency, recency, T...).",
            _cmd_summary)
    p.add_argument("transactions", type=Path, help="transactions file (CSV or Parquet)")
    p.add_argument("--as-of", required=True, help="end of the observation period (YYYY-MM-DD)")
    p.add_argument("--unit", default="week", choices=list(UNITS),
                   help="time unit of recency and T: day, week or month (default week)")
    p.add_argument("--out", default=None,
                   help="output file, .csv or .parquet (default: CSV on stdout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Examples
    --------
    >>> main(["report", "--param", "bad"])  # doctest: +SKIP
    workbench: error: --param expects key=value, got 'bad'
    2
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except _user_errors() as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
