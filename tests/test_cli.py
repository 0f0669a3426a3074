"""The ``workbench`` command line: help, error handling, and the serve command's arguments."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from cli_helpers import run_cli

import workbench.app.cli
import workbench.app.serve
from workbench.app.cli import build_parser, main
from workbench.app.serve import (
    DATA_DIR_ENV,
    dashboard_paths,
    dashboard_url,
    server_environment,
    voila_command,
)

COMMANDS = ["serve", "report", "lab", "generate-sample", "summary", "init", "check"]


def test_help_lists_every_command_with_one_line_help() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    subparsers = next(
        a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction"
    )
    assert sorted(subparsers.choices) == sorted(COMMANDS), "update COMMANDS and the README"
    for command in COMMANDS:
        assert command in proc.stdout
        assert subparsers.choices[command].description, f"{command} has no help line"


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command: str) -> None:
    proc = run_cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert f"usage: workbench {command}" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--param", "no-equals-sign"],
        ["report", "--notebook", "no_such_report"],
        ["serve", "--dashboards-dir", "/no/such/folder"],
        ["summary", "tx.csv", "--as-of", "2026-03-31", "--out", "summary.json"],
    ],
)
def test_errors_exit_2_with_one_message_and_no_traceback(args: list[str]) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"workbench {args[0]}: error:" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3, proc.stderr


def test_data_validation_error_exits_3(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from workbench.errors import DataValidationError

    def boom(args) -> int:
        raise DataValidationError("tx.csv", "amount", "text in a numeric column", [3], ["abc"])

    monkeypatch.setattr(workbench.app.cli, "_cmd_generate_sample", boom)
    assert main(["generate-sample"]) == 3
    err = capsys.readouterr().err
    assert err.strip() == (
        "workbench generate-sample: error: tx.csv: column 'amount': "
        "text in a numeric column in 1 row; first rows: 3 ('abc')"
    )


def _error_cases() -> list[tuple[str, BaseException, int]]:
    """One error of each class and the exit code the README's table gives it."""
    from workbench.app.cli import CommandError
    from workbench.app.report import ReportParameterError
    from workbench.app.run_summary import GateError
    from workbench.app.serve import ServeError
    from workbench.core.cache import CacheError
    from workbench.errors import (
        ConfigError,
        ConvergenceError,
        DataValidationError,
        ModelError,
        NotFittedError,
    )

    return [
        ("data", DataValidationError("tx.csv", "amount", "not a number", [2], ["x"]), 3),
        ("config", ConfigError("workbench.toml", "[project] as_of", "expected a date"), 2),
        ("command", CommandError("--customers must be at least 1, got 0"), 2),
        ("parameter", ReportParameterError("unknown parameter 'x'"), 2),
        ("gate", GateError("gate 'a>b': 'b' is not a number"), 2),
        ("serve", ServeError("--port must be between 0 and 65535, got 70000"), 2),
        ("missing file", FileNotFoundError(2, "No such file or directory", "tx.csv"), 2),
        ("model", ModelError("BG/NBD needs at least 2 customers with repeat purchases"), 5),
        ("convergence", ConvergenceError("BG/NBD", "ABNORMAL", 40, 0.25, {"r": 0.5}), 5),
        ("not fitted", NotFittedError("BetaGeoModel"), 5),
        ("cache", CacheError("cannot store abc as frame: disk full"), 1),
    ]


@pytest.mark.parametrize("case", _error_cases(), ids=lambda c: c[0])
def test_each_error_class_has_its_exit_code_and_one_line(
    case: tuple[str, BaseException, int], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _, error, code = case

    def boom(args) -> int:
        raise error

    monkeypatch.setattr(workbench.app.cli, "_cmd_generate_sample", boom)
    assert main(["generate-sample"]) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("workbench generate-sample: error: "), err


def test_exit_codes_are_the_readme_table() -> None:
    from workbench.app.cli import EXIT_CODES_HELP

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    rows = {
        "DataValidationError": "3",
        "ConfigError": "2",
        "ModelError": "5",
        "WorkbenchError` (other)": "1",
    }
    for name, code in rows.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}"))
        assert row.rstrip(" |").endswith(code), row
    assert "**5** a model cannot be fitted" in readme
    for code, words in [("3", "DataValidationError"), ("5", "ModelError")]:
        line = next(line for line in EXIT_CODES_HELP.splitlines() if line.startswith(f"  {code}  "))
        assert words in line, line


def test_real_data_error_exits_3_and_real_config_error_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "tx.csv"
    bad.write_text("customer_id,order_date,amount\nc1,2026-01-05,abc\n", encoding="utf-8")
    proc = run_cli("summary", str(bad), "--as-of", "2026-03-31")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "'amount'" in proc.stderr
    config = tmp_path / "workbench.toml"
    config.write_text('[transactions]\npath = "tx.csv"\ncolumns = { amout = "amount" }\n',
                      encoding="utf-8")
    proc = run_cli("summary", "--config", str(config), "--as-of", "2026-03-31")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "workbench.toml" in proc.stderr and "Traceback" not in proc.stderr


def test_version_option_prints_the_metadata_version() -> None:
    import importlib.metadata

    proc = run_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"workbench {importlib.metadata.version('workbench')}"


def test_other_exceptions_keep_their_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(args) -> int:
        raise KeyError("a bug, not an input error")

    monkeypatch.setattr(workbench.app.cli, "_cmd_generate_sample", bug)
    with pytest.raises(KeyError):
        main(["generate-sample"])


def test_summary_of_missing_file_exits_2(tmp_path: Path) -> None:
    proc = run_cli("summary", str(tmp_path / "missing.csv"), "--as-of", "2026-03-31")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "missing.csv" in proc.stderr


def test_generate_sample_then_summary(tmp_path: Path) -> None:
    data = tmp_path / "data"
    gen = run_cli("generate-sample", "--out", str(data), "--customers", "50", "--seed", "3")
    assert gen.returncode == 0, gen.stderr
    assert "transactions.csv" in gen.stdout and (data / "transactions.csv").is_file()

    out = tmp_path / "summary.csv"
    proc = run_cli(
        "summary", str(data / "transactions.csv"), "--as-of", "2026-03-31", "--unit", "month",
        "--out", str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Data quality of" in proc.stderr and "customers written to" in proc.stderr
    header = out.read_text().splitlines()[0].split(",")
    assert {"customer_id", "frequency", "recency", "T", "monetary_value"} <= set(header)


def test_serve_command_line_has_the_stack_notes_flags(tmp_path: Path) -> None:
    cmd = voila_command(tmp_path, 8899, "127.0.0.1")
    assert cmd[:4] == [sys.executable, "-m", "voila", str(tmp_path)]
    for flag in [
        "--no-browser",
        "--port=8899",
        "--Voila.port_retries=0",
        "--Voila.ip=127.0.0.1",
        "--show_tracebacks=False",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_idle_timeout=300",
        "--preheat_kernel=True",
        "--pool_size=1",
    ]:
        assert flag in cmd
    assert any(a.startswith("--VoilaExecutor.timeout=") for a in cmd)
    assert not any("--ip=" == a[:5] for a in cmd), "voila has no --ip shortcut"

    plain = voila_command(tmp_path, 8899, preheat=False, cell_timeout=30, token="s3cret")
    assert not any("preheat" in a or "pool_size" in a for a in plain)
    assert "--VoilaExecutor.timeout=30" in plain and "--token=s3cret" in plain
    with pytest.raises(ValueError):
        voila_command(tmp_path, 0)


def test_serve_cli_passes_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict = {}

    def fake_serve(dashboards_dir, **kwargs) -> int:
        seen.update(kwargs, dashboards_dir=dashboards_dir)
        return 0

    monkeypatch.setattr(workbench.app.serve, "serve", fake_serve)
    assert main(["serve", "--port", "0", "--no-preheat", "--data-dir", str(tmp_path)]) == 0
    assert seen["port"] == 0 and seen["preheat"] is False and seen["host"] == "127.0.0.1"
    assert seen["data_dir"] == tmp_path and seen["dashboards_dir"] is None
    assert main(["serve"]) == 0
    assert seen["port"] == 8866 and seen["preheat"] is True and seen["pool_size"] is None
    assert seen["viewers"] is None and seen["warm"] is True


def test_dashboard_urls_and_environment(tmp_path: Path) -> None:
    (tmp_path / "executive.ipynb").write_text("{}")
    (tmp_path / "customer 360.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "executive-checkpoint.ipynb").write_text("{}")
    assert dashboard_paths(tmp_path) == ["customer 360.ipynb", "executive.ipynb"]
    assert dashboard_url("http://127.0.0.1:8866/", "customer 360.ipynb") == (
        "http://127.0.0.1:8866/voila/render/customer%20360.ipynb"
    )
    env = server_environment(tmp_path, base={"PATH": "/bin"})
    assert env == {"PATH": "/bin", DATA_DIR_ENV: str(tmp_path.resolve())}


@pytest.mark.browser
@pytest.mark.slow
def test_fixtures_serve_a_dashboard_that_responds_to_clicks(
    start_voila, page, repo_root: Path, tmp_path: Path
) -> None:
    """Self-test of the fixtures: the real Voilà command, Chromium, a click, a changed label."""
    from browser import assert_no_errors, open_dashboard, save_screenshot

    dashboards = tmp_path / "dashboards"
    dashboards.mkdir()
    (dashboards / "hello.ipynb").write_bytes(
        (repo_root / "tests" / "fixtures" / "dashboards" / "hello.ipynb").read_bytes()
    )
    broken = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    )
    broken.cells = [nbformat.v4.new_code_cell("1 / 0")]
    nbformat.write(broken, dashboards / "broken.ipynb")
    server = start_voila(dashboards, data_dir=tmp_path)

    dash = open_dashboard(page, server.url("hello.ipynb"))
    label = page.locator(".hello-label")
    label.wait_for()
    assert label.inner_text() == "not clicked"
    assert page.locator(".hello-data-dir").inner_text() == str(tmp_path.resolve())

    page.locator(".hello-button").click()
    page.wait_for_function(
        "() => document.querySelector('.hello-label').innerText.includes('clicked 1 time')"
    )
    page.locator(".hello-button").click()
    page.wait_for_function(
        "() => document.querySelector('.hello-label').innerText.includes('clicked 2 time')"
    )
    assert_no_errors(dash)
    assert save_screenshot(page, "fixture-self-test-hello").is_file()

    # ... and the helpers see a failing cell (Voilà hides the traceback from viewers).
    failed = open_dashboard(page, server.url("broken.ipynb"))
    assert any("There was an error when executing cell" in t for t in failed.error_outputs())
    assert "ZeroDivisionError" not in page.content()
    with pytest.raises(AssertionError, match="shows errors"):
        assert_no_errors(failed)
