"""Customer-analytics workbench: RFM segments, customer lifetime value, loyalty typing.

The public API: readers and validation (:mod:`workbench.io`), the data rules
(:mod:`workbench.prepare`), the customer summary, RFM scoring and segments, Pareto
concentration, migration, executive KPIs, the CLV models and loyalty typing.  Charts live in
:mod:`workbench.charts`, dashboard widgets in :mod:`workbench.widgets`.

Examples
--------
>>> import workbench as wb
>>> tx = wb.read_transactions("sample_data/transactions.csv")  # doctest: +SKIP
>>> summary = wb.customer_summary(tx, as_of="2026-06-30", unit="W")  # doctest: +SKIP
>>> segments = wb.rfm_segments(summary)  # doctest: +SKIP
"""

from workbench.errors import DataValidationError, ModelError
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
from workbench.summary import calibration_holdout_summary, customer_summary

__version__ = "0.1.0"

__all__ = [
    "NO_PURCHASE_YET",
    "DataQualityReport",
    "DataValidationError",
    "ModelError",
    "assign_segments",
    "calibration_holdout_summary",
    "cell_counts",
    "customer_summary",
    "executive_kpis",
    "gini",
    "load_segment_rules",
    "lorenz_curve",
    "migration_matrix",
    "migration_summary",
    "net_promoter_score",
    "pareto_table",
    "prepare_orders",
    "read_cdnow",
    "read_customers",
    "read_surveys",
    "read_transactions",
    "rfm_scores",
    "rfm_segments",
    "score_bins",
    "segment_changes",
    "segment_history",
    "segment_migration",
    "segment_table",
    "top_share",
    "validate_customers",
    "validate_surveys",
    "validate_transactions",
]
