"""The compiled kernels (``workbench/_kernels.c``), loaded with :mod:`ctypes`.

``pip install`` compiles the C file into the extension ``workbench._kernels`` (setuptools, with
the machine's C compiler).  Its functions take pointers to NumPy arrays and release the GIL
while they run (ctypes does), so several threads can run them at once on disjoint work.

When the library is missing (a source checkout that was never installed, or a platform without
a compiler: the build is optional, so the install still succeeds) or was built from an older
``_kernels.c`` (its ``wb_abi_version`` differs), :data:`LIBRARY` is ``None`` and callers use
their pure Polars / NumPy paths, which give the same results more slowly.
"""

from __future__ import annotations

import ctypes
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from ctypes import c_int, c_int64, c_void_p
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

_P, _I64, _INT = c_void_p, c_int64, c_int
_ABI_VERSION = 3  # WB_ABI_VERSION in _kernels.c

_SIGNATURES = {
    "wb_histogram_ids": (None, [_P, _P, _I64, _INT, _I64, _P]),
    "wb_scatter_ids": (None, [_P, _P, _I64, _I64, _P, _P, _P, _P, _INT, _I64, _P, _P, _P]),
    "wb_histogram": (None, [_P, _I64, _INT, _I64, _P]),
    "wb_scatter": (None, [_P, _P, _I64, _I64, _P, _P, _P, _P, _INT, _I64, _P, _P, _P]),
    "wb_aggregate": (None, [_P, _P, _P, _I64, _I64, _I64, _P, _P, _P, _P, _P, _P]),
    "wb_count_first": (_I64, [_P, _I64, _I64]),
    "wb_first_rows": (None, [_I64, _I64, _I64, _P, _P]),
    "wb_gather_results": (None, [_P, _P, _P, _P, _P, _I64, _P, _P, _P, _P, _P, _P]),
    "wb_view_prefix": (_INT, [_P, _I64, _P]),
    "wb_radix_argsort": (_INT, [_P, _I64, _P]),
}


def _load() -> ctypes.CDLL | None:
    override = os.environ.get("WORKBENCH_KERNELS_LIBRARY")  # e.g. an AddressSanitizer build
    if override:
        library, path = ctypes.CDLL(override), override
    else:
        try:
            from workbench import _kernels
        except ImportError:
            return None
        library, path = ctypes.CDLL(_kernels.__file__), _kernels.__file__
    version = getattr(library, "wb_abi_version", None)
    if version is None or version() != _ABI_VERSION or not all(
        hasattr(library, name) for name in _SIGNATURES
    ):
        warnings.warn(
            f"{path} was built from another version of workbench/_kernels.c; "
            "reinstall with `pip install -e .` (using the slower pure Python paths meanwhile)",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    for name, (result, arguments) in _SIGNATURES.items():
        function = getattr(library, name)
        function.restype = result
        function.argtypes = arguments
    return library


#: The loaded library, or ``None`` when it was not built.
LIBRARY: ctypes.CDLL | None = _load()


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def split_range(n: int, parts: int) -> list[tuple[int, int]]:
    """``0..n`` cut into ``parts`` consecutive ranges of (nearly) equal length."""
    edges = [n * t // parts for t in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def run_tasks(tasks: list, threads: int) -> list:
    """Call each task, on up to ``threads`` threads (the kernels release the GIL)."""
    if threads == 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda task: task(), tasks))


def pointer(array: np.ndarray | None) -> int | None:
    """Address of a C-contiguous array's data (``None`` stays ``None``, a NULL pointer)."""
    if array is None:
        return None
    if not array.flags.c_contiguous:
        raise ValueError("kernels need C-contiguous arrays")
    return array.ctypes.data


@dataclass(frozen=True)
class StringChunk:
    """One Arrow chunk of a String column as the kernels read it (zero-copy).

    ``views`` holds the 16-byte string views, ``buffers`` the addresses of the data buffers of
    strings longer than 12 bytes; ``row0`` is the chunk's first row in the column; ``owner``
    keeps the Arrow memory alive.
    """

    views: np.ndarray
    buffers: np.ndarray
    rows: int
    row0: int
    owner: object

    def piece(self, lo: int, hi: int) -> tuple[int, int, int, int]:
        """``(views address, buffers address, rows, first row)`` of rows ``lo..hi`` of the chunk."""
        return (self.views.ctypes.data + 16 * lo, self.buffers.ctypes.data, hi - lo,
                self.row0 + lo)


def string_chunks(strings: pl.Series) -> list[StringChunk] | None:
    """The chunks of a String column as Arrow string views, or None when they are not views.

    Examples
    --------
    >>> [c.rows for c in string_chunks(pl.Series(["a", "a long customer id"]))]
    [2]
    """
    if strings.dtype != pl.String:
        return None
    chunks, row0 = [], 0
    for part in strings.get_chunks():
        array = part.to_arrow(compat_level=pl.CompatLevel.newest())
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if array.type != pa.string_view():
            return None
        buffers = array.buffers()
        views = np.frombuffer(buffers[1], dtype=np.uint8)[
            16 * array.offset : 16 * (array.offset + len(array))
        ]
        data = np.array([b.address for b in buffers[2:] if b is not None] or [0], dtype=np.uint64)
        chunks.append(StringChunk(views, data, len(array), row0, array))
        row0 += len(array)
    return chunks


def text_needs_cleaning(strings: pl.Series) -> bool:
    """True when a string is null or empty, or starts or ends with white space.

    The check the readers run before stripping an id column (stripping 10 million strings
    costs far more than looking at their ends).  Unicode white space, as
    ``str.strip_chars`` removes it (Polars' regex ``\\s``).

    Examples
    --------
    >>> text_needs_cleaning(pl.Series(["a", "b "])), text_needs_cleaning(pl.Series(["a", "b"]))
    (True, False)
    """
    if strings.null_count():
        return True
    return bool(strings.str.contains(r"^\s|\s$|^$").any())


def radix_argsort(keys: np.ndarray) -> np.ndarray:
    """Stable sorting permutation of unsigned 64-bit keys (LSD radix sort of the varying bits).

    Examples
    --------
    >>> radix_argsort(np.array([3, 1, 2, 1], dtype=np.uint64)).tolist()
    [1, 3, 2, 0]
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    if LIBRARY is None:
        return np.argsort(keys, kind="stable")
    perm = np.empty(keys.shape[0], dtype=np.int64)
    if LIBRARY.wb_radix_argsort(pointer(keys), keys.shape[0], pointer(perm)) != 0:
        raise MemoryError("radix_argsort: out of memory")
    return perm


def twice_midranks(x: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each candidate ``c``: ``#(x < c) + #(x <= c)`` and the smallest ``x`` above ``c``.

    Examples
    --------
    >>> twice, above = twice_midranks(np.array([1.0, 2, 2, 5]), np.array([2.0]))
    >>> twice.tolist(), above.tolist()
    ([4], [5.0])
    """
    x = np.asarray(x, dtype=np.float64)
    twice = np.array(
        [np.count_nonzero(x < c) + np.count_nonzero(x <= c) for c in candidates], dtype=np.int64
    )
    above = np.array([x[x > c].min(initial=np.inf) for c in candidates], dtype=np.float64)
    return twice, above


def threshold_scores(x: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``1 + #(thresholds <= x)`` per value, as int8 (``thresholds`` ascending).

    Examples
    --------
    >>> threshold_scores(np.array([0.5, 1.0, 9.0]), np.array([1.0, 2.0])).tolist()
    [1, 2, 3]
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    return (np.searchsorted(thresholds, x, side="right") + 1).astype(np.int8)


def int_counts(x: np.ndarray, low: int, high: int) -> np.ndarray:
    """How often each integer ``low..high`` occurs in ``x`` (all values in that range).

    Examples
    --------
    >>> int_counts(np.array([3, 5, 3]), 3, 5).tolist()
    [2, 0, 1]
    """
    return np.bincount(np.asarray(x, dtype=np.int64) - low, minlength=high - low + 1)


def int_lookup(x: np.ndarray, low: int, table: np.ndarray) -> np.ndarray:
    """``table[x - low]`` as int8 (all values in range).

    Examples
    --------
    >>> int_lookup(np.array([3, 5]), 3, np.array([7, 8, 9], dtype=np.int8)).tolist()
    [7, 9]
    """
    return np.asarray(table, dtype=np.int8)[np.asarray(x, dtype=np.int64) - low]


def order_statistics(x: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The ``ranks``-th smallest values of ``x`` (0-based; ``numpy.partition``, O(n)).

    Examples
    --------
    >>> order_statistics(np.array([5.0, -1.0, 3.0, 3.0]), np.array([0, 2, 3])).tolist()
    [-1.0, 3.0, 5.0]
    """
    x = np.asarray(x, dtype=np.float64)
    ranks = np.asarray(ranks, dtype=np.int64)
    if x.shape[0] == 0:
        return np.zeros(0)
    return np.partition(x, np.unique(ranks))[ranks]
