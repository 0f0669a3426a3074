"""``workbench serve`` for a team: kernel pool, culling, cache and chart JavaScript settings."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from workbench.app.serve import (
    CHART_ESM_ENV,
    chart_bundle_name,
    chart_loader_esm,
    default_viewers,
    plan_serve,
    prepare_kernel,
)

ROOT = Path(__file__).resolve().parent.parent


def run_in_own_loop(coroutine):
    """``asyncio.run`` in a thread of its own: a browser test's sync Playwright loop may be
    running in this one (pytest-playwright keeps it for the session), and asyncio.run refuses
    to start inside a running loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_default_viewers_follow_cores_and_memory() -> None:
    assert default_viewers(memory=24 * 2**30, cores=2) == 10
    assert default_viewers(memory=2**30, cores=16) == 2  # memory bound, never below 2
    assert default_viewers(memory=128 * 2**30, cores=64) == 20
    assert 2 <= default_viewers() <= 20


def test_plan_sizes_the_pool_and_culls_closed_pages(tmp_path: Path) -> None:
    plan = plan_serve(
        ROOT / "dashboards",
        8899,
        data_dir=ROOT / "sample_data",
        viewers=7,
        cache_dir=tmp_path / "cache",
    )
    cmd = plan.command
    assert "--pool_size=7" in cmd and plan.viewers == 7
    assert "--MappingKernelManager.cull_connected=False" in cmd
    assert "--MappingKernelManager.cull_idle_timeout=60" in cmd
    assert "--MappingKernelManager.cull_interval=15" in cmd
    assert any(a.startswith("--VoilaKernelManager.fill_delay=") for a in cmd)
    env = plan.environment
    assert env["WORKBENCH_CACHE_DIR"] == str((tmp_path / "cache").resolve())
    assert env["JUPYTER_PATH"].split(":")[0] == str((tmp_path / "cache" / "jupyter").resolve())
    assert env[CHART_ESM_ENV] == chart_bundle_name() and env["WORKBENCH_CODE_VERSION"]
    # the older option still wins; without either the machine decides
    assert "--pool_size=3" in plan_serve(ROOT / "dashboards", 8899, pool_size=3, viewers=7).command
    auto = plan_serve(ROOT / "dashboards", 8899)
    assert f"--pool_size={default_viewers()}" in auto.command


def test_cache_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CACHE", "off")
    plan = plan_serve(ROOT / "dashboards", 8899)
    assert plan.cache_dir is None and CHART_ESM_ENV not in plan.environment


def test_bad_viewers_is_a_user_error() -> None:
    from workbench.app.serve import ServeError

    with pytest.raises(ServeError, match="--viewers"):
        plan_serve(ROOT / "dashboards", 8899, viewers=0)


def test_cli_passes_viewers_and_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import workbench.app.serve
    from workbench.app.cli import main

    seen: dict = {}
    monkeypatch.setattr(workbench.app.serve, "serve", lambda d, **kw: seen.update(kw) or 0)
    assert main(["serve", "--viewers", "4", "--cache-dir", str(tmp_path), "--no-warm"]) == 0
    assert seen["viewers"] == 4 and seen["cache_dir"] == tmp_path and seen["warm"] is False


def test_chart_loader_imports_the_shared_bundle_by_url() -> None:
    esm = chart_loader_esm("workbench/vega-1.js")
    assert "voila/static/workbench/vega-1.js" in esm and "export default" in esm
    assert "jupyter-config-data" in esm and len(esm) < 1000  # not the 900 kB bundle


def test_prepare_kernel_uses_the_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    import altair as alt

    monkeypatch.setattr(alt.JupyterChart, "_is_offline", False)
    monkeypatch.setattr(alt.JupyterChart, "_esm", "original")
    monkeypatch.setenv(CHART_ESM_ENV, "workbench/vega-test.js")
    prepare_kernel()
    assert alt.JupyterChart._is_offline and "vega-test.js" in alt.JupyterChart._esm
    assert "rfc3987_syntax" in sys.modules or "jsonschema" in sys.modules


def test_served_notebook_opens_through_the_cache() -> None:
    import json

    nb = json.loads((ROOT / "dashboards" / "executive.ipynb").read_text())
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "prepare_kernel()" in code and "ExecutiveDashboard.open(" in code


def test_voila_waits_for_outputs_as_long_as_a_cell_may_run() -> None:
    # nbclient's 4-second default dropped the dashboard's output on a loaded machine
    cmd = plan_serve(ROOT / "dashboards", 8899, viewers=2, cell_timeout=90).command
    assert "--VoilaExecutor.iopub_timeout=90" in cmd and "--VoilaExecutor.timeout=90" in cmd


def test_pooled_kernels_leave_the_pool_only_after_their_notebook_ran() -> None:
    import asyncio

    from workbench.app.serve_kernels import TeamKernelManager

    events: list[tuple[str, int]] = []

    class Pool(TeamKernelManager):  # Voilà derives its pooling manager the same way
        async def _initialize(self, notebook_path, kernel_id=None, **kwargs):
            index = int(notebook_path)
            events.append(("start", index))

            async def render() -> None:  # the notebook's run in the new kernel
                await asyncio.sleep(0.05)
                events.append(("ran", index))

            return {"task": asyncio.ensure_future(render()), "kernel_id": str(index)}

    async def fill() -> list[dict]:
        manager = Pool(max_starting=2)
        return await asyncio.gather(*(manager._initialize(str(i)) for i in range(5)))

    contents = run_in_own_loop(fill())
    # what the pool hands to a page is a kernel whose notebook ran
    assert all(c["task"].done() for c in contents)
    assert sorted(c["kernel_id"] for c in contents) == ["0", "1", "2", "3", "4"]
    running, most = 0, 0
    for what, _ in events:
        running += 1 if what == "start" else -1
        most = max(most, running)
    assert most == 2  # never more than max_starting kernels start at once
    assert len(events) == 10 and running == 0


def test_a_kernel_handed_to_a_page_is_not_culled_before_the_page_connects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    from workbench.app.serve_kernels import TeamKernelManager

    culled: list[str] = []

    async def cull(self, kernel_id: str) -> None:  # the usual idle check
        culled.append(kernel_id)

    async def start(self, *args, **kwargs) -> str:
        return "started-for-a-page"

    monkeypatch.setattr(AsyncMappingKernelManager, "cull_kernel_if_idle", cull)
    monkeypatch.setattr(AsyncMappingKernelManager, "start_kernel", start)

    async def looks() -> None:
        manager = TeamKernelManager(connect_grace=600)
        now = time.monotonic()
        manager.awaiting_page().update({"slow-page": now, "connected": now})
        manager._kernel_connections["connected"] = 1
        await manager.cull_kernel_if_idle("slow-page")  # its browser is still starting
        await manager.cull_kernel_if_idle("connected")
        await manager.cull_kernel_if_idle("pool-or-closed")
        assert "slow-page" in manager.awaiting_page()
        # a kernel Voilà starts for a page when the pool is empty waits for its page too
        assert await manager.start_kernel() == "started-for-a-page"
        await manager.cull_kernel_if_idle("started-for-a-page")
        assert "connected" not in manager.awaiting_page()
        manager.connect_grace = 0  # the page never came: the idle timeout applies again
        await manager.cull_kernel_if_idle("slow-page")
        assert "slow-page" not in manager.awaiting_page()

    run_in_own_loop(looks())
    assert culled == ["connected", "pool-or-closed", "slow-page"]


def test_a_kernel_still_starting_is_left_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """jupyter_server sets ``last_activity`` once a kernel started; the culler must not look
    at it before (the base check reads the unset trait and logs a traceback)."""
    from jupyter_server._tz import utcnow
    from jupyter_server.services.kernels.kernelmanager import (
        AsyncMappingKernelManager,
        ServerKernelManager,
    )

    from workbench.app.serve_kernels import TeamKernelManager

    culled: list[str] = []

    async def cull(self, kernel_id: str) -> None:
        culled.append(kernel_id)

    monkeypatch.setattr(AsyncMappingKernelManager, "cull_kernel_if_idle", cull)

    async def looks() -> None:
        manager = TeamKernelManager()
        manager._kernels["starting"] = ServerKernelManager()  # no last_activity yet
        started = ServerKernelManager()
        started.last_activity = utcnow()
        manager._kernels["started"] = started
        await manager.cull_kernel_if_idle("starting")
        await manager.cull_kernel_if_idle("started")

    run_in_own_loop(looks())
    assert culled == ["started"]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "no transactions.csv or transactions.parquet"),
        ({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-01,10\nC2,2024-01-02,"
                              "Jane\n"},
         "transactions.csv: column 'amount': text in a numeric column in 1 row; first rows: 2"),
    ],
    ids=["no transactions file", "a value the reader refuses"],
)
def test_serve_refuses_data_it_cannot_read_before_printing_a_url(
    tmp_path: Path, files: dict[str, str], reason: str
) -> None:
    """The person who starts the server gets the whole reason (file, column, rows) and no URL
    to hand out; the viewers' page would show only a short message."""
    import subprocess

    from workbench.app.serve import free_port

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "serve", "--data-dir", str(tmp_path), "--port",
         str(free_port())],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"workbench serve: error: the data cannot be read: {tmp_path}" in done.stderr
    assert reason in done.stderr, done.stderr
    assert "/voila/render/" not in done.stdout
