"""ipywidgets dashboards: state, the Panel protocol, panels and the executive dashboard.

Examples
--------
The executive dashboard on the four-customer demo data (:mod:`.demo`); in a notebook,
``ExecutiveDashboard.from_dir("sample_data")`` as the last line of a cell shows it on the
sample data.

>>> from workbench.presentation.widgets import ExecutiveDashboard
>>> from workbench.presentation.widgets.demo import demo_dataset
>>> dash = ExecutiveDashboard(demo_dataset())
>>> dash.status.value
'Data 05 Jan 2024 – 28 Jun 2024 · 4 customers in total · as of 28 Jun 2024 · amounts in USD'
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
