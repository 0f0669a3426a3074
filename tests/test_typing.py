"""The package is type-checked clean (mypy with the settings of ``[tool.mypy]`` in
pyproject.toml); ``workbench/py.typed`` tells users' type checkers to read its hints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_finds_no_errors() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr
    assert proc.stdout.startswith("Success: no issues found"), proc.stdout


def test_the_package_says_it_is_typed() -> None:
    assert (ROOT / "workbench" / "py.typed").is_file()
