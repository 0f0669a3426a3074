"""The ``workbench`` command line.

Examples
--------
From a raw export to reports in two commands (a project file, ``workbench.toml``,
describes the data: :mod:`workbench.core.project`)::

    workbench init export.csv             # look at the file, write workbench.toml beside it
    workbench check --config workbench.toml   # data-quality report; exit 2 on errors
    workbench report --config workbench.toml  # every report, as of the last transaction date
    workbench serve --config workbench.toml   # the dashboards on the same data
    workbench lab --config workbench.toml     # JupyterLab on working copies in ./analysis/

Serve the dashboards, write the reports, make sample data, summarise a file::

    workbench serve                       # http://127.0.0.1:8866/voila/render/<dashboard>.ipynb
    workbench serve --host 0.0.0.0        # every interface: a token is generated and printed
    workbench report --as-of 2026-03-31 --data-dir data/ --out reports/q1
    workbench report --config workbench.toml --fail-on "set_aside_share>0.05" \
        --compare-to reports/last/summary.json    # CI: gates, summary.json, changes.md
    workbench generate-sample --customers 2000 --seed 7
    workbench summary sample_data/transactions.csv --as-of 2026-03-31 --out summary.parquet

Exit codes
----------
Each class of :mod:`workbench.errors` has one exit code, the same for every command
(:func:`exit_code`):

0
    Everything asked for was done.
1
    ``workbench report``: at least one notebook failed (also when a cell refused the data,
    e.g. a :class:`~workbench.errors.DataValidationError`). Each failure is printed as one
    line (notebook, cell, exception type and message) with the path of the executed notebook,
    which is kept for inspection.  Also any other :class:`~workbench.errors.WorkbenchError`
    (e.g. a :class:`~workbench.core.cache.CacheError`).
2
    Bad arguments or settings, found before anything runs
    (:class:`~workbench.errors.ConfigError` and its subclasses :class:`CommandError`,
    :class:`~workbench.app.report.ReportParameterError`,
    :class:`~workbench.app.run_summary.GateError`, :class:`~workbench.app.serve.ServeError`; and the
    operating system's file errors): an unknown option or parameter, a date that is not
    ``YYYY-MM-DD``, a missing file or folder, a folder given as a file, an output that cannot be
    written, an invalid ``--fail-on`` gate, an invalid project file, ``workbench check`` finding
    errors, ``workbench init`` unable to map a required column.
3
    The data break the data contract (:class:`~workbench.errors.DataValidationError`), found
    before any notebook runs (e.g. reading the tables of ``--config``).
4
    ``workbench report``: every notebook ran, but a data-quality gate failed (``--fail-on``,
    or ``[gates] fail_on`` in the project file); each failed gate is printed as one line
    ``gate failed: set_aside_share = 0.081 fails the gate set_aside_share>0.05``. The reports,
    ``summary.json`` and ``changes.md`` are written all the same.
5
    A model cannot be fitted or used (:class:`~workbench.errors.ModelError`: a
    :class:`~workbench.errors.ConvergenceError`, a :class:`~workbench.errors.NotFittedError`,
    too few customers with repeat purchases), found before any notebook runs.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from workbench.app.report import (
    MAX_MESSAGE,
    can_write_in,
    one_line,
    parse_iso_date,
)
from workbench.app.serve import DEFAULT_HOST, DEFAULT_PORT
from workbench.app.templates import project_root
from workbench.errors import ConfigError, DataValidationError, ModelError, WorkbenchError

if TYPE_CHECKING:
    from workbench.core.summary import Unit

#: Exit code when everything asked for was done.
EXIT_OK = 0
#: Exit code of ``workbench report`` when a notebook failed (and of other workbench errors).
EXIT_FAILED = 1
#: Exit code for bad arguments or settings (argparse uses 2 too): a ConfigError.
EXIT_USAGE = 2
#: Exit code when the data break the data contract: a DataValidationError.
EXIT_DATA = 3
#: Exit code of ``workbench report`` when a data-quality gate failed.
EXIT_GATE = 4
#: Exit code when a model cannot be fitted or used: a ModelError.
EXIT_MODEL = 5

#: The exit code of each error class (the first class that matches, most specific first).
ERROR_EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (DataValidationError, EXIT_DATA),
    (ModelError, EXIT_MODEL),
    (ConfigError, EXIT_USAGE),
    (OSError, EXIT_USAGE),  # the file errors of _user_errors: a path given is wrong
    (WorkbenchError, EXIT_FAILED),
)

#: The exit codes, as ``--help`` shows them.
EXIT_CODES_HELP = """exit codes:
  0  every report ran
  1  a notebook failed (its one-line reason and the kept notebook's path are printed)
  2  bad arguments or input data (unknown parameter, bad date, missing file, invalid
     project file or gate...); nothing ran
  3  data error: the data break the data contract (DataValidationError); nothing ran
  4  a data-quality gate failed (--fail-on, [gates] in the project file); reports written
  5  model error: a model cannot be fitted or used (ModelError); nothing ran

gates (--fail-on METRIC>VALUE, repeatable; also >=, <, <=, ==, !=; 5% = 0.05):
  set_aside_share, set_aside_rows, duplicate_rows, returns_netted, rows_read, customers,
  orders, revenue, repeat_customer_share, average_order_value, active_customers,
  period_revenue, repeat_rate, top20_share, <kpi>_change, holdout_error_pct (CLV report),
  log_likelihood, total_predicted_clv, at_risk_customers, reports_failed

outputs besides the notebooks and HTML: summary.json, csv/*.csv, index.html, and with
--compare-to PREVIOUS/summary.json a Markdown change report changes.md
"""


class CommandError(ConfigError):
    """A command cannot do what was asked (bad path, unsupported suffix...): a
    :class:`~workbench.errors.ConfigError` (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``prog: error: message (see --help)``."""

    def error(self, message: str) -> NoReturn:
        """Print one line and exit with :data:`EXIT_USAGE`."""
        text = one_line(f"{self.prog}: error: {message} (see {self.prog} --help)")
        self.exit(EXIT_USAGE, text + "\n")


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types shown as one message, without a traceback."""
    return (
        WorkbenchError,  # DataValidationError, ModelError, ConfigError and their subclasses
        FileNotFoundError,
        IsADirectoryError,
        NotADirectoryError,
        PermissionError,
        FileExistsError,
    )


def exit_code(exc: BaseException) -> int:
    """The exit code of a user error: its class's in :data:`ERROR_EXIT_CODES`.

    Examples
    --------
    >>> exit_code(CommandError("--port must be a number")), exit_code(ModelError("no fit"))
    (2, 5)
    """
    for kind, code in ERROR_EXIT_CODES:
        if isinstance(exc, kind):
            return code
    return EXIT_FAILED


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


def _load_project(path: Path) -> Any:
    """The :class:`workbench.core.project.Project` of ``--config`` (a ``ConfigError`` if
    invalid)."""
    from workbench.core.project import load_project

    return load_project(path)


def _say_as_of(as_of: str, how: str, *, file: Any = None) -> None:
    """Print the as-of date in use and where it comes from."""
    print(f"As of {as_of} ({how}; change it with --as-of)", file=file or sys.stdout, flush=True)


# ---------------------------------------------------------------------------------- serve


def _cmd_serve(args: argparse.Namespace) -> int:
    from workbench.app.serve import serve

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
        config=args.config,
        viewers=args.viewers,
        cache_dir=args.cache_dir,
        warm=not args.no_warm,
    )


# --------------------------------------------------------------------------------- report


def _cmd_report(args: argparse.Namespace) -> int:
    # long: all checks of `workbench report` must run before the first notebook does; one linear
    # sequence of checks
    from workbench.app.report import (
        absolute,
        default_notebooks_dir,
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
    if args.config is not None and data_dir is not None:
        raise CommandError("--config and --data-dir both name the data: give one")
    notebooks = find_notebooks(notebooks_dir, args.notebook)
    if not notebooks:
        folder = notebooks_dir or default_notebooks_dir()
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
    # The package's own report notebooks without --config or --data-dir: the sample data
    # (their relative default paths would point inside the installed package).
    sample_dir = None
    if data_dir is None and args.config is None and notebooks_dir is None:
        sample_dir = _sample_data_for(notebooks, parameters)
    plan_parameters(notebooks, parameters, data_dir or sample_dir)  # raises on a bad one
    # With a project file or a data folder the as-of date defaults to the last transaction
    # date of that data (never the sample's); it goes to the notebooks that declare as_of.
    project = _load_project(args.config) if args.config is not None else None
    gates = _report_gates(args.fail_on, project)
    if args.compare_to is not None:
        _previous_summary(args.compare_to)  # a missing or unreadable summary: exit 2 now
    if not 0 <= args.change_threshold < 10:
        raise CommandError(f"--change-threshold must be from 0 to 10, got {args.change_threshold}")
    started = datetime.now(UTC)
    data_parameters: dict[str, Any] = {}
    transactions = project.read_transactions() if project is not None else None
    given_as_of = str(parameters.get("as_of", "")).strip()
    if not given_as_of and project is not None:
        day, how = project.resolve_as_of(transactions)
        data_parameters["as_of"] = day.isoformat()
        _say_as_of(day.isoformat(), how)
    elif not given_as_of and data_dir is not None:
        day = _last_date_of_folder(data_dir)
        if day is not None:
            data_parameters["as_of"] = day
            _say_as_of(day, "the last transaction date")
    out = absolute(args.out) if args.out else default_out_dir(project_root() / "reports")
    out_dir = prepare_out_dir(out)
    if project is not None:
        from workbench.app.report import project_parameters

        data_parameters.update(
            project_parameters(project, out_dir / "data", transactions=transactions)
        )
        print(f"Data read through {project.path} (cleaned copies in {out_dir / 'data'})",
              flush=True)
    print(f"Writing {len(notebooks)} report(s) to {out_dir}", flush=True)
    results = run_reports(
        notebooks,
        out_dir,
        parameters,
        data_dir=data_dir or sample_dir,
        data_parameters=data_parameters,
        progress_bar=not args.no_progress,
        execution_timeout=args.cell_timeout,
        log=lambda line: print(line, flush=True),
        jobs=args.jobs,
    )
    print()
    print(format_summary(results))
    outputs = _write_run_outputs(
        args, out_dir, results, project, transactions, data_dir, gates, started
    )
    failures = [r for r in results if not r.ok]
    if failures:
        print(f"\n{len(failures)} of {len(results)} report(s) failed:", file=sys.stderr)
        for r in failures:
            print(f"  {one_line(r.error)}\n    inspect: {r.executed}", file=sys.stderr)
    for result in outputs.gate_results:
        if result.value is None:
            print(f"warning: {result.message}", file=sys.stderr)
    if outputs.failed_gates:
        print(f"\n{len(outputs.failed_gates)} data-quality gate(s) failed:", file=sys.stderr)
        for result in outputs.failed_gates:
            print(f"  gate failed: {result.message}", file=sys.stderr)
    if failures:
        return EXIT_FAILED
    return EXIT_GATE if outputs.failed_gates else EXIT_OK


def _sample_data_for(notebooks: Sequence[Path], parameters: dict[str, Any]) -> Path | None:
    """The sample data folder for report notebooks that read a transactions table the
    user did not name (``None`` when none does): ``sample_data/`` of the project root."""
    from workbench.app.report import find_data_file, inspect_parameters
    from workbench.app.serve import default_data_dir

    if "transactions_path" in parameters or not any(
        "transactions_path" in inspect_parameters(nb) for nb in notebooks
    ):
        return None
    folder = default_data_dir()
    if find_data_file(folder, "transactions") is None:
        raise CommandError(
            f"no data to report on: {folder} has no transactions table; give --data-dir DIR "
            "or --config FILE, or write the sample data there with workbench generate-sample"
        )
    return folder


def _report_gates(options: Sequence[str], project: Any) -> list[Any]:
    """The gates of ``--fail-on`` and of the project file's ``[gates] fail_on``, checked."""
    from workbench.app.run_summary import GateError, parse_gates

    texts = list(getattr(project, "gates", ()) or ()) + list(options or [])
    try:
        return parse_gates(texts)
    except GateError as exc:
        raise CommandError(str(exc)) from None


def _previous_summary(path: Path) -> dict[str, Any]:
    """The ``summary.json`` of ``--compare-to`` (a file or a run folder)."""
    from workbench.app.run_summary import load_summary

    try:
        return load_summary(path)
    except FileNotFoundError:
        raise CommandError(f"--compare-to: no summary.json at {path}") from None
    except ValueError as exc:
        raise CommandError(f"--compare-to: {exc}") from None


def _write_run_outputs(
    args: argparse.Namespace,
    out_dir: Path,
    results: Sequence[Any],
    project: Any,
    transactions: Any,
    data_dir: Path | None,
    gates: Sequence[Any],
    started: datetime,
) -> Any:
    """summary.json, csv/, changes.md and index.html of a report run (printed)."""
    from workbench.app.run_summary import write_run_outputs

    inputs: dict[str, Any] | None = None
    surveys = None
    if project is not None:
        inputs = {"project": project.path, "transactions": project.transactions.path}
        for name in ("customers", "surveys"):
            source = getattr(project, name)
            if source is not None:
                inputs[name] = source.path
        surveys = project.read_surveys()
    # lines without a customer id, set aside when read: counted in summary.json's data quality
    without_id = (project.read_lines()[1]
                  if project is not None and project.missing_customer_id == "set_aside"
                  else None)
    settings = {
        "config": str(project.path) if project is not None else None,
        "data_dir": str(data_dir) if data_dir is not None else None,
        "notebooks": [Path(r.notebook).name for r in results],
        "gates": [g.text for g in gates],
        "change_threshold": args.change_threshold,
        "cell_timeout": args.cell_timeout,
    }
    outputs = write_run_outputs(
        out_dir, results, transactions=transactions, surveys=surveys, inputs=inputs,
        settings=settings, gates=gates, compare_to=args.compare_to,
        threshold=args.change_threshold, started=started, without_customer_id=without_id,
    )
    print(f"\nRun summary: {outputs.summary_path}")
    if outputs.summary.get("analysis_error"):
        print(f"warning: no KPIs or CSVs: {outputs.summary['analysis_error']}", file=sys.stderr)
    if outputs.changes_path is not None:
        print(f"Changes since {args.compare_to}: {outputs.changes_path}")
    print(f"Index: {outputs.index_path}", flush=True)
    return outputs


def _last_date_of_folder(data_dir: Path) -> str | None:
    """The last transaction date of a data folder's transactions (``None`` if unreadable).

    An unreadable table is left to the notebooks, which report it in their own words.
    """
    from workbench.app.report import find_data_file
    from workbench.core.io import read_transactions
    from workbench.core.project import last_transaction_date
    from workbench.errors import DataValidationError

    path = find_data_file(data_dir, "transactions")
    if path is None:
        return None
    try:
        day = last_transaction_date(read_transactions(path))
    except DataValidationError:
        return None
    return day.isoformat() if day is not None else None


# ------------------------------------------------------------------------------------ lab


def _cmd_lab(args: argparse.Namespace) -> int:
    from workbench.app.lab import prepare_workspace, run_lab

    if args.config is not None and args.data_dir is not None:
        raise CommandError("--config and --data-dir both name the data: give one")
    if args.data_dir is not None and not args.data_dir.is_dir():
        raise CommandError(f"--data-dir: folder not found: {args.data_dir}")
    folder = _writable_folder(args.dir, "--dir")
    workspace = prepare_workspace(
        folder, config=args.config, data_dir=args.data_dir, force=args.force
    )
    for path in workspace.copied:
        print(f"copied   {path}")
    for path in workspace.kept:
        print(f"kept     {path} (yours; --force replaces it with a fresh copy)")
    if args.config is not None:
        print(f"Parameters point at the data of {args.config} (cleaned copies in "
              f"{workspace.folder / 'data'})")
    if args.no_start:
        return EXIT_OK
    first = sorted(p.name for p in workspace.copied + workspace.kept)
    notebook = "rfm_segmentation.ipynb" if "rfm_segmentation.ipynb" in first else (
        first[0] if first else None)
    return run_lab(
        workspace.folder, port=args.port, token=args.token, open_browser=not args.no_browser,
        notebook=notebook, data_dir=args.data_dir,
        log=lambda line: print(line, flush=True),
    )


# ------------------------------------------------------------------------ generate-sample


def _cmd_generate_sample(args: argparse.Namespace) -> int:
    from workbench.app.sample_data import write_sample_data

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

#: ``--unit`` words and the unit codes of :func:`workbench.core.summary.customer_summary`.
UNITS: dict[str, Unit] = {"day": "D", "week": "W", "month": "M", "D": "D", "W": "W", "M": "M"}


def _summary_on_engine(args: argparse.Namespace) -> int:
    """``workbench summary --engine duckdb|spark``: files, globs or a table on that engine."""
    import polars as pl

    from workbench import engines

    if args.transactions is None or getattr(args, "config", None) is not None:
        raise CommandError("--engine takes a transactions file, glob or table, not --config")
    if args.as_of is None:
        raise CommandError(f"--engine {args.engine}: give --as-of")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise CommandError(f"--out must end in .csv or .parquet, got {one_line(out.name, 80)!r}")
    source = str(args.transactions)
    # one check pass (money scale, nulls) for both the summary and the tie-out
    prepared = engines.prepare(source, _as_of(args.as_of), engine=args.engine, source=source)
    frame, _, _, _ = engines.summary_frame(prepared, unit=UNITS[args.unit])
    # the tie-out, counted on the engine: every line read in exactly one bucket
    tie_out = engines.data_quality(prepared)
    print(f"Data quality of {source} ({args.engine}): {int(tie_out['lines'].sum()):,} lines "
          "read", file=sys.stderr)
    for row in tie_out.filter(pl.col("lines") > 0).iter_rows(named=True):
        print(f"  {row['bucket']:<24} {row['lines']:>11,} lines  {row['amount']:>16,.2f}",
              file=sys.stderr)
    if out is None:
        table = frame.collect("polars").to_native().sort("customer_id")
        sys.stdout.write(table.write_csv())
        return 0
    native = frame.to_native()  # written by the engine, never collected to this process
    csv = out.suffix.lower() == ".csv"
    if args.engine == "duckdb":
        ordered = native.order("customer_id")
        if csv:
            ordered.to_csv(str(out))
        else:
            ordered.to_parquet(str(out))
    else:  # Spark writes a folder of part files
        writer = native.orderBy("customer_id").write.mode("overwrite")
        if csv:
            writer.csv(str(out), header=True)
        else:
            writer.parquet(str(out))
    print(f"customer summary written to {out} by {args.engine}", file=sys.stderr)
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    if getattr(args, "engine", "polars") != "polars":
        return _summary_on_engine(args)
    as_of = _as_of(args.as_of)
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise CommandError(f"--out must end in .csv or .parquet, got {one_line(out.name, 80)!r}")
    project = None
    if args.config is not None:
        if args.transactions is not None:
            raise CommandError("give a transactions file or --config, not both")
        project = _load_project(args.config)
    elif args.transactions is None:
        raise CommandError("give a transactions file, or --config workbench.toml")
    else:
        _input_file(args.transactions, "transactions file")
    if out is not None:
        if out.is_dir():
            raise CommandError(f"--out: {out} is a folder, not a file")
        _writable_folder(out.parent if str(out.parent) else Path("."))
    from workbench.core.io import read_transactions
    from workbench.core.prepare import prepare_orders
    from workbench.core.summary import customer_summary

    without_id = None  # lines without a customer id, set aside by the project: counted below
    if project is not None:
        tx, without_id = project.read_lines()
        tx_path = project.transactions.path
    else:
        assert args.transactions is not None  # no --config: required above
        tx = read_transactions(args.transactions)
        tx_path = args.transactions
    if as_of is None:
        from workbench.core.project import last_transaction_date

        if project is not None:
            day, how = project.resolve_as_of(tx)
        else:
            day, how = last_transaction_date(tx), "the last transaction date"
        if day is None:
            raise CommandError(f"{tx_path}: no transactions, so no as-of date: give --as-of")
        as_of = day.isoformat()
        _say_as_of(as_of, how, file=sys.stderr)
    # customer_summary applies the same rules but keeps no report: ask prepare_orders for it.
    _, quality = prepare_orders(tx, as_of, source=str(tx_path), without_customer_id=without_id)
    print(quality, file=sys.stderr)
    frame = customer_summary(tx, as_of=as_of, unit=UNITS[args.unit], source=tx_path.name)
    if out is None:
        frame.write_csv(sys.stdout)
        return 0
    if out.suffix.lower() == ".csv":
        frame.write_csv(out)
    else:
        frame.write_parquet(out)
    print(f"{frame.height:,} customers written to {out}", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------------- init


def _cmd_init(args: argparse.Namespace) -> int:
    import tomllib

    from workbench.app.project_init import propose_project, render_toml
    from workbench.core.project import DEFAULT_FILE_NAME, load_project
    from workbench.errors import ConfigError, DataValidationError

    data = _input_file(args.file, "data file")
    target = Path(args.out) if args.out else data.parent / DEFAULT_FILE_NAME
    if target.is_dir():
        target = target / DEFAULT_FILE_NAME
    if target.exists() and not args.force:
        raise CommandError(f"{target} exists: edit it, or overwrite it with --force")
    _writable_folder(target.parent if str(target.parent) else Path("."), "--out")
    proposal = propose_project(data)
    text = render_toml(proposal, target)
    tomllib.loads(text)  # what is written must read back
    target.write_text(text, encoding="utf-8")
    print(f"Wrote {target} for {data.name} ({len(proposal.header)} columns). Assumed:")
    for line in proposal.assumptions or ["the file already uses the workbench's column names"]:
        print(f"  - {line}")
    if proposal.missing:
        names = ", ".join(proposal.missing)
        raise CommandError(
            f"no column found for {names}: name it under [transactions.columns] in {target}"
        )
    try:
        project = load_project(target)
        tx = project.read_transactions()
        day, how = project.resolve_as_of(tx)
    except (ConfigError, DataValidationError) as exc:
        raise CommandError(f"{target} was written, but the data do not read yet: {exc}") from None
    first = tx["order_date"].dt.min()  # a Date column (the data contract)
    print(f"  - {tx.height:,} lines from {first} to {day}; as-of date: {day} ({how})")
    print(f"\nNext: workbench check --config {target}\n      workbench report --config {target}")
    return EXIT_OK


# ---------------------------------------------------------------------------------- check


def _cmd_check(args: argparse.Namespace) -> int:
    from workbench.core.project import DEFAULT_FILE_NAME

    config = args.config if args.config is not None else Path(DEFAULT_FILE_NAME)
    project = _load_project(config)
    from workbench.app.project_check import check_project

    report = check_project(project, _as_of(args.as_of))
    print(report.text())
    return EXIT_USAGE if report.errors else EXIT_OK


# --------------------------------------------------------------------------------- parser


def _version() -> str:
    """The installed version (package metadata, as :data:`workbench.__version__`)."""
    from workbench import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``workbench`` with one sub-command per task.

    Examples
    --------
    >>> args = build_parser().parse_args(["serve", "--port", "0"])
    >>> args.command, args.port
    ('serve', 0)
    """
    # long: declarative: one add_argument block per command and option, nothing to factor
    parser = _Parser(
        prog="workbench",
        description="Customer-analytics workbench: dashboards, reports and data tools.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {_version()}",
                        help="print the installed version of workbench and exit")
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
                   help="folder of dashboards to serve (default: the package's own, "
                        "dashboards/ of the repository)")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="project file (workbench.toml) describing the data, instead of "
                        "--data-dir")
    p.add_argument("--no-preheat", action="store_true",
                   help="start a kernel per page load instead of keeping one ready")
    p.add_argument("--viewers", type=int, default=None, metavar="N",
                   help="viewers expected at once: preheated kernels kept ready (default: "
                        "from the machine's cores and free memory, 10 on 2 cores)")
    p.add_argument("--pool-size", type=int, default=None,
                   help="older name of --viewers (wins when given)")
    p.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                   help="results cache shared by the dashboard kernels (default "
                        ".workbench-cache/ in the data folder or next to the project file)")
    p.add_argument("--no-warm", action="store_true",
                   help="do not compute the default view into the cache before serving")
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
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="project file (workbench.toml): the notebooks read its tables (cleaned "
                        "copies in OUT/data/) and its as-of date, by default the last "
                        "transaction date")
    p.add_argument("--notebooks-dir", type=Path, default=None,
                   help="folder of report notebooks (default: the package's own, notebooks/ "
                        "of the repository)")
    p.add_argument("--cell-timeout", type=int, default=None,
                   help="seconds one cell may run (default no limit)")
    p.add_argument("--no-progress", action="store_true", help="hide the cell progress bar")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="notebooks run at once, each in its own kernel (default: one per "
                        "core, at most the number of notebooks); the outputs are the same "
                        "for any N")
    p.add_argument("--list", action="store_true",
                   help="list the notebooks and their parameters, run nothing")
    p.add_argument("--fail-on", action="append", default=[], metavar="METRIC>VALUE",
                   help="data-quality gate (repeatable): exit 4 with the reason when it holds "
                        "after the run, e.g. 'set_aside_share>0.05' (metrics below)")
    p.add_argument("--compare-to", type=Path, default=None, metavar="SUMMARY",
                   help="the previous run's summary.json (or its folder): write changes.md, "
                        "a Markdown change report (KPIs, segment moves, model drift)")
    p.add_argument("--change-threshold", type=float, default=0.05, metavar="SHARE",
                   help="relative change above which changes.md lists a KPI (default 0.05)")

    p = add("lab", "Open JupyterLab on working copies of the report notebooks.", _cmd_lab,
            epilog="The report notebooks are copied into --dir (default ./analysis/) with their "
                   "parameters cell\npre-filled with the project's data; existing copies are "
                   "kept unless --force. Outputs\nand edits stay in the copies: the templates "
                   "are never written. Charts are interactive\n(offline alt.JupyterChart).\n\n"
                   "exit codes: 0 ok, 2 bad arguments or project file, 3 the data break the "
                   "data contract")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="project file (workbench.toml): the copies read its data (cleaned "
                        "copies in DIR/data/) and as-of date")
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="data folder (transactions.csv...) instead of --config; default the "
                        "sample data")
    p.add_argument("--dir", type=Path, default=Path("analysis"),
                   help="working folder for the copies (default ./analysis/)")
    p.add_argument("--force", action="store_true",
                   help="overwrite existing copies (your edits in them are lost)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--token", default=None, help="login token (default: a random one)")
    p.add_argument("--no-browser", action="store_true",
                   help="do not open a browser; just print the URL")
    p.add_argument("--no-start", action="store_true",
                   help="only make the working copies; do not start JupyterLab")

    p = add("generate-sample", "Write a synthetic sample data set (CSV files).",
            _cmd_generate_sample)
    p.add_argument("--out", default=None, help="output folder (default sample_data/)")
    p.add_argument("--customers", type=int, default=None,
                   help="number of customers (default: the generator's)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the generator's)")

    p = add("summary", "Summarise a transactions file per customer (frequency, recency, T...).",
            _cmd_summary)
    p.add_argument("transactions", type=Path, nargs="?", default=None,
                   help="transactions file (CSV or Parquet); not with --config")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="project file (workbench.toml) describing the transactions")
    p.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                   help="end of the observation period (YYYY-MM-DD); default the project's, "
                        "else the last transaction date (printed)")
    p.add_argument("--unit", default="week", choices=list(UNITS),
                   help="time unit of recency and T: day, week or month (default week)")
    p.add_argument("--out", default=None,
                   help="output file, .csv or .parquet (default: CSV on stdout)")
    p.add_argument("--engine", default="polars", choices=["polars", "duckdb", "spark"],
                   help="where the rules and the summary run: polars (default, in memory), "
                        "duckdb (files larger than memory; a glob or table name works too) or "
                        "spark (the active or a local session)")
    p = add("init", "Look at an export, propose the column mapping and write workbench.toml.",
            _cmd_init,
            epilog="The project file is written next to FILE (or to --out) and the assumptions "
                   "are printed;\nan existing file is kept unless --force. Then: workbench "
                   "check, workbench report --config.")
    p.add_argument("file", type=Path, help="the export: a CSV or Parquet file of transaction lines")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="project file to write (default: workbench.toml next to FILE)")
    p.add_argument("--force", action="store_true", help="overwrite an existing project file")

    p = add("check", "Read the data of a project file and print the data-quality report.",
            _cmd_check,
            epilog="exit codes:\n  0  the data can be analysed (rows set aside are listed)\n"
                   "  2  errors: invalid project file, unreadable table, no purchase by the "
                   "as-of date,\n     or revenue that does not tie out")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="project file (default workbench.toml in the current folder)")
    p.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                   help="as-of date (default the project's, else the last transaction date)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Examples
    --------
    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     code = main(["report", "--param", "bad"])
    >>> code, err.getvalue()
    (2, "workbench report: error: --param expects key=value, got 'bad'\\n")
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except _user_errors() as exc:
        print(f"workbench {args.command}: error: {_error_text(exc)}", file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
