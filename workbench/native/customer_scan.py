"""Per-customer purchase aggregates of a transaction log in one hash pass (compiled kernel).

The customer summary (:mod:`workbench.core.summary`) needs, per customer, the number of distinct
purchase periods, the total spend, the spend of the first period and the first and last days.
A group-by per customer plus a group-by per customer and period does this in two hash passes over
every row; this module needs one.  Rows arrive in date order, so a customer's periods arrive in
non-decreasing order and a new period is simply larger than the customer's last one.

How (a radix-partitioned hash aggregation, ``workbench/native/_kernels.c``):

1. the kernel reads the customer ids straight from Polars' Arrow string views, chunk by chunk
   (no copy), hashes each, and scatters the rows into buckets by the top bits of the hash,
   keeping their order within each bucket (a stable partition, one thread per range of rows);
   every column reaches the C code through the Arrow C data interface (an exported
   ``ArrowSchema``/``ArrowArray`` per chunk, checked there: format, buffers, offset, length, no
   nulls, every string view inside its data buffer; see :mod:`workbench.native.kernels`), and a
   malformed array raises :class:`workbench.native.kernels.KernelInputError` instead of being read;
2. each bucket, about two thousand customers, is aggregated in a small open-addressing hash
   table (64-byte slots) that stays in the processor cache, one thread per range of buckets; the
   results overwrite rows already read, so no more memory is needed;
3. a pass over the first-row marks gives the customers in order of first appearance, whatever
   the number of threads; :meth:`CustomerScan.values` gathers their results in any order the
   caller wants (the summary wants them sorted by id).

A second hash of another family (FNV-1a) is kept beside the key (32 bits of it): a row whose key
matches a customer but whose check hash does not means that two ids share the 64-bit key, and the
scan reports a collision so that the caller can use an exact method instead (the chance of a
collision among 3.6 million ids is about 4e-7, of one going unnoticed about 1e-16).  Sums are
taken in row order, so the results do not depend on the number of threads.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:  # pyarrow loads ~25 MiB of libraries; imported where used
    import pyarrow as pa

from workbench.native.kernels import (
    LIBRARY,
    ArrowChunk,
    arrow_chunks,
    check,
    chunk_at,
    export_column,
    numpy_to_arrow,
    pointer,
    run_tasks,
    split_range,
    string_view_chunks,
    usable_cores,
)

_MAX_ROWS = (1 << 32) - 1
_CUSTOMERS_PER_BUCKET = 2048
_MAX_BUCKET_BITS = 16
_SERIAL_ROWS = 200_000
_ROW_BYTES = 32


def _library() -> ctypes.CDLL:
    """The loaded kernels (:data:`LIBRARY`); a clear error when they were not built."""
    if LIBRARY is None:
        raise RuntimeError(
            "the compiled kernel workbench.native._kernels is not built: install the package with "
            "`pip install -e .` (needs a C compiler)"
        )
    return LIBRARY


class CustomerScan:
    """The customers found by :func:`scan_customers`, and their aggregates.

    Attributes
    ----------
    first_row
        Row number (0-based, uint32) of each customer's first row, in order of first appearance:
        customer ``c`` is the one whose first row is ``first_row[c]``.
    shares_period
        Per row: True when another row has the same customer and period.
    collision
        True when two different ids share the first hash (the aggregates are then unusable).
    """

    def __init__(
        self,
        first_row: np.ndarray,
        shares_period: np.ndarray,
        collision: bool,
        results: np.ndarray,
        results_profit: np.ndarray | None,
        at_first_row: np.ndarray,
    ) -> None:
        self.first_row = first_row
        self.shares_period = shares_period
        self.collision = collision
        self._results = results
        self._results_profit = results_profit
        self._at_first_row = at_first_row

    def values(self, order: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The aggregates of customers ``order`` (positions in ``first_row``; default: all).

        Returns ``n_purchases`` (distinct purchase periods, int32), ``total`` and
        ``first_value`` (sum of ``amount`` overall and over the first purchase period,
        currency), ``profit`` (sum of ``profit``; only when profit was given), ``first_day`` and
        ``last_day`` (``day`` of the first and last rows, int32 days since 1970-01-01).
        """
        n = self.first_row.shape[0]
        k = n if order is None else len(order)
        if order is not None:
            order = np.ascontiguousarray(order, dtype=np.int64)
            if k and (order.min() < 0 or order.max() >= n):
                raise IndexError(f"order must hold positions 0..{n - 1}")
        out: dict[str, np.ndarray | None] = {
            "n_purchases": np.empty(k, dtype=np.int32),
            "total": np.empty(k),
            "first_value": np.empty(k),
            "profit": np.empty(k) if self._results_profit is not None else None,
            "first_day": np.empty(k, dtype=np.int32),
            "last_day": np.empty(k, dtype=np.int32),
        }
        arrays = list(out.values())
        library = _library()

        def gather(lo: int, hi: int) -> tuple[int, np.ndarray]:
            """Customers lo..hi of the output."""
            where = np.zeros(5, dtype=np.int64)
            code = library.wb_gather_results(
                pointer(self._results),
                pointer(self._results_profit),
                pointer(self._at_first_row),
                self._at_first_row.shape[0],
                pointer(self.first_row),
                n,
                pointer(order),
                lo,
                hi,
                *(pointer(v) for v in arrays),
                pointer(where),
            )
            return code, where

        threads = usable_cores() if k >= _SERIAL_ROWS else 1
        for code, where in run_tasks(
            [lambda lo=lo, hi=hi: gather(lo, hi) for lo, hi in split_range(k, threads)], threads
        ):
            check(code, where)
        return {name: v for name, v in out.items() if v is not None}

    def customers_of(self, rows: np.ndarray) -> np.ndarray:
        """Customers (positions in ``first_row``) of ``rows`` that share a purchase period with
        an earlier row of their customer."""
        return np.searchsorted(self.first_row, self._at_first_row[rows])


def available() -> bool:
    """True when the compiled kernel is installed."""
    return LIBRARY is not None


def usable_for(ids: pl.Series) -> bool:
    """True when :func:`scan_customers` can take these ids: the kernel is built, the ids are
    String Arrow views without nulls, and there are fewer than 2**32 rows.

    When this is False the caller uses its exact Polars path, which gives the same result: the
    kernel is never the reason for an error.

    Examples
    --------
    >>> import polars as pl
    >>> usable_for(pl.Series(["a", None])), usable_for(pl.Series([1, 2]))
    (False, False)
    """
    return (
        LIBRARY is not None
        and ids.dtype == pl.String
        and ids.len() <= _MAX_ROWS
        and ids.null_count() == 0
        and string_view_chunks(ids) is not None
    )


def _bucket_bits(customers: int) -> int:
    bits = 0
    while bits < _MAX_BUCKET_BITS and (customers >> bits) > _CUSTOMERS_PER_BUCKET:
        bits += 1
    return bits


def _numeric_chunks(values: pl.Series | np.ndarray, dtype: type) -> list[pa.Array]:
    """The chunks of a numeric column as Arrow arrays of ``dtype``, without copying where the
    values already have that type."""
    if isinstance(values, np.ndarray):
        return arrow_chunks(np.ascontiguousarray(values, dtype=dtype))
    return [
        numpy_to_arrow(np.ascontiguousarray(part.to_physical().to_numpy(), dtype=dtype))
        for part in values.get_chunks()
    ]


def _pieces(boundaries: list[list[int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Rows ``lo..hi`` cut at every chunk boundary of every column: pieces within one chunk each."""
    cuts = sorted({lo, hi, *(b for column in boundaries for b in column if lo < b < hi)})
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if a < b]


def _name(values: object, default: str) -> str:
    return values.name if isinstance(values, pl.Series) and values.name else default


def scan_customers(
    ids: pl.Series | tuple[np.ndarray, np.ndarray],
    period: pl.Series | np.ndarray,
    amount: pl.Series | np.ndarray,
    profit: pl.Series | np.ndarray | None = None,
    day: pl.Series | np.ndarray | None = None,
    *,
    expected_customers: int | None = None,
    threads: int | None = None,
) -> CustomerScan:
    """Per-customer aggregates of rows in date order, in one hash pass.

    Columns may be Polars Series of several chunks: the kernel reads each chunk where it is.

    Parameters
    ----------
    ids
        The customer id of each row (String, no nulls), hashed by the kernel; or the same as
        Arrow string views (a ``pyarrow`` array, checked by the kernel); or two independent
        64-bit hashes of them, ``(h1, h2)`` (only 32 bits of ``h2`` are used).
    period
        Purchase period of each row as an integer (day number, month start, ...),
        non-decreasing within each customer (sort the rows by date first).
    amount, profit
        Values per row (currency); ``profit`` may be ``None``.
    day
        Day of each row (Date, or days since 1970-01-01); default: ``period``.
    expected_customers
        An estimate of the number of customers (sizes the buckets); default: rows / 4.
    threads
        Worker threads; default: one per usable core.  The result does not depend on it.

    Returns
    -------
    CustomerScan

    Raises
    ------
    workbench.native.kernels.KernelInputError
        When the kernel refuses an Arrow array (wrong format, nulls, a string view outside
        its data buffer, ...): the message names the column and row.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> scan = scan_customers(pl.Series(["a", "b", "a", "a"]), np.array([1, 1, 1, 5]),
    ...                       np.array([1.0, 2.0, 3.0, 4.0]))
    >>> values = scan.values()
    >>> values["n_purchases"].tolist(), values["total"].tolist(), values["first_value"].tolist()
    ([2, 1], [8.0, 2.0], [4.0, 2.0])
    """
    _library()  # refuse at once when the kernels are not built
    columns, names, hashed, n = _gather_columns(ids, period, amount, profit, day)
    with contextlib.ExitStack() as stack:
        exported = {k: stack.enter_context(export_column(v)) for k, v in columns.items()}
        return _scan(exported, n, names, hashed, profit is not None, expected_customers, threads)


def _gather_columns(
    ids: pl.Series | tuple[np.ndarray, np.ndarray],
    period: pl.Series | np.ndarray,
    amount: pl.Series | np.ndarray,
    profit: pl.Series | np.ndarray | None,
    day: pl.Series | np.ndarray | None,
) -> tuple[dict[int, list[pa.Array]], dict[int, str], bool, int]:
    """The Arrow chunks of each column (numbered as in :func:`_scan`), their names for error
    messages, whether ids are given as hashes, and the number of rows; checks the lengths."""
    columns: dict[int, list[pa.Array]] = {}
    names = {
        0: _name(ids, "ids"),
        1: _name(day, "day"),
        2: _name(period, "period"),
        3: _name(amount, "amount"),
        4: _name(profit, "profit"),
        5: "second hash",
    }
    hashed = isinstance(ids, tuple)
    if isinstance(ids, pl.Series):
        id_arrays = string_view_chunks(ids)
        if id_arrays is None or ids.null_count():
            raise ValueError("scan_customers needs String ids without nulls")
        columns[0] = id_arrays
    elif hashed:
        columns[0] = arrow_chunks(np.ascontiguousarray(ids[0]).view(np.int64))
        columns[5] = arrow_chunks(np.ascontiguousarray(ids[1]).view(np.int64))
    else:
        columns[0] = arrow_chunks(ids)
    n = sum(len(c) for c in columns[0])
    if n > _MAX_ROWS:
        raise ValueError(f"scan_customers handles at most {_MAX_ROWS:,} rows, got {n:,}")
    columns[1] = _numeric_chunks(day if day is not None else period, np.int32)
    columns[2] = _numeric_chunks(period, np.int32)
    columns[3] = _numeric_chunks(amount, np.float64)
    if profit is not None:
        columns[4] = _numeric_chunks(profit, np.float64)
    for number, arrays in columns.items():
        if sum(len(a) for a in arrays) != n:
            raise ValueError(f"scan_customers: {names[number]} has not one value per id")
    return columns, names, hashed, n


def _scan(
    exported: dict[int, list[ArrowChunk]],
    n: int,
    names: dict[int, str],
    hashed: bool,
    has_profit: bool,
    expected_customers: int | None,
    threads: int | None,
) -> CustomerScan:
    """:func:`scan_customers` on exported columns (0 ids or first hash, 1 day, 2 period,
    3 amount, 4 profit, 5 second hash)."""
    plan = _plan(exported, n, names, hashed, expected_customers, threads)
    starts, rows, parted_profit = _partition(plan, has_profit)
    is_first, shares, results_profit, at_first_row, status, where = _aggregate(
        plan, starts, rows, parted_profit, has_profit
    )
    first_row = _first_rows(plan, is_first, where)
    return CustomerScan(
        first_row,
        shares.view(np.bool_),
        bool(status[:, 1].any()),
        rows,
        results_profit,
        at_first_row,
    )


@dataclass(frozen=True)
class _Plan:
    """How one scan is cut up: threads, buckets and the pieces of rows each thread reads."""

    exported: dict[int, list[ArrowChunk]]
    n: int
    names: dict[int, str]
    hashed: bool
    threads: int
    expected: int
    n_buckets: int
    shift: int
    bmask: int
    ranges: list[tuple[int, int]]
    pieces: list[list[tuple[int, int]]]
    formats: dict[int, str] | None

    def piece(self, lo: int) -> tuple[dict[int, ArrowChunk], dict[int, ctypes.Structure]]:
        """The chunk of each column holding row ``lo``, and the kernels' view from there."""
        chunks = {k: chunk_at(v, lo) for k, v in self.exported.items()}
        return chunks, {k: c.piece(lo - c.row0) for k, c in chunks.items()}

    def run(self, t: int, step: Callable[..., int]) -> tuple[int, np.ndarray, Any]:
        """``step(columns, lo, hi, where)`` on each piece of range t; stops at an error."""
        where = np.zeros(5, dtype=np.int64)
        for lo, hi in self.pieces[t]:
            chunks, cols = self.piece(lo)
            code = step({k: ctypes.addressof(c) for k, c in cols.items()}, lo, hi, where)
            if code:
                return code, where, chunks
        return 0, where, None

    def run_all(self, step: Callable[..., int]) -> None:
        """``step(columns, lo, hi, where, t)`` on every range, one thread per range; raises
        the first error."""
        results = run_tasks(
            [
                lambda t=t: self.run(t, lambda c, lo, hi, w, t=t: step(c, lo, hi, w, t))
                for t in range(self.threads)
            ],
            self.threads,
        )
        for code, where, chunks in results:
            check(code, where, chunks, self.names, self.formats)


def _plan(
    exported: dict[int, list[ArrowChunk]],
    n: int,
    names: dict[int, str],
    hashed: bool,
    expected_customers: int | None,
    threads: int | None,
) -> _Plan:
    """Threads, bucket count and row ranges of a scan of ``n`` rows."""
    boundaries = [[c.row0 for c in chunks] for chunks in exported.values()]
    threads = threads or (usable_cores() if n >= _SERIAL_ROWS else 1)
    expected = expected_customers if expected_customers is not None else max(1, n // 4)
    bits = _bucket_bits(expected)
    n_buckets = 1 << bits
    ranges = split_range(n, threads)
    return _Plan(
        exported=exported,
        n=n,
        names=names,
        hashed=hashed,
        threads=threads,
        expected=expected,
        n_buckets=n_buckets,
        shift=64 - bits,  # shift 64: one bucket
        bmask=n_buckets - 1,
        ranges=ranges,
        pieces=[_pieces(boundaries, lo, hi) for lo, hi in ranges],
        formats={0: "'l' or 'L' (64-bit hashes)"} if hashed else None,
    )


def _partition(plan: _Plan, has_profit: bool) -> tuple[np.ndarray, np.ndarray, Any]:
    """Step 1: stable partition of the rows into buckets, one range of rows per thread.

    Returns the first row of each bucket (and ``n`` at the end), the packed rows and the
    profit in bucket order (``None`` without profit)."""
    library = _library()
    counts = np.zeros((plan.threads, plan.n_buckets), dtype=np.int64)
    histogram = library.wb_histogram if plan.hashed else library.wb_histogram_ids
    plan.run_all(
        lambda c, lo, hi, where, t: histogram(
            c[0], hi - lo, plan.shift, plan.bmask, pointer(counts[t]), pointer(where)
        )
    )
    starts = np.zeros(plan.n_buckets + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0), out=starts[1:])
    before = np.cumsum(counts, axis=0) - counts  # rows of earlier ranges in each bucket
    cursors = np.ascontiguousarray(starts[:-1] + before)
    rows = np.empty(plan.n * _ROW_BYTES, dtype=np.uint8)
    parted_profit = np.empty(plan.n) if has_profit else None

    def scatter(c: dict[int, int], lo: int, hi: int, where: np.ndarray, t: int) -> int:
        values = (c[1], c[2], c[3], c.get(4))
        out = (
            plan.shift,
            plan.bmask,
            pointer(cursors[t]),
            pointer(rows),
            pointer(parted_profit),
            plan.n,
            pointer(where),
        )
        if plan.hashed:
            return library.wb_scatter(c[0], c[5], hi - lo, lo, *values, *out)
        return library.wb_scatter_ids(c[0], hi - lo, lo, *values, *out)

    plan.run_all(scatter)
    return starts, rows, parted_profit


def _aggregate(
    plan: _Plan, starts: np.ndarray, rows: np.ndarray, parted_profit: Any, has_profit: bool
) -> tuple[np.ndarray, np.ndarray, Any, np.ndarray, np.ndarray, np.ndarray]:
    """Step 2: aggregate each bucket in a cache-sized table, one range of buckets per thread;
    the results overwrite rows already read.

    Returns the first-row marks, the shared-key marks, the profit results, the row of each
    result, the per-range status (collision, non-decreasing periods) and the error scratch."""
    library = _library()
    n, n_buckets = plan.n, plan.n_buckets
    at_first_row = np.empty(n, dtype=np.uint32)
    is_first = np.zeros(n, dtype=np.uint8)
    shares = np.zeros(n, dtype=np.uint8)
    results_profit = np.empty(n) if has_profit else None
    per_bucket = plan.expected // n_buckets + 1
    per_bucket += per_bucket // 4 + 16
    bucket_ranges = [(lo, hi) for lo, hi in split_range(n_buckets, plan.threads) if lo < hi]
    status = np.zeros((len(bucket_ranges), 3), dtype=np.int64)
    where = np.zeros((max(len(bucket_ranges), len(plan.ranges)), 5), dtype=np.int64)
    codes = run_tasks(
        [
            lambda t=t, lo=lo, hi=hi: library.wb_aggregate(
                pointer(rows),
                pointer(parted_profit),
                pointer(starts),
                n_buckets,
                n,
                lo,
                hi,
                per_bucket,
                pointer(rows),
                pointer(results_profit),
                pointer(at_first_row),
                pointer(is_first),
                pointer(shares),
                pointer(status[t]),
                pointer(where[t]),
            )
            for t, (lo, hi) in enumerate(bucket_ranges)
        ],
        plan.threads,
    )
    for t, code in enumerate(codes):
        if code == 11:
            raise MemoryError("scan_customers: out of memory")
        check(code, where[t])
    if status[:, 2].any():
        raise RuntimeError("scan_customers: periods must be non-decreasing within each customer")
    return is_first, shares, results_profit, at_first_row, status, where


def _first_rows(plan: _Plan, is_first: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Step 3: the first row of each customer in order of first appearance, one range of
    rows per thread."""
    library = _library()
    n = plan.n
    firsts = np.zeros(len(plan.ranges), dtype=np.int64)
    for c, (lo, hi) in enumerate(plan.ranges):
        check(
            library.wb_count_first(
                pointer(is_first), n, lo, hi, pointer(firsts[c:]), pointer(where[c])
            ),
            where[c],
        )
    offsets = np.cumsum([0, *firsts.tolist()])
    first_row = np.empty(int(offsets[-1]), dtype=np.uint32)
    codes = run_tasks(
        [
            lambda c=c, lo=lo, hi=hi: library.wb_first_rows(
                lo,
                hi,
                int(offsets[c]),
                pointer(is_first),
                n,
                pointer(first_row),
                first_row.shape[0],
                pointer(where[c]),
            )
            for c, (lo, hi) in enumerate(plan.ranges)
        ],
        plan.threads,
    )
    for c, code in enumerate(codes):
        check(code, where[c])
    return first_row
