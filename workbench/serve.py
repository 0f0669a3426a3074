"""Serve the Voilà dashboards of ``dashboards/``.

The Voilà command line is built in one place, :func:`voila_command`, so that ``workbench serve``
and the browser-test fixture (``tests/conftest.py``) run the very same server. The flags follow
``shared/STACK-NOTES.md``: loopback only, no browser, tracebacks hidden from viewers, kernels
culled when idle, cell execution bounded, kernels preheated.

The data directory reaches the dashboard kernels through the environment variable
``WORKBENCH_DATA_DIR`` (:data:`DATA_DIR_ENV`): Voilà starts kernels with a copy of its own
environment, preheated ones included.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

#: Environment variable through which dashboards learn where the data files are.
DATA_DIR_ENV = "WORKBENCH_DATA_DIR"
DEFAULT_PORT = 8866
DEFAULT_HOST = "127.0.0.1"
#: A static file that Voilà serves without starting a kernel (``GET /`` may start one).
HEALTH_PATH = "/voila/static/voila.js"


def project_root() -> Path:
    """The repository the package runs from, or the current directory.

    With the usual editable install (``pip install -e .``) the package lives in the repository,
    whose root holds ``pyproject.toml``, ``dashboards/``, ``notebooks/`` and ``sample_data/``.
    For an installed copy elsewhere, the current directory is taken as the project.

    Returns
    -------
    pathlib.Path
        Absolute path of the project root.

    Examples
    --------
    >>> (project_root() / "pyproject.toml").exists()  # doctest: +SKIP
    True
    """
    candidate = Path(__file__).resolve().parent.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd().resolve()


def default_data_dir() -> Path:
    """The sample data of the repository (``<root>/sample_data``).

    Examples
    --------
    >>> default_data_dir().name
    'sample_data'
    """
    return project_root() / "sample_data"


def default_dashboards_dir() -> Path:
    """The dashboards folder of the repository (``<root>/dashboards``).

    Examples
    --------
    >>> default_dashboards_dir().name
    'dashboards'
    """
    return project_root() / "dashboards"


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
        f"--MappingKernelManager.cull_interval={int(cull_interval)}",
        f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_timeout)}",
    ]
    if preheat and pool_size > 0:
        cmd += ["--preheat_kernel=True", f"--pool_size={int(pool_size)}"]
    if token:
        cmd.append(f"--token={token}")
    cmd += list(extra_args)
    return cmd


def server_url(host: str, port: int) -> str:
    """Base URL of a server listening on ``host:port``.

    Examples
    --------
    >>> server_url("127.0.0.1", 8866)
    'http://127.0.0.1:8866'
    """
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
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
) -> dict[str, str]:
    """Environment for the Voilà process (and so its kernels) with ``WORKBENCH_DATA_DIR`` set.

    Parameters
    ----------
    data_dir
        Folder with ``transactions.csv`` etc.; default :func:`default_data_dir`.
    base
        Environment to start from; default ``os.environ``.

    Examples
    --------
    >>> server_environment("/data", base={})["WORKBENCH_DATA_DIR"]
    '/data'
    """
    env = dict(os.environ if base is None else base)
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    env[DATA_DIR_ENV] = str(folder.resolve())
    return env


def serve(
    dashboards_dir: str | os.PathLike[str] | None = None,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    preheat: bool = True,
    pool_size: int = 1,
    startup_timeout: float = 120.0,
    **voila_options: object,
) -> int:
    """Run Voilà on the dashboards until it stops or Ctrl-C; print the dashboard URLs.

    Parameters
    ----------
    dashboards_dir
        Folder of dashboards; default :func:`default_dashboards_dir`.
    port
        Port to listen on; 0 picks a free one.
    host
        Address to listen on.
    data_dir
        Data folder handed to the kernels as ``WORKBENCH_DATA_DIR``.
    preheat, pool_size
        See :func:`voila_command`.
    startup_timeout
        Seconds to wait for the server before giving up.
    **voila_options
        Further keyword arguments of :func:`voila_command`.

    Returns
    -------
    int
        Voilà's exit code (0 after Ctrl-C).

    Examples
    --------
    >>> serve(port=0)  # doctest: +SKIP
    Dashboards (Ctrl-C to stop):
      http://127.0.0.1:40123/voila/render/executive.ipynb
    """
    folder = Path(dashboards_dir) if dashboards_dir is not None else default_dashboards_dir()
    if not folder.is_dir():
        raise FileNotFoundError(f"dashboards folder not found: {folder}")
    env = server_environment(data_dir)
    if not Path(env[DATA_DIR_ENV]).is_dir():
        print(
            f"warning: data folder {env[DATA_DIR_ENV]} does not exist "
            "(create it with `workbench generate-sample`)",
            file=sys.stderr,
        )
    port = free_port(host) if port == 0 else port
    cmd = voila_command(folder, port, host, preheat=preheat, pool_size=pool_size, **voila_options)
    base = server_url(host, port)
    print(f"Starting Voilà on {base} (data: {env[DATA_DIR_ENV]}) ...", flush=True)
    process = subprocess.Popen(cmd, env=env)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # `kill <pid>` of this process also stops Voilà and its kernels.
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if wait_until_up(base, startup_timeout, process):
            notebooks = dashboard_paths(folder)
            lines = [dashboard_url(base, nb) for nb in notebooks] or [f"{base}/ (none yet)"]
            print("\nDashboards (Ctrl-C to stop):", *(f"  {line}" for line in lines), sep="\n")
            print(flush=True)
        elif process.poll() is None:
            print(f"warning: Voilà did not answer on {base} within {startup_timeout:.0f} s",
                  file=sys.stderr, flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _interrupt(signum: int, frame: object) -> None:
    """Signal handler: stop like Ctrl-C."""
    raise KeyboardInterrupt
