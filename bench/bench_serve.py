"""Benchmark ``workbench serve`` with N viewers opening the executive dashboard at once.

Starts ``workbench serve`` (loopback, a free port) on a data folder, waits until it has
printed its URL and filled its kernel pool, then for each N of ``--viewers`` opens N real
Chromium pages (Playwright, Debian's ``/usr/bin/chromium``, one browser context per viewer)
at the same moment and records per page:

- time to KPI: until the revenue tile shows a value;
- time to complete: until the first tab is drawn (segment and RF charts rendered, Voilà's
  ``#loading`` gone);
- errors: ``.wb-error`` boxes, tracebacks, Voilà error outputs, anywidget messages and
  other console errors;
- where the time goes: when the page's HTML was complete (the server's part: a kernel from
  the pool, the rendered notebook), when the page's JavaScript opened the kernel websocket
  (the browser's part), and the websocket bytes (the widget models' state).

CPU seconds of the server, its kernels and the Chromium processes are summed per round (the
browsers run on the same cores as the server here; a real viewer's browser does not).

``--client protocol`` replaces the pages by viewers without a browser (``serve_client.py``)
that make a real page's requests (the page, the static files a real page loaded, the kernel
websocket and the widget states): the server's share of N viewers, as when every viewer's
browser runs on their own machine.  ``--client mixed`` opens one real Chromium page among
N - 1 such viewers: what one viewer sees, their browser included, while the server serves N.

Memory (RSS) of the server and its kernels is sampled before, during (peak) and after the
pages close; after closing, the benchmark waits until memory is back within 10 % of the idle
level (or ``--settle`` seconds).

    .venv/bin/python bench/bench_serve.py --viewers 1,5,10
    .venv/bin/python bench/bench_serve.py --client protocol --viewers 1,5,10,30
    .venv/bin/python bench/bench_serve.py --viewers 10 --data-dir bench/data/serve-200k

Not a test: figures depend on the machine and its load (printed with the results).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import CHROMIUM_ARGS  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from serve_client import ViewerResult, protocol_viewer, record_assets  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LOG = ROOT / "test-artifacts" / "bench-serve.log"
KPI_SELECTOR = ".kpi-revenue .wb-kpi-value"
COMPLETE_SELECTORS = (".wb-chart-segments svg", ".wb-chart-rf svg")
ANYWIDGET = re.compile(r"anywidget", re.I)
IGNORED_CONSOLE = re.compile(r"net::ERR_|favicon\.ico|Failed to load resource")


class CpuMeter:
    """CPU seconds used during a round, by kind (server, kernels, chromium, client).

    ``client`` is this benchmark's own process (the protocol-level viewers).

    Processes are sampled while they live; one that ends keeps its last sample.
    """

    def __init__(self, server: psutil.Process) -> None:
        self.server = server
        self.start: dict[int, tuple[str, float]] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.sample(self.start)

    def sample(self, into: dict[int, tuple[str, float]] | None = None) -> None:
        into = self.last if into is None else into
        me = psutil.Process()
        procs = [
            (self.server, None),
            *((p, None) for p in self.server.children(True)),
            *((p, "chromium") for p in me.children(True)),
            (me, "client"),
        ]
        for proc, kind in procs:
            try:
                times = proc.cpu_times()
                if kind is None:
                    kind = "kernels" if "ipykernel" in " ".join(proc.cmdline()) else "server"
                elif kind == "chromium" and "chrom" not in proc.name():
                    continue
            except psutil.Error:
                continue
            into[proc.pid] = (kind, times.user + times.system)

    def totals(self) -> dict[str, float]:
        out = {"server": 0.0, "kernels": 0.0, "chromium": 0.0, "client": 0.0}
        for pid, (kind, used) in self.last.items():
            out[kind] += used - self.start.get(pid, (kind, 0.0))[1]
        return out


def kernel_processes(server: psutil.Process) -> list[psutil.Process]:
    """The kernel processes under the server."""
    out = []
    for child in server.children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(child.cmdline()):
                out.append(child)
        except psutil.Error:
            continue
    return out


def memory(server: psutil.Process) -> dict[str, float]:
    """RSS in MiB: total of the server tree, kernel count, largest and median kernel."""
    total, kernels = 0, []
    for proc in [server, *server.children(recursive=True)]:
        try:
            rss = proc.memory_info().rss
        except psutil.Error:
            continue
        total += rss
        try:
            if "ipykernel_launcher" in " ".join(proc.cmdline()):
                kernels.append(rss)
        except psutil.Error:
            pass
    mib = 2**20
    return {
        "total": total / mib,
        "kernels": len(kernels),
        "kernel_max": max(kernels, default=0) / mib,
        "kernel_median": statistics.median(kernels) / mib if kernels else 0.0,
    }


def tree_cpu(server: psutil.Process, interval: float = 1.0) -> float:
    """CPU percent of the server tree over ``interval`` seconds."""
    procs = [server, *server.children(recursive=True)]
    for p in procs:
        try:
            p.cpu_percent(None)
        except psutil.Error:
            pass
    time.sleep(interval)
    total = 0.0
    for p in procs:
        try:
            total += p.cpu_percent(None)
        except psutil.Error:
            pass
    return total


def wait_steady(server: psutil.Process, kernels: int, timeout: float = 240.0) -> float:
    """Wait until ``kernels`` kernels run and the server tree is nearly idle; seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if len(kernel_processes(server)) >= kernels and tree_cpu(server, 1.5) < 15:
            break
    return time.monotonic() - started


async def one_viewer(browser, url: str, start: float, timeout: float) -> ViewerResult:
    """Open ``url`` in a new context; record time to KPI and to the complete first tab."""
    result = ViewerResult()  # what the page saw (http_bytes not counted)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()

    def on_console(message) -> None:
        text = message.text
        if ANYWIDGET.search(text) and ("Failed" in text or message.type == "error"):
            result.errors.append(f"anywidget: {text[:160]}")
        elif message.type == "error" and not IGNORED_CONSOLE.search(text):
            result.errors.append(f"console: {text[:160]}")

    def on_websocket(ws) -> None:
        if "/api/kernels/" not in ws.url:
            return
        result.websocket = time.perf_counter() - start

        def received(payload) -> None:
            result.ws_bytes += len(payload) if payload else 0

        ws.on("framereceived", received)

    page.on("console", on_console)
    page.on("websocket", on_websocket)
    page.on("pageerror", lambda exc: result.errors.append(f"exception: {str(exc)[:160]}"))
    try:
        response = await page.goto(url, timeout=timeout * 1000, wait_until="domcontentloaded")
        if response is not None:
            await response.finished()
        result.html = time.perf_counter() - start
        await page.locator(KPI_SELECTOR).first.wait_for(state="visible", timeout=timeout * 1000)
        result.kpi = time.perf_counter() - start
        for selector in COMPLETE_SELECTORS:
            await page.locator(selector).first.wait_for(state="attached", timeout=timeout * 1000)
        await page.locator("#loading").wait_for(state="detached", timeout=timeout * 1000)
        result.complete = time.perf_counter() - start
        await asyncio.sleep(1.0)  # late errors (anywidget gives up after 2 s)
        boxes = await page.locator(".wb-error").count()
        if boxes:
            result.errors.append(f"{boxes} .wb-error box(es)")
        body = await page.locator("body").inner_text()
        if "Traceback" in body or "There was an error when executing cell" in body:
            result.errors.append("traceback or cell error in the page")
    except Exception as exc:  # noqa: BLE001 - a timeout is a result
        result.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    result._context = context  # type: ignore[attr-defined] - closed by the caller
    result._page = page  # type: ignore[attr-defined]
    return result


async def run_round(
    url: str,
    n: int,
    timeout: float,
    server: psutil.Process,
    assets: list[str] | None = None,
    mixed: bool = False,
) -> tuple[list, dict[str, float], object]:
    """Open ``n`` pages at once; return results, peak memory, and the browser (still open).

    With ``assets`` (the static files a real page loads) the viewers are protocol-level
    clients (:mod:`serve_client`) instead of Chromium pages, and no browser is started;
    with ``mixed`` too, the first viewer is a real Chromium page and the other ``n - 1``
    are protocol-level: that page shows what one viewer sees while the server serves ``n``
    and the other viewers' browsers run elsewhere.
    """
    pw = browser = None
    if assets is None or mixed:
        from playwright.async_api import async_playwright

        pw = await async_playwright().start()
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    peak: dict[str, float] = {"total": 0.0, "kernel_max": 0.0, "kernels": 0}
    stop = threading.Event()
    cpu = CpuMeter(server)

    def sample() -> None:
        while not stop.is_set():
            m = memory(server)
            for k in peak:
                peak[k] = max(peak[k], m[k])
            cpu.sample()
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    if assets is None:
        viewers = [one_viewer(browser, url, start, timeout) for _ in range(n)]
    else:
        viewers = [protocol_viewer(url, assets, start, timeout) for _ in range(n)]
        if mixed:
            viewers[0].close()  # never started: the real page takes its place
            viewers[0] = one_viewer(browser, url, start, timeout)
    results = await asyncio.gather(*viewers)
    stop.set()
    sampler.join()
    cpu.sample()
    peak.update({f"cpu_{k}": v for k, v in cpu.totals().items()})
    return list(results), peak, (pw, browser)


def stats(values: list[float]) -> str:
    """min / median / p95 / max of ``values`` as text."""
    if not values:
        return "-"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, int(round(0.95 * len(ordered) + 0.5)) - 1))]
    return f"{ordered[0]:.1f} / {statistics.median(ordered):.1f} / {p95:.1f} / {ordered[-1]:.1f}"


def start_server(data_dir: Path, port: int, extra: list[str]) -> tuple[subprocess.Popen, str]:
    """``workbench serve`` on ``port``; returns the process and the dashboard URL."""
    cmd = [
        sys.executable,
        "-m",
        "workbench",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *extra,
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    url = None
    deadline = time.monotonic() + 600
    assert proc.stdout is not None
    for line in proc.stdout:
        print("   serve|", line.rstrip(), flush=True)
        if "/voila/render/executive.ipynb" in line:
            url = line.strip()
            break
        if time.monotonic() > deadline:
            break
    if url is None:
        proc.terminate()
        raise SystemExit("workbench serve did not print its URL")
    log = open(LOG, "w")  # noqa: SIM115 - closed with the process

    def copy() -> None:
        for line in proc.stdout:
            log.write(line)
            log.flush()

    threading.Thread(target=copy, daemon=True).start()
    print(f"   (server log: {LOG})", flush=True)
    return proc, url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--viewers", default="1,5,10,30", help="comma-separated viewer counts (default 1,5,10,30)"
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "sample_data")
    parser.add_argument("--dashboards-dir", type=Path, default=ROOT / "dashboards")
    parser.add_argument(
        "--pool",
        type=int,
        default=None,
        help="--viewers of workbench serve (default: its automatic choice)",
    )
    parser.add_argument(
        "--client",
        choices=("chromium", "protocol", "mixed"),
        default="chromium",
        help="viewers as real Chromium pages (default) or as protocol-level clients that make "
        "the page's requests without a browser (the server's share; see serve_client.py), "
        "or mixed: one Chromium page among N-1 protocol-level viewers",
    )
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per page")
    parser.add_argument(
        "--settle",
        type=float,
        default=90.0,
        help="seconds to wait for memory to return to idle after closing",
    )
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        help="extra argument for workbench serve (repeatable)",
    )
    args = parser.parse_args(argv)
    counts = [int(v) for v in args.viewers.split(",") if v.strip()]

    from workbench.app.serve import default_viewers, free_port

    pool = args.pool or default_viewers()
    extra = [*args.serve_arg, "--viewers", str(pool), "--dashboards-dir", str(args.dashboards_dir)]
    print(
        f"machine: {psutil.cpu_count()} cores, load {os.getloadavg()[0]:.2f} "
        f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}, "
        f"{psutil.virtual_memory().available / 2**30:.1f} GiB available; pool {pool}",
        flush=True,
    )
    LOG.parent.mkdir(exist_ok=True)
    started = time.perf_counter()
    proc, url = start_server(args.data_dir, free_port(), extra)
    print(f"serve printed its URL after {time.perf_counter() - started:.1f} s", flush=True)
    server = psutil.Process(proc.pid)
    rows = []
    assets = None
    try:
        if args.client in ("protocol", "mixed"):
            wait_steady(server, pool)
            assets = asyncio.run(record_assets(url, CHROMIUM, CHROMIUM_ARGS, args.timeout))
            print(
                f"client: protocol-level viewers; a real page loaded {len(assets)} static "
                "files, which each viewer fetches",
                flush=True,
            )
        for n in counts:
            waited = wait_steady(server, pool)
            idle = memory(server)
            load = os.getloadavg()[0]
            print(
                f"\n== {n} viewers (pool steady after {waited:.0f} s; idle {idle['total']:.0f}"
                f" MiB, {idle['kernels']} kernels of {idle['kernel_median']:.0f} MiB; "
                f"load {load:.2f})",
                flush=True,
            )
            results, peak, handles = asyncio.run(
                _round_and_close(url, n, args.timeout, server, assets, args.client == "mixed")
            )
            closed = time.monotonic()
            back = None
            after = memory(server)
            while time.monotonic() - closed < args.settle:
                after = memory(server)
                if (
                    after["total"] <= idle["total"] * 1.10 + 50
                    and after["kernels"] <= idle["kernels"]
                ):
                    back = time.monotonic() - closed
                    break
                time.sleep(2)
            load_after = os.getloadavg()[0]
            refill = wait_steady(server, pool, timeout=args.settle)
            refilled = memory(server)
            print(
                f"   pool refilled to {refilled['kernels']} kernels {refill:.0f} s after "
                f"closing: {refilled['total']:.0f} MiB",
                flush=True,
            )
            kpi = [r.kpi for r in results if r.kpi is not None]
            html = [r.html for r in results if r.html is not None]
            sock = [r.websocket for r in results if r.websocket is not None]
            wsb = [r.ws_bytes for r in results if r.complete is not None]
            done = [r.complete for r in results if r.complete is not None]
            errors = [e for r in results for e in r.errors]
            row = {
                "n": n,
                "kpi": stats(kpi),
                "complete": stats(done),
                "incomplete": n - len(done),
                "errors": len(errors),
                "idle": idle["total"],
                "peak": peak["total"],
                "kernels_peak": peak["kernels"],
                "kernel_max": peak["kernel_max"],
                "after": after["total"],
                "back": back,
                "load": load,
                "load_after": load_after,
                "html": stats(html),
                "websocket": stats(sock),
                "ws_kb": statistics.median(wsb) / 1000 if wsb else 0.0,
                "cpu": {k[4:]: peak[k] for k in peak if k.startswith("cpu_")},
            }
            if args.client == "mixed":
                page = results[0]
                row["page"] = (
                    f"{page.kpi:.1f} / {page.complete:.1f}"
                    if page.kpi is not None and page.complete is not None
                    else "incomplete"
                )
                print(f"   the Chromium page among them: KPI / complete {row['page']} s")
            rows.append(row)
            print(f"   time to KPI  (min/median/p95/max): {row['kpi']} s")
            print(f"   time to complete                 : {row['complete']} s")
            print(f"   HTML complete (server)           : {row['html']} s")
            print(f"   kernel websocket opened (browser): {row['websocket']} s")
            print(f"   websocket bytes per page (median): {row['ws_kb']:.0f} kB")
            print(
                "   CPU seconds in the round: "
                + ", ".join(f"{k} {v:.1f}" for k, v in row["cpu"].items())
                + f"; load {load:.1f} before, "
                f"{load_after:.1f} after"
            )
            print(f"   incomplete pages: {row['incomplete']}; errors: {len(errors)}")
            for e in list(dict.fromkeys(errors))[:8]:
                print(f"     - {e}")
            print(
                f"   memory: idle {idle['total']:.0f} MiB, peak {peak['total']:.0f} MiB "
                f"({peak['kernels']:.0f} kernels, largest {peak['kernel_max']:.0f} MiB), "
                f"after closing {after['total']:.0f} MiB, {after['kernels']:.0f} kernels "
                + (
                    f"(back to idle after {back:.0f} s)"
                    if back is not None
                    else f"(not back to idle within {args.settle:.0f} s)"
                ),
                flush=True,
            )
            del handles
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(
        "\n| viewers | time to KPI s (min/med/p95/max) | time to complete s | incomplete | "
        "errors | memory idle / peak / after MiB | largest kernel MiB | back to idle | "
        "CPU s server / kernels / chromium / client | load before / after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        back = f"{r['back']:.0f} s" if r["back"] is not None else "no"
        cpu = " / ".join(
            f"{r['cpu'].get(k, 0.0):.0f}" for k in ("server", "kernels", "chromium", "client")
        )
        print(
            f"| {r['n']} | {r['kpi']} | {r['complete']} | {r['incomplete']} | {r['errors']} | "
            f"{r['idle']:.0f} / {r['peak']:.0f} / {r['after']:.0f} | {r['kernel_max']:.0f} | "
            f"{back} | {cpu} | {r['load']:.1f} / {r['load_after']:.1f} |"
            + (f" Chromium page KPI / complete {r['page']} s |" if "page" in r else "")
        )
    return 0


async def _round_and_close(
    url: str,
    n: int,
    timeout: float,
    server: psutil.Process,
    assets: list[str] | None,
    mixed: bool = False,
):
    results, peak, (pw, browser) = await run_round(url, n, timeout, server, assets, mixed)
    if browser is None:  # protocol-level viewers closed their pages themselves
        await asyncio.sleep(1.0)
        return results, peak, None
    for r in results:  # as a viewer closing the tab: beforeunload sends the shutdown beacon
        page = getattr(r, "_page", None)
        if page is not None:
            await page.close(run_before_unload=True)
    await asyncio.sleep(1.0)
    for r in results:
        context = getattr(r, "_context", None)
        if context is not None:
            await context.close()
    await browser.close()
    await pw.stop()
    return results, peak, None


if __name__ == "__main__":
    sys.exit(main())
