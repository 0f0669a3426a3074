"""Purchase-model diagnostics (frames) and their charts (rendered to SVG with vl-convert)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import numpy as np
import polars as pl
import pytest

from workbench.models import clv
from workbench.presentation.charts import clv_diagnostics as charts


def svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    out = vlc.vegalite_to_svg(chart.to_dict())
    assert out.startswith("<svg") and "NaN" not in out
    return out


@pytest.fixture(scope="module")
def models(cdnow_calibration):
    return {k: clv.compare.make_model(k).fit(cdnow_calibration)
            for k in ("bgnbd", "mbgnbd", "paretonbd", "nbd")}


@pytest.mark.parametrize("key", ["bgnbd", "mbgnbd", "paretonbd", "nbd"])
def test_repeat_count_fit(models, cdnow_calibration, key):
    fit = clv.repeat_count_fit(models[key], cdnow_calibration)
    assert fit["frequency_bucket"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert fit["observed"].sum() == cdnow_calibration.height == pytest.approx(
        fit["expected"].sum())
    assert fit["observed"][0] == 1411  # FHL 2005: 1,411 of 2,357 made no repeat purchase
    if key != "nbd":
        assert abs(fit["difference"][0]) < 30  # the drop-out models fit the zeros closely
    assert "<svg" in svg(charts.repeat_count_chart(fit))


def test_expected_purchases_matrix_and_heatmap(models):
    m = models["bgnbd"]
    mat = clv.expected_purchases_matrix(m, 39.0, 10, 39)
    assert mat.height == 1 + 10 * 40  # frequency 0 only at recency 0
    row = mat.filter((pl.col("frequency") == 2) & (pl.col("recency") == 30)).row(0, named=True)
    assert row["expected_purchases"] == pytest.approx(
        m.expected_purchases_array(39.0, np.array([2.0]), np.array([30.0]), np.array([39.0]))[0])
    # for a given frequency, a more recent last purchase means more expected purchases
    f5 = mat.filter(pl.col("frequency") == 5).sort("recency")["expected_purchases"]
    assert f5.is_sorted()
    assert "<svg" in svg(charts.expected_purchases_heatmap(mat, horizon_label="39 weeks"))
    with pytest.raises(ValueError, match="max_recency"):
        clv.expected_purchases_matrix(m, 39.0, 10, 39, T=20)


def test_p_alive_history(models, cdnow_transactions, cdnow_calibration):
    m = models["bgnbd"]
    cid = cdnow_calibration.sort("frequency", descending=True)["customer_id"][0]
    times, age = clv.customer_purchase_times(cdnow_transactions, cid, dt.date(1997, 9, 30), "W")
    hist = clv.p_alive_history(m, times, age)
    assert hist["t"].is_sorted() and hist["t"][-1] == pytest.approx(age)
    assert hist["purchase"].sum() == len(times)
    # BG/NBD: right at a purchase P(alive) = 1 / (1 + a / (b + x - 1)) (x > 0), and it falls
    # while the customer is silent
    a, b = m.params_["a"], m.params_["b"]
    at = hist.filter(pl.col("purchase") & (pl.col("frequency") > 0))
    assert at["p_alive"].to_numpy() == pytest.approx(
        1 / (1 + a / (b + at["frequency"].to_numpy() - 1)))
    last = hist.filter(pl.col("t") >= times[-1])["p_alive"]
    assert last.is_sorted(descending=True)
    summary_row = cdnow_calibration.filter(pl.col("customer_id") == cid).row(0, named=True)
    assert hist["frequency"][-1] == summary_row["frequency"]
    assert "<svg" in svg(charts.p_alive_history_chart(hist, customer=str(cid)))
    with pytest.raises(ValueError, match="no purchase"):
        clv.customer_purchase_times(cdnow_transactions, "nobody", "1997-09-30")
    nbd_hist = clv.p_alive_history(models["nbd"], times, age)
    assert nbd_hist["p_alive"].to_list() == [1.0] * nbd_hist.height


def test_heterogeneity_distributions(models):
    bg = clv.heterogeneity_distributions(models["bgnbd"])
    assert bg["parameter"].unique().sort().to_list() == ["lambda", "p"]
    lam = bg.filter(pl.col("parameter") == "lambda")
    r, alpha = models["bgnbd"].params_["r"], models["bgnbd"].params_["alpha"]
    assert lam["mean"][0] == pytest.approx(r / alpha)
    p = bg.filter(pl.col("parameter") == "p")
    assert p["value"].min() > 0 and p["value"].max() < 1 and (p["density"] > 0).all()
    pareto = clv.heterogeneity_distributions(models["paretonbd"])
    assert set(pareto["parameter"]) == {"lambda", "mu"}
    assert set(clv.heterogeneity_distributions(models["nbd"])["parameter"]) == {"lambda"}
    text = svg(charts.heterogeneity_chart(bg))
    assert "Drop-out probability" in text


def test_interval_chart(cdnow_calibration, models):
    iv = clv.prediction_intervals(models["bgnbd"], cdnow_calibration.head(10), 39.0, n_draws=50)
    chart = charts.interval_chart(iv, estimate="estimate", lower="lower", upper="upper",
                                  value_title="Expected purchases")
    assert iv["customer_id"][0] in svg(chart)


def test_fallback_diagnosis_speaks_plainly():
    m = clv.BetaGeoModel()
    m.params_ = {"r": 0.5, "alpha": 6.0, "a": 1.6e-5, "b": 5759.0}
    m.covariance_log_ = np.full((4, 4), np.nan)
    said = clv.model_diagnosis(m)
    assert any("do not show customers dropping out" in s for s in said)
    assert any("no standard errors" in s for s in said)
    m.diagnosis = ["Told by the fit."]
    assert clv.model_diagnosis(m) == ["Told by the fit."]
