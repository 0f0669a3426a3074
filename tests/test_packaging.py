"""Packaging checks: pyproject.toml and environment.yml agree; committed notebooks are clean;
the built wheel, installed into a fresh virtual environment, runs a report and a dashboard from
an empty folder; ``__version__`` is the package metadata's."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from dataclasses import dataclass
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
    assert '"workbench.native._kernels"' in (ROOT / "setup.py").read_text(encoding="utf-8")
    assert "- c-compiler" in (ROOT / "environment.yml").read_text(encoding="utf-8")


def test_environment_yml_names_the_same_packages_as_pyproject() -> None:
    conda, pip = environment_packages(), pyproject_packages()
    assert conda == pip, (
        f"only in environment.yml: {sorted(conda - pip)}; "
        f"only in pyproject.toml: {sorted(pip - conda)}"
    )


def test_pyproject_basics() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["scripts"]["workbench"] == "workbench.app.cli:main"
    assert data["project"]["requires-python"] == ">=3.11"
    assert "*.csv" in data["tool"]["setuptools"]["package-data"]["workbench.analyses.rules"]
    assert "version" in data["project"], "the one place the version is written"
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
    assigned = [
        node.target.id if isinstance(node, ast.AnnAssign) else node.targets[0].id
        for node in ast.parse(tagged[0].source).body
        if isinstance(node, ast.AnnAssign | ast.Assign)
    ]
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


# ------------------------------------------------------------------ the package's own files


def test_every_subpackage_is_listed_in_pyproject() -> None:
    """``[tool.setuptools] packages`` is an explicit list (the templates are mapped into the
    package from the top level): a subpackage missing from it would be missing from the
    wheel."""
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["packages"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "workbench").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk <= set(listed), (
        f"add to pyproject.toml packages: {sorted(on_disk - set(listed))}"
    )
    mapped = {"workbench._templates.notebooks", "workbench._templates.dashboards"}
    assert set(listed) - on_disk == mapped


def test_templates_are_read_from_the_one_copy_in_the_repository() -> None:
    """In this (editable) checkout the templates are the repository's ``notebooks/`` and
    ``dashboards/``: nothing in the package duplicates them."""
    from workbench.app.report import default_notebooks_dir
    from workbench.app.serve import default_dashboards_dir
    from workbench.app.templates import editable_source, template_dir

    assert not (ROOT / "workbench" / "_templates").exists(), "no committed copy of the notebooks"
    assert editable_source() is not None, "the tests run on an editable install (pip install -e)"
    for kind, folder in [
        ("notebooks", default_notebooks_dir()),
        ("dashboards", default_dashboards_dir()),
    ]:
        assert folder == template_dir(kind)
        names = sorted(p.name for p in folder.glob("*.ipynb"))
        assert names == sorted(p.name for p in (ROOT / kind).glob("*.ipynb")), kind
        for name in names:
            assert (folder / name).read_bytes() == (ROOT / kind / name).read_bytes()


def test_version_comes_from_the_package_metadata() -> None:
    import workbench
    from workbench.app.cli import main

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    assert workbench.__version__ == importlib.metadata.version("workbench") == declared
    source = (ROOT / "workbench" / "__init__.py").read_text(encoding="utf-8")
    assert f'"{declared}"' not in source, "the version is typed by hand in __init__.py"
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"workbench {declared}"
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0


# ---------------------------------------------------- the wheel, installed in a fresh venv

#: What a build needs from the checkout (the build runs in a copy: several people share it).
SOURCES = [
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "workbench",
    "notebooks",
    "dashboards",
]
#: Seconds a command of the installed package may take.
COMMAND_TIMEOUT = 600


@dataclass
class Installed:
    """A virtual environment holding the built wheel; its dependencies are read from the test
    interpreter's site-packages (a ``.pth`` line), so nothing is downloaded but the build
    backend (setuptools, from the package index)."""

    wheel: Path
    venv: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def workbench(self) -> Path:
        return self.venv / "bin" / "workbench"

    def run(
        self,
        *args: str | Path,
        cwd: Path,
        timeout: float = COMMAND_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=self.env,
            text=True,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )


def _build_wheel(out: Path) -> Path:
    source = out / "src"
    source.mkdir()
    junk = shutil.ignore_patterns(
        "__pycache__", "*.so", "*.pyc", ".ipynb_checkpoints", "_templates", "*.egg-info"
    )
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=junk)
        elif path.is_file():
            shutil.copy2(path, source / name)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(out / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = (out / "dist").glob("workbench-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from a copy of the checkout and install it (no dependencies) into a
    fresh venv; about 15 s."""
    base = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(base)
    venv = base / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    purelib = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
    )
    # the dependencies: this interpreter's site-packages, after the venv's own (a plain path
    # line: the .pth files there, the checkout's editable install among them, are not run)
    (purelib / "_test_dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WORKBENCH_", "PYTHON", "VIRTUAL_ENV", "JUPYTER"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # Voilà's and nbconvert's templates and the kernel spec were installed as data files of
    # the dependencies, next to this interpreter's site-packages
    env["JUPYTER_PATH"] = str(Path(sysconfig.get_paths()["data"]) / "share" / "jupyter")
    env["WORKBENCH_CACHE"] = "0"
    return Installed(wheel, venv, env)


@pytest.fixture(scope="module")
def workdir(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder, then the sample data that ``workbench generate-sample`` writes there."""
    folder = tmp_path_factory.mktemp("user")
    assert not any(folder.iterdir())
    proc = installed.run(
        installed.workbench, "generate-sample", "--customers", "300", "--seed", "1", cwd=folder
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (folder / "sample_data" / "transactions.csv").is_file(), proc.stdout
    return folder


@pytest.mark.slow
@pytest.mark.packaging
def test_wheel_holds_the_templates_once_and_the_rules(installed: Installed) -> None:
    """The wheel's notebooks are the repository's, byte for byte (one source of truth)."""
    with zipfile.ZipFile(installed.wheel) as archive:
        names = set(archive.namelist())
        for kind in ("notebooks", "dashboards"):
            for path in sorted((ROOT / kind).glob("*.ipynb")):
                member = f"workbench/_templates/{kind}/{path.name}"
                assert member in names, member
                assert archive.read(member) == path.read_bytes(), member
    rules = {n for n in names if n.startswith("workbench/analyses/rules/") and n.endswith(".csv")}
    shipped = (ROOT / "workbench/analyses/rules").glob("*.csv")
    assert rules == {f"workbench/analyses/rules/{p.name}" for p in shipped}
    assert not any(n.startswith(("sample_data/", "notebooks/", "dashboards/")) for n in names)


@pytest.mark.slow
@pytest.mark.packaging
def test_installed_package_is_the_wheel_and_knows_its_version(
    installed: Installed, tmp_path: Path
) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    proc = installed.run(installed.workbench, "--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"workbench {declared}"
    code = (
        "import json, workbench, workbench.app.templates as t; "
        "print(json.dumps([workbench.__file__, str(t.template_dir('notebooks')),"
        " str(t.template_dir('dashboards')), workbench.__version__]))"
    )
    proc = installed.run(installed.python, "-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    package, notebooks, dashboards, version = json.loads(proc.stdout)
    site_packages = installed.venv.resolve()
    for path in (package, notebooks, dashboards):
        assert Path(path).resolve().is_relative_to(site_packages), path
    assert Path(notebooks).parts[-2:] == ("_templates", "notebooks")
    assert version == declared


@pytest.mark.slow
@pytest.mark.packaging
def test_installed_wheel_runs_a_report_from_an_empty_folder(
    installed: Installed, workdir: Path
) -> None:
    """``workbench report`` of one notebook on the generated sample data, from the user's
    folder: the packaged notebook runs, outputs land in the user's folder."""
    out = workdir / "reports" / "one"
    proc = installed.run(
        installed.workbench,
        "report",
        "--notebook",
        "rfm_segmentation",
        "--no-progress",
        "--out",
        out,
        cwd=workdir,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (out / "rfm_segmentation.html").is_file()
    assert (out / "summary.json").is_file()
    executed = json.loads((out / "rfm_segmentation.ipynb").read_text(encoding="utf-8"))
    meta = executed["metadata"]["papermill"]
    assert Path(meta["input_path"]).resolve().is_relative_to(installed.venv.resolve())
    assert meta["parameters"]["transactions_path"] == str(
        (workdir / "sample_data" / "transactions.csv").resolve()
    )
    assert not any(
        o.get("output_type") == "error" for c in executed["cells"] for o in c.get("outputs", [])
    )


#: Executes the installed dashboard as Voilà does, keeping the widgets' state.
EXECUTE_DASHBOARD = """
import json, os, sys
import nbformat
from nbclient import NotebookClient
from workbench.app.templates import template_dir
path = template_dir("dashboards") / "executive.ipynb"
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
               resources={"metadata": {"path": os.getcwd()}}).execute()
errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
print(json.dumps({"path": str(path), "errors": errors,
                  "state": json.dumps(nb.metadata.get("widgets", {}))}))
"""


@pytest.mark.slow
@pytest.mark.packaging
def test_installed_dashboard_renders_its_kpis(installed: Installed, workdir: Path) -> None:
    """The packaged dashboard, executed on the generated data: the KPI tiles are there."""
    env = {**installed.env, "WORKBENCH_DATA_DIR": str(workdir / "sample_data")}
    proc = subprocess.run(
        [str(installed.python), "-c", EXECUTE_DASHBOARD],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(result["path"]).resolve().is_relative_to(installed.venv.resolve())
    assert result["errors"] == []
    for kpi in ("active_customers", "revenue", "repeat_rate", "top20_share"):
        assert f"kpi-{kpi}" in result["state"], kpi
    assert "wb-kpi-value" in result["state"]


@pytest.mark.slow
@pytest.mark.packaging
def test_installed_wheel_serves_the_dashboard_of_a_project_file(
    installed: Installed, workdir: Path
) -> None:
    """``workbench init`` + ``workbench serve --config``: the packaged dashboard answers 200."""
    proc = installed.run(
        installed.workbench, "init", "sample_data/transactions.csv", "--force", cwd=workdir
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = workdir / "sample_data" / "workbench.toml"
    log_path = workdir / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                str(installed.workbench),
                "serve",
                "--config",
                str(config),
                "--port",
                "0",
                "--viewers",
                "1",
                "--no-warm",
            ],
            cwd=workdir,
            env=installed.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = None
        deadline = time.monotonic() + 180
        while url is None and time.monotonic() < deadline and server.poll() is None:
            found = re.search(
                r"http://127\.0\.0\.1:\d+/voila/render/executive\.ipynb",
                log_path.read_text(encoding="utf-8", errors="replace"),
            )
            url = found.group(0) if found else None
            time.sleep(0.5)
        output = log_path.read_text(encoding="utf-8", errors="replace")
        assert url is not None, output[-3000:]
        # the user's folder has no dashboards/: what Voilà serves is the package's
        assert not (workdir / "dashboards").exists()
        with urllib.request.urlopen(url, timeout=300) as response:
            status, page = response.status, response.read().decode("utf-8", "replace")
        assert status == 200
        assert "executive.ipynb" in page or "widget-view+json" in page, page[:500]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # the server's own session (Voilà, kernels)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def test_editable_source_skips_a_build_egg_info_ahead_on_the_path(tmp_path, monkeypatch) -> None:
    """Run from a checkout, ``workbench.egg-info`` of the build (no direct_url.json) is found
    before the installed metadata: the editable install's source tree must still be found."""
    from workbench.app.templates import editable_source

    build = tmp_path / "checkout"
    (build / "workbench.egg-info").mkdir(parents=True)
    (build / "workbench.egg-info" / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: workbench-probe\nVersion: 0.1.0\n", encoding="utf-8")
    site = tmp_path / "site"
    info = site / "workbench_probe-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: workbench-probe\nVersion: 0.1.0\n", encoding="utf-8")
    (info / "direct_url.json").write_text(
        json.dumps({"url": build.as_uri(), "dir_info": {"editable": True}}), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(build))  # first on the path, as the cwd is
    assert editable_source("workbench-probe") == build
