"""Customer-analytics workbench: RFM segments, customer lifetime value, loyalty typing.

The public API: readers and validation (:mod:`workbench.io`), the data rules
(:mod:`workbench.prepare`), project files (:mod:`workbench.project`), cohort retention
(:mod:`workbench.cohorts`), the customer summary, RFM scoring and segments, Pareto
concentration, migration, executive KPIs, the CLV models and loyalty typing.  Charts live in
:mod:`workbench.charts`, dashboard widgets in :mod:`workbench.widgets`.

Examples
--------
>>> import workbench as wb
>>> tx = wb.read_transactions("sample_data/transactions.csv")  # doctest: +SKIP
>>> summary = wb.customer_summary(tx, as_of="2026-06-30", unit="W")  # doctest: +SKIP
>>> segments = wb.rfm_segments(summary)  # doctest: +SKIP
"""

from workbench.clv import (
    BetaGeoModel,
    ConvergenceError,
    GammaGammaAssumptionWarning,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
    at_risk_customers,
    check_spend_frequency_independence,
    clv_table,
    compare_models,
    customer_lifetime_value,
    error_metrics,
    fit_clv,
    holdout_by_frequency,
    p_alive_matrix,
    tracking,
)
from workbench.cohorts import cohort_matrix, cohort_retention
from workbench.errors import ConfigError, DataValidationError, ModelError
from workbench.io import (
    read_cdnow,
    read_customers,
    read_surveys,
    read_transactions,
    validate_customers,
    validate_surveys,
    validate_transactions,
)
from workbench.kpi import executive_kpis, net_promoter_score
from workbench.loyalty import (
    LoyaltyAnalysis,
    analyse_loyalty,
    behavioural_loyalty,
    early_warnings,
    key_drivers,
    loyalty_index,
    loyalty_types,
    perceived_loyalty,
    satisfaction_index,
    value_index,
)
from workbench.migration import (
    NO_PURCHASE_YET,
    migration_matrix,
    migration_summary,
    segment_changes,
    segment_history,
    segment_migration,
)
from workbench.pareto import gini, lorenz_curve, pareto_table, top_share
from workbench.prepare import prepare_orders
from workbench.project import Project, load_project
from workbench.quality import DataQualityReport
from workbench.rfm import (
    assign_segments,
    cell_counts,
    load_segment_rules,
    rfm_scores,
    rfm_segments,
    score_bins,
    segment_table,
)
from workbench.summary import (
    calibration_holdout_summary,
    customer_summary,
    summary_from_orders,
)

__version__ = "0.1.0"

__all__ = [
    "at_risk_customers",
    "clv_table",
    "fit_clv",
    "NO_PURCHASE_YET",
    "BetaGeoModel",
    "ConfigError",
    "ConvergenceError",
    "DataQualityReport",
    "DataValidationError",
    "GammaGammaAssumptionWarning",
    "GammaGammaModel",
    "LoyaltyAnalysis",
    "ModelError",
    "ModifiedBetaGeoModel",
    "NBDModel",
    "ParetoNBDModel",
    "Project",
    "compare_models",
    "analyse_loyalty",
    "assign_segments",
    "behavioural_loyalty",
    "calibration_holdout_summary",
    "cell_counts",
    "check_spend_frequency_independence",
    "cohort_matrix",
    "cohort_retention",
    "customer_lifetime_value",
    "customer_summary",
    "early_warnings",
    "error_metrics",
    "executive_kpis",
    "gini",
    "holdout_by_frequency",
    "key_drivers",
    "load_segment_rules",
    "load_project",
    "lorenz_curve",
    "loyalty_index",
    "loyalty_types",
    "migration_matrix",
    "migration_summary",
    "net_promoter_score",
    "p_alive_matrix",
    "pareto_table",
    "perceived_loyalty",
    "prepare_orders",
    "read_cdnow",
    "read_customers",
    "read_surveys",
    "read_transactions",
    "rfm_scores",
    "rfm_segments",
    "satisfaction_index",
    "score_bins",
    "segment_changes",
    "segment_history",
    "segment_migration",
    "segment_table",
    "summary_from_orders",
    "top_share",
    "tracking",
    "validate_customers",
    "validate_surveys",
    "validate_transactions",
    "value_index",
]
