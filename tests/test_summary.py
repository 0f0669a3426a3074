"""The customer summary against hand-computed cases and the published CDNOW figures."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.core.io import validate_transactions
from workbench.core.prepare import prepare_orders
from workbench.core.summary import (
    calibration_holdout_summary,
    customer_summary,
    summary_from_orders,
)


@pytest.fixture(scope="module")
def cdnow(cdnow_transactions):
    return cdnow_transactions


def test_cdnow_calibration_matches_published_counts(cdnow):
    # Fader, Hardie & Lee (2005): 2,357 customers, 2,457 repeat purchases to 1997-09-30
    s = customer_summary(cdnow, as_of="1997-09-30", unit="W")
    assert s.height == 2357
    assert s["frequency"].sum() == 2457
    first = s.filter(pl.col("customer_id") == "00004").row(0, named=True)
    assert first["T"] == pytest.approx(272 / 7)  # 1997-01-01 .. 1997-09-30


def test_cdnow_holdout_matches_published_count(cdnow):
    s = calibration_holdout_summary(cdnow, "1997-09-30", "1998-06-30", unit="W")
    assert s.height == 2357
    assert s["frequency_holdout"].sum() == 1882
    assert s["duration_holdout"][0] == pytest.approx(39.0)


def small():
    return validate_transactions(
        pl.DataFrame(
            {
                "customer_id": ["a", "a", "a", "a", "b"],
                "order_date": [
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-15",
                    "2024-02-12",
                    "2024-02-01",
                ],
                "amount": ["10", "5", "20", "40", "7"],
            }
        )
    )


def test_hand_computed_weeks():
    s = customer_summary(small(), as_of="2024-03-11", unit="W")
    a = s.filter(pl.col("customer_id") == "a").row(0, named=True)
    assert a["frequency"] == 2  # same-day orders are one purchase
    assert a["recency"] == pytest.approx(6.0)  # 42 days
    assert a["T"] == pytest.approx(10.0)  # 70 days
    assert a["monetary_value"] == pytest.approx(30.0)  # mean of 20 and 40
    assert a["total_spend"] == pytest.approx(75.0)
    assert a["n_purchases"] == 3
    assert a["days_since_last"] == 28
    b = s.filter(pl.col("customer_id") == "b").row(0, named=True)
    assert (b["frequency"], b["recency"], b["monetary_value"]) == (0, 0.0, 0.0)


def test_days_and_calendar_months():
    d = customer_summary(small(), as_of="2024-03-11", unit="D")
    assert d.filter(pl.col("customer_id") == "a")["T"].item() == 70.0
    m = customer_summary(small(), as_of="2024-03-11", unit="M")
    a = m.filter(pl.col("customer_id") == "a").row(0, named=True)
    # January purchases collapse into one calendar-month purchase
    assert (a["frequency"], a["recency"], a["T"]) == (1, 1.0, 2.0)
    assert a["monetary_value"] == pytest.approx(40.0)


def test_collapse_per_unit_like_lifetimes():
    s = customer_summary(small(), as_of="2024-03-11", unit="W", collapse="unit")
    # 2024-01-01 (Mon) and 2024-01-15 are in different weeks: still 3 purchases
    assert s.filter(pl.col("customer_id") == "a")["frequency"].item() == 2
    tx = validate_transactions(
        pl.DataFrame(
            {
                "customer_id": ["x", "x"],
                "order_date": ["2024-01-01", "2024-01-03"],
                "amount": ["1", "1"],
            }
        )
    )
    assert customer_summary(tx, "2024-02-01", "W", collapse="unit")["frequency"].item() == 0
    assert customer_summary(tx, "2024-02-01", "W")["frequency"].item() == 1


def test_as_of_excludes_later_purchases_and_defaults_to_last_date():
    s = customer_summary(small(), as_of="2024-01-31")
    assert set(s["customer_id"]) == {"a"}
    assert customer_summary(small())["T"].min() == pytest.approx(11 / 7)


def test_bad_unit_and_dates():
    with pytest.raises(ValueError, match="unit must be one of"):
        customer_summary(small(), unit="Y")
    with pytest.raises(ValueError, match="must be after"):
        calibration_holdout_summary(small(), "2024-02-01", "2024-01-01")
    assert isinstance(customer_summary(small(), as_of=dt.date(2024, 3, 1)), pl.DataFrame)


def test_matches_lifetimes_summary_in_days(cdnow):
    """Same definitions as lifetimes' summary_data_from_transaction_data (freq="D")."""
    pd = pytest.importorskip("pandas")
    utils = pytest.importorskip("lifetimes.utils")
    frame = cdnow.select("customer_id", "order_date", "amount").to_pandas()
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    theirs = utils.summary_data_from_transaction_data(
        frame,
        "customer_id",
        "order_date",
        monetary_value_col="amount",
        observation_period_end="1997-09-30",
        freq="D",
    ).reset_index()
    ours = customer_summary(cdnow, "1997-09-30", unit="D").to_pandas()
    both = ours.merge(theirs, on="customer_id", suffixes=("", "_lt"))
    assert len(both) == len(ours) == len(theirs)
    for col in ("frequency", "recency", "T", "monetary_value"):
        assert (abs(both[col] - both[f"{col}_lt"]) < 1e-9).all(), col


def test_identical_cdnow_lines_are_separate_purchases(cdnow):
    """CDNOW records are transactions: identical lines are not exact duplicates."""
    _, report = prepare_orders(cdnow, "1997-09-30")
    assert report.count("exact_duplicate") == 0
    assert report.count("after_as_of") > 0


@pytest.mark.parametrize("unit", ["D", "W", "M"])
def test_fast_path_equals_exact_path_and_ignores_row_order(unit, monkeypatch):
    """The compiled summary equals the Polars one bit for bit, whatever the row order."""
    from polars.testing import assert_frame_equal

    from workbench.native import customer_scan

    rng_rows = []
    for i in range(300):
        cid = f"c{i % 97:03d}"
        day = dt.date(2024, 1, 1) + dt.timedelta(days=(i * 37) % 200)
        rng_rows.append((cid, day.isoformat(), f"{(i * 13) % 50 + 1}.{i % 100:02d}"))
    rng_rows += [rng_rows[5], rng_rows[5], ("c001", rng_rows[1][1], "3.00")]  # dups, same day
    frame = pl.DataFrame(rng_rows, schema=["customer_id", "order_date", "amount"], orient="row")
    tx = validate_transactions(frame)
    as_of = dt.date(2024, 7, 1)
    assert customer_scan.usable_for(tx["customer_id"])
    fast = customer_summary(tx, as_of, unit)
    shuffled = customer_summary(tx.sample(fraction=1.0, shuffle=True, seed=5), as_of, unit)
    orders, report = prepare_orders(tx, as_of)
    monkeypatch.setattr(customer_scan, "usable_for", lambda ids: False)
    exact = customer_summary(tx, as_of, unit)
    from_orders = summary_from_orders(orders, as_of, unit)
    assert report.count("exact_duplicate") == 2
    assert_frame_equal(fast, exact, check_exact=True)
    assert_frame_equal(fast, shuffled, check_exact=True)
    assert_frame_equal(fast, from_orders, check_exact=True)


@pytest.mark.parametrize("unit", ["W", "M"])
def test_summary_from_orders_equals_customer_summary(sample_data_dir, cdnow_transactions, unit):
    """Reusing prepared orders (reports, dashboard) gives the same summary as from lines."""
    from polars.testing import assert_frame_equal

    from workbench.core.io import read_transactions
    from workbench.core.summary import summary_from_orders

    sample = read_transactions(sample_data_dir / "transactions.csv")  # order ids and returns
    no_ids = cdnow_transactions.drop("order_id")  # the line-level fast path
    for tx, as_of in ((sample, "2026-03-31"), (no_ids, "1997-09-30")):
        orders, _ = prepare_orders(tx, as_of)
        assert_frame_equal(summary_from_orders(orders, as_of, unit),
                           customer_summary(tx, as_of, unit), rel_tol=1e-12, abs_tol=1e-9)
