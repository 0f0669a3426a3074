"""Dashboard panels of the RFM family: segments, Pareto concentration, segment migration.

Each follows the :class:`~workbench.presentation.widgets.panel.Panel` protocol: ``render(state)``
asks the state for frames (computed by the package's pure functions, cached per as-of date and
filter), draws them with :mod:`workbench.presentation.charts` and returns the widgets to show.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import SupportsFloat, SupportsInt, cast

import ipywidgets as widgets
import polars as pl

from workbench.presentation.formatting import NumberFormats
from workbench.presentation.widgets.panel import Panel, no_purchase_notice, notice_html
from workbench.presentation.widgets.state import DashboardState

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
.wb-scroll { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
.wb-export { gap: 8px; margin: 6px 0; }
.wb-download-link { font-size: 12.5px; color: #1d4ed8; }
"""
#: The table styles, put in front of a table's HTML (a string: no widget per redraw).
TABLE_STYLE = f"<style>{TABLE_CSS}</style>"


def html_table(frame: pl.DataFrame, columns: Mapping[str, str],
               formats: Mapping[str, Callable[[object], str]] | None = None,
               css_class: str = "wb-table", *, numbers: NumberFormats | None = None) -> str:
    """A small HTML table of ``frame``: ``columns`` maps column names to headings.

    ``formats`` maps a column to a function returning the cell's HTML (escape it yourself);
    other cells are escaped text, numbers in the locale of ``numbers`` (default
    :func:`workbench.presentation.formatting.current`) with thousands separators.

    Examples
    --------
    >>> import polars as pl
    >>> "<td>1,500</td>" in html_table(pl.DataFrame({"a": [1500]}), {"a": "A"})
    True
    """
    from workbench.presentation.formatting import current

    formats = dict(formats or {})
    if numbers is None:
        numbers = current()

    def cell(col: str, v: object) -> str:
        if col in formats:
            return formats[col](v)
        if v is None:
            return "–"
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, int):
            return numbers.integer(v)
        if isinstance(v, float):
            return numbers.decimal(v, 2)
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in columns.values())
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(c, row[c])}</td>" for c in columns) + "</tr>"
        for row in frame.select(list(columns)).iter_rows(named=True))
    return (f"<div class='wb-scroll'><table class='{css_class}'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def _signed(v: object, f: NumberFormats | None = None) -> str:
    """A signed count in the locale of ``f`` (default: the running dashboard's formats,
    :func:`workbench.presentation.formatting.current`).

    Examples
    --------
    >>> _signed(1500), _signed(-3, NumberFormats("EUR", "de_DE")), _signed(0), _signed(None)
    ('+1,500', '-3', '0', '–')
    """
    from workbench.presentation.formatting import current

    if v is None:
        return "–"
    n = int(cast(SupportsInt, v))
    if not n:
        return "0"
    text = (f if f is not None else current()).integer(n)
    return text if n < 0 else "+" + text


def _migration_table(summary: pl.DataFrame, f: NumberFormats) -> str:
    """The per-segment table of :func:`workbench.analyses.migration.migration_summary`, in the
    locale of ``f``.

    The share change is in percentage points (:meth:`NumberFormats.points`); neutral on
    purpose: a larger share is good news for Champions, bad news for At Risk.
    """
    def share(v: object) -> str:
        return f.percent(None if v is None else float(cast(SupportsFloat, v)))

    def points(v: object) -> str:
        return f.points(None if v is None else float(cast(SupportsFloat, v)))

    return html_table(summary, {"segment": "Segment", "start": "Before", "end": "Now",
                                "added": "Added", "dropped": "Dropped",
                                "share_end": "Share now", "share_change": "Change"},
                      {"added": lambda v: _signed(v, f),
                       "dropped": lambda v: _signed(-int(cast(SupportsInt, v or 0)), f),
                       "share_end": share, "share_change": points}, numbers=f)


def _date(d) -> str:
    return f"{d:%d %b %Y}"


def _row(*children: widgets.Widget) -> widgets.HBox:
    box = widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap",
                                                             align_items="flex-start"))
    box.add_class("wb-row")
    return box




#: The no-purchase check of every panel (kept under its old name for other panels).
_empty = no_purchase_notice


class SegmentsPanel(Panel):
    """Segment distribution (customer share beside revenue share) and the R x F grid, with a
    CSV download of any segment's members.

    Attributes
    ----------
    segment_choice
        The segment whose members :attr:`export` downloads (class ``wb-segment-choice``).
    export
        :class:`~workbench.presentation.widgets.export.CsvExport` of the chosen segment's members
        (:func:`segment_members`).

    Examples
    --------
    On the demo data (:mod:`workbench.presentation.widgets.demo`: four customers, all of whom
    bought by 28 Jun 2024):

    >>> import datetime as dt
    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> state = DashboardState(demo_dataset(), dt.date(2024, 6, 28))
    >>> panel = SegmentsPanel()
    >>> panel.update(state)
    >>> panel.widget.children[0].value
    '<h3>Customer segments</h3>'
    >>> segment_members(state).height  # the members of all segments
    4
    """

    title = "Customer segments"
    css_class = "wb-segments"

    def __init__(self) -> None:
        super().__init__()
        from workbench.presentation.widgets.export import CsvExport

        self.state: DashboardState | None = None
        self.segment_choice = widgets.Dropdown(description="Members of",
                                               style={"description_width": "initial"},
                                               layout=widgets.Layout(width="auto"))
        self.segment_choice.add_class("wb-segment-choice")
        self.export = CsvExport("customers", self._members, self._members_name,
                                "wb-export-segment")
        self.segment_choice.observe(lambda _: self.export.reset(), names="value")
        self.export_row = _row(self.segment_choice, self.export.widget)

    # The export button is shown only by render, which sets the state first.
    def _members(self) -> pl.DataFrame:
        assert self.state is not None
        return segment_members(self.state, self.segment_choice.value)

    def _members_name(self) -> str:
        assert self.state is not None
        return f"segment {self.segment_choice.value} {self.state.as_of:%Y-%m-%d}"

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        from workbench.presentation.charts import rf_heatmap, segment_chart, segment_order

        if (empty := _empty(state)) is not None:
            return empty
        self.state = state
        table = state.cached("segment_table", lambda: _segment_table(state))
        cells = state.cached("rf_cells", lambda: _cell_counts(state))
        names = segment_order(table["segment"].to_list())
        keep = self.segment_choice.value if self.segment_choice.value in names else names[0]
        self.segment_choice.options = names
        self.segment_choice.value = keep
        self.export.reset()
        customers = state.formats.count(state.customer_count, "customer")
        sub = f"As of {_date(state.as_of)} · {customers}"
        info = widgets.HTML(
            "<div class='wb-caption'>Customers: everyone who bought by the as-of date, by RFM "
            "segment; revenue: their net revenue to date.</div>")
        return [info, _row(self.chart("segments", segment_chart(table, subtitle=sub,
                                                                 width=380)),
                           self.chart("rf", rf_heatmap(cells, size=230))), self.export_row]


def _segment_table(state: DashboardState) -> pl.DataFrame:
    from workbench.analyses.rfm import segment_table

    return segment_table(state.segments, state.summary)


def _cell_counts(state: DashboardState) -> pl.DataFrame:
    from workbench.analyses.rfm import cell_counts

    return cell_counts(state.segments)


def segment_members(state: DashboardState, segment: str | None = None) -> pl.DataFrame:
    """The customers of ``segment`` (all when ``None``) at the state's as-of date.

    Returns ``customer_id``, ``segment``, ``rfm_code``, ``purchases``, ``revenue_to_date``,
    ``first_purchase``, ``last_purchase``, ``days_since_last``, sorted by revenue (largest
    first) and id.
    """
    seg = state.segments
    if segment is not None:
        seg = seg.filter(pl.col("segment") == segment)
    return (
        seg.select("customer_id", "segment", "rfm_code")
        .join(state.summary.select("customer_id", pl.col("n_purchases").alias("purchases"),
                                   pl.col("total_spend").alias("revenue_to_date"),
                                   "first_purchase", "last_purchase", "days_since_last"),
              on="customer_id", how="left")
        .sort(["revenue_to_date", "customer_id"], descending=[True, False], nulls_last=True)
    )


class ParetoPanel(Panel):
    """Concentration of revenue: the Lorenz curve with the top-20 % marker and a share table.

    Examples
    --------
    On the demo data (:mod:`workbench.presentation.widgets.demo`), the 12 months to 28 Jun
    2024 hold all orders: C1 230, C3 200, C2 50, C4 25; the top 20 % of 4 customers
    (ceil(0.8) = 1 customer, :func:`workbench.analyses.pareto.top_share`) hold 230 / 505 =
    45.5 % of the revenue:

    >>> import datetime as dt
    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> state = DashboardState(demo_dataset(), dt.date(2024, 6, 28))
    >>> panel = ParetoPanel()
    >>> panel.update(state)
    >>> round(state.extras["top20"], 3)
    0.455
    """

    title = "Revenue concentration"
    css_class = "wb-pareto"

    def __init__(self) -> None:
        super().__init__()
        self.table = widgets.HTML()
        self.table.add_class("wb-pareto-table")

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        from workbench.analyses.pareto import gini, lorenz_curve, pareto_table, top_share
        from workbench.presentation.charts import lorenz_chart

        if (empty := _empty(state)) is not None:
            return empty
        # the KPI tile's definition (workbench.analyses.kpi.trailing_revenue): the same frame, the
        # same top-20 % share
        revenue = state.trailing_revenue
        window = f"the 12 months to {_date(state.as_of)}"
        if revenue.height == 0:
            return [widgets.HTML(notice_html(f"No purchases in {window}"))]
        curve = state.cached("lorenz", lambda: lorenz_curve(revenue))
        top = state.cached("top20", lambda: top_share(revenue, 0.2))
        shares = state.cached("pareto_table", lambda: pareto_table(revenue))
        g, f = gini(revenue), state.formats
        chart = lorenz_chart(curve, top_value_share=top, title="Cumulative share of revenue",
                             subtitle=f"Net revenue of {window}, "
                                      f"{f.count(revenue.height, 'customer')}",
                             width=360, height=360)
        self.table.value = (
            TABLE_STYLE
            + f"<div class='wb-caption'>Share of the net revenue of {window} held by the top "
              f"customers (the KPI tile's top-20 % share)</div>"
            + html_table(shares, {"top_customers_share": "Top customers", "customers": "Customers",
                                  "value_share": "Share of revenue"},
                         {"top_customers_share":
                              lambda v: f"{100 * float(cast(SupportsFloat, v)):g} %",
                          "value_share": lambda v: f.percent(
                              None if v is None else float(cast(SupportsFloat, v)))},
                         numbers=f)
            + f"<div class='wb-caption'>Gini coefficient: {f.decimal(g, 2)} (0 = all equal)</div>")
        return [_row(self.chart("lorenz", chart), self.table)]


class MigrationPanel(Panel):
    """Where customers moved between the previous and the current as-of date.

    A Sankey-style flow chart and, per segment, customers before and now, added, dropped and
    the change of share.  Set ``show_matrix=True`` to add the transition-matrix heatmap.

    Examples
    --------
    On the demo data (:mod:`workbench.presentation.widgets.demo`), 3 customers had bought by
    30 Mar 2024 (90 days before 28 Jun 2024) and 4 by 28 Jun:

    >>> import datetime as dt
    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> state = DashboardState(demo_dataset(), dt.date(2024, 6, 28))
    >>> panel = MigrationPanel()
    >>> panel.update(state)
    >>> moves = state.extras["migration_summary"]
    >>> int(moves["start"].sum()), int(moves["end"].sum())
    (3, 4)
    """

    title = "Segment migration"
    css_class = "wb-migration"

    def __init__(self, show_matrix: bool = False) -> None:
        super().__init__()
        from workbench.presentation.widgets.export import CsvExport

        self.show_matrix = show_matrix
        self.table = widgets.HTML()
        self.table.add_class("wb-migration-table")
        self.state: DashboardState | None = None
        style = {"description_width": "initial"}
        self.from_choice = widgets.Dropdown(description="Customers who moved from", style=style,
                                            layout=widgets.Layout(width="auto"))
        self.from_choice.add_class("wb-migration-from")
        self.to_choice = widgets.Dropdown(description="to", style=style,
                                          layout=widgets.Layout(width="auto"))
        self.to_choice.add_class("wb-migration-to")
        self.export = CsvExport("customers", self._cell, self._cell_name,
                                "wb-export-migration")
        for choice in (self.from_choice, self.to_choice):
            choice.observe(lambda _: self.export.reset(), names="value")
        self.export_row = _row(self.from_choice, self.to_choice, self.export.widget)

    # The export button is shown only by render, which sets the state first.
    def _cell(self) -> pl.DataFrame:
        assert self.state is not None
        return migration_cell(self.state, self.from_choice.value, self.to_choice.value)

    def _cell_name(self) -> str:
        assert self.state is not None
        return (f"migration {self.from_choice.value} to {self.to_choice.value} "
                f"{self.state.as_of:%Y-%m-%d}")

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        from workbench.analyses.migration import (
            migration_matrix,
            migration_summary,
            segment_migration,
        )
        from workbench.presentation.charts import (
            migration_flow_chart,
            migration_heatmap,
            segment_order,
        )

        if (empty := _empty(state)) is not None:
            return empty
        self.state = state
        moves = state.cached("migration", lambda: segment_migration(state.previous_segments,
                                                                    state.segments))
        matrix = state.cached("migration_matrix", lambda: migration_matrix(moves))
        summary = state.cached("migration_summary", lambda: migration_summary(moves))
        rank = {s: i for i, s in enumerate(segment_order(summary["segment"].to_list()))}
        summary = summary.sort(pl.col("segment").replace_strict(rank, return_dtype=pl.Int64))
        before, now = _date(state.previous_as_of), _date(state.as_of)
        changed, f = int(moves["changed"].sum()), state.formats
        flow = migration_flow_chart(
            matrix, from_label=before, to_label=now, width=560, height=420,
            title="Flows between segments",
            subtitle=f"{f.integer(changed)} of {f.count(moves.height, 'customer')} changed "
                     f"segment ({f.percent(changed / max(moves.height, 1), 0)})")
        self.table.value = (
            TABLE_STYLE + f"<div class='wb-caption'>Per segment, {before} → {now}</div>"
            + _migration_table(summary, f))
        largest = matrix.filter(pl.col("segment_from") != pl.col("segment_to")).sort(
            "customers", descending=True)
        froms = segment_order(matrix["segment_from"].unique().to_list())
        tos = segment_order(matrix["segment_to"].unique().to_list())
        if self.from_choice.value not in froms or self.to_choice.value not in tos:
            pick = largest.row(0, named=True) if largest.height else matrix.row(0, named=True)
            self.from_choice.options, self.to_choice.options = froms, tos
            self.from_choice.value, self.to_choice.value = pick["segment_from"], pick["segment_to"]
        else:
            keep = self.from_choice.value, self.to_choice.value
            self.from_choice.options, self.to_choice.options = froms, tos
            self.from_choice.value, self.to_choice.value = keep
        self.export.reset()
        children: list[widgets.Widget] = [_row(self.chart("flow", flow), self.table),
                                          self.export_row]
        if self.show_matrix:
            children.append(self.chart("matrix", migration_heatmap(matrix)))
        return children


def migration_cell(state: DashboardState, segment_from: str, segment_to: str) -> pl.DataFrame:
    """The customers who moved from ``segment_from`` (at the previous as-of date) to
    ``segment_to`` (at the as-of date): one cell of the migration matrix.

    Returns ``customer_id``, ``segment_before``, ``segment_now``, ``purchases``,
    ``revenue_to_date``, ``last_purchase``, sorted by revenue (largest first) and id.
    """
    from workbench.analyses.migration import segment_migration

    moves = state.cached("migration", lambda: segment_migration(state.previous_segments,
                                                                state.segments))
    cell = moves.filter((pl.col("segment_from") == segment_from)
                        & (pl.col("segment_to") == segment_to))
    return (
        cell.select("customer_id", pl.col("segment_from").alias("segment_before"),
                    pl.col("segment_to").alias("segment_now"))
        .join(state.summary.select("customer_id", pl.col("n_purchases").alias("purchases"),
                                   pl.col("total_spend").alias("revenue_to_date"),
                                   "last_purchase"), on="customer_id", how="left")
        .sort(["revenue_to_date", "customer_id"], descending=[True, False], nulls_last=True)
    )

