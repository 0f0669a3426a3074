"""Serve the Voilà dashboards (``dashboards/`` of the repository, package data of a wheel:
:func:`workbench.app.templates.template_dir`).

The Voilà command line is built in one place, :func:`voila_command`, so that ``workbench serve``
and the browser-test fixture (``tests/conftest.py``) run the very same server. The flags follow
the README ('Serving the dashboard to a team'): loopback only, no browser, tracebacks hidden
from viewers, kernels culled when idle, cell execution bounded, kernels preheated.

The data directory reaches the dashboard kernels through the environment variable
``WORKBENCH_DATA_DIR`` (:data:`DATA_DIR_ENV`): Voilà starts kernels with a copy of its own
environment, preheated ones included.  With a project file (``workbench serve --config
workbench.toml``) both ``WORKBENCH_CONFIG`` (:data:`CONFIG_ENV`) and ``WORKBENCH_DATA_DIR``
name the project file, and :meth:`workbench.presentation.widgets.state.Dataset.from_dir` reads the
tables through it (:meth:`~workbench.presentation.widgets.state.Dataset.from_config`).

Access: on a loopback address (``127.0.0.1``, ``localhost``, ``::1``) no token is asked for.
Off loopback (``--host 0.0.0.0``, a LAN address, a host name) a token is required: the one
given, or a fresh one (:func:`secrets.token_urlsafe`) that is printed, unless the user opts out
explicitly (``no_token=True``, with a warning). The printed URLs are ones that work: for a
wildcard address the machine's host name and the loopback address, each with ``?token=...``
when a token is in use (:func:`choose_token`, :func:`access_urls`).

Serving a whole team (:func:`serve`):

- **Results cache.** Before printing the URL, ``serve`` computes the default view (KPIs, the
  first tab, the previous period's segments and the previous month end) into the results
  cache (:mod:`workbench.core.cache`, :func:`warm_cache`), then warms the other tabs in a
  low-priority background process.  Kernels load results from the cache
  (``WORKBENCH_CACHE_DIR``) instead of reading the data and recomputing.
- **Kernel pool.** ``viewers`` preheated kernels (default :func:`default_viewers`, from the
  machine's cores and free memory); more viewers get kernels started on demand.  Kernels of
  closed pages are shut down by the page's ``beforeunload`` beacon, and kernels without a
  page are culled after ``cull_idle_timeout`` seconds (``cull_connected=False``: open pages
  are never culled).  A kernel taken from the pool is replaced ``fill_delay`` seconds later;
  pooled kernels are handed to pages only after their notebook ran, and at most one kernel
  per core starts at once (:mod:`workbench.app.serve_kernels`).
- **Outputs are waited for.** ``VoilaExecutor.iopub_timeout`` is the cell timeout: a cell's
  outputs (the dashboard's widget view) are never dropped because the kernel's output
  thread lags behind its reply on a loaded machine.
- **Chart JavaScript.** The offline Vega bundle (900 kB) is written once as a static file
  of the server (:func:`write_chart_bundle`) and every chart widget imports it by URL
  (:func:`chart_loader_esm`) instead of carrying its own copy: the browser loads and compiles
  it once per page, well within anywidget's 2-second model initialisation limit.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from workbench.app.templates import project_root, template_dir
from workbench.errors import ConfigError, WorkbenchError

#: Environment variable through which dashboards learn where the data files are.
DATA_DIR_ENV = "WORKBENCH_DATA_DIR"
#: Environment variable naming the project file (``workbench.toml``) of the dashboards.
CONFIG_ENV = "WORKBENCH_CONFIG"
DEFAULT_PORT = 8866
DEFAULT_HOST = "127.0.0.1"
#: A static file that Voilà serves without starting a kernel (``GET /`` may start one).
HEALTH_PATH = "/voila/static/voila.js"
#: Addresses that mean "every interface".
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})
#: Environment variable with the path (under ``/voila/static/``) of the chart JavaScript.
CHART_ESM_ENV = "WORKBENCH_CHART_ESM"
#: Memory one dashboard kernel may use (the budget behind :func:`default_viewers`).
KERNEL_MEMORY_BUDGET = 200 * 2**20
#: Culling of kernels whose page is gone: seconds idle, seconds between checks.
CULL_IDLE_TIMEOUT = 60
CULL_INTERVAL = 15
#: Seconds after a page took a preheated kernel before its replacement starts (a short pause
#: so that a burst's pages are served first; at most one kernel per core starts at once, see
#: :mod:`workbench.app.serve_kernels`).  A page beyond the pool waits this long plus one notebook
#: run, so it is kept short.
FILL_DELAY = 3


class ServeError(ConfigError):
    """``serve`` cannot start as asked (bad host, port or option): a
    :class:`~workbench.errors.ConfigError`."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost`` (only this machine can connect).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("192.168.1.5"), is_loopback("example.org")
    (False, False, False)
    """
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether ``host`` means every interface (``0.0.0.0``, ``::`` or empty).

    Examples
    --------
    >>> is_wildcard("0.0.0.0"), is_wildcard("::"), is_wildcard("127.0.0.1")
    (True, True, False)
    """
    return host.strip() in WILDCARD_HOSTS


def choose_token(
    host: str,
    token: str | None = None,
    no_token: bool = False,
    generate: Callable[[], str] = lambda: secrets.token_urlsafe(24),
) -> str | None:
    """The token viewers must give, or ``None`` for no login.

    Parameters
    ----------
    host
        Address the server listens on.
    token
        Token asked for by the user (used on any host).
    no_token
        The user's explicit opt-out of a token off loopback.
    generate
        Makes a fresh token when one is required and none was given.

    Returns
    -------
    str or None
        ``token`` when given; else ``None`` on loopback or with ``no_token``; else a new token.

    Raises
    ------
    ServeError
        When both ``token`` and ``no_token`` are given, or ``token`` is blank.

    Examples
    --------
    >>> choose_token("127.0.0.1") is None
    True
    >>> choose_token("0.0.0.0", generate=lambda: "fresh")
    'fresh'
    >>> choose_token("0.0.0.0", no_token=True) is None, choose_token("::1", "mine")
    (True, 'mine')
    """
    if token is not None:
        if no_token:
            raise ServeError("--token and --no-token contradict each other: give one")
        if not token.strip():
            raise ServeError("--token is empty: give a token, or --no-token for none")
        return token
    if no_token or is_loopback(host):
        return None
    return generate()


def with_token(url: str, token: str | None) -> str:
    """``url`` with ``?token=...`` appended when ``token`` is given.

    Examples
    --------
    >>> with_token("http://h:1/voila/render/a.ipynb", "t/k")
    'http://h:1/voila/render/a.ipynb?token=t%2Fk'
    >>> with_token("http://h:1/", None)
    'http://h:1/'
    """
    if not token:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}{urlencode({'token': token})}"


def access_urls(host: str, port: int, hostname: str | None = None) -> list[str]:
    """Base URLs that reach a server listening on ``host:port``, the most useful first.

    For a wildcard address (``0.0.0.0``, ``::``): the machine's host name (for other
    machines) and the loopback address (for this one). Otherwise the one URL of ``host``.

    Parameters
    ----------
    host, port
        Where the server listens.
    hostname
        This machine's name; default :func:`socket.gethostname`.

    Examples
    --------
    >>> access_urls("0.0.0.0", 8866, hostname="box")
    ['http://box:8866', 'http://127.0.0.1:8866']
    >>> access_urls("::", 8866, hostname="box")
    ['http://box:8866', 'http://[::1]:8866']
    >>> access_urls("127.0.0.1", 8866)
    ['http://127.0.0.1:8866']
    """
    if not is_wildcard(host):
        return [server_url(host, port)]
    name = hostname if hostname is not None else socket.gethostname()
    local = server_url(host, port)
    urls = [f"http://{name}:{port}"] if name and not is_loopback(name) else []
    return [*urls, local]


def default_data_dir() -> Path:
    """The sample data: ``sample_data/`` of the repository in a checkout, of the current
    directory for an installed package (:func:`workbench.app.templates.project_root`).

    Examples
    --------
    >>> default_data_dir().name
    'sample_data'
    """
    return project_root() / "sample_data"


def default_dashboards_dir() -> Path:
    """The dashboards: package data, or ``dashboards/`` of an editable checkout
    (:func:`workbench.app.templates.template_dir`).

    Examples
    --------
    >>> default_dashboards_dir().name
    'dashboards'
    """
    return template_dir("dashboards")


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port on ``host`` that nothing listens on right now.

    Parameters
    ----------
    host
        Address to bind the probe socket to.

    Returns
    -------
    int
        A port number the OS handed out; it is free until someone else takes it.

    Examples
    --------
    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def available_memory() -> int | None:
    """Bytes of memory available to new processes (``MemAvailable``), or ``None`` if unknown.

    Examples
    --------
    >>> available_memory() is None or available_memory() > 0
    True
    """
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def default_viewers(memory: int | None = None, cores: int | None = None) -> int:
    """Preheated kernels to keep for this machine: five per core, as many as half the
    available memory holds at :data:`KERNEL_MEMORY_BUDGET` each, between 2 and 20.

    Parameters
    ----------
    memory
        Available bytes; default :func:`available_memory`.
    cores
        CPU cores usable by this process; default from :func:`os.sched_getaffinity`.

    Examples
    --------
    >>> default_viewers(memory=24 * 2**30, cores=2)
    10
    >>> default_viewers(memory=1 * 2**30, cores=8)
    2
    >>> default_viewers(memory=64 * 2**30, cores=32)
    20
    """
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:
            cores = os.cpu_count() or 1
    memory = available_memory() if memory is None else memory
    by_memory = 20 if memory is None else int(memory * 0.5 // KERNEL_MEMORY_BUDGET)
    return max(2, min(5 * max(int(cores), 1), by_memory, 20))


def chart_bundle_name() -> str:
    """File name of the offline chart JavaScript for the installed altair and vl-convert.

    Examples
    --------
    >>> chart_bundle_name().startswith("workbench/vega-") and chart_bundle_name().endswith(".js")
    True
    """
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for package in ("altair", "vl-convert-python", "anywidget"):
        try:
            parts.append(version(package))
        except PackageNotFoundError:
            parts.append("0")
    return "workbench/vega-" + "-".join(parts) + ".js"


def static_root(cache_dir: str | os.PathLike[str]) -> Path:
    """The Jupyter data folder whose Voilà ``static`` folder holds the chart JavaScript
    (prepended to ``JUPYTER_PATH`` of the server, served under ``/voila/static/``)."""
    return Path(cache_dir) / "jupyter"


def write_chart_bundle(cache_dir: str | os.PathLike[str], template: str = "lab") -> str:
    """Write the offline Vega bundle of ``altair.JupyterChart`` once as a static file.

    Returns the path under ``/voila/static/`` (:data:`CHART_ESM_ENV`).  Building the bundle
    takes about 2.5 s of vl-convert; it is done once per altair / vl-convert version instead of
    once per kernel, and the file is written atomically.
    """
    name = chart_bundle_name()
    target = static_root(cache_dir) / "voila" / "templates" / template / "static" / name
    if not target.is_file():
        import altair as alt

        from workbench.core.cache import _atomic_write_bytes

        alt.JupyterChart.enable_offline(True)
        _atomic_write_bytes(target, alt.JupyterChart._esm.encode())
    return name


def chart_loader_esm(static_path: str) -> str:
    """A small ES module that hands rendering to the shared chart bundle at ``static_path``.

    anywidget imports each model's ``_esm`` text from a new ``blob:`` URL and gives the model
    two seconds (a fixed ``AbortSignal.timeout(2000)``) to load it, or it fails with
    "[anywidget] Failed to initialize model.".  When the 900 kB offline bundle is the ``_esm``
    itself, it is sent over the websocket, parsed and compiled once per chart, and several
    charts on several pages of a busy server overrun the limit.  This loader is tiny: it loads
    at once, starts importing the bundle by its URL (relative to the page's Jupyter base URL;
    fetched and compiled once per page, then cached by the browser) and awaits it only in
    ``render``, which anywidget does not time-limit.

    Examples
    --------
    >>> "voila/static/workbench/vega.js" in chart_loader_esm("workbench/vega.js")
    True
    """
    url = json.dumps(f"voila/static/{static_path}")
    return (
        # (the page's `_xsrf` cookie, which its kernel-shutdown beacon needs, is set by the
        # server on every page: workbench.app.serve_kernels.cookie_on_every_page)
        "const el = document.getElementById('jupyter-config-data');\n"
        "let base = '/';\n"
        "try { base = JSON.parse(el ? el.textContent : '{}').baseUrl || '/'; } catch (e) {}\n"
        f"const href = new URL({url}, new URL(base, window.location.href)).href;\n"
        "const bundle = import(href);\n"
        "bundle.catch((e) => console.error('chart JavaScript could not be loaded', e));\n"
        "export default {\n"
        "  async render(context) {\n"
        "    const mod = await bundle;\n"
        "    return mod.default.render(context);\n"
        "  },\n"
        "};\n"
    )


def prepare_kernel() -> None:
    """Make a dashboard kernel lighter; call first thing in a served notebook.

    - ``jsonschema`` (used by altair) is kept from compiling the RFC 3987 grammar of
      ``rfc3987_syntax`` (1.3 s per kernel) that only checks ``iri`` formats, which chart specs
      do not use.
    - With :data:`CHART_ESM_ENV` set (by :func:`serve`), chart widgets load the shared
      chart JavaScript by URL (:func:`chart_loader_esm`) instead of bundling it per kernel.

    Examples
    --------
    >>> prepare_kernel()  # the first line of a dashboard notebook; calling it again is harmless
    """
    if "jsonschema" not in sys.modules:
        # None blocks the import (the import system's documented rule); typeshed types
        # sys.modules as holding modules only
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    path = os.environ.get(CHART_ESM_ENV)
    if path:
        import altair as alt

        if not alt.JupyterChart._is_offline:
            alt.JupyterChart._esm = chart_loader_esm(path)
            alt.JupyterChart._is_offline = True


def warm_cache(
    source: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    everything: bool = False,
) -> dict[str, float]:
    """Compute the dashboard's default view into the results cache.

    The KPIs and first tab of the default as-of date, the previous period's segments (the
    Migration tab's input) and the first tab of the previous month end; with ``everything``
    also every other tab of the default view (CLV fits, loyalty, cohorts...).

    Returns
    -------
    dict
        Seconds per step, and the cache hits and misses.

    Examples
    --------
    >>> import tempfile
    >>> from workbench.app.sample_data import write_sample_data
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_sample_data(f"{folder}/data", n_customers=500)  # a small data set
    >>> times = warm_cache(f"{folder}/data", f"{folder}/cache")  # a few seconds
    >>> list(times)[:3]
    ['default view', 'previous period', 'previous month end']
    """
    from workbench.presentation.widgets.dashboard import ExecutiveDashboard

    times: dict[str, float] = {}
    started = time.perf_counter()
    dash = ExecutiveDashboard.open(source, cache_dir)
    times["default view"] = time.perf_counter() - started
    state = dash.state
    if state is None:
        # the dashboard shows viewers a short message without paths; the server's console gets
        # the whole reason (file, column, rows) from reading the data again
        from workbench.presentation.widgets.state import Dataset

        Dataset.open(Path(source), cache_dir)
        raise ServeError("the data could not be read: see the dashboard's message")
    started = time.perf_counter()
    _ = state.previous_segments
    times["previous period"] = time.perf_counter() - started
    if everything:
        for index in range(1, len(dash.tabs.children)):
            started = time.perf_counter()
            dash.tabs.selected_index = index
            times[f"tab {dash.tabs.titles[index]}"] = time.perf_counter() - started
        dash.tabs.selected_index = 0
    options = [value for _, value in dash.as_of_control.options]
    if len(options) > 1 and options[0] == state.as_of:
        started = time.perf_counter()
        dash.set_selection(as_of=options[1])
        times["previous month end"] = time.perf_counter() - started
    cache = state.data.cache
    if cache is not None:
        times["hits"], times["misses"] = float(cache.hits), float(cache.misses)
    return times


def voila_command(
    dashboards_dir: str | os.PathLike[str],
    port: int,
    host: str = DEFAULT_HOST,
    *,
    preheat: bool = True,
    pool_size: int = 1,
    cell_timeout: int = 120,
    cull_interval: int = 60,
    cull_idle_timeout: int = 300,
    cull_connected: bool | None = None,
    fill_delay: float | None = None,
    show_tracebacks: bool = False,
    token: str | None = None,
    python: str = sys.executable,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The command line that serves ``dashboards_dir`` with Voilà.

    Parameters
    ----------
    dashboards_dir
        Folder to serve. Voilà lists and runs every notebook in it, so it must hold
        dashboards only.
    port
        TCP port; must be free (Voilà is told not to wander to another port, so the
        printed URL is the real one). Use :func:`free_port` for "any port".
    host
        Address to listen on; keep the loopback address unless a proxy sits in front.
    preheat
        Start ``pool_size`` kernels per dashboard in advance and run the notebook in them, so
        that a page load renders in about 2.5 s instead of 6 s.
    pool_size
        Preheated kernels per dashboard (ignored when ``preheat`` is false).
    cell_timeout
        Seconds one cell may run before Voilà stops the notebook (``VoilaExecutor.timeout``).
    cull_interval, cull_idle_timeout
        Seconds between checks for idle kernels, and idle seconds after which a kernel is shut
        down (closing a tab does not shut its kernel down).
    cull_connected
        Whether kernels with an open page may be culled too (``False``: only kernels whose
        page is gone; ``None``: Voilà's default).
    fill_delay
        Seconds after handing out a preheated kernel before its replacement starts
        (``None``: Voilà's default, 1 s).
    show_tracebacks
        Send Python tracebacks to the page. Keep false for viewers.
    token
        When given, viewers must log in with it.
    python
        Interpreter that runs ``-m voila``.
    extra_args
        More Voilà options, appended last (so they win).

    Returns
    -------
    list of str
        ``[python, "-m", "voila", dashboards_dir, ...flags]``, ready for ``subprocess``.

    Examples
    --------
    >>> cmd = voila_command("dashboards", 8866, python="python")
    >>> cmd[:4]
    ['python', '-m', 'voila', 'dashboards']
    >>> "--Voila.ip=127.0.0.1" in cmd and "--port=8866" in cmd
    True
    """
    if not 0 < int(port) < 65536:
        raise ValueError(f"port must be between 1 and 65535, got {port}")
    cmd = [
        python,
        "-m",
        "voila",
        str(dashboards_dir),
        "--no-browser",
        f"--port={int(port)}",
        "--Voila.port_retries=0",
        f"--Voila.ip={host}",
        f"--show_tracebacks={show_tracebacks}",
        f"--VoilaExecutor.timeout={int(cell_timeout)}",
        # nbclient waits only 4 s (its default) for a cell's outputs after the kernel's reply;
        # a kernel sends its outputs (the dashboard's widget view among them) from a separate
        # IOPub thread, which on a loaded machine lags more than that behind the reply: the
        # output was dropped ("Timeout waiting for IOPub output") and the page stayed blank.
        f"--VoilaExecutor.iopub_timeout={int(cell_timeout)}",
        f"--MappingKernelManager.cull_interval={int(cull_interval)}",
        f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_timeout)}",
    ]
    if cull_connected is not None:
        cmd.append(f"--MappingKernelManager.cull_connected={bool(cull_connected)}")
    if preheat and pool_size > 0:
        cmd += ["--preheat_kernel=True", f"--pool_size={int(pool_size)}"]
        if fill_delay is not None:
            cmd.append(f"--VoilaKernelManager.fill_delay={float(fill_delay):g}")
    if token:
        cmd.append(f"--token={token}")
    cmd += list(extra_args)
    return cmd


def server_url(host: str, port: int) -> str:
    """Base URL of a server listening on ``host:port``.

    A wildcard address (``0.0.0.0``, ``::``) gives the loopback URL of this machine.

    Examples
    --------
    >>> server_url("127.0.0.1", 8866), server_url("0.0.0.0", 8866), server_url("::", 1)
    ('http://127.0.0.1:8866', 'http://127.0.0.1:8866', 'http://[::1]:1')
    """
    shown = host.strip().strip("[]")
    if shown in ("", "0.0.0.0"):
        shown = "127.0.0.1"
    elif shown == "::":
        shown = "::1"
    if ":" in shown:  # IPv6 literal
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def dashboard_paths(dashboards_dir: str | os.PathLike[str]) -> list[str]:
    """The notebooks Voilà serves from ``dashboards_dir``, relative and with ``/``.

    Examples
    --------
    >>> dashboard_paths("no/such/folder")
    []
    """
    root = Path(dashboards_dir)
    found = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    ]
    return sorted(found)


def dashboard_url(base_url: str, notebook: str) -> str:
    """URL of one dashboard when Voilà serves a folder (``/voila/render/<path>``).

    Examples
    --------
    >>> dashboard_url("http://127.0.0.1:8866", "executive.ipynb")
    'http://127.0.0.1:8866/voila/render/executive.ipynb'
    """
    return f"{base_url.rstrip('/')}/voila/render/{quote(notebook)}"


def wait_until_up(
    base_url: str,
    timeout: float = 60.0,
    process: subprocess.Popen | None = None,
    interval: float = 0.25,
) -> bool:
    """Poll ``base_url + HEALTH_PATH`` until it answers 200.

    Parameters
    ----------
    base_url
        For example ``"http://127.0.0.1:8866"``.
    timeout
        Seconds to wait at most.
    process
        The server process; waiting stops early when it exits.
    interval
        Seconds between attempts.

    Returns
    -------
    bool
        True when the server answered, False on timeout or when ``process`` ended.

    Examples
    --------
    >>> wait_until_up("http://127.0.0.1:9", timeout=0.1)
    False
    """
    deadline = time.monotonic() + timeout
    url = base_url.rstrip("/") + HEALTH_PATH
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(interval)
    return False


def server_environment(
    data_dir: str | os.PathLike[str] | None = None,
    base: Mapping[str, str] | None = None,
    config: str | os.PathLike[str] | None = None,
) -> dict[str, str]:
    """Environment for the Voilà process (and so its kernels) with ``WORKBENCH_DATA_DIR`` set.

    Parameters
    ----------
    data_dir
        Folder with ``transactions.csv`` etc.; default :func:`default_data_dir`.
    base
        Environment to start from; default ``os.environ``.
    config
        A project file: ``WORKBENCH_CONFIG`` and ``WORKBENCH_DATA_DIR`` both name it
        (``data_dir`` must then be ``None``).

    Examples
    --------
    >>> server_environment("/data", base={})["WORKBENCH_DATA_DIR"]
    '/data'
    """
    env = dict(os.environ if base is None else base)
    if config is not None:
        if data_dir is not None:
            raise ServeError("--config and --data-dir: give one")
        env[CONFIG_ENV] = env[DATA_DIR_ENV] = str(Path(config).resolve())
        return env
    env.pop(CONFIG_ENV, None)
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    env[DATA_DIR_ENV] = str(folder.resolve())
    return env


@dataclass
class ServePlan:
    """Everything :func:`serve` will do, decided before anything starts.

    Attributes
    ----------
    command
        The Voilà command line (:func:`voila_command`).
    environment
        Its environment (:func:`server_environment`).
    health_url
        Base URL polled on this machine until the server answers.
    dashboards_dir
        The folder served.
    urls
        Dashboard URLs to print, with ``?token=...`` when a token is in use.
    token
        The token viewers must give, or ``None``.
    token_generated
        Whether ``token`` was made here (and so must be printed).
    warnings
        Lines to print on stderr before starting.
    cache_dir
        The results cache shared by the kernels (``WORKBENCH_CACHE_DIR``).
    viewers
        Preheated kernels (the pool size).
    """

    command: list[str]
    environment: dict[str, str]
    health_url: str
    dashboards_dir: Path
    urls: list[str]
    token: str | None = None
    token_generated: bool = False
    warnings: list[str] = field(default_factory=list)
    #: The results cache directory (``None``: cache off) and the preheated pool size.
    cache_dir: Path | None = None
    viewers: int = 1


def plan_serve(
    dashboards_dir: str | os.PathLike[str] | None = None,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    token: str | None = None,
    no_token: bool = False,
    preheat: bool = True,
    pool_size: int | None = None,
    cell_timeout: int = 120,
    hostname: str | None = None,
    generate_token: Callable[[], str] | None = None,
    config: str | os.PathLike[str] | None = None,
    viewers: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    **voila_options: object,
) -> ServePlan:
    """Check the options of :func:`serve` and decide the command, token and URLs.

    Nothing is started; only ``port=0`` binds a probe socket (:func:`free_port`).

    Parameters
    ----------
    dashboards_dir, port, host, data_dir, preheat, pool_size, cell_timeout
        See :func:`serve`.
    token, no_token
        See :func:`choose_token`.
    hostname
        This machine's name for the printed URLs; default :func:`socket.gethostname`.
    generate_token
        Makes a token when one is required; default :func:`secrets.token_urlsafe`.
    config
        A project file for the dashboards (checked with :func:`workbench.core.project.load_project`;
        its tables are read by the kernels).
    viewers
        Viewers expected at once: the size of the preheated kernel pool (default
        :func:`default_viewers`); ``pool_size`` is the older name and wins when given.
    cache_dir
        Results cache directory (default :func:`workbench.core.cache.default_cache_dir` of the
        data); none with ``WORKBENCH_CACHE=0``.
    **voila_options
        Further keyword arguments of :func:`voila_command` (they override the culling and
        refill settings chosen here).

    Returns
    -------
    ServePlan

    Raises
    ------
    ServeError
        For a missing dashboards or data folder, a port out of range, a pool size or cell
        timeout below 1, a host that does not resolve, or contradictory token options.

    Examples
    --------
    >>> plan = plan_serve("dashboards", 8866, "0.0.0.0", hostname="box",
    ...                   generate_token=lambda: "tok")
    >>> plan.urls[0], "--token=tok" in plan.command
    ('http://box:8866/voila/render/executive.ipynb?token=tok', True)
    """
    folder = Path(dashboards_dir) if dashboards_dir is not None else default_dashboards_dir()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "not found"
        raise ServeError(f"dashboards folder {what}: {folder}")
    if not 0 <= int(port) <= 65535:
        raise ServeError(f"--port must be between 0 and 65535, got {port}")
    if viewers is not None and int(viewers) < 1:
        raise ServeError(f"--viewers must be at least 1, got {viewers}")
    if pool_size is None:
        pool_size = int(viewers) if viewers is not None else default_viewers()
    if preheat and int(pool_size) < 1:
        raise ServeError(f"--pool-size must be at least 1, got {pool_size}")
    if int(cell_timeout) < 1:
        raise ServeError(f"--cell-timeout must be at least 1 second, got {cell_timeout}")
    warnings: list[str] = []
    env = server_environment(data_dir, config=config)
    if config is not None:
        from workbench.core.project import load_project

        load_project(Path(config))  # a bad project file fails here, not in every kernel
    elif not Path(env[DATA_DIR_ENV]).is_dir():
        if data_dir is not None:
            raise ServeError(f"data folder not found: {env[DATA_DIR_ENV]}")
        warnings.append(
            f"warning: data folder {env[DATA_DIR_ENV]} does not exist "
            "(create it with `workbench generate-sample`)"
        )
    if not is_wildcard(host):
        try:
            socket.getaddrinfo(host.strip("[]"), None)
        except (socket.gaierror, UnicodeError):
            raise ServeError(f"--host {host!r} is not an address or a known host name") from None
    if int(port) == 0:
        try:
            port = free_port(host.strip("[]") or "0.0.0.0")
        except OSError as exc:
            raise ServeError(f"cannot listen on {host!r}: {exc.strerror or exc}") from None
    generate = generate_token or (lambda: secrets.token_urlsafe(24))
    chosen = choose_token(host, token, no_token, generate)
    if chosen is None and not is_loopback(host):
        warnings.append(
            f"warning: serving on {host or 'every interface'} without a token (--no-token): "
            f"anyone who can reach this machine on port {port} can open the dashboards "
            "and run their kernels"
        )
    from workbench.core.cache import (
        CACHE_DIR_ENV,
        CODE_VERSION_ENV,
        cache_enabled,
        code_version,
        default_cache_dir,
    )

    chosen_cache: Path | None = None
    if cache_enabled():
        chosen_cache = Path(
            cache_dir or env.get(CACHE_DIR_ENV) or default_cache_dir(env[DATA_DIR_ENV])
        ).resolve()
        env[CACHE_DIR_ENV] = str(chosen_cache)
        env["JUPYTER_PATH"] = os.pathsep.join(
            [str(static_root(chosen_cache)), *filter(None, [env.get("JUPYTER_PATH")])]
        )
        env[CHART_ESM_ENV] = chart_bundle_name()
        env[CODE_VERSION_ENV] = code_version()
    options: dict[str, object] = {
        "cull_interval": CULL_INTERVAL,
        "cull_idle_timeout": CULL_IDLE_TIMEOUT,
        "cull_connected": False,
        "fill_delay": FILL_DELAY,
    }
    options.update(voila_options)
    options["extra_args"] = [
        "--VoilaConfiguration.multi_kernel_manager_class=workbench.app.serve_kernels.TeamKernelManager",
        *options.get("extra_args", ()),  # type: ignore[misc]
    ]
    cmd = voila_command(
        folder,
        port,
        host,
        preheat=preheat,
        pool_size=int(pool_size),
        cell_timeout=cell_timeout,
        token=chosen,
        **options,  # type: ignore[arg-type]
    )
    notebooks = dashboard_paths(folder)
    urls = [
        with_token(dashboard_url(base, nb) if notebooks else f"{base}/", chosen)
        for base in access_urls(host, port, hostname)
        for nb in (notebooks or [""])
    ]
    return ServePlan(
        command=cmd,
        environment=env,
        health_url=server_url(host, port),
        dashboards_dir=folder,
        urls=urls,
        token=chosen,
        token_generated=chosen is not None and token is None,
        warnings=warnings,
        cache_dir=chosen_cache,
        viewers=int(pool_size) if preheat else 0,
    )


def serve(
    dashboards_dir: str | os.PathLike[str] | None = None,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    token: str | None = None,
    no_token: bool = False,
    preheat: bool = True,
    pool_size: int | None = None,
    startup_timeout: float = 120.0,
    config: str | os.PathLike[str] | None = None,
    viewers: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    warm: bool = True,
    **voila_options: object,
) -> int:
    """Run Voilà on the dashboards until it stops or Ctrl-C; print the dashboard URLs.

    Before the URLs are printed the results cache is warmed for the default view
    (:func:`warm_cache`) and the chart JavaScript is written once (:func:`write_chart_bundle`);
    after, the other tabs are warmed by a low-priority background process.

    Parameters
    ----------
    dashboards_dir
        Folder of dashboards; default :func:`default_dashboards_dir`.
    port
        Port to listen on; 0 picks a free one.
    host
        Address to listen on. Off loopback a token is required (see :func:`choose_token`).
    data_dir
        Data folder handed to the kernels as ``WORKBENCH_DATA_DIR``.
    token
        Token viewers must give; off loopback one is generated and printed when not given.
    no_token
        Serve off loopback without a token (a warning is printed).
    preheat, pool_size
        See :func:`voila_command`.
    startup_timeout
        Seconds to wait for the server before giving up.
    config
        A project file (``workbench.toml``) instead of a data folder.
    viewers, cache_dir
        See :func:`plan_serve`.
    warm
        Warm the results cache before printing the URLs (and the rest in the background).
    **voila_options
        Further keyword arguments of :func:`voila_command` (and ``hostname`` of
        :func:`plan_serve`).

    Returns
    -------
    int
        Voilà's exit code (0 after Ctrl-C).

    Raises
    ------
    ServeError
        See :func:`plan_serve`; raised before anything starts.

    Examples
    --------
    >>> # starts a Voila server and waits for Ctrl-C: not run here
    >>> serve(port=0)  # doctest: +SKIP
    Dashboards (Ctrl-C to stop):
      http://127.0.0.1:40123/voila/render/executive.ipynb
    """
    plan = plan_serve(
        dashboards_dir,
        port,
        host,
        data_dir,
        token=token,
        no_token=no_token,
        preheat=preheat,
        pool_size=pool_size,
        config=config,
        viewers=viewers,
        cache_dir=cache_dir,
        **voila_options,  # type: ignore[arg-type]
    )
    for line in plan.warnings:
        print(line, file=sys.stderr, flush=True)
    source = plan.environment[DATA_DIR_ENV]
    if plan.cache_dir is not None:
        ready = warm and _run_warm(
            source, plan.cache_dir, everything=False, show=True, env=plan.environment
        )
        bundle = static_root(plan.cache_dir) / "voila" / "templates" / "lab" / "static"
        if not (bundle / plan.environment[CHART_ESM_ENV]).is_file():
            plan.environment.pop(CHART_ESM_ENV, None)  # kernels bundle the charts themselves
        if warm and not ready:
            print(
                "warning: the results cache could not be warmed; kernels compute on demand",
                file=sys.stderr,
                flush=True,
            )
    where = plan.health_url if not is_wildcard(host) else f"{host or '0.0.0.0'} (every interface)"
    print(
        f"Starting Voilà on {where} (data: {source}; {plan.viewers} preheated kernels; "
        f"cache: {plan.cache_dir or 'off'}) ...",
        flush=True,
    )
    print(
        f"Up to {plan.viewers} viewers opening the link at once get a preheated kernel; "
        "more wait for kernels started on demand (--viewers N for a larger team).",
        flush=True,
    )
    if plan.token_generated:
        print(f"Token (generated; viewers log in with it): {plan.token}", flush=True)
    process = subprocess.Popen(plan.command, env=plan.environment)
    background: subprocess.Popen | None = None
    previous = None
    if threading.current_thread() is threading.main_thread():
        # `kill <pid>` of this process also stops Voilà and its kernels.
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if wait_until_up(plan.health_url, startup_timeout, process):
            print("\nDashboards (Ctrl-C to stop):", *(f"  {u}" for u in plan.urls), sep="\n")
            print(flush=True)
            if warm and plan.cache_dir is not None:
                background = _start_warm(
                    source, plan.cache_dir, everything=True, env=plan.environment
                )
        elif process.poll() is None:
            print(
                f"warning: Voilà did not answer on {plan.health_url} within "
                f"{startup_timeout:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        for child in (background, process):
            if child is not None and child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()


def _warm_command(
    source: str | os.PathLike[str], cache_dir: str | os.PathLike[str], everything: bool
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "workbench.app.serve",
        "warm",
        str(source),
        "--cache-dir",
        str(cache_dir),
    ]
    return [*cmd, "--all"] if everything else cmd


#: How the warm-up child starts the line that says why the data cannot be read.
UNREADABLE = "the data cannot be read:"


def _run_warm(
    source: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str],
    *,
    everything: bool,
    show: bool = False,
    timeout: float = 900.0,
    env: Mapping[str, str] | None = None,
) -> bool:
    """Warm the cache in a child process (its memory is returned when it ends).

    Raises
    ------
    ServeError
        The data cannot be read (no transactions file, a value the readers refuse): the
        message names the file, column and rows, and ``serve`` stops before printing a URL.
    """
    if show:
        print("Warming the results cache for the default view ...", flush=True)
    try:
        done = subprocess.run(
            _warm_command(source, cache_dir, everything),
            timeout=timeout,
            env=env,
            capture_output=True,
            text=True,
        )
    except (subprocess.TimeoutExpired, OSError):
        return False
    if show and done.stdout.strip():
        print(done.stdout.rstrip(), flush=True)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [""]
        if tail[0].startswith(UNREADABLE):
            raise ServeError(tail[0])
        print(f"warning: cache warm-up failed: {tail[0]}", file=sys.stderr, flush=True)
    return done.returncode == 0


def _start_warm(
    source: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str],
    *,
    everything: bool,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen | None:
    """Warm the rest of the cache in a background child at low CPU priority."""

    def lower_priority() -> None:
        with contextlib.suppress(OSError):
            os.nice(15)

    try:
        return subprocess.Popen(
            _warm_command(source, cache_dir, everything),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            preexec_fn=lower_priority,
        )  # noqa: PLW1509 - nice only
    except OSError:
        return None


def _main(argv: Sequence[str] | None = None) -> int:
    """``python -m workbench.app.serve warm SOURCE [--cache-dir DIR] [--all]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m workbench.app.serve")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("warm", help="compute the dashboard's default view into the cache")
    p.add_argument("source", help="data folder or project file")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--all", action="store_true", help="every tab of the default view")
    args = parser.parse_args(argv)
    from workbench.core.cache import open_cache

    cache = open_cache(args.source, args.cache_dir)
    if cache is None:
        return 0
    started = time.perf_counter()
    write_chart_bundle(cache.root)
    steps = {"chart JavaScript": time.perf_counter() - started}
    try:
        steps.update(warm_cache(args.source, cache.root, everything=args.all))
    except (OSError, WorkbenchError, ServeError) as exc:  # the data cannot be read
        print(f"{UNREADABLE} {' '.join(str(exc).split())}", file=sys.stderr, flush=True)
        return 3
    hits, misses = int(steps.pop("hits", 0)), int(steps.pop("misses", 0))
    print(
        "  cache "
        + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())
        + f" ({misses} computed, {hits} from the cache)",
        flush=True,
    )
    return 0


def _interrupt(signum: int, frame: object) -> None:
    """Signal handler: stop like Ctrl-C."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(_main())
