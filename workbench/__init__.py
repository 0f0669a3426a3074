"""Customer-analytics workbench: RFM segments, customer lifetime value, loyalty typing.

The public API: readers and validation (:mod:`workbench.io`), the data rules
(:mod:`workbench.prepare`), project files (:mod:`workbench.project`), cohort retention
(:mod:`workbench.cohorts`), the customer summary, RFM scoring and segments, Pareto
concentration, migration, executive KPIs, the CLV models and loyalty typing.  Charts live in
:mod:`workbench.charts`, dashboard widgets in :mod:`workbench.widgets`.

Examples
--------
>>> import workbench as wb
>>> tx = wb.read_transactions("sample_data/transactions.csv")
>>> summary = wb.customer_summary(tx, as_of="2026-06-30", unit="W")
>>> segments = wb.rfm_segments(summary)
>>> segments.height == summary.height == 20000
True

Names are imported on first use (PEP 562): ``import workbench`` alone loads no analysis
module, so that a dashboard kernel pays only for what its panels use.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from typing import TYPE_CHECKING, Any

# Altair imports jsonschema, and jsonschema imports ``rfc3987_syntax`` when it is installed (the
# Jupyter server's ``jsonschema[format-nongpl]`` brings it) to check the "iri" string format:
# building that package's grammar takes 1.5-3 s in every report and dashboard kernel, and no
# Vega-Lite spec or workbench schema uses the format.  Marking the module absent makes jsonschema
# skip that one format check (it treats an unavailable format checker as "no check").  Left
# alone when something imported the module already.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

try:  # one place for the version: pyproject.toml, read back from the installed metadata
    __version__: str = importlib.metadata.version("workbench")
except importlib.metadata.PackageNotFoundError:  # imported from a tree that is not installed
    __version__ = "0+unknown"

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "BetaGeoModel": "workbench.clv",
    "GammaGammaAssumptionWarning": "workbench.clv",
    "GammaGammaModel": "workbench.clv",
    "ModifiedBetaGeoModel": "workbench.clv",
    "NBDModel": "workbench.clv",
    "ParetoNBDModel": "workbench.clv",
    "at_risk_customers": "workbench.clv",
    "check_spend_frequency_independence": "workbench.clv",
    "clv_table": "workbench.clv",
    "compare_models": "workbench.clv",
    "customer_lifetime_value": "workbench.clv",
    "error_metrics": "workbench.clv",
    "fit_clv": "workbench.clv",
    "holdout_by_frequency": "workbench.clv",
    "p_alive_matrix": "workbench.clv",
    "tracking": "workbench.clv",
    "cohort_matrix": "workbench.cohorts",
    "cohort_retention": "workbench.cohorts",
    "ConfigError": "workbench.errors",
    "ConvergenceError": "workbench.errors",
    "DataValidationError": "workbench.errors",
    "ModelError": "workbench.errors",
    "NotFittedError": "workbench.errors",
    "WorkbenchError": "workbench.errors",
    "ReadOptions": "workbench.io",
    "read_cdnow": "workbench.io",
    "read_customers": "workbench.io",
    "read_surveys": "workbench.io",
    "read_transactions": "workbench.io",
    "validate_customers": "workbench.io",
    "validate_surveys": "workbench.io",
    "validate_transactions": "workbench.io",
    "executive_kpis": "workbench.kpi",
    "net_promoter_score": "workbench.kpi",
    "LoyaltyAnalysis": "workbench.loyalty",
    "LoyaltySettings": "workbench.loyalty",
    "analyse_loyalty": "workbench.loyalty",
    "behavioural_loyalty": "workbench.loyalty",
    "early_warnings": "workbench.loyalty",
    "key_drivers": "workbench.loyalty",
    "loyalty_index": "workbench.loyalty",
    "loyalty_types": "workbench.loyalty",
    "perceived_loyalty": "workbench.loyalty",
    "satisfaction_index": "workbench.loyalty",
    "value_index": "workbench.loyalty",
    "NO_PURCHASE_YET": "workbench.migration",
    "migration_matrix": "workbench.migration",
    "migration_summary": "workbench.migration",
    "segment_changes": "workbench.migration",
    "segment_history": "workbench.migration",
    "segment_migration": "workbench.migration",
    "gini": "workbench.pareto",
    "lorenz_curve": "workbench.pareto",
    "pareto_table": "workbench.pareto",
    "top_share": "workbench.pareto",
    "prepare_orders": "workbench.prepare",
    "Project": "workbench.project",
    "load_project": "workbench.project",
    "DataQualityReport": "workbench.quality",
    "assign_segments": "workbench.rfm",
    "cell_counts": "workbench.rfm",
    "load_segment_rules": "workbench.rfm",
    "rfm_scores": "workbench.rfm",
    "rfm_segments": "workbench.rfm",
    "score_bins": "workbench.rfm",
    "segment_table": "workbench.rfm",
    "calibration_holdout_summary": "workbench.summary",
    "customer_summary": "workbench.summary",
    "summary_from_orders": "workbench.summary",
}

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
    "LoyaltySettings",
    "ModelError",
    "ModifiedBetaGeoModel",
    "NBDModel",
    "NotFittedError",
    "ParetoNBDModel",
    "Project",
    "ReadOptions",
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
    "WorkbenchError",
]


def __getattr__(name: str) -> Any:
    """Import ``workbench.<name>`` lazily on first access: a public name, or a submodule
    (``wb.rfm``, ``wb.prepare``), as an eager ``import`` of the package used to provide."""
    module = _EXPORTS.get(name)
    if module is None:
        if name.startswith("_") or importlib.util.find_spec(f"workbench.{name}") is None:
            raise AttributeError(f"module 'workbench' has no attribute {name!r}")
        value = importlib.import_module(f"workbench.{name}")
        globals()[name] = value
        return value
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # static analysers see the eager imports
    from workbench.clv import (
        BetaGeoModel,
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
    from workbench.errors import (
        ConfigError,
        ConvergenceError,
        DataValidationError,
        ModelError,
        NotFittedError,
        WorkbenchError,
    )
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
