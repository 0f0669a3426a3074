"""Setup for the docstring examples, which pytest runs with ``--doctest-modules``.

``pyproject.toml`` puts ``workbench`` in ``testpaths`` and ``--doctest-modules`` in ``addopts``:
every ``>>>`` example in the package is a test. This file lives at the repository root (not in
``workbench/``) so that it is not shipped in the wheel.

- Each example runs with the repository root as working directory, so examples read
  ``sample_data/transactions.csv`` whatever folder pytest was started from.
- ``pl`` (Polars) is in every example's namespace.
- ``workbench/__main__.py`` is not imported (importing it would run the CLI), nor
  ``workbench/engines/__init__.py`` when DuckDB (a test extra) is not installed.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import polars as pl
import pytest

REPO_ROOT = Path(__file__).resolve().parent

collect_ignore = ["workbench/__main__.py"]
if find_spec("duckdb") is None:  # the examples of workbench.engines run on DuckDB (a test extra)
    collect_ignore.append("workbench/engines/__init__.py")


@pytest.fixture(autouse=True)
def _examples_run_from_repo_root(request: pytest.FixtureRequest) -> None:
    """Run docstring examples (only those) with the repository root as working directory."""
    if isinstance(request.node, pytest.DoctestItem):
        request.getfixturevalue("monkeypatch").chdir(REPO_ROOT)


@pytest.fixture(autouse=True, scope="session")
def _example_names(doctest_namespace: dict) -> None:
    """Names every docstring example may use without importing them."""
    doctest_namespace["pl"] = pl
