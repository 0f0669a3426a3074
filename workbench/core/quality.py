"""The data-quality report: every row that a rule set aside or changed, by reason.

Nothing is dropped silently (docs/data-rules.md): each rule of :mod:`workbench.core.prepare` that
sets rows aside, or uses them in a non-obvious way (returns netted into orders, lines merged into
orders), adds an entry here with the count and the rows themselves.

The **tie-out** (:meth:`DataQualityReport.tie_out`) puts every line read into exactly one
bucket (:data:`BUCKETS`): ``kept`` (a purchase line of an order the analyses use), a return
netted into a kept order (``return_netted``, ``return_netted_latest``), or one of the reasons
that set lines aside (``no_customer_id``, ``exact_duplicate``, ``after_as_of``,
``return_without_purchase``, ``cancelled_order``, whose lines include the returns netted
into the cancelled order).  The lines of the buckets add up to the lines read and their
amounts, summed exactly in minor units (:mod:`workbench.core.money`), to the amount of all the
lines read; the first three buckets add up to the net revenue of the orders.
``multi_line_order`` is not a bucket: it describes kept lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from workbench.core.money import to_minor_units

#: Reason codes, with what the rule does.  ``action`` is "set aside" (not used for this
#: analysis) or "used" (used, by the documented rule).
REASONS: dict[str, tuple[str, str]] = {
    "no_customer_id": (
        "set aside",
        "no customer id: the line belongs to no customer (missing_customer_id = "
        '"set_aside" in the project file); counted here, not analysed',
    ),
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
        "(same customer and order id, or same customer and day without order ids), "
        "which is kept",
    ),
    "return_netted_latest": (
        "used",
        "return without a matching order: netted into the "
        "customer's latest order on or before the return date, which is kept",
    ),
    "return_without_purchase": (
        "set aside",
        "return with no earlier purchase of the customer to net it against",
    ),
    "cancelled_order": (
        "set aside",
        "order that returns bring to a net value of zero or less: not counted as a purchase; "
        "its lines and the returns netted into it are set aside together",
    ),
    "multi_line_order": ("used", "several lines of one order combined into one purchase"),
}


#: Name of the tie-out bucket of the purchase lines of the orders used by the analyses.
KEPT = "kept"
#: The tie-out buckets, in the order shown: every line read is in exactly one of them.
BUCKETS: tuple[str, ...] = (
    KEPT,
    "return_netted",
    "return_netted_latest",
    "no_customer_id",
    "exact_duplicate",
    "after_as_of",
    "return_without_purchase",
    "cancelled_order",
)
_KEPT_RULE = "purchase line of an order used by the analyses"


def ledger_frame(buckets: dict[str, pl.DataFrame], scale: int) -> pl.DataFrame:
    """Lines and exact amount of each tie-out bucket (the frames hold the bucket's lines).

    Parameters
    ----------
    buckets
        ``{bucket: lines}``; every frame has ``source_row`` and ``amount``.
    scale
        Decimals of the minor unit in which amounts are added (:mod:`workbench.core.money`).

    Returns
    -------
    polars.DataFrame
        ``bucket``, ``lines``, ``units`` (the amount in minor units, a whole number),
        one row per bucket of :data:`BUCKETS` (empty buckets included), in that order.

    Examples
    --------
    >>> import polars as pl
    >>> lines = {"kept": pl.DataFrame({"source_row": [1, 2], "amount": [1.25, 2.5]})}
    >>> ledger_frame(lines, 2).filter(pl.col("lines") > 0).rows()
    [('kept', 2, 375)]
    """
    rows = []
    for bucket in BUCKETS:
        frame = buckets.get(bucket)
        units = 0
        n = 0 if frame is None else frame.height
        if frame is not None and n:
            money = frame.select(pl.col("amount").cast(pl.Float64))
            converted, _ = to_minor_units(money, ["amount"], scale=scale)
            units = int(converted["amount"].sum())
        rows.append({"bucket": bucket, "lines": n, "units": units})
    return pl.DataFrame(rows, schema={"bucket": pl.String, "lines": pl.Int64, "units": pl.Int64})


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
    >>> import datetime as dt
    >>> from workbench.core.prepare import prepare_orders
    >>> tx = pl.DataFrame({"customer_id": ["a", "a", "a"], "order_id": ["1", "1", "2"],
    ...                    "order_date": [dt.date(2026, 3, 1)] * 2 + [dt.date(2026, 4, 2)],
    ...                    "amount": [20.0, 20.0, 5.0]})
    >>> orders, report = prepare_orders(tx, as_of="2026-03-31")
    >>> report.to_frame().select("reason", "action", "rows", "amount").rows()
    [('exact_duplicate', 'set aside', 1, 20.0), ('after_as_of', 'set aside', 1, 5.0)]
    """

    source: str
    rows_read: int
    entries: list[QualityEntry] = field(default_factory=list)
    #: The tie-out (:func:`ledger_frame`), set by :func:`workbench.core.prepare.prepare_orders`.
    ledger: pl.DataFrame | None = None
    #: Decimals of the minor unit of ``ledger`` and ``units_in``.
    scale: int = 2
    #: The amount of every line read, in minor units (the independent side of the tie-out).
    units_in: int = 0

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

    def amount(self, reason: str) -> float:
        """The amount (currency) of the rows recorded under ``reason``, summed exactly."""
        frames = [
            e.rows.select("amount")
            for e in self.entries
            if e.reason == reason and "amount" in e.rows.columns
        ]
        if not frames:
            return 0.0
        money = pl.concat(frames).select(pl.col("amount").cast(pl.Float64))
        units, _ = to_minor_units(money, ["amount"], scale=self.scale)
        return float(units["amount"].sum()) / 10**self.scale

    @property
    def amount_in(self) -> float:
        """The amount of every line read (currency, net of returns)."""
        return self.units_in / 10**self.scale

    def tie_out(self) -> pl.DataFrame:
        """Every line read in exactly one bucket, with its exact amount.

        Returns
        -------
        polars.DataFrame
            ``bucket``, ``action`` ("used" or "set aside"), ``lines``, ``amount`` (currency),
            ``line_share`` and ``amount_share`` (of all the lines read and of their amount;
            null when that total is 0), ``rule``; one row per bucket of :data:`BUCKETS`
            that holds lines.  ``lines`` add up to :attr:`rows_read` and ``amount`` to
            :attr:`amount_in` (:attr:`ties_out`).

        Raises
        ------
        ValueError
            The report was not made by :func:`workbench.core.prepare.prepare_orders`.
        """
        if self.ledger is None:
            raise ValueError("no tie-out: the report was not made by prepare_orders")
        total = self.units_in
        out = self.ledger.filter(pl.col("lines") > 0).with_columns(
            pl.col("bucket")
            .replace_strict({b: ("used" if b == KEPT else REASONS[b][0]) for b in BUCKETS})
            .alias("action"),
            (pl.col("units") / 10.0**self.scale).alias("amount"),
            (pl.col("lines") / self.rows_read if self.rows_read else pl.lit(None))
            .cast(pl.Float64)
            .alias("line_share"),
            (pl.col("units") / total if total else pl.lit(None))
            .cast(pl.Float64)
            .alias("amount_share"),
            pl.col("bucket")
            .replace_strict({b: (_KEPT_RULE if b == KEPT else REASONS[b][1]) for b in BUCKETS})
            .alias("rule"),
        )
        return out.select(
            "bucket", "action", "lines", "amount", "line_share", "amount_share", "rule"
        )

    @property
    def ties_out(self) -> bool:
        """Lines in = the lines of the buckets, and amount in = their amounts, to the unit.

        ``False`` for a report without a tie-out.
        """
        if self.ledger is None:
            return False
        return (
            int(self.ledger["lines"].sum()) == self.rows_read
            and int(self.ledger["units"].sum()) == self.units_in
        )

    def to_frame(self, n_examples: int = 3) -> pl.DataFrame:
        """One row per reason: action, row count, amount, rule and example source rows.

        Parameters
        ----------
        n_examples
            How many example ``source_row`` numbers to list per reason.
        """
        schema = {
            "reason": pl.String,
            "action": pl.String,
            "rows": pl.Int64,
            "amount": pl.Float64,
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
                    "amount": self.amount(e.reason) if "amount" in e.rows.columns else None,
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
