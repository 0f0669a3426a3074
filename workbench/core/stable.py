"""Float sums and means that do not depend on row order or thread count.

Floating-point addition is not associative: ``(a + b) + c`` and ``a + (b + c)`` can differ in the
last bit.  Polars adds a group's values in an order that depends on the input row order and, in
a ``group_by``, on how the rows were split between threads (``POLARS_MAX_THREADS``), so a plain
``pl.col(x).sum()`` can differ in its last bits between two runs on the same data.  The
workbench promises the same output bit for bit for the same input.

The expressions here first put the values in one canonical order, ascending, and then add them:
the sorted sequence depends only on the multiset of values, and Polars adds one contiguous
sequence in a fixed order (pairwise in blocks of 128 whose boundaries depend only on its
length: ``polars-compute``, ``float_sum.rs``), so the result is the same for any input order
and any number of threads (checked on 1, 4 and 8 threads by ``tests/test_determinism.py``).
The value differs from an unsorted sum only by float rounding.  Money columns that the customer
summary builds are summed exactly in minor units instead (:mod:`workbench.core.money`); these
helpers are for the sums and means of derived floats (spend per customer, predictions,
durations in weeks...).

The same rule applies to row order: a table sorted by a value sorts by every key column after
it, down to the segment or customer id, so that ties come out in one order.
"""

from __future__ import annotations

import polars as pl


def _expr(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def stable_sum(column: str | pl.Expr) -> pl.Expr:
    """Sum of ``column`` with its values sorted first: the same bits for any row order.

    Use it like ``pl.col(x).sum()``, in ``select``, ``with_columns`` or a ``group_by().agg``
    (where it sorts each group's values).  Nulls are skipped, as by ``sum``; an empty or all-null
    group gives 0.

    Examples
    --------
    >>> import polars as pl
    >>> xs = [0.1, 1e16, 0.3, -1e16, 0.2]
    >>> a = pl.DataFrame({"x": xs}).select(stable_sum("x")).item()
    >>> b = pl.DataFrame({"x": xs[::-1]}).select(stable_sum("x")).item()
    >>> a == b
    True
    >>> pl.DataFrame({"g": [1, 1, 2], "x": [0.5, None, 2.0]}).group_by("g").agg(
    ...     stable_sum("x")).sort("g")["x"].to_list()
    [0.5, 2.0]
    """
    return _expr(column).sort().sum()


def stable_mean(column: str | pl.Expr) -> pl.Expr:
    """Mean of ``column`` as :func:`stable_sum` over the count of non-null values.

    Like ``pl.col(x).mean()``: nulls are skipped and an empty or all-null group gives null; the
    result is Float64.
    For integer columns whose sum stays below 2**53 the result equals ``mean()`` exactly.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"g": ["a", "a", "b"], "x": [1.0, 2.0, None]})
    >>> df.group_by("g").agg(stable_mean("x")).sort("g").rows()
    [('a', 1.5), ('b', None)]
    >>> pl.DataFrame({"x": [1, 2, 2]}).select(stable_mean("x")).item() == 5 / 3
    True
    """
    e = _expr(column)
    n = e.count()
    return pl.when(n > 0).then(e.sort().sum().cast(pl.Float64) / n)

