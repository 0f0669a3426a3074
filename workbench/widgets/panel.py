"""The protocol every dashboard panel follows.

A panel is a small object that owns one ipywidgets container and redraws it from a
:class:`~workbench.widgets.state.DashboardState`.  The dashboard calls :meth:`Panel.update` after
every change of the as-of date or filter, shows a loading indicator meanwhile, and turns an
exception into a friendly message (viewers never see tracebacks).
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import ipywidgets as widgets

from workbench.widgets.state import DashboardState

if TYPE_CHECKING:  # altair is imported when the first chart is drawn
    import altair as alt

logger = logging.getLogger(__name__)
# Library logging: silent unless the application configures a handler (a message on stderr
# would show as an error output in a Voilà page).
logger.addHandler(logging.NullHandler())

#: vega-embed options of dashboard charts: SVG marks (DOM elements, testable), no action menu.
EMBED_OPTIONS = {"renderer": "svg", "actions": False}


class Panel:
    """Base class: subclasses set ``title`` and ``css_class`` and implement :meth:`render`.

    ``render(state)`` returns the list of child widgets to show (charts as
    ``altair.JupyterChart``, tables and tiles as ``ipywidgets.HTML``).  Keep analysis out of it:
    call package functions through ``state``.  Draw charts with :meth:`chart`, which makes one
    ``JupyterChart`` per key on the first call and only swaps its spec afterwards.  An empty
    ``title`` shows no heading.
    """

    title: str = "Panel"
    css_class: str = "wb-panel"

    def __init__(self) -> None:
        self.widget = widgets.VBox()
        self.widget.add_class(self.css_class)
        self.widget.add_class("wb-panel")
        self._heading = widgets.HTML()
        self._heading.add_class("wb-panel-title")
        self._charts: dict[str, alt.JupyterChart] = {}

    def render(self, state: DashboardState) -> list[widgets.Widget]:  # pragma: no cover
        raise NotImplementedError

    def chart(self, key: str, chart: alt.TopLevelMixin) -> alt.JupyterChart:
        """The panel's chart widget ``key`` showing ``chart`` (created once, then updated).

        Examples
        --------
        >>> def render(self, state):  # doctest: +SKIP
        ...     return [self.chart("segments", segment_chart(table))]
        """
        import altair as alt

        existing = self._charts.get(key)
        if existing is None:
            existing = alt.JupyterChart(chart, embed_options=dict(EMBED_OPTIONS))
            existing.add_class(f"wb-chart-{key}")
            self._charts[key] = existing
        else:
            existing.chart = chart
        return existing

    def update(self, state: DashboardState) -> None:
        """Redraw from ``state``; on error show a short message instead of a traceback.

        Warnings raised while computing (a model without standard errors on a tiny selection,
        a revenue fallback when cost is unknown) go to the log: text on stderr would show as an
        error output in a Voilà page.
        """
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                children = self.render(state)
            for w in caught:
                logger.info("panel %r: %s", self.title, w.message)
        except Exception as exc:  # noqa: BLE001 - viewers get a message, not a traceback
            logger.warning("panel %r failed", self.title, exc_info=True)
            message = widgets.HTML(
                f"<div class='wb-error'>This panel could not be computed for the current "
                f"selection ({type(exc).__name__}: {_escape(str(exc))[:200]}).</div>"
            )
            children = [message]
        if self.title:
            self._heading.value = f"<h3>{_escape(self.title)}</h3>"
            children = [self._heading, *children]
        self.widget.children = children


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
