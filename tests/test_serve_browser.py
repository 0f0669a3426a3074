"""Five viewers open the served dashboard at once: every page completes without errors.

Runs ``workbench serve`` itself (results cache, chart JavaScript served once, kernel pool) on
a loopback port and opens five Chromium pages concurrently.  Not timed: the figures are the
benchmark's (``bench/bench_serve.py``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("playwright")

from browser import CHROMIUM_ARGS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
VIEWERS = 5
TIMEOUT_MS = 240_000

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Debian chromium")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    from workbench.serve import free_port

    cache = tmp_path_factory.mktemp("serve-cache")
    cmd = [sys.executable, "-m", "workbench", "serve", "--port", str(free_port()),
           "--viewers", "3", "--cache-dir", str(cache), "--data-dir", str(ROOT / "sample_data")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT)
    lines: list[str] = []
    url = None
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "/voila/render/executive.ipynb" in line:
            url = line.strip()
            break
    if url is None:
        proc.terminate()
        pytest.fail("workbench serve did not print a URL:\n" + "".join(lines[-40:]))
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    yield url, lines, cache
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_five_pages_at_once_complete_without_errors(served) -> None:
    import asyncio

    from playwright.async_api import async_playwright

    url, log, cache = served
    assert any(cache.rglob("*.parquet")), "serve warmed the results cache before the URL"

    async def viewer(browser) -> list[str]:
        errors: list[str] = []
        context = await browser.new_context()
        page = await context.new_page()
        page.on("console", lambda m: errors.append(f"console: {m.text}")
                if m.type == "error" or "anywidget" in m.text.lower() else None)
        page.on("pageerror", lambda e: errors.append(f"exception: {e}"))
        await page.goto(url, wait_until="domcontentloaded", timeout=TIMEOUT_MS)
        await page.locator(".kpi-revenue .wb-kpi-value").wait_for(timeout=TIMEOUT_MS)
        for chart in (".wb-chart-segments svg", ".wb-chart-rf svg"):
            await page.locator(chart).first.wait_for(state="attached", timeout=TIMEOUT_MS)
        await page.locator("#loading").wait_for(state="detached", timeout=TIMEOUT_MS)
        await page.wait_for_timeout(2500)  # anywidget reports a failed model after 2 s
        if await page.locator(".wb-error").count():
            errors.append("a .wb-error box")
        body = await page.locator("body").inner_text()
        if "Traceback" in body:
            errors.append("Traceback in the page")
        await page.close(run_before_unload=True)
        await context.close()
        return [e for e in errors
                if not re.search(r"net::ERR_|favicon\.ico|Failed to load resource", e)]

    async def run() -> list[list[str]]:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return await asyncio.gather(*(viewer(browser) for _ in range(VIEWERS)))
            finally:
                await browser.close()

    # a thread of its own: the sync Playwright fixtures of other tests leave an event loop
    # running in this one, and asyncio.run refuses to start inside it
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        results = pool.submit(asyncio.run, run()).result()
    assert results == [[]] * VIEWERS, results
    text = "".join(log)
    assert "Traceback" not in text, text[-3000:]
