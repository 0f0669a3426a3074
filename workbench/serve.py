"""Serve the Voilà dashboards of ``dashboards/``.

The Voilà command line is built in one place, :func:`voila_command`, so that ``workbench serve``
and the browser-test fixture (``tests/conftest.py``) run the very same server. The flags follow
``shared/STACK-NOTES.md``: loopback only, no browser, tracebacks hidden from viewers, kernels
culled when idle, cell execution bounded, kernels preheated.

The data directory reaches the dashboard kernels through the environment variable
``WORKBENCH_DATA_DIR`` (:data:`DATA_DIR_ENV`): Voilà starts kernels with a copy of its own
environment, preheated ones included.  With a project file (``workbench serve --config
workbench.toml``) both ``WORKBENCH_CONFIG`` (:data:`CONFIG_ENV`) and ``WORKBENCH_DATA_DIR``
name the project file, and :meth:`workbench.widgets.state.Dataset.from_dir` reads the tables
through it (:meth:`~workbench.widgets.state.Dataset.from_config`).

Access: on a loopback address (``127.0.0.1``, ``localhost``, ``::1``) no token is asked for.
Off loopback (``--host 0.0.0.0``, a LAN address, a host name) a token is required: the one
given, or a fresh one (:func:`secrets.token_urlsafe`) that is printed, unless the user opts out
explicitly (``no_token=True``, with a warning). The printed URLs are ones that work: for a
wildcard address the machine's host name and the loopback address, each with ``?token=...``
when a token is in use (:func:`choose_token`, :func:`access_urls`).
"""

from __future__ import annotations

import ipaddress
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


class ServeError(ValueError):
    """``serve`` cannot start as asked (bad host, port or option)."""


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
    """

    command: list[str]
    environment: dict[str, str]
    health_url: str
    dashboards_dir: Path
    urls: list[str]
    token: str | None = None
    token_generated: bool = False
    warnings: list[str] = field(default_factory=list)


def plan_serve(
    dashboards_dir: str | os.PathLike[str] | None = None,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    token: str | None = None,
    no_token: bool = False,
    preheat: bool = True,
    pool_size: int = 1,
    cell_timeout: int = 120,
    hostname: str | None = None,
    generate_token: Callable[[], str] | None = None,
    config: str | os.PathLike[str] | None = None,
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
        A project file for the dashboards (checked with :func:`workbench.project.load_project`;
        its tables are read by the kernels).
    **voila_options
        Further keyword arguments of :func:`voila_command`.

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
    ...                   generate_token=lambda: "tok")  # doctest: +SKIP
    >>> plan.urls[0], "--token=tok" in plan.command  # doctest: +SKIP
    ('http://box:8866/voila/render/executive.ipynb?token=tok', True)
    """
    folder = Path(dashboards_dir) if dashboards_dir is not None else default_dashboards_dir()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "not found"
        raise ServeError(f"dashboards folder {what}: {folder}")
    if not 0 <= int(port) <= 65535:
        raise ServeError(f"--port must be between 0 and 65535, got {port}")
    if preheat and int(pool_size) < 1:
        raise ServeError(f"--pool-size must be at least 1, got {pool_size}")
    if int(cell_timeout) < 1:
        raise ServeError(f"--cell-timeout must be at least 1 second, got {cell_timeout}")
    warnings: list[str] = []
    env = server_environment(data_dir, config=config)
    if config is not None:
        from workbench.project import load_project

        load_project(config)  # a bad project file fails here, not in every kernel
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
    cmd = voila_command(
        folder, port, host, preheat=preheat, pool_size=pool_size, cell_timeout=cell_timeout,
        token=chosen, **voila_options,  # type: ignore[arg-type]
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
    pool_size: int = 1,
    startup_timeout: float = 120.0,
    config: str | os.PathLike[str] | None = None,
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
    >>> serve(port=0)  # doctest: +SKIP
    Dashboards (Ctrl-C to stop):
      http://127.0.0.1:40123/voila/render/executive.ipynb
    """
    plan = plan_serve(
        dashboards_dir, port, host, data_dir, token=token, no_token=no_token, preheat=preheat,
        pool_size=pool_size, config=config, **voila_options,  # type: ignore[arg-type]
    )
    for line in plan.warnings:
        print(line, file=sys.stderr, flush=True)
    where = plan.health_url if not is_wildcard(host) else f"{host or '0.0.0.0'} (every interface)"
    print(f"Starting Voilà on {where} (data: {plan.environment[DATA_DIR_ENV]}) ...", flush=True)
    if plan.token_generated:
        print(f"Token (generated; viewers log in with it): {plan.token}", flush=True)
    process = subprocess.Popen(plan.command, env=plan.environment)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # `kill <pid>` of this process also stops Voilà and its kernels.
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if wait_until_up(plan.health_url, startup_timeout, process):
            print("\nDashboards (Ctrl-C to stop):", *(f"  {u}" for u in plan.urls), sep="\n")
            print(flush=True)
        elif process.poll() is None:
            print(f"warning: Voilà did not answer on {plan.health_url} within "
                  f"{startup_timeout:.0f} s", file=sys.stderr, flush=True)
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
