"""Customer lookup and chart-linked tables for exploring in JupyterLab.

* :class:`CustomerLookup` -- a customer id in, the customer's summary row, RFM segment and
  orders out. The logic (:meth:`CustomerLookup.find`) is plain Python; :meth:`widget` is an
  ipywidgets view (a text box and three output areas).
* :func:`linked_table` -- an offline ``alt.JupyterChart`` whose point or interval selection
  filters a table shown below it (JupyterLab and Voilà only; reports use static charts).

Examples
--------
On the demo data (:mod:`workbench.presentation.widgets.demo`), where C1 ordered three times:

>>> import datetime as dt
>>> from workbench.presentation.widgets.demo import demo_dataset
>>> from workbench.presentation.widgets.state import DashboardState
>>> state = DashboardState(demo_dataset(), dt.date(2024, 6, 28))
>>> lookup = CustomerLookup(state.summary, segments=state.segments, orders=state.orders)
>>> record = lookup.find("C1")
>>> record.orders.height, record.segment == state.segments.row(0, named=True)["segment"]
(3, True)
>>> box = lookup.widget("C1")
>>> box.children[1].value.startswith("<b>C1</b>: ")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

#: Rows of a customer's orders shown by the widget (most recent first).
MAX_ORDERS = 50
#: Rows of a chart-linked table shown at once.
MAX_LINKED_ROWS = 200


@dataclass(frozen=True)
class CustomerRecord:
    """What :meth:`CustomerLookup.find` returns for one customer.

    Attributes
    ----------
    customer_id
        The id looked up, as the tables write it.
    summary
        The customer's summary row (one row; empty when not in the summary).
    segment
        The RFM segment, or ``None`` when no segments were given or the customer has none.
    scores
        The customer's row of the segments table (R, F, M, rfm_code...), possibly empty.
    orders
        The customer's orders, most recent first (empty without orders).
    """

    customer_id: str
    summary: pl.DataFrame
    segment: str | None
    scores: pl.DataFrame
    orders: pl.DataFrame

    @property
    def found(self) -> bool:
        """Whether the customer is in any of the tables."""
        return bool(self.summary.height or self.scores.height or self.orders.height)


class CustomerLookup:
    """Look customers up by id in a summary, a segments table and an orders table.

    Parameters
    ----------
    summary
        :func:`workbench.core.summary.customer_summary` output.
    segments
        :func:`workbench.analyses.rfm.rfm_segments` output (``customer_id``, ``segment``...),
        optional.
    orders
        Orders or transactions with ``customer_id`` and ``order_date``, optional.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"customer_id": ["a", "b"], "frequency": [2, 0]})
    >>> seg = pl.DataFrame({"customer_id": ["a"], "segment": ["Loyal"]})
    >>> CustomerLookup(s, seg).find(" a ").segment
    'Loyal'
    >>> CustomerLookup(s, seg).find("zz").found
    False
    """

    def __init__(
        self,
        summary: pl.DataFrame,
        segments: pl.DataFrame | None = None,
        orders: pl.DataFrame | None = None,
    ) -> None:
        self.summary = summary
        self.segments = segments
        self.orders = orders

    def _rows(self, frame: pl.DataFrame | None, customer_id: str) -> pl.DataFrame:
        if frame is None:
            return pl.DataFrame()
        column = frame["customer_id"]
        key: Any = customer_id
        if column.dtype.is_integer():
            try:
                key = int(customer_id)
            except ValueError:
                return frame.head(0)
        return frame.filter(pl.col("customer_id") == key)

    def find(self, customer_id: str | int) -> CustomerRecord:
        """The summary row, segment, scores and orders of one customer.

        Parameters
        ----------
        customer_id
            The id (surrounding spaces are ignored).
        """
        cid = str(customer_id).strip()
        scores = self._rows(self.segments, cid)
        segment = (
            scores["segment"][0] if scores.height and "segment" in scores.columns else None
        )
        orders = self._rows(self.orders, cid)
        if orders.height and "order_date" in orders.columns:
            orders = orders.sort("order_date", descending=True, maintain_order=True)
        return CustomerRecord(cid, self._rows(self.summary, cid), segment, scores, orders)

    def suggestions(self, prefix: str, limit: int = 10) -> list[str]:
        """Ids of the summary starting with ``prefix`` (sorted), for a typo-tolerant search.

        Examples
        --------
        >>> import polars as pl
        >>> CustomerLookup(pl.DataFrame({"customer_id": ["a1", "a2", "b"]})).suggestions("a")
        ['a1', 'a2']
        """
        ids = self.summary["customer_id"].cast(pl.String)
        found = ids.filter(ids.str.starts_with(prefix.strip())).sort()
        return found.head(limit).to_list()

    def widget(self, customer_id: str = "") -> Any:
        """An ipywidgets box: an id text box, and the customer's summary, segment and orders."""
        import html

        import ipywidgets as widgets

        box = widgets.Text(value=customer_id, description="Customer id", continuous_update=False)
        head = widgets.HTML()
        tables = widgets.HTML()

        def show(_: Any = None) -> None:
            if not box.value.strip():
                head.value, tables.value = "", ""
                return
            record = self.find(box.value)
            if not record.found:
                near = self.suggestions(box.value[:3])
                hint = f" (ids starting alike: {', '.join(near)})" if near else ""
                head.value = f"<b>No customer {html.escape(record.customer_id)}</b>{hint}"
                tables.value = ""
                return
            segment = html.escape(record.segment or "no segment")
            head.value = f"<b>{html.escape(record.customer_id)}</b>: {segment}"
            parts = [record.summary._repr_html_()]
            if record.scores.height:
                parts.append(record.scores._repr_html_())
            if record.orders.height:
                parts.append(record.orders.head(MAX_ORDERS)._repr_html_())
            tables.value = "".join(parts)

        box.observe(show, names="value")
        show()
        out = widgets.VBox([box, head, tables])
        out.add_class("wb-customer-lookup")
        return out


def selected_rows(
    frame: pl.DataFrame, selection: Any, fields: Sequence[str] | None = None
) -> pl.DataFrame:
    """The rows of ``frame`` a Vega-Lite selection picks (all rows when nothing is selected).

    Parameters
    ----------
    frame
        The chart's data.
    selection
        The value of an ``alt.JupyterChart`` selection: for a point selection a list of
        ``{field: value}`` dicts, for an interval selection a ``{field: [low, high]}`` dict;
        or an object with a ``value`` attribute holding one of those.
    fields
        Fields to filter on (default: those the selection names).

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"segment": ["A", "B", "C"], "n": [1, 5, 9]})
    >>> selected_rows(f, [{"segment": "B"}])["n"].to_list()
    [5]
    >>> selected_rows(f, {"n": [2, 9]})["segment"].to_list()
    ['B', 'C']
    >>> selected_rows(f, None).height
    3
    """
    value = getattr(selection, "value", selection)
    if not value:
        return frame
    if isinstance(value, dict):  # interval: field -> [low, high] (or a list of values)
        cond = pl.lit(True)
        for name, bounds in value.items():
            if (fields and name not in fields) or name not in frame.columns:
                continue
            if len(bounds) == 2 and all(isinstance(b, int | float) for b in bounds):
                lo, hi = sorted(bounds)
                cond &= pl.col(name).is_between(lo, hi)
            else:
                cond &= pl.col(name).is_in(list(bounds))
        return frame.filter(cond)
    cond = pl.lit(False)
    for point in value:  # point: a list of {field: value}
        match = pl.lit(True)
        for name, item in dict(point).items():
            if (fields and name not in fields) or name not in frame.columns:
                continue
            match &= pl.col(name) == item
        cond |= match
    return frame.filter(cond)


def linked_table(chart: Any, frame: pl.DataFrame, selection: str | None = None) -> Any:
    """An interactive chart above a table that shows the rows its selection picks.

    Parameters
    ----------
    chart
        An ``alt.Chart`` with a named selection parameter (``alt.selection_point(name="pick",
        fields=["segment"])`` or ``alt.selection_interval(name="brush")``).
    frame
        The rows to filter (usually the chart's data).
    selection
        The selection's name (default: the chart's first selection).

    Returns
    -------
    ipywidgets.VBox
        The offline ``alt.JupyterChart`` and an HTML table below it.

    Examples
    --------
    >>> import altair as alt
    >>> table = pl.DataFrame({"segment": ["Champions", "Lost"], "customers": [1, 3]})
    >>> pick = alt.selection_point(name="pick", fields=["segment"])
    >>> bars = alt.Chart(table).mark_bar().encode(x="customers", y="segment").add_params(pick)
    >>> box = linked_table(bars, table)
    >>> [type(w).__name__ for w in box.children]
    ['JupyterChart', 'HTML']

    Clicking a bar filters the table in JupyterLab or Voilà (it needs a browser).
    """
    import altair as alt
    import ipywidgets as widgets

    alt.JupyterChart.enable_offline(True)
    jchart = alt.JupyterChart(chart, embed_options={"renderer": "svg", "actions": False})
    names = list(jchart.selections.trait_names()) if hasattr(jchart, "selections") else []
    names = [n for n in names if not n.startswith("_") and n not in ("trait_values",)]
    name = selection or (names[0] if names else None)
    table = widgets.HTML(frame.head(MAX_LINKED_ROWS)._repr_html_())

    def redraw(change: Any) -> None:
        rows = selected_rows(frame, change["new"])
        table.value = rows.head(MAX_LINKED_ROWS)._repr_html_()

    if name is not None:
        jchart.selections.observe(redraw, [name])
    box = widgets.VBox([jchart, table])
    box.add_class("wb-linked-table")
    return box
