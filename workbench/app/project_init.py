"""``workbench init``: look at an export and propose a project file.

:func:`propose_project` reads the header and the values of a CSV (or Parquet) file and
guesses what ``workbench.toml`` needs (:mod:`workbench.core.project`):

* **encoding**: UTF-8 when the file decodes as UTF-8, else ``cp1252`` (Windows exports), else
  ``latin-1``;
* **separator**: the one of ``,``, ``;``, tab and ``|`` that splits the header and the first
  lines into the same number of fields (:class:`csv.Sniffer`, then a count);
* **columns**: known names, compared without case, spaces, ``_`` and ``-``: the UCI Online
  Retail names (``Invoice``/``InvoiceNo``, ``StockCode``, ``Description``, ``Quantity``,
  ``InvoiceDate``, ``Price``/``UnitPrice``, ``Customer ID``/``CustomerID``, ``Country``),
  CDNOW-like names (``customer``, ``date``, ``quantity``/``cds``, ``amount``/``dollars``) and
  the usual BI names (``order_id``, ``order_date``, ``revenue``, ``sales``, ``qty``...).  With
  an amount column the amount is read; without one, quantity x unit price;
* **date format**: ISO dates need none; otherwise the first strptime format (day-first and
  month-first, with and without a time) that reads every date of the file.  When both
  day-first and month-first read every date, month-first is taken only if it is the only one
  that fits; the choice is printed as an assumption to check;
* **decimal comma**: number columns written ``3,5`` or ``1.234,5``;
* **ids**: ids written ``17850.0`` get ``[ids] trailing_zeros = true``;
* **lines without a customer id** (a quarter of the UCI Online Retail export): when the file
  has any, ``missing_customer_id = "set_aside"`` (they are counted by ``workbench check`` and
  in the reports, and left out of the analyses), printed with their number; otherwise
  ``"refuse"``, the default;
* **the CDNOW layout** (Fader, Hardie & Lee 2005: no header, lines of 4 or 5 whitespace-
  separated numeric fields, the date 8 digits; :func:`workbench.core.project.cdnow_problem`):
  ``format = "cdnow"``, and nothing else to guess.

:func:`render_toml` writes the proposal as commented TOML (values escaped, read back with
:mod:`tomllib` to be sure).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from workbench.core import schema
from workbench.core.io.readers import read_table
from workbench.core.project import cdnow_problem

#: Known column names per workbench name, compared by :func:`normalise_name`.
SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "customer_id": (
        "customerid", "customer", "customerno", "customernumber", "custid", "clientid",
        "client", "clientno", "memberid", "userid", "buyerid", "accountid", "shopperid", "id",
    ),
    "order_id": (
        "orderid", "invoice", "invoiceno", "invoicenumber", "invoiceid", "order", "orderno",
        "ordernumber", "transactionid", "receipt", "receiptid", "receiptno", "basketid",
        "ticketid", "documentno",
    ),
    "order_date": (
        "orderdate", "invoicedate", "date", "transactiondate", "purchasedate", "saledate",
        "orderdatetime", "timestamp", "datetime", "invoicedatetime", "createdat", "time",
    ),
    "amount": (
        "amount", "total", "revenue", "sales", "value", "spend", "lineamount", "linetotal",
        "totalprice", "netamount", "linevalue", "dollars", "dollarvalue", "salesamount",
        "turnover", "monetary", "totalamount", "ordervalue",
    ),
    "quantity": (
        "quantity", "qty", "units", "numberofunits", "nitems", "items", "cds", "ncds",
        "numberofcds", "pieces",
    ),
    "unit_price": ("price", "unitprice", "priceperunit", "itemprice", "unitcost", "priceeach"),
    "cost": ("cost", "cogs", "costofgoods", "totalcost"),
    "margin": ("margin", "profit", "grossprofit", "grossmargin"),
    "channel": ("channel", "saleschannel"),
    "category": ("category", "productcategory", "productgroup", "department"),
}
#: Date formats tried in turn when the dates are not ISO.
DATE_FORMATS: Final = (
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m/%d/%y %H:%M",
    "%d/%m/%y %H:%M",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d %b %Y",
    "%b %d %Y",
)
_SEPARATORS: Final = (",", ";", "\t", "|")
_SAMPLE_BYTES: Final = 1 << 16
_DECIMAL_COMMA: Final = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_DOT_DECIMAL: Final = re.compile(r"^[+-]?\d*\.\d+$")
_FLOAT_ID: Final = r"^[+-]?\d+\.0+$"


def normalise_name(name: str) -> str:
    """A column name compared without case, spaces, ``_``, ``-`` and dots.

    Examples
    --------
    >>> normalise_name(" Customer ID"), normalise_name("INVOICE_NO")
    ('customerid', 'invoiceno')
    """
    return re.sub(r"[\s_\-.]+", "", name.strip().removeprefix("\ufeff")).lower()


@dataclass
class Proposal:
    """What :func:`propose_project` found: the project file's values and the assumptions.

    Attributes
    ----------
    data_path
        The file looked at.
    columns
        ``{workbench name: column in the file}``.
    separator, encoding, decimal_comma, date_format, trailing_zeros
        The reading options found.
    header
        The file's column names.
    unmapped
        Columns of the file not mapped (kept as they are).
    missing
        Required workbench names not found (the project file needs an edit).
    assumptions
        One line per guess, to print.
    last_date
        The last transaction date found (for the printed as-of), when the dates were read.
    lines, lines_without_customer_id
        Lines of the file, and lines whose customer id cell is empty.
    format
        ``"auto"``, or ``"cdnow"`` for a file in the CDNOW layout (then only the path counts).
    """

    data_path: Path
    columns: dict[str, str] = field(default_factory=dict)
    separator: str = ","
    encoding: str = "utf8"
    decimal_comma: bool = False
    date_format: str = ""
    trailing_zeros: bool = False
    header: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    last_date: Any = None
    lines: int = 0
    lines_without_customer_id: int = 0
    format: str = "auto"


def looks_like_cdnow(raw: bytes, *, truncated: bool = False) -> int:
    """The number of fields (4 or 5) when ``raw`` is text in the CDNOW layout, else 0.

    See :func:`workbench.core.project.cdnow_problem`.  With ``truncated`` (``raw`` is the start
    of a longer file) the last, possibly cut, line is not looked at.

    Examples
    --------
    >>> looks_like_cdnow(b"00004 0001 19970101 2 29.33\\r\\n00004 0001 19970118 2 29.73\\r\\n")
    5
    >>> looks_like_cdnow(b"customer,date,amount\\n1,2024-01-01,5\\n")
    0
    """
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return 0
    if truncated:
        lines = lines[:-1]
    if cdnow_problem(lines) is not None:
        return 0
    data = [line.split() for line in lines if line.split()]
    return len(data[-1])


def sniff_encoding(raw: bytes, *, truncated: bool = False) -> str:
    """``"utf8"`` when ``raw`` decodes as UTF-8, else ``"cp1252"``, else ``"latin-1"``.

    With ``truncated`` (``raw`` is the start of a longer file) the last bytes may cut a
    multi-byte character in two; that is not held against UTF-8.

    Examples
    --------
    >>> sniff_encoding("Café".encode()), sniff_encoding("Café".encode("cp1252"))
    ('utf8', 'cp1252')
    """
    for encoding, name in (("utf-8", "utf8"), ("cp1252", "cp1252")):
        try:
            raw.decode(encoding)
            return name
        except UnicodeDecodeError as exc:
            if truncated and encoding == "utf-8" and exc.start >= len(raw) - 3:
                return name
    return "latin-1"


def sniff_separator(text: str) -> str:
    """The field separator of CSV text: ``,``, ``;``, tab or ``|``.

    Examples
    --------
    >>> sniff_separator("a;b;c\\n1;2,5;3\\n"), sniff_separator("a,b\\n1,2\\n")
    (';', ',')
    """
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(_SEPARATORS))
        if found.delimiter in _SEPARATORS and lines[0].count(found.delimiter):
            return found.delimiter
    except csv.Error:
        pass
    counts = {sep: lines[0].count(sep) for sep in _SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def propose_columns(header: list[str]) -> dict[str, str]:
    """``{workbench name: column}`` for the columns whose names are known.

    A column already named as the workbench names it wins over synonyms; each column is used
    once; ``unit_price`` is proposed only when there is no amount column.

    Examples
    --------
    >>> propose_columns(["Invoice", "StockCode", "Quantity", "InvoiceDate", "Price",
    ...                  "Customer ID", "Country"])  # doctest: +NORMALIZE_WHITESPACE
    {'customer_id': 'Customer ID', 'order_id': 'Invoice', 'order_date': 'InvoiceDate',
     'quantity': 'Quantity', 'unit_price': 'Price'}
    """
    by_norm: dict[str, str] = {}
    for name in header:
        by_norm.setdefault(normalise_name(name), name)
    used: set[str] = set()
    out: dict[str, str] = {}
    for target, synonyms in SYNONYMS.items():
        for candidate in (normalise_name(target), *synonyms):
            column = by_norm.get(candidate)
            if column is not None and column not in used:
                out[target] = column
                used.add(column)
                break
    if "amount" in out and "unit_price" in out:
        del out["unit_price"]
    if "unit_price" in out and "quantity" not in out:  # a lone "price" is the amount
        out["amount"] = out.pop("unit_price")
    return out


def _dates_read(values: pl.Series, fmt: str | None) -> bool:
    if fmt is None:
        from workbench.core.io.readers import _parse_date_text

        parsed = _parse_date_text(values, None, "UTC")
    else:
        parsed = values.str.to_datetime(fmt, strict=False)
    return parsed.null_count() == 0


def sniff_date_format(values: pl.Series) -> tuple[str, list[str]]:
    """The strptime format reading every date in ``values`` (``""`` for ISO) and notes.

    Examples
    --------
    >>> import polars as pl
    >>> sniff_date_format(pl.Series(["12/1/2010 8:26", "12/13/2010 9:01"]))[0]
    '%m/%d/%Y %H:%M'
    >>> sniff_date_format(pl.Series(["2010-12-01", "2011-01-31"]))[0]
    ''
    """
    text = values.cast(pl.String).str.strip_chars().drop_nulls().unique()
    text = text.filter(text != "")
    if text.len() == 0 or _dates_read(text, None):
        return "", []
    fitting = [fmt for fmt in DATE_FORMATS if _dates_read(text, fmt)]
    if not fitting:
        return "", [
            "no known date format reads every date: set [transactions] date_format by hand"
        ]
    chosen = fitting[0]
    notes = []
    swapped = chosen.replace("%m", "%M?").replace("%d", "%m").replace("%M?", "%d")
    if swapped != chosen and swapped in fitting:
        notes.append(
            f"dates read both as {chosen!r} and as {swapped!r} (no day above 12): "
            f"{chosen!r} assumed, check date_format"
        )
    return chosen, notes


def _numbers_use_decimal_comma(values: pl.Series) -> bool:
    text = values.cast(pl.String).str.strip_chars().drop_nulls()
    text = text.filter(text != "")
    if text.len() == 0:
        return False
    comma = text.str.contains(_DECIMAL_COMMA.pattern)
    dot = text.str.contains(_DOT_DECIMAL.pattern)
    return bool(comma.any()) and not bool(dot.any())


def propose_project(path: str | Path) -> Proposal:
    """Look at a data file and propose the project file's values.

    Parameters
    ----------
    path
        A CSV (``.csv``/``.txt``/``.tsv``) or Parquet file of transaction lines.

    Returns
    -------
    Proposal

    Raises
    ------
    DataValidationError
        The file cannot be read at all (missing, empty, unsupported type).
    """
    # long: one pass over the sniffed file, filling a Proposal field by field
    p = Path(path)
    prop = Proposal(data_path=p)
    is_csv = p.suffix.lower() in (".csv", ".txt", ".tsv")
    if is_csv and p.is_file():
        with p.open("rb") as fh:
            raw = fh.read(_SAMPLE_BYTES * 16)
        truncated = len(raw) == _SAMPLE_BYTES * 16
        width = looks_like_cdnow(raw, truncated=truncated)
        if width:
            prop.format = "cdnow"
            prop.header = ["customer_id", "sample_id"][: width - 3] + [
                "order_date", "quantity", "amount"
            ]
            prop.assumptions.append(
                'format = "cdnow": the CDNOW layout (whitespace-separated customer '
                "id, " + ("sample id, " if width == 5 else "") + "date YYYYMMDD, CDs, dollars; "
                "each line is one order)"
            )
            return prop
        prop.encoding = sniff_encoding(raw, truncated=truncated)
        decoded = raw.decode("utf-8" if prop.encoding == "utf8" else prop.encoding, "replace")
        prop.separator = "\t" if p.suffix.lower() == ".tsv" else sniff_separator(
            decoded[:_SAMPLE_BYTES].removeprefix("\ufeff")
        )
        if prop.encoding != "utf8":
            prop.assumptions.append(f"encoding: {prop.encoding} (the file is not UTF-8)")
        if prop.separator != ",":
            prop.assumptions.append(f"separator: {prop.separator!r}")
    frame = read_table(
        p,
        separator=prop.separator if is_csv else None,
        encoding=prop.encoding,
    )
    prop.header = [c.strip().removeprefix("\ufeff").strip() for c in frame.columns]
    frame.columns = prop.header
    prop.columns = propose_columns(prop.header)
    mapped = set(prop.columns.values())
    prop.unmapped = [c for c in prop.header if c not in mapped]
    prop.missing = [
        t for t in schema.TRANSACTION_REQUIRED
        if t not in prop.columns and not (t == "amount" and "unit_price" in prop.columns)
    ]
    for target, source in prop.columns.items():
        if source != target:
            prop.assumptions.append(f"{target} <- column {source!r}")
    if "unit_price" in prop.columns:
        prop.assumptions.append(
            f"amount = {prop.columns['quantity']!r} x {prop.columns['unit_price']!r} "
            "(negative quantities are returns)"
        )
    date_col = prop.columns.get("order_date")
    if date_col is not None and frame.schema[date_col] == pl.String:
        prop.date_format, notes = sniff_date_format(frame[date_col])
        prop.assumptions.extend(notes)
        if prop.date_format:
            example = frame[date_col].drop_nulls().head(1).to_list()
            shown = f" (e.g. {example[0]!r})" if example else ""
            prop.assumptions.append(f"date format: {prop.date_format!r}{shown}")
    numbers = [
        prop.columns[t] for t in ("amount", "quantity", "unit_price", "cost", "margin")
        if t in prop.columns and frame.schema[prop.columns[t]] == pl.String
    ]
    if numbers and any(_numbers_use_decimal_comma(frame[c]) for c in numbers):
        prop.decimal_comma = True
        prop.assumptions.append("decimal comma: numbers are written 3,5 or 1.234,5")
    for target in ("customer_id", "order_id"):
        column = prop.columns.get(target)
        if column is None:
            continue
        s = frame[column]
        if s.dtype == pl.String and s.str.contains(_FLOAT_ID).any():
            prop.trailing_zeros = True
    if prop.trailing_zeros:
        prop.assumptions.append("ids written like 17850.0 are read as 17850")
    prop.lines = frame.height
    column = prop.columns.get("customer_id")
    if column is not None and frame.height:
        s = frame[column]
        blank = s.is_null()
        if s.dtype == pl.String:
            blank = blank | (s.str.strip_chars() == "")
        prop.lines_without_customer_id = int(blank.sum())
    if prop.lines_without_customer_id:
        n = prop.lines_without_customer_id
        prop.assumptions.append(
            f"{n:,} of {prop.lines:,} lines ({n / prop.lines:.1%}) have no customer id: set "
            "aside, counted by `workbench check` and in the reports, left out of the "
            'analyses (missing_customer_id = "set_aside"; "refuse" stops on them)'
        )
    if prop.unmapped:
        shown = ", ".join(repr(c) for c in prop.unmapped[:8])
        more = f" and {len(prop.unmapped) - 8} more" if len(prop.unmapped) > 8 else ""
        prop.assumptions.append(f"kept as they are (not used by the analyses): {shown}{more}")
    return prop


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string, escaped (quotes, backslashes, control characters).

    Examples
    --------
    >>> print(toml_string('Customer "ID"\\\\x'))
    "Customer \\"ID\\"\\\\x"
    >>> import tomllib
    >>> tomllib.loads("k = " + toml_string("a\\tb\\x7f"))["k"] == "a\\tb\\x7f"
    True
    """
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("\x7f", "\\u007f")


def render_toml(prop: Proposal, project_file: Path) -> str:
    """The project file text for ``prop``, with comments (see :mod:`workbench.core.project`).

    The data path is written relative to the project file's folder when it lies below it.
    """
    data = prop.data_path.absolute()
    folder = project_file.absolute().parent
    try:
        shown_path = data.relative_to(folder).as_posix()
    except ValueError:
        shown_path = str(data)
    q = toml_string
    lines = [
        "# workbench project file: where the data are and how to read them.",
        f"# Written by `workbench init {prop.data_path.name}`; edit it freely.",
        "# Reference: docs/project-file.md. Check it with `workbench check --config <this file>`.",
        "",
        "[project]",
        f"name = {q(folder.name)}",
        'currency = "USD"          # ISO 4217 code shown in reports and on the dashboard',
        'locale = "en_US"          # number formats, e.g. "en_GB", "de_DE"',
        'timezone = "UTC"          # business time zone (IANA name, e.g. "Europe/London")',
        'as_of = "last"            # "last" = the last transaction date, or "YYYY-MM-DD"',
        "",
        "[ids]",
        f"trailing_zeros = {'true' if prop.trailing_zeros else 'false'}"
        "   # ids written 17850.0 are read as 17850",
        'case = "keep"             # "keep", "upper" or "lower"',
        "",
        "[transactions]",
        f"path = {q(shown_path)}",
    ]
    if prop.format == "cdnow":  # [ids] does not apply: read_cdnow's ids are used as read
        ids = lines.index("[ids]")
        return "\n".join([
            *lines[:ids],
            *lines[ids + 4 :],
            'format = "cdnow"          # the CDNOW layout: no separator, columns or date format '
            "to set",
            "",
        ])
    return "\n".join([*lines, *_csv_lines(prop)])


def _csv_lines(prop: Proposal) -> list[str]:
    """The ``[transactions]`` reading keys, the column map and the optional tables of a CSV."""
    q = toml_string
    lines = [
        f"separator = {q(prop.separator)}",
        f"encoding = {q(prop.encoding)}",
        f"decimal_comma = {'true' if prop.decimal_comma else 'false'}",
        f"date_format = {q(prop.date_format)}"
        + ("" if prop.date_format else '   # "" = ISO dates (2024-03-01) and date-times'),
        'identical_lines = "keep"  # identical lines are real purchases; "drop" sets copies aside',
        (f"missing_customer_id = {q('set_aside' if prop.lines_without_customer_id else 'refuse')}"
         '   # lines without a customer id: "refuse" or "set_aside" (counted, not analysed)'),
        "",
        "[transactions.columns]    # workbench name = column in your file",
    ]
    for target, column in prop.columns.items():
        lines.append(f"{target} = {q(column)}")
    for target in prop.missing:
        lines.append(f'# {target} = "?"   # NOT FOUND: name the column of your file')
    lines += [
        "",
        "# Optional tables (same keys as [transactions], without identical_lines):",
        "# [customers]",
        '# path = "customers.csv"',
        "# [surveys]",
        '# path = "surveys.csv"',
        "",
    ]
    return lines
