"""Read and validate the three input tables: transactions, customers, surveys.

Readers accept CSV or Parquet files (or frames), rename columns on request, cast every known
column to its canonical dtype and raise one :class:`~workbench.errors.DataValidationError` per
problem, naming the file, the column and the first offending rows.  Input files are only read,
never written.  The rules below are the data contract; the README's rules table repeats them.

Files and parsing
-----------------
* **A path is a path.**  The file named is read as it is; ``*``, ``?`` and ``[...]`` in a name are
  ordinary characters (``tx[12].csv`` is the file of that name), never a glob pattern.  A folder
  is refused ("is a folder, not a file"), as is a missing file, an empty (0-byte) CSV file and a
  suffix other than ``.csv``/``.txt``/``.tsv``/``.parquet``/``.pq``.
* **CSV dialect.**  ``separator=`` defaults to a tab for ``.tsv`` and a comma otherwise;
  ``quote_char=`` defaults to ``"`` (``None`` turns quoting off); ``encoding=`` defaults to UTF-8.
  Other encodings (``"latin-1"``, ``"cp1252"``, any Python codec) are decoded in Python before
  parsing.  A UTF-8 byte-order mark at the start of the file and CRLF line ends are accepted.
* **Parser errors** (a row with more fields than the header, a quote that is never closed, bytes
  that are not valid UTF-8) are reported in the workbench's words, with the row when it can be
  found and a hint (``separator=``, ``quote_char=``, ``encoding=``); file content is never
  quoted.  A header read as one column that contains ``;``, a tab or ``|`` gets a
  ``separator=`` hint.  No message is longer than about 300 characters, and
  :meth:`~workbench.errors.DataValidationError.public_message` gives the form to show to
  dashboard viewers (file base name only, row numbers without cell values).
* **Row numbers.**  ``source_row`` (and every row number in an error) is the 1-based data row:
  the line number a text editor shows minus one for the header, as long as no quoted cell spans
  several lines (a record with a line break inside quotes counts as one row).
* **Blank rows** of a CSV file (an empty line, or a line whose cells are all empty or white space,
  such as ``,,``) are skipped: they are not data.  They keep their row number, so ``source_row``
  has a gap there and the rows after them keep the numbers an editor shows.  Frames and Parquet
  files have no blank lines; their rows are all kept.

Columns
-------
* Column names are stripped of surrounding white space and of a byte-order mark; ``columns=``
  maps other names to the canonical ones (``{"CustomerID": "customer_id"}``).  Two columns with
  the same name after stripping (``amount,amount`` or ``"amount"`` and ``" amount"``) are refused,
  and so is a ``columns=`` rename that gives two columns one name.
* ``source_row`` is reserved: a file with a column of that name is refused (rename it with
  ``columns={"source_row": "your_name"}``).  A frame may carry it (a frame validated before)
  if it is an integer column without nulls; otherwise it is refused the same way.
* Known columns must have a type that can mean what the column means: text columns accept text,
  categoricals and numbers; number columns accept numbers and text; date columns accept dates,
  date-times, text and integer ``YYYYMMDD`` numbers.  Any other type (lists, structs, arrays,
  binary, booleans, dates in a number column, ...) is refused: "wrong type: expected a number,
  found list[i64]".  Unknown extra columns are kept as they are (nested ones included: they are
  hashed and compared like any other column), except Python-object columns, which cannot be
  compared and are refused.
* **Numbers as text (ids).**  An integer column read into a text column (a Parquet
  ``customer_id`` of integers) becomes its decimal text (``17850``).  A float column becomes the
  text of its whole-number values (``17850.0`` -> ``"17850"``); a value that is not a whole
  number, NaN, infinite or beyond 2**53 (where floats no longer hold exact integers) is refused
  with its rows.

Values
------
* Text cells are stripped of Unicode white space (including the no-break space U+00A0 and the
  ideographic space U+3000; zero-width characters are not white space and are kept); an empty
  cell is a missing value.  Ids of any length (1 KB ids included) are kept as they are.
* Numbers: text that is not a number is refused.  NaN and infinities (``nan``, ``inf``,
  ``Infinity`` as text, or float values in Parquet files and frames) are refused in every
  number column ("not a finite number").  In the transactions table, ``amount``, ``margin``,
  ``cost`` and ``quantity`` must also lie within ``max_abs_amount`` in absolute value (default
  ``1e12``, see :data:`DEFAULT_MAX_ABS_AMOUNT`): larger values are refused as absurd.
* Dates: ISO dates (``2024-03-01``), compact dates (``20240301``) and ISO date-times with or
  without a UTC offset (``2024-03-01T18:30:00+02:00``, ``...Z``).  Date-times with an offset
  (mixed time zones included) are converted to ``timezone`` (default UTC) before the calendar
  date is taken; naive date-times are taken as already in that zone.  ``date_format=`` forces one
  strptime format.  Text with anything after the date (``2025-06-30garbage``) is unparseable.
  Every date column must lie within ``min_date`` .. ``max_date`` (defaults 1900-01-01 and
  2200-12-31, :data:`DEFAULT_MIN_DATE`, :data:`DEFAULT_MAX_DATE`), so that a mistyped year such
  as 0001 is refused instead of producing a report of a hundred thousand periods.
* **Project options** (``workbench.toml``, :mod:`workbench.core.project`): ``decimal_comma=`` reads
  ``3,5`` and ``1.234,5``; ``id_trailing_zeros=`` turns ``17850.0`` ids into ``17850`` and
  ``id_case=`` unifies their letter case; ``amount_from=(quantity, unit_price)`` computes
  ``amount`` as their product, rounded to 6 decimals.
* Survey answers are whole numbers on their scales: NPS 0-10, repurchase intent 1-5, criterion
  scores and weights 1-5.  A value outside the scale, or between two points of it (``7.5``), is
  refused.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, TypeAlias, cast

import polars as pl

from workbench.core import schema
from workbench.core.io.options import (
    DEFAULT_MAX_ABS_AMOUNT,
    DEFAULT_MAX_DATE,
    DEFAULT_MIN_DATE,
    ID_CASES,
    MISSING_CUSTOMER_ID,
    TRANSACTION_ONLY,
    ReadOptions,
)
from workbench.errors import DataValidationError, clip
from workbench.native.kernels import text_needs_cleaning

__all__ = [
    "DEFAULT_MAX_ABS_AMOUNT",
    "DEFAULT_MAX_DATE",
    "DEFAULT_MIN_DATE",
    "ID_CASES",
    "MISSING_CUSTOMER_ID",
    "ReadOptions",
    "clean_ids",
    "read_customers",
    "read_surveys",
    "read_table",
    "read_transactions",
    "split_missing_customer_id",
    "validate_customers",
    "validate_surveys",
    "validate_transactions",
]

SOURCE_ROW: Final = "source_row"

_MAX_EXAMPLES: Final = 5
_MAX_NAMES_SHOWN: Final = 8
_HEADER_BYTES: Final = 1 << 20
_EXACT_INT_LIMIT: Final = float(2**53)
_CSV_SUFFIXES: Final = (".csv", ".txt", ".tsv")
_PARQUET_SUFFIXES: Final = (".parquet", ".pq")
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
DateLike = dt.date | str
#: A dtype as the schema tables give it: a class (``pl.String``) or an instance
#: (``pl.Datetime("us")``).
Dtype: TypeAlias = pl.DataType | type[pl.DataType]
DtypeChoice: TypeAlias = (
    Mapping[str, Dtype] | Callable[[list[str]], Mapping[str, Dtype] | None] | None
)


# --------------------------------------------------------------------------------------------
# Files


def _check_path(p: Path, src: str) -> str:
    """The lower-case suffix of a readable data file; refuse anything else."""
    if p.is_dir():
        raise DataValidationError(
            src, None, "is a folder, not a file: give the path of one CSV or Parquet file"
        )
    if not p.exists():
        raise DataValidationError(src, None, "file not found")
    suffix = p.suffix.lower()
    if suffix not in _CSV_SUFFIXES + _PARQUET_SUFFIXES:
        raise DataValidationError(
            src, None, f"unsupported file type '{clip(suffix, 20)}' (use CSV or Parquet)"
        )
    return suffix


def _one_char(value: str | None, name: str, src: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) != 1 or len(value.encode("utf-8")) != 1:
        raise DataValidationError(
            src, None, f"{name}= must be one ASCII character, got {clip(repr(value), 20)}"
        )
    return value


def _polars_reason(exc: BaseException) -> str:
    """First line of a Polars message, without quoted file content or paths, kept short."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(r"`[^`]*`?", "`…`", first)
    first = re.sub(r"(?:[A-Za-z]:)?[\\/][^\s'\"`]*[\\/][^\s'\"`,;)]*", "…", first)
    return clip(first, 80)


def _csv_input(p: Path, src: str, encoding: str) -> tuple[Path | bytes, str]:
    """What to hand Polars for a CSV file (the path, or UTF-8 bytes) and Polars' encoding."""
    norm = encoding.lower().replace("-", "").replace("_", "")
    if norm == "utf8":
        return p, "utf8"
    if norm == "utf8lossy":
        return p, "utf8-lossy"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataValidationError(
            src, None, f"unknown encoding={clip(repr(encoding), 30)} (try 'latin-1' or 'cp1252')"
        ) from None
    raw = p.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        row = raw.count(b"\n", 0, exc.start)
        raise DataValidationError(
            src,
            None,
            f"{_where(row)} is not valid {clip(encoding, 20)} text; pass the file's encoding "
            "with encoding=",
        ) from None
    return text.removeprefix("\ufeff").encode("utf-8"), "utf8"


def _where(row: int | None) -> str:
    if row is None:
        return "the file"
    return "the header line" if row == 0 else f"row {row}"


def _csv_reader(text: str, sep: str, quote_char: str | None, *, strict: bool) -> Any:
    return csv.reader(
        io.StringIO(text, newline=""),
        delimiter=sep,
        quotechar=quote_char or '"',
        quoting=csv.QUOTE_MINIMAL if quote_char else csv.QUOTE_NONE,
        strict=strict,
    )


def _csv_header(data: Path | bytes, sep: str, quote_char: str | None) -> list[str]:
    """The raw column names of a CSV file, read from its first line(s) without Polars."""
    if isinstance(data, Path):
        with data.open("rb") as fh:
            chunk = fh.read(_HEADER_BYTES)
    else:
        chunk = data[:_HEADER_BYTES]
    text = chunk.decode("utf-8", errors="replace").removeprefix("\ufeff")
    try:
        return next(_csv_reader(text, sep, quote_char, strict=False), [])
    except csv.Error:
        return []  # Polars reports the problem


def _check_header(header: list[str], src: str) -> None:
    """Refuse two columns with one name (compared without surrounding white space)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(_clean_name(h) for h in header):
        if name and name in seen:
            raise DataValidationError(
                src,
                name,
                f"two columns have this name in the header (columns {seen[name] + 1} and "
                f"{i + 1}; names are compared without surrounding white space): rename or "
                "remove one",
            )
        seen.setdefault(name, i)


def _locate_csv_problem(
    text: str, sep: str, quote_char: str | None
) -> tuple[str, int, int, int] | None:
    """Find the first record Python's csv module finds wrong: ``(kind, row, fields, header)``.

    ``kind`` is ``"fields"`` (more fields than the header) or ``"quote"`` (a quoted cell that
    does not end properly); ``row`` is the data row (the header is row 0).
    """
    reader = _csv_reader(text, sep, quote_char, strict=True)
    row = 0
    n_header = 0
    try:
        n_header = len(next(reader, []))
        for rec in reader:
            row += 1
            if len(rec) > n_header:
                return "fields", row, len(rec), n_header
    except csv.Error:
        return "quote", row + 1 if n_header else 0, 0, n_header
    return None


def _parser_error(
    src: str,
    p: Path,
    data: Path | bytes,
    exc: BaseException,
    sep: str,
    quote_char: str | None,
) -> DataValidationError:
    """A Polars CSV error re-told in the workbench's words (row and hint, no file content)."""
    message = str(exc).lower()
    if isinstance(exc, pl.exceptions.NoDataError) or "empty csv" in message:
        return DataValidationError(src, None, "has no header line (the file is empty)")
    raw = p.read_bytes() if isinstance(data, Path) else data
    if "utf-8" in message or "utf8" in message:
        try:
            raw.decode("utf-8")
            row = None
        except UnicodeDecodeError as err:
            row = raw.count(b"\n", 0, err.start)
        return DataValidationError(
            src,
            None,
            f"{_where(row)} is not valid UTF-8 text; pass encoding='latin-1' or "
            "encoding='cp1252' if the file was saved in another encoding",
        )
    found = _locate_csv_problem(
        raw.decode("utf-8", errors="replace").removeprefix("\ufeff"), sep, quote_char
    )
    shown_sep = {",": "','", "\t": "'\\t'", ";": "';'"}.get(sep, repr(sep))
    if (found and found[0] == "fields") or (not found and "more fields" in message):
        where = (
            f"row {found[1]} has {found[2]} fields but the header has {found[3]}"
            if found
            else "a row has more fields than the header"
        )
        return DataValidationError(
            src,
            None,
            f"{where} (separator {shown_sep}); check the separator (e.g. separator=';' or "
            "separator='\\t') and the quoting (quote_char=)",
        )
    if found or "could not parse" in message:
        where = f"{_where(found[1])}" if found else "a row"
        return DataValidationError(
            src,
            None,
            f"{where} has a quoted cell that is never closed (quote character "
            f"{quote_char!r}); close the quote, or pass quote_char=None if the file has no "
            "quoting",
        )
    return DataValidationError(
        src,
        None,
        f"cannot be read as CSV ({_polars_reason(exc)}); check separator=, encoding= and "
        "quote_char=",
    )


def _read(
    p: Path,
    src: str,
    dtypes: DtypeChoice,
    separator: str | None,
    encoding: str,
    quote_char: str | None,
) -> pl.DataFrame:
    """Read one file (CSV or Parquet) without globbing; every failure is a validation error."""
    suffix = _check_path(p, src)
    if suffix in _PARQUET_SUFFIXES:
        try:
            return pl.read_parquet(p, glob=False)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise DataValidationError(
                src, None, f"cannot be read as Parquet ({_polars_reason(exc)})"
            ) from None
    sep = _one_char(separator or ("\t" if suffix == ".tsv" else ","), "separator", src)
    quote = _one_char(quote_char, "quote_char", src, optional=True)
    assert sep is not None
    if p.stat().st_size == 0:
        raise DataValidationError(
            src, None, "is empty (0 bytes): a CSV file needs a header line with the column names"
        )
    data, polars_encoding = _csv_input(p, src, encoding)
    header = _csv_header(data, sep, quote)
    _check_header(header, src)
    wanted = dtypes(header) if callable(dtypes) else dtypes
    typed = {c: d for c, d in (wanted or {}).items() if d in (pl.Float64, pl.Date)}
    options: dict[str, Any] = {
        "infer_schema": False,
        "separator": sep,
        "quote_char": quote,
        "encoding": polars_encoding,
        "glob": False,
    }
    if typed:
        try:
            return pl.read_csv(data, schema_overrides=typed, **options)
        except pl.exceptions.PolarsError:
            pass  # a cell does not parse: read as text and let validation say where
    try:
        return pl.read_csv(data, **options)
    except pl.exceptions.PolarsError as exc:  # malformed file: say which one, where and why
        raise _parser_error(src, p, data, exc, sep, quote) from None


def read_table(
    path: PathLike,
    dtypes: Mapping[str, pl.DataType] | None = None,
    *,
    separator: str | None = None,
    encoding: str = "utf8",
    quote_char: str | None = '"',
) -> pl.DataFrame:
    """Read a CSV (columns as text) or a Parquet file into a frame.

    The path is taken literally (never as a glob pattern).  Duplicate column names in a CSV
    header are refused; parser errors are re-raised as :class:`DataValidationError` with the row
    and a hint.

    Parameters
    ----------
    path
        ``.csv``/``.txt``/``.tsv`` or ``.parquet``/``.pq`` file.
    dtypes
        Optional fast path for CSV: numeric and date columns read directly with these dtypes
        (keys are the file's own column names).  If any cell does not parse, the file is read
        again as text so that validation can name the offending rows.
    separator
        CSV field separator; ``None`` means a tab for ``.tsv`` files and a comma otherwise.
    encoding
        Text encoding of a CSV file: ``"utf8"`` (default), ``"utf8-lossy"`` or any Python codec
        name such as ``"latin-1"`` or ``"cp1252"`` (decoded in Python first).
    quote_char
        CSV quote character; ``None`` turns quoting off.

    Returns
    -------
    polars.DataFrame
        The raw table; CSV columns are all ``String`` (unless ``dtypes`` applied) so that
        validation can report bad cells.

    Raises
    ------
    DataValidationError
        Missing file, folder, unsupported suffix, empty file, duplicate header names, or a file
        the parser cannot read.

    Examples
    --------
    >>> raw = read_table("sample_data/customers.csv")
    >>> raw.height
    20000
    """
    p = Path(path)
    return _read(p, str(p), dtypes, separator, encoding, quote_char)


# --------------------------------------------------------------------------------------------
# Cells


def _rows_where(df: pl.DataFrame, mask: pl.Series, column: str) -> tuple[list[int], list, int]:
    bad = df.filter(mask)
    head = bad.head(_MAX_EXAMPLES)
    return head[SOURCE_ROW].to_list(), head[column].to_list(), bad.height


def _fail(df: pl.DataFrame, mask: pl.Series, source: str, column: str, problem: str) -> None:
    if mask.any():
        rows, values, n = _rows_where(df, mask.fill_null(False), column)
        raise DataValidationError(source, column, problem, rows, values, n)


def _type_name(dtype: pl.DataType) -> str:
    try:
        return dtype._string_repr()
    except Exception:  # pragma: no cover - private Polars API changed
        return str(dtype)


def _wrong_type(source: str, col: str, expected: str, dtype: pl.DataType) -> DataValidationError:
    return DataValidationError(
        source, col, f"wrong type: expected {expected}, found {clip(_type_name(dtype), 40)}"
    )


def _is_text(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Null) or isinstance(dtype, pl.Categorical | pl.Enum)


def _clean_text(s: pl.Series) -> pl.Series:
    """Strip Unicode white space; empty text becomes null.  Clean columns are returned as is."""
    s = s.cast(pl.String)
    if not text_needs_cleaning(s):
        return s
    s = s.str.strip_chars()
    return pl.select(pl.when(s != "").then(s)).to_series().alias(s.name)


def _numbers_as_text(df: pl.DataFrame, col: str, source: str) -> pl.Series:
    """Integers as decimal text; floats and decimals only if they hold whole numbers."""
    s = df[col]
    if s.dtype.is_integer():
        return s.cast(pl.String)
    if isinstance(s.dtype, pl.Decimal):
        text = s.cast(pl.String).str.replace(r"\.0*$", "")
        bad = text.str.contains(".", literal=True)
        shown = s.cast(pl.String)
    else:
        f = s.cast(pl.Float64)
        ok = f.is_finite() & (f == f.round(0)) & (f.abs() <= _EXACT_INT_LIMIT)
        bad = f.is_not_null() & ~ok
        shown = f
    _fail(
        df.with_columns(shown.alias(col)),
        bad,
        source,
        col,
        "not a whole number: numbers in a text column must be integers "
        "(17850.0 is read as '17850')",
    )
    if isinstance(s.dtype, pl.Decimal):
        return text
    return s.cast(pl.Float64).cast(pl.Int64).cast(pl.String)


def _to_text(df: pl.DataFrame, col: str, source: str) -> pl.Series:
    s = df[col]
    if _is_text(s.dtype):
        return _clean_text(s)
    if s.dtype in _NUMERIC:
        return _numbers_as_text(df, col, source)
    raise _wrong_type(source, col, "text", s.dtype)


#: The id columns that ``id_trailing_zeros=`` and ``id_case=`` clean.
ID_COLUMNS: Final = (schema.CUSTOMER_ID, schema.ORDER_ID)


def clean_ids(s: pl.Series, *, trailing_zeros: bool = False, case: str = "keep") -> pl.Series:
    """Id text cleaned as a project asks: ``17850.0`` -> ``17850``, letter case unified.

    Parameters
    ----------
    s
        Id text (already stripped of surrounding white space).
    trailing_zeros
        Drop a decimal part made of zeros from an id that is a whole number written as a
        decimal (``17850.0`` and ``17850.00`` -> ``17850``); ``17850.5`` and ``A1.0`` are kept.
    case
        ``"keep"`` (default), ``"upper"`` or ``"lower"``.

    Examples
    --------
    >>> import polars as pl
    >>> clean_ids(pl.Series(["17850.0", "A1.0", "c9"]), trailing_zeros=True, case="upper"
    ...           ).to_list()
    ['17850', 'A1.0', 'C9']
    """
    if case not in ID_CASES:
        raise ValueError(f"id_case must be one of {', '.join(ID_CASES)}, got {case!r}")
    if trailing_zeros:
        s = s.str.replace(r"^([+-]?\d+)\.0+$", "${1}")
    if case == "upper":
        s = s.str.to_uppercase()
    elif case == "lower":
        s = s.str.to_lowercase()
    return s


_THOUSANDS_DOTS: Final = r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$"


def _decimal_comma_text(text: pl.Series) -> pl.Series:
    """``1.234,5`` -> ``1234.5`` and ``3,5`` -> ``3.5``; other text with a dot becomes null.

    With a decimal comma a dot can only separate thousands (``1.234``, ``12.345.678,9``);
    ``3.5`` is ambiguous and is left unparseable, so that validation names its rows.
    """
    grouped = text.str.contains(_THOUSANDS_DOTS)
    no_dots = text.str.replace_all(".", "", literal=True)
    out = pl.select(
        pl.when(grouped)
        .then(no_dots)
        .when(text.str.contains(".", literal=True))
        .then(pl.lit("not a number"))
        .otherwise(text)
    ).to_series()
    return out.str.replace(",", ".", literal=True).alias(text.name)


def _to_float(
    df: pl.DataFrame,
    col: str,
    source: str,
    max_abs: float | None,
    decimal_comma: bool = False,
) -> pl.Series:
    s = df[col]
    if s.dtype in _NUMERIC:
        out = s.cast(pl.Float64)
        shown = out
    elif _is_text(s.dtype):
        shown = _clean_text(s)
        parsed = _decimal_comma_text(shown) if decimal_comma else shown
        out = parsed.cast(pl.Float64, strict=False)
        _fail(
            df.with_columns(shown),
            out.is_null() & shown.is_not_null(),
            source,
            col,
            "text in a numeric column"
            + (" (decimal_comma: use 1234,5 or 1.234,5)" if decimal_comma else ""),
        )
    else:
        raise _wrong_type(source, col, "a number", s.dtype)
    _check_finite(df.with_columns(shown.alias(col)), out, source, col, max_abs)
    return out.alias(col)


def _check_finite(
    shown: pl.DataFrame, out: pl.Series, source: str, col: str, max_abs: float | None
) -> None:
    """Refuse NaN and infinities, and values above ``max_abs`` in absolute value."""
    # a Float64 series: floats, or None (both at once) when every value is null; both skip NaN,
    # infinities show here
    lo, hi = cast("float | None", out.min()), cast("float | None", out.max())
    bound = math.inf if max_abs is None else max_abs
    if (
        lo is None
        or hi is None
        or (math.isfinite(lo) and math.isfinite(hi) and -bound <= lo <= hi <= bound)
    ):
        if not out.is_nan().any():
            return  # the fast path: every value is finite and within the bound
    _fail(shown, ~out.is_finite(), source, col, "not a finite number (NaN or infinity)")
    if max_abs is not None:
        _fail(
            shown,
            out.abs() > max_abs,
            source,
            col,
            f"absolute value above {max_abs:g} (refused as absurd; change the bound with "
            "max_abs_amount=)",
        )


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
    df: pl.DataFrame,
    col: str,
    source: str,
    date_format: str | None,
    timezone: str,
    bounds: tuple[dt.date, dt.date],
) -> pl.Series:
    s = df[col]
    if s.dtype == pl.Date:
        out = s
    elif isinstance(s.dtype, pl.Datetime):
        if s.dtype.time_zone is not None:
            s = s.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
        out = s.dt.date()
    else:
        if s.dtype in _NUMERIC:  # 20240301 stored as a number
            s = _numbers_as_text(df, col, source)
        elif not _is_text(s.dtype):
            raise _wrong_type(source, col, "a date", s.dtype)
        text = _clean_text(s)
        out = _parse_date_text(text, date_format, timezone)
        _fail(
            df.with_columns(text),
            out.is_null() & text.is_not_null(),
            source,
            col,
            "unparseable date (use YYYY-MM-DD, YYYYMMDD or ISO date-time, or pass date_format=)",
        )
    lo, hi = bounds
    # a Date series: dates, or None (both at once) when every value is null
    first, last = cast("dt.date | None", out.min()), cast("dt.date | None", out.max())
    if first is not None and last is not None and (first < lo or last > hi):
        _fail(
            df.with_columns(out.cast(pl.String).alias(col)),
            (out < lo) | (out > hi),
            source,
            col,
            f"date outside the accepted range {lo.isoformat()} to {hi.isoformat()} "
            "(change it with min_date= / max_date=)",
        )
    return out.alias(col)


# --------------------------------------------------------------------------------------------
# Tables


def _clean_name(name: str) -> str:
    return name.strip().removeprefix("\ufeff").strip()


def _names(names: Iterable[str], budget: int = 120) -> str:
    """A short, readable list of column names for a message (about ``budget`` characters)."""
    names = list(names)
    shown: list[str] = []
    for name in names[:_MAX_NAMES_SHOWN]:
        item = repr(clip(name, 30))
        if shown and len(", ".join([*shown, item])) > budget:
            break
        shown.append(item)
    more = len(names) - len(shown)
    return f"[{', '.join(shown)}{f', … ({more} more)' if more > 0 else ''}]"


def _guess_separator(names: list[str]) -> str | None:
    """The separator a one-column CSV header seems to use (``a;b;c`` -> ``;``), if any."""
    if len(names) != 1:
        return None
    counts = {sep: names[0].count(sep) for sep in (";", "\t", "|", ",")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else None


def _canonical_names(df: pl.DataFrame, src: str, renames: Mapping[str, str]) -> pl.DataFrame:
    """Strip the column names, apply ``columns=`` and refuse names that collide."""
    clean = [_clean_name(c) for c in df.columns]
    _check_header(clean, src)
    unknown = [c for c in renames if c not in clean]
    if unknown:
        raise DataValidationError(
            src, unknown[0], f"column to rename not found; columns are {_names(clean)}"
        )
    final = [renames.get(c, c) for c in clean]
    seen: dict[str, str] = {}
    for before, after in zip(clean, final, strict=True):
        if after in seen:
            raise DataValidationError(
                src,
                after,
                f"columns= gives two columns this name ({clip(repr(seen[after]), 30)} and "
                f"{clip(repr(before), 30)}): rename only one of them",
            )
        seen[after] = before
    mapping = {c: f for c, f in zip(df.columns, final, strict=True) if c != f}
    return df.rename(mapping) if mapping else df


def _drop_blank_rows(df: pl.DataFrame) -> pl.DataFrame:
    """Drop rows whose every cell is empty (null or white space only): blank CSV lines."""
    cols = [c for c in df.columns if c != SOURCE_ROW]
    if not cols or df.height == 0:
        return df
    # A column without a single empty cell means no row is blank: skip the row-wise test.
    for c in sorted(cols, key=lambda c: df.schema[c] == pl.String):
        s = df[c]
        if s.null_count() == 0 and not (s.dtype == pl.String and text_needs_cleaning(s)):
            return df
    blank = pl.all_horizontal(
        pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")
        if df.schema[c] == pl.String
        else pl.col(c).is_null()
        for c in cols
    )
    return df.filter(~blank)


def _check_source_row(s: pl.Series, src: str, from_file: bool) -> None:
    """A ``source_row`` column is refused in files, and in frames unless integers without nulls."""
    hint = "rename it with columns={'source_row': 'your_name'}"
    if from_file:
        raise DataValidationError(
            src,
            SOURCE_ROW,
            f"'source_row' is a reserved column name (the workbench numbers the rows); {hint}",
        )
    if not s.dtype.is_integer() or s.null_count():
        found = clip(_type_name(s.dtype), 20) + (" with nulls" if s.null_count() else "")
        raise DataValidationError(
            src,
            SOURCE_ROW,
            "'source_row' is a reserved column name: in a frame it must hold integer row "
            f"numbers without nulls (found {found}); {hint}",
        )


def _coerce(
    data: PathLike | pl.DataFrame,
    source: str | None,
    table: str,
    required: Mapping[str, Dtype],
    optional: Mapping[str, Dtype],
    opts: ReadOptions,
) -> tuple[pl.DataFrame, str]:
    """Read (or take) one table and check it against the data contract, step by step."""
    transactions = table == "transactions"
    max_abs = opts.max_abs_amount if transactions else None
    wanted = {**required, **optional}
    renames = dict(opts.columns or {})
    from_file = not isinstance(data, pl.DataFrame | pl.LazyFrame)
    df, src, csv_file = _load(data, source, table, wanted, renames, opts)
    df = _canonical_names(df, src, renames)
    if SOURCE_ROW in df.columns:
        _check_source_row(df[SOURCE_ROW], src, from_file)
    if transactions and opts.amount_from is not None:
        df = _amount_from(df, src, opts.amount_from, opts.decimal_comma, max_abs)
    _check_required_columns(df, src, table, required, csv_file)
    if SOURCE_ROW not in df.columns:
        df = df.with_row_index(SOURCE_ROW, offset=1)
    if csv_file:
        df = _drop_blank_rows(df)
    df = df.with_columns(_casts(df, src, wanted, opts, max_abs))
    missing_customer_id = opts.missing_customer_id if transactions else "refuse"
    _check_required_values(df, src, table, required, renames, missing_customer_id)
    return df, src


def _load(
    data: PathLike | pl.DataFrame,
    source: str | None,
    table: str,
    wanted: Mapping[str, Dtype],
    renames: Mapping[str, str],
    opts: ReadOptions,
) -> tuple[pl.DataFrame, str, bool]:
    """The table as read (a file) or given (a frame), its name, and whether it is a CSV file;
    Python-object columns are refused."""
    csv_file = False
    if not isinstance(data, pl.DataFrame | pl.LazyFrame):
        p = Path(data)
        src = source or str(data)

        def fast(header: list[str]) -> dict[str, Dtype] | None:
            if opts.date_format is not None or opts.decimal_comma:
                return None
            names = {h: renames.get(_clean_name(h), _clean_name(h)) for h in header}
            return {h: wanted[n] for h, n in names.items() if n in wanted}

        df = _read(p, src, fast, opts.separator, opts.encoding, opts.quote_char)
        csv_file = p.suffix.lower() in _CSV_SUFFIXES
    else:
        df = data.collect() if isinstance(data, pl.LazyFrame) else data
        src = source or f"<{table} frame>"
    objects = [c for c, d in df.schema.items() if d == pl.Object]
    if objects:
        raise DataValidationError(
            src,
            objects[0],
            "wrong type: Python objects cannot be checked or compared; convert the column to "
            "text or numbers, or drop it",
        )
    return df, src, csv_file


def _check_required_columns(
    df: pl.DataFrame, src: str, table: str, required: Mapping[str, Dtype], csv_file: bool
) -> None:
    """Refuse a table without one of its required columns, with a rename or separator hint."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        hint = f"rename with columns={{'your_name': '{missing[0]}'}}"
        guess = _guess_separator(df.columns) if csv_file else None
        if guess is not None:
            hint = f"the header looks separated by {guess!r}: pass separator={guess!r}"
        raise DataValidationError(
            src,
            missing[0],
            f"required column missing from the {table} table (found columns: "
            f"{_names(df.columns, 80)[1:-1]}); {hint}",
        )


def _casts(
    df: pl.DataFrame,
    src: str,
    wanted: Mapping[str, Dtype],
    opts: ReadOptions,
    max_abs: float | None,
) -> list[pl.Series]:
    """Every known column cast to its canonical dtype (text, number or date), checked."""
    casts = []
    bounds = (opts.min_date, opts.max_date)
    for col, dtype in wanted.items():
        if col not in df.columns:
            continue
        if dtype == pl.String:
            text = _to_text(df, col, src)
            if col in ID_COLUMNS and (opts.id_trailing_zeros or opts.id_case != "keep"):
                text = clean_ids(text, trailing_zeros=opts.id_trailing_zeros, case=opts.id_case)
            casts.append(text)
        elif dtype == pl.Float64:
            casts.append(_to_float(df, col, src, max_abs, opts.decimal_comma))
        elif dtype == pl.Date:
            casts.append(_to_date(df, col, src, opts.date_format, opts.timezone, bounds))
    return casts


def _check_required_values(
    df: pl.DataFrame,
    src: str,
    table: str,
    required: Mapping[str, Dtype],
    renames: Mapping[str, str],
    missing_customer_id: str,
) -> None:
    """Refuse nulls in required columns (transactions without a customer id: as asked)."""
    for col in required:
        if col == schema.CUSTOMER_ID and table == "transactions":
            if missing_customer_id == "refuse":
                named = [k for k, v in renames.items() if v == col and k != col]
                where = f" in the file's column {clip(repr(named[0]), 30)}" if named else ""
                missing = df.filter(df[col].is_null())
                if missing.height:
                    raise DataValidationError(
                        src,
                        col,
                        _NO_CUSTOMER_ID.format(where=where),
                        missing[SOURCE_ROW].head(_MAX_EXAMPLES).to_list(),
                        (),
                        missing.height,
                    )
            continue
        what = "null ids" if col == schema.CUSTOMER_ID else "missing values in a required column"
        _fail(df, df[col].is_null(), src, col, what)


_NO_CUSTOMER_ID: Final = (
    "null ids{where} (to set such lines aside and count them: "
    'missing_customer_id = "set_aside" in [transactions] of workbench.toml)'
)


def split_missing_customer_id(transactions: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a transactions table into the lines with a customer id and the lines without.

    For a table read with ``missing_customer_id="keep"``.  The first part is what the
    analyses take; hand the second to :func:`workbench.core.prepare.prepare_orders`
    (``without_customer_id=``) so that the data-quality report counts it.

    Examples
    --------
    >>> import polars as pl
    >>> tx = pl.DataFrame({"customer_id": ["a", None], "amount": [1.0, 2.0]})
    >>> with_id, without = split_missing_customer_id(tx)
    >>> with_id.height, without["amount"].to_list()
    (1, [2.0])
    """
    missing = transactions[schema.CUSTOMER_ID].is_null()
    if not missing.any():
        return transactions, transactions.head(0)
    return transactions.filter(~missing), transactions.filter(missing)


#: Decimals to which an amount computed as quantity x unit price is rounded (the most that
#: exact money sums accept, :data:`workbench.core.money.MAX_DECIMALS`).
AMOUNT_DECIMALS: Final = 6


def _amount_from(
    df: pl.DataFrame,
    src: str,
    factors: tuple[str, str],
    decimal_comma: bool,
    max_abs: float | None,
) -> pl.DataFrame:
    """Add ``amount`` = quantity x unit price (rounded to :data:`AMOUNT_DECIMALS` decimals).

    Both columns are checked like number columns first (so a bad cell is named in its own
    column); the factors stay in the table.
    """
    if len(factors) != 2 or not all(isinstance(f, str) and f for f in factors):
        raise ValueError(f"amount_from needs two column names, got {factors!r}")
    if schema.AMOUNT in df.columns:
        raise DataValidationError(
            src,
            schema.AMOUNT,
            "the table has an amount column and amount_from= asks to compute it: drop one",
        )
    for col in factors:
        if col not in df.columns:
            raise DataValidationError(
                src,
                col,
                f"column for amount_from= not found; columns are {_names(df.columns)}",
            )
    if SOURCE_ROW not in df.columns:
        df = df.with_row_index(SOURCE_ROW, offset=1)
    qty, price = (_to_float(df, c, src, max_abs, decimal_comma) for c in factors)
    amount = (qty * price).round(AMOUNT_DECIMALS).alias(schema.AMOUNT)
    return df.with_columns(qty, price, amount)


def _check_scale(df: pl.DataFrame, src: str, col: str, lo: float, hi: float) -> None:
    """Survey answers: within ``lo``-``hi`` and whole numbers."""
    if col not in df.columns:
        return
    s = df[col]
    _fail(
        df,
        s.is_not_null() & ((s < lo) | (s > hi)),
        src,
        col,
        f"value outside the allowed range {lo:g}-{hi:g}",
    )
    _fail(
        df,
        s.is_not_null() & (s != s.round(0)),
        src,
        col,
        f"not a whole number on the {lo:g}-{hi:g} scale",
    )


#: The :class:`ReadOptions` fields that the customers and surveys readers accept as keywords.
_SHARED_OPTIONS: Final = tuple(
    f for f in ReadOptions.__dataclass_fields__ if f not in TRANSACTION_ONLY
)

_COMMON_PARAMETERS: Final = """
    data
        A path (CSV/Parquet, taken literally, never as a glob pattern) or a frame.
    source
        Name used in error messages (defaults to the path).
    options
        A :class:`~workbench.core.io.options.ReadOptions` holding every setting below, validated
        once; or give the settings as keyword arguments (not both).
    columns
        Renames ``{your_name: canonical_name}`` applied before validation.
    date_format
        A strptime format forcing how date text is parsed.
    timezone
        Business time zone: offsets in date-times are converted to it before the date is taken.
    separator
        CSV field separator; ``None`` (default) means a tab for ``.tsv`` and a comma otherwise.
        Ignored for Parquet files and frames.
    encoding
        CSV text encoding: ``"utf8"`` (default), ``"utf8-lossy"``, or a Python codec name such
        as ``"latin-1"`` or ``"cp1252"``.  Ignored for Parquet files and frames.
    quote_char
        CSV quote character (default ``'"'``); ``None`` turns quoting off.
    min_date, max_date
        Accepted range of every date column (defaults :data:`DEFAULT_MIN_DATE` 1900-01-01 and
        :data:`DEFAULT_MAX_DATE` 2200-12-31); a date or an ISO ``YYYY-MM-DD`` string.
    decimal_comma
        Number text uses a decimal comma (``3,5``; ``1.234,5`` with dots between thousands).
        A number with a dot that is not a thousands separator (``3.5``) is then refused as
        ambiguous.  Numbers already typed (Parquet, frames) are not affected.
    id_trailing_zeros
        In ``customer_id`` and ``order_id``: an id written as a whole number with a zero
        decimal part loses it (``17850.0`` -> ``17850``, as spreadsheets export numeric ids).
    id_case
        Letter case of ``customer_id`` and ``order_id``: ``"keep"`` (default), ``"upper"``
        or ``"lower"``."""


def validate_transactions(
    data: PathLike | pl.DataFrame,
    *,
    source: str | None = None,
    options: ReadOptions | None = None,
    **keywords: Any,
) -> pl.DataFrame:
    """Validate a transactions table and cast it to the canonical dtypes.

    Required: ``customer_id``, ``order_date``, ``amount``; optional: ``order_id``, ``margin``,
    ``cost``, ``channel``, ``category``, ``quantity``.  Negative amounts (returns) are valid
    here; how they are used is :func:`workbench.core.prepare.prepare_orders`'s job.  Other columns
    are kept as they are.  The rules are in the module docstring.

    Parameters
    ----------{common}
    max_abs_amount
        Largest accepted absolute value of ``amount``, ``margin``, ``cost`` and ``quantity``
        (default :data:`DEFAULT_MAX_ABS_AMOUNT`, 1e12); larger values are refused as absurd.
    amount_from
        ``(quantity_column, unit_price_column)`` (names after ``columns=``): the table has no
        ``amount`` column and ``amount`` is computed as quantity x unit price, rounded to
        :data:`AMOUNT_DECIMALS` (6) decimals.  Both columns are checked as numbers and kept.
    missing_customer_id
        Lines without a customer id (an empty cell; about a quarter of the UCI Online Retail
        export): ``"refuse"`` (default) raises, naming the rows, with the hint to set them
        aside; ``"keep"`` returns them with a null ``customer_id`` (checked like every other
        line otherwise).  Split them off with :func:`split_missing_customer_id` and give them
        to :func:`workbench.core.prepare.prepare_orders` (``without_customer_id=``): the analyses
        refuse null ids.  A project file does both (``missing_customer_id = "set_aside"``).

    Returns
    -------
    polars.DataFrame
        Typed table with a ``source_row`` column.

    Raises
    ------
    DataValidationError
        Missing column, duplicate or reserved column name, wrong type, text in a numeric
        column, NaN/infinite or absurd numbers, null ids, unparseable or implausible dates,
        unreadable file.

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({"customer_id": ["a"], "order_date": ["2024-01-02"],
    ...                       "amount": ["9.5"]})
    >>> tx = validate_transactions(frame)
    >>> tx["amount"].to_list()
    [9.5]
    """
    opts = ReadOptions.from_keywords(options, keywords, "validate_transactions")
    df, _ = _coerce(
        data,
        source,
        "transactions",
        schema.TRANSACTION_REQUIRED,
        schema.TRANSACTION_OPTIONAL,
        opts,
    )
    return df


def read_transactions(path: PathLike, **kwargs: Any) -> pl.DataFrame:
    """Read and validate a transactions file (CSV or Parquet).

    Same keyword arguments as :func:`validate_transactions` (``source``, ``options``,
    ``columns``,
    ``date_format``, ``timezone``, ``separator``, ``encoding``, ``quote_char``, ``min_date``,
    ``max_date``, ``max_abs_amount``, ``decimal_comma``, ``id_trailing_zeros``, ``id_case``,
    ``amount_from``, ``missing_customer_id``).

    Examples
    --------
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> tx.height, tx["customer_id"].n_unique()
    (174964, 20000)
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
    options: ReadOptions | None = None,
    **keywords: Any,
) -> pl.DataFrame:
    """Validate a customers table: ``customer_id`` plus optional attributes.

    ``customer_type`` must be B2C/B2B and ``payment_terms`` prepayment/credit (any letter
    case); a customer id may appear only once.  The rules are in the module docstring.

    Parameters
    ----------{common}

    Returns
    -------
    polars.DataFrame
        Typed table with a ``source_row`` column.

    Examples
    --------
    >>> import polars as pl
    >>> validate_customers(pl.DataFrame({"customer_id": ["a"], "customer_type": ["b2b"]}))[
    ...     "customer_type"].to_list()
    ['B2B']
    """
    opts = ReadOptions.from_keywords(
        options, keywords, "validate_customers", allowed=_SHARED_OPTIONS
    )
    df, src = _coerce(
        data,
        source,
        "customers",
        schema.CUSTOMER_REQUIRED,
        schema.CUSTOMER_OPTIONAL,
        opts,
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


def read_customers(path: PathLike, **kwargs: Any) -> pl.DataFrame:
    """Read and validate a customers file; see :func:`validate_customers` for the keywords."""
    return validate_customers(path, **kwargs)


def validate_surveys(
    data: PathLike | pl.DataFrame,
    *,
    source: str | None = None,
    options: ReadOptions | None = None,
    **keywords: Any,
) -> pl.DataFrame:
    """Validate a surveys table: ids, dates and answers on their scales.

    NPS is a whole number 0-10, repurchase intent 1-5, criterion scores and weights 1-5
    (:data:`workbench.core.schema.SURVEY_RANGES`).  Missing answers are allowed (how a missing
    criterion is treated is :mod:`workbench.analyses.loyalty`'s documented rule); values outside the
    scale or between two of its points (``7.5``) are errors.

    Parameters
    ----------{common}

    Returns
    -------
    polars.DataFrame
        Typed table with a ``source_row`` column.

    Examples
    --------
    >>> import polars as pl
    >>> s = validate_surveys(pl.DataFrame({"customer_id": ["a"], "survey_date": ["2024-05-01"],
    ...                                    "nps": ["9"]}))
    >>> s["nps"].to_list()
    [9.0]
    """
    opts = ReadOptions.from_keywords(options, keywords, "validate_surveys", allowed=_SHARED_OPTIONS)
    df, src = _coerce(
        data,
        source,
        "surveys",
        schema.SURVEY_REQUIRED,
        schema.SURVEY_OPTIONAL,
        opts,
    )
    for col, (lo, hi) in schema.SURVEY_RANGES.items():
        _check_scale(df, src, col, lo, hi)
    return df


def read_surveys(path: PathLike, **kwargs: Any) -> pl.DataFrame:
    """Read and validate a surveys file; see :func:`validate_surveys` for the keywords."""
    return validate_surveys(path, **kwargs)


for _f in (validate_transactions, validate_customers, validate_surveys):
    _f.__doc__ = (_f.__doc__ or "").replace("{common}", _COMMON_PARAMETERS)
del _f
