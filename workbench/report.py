"""Run the report notebooks with papermill and export them to HTML without code.

Each report notebook in ``notebooks/`` has one cell tagged ``parameters`` whose parameters
carry type hints and comments (``horizon_weeks: int = 52  # forecast horizon``). This module:

- checks the parameters asked for against :func:`papermill.inspect_notebook` *before* running
  (papermill itself only warns about a misspelled name) and converts values given as text to
  the declared type (:func:`coerce_parameters`);
- runs a notebook with ``kernel_name="python3"`` and writes the executed notebook and an HTML
  export with the code hidden (:func:`run_report`); the kernel's own log (its stderr: start-up
  warnings, and tracebacks of its messaging threads while it shuts down) goes to
  ``<notebook>.kernel.log`` beside the executed notebook instead of the user's terminal;
- runs several notebooks, passing each common parameter only to the notebooks that declare it,
  and goes on after a failure (:func:`run_reports`).

Examples
--------
>>> from workbench.report import run_reports, find_notebooks
>>> notebooks = find_notebooks()  # doctest: +SKIP
>>> results = run_reports(notebooks, "reports/test", {"as_of": "2026-03-31"})  # doctest: +SKIP
>>> print(format_summary(results))  # doctest: +SKIP
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.serve import DATA_DIR_ENV, project_root

#: Kernel every report runs in (a personal kernel name fails in CI with NoSuchKernel).
KERNEL_NAME = "python3"

#: Parameters that ``--data-dir DIR`` sets, to ``DIR/<file>``, in notebooks that declare them.
DATA_FILES: dict[str, str] = {
    "transactions_path": "transactions.csv",
    "customers_path": "customers.csv",
    "surveys_path": "surveys.csv",
}

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_CONTAINERS = {"list": list, "dict": dict, "tuple": tuple, "set": set}


class ReportParameterError(ValueError):
    """A parameter asked for is not declared by a notebook, or its value has the wrong type."""


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
    """The report notebooks of the repository (``<root>/notebooks``).

    Examples
    --------
    >>> default_notebooks_dir().name
    'notebooks'
    """
    return project_root() / "notebooks"


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
    >>> find_notebooks("tests/fixtures", ["add_numbers"])  # doctest: +SKIP
    [PosixPath('tests/fixtures/add_numbers.ipynb')]
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    available = sorted(
        p for p in folder.glob("*.ipynb") if not p.name.startswith((".", "_"))
    ) if folder.is_dir() else []
    if not names:
        return available
    chosen = []
    for name in names:
        as_path = Path(name)
        if as_path.suffix == ".ipynb" and as_path.is_file():
            chosen.append(as_path)
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
    ... # doctest: +SKIP
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


def data_dir_parameters(data_dir: str | os.PathLike[str]) -> dict[str, str]:
    """The ``*_path`` parameters that point the notebooks at the files of ``data_dir``.

    Examples
    --------
    >>> data_dir_parameters("/data")["transactions_path"]
    '/data/transactions.csv'
    """
    root = Path(data_dir).resolve()
    return {name: str(root / file) for name, file in DATA_FILES.items()}


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

    Values that are not strings are passed through unchanged.

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
        its parameters) or a value of the wrong type.

    Examples
    --------
    >>> decl = {"n": {"inferred_type_name": "int", "default": "3"}}
    >>> coerce_parameters("demo.ipynb", {"n": "5"}, declared=decl)
    {'n': 5}
    >>> coerce_parameters("demo.ipynb", {"m": "5"}, declared=decl)
    Traceback (most recent call last):
    ...
    workbench.report.ReportParameterError: demo.ipynb has no parameter 'm' (its parameters: n)
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
        if not isinstance(value, str):
            out[key] = value
            continue
        info = spec[key]
        try:
            out[key] = coerce_value(value, info.get("inferred_type_name"), info.get("default"))
        except ValueError as exc:
            raise ReportParameterError(f"{name}: parameter {key!r}: {exc}") from None
    return out


def plan_parameters(
    notebooks: Sequence[str | os.PathLike[str]],
    parameters: Mapping[str, Any] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> dict[Path, dict[str, Any]]:
    """Decide, before running anything, which parameters each notebook gets.

    A parameter goes to every notebook that declares it; a name that none of them declares
    is an error. ``data_dir`` sets the ``*_path`` parameters of :data:`DATA_FILES` where
    declared (an explicit ``parameters`` entry wins).

    Raises
    ------
    ReportParameterError
        For a name no notebook declares, or a value of the wrong type.

    Examples
    --------
    >>> plan_parameters(["notebooks/rfm.ipynb"], {"as_of": "2026-03-31"})  # doctest: +SKIP
    {PosixPath('notebooks/rfm.ipynb'): {'as_of': '2026-03-31'}}
    """
    parameters = dict(parameters or {})
    declared = {Path(nb): inspect_parameters(nb) for nb in notebooks}
    unknown = [k for k in parameters if not any(k in spec for spec in declared.values())]
    if unknown:
        lines = [
            f"  {nb.name}: {', '.join(spec) or 'no parameters'}" for nb, spec in declared.items()
        ]
        names = ", ".join(repr(k) for k in unknown)
        raise ReportParameterError(
            f"no report notebook declares {names}; valid parameters:\n" + "\n".join(lines)
        )
    base = data_dir_parameters(data_dir) if data_dir is not None else {}
    plan = {}
    for nb, spec in declared.items():
        wanted = {k: v for k, v in {**base, **parameters}.items() if k in spec}
        plan[nb] = coerce_parameters(nb, wanted, declared=spec)
    return plan


def export_html(executed: str | os.PathLike[str], html_path: str | os.PathLike[str]) -> Path:
    """Write an HTML export of ``executed`` with code and prompts hidden (``--no-input``).

    Examples
    --------
    >>> export_html("reports/x/rfm.ipynb", "reports/x/rfm.html")  # doctest: +SKIP
    PosixPath('reports/x/rfm.html')
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


def _describe_failure(notebook: Path, exc: BaseException) -> str:
    """One line naming the notebook, the failed cell and its exception."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        evalue = str(exc.evalue).strip().splitlines()
        first = evalue[0] if evalue else ""
        cell = f"cell [{exc.exec_count}]" if exc.exec_count else f"cell #{exc.cell_index}"
        return f"{notebook.name}: {cell} failed: {exc.ename}: {first}"
    text = str(exc).strip().splitlines()
    return f"{notebook.name}: {type(exc).__name__}: {text[0] if text else ''}"


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
    progress_bar: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    execution_timeout: int | None = None,
    html: bool = True,
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
        Show papermill's cell progress bar on stderr.
    cwd
        Working directory of the kernel; default the notebook's folder (as in Jupyter).
    execution_timeout
        Seconds one cell may take (``None``: no limit).
    html
        Also write the HTML export.

    Returns
    -------
    ReportResult

    Raises
    ------
    ReportParameterError
        For an unknown parameter or a value of the wrong type.

    Examples
    --------
    >>> result = run_report("tests/fixtures/add_numbers.ipynb", "/tmp/out", {"a": "40"})
    ... # doctest: +SKIP
    >>> result.ok, result.html.name  # doctest: +SKIP
    (True, 'add_numbers.html')
    """
    import papermill

    source = Path(notebook)
    params = coerce_parameters(source, dict(parameters or {}))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ReportResult(notebook=source, executed=out / source.name, parameters=params)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(result.executed),
            parameters=params,
            kernel_name=kernel_name,
            progress_bar=progress_bar,
            cwd=str(cwd if cwd is not None else source.resolve().parent),
            execution_timeout=execution_timeout,
            kernel_manager_class=_kernel_logging_to(result.executed.with_suffix(".kernel.log")),
        )
        if html:
            result.html = export_html(result.executed, result.executed.with_suffix(".html"))
    except Exception as exc:  # any failure (cell error, kernel, nbformat) is a failed result
        result.ok = False
        result.error = _describe_failure(source, exc)
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


def run_reports(
    notebooks: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    progress_bar: bool = False,
    log: Any = None,
    **run_options: Any,
) -> list[ReportResult]:
    """Run several report notebooks into ``out_dir``; a failure does not stop the others.

    All parameters are checked against all notebooks before the first one runs
    (:func:`plan_parameters`).

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
    progress_bar
        Show papermill's progress bar.
    log
        Callable taking one line of progress text (``print`` in the CLI), or ``None``.
    **run_options
        Passed on to :func:`run_report`.

    Returns
    -------
    list of ReportResult

    Examples
    --------
    >>> results = run_reports(find_notebooks(), "reports/now", {"as_of": "2026-03-31"})
    ... # doctest: +SKIP
    >>> [r.ok for r in results]  # doctest: +SKIP
    [True, True]
    """
    plan = plan_parameters(notebooks, parameters, data_dir)
    env = {DATA_DIR_ENV: str(Path(data_dir).resolve())} if data_dir is not None else {}
    results = []
    with _environment(env):
        for i, (nb, params) in enumerate(plan.items(), start=1):
            if log:
                shown = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "defaults"
                log(f"[{i}/{len(plan)}] {nb.name} ({shown})")
            result = run_report(nb, out_dir, params, progress_bar=progress_bar, **run_options)
            if log:
                if result.ok:
                    log(f"      done in {result.seconds:.1f} s -> {result.html}")
                else:
                    log(f"      FAILED: {result.error}")
                    log(f"      failed notebook kept: {result.executed}")
            results.append(result)
    return results


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
