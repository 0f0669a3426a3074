"""Loyalty typing and the customer-base indices (docs/loyalty.md).

Behavioural loyalty from orders (:mod:`~workbench.analyses.loyalty.behaviour`), perceived loyalty
from surveys (:mod:`~workbench.analyses.loyalty.attitude`), the Dick & Basu types with reciprocal
loyalty, Loyal / Neutral / Vulnerable and the loyalty ladder
(:mod:`~workbench.analyses.loyalty.classify`), the loyalty, value and satisfaction indices of
Okhunov (:mod:`~workbench.analyses.loyalty.indices`), early warnings
(:mod:`~workbench.analyses.loyalty.early_warning`) and key drivers
(:mod:`~workbench.analyses.loyalty.drivers`).  :func:`analyse_loyalty` runs them all for one as-of
date, as the report notebook and the dashboard panel do.

Examples
--------
>>> from workbench.core.io import read_surveys, read_transactions
>>> from workbench.core.prepare import prepare_orders
>>> tx = read_transactions("sample_data/transactions.csv")
>>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
>>> la = analyse_loyalty(orders, "2026-06-30", surveys=read_surveys("sample_data/surveys.csv"))
>>> la.matrix.select("dick_basu", "customers").rows()  # 2000 customers, 358 surveyed
[('premium', 47), ('inertia', 53), ('regular, attitude unknown', 445), ('latent', 78),
 ('no loyalty', 180), ('one-time, attitude unknown', 1197)]
"""

from __future__ import annotations

from workbench.analyses.loyalty.analysis import (
    KEY_FIGURES_PREFIX,
    LoyaltyAnalysis,
    analyse_loyalty,
    choose_segments,
    key_figures_line,
    loyalty_settings,
    purchase_model_inputs,
)
from workbench.analyses.loyalty.attitude import (
    ZONES,
    latest_surveys,
    nps_class,
    nps_score,
    perceived_loyalty,
    satisfaction_index,
    satisfaction_zone,
    segment_attitude,
    survey_coverage,
)
from workbench.analyses.loyalty.behaviour import (
    RECENCY_STATUSES,
    behaviour_summary,
    behavioural_loyalty,
    buckinx_van_den_poel,
    period_purchase_counts,
)
from workbench.analyses.loyalty.classify import (
    ATTITUDE_SEGMENTS,
    LADDER,
    TYPES,
    attitude_axis,
    loyalty_matrix,
    loyalty_types,
    type_examples,
    type_summary,
)
from workbench.analyses.loyalty.drivers import driver_regression, key_drivers
from workbench.analyses.loyalty.early_warning import early_warnings, warning_counts
from workbench.analyses.loyalty.indices import (
    loyalty_index,
    loyalty_index_from_counts,
    regularity_coefficient,
    segment_indices,
    value_index,
)
from workbench.analyses.loyalty.settings import LoyaltySettings

__all__ = [
    "purchase_model_inputs",
    "KEY_FIGURES_PREFIX",
    "ATTITUDE_SEGMENTS",
    "LADDER",
    "TYPES",
    "ZONES",
    "RECENCY_STATUSES",
    "LoyaltyAnalysis",
    "LoyaltySettings",
    "analyse_loyalty",
    "attitude_axis",
    "behaviour_summary",
    "behavioural_loyalty",
    "buckinx_van_den_poel",
    "choose_segments",
    "driver_regression",
    "early_warnings",
    "key_drivers",
    "key_figures_line",
    "latest_surveys",
    "loyalty_index",
    "loyalty_index_from_counts",
    "loyalty_matrix",
    "loyalty_settings",
    "loyalty_types",
    "nps_class",
    "nps_score",
    "perceived_loyalty",
    "period_purchase_counts",
    "regularity_coefficient",
    "satisfaction_index",
    "satisfaction_zone",
    "segment_attitude",
    "segment_indices",
    "survey_coverage",
    "type_examples",
    "type_summary",
    "value_index",
    "warning_counts",
]
