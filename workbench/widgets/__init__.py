"""ipywidgets dashboards: state, the Panel protocol, panels and the executive dashboard.

Examples
--------
>>> from workbench.widgets import ExecutiveDashboard  # doctest: +SKIP
>>> ExecutiveDashboard.from_dir("sample_data")  # doctest: +SKIP
"""

from workbench.widgets.cohort_panel import CohortPanel
from workbench.widgets.customer_view import CustomerView
from workbench.widgets.dashboard import ExecutiveDashboard
from workbench.widgets.export import CsvExport
from workbench.widgets.kpi_panel import KpiPanel
from workbench.widgets.panel import Panel
from workbench.widgets.rfm_panels import MigrationPanel, ParetoPanel, SegmentsPanel
from workbench.widgets.state import DashboardState, Dataset

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
