"""Packaging checks: pyproject.toml and environment.yml agree; committed notebooks are clean."""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
REPORT_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FIXTURE_REPORTS = [
    ROOT / "tests" / "fixtures" / "add_numbers.ipynb",
    ROOT / "tests" / "fixtures" / "failing.ipynb",
]
COMMITTED_NOTEBOOKS = sorted(
    p
    for folder in ("notebooks", "dashboards", "tests/fixtures")
    for p in (ROOT / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)

#: conda-forge names that differ from the PyPI names (PyPI name -> conda name).
CONDA_NAMES: dict[str, str] = {}


def normalise(name: str) -> str:
    """PEP 503 style: lower case, runs of ``-``, ``_``, ``.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str | None:
    """The package name of ``"polars>=2.1,<3"`` / ``"altair[jupyter] >=6"``; None for ``-e .``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    if spec.strip().startswith("-") or not match:
        return None
    return normalise(match.group(1))


def pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    return {normalise(CONDA_NAMES.get(n, n)) for n in map(requirement_name, specs) if n}


def environment_packages() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    names: set[str | None] = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            names |= {requirement_name(spec) for spec in dep.get("pip", [])}
        else:
            names.add(requirement_name(dep))
    return {n for n in names if n} - {"python", "pip", *BUILD_TOOLS}


#: conda packages that build the project rather than run it (pyproject's build-system).
BUILD_TOOLS = {"c-compiler"}


def test_environment_yml_has_a_c_compiler_for_the_kernels() -> None:
    assert '"workbench._kernels"' in (ROOT / "setup.py").read_text(encoding="utf-8")
    assert "- c-compiler" in (ROOT / "environment.yml").read_text(encoding="utf-8")


def test_environment_yml_names_the_same_packages_as_pyproject() -> None:
    conda, pip = environment_packages(), pyproject_packages()
    assert conda == pip, (
        f"only in environment.yml: {sorted(conda - pip)}; "
        f"only in pyproject.toml: {sorted(pip - conda)}"
    )


def test_pyproject_basics() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["scripts"]["workbench"] == "workbench.cli:main"
    assert data["project"]["requires-python"] == ">=3.11"
    assert "rules/*.csv" in data["tool"]["setuptools"]["package-data"]["workbench"]
    markers = " ".join(data["tool"]["pytest"]["ini_options"]["markers"])
    assert "browser:" in markers and "slow:" in markers


@pytest.mark.parametrize("path", COMMITTED_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_notebook_is_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        "save with kernelspec python3 (a personal kernel name fails in CI)"
    )
    assert "papermill" not in nb.metadata, "strip with nbstripout --extra-keys (STACK-NOTES)"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert not cell.outputs, f"cell {i} has outputs: run nbstripout"
        assert cell.execution_count is None, f"cell {i} has an execution count: run nbstripout"
        extra = {"papermill", "execution"} & set(cell.metadata)
        assert not extra, f"cell {i} keeps metadata {sorted(extra)}: nbstripout --extra-keys"


@pytest.mark.parametrize(
    "path", REPORT_NOTEBOOKS + FIXTURE_REPORTS, ids=lambda p: str(p.relative_to(ROOT))
)
def test_report_notebook_parameters_are_typed_and_documented(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters', want 1"
    params = papermill.inspect_notebook(str(path))
    assert params, f"{path.name}: the parameters cell declares nothing"
    for name, info in params.items():
        assert info["inferred_type_name"] not in ("", "None"), (
            f"{path.name}: parameter {name!r} has no type hint"
        )
        assert info["help"].strip(), f"{path.name}: parameter {name!r} has no comment"
    # papermill's parser silently skips an assignment whose comment contains '=': that
    # parameter then cannot be set from the CLI
    assigned = [node.target.id if isinstance(node, ast.AnnAssign) else node.targets[0].id
                for node in ast.parse(tagged[0].source).body
                if isinstance(node, ast.AnnAssign | ast.Assign)]
    missing = [name for name in assigned if name not in params]
    assert not missing, f"{path.name}: papermill does not see parameter(s) {missing}"


@pytest.mark.parametrize(
    "script", ["scripts/serve.sh", "scripts/test.sh", "scripts/install_venv.sh", ".ci/run"]
)
def test_shell_scripts_parse(script: str) -> None:
    proc = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_templates_stay_output_free_and_lab_copies_are_ignored() -> None:
    """The report and dashboard templates hold no outputs; ``workbench lab``'s folder is
    git-ignored, so an analyst's executed copies never reach the repository."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
        (ROOT / "dashboards").glob("*.ipynb")
    ):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "analysis/" in ignored and "reports/" in ignored
