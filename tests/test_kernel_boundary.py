"""The Arrow boundary of the compiled kernels: malformed arrays get a clear error, never a read.

The kernels take their columns through the Arrow C data interface (``workbench/native/kernels.py``).
Each test hands the C code an array that is wrong in one way (a view past its buffer, a buffer
index out of range, a wrong format, nulls, a released or tampered struct, corrupt work arrays)
and checks the exception names the problem and the row; a sliced array (an offset) must give
the result of its unsliced copy.  ``scripts/asan_kernels.sh`` runs this file against an
AddressSanitizer build, where any read outside a buffer would abort the run.
"""

from __future__ import annotations

import ctypes

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from workbench.native import kernels, sorting
from workbench.native.customer_scan import scan_customers
from workbench.native.kernels import KernelInputError, arrow_chunks, export_column

pytestmark = pytest.mark.skipif(kernels.LIBRARY is None, reason="compiled kernels not built")

LONG = b"a-long-customer-id-1"  # 20 bytes: stored out of line (more than 12)


def _view(data: bytes, buffer: int = 0, offset: int = 0, length: int | None = None) -> bytes:
    """One 16-byte Arrow string view: inline (<= 12 bytes) or pointing into a data buffer."""
    n = len(data) if length is None else length
    if n <= 12:
        return n.to_bytes(4, "little", signed=True) + data.ljust(12, b"\0")
    return (
        n.to_bytes(4, "little", signed=True)
        + data[:4]
        + buffer.to_bytes(4, "little", signed=True)
        + offset.to_bytes(4, "little", signed=True)
    )


def _views(views: list[bytes], data: list[bytes]) -> pa.Array:
    """A string-view array from raw views and data buffers, not validated by pyarrow."""
    buffers = [None, pa.py_buffer(b"".join(views)), *(pa.py_buffer(d) for d in data)]
    return pa.Array.from_buffers(pa.string_view(), len(views), buffers)


def _scan(ids) -> dict[str, list]:
    n = len(ids)
    scan = scan_customers(ids, np.arange(n), np.ones(n))
    return {k: v.tolist() for k, v in scan.values().items()}


def test_a_view_past_the_end_of_its_buffer_is_refused():
    # row 1 claims 20 bytes at offset 0 of a 10-byte buffer
    ids = _views([_view(b"a"), _view(LONG, 0, 0)], [LONG[:10]])
    with pytest.raises(
        KernelInputError,
        match=r"row 1: string view points past the end of its "
        r"data buffer 0 \(needs bytes up to 20, the buffer holds 10\)",
    ):
        _scan(ids)
    with pytest.raises(KernelInputError, match="past the end of its data buffer 0"):
        sorting._view_prefixes(ids)


def test_a_view_whose_offset_runs_past_the_buffer_is_refused():
    ids = _views([_view(LONG, 0, 0), _view(LONG, 0, 5)], [LONG])  # bytes 5..25 of 20
    with pytest.raises(
        KernelInputError,
        match=r"row 1: .*needs bytes up to 25, the buffer "
        r"holds 20",
    ):
        _scan(ids)


def test_a_buffer_index_out_of_range_is_refused():
    ids = _views([_view(LONG, 0, 0), _view(b"b"), _view(LONG, 3, 0)], [LONG])
    with pytest.raises(
        KernelInputError,
        match=r"row 2: string view points at data buffer 3, "
        r"but the array has 1 data buffers",
    ):
        _scan(ids)
    negative = _views([_view(LONG, -1, 0)], [LONG])
    with pytest.raises(KernelInputError, match="data buffer -1"):
        sorting._view_prefixes(negative)


def test_a_negative_view_length_is_refused():
    ids = _views([_view(b"a"), _view(b"", length=-5)], [])
    with pytest.raises(KernelInputError, match="row 1: string view with negative length -5"):
        _scan(ids)


def test_a_wrong_format_is_refused():
    with pytest.raises(
        KernelInputError,
        match=r"format 'U' where 'vu' \(string views\) was "
        r"expected",
    ):
        _scan(pa.array(["a", "b"], pa.large_string()))
    with pytest.raises(KernelInputError, match="format 'l' where 'vu'"):
        sorting._view_prefixes(pa.array([1, 2], pa.int64()))


def test_nulls_are_refused():
    with pytest.raises(KernelInputError, match=r"has nulls \(null count 1\)"):
        _scan(pa.array(["a", None, "b"], pa.string_view()))


def test_a_sliced_array_reads_from_its_offset():
    """Rows 1..4 of a longer array (offset 1 in the C struct) are those four rows: customer
    LONG on rows 0 and 2 (periods 0 and 2), "b" on rows 1 and 3, each two purchases."""
    full = pa.array(["x", LONG.decode(), "b", LONG.decode(), "b", "c"], pa.string_view())
    sliced = full.slice(1, 4)
    with export_column([sliced]) as (chunk,):
        assert chunk.array.offset == 1 and chunk.rows == 4
    assert _scan(sliced) == {
        "n_purchases": [2, 2],
        "total": [2.0, 2.0],
        "first_value": [1.0, 1.0],
        "first_day": [0, 1],
        "last_day": [2, 3],
    }
    assert _scan(sliced) == _scan(pa.array(sliced.to_pylist(), pa.string_view()))
    short = pa.array(["b", "a9", "a", "a10", "c"], pa.string_view()).slice(1, 3)
    assert sorting._view_prefixes(short).tolist() == [
        int.from_bytes(s.ljust(8, b"\0"), "big") for s in (b"a9", b"a", b"a10")
    ]


def _prefix(chunk: kernels.ArrowChunk, n: int | None = None, lo: int = 0) -> None:
    """Call wb_view_prefix on an exported chunk and raise its error."""
    column = chunk.piece(lo)
    out = np.zeros(max(chunk.rows, 1), dtype=np.uint64)
    fits, where = ctypes.c_int(0), np.zeros(5, dtype=np.int64)
    code = kernels.LIBRARY.wb_view_prefix(
        ctypes.addressof(column),
        chunk.rows if n is None else n,
        out.ctypes.data,
        ctypes.addressof(fits),
        where.ctypes.data,
    )
    kernels.check(code, where, {0: chunk})


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda a, s: setattr(a, "offset", -1), "outside the array"),
        (lambda a, s: setattr(a, "length", 2**62), "outside the array"),
        (lambda a, s: setattr(a, "null_count", 2), r"has nulls \(null count 2\)"),
        (lambda a, s: setattr(a, "n_buffers", 2), "2 buffers where 3 were expected"),
        (lambda a, s: setattr(s, "format", b"vz"), "format 'vz'"),
        (lambda a, s: setattr(s, "n_children", 1), "children"),
    ],
)
def test_tampered_structs_are_refused(tamper, message):
    with export_column(arrow_chunks(pl.Series(["a", LONG.decode()]))) as (chunk,):
        tamper(chunk.array, chunk.schema)
        chunk.format = (chunk.schema.format or b"").decode()
        with pytest.raises(KernelInputError, match=message):
            _prefix(chunk)
        chunk.schema.n_children = 0  # let pyarrow's release callback free what it exported


def test_rows_beyond_the_array_and_negative_buffer_sizes_are_refused():
    with export_column(arrow_chunks(pl.Series(["a", LONG.decode()]))) as (chunk,):
        with pytest.raises(
            KernelInputError,
            match=r"rows 1\.\.3 asked for, outside the array "
            r"\(length 2, offset 0\)",
        ):
            _prefix(chunk, n=2, lo=1)
        buffers = ctypes.cast(chunk.array.buffers, ctypes.POINTER(ctypes.c_void_p))
        sizes = ctypes.cast(buffers[chunk.array.n_buffers - 1], ctypes.POINTER(ctypes.c_int64))
        sizes[0] = -1  # the exporter's own copy of the sizes
        with pytest.raises(KernelInputError, match="data buffer 0 has negative size -1"):
            _prefix(chunk)


def test_a_released_struct_is_refused_and_release_frees_the_export():
    before = pa.total_allocated_bytes()
    array = pa.array([LONG.decode()] * 1000, pa.string_view())
    with export_column([array]) as (chunk,):
        assert chunk.array.release and chunk.schema.release
    assert not chunk.array.release and not chunk.schema.release  # released by the block
    chunk.release()  # a second release does nothing
    with pytest.raises(KernelInputError, match="NULL or was already released"):
        _prefix(chunk)
    del array, chunk
    assert pa.total_allocated_bytes() == before  # nothing kept alive by the export


def test_without_release_the_export_would_keep_the_memory():
    """The check above can fail: an export that is never released keeps its buffers."""
    before = pa.total_allocated_bytes()
    array = pa.array([LONG.decode()] * 1000, pa.string_view())
    chunk = kernels.ArrowChunk(array, 0)
    del array
    chunk.owner = None
    assert pa.total_allocated_bytes() > before
    chunk.release()
    assert pa.total_allocated_bytes() == before


def test_corrupt_work_arrays_are_refused():
    """An index read from the scan's own arrays is checked too (here: a result index)."""
    scan = scan_customers(pl.Series(["a", "b"]), np.array([1, 1]), np.ones(2))
    scan._at_first_row[:] = 10**6
    with pytest.raises(KernelInputError, match=r"index 1000000 out of range 0\.\.2"):
        scan.values()


def test_the_error_names_the_callers_column_and_row_in_the_whole_column():
    good = pa.array(["a", "b", "c"], pa.string_view())
    bad = _views([_view(b"d"), _view(LONG, 2, 0)], [LONG])
    ids = pa.chunked_array([good, bad])
    with pytest.raises(
        KernelInputError,
        match=r"column 'ids', row 4: string view points at "
        r"data buffer 2",
    ):
        _scan(ids)
