"""The ``workbench`` command line.

Examples
--------
Serve the dashboards, write the reports, make sample data, summarise a file::

    workbench serve                       # http://127.0.0.1:8866/voila/render/<dashboard>.ipynb
    workbench serve --host 0.0.0.0        # every interface: a token is generated and printed
    workbench report --as-of 2026-03-31 --data-dir data/ --out reports/q1
    workbench generate-sample --customers 2000 --seed 7
    workbench summary sample_data/transactions.csv --as-of 2026-03-31 --out summary.parquet

Exit codes
----------
0
    Everything asked for was done.
1
    ``workbench report``: at least one notebook failed (also when a cell refused the data,
    e.g. a :class:`~workbench.errors.DataValidationError`). Each failure is printed as one
    line (notebook, cell, exception type and message) with the path of the executed notebook,
    which is kept for inspection.
2
    Bad arguments or bad input data, found before anything runs: an unknown option or
    parameter, a date that is not ``YYYY-MM-DD``, a missing file or folder, a folder given as a
    file, an output that cannot be written, data that break the data contract
    (:class:`~workbench.errors.DataValidationError`, :class:`~workbench.errors.ModelError`).
130
    Interrupted (Ctrl-C).

Errors of the user (arguments, paths, data) are printed as one line of at most about 300
characters, ``workbench <command>: error: <what is wrong>``, without a traceback. Anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from workbench.report import (
    MAX_MESSAGE,
    ReportParameterError,
    can_write_in,
    one_line,
    parse_iso_date,
)
from workbench.serve import DEFAULT_HOST, DEFAULT_PORT, ServeError, project_root

#: Exit code when everything asked for was done.
EXIT_OK = 0
#: Exit code of ``workbench report`` when a notebook failed.
EXIT_FAILED = 1
#: Exit code for bad input or arguments (argparse uses 2 too).
EXIT_USAGE = 2

#: The exit codes, as ``--help`` shows them.
EXIT_CODES_HELP = """exit codes:
  0  every report ran
  1  a notebook failed (its one-line reason and the kept notebook's path are printed)
  2  bad arguments or input data (unknown parameter, bad date, missing file...); nothing ran
"""


class CommandError(ValueError):
    """A command cannot do what was asked (bad path, unsupported suffix...)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``prog: error: message (see --help)``."""

    def error(self, message: str) -> NoReturn:
        """Print one line and exit with :data:`EXIT_USAGE`."""
        text = one_line(f"{self.prog}: error: {message} (see {self.prog} --help)")
        self.exit(EXIT_USAGE, text + "\n")


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types shown as one message, without a traceback."""
    kinds: list[type[BaseException]] = [
        CommandError,
        ReportParameterError,
        ServeError,
        FileNotFoundError,
        IsADirectoryError,
        NotADirectoryError,
        PermissionError,
        FileExistsError,
    ]
    try:
        from workbench.errors import DataValidationError, ModelError
    except ImportError:  # pragma: no cover - errors.py is part of the package
        pass
    else:
        kinds += [DataValidationError, ModelError]
    return tuple(kinds)


def _error_text(exc: BaseException) -> str:
    """The one-line message of a user error (an OS error as ``reason: path``)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return one_line(f"{exc.strerror}{where}", MAX_MESSAGE)
    return one_line(exc, MAX_MESSAGE)


def _as_of(text: str | None, option: str = "--as-of") -> str | None:
    """``text`` checked as a whole ``YYYY-MM-DD`` date (``None`` stays ``None``)."""
    if text is None:
        return None
    try:
        return parse_iso_date(text, option).isoformat()
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _input_file(path: Path, what: str = "file") -> Path:
    """``path``, which must be an existing file (not a folder)."""
    if not path.exists():
        raise CommandError(f"{what} not found: {path}")
    if path.is_dir():
        raise CommandError(f"{path} is a folder, not a {what}")
    return path


def _writable_folder(folder: Path, option: str = "--out") -> Path:
    """Create ``folder`` if needed and check that files can be written in it."""
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"{option}: {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"{option}: cannot create {folder}: {exc.strerror or exc}") from None
    if not can_write_in(folder):
        raise CommandError(f"{option}: folder {folder} is not writable")
    return folder


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
        no_token=args.no_token,
    )


# --------------------------------------------------------------------------------- report


def _cmd_report(args: argparse.Namespace) -> int:
    from workbench.report import (
        absolute,
        default_out_dir,
        find_notebooks,
        format_summary,
        inspect_parameters,
        is_date_parameter,
        parse_param_args,
        plan_parameters,
        prepare_out_dir,
        run_reports,
    )

    # Every check comes before the first notebook runs; paths are made absolute here because
    # the kernels run in the notebooks' folder, not in the user's.
    as_of = _as_of(args.as_of)
    parameters = parse_param_args(args.param)
    for key, value in parameters.items():
        if is_date_parameter(key) and value.strip():
            parameters[key] = _as_of(value, f"--param {key}") or value
    if as_of is not None:
        if parameters.get("as_of", as_of).strip() != as_of:
            raise CommandError("--as-of and --param as_of= disagree: give one")
        parameters["as_of"] = as_of
    notebooks_dir = absolute(args.notebooks_dir) if args.notebooks_dir is not None else None
    data_dir = absolute(args.data_dir) if args.data_dir is not None else None
    notebooks = find_notebooks(notebooks_dir, args.notebook)
    if not notebooks:
        folder = notebooks_dir or project_root() / "notebooks"
        raise CommandError(f"no report notebooks in {folder}")
    if args.list:
        for nb in notebooks:
            print(nb.stem)
            for name, info in inspect_parameters(nb).items():
                kind = info.get("inferred_type_name") or "?"
                help_text = f"  # {info['help']}" if info.get("help") else ""
                print(f"    {name}: {kind} = {info.get('default')}{help_text}")
        return 0
    if args.cell_timeout is not None and args.cell_timeout < 1:
        raise CommandError(f"--cell-timeout must be at least 1 second, got {args.cell_timeout}")
    plan_parameters(notebooks, parameters, data_dir)  # raises on any bad parameter or path
    out = absolute(args.out) if args.out else default_out_dir(project_root() / "reports")
    out_dir = prepare_out_dir(out)
    print(f"Writing {len(notebooks)} report(s) to {out_dir}", flush=True)
    results = run_reports(
        notebooks,
        out_dir,
        parameters,
        data_dir=data_dir,
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
            print(f"  {one_line(r.error)}\n    inspect: {r.executed}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


# ------------------------------------------------------------------------ generate-sample


def _cmd_generate_sample(args: argparse.Namespace) -> int:
    from workbench.sample_data import write_sample_data

    out = Path(args.out) if args.out else project_root() / "sample_data"
    _writable_folder(out)
    options: dict[str, Any] = {}
    if args.customers is not None:
        if args.customers < 1:
            raise CommandError(f"--customers must be at least 1, got {args.customers}")
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
    as_of = _as_of(args.as_of)
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise CommandError(f"--out must end in .csv or .parquet, got {one_line(out.name, 80)!r}")
    _input_file(args.transactions, "transactions file")
    if out is not None:
        if out.is_dir():
            raise CommandError(f"--out: {out} is a folder, not a file")
        _writable_folder(out.parent if str(out.parent) else Path("."))
    from workbench.io import read_transactions
    from workbench.prepare import prepare_orders
    from workbench.summary import customer_summary

    tx = read_transactions(args.transactions)
    # customer_summary applies the same rules but keeps no report: ask prepare_orders for it.
    _, quality = prepare_orders(tx, as_of, source=str(args.transactions))
    print(quality, file=sys.stderr)
    frame = customer_summary(tx, as_of=as_of, unit=UNITS[args.unit], source=args.transactions.name)
    if out is None:
        frame.write_csv(sys.stdout)
        return 0
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
    parser = _Parser(
        prog="workbench",
        description="Customer-analytics workbench: dashboards, reports and data tools.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(
        name: str,
        help_text: str,
        func: Callable[[argparse.Namespace], int],
        epilog: str | None = None,
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name, help=help_text, description=help_text, epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func)
        return p

    p = add("serve", "Serve the Voilà dashboards of dashboards/ on a loopback port.", _cmd_serve,
            epilog="Off loopback (--host 0.0.0.0, a LAN address) viewers need a token: the one "
                   "of --token, or\na generated one that is printed with the URLs; --no-token "
                   "opts out (with a warning).")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on; 0 picks a free one (default {DEFAULT_PORT})")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default {DEFAULT_HOST}); 0.0.0.0 for every "
                        "interface, which requires a token")
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
    p.add_argument("--token", default=None,
                   help="require this token to log in (default: none on loopback, a generated "
                        "one elsewhere)")
    p.add_argument("--no-token", action="store_true",
                   help="off loopback, serve without a token (anyone who can reach the port "
                        "can use the dashboards)")

    p = add("report", "Run the report notebooks with papermill; write notebooks and HTML.",
            _cmd_report, epilog=EXIT_CODES_HELP)
    p.add_argument("--notebook", action="append", default=None, metavar="NAME",
                   help="notebook to run (repeatable; default all of notebooks/)")
    p.add_argument("--out", default=None,
                   help="output folder (default reports/<timestamp>)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="parameter for every notebook that declares it (repeatable)")
    p.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                   help="as-of date of every notebook (same as --param as_of=YYYY-MM-DD)")
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="set transactions_path, customers_path, surveys_path to the "
                        "transactions, customers and surveys files (.csv, .parquet, .pq, .tsv) "
                        "of DIR; transactions is required, a missing optional table is passed "
                        "as '' (not provided)")
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
    p.add_argument("--as-of", required=True, metavar="YYYY-MM-DD",
                   help="end of the observation period (YYYY-MM-DD)")
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
        print(f"workbench {args.command}: error: {_error_text(exc)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
