"""Altair charts of the workbench: a frame in, an ``alt.Chart`` out (no I/O, no renderer).

Importing this package registers and enables the ``"workbench"`` theme.  Choose the renderer
once per notebook: :func:`use_auto_renderer` (report notebooks: interactive offline
``alt.JupyterChart`` in JupyterLab, static SVG under ``workbench report``/papermill/nbconvert),
:func:`use_report_renderer` (always static SVG/PNG) or :func:`use_dashboard_renderer` (offline
``alt.JupyterChart`` for Voilà and JupyterLab).

Examples
--------
>>> from workbench.presentation.charts import segment_chart, use_report_renderer
>>> from workbench.core.io import read_cdnow
>>> from workbench.analyses.rfm import rfm_segments, segment_table
>>> from workbench.core.summary import customer_summary
>>> summary = customer_summary(read_cdnow("sample_data/cdnow/CDNOW_sample.txt"), "1998-06-30")
>>> use_report_renderer("svg")
>>> chart = segment_chart(segment_table(rfm_segments(summary), summary))
"""

from workbench.presentation.charts.clv import (
    at_risk_chart,
    clv_bins,
    clv_distribution_chart,
    clv_segment_chart,
    holdout_frequency_chart,
    p_alive_heatmap,
    tracking_chart,
)
from workbench.presentation.charts.kpi import kpi_change_chart
from workbench.presentation.charts.migration import (
    flow_layout,
    migration_flow_chart,
    migration_heatmap,
)
from workbench.presentation.charts.pareto import lorenz_chart
from workbench.presentation.charts.rfm import rf_heatmap, segment_chart
from workbench.presentation.charts.theme import (
    SEGMENT_COLORS,
    SEGMENT_ORDER,
    THEME_NAME,
    detect_renderer,
    segment_order,
    segment_scale,
    use_auto_renderer,
    use_dashboard_renderer,
    use_report_renderer,
    use_theme,
)

__all__ = [
    "SEGMENT_COLORS",
    "SEGMENT_ORDER",
    "THEME_NAME",
    "at_risk_chart",
    "clv_bins",
    "clv_distribution_chart",
    "clv_segment_chart",
    "detect_renderer",
    "flow_layout",
    "holdout_frequency_chart",
    "kpi_change_chart",
    "lorenz_chart",
    "migration_flow_chart",
    "migration_heatmap",
    "p_alive_heatmap",
    "rf_heatmap",
    "segment_chart",
    "segment_order",
    "segment_scale",
    "tracking_chart",
    "use_auto_renderer",
    "use_dashboard_renderer",
    "use_report_renderer",
    "use_theme",
]
