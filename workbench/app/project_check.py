"""``workbench check``: read a project's data and report on its quality.

:func:`check_project` reads every table of a project (:mod:`workbench.core.project`), applies the
data rules (:func:`workbench.core.prepare.prepare_orders`) at the as-of date and returns a
:class:`ProjectCheck`: the counts, amounts and example rows by reason, the identical lines and
how the project treats them, and the tie-out: every line read is in exactly one bucket (kept,
return netted into a kept order, or set aside by one reason, cancelled orders taking the
returns netted into them; :meth:`workbench.core.quality.DataQualityReport.tie_out`), the lines of
the buckets add up to the lines read, and their amounts, exactly, to the revenue in; so
revenue in = revenue summarised + revenue set aside.  With ``missing_customer_id =
"set_aside"`` the lines without a customer id are read too and counted as ``no_customer_id``.

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

from workbench.core import schema
from workbench.core.money import to_minor_units
from workbench.core.prepare import prepare_orders
from workbench.core.project import LINE_NO, Project, identical_lines
from workbench.core.quality import KEPT, DataQualityReport

#: Example rows shown per reason.
N_EXAMPLES = 3
_SHOWN = (schema.CUSTOMER_ID, schema.ORDER_ID, schema.ORDER_DATE, schema.AMOUNT)
#: Tie-out buckets whose amounts make up the orders' revenue.
_USED = (KEPT, "return_netted", "return_netted_latest")


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
        The data-quality report of :func:`workbench.core.prepare.prepare_orders`.
    orders
        The orders used by the analyses.
    identical
        Lines identical to an earlier line (row numbers aside).
    revenue_in, revenue_summarised, revenue_set_aside
        Sum of ``amount`` over all lines read, over the orders, over the lines set aside
        (cancelled orders with the returns netted into them); exact sums (minor units).
    tie_out
        :meth:`workbench.core.quality.DataQualityReport.tie_out`: lines and amount by bucket.
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
    tie_out: pl.DataFrame
    orders_tie_out: bool = True
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ties_out(self) -> bool:
        """Every line in one bucket; lines and amounts add up exactly, and the used buckets
        add up to the orders' revenue (in minor units)."""
        return self.quality.ties_out and self.orders_tie_out

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
        lines += tie_out_lines(self.tie_out, self.quality.rows_read, self.revenue_in, cur)
        lines.append(
            f"Revenue in {self.revenue_in:,.2f} {cur} = summarised "
            f"{self.revenue_summarised:,.2f} + set aside {self.revenue_set_aside:,.2f} "
            f"({'ties out' if self.ties_out else 'DOES NOT TIE OUT'})"
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


def tie_out_lines(tie_out: pl.DataFrame, rows_read: int, amount_in: float,
                  currency: str) -> list[str]:
    """The tie-out table as text: one line per bucket and the totals.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"bucket": ["kept"], "action": ["used"], "lines": [2],
    ...                   "amount": [3.5], "amount_share": [1.0]})
    >>> print(chr(10).join(tie_out_lines(t, 2, 3.5, "EUR")))
    Tie-out: every line read is in exactly one bucket
      bucket                    action          lines          amount EUR  of revenue in
      kept                      used                2                3.50        100.0 %
      total                                         2                3.50
    """
    out = [
        "Tie-out: every line read is in exactly one bucket",
        f"  {'bucket':<25} {'action':<10} {'lines':>10} {'amount ' + currency:>19}  "
        "of revenue in",
    ]
    for rec in tie_out.iter_rows(named=True):
        share = rec.get("amount_share")
        shown = f"{share:>12.1%}".replace("%", " %") if share is not None else ""
        out.append(
            f"  {rec['bucket']:<25} {rec['action']:<10} {rec['lines']:>10,} "
            f"{rec['amount']:>19,.2f}  {shown}".rstrip()
        )
    out.append(f"  {'total':<25} {'':<10} {rows_read:>10,} {amount_in:>19,.2f}")
    return out


def _examples(rows: pl.DataFrame, n: int = N_EXAMPLES) -> list[str]:
    out = []
    for rec in rows.head(n).iter_rows(named=True):
        parts = [f"row {rec.get('source_row', '?')}:"]
        parts += [f"{c}={rec[c]}" for c in _SHOWN if c in rec]
        out.append(" ".join(parts))
    return out


def _units(frame: pl.DataFrame, scale: int) -> int:
    """The exact sum of ``amount`` in minor units of ``scale`` decimals."""
    if frame.height == 0:
        return 0
    money = frame.select(pl.col(schema.AMOUNT).cast(pl.Float64))
    units, _ = to_minor_units(money, [schema.AMOUNT], scale=scale)
    return int(units[schema.AMOUNT].sum())


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
        A loaded project (:func:`workbench.core.project.load_project`).
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
    tx, without_id = project.read_lines()
    customers = project.read_customers()
    surveys = project.read_surveys()
    if as_of is not None:
        day = dt.date.fromisoformat(str(as_of))
        how = "given"
    else:
        day, how = project.resolve_as_of(tx)
    orders, quality = prepare_orders(
        tx, day, source=project.transactions.path.name, without_customer_id=without_id
    )
    tables = {"transactions": tx.height + without_id.height}
    if customers is not None:
        tables["customers"] = customers.height
    if surveys is not None:
        tables["surveys"] = surveys.height
    ident = identical_lines(tx)
    ledger = quality.ledger if quality.ledger is not None else pl.DataFrame()
    scale = 10**quality.scale
    aside_units = int(ledger.filter(~pl.col("bucket").is_in(_USED))["units"].sum())
    used_units = int(ledger.filter(pl.col("bucket").is_in(_USED))["units"].sum())
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
        revenue_in=quality.amount_in,
        revenue_summarised=_money(orders),
        revenue_set_aside=aside_units / scale,
        tie_out=quality.tie_out(),
        orders_tie_out=_units(orders, quality.scale) == used_units,
    )
    if orders.height == 0:
        check.errors.append(f"no purchase on or before the as-of date {day}")
    if not check.ties_out:
        check.errors.append("revenue does not tie out (a bug: please report it)")
    n_missing = quality.count("no_customer_id")
    if n_missing:
        share = quality.amount("no_customer_id") / check.revenue_in if check.revenue_in else 0.0
        check.warnings.append(
            f"{n_missing:,} lines ({n_missing / quality.rows_read:.1%} of the lines, "
            f"{share:.1%} of the revenue in) have no customer id: set aside, not analysed "
            "(missing_customer_id = \"set_aside\"); see no_customer_id above"
        )
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
