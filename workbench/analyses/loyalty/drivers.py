"""Key drivers: which satisfaction criteria go with loyalty (NPS, repurchase intent).

Lecture 11 of the *Customer relationship management* lecture course: a satisfaction programme
should "prioritize
improvement based on an understanding of what the 'key drivers' of satisfaction are", and "the
modeling of a relationship is no more complex than drawing a line of best fit ... understanding
how reliable the equation is requires some statistical knowledge".  Two honest measures:

* :func:`key_drivers`: per criterion and loyalty measure, the **Spearman rank correlation** of
  the criterion score (1-5) with the measure (NPS 0-10, repurchase intent 1-5) over the customers
  who answered both, with a **percentile bootstrap confidence interval** (``n_boot`` resamples of
  customers, seeded, so the same data give the same interval) and the sample size.  Rank
  correlation suits ordinal 1-5 / 0-10 answers.  Beside it the mean stated weight of the
  criterion (the importance the customers *say* it has), because derived and stated importance
  often differ.
* :func:`driver_regression`: a standardized multiple regression of the measure on all criterion
  scores (complete cases), with bootstrap intervals of the standardized coefficients and R².
  Criteria are correlated with each other, so the coefficients are the unique contribution of
  each criterion and are less stable than the correlations; read them together.

Both report ``note`` when the sample is small (fewer than ``small_n`` answers, default 30 for
the correlations and ``10 * number of criteria`` for the regression) or the interval spans 0.
Correlation is not causation: a driver is a place to look, not a proven lever.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from workbench.core import schema
from workbench.core.stable import stable_mean

TARGETS = ("nps", "repurchase_intent")


def _boot_ranks(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Average (mid) ranks within each bootstrap row of ``values[idx]``.

    Survey answers take few distinct values, so the ranks come from per-row counts of each value
    (exactly :func:`scipy.stats.rankdata` with ``method="average"``, much faster); with many
    distinct values it falls back to ``rankdata``.
    """
    uniq, codes = np.unique(values, return_inverse=True)
    k = uniq.size
    if k > 64:
        return stats.rankdata(values[idx], axis=1)
    c = codes[idx]  # (B, n)
    counts = np.stack([(c == j).sum(axis=1) for j in range(k)], axis=1).astype(np.float64)
    below = np.cumsum(counts, axis=1) - counts
    mid = below + (counts + 1.0) / 2.0  # (B, k): average rank of each value
    return np.take_along_axis(mid, c, axis=1)


def _bootstrap_spearman(x: np.ndarray, y: np.ndarray, n_boot: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Spearman's rho of ``n_boot`` bootstrap resamples of the pairs ``(x, y)``.

    The resamples are the rows of ``rng.integers(0, n, (n_boot, n))``: one draw of the
    generator per call, as before, so a seed gives the same intervals.  Survey answers take
    few distinct values, so a resample is summarised by its table of counts of each
    (x value, y value) pair; the midranks of each value follow from the margins of that table,
    and rho is the Pearson correlation of the midranks weighted by the counts (the definition
    of Spearman's rho with ties, e.g. Kendall & Gibbons 1990, ch. 3).  This gives the same
    numbers as ranking every resample (up to rounding in the last bits) with arrays of
    ``n_boot x values`` instead of ``n_boot x n``.  With many distinct values it ranks every
    resample (:func:`_boot_ranks`).
    """
    n = x.size
    idx = rng.integers(0, n, size=(n_boot, n))
    ux, cx = np.unique(x, return_inverse=True)
    uy, cy = np.unique(y, return_inverse=True)
    kx, ky = ux.size, uy.size
    if kx * ky > 4096:
        rx = _boot_ranks(x, idx)
        ry = _boot_ranks(y, idx)
        rx -= rx.mean(axis=1, keepdims=True)
        ry -= ry.mean(axis=1, keepdims=True)
        den = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, (rx * ry).sum(axis=1) / den, np.nan)
    cells = kx * ky
    pair = (cx * ky + cy)[idx]  # (B, n) cell of each resampled answer
    pair += (np.arange(n_boot) * cells)[:, None]
    table = np.bincount(pair.ravel(), minlength=n_boot * cells).reshape(n_boot, kx, ky)
    table = table.astype(np.float64)
    mx, my = table.sum(axis=2), table.sum(axis=1)  # (B, kx), (B, ky): counts of each value
    centre = (n + 1) / 2.0  # the mean of the ranks 1..n
    ax = np.cumsum(mx, axis=1) - mx + (mx + 1.0) / 2.0 - centre  # centred midranks
    ay = np.cumsum(my, axis=1) - my + (my + 1.0) / 2.0 - centre
    sxy = np.einsum("bi,bij,bj->b", ax, table, ay)
    den = np.sqrt((mx * ax * ax).sum(axis=1) * (my * ay * ay).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, sxy / den, np.nan)


def _canonical_rows(responses: pl.DataFrame, targets: Sequence[str],
                    criteria: Sequence[str]) -> pl.DataFrame:
    """The answers in an order that does not depend on the input's row order.

    By customer id and survey date when present, then by every column the analysis reads, so
    that the bootstrap resamples the same answers for a given seed whatever the row order
    (rows equal in all those columns are interchangeable).  ``perceived_loyalty`` output, one
    row per customer sorted by id, keeps its order.
    """
    used = [schema.CUSTOMER_ID, schema.SURVEY_DATE, *targets,
            *(f"score_{c}" for c in criteria), *(f"weight_{c}" for c in criteria)]
    keys = list(dict.fromkeys(c for c in used if c in responses.columns))
    return responses.sort(keys, nulls_last=True, maintain_order=True) if keys else responses


def key_drivers(
    responses: pl.DataFrame,
    *,
    targets: Sequence[str] = TARGETS,
    criteria: Sequence[str] = schema.CRITERIA,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    small_n: int = 30,
) -> pl.DataFrame:
    """Spearman correlation of each criterion score with each loyalty measure, with bootstrap CIs.

    Parameters
    ----------
    responses
        One survey per customer, e.g. :func:`workbench.analyses.loyalty.perceived_loyalty` output
        (``score_<c>``, optional ``weight_<c>``, and the target columns).  Several surveys of one
        customer would count that customer several times.  The row order does not matter:
        the answers are put in one canonical order first (by id, date and the columns used).
    targets
        Loyalty measures (default NPS and repurchase intent); missing columns are skipped.
    criteria
        Criterion names (``score_<c>`` columns; missing ones are skipped).
    n_boot
        Bootstrap resamples (default 1000).
    ci
        Confidence level of the percentile interval (default 0.95).
    seed
        Seed of the bootstrap generator (same data and seed, same interval).
    small_n
        Below this many pairs ``note`` warns that the estimate is unreliable.

    Returns
    -------
    polars.DataFrame
        ``target``, ``criterion``, ``n``, ``rho`` (-1..1), ``ci_low``, ``ci_high``, ``p_value``
        (two-sided, scipy), ``mean_score`` (1-5), ``mean_weight`` (stated importance 1-5),
        ``rank`` (1 = strongest positive rho per target), ``note``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(1)
    >>> q = rng.integers(1, 6, 200)
    >>> df = pl.DataFrame({"score_quality": q, "score_price": rng.integers(1, 6, 200),
    ...                    "nps": np.clip(2 * q + rng.integers(-1, 2, 200), 0, 10)})
    >>> d = key_drivers(df, targets=["nps"], criteria=["quality", "price"], n_boot=200)
    >>> d.filter(pl.col("rank") == 1)["criterion"].item()
    'quality'
    """
    if not 0 < ci < 1:
        raise ValueError("ci must be between 0 and 1")
    responses = _canonical_rows(responses, targets, criteria)
    rng = np.random.default_rng(seed)
    lo_q, hi_q = 100 * (1 - ci) / 2, 100 * (1 + ci) / 2
    rows = []
    for target in targets:
        if target not in responses.columns:
            continue
        for c in criteria:
            col = f"score_{c}"
            if col not in responses.columns:
                continue
            pair = responses.select(pl.col(col).cast(pl.Float64).alias("x"),
                                    pl.col(target).cast(pl.Float64).alias("y")).drop_nulls()
            x, y = pair["x"].to_numpy(), pair["y"].to_numpy()
            n = x.size
            w = f"weight_{c}"
            mean_w = (responses.select(stable_mean(pl.col(w).cast(pl.Float64))).item()
                      if w in responses.columns else None)
            rho = p = lo = hi = None
            if n >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
                res = stats.spearmanr(x, y)
                rho, p = float(res.statistic), float(res.pvalue)
                boot = _bootstrap_spearman(x, y, n_boot, rng)
                if np.isfinite(boot).any():
                    lo, hi = (float(v) for v in np.nanpercentile(boot, [lo_q, hi_q]))
            if n < 3 or rho is None:
                note = f"n = {n}: too few answers or no variation, no estimate"
            elif n < small_n:
                note = f"only n = {n} answers: unreliable, read the interval"
            elif lo is not None and hi is not None and lo <= 0 <= hi:  # set together
                note = "interval includes 0: no clear relation"
            else:
                note = None
            rows.append({"target": target, "criterion": c, "n": n, "rho": rho, "ci_low": lo,
                         "ci_high": hi, "p_value": p,
                         "mean_score": float(x.mean()) if n else None, "mean_weight": mean_w,
                         "note": note})
    schema_ = {"target": pl.String, "criterion": pl.String, "n": pl.Int64, "rho": pl.Float64,
               "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64,
               "mean_score": pl.Float64, "mean_weight": pl.Float64, "note": pl.String}
    out = pl.DataFrame(rows, schema=schema_)
    out = out.with_columns(pl.col("rho").rank("ordinal", descending=True).over("target")
                           .cast(pl.Int64).alias("rank"))
    return out.select(*[c for c in schema_ if c != "note"], "rank", "note").sort("target", "rank")


def driver_regression(
    responses: pl.DataFrame,
    target: str = "nps",
    *,
    criteria: Sequence[str] = schema.CRITERIA,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> pl.DataFrame:
    """Standardized OLS of ``target`` on the criterion scores, with bootstrap intervals.

    Variables are z-scored on the complete cases, so a coefficient (``beta``) is the change of
    the target in standard deviations per standard deviation of the criterion, the others held
    fixed.  Intervals are percentile bootstrap intervals over customers (seeded).

    Returns
    -------
    polars.DataFrame
        ``criterion``, ``beta``, ``ci_low``, ``ci_high``, ``n``, ``r2`` (same on every row),
        ``note``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(2)
    >>> a, b = rng.normal(size=300), rng.normal(size=300)
    >>> df = pl.DataFrame({"score_a": a, "score_b": b, "nps": 2 * a + rng.normal(size=300)})
    >>> r = driver_regression(df, criteria=["a", "b"], n_boot=200)
    >>> r.sort("beta", descending=True)["criterion"].to_list()
    ['a', 'b']
    """
    # long: fit plus bootstrap of the same design matrix; splitting would pass the matrix and
    # moments around
    cols = [f"score_{c}" for c in criteria if f"score_{c}" in responses.columns]
    names = [c.removeprefix("score_") for c in cols]
    data = responses.select([pl.col(c).cast(pl.Float64) for c in cols]
                            + [pl.col(target).cast(pl.Float64)]).drop_nulls().to_numpy()
    n, k = data.shape[0], len(cols)
    empty = pl.DataFrame(schema={"criterion": pl.String, "beta": pl.Float64,
                                 "ci_low": pl.Float64, "ci_high": pl.Float64, "n": pl.Int64,
                                 "r2": pl.Float64, "note": pl.String})
    if k == 0 or n <= k + 1:
        return empty

    def fit(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Standardized OLS of the last column on the others, for a batch (B, n, k + 1)."""
        mean = m.mean(axis=1, keepdims=True)
        sd = m.std(axis=1, keepdims=True)
        ok = np.all(sd[:, 0, :] > 0, axis=1)
        z = (m - mean) / np.where(sd > 0, sd, 1.0)
        x, y = z[:, :, :k], z[:, :, k]
        xtx = np.einsum("bni,bnj->bij", x, x)
        xty = np.einsum("bni,bn->bi", x, y)
        beta = np.full((m.shape[0], k), np.nan)
        r2 = np.full(m.shape[0], np.nan)
        if ok.any():
            try:
                beta[ok] = np.linalg.solve(xtx[ok], xty[ok][..., None])[..., 0]
            except np.linalg.LinAlgError:  # a singular resample: fall back one by one
                for b in np.flatnonzero(ok):
                    beta[b] = np.linalg.lstsq(x[b], y[b], rcond=None)[0]
            resid = y - np.einsum("bnk,bk->bn", x, np.nan_to_num(beta))
            r2 = np.where(ok, 1.0 - (resid * resid).sum(axis=1) / (y * y).sum(axis=1), np.nan)
        return beta, r2

    beta_all, r2_all = fit(data[None, :, :])
    beta, r2 = beta_all[0], float(r2_all[0])
    rng = np.random.default_rng(seed)
    # the resamples are drawn in the same chunks as before (same seed, same intervals); each
    # is fitted from its weighted moments (_resample_betas), not from an n x k copy
    chunk = max(1, min(n_boot, 4_000_000 // max(n * (k + 1), 1)))
    parts, done = [], 0
    while done < n_boot:
        size = min(chunk, n_boot - done)
        parts.append(_resample_betas(data, rng.integers(0, n, size=(size, n)), k))
        done += size
    boots = np.concatenate(parts) if parts else np.full((1, k), np.nan)
    lo, hi = np.nanpercentile(boots, [100 * (1 - ci) / 2, 100 * (1 + ci) / 2], axis=0)
    small = n < 10 * k
    notes: list[str | None] = []
    for j in range(k):
        if small:
            notes.append(f"n = {n} < {10 * k} (10 per criterion): unstable")
        elif lo[j] <= 0 <= hi[j]:
            notes.append("interval includes 0")
        else:
            notes.append(None)
    return pl.DataFrame({"criterion": names, "beta": beta, "ci_low": lo, "ci_high": hi,
                         "n": [n] * k, "r2": [r2] * k, "note": notes}, schema=empty.schema)


def _resample_betas(data: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Standardized OLS coefficients of bootstrap resamples, from their weighted moments.

    ``idx`` (B, n) holds the rows of each resample.  A resample is the data with weights (how
    often each row was drawn), so its means and covariances are weighted sums over the ``n``
    rows: one ``(B, n) @ (n, p * p)`` product instead of ``B`` copies of the data.  With
    ``R`` the resample's correlation matrix, the standardized coefficients solve
    ``R_xx beta = R_xy`` (the normal equations of OLS on z-scores, e.g. Cohen et al. 2003,
    eq. 3.5.1), the same numbers as fitting each resample's z-scores.  A resample in which a
    column is constant gets NaN; a singular one the least-squares (minimum-norm) solution.
    """
    n, p = data.shape
    size = idx.shape[0]
    flat = (idx + (np.arange(size) * n)[:, None]).ravel()
    weights = np.bincount(flat, minlength=size * n).reshape(size, n).astype(np.float64)
    centred = data - data.mean(axis=0)  # less cancellation in E[xx] - E[x]E[x]
    mean = weights @ centred / n  # (B, p)
    products = (centred[:, :, None] * centred[:, None, :]).reshape(n, p * p)
    cov = (weights @ products / n).reshape(size, p, p) - mean[:, :, None] * mean[:, None, :]
    var = np.diagonal(cov, axis1=1, axis2=2)
    floor = 1e-12 * np.maximum(centred.var(axis=0), 1e-300)
    ok = np.all(var > floor, axis=1)
    beta = np.full((size, k), np.nan)
    if ok.any():
        sd = np.sqrt(var[ok])
        corr = cov[ok] / (sd[:, :, None] * sd[:, None, :])
        rxx, rxy = corr[:, :k, :k], corr[:, :k, k]
        try:
            beta[ok] = np.linalg.solve(rxx, rxy[..., None])[..., 0]
        except np.linalg.LinAlgError:  # a singular resample: least squares one by one
            beta[ok] = np.stack([np.linalg.lstsq(a, b, rcond=None)[0]
                                 for a, b in zip(rxx, rxy, strict=True)])
    return beta
