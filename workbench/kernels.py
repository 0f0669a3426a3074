"""The compiled kernels (``workbench/_kernels.c``), loaded with :mod:`ctypes`.

``pip install`` compiles the C file into the extension ``workbench._kernels`` (setuptools, with
the machine's C compiler).  Its functions take pointers to NumPy arrays and release the GIL
while they run (ctypes does), so several threads can run them at once on disjoint work.

When the library is missing (a source checkout that was never installed, or a platform without
a compiler), :data:`LIBRARY` is ``None`` and callers use their pure Polars / NumPy paths.
"""

from __future__ import annotations

import ctypes
from ctypes import c_int, c_int64, c_void_p

import numpy as np

_P, _I64, _INT = c_void_p, c_int64, c_int

_SIGNATURES = {
    "wb_histogram": (None, [_P, _I64, _I64, _INT, _I64, _P]),
    "wb_scatter": (None, [_P, _P, _P, _P, _P, _INT, _I64, _I64, _I64, _P, _P, _P]),
    "wb_aggregate": (None, [_P, _P, _P, _I64, _I64, _I64, _P, _P, _P, _P]),
    "wb_count_first": (_I64, [_P, _I64, _I64]),
    "wb_collect": (None, [_I64, _I64, _I64, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P]),
    "wb_view_prefix": (_INT, [_P, _I64, _P]),
    "wb_radix_argsort": (_INT, [_P, _I64, _P]),
    "wb_twice_midranks": (None, [_P, _I64, _P, _I64, _P, _P]),
    "wb_threshold_scores": (None, [_P, _I64, _P, _I64, _P]),
}


def _load() -> ctypes.CDLL | None:
    try:
        from workbench import _kernels
    except ImportError:
        return None
    library = ctypes.CDLL(_kernels.__file__)
    for name, (result, arguments) in _SIGNATURES.items():
        function = getattr(library, name)
        function.restype = result
        function.argtypes = arguments
    return library


#: The loaded library, or ``None`` when it was not built.
LIBRARY: ctypes.CDLL | None = _load()


def pointer(array: np.ndarray | None) -> int | None:
    """Address of a C-contiguous array's data (``None`` stays ``None``, a NULL pointer)."""
    if array is None:
        return None
    if not array.flags.c_contiguous:
        raise ValueError("kernels need C-contiguous arrays")
    return array.ctypes.data


def radix_argsort(keys: np.ndarray) -> np.ndarray:
    """Stable sorting permutation of unsigned 64-bit keys (LSD radix sort by 16-bit digits).

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
    x = np.ascontiguousarray(x, dtype=np.float64)
    candidates = np.ascontiguousarray(candidates, dtype=np.float64)
    if LIBRARY is None:
        twice = np.array([np.count_nonzero(x < c) + np.count_nonzero(x <= c) for c in candidates])
        above = np.array([x[x > c].min(initial=np.inf) for c in candidates])
        return twice.astype(np.int64), above
    twice = np.empty(candidates.shape[0], dtype=np.int64)
    above = np.empty(candidates.shape[0], dtype=np.float64)
    LIBRARY.wb_twice_midranks(
        pointer(x), x.shape[0], pointer(candidates), candidates.shape[0], pointer(twice),
        pointer(above),
    )
    return twice, above


def threshold_scores(x: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``1 + #(thresholds <= x)`` per value, as int8 (``thresholds`` ascending).

    Examples
    --------
    >>> threshold_scores(np.array([0.5, 1.0, 9.0]), np.array([1.0, 2.0])).tolist()
    [1, 2, 3]
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    thresholds = np.ascontiguousarray(thresholds, dtype=np.float64)
    if LIBRARY is None:
        return (np.searchsorted(thresholds, x, side="right") + 1).astype(np.int8)
    out = np.empty(x.shape[0], dtype=np.int8)
    LIBRARY.wb_threshold_scores(
        pointer(x), x.shape[0], pointer(thresholds), thresholds.shape[0], pointer(out)
    )
    return out
