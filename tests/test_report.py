"""The papermill report runner (``workbench.app.report``) on small fixture notebooks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from cli_helpers import run_cli

from workbench.app.report import (
    ReportParameterError,
    coerce_parameters,
    coerce_value,
    find_notebooks,
    format_summary,
    parse_param_args,
    plan_parameters,
    run_report,
    run_reports,
)

FIXTURES = Path(__file__).parent / "fixtures"
ADD = FIXTURES / "add_numbers.ipynb"
FAILING = FIXTURES / "failing.ipynb"


def printed(executed: Path) -> str:
    """All stream output of an executed notebook."""
    nb = nbformat.read(executed, as_version=4)
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream"
    )


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """A folder with copies of the fixture report notebooks (as a notebooks/ folder)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for nb in (ADD, FAILING):
        shutil.copy(nb, folder / nb.name)
    return folder


@pytest.mark.slow
def test_run_report_writes_notebook_and_html_without_code(tmp_path: Path) -> None:
    result = run_report(ADD, tmp_path / "out", {"a": "40", "double": "true", "extra": "[1, 2]"})

    assert result.ok, result.error
    assert result.executed == tmp_path / "out" / "add_numbers.ipynb"
    assert result.executed.is_file() and result.html is not None and result.html.is_file()
    assert result.parameters == {"a": 40, "double": True, "extra": [1, 2]}
    # (40 + 2.5 + 3) * 2: the converted values reached the kernel
    assert "RESULT total=91.0" in printed(result.executed)
    html = result.html.read_text(encoding="utf-8")
    assert "RESULT total=91.0" in html
    assert "hidden_code_marker" not in html, "the HTML export must not show code"
    assert "a: int = 1" not in html


@pytest.mark.slow
def test_failing_cell_gives_failed_result_and_keeps_notebook(tmp_path: Path) -> None:
    result = run_report(FAILING, tmp_path, {"message": "fixture says no"})

    assert not result.ok
    assert result.html is None
    assert "failing.ipynb" in result.error
    assert "RuntimeError: fixture says no" in result.error
    assert result.executed.is_file(), "the failed notebook is kept for inspection"
    nb = nbformat.read(result.executed, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors and errors[0].ename == "RuntimeError"


@pytest.mark.slow
def test_run_reports_goes_on_after_a_failure(report_dir: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    results = run_reports(
        find_notebooks(report_dir), tmp_path / "out", {"a": "1"}, log=lines.append
    )

    assert [r.notebook.name for r in results] == ["add_numbers.ipynb", "failing.ipynb"]
    assert [r.ok for r in results] == [True, False]
    assert results[0].parameters == {"a": 1}  # failing.ipynb does not declare `a`
    assert results[1].parameters == {}
    assert any("FAILED" in line and "failing.ipynb" in line for line in lines)
    table = format_summary(results)
    assert "FAILED" in table and "add_numbers.html" in table


def test_unknown_parameter_is_rejected_before_running(tmp_path: Path) -> None:
    with pytest.raises(ReportParameterError) as info:
        run_report(ADD, tmp_path, {"horizon": "3"})
    message = str(info.value)
    assert "add_numbers.ipynb" in message and "'horizon'" in message
    assert "a, b, label, double, extra" in message
    assert not any(tmp_path.iterdir()), "nothing may run or be written"


def test_name_no_notebook_declares_is_rejected(report_dir: Path) -> None:
    with pytest.raises(ReportParameterError, match="no report notebook declares 'horizon'"):
        plan_parameters(find_notebooks(report_dir), {"a": "2", "horizon": "3"})


def test_common_and_data_dir_parameters_go_where_declared(
    report_dir: Path, tmp_path: Path
) -> None:
    decl = {"transactions_path": {"inferred_type_name": "str"}, "a": {"inferred_type_name": "int"}}
    data = tmp_path / "data"
    data.mkdir()
    (data / "transactions.csv").write_text("customer_id,order_date,amount\n")
    plan = plan_parameters(find_notebooks(report_dir), {"message": "x"}, data_dir=data)
    assert plan[report_dir / "add_numbers.ipynb"] == {}
    assert plan[report_dir / "failing.ipynb"] == {"message": "x"}
    got = coerce_parameters("x.ipynb", {"transactions_path": str(tmp_path / "t.csv")}, decl)
    assert got == {"transactions_path": str(tmp_path / "t.csv")}


@pytest.mark.parametrize(
    ("text", "type_name", "default", "expected"),
    [
        ("52", "int", "1", 52),
        ("-3", "int", None, -3),
        ("0.25", "float", "1.0", 0.25),
        ("3", "float", None, 3.0),
        ("true", "bool", "False", True),
        ("No", "bool", "True", False),
        ("1", "bool", None, True),
        ("2026-03-31", "str", '"2025-12-31"', "2026-03-31"),
        ("42", "str", None, "42"),
        ("[1, 2, 3]", "list", None, [1, 2, 3]),
        ("['a', 'b']", "list[str]", None, ["a", "b"]),
        ('{"a": 1}', "dict", None, {"a": 1}),
        ("{'a': 1}", "dict[str, int]", None, {"a": 1}),
        ("none", "Optional[int]", "None", None),
        ("5", "int | None", "None", 5),
        ("null", "str | None", None, None),
        ("7", "None", "3", 7),  # no hint: the default's type
        ("7", "None", '"3"', "7"),
        ("0.5", "None", "None", 0.5),  # no hint, no typed default: a literal
        ("abc", "None", "None", "abc"),
    ],
)
def test_coerce_value(text: str, type_name: str, default: str | None, expected: object) -> None:
    value = coerce_value(text, type_name, default)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "type_name"),
    [("abc", "int"), ("1.5", "int"), ("x", "float"), ("maybe", "bool"), ("{1: 2}", "list")],
)
def test_coerce_value_rejects_wrong_type(text: str, type_name: str) -> None:
    with pytest.raises(ValueError):
        coerce_value(text, type_name)


def test_coerce_parameters_names_notebook_and_parameter_on_bad_value() -> None:
    with pytest.raises(ReportParameterError, match=r"add_numbers\.ipynb: parameter 'a'"):
        coerce_parameters(ADD, {"a": "many"})
    assert coerce_parameters(ADD, {"a": 3, "b": "1e3"}) == {"a": 3, "b": 1000.0}


def test_parse_param_args() -> None:
    assert parse_param_args(["a=1", "url=http://x?y=z", "empty="]) == {
        "a": "1",
        "url": "http://x?y=z",
        "empty": "",
    }
    with pytest.raises(ReportParameterError):
        parse_param_args(["novalue"])
    with pytest.raises(ReportParameterError):
        parse_param_args(["not a name=1"])


def test_find_notebooks_by_name(report_dir: Path) -> None:
    assert find_notebooks(report_dir, ["failing"]) == [report_dir / "failing.ipynb"]
    assert find_notebooks(report_dir, ["add_numbers.ipynb"]) == [report_dir / "add_numbers.ipynb"]
    with pytest.raises(ReportParameterError, match="available: add_numbers, failing"):
        find_notebooks(report_dir, ["nope"])


@pytest.mark.slow
def test_cli_report_exit_codes_and_kept_failed_notebook(report_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli(
        "report", "--notebooks-dir", str(report_dir), "--out", str(out),
        "--param", "a=5", "--no-progress",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    # the kernel's own log (start-up warnings, shutdown tracebacks) goes beside the notebook
    assert "IPKernelApp" not in proc.stderr
    assert "IPKernelApp" in (out / "failing.kernel.log").read_text(encoding="utf-8")
    assert "failing.ipynb: cell" in proc.stderr and "RuntimeError: boom from fixture" in proc.stderr
    assert str(out / "failing.ipynb") in proc.stderr
    assert (out / "failing.ipynb").is_file()
    assert (out / "add_numbers.html").is_file()
    assert "RESULT total=7.5" in printed(out / "add_numbers.ipynb")
    assert "add_numbers.ipynb" in proc.stdout and "FAILED" in proc.stdout  # summary table

    ok = run_cli(
        "report", "--notebooks-dir", str(report_dir), "--notebook", "add_numbers",
        "--out", str(tmp_path / "ok"), "--param", "label=sum",
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "RESULT sum=3.5" in printed(tmp_path / "ok" / "add_numbers.ipynb")


def test_cli_report_unknown_parameter_exits_2(report_dir: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "report", "--notebooks-dir", str(report_dir), "--out", str(tmp_path / "out"),
        "--param", "horizon=3",
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "horizon" in proc.stderr and "add_numbers.ipynb" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_cli_report_list(report_dir: Path) -> None:
    proc = run_cli("report", "--notebooks-dir", str(report_dir), "--list")
    assert proc.returncode == 0, proc.stderr
    assert "add_numbers" in proc.stdout and "a: int = 1  # first addend" in proc.stdout


def test_live_line_rewrites_one_line_and_clears_it() -> None:
    import io

    from workbench.app.report import LiveLine

    out = io.StringIO()
    line = LiveLine(out, "[2/3] clv.ipynb")
    line(1, 26)
    line(7, 26)
    line.clear()
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 3
    assert "[2/3] clv.ipynb  cell 1 of 26" in text and "[2/3] clv.ipynb  cell 7 of 26" in text
    assert text.endswith("\r\x1b[K") and "\n" not in text


def test_no_live_line_when_not_a_terminal(tmp_path: Path) -> None:
    import io

    from workbench.app.report import is_terminal

    assert not is_terminal(io.StringIO()) and not is_terminal(None)


@pytest.mark.slow
def test_report_shows_a_live_line_per_cell_in_a_terminal(tmp_path: Path) -> None:
    """``workbench report`` under a pseudo-terminal: a live line per notebook and cell."""
    import os
    import pty

    out = b""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI with a terminal as stdout and stderr
        os.execv(sys.executable, [sys.executable, "-m", "workbench", "report",
                                  "--notebooks-dir", str(FIXTURES), "--notebook", "add_numbers",
                                  "--out", str(tmp_path / "out")])
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    text = out.decode()
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "[1/1] add_numbers.ipynb  cell 1 of " in text
    assert "\r\x1b[K[1/1] add_numbers.ipynb  cell 2 of " in text
    assert "done in" in text and "Executing:" not in text


@pytest.mark.slow
def test_report_piped_has_no_carriage_returns(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "report", "--notebooks-dir", str(FIXTURES),
         "--notebook", "add_numbers", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=True)
    assert "\r" not in done.stdout + done.stderr
    assert "[1/1] add_numbers.ipynb" in done.stdout and "done in" in done.stdout


@pytest.mark.slow
def test_kernels_learn_the_report_folder(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os\nprint('DIR=' + os.environ['WORKBENCH_REPORT_DIR'])")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "where.ipynb"
    nbformat.write(nb, path)
    result = run_report(path, tmp_path / "out", html=False)
    assert result.ok, result.error
    assert f"DIR={tmp_path / 'out'}" in printed(result.executed)


@pytest.mark.slow
def test_parallel_runs_give_the_same_results_in_the_same_order(tmp_path: Path) -> None:
    """``jobs=3``: three kernels at once (a failing one among them), results in the notebooks'
    order, the same outputs and environment as one at a time."""
    import nbformat

    from workbench.app.report import run_reports

    notebooks = [FIXTURES / "add_numbers.ipynb", FIXTURES / "failing.ipynb",
                 FIXTURES / "data_report.ipynb"]

    def outputs(folder: Path) -> dict[str, list]:
        got = {}
        for name in ("add_numbers", "data_report"):
            nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
            got[name] = [o.get("text") or o.get("data", {}).get("text/plain")
                         for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        return got

    one = run_reports(notebooks, tmp_path / "one", {"a": 2}, jobs=1)
    three = run_reports(notebooks, tmp_path / "three", {"a": 2}, jobs=3)
    assert [r.notebook.name for r in three] == [n.name for n in notebooks]
    assert [r.ok for r in three] == [r.ok for r in one] == [True, False, True]
    assert outputs(tmp_path / "three") == outputs(tmp_path / "one")
    assert any(outputs(tmp_path / "one")["add_numbers"])


def test_parallel_notebooks_each_run_in_their_own_folder(tmp_path: Path) -> None:
    """Kernels start in their notebook's folder (relative data paths resolve there), also when
    several notebooks in different folders run at once (papermill changes the process's
    working directory to start a kernel, so they must not share one process)."""
    import nbformat

    from workbench.app.report import run_reports

    notebooks = []
    for name in ("north", "south", "east"):
        folder = tmp_path / name
        folder.mkdir()
        nb = nbformat.v4.new_notebook()
        source = "import os, time\ntime.sleep(1.5)\nprint(os.getcwd())"
        nb.cells = [nbformat.v4.new_code_cell(source)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
        notebooks.append(folder / f"{name}.ipynb")
    results = run_reports(notebooks, tmp_path / "out", jobs=3, html=False)
    for nb, r in zip(notebooks, results, strict=True):
        assert r.ok, r.error
        ran = nbformat.read(r.executed, as_version=4)
        assert ran.cells[0].outputs[0]["text"].strip() == str(nb.parent)
