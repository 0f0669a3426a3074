"""Every runnable docstring example in the package must hold (examples are documentation)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import workbench

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(workbench.__path__, "workbench.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch, repo_root) -> None:
    monkeypatch.chdir(repo_root)  # examples use paths like sample_data/transactions.csv
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
