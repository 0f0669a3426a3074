"""Every one of the 125 cells of the default segment map, pinned against the published map.

A test that checks only segment names cannot see a cell sent to the wrong segment (543, Loyal,
sent to Potential Loyalist); this one scores all 125 cells through the public API and compares
each with ``tests/fixtures/reference/segment_map_125_published.csv``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from workbench.analyses.rfm import assign_segments, load_segment_rules

REFERENCE = Path(__file__).parent / "fixtures" / "reference" / "segment_map_125_published.csv"


def published() -> dict[int, str]:
    table = pl.read_csv(REFERENCE, schema_overrides={"rfm_code": pl.Int64})
    return dict(zip(table["rfm_code"].to_list(), table["segment"].to_list(), strict=True))


def all_cells() -> pl.DataFrame:
    codes = [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
    return pl.DataFrame(
        {
            "customer_id": [f"c{r}{f}{m}" for r, f, m in codes],
            "R": [c[0] for c in codes],
            "F": [c[1] for c in codes],
            "M": [c[2] for c in codes],
        },
        schema={"customer_id": pl.String, "R": pl.Int8, "F": pl.Int8, "M": pl.Int8},
    )


def test_the_reference_is_complete():
    ref = published()
    assert sorted(ref) == [100 * r + 10 * f + m for r in range(1, 6) for f in range(1, 6)
                           for m in range(1, 6)]
    assert len(set(ref.values())) == 11


def test_every_cell_maps_as_published():
    ref = published()
    segments = assign_segments(all_cells(), "default")
    got = {int(cid[1:]): seg for cid, seg in segments.select("customer_id", "segment").iter_rows()}
    wrong = {code: (got[code], ref[code]) for code in ref if got[code] != ref[code]}
    assert not wrong, f"cells mapped differently from the published map: {wrong}"


def test_the_loaded_table_is_the_published_one():
    table = load_segment_rules("default")
    assert dict(zip(table["rfm_code"].cast(pl.Int64).to_list(), table["segment"].to_list(),
                    strict=True)) == published()


@pytest.mark.parametrize(
    ("code", "segment"),
    [(555, "Champions"), (543, "Loyal"), (111, "Lost"), (155, "Can't Lose Them"),
     (511, "New Customers"), (333, "Potential Loyalist")],
)
def test_landmark_cells(code, segment):
    """A few cells a reader can check by eye against the published map."""
    assert published()[code] == segment
    r, f, m = (int(d) for d in str(code))
    cell = all_cells().filter((pl.col("R") == r) & (pl.col("F") == f) & (pl.col("M") == m))
    assert assign_segments(cell, "default")["segment"].item() == segment
