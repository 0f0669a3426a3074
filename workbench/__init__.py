"""Customer-analytics workbench: RFM segments, customer lifetime value, loyalty typing.

The public API: readers and validation (:mod:`workbench.core.io`), the data rules
(:mod:`workbench.core.prepare`), project files (:mod:`workbench.core.project`), cohort retention
(:mod:`workbench.analyses.cohorts`), the customer summary, RFM scoring and segments, Pareto
concentration, migration, executive KPIs, the CLV models and loyalty typing.  Charts live in
:mod:`workbench.presentation.charts`, dashboard widgets in :mod:`workbench.presentation.widgets`.

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
import warnings
from typing import TYPE_CHECKING, Any

from workbench import _moved

# Altair imports jsonschema, and jsonschema imports ``rfc3987_syntax`` when it is installed (the
# Jupyter server's ``jsonschema[format-nongpl]`` brings it) to check the "iri" string format:
# building that package's grammar takes 1.5-3 s in every report and dashboard kernel, and no
# Vega-Lite spec or workbench schema uses the format.  Marking the module absent makes jsonschema
# skip that one format check (it treats an unavailable format checker as "no check").  Left
# alone when something imported the module already.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

# The flat layout's module paths (workbench.rfm, workbench.clv...) keep working for one release.
_moved.install()

try:  # one place for the version: pyproject.toml, read back from the installed metadata
    __version__: str = importlib.metadata.version("workbench")
except importlib.metadata.PackageNotFoundError:  # imported from a tree that is not installed
    __version__ = "0+unknown"

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "BetaGeoModel": "workbench.models.clv",
    "GammaGammaAssumptionWarning": "workbench.models.clv",
    "GammaGammaModel": "workbench.models.clv",
    "ModifiedBetaGeoModel": "workbench.models.clv",
    "NBDModel": "workbench.models.clv",
    "ParetoNBDModel": "workbench.models.clv",
    "at_risk_customers": "workbench.models.clv",
    "check_spend_frequency_independence": "workbench.models.clv",
    "clv_table": "workbench.models.clv",
    "compare_models": "workbench.models.clv",
    "customer_lifetime_value": "workbench.models.clv",
    "error_metrics": "workbench.models.clv",
    "fit_clv": "workbench.models.clv",
    "holdout_by_frequency": "workbench.models.clv",
    "p_alive_matrix": "workbench.models.clv",
    "tracking": "workbench.models.clv",
    "cohort_matrix": "workbench.analyses.cohorts",
    "cohort_retention": "workbench.analyses.cohorts",
    "ConfigError": "workbench.errors",
    "ConvergenceError": "workbench.errors",
    "DataValidationError": "workbench.errors",
    "ModelError": "workbench.errors",
    "NotFittedError": "workbench.errors",
    "WorkbenchError": "workbench.errors",
    "ReadOptions": "workbench.core.io",
    "read_cdnow": "workbench.core.io",
    "read_customers": "workbench.core.io",
    "read_surveys": "workbench.core.io",
    "read_transactions": "workbench.core.io",
    "validate_customers": "workbench.core.io",
    "validate_surveys": "workbench.core.io",
    "validate_transactions": "workbench.core.io",
    "executive_kpis": "workbench.analyses.kpi",
    "net_promoter_score": "workbench.analyses.kpi",
    "LoyaltyAnalysis": "workbench.analyses.loyalty",
    "LoyaltySettings": "workbench.analyses.loyalty",
    "analyse_loyalty": "workbench.analyses.loyalty",
    "behavioural_loyalty": "workbench.analyses.loyalty",
    "early_warnings": "workbench.analyses.loyalty",
    "key_drivers": "workbench.analyses.loyalty",
    "loyalty_index": "workbench.analyses.loyalty",
    "loyalty_types": "workbench.analyses.loyalty",
    "perceived_loyalty": "workbench.analyses.loyalty",
    "satisfaction_index": "workbench.analyses.loyalty",
    "value_index": "workbench.analyses.loyalty",
    "NO_PURCHASE_YET": "workbench.analyses.migration",
    "migration_matrix": "workbench.analyses.migration",
    "migration_summary": "workbench.analyses.migration",
    "segment_changes": "workbench.analyses.migration",
    "segment_history": "workbench.analyses.migration",
    "segment_migration": "workbench.analyses.migration",
    "gini": "workbench.analyses.pareto",
    "lorenz_curve": "workbench.analyses.pareto",
    "pareto_table": "workbench.analyses.pareto",
    "top_share": "workbench.analyses.pareto",
    "prepare_orders": "workbench.core.prepare",
    "Project": "workbench.core.project",
    "load_project": "workbench.core.project",
    "DataQualityReport": "workbench.core.quality",
    "assign_segments": "workbench.analyses.rfm",
    "cell_counts": "workbench.analyses.rfm",
    "load_segment_rules": "workbench.analyses.rfm",
    "rfm_scores": "workbench.analyses.rfm",
    "rfm_segments": "workbench.analyses.rfm",
    "score_bins": "workbench.analyses.rfm",
    "segment_table": "workbench.analyses.rfm",
    "calibration_holdout_summary": "workbench.core.summary",
    "customer_summary": "workbench.core.summary",
    "summary_from_orders": "workbench.core.summary",
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
    moved = _moved.new_name(f"workbench.{name}")
    if module is None and moved is not None:  # a module of the flat layout (wb.rfm, wb.clv)
        warnings.warn(_moved.message(f"workbench.{name}", moved), DeprecationWarning, stacklevel=2)
        value = importlib.import_module(moved)
        globals()[name] = value  # warned once; ``from workbench import x`` reads it twice
        return value
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
    from workbench.analyses.cohorts import cohort_matrix, cohort_retention
    from workbench.analyses.kpi import executive_kpis, net_promoter_score
    from workbench.analyses.loyalty import (
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
    from workbench.analyses.migration import (
        NO_PURCHASE_YET,
        migration_matrix,
        migration_summary,
        segment_changes,
        segment_history,
        segment_migration,
    )
    from workbench.analyses.pareto import gini, lorenz_curve, pareto_table, top_share
    from workbench.analyses.rfm import (
        assign_segments,
        cell_counts,
        load_segment_rules,
        rfm_scores,
        rfm_segments,
        score_bins,
        segment_table,
    )
    from workbench.core.io import (
        read_cdnow,
        read_customers,
        read_surveys,
        read_transactions,
        validate_customers,
        validate_surveys,
        validate_transactions,
    )
    from workbench.core.prepare import prepare_orders
    from workbench.core.project import Project, load_project
    from workbench.core.quality import DataQualityReport
    from workbench.core.summary import (
        calibration_holdout_summary,
        customer_summary,
        summary_from_orders,
    )
    from workbench.errors import (
        ConfigError,
        ConvergenceError,
        DataValidationError,
        ModelError,
        NotFittedError,
        WorkbenchError,
    )
    from workbench.models.clv import (
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
