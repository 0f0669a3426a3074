"""The results cache (workbench.core.cache) and the cached dashboard state."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from workbench.core.cache import (
    ResultsCache,
    code_version,
    file_digest,
    kind_of,
    make_key,
    open_cache,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def test_round_trips_frames_json_and_objects(tmp_path: Path) -> None:
    cache = ResultsCache(tmp_path)
    frame = pl.DataFrame({"d": [dt.date(2024, 1, 31)], "x": [1.5], "s": ["a"]})
    scalars = {"when": dt.date(2024, 1, 31), "pair": (1, None), "nan": float("nan"), "n": 3}
    for i, value in enumerate([frame, scalars, {1, 2}]):
        key = make_key("round trip", i)
        assert cache.get_or_compute(key, lambda v=value: v) is value  # a miss returns it
        again = ResultsCache(tmp_path).get(key)
        if isinstance(value, pl.DataFrame):
            assert again.equals(value) and again.schema == value.schema
        elif isinstance(value, dict):
            assert again["when"] == value["when"] and again["pair"] == (1, None)
            assert again["nan"] != again["nan"] and again["n"] == 3
        else:
            assert again == value
    assert [kind_of(frame), kind_of(scalars), kind_of({1})] == ["frame", "json", "object"]


def test_hit_does_not_recompute_and_errors_store_nothing(tmp_path: Path) -> None:
    cache = ResultsCache(tmp_path)
    key = make_key("once")
    calls = []
    for _ in range(3):
        assert cache.get_or_compute(key, lambda: calls.append(1) or 7, kind="json") == 7
    assert calls == [1] and cache.hits == 2 and cache.misses == 1
    bad = make_key("fails")
    with pytest.raises(ZeroDivisionError):
        cache.get_or_compute(bad, lambda: 1 / 0)
    assert cache.get(bad, default="none") == "none"


def test_broken_file_is_a_miss(tmp_path: Path) -> None:
    cache = ResultsCache(tmp_path)
    key = make_key("broken")
    path = cache.put(key, pl.DataFrame({"a": [1]}))
    path.write_bytes(b"not parquet")
    assert cache.get_or_compute(key, lambda: pl.DataFrame({"a": [2]}))["a"].to_list() == [2]


def _compute_in_child(args: tuple[str, str, str]) -> int:
    root, key, log = args
    cache = ResultsCache(root)

    def slow() -> int:
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        import time

        time.sleep(0.5)
        return 42

    return cache.get_or_compute(key, slow, kind="json")


def test_two_processes_compute_once(tmp_path: Path) -> None:
    key, log = make_key("race"), tmp_path / "computed.log"
    with multiprocessing.get_context("fork").Pool(3) as pool:
        results = pool.map(_compute_in_child, [(str(tmp_path / "c"), key, str(log))] * 3)
    assert results == [42, 42, 42]
    assert len(log.read_text().split()) == 1  # the others waited on the lock and read it
    leftovers = [p for p in (tmp_path / "c").rglob("*.tmp")]
    assert leftovers == []


def test_file_digest_follows_content(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("a\n1\n")
    first = file_digest(f, tmp_path / "memo")
    assert file_digest(f, tmp_path / "memo") == first
    f.write_text("a\n2\n")
    os.utime(f, ns=(1, 1))  # mtime changed: hashed again
    assert file_digest(f, tmp_path / "memo") != first
    assert len(code_version()) == 16


def test_open_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert open_cache(tmp_path, tmp_path / "c").root == tmp_path / "c"
    monkeypatch.setenv("WORKBENCH_CACHE", "0")
    assert open_cache(tmp_path) is None


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("transactions.csv", "customers.csv", "surveys.csv"):
        shutil.copy(SAMPLE / name, folder / name)
    return folder


def test_dashboard_state_answers_from_the_cache(data_copy: Path, tmp_path: Path) -> None:
    from workbench.presentation.widgets.state import CachedDataset, DashboardState, Dataset

    cache_dir = tmp_path / "cache"
    first = Dataset.open(data_copy, cache_dir)
    assert isinstance(first, CachedDataset)
    as_of = first.last_date
    state = DashboardState(first, as_of)
    computed = (state.summary, state.segments, state.previous_segments, state.no_purchases())

    again = Dataset.open(data_copy, cache_dir)
    cached = DashboardState(again, as_of)
    assert cached.summary.equals(computed[0]) and cached.segments.equals(computed[1])
    assert cached.previous_segments.equals(computed[2])
    assert cached.no_purchases() == computed[3]
    assert not again.loaded, "answered from the cache without reading the tables"
    assert again.n_customers == Dataset.from_dir(data_copy).n_customers

    # a filter is another view: computed once, then answered from the cache
    view = dict(filter_column="region", filter_value=again.filter_options()["region"][0])
    north = cached.with_selection(**view).summary
    assert north.height < cached.summary.height
    third = Dataset.open(data_copy, cache_dir)
    assert DashboardState(third, as_of, **view).summary.equals(north) and not third.loaded

    # new data: new fingerprint, nothing stale is read
    tx = pl.read_csv(data_copy / "transactions.csv")
    tx.head(tx.height // 2).write_csv(data_copy / "transactions.csv")
    changed = Dataset.open(data_copy, cache_dir)
    assert changed.fingerprint != again.fingerprint
    assert DashboardState(changed, changed.last_date).summary.height != cached.summary.height


#: Opens the dashboard as a served kernel does and reports what it holds (a fresh interpreter,
#: so the modules loaded are the kernel's own).
KERNEL_SCRIPT = """\
import json, sys
from workbench.app.serve import prepare_kernel
prepare_kernel()
from workbench.presentation.widgets.dashboard import ExecutiveDashboard
import polars as pl
dash = ExecutiveDashboard.open(sys.argv[1], sys.argv[2])
frames = {k: v.height for k, v in dash.state.extras.items() if isinstance(v, pl.DataFrame)}
print(json.dumps({"pyarrow": "pyarrow" in sys.modules, "frames": frames,
                  "loaded": dash.state.data.loaded, "count": dash.state.customer_count}))
"""


def test_a_kernel_on_a_warm_cache_holds_no_customer_rows(data_copy: Path, tmp_path: Path) -> None:
    """Kernel memory: on a warm cache the first view needs only small results, so no table,
    no per-customer frame and no pyarrow (~25 MiB of libraries) are loaded."""
    import json
    import subprocess
    import sys

    from workbench.app.serve import warm_cache
    from workbench.core.io import read_transactions

    cache_dir = tmp_path / "cache"
    warm_cache(data_copy, cache_dir)
    done = subprocess.run(
        [sys.executable, "-c", KERNEL_SCRIPT, str(data_copy), str(cache_dir)],
        capture_output=True, text=True, check=True,
    )
    held = json.loads(done.stdout.strip().splitlines()[-1])
    assert held["loaded"] is False and held["pyarrow"] is False, held
    assert held["frames"] and max(held["frames"].values()) <= 100, held["frames"]
    buyers = read_transactions(data_copy / "transactions.csv")["customer_id"].n_unique()
    assert held["count"] == buyers
