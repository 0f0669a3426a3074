"""The kernel manager of ``workbench serve``: Voilà's pool, culled from when a page gets a kernel.

Voilà keeps preheated kernels out of the culler while they wait in the pool
(``VoilaKernelManager.cull_kernel_if_idle``), but a kernel handed to a page keeps the idle
clock of its notebook run, which may be minutes old.  With a short ``cull_idle_timeout`` and
``cull_connected=False`` (cull only kernels without a page), the next cull check could shut the
kernel down before a slow page has opened its websocket: the page then fails with "The model
for kernel id ... does not exist".  :class:`TeamKernelManager` restarts the idle clock the
first time the culler looks at a kernel that left the pool, so every page has the full
timeout to connect, and kernels of closed pages are culled a timeout after they were last
used.

Used by :func:`workbench.serve.plan_serve` through
``--VoilaConfiguration.multi_kernel_manager_class`` (Voilà derives its pooling manager from
it).
"""

from __future__ import annotations

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

#: Import path given to Voilà.
CLASS_PATH = "workbench.serve_kernels.TeamKernelManager"


class TeamKernelManager(AsyncMappingKernelManager):
    """``AsyncMappingKernelManager`` whose culler gives a kernel fresh from the pool a full
    idle timeout before it can be culled."""

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Cull ``kernel_id`` if idle; the first look at a kernel without a page only restarts
        its idle clock."""
        seen: set[str] = self.__dict__.setdefault("_workbench_seen", set())
        kernel = self._kernels.get(kernel_id)
        if kernel is not None and kernel_id not in seen:
            seen.add(kernel_id)
            if not self._kernel_connections.get(kernel_id, 0):
                kernel.last_activity = utcnow()
                return
        await super().cull_kernel_if_idle(kernel_id)

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs) -> None:
        """Shut the kernel down and forget it."""
        self.__dict__.setdefault("_workbench_seen", set()).discard(kernel_id)
        await super().shutdown_kernel(kernel_id, *args, **kwargs)
