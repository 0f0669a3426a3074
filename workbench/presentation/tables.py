"""Tables for people in the report notebooks: Great Tables, formatted, never a dtype row.

A report shows a Polars frame through :func:`show_table` (or builds the table with
:func:`gt_table`): column labels in words, currency with thousands separators, shares as
percentages, counts with separators, missing values as a dash, lists joined with commas. The
result is a :class:`great_tables.GT`, whose HTML carries its own CSS (no CDN, no script), so it
renders in the HTML export of an executed notebook as it does in JupyterLab.

Long tables are not truncated silently: :func:`show_table` shows the first ``max_rows`` rows and
writes the whole frame as a CSV next to the executed notebook, in the report folder named by
the ``WORKBENCH_REPORT_DIR`` environment variable (set by ``workbench report`` for its kernels,
:func:`report_dir`), with a line under the table linking the file. Run interactively (no report
folder), the line says how many rows were left out.

The summary that opens each report is built by :func:`summary_html` from the headline rows and
the findings of :mod:`workbench.presentation.findings`.

Examples
--------
>>> import polars as pl
>>> t = gt_table(pl.DataFrame({"segment": ["A"], "revenue": [1234.6], "customer_share": [0.25]}))
>>> "$1,235" in t.as_raw_html() and "25.0%" in t.as_raw_html()
True
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import cast

import polars as pl
from great_tables import GT

#: Environment variable naming the folder a report notebook is written to (its CSVs go there).
REPORT_DIR_ENV = "WORKBENCH_REPORT_DIR"
#: Shown for a missing value.
MISSING = "–"
#: Rows shown before the rest goes to an attached CSV.
DEFAULT_MAX_ROWS = 25

#: Words in a column name that mark an amount of money.
_MONEY_WORDS = ("revenue", "spend", "clv", "profit", "amount", "monetary", "historical",
                "predicted_total", "predicted_mean", "value_at_stake", "historical_value",
                "predicted_revenue")
#: Abbreviations kept as written in labels.
_ACRONYMS = {"nps": "NPS", "clv": "CLV", "aic": "AIC", "bic": "BIC", "mae": "MAE",
             "rmse": "RMSE", "ci": "CI", "id": "ID", "rfm": "RFM", "pct": "%"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def report_dir() -> Path | None:
    """The report folder of the running report (``WORKBENCH_REPORT_DIR``), or ``None``.

    Examples
    --------
    >>> import os
    >>> os.environ.pop("WORKBENCH_REPORT_DIR", None) and None
    >>> report_dir() is None
    True
    """
    value = os.environ.get(REPORT_DIR_ENV, "").strip()
    return Path(value) if value else None


def column_label(name: str) -> str:
    """A column name in words: ``customer_share`` -> ``Customer share``, ``nps`` -> ``NPS``.

    Examples
    --------
    >>> column_label("customer_share"), column_label("mean_clv"), column_label("I_v")
    ('Customer share', 'Mean CLV', 'I_v')
    """
    if not name.islower() and "_" in name and len(name) <= 4:  # a formula symbol (I_v, R_0)
        return name
    words = [_ACRONYMS.get(w.lower(), w) for w in name.split("_") if w]
    if not words:
        return name
    first = words[0]
    words[0] = first if first.isupper() or first == "%" else first[:1].upper() + first[1:]
    return " ".join(words)


def column_kinds(frame: pl.DataFrame) -> dict[str, str]:
    """How each column is formatted: ``money``, ``percent``, ``integer``, ``decimal`` or
    ``text``, from its name and type.

    Shares (a name ending in ``share``) are percentages; names with a money word
    (``revenue``, ``spend``, ``clv``, ``profit``, ``value_at_stake``...) are currency; other
    integers are counts and other floats decimals.

    Examples
    --------
    >>> column_kinds(pl.DataFrame({"segment": ["a"], "customers": [3], "revenue": [1.0],
    ...                            "revenue_share": [0.5], "rho": [0.2]}))
    {'segment': 'text', 'customers': 'integer', 'revenue': 'money', 'revenue_share': \
'percent', 'rho': 'decimal'}
    """
    kinds = {}
    for name, dtype in frame.schema.items():
        lower = name.lower()
        if not dtype.is_numeric():
            kinds[name] = "text"
        elif lower.endswith("share"):
            kinds[name] = "percent"
        elif any(w in lower for w in _MONEY_WORDS) and dtype.is_float():
            kinds[name] = "money"
        elif dtype.is_integer():
            kinds[name] = "integer"
        else:
            kinds[name] = "decimal"
    return kinds


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists joined with commas, dates and other objects as text, booleans as yes/no."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List):
            exprs.append(col.cast(pl.List(pl.String)).list.join(", "))
        elif dtype == pl.Boolean:
            exprs.append(pl.when(col).then(pl.lit("yes")).when(col.not_()).then(pl.lit("no"))
                         .otherwise(None).alias(name))
        elif dtype.is_temporal() or isinstance(dtype, (pl.Struct, pl.Array, pl.Object)):
            exprs.append(col.cast(pl.String))
        elif dtype.is_float():
            exprs.append(col.fill_nan(None))
    return frame.with_columns(exprs) if exprs else frame


def _table_id(frame: pl.DataFrame, title: str | None) -> str:
    key = f"{title}|{','.join(frame.columns)}|{frame.height}"
    return "wb" + hashlib.sha1(key.encode()).hexdigest()[:10]


def gt_table(
    frame: pl.DataFrame,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    money: Iterable[str] = (),
    percent: Iterable[str] = (),
    integer: Iterable[str] = (),
    decimals: Mapping[str, int] | None = None,
    text: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    currency: str | None = None,
    locale: str | None = None,
    source_note: str | None = None,
) -> GT:
    """A formatted Great Tables table of ``frame``.

    Column formats come from :func:`column_kinds`; ``money``, ``percent``, ``integer``,
    ``decimals`` (column -> number of decimals) and ``text`` override them.

    Parameters
    ----------
    frame
        The data (not changed).
    title, subtitle
        Header lines.
    money, percent, integer, decimals, text
        Columns to format as currency, percentage (a share 0-1), count, a number with the
        given decimals, or to leave as they are.
    labels
        Column -> label; others are labelled by :func:`column_label`.
    currency
        ISO 4217 code of money columns; ``None``: that of
        :func:`workbench.presentation.formatting.current` (set by ``use_formats``, default USD).
    locale
        Great Tables locale (``"en"``, ``"de"``...); ``None``: English.
    source_note
        A line under the table.

    Returns
    -------
    great_tables.GT

    Examples
    --------
    >>> t = gt_table(pl.DataFrame({"n": [1234567]}), labels={"n": "Customers"})
    >>> "1,234,567" in t.as_raw_html() and "Customers" in t.as_raw_html()
    True
    """
    if currency is None:
        from workbench.presentation.formatting import current

        currency = current().code
    kinds = column_kinds(frame)
    for kind, names in (("money", money), ("percent", percent), ("integer", integer),
                        ("text", text)):
        for name in names:
            kinds[name] = kind
    for name in decimals or {}:
        kinds[name] = "decimal"
    data = _plain(frame)
    table = GT(data, id=_table_id(frame, title))
    by_kind: dict[str, list[str]] = {}
    for name, kind in kinds.items():
        if name in data.columns:
            by_kind.setdefault(kind, []).append(name)
    loc = locale or None  # an empty locale means English, as None does
    for name in by_kind.get("money", []):
        # a money column is numeric; polars types max() as any Python value
        biggest = cast("float | None", data[name].abs().max()) if data.height else 0
        places = 0 if biggest is not None and float(biggest) >= 1000 else 2
        table = table.fmt_currency(name, currency=currency, decimals=places, locale=loc)
    if by_kind.get("percent"):
        table = table.fmt_percent(by_kind["percent"], decimals=1, locale=loc)
    if by_kind.get("integer"):
        table = table.fmt_integer(by_kind["integer"], locale=loc)
    for name in by_kind.get("decimal", []):
        table = table.fmt_number(name, decimals=(decimals or {}).get(name, 2), locale=loc)
    numeric = [n for n, k in kinds.items() if k != "text" and n in data.columns]
    if numeric:
        table = table.cols_align("right", columns=numeric)
    table = table.sub_missing(missing_text=MISSING)
    # passed as ``cases`` (not ``**``): a column may be named like a parameter ("cases")
    table = table.cols_label(cases={name: (labels or {}).get(name, column_label(name))
                                    for name in data.columns})
    if title:
        table = table.tab_header(title=title, subtitle=subtitle)
    if source_note:
        table = table.tab_source_note(source_note)
    return table


def csv_name(name: str) -> str:
    """A safe CSV file name from ``name`` (``"At risk"`` -> ``at_risk.csv``).

    Examples
    --------
    >>> csv_name("Early warnings (all)")
    'early_warnings_all.csv'
    """
    stem = _SAFE_NAME.sub("_", name.strip().lower()).strip("_.") or "table"
    return stem.removesuffix(".csv") + ".csv"


def attach_csv(frame: pl.DataFrame, name: str, folder: Path | None = None) -> Path | None:
    """Write ``frame`` as ``<name>.csv`` into the report folder; ``None`` when there is none.

    Lists are joined with commas so that every cell is plain text.

    Examples
    --------
    >>> import tempfile
    >>> out = attach_csv(pl.DataFrame({"a": [1]}), "x", Path(tempfile.mkdtemp()))
    >>> out.name, out.read_text()
    ('x.csv', 'a\\n1\\n')
    """
    folder = folder if folder is not None else report_dir()
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / csv_name(name)
    plain = frame.with_columns(
        pl.col(n).cast(pl.List(pl.String)).list.join(", ")
        for n, t in frame.schema.items() if isinstance(t, pl.List)
    )
    plain.write_csv(path)
    return path


def show_table(frame: pl.DataFrame, *, max_rows: int | None = DEFAULT_MAX_ROWS,
               csv: str | None = None, folder: Path | None = None, **options: object) -> GT:
    """A formatted table of at most ``max_rows`` rows; the whole frame goes to a CSV.

    When ``csv`` is given, the whole frame is written as ``<csv>.csv`` in the report folder
    (:func:`attach_csv`) whether or not it is cut, and the note under the table links it.

    Parameters
    ----------
    frame
        The data.
    max_rows
        Rows shown; ``None`` shows all.
    csv
        Name of the attached CSV.
    folder
        Report folder; default :func:`report_dir`.
    **options
        Passed on to :func:`gt_table`.

    Examples
    --------
    >>> t = show_table(pl.DataFrame({"x": range(30)}), max_rows=5)
    >>> "first 5 of 30 rows" in t.as_raw_html()
    True
    """
    shown = frame if max_rows is None or frame.height <= max_rows else frame.head(max_rows)
    path = attach_csv(frame, csv, folder) if csv else None
    notes = []
    if shown.height < frame.height:
        notes.append(f"The first {shown.height:,} of {frame.height:,} rows.")
    if path is not None:
        notes.append(f'All {frame.height:,} rows: <a href="{html.escape(path.name)}">'
                     f"{html.escape(path.name)}</a>.")
    note = " ".join(notes) or None
    given = options.pop("source_note", None)
    if given:
        note = f"{given} {note}" if note else str(given)
    if note is not None:
        from great_tables import html as gt_html

        return gt_table(shown, source_note=gt_html(note), **options)  # type: ignore[arg-type]
    return gt_table(shown, **options)  # type: ignore[arg-type]


def summary_html(title: str, headlines: pl.DataFrame, findings: Sequence[str],
                 lead: str = "") -> str:
    """The one-screen summary that opens a report: a lead line, the findings as a list and
    the headline numbers with their change and definition.

    Parameters
    ----------
    title
        Heading of the summary.
    headlines
        :func:`workbench.presentation.findings.headline_frame` (text columns ``measure``, ``value``,
        ``change``, ``definition``).
    findings
        Sentences (:mod:`workbench.presentation.findings`), shown as a list.
    lead
        A sentence above the findings (as-of date, data).

    Examples
    --------
    >>> from workbench.presentation.findings import Headline, headline_frame
    >>> page = summary_html("Summary", headline_frame([Headline("Customers", "3", "", "Buyers")]),
    ...                     ["A < B."])
    >>> "<li>A &lt; B.</li>" in page and "Customers" in page
    True
    """
    parts = [f"<h2>{html.escape(title)}</h2>"]
    if lead:
        parts.append(f"<p>{html.escape(lead)}</p>")
    if findings:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in findings)
        parts.append(f"<p><strong>Findings</strong></p><ul>{items}</ul>")
    table = gt_table(headlines, text=headlines.columns,
                     labels={"measure": "Measure", "value": "Value",
                             "change": "Change", "definition": "What it counts"})
    table = table.cols_align("right", columns=["value"]).cols_align("left", columns=["change"])
    parts.append(table.as_raw_html())
    return "\n".join(parts)
