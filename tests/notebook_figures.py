"""Reading the key figures a report notebook records (its last cell prints one JSON line)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat


def recorded_figures(executed: Path, prefix: str = "KEY_FIGURES ") -> dict:
    """The JSON after ``prefix`` in the executed notebook's printed or displayed output.

    Examples
    --------
    >>> recorded_figures(result.executed)["customers"]  # doctest: +SKIP
    """
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") + out.get("data", {}).get("text/plain", "")
            for line in text.splitlines():
                if line.startswith(prefix):
                    return json.loads(line[len(prefix):])
    raise AssertionError(f"{Path(executed).name} recorded no {prefix.strip()} line")
