"""The executive dashboard: KPI tiles, segments, migration and concentration on one page.

:class:`ExecutiveDashboard` holds the controls (as-of date, customer filter), a loading
indicator, the KPI tiles and a tab per topic.  Panels follow the
:class:`~workbench.presentation.widgets.panel.Panel` protocol; more are added with
:meth:`ExecutiveDashboard.add_panel` (the CLV and loyalty panels)::

    dash = ExecutiveDashboard.from_dir("sample_data")
    dash.add_panel(ClvPanel(), tab="Lifetime value")
    dash

Panels in tabs that are not shown are built (their widgets created) only when their tab is
first opened, and computed when their tab is opened after a change (``lazy=True``): a page
starts with the header, the KPI tiles and the first tab only, since every widget model costs
the server, the websocket and each viewer's browser (README, "Serving the dashboard to a
team").  Viewers never see a traceback: a panel that fails shows a short message
(:meth:`Panel.update`), and so does the dashboard itself when the data cannot be read or a
control callback fails.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import ipywidgets as widgets

from workbench.presentation.formatting import use_formats
from workbench.presentation.widgets.clv_panel import ClvPanel
from workbench.presentation.widgets.cohort_panel import CohortPanel
from workbench.presentation.widgets.customer_view import CustomerView
from workbench.presentation.widgets.export import AtRiskExport
from workbench.presentation.widgets.kpi_panel import KPI_CSS, KpiPanel
from workbench.presentation.widgets.loyalty_panel import LoyaltyPanel
from workbench.presentation.widgets.panel import PanelLike, viewer_message
from workbench.presentation.widgets.rfm_panels import (
    TABLE_CSS,
    MigrationPanel,
    ParetoPanel,
    SegmentsPanel,
)
from workbench.presentation.widgets.state import DashboardState, Dataset

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Any panel the dashboard holds (a :class:`~workbench.presentation.widgets.panel.Panel` or
#: another object with its ``title``, ``widget`` and ``update``).
PanelT = TypeVar("PanelT", bound=PanelLike)

#: Customer attributes offered as filters, with their labels.
FILTER_LABELS = {"region": "Region", "channel": "Channel", "customer_type": "Customer type",
                 "payment_terms": "Payment terms"}
ALL = "All"

DASHBOARD_CSS = """
.wb-dashboard { font-family: Inter, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif;
  color: #1f2937; max-width: 1240px; }
.wb-header { align-items: center; gap: 12px; flex-wrap: wrap; padding: 4px 0 10px;
  border-bottom: 1px solid #e5e7eb; margin-bottom: 12px; }
.wb-title h2 { margin: 0; font-size: 22px; font-weight: 650; }
.wb-status { color: #6b7280; font-size: 12.5px; }
.wb-loading { color: #1d4ed8; font-size: 13px; }
.wb-spinner { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
  border: 2px solid #bfdbfe; border-top-color: #1d4ed8; border-radius: 50%;
  animation: wb-spin .8s linear infinite; vertical-align: -2px; }
@keyframes wb-spin { to { transform: rotate(360deg); } }
.wb-panel-title h3 { margin: 6px 0 4px; font-size: 16px; font-weight: 600; }
.wb-row { gap: 24px; }
.wb-error { color: #991b1b; background: #fef2f2; border: 1px solid #fecaca;
  border-radius: 6px; padding: 10px 14px; margin: 8px 0; }
.wb-tabs { margin-top: 14px; }
/* responsive: nothing wider than the screen; charts shrink, tables scroll in their box */
.wb-dashboard, .wb-dashboard .widget-box, .wb-dashboard .jupyter-widgets { min-width: 0;
  max-width: 100%; box-sizing: border-box; }
.wb-dashboard .vega-embed, .wb-dashboard .vega-embed svg { max-width: 100%; height: auto; }
.wb-dashboard .vega-embed { overflow: visible; }
.wb-dashboard .wb-scroll-chart { overflow-x: auto; max-width: 100%; }
.wb-dashboard .wb-scroll-chart .vega-embed svg { max-width: none; }
.wb-dashboard .lm-TabBar-content, .wb-dashboard .p-TabBar-content { flex-wrap: wrap; }
.wb-dashboard .lm-TabBar, .wb-dashboard .p-TabBar { min-height: fit-content; }
.wb-dashboard .widget-tab > .lm-TabBar .lm-TabBar-tab { flex: 0 1 auto; min-width: 0; }
.wb-customer-history-box { max-height: 360px; overflow: auto; }
.wb-drivers { display: flex; flex-wrap: wrap; gap: 10px; margin: 4px 0 8px; }
.wb-driver { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px;
  min-width: 120px; background: #fff; }
.wb-driver-value { font-size: 18px; font-weight: 650; color: #111827; }
@media (max-width: 600px) {
  .wb-header .widget-dropdown, .wb-header .widget-dropdown select { width: 100% !important;
    max-width: 100%; }
  .wb-dashboard .widget-dropdown > label { max-width: 40%; }
  .wb-title h2 { font-size: 18px; }
}
"""


@dataclass
class _Slot:
    """One panel of the dashboard: its place, and the panel once built.

    ``make`` builds the panel (creates its widgets) when its tab is first opened; ``None`` for a
    panel given ready-made to :meth:`ExecutiveDashboard.add_panel`.
    """

    tab: str | None
    make: Callable[[], PanelLike] | None
    panel: PanelLike | None = None


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month ends from ``first``'s month up to ``last`` (inclusive), oldest first.

    Examples
    --------
    >>> import datetime as dt
    >>> month_ends(dt.date(2024, 1, 15), dt.date(2024, 3, 31))
    [datetime.date(2024, 1, 31), datetime.date(2024, 2, 29), datetime.date(2024, 3, 31)]
    """
    out: list[dt.date] = []
    year, month = first.year, first.month
    while True:
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
        if end > last:
            return out
        if end >= first:
            out.append(end)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def as_of_options(first: dt.date, last: dt.date, period_days: int = 90,
                  extra: dt.date | None = None) -> list[tuple[str, dt.date]]:
    """Dropdown options for the as-of date: month ends, newest first, plus the last data date.

    Month ends earlier than one full period after the first order are left out (their
    comparison period would have no data), unless nothing else remains.

    Examples
    --------
    >>> import datetime as dt
    >>> [label for label, _ in as_of_options(dt.date(2024, 1, 1), dt.date(2024, 6, 12), 90)]
    ['12 Jun 2024 (latest data)', '31 May 2024', '30 Apr 2024', '31 Mar 2024']
    """
    ends = month_ends(first, last)
    usable = [d for d in ends if d >= first + dt.timedelta(days=period_days)] or ends
    dates = set(usable) | {last} | ({extra} if extra else set())
    return [(f"{d:%d %b %Y}" + (" (latest data)" if d == last and d not in ends else ""), d)
            for d in sorted(dates, reverse=True)]


class ExecutiveDashboard:
    """The executive overview: controls, KPI tiles and tabs of panels.

    Parameters
    ----------
    data
        The loaded tables (:meth:`Dataset.from_dir`).
    as_of
        Initial as-of date; default: the last order date of the data.
    period_days
        KPI and migration period length (90 = a quarter).
    rules
        Segment rule table (``"default"``, ``"rf_grid"``, ``"three_level"`` or a path).
    unit
        Time unit of the customer summary.
    lazy
        Build and compute the panels of hidden tabs only when their tab is opened (``False``:
        build and draw every panel at once).
    title
        Heading shown left of the controls (none by default: the notebook has its own).

    Attributes
    ----------
    widget
        The ``ipywidgets.VBox`` to display (the object displays itself in a notebook).
    state
        The current :class:`DashboardState`.
    as_of_control, filter_attr, filter_value
        The controls (``Dropdown``; CSS classes ``wb-asof``, ``wb-filter-attr``,
        ``wb-filter-value``); setting their ``value`` updates the dashboard.
    loading
        The loading indicator (class ``wb-loading``), visible while panels recompute.
    kpis
        The :class:`KpiPanel`.
    clv, customer_view
        The :class:`ClvPanel` (Lifetime value tab, shared with the at-risk export and the
        customer view) and the :class:`CustomerView` (Customer tab); built on first access
        when their tab has not been opened yet.
    last_render_seconds
        Time the last update took.

    Examples
    --------
    On the demo data (:mod:`workbench.presentation.widgets.demo`), the net revenue of the 90
    days to 28 Jun 2024 is 80 + 30 + 10 + 15, of which the North region (C1, C3) holds 80.  The
    first dashboard of a process takes a few seconds (it bundles Vega's JavaScript once).

    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> dash = ExecutiveDashboard(demo_dataset())
    >>> dash.state.as_of, dash.kpis.values["revenue"]["value"]
    (datetime.date(2024, 6, 28), 135.0)
    >>> dash.filter_attr.value = "region"; dash.filter_value.value = "North"
    >>> dash.kpis.values["revenue"]["value"]
    80.0
    >>> dash.tabs.titles
    ('Segments', 'Migration', 'Concentration', 'Lifetime value', 'Loyalty', 'Cohorts', 'Customer')

    A hidden tab's panels are built when the tab is first opened; the Customer tab builds the
    Lifetime value tab's CLV panel too (it uses its model fit), once:

    >>> [type(p).__name__ for p in dash.built_panels]
    ['KpiPanel', 'SegmentsPanel']
    >>> dash.tabs.selected_index = 6
    >>> [type(p).__name__ for p in dash.built_panels]
    ['KpiPanel', 'SegmentsPanel', 'ClvPanel', 'CustomerView']
    >>> dash.tabs.selected_index = 3
    >>> dash.customer_view.clv_panel is dash.clv is dash.built_panels[2]
    True

    In a notebook, ``dash`` as the last line of a cell shows the dashboard.
    """

    def __init__(self, data: Dataset, as_of: dt.date | None = None, period_days: int = 90, *,
                 rules: str = "default", unit: str = "W", lazy: bool = True,
                 title: str | None = None) -> None:
        self.data = data
        self.period_days = period_days
        self.lazy = lazy
        self.last_render_seconds = 0.0
        self._slots: list[_Slot] = []
        self._named: dict[str, int] = {}  # slot of the clv and customer_view properties
        self._stale: set[int] = set()
        self._tab_boxes: dict[str, widgets.VBox] = {}
        self._updating = False
        self._filters: dict[str, list[str]] = {}

        self.title = widgets.HTML(f"<h2>{html.escape(title)}</h2>" if title else "",
                                  layout=widgets.Layout(display=None if title else "none"))
        self.title.add_class("wb-title")
        self.status = widgets.HTML()
        self.status.add_class("wb-status")
        self.message = widgets.HTML(layout=widgets.Layout(display="none"))
        self.message.add_class("wb-message")
        self.loading = widgets.HTML("<span class='wb-spinner'></span>Updating…",
                                    layout=widgets.Layout(visibility="hidden"))
        self.loading.add_class("wb-loading")
        style = {"description_width": "initial"}
        self.as_of_control = widgets.Dropdown(description="As of", style=style,
                                              layout=widgets.Layout(width="220px"))
        self.as_of_control.add_class("wb-asof")
        self.filter_attr = widgets.Dropdown(description="Customers", style=style,
                                            layout=widgets.Layout(width="230px"))
        self.filter_attr.add_class("wb-filter-attr")
        self.filter_value = widgets.Dropdown(options=[ALL], value=ALL, disabled=True,
                                             layout=widgets.Layout(width="150px"))
        self.filter_value.add_class("wb-filter-value")
        self.controls = [self.as_of_control, self.filter_attr, self.filter_value]

        self.top = widgets.VBox()
        self.top.add_class("wb-top")
        self.tabs = widgets.Tab()
        self.tabs.add_class("wb-tabs")
        header = widgets.HBox([self.title, *self.controls, self.loading])
        header.add_class("wb-header")
        css = widgets.HTML(f"<style>{DASHBOARD_CSS}{KPI_CSS}{TABLE_CSS}</style>",
                           layout=widgets.Layout(height="0px", overflow="hidden"))
        self.widget = widgets.VBox([css, header, self.status, self.message, self.top, self.tabs])
        self.widget.add_class("wb-dashboard")

        self.kpis = KpiPanel()
        self.state: DashboardState | None = None
        self._guard(lambda: self._setup(data, as_of, rules, unit), "The dashboard could not start")

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_dir(cls, data_dir: str | os.PathLike[str], **kwargs) -> ExecutiveDashboard:
        """Read a data folder (:meth:`Dataset.from_dir`) and build the dashboard.

        When the data cannot be read the dashboard shows a short message instead of raising,
        so a Voilà page never shows a traceback; the message names the file by its base name
        and the problem, never the server path or the offending values
        (:func:`~workbench.presentation.widgets.panel.viewer_message`).

        Examples
        --------
        A folder without a transactions file gives a dashboard that says so:

        >>> dash = ExecutiveDashboard.from_dir("sample_data/cdnow")
        >>> dash.state is None
        True
        >>> print(dash.widget.children[0].value.split("</style>")[1])
        <div class='wb-error'>The data could not be read: sample_data/cdnow: no transactions.csv
        or transactions.parquet</div>

        ``ExecutiveDashboard.from_dir("sample_data")`` shows the sample data.
        """
        return cls._build(lambda: Dataset.from_dir(Path(data_dir)), data_dir, kwargs)

    @classmethod
    def open(cls, source: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None,
             **kwargs) -> ExecutiveDashboard:
        """The dashboard of a data folder or project file, served from the results cache.

        As :meth:`from_dir`, but through :meth:`Dataset.open`: every result is looked up in
        the shared cache (:mod:`workbench.core.cache`) first, and the tables are read only when a
        result is missing.  This is what the served dashboards use: a kernel that finds the
        default view in the cache (``workbench serve`` warms it) reads no table at all.

        Examples
        --------
        The sample data with a cache in a temporary folder, lazily: only the KPI tiles and the
        first tab are computed, the other tabs when opened.

        >>> import shutil
        >>> import tempfile
        >>> cache_dir = tempfile.mkdtemp()
        >>> dash = ExecutiveDashboard.open("sample_data", cache_dir)
        >>> dash.state.as_of  # the sample data end on 2026-06-30
        datetime.date(2026, 6, 30)
        >>> shutil.rmtree(cache_dir)
        """
        return cls._build(lambda: Dataset.open(Path(source), cache_dir), source, kwargs)

    @classmethod
    def _build(cls, read: Callable[[], Dataset], source: str | os.PathLike[str],
               kwargs: dict) -> ExecutiveDashboard:
        try:
            data = read()
        except Exception as exc:  # noqa: BLE001 - shown to viewers as a message
            logger.warning("cannot read %s", source, exc_info=True)
            dash = cls.__new__(cls)
            dash.widget = widgets.VBox([widgets.HTML(
                f"<style>{DASHBOARD_CSS}</style><div class='wb-error'>The data could not be "
                f"read: {html.escape(viewer_message(exc), quote=False)}</div>")])
            dash.widget.add_class("wb-dashboard")
            dash.state = None
            return dash
        return cls(data, **kwargs)

    def _setup(self, data: Dataset, as_of: dt.date | None, rules: str, unit: str) -> None:
        from workbench.presentation.charts import use_dashboard_renderer

        use_dashboard_renderer()
        use_formats(data.currency, data.locale)
        first, last = data.first_date, data.last_date
        as_of = as_of or data.as_of
        if first is None or last is None:  # no data rows: every panel says so
            first = last = as_of or dt.date.today()
        start = as_of or last
        self.as_of_control.options = as_of_options(first, last, self.period_days, extra=start)
        self.as_of_control.value = start
        filters = data.filter_options()
        self._filters = filters
        self.filter_attr.options = [("All customers", "")] + [
            (FILTER_LABELS.get(col, col.replace("_", " ").capitalize()), col) for col in filters]
        self.filter_attr.value = ""
        if not filters:
            self.filter_attr.disabled = True

        self.add_panel(self.kpis, tab=None, update=False)
        self.add_panel(SegmentsPanel(), tab="Segments", update=False)
        self._add_lazy(MigrationPanel, "Migration")
        self._add_lazy(ParetoPanel, "Concentration")
        self._named["clv"] = self._add_lazy(ClvPanel, "Lifetime value")
        self._add_lazy(lambda: AtRiskExport(self.clv), "Lifetime value")
        self._add_lazy(LoyaltyPanel, "Loyalty")
        self._add_lazy(CohortPanel, "Cohorts")
        self._named["customer_view"] = self._add_lazy(lambda: CustomerView(self.clv), "Customer")
        self.tabs.selected_index = 0
        if not self.lazy:
            self._build_panels(range(len(self._slots)))

        self.state = DashboardState(data, start, self.period_days, unit=unit, rules=rules)
        self._n_customers = data.n_customers
        self.as_of_control.observe(self._on_control, names="value")
        self.filter_attr.observe(self._on_filter_attr, names="value")
        self.filter_value.observe(self._on_control, names="value")
        self.tabs.observe(self._on_tab, names="selected_index")
        self.refresh()

    def add_panel(self, panel: PanelT, tab: str | None = "Panels", *,
                  update: bool = True) -> PanelT:
        """Add a panel: in tab ``tab`` (created when new), or above the tabs when ``tab=None``.

        Panels follow :class:`~workbench.presentation.widgets.panel.Panel`; several may share a tab.
         The panel is drawn at once when visible (or ``lazy=False``), else when its tab is opened.

        Examples
        --------
        >>> from workbench.presentation.widgets.demo import demo_dataset
        >>> dash = ExecutiveDashboard(demo_dataset())
        >>> panel = dash.add_panel(CohortPanel(max_cohorts=2), tab="Recent cohorts")
        >>> dash.tabs.titles[-1], len(dash.panels)
        ('Recent cohorts', 10)

        The dashboard itself holds 9 panels: the KPI tiles, one per tab (7 tabs), and the
        at-risk export below the Lifetime value panel.
        """
        index = self._add_slot(_Slot(tab, None, panel))
        if update and self.state is not None and (not self.lazy or self._visible(index)):
            self._guard(lambda: self._update_panels([index]), "A panel could not be drawn")
        return panel

    def _add_lazy(self, make: Callable[[], PanelLike], tab: str) -> int:
        """Add a panel built by ``make`` when its tab is first opened; its slot index."""
        return self._add_slot(_Slot(tab, make))

    def _add_slot(self, slot: _Slot) -> int:
        """Register ``slot`` (creating its tab when new) and show its panel if built."""
        self._slots.append(slot)
        index = len(self._slots) - 1
        tab = slot.tab
        if tab is not None and tab not in self._tab_boxes:
            box = widgets.VBox()
            box.add_class("wb-tab-" + "".join(c if c.isalnum() else "-" for c in tab.lower()))
            self._tab_boxes[tab] = box
            titles = list(self.tabs.titles)
            self.tabs.children = [*self.tabs.children, box]
            self.tabs.titles = (*titles, tab)
        self._stale.add(index)
        if slot.panel is not None:
            self._show(tab)
        return index

    def _show(self, tab: str | None) -> None:
        """Put the built panels of ``tab`` (``None``: above the tabs) in its box, in order."""
        box = self.top if tab is None else self._tab_boxes[tab]
        box.children = [s.panel.widget for s in self._slots
                        if s.tab == tab and s.panel is not None]

    def _build_panels(self, indices: range | list[int]) -> None:
        """Build the panels of ``indices`` not built yet (they stay stale until drawn)."""
        for i in indices:
            slot = self._slots[i]
            if slot.panel is None:
                assert slot.make is not None  # only ready-made panels have no maker
                slot.panel = slot.make()
                self._stale.add(i)
                self._show(slot.tab)

    def _named_panel(self, name: str) -> PanelLike:
        index = getattr(self, "_named", {}).get(name)
        if index is None:  # the dashboard did not start (its message says why)
            raise AttributeError(f"the dashboard has no {name}: it did not start")
        self._build_panels([index])
        panel = self._slots[index].panel
        assert panel is not None  # just built
        return panel

    @property
    def clv(self) -> ClvPanel:
        """The Lifetime value tab's :class:`ClvPanel` (built on first access, drawn when its
        tab is opened); the at-risk export and the customer view use its model fit."""
        return cast(ClvPanel, self._named_panel("clv"))

    @property
    def customer_view(self) -> CustomerView:
        """The Customer tab's :class:`CustomerView` (built on first access)."""
        return cast(CustomerView, self._named_panel("customer_view"))

    @property
    def panels(self) -> list[PanelLike]:
        """The panels, in the order they were added; builds those not built yet (their
        widgets; each is drawn when its tab is opened).  :attr:`built_panels` builds none."""
        self._build_panels(range(len(self._slots)))
        return self.built_panels

    @property
    def built_panels(self) -> list[PanelLike]:
        """The panels built so far, in the order they were added.

        Examples
        --------
        >>> from workbench.presentation.widgets.demo import demo_dataset
        >>> dash = ExecutiveDashboard(demo_dataset())
        >>> len(dash.built_panels), len(dash.panels), len(dash.built_panels)
        (2, 9, 9)
        """
        return [s.panel for s in self._slots if s.panel is not None]

    # -- updates --------------------------------------------------------------------------------

    def _selected_tab(self) -> str | None:
        i = self.tabs.selected_index
        titles = list(self.tabs.titles)
        return titles[i] if i is not None and 0 <= i < len(titles) else None

    def _visible(self, index: int) -> bool:
        tab = self._slots[index].tab
        return tab is None or tab == self._selected_tab()

    def _update_panels(self, indices: list[int]) -> None:
        """Build the panels of ``indices`` when needed and draw them, showing the loading
        indicator meanwhile."""
        if not indices or self.state is None:
            return
        started = time.perf_counter()
        self._busy(True)
        try:
            self._build_panels(indices)
            for i in indices:
                panel = self._slots[i].panel
                assert panel is not None  # built above
                panel.update(self.state)
                self._stale.discard(i)
        finally:
            self._busy(False)
            self.last_render_seconds = time.perf_counter() - started

    def refresh(self) -> None:
        """Mark every panel stale and redraw the visible ones (all when ``lazy=False``)."""
        if self.state is None:
            return
        self._stale = set(range(len(self._slots)))
        self._update_status()
        todo = [i for i in sorted(self._stale) if not self.lazy or self._visible(i)]
        self._update_panels(todo)

    def set_selection(self, as_of: dt.date | None = None, filter_column: str | None = None,
                      filter_value: str | None = None) -> None:
        """Change the as-of date and/or the filter programmatically (as the controls do).

        Examples
        --------
        On the demo data (:mod:`workbench.presentation.widgets.demo`), the net revenue of the
        North region (C1 and C3) in the 90 days to 28 Jun 2024 is C1's 80:

        >>> from workbench.presentation.widgets.demo import demo_dataset
        >>> dash = ExecutiveDashboard(demo_dataset())
        >>> dash.set_selection(filter_column="region", filter_value="North")
        >>> dash.state.filter_value, dash.kpis.values["revenue"]["value"]
        ('North', 80.0)
        """
        if as_of is not None:
            if as_of not in [v for _, v in self.as_of_control.options]:
                first, last = self.data.first_date, self.data.last_date
                if first is None or last is None:
                    first = last = as_of
                self.as_of_control.options = as_of_options(first, last, self.period_days,
                                                            extra=as_of)
            self.as_of_control.value = as_of
        if filter_column is not None:
            self.filter_attr.value = filter_column
        if filter_value is not None:
            self.filter_value.value = filter_value

    def _busy(self, busy: bool) -> None:
        self.loading.layout.visibility = "visible" if busy else "hidden"
        for control in self.controls:
            if control is self.filter_value:
                control.disabled = busy or not self.filter_attr.value
            elif control is self.filter_attr:
                control.disabled = busy or not self._filters
            else:
                control.disabled = busy

    def _update_status(self) -> None:
        s = self.state
        assert s is not None  # called by refresh, which returns early without a state
        first, last = self.data.first_date, self.data.last_date
        parts = ([f"Data {first:%d %b %Y} – {last:%d %b %Y}"] if first and last
                 else ["No transactions in the data"])
        plural = "customer" if self._n_customers == 1 else "customers"
        parts.append(f"{self._n_customers:,} {plural} in total")
        aside = getattr(self.data, "lines_without_customer_id", 0)
        if aside:  # set aside as the project file asks: said, never silently left out
            lines = "line" if aside == 1 else "lines"
            parts.append(f"{aside:,} {lines} without a customer id set aside")
        parts.append(f"as of {s.as_of:%d %b %Y}")
        parts.append(f"amounts in {s.formats.code}")
        if s.has_filter and s.filter_column:  # (has_filter implies a filter column)
            label = FILTER_LABELS.get(s.filter_column, s.filter_column)
            parts.append(f"filter: {html.escape(label)} = {html.escape(str(s.filter_value))}")
        self.status.value = " · ".join(parts)

    def _guard(self, action: Callable[[], None], what: str) -> None:
        """Run ``action``; on error show a message (and log the traceback), never raise."""
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - viewers get a message, not a traceback
            logger.warning("%s", what, exc_info=True)
            self.message.value = (f"<div class='wb-error'>{html.escape(what)} "
                                  f"({type(exc).__name__}: "
                                  f"{html.escape(viewer_message(exc), quote=False)}).</div>")
            self.message.layout.display = None
            self._busy(False)
        else:
            if self.message.layout.display is None:
                self.message.layout.display = "none"

    def _apply_controls(self) -> None:
        old = self.state
        assert old is not None  # the controls are observed only once the state is set
        column = self.filter_attr.value or None
        value = self.filter_value.value if column else None
        new = old.with_selection(as_of=self.as_of_control.value, filter_column=column,
                                 filter_value=value if value != ALL else None)
        same_filter = (not old.has_filter and not new.has_filter) or (
            old.filter_column == new.filter_column and old.filter_value == new.filter_value)
        if new.as_of == old.as_of and same_filter:
            return
        self.state = new
        self.refresh()

    def _on_control(self, change: dict) -> None:
        if self._updating:
            return
        self._guard(self._apply_controls, "The dashboard could not be updated")

    def _on_filter_attr(self, change: dict) -> None:
        column = change["new"]
        self._updating = True
        try:
            values = self._filters.get(column, []) if column else []
            self.filter_value.options = [ALL, *values]
            self.filter_value.value = ALL
            self.filter_value.disabled = not column
        finally:
            self._updating = False
        self._on_control(change)

    def _on_tab(self, change: dict) -> None:
        todo = [i for i in sorted(self._stale) if self._visible(i)]
        self._guard(lambda: self._update_panels(todo), "A panel could not be drawn")

    # -- display --------------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
