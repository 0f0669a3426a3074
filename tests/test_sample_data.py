"""Tests of the deterministic sample-data generator (``workbench.app.sample_data``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.app.sample_data import (
    DEFAULT_END,
    DEFAULT_START,
    GROUND_TRUTH,
    N_DUPLICATE_ROWS,
    generate_benchmark_transactions,
    generate_sample_data,
    write_benchmark_transactions,
    write_sample_data,
)
from workbench.core import schema

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
FILES = ("transactions", "customers", "surveys")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read(name: str) -> pl.DataFrame:
    return pl.read_csv(SAMPLE_DIR / f"{name}.csv", try_parse_dates=True)


@pytest.fixture(scope="module")
def small() -> dict[str, pl.DataFrame]:
    return generate_sample_data(n_customers=3_000, seed=11, include_latent=True)


@pytest.fixture(scope="module")
def committed() -> dict[str, pl.DataFrame]:
    return {name: _read(name) for name in FILES}


# --- determinism ----------------------------------------------------------------------


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    a = write_sample_data(tmp_path / "a", n_customers=1_500, seed=5)
    b = write_sample_data(tmp_path / "b", n_customers=1_500, seed=5)
    c = write_sample_data(tmp_path / "c", n_customers=1_500, seed=6)
    for name in FILES:
        assert _sha(a[name]) == _sha(b[name])
        assert _sha(a[name]) != _sha(c[name])


def test_committed_files_regenerate_byte_identical(tmp_path: Path) -> None:
    paths = write_sample_data(tmp_path)  # the defaults are the committed set
    for name in FILES:
        assert _sha(paths[name]) == _sha(SAMPLE_DIR / f"{name}.csv"), name


def test_benchmark_log_is_deterministic_and_exact(tmp_path: Path) -> None:
    a = generate_benchmark_transactions(n_rows=20_000, n_customers=7_000, seed=3)
    b = generate_benchmark_transactions(n_rows=20_000, n_customers=7_000, seed=3)
    assert a.equals(b)
    assert a.shape == (20_000, 3)
    assert a["customer_id"].n_unique() == 7_000
    assert a["order_date"].is_sorted()
    assert a["order_date"].min() >= DEFAULT_START
    assert a["order_date"].max() <= DEFAULT_END
    assert (a["amount"] > 0).all()
    for suffix in (".csv", ".parquet"):
        path = write_benchmark_transactions(tmp_path / f"log{suffix}", n_rows=500, n_customers=90)
        back = pl.read_csv(path) if suffix == ".csv" else pl.read_parquet(path)
        assert back.height == 500
    with pytest.raises(ValueError, match="unknown format"):
        write_benchmark_transactions(tmp_path / "log.xlsx", n_rows=10, n_customers=5)


# --- the committed default set ----------------------------------------------------------


def test_default_sizes(committed: dict[str, pl.DataFrame]) -> None:
    tx, cu, sv = committed["transactions"], committed["customers"], committed["surveys"]
    assert cu.height == 20_000
    assert 150_000 <= tx.height <= 300_000
    assert tx["order_date"].min() == DEFAULT_START
    assert tx["order_date"].max() <= DEFAULT_END
    sales = tx.filter(pl.col("amount") > 0)
    n_purchases = sales.group_by("customer_id").agg(pl.col("order_date").n_unique())
    one_time = (n_purchases["order_date"] == 1).mean()
    assert 0.40 <= one_time <= 0.60
    assert n_purchases["order_date"].max() >= 50  # some heavy buyers
    share_surveyed = sv["customer_id"].n_unique() / cu.height
    assert 0.15 <= share_surveyed <= 0.20


def test_contract_columns_and_types(committed: dict[str, pl.DataFrame]) -> None:
    contract = {
        "transactions": {**schema.TRANSACTION_REQUIRED, **schema.TRANSACTION_OPTIONAL},
        "customers": {**schema.CUSTOMER_REQUIRED, **schema.CUSTOMER_OPTIONAL},
        "surveys": {**schema.SURVEY_REQUIRED, **schema.SURVEY_OPTIONAL},
    }
    for name, frame in committed.items():
        cols = contract[name]
        if name == "transactions":
            cols = {k: v for k, v in cols.items() if k != schema.MARGIN}  # cost is given
        assert set(cols) <= set(frame.columns), name
        cast = frame.select(pl.col(c).cast(t, strict=True) for c, t in cols.items())
        for c in cols:
            assert cast[c].null_count() == frame[c].null_count(), (name, c)
    tx, cu, sv = committed["transactions"], committed["customers"], committed["surveys"]
    assert tx.schema["order_date"] == pl.Date
    assert sv.schema["survey_date"] == pl.Date
    assert cu.schema["signup_date"] == pl.Date
    assert tx.null_count().sum_horizontal().item() == 0
    assert cu.null_count().sum_horizontal().item() == 0
    assert tx["customer_id"].str.contains(r"^C\d{6}$").all()
    assert set(tx["channel"]) == {"online", "store"}
    assert set(cu["customer_type"]) == set(schema.CUSTOMER_TYPES)
    assert set(cu["payment_terms"]) == set(schema.PAYMENT_TERMS)
    assert 4 <= cu["region"].n_unique() <= 6
    for col, (lo, hi) in schema.SURVEY_RANGES.items():
        assert sv[col].drop_nulls().is_between(lo, hi).all(), col
    # amounts in cents, cost 55-75 % of the amount
    assert ((tx["amount"] * 100).round(6) % 1 == 0).all()
    big = tx.filter(pl.col("amount").abs() >= 2)  # below, cent rounding dominates
    assert big.height > 0.99 * tx.height
    share = (big["cost"] / big["amount"]).to_numpy()
    assert share.min() >= 0.545
    assert share.max() <= 0.755


def test_only_planted_duplicates(committed: dict[str, pl.DataFrame]) -> None:
    tx = committed["transactions"]
    assert tx.height - tx.unique().height == N_DUPLICATE_ROWS
    assert committed["customers"]["customer_id"].is_unique().all()


def test_customers_consistent(committed: dict[str, pl.DataFrame]) -> None:
    tx, cu = committed["transactions"], committed["customers"]
    first = tx.group_by("customer_id").agg(pl.col("order_date").min().alias("first"))
    joined = cu.join(first, on="customer_id", how="left")
    assert joined["first"].null_count() == 0  # every customer bought
    assert (joined["signup_date"] <= joined["first"]).all()
    b2b_share = (cu["customer_type"] == "B2B").mean()
    assert 0.12 <= b2b_share <= 0.18
    credit = cu.group_by("customer_type").agg((pl.col("payment_terms") == "credit").mean())
    credit_by = dict(zip(credit["customer_type"], credit["payment_terms"], strict=True))
    assert credit_by["B2B"] > 0.7
    assert credit_by["B2C"] < 0.1


def test_surveys_dates_and_missing(committed: dict[str, pl.DataFrame]) -> None:
    tx, sv = committed["transactions"], committed["surveys"]
    first = tx.group_by("customer_id").agg(pl.col("order_date").min().alias("first"))
    joined = sv.join(first, on="customer_id")
    assert joined.height == sv.height
    assert (joined["survey_date"] > joined["first"]).all()
    counts = sv.group_by("customer_id").len()
    assert (counts["len"] == 2).sum() > 50
    assert sv.select(pl.struct("customer_id", "survey_date").is_unique().all()).item()
    future = (sv["survey_date"] > tx["order_date"].max()).sum()
    assert 1 <= future <= 0.02 * sv.height
    score_cols = [f"score_{c}" for c in schema.CRITERIA]
    with_missing = sv.select(pl.any_horizontal(pl.col(score_cols).is_null())).to_series().sum()
    assert 10 <= with_missing <= 0.06 * sv.height


# --- structure of orders and returns -----------------------------------------------------


def test_multi_line_orders_and_returns(small: dict[str, pl.DataFrame]) -> None:
    tx = small["transactions"].unique(maintain_order=True)
    sales = tx.filter(pl.col("amount") > 0)
    lines = sales.group_by("order_id").agg(
        pl.len().alias("n"),
        pl.col("order_date").n_unique().alias("dates"),
        pl.col("customer_id").n_unique().alias("custs"),
        pl.col("order_date").first().alias("date"),
        pl.col("amount").sum().alias("value"),
    )
    assert lines["n"].max() == 4
    assert (lines["n"] > 1).mean() > 0.3
    assert (lines["dates"] == 1).all()
    assert (lines["custs"] == 1).all()
    # at most one order per customer and day
    per_day = sales.group_by("customer_id", "order_date").agg(pl.col("order_id").n_unique())
    assert (per_day["order_id"] == 1).all()

    returns = tx.filter(pl.col("amount") < 0)
    assert 0.02 <= returns["order_id"].n_unique() / lines.height <= 0.04
    assert (returns["quantity"] < 0).all()
    assert (returns["cost"] < 0).all()
    ret = returns.group_by("order_id").agg(
        pl.col("amount").sum().alias("returned"),
        pl.col("order_date").min().alias("ret_date"),
        pl.col("customer_id").first().alias("ret_cust"),
    )
    check = ret.join(lines, on="order_id", how="left")
    assert check["value"].null_count() == 0
    assert (-check["returned"] <= check["value"] + 1e-9).all()
    assert (check["ret_date"] > check["date"]).all()
    assert (check["ret_date"] <= DEFAULT_END).all()
    owner = sales.select("order_id", "customer_id").unique()
    assert (
        check.join(owner, on="order_id")
        .select((pl.col("ret_cust") == pl.col("customer_id")).all())
        .item()
    )


# --- behaviour and attitude ---------------------------------------------------------------


def test_attitude_correlates_with_behaviour(small: dict[str, pl.DataFrame]) -> None:
    latent = small["latent"]
    rho = np.corrcoef(latent["attitude"], latent["behaviour"])[0, 1]
    assert 0.3 < rho < 0.9
    assert abs(rho - GROUND_TRUTH["attitude"]["rho"]) < 0.1

    tx, sv = small["transactions"], small["surveys"]
    purchases = (
        tx.filter(pl.col("amount") > 0)
        .group_by("customer_id")
        .agg(pl.col("order_date").n_unique().alias("n"))
    )
    last = sv.sort("survey_date").group_by("customer_id").agg(pl.col("nps").last())
    obs = last.join(purchases, on="customer_id")
    r_obs = obs.select(pl.corr("nps", "n", method="spearman")).item()
    assert 0.0 < r_obs < 0.9


def test_all_dick_basu_types_occur(committed: dict[str, pl.DataFrame]) -> None:
    tx, sv = committed["transactions"], committed["surveys"]
    n = (
        tx.filter(pl.col("amount") > 0)
        .group_by("customer_id")
        .agg(pl.col("order_date").n_unique().alias("n"))
    )
    last = sv.sort("survey_date").group_by("customer_id").agg(pl.col("nps").last())
    typed = last.join(n, on="customer_id").with_columns(
        high_att=pl.col("nps") >= 9, high_rep=pl.col("n") > 2
    )
    cells = typed.group_by("high_att", "high_rep").len()
    assert cells.height == 4
    assert cells["len"].min() >= 0.08 * typed.height


def test_key_drivers_follow_loadings(committed: dict[str, pl.DataFrame]) -> None:
    sv = committed["surveys"]
    corr = {c: sv.select(pl.corr(f"score_{c}", "nps")).item() for c in schema.CRITERIA}
    loadings = GROUND_TRUTH["attitude"]["loadings"]
    assert max(corr, key=corr.get) in ("quality", "reliability")
    assert min(corr, key=corr.get) == min(loadings, key=loadings.get) == "price"


def test_b2b_buy_more_and_larger(small: dict[str, pl.DataFrame]) -> None:
    tx, cu = small["transactions"], small["customers"]
    orders = (
        tx.filter(pl.col("amount") > 0)
        .group_by("customer_id", "order_id")
        .agg(pl.col("amount").sum())
        .group_by("customer_id")
        .agg(pl.len().alias("orders"), pl.col("amount").mean().alias("mean_order"))
        .join(cu, on="customer_id")
        .group_by("customer_type")
        .agg(pl.col("orders").mean(), pl.col("mean_order").mean())
    )
    by = {row["customer_type"]: row for row in orders.iter_rows(named=True)}
    assert by["B2B"]["mean_order"] > 1.3 * by["B2C"]["mean_order"]
    assert by["B2B"]["orders"] > 1.3 * by["B2C"]["orders"]


def test_ground_truth_documented() -> None:
    bg, gg = GROUND_TRUTH["bgnbd"], GROUND_TRUTH["gamma_gamma"]
    assert set(bg) == {"r", "alpha", "a", "b", "unit"}
    assert bg["unit"] == "W"
    assert set(gg) == {"p", "q", "v"}
    assert set(GROUND_TRUTH["attitude"]["loadings"]) == set(schema.CRITERIA)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="n_customers"):
        generate_sample_data(n_customers=0)
    with pytest.raises(ValueError, match="30 days"):
        generate_sample_data(n_customers=10, start="2024-01-01", end="2024-01-10")
    with pytest.raises(ValueError, match="n_rows"):
        generate_benchmark_transactions(n_rows=5, n_customers=10)
