"""Which purchase model? Fit BG/NBD, MBG/NBD, Pareto/NBD and NBD, compare, recommend one.

:func:`compare_models` fits each model on the customer summary by maximum likelihood and
reports its log-likelihood ``LL``, ``AIC = 2k - 2 LL`` (Akaike 1974) and
``BIC = k ln(n) - 2 LL`` (Schwarz 1978), with ``k`` parameters and ``n`` customers.  All four
likelihoods are densities of the same observed purchase times (FHL 2005 eq. 6, BDF 2007
eq. 4, SMC 1987 / Fader & Hardie 2005 note eq. 11, and the NBD's gamma-Poisson timing
density), so they are comparable; NBD is nested in the other three (no drop-out).  When a
calibration/holdout summary is given
(:func:`workbench.core.summary.calibration_holdout_summary`), each model is also fitted on the
calibration columns and its forecast of the holdout purchases compared with what customers
did (:func:`workbench.models.clv.error_metrics`): mean absolute error per customer and the
aggregate error ``100 (predicted - actual) / actual`` in percent.

Recommendation rule
-------------------
1. Only models that could be fitted take part (a model that fails says why in ``error``).
2. With a holdout: the model with the smallest absolute aggregate holdout error; models
   within :data:`HOLDOUT_TIE_PCT` percentage points of the best count as tied, and the tie
   goes to the lowest BIC.  Without a holdout: the lowest BIC.
3. A degenerate fit (``model.is_degenerate``, or the sentences of
   :func:`workbench.models.clv.diagnostics.model_diagnosis`) is not recommended over a
   non-degenerate model whose BIC is at most :data:`BIC_MARGIN` (6, "strong evidence" on the
   Kass & Raftery 1995 scale) above its own: then the best such non-degenerate model by the
   rule of step 2 is recommended instead, and the reason says so.

The reason is one plain sentence naming the figures the choice rests on.

Time units
----------
:func:`time_unit_guidance` judges the time unit from the data: with few distinct customer
ages ``T`` (fewer than :data:`MIN_DISTINCT_T`) or a median time between purchases below
:data:`MIN_INTERPURCHASE_UNITS` units, purchases in one period are merged and the recency
information the models live on is lost (monthly CDNOW: ``T`` takes only 6, 7 and 8); it then
recommends the next finer unit.

References: Fader, Hardie & Lee (2005), *Marketing Science* 24(2) (FHL 2005); Batislam,
Denizel & Filiztekin (2007), *IJRM* 24(3) (BDF 2007); Schmittlein, Morrison & Colombo (1987),
*Management Science* 33(1) (SMC 1987); Kass & Raftery (1995), "Bayes factors", *JASA* 90.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.models.clv._fit import ConvergenceError, NotEnoughDataError, validate_summary
from workbench.models.clv._purchase import PurchaseModelBase
from workbench.models.clv.bgnbd import BetaGeoModel
from workbench.models.clv.diagnostics import is_degenerate, model_diagnosis
from workbench.models.clv.holdout import error_metrics
from workbench.models.clv.mbgnbd import ModifiedBetaGeoModel
from workbench.models.clv.nbd import NBDModel
from workbench.models.clv.paretonbd import ParetoNBDModel

#: Purchase models by name.
MODELS: dict[str, type[PurchaseModelBase]] = {
    "bgnbd": BetaGeoModel, "mbgnbd": ModifiedBetaGeoModel,
    "paretonbd": ParetoNBDModel, "nbd": NBDModel}
#: Names for people.
MODEL_LABELS: dict[str, str] = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD",
                                "paretonbd": "Pareto/NBD", "nbd": "NBD (no drop-out)"}
#: A degenerate fit is not recommended over a regular one whose BIC is at most this much higher.
BIC_MARGIN = 6.0
#: Holdout aggregate errors (percentage points) this close count as a tie, broken by BIC.
HOLDOUT_TIE_PCT = 0.5
#: Fewer distinct customer ages ``T`` than this: the time unit is too coarse.
MIN_DISTINCT_T = 12
#: A median time between purchases below this many units: the time unit is too coarse.
MIN_INTERPURCHASE_UNITS = 2.0
_FINER = {"M": "W", "W": "D"}
_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}


def model_key(name: str) -> str:
    """Normalised model name: ``"MBG/NBD"`` -> ``"mbgnbd"``.

    Examples
    --------
    >>> model_key("Pareto/NBD"), model_key("nbd")
    ('paretonbd', 'nbd')
    """
    key = str(name).lower().replace("/", "").replace("-", "").replace("_", "").replace(" ", "")
    if key not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {name!r}")
    return key


def make_model(name: str) -> Any:
    """An unfitted purchase model by name (any of :data:`MODELS`).

    Examples
    --------
    >>> make_model("mbgnbd")
    ModifiedBetaGeoModel(not fitted)
    """
    return MODELS[model_key(name)]()


@dataclass(frozen=True)
class TimeUnitGuidance:
    """What the data say about the time unit (see :func:`time_unit_guidance`).

    Attributes
    ----------
    unit
        The summary's unit (``"D"``, ``"W"``, ``"M"``) or ``None`` when not given.
    distinct_T
        Number of distinct customer ages ``T``.
    median_interpurchase
        Median over repeat customers of ``recency / frequency`` (time units between
        purchases), ``None`` without repeat customers.
    too_coarse
        Whether the unit loses information.
    suggested_unit
        A finer unit when ``too_coarse`` (``None`` for days or an unknown unit).
    sentence
        The guidance in plain words.
    """

    unit: str | None
    distinct_T: int
    median_interpurchase: float | None
    too_coarse: bool
    suggested_unit: str | None
    sentence: str


def time_unit_guidance(summary: pl.DataFrame, unit: str | None = None) -> TimeUnitGuidance:
    """Judge the summary's time unit from its data (rule in the module docstring).

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"frequency": [0, 1, 2, 3], "recency": [0, 1, 1, 2],
    ...                   "T": [6, 7, 8, 8]})
    >>> g = time_unit_guidance(s, "M")
    >>> g.too_coarse, g.suggested_unit
    (True, 'W')
    """
    d = validate_summary(summary, ("frequency", "recency", "T"))
    n_t = int(np.unique(d["T"]).size)
    rep = d["frequency"] > 0
    gap = float(np.median(d["recency"][rep] / d["frequency"][rep])) if rep.any() else None
    name = _UNIT_NAMES.get(unit or "", "time units")
    reasons = []
    if n_t < MIN_DISTINCT_T:
        reasons.append(f"customer ages (T) take only {n_t} distinct value"
                       f"{'s' if n_t != 1 else ''}")
    if gap is not None and gap < MIN_INTERPURCHASE_UNITS:
        reasons.append(f"the median time between purchases is {gap:.2g} {name}")
    coarse = bool(reasons)
    finer = _FINER.get(unit or "") if coarse else None
    gap_text = "" if gap is None else f", a median of {gap:.3g} {name} between purchases"
    if not coarse:
        sentence = (f"The time unit ({name}) suits the data: {n_t:,} distinct customer ages"
                    f"{gap_text}.")
    elif finer:
        sentence = (f"The time unit ({name}) is too coarse for these data: "
                    f"{' and '.join(reasons)}, so purchases within one period merge and the "
                    f"models lose the timing they rely on; use {_UNIT_NAMES[finer]} instead.")
    else:
        sentence = (f"The time unit ({name}) is coarse for these data: {' and '.join(reasons)}"
                    "; read the model figures with care (a longer history would help).")
    return TimeUnitGuidance(unit, n_t, gap, coarse, finer, sentence)


@dataclass(frozen=True)
class ModelComparison:
    """Result of :func:`compare_models`.

    Attributes
    ----------
    table
        One row per model: ``model`` (key), ``label``, ``n_params``, ``n_customers``,
        ``log_likelihood``, ``aic``, ``bic``, ``delta_bic`` (to the lowest), and with a
        holdout ``holdout_mae`` (purchases per customer), ``holdout_actual``,
        ``holdout_predicted`` (total purchases), ``holdout_error_pct`` (aggregate, percent);
        ``degenerate`` (bool), ``diagnosis`` (sentences, joined), ``error`` (why the model
        could not be fitted, else null), ``recommended`` (bool).
    recommended
        Key of the recommended model (``None`` when no model could be fitted).
    reason
        One sentence: why.
    models
        The models fitted on the summary, by key.
    calibration_models
        The models fitted on the calibration columns of the holdout summary, by key.
    time_unit
        :func:`time_unit_guidance` of the summary.
    """

    table: pl.DataFrame
    recommended: str | None
    reason: str
    models: dict[str, Any] = field(repr=False)
    calibration_models: dict[str, Any] = field(repr=False)
    time_unit: TimeUnitGuidance

    @property
    def recommended_label(self) -> str | None:
        """The recommended model's name for people (``"BG/NBD"``)."""
        return MODEL_LABELS.get(self.recommended or "")

    def diagnosis(self, key: str | None = None) -> list[str]:
        """Degenerate-fit sentences of one model (default: the recommended one)."""
        key = key or self.recommended
        model = self.models.get(key or "")
        return model_diagnosis(model) if model is not None else []


def _fit_one(key: str, summary: pl.DataFrame) -> tuple[Any | None, str | None, list[str]]:
    """Fit one model; return it (or ``None``), why it failed, and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = make_model(key).fit(summary)
        except (NotEnoughDataError, ConvergenceError) as exc:
            return None, str(exc), []
    return model, None, [str(w.message) for w in caught]


def _n_params(model: Any) -> int:
    return len(model._param_names)


def compare_models(
    summary: pl.DataFrame,
    holdout: pl.DataFrame | None = None,
    models: Sequence[str] = ("bgnbd", "mbgnbd", "paretonbd", "nbd"),
    *,
    unit: str | None = None,
) -> ModelComparison:
    """Fit several purchase models, compare them and recommend one (rule: module docstring).

    Parameters
    ----------
    summary
        Customer summary (``frequency``, ``recency``, ``T``) the models are fitted and
        compared on (log-likelihood, AIC, BIC).
    holdout
        Optional calibration/holdout summary (the calibration columns plus
        ``frequency_holdout`` and ``duration_holdout``): each model is fitted on its
        calibration columns and scored on the holdout.  Passing the same frame as
        ``summary`` reuses the fits.
    models
        Model names (:data:`MODELS`).
    unit
        Time unit of the summaries (``"D"``, ``"W"``, ``"M"``), for the time-unit guidance.

    Returns
    -------
    ModelComparison

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import calibration_holdout_summary
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> cal = calibration_holdout_summary(tx, "1997-09-30", "1998-06-30")
    >>> comparison = compare_models(cal, cal, unit="W")
    >>> comparison.recommended
    'paretonbd'
    """
    keys = list(dict.fromkeys(model_key(m) for m in models))
    if not keys:
        raise ValueError("models must name at least one model")
    fitted: dict[str, Any] = {}
    cal_fitted: dict[str, Any] = {}
    rows = []
    for key in keys:
        model, error, warned = _fit_one(key, summary)
        row: dict[str, Any] = {"model": key, "label": MODEL_LABELS[key],
                               "n_params": len(MODELS[key]._param_names), "n_customers": None,
                               "log_likelihood": None, "aic": None, "bic": None,
                               "degenerate": None, "diagnosis": None, "error": error}
        if model is not None:
            fitted[key] = model
            k, n, ll = _n_params(model), model.n_customers_, model.log_likelihood_
            sentences = model_diagnosis(model)
            if not sentences and getattr(model, "diagnosis", None) is None:
                sentences = warned  # a Hessian warning is a diagnosis too
            row.update(n_customers=n, log_likelihood=ll, aic=2 * k - 2 * ll,
                       bic=k * math.log(max(n, 1)) - 2 * ll,
                       degenerate=is_degenerate(model) or bool(sentences),
                       diagnosis=" ".join(sentences) or None)
        if holdout is not None:
            row.update(holdout_mae=None, holdout_actual=None, holdout_predicted=None,
                       holdout_error_pct=None)
            cal_model = model if holdout is summary else None
            if holdout is not summary:
                cal_model, cal_error, _ = _fit_one(key, holdout)
                if cal_model is None and error is None:
                    row["error"] = f"on the calibration period: {cal_error}"
            if cal_model is not None:
                cal_fitted[key] = cal_model
                m = error_metrics(holdout, cal_model).row(0, named=True)
                row.update(holdout_mae=m["mae"], holdout_actual=m["total_actual"],
                           holdout_predicted=m["total_predicted"],
                           holdout_error_pct=m["total_error_pct"])
        rows.append(row)
    table = pl.DataFrame(rows, infer_schema_length=None)
    best_bic = table["bic"].min()
    table = table.with_columns((pl.col("bic") - best_bic).alias("delta_bic"))
    recommended, reason = _recommend(table, holdout is not None)
    table = table.with_columns((pl.col("model") == (recommended or "")).alias("recommended"))
    order = ["model", "label", "n_params", "n_customers", "log_likelihood", "aic", "bic",
             "delta_bic"]
    if holdout is not None:
        order += ["holdout_mae", "holdout_actual", "holdout_predicted", "holdout_error_pct"]
    order += ["degenerate", "diagnosis", "error", "recommended"]
    return ModelComparison(table.select(order), recommended, reason, fitted, cal_fitted,
                           time_unit_guidance(summary, unit))


def _score_order(rows: list[dict[str, Any]], use_holdout: bool) -> list[dict[str, Any]]:
    """Rows best first: by |holdout error| (ties within HOLDOUT_TIE_PCT broken by BIC), or BIC."""
    if not use_holdout:
        return sorted(rows, key=lambda r: r["bic"])
    scored = [r for r in rows if r.get("holdout_error_pct") is not None
              and math.isfinite(r["holdout_error_pct"])]
    rest = sorted((r for r in rows if r not in scored), key=lambda r: r["bic"])
    if not scored:
        return rest
    best = min(abs(r["holdout_error_pct"]) for r in scored)
    tied = sorted((r for r in scored if abs(r["holdout_error_pct"]) <= best + HOLDOUT_TIE_PCT),
                  key=lambda r: r["bic"])
    others = sorted((r for r in scored if r not in tied),
                    key=lambda r: abs(r["holdout_error_pct"]))
    return tied + others + rest


def _recommend(table: pl.DataFrame, use_holdout: bool) -> tuple[str | None, str]:
    rows = [r for r in table.to_dicts() if r["error"] is None and r["bic"] is not None]
    if not rows:
        why = "; ".join(f"{r['label']}: {r['error']}" for r in table.to_dicts())
        return None, f"No purchase model could be fitted ({why})."
    ranked = _score_order(rows, use_holdout)
    best = ranked[0]
    if best["degenerate"]:
        regular = [r for r in ranked if not r["degenerate"]
                   and r["bic"] <= best["bic"] + BIC_MARGIN]
        if regular:
            pick = regular[0]
            return pick["model"], (
                f"{pick['label']} is recommended: {best['label']} "
                f"{'forecast the holdout a little better' if use_holdout else 'has a lower BIC'}"
                f" but its fit is degenerate ({best['diagnosis'] or 'see its diagnosis'}), and "
                f"{pick['label']} is within {BIC_MARGIN:g} BIC points of it "
                f"(BIC {pick['bic']:,.1f} against {best['bic']:,.1f}).")
    return best["model"], _reason(best, ranked[1:], use_holdout)


def _reason(best: dict[str, Any], others: list[dict[str, Any]], use_holdout: bool) -> str:
    caveat = (" Its fit is degenerate, and no regular model comes within "
              f"{BIC_MARGIN:g} BIC points of it." if best["degenerate"] else "")
    if use_holdout and best.get("holdout_error_pct") is not None:
        rest = ", ".join(f"{r['label']} {r['holdout_error_pct']:+.1f} %" for r in others
                         if r.get("holdout_error_pct") is not None)
        return (f"{best['label']} is recommended: fitted on the calibration period, it "
                f"forecast the holdout purchases most closely ({best['holdout_predicted']:,.0f}"
                f" predicted against {best['holdout_actual']:,.0f} actual, "
                f"{best['holdout_error_pct']:+.1f} %"
                + (f"; {rest}" if rest else "") + f"; ties within {HOLDOUT_TIE_PCT:g} points "
                "go to the lower BIC)." + caveat)
    if not others:
        return f"{best['label']} is the only model that could be fitted." + caveat
    nxt = others[0]
    gap = nxt["bic"] - best["bic"]
    strength = ("practically as good" if gap < 2 else "clearly worse" if gap > BIC_MARGIN
                else "somewhat worse")
    return (f"{best['label']} is recommended: it has the lowest BIC ({best['bic']:,.1f}), the "
            f"best balance of fit and number of parameters; the next, {nxt['label']}, is "
            f"{gap:,.1f} higher ({strength}).") + caveat
