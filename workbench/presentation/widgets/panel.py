"""The protocol every dashboard panel follows.

A panel is a small object that owns one ipywidgets container and redraws it from a
:class:`~workbench.presentation.widgets.state.DashboardState`.  The dashboard calls
:meth:`Panel.update` after every change of the as-of date or filter, shows a loading indicator
meanwhile, and turns an exception into a friendly message (viewers never see tracebacks).

Messages shown to viewers never carry an absolute server path or raw customer rows
(:func:`viewer_message`): a :class:`~workbench.errors.DataValidationError` shows the base file
name, the column, the problem and the row numbers, without the offending values.  Data the
analysis refuses as a whole (no purchases by the as-of date, too few repeat customers for a
model) show as one plain sentence (``wb-notice``); anything else as an error box naming the
error type (``wb-error``).
"""

from __future__ import annotations

import html
import logging
import os
import re
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import ipywidgets as widgets
from ipywidgets.widgets.widget import _instances  # open models (Widget.widgets: deprecated)

from workbench.errors import DataValidationError, ModelError
from workbench.presentation.widgets.state import DashboardState

if TYPE_CHECKING:  # altair is imported when the first chart is drawn
    import altair as alt

logger = logging.getLogger(__name__)
# Library logging: silent unless the application configures a handler (a message on stderr
# would show as an error output in a Voilà page).
logger.addHandler(logging.NullHandler())

#: vega-embed options of dashboard charts: SVG marks (DOM elements, testable), no action menu.
EMBED_OPTIONS = {"renderer": "svg", "actions": False}
#: Longest message shown to a viewer (characters).
MAX_MESSAGE = 300
#: An absolute POSIX or Windows path inside a message (its last part is kept).
_ABSOLUTE_PATH = re.compile(
    r"""(?<![\w.~])(?:[A-Za-z]:)?[/\\](?:[^\s'"<>(),;:/\\]+[/\\])*([^\s'"<>(),;:/\\]*)"""
)


def strip_paths(text: str) -> str:
    """``text`` with every absolute path replaced by its last part (the file name).

    Examples
    --------
    >>> strip_paths("/srv/data/q1/transactions.csv: file not found")
    'transactions.csv: file not found'
    >>> strip_paths("1/2 of the rows")
    '1/2 of the rows'
    """
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1), text)


def viewer_message(exc: BaseException) -> str:
    """A message about ``exc`` that is safe to show to a dashboard viewer.

    Uses the error's own ``public_message()`` when it has one.  Else a
    :class:`~workbench.errors.DataValidationError` gives its base file name, column, problem
    and row numbers (never the offending values, which may be customer data); other errors
    their text with absolute paths cut to file names.  At most :data:`MAX_MESSAGE` characters.

    Examples
    --------
    >>> from workbench.errors import DataValidationError
    >>> err = DataValidationError("/srv/data/tx.csv", "amount", "text in a numeric column",
    ...                           [3], ["Jane Doe, 12 Main St"], 1)
    >>> viewer_message(err)
    "tx.csv: column 'amount': text in a numeric column in 1 row; first rows: 3"
    """
    public = getattr(exc, "public_message", None)
    if public is not None:
        text = public() if callable(public) else str(public)
    elif isinstance(exc, DataValidationError):
        where = os.path.basename(str(exc.source).rstrip("/\\")) or "data"
        text = f"{where}: " + (f"column '{exc.column}': " if exc.column else "") + exc.problem
        if exc.rows:
            plural = "row" if exc.n_rows == 1 else "rows"
            text += f" in {exc.n_rows:,} {plural}; first rows: " + ", ".join(map(str, exc.rows))
    else:
        text = str(exc)
    text = strip_paths(" ".join(text.split()))
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def notice_html(text: str, css_class: str = "wb-empty wb-notice") -> str:
    """One plain sentence in place of a panel (escaped, ends with a full stop).

    Examples
    --------
    >>> notice_html("No survey data")
    "<div class='wb-empty wb-notice'>No survey data.</div>"
    """
    text = text.strip()
    if text and text[-1] not in ".!?…":
        text += "."
    return f"<div class='{css_class}'>{html.escape(text, quote=False)}</div>"


def no_purchase_notice(state: DashboardState) -> list[widgets.Widget] | None:
    """A plain message in place of a panel when the selection has no purchase, else ``None``.

    Examples
    --------
    The demo data (:mod:`workbench.presentation.widgets.demo`) start on 5 Jan 2024:

    >>> import datetime as dt
    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> data = demo_dataset()
    >>> print(no_purchase_notice(DashboardState(data, dt.date(2023, 12, 31)))[0].value)
    <div class='wb-empty wb-notice'>No customers with purchases on or before 2023-12-31 (the first
    purchase is on 2024-01-05).</div>
    >>> no_purchase_notice(DashboardState(data, dt.date(2024, 6, 28))) is None
    True
    """
    problem = state.no_purchases()
    if problem is None:
        return None
    return [widgets.HTML(notice_html(problem))]


def error_html(exc: BaseException) -> str:
    """The HTML shown in place of a panel whose computation raised ``exc``.

    A :class:`~workbench.errors.DataValidationError` about the whole table (no purchases by
    the as-of date) gives a plain notice; a :class:`~workbench.errors.ModelError` (too few
    repeat customers) a plain sentence in an error box; other errors, a broken column
    included, an error box naming the error type.

    Examples
    --------
    >>> from workbench.errors import DataValidationError
    >>> error_html(DataValidationError("tx.csv", None, "no purchases on or before 2023-01-01"))
    "<div class='wb-empty wb-notice'>tx.csv: no purchases on or before 2023-01-01.</div>"
    """
    message = viewer_message(exc)
    if isinstance(exc, DataValidationError) and not exc.column:
        return notice_html(message)
    if isinstance(exc, ModelError):
        return notice_html(f"This panel could not be computed for the current selection: "
                           f"{message}", "wb-error wb-notice")
    return (f"<div class='wb-error'>This panel could not be computed for the current "
            f"selection ({type(exc).__name__}: {html.escape(message, quote=False)}).</div>")


class PanelLike(Protocol):
    """What the dashboard needs of a panel: a ``title``, the ``widget`` to show and
    ``update(state)``.  :class:`Panel` subclasses have them; so does the at-risk export
    (:class:`~workbench.presentation.widgets.export.AtRiskExport`), which is no ``Panel``."""

    title: str
    widget: Any  # an ipywidgets container

    def update(self, state: DashboardState) -> None: ...


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
        self._heading: widgets.HTML | None = None  # made by the first update of a titled panel
        self._charts: dict[str, alt.JupyterChart] = {}

    def render(self, state: DashboardState) -> list[widgets.Widget]:  # pragma: no cover
        raise NotImplementedError

    def chart(self, key: str, chart: alt.TopLevelSpec) -> alt.JupyterChart:
        """The panel's chart widget ``key`` showing ``chart`` (created once, then updated).

        Examples
        --------
        A panel drawing one chart; a second update swaps the chart's spec in the same widget:

        >>> import datetime as dt
        >>> import altair as alt
        >>> from workbench.presentation.widgets.demo import demo_dataset
        >>> class OrdersPanel(Panel):
        ...     title = "Orders"
        ...     def render(self, state):
        ...         bars = alt.Chart(state.orders).mark_bar().encode(x="order_date:T", y="amount")
        ...         return [self.chart("orders", bars)]
        >>> panel = OrdersPanel()
        >>> panel.update(DashboardState(demo_dataset(), dt.date(2024, 6, 28)))
        >>> [type(w).__name__ for w in panel.widget.children]
        ['HTML', 'JupyterChart']
        >>> first = panel.widget.children[1]
        >>> panel.update(DashboardState(demo_dataset(), dt.date(2024, 3, 31)))
        >>> panel.widget.children[1] is first
        True
        """
        import altair as alt

        chart = localized(chart)
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

        The widgets the new children no longer show are closed (:func:`close_replaced`), except
        those the panel keeps in its attributes for reuse (:func:`held_widgets`): a viewer who
        changes the selection many times does not pile up widget models in the kernel and the
        browser.
        """
        old_tree = widget_tree(self.widget.children)  # before render refills kept boxes
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                children = self.render(state)
            for w in caught:
                logger.info("panel %r: %s", self.title, w.message)
        except Exception as exc:  # noqa: BLE001 - viewers get a message, not a traceback
            logger.warning("panel %r failed", self.title, exc_info=True)
            children = [widgets.HTML(error_html(exc))]
        if self.title:
            if self._heading is None:
                self._heading = widgets.HTML()
                self._heading.add_class("wb-panel-title")
            self._heading.value = f"<h3>{_escape(self.title)}</h3>"
            children = [self._heading, *children]
        self.widget.children = children
        close_replaced(old_tree, children, held_widgets(self))


def widget_tree(roots: Iterable[widgets.Widget]) -> list[widgets.Widget]:
    """``roots`` and every widget they refer to, each once: what a page showing them holds.

    Follows the synced traits of each widget (a box's ``children``, ``layout``, ``style``...),
    so the ``Layout`` and ``Style`` models come with their widget: ``Widget.close()`` of
    ipywidgets 8.1 closes the widget's own model only.

    Examples
    --------
    >>> import ipywidgets as widgets
    >>> [type(w).__name__ for w in widget_tree([widgets.VBox([widgets.HTML("a")])])]
    ['VBox', 'HTML', 'Layout', 'HTMLStyle', 'Layout']
    """
    out: dict[int, widgets.Widget] = {}
    todo = list(roots)[::-1]
    while todo:
        w = todo.pop()
        if id(w) in out:
            continue
        out[id(w)] = w
        refs: list[widgets.Widget] = []
        for name in w.keys:
            value = getattr(w, name, None)
            items = value if isinstance(value, (list, tuple)) else (value,)
            refs.extend(v for v in items if isinstance(v, widgets.Widget))
        todo.extend(reversed(refs))
    return list(out.values())


def held_widgets(owner: object, depth: int = 2) -> list[widgets.Widget]:
    """The widgets ``owner`` keeps for reuse: held in an attribute, directly or in a list,
    tuple, set or dict, or so by a helper object it holds (``depth`` levels of attributes:
    2 reaches a panel's :class:`~workbench.presentation.widgets.export.CsvExport` widgets and
    the widgets of a panel it shares, such as the customer view's CLV panel).

    Examples
    --------
    >>> import ipywidgets as widgets
    >>> class Holder:
    ...     def __init__(self):
    ...         self.table = widgets.HTML()
    ...         self.tiles = {"a": widgets.HTML(), "b": widgets.HTML()}
    ...         self.title = "not a widget"
    >>> len(held_widgets(Holder()))
    3
    """
    out: dict[int, widgets.Widget] = {}
    seen: set[int] = set()

    def walk(value: object, depth: int) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, widgets.Widget):
            out[id(value)] = value
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                walk(item, depth)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item, depth)
        elif depth > 0 and not isinstance(value, type):
            attributes = getattr(value, "__dict__", None)
            if isinstance(attributes, dict):
                for item in attributes.values():
                    walk(item, depth - 1)

    walk(owner, depth)
    return list(out.values())


def close_replaced(old: Iterable[widgets.Widget], new: Iterable[widgets.Widget],
                   keep: Iterable[widgets.Widget] = ()) -> list[widgets.Widget]:
    """Close the widgets ``old`` showed that ``new`` does not show; returns the closed ones.

    Walks both with :func:`widget_tree` (children, layouts and styles).  Spared: the trees of
    ``new`` and of ``keep`` (widgets kept for reuse, :func:`held_widgets`), and any widget
    that an open box outside ``old`` still shows (a widget shown elsewhere too).  A closed
    widget leaves the kernel's registry of models and the browser drops its views.

    Examples
    --------
    >>> import ipywidgets as widgets
    >>> kept, reused, gone = widgets.HTML("kept"), widgets.HTML("reused"), widgets.HTML("gone")
    >>> old = [widgets.VBox([kept, gone, reused])]
    >>> closed = close_replaced(old, [widgets.VBox([kept])], keep=[reused])
    >>> [type(w).__name__ for w in closed]  # the old box, gone, and their layout and style
    ['VBox', 'HTML', 'Layout', 'HTMLStyle', 'Layout']
    >>> gone.comm is None, kept.comm is None, reused.comm is None
    (True, False, False)
    """
    spared = {id(w) for w in widget_tree([*new, *keep])}
    doomed = {id(w): w for w in widget_tree(old)
              if id(w) not in spared and w.comm is not None}
    # a widget also shown by an open box outside ``old`` stays, with everything under it
    elsewhere = [ref for w in list(_instances.values()) if id(w) not in doomed
                 for ref in (*getattr(w, "children", ()), getattr(w, "layout", None),
                             getattr(w, "style", None))
                 if isinstance(ref, widgets.Widget) and id(ref) in doomed]
    for w in widget_tree(elsewhere):
        doomed.pop(id(w), None)
    for w in doomed.values():
        w.close()
    return list(doomed.values())

def localized(chart: alt.TopLevelSpec) -> alt.TopLevelSpec:
    """``chart`` with the dashboard's number locale
    (:func:`workbench.presentation.formatting.current`).

    Sets the Vega-Lite ``config.locale``: d3 formats with ``$`` show the project's currency
    symbol where the locale puts it, and grouping and decimal marks follow the locale.

    Examples
    --------
    >>> import altair as alt
    >>> from workbench.presentation.formatting import use_formats
    >>> _ = use_formats("EUR", "de_DE")
    >>> localized(alt.Chart().mark_bar()).to_dict()["config"]["locale"]["number"]["decimal"]
    ','
    >>> _ = use_formats()
    """
    from workbench.presentation.formatting import current

    out = chart.copy(deep=["config"])
    import altair as alt

    if out.config is alt.Undefined:
        out.config = alt.Config()
    out.config["locale"] = current().vega_locale()
    return out


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
