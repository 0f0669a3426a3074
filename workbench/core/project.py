"""The project file, ``workbench.toml``: where your data are and how to read them.

A project file describes one data set once, so that every command reads it the same way
(``workbench check``, ``summary``, ``report`` and ``serve`` all take ``--config``).
``workbench init export.csv`` writes one by looking at the file; edit it by hand afterwards.
The page ``docs/project-file.md`` is the user's guide; this docstring is the reference.

Example
-------
.. code-block:: toml

    [project]
    name = "Online shop"
    currency = "GBP"            # ISO 4217 code, for display
    locale = "en_GB"            # number and date formats, for display
    timezone = "Europe/London"  # business time zone: date-times with an offset are converted
    as_of = "last"              # "last" = the last transaction date, or "2011-12-09"

    [ids]
    trailing_zeros = true       # customer and order ids: "17850.0" -> "17850"
    case = "keep"               # "keep", "upper" or "lower"

    [transactions]
    path = "online_retail.csv"  # relative to this file
    separator = ","
    encoding = "utf8"           # or "cp1252", "latin-1", ...
    decimal_comma = false       # true for 3,5 and 1.234,5
    date_format = "%m/%d/%Y %H:%M"   # "" = ISO dates and date-times
    identical_lines = "keep"    # or "drop"
    missing_customer_id = "set_aside"  # default "refuse"

    [transactions.columns]      # workbench name = column name in your file
    customer_id = "Customer ID"
    order_id = "Invoice"
    order_date = "InvoiceDate"
    quantity = "Quantity"
    unit_price = "Price"        # amount = quantity x unit_price

    [customers]                 # optional, as is [surveys]
    path = "customers.csv"

    [gates]                     # optional: workbench report exits 4 when one holds
    fail_on = ["set_aside_share>0.05", "duplicate_rows>100"]

Keys
----
``[project]`` (optional section)
    ``name`` (text, default the folder's name); ``currency`` (three capital letters, default
    ``"USD"``); ``locale`` (``"en"``, ``"en_GB"`` or ``"de-DE"``, default ``"en_US"``);
    ``timezone`` (an IANA zone such as ``"Europe/Berlin"``, default ``"UTC"``): date-times with
    a UTC offset are converted to it before the calendar date is taken; ``as_of`` (``"last"``,
    the default, or a date ``YYYY-MM-DD``): the end of the observation period.  ``"last"``
    means the last transaction date of the data; the date chosen is printed by every command
    and shown in every report.
``[ids]`` (optional)
    ``trailing_zeros`` (default ``false``): an id written as a whole number with a zero
    decimal part loses it (``17850.0`` -> ``17850``); ``case`` (default ``"keep"``).  Applied
    to ``customer_id`` and ``order_id`` of every table, so that the tables still match.
``[transactions]`` (required), ``[customers]``, ``[surveys]`` (optional)
    ``path`` (required in each section given; relative to the project file);
    ``separator`` (one character; default a comma, a tab for ``.tsv``); ``encoding``
    (default ``"utf8"``); ``quote_char`` (default ``'"'``, ``""`` for none);
    ``decimal_comma`` (default ``false``); ``date_format`` (a strptime format, default ``""``:
    ISO dates, ``YYYYMMDD`` and ISO date-times); ``columns`` (a table ``workbench name = "your
    column"``; columns already named as the workbench names them need no entry; other columns
    of the file are kept as they are).
``[gates]`` (optional)
    ``fail_on``: a list of data-quality gates ``"metric>threshold"`` checked by
    ``workbench report`` after the run (metrics: :mod:`workbench.app.run_summary`); added to
    the ``--fail-on`` options.
``[transactions]`` only
    ``identical_lines`` (``"keep"``, the default, or ``"drop"``), see below.
    ``missing_customer_id`` (``"refuse"``, the default, or ``"set_aside"``): lines without a
    customer id (an empty cell) are refused with their rows and this hint; with
    ``"set_aside"`` they are kept out of the analyses and counted, with their amount and
    example rows, in the data-quality report as ``no_customer_id`` (:meth:`Project.read_lines`,
    :func:`workbench.core.prepare.prepare_orders`).  The column
    targets are ``customer_id``, ``order_date`` and ``amount`` (required), ``order_id``,
    ``quantity``, ``unit_price``, ``margin``, ``cost``, ``channel``, ``category``.  Map
    either ``amount`` or ``quantity`` and ``unit_price``: the amount is then quantity x unit
    price, rounded to 6 decimals (a negative quantity is a return).

The CDNOW data set
------------------
``format = "cdnow"`` in ``[transactions]`` reads the CDNOW files of Fader, Hardie & Lee
(2005) (``CDNOW_master.txt``, ``CDNOW_sample.txt``: no header, whitespace-separated fields)
with :func:`workbench.core.io.cdnow.read_cdnow`, the path taken literally.  The layout fixes
the fields, so only ``path`` and ``format`` are allowed with it (any other key of the section
is a :class:`~workbench.errors.ConfigError`).  Each line is its own order, so no ``line_no``
is added.  A line that is not CDNOW-shaped (:func:`cdnow_problem`) is a
:class:`~workbench.errors.DataValidationError` naming the file and the line.  The default,
``format = "auto"``, reads CSV or Parquet by the file's extension.

Identical lines
---------------
Retail exports often hold two identical lines without a line id (the same product scanned
twice on one invoice).  With ``identical_lines = "keep"`` (the default) they are real
purchases: :meth:`Project.read_transactions` adds a column ``line_no`` (the line's row number
in the file, :data:`LINE_NO`) so that no two lines are exact copies, and the data rules of
:func:`workbench.core.prepare.prepare_orders` use them all; ``workbench check`` counts them
(:func:`identical_lines`).  With ``"drop"`` no line number is added and the exact-duplicate
rule of :mod:`workbench.core.prepare` sets every later copy aside (reported as
``exact_duplicate``).  Without a project file the library's rule applies unchanged (CDNOW's
published figures rely on it).  A table that already has a ``line_no`` column keeps it.

Errors
------
Every problem of the file raises one :class:`~workbench.errors.ConfigError` naming the file,
the section and the key, with what is allowed (unknown keys included, with a close match when
there is one).  Problems of the data raise :class:`~workbench.errors.DataValidationError`
from the readers, as without a project file.

Examples
--------
>>> import pathlib, tempfile
>>> folder, csv = pathlib.Path(tempfile.mkdtemp()), pathlib.Path("sample_data/transactions.csv")
>>> _ = (folder / "workbench.toml").write_text(f'[transactions]\\npath = "{csv.resolve()}"\\n')
>>> project = load_project(folder / "workbench.toml")
>>> tx = project.read_transactions()
>>> project.resolve_as_of(tx)
(datetime.date(2026, 6, 30), 'the last transaction date')
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from workbench.core import schema
from workbench.core.io.cdnow import read_cdnow
from workbench.core.io.readers import (
    ID_CASES,
    read_customers,
    read_surveys,
    read_transactions,
    split_missing_customer_id,
)
from workbench.errors import ConfigError, DataValidationError, clip

#: The usual name of a project file (``workbench check`` looks for it by default).
DEFAULT_FILE_NAME: Final = "workbench.toml"
#: Column added by :meth:`Project.read_transactions` when identical lines are kept.
LINE_NO: Final = "line_no"
#: Choices of ``[transactions] identical_lines``.
IDENTICAL_LINES: Final = ("keep", "drop")
#: Choices of ``[transactions] missing_customer_id``.
MISSING_CUSTOMER_ID: Final = ("refuse", "set_aside")
#: Choices of ``[transactions] format``: by the file's extension, or the CDNOW layout.
FORMATS: Final = ("auto", "cdnow")
#: The pseudo-column that, with ``quantity``, makes the amount.
UNIT_PRICE: Final = "unit_price"

_TABLES: Final = ("transactions", "customers", "surveys")
_SECTIONS: Final = ("project", "ids", *_TABLES, "gates")
_GATE_KEYS: Final = ("fail_on",)
_PROJECT_KEYS: Final = ("name", "currency", "locale", "timezone", "as_of")
_ID_KEYS: Final = ("trailing_zeros", "case")
_TABLE_KEYS: Final = (
    "path",
    "separator",
    "encoding",
    "quote_char",
    "decimal_comma",
    "date_format",
    "columns",
)
_TRANSACTION_KEYS: Final = (*_TABLE_KEYS, "identical_lines", "missing_customer_id", "format")
_CDNOW_KEYS: Final = ("path", "format")
_CDNOW_NUMBER: Final = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
_TARGETS: Final = {
    "transactions": (
        *schema.TRANSACTION_REQUIRED,
        *schema.TRANSACTION_OPTIONAL,
        UNIT_PRICE,
    ),
    "customers": (*schema.CUSTOMER_REQUIRED, *schema.CUSTOMER_OPTIONAL),
    "surveys": (*schema.SURVEY_REQUIRED, *schema.SURVEY_OPTIONAL),
}
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
_LOCALE: Final = re.compile(r"[a-z]{2,3}([_-][A-Z]{2})?")


@dataclass(frozen=True)
class TableSource:
    """How to read one table of a project.

    Attributes
    ----------
    table
        ``"transactions"``, ``"customers"`` or ``"surveys"``.
    path
        The file, absolute (resolved against the project file's folder).
    columns
        ``{column in the file: workbench name}``, the renames handed to the reader.
    separator, encoding, quote_char, decimal_comma, date_format
        CSV and parsing options (see :mod:`workbench.core.io.readers`).
    amount_from
        ``("quantity", "unit_price")`` when the amount is computed, else ``None``.
    format
        ``"auto"`` (CSV or Parquet by the extension) or ``"cdnow"`` (:data:`FORMATS`).
    """

    table: str
    path: Path
    columns: Mapping[str, str] = field(default_factory=dict)
    separator: str | None = None
    encoding: str = "utf8"
    quote_char: str | None = '"'
    decimal_comma: bool = False
    date_format: str | None = None
    amount_from: tuple[str, str] | None = None
    format: str = "auto"


@dataclass(frozen=True)
class Project:
    """A loaded, validated project file (:func:`load_project`).

    Attributes
    ----------
    path
        The project file, absolute.
    name
        The project's name (default: the folder's name).
    transactions, customers, surveys
        How to read each table; ``customers`` and ``surveys`` are ``None`` when not given.
    currency, locale
        For display (ISO 4217 code; ``en_GB``-style locale).
    timezone
        Business time zone handed to the readers.
    as_of
        The as-of date, or ``None`` for the last transaction date.
    identical_lines
        ``"keep"`` or ``"drop"`` (see the module docstring).
    missing_customer_id
        ``"refuse"`` or ``"set_aside"``: what to do with lines without a customer id.
    id_trailing_zeros, id_case
        Id clean-up of every table.
    gates
        Data-quality gates of ``workbench report`` (``[gates] fail_on``), as written, e.g.
        ``("set_aside_share>0.05",)``; see :mod:`workbench.app.run_summary`.
    """

    path: Path
    name: str
    transactions: TableSource
    customers: TableSource | None = None
    surveys: TableSource | None = None
    currency: str = "USD"
    locale: str = "en_US"
    timezone: str = "UTC"
    as_of: dt.date | None = None
    identical_lines: str = "keep"
    missing_customer_id: str = "refuse"
    id_trailing_zeros: bool = False
    id_case: str = "keep"
    gates: tuple[str, ...] = ()

    def _options(self, source: TableSource) -> dict[str, Any]:
        options: dict[str, Any] = {
            "source": str(source.path),
            "columns": dict(source.columns),
            "date_format": source.date_format,
            "timezone": self.timezone,
            "separator": source.separator,
            "encoding": source.encoding,
            "quote_char": source.quote_char,
            "decimal_comma": source.decimal_comma,
            "id_trailing_zeros": self.id_trailing_zeros,
            "id_case": self.id_case,
        }
        if source.amount_from is not None:
            options["amount_from"] = source.amount_from
        return options

    def read_transactions(self) -> pl.DataFrame:
        """Read and validate the transactions with the project's options.

        With ``identical_lines = "keep"`` a column :data:`LINE_NO` (the ``source_row``) is
        added, so that identical lines stay separate purchases under the exact-duplicate rule.

        Returns
        -------
        polars.DataFrame
            The canonical transactions table (:func:`workbench.core.io.read_transactions`).

        Raises
        ------
        DataValidationError
            The file breaks the data contract.
        """
        return self.read_lines()[0]

    def read_lines(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The transactions, and the lines without a customer id set aside when read.

        With ``missing_customer_id = "set_aside"`` the lines without a customer id are not in
        the transactions; they are returned apart (same columns, null ``customer_id``), for
        :func:`workbench.core.prepare.prepare_orders` (``without_customer_id=``) to count them.
        Otherwise the second frame is empty (and such lines are refused).  With
        ``format = "cdnow"`` the table is :func:`workbench.core.io.cdnow.read_cdnow`'s, unchanged
        (every line has a customer id and its own order id, so no ``line_no`` is added).

        Returns
        -------
        (polars.DataFrame, polars.DataFrame)
            The transactions (:meth:`read_transactions`) and the lines set aside.

        Raises
        ------
        DataValidationError
            The file breaks the data contract (with ``"refuse"``: a line without a customer
            id, named by its row, with the hint to set such lines aside); with
            ``format = "cdnow"``, a line that is not CDNOW-shaped, named by its line number.
        """
        if self.transactions.format == "cdnow":
            tx = read_cdnow_checked(self.transactions.path)
            return tx, tx.head(0)
        options = self._options(self.transactions)
        if self.missing_customer_id == "set_aside":
            options["missing_customer_id"] = "keep"
        tx, without = split_missing_customer_id(
            read_transactions(self.transactions.path, **options)
        )
        if self.identical_lines == "keep" and LINE_NO not in tx.columns:
            line_no = pl.col("source_row").cast(pl.Int64).alias(LINE_NO)
            tx, without = tx.with_columns(line_no), without.with_columns(line_no)
        return tx, without

    def read_customers(self) -> pl.DataFrame | None:
        """The customers table, or ``None`` when the project has none."""
        if self.customers is None:
            return None
        options = self._options(self.customers)
        options.pop("amount_from", None)
        return read_customers(self.customers.path, **options)

    def read_surveys(self) -> pl.DataFrame | None:
        """The surveys table, or ``None`` when the project has none."""
        if self.surveys is None:
            return None
        options = self._options(self.surveys)
        options.pop("amount_from", None)
        return read_surveys(self.surveys.path, **options)

    def resolve_as_of(self, transactions: pl.DataFrame | None = None) -> tuple[dt.date, str]:
        """The as-of date and how it was chosen.

        Parameters
        ----------
        transactions
            The transactions (read when not given and the date is ``"last"``).

        Returns
        -------
        (datetime.date, str)
            The date, and ``"set in <file>"`` or ``"the last transaction date"``.

        Raises
        ------
        ConfigError
            ``as_of = "last"`` and the transactions have no rows.
        """
        if self.as_of is not None:
            return self.as_of, f"set in {self.path.name}"
        tx = self.read_transactions() if transactions is None else transactions
        last = last_transaction_date(tx)
        if last is None:
            raise ConfigError(
                str(self.path),
                "[project] as_of",
                "\"last\" needs at least one transaction; the transactions table is empty "
                "(give a date YYYY-MM-DD)",
            )
        return last, "the last transaction date"


def last_transaction_date(transactions: pl.DataFrame) -> dt.date | None:
    """The latest ``order_date`` of a transactions table (``None`` without rows).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> last_transaction_date(pl.DataFrame({"order_date": [dt.date(2024, 1, 2),
    ...                                                    dt.date(2024, 3, 1)]}))
    datetime.date(2024, 3, 1)
    """
    value = transactions[schema.ORDER_DATE].max()
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def identical_lines(transactions: pl.DataFrame) -> pl.DataFrame:
    """The lines equal to an earlier line in every column but the row numbers.

    ``source_row`` and :data:`LINE_NO` are left out of the comparison, so the result is the
    same whether or not the project keeps identical lines.  The first copy is not listed.

    Examples
    --------
    >>> import polars as pl
    >>> tx = pl.DataFrame({"source_row": [1, 2, 3], "line_no": [1, 2, 3],
    ...                    "customer_id": ["a", "a", "b"], "amount": [5.0, 5.0, 5.0]})
    >>> identical_lines(tx)["source_row"].to_list()
    [2]
    """
    from workbench.core.prepare import exact_duplicates

    columns = [c for c in transactions.columns if c not in ("source_row", LINE_NO)]
    if not columns or transactions.height == 0:
        return transactions.head(0)
    return transactions.filter(exact_duplicates(transactions, columns))


def cdnow_problem(lines: Iterable[str]) -> tuple[int, str] | None:
    """The first line that is not in the CDNOW layout, and why; ``None`` when all are.

    The layout (Fader, Hardie & Lee 2005; :func:`workbench.core.io.cdnow.read_cdnow`): lines
    of 4 (customer id, date, CDs, dollars) or 5 (customer id, sample id, date, CDs, dollars)
    whitespace-separated fields, the ids digits, the date 8 digits (``YYYYMMDD``), CDs and
    dollars numbers; every line has as many fields as the first.  The first line may be a
    header of as many words without a number (``CDNOW_master.txt`` has one).  Blank lines are
    skipped; a text without any data line is refused (line 1).

    Parameters
    ----------
    lines
        The lines of the file, without their line ends.

    Returns
    -------
    (int, str) or None
        The 1-based line number and the problem.

    Examples
    --------
    >>> cdnow_problem([" 00004 0001 19970101  2   29.33", " 00004 0001 19970118  2   29.73"])
    >>> cdnow_problem(["customer_id date cds dollars", "1 19970101 1 11.77", "1 1997-01-02 1 9"])
    (3, "date '1997-01-02' is not 8 digits YYYYMMDD")
    """
    width = 0
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if width == 0 and number == 1 and len(fields) in (4, 5) and not any(
            _CDNOW_NUMBER.fullmatch(f) for f in fields
        ):
            width = len(fields)  # a header line
            continue
        if len(fields) not in (4, 5) or (width and len(fields) != width):
            wanted = f"{width}" if width else "4 or 5"
            return number, (
                f"{len(fields)} whitespace-separated field{'' if len(fields) == 1 else 's'}, "
                f"expected {wanted} (customer id, "
                "[sample id,] date YYYYMMDD, CDs, dollars)"
            )
        width = len(fields)
        ids, date, numbers = fields[: width - 3], fields[width - 3], fields[width - 2 :]
        for value in ids:
            if not value.isascii() or not value.isdigit():
                return number, f"id {clip(repr(value), 30)} is not digits"
        if not (len(date) == 8 and date.isascii() and date.isdigit()):
            return number, f"date {clip(repr(date), 30)} is not 8 digits YYYYMMDD"
        for value in numbers:
            if not _CDNOW_NUMBER.fullmatch(value):
                return number, f"{clip(repr(value), 30)} is not a number"
    if width == 0:
        return 1, "no data lines"
    return None


def read_cdnow_checked(path: str | Path) -> pl.DataFrame:
    """:func:`workbench.core.io.cdnow.read_cdnow` after checking the file's layout.

    ``read_cdnow`` leaves out lines whose first field is not digits (the master file's
    header); a file in another layout would lose its lines silently, so every line is checked
    first with :func:`cdnow_problem`.

    Raises
    ------
    DataValidationError
        Naming the file and the first line that is not CDNOW-shaped (or the file is missing,
        a folder, or not text).

    Examples
    --------
    >>> read_cdnow_checked("sample_data/cdnow/CDNOW_sample.txt").height
    6919
    """
    p = Path(path)
    if p.is_file():
        try:
            text = p.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise DataValidationError(
                str(p), None, 'is not text in the CDNOW layout (format = "cdnow")'
            ) from None
        found = cdnow_problem(text.splitlines())
        if found is not None:
            line, problem = found
            raise DataValidationError(
                str(p), None, f'line {line}: not in the CDNOW layout (format = "cdnow"): {problem}'
            )
    return read_cdnow(p)


# ------------------------------------------------------------------------------------------
# Loading


def _fail(src: str, where: str, problem: str) -> ConfigError:
    return ConfigError(src, where, problem)


def _check_keys(src: str, where: str, given: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _fail(
                src,
                where,
                f"unknown key {clip(repr(key), 40)}{hint}; allowed: {', '.join(allowed)}",
            )


def _text(src: str, where: str, value: Any, *, empty_ok: bool = True) -> str:
    if not isinstance(value, str):
        raise _fail(src, where, f"expected text in quotes, got {clip(repr(value), 40)}")
    if not empty_ok and not value.strip():
        raise _fail(src, where, "must not be empty")
    return value


def _bool(src: str, where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(src, where, f"expected true or false, got {clip(repr(value), 40)}")
    return value


def _choice(src: str, where: str, value: Any, allowed: tuple[str, ...]) -> str:
    text = _text(src, where, value)
    if text not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise _fail(src, where, f"unknown value {clip(repr(text), 40)}; allowed: {choices}")
    return text


def _date(src: str, where: str, value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(src, where, value).strip()
    if text.lower() in ("last", ""):
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise _fail(
        src, where, f"expected \"last\" or a date YYYY-MM-DD, got {clip(repr(text), 40)}"
    )


def _one_char(src: str, where: str, value: Any, *, empty_is_none: bool) -> str | None:
    text = _text(src, where, value)
    if text == "" and empty_is_none:
        return None
    if len(text) != 1 or len(text.encode("utf-8")) != 1:
        raise _fail(
            src,
            where,
            f"expected one ASCII character (\"\\t\" for a tab), got {clip(repr(text), 20)}",
        )
    return text


def _cdnow_format(src: str, where: str, section: dict) -> bool:
    """Whether the section's ``format`` is ``"cdnow"`` (checked), with no key it cannot take."""
    fmt = _choice(src, f"{where} format", section["format"], FORMATS)
    if fmt != "cdnow":
        return False
    for key in section:
        if key not in _CDNOW_KEYS:
            raise _fail(
                src,
                f"{where} {key}",
                'not allowed with format = "cdnow": the CDNOW layout fixes the fields, '
                "the separator, the date format and the order ids; remove the key "
                "(allowed with it: path, format)",
            )
    return True


def _table(
    src: str, base: Path, name: str, section: Any
) -> TableSource:
    where = f"[{name}]"
    if not isinstance(section, dict):
        raise _fail(src, where, "expected a section (a table of keys)")
    _check_keys(src, where, section, _TRANSACTION_KEYS if name == "transactions" else _TABLE_KEYS)
    if "path" not in section:
        raise _fail(src, f"{where} path", "missing: the data file, relative to the project file")
    raw_path = _text(src, f"{where} path", section["path"], empty_ok=False)
    path = Path(raw_path).expanduser()
    path = path if path.is_absolute() else base / path
    if "format" in section and _cdnow_format(src, where, section):
        return TableSource(name, path, format="cdnow")
    options: dict[str, Any] = {}
    if "separator" in section:
        options["separator"] = _one_char(
            src, f"{where} separator", section["separator"], empty_is_none=False
        )
    if "quote_char" in section:
        options["quote_char"] = _one_char(
            src, f"{where} quote_char", section["quote_char"], empty_is_none=True
        )
    if "encoding" in section:
        encoding = _text(src, f"{where} encoding", section["encoding"], empty_ok=False)
        import codecs

        norm = encoding.lower().replace("-", "").replace("_", "")
        if norm not in ("utf8", "utf8lossy"):
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise _fail(
                    src,
                    f"{where} encoding",
                    f"unknown encoding {clip(repr(encoding), 30)} (try \"utf8\", \"cp1252\" "
                    "or \"latin-1\")",
                ) from None
        options["encoding"] = encoding
    if "decimal_comma" in section:
        options["decimal_comma"] = _bool(src, f"{where} decimal_comma", section["decimal_comma"])
    if "date_format" in section:
        fmt = _text(src, f"{where} date_format", section["date_format"]).strip()
        if fmt and "%" not in fmt:
            raise _fail(
                src,
                f"{where} date_format",
                f"{clip(repr(fmt), 40)} is not a strptime format (e.g. \"%d/%m/%Y\"; "
                "\"\" for ISO dates)",
            )
        options["date_format"] = fmt or None
    columns, amount_from = _columns(src, name, section.get("columns", {}))
    return TableSource(name, path, columns, amount_from=amount_from, **options)


def _columns(
    src: str, table: str, mapping: Any
) -> tuple[dict[str, str], tuple[str, str] | None]:
    where = f"[{table}] columns"
    if not isinstance(mapping, dict):
        raise _fail(src, where, "expected a table: workbench name = \"column in your file\"")
    allowed = _TARGETS[table]
    renames: dict[str, str] = {}
    for target, column in mapping.items():
        if target not in allowed:
            close = difflib.get_close_matches(str(target), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _fail(
                src,
                where,
                f"unknown target {clip(repr(target), 40)}{hint}; allowed: {', '.join(allowed)}",
            )
        name = _text(src, f"{where} {target}", column, empty_ok=False).strip()
        if name in renames:
            raise _fail(
                src,
                where,
                f"column {clip(repr(name), 40)} is mapped twice ({renames[name]!r} and "
                f"{target!r})",
            )
        renames[name] = target
    targets = set(renames.values())
    amount_from = None
    if table == "transactions" and UNIT_PRICE in targets:
        if schema.AMOUNT in targets:
            raise _fail(
                src,
                where,
                "map either amount, or quantity and unit_price (amount = quantity x "
                "unit_price), not both",
            )
        if "quantity" not in targets:
            raise _fail(
                src,
                where,
                "unit_price needs quantity too (amount = quantity x unit_price)",
            )
        amount_from = ("quantity", UNIT_PRICE)
    return {k: v for k, v in renames.items() if k != v}, amount_from


def parse_project(data: Mapping[str, Any], path: str | Path) -> Project:
    """Validate the parsed TOML of a project file and build the :class:`Project`.

    Parameters
    ----------
    data
        The parsed file (:func:`tomllib.loads`).
    path
        The project file; relative data paths are resolved against its folder.

    Raises
    ------
    ConfigError
        Naming the section and key.

    Examples
    --------
    >>> p = parse_project({"transactions": {"path": "tx.csv"}}, "/data/workbench.toml")
    >>> str(p.transactions.path), p.as_of, p.identical_lines
    ('/data/tx.csv', None, 'keep')
    """
    # long: reads every section of workbench.toml in order, each with its own one-line ConfigError
    file = Path(path).absolute()
    src = str(path)
    _check_keys(src, "", data, _SECTIONS)
    project = data.get("project", {})
    if not isinstance(project, dict):
        raise _fail(src, "[project]", "expected a section (a table of keys)")
    _check_keys(src, "[project]", project, _PROJECT_KEYS)
    ids = data.get("ids", {})
    if not isinstance(ids, dict):
        raise _fail(src, "[ids]", "expected a section (a table of keys)")
    _check_keys(src, "[ids]", ids, _ID_KEYS)
    if "transactions" not in data:
        raise _fail(src, "[transactions]", "missing: the transactions table is required")
    options: dict[str, Any] = {}
    if "name" in project:
        options["name"] = _text(src, "[project] name", project["name"])
    if "currency" in project:
        currency = _text(src, "[project] currency", project["currency"]).strip()
        if not _CURRENCY.fullmatch(currency):
            raise _fail(
                src,
                "[project] currency",
                f"expected an ISO 4217 code of three capital letters (\"EUR\", \"GBP\"), got "
                f"{clip(repr(currency), 20)}",
            )
        options["currency"] = currency
    if "locale" in project:
        locale = _text(src, "[project] locale", project["locale"]).strip()
        if not _LOCALE.fullmatch(locale):
            raise _fail(
                src,
                "[project] locale",
                f"expected a locale such as \"en\", \"en_GB\" or \"de-DE\", got "
                f"{clip(repr(locale), 20)}",
            )
        options["locale"] = locale
    if "timezone" in project:
        zone = _text(src, "[project] timezone", project["timezone"], empty_ok=False).strip()
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise _fail(
                src,
                "[project] timezone",
                f"unknown time zone {clip(repr(zone), 40)} (use an IANA name such as "
                "\"Europe/London\", or \"UTC\")",
            ) from None
        options["timezone"] = zone
    if "as_of" in project:
        options["as_of"] = _date(src, "[project] as_of", project["as_of"])
    if "trailing_zeros" in ids:
        options["id_trailing_zeros"] = _bool(src, "[ids] trailing_zeros", ids["trailing_zeros"])
    if "case" in ids:
        options["id_case"] = _choice(src, "[ids] case", ids["case"], ID_CASES)
    tx_section = data["transactions"]
    if isinstance(tx_section, dict) and "identical_lines" in tx_section:
        options["identical_lines"] = _choice(
            src,
            "[transactions] identical_lines",
            tx_section["identical_lines"],
            IDENTICAL_LINES,
        )
    if isinstance(tx_section, dict) and "missing_customer_id" in tx_section:
        options["missing_customer_id"] = _choice(
            src,
            "[transactions] missing_customer_id",
            tx_section["missing_customer_id"],
            MISSING_CUSTOMER_ID,
        )
    gates = data.get("gates", {})
    if not isinstance(gates, dict):
        raise _fail(src, "[gates]", "expected a section (a table of keys)")
    _check_keys(src, "[gates]", gates, _GATE_KEYS)
    if "fail_on" in gates:
        rules = gates["fail_on"]
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise _fail(
                src,
                "[gates] fail_on",
                "expected a list of texts such as [\"set_aside_share>0.05\"]",
            )
        options["gates"] = tuple(r.strip() for r in rules if r.strip())
    base = file.parent
    tables = {
        name: _table(src, base, name, data[name])
        for name in _TABLES
        if name in data
    }
    return Project(
        path=file,
        name=options.pop("name", None) or base.name,
        transactions=tables["transactions"],
        customers=tables.get("customers"),
        surveys=tables.get("surveys"),
        **options,
    )


def load_project(path: str | Path) -> Project:
    """Read and validate a project file.

    Parameters
    ----------
    path
        The ``workbench.toml`` file (or a folder holding one).

    Returns
    -------
    Project

    Raises
    ------
    ConfigError
        The file is missing, is not valid TOML, or a key is unknown or has a bad value; the
        message names the section and key.  The data files themselves are not read here.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "workbench.toml").write_text('[transactions]\\npath = "shop.csv"\\n')
    >>> project = load_project(folder)  # the folder, or the file itself
    >>> project.transactions.path == folder / "shop.csv"  # relative to the project file
    True
    """
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / DEFAULT_FILE_NAME
    src = str(p)
    if not p.exists():
        raise _fail(
            src,
            "",
            "project file not found (write one with `workbench init <your export.csv>`)",
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(src, "", "is not UTF-8 text") from None
    except OSError as exc:
        raise _fail(src, "", f"cannot be read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(src, "", f"is not valid TOML: {clip(exc, 160)}") from None
    return parse_project(data, p)
