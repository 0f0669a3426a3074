"""Customer lifetime value: BG/NBD, Pareto/NBD, Gamma-Gamma, CLV and holdout checks.

Models are fitted by maximum likelihood on the customer summary
(``workbench.summary.customer_summary``) collapsed to its distinct rows; predictions take
and return Polars frames.  See ``DOMAIN.md`` section 4.

Examples
--------
>>> from workbench.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value
>>> bg = BetaGeoModel().fit(summary)  # doctest: +SKIP
>>> gg = GammaGammaModel().fit(summary)  # doctest: +SKIP
>>> clv = customer_lifetime_value(summary, bg, gg, 12, margin=0.3)  # doctest: +SKIP
"""

from workbench.clv._fit import ConvergenceError
from workbench.clv.bgnbd import BetaGeoModel
from workbench.clv.gammagamma import (
    GammaGammaAssumptionWarning,
    GammaGammaModel,
    IndependenceCheck,
    check_spend_frequency_independence,
)
from workbench.clv.holdout import error_metrics, holdout_by_frequency, p_alive_matrix, tracking
from workbench.clv.paretonbd import ParetoNBDModel
from workbench.clv.value import customer_lifetime_value, per_period_discount_rate

__all__ = [
    "BetaGeoModel",
    "ConvergenceError",
    "GammaGammaAssumptionWarning",
    "GammaGammaModel",
    "IndependenceCheck",
    "ParetoNBDModel",
    "check_spend_frequency_independence",
    "customer_lifetime_value",
    "error_metrics",
    "holdout_by_frequency",
    "p_alive_matrix",
    "per_period_discount_rate",
    "tracking",
]
