"""``workbench lab``: JupyterLab on a working copy of the report notebooks.

The report notebooks of the package are *templates*: ``workbench report`` runs them with
papermill and never writes into them. An analyst who wants to explore opens a working copy:

1. :func:`prepare_workspace` copies every report notebook into a folder of the user's project
   (``./analysis/`` by default), outputs stripped, an existing copy kept unless ``force``;
   the ``parameters`` cell of each copy is pre-filled with the project's data: absolute paths
   to the tables, the project file, the as-of date (:func:`workspace_parameters`);
2. :func:`lab_command` is the JupyterLab server on that folder (loopback, a token), and
   :func:`run_lab` starts it and prints the URL.

Outputs and edits land in the working copy only; the templates in ``notebooks/`` stay
output-free (a packaging test checks it). Charts are interactive in the working copy
(:func:`workbench.presentation.charts.use_auto_renderer` picks the offline ``alt.JupyterChart``).

Examples
--------
>>> from workbench.app.lab import prepare_workspace
>>> import tempfile
>>> result = prepare_workspace(tempfile.mkdtemp(), data_dir="sample_data")
>>> [p.name for p in result.copied]
['clv.ipynb', 'loyalty.ipynb', 'rfm_segmentation.ipynb']
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.app.report import (
    absolute,
    data_dir_parameters,
    find_notebooks,
    inspect_parameters,
)

#: Working folder of ``workbench lab`` when ``--dir`` is not given (relative to the cwd).
DEFAULT_LAB_DIR = "analysis"
#: Sub-folder of the working folder that holds the project's tables as cleaned Parquet files.
DATA_SUBDIR = "data"
#: Notebook metadata key recording the template a working copy was made from.
TEMPLATE_KEY = "workbench"


@dataclass
class Workspace:
    """What :func:`prepare_workspace` did.

    Attributes
    ----------
    folder
        The working folder (absolute).
    copied
        Working copies written (new, or overwritten with ``force``).
    kept
        Existing copies left as they were.
    parameters
        Per notebook name, the parameter values written into its parameters cell.
    """

    folder: Path
    copied: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)


def strip_outputs(nb: Any) -> Any:
    """Remove outputs, execution counts and papermill/execution metadata (in place).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", execution_count=3)])
    >>> strip_outputs(nb).cells[0].execution_count is None
    True
    """
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("papermill", "execution"):
            cell.metadata.pop(key, None)
    return nb


def set_parameter_values(source: str, values: Mapping[str, Any]) -> str:
    """The source of a ``parameters`` cell with the values of some assignments replaced.

    Type hints and comments are kept; a name the cell does not assign is ignored.

    Parameters
    ----------
    source
        The cell's code (``name: type = value  # comment`` lines).
    values
        Name -> new value (text, number, bool or ``None``), written as a Python literal.

    Examples
    --------
    >>> print(set_parameter_values('as_of: str = ""  # as-of date\\nn: int = 3', {"as_of": "x"}))
    as_of: str = "x"  # as-of date
    n: int = 3
    """
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value = node.target.id, node.value
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, value = node.targets[0].id, node.value
        else:
            continue
        if name not in values or value is None or value.lineno != value.end_lineno:
            continue
        new = values[name]
        literal = json.dumps(new, ensure_ascii=False) if isinstance(new, str) else repr(new)
        edits.append((value.lineno - 1, value.col_offset, value.end_col_offset or 0, literal))
    for row, start, end, literal in sorted(edits, reverse=True):
        # ast offsets count UTF-8 bytes
        raw = lines[row].encode("utf-8")
        lines[row] = (raw[:start] + literal.encode("utf-8") + raw[end:]).decode("utf-8")
    return "".join(lines)


def workspace_parameters(
    folder: str | os.PathLike[str],
    *,
    config: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The parameter values a working copy gets: the project's data, as absolute paths.

    With a project file its tables are written, cleaned and typed, as Parquet files into
    ``<folder>/data/`` (as ``workbench report --config`` does) and ``config_path`` and
    ``as_of`` are set; with a data folder its tables are used directly; with neither, the
    repository's ``sample_data/`` when it exists (the templates' relative paths would not
    resolve from the working folder).

    Returns
    -------
    dict
        ``transactions_path``, ``customers_path``, ``surveys_path`` and, with a project file,
        ``config_path`` and ``as_of``; ``{}`` when there is no data to point at.

    Raises
    ------
    ConfigError
        An invalid project file.
    DataValidationError
        A table of the project breaks the data contract.
    ReportParameterError
        A data folder without transactions.
    """
    if config is not None:
        from workbench.app.report import project_parameters
        from workbench.core.project import load_project

        project = load_project(Path(config))
        transactions = project.read_transactions()
        params: dict[str, Any] = dict(
            project_parameters(project, absolute(folder) / DATA_SUBDIR, transactions=transactions)
        )
        params["as_of"] = project.resolve_as_of(transactions)[0].isoformat()
        return params
    if data_dir is not None:
        return dict(data_dir_parameters(data_dir))
    from workbench.app.templates import project_root

    sample = project_root() / "sample_data"
    if (sample / "transactions.csv").is_file():
        return dict(data_dir_parameters(sample))
    return {}


def prepare_workspace(
    folder: str | os.PathLike[str] = DEFAULT_LAB_DIR,
    *,
    config: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    notebooks: Sequence[str | os.PathLike[str]] | None = None,
    force: bool = False,
) -> Workspace:
    """Copy the report notebooks into ``folder`` with their parameters pre-filled.

    Parameters
    ----------
    folder
        The working folder (created if needed).
    config
        Project file (``workbench.toml``) whose data the copies point at.
    data_dir
        Data folder (``transactions.csv``...) instead of a project file.
    notebooks
        Template notebooks (default: every report notebook, :func:`find_notebooks`).
    force
        Overwrite existing copies (default: keep them, with the analyst's edits).

    Returns
    -------
    Workspace

    Examples
    --------
    >>> import tempfile
    >>> ws = prepare_workspace(tempfile.mkdtemp(), data_dir="sample_data")
    >>> ws.copied[0].parent == ws.folder
    True
    """
    import nbformat

    target = absolute(folder)
    templates = [absolute(p) for p in notebooks] if notebooks else find_notebooks()
    for template in templates:
        if target == template.parent:
            raise FileExistsError(
                f"{target} holds the templates themselves: choose another --dir"
            )
    target.mkdir(parents=True, exist_ok=True)
    values = workspace_parameters(target, config=config, data_dir=data_dir)
    workspace = Workspace(folder=target)
    for template in templates:
        copy = target / template.name
        if copy.exists() and not force:
            workspace.kept.append(copy)
            continue
        declared = inspect_parameters(template)
        wanted = {k: v for k, v in values.items() if k in declared}
        nb = strip_outputs(nbformat.read(template, as_version=4))
        for cell in nb.cells:
            if "parameters" in cell.metadata.get("tags", []):
                cell.source = set_parameter_values(cell.source, wanted)
                break
        nb.metadata[TEMPLATE_KEY] = {"template": template.name}
        nbformat.write(nb, copy)
        workspace.copied.append(copy)
        workspace.parameters[template.name] = wanted
    return workspace


def lab_command(
    folder: str | os.PathLike[str],
    port: int,
    token: str,
    host: str = "127.0.0.1",
    *,
    open_browser: bool = True,
) -> list[str]:
    """The command line of a JupyterLab server on ``folder`` (``--allow-root`` as root).

    Examples
    --------
    >>> cmd = lab_command("/tmp/lab", 8890, "t0k", open_browser=False)
    >>> "--ServerApp.root_dir=/tmp/lab" in cmd and "--no-browser" in cmd
    True
    """
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={absolute(folder)}",
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI runners
        cmd.append("--allow-root")
    return cmd


def lab_url(host: str, port: int, token: str, notebook: str | None = None) -> str:
    """The URL that opens JupyterLab (on ``notebook`` when given) and logs in with the token.

    Examples
    --------
    >>> lab_url("127.0.0.1", 8890, "abc", "rfm_segmentation.ipynb")
    'http://127.0.0.1:8890/lab/tree/rfm_segmentation.ipynb?token=abc'
    """
    path = f"/lab/tree/{notebook}" if notebook else "/lab"
    return f"http://{host}:{port}{path}?token={token}"


def lab_environment(data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Environment of the JupyterLab server: interactive charts (no report markers).

    Examples
    --------
    >>> "WORKBENCH_REPORT" in lab_environment()
    False
    """
    from workbench.app.report import REPORT_ENV
    from workbench.app.serve import DATA_DIR_ENV

    env = {k: v for k, v in os.environ.items() if k != REPORT_ENV}
    if data_dir is not None:
        env[DATA_DIR_ENV] = str(absolute(data_dir))
    return env


def run_lab(
    folder: str | os.PathLike[str],
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    token: str | None = None,
    open_browser: bool = True,
    notebook: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    log: Any = print,
) -> int:
    """Start JupyterLab on ``folder``, print its URL, and wait until it stops.

    Parameters
    ----------
    folder
        The working folder (:func:`prepare_workspace`).
    port
        Port (0: a free one).
    host
        Address to listen on (loopback by default).
    token
        Login token (default: a random one, printed in the URL).
    open_browser
        Let JupyterLab open a browser tab.
    notebook
        Notebook the printed URL opens.
    data_dir
        ``WORKBENCH_DATA_DIR`` for the kernels.
    log
        Callable taking one line of text.

    Returns
    -------
    int
        JupyterLab's exit code (0 after Ctrl-C).
    """
    from workbench.app.serve import free_port

    port = port or free_port(host)
    token = token or secrets.token_urlsafe(24)
    cmd = lab_command(folder, port, token, host, open_browser=open_browser)
    log(f"JupyterLab on {absolute(folder)}: {lab_url(host, port, token, notebook)}")
    log("Stop it with Ctrl-C.")
    process = subprocess.Popen(cmd, env=lab_environment(data_dir), cwd=absolute(folder))
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0
