"""Dashboard panel of cohort retention: monthly acquisition cohorts x months since the first
purchase, as active customers (share of the cohort) or revenue.

Follows :class:`~workbench.presentation.widgets.panel.Panel`: ``render(state)`` calls
:func:`workbench.analyses.cohorts.cohort_retention` on the orders of the selection at the as-of date
(cached per state) and draws :func:`workbench.presentation.charts.cohorts.cohort_heatmap`.

Stable CSS classes: ``wb-cohorts`` (the panel), ``wb-cohort-measure`` (the customers / revenue
switch) and the chart widget ``wb-chart-cohorts``.
"""

from __future__ import annotations

import ipywidgets as widgets
import polars as pl

from workbench.presentation.widgets.panel import Panel, no_purchase_notice
from workbench.presentation.widgets.state import DashboardState

#: The views: switch label -> (measure of the heatmap, what the caption says it shows).
VIEWS = {
    "Customers": ("retention", "share of each cohort's customers who bought in the month"),
    "Revenue": ("revenue", "net revenue of each cohort's orders in the month"),
}


def state_cohorts(state: DashboardState) -> pl.DataFrame:
    """Monthly cohort retention of a state (cached):
    :func:`workbench.analyses.cohorts.cohort_retention`."""
    from workbench.analyses.cohorts import cohort_retention

    return state.cached("cohorts", lambda: cohort_retention(state.orders, state.as_of, "1mo"))


class CohortPanel(Panel):
    """Cohort retention heatmap with a customers / revenue switch.

    Parameters
    ----------
    max_cohorts
        Most recent cohorts shown (older ones are left out of the chart, not of the data).
    max_periods
        Months since the first purchase shown at most.

    Examples
    --------
    The demo customers (:mod:`workbench.presentation.widgets.demo`) first bought in January
    (C1, C3), February (C2) and April 2024 (C4): three cohorts.

    >>> import datetime as dt
    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> panel = CohortPanel()
    >>> panel.update(DashboardState(demo_dataset(), dt.date(2024, 6, 28)))
    >>> "(the last 3 of 3 cohorts)" in panel.caption.value
    True
    """

    title = "Cohort retention"
    css_class = "wb-cohorts"

    def __init__(self, max_cohorts: int = 18, max_periods: int = 18) -> None:
        super().__init__()
        self.max_cohorts = max_cohorts
        self.max_periods = max_periods
        self.state: DashboardState | None = None
        self.measure = widgets.ToggleButtons(options=list(VIEWS), value="Customers",
                                             style={"button_width": "auto"})
        self.measure.add_class("wb-cohort-measure")
        self.caption = widgets.HTML()
        self.measure.observe(self._on_measure, names="value")

    def _on_measure(self, _change: dict) -> None:
        if self.state is not None:
            self.update(self.state)

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        from workbench.presentation.charts.cohorts import cohort_heatmap

        if (empty := no_purchase_notice(state)) is not None:
            return empty
        self.state = state
        table = state_cohorts(state)
        cohorts = table["cohort"].unique().sort()
        shown = cohorts.tail(self.max_cohorts)
        data = table.filter(pl.col("cohort").is_in(shown.implode()))
        value, what = VIEWS[self.measure.value]
        chart = cohort_heatmap(
            data, value, max_periods=self.max_periods,
            title=f"Cohort retention: {self.measure.value.lower()}",
            subtitle=f"As of {state.as_of:%d %b %Y}; pale cells: month still running")
        self.caption.value = (
            f"<div class='wb-caption'>Rows: customers by the month of their first purchase "
            f"(the last {shown.len()} of {cohorts.len()} cohorts); columns: months since it; "
            f"cells: {what}. Hover a cell for the cohort's size, customers and revenue.</div>")
        box = widgets.Box([self.chart("cohorts", chart)])
        box.add_class("wb-scroll-chart")
        return [self.measure, self.caption, box]
