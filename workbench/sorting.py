"""Sorting customer ids fast: byte order of short strings through 64-bit integer keys.

Sorting millions of ids that share a prefix (``C0000001``, ``C0000002``, ...) by string
comparison is slow: every comparison walks the common prefix.  Ids of at most 8 bytes (most
customer numbers) are instead read as one big-endian unsigned 64-bit integer each, straight from
the Arrow string views Polars holds them in, and sorted by a radix sort
(:func:`workbench.kernels.radix_argsort`).  Longer ids, or ids with a zero byte, use Polars' own
string sort.  Both give byte order, the order of ``DataFrame.sort`` on a String column.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from workbench.kernels import LIBRARY, radix_argsort, string_chunks


def _view_prefixes(ids: pl.Series) -> np.ndarray | None:
    """First 8 bytes of each id as a big-endian integer, or None if an id does not fit."""
    chunks = string_chunks(ids) if LIBRARY is not None else None
    if chunks is None:
        return None
    keys = np.empty(len(ids), dtype=np.uint64)
    for c in chunks:
        out = keys.ctypes.data + 8 * c.row0
        if LIBRARY.wb_view_prefix(c.views.ctypes.data, c.rows, out) != 0:
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
