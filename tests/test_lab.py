"""``workbench lab``: working copies of the report notebooks; the templates stay untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
import pytest

from workbench.app.cli import main
from workbench.app.lab import lab_command, prepare_workspace, set_parameter_values, strip_outputs
from workbench.app.report import find_notebooks
from workbench.presentation.charts.theme import detect_renderer, with_zoom

ROOT = Path(__file__).resolve().parent.parent


def _digests() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in find_notebooks()}


def test_set_parameter_values_keeps_hints_and_comments() -> None:
    source = 'a: str = "x"  # first, with é\nb: int = 3  # second\nc = 1\n'
    out = set_parameter_values(source, {"a": "/p/é.csv", "c": 2, "zz": 1})
    assert out == 'a: str = "/p/é.csv"  # first, with é\nb: int = 3  # second\nc = 2\n'


def test_strip_outputs() -> None:
    cell = nbformat.v4.new_code_cell("1", execution_count=4)
    cell.outputs = [nbformat.v4.new_output("stream", text="x")]
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    nb = strip_outputs(nbformat.v4.new_notebook(cells=[cell]))
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None
    assert "execution" not in nb.cells[0].metadata


def test_workspace_copies_prefill_and_keep(tmp_path: Path, sample_data_dir: Path) -> None:
    before = _digests()
    ws = prepare_workspace(tmp_path / "analysis", data_dir=sample_data_dir)
    assert sorted(p.name for p in ws.copied) == sorted(before)
    rfm = nbformat.read(tmp_path / "analysis" / "rfm_segmentation.ipynb", as_version=4)
    params = next(c for c in rfm.cells if "parameters" in c.metadata.get("tags", []))
    tx = str((sample_data_dir / "transactions.csv").resolve())
    assert f'transactions_path: str = "{tx}"  # transactions table' in params.source
    assert rfm.metadata["workbench"] == {"template": "rfm_segmentation.ipynb"}
    # an analyst's edits survive a second call; --force replaces them
    copy = tmp_path / "analysis" / "rfm_segmentation.ipynb"
    copy.write_text(copy.read_text().replace("KEY_FIGURES", "MINE"))
    again = prepare_workspace(tmp_path / "analysis", data_dir=sample_data_dir)
    assert not again.copied and len(again.kept) == len(before)
    assert "MINE" in copy.read_text()
    prepare_workspace(tmp_path / "analysis", data_dir=sample_data_dir, force=True)
    assert "MINE" not in copy.read_text()
    assert _digests() == before, "the templates must never be written"


def test_workspace_refuses_the_template_folder() -> None:
    with pytest.raises(FileExistsError):
        prepare_workspace(ROOT / "notebooks")


def test_lab_cli_with_project_file(tmp_path: Path, sample_data_dir: Path, capsys) -> None:
    config = tmp_path / "workbench.toml"
    config.write_text(
        f'[project]\nas_of = "2026-03-31"\n[transactions]\npath = '
        f'"{(sample_data_dir / "transactions.csv").as_posix()}"\n'
    )
    code = main(["lab", "--config", str(config), "--dir", str(tmp_path / "a"), "--no-start"])
    out = capsys.readouterr().out
    assert code == 0 and "copied" in out
    nb = nbformat.read(tmp_path / "a" / "loyalty.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert f'config_path: str = "{config}"' in params.source
    assert 'as_of: str = "2026-03-31"' in params.source
    assert (tmp_path / "a" / "data" / "transactions.parquet").is_file()


def test_lab_cli_bad_data_exits_3(tmp_path: Path, capsys) -> None:
    (tmp_path / "tx.csv").write_text("customer_id,order_date,amount\n")
    (tmp_path / "workbench.toml").write_text('[transactions]\npath = "tx.csv"\n')
    code = main(["lab", "--config", str(tmp_path / "workbench.toml"), "--dir",
                 str(tmp_path / "a"), "--no-start"])
    assert code in (2, 3), capsys.readouterr().err


def test_lab_command_is_local_with_a_token() -> None:
    cmd = lab_command("/tmp/x", 9999, "tok", open_browser=False)
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--IdentityProvider.token=tok" in cmd


def test_renderer_detection() -> None:
    assert detect_renderer({"WORKBENCH_REPORT": "1"}, parent="jupyter-lab") == "svg"
    assert detect_renderer({}, parent="/usr/bin/python -m nbconvert --execute") == "svg"
    assert detect_renderer({"WORKBENCH_RENDERER": "jupyter"}, parent="papermill") == "jupyter"
    assert detect_renderer({}, parent="python script.py") == "svg"  # no kernel here
    with pytest.raises(ValueError):
        detect_renderer({"WORKBENCH_RENDERER": "mimetype"}, parent="")


def test_zoom_only_on_continuous_single_views() -> None:
    q = {"type": "quantitative"}
    assert "params" in with_zoom({"mark": "line", "encoding": {"x": q, "y": q}})
    assert "params" not in with_zoom({"layer": [], "encoding": {"x": q, "y": q}})


def test_report_notebooks_choose_the_renderer_automatically() -> None:
    for name in ("rfm_segmentation.ipynb", "loyalty.ipynb"):
        text = (ROOT / "notebooks" / name).read_text()
        assert "use_auto_renderer()" in text and "use_report_renderer" not in text
