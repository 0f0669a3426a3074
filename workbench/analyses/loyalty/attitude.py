"""Perceived (attitudinal) loyalty from surveys: NPS, satisfaction index, repurchase intent.

Kiseleva et al. (2016): perceived loyalty is "the level of customer satisfaction
with the company's offerings" and the emotional bond; it is measured by asking.  Rules:

* **Which survey**: per customer, the latest survey dated at or before the as-of date (ties on
  one date: the last row in file order).  Surveys after the as-of date are ignored (they were not
  known then) and counted by :func:`survey_coverage`; earlier surveys are superseded.
* **NPS class** (Reichheld 2003, "The one number you need to grow", Harvard Business Review
  81(12)): 0-10 likelihood to recommend; promoter 9-10, passive 7-8, detractor 0-6.
* **Satisfaction index** (Okhunov): ``I_s = sum_i O_i * B_i`` over the
  eight criteria of :data:`workbench.core.schema.CRITERIA`, weight ``O_i`` 1-5 chosen by the
  customer, score ``B_i`` 1-5; at most 8 * 5 * 5 = 200 points.  The zone comes from the share of the
  maximum: ``share < 0.30`` loss zone, ``0.30 <= share <= 0.80`` weak satisfaction,
  ``share > 0.80`` satisfied.  Okhunov says "below 30 %", "30-80 %" and "more than 80 %", so
  **exactly 30 % and exactly 80 % are both "weak"** (shares are rounded to 10 decimals before the
  comparison so that a rescaled 160.0 is not 0.7999999).
* **Missing criteria** (a criterion counts as answered only when both its score and its weight
  are present; a score without a weight or a weight without a score is missing): with at least
  ``min_answered`` (default 6) of the 8 criteria answered, the index is computed over the answered
  criteria and rescaled to eight, ``I_s = sum_answered(O_i * B_i) * 8 / n_answered`` (points, max
  200); with fewer it is null and ``satisfaction_note`` says why.  Rescaling assumes the
  unanswered criteria would have scored like the answered ones on average.
* ``share_basis="max"`` (default, Okhunov's rule) divides by 200.  Note that it mixes
  importance with satisfaction: a customer who rates every criterion 5 but gives every weight 3
  reaches only 60 %.  ``share_basis="weights"`` divides by ``5 * sum(O_i)`` over the answered
  criteria instead (the importance-weighted mean score as a share of 5), which measures
  satisfaction alone.
* **Repurchase intent**: 1-5 as answered.
* A customer without a survey has **unknown** attitude: counted and shown, never imputed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, cast

import polars as pl

from workbench.core import schema
from workbench.core.prepare import DateLike, to_date
from workbench.core.stable import stable_mean

_CID = schema.CUSTOMER_ID
_SDATE = schema.SURVEY_DATE

PROMOTER_MIN = 9  # Reichheld (2003)
DETRACTOR_MAX = 6
LOSS_BELOW = 0.30  # Okhunov
SATISFIED_ABOVE = 0.80
MIN_ANSWERED = 6
SCALE_MAX = 5  # scores and weights 1-5

NPS_CLASSES = ("promoter", "passive", "detractor")
ZONES = ("loss", "weak", "satisfied")
ZONE_LABELS = {"loss": "loss zone (< 30 %)", "weak": "weak satisfaction (30-80 %)",
               "satisfied": "satisfied (> 80 %)"}


def nps_class(nps: pl.Expr, promoter_min: float = PROMOTER_MIN,
              detractor_max: float = DETRACTOR_MAX) -> pl.Expr:
    """NPS class of a 0-10 answer: promoter (>= 9), passive (7-8), detractor (<= 6); null -> null.

    Examples
    --------
    >>> import polars as pl
    >>> pl.select(nps_class(pl.Series([10, 9, 8, 7, 6, 0, None]))).to_series().to_list()
    ['promoter', 'promoter', 'passive', 'passive', 'detractor', 'detractor', None]
    """
    return (pl.when(nps >= promoter_min).then(pl.lit("promoter"))
            .when(nps <= detractor_max).then(pl.lit("detractor"))
            .when(nps.is_not_null()).then(pl.lit("passive")))


def satisfaction_zone(share: pl.Expr, loss_below: float = LOSS_BELOW,
                      satisfied_above: float = SATISFIED_ABOVE) -> pl.Expr:
    """Zone of a share of the maximum: < 0.30 loss, 0.30-0.80 weak, > 0.80 satisfied.

    Boundaries belong to "weak" (Okhunov: "below 30 %" is loss, "more than 80 %" satisfied).

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.Series([0.2999, 0.3, 0.8, 0.8001, None])
    >>> pl.select(satisfaction_zone(s)).to_series().to_list()
    ['loss', 'weak', 'weak', 'satisfied', None]
    """
    r = share.round(10)
    return (pl.when(r < loss_below).then(pl.lit("loss"))
            .when(r > satisfied_above).then(pl.lit("satisfied"))
            .when(r.is_not_null()).then(pl.lit("weak")))


def satisfaction_index(
    surveys: pl.DataFrame,
    *,
    criteria: Sequence[str] = schema.CRITERIA,
    min_answered: int = MIN_ANSWERED,
    share_basis: Literal["max", "weights"] = "max",
    loss_below: float = LOSS_BELOW,
    satisfied_above: float = SATISFIED_ABOVE,
) -> pl.DataFrame:
    """Add Okhunov's satisfaction index and its zone to every survey row.

    Parameters
    ----------
    surveys
        Validated surveys (:func:`workbench.core.io.read_surveys`) with ``score_<c>`` /
        ``weight_<c>``.
    criteria
        Criterion names (default the eight of Okhunov).
    min_answered
        Fewest answered criteria for an index (default 6 of 8); below it the index is null.
    share_basis
        ``"max"`` (seed: points / 200) or ``"weights"`` (points / (5 * sum of answered weights)).
    loss_below, satisfied_above
        Zone boundaries as shares of the maximum (0.30 and 0.80; both boundaries are "weak").

    Returns
    -------
    polars.DataFrame
        ``surveys`` plus ``criteria_answered`` (count), ``satisfaction_points_raw`` (sum over the
        answered criteria), ``satisfaction_index`` (points rescaled to all criteria, max
        ``25 * len(criteria)``; null below ``min_answered``), ``satisfaction_share`` (0-1),
        ``satisfaction_zone`` and ``satisfaction_note`` (why the index is null, else null).

    Examples
    --------
    >>> import polars as pl
    >>> from workbench.core.schema import CRITERIA
    >>> row = {"customer_id": ["a"], **{f"score_{c}": [4] for c in CRITERIA},
    ...        **{f"weight_{c}": [5] for c in CRITERIA}}
    >>> satisfaction_index(pl.DataFrame(row)).select(
    ...     "satisfaction_index", "satisfaction_share", "satisfaction_zone").row(0)
    (160.0, 0.8, 'weak')
    """
    if share_basis not in ("max", "weights"):
        raise ValueError(f"share_basis must be 'max' or 'weights', got {share_basis!r}")
    k = len(criteria)
    if not 1 <= min_answered <= k:
        raise ValueError(f"min_answered must be between 1 and {k}, got {min_answered}")
    answered, products, weights = [], [], []
    for c in criteria:
        s, w = f"score_{c}", f"weight_{c}"
        if s in surveys.columns and w in surveys.columns:
            both = pl.col(s).is_not_null() & pl.col(w).is_not_null()
            answered.append(both.cast(pl.Int64))
            products.append(pl.when(both).then(pl.col(s).cast(pl.Float64) * pl.col(w)))
            weights.append(pl.when(both).then(pl.col(w).cast(pl.Float64)))
    if answered:
        n_ans = pl.sum_horizontal(answered)
        raw = pl.sum_horizontal(products)
        wsum = pl.sum_horizontal(weights)
    else:
        n_ans, raw, wsum = pl.lit(0, dtype=pl.Int64), pl.lit(0.0), pl.lit(0.0)
    max_points = float(k * SCALE_MAX * SCALE_MAX)
    ok = pl.col("criteria_answered") >= min_answered
    index = pl.when(ok).then(pl.col("satisfaction_points_raw") * k / pl.col("criteria_answered"))
    if share_basis == "max":
        share = pl.col("satisfaction_index") / max_points
    else:
        share = pl.when(ok).then(pl.col("satisfaction_points_raw") / (SCALE_MAX * wsum))
    note = pl.when(~ok).then(pl.format(
        "only {} of {} criteria answered (score and weight both needed; index needs >= {})",
        pl.col("criteria_answered"), pl.lit(k), pl.lit(min_answered)))
    return (
        surveys.with_columns(n_ans.alias("criteria_answered"),
                             raw.alias("satisfaction_points_raw"))
        .with_columns(index.alias("satisfaction_index"))
        .with_columns(share.alias("satisfaction_share"))
        .with_columns(satisfaction_zone(pl.col("satisfaction_share"), loss_below,
                                        satisfied_above).alias("satisfaction_zone"),
                      note.alias("satisfaction_note"))
    )


def latest_surveys(surveys: pl.DataFrame, as_of: DateLike) -> pl.DataFrame:
    """The latest survey at or before ``as_of`` per customer (ties: last row in file order).

    Adds ``surveys_to_date`` (that customer's surveys at or before ``as_of``).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> s = pl.DataFrame({"customer_id": ["a", "a", "a"], "nps": [3, 9, 10],
    ...                   "survey_date": [dt.date(2025, 1, 1), dt.date(2025, 6, 1),
    ...                                   dt.date(2026, 1, 1)]})
    >>> latest_surveys(s, "2025-12-31")["nps"].to_list()
    [9]
    """
    as_of = to_date(as_of)
    order = "source_row" if "source_row" in surveys.columns else None
    s = surveys if order else surveys.with_row_index("_row")
    s = s.filter(pl.col(_SDATE) <= as_of).sort(_CID, _SDATE, order or "_row")
    out = (s.with_columns(pl.len().over(_CID).cast(pl.Int64).alias("surveys_to_date"))
           .group_by(_CID, maintain_order=True).last())
    return out.drop("_row", strict=False)


def survey_coverage(surveys: pl.DataFrame | None, as_of: DateLike,
                    customer_ids: pl.Series | None = None) -> dict[str, int]:
    """Counts behind the attitude axis: who has a usable survey and what was left out.

    Returns a dict with ``customers`` (len of ``customer_ids``, or surveyed customers when not
    given), ``surveyed`` (customers with a survey at or before ``as_of``), ``unknown``
    (customers without one), ``surveys_used``, ``surveys_superseded`` (older surveys of a
    customer), ``surveys_after_as_of`` (ignored) and ``surveys_of_other_customers`` (dated at or
    before ``as_of`` but for ids outside ``customer_ids``).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> s = pl.DataFrame({"customer_id": ["a", "b"],
    ...                   "survey_date": [dt.date(2025, 1, 1), dt.date(2026, 1, 1)]})
    >>> survey_coverage(s, "2025-06-30", pl.Series(["a", "b", "c"]))["unknown"]
    2
    """
    as_of = to_date(as_of)
    if surveys is None:
        surveys = pl.DataFrame(schema={_CID: pl.String, _SDATE: pl.Date})
    before = surveys.filter(pl.col(_SDATE) <= as_of)
    after = surveys.height - before.height
    if customer_ids is not None:
        ids = customer_ids.cast(pl.String).unique()
        mine = before.filter(pl.col(_CID).is_in(ids.implode()))
        other = before.height - mine.height
        n_customers = ids.len()
    else:
        mine, other = before, 0
        n_customers = before[_CID].n_unique()
    surveyed = mine[_CID].n_unique()
    return {"customers": n_customers, "surveyed": surveyed, "unknown": n_customers - surveyed,
            "surveys_used": surveyed, "surveys_superseded": mine.height - surveyed,
            "surveys_after_as_of": after, "surveys_of_other_customers": other}


def perceived_loyalty(
    surveys: pl.DataFrame | None,
    as_of: DateLike,
    customer_ids: pl.Series | None = None,
    *,
    promoter_min: float = PROMOTER_MIN,
    detractor_max: float = DETRACTOR_MAX,
    **index_options,
) -> pl.DataFrame:
    """Per customer: the latest survey at or before ``as_of`` with NPS class and satisfaction.

    Parameters
    ----------
    surveys
        Validated surveys, or ``None`` (everybody's attitude is then unknown).
    as_of
        Surveys dated after it are ignored (see :func:`survey_coverage` for the count).
    customer_ids
        The customers to report on (e.g. all buyers); those without a survey get a row with
        ``surveyed = False`` and null answers.  ``None``: only the surveyed customers.
    promoter_min, detractor_max
        NPS class boundaries (9 and 6).
    **index_options
        Passed to :func:`satisfaction_index` (``min_answered``, ``share_basis``, zone bounds).

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``surveyed``, ``survey_date``, ``surveys_to_date``, ``nps``, ``nps_class``,
        ``repurchase_intent``, ``criteria_answered``, ``satisfaction_index``,
        ``satisfaction_share``, ``satisfaction_zone``, ``satisfaction_note`` and the
        ``score_<c>`` / ``weight_<c>`` columns present in the surveys.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> s = pl.DataFrame({"customer_id": ["a"], "survey_date": [dt.date(2025, 1, 1)],
    ...                   "nps": [9.0]})
    >>> p = perceived_loyalty(s, "2025-06-30", pl.Series(["a", "b"]))
    >>> p.select("customer_id", "surveyed", "nps_class").rows()
    [('a', True, 'promoter'), ('b', False, None)]
    """
    as_of = to_date(as_of)
    if surveys is None:
        surveys = pl.DataFrame(schema={_CID: pl.String, _SDATE: pl.Date})
    latest = satisfaction_index(latest_surveys(surveys, as_of), **index_options)
    for col in ("nps", "repurchase_intent"):
        if col not in latest.columns:
            latest = latest.with_columns(pl.lit(None, dtype=pl.Float64).alias(col))
    latest = latest.with_columns(
        pl.lit(True).alias("surveyed"),
        nps_class(pl.col("nps"), promoter_min, detractor_max).alias("nps_class"))
    crit_cols = [c for c in latest.columns if c.startswith(("score_", "weight_"))]
    cols = [_CID, "surveyed", _SDATE, "surveys_to_date", "nps", "nps_class",
            "repurchase_intent", "criteria_answered", "satisfaction_index",
            "satisfaction_share", "satisfaction_zone", "satisfaction_note", *crit_cols]
    latest = latest.select(cols)
    if customer_ids is not None:
        ids = pl.DataFrame({_CID: customer_ids.cast(pl.String).unique()})
        latest = (ids.join(latest, on=_CID, how="left")
                  .with_columns(pl.col("surveyed").fill_null(False)))
    return latest.sort(_CID)


def nps_score(classes: pl.Series) -> dict[str, float | int | None]:
    """NPS (points, -100..100) with a 95 % Wald interval from the trinomial variance.

    ``NPS = 100 * (p_promoters - p_detractors)``; its variance is
    ``(p_P + p_D - (p_P - p_D)**2) / n`` (the difference of two proportions of one multinomial
    sample), so the interval is ``NPS +- 1.96 * 100 * sqrt(var)``, clipped to [-100, 100].  With
    fewer than 30 answers the normal approximation is rough: read the interval as indicative.

    Examples
    --------
    >>> import polars as pl
    >>> r = nps_score(pl.Series(["promoter"] * 5 + ["passive"] * 3 + ["detractor"] * 2))
    >>> r["nps"], r["n"]
    (30.0, 10)
    """
    c = classes.drop_nulls()
    n = c.len()
    if n == 0:
        return {"nps": None, "nps_low": None, "nps_high": None, "n": 0}
    pp = cast(int, (c == "promoter").sum()) / n  # a Boolean series sums to a count
    pd_ = cast(int, (c == "detractor").sum()) / n
    nps = 100.0 * (pp - pd_)
    half = 1.959963984540054 * 100.0 * math.sqrt(max(pp + pd_ - (pp - pd_) ** 2, 0.0) / n)
    return {"nps": nps, "nps_low": max(nps - half, -100.0), "nps_high": min(nps + half, 100.0),
            "n": n}


def _nps_exprs(z: float = 1.959963984540054) -> list[pl.Expr]:
    n = pl.col("nps_class").is_not_null().sum()
    pp = (pl.col("nps_class") == "promoter").sum() / n
    pd_ = (pl.col("nps_class") == "detractor").sum() / n
    nps = 100.0 * (pp - pd_)
    half = z * 100.0 * ((pp + pd_ - (pp - pd_) ** 2).clip(0.0, None) / n).sqrt()
    return [n.cast(pl.Int64).alias("nps_n"),
            (pl.col("nps_class") == "promoter").sum().cast(pl.Int64).alias("promoters"),
            (pl.col("nps_class") == "passive").sum().cast(pl.Int64).alias("passives"),
            (pl.col("nps_class") == "detractor").sum().cast(pl.Int64).alias("detractors"),
            pl.when(n > 0).then(nps).alias("nps"),
            pl.when(n > 0).then((nps - half).clip(-100.0, 100.0)).alias("nps_low"),
            pl.when(n > 0).then((nps + half).clip(-100.0, 100.0)).alias("nps_high")]


def segment_attitude(
    perceived: pl.DataFrame,
    segments: pl.DataFrame | None = None,
    segment_col: str = "segment",
    *,
    small_n: int = 30,
) -> pl.DataFrame:
    """NPS (with 95 % interval) and satisfaction per segment, with sample sizes.

    Parameters
    ----------
    perceived
        :func:`perceived_loyalty` output (with unsurveyed customers, so coverage is known).
    segments
        Frame ``customer_id, <segment_col>``; ``None`` = one row "All".  Customers missing from it
        are in ``"(no segment)"``.
    segment_col
        The segment column of ``segments``.
    small_n
        Below this many NPS answers ``note`` warns that the interval is indicative.

    Returns
    -------
    polars.DataFrame
        Per segment plus an ``"All"`` row: ``customers``, ``surveyed``, ``unknown``,
        ``coverage`` (share surveyed), ``nps_n``, ``promoters``, ``passives``, ``detractors``,
        ``nps`` / ``nps_low`` / ``nps_high`` (points), ``satisfaction_n``,
        ``mean_satisfaction_index`` (points, max 200), ``mean_satisfaction_share``, counts per
        zone (``zone_loss``, ``zone_weak``, ``zone_satisfied``), ``mean_repurchase_intent``,
        ``note``.

    Examples
    --------
    >>> import polars as pl
    >>> p = pl.DataFrame({"customer_id": ["a", "b", "c"], "surveyed": [True, True, False],
    ...                   "nps_class": ["promoter", "detractor", None],
    ...                   "satisfaction_index": [150.0, 50.0, None],
    ...                   "satisfaction_share": [0.75, 0.25, None],
    ...                   "satisfaction_zone": ["weak", "loss", None],
    ...                   "repurchase_intent": [5.0, 2.0, None]})
    >>> segment_attitude(p).select("segment", "surveyed", "unknown", "nps").row(0)
    ('All', 2, 1, 0.0)
    """
    p = perceived
    if segments is not None:
        seg = segments.select(pl.col(_CID), pl.col(segment_col).cast(pl.String).alias("segment"))
        p = p.join(seg, on=_CID, how="left").with_columns(
            pl.col("segment").fill_null("(no segment)"))
    else:
        p = p.with_columns(pl.lit("All").alias("segment"))
    zone = pl.col("satisfaction_zone")
    aggs = [
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col("surveyed").sum().cast(pl.Int64).alias("surveyed"),
        *_nps_exprs(),
        pl.col("satisfaction_index").count().cast(pl.Int64).alias("satisfaction_n"),
        stable_mean("satisfaction_index").alias("mean_satisfaction_index"),
        stable_mean("satisfaction_share").alias("mean_satisfaction_share"),
        *[(zone == z).sum().cast(pl.Int64).alias(f"zone_{z}") for z in ZONES],
        stable_mean("repurchase_intent").alias("mean_repurchase_intent"),
    ]
    per = p.group_by("segment").agg(aggs).sort("segment")
    if segments is not None:
        per = pl.concat([per, p.with_columns(pl.lit("All").alias("segment"))
                         .group_by("segment").agg(aggs)])
    return per.with_columns(
        (pl.col("customers") - pl.col("surveyed")).alias("unknown"),
        (pl.col("surveyed") / pl.col("customers")).alias("coverage"),
        pl.when(pl.col("nps_n") == 0).then(pl.lit("no survey answers"))
        .when(pl.col("nps_n") < small_n)
        .then(pl.format("only {} NPS answers: interval indicative", pl.col("nps_n")))
        .alias("note"),
    ).select("segment", "customers", "surveyed", "unknown", "coverage", "nps_n", "promoters",
             "passives", "detractors", "nps", "nps_low", "nps_high", "satisfaction_n",
             "mean_satisfaction_index", "mean_satisfaction_share", "zone_loss", "zone_weak",
             "zone_satisfied", "mean_repurchase_intent", "note")
