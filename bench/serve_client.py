"""A dashboard viewer without a browser: the server's share of opening a Voilà page.

``bench_serve.py --client protocol`` uses this to measure what the server does for N viewers
when their browsers run on their own machines.  One viewer makes the requests a real page
makes, in the same order, without running any JavaScript:

1. ``GET`` the rendered notebook (Voilà streams the pre-rendered page of a pooled kernel);
   its kernel id is read from the page's ``jupyter-config-data``.
2. ``GET`` every static file a real Chromium page loaded (the list is recorded once from a
   real page by :func:`record_assets`), six at a time, as a browser does per host.
3. Open the kernel websocket (``/api/kernels/<id>/channels``, Jupyter's JSON protocol), ask
   for the kernel info, open the ``jupyter.widget.control`` comm and send
   ``request_states``, as the page's widget manager does; the ``update_states`` reply holds
   the state of every widget model on the page.
4. Check that reply: the revenue KPI tile (``kpi-revenue``) holds a value, and the first tab's
   charts (``wb-chart-segments``, ``wb-chart-rf``) hold a Vega-Lite spec.
5. Close as a browser tab does: ``POST /voila/api/shutdown/<id>`` (the ``beforeunload``
   beacon, with an ``_xsrf`` cookie and header), then close the websocket.

Time to KPI is when the widget states arrived with the KPI value in them; time to complete is
the same moment when the chart specs are in them too and every static file was served.  What a
real viewer waits for in addition is their own browser starting the page (about 2-3 s of
Chromium CPU per page, measured by the Chromium rounds).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import secrets
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

KERNEL_ID = re.compile(r'"kernelId":\s*"([^"]+)"')
KPI_CLASS = "kpi-revenue"
CHART_CLASSES = ("wb-chart-segments", "wb-chart-rf")
BROWSER_CONNECTIONS = 6  # Chromium's limit of parallel HTTP/1.1 connections per host


@dataclass
class ViewerResult:
    """What one protocol-level viewer got; times in seconds from the round's start."""

    kpi: float | None = None
    complete: float | None = None
    html: float | None = None
    websocket: float | None = None
    ws_bytes: int = 0
    http_bytes: int = 0
    errors: list[str] = field(default_factory=list)


def _message(msg_type: str, content: dict, session: str, channel: str = "shell",
             metadata: dict | None = None) -> str:
    """A Jupyter message in the websocket's JSON form."""
    return json.dumps({
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "session": session,
            "username": "bench",
            "date": dt.datetime.now(dt.UTC).isoformat(),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": metadata or {},
        "content": content,
        "buffers": [],
        "channel": channel,
    })


def _decode(frame: str | bytes) -> dict:
    """A websocket frame as a message dict (binary frames: Jupyter's legacy buffer format)."""
    if isinstance(frame, str):
        return json.loads(frame)
    (count,) = struct.unpack("!I", frame[:4])
    offsets = struct.unpack(f"!{count}I", frame[4 : 4 + 4 * count])
    end = offsets[1] if count > 1 else len(frame)
    return json.loads(frame[offsets[0] : end].decode("utf-8"))


def check_states(states: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether the widget states hold the KPI value, and what of the first tab is missing.

    Examples
    --------
    >>> tile = {"state": {"_dom_classes": ["kpi-revenue"],
    ...                   "value": "<div class='wb-kpi-value' data-value='12.5'>$12</div>"}}
    >>> chart = {"state": {"_dom_classes": ["wb-chart-segments"], "spec": {"mark": "bar"}}}
    >>> check_states({"a": tile, "b": chart})
    (True, ['wb-chart-rf'])
    >>> check_states({"a": {"state": {"_dom_classes": ["kpi-revenue"],
    ...     "value": "<div class='wb-kpi-value' data-value=''>n/a</div>"}}})[0]
    False
    """
    kpi = False
    charts: set[str] = set()
    for model in states.values():
        state = model.get("state", {})
        classes = state.get("_dom_classes") or []
        if KPI_CLASS in classes:
            value = str(state.get("value", ""))
            kpi = "wb-kpi-value" in value and "data-value=''" not in value
        for name in CHART_CLASSES:
            if name in classes and state.get("spec"):
                charts.add(name)
    return kpi, [name for name in CHART_CLASSES if name not in charts]


async def _fetch_assets(base: str, assets: list[str], timeout: float,
                        result: ViewerResult) -> None:
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError

    client = AsyncHTTPClient(force_instance=True, max_clients=BROWSER_CONNECTIONS)
    try:
        async def one(path: str) -> None:
            try:
                response = await client.fetch(base + path, request_timeout=timeout)
                result.http_bytes += len(response.body)
            except HTTPClientError as exc:
                result.errors.append(f"static {path}: HTTP {exc.code}")

        await asyncio.gather(*(one(path) for path in assets))
    finally:
        client.close()


async def _widget_states(ws_url: str, timeout: float, result: ViewerResult,
                         start: float) -> dict[str, Any]:
    """Open the kernel websocket, ask for every widget's state, return the reply's states."""
    from tornado.websocket import websocket_connect

    conn = await asyncio.wait_for(websocket_connect(ws_url, max_message_size=2**30), timeout)
    result.websocket = time.perf_counter() - start
    session = uuid.uuid4().hex
    comm_id = uuid.uuid4().hex
    try:
        await conn.write_message(_message("kernel_info_request", {}, session))
        await conn.write_message(_message(
            "comm_open",
            {"comm_id": comm_id, "target_name": "jupyter.widget.control", "data": {}},
            session, metadata={"version": "1.0.0"}))
        await conn.write_message(_message(
            "comm_msg", {"comm_id": comm_id, "data": {"method": "request_states"}}, session))
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("no update_states reply")
            frame = await asyncio.wait_for(conn.read_message(), left)
            if frame is None:
                raise ConnectionError("the kernel websocket closed")
            result.ws_bytes += len(frame)
            msg = _decode(frame)
            content = msg.get("content", {})
            if msg.get("msg_type") == "comm_msg" and content.get("comm_id") == comm_id:
                data = content.get("data", {})
                if data.get("method") == "update_states":
                    return data.get("states", {})
            if msg.get("msg_type") == "error" or content.get("status") == "error":
                result.errors.append(f"kernel error: {str(content)[:160]}")
    finally:
        conn.close()


async def _shutdown(base: str, kernel_id: str) -> None:
    """The page's ``beforeunload`` beacon: shut the kernel down."""
    from tornado.httpclient import AsyncHTTPClient

    token = secrets.token_hex(16)
    client = AsyncHTTPClient(force_instance=True)
    try:
        await client.fetch(
            f"{base}voila/api/shutdown/{kernel_id}", method="POST", body=b"",
            headers={"Cookie": f"_xsrf={token}", "X-XSRFToken": token},
            raise_error=False, request_timeout=30)
    finally:
        client.close()


async def protocol_viewer(url: str, assets: list[str], start: float,
                          timeout: float) -> ViewerResult:
    """Open the dashboard at ``url`` as a page would, without a browser; see the module doc."""
    from tornado.httpclient import AsyncHTTPClient

    result = ViewerResult()
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}/"
    kernel_id = None
    client = AsyncHTTPClient(force_instance=True)
    try:
        response = await client.fetch(url, request_timeout=timeout, raise_error=False)
        result.html = time.perf_counter() - start
        if response.code != 200:
            result.errors.append(f"page: HTTP {response.code}")
            return result
        page = response.body.decode("utf-8", "replace")
        result.http_bytes += len(response.body)
        if "There was an error when executing cell" in page or "Traceback" in page:
            result.errors.append("traceback or cell error in the page")
        found = KERNEL_ID.search(page)
        if found is None:
            result.errors.append("no kernel id in the page")
            return result
        kernel_id = found.group(1)
        await _fetch_assets(base, assets, timeout, result)
        ws_url = f"ws://{parts.netloc}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4()}"
        states = await _widget_states(ws_url, timeout, result, start)
        kpi, missing = check_states(states)
        arrived = time.perf_counter() - start
        if kpi:
            result.kpi = arrived
        else:
            result.errors.append("no revenue KPI value in the widget states")
        if kpi and not missing and not any(e.startswith("static") for e in result.errors):
            result.complete = arrived
        elif missing:
            result.errors.append(f"missing from the widget states: {', '.join(missing)}")
    except Exception as exc:  # noqa: BLE001 - a timeout or refused connection is a result
        text = str(exc).splitlines()[0][:160] if str(exc) else ""
        result.errors.append(f"{type(exc).__name__}: {text}")
    finally:
        client.close()
        if kernel_id is not None:
            try:
                await _shutdown(base, kernel_id)
            except Exception as exc:  # noqa: BLE001
                result.errors.append(f"shutdown: {type(exc).__name__}")
    return result


async def record_assets(url: str, chromium: str, args: list[str],
                        timeout: float = 240.0) -> list[str]:
    """The static files (paths under the server) a real Chromium page loads for ``url``.

    The page's own HTML, the kernel API and the shutdown beacon are left out: the protocol
    viewer makes those requests itself.
    """
    from playwright.async_api import async_playwright

    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    seen: dict[str, None] = {}

    def on_request(request) -> None:
        u = request.url
        if request.method != "GET" or not u.startswith(origin):
            return
        path = u[len(origin):]
        if path.startswith(("api/", "voila/render/", "voila/api/")):
            return
        seen.setdefault(path, None)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=args)
        context = await browser.new_context()
        page = await context.new_page()
        page.on("request", on_request)
        await page.goto(url, timeout=timeout * 1000)
        for selector in (".kpi-revenue .wb-kpi-value", ".wb-chart-segments svg"):
            await page.locator(selector).first.wait_for(timeout=timeout * 1000)
        await page.wait_for_load_state("networkidle", timeout=timeout * 1000)
        await page.close(run_before_unload=True)
        await context.close()
        await browser.close()
    return list(seen)
