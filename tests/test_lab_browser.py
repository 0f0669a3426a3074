"""A notebook run in a real JupyterLab (offline, headless Chromium): the chart is interactive.

JupyterLab is started the way ``workbench lab`` starts it (:func:`workbench.app.lab.lab_command`,
:func:`workbench.app.lab.lab_environment`) on a temporary folder holding one small notebook
that calls :func:`workbench.presentation.charts.use_auto_renderer` and shows a chart with tooltips.
The test runs the cell from the UI (Shift+Enter), hovers a bar and waits for Vega's tooltip
(``#vg-tooltip-element``). No network is needed: the chart's JavaScript is bundled offline.
"""

from __future__ import annotations

import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from workbench.app.lab import lab_command, lab_environment, lab_url
from workbench.app.serve import free_port

HOST = "127.0.0.1"
CHART_CODE = """\
import altair as alt
import polars as pl

from workbench.presentation.charts import use_auto_renderer

renderer = use_auto_renderer()
data = pl.DataFrame({"segment": ["Champions", "Loyal", "Lost"], "customers": [120, 80, 40]})
print("RENDERER", renderer)
alt.Chart(data).mark_bar().encode(
    x="segment:N", y="customers:Q", tooltip=["segment", "customers"]
)
"""


def _wait_for_lab(base: str, token: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"JupyterLab did not answer on {base} within {timeout:.0f} s")


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """JupyterLab on a folder with ``chart.ipynb``; yields (URL of the notebook, folder)."""
    root = tmp_path / "lab"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CHART_CODE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, root / "chart.ipynb")
    port, token = free_port(HOST), secrets.token_hex(16)
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115 - closed at teardown
    cmd = lab_command(root, port, token, HOST, open_browser=False)
    cmd += ["--LabApp.news_url=", "--LabApp.check_for_updates_class="
            "jupyterlab.handlers.announcements.NeverCheckForUpdate"]
    process = subprocess.Popen(cmd, env=lab_environment(), stdout=log, stderr=subprocess.STDOUT,
                               cwd=root)
    try:
        try:
            _wait_for_lab(f"http://{HOST}:{port}", token, process, 60)
        except RuntimeError as exc:
            log.flush()
            tail = (tmp_path / "lab.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{exc}\n{tail}") from None
        yield lab_url(HOST, port, token, "chart.ipynb"), root
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.browser
@pytest.mark.slow
def test_chart_has_a_tooltip_in_jupyterlab(lab_server: tuple[str, Path], page) -> None:
    url, root = lab_server
    started = time.monotonic()
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="domcontentloaded")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    # wait for the kernel, then run the cell from its editor (Shift+Enter)
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
    page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
    page.keyboard.press("Shift+Enter")
    page.get_by_text("RENDERER jupyter").wait_for()
    bar = page.locator(".jp-OutputArea-output .vega-embed svg path[aria-roledescription='bar']")
    bar.first.wait_for(state="visible")
    bar.first.hover()
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for(state="visible")
    assert "Champions" in tooltip.inner_text()
    # the notebook in the working folder gets the outputs; nothing else was written
    print(f"JupyterLab tooltip test: {time.monotonic() - started:.1f} s after the page opened")
    assert sorted(p.name for p in root.glob("*.ipynb")) == ["chart.ipynb"]
