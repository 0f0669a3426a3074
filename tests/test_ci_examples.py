"""The example CI pipelines of ``examples/``: valid YAML, real CLI options, and a local run."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workbench.app.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPT = EXAMPLES / "ci" / "workbench-ci.sh"


def _github() -> dict:
    return yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())


def _gitlab() -> dict:
    return yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())


def test_github_actions_runs_on_a_schedule_and_keeps_artifacts() -> None:
    data = _github()
    triggers = data[True]  # YAML 1.1 reads the key "on" as True
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    steps = data["jobs"]["reports"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "bash ci/workbench-ci.sh" in runs and "GITHUB_STEP_SUMMARY" in runs
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-art"))
    assert upload["if"] == "always()"
    for kept in ("*.html", "*.ipynb", "csv/*.csv", "summary.json", "changes.md"):
        assert kept in upload["with"]["path"]
    env = data["jobs"]["reports"]["env"]
    assert env["WORKBENCH_CONFIG"] == "workbench.toml" and env["PREVIOUS_SUMMARY"]


def test_gitlab_ci_runs_on_a_schedule_and_keeps_artifacts() -> None:
    job = _gitlab()["customer-reports"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    assert "bash ci/workbench-ci.sh" in job["script"]
    assert job["artifacts"]["when"] == "always"
    paths = " ".join(job["artifacts"]["paths"])
    for kept in ("*.html", "*.ipynb", "csv/", "summary.json", "changes.md"):
        assert kept in paths


def test_the_script_parses_and_uses_real_options() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0
    text = SCRIPT.read_text()
    # the command line the script builds, with sample values for its variables
    argv = shlex.split(
        "report --config workbench.toml --out reports/ci --no-progress --change-threshold 0.05"
        " --fail-on set_aside_share>0.05 --notebook rfm_segmentation"
        " --compare-to previous/summary.json"
    )
    args = build_parser().parse_args(argv)
    assert args.fail_on == ["set_aside_share>0.05"] and args.compare_to.name == "summary.json"
    for option in ("--config", "--out", "--no-progress", "--change-threshold", "--fail-on",
                   "--notebook", "--compare-to"):
        assert option in text, option


def _run_script(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
            f"{os.environ.get('PATH', '')}", "WORKBENCH_NOTEBOOKS": "rfm_segmentation", **env}
    return subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=full, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_pipeline_commands_run_locally(tmp_path: Path, sample_data_dir: Path) -> None:
    """The CI sequence on the sample data: a first run, then one compared with it."""
    (tmp_path / "workbench.toml").write_text(
        f'[transactions]\npath = "{(sample_data_dir / "transactions.csv").as_posix()}"\n'
        f'[surveys]\npath = "{(sample_data_dir / "surveys.csv").as_posix()}"\n'
    )
    summary_md = tmp_path / "job-summary.md"
    first = _run_script(tmp_path, REPORTS_DIR="reports/1", JOB_SUMMARY=str(summary_md))
    assert first.returncode == 0, first.stdout + first.stderr
    out = tmp_path / "reports" / "1"
    for name in ("rfm_segmentation.html", "rfm_segmentation.ipynb", "summary.json",
                 "index.html", "csv/segments.csv"):
        assert (out / name).is_file(), name
    assert "First run" in summary_md.read_text()
    # the baseline step of the pipelines, then a run whose gate fails
    (tmp_path / "previous" / "csv").mkdir(parents=True)
    (tmp_path / "previous" / "summary.json").write_bytes((out / "summary.json").read_bytes())
    (tmp_path / "previous" / "csv" / "segments.csv").write_bytes(
        (out / "csv" / "segments.csv").read_bytes())
    second = _run_script(tmp_path, REPORTS_DIR="reports/2", JOB_SUMMARY=str(summary_md),
                         PREVIOUS_SUMMARY="previous/summary.json",
                         WORKBENCH_GATES="set_aside_share>0.05; customers<1000000")
    assert second.returncode == 4, second.stdout + second.stderr
    assert "gate failed: customers = 20,000 fails the gate customers<1000000" in second.stderr
    assert "FAILED: a data-quality gate failed" in second.stdout
    changes = (tmp_path / "reports" / "2" / "changes.md").read_text()
    assert "Same input data as the previous run." in changes
    assert "# Report changes" in summary_md.read_text()
    for csv in (out / "csv").glob("*.csv"):  # same inputs: byte-identical CSVs
        assert csv.read_bytes() == (tmp_path / "reports" / "2" / "csv" / csv.name).read_bytes()


def test_bad_gate_is_a_configuration_error(tmp_path: Path, capsys) -> None:
    from workbench.app.cli import main

    code = main(["report", "--notebooks-dir", str(ROOT / "tests" / "fixtures"), "--notebook",
                 "add_numbers", "--out", str(tmp_path), "--fail-on", "nonsense>1"])
    assert code == 2 and "unknown metric 'nonsense'" in capsys.readouterr().err


def test_data_error_exits_3(tmp_path: Path, capsys) -> None:
    from workbench.app.cli import main

    (tmp_path / "tx.csv").write_text("customer_id,order_date,amount\nc1,2026-01-01,abc\n")
    (tmp_path / "workbench.toml").write_text('[transactions]\npath = "tx.csv"\n')
    code = main(["report", "--config", str(tmp_path / "workbench.toml"), "--notebook",
                 "rfm_segmentation", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "workbench report: error:" in err and "Traceback" not in err
