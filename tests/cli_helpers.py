"""The two ways the tests run the ``workbench`` command line: in this process (:func:`run_main`,
fast, with pytest's captured output) and as a child process (:func:`run_cli`, as a user runs
it)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.app.cli import main


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in this process: ``(exit code, stdout, stderr)``; argparse's exits count as
    return codes."""
    try:
        code = main(args)
    except SystemExit as stop:
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m workbench ARGS`` in a child process, no input, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )
