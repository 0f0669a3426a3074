"""The compiled kernels (``workbench/native/_kernels.c``), loaded with :mod:`ctypes`, and their
boundary.

``pip install`` compiles the C file into the extension ``workbench.native._kernels`` (setuptools,
with the machine's C compiler).  Its functions release the GIL while they run (ctypes does), so
several threads can run them at once on disjoint work.

The boundary: the kernels read their input columns through the Arrow C data interface
(https://arrow.apache.org/docs/format/CDataInterface.html).  Each Arrow chunk of a column is
exported by pyarrow, without copying, into a ``struct ArrowSchema`` / ``struct ArrowArray`` pair
(:class:`ArrowChunk`): customer ids as Polars' string views (format ``"vu"``: validity, views,
the data buffers, and last the data buffers' sizes), days and periods as ``"i"``/``"tdD"``,
money as ``"g"``, precomputed hashes as ``"l"``/``"L"``.  The C code checks the format, the
buffer count, the offset and length, that there are no nulls, and every string view it reads
(inline, or buffer index < number of data buffers and offset + length <= that buffer's size),
and every index into its work arrays; a failed check returns an error code, which
:func:`check` raises as :class:`KernelInputError` naming the column, chunk and row.  The
structs are released (their ``release`` callback called, :meth:`ArrowChunk.release`) when the
``with`` block of :func:`export_column` ends.  Work arrays the kernels fill (partitioned rows,
results) stay NumPy arrays passed by address with their lengths.

When the library is missing (a source checkout that was never installed, or a platform without
a compiler: the build is optional, so the install still succeeds) or was built from an older
``_kernels.c`` (its ``wb_abi_version`` differs), :data:`LIBRARY` is ``None`` and callers use
their pure Polars / NumPy paths, which give the same results more slowly.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from ctypes import c_char_p, c_int, c_int64, c_void_p
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:  # pyarrow loads ~25 MiB of libraries: imported where used, so a
    # dashboard kernel that reads its results from the cache never loads it
    import pyarrow as pa

_P, _I64, _INT = c_void_p, c_int64, c_int
_ABI_VERSION = 4  # WB_ABI_VERSION in _kernels.c

_SIGNATURES = {
    "wb_histogram_ids": (_INT, [_P, _I64, _INT, _I64, _P, _P]),
    "wb_scatter_ids": (_INT, [_P, _I64, _I64, _P, _P, _P, _P, _INT, _I64, _P, _P, _P, _I64, _P]),
    "wb_histogram": (_INT, [_P, _I64, _INT, _I64, _P, _P]),
    "wb_scatter": (_INT, [_P, _P, _I64, _I64, _P, _P, _P, _P, _INT, _I64, _P, _P, _P, _I64, _P]),
    "wb_aggregate": (_INT, [_P, _P, _P, _I64, _I64, _I64, _I64, _I64, _P, _P, _P, _P, _P, _P, _P]),
    "wb_count_first": (_INT, [_P, _I64, _I64, _I64, _P, _P]),
    "wb_first_rows": (_INT, [_I64, _I64, _I64, _P, _I64, _P, _I64, _P]),
    "wb_gather_results": (
        _INT,
        [_P, _P, _P, _I64, _P, _I64, _P, _I64, _I64, _P, _P, _P, _P, _P, _P, _P],
    ),
    "wb_view_prefix": (_INT, [_P, _I64, _P, _P, _P]),
    "wb_radix_argsort": (_INT, [_P, _I64, _P]),
    "wb_release": (None, [_P, _P]),
}


def _load() -> ctypes.CDLL | None:
    override = os.environ.get("WORKBENCH_KERNELS_LIBRARY")  # e.g. an AddressSanitizer build
    if override:
        library, path = ctypes.CDLL(override), override
    else:
        try:
            from workbench.native import _kernels
        except ImportError:
            return None
        library, path = ctypes.CDLL(_kernels.__file__), _kernels.__file__
    version = getattr(library, "wb_abi_version", None)
    if (
        version is None
        or version() != _ABI_VERSION
        or not all(hasattr(library, name) for name in _SIGNATURES)
    ):
        warnings.warn(
            f"{path} was built from another version of workbench/native/_kernels.c; "
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


# ---- The Arrow C data interface ---------------------------------------------------------------


class ArrowSchema(ctypes.Structure):
    """``struct ArrowSchema`` of the Arrow C data interface."""

    _fields_ = [
        ("format", c_char_p),
        ("name", c_char_p),
        ("metadata", c_char_p),
        ("flags", c_int64),
        ("n_children", c_int64),
        ("children", c_void_p),
        ("dictionary", c_void_p),
        ("release", c_void_p),
        ("private_data", c_void_p),
    ]


class ArrowArray(ctypes.Structure):
    """``struct ArrowArray`` of the Arrow C data interface."""

    _fields_ = [
        ("length", c_int64),
        ("null_count", c_int64),
        ("offset", c_int64),
        ("n_buffers", c_int64),
        ("n_children", c_int64),
        ("buffers", c_void_p),
        ("children", c_void_p),
        ("dictionary", c_void_p),
        ("release", c_void_p),
        ("private_data", c_void_p),
    ]


class Column(ctypes.Structure):
    """A column piece as the kernels take it (``Column`` in ``_kernels.c``): an exported chunk
    and the piece's first row within it."""

    _fields_ = [("schema", c_void_p), ("array", c_void_p), ("lo", c_int64)]


class KernelInputError(ValueError):
    """An Arrow array the compiled kernels refuse (malformed, or not of the expected type)."""


#: Error codes of ``_kernels.c`` (``WB_E_*``) and their messages; ``row``, ``a``, ``b``, ``c``
#: are the details the kernel reports in ``where``.
ERRORS = {
    1: "the Arrow array is NULL or was already released",
    2: "Arrow format {format!r} where {expected} was expected",
    3: "malformed Arrow array: {a} buffers where {b} were expected, or children, a "
    "dictionary or a missing buffer",
    4: "the Arrow array has nulls (null count {a})",
    5: "rows {row}..{end} asked for, outside the array (length {b}, offset {c})",
    6: "string view with negative length {a}",
    7: "string view points at data buffer {a}, but the array has {b} data buffers",
    8: "string view points past the end of its data buffer {a} (needs bytes up to {b}, the "
    "buffer holds {c})",
    9: "variadic data buffer {a} has negative size {b}",
    10: "index {a} out of range 0..{b} in the kernel's work arrays",
    11: "out of memory",
}
_EXPECTED = {
    0: "'vu' (string views)",
    1: "'i' or 'tdD' (int32)",
    2: "'i' or 'tdD' (int32)",
    3: "'g' (float64)",
    4: "'g' (float64)",
    5: "'l' or 'L' (64-bit hashes)",
}
_COLUMNS = ("ids", "day", "period", "amount", "profit", "second hash", "work arrays")


@dataclass
class ArrowChunk:
    """One Arrow chunk of a column exported through the C data interface (zero-copy).

    ``row0`` is the chunk's first row in the column; ``owner`` keeps the Arrow memory alive
    while the structs are in use; :meth:`release` calls their ``release`` callbacks (once).
    """

    owner: pa.Array
    row0: int
    schema: ArrowSchema = field(default_factory=ArrowSchema)
    array: ArrowArray = field(default_factory=ArrowArray)

    def __post_init__(self) -> None:
        self.owner._export_to_c(ctypes.addressof(self.array), ctypes.addressof(self.schema))
        self.rows = int(self.array.length)
        self.format = (self.schema.format or b"").decode("utf-8", "replace")

    def piece(self, lo: int) -> Column:
        """The kernels' view of this chunk from its row ``lo`` on."""
        return Column(ctypes.addressof(self.schema), ctypes.addressof(self.array), lo)

    def release(self) -> None:
        """Release the exported structs (a second call does nothing)."""
        if LIBRARY is not None:
            LIBRARY.wb_release(ctypes.addressof(self.schema), ctypes.addressof(self.array))


_ARROW_TYPES = {  # NumPy dtype -> name of the pyarrow type factory
    np.dtype(np.int32): "int32",
    np.dtype(np.int64): "int64",
    np.dtype(np.uint64): "uint64",
    np.dtype(np.float64): "float64",
}


def numpy_to_arrow(values: np.ndarray) -> pa.Array:
    """A 1-d NumPy array of int32, int64, uint64 or float64 as an Arrow array on the same memory.

    (``pyarrow.Array.from_buffers``: unlike ``pyarrow.array`` it does not import pandas.)

    Examples
    --------
    >>> numpy_to_arrow(np.array([1.5, 2.0])).to_pylist()
    [1.5, 2.0]
    """
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    if values.ndim != 1 or values.dtype not in _ARROW_TYPES:
        raise TypeError(
            f"numpy_to_arrow takes 1-d {list(map(str, _ARROW_TYPES))}, "
            f"not {values.ndim}-d {values.dtype}"
        )
    return pa.Array.from_buffers(
        getattr(pa, _ARROW_TYPES[values.dtype])(), values.shape[0], [None, pa.py_buffer(values)]
    )


def arrow_chunks(values: pl.Series | pa.Array | pa.ChunkedArray | np.ndarray) -> list[pa.Array]:
    """The Arrow chunks of a column, without copying (NumPy arrays must be contiguous).

    A String Series gives string views (Polars' own layout, ``CompatLevel.newest()``).

    Examples
    --------
    >>> [str(a.type) for a in arrow_chunks(pl.Series(["a", "b"]))]
    ['string_view']
    """
    import pyarrow as pa

    if isinstance(values, np.ndarray):
        return [numpy_to_arrow(values)]
    if isinstance(values, pa.Array):
        return [values]
    if isinstance(values, pa.ChunkedArray):
        return list(values.chunks)
    chunks: list[pa.Array] = []
    for part in values.get_chunks():
        array = part.to_arrow(compat_level=pl.CompatLevel.newest())
        chunks.extend(array.chunks if isinstance(array, pa.ChunkedArray) else [array])
    return chunks


@contextlib.contextmanager
def export_column(chunks: list[pa.Array]) -> Iterator[list[ArrowChunk]]:
    """Export each chunk through the C data interface; release them all when the block ends.

    Examples
    --------
    >>> with export_column(arrow_chunks(pl.Series(["a", "b"]))) as exported:
    ...     [(c.format, c.rows, c.row0) for c in exported]
    [('vu', 2, 0)]
    """
    exported: list[ArrowChunk] = []
    try:
        row0 = 0
        for array in chunks:
            exported.append(ArrowChunk(array, row0))
            row0 += exported[-1].rows
        yield exported
    finally:
        for chunk in exported:
            chunk.release()


def chunk_at(chunks: list[ArrowChunk], row: int) -> ArrowChunk:
    """The chunk holding ``row`` of the column (chunks in row order)."""
    for chunk in reversed(chunks):
        if chunk.row0 <= row:
            return chunk
    raise IndexError(row)


def check(
    code: int,
    where: np.ndarray,
    pieces: dict[int, ArrowChunk] | None = None,
    names: dict[int, str] | None = None,
    expected: dict[int, str] | None = None,
) -> None:
    """Raise :class:`KernelInputError` for a kernel's error ``code`` (0: nothing to say).

    ``where`` is the kernel's ``{column, row, a, b, c}`` (row within the chunk); ``pieces``
    maps column numbers to the chunk the call read (for the row in the whole column and the
    format), ``names`` to the caller's column names, ``expected`` to the formats wanted.

    Examples
    --------
    >>> try:
    ...     check(7, np.array([0, 3, 2, 1, 0]), names={0: "customer_id"})
    ... except KernelInputError as error:
    ...     print(error)
    compiled kernel, column 'customer_id', row 3: string view points at data buffer 2,
    but the array has 1 data buffers
    """
    if code == 0:
        return
    column, row, a, b, c = (int(x) for x in where[:5])
    chunk = (pieces or {}).get(column)
    name = (names or {}).get(column) or (
        _COLUMNS[column] if 0 <= column < len(_COLUMNS) else f"column {column}"
    )
    detail = ERRORS.get(code, "error code {code}").format(
        format=chunk.format if chunk else "?",
        expected={**_EXPECTED, **(expected or {})}.get(column, "another format"),
        row=row,
        end=row + a,
        a=a,
        b=b,
        c=c,
        code=code,
    )
    if column == _COLUMNS.index("work arrays"):
        raise KernelInputError(f"compiled kernel: {detail}")
    at = f", row {row + chunk.row0}" if chunk is not None and code in (6, 7, 8) else ""
    at = at or (f", row {row}" if chunk is None and code in (6, 7, 8) else "")
    raise KernelInputError(f"compiled kernel, column {name!r}{at}: {detail}")


def string_view_chunks(strings: pl.Series) -> list[pa.Array] | None:
    """The Arrow chunks of a String column when they are string views, else None.

    Examples
    --------
    >>> [len(c) for c in string_view_chunks(pl.Series(["a", "a long customer id"]))]
    [2]
    """
    if strings.dtype != pl.String:
        return None
    import pyarrow as pa

    chunks = arrow_chunks(strings)
    return chunks if all(c.type == pa.string_view() for c in chunks) else None


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
