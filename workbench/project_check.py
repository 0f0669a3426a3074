"""``workbench check``: read a project's data and report on its quality.

:func:`check_project` reads every table of a project (:mod:`workbench.project`), applies the
data rules (:func:`workbench.prepare.prepare_orders`) at the as-of date and returns a
:class:`ProjectCheck`: the counts and example rows by reason, the identical lines and how the
project treats them, and the revenue tie-out (revenue in = revenue summarised + revenue set
aside).  Revenue set aside is the amount of the rows set aside plus the returns that were
netted into an order they cancelled (those returns are "used" in the data-quality report, but
their value leaves with the cancelled order); the latter is shown as its own line.

Errors (``ProjectCheck.errors``; ``workbench check`` exits with 2): no purchase on or before
the as-of date, or revenue that does not tie out.  A table that cannot be read raises
(:class:`~workbench.errors.DataValidationError`) before a report exists.  Rows set aside are
not errors: they are listed, with the rule that set them aside.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench import schema
from workbench.money import to_minor_units
from workbench.prepare import prepare_orders
from workbench.project import LINE_NO, Project, identical_lines
from workbench.quality import DataQualityReport

#: Example rows shown per reason.
N_EXAMPLES = 3
_SHOWN = (schema.CUSTOMER_ID, schema.ORDER_ID, schema.ORDER_DATE, schema.AMOUNT)


@dataclass
class ProjectCheck:
    """The result of :func:`check_project`.

    Attributes
    ----------
    project
        The project checked.
    as_of, as_of_how
        The as-of date and where it comes from.
    tables
        ``{table: rows}`` of the tables read.
    first_date, last_date
        The transactions' date range.
    quality
        The data-quality report of :func:`workbench.prepare.prepare_orders`.
    orders
        The orders used by the analyses.
    identical
        Lines identical to an earlier line (row numbers aside).
    revenue_in, revenue_summarised, revenue_set_aside
        Sum of ``amount`` over all lines, over the orders, over the rows set aside (returns
        netted into cancelled orders included).
    returns_into_cancelled
        Of ``revenue_set_aside``, the returns netted into orders they cancelled (<= 0).
    errors, warnings
        Lines to print; errors make ``workbench check`` exit with 2.
    """

    project: Project
    as_of: dt.date
    as_of_how: str
    tables: dict[str, int]
    first_date: Any
    last_date: Any
    quality: DataQualityReport
    orders: pl.DataFrame
    identical: pl.DataFrame
    revenue_in: float
    revenue_summarised: float
    revenue_set_aside: float
    returns_into_cancelled: float = 0.0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ties_out(self) -> bool:
        """Revenue in = revenue summarised + revenue set aside (to a thousandth of a unit)."""
        gap = self.revenue_in - self.revenue_summarised - self.revenue_set_aside
        return abs(gap) <= 1e-3

    def text(self) -> str:
        """The report as plain text (what ``workbench check`` prints)."""
        cur = self.project.currency
        lines = [f"Project {self.project.path}"]
        for table, rows in self.tables.items():
            lines.append(f"  {table:<13} {rows:>10,} rows")
        lines.append(f"  dates         {self.first_date} to {self.last_date}")
        lines.append(f"  as-of date    {self.as_of} ({self.as_of_how})")
        lines.append("")
        lines.append(str(self.quality))
        for entry in self.quality.entries:
            lines.append(f"  {entry.reason}: e.g.")
            for row in _examples(entry.rows):
                lines.append(f"      {row}")
        policy = self.project.identical_lines
        n = self.identical.height
        if policy == "keep":
            what = "kept as separate purchases (identical_lines = \"keep\")"
        else:
            what = "set aside as exact_duplicate (identical_lines = \"drop\")"
        lines.append("")
        lines.append(f"Identical lines (equal to an earlier line in every column): {n:,}, {what}")
        for row in _examples(self.identical):
            lines.append(f"      {row}")
        lines.append("")
        lines.append(
            f"Revenue in {self.revenue_in:,.2f} {cur} = summarised "
            f"{self.revenue_summarised:,.2f} + set aside {self.revenue_set_aside:,.2f} "
            f"({'ties out' if self.ties_out else 'DOES NOT TIE OUT'})"
        )
        if self.returns_into_cancelled:
            lines.append(
                f"  set aside includes {self.returns_into_cancelled:,.2f} {cur} of returns "
                "netted into the orders they cancelled"
            )
        lines.append(
            f"{self.orders.height:,} orders of "
            f"{self.orders[schema.CUSTOMER_ID].n_unique():,} customers used by the analyses"
        )
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"error: {e}" for e in self.errors]
        lines.append("OK: the data can be analysed" if not self.errors else
                     f"{len(self.errors)} error(s)")
        return "\n".join(lines)


def _examples(rows: pl.DataFrame, n: int = N_EXAMPLES) -> list[str]:
    out = []
    for rec in rows.head(n).iter_rows(named=True):
        parts = [f"row {rec.get('source_row', '?')}:"]
        parts += [f"{c}={rec[c]}" for c in _SHOWN if c in rec]
        out.append(" ".join(parts))
    return out


def _money(frame: pl.DataFrame) -> float:
    if frame.height == 0 or schema.AMOUNT not in frame.columns:
        return 0.0
    money = frame.select(pl.col(schema.AMOUNT).cast(pl.Float64))
    units, scale = to_minor_units(money, [schema.AMOUNT])
    return float(units[schema.AMOUNT].sum()) / 10**scale


def check_project(project: Project, as_of: str | dt.date | None = None) -> ProjectCheck:
    """Read a project's tables, apply the data rules and report.

    Parameters
    ----------
    project
        A loaded project (:func:`workbench.project.load_project`).
    as_of
        The as-of date; default the project's, else the last transaction date.

    Returns
    -------
    ProjectCheck

    Raises
    ------
    DataValidationError
        A table cannot be read or breaks the data contract.
    ConfigError
        ``as_of = "last"`` with no transactions.
    """
    tx = project.read_transactions()
    customers = project.read_customers()
    surveys = project.read_surveys()
    if as_of is not None:
        day = dt.date.fromisoformat(str(as_of))
        how = "given"
    else:
        day, how = project.resolve_as_of(tx)
    orders, quality = prepare_orders(tx, day, source=project.transactions.path.name)
    tables = {"transactions": tx.height}
    if customers is not None:
        tables["customers"] = customers.height
    if surveys is not None:
        tables["surveys"] = surveys.height
    ident = identical_lines(tx)
    set_aside = quality.set_aside()
    revenue_in, summarised = _money(tx), _money(orders)
    aside_rows = _money(set_aside)
    # Rows "used" whose value is not in the orders: returns netted into an order that they
    # cancelled (set aside as cancelled_order).  Only possible with cancelled orders, and <= 0.
    residual = revenue_in - summarised - aside_rows
    into_cancelled = 0.0
    if quality.count("cancelled_order") and residual < 0:
        into_cancelled = residual
    check = ProjectCheck(
        project=project,
        as_of=day,
        as_of_how=how,
        tables=tables,
        first_date=tx[schema.ORDER_DATE].min(),
        last_date=tx[schema.ORDER_DATE].max(),
        quality=quality,
        orders=orders,
        identical=ident.drop(LINE_NO, strict=False),
        revenue_in=revenue_in,
        revenue_summarised=summarised,
        revenue_set_aside=aside_rows + into_cancelled,
        returns_into_cancelled=into_cancelled,
    )
    if orders.height == 0:
        check.errors.append(f"no purchase on or before the as-of date {day}")
    if not check.ties_out:
        check.errors.append("revenue does not tie out (a bug: please report it)")
    if customers is not None and tx.height:
        known = customers[schema.CUSTOMER_ID].unique()
        unknown = tx.filter(~pl.col(schema.CUSTOMER_ID).is_in(known.implode()))
        n = unknown[schema.CUSTOMER_ID].n_unique()
        if n:
            check.warnings.append(
                f"{n:,} customer ids of the transactions are not in the customers table "
                "(check [ids] trailing_zeros and case)"
            )
    return check
