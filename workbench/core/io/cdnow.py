"""Reader for the CDNOW data set (the BTYD literature's reference data).

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2): the purchases of the 23,570 customers who first
bought at CDNOW in Q1 1997, observed to 1998-06-30.  A copy is in ``sample_data/cdnow/``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from workbench.core.io.readers import validate_transactions
from workbench.errors import DataValidationError


def read_cdnow(path: str | Path) -> pl.DataFrame:
    """Read ``CDNOW_master.txt`` or ``CDNOW_sample.txt`` as a transactions table.

    The master file has 4 whitespace-separated fields (id, YYYYMMDD, CDs, dollars); the
    1/10th sample has 5 (master id, sample id, YYYYMMDD, CDs, dollars).  The master id is the
    ``customer_id`` in both.

    Each line of the file is one recorded transaction, so each gets its own ``order_id`` (the
    line number): two identical lines (same customer, day, CDs and dollars; the sample has 21)
    are two purchases, not a duplicated record, and the generic exact-duplicate rule of
    :func:`workbench.core.prepare.prepare_orders` must not set them aside.  This is what the
    published Gamma-Gamma estimates (p = 6.25, q = 3.74, gamma = 15.44) and ``lifetimes`` use.

    The path is taken literally, never as a glob pattern.

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``order_id``, ``order_date``, ``amount``, ``quantity`` (number of CDs),
        ``source_row``.

    Examples
    --------
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> tx["customer_id"].n_unique()
    2357
    """
    p = Path(path)
    if p.is_dir():
        raise DataValidationError(str(p), None, "is a folder, not a file")
    if not p.exists():
        raise DataValidationError(str(p), None, "file not found")
    lines = pl.read_csv(
        p,
        glob=False,
        has_header=False,
        separator="\n",
        new_columns=["line"],
        infer_schema=False,
        quote_char=None,
    )
    parts = lines.select(pl.col("line").str.strip_chars().str.extract_all(r"\S+").alias("f"))
    if parts.height and parts["f"].list.len().first() == 5:
        cols = ["customer_id", "sample_id", "order_date", "quantity", "amount"]
    else:
        cols = ["customer_id", "order_date", "quantity", "amount"]
    frame = parts.select(
        pl.col("f").list.get(i, null_on_oob=True).alias(c) for i, c in enumerate(cols)
    )
    if not frame["customer_id"].str.contains(r"^\d+$").all():  # master file has a header line
        frame = frame.filter(pl.col("customer_id").str.contains(r"^\d+$"))
    frame = frame.drop("sample_id", strict=False).with_row_index("order_id", offset=1)
    return validate_transactions(
        frame.with_columns(pl.col("order_id").cast(pl.String)),
        source=str(p),
        date_format="%Y%m%d",
    )
