"""Shared fixtures: repository paths, a Voilà server, and headless Chromium.

Fixtures
--------
``repo_root``
    The repository root (``pathlib.Path``).
``sample_data_dir``
    Folder with ``transactions.csv`` etc.: the repository's ``sample_data/``, or, when that
    holds no data, a session-wide copy made with ``workbench.app.sample_data.write_sample_data``.
``voila_server``
    Voilà serving ``dashboards/`` on a free loopback port with ``WORKBENCH_DATA_DIR`` set to
    ``sample_data_dir``; the command is :func:`workbench.app.serve.voila_command`, as for
    ``workbench serve``. A :class:`VoilaServer`: ``voila_server.url("executive.ipynb")``.
``start_voila``
    Factory for a server on another folder: ``start_voila(folder, data_dir=None)``.
``browser``
    Playwright Chromium (``/usr/bin/chromium``, or ``$WORKBENCH_CHROMIUM``). Skipped when it is
    missing, unless ``CI`` is set: then the test fails (CI must test the dashboards).
``page``
    A fresh page in its own browser context; on a failed test a screenshot is saved under
    ``test-artifacts/``.

A dashboard test::

    import pytest
    from browser import assert_no_errors, open_dashboard

    @pytest.mark.browser
    def test_executive_renders(voila_server, page):
        dash = open_dashboard(page, voila_server.url("executive.ipynb"))
        page.locator(".kpi-revenue").wait_for()
        assert_no_errors(dash)
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench.app.serve import (
    dashboard_url,
    free_port,
    server_environment,
    server_url,
    voila_command,
    wait_until_up,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium"))
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 60.0


@dataclass
class VoilaServer:
    """A running Voilà server.

    Attributes
    ----------
    base_url
        ``http://127.0.0.1:<port>``.
    dashboards_dir
        The folder it serves.
    data_dir
        The ``WORKBENCH_DATA_DIR`` its kernels see.
    process
        The server process.
    log_path
        File with the server's stdout and stderr.
    """

    base_url: str
    dashboards_dir: Path
    data_dir: Path
    process: subprocess.Popen
    log_path: Path

    def url(self, notebook: str) -> str:
        """URL of one dashboard: ``/voila/render/<notebook>``."""
        return dashboard_url(self.base_url, notebook)

    def log(self) -> str:
        """The server's output so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Terminate the server (kill it after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def launch_voila(dashboards_dir: Path, data_dir: Path, log_dir: Path) -> VoilaServer:
    """Start Voilà on a free loopback port and wait until it serves ``voila.js``.

    Raises
    ------
    RuntimeError
        When the server exits or does not answer within ``STARTUP_TIMEOUT`` seconds; the
        message holds the end of its output.
    """
    port = free_port(HOST)
    cmd = voila_command(dashboards_dir, port, HOST)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"voila-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            cmd,
            env=server_environment(data_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=dashboards_dir,
        )
    server = VoilaServer(server_url(HOST, port), dashboards_dir, data_dir, process, log_path)
    if not wait_until_up(server.base_url, STARTUP_TIMEOUT, process):
        server.stop()
        tail = "\n".join(server.log().splitlines()[-40:])
        raise RuntimeError(
            f"Voilà did not come up on {server.base_url} within {STARTUP_TIMEOUT:.0f} s "
            f"(exit code {process.poll()}).\nCommand: {' '.join(cmd)}\nServer output:\n{tail}"
        )
    return server


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def sample_data_dir(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample data folder (generated into a temporary folder when the repo has none)."""
    folder = repo_root / "sample_data"
    if (folder / "transactions.csv").is_file():
        return folder
    from workbench.app.sample_data import write_sample_data

    generated = tmp_path_factory.mktemp("sample_data")
    write_sample_data(generated)
    return generated


@pytest.fixture(scope="session")
def start_voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., VoilaServer]]:
    """Factory: ``start_voila(dashboards_dir, data_dir=None) -> VoilaServer``.

    Servers started through it are stopped at the end of the session.
    """
    servers: list[VoilaServer] = []
    log_dir = tmp_path_factory.mktemp("voila-logs")

    def start(dashboards_dir: Path, data_dir: Path | None = None) -> VoilaServer:
        data = Path(data_dir) if data_dir is not None else REPO_ROOT / "sample_data"
        server = launch_voila(Path(dashboards_dir).resolve(), data.resolve(), log_dir)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def voila_server(
    start_voila: Callable[..., VoilaServer], repo_root: Path, sample_data_dir: Path
) -> VoilaServer:
    """Voilà serving the repository's ``dashboards/`` with the sample data."""
    dashboards = repo_root / "dashboards"
    if not any(dashboards.glob("*.ipynb")):  # a missing dashboard is a failure, not a skip
        pytest.fail("dashboards/ holds no notebooks", pytrace=False)
    return start_voila(dashboards, sample_data_dir)


# Browsers: pytest-playwright's fixtures (``browser``, ``context``, ``page``; screenshots of
# failed tests under test-artifacts/playwright/, see addopts in pyproject.toml), launching
# Debian's Chromium, never a downloaded browser.


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's Chromium headless with the flags of :data:`browser.CHROMIUM_ARGS`.

    Without it the browser tests skip, except under ``CI``: there they fail (CI must run them;
    ``bash scripts/test.sh`` installs it with ``apt-get install -y chromium``).
    """
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} not found: install Debian's chromium "
            "(bash scripts/test.sh does: apt-get install -y chromium)"
        )
        if os.environ.get("CI"):
            pytest.fail(message + " -- CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    from browser import CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": str(CHROMIUM),
            "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """Every page starts at a desktop size (tests set a phone width where they need one)."""
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def context(context):
    """pytest-playwright's context, with a 30 s default timeout for every action."""
    context.set_default_timeout(30_000)
    return context


@pytest.fixture(scope="session")
def cdnow_transactions(repo_root: Path):
    """The CDNOW 1/10th sample shipped in ``sample_data/cdnow`` (Fader, Hardie & Lee 2005)."""
    from workbench.core.io import read_cdnow

    return read_cdnow(repo_root / "sample_data" / "cdnow" / "CDNOW_sample.txt")


@pytest.fixture(scope="session")
def cdnow_calibration(cdnow_transactions):
    """CDNOW in weeks: calibration to 1997-09-30, holdout to 1998-06-30 (the BTYD reference)."""
    from workbench.core.summary import calibration_holdout_summary

    return calibration_holdout_summary(cdnow_transactions, "1997-09-30", "1998-06-30", unit="W")


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session (``local[2]``) for the tests marked ``spark``.

    Needs Java (``scripts/test.sh`` installs Debian's ``openjdk-17-jre-headless`` when ``java``
    is missing) and ``pyspark`` (the test extra). Skipped when either is missing, unless ``CI``
    is set: then the test fails (CI must run one real Spark).
    """
    from engine_parity import require_spark

    require_spark()
    from workbench.engines import local_spark

    spark = local_spark("local[2]", shuffle_partitions=2)  # small test data: few tasks
    yield spark
    spark.stop()
