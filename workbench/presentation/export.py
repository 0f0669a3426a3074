"""Every result frame one call away from a file: :func:`to_file` (CSV or Parquet by suffix).

Files are written deterministically: the same frame gives the same bytes (Parquet without
statistics that vary, CSV with fixed float and date formats), so that re-running a report on
the same data gives byte-identical exports.

Examples
--------
>>> import polars as pl
>>> from workbench.presentation.export import to_file
>>> to_file(pl.DataFrame({"a": [1, 2]}), "/tmp/wb-export-demo/a.csv").name
'a.csv'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl

#: Suffixes :func:`to_file` writes, and the format of each.
FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _as_frame(frame: Any) -> pl.DataFrame:
    """A Polars DataFrame from a DataFrame, a LazyFrame, or anything ``pl.DataFrame`` takes."""
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    to_polars = getattr(frame, "to_polars", None)  # narwhals and others
    if callable(to_polars):
        return to_polars()
    return pl.DataFrame(frame)


def to_file(frame: Any, path: str | os.PathLike[str], *, sort_by: str | None = None) -> Path:
    """Write ``frame`` to ``path``: CSV for ``.csv``, Parquet for ``.parquet``/``.pq``.

    Parent folders are created.

    Parameters
    ----------
    frame
        A Polars DataFrame or LazyFrame (collected), or anything ``pl.DataFrame`` accepts
        (a dict of columns, a pandas frame).
    path
        Target file; its suffix chooses the format.
    sort_by
        Sort by this column first (for a stable row order from an unordered group-by).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        For another suffix.

    Examples
    --------
    >>> import polars as pl
    >>> p = to_file(pl.DataFrame({"x": [2, 1]}), "/tmp/wb-export-demo/x.parquet", sort_by="x")
    >>> pl.read_parquet(p)["x"].to_list()
    [1, 2]
    >>> to_file(pl.DataFrame({"x": [1]}), "x.xlsx")
    Traceback (most recent call last):
    ...
    ValueError: x.xlsx: write .csv, .parquet or .pq (got '.xlsx')
    """
    target = Path(path)
    kind = FORMATS.get(target.suffix.lower())
    if kind is None:
        allowed = ", ".join(FORMATS)
        allowed = allowed.rsplit(", ", 1)[0] + " or " + allowed.rsplit(", ", 1)[1]
        raise ValueError(f"{target.name}: write {allowed} (got {target.suffix!r})")
    data = _as_frame(frame)
    if sort_by is not None:
        data = data.sort(sort_by, maintain_order=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        data.write_csv(target, date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M:%S")
    else:
        data.write_parquet(target, statistics=False, compression="zstd")
    return target
