"""The kernel manager of ``workbench serve``: Voilà's pool, with three changes for a team.

Used by :func:`workbench.app.serve.plan_serve` through
``--VoilaConfiguration.multi_kernel_manager_class``; Voilà derives its pooling manager
(``VoilaKernelManager``, from ``voila.voila_kernel_manager``) from it, and
:meth:`TeamKernelManager.__init_subclass__` wraps that subclass's ``_initialize``.

1. **A kernel leaves the pool only after its notebook ran.**  Voilà's pool holds one task per
   preheated kernel; the task ends as soon as the kernel process is up, and a page that takes a
   kernel whose notebook is still running continues Voilà's half-done render (the README,
   "Serving the dashboard to a team", measured such pages never completing under load).  Here
   the pool task ends when the preheat render (the notebook's execution) is done, so a page
   either gets a finished kernel at once or waits for the next one to finish, and always gets
   the complete page.
2. **At most** :attr:`TeamKernelManager.max_starting` **kernels start and run the notebook at
   once** (default: the number of cores).  Refilling a pool of ten on two cores used to start
   ten kernels together, which starved the kernels and the server already serving pages; with
   the limit the first refilled kernels are ready after one notebook run instead of ten.
3. **A page has time to connect.**  Voilà keeps preheated kernels out of the culler while
   they wait in the pool (``VoilaKernelManager.cull_kernel_if_idle``), but a kernel handed to
   a page keeps the idle clock of its notebook run, and with a short ``cull_idle_timeout`` and
   ``cull_connected=False`` the culler shut kernels down before their page's JavaScript had
   opened the websocket ("The model for kernel id ... does not exist": 28 of 30 pages of a
   30-viewer burst on two cores, whose browsers took 190 s to start).  A kernel handed to a
   page (from the pool, or started for the page when the pool was empty) is not culled
   before that page first connects, for at most
   :attr:`TeamKernelManager.connect_grace` seconds; after that (the page closed, or went away
   without saying so) the usual idle timeout applies, counted from the last activity.
4. **Every page gets the** ``_xsrf`` **cookie** (:func:`cookie_on_every_page`).  A closing
   page shuts its kernel down with a POST (Voilà's ``beforeunload`` beacon) that the server
   accepts only with that cookie, which Voilà's page handler never sets: a page's kernel stayed
   until the idle cull ("'_xsrf' argument missing from POST").  The chart widgets used to set
   it from the browser, so a page without a chart (empty data) kept its kernel.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float, Integer

#: Import path given to Voilà.
CLASS_PATH = "workbench.app.serve_kernels.TeamKernelManager"


def usable_cores() -> int:
    """CPU cores this process may run on (at least 1).

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def until_rendered(
    initialize: Callable[..., Awaitable[dict[str, Any]]],
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Wrap Voilà's ``VoilaKernelManager._initialize`` so that it returns only after the
    notebook ran in the new kernel, holding one of the manager's start slots meanwhile.

    ``_initialize`` starts a kernel and a task that renders the notebook in it, and returns
    ``{"task": ..., "renderer": ..., "kernel_id": ...}`` at once; the pool hands that dict to
    the next page.  The wrapper waits for ``task`` (the render; Voilà's
    ``VoilaExecutor.timeout`` bounds each cell), so the page receives the whole rendered
    notebook from ``renderer.rendered_cache`` and the render generator has nothing left.
    """

    @functools.wraps(initialize)
    async def _initialize(
        self: TeamKernelManager, notebook_path: str, kernel_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        async with self.start_slots():
            content = await initialize(self, notebook_path, kernel_id, **kwargs)
            task = content.get("task") if isinstance(content, dict) else None
            if isinstance(task, asyncio.Future):
                await asyncio.wait([task])  # its errors surface where Voilà awaits it
        return content

    # a marker on the function object, which mypy types without attributes
    _initialize.__workbench_wrapped__ = True  # type: ignore[attr-defined]
    return _initialize


def fresh_idle_clock(
    hand_out: Callable[..., Awaitable[tuple[Any, Any, str]]],
) -> Callable[..., Awaitable[tuple[Any, Any, str]]]:
    """Wrap Voilà's ``VoilaKernelManager.get_rendered_notebook`` (a page takes a pooled
    kernel) so that the kernel's idle clock restarts when a page gets it."""

    @functools.wraps(hand_out)
    async def get_rendered_notebook(
        self: TeamKernelManager, *args: Any, **kwargs: Any
    ) -> tuple[Any, Any, str]:
        result = await hand_out(self, *args, **kwargs)
        kernel = self._kernels.get(result[2])
        if kernel is not None:
            kernel.last_activity = utcnow()
        self.awaiting_page()[result[2]] = time.monotonic()
        return result

    # a marker on the function object, as in until_rendered
    get_rendered_notebook.__workbench_wrapped__ = True  # type: ignore[attr-defined]
    return get_rendered_notebook


def cookie_on_every_page() -> None:
    """Make Voilà's page handler set the ``_xsrf`` cookie on every page it serves.

    Tornado sets the cookie when a handler first reads its ``xsrf_token``; Voilà's
    ``VoilaHandler`` never does, so the page's shutdown beacon was refused (403) unless
    something in the page set a cookie itself.  Wraps ``VoilaHandler.prepare`` (once; calling
    again does nothing).

    Examples
    --------
    >>> cookie_on_every_page()
    >>> from voila.handler import VoilaHandler
    >>> VoilaHandler.prepare.__workbench_wrapped__
    True
    """
    from voila.handler import VoilaHandler

    prepare = VoilaHandler.prepare
    if getattr(prepare, "__workbench_wrapped__", False):
        return

    @functools.wraps(prepare)
    async def prepare_with_cookie(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = prepare(self, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if not self._finished:
            _ = self.xsrf_token  # reading the token sets the cookie (tornado's rule)
        return result

    prepare_with_cookie.__workbench_wrapped__ = True  # type: ignore[attr-defined]
    VoilaHandler.prepare = prepare_with_cookie


class TeamKernelManager(AsyncMappingKernelManager):
    """``AsyncMappingKernelManager`` for a pool of preheated dashboard kernels: pooled kernels
    are handed out only after their notebook ran, at most :attr:`max_starting` start at once,
    and a kernel handed to a page is not culled before the page connects."""

    max_starting = Integer(
        0,
        config=True,
        help="Kernels that may start and run the dashboard notebook at the same time "
        "(0: one per CPU core).",
    )

    # defined by Voilà's subclass (VoilaKernelManager), not here; declared for the wrapping below
    _initialize: ClassVar[Callable[..., Awaitable[dict[str, Any]]]]
    get_rendered_notebook: ClassVar[Callable[..., Awaitable[tuple[Any, Any, str]]]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cookie_on_every_page()  # made once per Voilà server, before it serves a page

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        initialize = cls.__dict__.get("_initialize")
        if initialize is not None and not getattr(initialize, "__workbench_wrapped__", False):
            cls._initialize = until_rendered(initialize)
        hand_out = cls.__dict__.get("get_rendered_notebook")
        if hand_out is not None and not getattr(hand_out, "__workbench_wrapped__", False):
            cls.get_rendered_notebook = fresh_idle_clock(hand_out)

    connect_grace = Float(
        600.0,
        config=True,
        help="Seconds a kernel handed to a page is kept, idle or not, until the page's "
        "websocket first connects.",
    )

    def awaiting_page(self) -> dict[str, float]:
        """``{kernel id: time.monotonic() when handed out}`` of kernels whose page has not
        connected yet."""
        return self.__dict__.setdefault("_workbench_awaiting", {})

    def start_slots(self) -> asyncio.Semaphore:
        """The semaphore bounding kernels that start and run the notebook at once."""
        slots = self.__dict__.get("_workbench_slots")
        if slots is None:
            limit = int(self.max_starting) if int(self.max_starting) > 0 else usable_cores()
            slots = self.__dict__["_workbench_slots"] = asyncio.Semaphore(limit)
        return slots

    # jupyter_client types MultiKernelManager.start_kernel as sync (run_sync); its async
    # subclasses, this base included, replace it with a coroutine function
    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        """Start a kernel; it waits for its page's first connection (:meth:`awaiting_page`).

        This covers the kernels Voilà starts for a page itself when its pool is empty (a
        burst larger than the pool), which never pass through the pool's hand-out.
        """
        kernel_id = await super().start_kernel(*args, **kwargs)
        self.awaiting_page()[kernel_id] = time.monotonic()
        return kernel_id

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Cull ``kernel_id`` if idle, unless it waits for its page's first connection
        (at most :attr:`connect_grace` seconds), or while it is still starting."""
        kernel = self._kernels.get(kernel_id)
        if kernel is not None and "last_activity" not in getattr(kernel, "_trait_values", {}):
            # still starting (jupyter_server sets last_activity once it started): asking the
            # base culler now makes it read an unset trait and log a traceback
            return
        awaiting = self.awaiting_page()
        if kernel_id in awaiting:
            if self._kernel_connections.get(kernel_id, 0):
                del awaiting[kernel_id]  # the page is there: culled when it goes
            elif time.monotonic() - awaiting[kernel_id] < float(self.connect_grace):
                kernel = self._kernels.get(kernel_id)
                if kernel is not None:
                    kernel.last_activity = utcnow()
                return
            else:
                del awaiting[kernel_id]
        await super().cull_kernel_if_idle(kernel_id)

    # as start_kernel: typed sync in MultiKernelManager, a coroutine function in this base
    async def shutdown_kernel(  # type: ignore[override]
        self, kernel_id: str, *args: Any, **kwargs: Any
    ) -> None:
        """Shut the kernel down and forget it."""
        self.awaiting_page().pop(kernel_id, None)
        await super().shutdown_kernel(kernel_id, *args, **kwargs)
