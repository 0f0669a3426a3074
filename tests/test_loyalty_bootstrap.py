"""The key-driver bootstraps, vectorised, against fitting every resample on its own.

The resamples are the rows of ``default_rng(seed).integers(0, n, (B, n))`` in both, so the
statistics must agree resample by resample (to rounding), and the intervals with them.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from workbench.analyses.loyalty.drivers import _bootstrap_spearman, _resample_betas


def test_spearman_of_every_resample_matches_scipy() -> None:
    rng = np.random.default_rng(8)
    n = 150
    x = rng.integers(1, 6, n).astype(float)
    y = np.clip(x * 2 + rng.integers(-3, 4, n), 0, 10).astype(float)
    got = _bootstrap_spearman(x, y, 60, np.random.default_rng(3))
    idx = np.random.default_rng(3).integers(0, n, size=(60, n))
    expected = [stats.spearmanr(x[i], y[i]).statistic for i in idx]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_a_resample_without_variation_gives_nan() -> None:
    x = np.array([1.0, 1.0, 1.0, 2.0])
    y = np.array([3.0, 4.0, 5.0, 6.0])
    got = _bootstrap_spearman(x, y, 200, np.random.default_rng(0))
    idx = np.random.default_rng(0).integers(0, 4, size=(200, 4))
    constant = np.array([np.ptp(x[i]) == 0 or np.ptp(y[i]) == 0 for i in idx])
    assert constant.any() and (~constant).any()
    assert np.isnan(got[constant]).all() and np.isfinite(got[~constant]).all()


def test_many_distinct_values_rank_every_resample() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=120), rng.normal(size=120)
    got = _bootstrap_spearman(x, y, 20, np.random.default_rng(5))
    idx = np.random.default_rng(5).integers(0, 120, size=(20, 120))
    np.testing.assert_allclose(
        got, [stats.spearmanr(x[i], y[i]).statistic for i in idx], rtol=0, atol=1e-12
    )


def test_regression_betas_of_every_resample_match_least_squares() -> None:
    rng = np.random.default_rng(4)
    n, k = 90, 3
    x = rng.integers(1, 6, size=(n, k)).astype(float)
    y = x @ np.array([1.0, 0.5, 0.0]) + rng.normal(size=n)
    data = np.column_stack([x, y])
    idx = np.random.default_rng(2).integers(0, n, size=(25, n))
    got = _resample_betas(data, idx, k)
    for b, rows in enumerate(idx):
        m = data[rows]
        z = (m - m.mean(axis=0)) / m.std(axis=0)
        expected = np.linalg.lstsq(z[:, :k], z[:, k], rcond=None)[0]
        np.testing.assert_allclose(got[b], expected, rtol=1e-9, atol=1e-12)


def test_a_resample_of_one_repeated_row_gives_nan() -> None:
    data = np.array(
        [
            [1.0, 2.0, 3.0, 4.0],
            [1.0, 3.0, 1.0, 5.0],
            [2.0, 1.0, 2.0, 7.0],
            [3.0, 1.0, 2.0, 6.0],
            [2.0, 2.0, 1.0, 3.0],
        ]
    )
    idx = np.array([[0, 0, 0, 0, 0], [0, 1, 2, 3, 4]])
    got = _resample_betas(data, idx, 3)
    assert np.isnan(got[0]).all()  # every column constant: no coefficient
    assert np.isfinite(got[1]).all()
