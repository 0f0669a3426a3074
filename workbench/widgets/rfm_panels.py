"""Dashboard panels of the RFM family: segments, Pareto concentration, segment migration.

Each follows the :class:`~workbench.widgets.panel.Panel` protocol: ``render(state)`` asks the
state for frames (computed by the package's pure functions, cached per as-of date and filter),
draws them with :mod:`workbench.charts` and returns the widgets to show.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import ipywidgets as widgets
import polars as pl

from workbench.widgets.panel import Panel, no_purchase_notice
from workbench.widgets.state import DashboardState

TABLE_CSS = """
.wb-table { border-collapse: collapse; font-size: 12.5px; color: #1f2937;
  font-family: Inter, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif; }
.wb-table th { text-align: right; font-weight: 600; color: #6b7280; padding: 4px 10px;
  border-bottom: 1px solid #e5e7eb; white-space: nowrap; }
.wb-table td { text-align: right; padding: 3px 10px; border-bottom: 1px solid #f3f4f6;
  white-space: nowrap; }
.wb-table th:first-child, .wb-table td:first-child { text-align: left; }
.wb-table .wb-good { color: #15803d; } .wb-table .wb-bad { color: #b91c1c; }
.wb-empty { color: #6b7280; padding: 16px 0; }
.wb-caption { font-size: 12px; color: #6b7280; margin: 2px 0 6px; }
"""


def html_table(frame: pl.DataFrame, columns: Mapping[str, str],
               formats: Mapping[str, Callable[[object], str]] | None = None,
               css_class: str = "wb-table") -> str:
    """A small HTML table of ``frame``: ``columns`` maps column names to headings.

    ``formats`` maps a column to a function returning the cell's HTML (escape it yourself);
    other cells are escaped text, numbers with thousands separators.

    Examples
    --------
    >>> import polars as pl
    >>> "<td>1,500</td>" in html_table(pl.DataFrame({"a": [1500]}), {"a": "A"})
    True
    """
    formats = dict(formats or {})

    def cell(col: str, v: object) -> str:
        if col in formats:
            return formats[col](v)
        if v is None:
            return "–"
        if isinstance(v, int):
            return f"{v:,}"
        if isinstance(v, float):
            return f"{v:,.2f}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in columns.values())
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(c, row[c])}</td>" for c in columns) + "</tr>"
        for row in frame.select(list(columns)).iter_rows(named=True))
    return (f"<table class='{css_class}'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _pct(v: object) -> str:
    return "–" if v is None else f"{100 * float(v):.1f} %"


def _pp(v: object) -> str:
    # Neutral on purpose: a larger share is good news for Champions, bad news for At Risk.
    return "–" if v is None else f"{100 * float(v):+.1f} pp"


def _signed(v: object) -> str:
    return "–" if v is None else f"{int(v):+,}" if v else "0"


def _date(d) -> str:
    return f"{d:%d %b %Y}"


def _row(*children: widgets.Widget) -> widgets.HBox:
    box = widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap",
                                                             align_items="flex-start"))
    box.add_class("wb-row")
    return box


def _style() -> widgets.HTML:
    return widgets.HTML(f"<style>{TABLE_CSS}</style>",
                        layout=widgets.Layout(height="0px", overflow="hidden"))


#: The no-purchase check of every panel (kept under its old name for other panels).
_empty = no_purchase_notice


class SegmentsPanel(Panel):
    """Segment distribution (customer share beside revenue share) and the R x F grid.

    Examples
    --------
    >>> panel = SegmentsPanel()
    >>> panel.update(state)  # doctest: +SKIP
    """

    title = "Customer segments"
    css_class = "wb-segments"

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        from workbench.charts import rf_heatmap, segment_chart
        from workbench.rfm import cell_counts, segment_table

        if (empty := _empty(state)) is not None:
            return empty
        table = state.cached("segment_table", lambda: segment_table(state.segments,
                                                                    state.summary))
        cells = state.cached("rf_cells", lambda: cell_counts(state.segments))
        sub = f"As of {_date(state.as_of)} · {state.summary.height:,} customers"
        return [_row(self.chart("segments", segment_chart(table, subtitle=sub, width=380)),
                     self.chart("rf", rf_heatmap(cells, size=230)))]


class ParetoPanel(Panel):
    """Concentration of revenue: the Lorenz curve with the top-20 % marker and a share table.

    Examples
    --------
    >>> panel = ParetoPanel()
    >>> panel.update(state)  # doctest: +SKIP
    """

    title = "Revenue concentration"
    css_class = "wb-pareto"

    def __init__(self) -> None:
        super().__init__()
        self.table = widgets.HTML()
        self.table.add_class("wb-pareto-table")

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        from workbench.charts import lorenz_chart
        from workbench.pareto import gini, lorenz_curve, pareto_table, top_share

        if (empty := _empty(state)) is not None:
            return empty
        summary = state.summary
        curve = state.cached("lorenz", lambda: lorenz_curve(summary))
        top = state.cached("top20", lambda: top_share(summary, 0.2))
        shares = state.cached("pareto_table", lambda: pareto_table(summary))
        g = gini(summary)
        chart = lorenz_chart(curve, top_value_share=top, title="Cumulative share of revenue",
                             subtitle=f"Revenue to date of all customers who bought by "
                                      f"{_date(state.as_of)}")
        self.table.value = (
            _style().value
            + "<div class='wb-caption'>Share of revenue to date held by the top customers</div>"
            + html_table(shares, {"top_customers_share": "Top customers", "customers": "Customers",
                                  "value_share": "Share of revenue"},
                         {"top_customers_share": lambda v: f"{100 * float(v):g} %",
                          "value_share": _pct})
            + f"<div class='wb-caption'>Gini coefficient: {g:.2f} (0 = all equal)</div>")
        return [_row(self.chart("lorenz", chart), self.table)]


class MigrationPanel(Panel):
    """Where customers moved between the previous and the current as-of date.

    A Sankey-style flow chart and, per segment, customers before and now, added, dropped and
    the change of share.  Set ``show_matrix=True`` to add the transition-matrix heatmap.

    Examples
    --------
    >>> panel = MigrationPanel()
    >>> panel.update(state)  # doctest: +SKIP
    """

    title = "Segment migration"
    css_class = "wb-migration"

    def __init__(self, show_matrix: bool = False) -> None:
        super().__init__()
        self.show_matrix = show_matrix
        self.table = widgets.HTML()
        self.table.add_class("wb-migration-table")

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        from workbench.charts import migration_flow_chart, migration_heatmap, segment_order
        from workbench.migration import migration_matrix, migration_summary, segment_migration

        if (empty := _empty(state)) is not None:
            return empty
        moves = state.cached("migration", lambda: segment_migration(state.previous_segments,
                                                                    state.segments))
        matrix = state.cached("migration_matrix", lambda: migration_matrix(moves))
        summary = state.cached("migration_summary", lambda: migration_summary(moves))
        rank = {s: i for i, s in enumerate(segment_order(summary["segment"].to_list()))}
        summary = summary.sort(pl.col("segment").replace_strict(rank, return_dtype=pl.Int64))
        before, now = _date(state.previous_as_of), _date(state.as_of)
        changed = int(moves["changed"].sum())
        flow = migration_flow_chart(
            matrix, from_label=before, to_label=now, width=560, height=420,
            title="Flows between segments",
            subtitle=f"{changed:,} of {moves.height:,} customers changed segment "
                     f"({changed / max(moves.height, 1):.0%})")
        self.table.value = (
            _style().value
            + f"<div class='wb-caption'>Per segment, {before} → {now}</div>"
            + html_table(summary, {"segment": "Segment", "start": "Before", "end": "Now",
                                   "added": "Added", "dropped": "Dropped",
                                   "share_end": "Share now", "share_change": "Change"},
                         {"added": _signed, "dropped": lambda v: _signed(-int(v or 0)),
                          "share_end": _pct, "share_change": _pp}))
        children: list[widgets.Widget] = [_row(self.chart("flow", flow), self.table)]
        if self.show_matrix:
            children.append(self.chart("matrix", migration_heatmap(matrix)))
        return children
