"""Per-customer purchase aggregates of a transaction log in one hash pass (compiled kernel).

The customer summary (:mod:`workbench.summary`) needs, per customer, the number of distinct
purchase periods, the total spend, the spend of the first period and the first and last rows.
A group-by per customer plus a group-by per customer and period does this in two hash passes over
every row; this module needs one.  Rows arrive in date order, so a customer's periods arrive in
non-decreasing order and a new period is simply larger than the customer's last one.

How (a radix-partitioned hash aggregation, ``workbench/_kernels.c``):

1. the rows are scattered into buckets by the top bits of a 64-bit hash of the customer id,
   keeping their order within each bucket (a stable partition, one thread per chunk of rows);
2. each bucket, about two thousand customers, is aggregated in a small open-addressing hash
   table (64-byte slots) that stays in the processor cache, one thread per range of buckets;
3. reading the first rows in row order gives the customers in order of first appearance,
   whatever the number of threads.

A second, independent 64-bit hash is kept beside the key: a row whose first hash matches a
customer but whose second does not means that two ids share the first hash, and the scan reports
a collision so that the caller can use an exact method instead.  Sums are taken in row order, so
the results do not depend on the number of threads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from workbench.kernels import LIBRARY, pointer

_MAX_ROWS = (1 << 32) - 1
_CUSTOMERS_PER_BUCKET = 2048
_MAX_BUCKET_BITS = 16
_SERIAL_ROWS = 200_000
_ROW_BYTES = 32


@dataclass(frozen=True)
class CustomerScan:
    """Per-customer aggregates in order of first appearance.

    Attributes
    ----------
    first_row
        Row number (0-based, uint32) of each customer's first row.
    n_purchases
        Distinct purchase periods (int32).
    total
        Sum of ``amount`` (currency).
    first_value
        Sum of ``amount`` over the first purchase period (currency).
    profit
        Sum of ``profit`` (currency), or ``None`` when no profit was given.
    first_day, last_day
        ``day`` of each customer's first and last rows (``None`` when no ``day`` was given).
    shares_period
        Per row: True when another row has the same customer and period.
    collision
        True when two different ids share the first hash (the aggregates are then unusable).
    """

    first_row: np.ndarray
    n_purchases: np.ndarray
    total: np.ndarray
    first_value: np.ndarray
    profit: np.ndarray | None
    first_day: np.ndarray | None
    last_day: np.ndarray | None
    shares_period: np.ndarray
    collision: bool


def available() -> bool:
    """True when the compiled kernel is installed."""
    return LIBRARY is not None


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _bucket_bits(customers: int) -> int:
    bits = 0
    while bits < _MAX_BUCKET_BITS and (customers >> bits) > _CUSTOMERS_PER_BUCKET:
        bits += 1
    return bits


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    edges = [n * t // parts for t in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _run(tasks: list, threads: int) -> list:
    if threads == 1 or len(tasks) == 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda task: task(), tasks))


def scan_customers(
    h1: np.ndarray,
    h2: np.ndarray,
    period: np.ndarray,
    amount: np.ndarray,
    profit: np.ndarray | None = None,
    day: np.ndarray | None = None,
    *,
    expected_customers: int | None = None,
    threads: int | None = None,
) -> CustomerScan:
    """Per-customer aggregates of rows in date order, in one hash pass.

    Parameters
    ----------
    h1, h2
        Two independent 64-bit hashes of each row's customer id (``uint64`` or ``int64``).
    period
        Purchase period of each row as an integer (day number, month start, ...),
        non-decreasing within each customer (sort the rows by date first).
    amount, profit
        Values per row (currency); ``profit`` may be ``None``.
    day
        Optional day numbers (Int32, days since 1970-01-01): their first and last per customer
        are returned.
    expected_customers
        An estimate of the number of customers (sizes the buckets); default: rows / 4.
    threads
        Worker threads; default: one per usable core.  The result does not depend on it.

    Returns
    -------
    CustomerScan

    Examples
    --------
    >>> import numpy as np
    >>> ids = np.array([7, 9, 7, 7], dtype=np.uint64)
    >>> scan = scan_customers(ids, ids * 3, np.array([1, 1, 1, 5]), np.array([1.0, 2.0, 3.0, 4.0]))
    >>> scan.n_purchases.tolist(), scan.total.tolist(), scan.first_value.tolist()
    ([2, 1], [8.0, 2.0], [4.0, 2.0])
    """
    if LIBRARY is None:
        raise RuntimeError(
            "the compiled kernel workbench._kernels is not built: install the package with "
            "`pip install -e .` (needs a C compiler)"
        )
    n = len(h1)
    if n > _MAX_ROWS:
        raise ValueError(f"scan_customers handles at most {_MAX_ROWS:,} rows, got {n:,}")
    h1 = np.ascontiguousarray(h1).view(np.int64)
    h2 = np.ascontiguousarray(h2).view(np.int64)
    period = np.ascontiguousarray(period, dtype=np.int32)
    amount = np.ascontiguousarray(amount, dtype=np.float64)
    if profit is not None:
        profit = np.ascontiguousarray(profit, dtype=np.float64)
    if day is not None:
        day = np.ascontiguousarray(day, dtype=np.int32)
    threads = threads or (usable_cores() if n >= _SERIAL_ROWS else 1)
    expected = expected_customers if expected_customers is not None else max(1, n // 4)
    bits = _bucket_bits(expected)
    n_buckets = 1 << bits
    shift = 64 - bits  # 64: one bucket

    # 1. stable partition of the rows into buckets, one chunk of rows per thread
    chunks = _split(n, threads)
    counts = np.zeros((len(chunks), n_buckets), dtype=np.int64)
    _run(
        [
            lambda c=c, lo=lo, hi=hi: LIBRARY.wb_histogram(
                pointer(h1), lo, hi, shift, n_buckets - 1, pointer(counts[c])
            )
            for c, (lo, hi) in enumerate(chunks)
        ],
        threads,
    )
    starts = np.zeros(n_buckets + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0), out=starts[1:])
    before = np.cumsum(counts, axis=0) - counts  # rows of earlier chunks in each bucket
    cursors = np.ascontiguousarray(starts[:-1] + before)
    rows = np.empty(n * _ROW_BYTES, dtype=np.uint8)
    parted_profit = np.empty(n) if profit is not None else None
    _run(
        [
            lambda c=c, lo=lo, hi=hi: LIBRARY.wb_scatter(
                pointer(h1), pointer(h2), pointer(period), pointer(amount), pointer(profit),
                shift, n_buckets - 1, lo, hi, pointer(cursors[c]), pointer(rows),
                pointer(parted_profit),
            )
            for c, (lo, hi) in enumerate(chunks)
        ],
        threads,
    )

    # 2. aggregate each bucket in a cache-sized table, one range of buckets per thread
    at_first_row = np.empty(n, dtype=np.uint32)
    is_first = np.zeros(n, dtype=np.uint8)
    shares = np.zeros(n, dtype=np.uint8)
    per_bucket = expected // n_buckets + 1
    per_bucket += per_bucket // 4 + 16
    ranges = [(lo, hi) for lo, hi in _split(n_buckets, threads) if lo < hi]
    status = np.zeros((len(ranges), 4), dtype=np.int64)
    _run(
        [
            lambda t=t, lo=lo, hi=hi: LIBRARY.wb_aggregate(
                pointer(rows), pointer(parted_profit), pointer(starts), lo, hi, per_bucket,
                pointer(at_first_row), pointer(is_first), pointer(shares), pointer(status[t]),
            )
            for t, (lo, hi) in enumerate(ranges)
        ],
        threads,
    )
    del parted_profit
    if status[:, 3].any():
        raise MemoryError("scan_customers: out of memory")
    if status[:, 2].any():
        raise RuntimeError("scan_customers: periods must be non-decreasing within each customer")

    # 3. results in order of first appearance, one chunk of rows per thread
    k = int(status[:, 0].sum())
    firsts = [LIBRARY.wb_count_first(pointer(is_first), lo, hi) for lo, hi in chunks]
    offsets = np.cumsum([0, *firsts])
    first_row = np.empty(k, dtype=np.uint32)
    n_purchases = np.empty(k, dtype=np.int32)
    floats = np.empty((3 if profit is not None else 2, k), dtype=np.float64)
    days = np.empty((2, k), dtype=np.int32) if day is not None else None
    out = [
        pointer(first_row),
        pointer(n_purchases),
        pointer(floats[0]),
        pointer(floats[1]),
        pointer(floats[2]) if profit is not None else None,
        pointer(days[0]) if days is not None else None,
        pointer(days[1]) if days is not None else None,
    ]
    _run(
        [
            lambda c=c, lo=lo, hi=hi: LIBRARY.wb_collect(
                lo, hi, int(offsets[c]), pointer(is_first), pointer(at_first_row), pointer(rows),
                pointer(day), *out,
            )
            for c, (lo, hi) in enumerate(chunks)
        ],
        threads,
    )
    return CustomerScan(
        first_row=first_row,
        n_purchases=n_purchases,
        total=floats[0],
        first_value=floats[1],
        profit=floats[2] if profit is not None else None,
        first_day=days[0] if days is not None else None,
        last_day=days[1] if days is not None else None,
        shares_period=shares.view(np.bool_),
        collision=bool(status[:, 1].any()),
    )
