"""Write the Parquet cases of the input corpus (``manifest.toml`` entries with ``generated``).

The files are generated rather than committed, so that the corpus holds no binaries::

    python tests/corpus/make_parquet.py OUT_DIR

``tests/test_corpus.py`` runs :func:`write_all` into a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl

D = [dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)]


def _float_ids() -> pl.DataFrame:
    # Excel/pandas exports hold numeric ids as floats: 17850.0 is customer "17850", not "17850.0".
    return pl.DataFrame(
        {"customer_id": [17850.0, 17850.0, 13047.0], "order_date": D, "amount": [10.0, 5.5, 20.0]}
    )


def _float_ids_fraction() -> pl.DataFrame:
    # 1.5 is no id at all: refuse rather than guess.
    return pl.DataFrame(
        {"customer_id": [17850.0, 1.5, 13047.0], "order_date": D, "amount": [10.0, 5.5, 20.0]}
    )


def _list_column() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_date": [D[0], D[0], D[2]],
            "amount": [10.0, 10.0, 20.0],
            "tags": [["x", "y"], ["x", "y"], ["z"]],
        }
    )


def _struct_column() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_date": D,
            "amount": [10.0, 5.5, 20.0],
            "address": [{"city": "Oslo", "zip": "0150"}, {"city": "Oslo", "zip": "0150"}, None],
        }
    )


def _list_amount() -> pl.DataFrame:
    return pl.DataFrame(
        {"customer_id": ["a", "a", "b"], "order_date": D, "amount": [[10.0], [5.5, 1.0], []]}
    )


def _struct_id() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [{"shop": 1, "no": 17}, {"shop": 1, "no": 17}, {"shop": 2, "no": 3}],
            "order_date": D,
            "amount": [10.0, 5.5, 20.0],
        }
    )


def _amount_nan() -> pl.DataFrame:
    return pl.DataFrame(
        {"customer_id": ["a", "b", "c"], "order_date": D, "amount": [10.0, float("nan"), 20.0]}
    )


def _int_ids_aware_datetimes() -> pl.DataFrame:
    # 2024-01-01 23:30 in New York is 2024-01-02 04:30 UTC: the UTC calendar date counts.
    ts = [
        dt.datetime(2024, 1, 2, 4, 30, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 8, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 15, 9, 0, tzinfo=dt.UTC),
    ]
    return pl.DataFrame(
        {
            "customer_id": pl.Series([7, 7, 8], dtype=pl.Int64),
            "order_date": pl.Series(ts).dt.convert_time_zone("America/New_York"),
            "amount": [10.0, 5.5, 20.0],
        }
    )


CASES: dict[str, Callable[[], pl.DataFrame]] = {
    "pq_float_ids.parquet": _float_ids,
    "pq_float_ids_fraction.parquet": _float_ids_fraction,
    "pq_list_column.parquet": _list_column,
    "pq_struct_column.parquet": _struct_column,
    "pq_list_amount.parquet": _list_amount,
    "pq_struct_id.parquet": _struct_id,
    "pq_amount_nan.parquet": _amount_nan,
    "pq_int_ids_aware_datetimes.parquet": _int_ids_aware_datetimes,
}


def write_all(out_dir: str | Path) -> list[Path]:
    """Write every Parquet case into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in CASES.items():
        make().write_parquet(out / name)
        paths.append(out / name)
    return paths


if __name__ == "__main__":
    for path in write_all(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(path)
