"""The data-quality report: every row that a rule set aside or changed, by reason.

Nothing is dropped silently (``DOMAIN.md`` §1): each rule of :mod:`workbench.prepare` that sets
rows aside, or uses them in a non-obvious way (returns netted into orders, lines merged into
orders), adds an entry here with the count and the rows themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

#: Reason codes, with what the rule does.  ``action`` is "set aside" (not used for this
#: analysis) or "used" (used, by the documented rule).
REASONS: dict[str, tuple[str, str]] = {
    "exact_duplicate": (
        "set aside",
        "an exact copy of an earlier row (every column equal); the first copy is kept",
    ),
    "after_as_of": (
        "set aside",
        "dated after the as-of date: not known at that date (holdout checks use these rows)",
    ),
    "return_netted": (
        "used",
        "negative amount (a return) netted into its own order "
        "(same customer and order id, or same customer and day without order ids)",
    ),
    "return_netted_latest": (
        "used",
        "return without a matching order: netted into the "
        "customer's latest order on or before the return date",
    ),
    "return_without_purchase": (
        "set aside",
        "return with no earlier purchase of the customer to net it against",
    ),
    "cancelled_order": (
        "set aside",
        "order that returns bring to a net value of zero or less: not counted as a purchase",
    ),
    "multi_line_order": ("used", "several lines of one order combined into one purchase"),
}


@dataclass
class QualityEntry:
    """One reason and the rows it concerns."""

    reason: str
    rows: pl.DataFrame

    @property
    def action(self) -> str:
        return REASONS[self.reason][0]

    @property
    def description(self) -> str:
        return REASONS[self.reason][1]


@dataclass
class DataQualityReport:
    """Counts and examples of the rows each rule set aside or used.

    Attributes
    ----------
    source
        Name of the table the rows come from.
    rows_read
        Number of rows in the input.
    entries
        One :class:`QualityEntry` per reason that occurred.

    Examples
    --------
    >>> from workbench.prepare import prepare_orders  # doctest: +SKIP
    >>> orders, report = prepare_orders(tx, as_of="2026-03-31")  # doctest: +SKIP
    >>> report.to_frame()  # doctest: +SKIP
    """

    source: str
    rows_read: int
    entries: list[QualityEntry] = field(default_factory=list)

    def add(self, reason: str, rows: pl.DataFrame) -> None:
        """Record ``rows`` under ``reason`` (ignored when empty)."""
        if reason not in REASONS:
            raise KeyError(f"unknown data-quality reason {reason!r}")
        if rows.height:
            self.entries.append(QualityEntry(reason, rows))

    @property
    def n_set_aside(self) -> int:
        """Rows not used for the analysis."""
        return sum(e.rows.height for e in self.entries if e.action == "set aside")

    def count(self, reason: str) -> int:
        """Rows recorded under ``reason`` (0 when the reason did not occur)."""
        return sum(e.rows.height for e in self.entries if e.reason == reason)

    def to_frame(self, n_examples: int = 3) -> pl.DataFrame:
        """One row per reason: action, row count, rule and example source rows.

        Parameters
        ----------
        n_examples
            How many example ``source_row`` numbers to list per reason.
        """
        schema = {
            "reason": pl.String,
            "action": pl.String,
            "rows": pl.Int64,
            "rule": pl.String,
            "example_rows": pl.String,
        }
        records = []
        for e in self.entries:
            ex = (
                e.rows["source_row"].head(n_examples).to_list()
                if "source_row" in e.rows.columns
                else []
            )
            records.append(
                {
                    "reason": e.reason,
                    "action": e.action,
                    "rows": e.rows.height,
                    "rule": e.description,
                    "example_rows": ", ".join(map(str, ex)),
                }
            )
        return pl.DataFrame(records, schema=schema)

    def examples(self, reason: str, n: int = 5) -> pl.DataFrame:
        """The first ``n`` rows recorded under ``reason``."""
        frames = [e.rows for e in self.entries if e.reason == reason]
        return pl.concat(frames, how="diagonal_relaxed").head(n) if frames else pl.DataFrame()

    def set_aside(self) -> pl.DataFrame:
        """All set-aside rows with a ``reason`` column (to write out and inspect)."""
        frames = [
            e.rows.with_columns(pl.lit(e.reason).alias("reason"))
            for e in self.entries
            if e.action == "set aside"
        ]
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    def __str__(self) -> str:
        lines = [
            f"Data quality of {self.source}: {self.rows_read:,} rows read, "
            f"{self.n_set_aside:,} set aside"
        ]
        for e in self.entries:
            lines.append(f"  {e.reason:<24} {e.rows.height:>9,}  {e.action}: {e.description}")
        return "\n".join(lines)
