"""Sorting customer ids fast: byte order of short strings through 64-bit integer keys.

Sorting millions of ids that share a prefix (``C0000001``, ``C0000002``, ...) by string
comparison is slow: every comparison walks the common prefix.  Ids of at most 8 bytes (most
customer numbers) are instead read as one big-endian unsigned 64-bit integer each, straight from
the Arrow string views Polars holds them in (exported chunk by chunk through the Arrow C data
interface, zero-copy; the kernel checks the format, length, offset, nulls and every view it
reads, :mod:`workbench.native.kernels`), and sorted by a radix sort
(:func:`workbench.native.kernels.radix_argsort`).  Longer ids, or ids with a zero byte, use Polars'
own string sort.  Both give byte order, the order of ``DataFrame.sort`` on a String column.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:  # pyarrow loads ~25 MiB of libraries; imported where used
    import pyarrow as pa

from workbench.native.kernels import (
    LIBRARY,
    arrow_chunks,
    check,
    export_column,
    radix_argsort,
    string_view_chunks,
)


def _view_prefixes(ids: pl.Series | pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """First 8 bytes of each id as a big-endian integer, or None if an id does not fit.

    ``ids``: a String Series, or Arrow string views (checked by the kernel: a malformed array
    raises :class:`workbench.native.kernels.KernelInputError`).
    """
    if LIBRARY is None:
        return None
    chunks = string_view_chunks(ids) if isinstance(ids, pl.Series) else arrow_chunks(ids)
    if chunks is None:
        return None
    keys = np.empty(sum(len(c) for c in chunks), dtype=np.uint64)
    fits, where = ctypes.c_int(0), np.zeros(5, dtype=np.int64)
    with export_column(chunks) as exported:
        for c in exported:
            column = c.piece(0)
            code = LIBRARY.wb_view_prefix(
                ctypes.addressof(column),
                c.rows,
                keys.ctypes.data + 8 * c.row0,
                ctypes.addressof(fits),
                where.ctypes.data,
            )
            check(code, where, {0: c}, {0: getattr(ids, "name", None) or "ids"})
            if not fits.value:
                return None
    return keys


def string_order(ids: pl.Series) -> np.ndarray:
    """The permutation that sorts ``ids`` (String, no nulls) in byte order, stably.

    Examples
    --------
    >>> string_order(pl.Series(["b", "a10", "a", "a9"])).tolist()
    [2, 1, 3, 0]
    """
    if ids.dtype == pl.String and not ids.null_count():
        keys = _view_prefixes(ids)
        if keys is not None:
            return radix_argsort(keys)
    frame = ids.to_frame("id").with_row_index("i")
    return frame.sort("id", maintain_order=True)["i"].cast(pl.Int64).to_numpy()
