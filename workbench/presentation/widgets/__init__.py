"""ipywidgets dashboards: state, the Panel protocol, panels and the executive dashboard.

Examples
--------
>>> from workbench.presentation.widgets import ExecutiveDashboard  # doctest: +SKIP
>>> ExecutiveDashboard.from_dir("sample_data")  # doctest: +SKIP
"""

from workbench.presentation.widgets.cohort_panel import CohortPanel
from workbench.presentation.widgets.customer_view import CustomerView
from workbench.presentation.widgets.dashboard import ExecutiveDashboard
from workbench.presentation.widgets.export import CsvExport
from workbench.presentation.widgets.kpi_panel import KpiPanel
from workbench.presentation.widgets.panel import Panel
from workbench.presentation.widgets.rfm_panels import MigrationPanel, ParetoPanel, SegmentsPanel
from workbench.presentation.widgets.state import DashboardState, Dataset

__all__ = [
    "CohortPanel",
    "CsvExport",
    "CustomerView",
    "DashboardState",
    "Dataset",
    "ExecutiveDashboard",
    "KpiPanel",
    "MigrationPanel",
    "Panel",
    "ParetoPanel",
    "SegmentsPanel",
]
