"""The layout of docs/architecture.md: one subpackage per layer, imports flowing downwards
(import-linter contracts in pyproject.toml), and the old module paths kept for one release."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

import workbench
from workbench import _moved

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"


def _contract_layers() -> tuple[str, ...]:
    """The layer packages, top first, as the import-linter contract in pyproject.toml lists
    them (one list: the checks below and the contract cannot drift apart)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c["layers"] for c in config["tool"]["importlinter"]["contracts"]
                 if c["type"] == "layers"]
    return tuple(name.removeprefix("workbench.") for name in layers)


LAYERS = _contract_layers()
#: What may sit at the top of workbench/ beside the layer packages.
TOP_LEVEL = {"__init__.py", "__main__.py", "errors.py", "_moved.py", "py.typed"}
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def test_the_top_level_holds_only_the_layers() -> None:
    entries = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    modules = {n for n in entries - set(LAYERS) if not n.startswith("_templates")}
    assert modules <= TOP_LEVEL, sorted(modules - TOP_LEVEL)
    assert set(LAYERS) <= entries


def test_every_layer_is_documented() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for layer in LAYERS:
        assert f"`workbench.{layer}`" in text, layer
        doc = importlib.import_module(f"workbench.{layer}").__doc__
        assert doc and "docs/architecture.md" in doc, layer


def test_import_contracts_are_kept() -> None:
    proc = _lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout, proc.stdout


@pytest.mark.slow
def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    # The contract can fail: a copy of the package where the native layer imports the CLI.
    shutil.copytree(PACKAGE, tmp_path / "workbench", ignore=shutil.ignore_patterns("*.so"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    sorting = tmp_path / "workbench" / "native" / "sorting.py"
    sorting.write_text(sorting.read_text(encoding="utf-8") + "\nimport workbench.app.cli\n")
    charts = tmp_path / "workbench" / "models" / "clv" / "value.py"
    charts.write_text(charts.read_text(encoding="utf-8") + "\nimport altair\n")
    proc = _lint_imports(tmp_path)
    assert proc.returncode != 0
    assert "0 kept, 2 broken" in proc.stdout, proc.stdout
    assert "workbench.native.sorting -> workbench.app.cli" in proc.stdout
    assert "workbench.models.clv.value -> altair" in proc.stdout


@pytest.mark.parametrize("old", sorted(_moved.MOVED))
def test_old_module_paths_warn_and_give_the_same_module(old: str) -> None:
    new = f"workbench.{_moved.MOVED[old]}.{old}"
    sys.modules.pop(f"workbench.{old}", None)  # imported by an earlier test: import it again
    with pytest.warns(DeprecationWarning, match=rf"workbench\.{old} moved to {new}"):
        module = importlib.import_module(f"workbench.{old}")
    assert module is importlib.import_module(new)
    assert module.__name__ == module.__spec__.name == new


def test_old_submodule_paths_and_from_imports() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import workbench.clv.bgnbd as old_bgnbd
        from workbench.clv import BetaGeoModel  # the old paths on purpose
    from workbench.models.clv import BetaGeoModel as NewBetaGeoModel
    from workbench.models.clv import bgnbd

    assert BetaGeoModel is NewBetaGeoModel
    assert old_bgnbd is bgnbd
    assert _moved.new_name("workbench.errors") is None
    assert _moved.new_name("workbench.models.clv") is None


def test_public_names_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert workbench.customer_summary.__module__ == "workbench.core.summary"
        assert workbench.BetaGeoModel.__module__ == "workbench.models.clv.bgnbd"
        from workbench.core import summary  # noqa: F401
        from workbench.models import clv  # noqa: F401


def test_the_warning_points_at_the_old_import(tmp_path: Path) -> None:
    script = tmp_path / "old_user.py"
    script.write_text("import workbench.rfm\nfrom workbench import charts\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-W", "always::DeprecationWarning", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "DeprecationWarning" in line]
    assert lines == [
        f"{script}:1: DeprecationWarning: workbench.rfm moved to workbench.analyses.rfm; "
        "the old path goes away in the next release",
        f"{script}:2: DeprecationWarning: workbench.charts moved to "
        "workbench.presentation.charts; the old path goes away in the next release",
    ]
