"""Customer lifetime value: BG/NBD, MBG/NBD, Pareto/NBD, NBD, Gamma-Gamma, CLV and checks.

Models are fitted by maximum likelihood on the customer summary
(``workbench.core.summary.customer_summary``) collapsed to its distinct rows; predictions take
and return Polars frames.  Definitions and sources: the README's "Definitions" section.

Examples
--------
>>> from workbench.models.clv import (BetaGeoModel, GammaGammaModel, clv_table,
...                            customer_lifetime_value)
>>> from workbench.core.io import read_cdnow
>>> from workbench.core.summary import customer_summary
>>> summary = customer_summary(read_cdnow("sample_data/cdnow/CDNOW_sample.txt"), "1997-09-30")
>>> bg = BetaGeoModel().fit(summary)
>>> gg = GammaGammaModel().fit(summary)
>>> clv = customer_lifetime_value(summary, bg, gg, 12, margin=0.3)
>>> clv.height
2357

Importing this package also registers MBG/NBD (``"mbgnbd"``) and NBD (``"nbd"``) as purchase
models by name, so that :func:`fit_clv` and :func:`make_purchase_model` accept them.
"""

from workbench.models.clv._fit import ConvergenceError, NotEnoughDataError
from workbench.models.clv.at_risk import at_risk_customers
from workbench.models.clv.bgnbd import BetaGeoModel
from workbench.models.clv.compare import (
    MODEL_LABELS,
    ModelComparison,
    TimeUnitGuidance,
    compare_models,
    time_unit_guidance,
)
from workbench.models.clv.diagnostics import (
    customer_purchase_times,
    expected_purchases_matrix,
    heterogeneity_distributions,
    model_diagnosis,
    p_alive_history,
    repeat_count_fit,
)
from workbench.models.clv.gammagamma import (
    GammaGammaAssumptionWarning,
    GammaGammaModel,
    IndependenceCheck,
    check_spend_frequency_independence,
)
from workbench.models.clv.holdout import (
    error_metrics,
    holdout_by_frequency,
    p_alive_matrix,
    tracking,
)
from workbench.models.clv.mbgnbd import ModifiedBetaGeoModel
from workbench.models.clv.nbd import NBDModel
from workbench.models.clv.paretonbd import ParetoNBDModel
from workbench.models.clv.pipeline import (
    DEFAULT_MARGIN,
    PURCHASE_MODELS,
    ClvFit,
    check_clv_data,
    clv_by_segment,
    clv_table,
    clv_totals,
    data_margin,
    fit_clv,
    make_purchase_model,
)
from workbench.models.clv.uncertainty import (
    clv_intervals,
    parameter_draws,
    population_interval,
    prediction_intervals,
)
from workbench.models.clv.value import customer_lifetime_value, per_period_discount_rate

# fit_clv / make_purchase_model look models up by name in pipeline.PURCHASE_MODELS
for _key, _cls in (("mbgnbd", ModifiedBetaGeoModel), ("nbd", NBDModel)):
    # PURCHASE_MODELS is typed for BG/NBD and Pareto/NBD only (make_purchase_model returns them)
    PURCHASE_MODELS.setdefault(_key, _cls)  # type: ignore[arg-type]

__all__ = [
    "DEFAULT_MARGIN",
    "MODEL_LABELS",
    "BetaGeoModel",
    "ClvFit",
    "ConvergenceError",
    "GammaGammaAssumptionWarning",
    "GammaGammaModel",
    "IndependenceCheck",
    "ModelComparison",
    "ModifiedBetaGeoModel",
    "NBDModel",
    "NotEnoughDataError",
    "ParetoNBDModel",
    "TimeUnitGuidance",
    "at_risk_customers",
    "check_clv_data",
    "check_spend_frequency_independence",
    "clv_by_segment",
    "clv_intervals",
    "clv_table",
    "clv_totals",
    "compare_models",
    "customer_lifetime_value",
    "customer_purchase_times",
    "data_margin",
    "error_metrics",
    "expected_purchases_matrix",
    "fit_clv",
    "heterogeneity_distributions",
    "holdout_by_frequency",
    "make_purchase_model",
    "model_diagnosis",
    "p_alive_history",
    "p_alive_matrix",
    "parameter_draws",
    "per_period_discount_rate",
    "population_interval",
    "prediction_intervals",
    "repeat_count_fit",
    "time_unit_guidance",
    "tracking",
]
