"""Read and validate the three input tables: transactions, customers, surveys.

The data contract is ``../shared/DOMAIN.md`` §1.  Readers accept CSV or Parquet, rename
columns on request, cast every known column to its canonical dtype and raise one
:class:`~workbench.errors.DataValidationError` per problem, naming the file, the column and the
first offending rows.  Input files are only read, never written.

Rules (documented here and in the README):

* Column names are stripped of surrounding white space; ``columns=`` maps other names to the
  canonical ones (``{"CustomerID": "customer_id"}``).
* Text cells are stripped; an empty cell is a missing value.
* Dates: ISO dates (``2024-03-01``), compact dates (``20240301``) and ISO date-times with or
  without a UTC offset (``2024-03-01T18:30:00+02:00``, ``...Z``).  Date-times with an offset
  (mixed time zones included) are converted to ``timezone`` (default UTC) before the calendar
  date is taken; naive date-times are taken as already in that zone.  ``date_format=`` forces one
  strptime format.
* Every returned frame carries ``source_row``: the 1-based data row of the file (the header is
  not counted), so that data-quality examples point back into the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

import polars as pl

from workbench import schema
from workbench.errors import DataValidationError
from workbench.kernels import text_needs_cleaning

SOURCE_ROW: Final = "source_row"
_MAX_EXAMPLES: Final = 5
_NUMERIC = (
    pl.Float64,
    pl.Float32,
    pl.Int64,
    pl.Int32,
    pl.Int16,
    pl.Int8,
    pl.UInt64,
    pl.UInt32,
    pl.UInt16,
    pl.UInt8,
    pl.Decimal,
)

PathLike = str | Path


def read_table(path: PathLike, dtypes: Mapping[str, pl.DataType] | None = None) -> pl.DataFrame:
    """Read a CSV (columns as text) or a Parquet file into a frame.

    Parameters
    ----------
    path
        ``.csv``/``.txt``/``.tsv`` or ``.parquet``/``.pq`` file.
    dtypes
        Optional fast path for CSV: numeric and date columns read directly with these dtypes
        (keys are the file's own column names).  If any cell does not parse, the file is read
        again as text so that validation can name the offending rows.

    Returns
    -------
    polars.DataFrame
        The raw table; CSV columns are all ``String`` so that validation can report bad cells.

    Examples
    --------
    >>> raw = read_table("sample_data/customers.csv")  # doctest: +SKIP
    """
    p = Path(path)
    if not p.exists():
        raise DataValidationError(str(p), None, "file not found")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(p)
        if suffix in (".csv", ".txt", ".tsv"):
            sep = "\t" if suffix == ".tsv" else ","
            typed = {c: d for c, d in (dtypes or {}).items() if d in (pl.Float64, pl.Date)}
            if typed:
                try:
                    return pl.read_csv(p, infer_schema=False, separator=sep, schema_overrides=typed)
                except pl.exceptions.PolarsError:
                    pass  # a cell does not parse: read as text and let validation say where
            return pl.read_csv(p, infer_schema=False, separator=sep)
    except pl.exceptions.PolarsError as exc:  # malformed file: say which one
        raise DataValidationError(str(p), None, f"cannot be read: {exc}") from exc
    raise DataValidationError(
        str(p), None, f"unsupported file type '{suffix}' (use CSV or Parquet)"
    )


def _frame_source(
    data: PathLike | pl.DataFrame,
    source: str | None,
    default: str,
    dtypes: Mapping[str, pl.DataType] | None = None,
) -> tuple[pl.DataFrame, str]:
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        return data, source or default
    return read_table(data, dtypes), source or str(data)


def _rows_where(df: pl.DataFrame, mask: pl.Series, column: str) -> tuple[list[int], list, int]:
    bad = df.filter(mask)
    head = bad.head(_MAX_EXAMPLES)
    return head[SOURCE_ROW].to_list(), head[column].to_list(), bad.height


def _fail(df: pl.DataFrame, mask: pl.Series, source: str, column: str, problem: str) -> None:
    if mask.any():
        rows, values, n = _rows_where(df, mask, column)
        raise DataValidationError(source, column, problem, rows, values, n)


def _clean_text(s: pl.Series) -> pl.Series:
    """Strip white space; empty text becomes null.  Clean columns are returned as they are."""
    s = s.cast(pl.String)
    if not text_needs_cleaning(s):
        return s
    s = s.str.strip_chars()
    return pl.select(pl.when(s != "").then(s)).to_series().alias(s.name)


def _to_float(df: pl.DataFrame, col: str, source: str) -> pl.Series:
    s = df[col]
    if s.dtype in _NUMERIC:
        return s.cast(pl.Float64)
    if s.dtype == pl.Boolean or s.dtype.is_temporal():
        raise DataValidationError(source, col, f"wrong type: expected a number, found {s.dtype}")
    text = _clean_text(s)
    out = text.cast(pl.Float64, strict=False)
    _fail(
        df.with_columns(text),
        out.is_null() & text.is_not_null(),
        source,
        col,
        "text in a numeric column",
    )
    return out


_NAIVE_FORMATS: Final = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M")
_AWARE_FORMATS: Final = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z")


def _parse_date_text(text: pl.Series, date_format: str | None, timezone: str) -> pl.Series:
    """Parse text dates to ``Date``; unparseable cells become null (the caller reports them)."""
    if date_format is not None:
        return text.str.to_datetime(date_format, strict=False).dt.date()
    out = text.str.to_date("%Y-%m-%d", strict=False)
    todo = out.is_null() & text.is_not_null()
    if not todo.any():
        return out
    norm = text.str.replace(" ", "T", literal=True).str.replace(r"Z$", "+00:00")
    candidates = [out, text.str.to_date("%Y%m%d", strict=False)]
    for fmt in _AWARE_FORMATS:
        aware = norm.str.to_datetime(fmt, strict=False, time_zone="UTC")
        candidates.append(aware.dt.convert_time_zone(timezone).dt.replace_time_zone(None).dt.date())
    for fmt in _NAIVE_FORMATS:
        candidates.append(norm.str.to_datetime(fmt, strict=False).dt.date())
    return pl.select(pl.coalesce(candidates)).to_series().alias(text.name)


def _to_date(
    df: pl.DataFrame, col: str, source: str, date_format: str | None, timezone: str
) -> pl.Series:
    s = df[col]
    if s.dtype == pl.Date:
        return s
    if isinstance(s.dtype, pl.Datetime):
        if s.dtype.time_zone is not None:
            s = s.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
        return s.dt.date()
    if s.dtype in _NUMERIC:  # 20240301 stored as a number
        s = s.cast(pl.Int64).cast(pl.String)
    elif s.dtype != pl.String:
        raise DataValidationError(source, col, f"wrong type: expected a date, found {s.dtype}")
    text = _clean_text(s)
    out = _parse_date_text(text, date_format, timezone)
    _fail(
        df.with_columns(text),
        out.is_null() & text.is_not_null(),
        source,
        col,
        "unparseable date (use YYYY-MM-DD, YYYYMMDD or ISO date-time, or pass date_format=)",
    )
    return out


def _coerce(
    data: PathLike | pl.DataFrame,
    source: str | None,
    table: str,
    required: Mapping[str, pl.DataType],
    optional: Mapping[str, pl.DataType],
    columns: Mapping[str, str] | None,
    date_format: str | None,
    timezone: str,
) -> tuple[pl.DataFrame, str]:
    fast = None
    if not isinstance(data, pl.DataFrame | pl.LazyFrame) and date_format is None:
        p = Path(data)
        if p.suffix.lower() in (".csv", ".txt", ".tsv") and p.exists():
            wanted = {**required, **optional}
            renames = dict(columns or {})
            sep = "\t" if p.suffix.lower() == ".tsv" else ","
            try:
                header = pl.read_csv(p, n_rows=0, separator=sep, infer_schema=False).columns
            except pl.exceptions.PolarsError:
                header = []  # read_table reports the problem
            fast = {
                h: wanted[renames.get(h.strip(), h.strip())]
                for h in header
                if renames.get(h.strip(), h.strip()) in wanted
            }
    df, src = _frame_source(data, source, f"<{table} frame>", fast)
    df = df.rename({c: c.strip() for c in df.columns if c != c.strip()})
    if columns:
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise DataValidationError(
                src, unknown[0], f"column to rename not found; columns are {df.columns}"
            )
        df = df.rename(dict(columns))
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataValidationError(
            src,
            missing[0],
            f"required column missing from the {table} table (found columns: "
            f"{', '.join(df.columns)}); rename with columns={{'your_name': '{missing[0]}'}}",
        )
    if SOURCE_ROW not in df.columns:
        df = df.with_row_index(SOURCE_ROW, offset=1)
    casts = []
    for col, dtype in {**required, **optional}.items():
        if col not in df.columns:
            continue
        if dtype == pl.String:
            casts.append(_clean_text(df[col]))
        elif dtype == pl.Float64:
            casts.append(_to_float(df, col, src))
        elif dtype == pl.Date:
            casts.append(_to_date(df, col, src, date_format, timezone))
    df = df.with_columns(casts)
    for col in required:
        what = "null ids" if col == schema.CUSTOMER_ID else "missing values in a required column"
        _fail(df, df[col].is_null(), src, col, what)
    return df, src


def _check_range(df: pl.DataFrame, src: str, col: str, lo: float, hi: float) -> None:
    if col in df.columns:
        s = df[col]
        _fail(
            df,
            s.is_not_null() & ((s < lo) | (s > hi)),
            src,
            col,
            f"value outside the allowed range {lo:g}-{hi:g}",
        )


def validate_transactions(
    data: PathLike | pl.DataFrame,
    *,
    source: str | None = None,
    columns: Mapping[str, str] | None = None,
    date_format: str | None = None,
    timezone: str = "UTC",
) -> pl.DataFrame:
    """Validate a transactions table and cast it to the canonical dtypes.

    Required: ``customer_id``, ``order_date``, ``amount``; optional: ``order_id``, ``margin``,
    ``cost``, ``channel``, ``category``, ``quantity`` (``DOMAIN.md`` §1).  Negative amounts
    (returns) are valid here; how they are used is :func:`workbench.prepare.prepare_orders`'s
    job.  Other columns are kept as they are.

    Parameters
    ----------
    data
        A path (CSV/Parquet) or a frame.
    source
        Name used in error messages (defaults to the path).
    columns
        Renames ``{your_name: canonical_name}`` applied before validation.
    date_format
        A strptime format forcing how ``order_date`` text is parsed.
    timezone
        Business time zone: offsets in date-times are converted to it before the date is taken.

    Returns
    -------
    polars.DataFrame
        Typed table with a ``source_row`` column.

    Raises
    ------
    DataValidationError
        Missing column, wrong type, text in a numeric column, null ids, unparseable dates.

    Examples
    --------
    >>> import polars as pl
    >>> tx = validate_transactions(pl.DataFrame({"customer_id": ["a"], "order_date": ["2024-01-02"],
    ...                                          "amount": ["9.5"]}))
    >>> tx["amount"].to_list()
    [9.5]
    """
    df, _ = _coerce(
        data,
        source,
        "transactions",
        schema.TRANSACTION_REQUIRED,
        schema.TRANSACTION_OPTIONAL,
        columns,
        date_format,
        timezone,
    )
    return df


def read_transactions(path: PathLike, **kwargs) -> pl.DataFrame:
    """Read and validate a transactions file (CSV or Parquet).

    Same keyword arguments as :func:`validate_transactions`.

    Examples
    --------
    >>> tx = read_transactions("sample_data/transactions.csv")  # doctest: +SKIP
    """
    return validate_transactions(path, **kwargs)


def _normalise_choice(
    df: pl.DataFrame, src: str, col: str, allowed: tuple[str, ...]
) -> pl.DataFrame:
    if col not in df.columns:
        return df
    lookup = {a.lower(): a for a in allowed}
    norm = df[col].str.to_lowercase().replace_strict(lookup, default=None)
    _fail(
        df,
        norm.is_null() & df[col].is_not_null(),
        src,
        col,
        f"unknown value (allowed: {', '.join(allowed)})",
    )
    return df.with_columns(norm.alias(col))


def validate_customers(
    data: PathLike | pl.DataFrame,
    *,
    source: str | None = None,
    columns: Mapping[str, str] | None = None,
    date_format: str | None = None,
    timezone: str = "UTC",
) -> pl.DataFrame:
    """Validate a customers table: ``customer_id`` plus optional attributes.

    ``customer_type`` must be B2C/B2B and ``payment_terms`` prepayment/credit (any letter
    case); a customer id may appear only once.

    Examples
    --------
    >>> import polars as pl
    >>> validate_customers(pl.DataFrame({"customer_id": ["a"], "customer_type": ["b2b"]}))[
    ...     "customer_type"].to_list()
    ['B2B']
    """
    df, src = _coerce(
        data,
        source,
        "customers",
        schema.CUSTOMER_REQUIRED,
        schema.CUSTOMER_OPTIONAL,
        columns,
        date_format,
        timezone,
    )
    df = _normalise_choice(df, src, "customer_type", schema.CUSTOMER_TYPES)
    df = _normalise_choice(df, src, "payment_terms", schema.PAYMENT_TERMS)
    _fail(
        df,
        df[schema.CUSTOMER_ID].is_duplicated(),
        src,
        schema.CUSTOMER_ID,
        "duplicate customer ids (one row per customer)",
    )
    return df


def read_customers(path: PathLike, **kwargs) -> pl.DataFrame:
    """Read and validate a customers file; see :func:`validate_customers`."""
    return validate_customers(path, **kwargs)


def validate_surveys(
    data: PathLike | pl.DataFrame,
    *,
    source: str | None = None,
    columns: Mapping[str, str] | None = None,
    date_format: str | None = None,
    timezone: str = "UTC",
) -> pl.DataFrame:
    """Validate a surveys table: ids, dates and answers within their scales.

    NPS is 0-10, repurchase intent 1-5, criterion scores and weights 1-5 (``DOMAIN.md`` §1,
    seed 001_7752035283ba344f.txt).  Missing answers are allowed (how a missing criterion is
    treated is :mod:`workbench.loyalty`'s documented rule); values outside the scale are errors.

    Examples
    --------
    >>> import polars as pl
    >>> s = validate_surveys(pl.DataFrame({"customer_id": ["a"], "survey_date": ["2024-05-01"],
    ...                                    "nps": ["9"]}))
    >>> s["nps"].to_list()
    [9.0]
    """
    df, src = _coerce(
        data,
        source,
        "surveys",
        schema.SURVEY_REQUIRED,
        schema.SURVEY_OPTIONAL,
        columns,
        date_format,
        timezone,
    )
    for col, (lo, hi) in schema.SURVEY_RANGES.items():
        _check_range(df, src, col, lo, hi)
    return df


def read_surveys(path: PathLike, **kwargs) -> pl.DataFrame:
    """Read and validate a surveys file; see :func:`validate_surveys`."""
    return validate_surveys(path, **kwargs)
