"""Calibration / holdout checks on CDNOW (FHL 2005 section 4)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from workbench.models.clv import (
    BetaGeoModel,
    ParetoNBDModel,
    error_metrics,
    holdout_by_frequency,
    p_alive_matrix,
    tracking,
)

REPO = Path(__file__).resolve().parents[1]
CAL_END, OBS_END = dt.date(1997, 9, 30), dt.date(1998, 6, 30)


@pytest.fixture(scope="module")
def data(cdnow_transactions, cdnow_calibration) -> tuple[pl.DataFrame, pl.DataFrame, BetaGeoModel]:
    return cdnow_transactions, cdnow_calibration, BetaGeoModel().fit(cdnow_calibration)


def test_holdout_by_frequency(data) -> None:
    _, cal, bg = data
    out = holdout_by_frequency(cal, bg, max_frequency=7)
    assert out["frequency_bucket"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert out["customers"].sum() == 2357
    assert out["customers"][0] == 1411
    total_actual = (out["customers"] * out["actual_mean"]).sum()
    assert total_actual == pytest.approx(1882)
    pred = bg.expected_purchases(cal, 39)["expected_purchases"].to_numpy()
    assert (out["customers"] * out["predicted_mean"]).sum() == pytest.approx(pred.sum())
    # the conditional expectations rise with calibration frequency, as in FHL 2005 Fig. 4
    assert np.all(np.diff(out["predicted_mean"].to_numpy()) > 0)
    # every bucket's means, computed here directly from the calibration frame
    freq = cal["frequency"].to_numpy()
    actual = cal["frequency_holdout"].to_numpy()
    for i, bucket in enumerate(out["frequency_bucket"]):
        rows = freq >= 7 if bucket == "7+" else freq == int(bucket)
        assert out["customers"][i] == rows.sum()
        assert out["predicted_mean"][i] == pytest.approx(pred[rows].mean(), rel=1e-12)
        assert out["actual_mean"][i] == pytest.approx(actual[rows].mean(), rel=1e-12)


def test_error_metrics(data) -> None:
    _, cal, bg = data
    m = error_metrics(cal, bg).row(0, named=True)
    assert m["customers"] == 2357 and m["total_actual"] == 1882
    pred = bg.expected_purchases(cal, 39)["expected_purchases"].to_numpy()
    err = pred - cal["frequency_holdout"].to_numpy()
    assert m["mae"] == pytest.approx(np.abs(err).mean())
    assert m["rmse"] == pytest.approx(np.sqrt((err**2).mean()))
    assert m["total_predicted"] == pytest.approx(pred.sum())
    actual = cal["frequency_holdout"].to_numpy()
    assert m["correlation"] == pytest.approx(np.corrcoef(actual, pred)[0, 1], rel=1e-12)
    assert m["total_error_pct"] == pytest.approx(100 * (pred.sum() - 1882) / 1882, rel=1e-12)


@pytest.mark.parametrize("model_cls", [BetaGeoModel, ParetoNBDModel])
def test_tracking_reproduces_fhl_cumulative_figure(data, model_cls) -> None:
    tx, cal, _ = data
    model = model_cls().fit(cal)
    tr = tracking(tx, cal, model, CAL_END, OBS_END, unit="W")
    assert tr.height == 78
    assert tr["period_start"][0] == dt.date(1997, 1, 1)
    assert tr["period_end"][-1] == OBS_END
    cal_rows = tr.filter(~pl.col("holdout"))
    assert cal_rows["period_end"][-1] == CAL_END
    # repeat purchases: 2,457 in calibration, 1,882 in the holdout
    assert cal_rows["actual_cumulative"][-1] == 2457
    assert tr["actual_cumulative"][-1] == 2457 + 1882
    assert tr["actual"].sum() == 2457 + 1882
    np.testing.assert_allclose(tr["expected"].cum_sum().to_numpy(),
                               tr["expected_cumulative"].to_numpy())
    # FHL 2005 Fig. 3: the cohort forecast tracks the actual cumulative curve within a few %
    assert abs(cal_rows["expected_cumulative"][-1] / 2457 - 1) < 0.05
    assert abs(tr["expected_cumulative"][-1] / 4339 - 1) < 0.06
    # cumulative expected = sum over customers of E[X(t - t0)]
    t0 = (CAL_END - dt.date(1997, 1, 1)).days / 7 - cal["T"].to_numpy()
    t_end = 78.0
    direct = model.expected_purchases_new_customer_array(t_end - t0).sum()
    assert tr["expected_cumulative"][-1] == pytest.approx(direct, rel=1e-9)


def test_p_alive_matrix(data) -> None:
    _, _, bg = data
    m = p_alive_matrix(bg, max_frequency=10, max_recency=39)
    assert m.columns == ["frequency", "recency", "T", "p_alive"]
    assert m.height == 1 + 10 * 40
    assert m.filter(pl.col("frequency") == 0)["p_alive"].to_list() == [1.0]
    one = m.filter(pl.col("frequency") == 5).sort("recency")["p_alive"].to_numpy()
    assert np.all(np.diff(one) > 0)  # more recent last purchase: more likely alive
    assert ((m["p_alive"] >= 0) & (m["p_alive"] <= 1)).all()
    # every cell equals the closed form of FHL 2005 (P(alive) note, eq. 5) at the fitted values
    r, alpha, a, b = (bg.params_[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, big_t = (m[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    ratio = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300), 0.0)
    closed = 1 / (1 + ratio * ((alpha + big_t) / (alpha + t_x)) ** (r + x))
    np.testing.assert_allclose(m["p_alive"].to_numpy(), closed, rtol=1e-12)
    with pytest.raises(ValueError, match="T"):
        p_alive_matrix(bg, 3, 10, T=5)


def test_tracking_input_errors(data) -> None:
    tx, cal, bg = data
    with pytest.raises(ValueError, match="order_date"):
        tracking(tx.drop("order_date"), cal, bg, CAL_END, OBS_END)
    with pytest.raises(ValueError, match="observation_end"):
        tracking(tx, cal, bg, OBS_END, CAL_END)
    with pytest.raises(ValueError, match="frequency_holdout"):
        holdout_by_frequency(cal.drop("frequency_holdout"), bg)
