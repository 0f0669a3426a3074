"""Run the report notebooks with papermill and export them to HTML without code.

Each report notebook in ``notebooks/`` has one cell tagged ``parameters`` whose parameters
carry type hints and comments (``horizon_weeks: int = 52  # forecast horizon``). This module:

- checks the parameters asked for against :func:`papermill.inspect_notebook` *before* running
  (papermill itself only warns about a misspelled name) and converts values given as text to
  the declared type (:func:`coerce_parameters`);
- checks date parameters strictly (a whole ISO date ``YYYY-MM-DD``, nothing after it), makes
  path parameters absolute and checks that the files they name exist, all before running
  (the kernel runs in the notebook's folder, so a relative path would point elsewhere);
- runs a notebook with ``kernel_name="python3"`` and writes the executed notebook and an HTML
  export with the code hidden (:func:`run_report`); the kernel's own log (its stderr: start-up
  warnings, and tracebacks of its messaging threads while it shuts down) goes to
  ``<notebook>.kernel.log`` beside the executed notebook instead of the user's terminal;
- runs several notebooks, passing each common parameter only to the notebooks that declare it,
  and goes on after a failure (:func:`run_reports`). A failure is described in one line: the
  notebook, the cell, and the exception's type and message (a data error raised in a cell,
  such as :class:`~workbench.errors.DataValidationError`, reads like it does in the library).

Data folders (``--data-dir``, :func:`data_dir_parameters`): the transactions table is required
(``transactions.csv``, ``.parquet``, ``.pq`` or ``.tsv``); the customers and surveys tables are
optional. **An optional table that is absent is passed as the empty string**
(``customers_path = ""``, ``surveys_path = ""``), which the report notebooks read as "not
provided".

Project files (``--config``, :func:`project_parameters`): the tables are read through the
project (:mod:`workbench.core.project`: column mapping, amount from quantity x price, id clean-up,
identical lines) and written, cleaned and typed, as Parquet files into ``<out>/data/``; the
``*_path`` parameters point at them, so that every notebook reads the same rows, and notebooks
that declare ``config_path`` get the project file itself. The as-of date is the project's, or
the last transaction date.

Examples
--------
>>> from workbench.app.report import find_notebooks, plan_parameters, run_reports
>>> notebooks = find_notebooks()
>>> [nb.name for nb in notebooks]
['clv.ipynb', 'loyalty.ipynb', 'rfm_segmentation.ipynb']
>>> # the parameters each notebook gets, checked before anything runs
>>> plan = plan_parameters(notebooks, {"as_of": "2026-03-31"}, data_dir="sample_data")
>>> {nb.name: sorted(params) for nb, params in plan.items()}["clv.ipynb"]
['as_of', 'transactions_path']
>>> # runs every notebook in a Jupyter kernel (minutes): not run here
>>> results = run_reports(notebooks, "reports/test", {"as_of": "2026-03-31"})  # doctest: +SKIP
>>> print(format_summary(results))  # doctest: +SKIP
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.app.serve import DATA_DIR_ENV
from workbench.app.templates import template_dir
from workbench.errors import ConfigError

#: Kernel every report runs in (a personal kernel name fails in CI with NoSuchKernel).
KERNEL_NAME = "python3"
#: Set to ``1`` for the kernels of a report run:
#: :func:`workbench.presentation.charts.use_auto_renderer` then draws static SVG charts (the same
#: name as ``workbench.presentation.charts.theme.REPORT_ENV``).
REPORT_ENV = "WORKBENCH_REPORT"
#: The output folder of a report run, set for its kernels: a notebook writes the CSVs its
#: tables attach there, next to itself (the same name as
#: ``workbench.presentation.tables.REPORT_DIR_ENV``).
REPORT_DIR_ENV = "WORKBENCH_REPORT_DIR"

#: Parameters that ``--data-dir DIR`` sets in notebooks that declare them, and the stem of the
#: file each one looks for in ``DIR`` (``transactions.csv``, ``transactions.parquet``...).
DATA_FILES: dict[str, str] = {
    "transactions_path": "transactions",
    "customers_path": "customers",
    "surveys_path": "surveys",
}
#: Of :data:`DATA_FILES`, the tables a data folder must hold; the others are optional and are
#: passed as ``""`` ("not provided") when absent.
REQUIRED_DATA: frozenset[str] = frozenset({"transactions_path"})
#: File types looked for in a data folder, in this order (what the readers accept).
DATA_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".pq", ".tsv")
#: Value suffixes that mark a text parameter as a path, whatever its name (``rules.csv``).
PATH_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".pq", ".tsv", ".txt", ".json")
#: Longest message (characters) shown for one failure or user error; longer ones are cut.
MAX_MESSAGE = 300

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_CONTAINERS = {"list": list, "dict": dict, "tuple": tuple, "set": set}


class ReportParameterError(ConfigError):
    """A parameter asked for is not declared by a notebook, or its value has the wrong type.

    Also raised for inputs that make every run pointless: a data folder without a
    transactions table, a path parameter naming no file, an output folder that cannot be
    written.
    """


def one_line(text: object, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line (whitespace runs and line breaks become one space), cut to ``limit``.

    Examples
    --------
    >>> one_line("a\\n  b\\tc")
    'a b c'
    >>> one_line("x" * 400, limit=10)
    'xxxxxxx...'
    """
    flat = " ".join(_ANSI.sub("", str(text)).split())
    return flat if len(flat) <= limit else flat[: max(limit - 3, 0)] + "..."


def parse_iso_date(text: str, name: str = "as_of") -> dt.date:
    """Read a whole ISO date ``YYYY-MM-DD``; anything else (a suffix, a time) raises.

    Parameters
    ----------
    text
        The date as typed.
    name
        The option or parameter it was given for (named in the message).

    Raises
    ------
    ValueError
        When ``text`` is not exactly a valid ``YYYY-MM-DD`` date.

    Examples
    --------
    >>> parse_iso_date("2026-03-31")
    datetime.date(2026, 3, 31)
    >>> parse_iso_date("2025-06-30garbage")
    Traceback (most recent call last):
    ...
    ValueError: as_of: expected a date YYYY-MM-DD, got '2025-06-30garbage'
    """
    value = str(text).strip()
    if _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{name}: expected a date YYYY-MM-DD, got {one_line(value, 40)!r}")


def is_date_parameter(name: str, info: Mapping[str, Any] | None = None) -> bool:
    """Whether a notebook parameter holds a date: named ``as_of``, ``*_as_of``, ``*_date``,
    ``*_end`` or ``*_start``, or documented with ``YYYY-MM-DD`` in its comment.

    Examples
    --------
    >>> is_date_parameter("as_of"), is_date_parameter("previous_as_of")
    (True, True)
    >>> is_date_parameter("x", {"help": "first day, YYYY-MM-DD"}), is_date_parameter("unit")
    (True, False)
    """
    if name == "as_of" or name.endswith(("_as_of", "_date", "_end", "_start")):
        return True
    return "YYYY-MM-DD" in str((info or {}).get("help") or "")


def _optional_by_default(info: Mapping[str, Any]) -> bool:
    """Whether the declared default is empty text or ``None`` ("not given" is allowed)."""
    return str(info.get("default") or "").strip() in ("", '""', "''", "None")


def is_path_parameter(name: str, value: object) -> bool:
    """Whether a parameter value is a file path: a non-empty text whose name ends in ``_path``,
    ``_dir`` or ``_file``, or whose value ends in a data-file suffix (``rules.csv``).

    Examples
    --------
    >>> is_path_parameter("customers_path", "c.csv"), is_path_parameter("customers_path", "")
    (True, False)
    >>> is_path_parameter("segment_rules", "my_rules.csv"), is_path_parameter("unit", "W")
    (True, False)
    """
    if not isinstance(value, str) or not value.strip():
        return False
    if name.endswith(("_path", "_dir", "_file")):
        return True
    return value.strip().lower().endswith(PATH_SUFFIXES)


def absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute against the current directory (``~`` expanded, links kept).

    Examples
    --------
    >>> absolute("/data/../x.csv")
    PosixPath('/x.csv')
    """
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def resolve_path_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` with every path value (:func:`is_path_parameter`) made absolute.

    The kernel runs in the notebook's folder, not in the user's: a relative path typed on the
    command line must be resolved here, against the user's current directory.

    Examples
    --------
    >>> resolve_path_parameters({"transactions_path": "/d/t.csv", "unit": "W"})
    {'transactions_path': '/d/t.csv', 'unit': 'W'}
    """
    return {
        key: str(absolute(value.strip())) if is_path_parameter(key, value) else value
        for key, value in parameters.items()
    }


def check_path_parameters(notebook: str | os.PathLike[str], parameters: Mapping[str, Any]) -> None:
    """Raise when a path parameter names no file (or names a folder where a file is wanted).

    Raises
    ------
    ReportParameterError
        Naming the parameter and the path.
    """
    for key, value in parameters.items():
        if not is_path_parameter(key, value):
            continue
        path = absolute(value)
        wants_dir = key.endswith("_dir")
        if not path.exists():
            kind = "folder" if wants_dir else "file"
            raise ReportParameterError(one_line(f"parameter {key!r}: {kind} not found: {path}"))
        if not wants_dir and path.is_dir():
            raise ReportParameterError(
                one_line(f"parameter {key!r}: {path} is a folder, not a file")
            )


@dataclass
class ReportResult:
    """What running one report notebook produced.

    Attributes
    ----------
    notebook
        The source notebook.
    executed
        The executed notebook; written even when a cell failed (papermill puts an error banner
        at its top), so the failure can be inspected.
    html
        HTML export without code, or ``None`` when the run failed.
    ok
        True when every cell ran.
    error
        One-line description of the failure (notebook, cell, exception), or ``None``.
    seconds
        Wall-clock run time.
    parameters
        The parameters passed to papermill, after type conversion.
    """

    notebook: Path
    executed: Path
    html: Path | None = None
    ok: bool = True
    error: str | None = None
    seconds: float = 0.0
    parameters: dict[str, Any] = field(default_factory=dict)


def default_notebooks_dir() -> Path:
    """The report notebooks: package data, or ``notebooks/`` of an editable checkout
    (:func:`workbench.app.templates.template_dir`).

    Examples
    --------
    >>> default_notebooks_dir().name
    'notebooks'
    """
    return template_dir("notebooks")


def default_out_dir(base: str | os.PathLike[str] = "reports") -> Path:
    """A fresh, timestamped output folder under ``base`` (``reports/20260331-101500``).

    Examples
    --------
    >>> default_out_dir().parent.name
    'reports'
    """
    return Path(base) / datetime.now().strftime("%Y%m%d-%H%M%S")


def find_notebooks(
    notebooks_dir: str | os.PathLike[str] | None = None,
    names: Sequence[str] | None = None,
) -> list[Path]:
    """The report notebooks to run: all of ``notebooks_dir``, or those named.

    Parameters
    ----------
    notebooks_dir
        Folder of report notebooks; default :func:`default_notebooks_dir`.
    names
        Notebook names with or without ``.ipynb`` (``"rfm"``), or paths to notebooks.

    Returns
    -------
    list of pathlib.Path
        Sorted by name when ``names`` is not given, else in the order asked.

    Raises
    ------
    ReportParameterError
        When a name matches no notebook (the message lists the available ones).

    Examples
    --------
    >>> [nb.name for nb in find_notebooks("tests/fixtures", ["add_numbers"])]
    ['add_numbers.ipynb']
    """
    folder = absolute(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    if notebooks_dir is not None and not folder.is_dir():
        what = "is not a folder" if folder.exists() else "not found"
        raise ReportParameterError(f"notebooks folder {what}: {folder}")
    available = sorted(
        p for p in folder.glob("*.ipynb") if not p.name.startswith((".", "_"))
    ) if folder.is_dir() else []
    if not names:
        return available
    chosen = []
    for name in names:
        as_path = Path(name)
        if as_path.suffix == ".ipynb" and as_path.is_file():
            chosen.append(absolute(as_path))
            continue
        stem = as_path.name.removesuffix(".ipynb")
        match = [p for p in available if p.stem == stem]
        if not match:
            listed = ", ".join(p.stem for p in available) or "none"
            raise ReportParameterError(
                f"no report notebook named {name!r} in {folder} (available: {listed})"
            )
        chosen.append(match[0])
    return chosen


def inspect_parameters(notebook: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares, as :func:`papermill.inspect_notebook` reports them.

    Examples
    --------
    >>> inspect_parameters("tests/fixtures/add_numbers.ipynb")["a"]["inferred_type_name"]
    'int'
    """
    import papermill

    return dict(papermill.inspect_notebook(str(notebook)))


def parse_param_args(items: Iterable[str]) -> dict[str, str]:
    """Turn ``["key=value", ...]`` from the command line into a dict (values stay text).

    Examples
    --------
    >>> parse_param_args(["as_of=2026-03-31", "weights={'a': 1}"])
    {'as_of': '2026-03-31', 'weights': "{'a': 1}"}
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ReportParameterError(f"--param expects key=value, got {item!r}")
        out[key] = value
    return out


def find_data_file(data_dir: str | os.PathLike[str], stem: str) -> Path | None:
    """The file ``<stem>.csv`` / ``.parquet`` / ``.pq`` / ``.tsv`` of ``data_dir``, if any.

    Raises
    ------
    ReportParameterError
        When more than one of them exists (which one is meant is not guessed).

    Examples
    --------
    >>> find_data_file("no/such/folder", "transactions") is None
    True
    """
    root = absolute(data_dir)
    found = [root / f"{stem}{suffix}" for suffix in DATA_SUFFIXES]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        raise ReportParameterError(
            one_line(f"{root} holds both {names}: keep one, or choose with --param")
        )
    return found[0] if found else None


def data_dir_parameters(data_dir: str | os.PathLike[str]) -> dict[str, str]:
    """The ``*_path`` parameters that point the notebooks at the tables of ``data_dir``.

    The transactions table must be there; an optional table (customers, surveys) that is not
    is given as ``""``, which the report notebooks read as "not provided".

    Parameters
    ----------
    data_dir
        Folder with ``transactions.csv`` (or ``.parquet``, ``.pq``, ``.tsv``) and optionally
        ``customers.*`` and ``surveys.*``.

    Returns
    -------
    dict
        Parameter name -> absolute file path, or ``""`` for an absent optional table.

    Raises
    ------
    ReportParameterError
        When the folder does not exist or holds no transactions table (the message names the
        folder and the file names looked for).

    Examples
    --------
    >>> data_dir_parameters("sample_data")["transactions_path"]  # doctest: +ELLIPSIS
    '/.../sample_data/transactions.csv'
    """
    root = absolute(data_dir)
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "not found"
        raise ReportParameterError(f"data folder {what}: {root}")
    out: dict[str, str] = {}
    for name, stem in DATA_FILES.items():
        path = find_data_file(root, stem)
        if path is None and name in REQUIRED_DATA:
            looked = ", ".join(f"{stem}{suffix}" for suffix in DATA_SUFFIXES)
            raise ReportParameterError(one_line(f"no {stem} file in {root} (looked for {looked})"))
        out[name] = str(path) if path is not None else ""
    return out


def project_parameters(
    project: Any, folder: str | os.PathLike[str], *, transactions: Any = None
) -> dict[str, str]:
    """Write a project's tables as typed Parquet files in ``folder``; the notebook parameters.

    Parameters
    ----------
    project
        A :class:`workbench.core.project.Project`.
    folder
        Where to write ``transactions.parquet`` (and ``customers.parquet``,
        ``surveys.parquet`` when the project has them); created if needed.
    transactions
        The project's transactions when already read (read here otherwise).

    Returns
    -------
    dict
        ``transactions_path``, ``customers_path``, ``surveys_path`` (absolute paths, ``""``
        for a table the project does not have) and ``config_path`` (the project file).

    Raises
    ------
    DataValidationError
        A table breaks the data contract.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from workbench.core.project import load_project
    >>> folder, csv = pathlib.Path(tempfile.mkdtemp()), pathlib.Path("sample_data/transactions.csv")
    >>> _ = (folder / "workbench.toml").write_text(f'[transactions]\\npath = "{csv.resolve()}"\\n')
    >>> params = project_parameters(load_project(folder), folder / "data")
    >>> params["transactions_path"] == str(folder / "data" / "transactions.parquet")
    True
    """
    out = absolute(folder)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "transactions_path": (
            "transactions",
            project.read_transactions() if transactions is None else transactions,
        ),
        "customers_path": ("customers", project.read_customers()),
        "surveys_path": ("surveys", project.read_surveys()),
    }
    params: dict[str, str] = {}
    for name, (stem, frame) in tables.items():
        if frame is None:
            params[name] = ""
            continue
        path = out / f"{stem}.parquet"
        # ``source_row`` is reserved in files; the readers number the rows again.
        frame.drop("source_row", strict=False).write_parquet(path)
        params[name] = str(path)
    params["config_path"] = str(project.path)
    return params


def _split_type(type_name: str | None) -> tuple[str, bool]:
    """Base type name and whether ``None`` is allowed: ``"Optional[int]"`` -> ``("int", True)``."""
    text = (type_name or "").strip().replace("typing.", "")
    if text in ("", "None"):
        return "", True
    optional = False
    match = re.fullmatch(r"Optional\[(.+)\]", text)
    if match:
        text, optional = match.group(1).strip(), True
    parts = [p.strip() for p in text.split("|")]
    if "None" in parts:
        optional = True
        parts = [p for p in parts if p != "None"]
    base = parts[0] if len(parts) == 1 else "|".join(parts)
    base = re.sub(r"\[.*\]$", "", base).strip().lower()  # list[int] -> list
    return base, optional


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)


def coerce_value(
    text: str, type_name: str | None, default: str | None = None
) -> Any:
    """Convert a command-line value to the type a notebook declares for it.

    Parameters
    ----------
    text
        The value as typed (``"52"``, ``"true"``, ``"[1, 2]"``).
    type_name
        ``inferred_type_name`` from :func:`papermill.inspect_notebook` (``"int"``,
        ``"Optional[float]"``, ``"list[str]"``, ``"None"`` when there is no hint).
    default
        The default's source text; without a type hint its type is used.

    Returns
    -------
    object
        The converted value.

    Raises
    ------
    ValueError
        When ``text`` is not a value of that type.

    Examples
    --------
    >>> coerce_value("52", "int"), coerce_value("0.5", "float"), coerce_value("no", "bool")
    (52, 0.5, False)
    >>> coerce_value("[1, 2]", "list[int]"), coerce_value("none", "Optional[str]")
    ([1, 2], None)
    >>> coerce_value("7", "None", default="3")  # no hint: the default's type
    7
    """
    base, optional = _split_type(type_name)
    if not base and default is not None:
        try:
            default_value = ast.literal_eval(default)
        except (ValueError, SyntaxError):
            default_value = None
        if default_value is not None:
            base = type(default_value).__name__
    if optional and text.strip().lower() in ("none", "null"):
        return None
    if base == "str":
        return text
    if base == "bool":
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueError(f"expected a boolean (true/false), got {text!r}")
    if base == "int":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
    if base == "float":
        try:
            return float(text.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    if base in _CONTAINERS:
        try:
            value = _literal(text)
        except (ValueError, SyntaxError):
            raise ValueError(f"expected a {base} in JSON or Python syntax, got {text!r}") from None
        kind = _CONTAINERS[base]
        if kind in (tuple, set) and isinstance(value, list):
            value = kind(value)
        if not isinstance(value, kind):
            raise ValueError(f"expected a {base}, got {text!r}")
        return value
    # No usable hint (or a type papermill cannot inject, such as a date): a Python/JSON
    # literal when the text is one, else the text itself.
    try:
        return _literal(text)
    except (ValueError, SyntaxError):
        return text


def coerce_parameters(
    notebook: str | os.PathLike[str],
    parameters: Mapping[str, Any],
    declared: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Check ``parameters`` against what ``notebook`` declares and convert text values.

    Values that are not strings are passed through unchanged, except dates
    (:class:`datetime.date`) for a date parameter, which become ``YYYY-MM-DD`` text. A date
    parameter (:func:`is_date_parameter`) must be a whole ISO date, or ``""`` when its
    default is empty. Path values (:func:`is_path_parameter`) are made absolute.

    Parameters
    ----------
    notebook
        The notebook the parameters are for (named in error messages).
    parameters
        Name -> value; strings are converted to the declared type.
    declared
        The notebook's parameters as :func:`inspect_parameters` gives them (read from the
        notebook when omitted).

    Returns
    -------
    dict
        The parameters, converted.

    Raises
    ------
    ReportParameterError
        For a name the notebook does not declare (the message names the notebook and lists
        its parameters), a value of the wrong type, or a date that is not ``YYYY-MM-DD``.

    Examples
    --------
    >>> decl = {"n": {"inferred_type_name": "int", "default": "3"}}
    >>> coerce_parameters("demo.ipynb", {"n": "5"}, declared=decl)
    {'n': 5}
    >>> coerce_parameters("demo.ipynb", {"m": "5"}, declared=decl)
    Traceback (most recent call last):
    ...
    workbench.app.report.ReportParameterError: demo.ipynb has no parameter 'm' (its parameters: n)
    """
    name = Path(notebook).name
    spec = dict(declared) if declared is not None else inspect_parameters(notebook)
    unknown = [key for key in parameters if key not in spec]
    if unknown:
        valid = ", ".join(spec) or "none"
        listed = ", ".join(repr(k) for k in unknown)
        noun = "parameter" if len(unknown) == 1 else "parameters"
        raise ReportParameterError(f"{name} has no {noun} {listed} (its parameters: {valid})")
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        info = spec[key]
        if is_date_parameter(key, info):
            out[key] = _check_date(name, key, value, info)
            continue
        if not isinstance(value, str):
            out[key] = value
            continue
        try:
            out[key] = coerce_value(value, info.get("inferred_type_name"), info.get("default"))
        except ValueError as exc:
            raise ReportParameterError(one_line(f"{name}: parameter {key!r}: {exc}")) from None
    return resolve_path_parameters(out)


def _check_date(notebook: str, key: str, value: Any, info: Mapping[str, Any]) -> Any:
    """A date parameter's value as ``YYYY-MM-DD`` text (``""``/``None`` where allowed)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None and _optional_by_default(info):
        return None
    text = str(value).strip()
    if text == "" and _optional_by_default(info):
        return ""
    try:
        return parse_iso_date(text, key).isoformat()
    except ValueError as exc:
        raise ReportParameterError(one_line(f"{notebook}: parameter {exc}")) from None


def plan_parameters(
    notebooks: Sequence[str | os.PathLike[str]],
    parameters: Mapping[str, Any] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    data_parameters: Mapping[str, Any] | None = None,
) -> dict[Path, dict[str, Any]]:
    """Decide, before running anything, which parameters each notebook gets.

    A parameter goes to every notebook that declares it; a name that none of them declares
    is an error. ``data_dir`` sets the ``*_path`` parameters of :data:`DATA_FILES` where
    declared (an explicit ``parameters`` entry wins; see :func:`data_dir_parameters`).
    ``data_parameters`` (from a project file, :func:`project_parameters`) work the same way:
    each goes only to the notebooks that declare it.
    Path values are made absolute, and the files they name must exist.

    Raises
    ------
    ReportParameterError
        For a name no notebook declares, a value of the wrong type, a bad date, a data folder
        without transactions, or a path parameter naming no file.

    Examples
    --------
    >>> plan_parameters(["notebooks/rfm_segmentation.ipynb"], {"as_of": "2026-03-31"})
    {PosixPath('notebooks/rfm_segmentation.ipynb'): {'as_of': '2026-03-31'}}
    """
    parameters = dict(parameters or {})
    declared = {Path(nb): inspect_parameters(nb) for nb in notebooks}
    unknown = [k for k in parameters if not any(k in spec for spec in declared.values())]
    if unknown:
        raise ReportParameterError(_unknown_message(unknown, declared))
    base = data_dir_parameters(data_dir) if data_dir is not None else {}
    base.update(data_parameters or {})
    plan = {}
    for nb, spec in declared.items():
        wanted = {k: v for k, v in {**base, **parameters}.items() if k in spec}
        plan[nb] = coerce_parameters(nb, wanted, declared=spec)
        check_path_parameters(nb, plan[nb])
    return plan


def _unknown_message(unknown: Sequence[str], declared: Mapping[Path, Mapping[str, Any]]) -> str:
    """One line: the names no notebook declares, close matches, where to see the valid ones."""
    import difflib

    valid = sorted({k for spec in declared.values() for k in spec})
    names = ", ".join(repr(k) for k in unknown)
    hints = sorted({m for k in unknown for m in difflib.get_close_matches(k, valid, n=3)})
    maybe = f"; did you mean {', '.join(hints)}?" if hints else ""
    notebooks = ", ".join(nb.name for nb in declared)
    text = (
        f"no report notebook declares {names}{maybe} "
        f"(notebooks: {notebooks}; their parameters: workbench report --list)"
    )
    return one_line(text)


def export_html(executed: str | os.PathLike[str], html_path: str | os.PathLike[str]) -> Path:
    """Write an HTML export of ``executed`` with code and prompts hidden (``--no-input``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> html = pathlib.Path(tempfile.mkdtemp()) / "add_numbers.html"
    >>> export_html("tests/fixtures/add_numbers.ipynb", html) == html, html.stat().st_size > 0
    (True, True)
    """
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nbformat.read(str(executed), as_version=4))
    out = Path(html_path)
    out.write_text(body, encoding="utf-8")
    return out


def prepare_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Create the output folder if needed and check that it can be written; return it absolute.

    Raises
    ------
    ReportParameterError
        When it is a file, cannot be created, or is not writable.

    Examples
    --------
    >>> prepare_out_dir("/proc/no-such-folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.app.report.ReportParameterError: cannot create output folder /proc/no-such-folder: ...
    """
    out = absolute(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportParameterError(one_line(f"output folder {out} is a file"))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        message = one_line(f"cannot create output folder {out}: {reason}")
        raise ReportParameterError(message) from None
    if not can_write_in(out):
        raise ReportParameterError(one_line(f"output folder {out} is not writable"))
    return out


def can_write_in(folder: str | os.PathLike[str]) -> bool:
    """Whether a file can be created in ``folder`` (tried, not guessed from permission bits).

    Examples
    --------
    >>> can_write_in("/no/such/folder")
    False
    """
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def describe_failure(notebook: str | os.PathLike[str], exc: BaseException) -> str:
    """One line naming the notebook, the failed cell and its exception's type and message.

    For a failing cell the type and message come from papermill's error (the exception
    raised in the kernel), never its traceback; the line is cut to :data:`MAX_MESSAGE`.

    Examples
    --------
    >>> describe_failure("rfm.ipynb", OSError("disk full"))
    'rfm.ipynb: OSError: disk full'
    """
    from papermill.exceptions import PapermillExecutionError

    name = Path(notebook).name
    if isinstance(exc, PapermillExecutionError):
        cell = f"cell [{exc.exec_count}]" if exc.exec_count else f"cell #{exc.cell_index}"
        return one_line(f"{name}: {cell} failed: {exc.ename}: {exc.evalue}")
    return one_line(f"{name}: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables (inherited by kernels) for the duration of a block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def run_report(
    notebook: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    kernel_name: str = KERNEL_NAME,
    progress_bar: bool | dict[str, Any] = False,
    cwd: str | os.PathLike[str] | None = None,
    execution_timeout: int | None = None,
    html: bool = True,
    progress: Any = None,
) -> ReportResult:
    """Run one report notebook with papermill and export it to HTML without code.

    Parameters are checked and converted first (:func:`coerce_parameters`): an unknown
    name raises before anything runs. A failing cell does not raise: the result has
    ``ok=False``, an ``error`` line, and ``executed`` points at the failed notebook.

    Parameters
    ----------
    notebook
        The ``.ipynb`` to run.
    out_dir
        Folder for ``<name>.ipynb`` and ``<name>.html`` (created if needed).
    parameters
        Name -> value; text values are converted to the declared types.
    kernel_name
        Kernel to run in (``python3``).
    progress_bar
        Show papermill's cell progress bar on stderr; a dict gives its tqdm options
        (:func:`progress_options`).
    cwd
        Working directory of the kernel; default the notebook's folder (as in Jupyter).
    execution_timeout
        Seconds one cell may take (``None``: no limit).
    html
        Also write the HTML export.
    progress
        Callable ``progress(cell, total)`` called as each cell starts (1-based), e.g. a
        :class:`LiveLine`; ``None``: none.

    Returns
    -------
    ReportResult

    Raises
    ------
    ReportParameterError
        For an unknown parameter or a value of the wrong type.

    Examples
    --------
    >>> # the text "40" becomes the int the notebook declares, before any kernel starts
    >>> coerce_parameters("tests/fixtures/add_numbers.ipynb", {"a": "40"})
    {'a': 40}
    >>> # starts a Jupyter kernel (a few seconds)
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> result = run_report("tests/fixtures/add_numbers.ipynb", out, {"a": "40"})
    >>> result.ok, result.html.name
    (True, 'add_numbers.html')
    >>> import shutil
    >>> shutil.rmtree(out)
    """
    import papermill

    source = absolute(notebook)
    params = coerce_parameters(source, dict(parameters or {}))
    # Absolute: papermill runs the kernel (and saves) from the notebook's folder.
    out = prepare_out_dir(out_dir)
    result = ReportResult(notebook=source, executed=out / source.name, parameters=params)
    start = time.perf_counter()
    try:
        # static charts (use_auto_renderer); attached CSVs go beside the executed notebook
        with _environment({REPORT_ENV: "1", REPORT_DIR_ENV: str(out)}):
            papermill.execute_notebook(
                str(source),
                str(result.executed),
                parameters=params,
                kernel_name=kernel_name,
                progress_bar=progress_bar,
                cwd=str(absolute(cwd) if cwd is not None else source.parent),
                execution_timeout=execution_timeout,
                kernel_manager_class=_kernel_logging_to(
                    result.executed.with_suffix(".kernel.log")
                ),
                **({"engine_name": _progress_engine(), "progress": progress}
                   if progress is not None else {}),
            )
        if html:
            result.html = export_html(result.executed, result.executed.with_suffix(".html"))
    except Exception as exc:  # any failure (cell error, kernel, nbformat) is a failed result
        result.ok = False
        result.error = describe_failure(source, exc)
    result.seconds = time.perf_counter() - start
    return result


def _kernel_logging_to(path: Path) -> type:
    """A kernel manager whose kernel process writes its stderr (its own log) to ``path``."""
    from jupyter_client.manager import AsyncKernelManager

    class KernelLoggingToFile(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            with open(path, "ab") as log:  # the kernel process keeps its own copy
                kw["stderr"] = log
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return KernelLoggingToFile


def default_jobs(notebooks: int) -> int:
    """Notebooks :func:`run_reports` runs at once by default: one per usable core (the CPUs
    this process may use), at least 1 and at most ``notebooks``.

    Examples
    --------
    >>> default_jobs(1)
    1
    >>> 1 <= default_jobs(3) <= 3
    True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, notebooks))


def run_reports(
    notebooks: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    data_parameters: Mapping[str, Any] | None = None,
    progress_bar: bool | dict[str, Any] = False,
    log: Any = None,
    jobs: int | None = None,
    **run_options: Any,
) -> list[ReportResult]:
    """Run several report notebooks into ``out_dir``; a failure does not stop the others.

    All parameters are checked against all notebooks, and the output folder is created and
    checked, before the first one runs (:func:`plan_parameters`, :func:`prepare_out_dir`).

    Parameters
    ----------
    notebooks
        Notebooks to run, in order.
    out_dir
        Output folder shared by all.
    parameters
        Common parameters; each goes to the notebooks that declare it.
    data_dir
        Data folder: sets the ``*_path`` parameters where declared, and
        ``WORKBENCH_DATA_DIR`` for the kernels.
    data_parameters
        Parameters from a project file (:func:`project_parameters`), each passed to the
        notebooks that declare it.
    progress_bar
        ``True``: a live line per notebook (:class:`LiveLine`), rewritten at every cell,
        when the progress stream (``progress_stream=``, default standard error) is a
        terminal; nothing more when it is not (a pipe, a CI log: the ``log`` lines say when
        each notebook starts and ends). A dict: papermill's own tqdm bar with these options.
    log
        Callable taking one line of progress text (``print`` in the CLI), or ``None``.
    jobs
        Notebooks run at once, each in a process and kernel of its own (default
        :func:`default_jobs`: one per usable core, at most the number of notebooks).  The
        results, the files and their contents are the same for any value; only the order of
        the ``log`` lines changes.
        With more than one job the live progress line is left out (lines would interleave).
    **run_options
        Passed on to :func:`run_report`.

    Returns
    -------
    list of ReportResult

    Examples
    --------
    >>> # runs every notebook in a Jupyter kernel (minutes): not run here
    >>> results = run_reports(find_notebooks(), "reports/now", {"as_of": "2026-03-31"})
    ... # doctest: +SKIP
    >>> [r.ok for r in results]  # doctest: +SKIP
    [True, True]
    """
    plan = plan_parameters(notebooks, parameters, data_dir, data_parameters)
    out_dir = prepare_out_dir(out_dir)
    stream = run_options.pop("progress_stream", None)
    jobs = default_jobs(len(plan)) if jobs is None else max(1, int(jobs))
    total = len(plan)

    def started(i: int, nb: Path, params: dict[str, Any]) -> None:
        if log:
            shown = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "defaults"
            log(f"[{i}/{total}] {nb.name} ({shown})")

    def finished(result: ReportResult) -> None:
        if log:
            name = "" if jobs == 1 else f"{result.notebook.name} "
            if result.ok:
                log(f"      {name}done in {result.seconds:.1f} s -> {result.html}")
            else:
                log(f"      {name}FAILED: {result.error}")
                log(f"      failed notebook kept: {result.executed}")

    # Set for the whole run, before any kernel starts: run_report sets the same values for
    # its own notebook and puts them back when it ends, which then leaves them as they are.
    env = {REPORT_ENV: "1", REPORT_DIR_ENV: str(out_dir)}
    if data_dir is not None:
        env[DATA_DIR_ENV] = str(absolute(data_dir))
    items = [(i, nb, params) for i, (nb, params) in enumerate(plan.items(), start=1)]
    results: list[ReportResult] = []
    with _environment(env):
        if jobs == 1 or total <= 1:
            for i, nb, params in items:
                started(i, nb, params)
                live = LiveLine(stream, f"[{i}/{total}] {nb.name}") if (
                    progress_bar is True
                    and is_terminal(stream if stream is not None else _stderr())) else None
                bar = progress_bar if isinstance(progress_bar, dict) else False
                try:
                    result = run_report(nb, out_dir, params, progress_bar=bar, progress=live,
                                        **run_options)
                finally:
                    if live is not None:
                        live.clear()
                finished(result)
                results.append(result)
        else:
            results = _run_in_processes(items, out_dir, min(jobs, total), started, finished,
                                        run_options)
    return results


def _run_in_processes(
    items: list[tuple[int, Path, dict[str, Any]]],
    out_dir: Path,
    jobs: int,
    started: Any,
    finished: Any,
    run_options: dict[str, Any],
) -> list[ReportResult]:
    """:func:`run_report` of each ``(i, notebook, parameters)``, ``jobs`` at once, each in a
    process of its own: papermill starts each kernel in the folder it ``chdir()``s to, which
    threads of one process would share.  Results in the order of ``items``."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {}
        for i, nb, params in items:
            started(i, nb, params)
            futures[pool.submit(run_report, nb, out_dir, params, **run_options)] = i
        for future in as_completed(futures):
            finished(future.result())
        by_index = {futures[f]: f.result() for f in futures}
    return [by_index[i] for i, _, _ in items]


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an interactive terminal (has ``isatty()`` returning True).

    Examples
    --------
    >>> import io
    >>> is_terminal(io.StringIO())
    False
    """
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _stderr() -> Any:
    import sys

    return sys.stderr


class LiveLine:
    """One line on a terminal, rewritten in place as a notebook runs its cells.

    It reads ``[2/3] clv.ipynb  cell 7 of 26  12.3 s`` and is cleared when the notebook ends
    (the runner then logs its result on a line of its own). Its width is cut to the terminal's
    (80 columns when the terminal reports no size).

    Parameters
    ----------
    stream
        The terminal; default standard error.
    label
        What runs (``[2/3] clv.ipynb``).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> line = LiveLine(out, "[1/1] a.ipynb")
    >>> line(3, 10)
    >>> out.getvalue().startswith("\\r\\x1b[K[1/1] a.ipynb  cell 3 of 10")
    True
    """

    def __init__(self, stream: Any = None, label: str = "") -> None:
        self.stream = stream if stream is not None else _stderr()
        self.label = label
        self.start = time.perf_counter()
        self.shown = False

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
        return columns if columns > 20 else 80

    def __call__(self, cell: int, total: int) -> None:
        """Show that cell ``cell`` of ``total`` (1-based) is running."""
        seconds = time.perf_counter() - self.start
        text = f"{self.label}  cell {cell} of {total}  {seconds:.1f} s"
        self.stream.write("\r\x1b[K" + text[: self._width() - 1])
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        """Erase the line (when anything was shown)."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _progress_engine() -> str:
    """Register (once) and name the papermill engine that reports each cell to a callback."""
    from papermill.engines import NBClientEngine, papermill_engines

    name = "workbench-progress"
    if name in papermill_engines._engines:
        return name

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            progress = kwargs.pop("progress", None)
            if progress is not None:
                started = nb_man.cell_start
                total = len(nb_man.nb.cells)

                def cell_start(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
                    progress((cell_index or 0) + 1, total)
                    return started(cell, cell_index, **kw)

                nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(name, ProgressEngine)
    return name


def format_summary(results: Sequence[ReportResult]) -> str:
    """A plain-text table of the outputs, one row per notebook.

    Examples
    --------
    >>> r = ReportResult(Path("rfm.ipynb"), Path("out/rfm.ipynb"), Path("out/rfm.html"), seconds=2)
    >>> print(format_summary([r]))
    notebook   status  seconds  html          executed notebook
    rfm.ipynb  ok          2.0  out/rfm.html  out/rfm.ipynb
    """
    header = ("notebook", "status", "seconds", "html", "executed notebook")
    rows = [
        (
            r.notebook.name,
            "ok" if r.ok else "FAILED",
            f"{r.seconds:.1f}",
            str(r.html) if r.html else "-",
            str(r.executed),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.rjust(widths[i]) if i == 2 else cell.ljust(widths[i]) for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    return "\n".join(line(row) for row in [header, *rows])
