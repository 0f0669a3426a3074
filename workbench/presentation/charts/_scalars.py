"""Typed access to the scalars the chart functions read off their (small) frames."""

from __future__ import annotations

from typing import cast

import polars as pl


def column_max(values: pl.Series) -> float | None:
    """Largest value of an integer or float column; ``None`` when it is empty or all null.

    Returns exactly what :meth:`polars.Series.max` returns (an ``int`` for an integer column, a
    ``float`` for a float one): Polars types that method as any Python scalar, whatever the
    column's type, so this only states the numeric type to the type checker.

    Examples
    --------
    >>> column_max(pl.Series("customers", [3, 7, None]))
    7
    >>> column_max(pl.Series("share", [0.25, 0.5]))
    0.5
    >>> column_max(pl.Series("share", [], dtype=pl.Float64)) is None
    True
    """
    return cast("float | None", values.max())
