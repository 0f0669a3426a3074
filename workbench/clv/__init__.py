"""Customer lifetime value: BG/NBD, Pareto/NBD, Gamma-Gamma, CLV and holdout checks.

Models are fitted by maximum likelihood on the customer summary
(``workbench.summary.customer_summary``) collapsed to its distinct rows; predictions take
and return Polars frames.  See ``DOMAIN.md`` section 4.

Examples
--------
>>> from workbench.clv import (BetaGeoModel, GammaGammaModel, clv_table,
...                            customer_lifetime_value)
>>> bg = BetaGeoModel().fit(summary)  # doctest: +SKIP
>>> gg = GammaGammaModel().fit(summary)  # doctest: +SKIP
>>> clv = customer_lifetime_value(summary, bg, gg, 12, margin=0.3)  # doctest: +SKIP
>>> table = clv_table(transactions, "2026-06-30", horizon_periods=12)  # doctest: +SKIP
"""

from workbench.clv._fit import ConvergenceError, NotEnoughDataError
from workbench.clv.at_risk import at_risk_customers
from workbench.clv.bgnbd import BetaGeoModel
from workbench.clv.gammagamma import (
    GammaGammaAssumptionWarning,
    GammaGammaModel,
    IndependenceCheck,
    check_spend_frequency_independence,
)
from workbench.clv.holdout import error_metrics, holdout_by_frequency, p_alive_matrix, tracking
from workbench.clv.paretonbd import ParetoNBDModel
from workbench.clv.pipeline import (
    DEFAULT_MARGIN,
    ClvFit,
    check_clv_data,
    clv_by_segment,
    clv_table,
    clv_totals,
    data_margin,
    fit_clv,
    make_purchase_model,
)
from workbench.clv.value import customer_lifetime_value, per_period_discount_rate

__all__ = [
    "DEFAULT_MARGIN",
    "BetaGeoModel",
    "ClvFit",
    "ConvergenceError",
    "GammaGammaAssumptionWarning",
    "GammaGammaModel",
    "IndependenceCheck",
    "NotEnoughDataError",
    "ParetoNBDModel",
    "at_risk_customers",
    "check_clv_data",
    "check_spend_frequency_independence",
    "clv_by_segment",
    "clv_table",
    "clv_totals",
    "customer_lifetime_value",
    "data_margin",
    "error_metrics",
    "fit_clv",
    "holdout_by_frequency",
    "make_purchase_model",
    "p_alive_matrix",
    "per_period_discount_rate",
    "tracking",
]
