"""Exact money sums: amounts become whole numbers of minor units before they are added.

Floating-point addition is not associative, so a sum of currency amounts taken in another order
(another thread count, another code path, shuffled input rows) can differ in the last bits, and a
customer exactly at an RFM quantile edge then changes score.  The workbench therefore adds money
as **integers**:

1. the *scale* of a set of money columns is a number of decimals ``s`` at which every value is a
   whole number of ``10**-s`` units: 2 (cents, which also covers whole yen) when that fits,
   else the smallest of 3 to :data:`MAX_DECIMALS` that does (a price list in tenths of a cent
   needs 3).  A value counts as whole when it lies within a few units in the last place of a
   whole number (``19.99 * 100`` is ``1998.9999999999998`` in binary floating point: 1999
   units);
2. each value is turned into its count of minor units, ``round(x * 10**s)``, held as a Float64
   that is a whole number;
3. sums of such whole numbers are exact, and therefore the same in any order, as long as every
   partial sum stays below ``2**53`` in magnitude; this is checked once per table (the sum of the
   absolute values of the units bounds every partial sum);
4. a sum is turned back into currency by one division by ``10**s``, which rounds the exact decimal
   sum to the nearest Float64: the result does not depend on ``s``, the order of the rows, the
   number of threads or the code path.

Amounts with more than :data:`MAX_DECIMALS` decimals are refused with a
:class:`~workbench.errors.DataValidationError` naming the rows (round them in the export):
summing them exactly would need a guess at the intended precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NoReturn, cast

import polars as pl

from workbench.errors import DataValidationError

#: Most decimals a money value may have (micro-units of the currency).
MAX_DECIMALS: Final = 6
#: Largest magnitude below which every whole Float64 is exact (2**53).
EXACT_LIMIT: Final = float(2**53)
_ABS_TOLERANCE: Final = 1e-6
_REL_TOLERANCE: Final = 1e-15


def _whole_at(expr: pl.Expr, scale: int) -> pl.Expr:
    """True where ``expr * 10**scale`` is a whole number up to rounding of the binary value."""
    v = expr * (10.0**scale)
    return (v - v.round()).abs() <= _ABS_TOLERANCE + v.abs() * _REL_TOLERANCE


#: Scales tried in turn: cents first (one pass over the data in the usual case).
_SCALES: Final = (2, *range(3, MAX_DECIMALS + 1))


def money_scale(frame: pl.DataFrame, columns: Sequence[str]) -> int | None:
    """Decimals at which every value of ``columns`` is whole (2 when cents fit), or ``None``.

    Nulls are ignored.  ``None`` means some value has more than :data:`MAX_DECIMALS` decimals.
    Any such scale gives the same sums (:func:`from_minor_units`); 2 is tried first because it
    fits most data, so the usual case reads the data once.

    Examples
    --------
    >>> import polars as pl
    >>> money_scale(pl.DataFrame({"amount": [19.99, 5.0, -0.5]}), ["amount"])
    2
    >>> money_scale(pl.DataFrame({"amount": [0.125, 20.0]}), ["amount"])
    3
    >>> money_scale(pl.DataFrame({"amount": [1 / 3]}), ["amount"]) is None
    True
    """
    if not columns or frame.height == 0:
        return 2
    for scale in _SCALES:
        ok = frame.select(
            pl.all_horizontal(_whole_at(pl.col(c), scale).fill_null(True).all() for c in columns)
        ).item()
        if ok:
            return scale
    return None


def to_minor_units(
    frame: pl.DataFrame,
    columns: Sequence[str],
    *,
    source: str = "transactions",
    scale: int | None = None,
) -> tuple[pl.DataFrame, int]:
    """Replace money ``columns`` by whole numbers of minor units (Float64); return the scale.

    Parameters
    ----------
    frame
        A table with Float64 money columns (nulls allowed and kept).
    columns
        The money columns to convert; all get the same scale.
    source
        Name of the table in error messages.
    scale
        Use this number of decimals instead of finding the smallest one that fits.

    Returns
    -------
    frame : polars.DataFrame
        ``columns`` hold ``round(value * 10**scale)``.
    scale : int
        Decimals of the minor unit: divide a sum of units by ``10**scale`` to get currency.

    Raises
    ------
    DataValidationError
        A value has more than :data:`MAX_DECIMALS` decimals, is not finite, or the values are
        too large for every sum to be exact (the absolute units add up to ``2**53`` or more).

    Examples
    --------
    >>> import polars as pl
    >>> units, scale = to_minor_units(pl.DataFrame({"amount": [19.99, 0.01]}), ["amount"])
    >>> units["amount"].to_list(), scale
    ([1999.0, 1.0], 2)
    """
    columns = [c for c in columns if c in frame.columns]
    for col in columns:
        bad = ~frame[col].is_finite().fill_null(True)
        if bad.any():
            _refuse(frame, bad, source, col, "not a finite number (NaN or infinity)")
    if scale is None:
        scale = money_scale(frame, columns)
    if scale is None:
        for col in columns:
            bad = ~frame.select(_whole_at(pl.col(col), MAX_DECIMALS).fill_null(True)).to_series()
            if bad.any():
                _refuse(
                    frame,
                    bad,
                    source,
                    col,
                    f"more than {MAX_DECIMALS} decimal places: money is summed exactly in "
                    "minor units; round the column (e.g. to cents) in the export",
                )
        # money_scale gives None only when some value is not whole at MAX_DECIMALS, and the loop
        # above has just refused that value
        assert scale is not None
    factor = 10.0**scale
    out = frame.with_columns((pl.col(c) * factor).round().alias(c) for c in columns)
    for col in columns:
        total = cast(float, out[col].abs().sum())  # a Float64 column (x * 10.0**s): a float
        if total >= EXACT_LIMIT:
            raise DataValidationError(
                source,
                col,
                f"values too large to sum exactly: the absolute amounts add up to "
                f"{total / factor:.3g}, above {EXACT_LIMIT / factor:.3g} at {scale} decimals",
            )
    return out, scale


def from_minor_units(expr: pl.Expr, scale: int) -> pl.Expr:
    """Currency from a sum of minor units: one correctly rounded division by ``10**scale``.

    Polars divides a column by a literal as a multiplication with the literal's reciprocal
    (pola-rs/polars#23741), one unit in the last place off for some values
    (``16489 * 0.01 == 164.89000000000001``); the divisor is therefore written as an expression
    of the same length as ``expr`` (``expr * 0 + 10**scale``: the units are finite), which
    Polars divides element by element, as IEEE 754 division rounds: the nearest Float64 to the
    exact decimal value.  The engines (:func:`workbench.engines.rules.from_units`) divide the
    same way, so every code path gives the same bits.

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(from_minor_units(pl.lit(1999.0) + 1.0, 2)).item()
    20.0
    >>> pl.DataFrame({"units": [16489.0, 1095.0]}).select(
    ...     from_minor_units(pl.col("units"), 2))["units"].to_list()
    [164.89, 10.95]
    """
    return expr / (expr * 0.0 + 10.0**scale)


def _refuse(
    frame: pl.DataFrame, mask: pl.Series, source: str, col: str, problem: str
) -> NoReturn:
    bad = frame.filter(mask)
    rows = bad["source_row"].head(5).to_list() if "source_row" in bad.columns else []
    values = bad[col].head(5).to_list() if rows else []
    raise DataValidationError(source, col, problem, rows, values, bad.height)
