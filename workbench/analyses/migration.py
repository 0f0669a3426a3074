"""Segment migration between as-of dates (docs/rfm.md, 'Migration').

Kiseleva et al. (2016) ask for "monitoring of indicators of the customers migration - the
most painful blow is by customers who changed the pattern of consumption".  These functions
compare the segments of two (or more) as-of dates: who moved where, what each segment gained
and lost, and per customer the previous segment and when it changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import polars as pl

from workbench.core import schema
from workbench.core.prepare import DateLike, to_date
from workbench.errors import DataValidationError

if TYPE_CHECKING:
    from workbench.core.summary import Unit

_CID = schema.CUSTOMER_ID
#: Label of customers who had not bought yet at the start date.
NO_PURCHASE_YET = "No purchase yet"


def segment_migration(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """Per customer: the segment at the earlier and at the later as-of date.

    Parameters
    ----------
    previous, current
        Segment frames (``customer_id``, ``segment``) at the earlier and later date, e.g. from
        :func:`workbench.analyses.rfm.rfm_segments`.

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``segment_from`` (``"No purchase yet"`` for customers new since the
        earlier date), ``segment_to``, ``changed``.  ``previous`` may be empty (a date before
        the first purchase: every customer is new).

    Raises
    ------
    workbench.errors.DataValidationError
        When ``current`` has no customers.

    Examples
    --------
    >>> import polars as pl
    >>> prev = pl.DataFrame({"customer_id": ["a"], "segment": ["Loyal"]})
    >>> cur = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["At Risk", "New Customers"]})
    >>> segment_migration(prev, cur)["segment_from"].to_list()
    ['Loyal', 'No purchase yet']
    """
    for name, frame in (("previous", previous), ("current", current)):
        missing = {_CID, "segment"} - set(frame.columns)
        if missing:
            raise DataValidationError(f"{name} segments", None,
                                      f"lack column(s) {sorted(missing)}")
    if current.height == 0:
        raise DataValidationError("current segments", None,
                                  "no customers at the later date: nothing to compare")
    gone = previous.join(current, on=_CID, how="anti")
    if gone.height:
        raise ValueError(
            f"{gone.height} customers of the earlier date are missing at the later "
            f"date (first: {gone[_CID].head(3).to_list()}); pass the earlier date "
            "first and segments computed on the same customers"
        )
    return (
        current.select(_CID, pl.col("segment").alias("segment_to"))
        .join(previous.select(_CID, pl.col("segment").alias("segment_from")), on=_CID, how="left")
        .with_columns(pl.col("segment_from").fill_null(NO_PURCHASE_YET))
        .with_columns((pl.col("segment_from") != pl.col("segment_to")).alias("changed"))
        .select(_CID, "segment_from", "segment_to", "changed")
        .sort(_CID)
    )


def migration_matrix(migration: pl.DataFrame) -> pl.DataFrame:
    """Transition counts: customers per (from, to) pair with the share of the "from" row.

    Rows by ``segment_from``, then most customers first, ties by ``segment_to``.

    Examples
    --------
    >>> prev = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["Loyal", "Loyal"]})
    >>> cur = pl.DataFrame({"customer_id": ["a", "b", "c"],
    ...                     "segment": ["Loyal", "At risk", "New"]})
    >>> migration_matrix(segment_migration(prev, cur)).sort("segment_from", "segment_to").rows()
    [('Loyal', 'At risk', 1, 0.5), ('Loyal', 'Loyal', 1, 0.5),
     ('No purchase yet', 'New', 1, 1.0)]
    """
    return (
        migration.group_by("segment_from", "segment_to")
        .agg(pl.len().alias("customers"))
        .with_columns(
            (pl.col("customers") / pl.col("customers").sum().over("segment_from")).alias(
                "share_of_from"
            )
        )
        .sort("segment_from", "customers", "segment_to", descending=[False, True, False])
    )


def migration_summary(migration: pl.DataFrame) -> pl.DataFrame:
    """Per segment: customers at start and end, added, dropped, and the change of share.

    ``added`` counts customers who entered the segment (new customers included), ``dropped``
    those who left it; ``end = start + added - dropped``.  Rows by ``end``, largest first, ties
    by segment name.

    Examples
    --------
    >>> prev = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["Loyal", "Loyal"]})
    >>> cur = pl.DataFrame({"customer_id": ["a", "b", "c"],
    ...                     "segment": ["Loyal", "At risk", "New"]})
    >>> summary = migration_summary(segment_migration(prev, cur))
    >>> summary.select("segment", "start", "end", "added", "dropped").sort("segment").rows()
    [('At risk', 0, 1, 1, 0), ('Loyal', 2, 1, 0, 1), ('New', 0, 1, 1, 0)]
    """
    start = (
        migration.filter(pl.col("segment_from") != NO_PURCHASE_YET)
        .group_by(pl.col("segment_from").alias("segment"))
        .agg(pl.len().alias("start"))
    )
    end = migration.group_by(pl.col("segment_to").alias("segment")).agg(pl.len().alias("end"))
    added = (
        migration.filter("changed")
        .group_by(pl.col("segment_to").alias("segment"))
        .agg(pl.len().alias("added"))
    )
    dropped = (
        migration.filter("changed")
        .group_by(pl.col("segment_from").alias("segment"))
        .agg(pl.len().alias("dropped"))
    )
    n_start = migration.filter(pl.col("segment_from") != NO_PURCHASE_YET).height
    n_end = migration.height
    out = end.join(start, on="segment", how="full", coalesce=True)
    for part in (added, dropped):
        out = out.join(part, on="segment", how="left")
    return (
        out.filter(pl.col("segment") != NO_PURCHASE_YET)
        .with_columns(
            pl.col(c).fill_null(0).cast(pl.Int64) for c in ("start", "end", "added", "dropped")
        )
        .with_columns(
            (pl.col("start") / max(n_start, 1)).alias("share_start"),
            (pl.col("end") / max(n_end, 1)).alias("share_end"),
        )
        .with_columns((pl.col("share_end") - pl.col("share_start")).alias("share_change"))
        .select(
            "segment",
            "start",
            "end",
            "added",
            "dropped",
            "share_start",
            "share_end",
            "share_change",
        )
        .sort("end", "segment", descending=[True, False])
    )


def segment_history(
    transactions: pl.DataFrame,
    as_of_dates: Sequence[DateLike],
    *,
    unit: str = "W",
    rules: str | Path | pl.DataFrame = "default",
    **score_options,
) -> pl.DataFrame:
    """Segments of every customer at each of several as-of dates (long format).

    Returns ``as_of``, ``customer_id``, ``segment``, sorted by customer and date.  A date
    before the first purchase contributes no rows (nobody had bought yet).

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> hist = segment_history(tx, ["1997-01-01", "1997-06-30", "1998-06-30"])
    >>> hist.group_by("as_of").len().sort("as_of")["len"].to_list()  # customers by then
    [18, 2357, 2357]
    """
    from workbench.analyses.rfm import load_segment_rules, rfm_segments
    from workbench.core.summary import customer_summary

    table = load_segment_rules(rules)
    frames = []
    for d in sorted(to_date(x) for x in as_of_dates):
        # customer_summary checks the unit (a clear error for anything but D, W or M)
        summary = customer_summary(transactions, d, cast("Unit", unit), allow_empty=True)
        seg = rfm_segments(summary, table, **{"allow_empty": True, **score_options})
        frames.append(seg.select(pl.lit(d).alias("as_of"), _CID, "segment"))
    return pl.concat(frames).sort(_CID, "as_of")


def segment_changes(history: pl.DataFrame) -> pl.DataFrame:
    """Per customer: current segment, the previous one, and the date it changed.

    ``changed_at`` is the first as-of date of the customer's current run of the same segment;
    ``previous_segment`` is the segment before that run (``"No purchase yet"`` when the customer
    first appeared then), both null when the customer's segment never changed and the customer
    was present at the first date.

    Examples
    --------
    >>> import datetime as dt
    >>> history = pl.DataFrame({"as_of": [dt.date(2026, 3, 31), dt.date(2026, 6, 30)] * 2,
    ...                         "customer_id": ["a", "a", "b", "b"],
    ...                         "segment": ["Loyal", "At risk", "Loyal", "Loyal"]})
    >>> segment_changes(history).rows()
    [('a', 'At risk', 'Loyal', datetime.date(2026, 6, 30)), ('b', 'Loyal', None, None)]
    """
    first_date = history["as_of"].min()
    runs = history.sort(_CID, "as_of").with_columns(
        (pl.col("segment") != pl.col("segment").shift(1).over(_CID))
        .fill_null(True)
        .cum_sum()
        .over(_CID)
        .alias("_run")
    )
    per_run = runs.group_by(_CID, "_run").agg(
        pl.col("segment").first(), pl.col("as_of").min().alias("start")
    )
    last = (
        per_run.sort("_run")
        .group_by(_CID)
        .agg(
            pl.col("segment").last().alias("segment"),
            pl.col("start").last().alias("run_start"),
            pl.col("segment").shift(1).last().alias("previous_segment"),
        )
    )
    return (
        last.with_columns(
            pl.when(pl.col("previous_segment").is_null() & (pl.col("run_start") > first_date))
            .then(pl.lit(NO_PURCHASE_YET))
            .otherwise(pl.col("previous_segment"))
            .alias("previous_segment"),
            pl.when((pl.col("run_start") > first_date) | pl.col("previous_segment").is_not_null())
            .then(pl.col("run_start"))
            .alias("changed_at"),
        )
        .select(_CID, "segment", "previous_segment", "changed_at")
        .sort(_CID)
    )
