"""The package says it is typed (PEP 561): workbench/py.typed ships as package data."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_py_typed_marker_is_shipped():
    marker = ROOT / "workbench" / "py.typed"
    assert marker.is_file() and marker.read_bytes() == b""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in data["tool"]["setuptools"]["package-data"]["workbench"]
