"""Helpers for browser tests of the Voilà dashboards (plain Playwright sync API).

A dashboard test uses the fixtures of ``tests/conftest.py`` (``voila_server``, ``page``) and
these helpers::

    from tests.browser import assert_no_errors, open_dashboard

    @pytest.mark.browser
    def test_executive(voila_server, page):
        dash = open_dashboard(page, voila_server.url("executive.ipynb"))
        page.locator(".kpi-revenue").wait_for()
        assert_no_errors(dash)
        save_screenshot(page, "executive")

Give widgets stable hooks with ``widget.add_class("kpi-revenue")`` and find them with
``page.locator(".kpi-revenue")``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import ConsoleMessage, Error, Page

#: Where screenshots go (git-ignored).
ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"

#: Launch arguments for Debian's Chromium on a machine with no network but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

#: Output elements that show an error: stderr text, and the messages Voilà puts in place of
#: a traceback (``show_tracebacks=False``) or after a cell timeout.
ERROR_OUTPUT_SELECTORS = [
    '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]',
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]',
]
ERROR_TEXT_MARKERS = [
    "Traceback (most recent call last)",
    "There was an error when executing cell",
    "Cell execution timed out",
]

#: Console errors that say nothing about the dashboard: resources the offline machine cannot
#: fetch (CDNs, favicon).
DEFAULT_IGNORED_CONSOLE = [
    r"net::ERR_",
    r"favicon\.ico",
    r"Failed to load resource",
]


@dataclass
class DashboardPage:
    """A dashboard opened in a browser page, with the errors seen while it loaded and since.

    Attributes
    ----------
    page
        The Playwright page.
    url
        The dashboard's URL.
    console_errors
        Text of every ``console.error`` message (kept up to date while the page lives).
    page_errors
        Uncaught JavaScript exceptions.
    """

    page: Page
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def error_outputs(self) -> list[str]:
        """Visible error outputs in the page (see :func:`error_outputs`)."""
        return error_outputs(self.page)


def open_dashboard(page: Page, url: str, timeout: float = 120.0) -> DashboardPage:
    """Open a Voilà dashboard and wait until its notebook has run (``#loading`` detached).

    Parameters
    ----------
    page
        A Playwright page (the ``page`` fixture).
    url
        The dashboard URL, e.g. ``voila_server.url("executive.ipynb")``.
    timeout
        Seconds to wait for the page to load and the notebook to run.

    Returns
    -------
    DashboardPage
        The page with the console and JavaScript errors collected from before the load on.

    Examples
    --------
    >>> dash = open_dashboard(page, voila_server.url("hello.ipynb"))  # doctest: +SKIP
    >>> dash.page.locator(".hello-button").click()  # doctest: +SKIP
    """
    dash = DashboardPage(page=page, url=url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            dash.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: dash.page_errors.append(str(exc)))
    page.goto(url, timeout=timeout * 1000, wait_until="domcontentloaded")
    try:
        page.locator("#loading").wait_for(state="detached", timeout=timeout * 1000)
    except Error as exc:
        path = save_screenshot(page, "loading-timeout")
        raise AssertionError(
            f"{url}: still loading after {timeout:.0f} s (screenshot: {path})"
        ) from exc
    return dash


def error_outputs(page: Page) -> list[str]:
    """Texts of the visible error outputs of a rendered notebook.

    Finds stderr outputs and any output area showing a traceback, Voilà's "There was an error
    when executing cell" message, or a cell timeout.

    Examples
    --------
    >>> error_outputs(page)  # doctest: +SKIP
    []
    """
    found: list[str] = []
    for selector in ERROR_OUTPUT_SELECTORS:
        for element in page.locator(selector).all():
            if element.is_visible():
                found.append(element.inner_text().strip())
    for element in page.locator(".jp-OutputArea-output").all():
        text = element.inner_text()
        if any(marker in text for marker in ERROR_TEXT_MARKERS) and element.is_visible():
            found.append(text.strip())
    return list(dict.fromkeys(found))  # unique, in page order


def assert_no_errors(
    dash: DashboardPage,
    ignore_console: Iterable[str] = DEFAULT_IGNORED_CONSOLE,
) -> None:
    """Fail with every error seen: error outputs, JavaScript exceptions, console errors.

    Parameters
    ----------
    dash
        From :func:`open_dashboard`.
    ignore_console
        Regular expressions of console messages to ignore.

    Examples
    --------
    >>> assert_no_errors(open_dashboard(page, url))  # doctest: +SKIP
    """
    patterns = [re.compile(p) for p in ignore_console]
    console = [m for m in dash.console_errors if not any(p.search(m) for p in patterns)]
    problems = (
        [f"error output: {text}" for text in dash.error_outputs()]
        + [f"JavaScript exception: {text}" for text in dash.page_errors]
        + [f"console error: {text}" for text in console]
    )
    if problems:
        shot = save_screenshot(dash.page, f"errors-{Path(urlparse(dash.url).path).stem}")
        listed = "\n  ".join(problems)
        raise AssertionError(f"{dash.url} shows errors (screenshot: {shot}):\n  {listed}")


def save_screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save a PNG of the page under ``test-artifacts/`` and return its path.

    Examples
    --------
    >>> save_screenshot(page, "executive")  # doctest: +SKIP
    PosixPath('.../test-artifacts/executive.png')
    """
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "page"
    path = ARTIFACTS_DIR / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def start_serve(*args: str, cwd: Path) -> tuple[subprocess.Popen, str, list[str]]:
    """Start ``python -m workbench serve --port <free> ARGS`` and wait for its dashboard URL.

    Returns the process, the URL it printed and the list of its output lines (kept up to date
    by a thread); fails the test with the last lines when it prints no URL.
    """
    import pytest

    from workbench.app.serve import free_port

    cmd = [sys.executable, "-m", "workbench", "serve", "--port", str(free_port()), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=cwd)
    lines: list[str] = []
    url = None
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "/voila/render/executive.ipynb" in line:
            url = line.strip()
            break
    if url is None:
        stop(proc)
        pytest.fail("workbench serve did not print a URL:\n" + "".join(lines[-40:]))
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    return proc, url, lines


def stop(proc: subprocess.Popen) -> None:
    """Terminate a server started by :func:`start_serve` (kill it after 20 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
