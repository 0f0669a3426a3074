"""Dashboard panel of the loyalty analysis: the type matrix, satisfaction zones, early warnings.

Follows :class:`~workbench.presentation.widgets.panel.Panel`: ``render(state)`` runs
:func:`workbench.analyses.loyalty.analyse_loyalty` once per state (cached through ``state.cached``,
so the as-of date and the customer filter of the dashboard apply) and draws its frames with
:mod:`workbench.presentation.charts.loyalty`.  Register it with the executive dashboard::

    from workbench.presentation.widgets.loyalty_panel import LoyaltyPanel
    dash.add_panel(LoyaltyPanel(), tab="Loyalty")

Stable CSS classes (for styling and browser tests): ``wb-loyalty`` (the panel),
``wb-loyalty-summary`` (the headline line), ``wb-loyalty-matrix`` (the matrix: chart and table),
``wb-loyalty-matrix-table``, ``wb-satisfaction-zones``, ``wb-loyalty-segments`` (NPS and
satisfaction per segment) and ``wb-early-warnings`` (the early-warning table).  Chart widgets
also carry ``wb-chart-loyalty-matrix`` and ``wb-chart-satisfaction-zones``.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import polars as pl

from workbench.errors import ModelError
from workbench.presentation.formatting import NumberFormats, current
from workbench.presentation.widgets.panel import (
    Panel,
    no_purchase_notice,
    notice_html,
    viewer_message,
)
from workbench.presentation.widgets.state import DashboardState

_CSS = """
.wb-loyalty-table { border-collapse: collapse; font-size: 12.5px; color: #1f2937;
  font-family: Inter, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif; }
.wb-loyalty-table th { text-align: right; font-weight: 600; color: #6b7280; padding: 4px 10px;
  border-bottom: 1px solid #e5e7eb; white-space: nowrap; }
.wb-loyalty-table td { text-align: right; padding: 3px 10px; border-bottom: 1px solid #f3f4f6; }
.wb-loyalty-table th:first-child, .wb-loyalty-table td:first-child { text-align: left; }
.wb-loyalty-table td.wb-reasons { text-align: left; white-space: normal; max-width: 520px; }
.wb-loyalty-caption { font-size: 12px; color: #6b7280; margin: 2px 0 6px; }
.wb-scroll { overflow-x: auto; max-width: 100%; }
"""


def _cell(v: object, f: NumberFormats) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f.integer(v)
    if isinstance(v, float):
        return f.decimal(v, 1)
    return html.escape(str(v))


def _table(frame: pl.DataFrame, columns: dict[str, str], css_class: str,
           pct: tuple[str, ...] = (), wide: tuple[str, ...] = (),
           money: tuple[str, ...] = (), f: NumberFormats | None = None) -> str:
    """An HTML table of ``frame`` in the locale of ``f`` (default :func:`current`)."""
    f = f if f is not None else current()
    head = "".join(f"<th>{html.escape(h)}</th>" for h in columns.values())
    rows = []
    for row in frame.select(list(columns)).iter_rows(named=True):
        cells = []
        for c in columns:
            v = row[c]
            if c in pct:
                text = f.percent(v)
            elif c in money:
                text = html.escape(f.money(v))
            else:
                text = _cell(v, f)
            cls = " class='wb-reasons'" if c in wide else ""
            cells.append(f"<td{cls}>{text}</td>")
        rows.append(f"<tr data-customer='{html.escape(str(row.get('customer_id', '')))}'>"
                    + "".join(cells) + "</tr>")
    return (f"<div class='wb-scroll'><table class='wb-loyalty-table {css_class}'><thead><tr>"
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _box(children: list[widgets.Widget], css_class: str) -> widgets.VBox:
    box = widgets.VBox(children)
    box.add_class(css_class)
    return box


class LoyaltyPanel(Panel):
    """Loyalty types (behaviour x attitude with counts and value), satisfaction zones and the
    early-warning list.

    Parameters
    ----------
    top_warnings
        Rows of the early-warning list (default 15).
    analysis_options
        Keyword arguments for :func:`workbench.analyses.loyalty.analyse_loyalty` (thresholds).

    Examples
    --------
    The demo data (:mod:`workbench.presentation.widgets.demo`) have four buyers and no
    surveys, so attitude is unknown for all of them:

    >>> import datetime as dt
    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> panel = LoyaltyPanel()
    >>> panel.update(DashboardState(demo_dataset(), dt.date(2024, 6, 28)))
    >>> "4 buyers" in panel.summary.value, "No survey data" in panel.summary.value
    (True, True)

    In a dashboard: ``dash.add_panel(panel, tab="Loyalty")``.
    """

    title = "Loyalty"
    css_class = "wb-loyalty"

    def __init__(self, top_warnings: int = 15, **analysis_options) -> None:
        super().__init__()
        self.top_warnings = top_warnings
        self.analysis_options = {"n_boot": 0, **analysis_options}
        self.summary = widgets.HTML()
        self.summary.add_class("wb-loyalty-summary")
        self.matrix_table = widgets.HTML()
        self.matrix_table.add_class("wb-loyalty-matrix-table")
        self.segments_table = widgets.HTML()
        self.segments_table.add_class("wb-loyalty-segments")
        self.warnings_table = widgets.HTML()
        self.warnings_table.add_class("wb-early-warnings")
        from workbench.presentation.widgets.export import CsvExport

        self.state: DashboardState | None = None
        self.export = CsvExport("customers", self._warning_list, self._warning_name,
                                "wb-export-warnings")

    # The export button is shown only by render, which sets the state first.
    def _warning_list(self) -> pl.DataFrame:
        assert self.state is not None
        return early_warning_list(self.analysis(self.state))

    def _warning_name(self) -> str:
        assert self.state is not None
        return f"early warnings {self.state.as_of:%Y-%m-%d}"

    def analysis(self, state: DashboardState):
        """The :class:`~workbench.analyses.loyalty.LoyaltyAnalysis` of ``state`` (cached on the
        state)."""
        from workbench.analyses.loyalty import (
            analyse_loyalty,
            choose_segments,
            purchase_model_inputs,
        )

        def compute():
            segments = choose_segments("rfm", segments=state.segments)
            # P(alive) and predicted CLV of the selection: warnings rank by future value; with
            # too few repeat customers for the models the analysis runs without them
            try:
                inputs = purchase_model_inputs(state.transactions, state.as_of, unit=state.unit)
            except ModelError as exc:
                state.extras["loyalty_model_note"] = viewer_message(exc)
                inputs = {}
            return analyse_loyalty(state.orders, state.as_of, surveys=state.surveys,
                                   customers=state.customers, segments=segments,
                                   **inputs, **self.analysis_options)

        return state.cached("loyalty_analysis", compute)

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        from workbench.analyses.kpi import period_nps
        from workbench.presentation.charts.loyalty import (
            loyalty_matrix_chart,
            satisfaction_zones_chart,
        )

        if (empty := no_purchase_notice(state)) is not None:
            return empty
        self.state = state
        self.export.reset()
        la, f = self.analysis(state), state.formats
        cov = la.coverage
        # the NPS tile's definition (workbench.analyses.kpi.period_nps): one NPS on the whole
        # dashboard
        nps = period_nps(state.surveys, state.as_of, state.period_days)
        days = state.period_days
        nps_text = (f"no survey answers in the last {days} days" if nps["nps"] is None else
                    f"NPS {nps['nps']:+.0f} of the surveys of the last {days} days (95 % CI "
                    f"{nps['nps_low']:+.0f} to {nps['nps_high']:+.0f}, n = {f.integer(nps['n'])})")
        li = la.loyalty_index.filter(pl.col("segment") == "All")
        li_val = li["I_l"].item() if li.height else None
        li_text = ("–" if li_val is None else
                   f"{f.decimal(li_val, 2)} ({f.decimal(1.3, 2)} = unchanged)")
        basis = "profit" if la.value_basis == "profit" else "revenue (no cost data)"
        self.summary.value = (
            f"<style>{_CSS}</style><div class='wb-loyalty-caption'>As of {la.as_of:%d %b %Y} · "
            f"{f.count(cov['customers'], 'buyer')} · attitude known for "
            f"{f.integer(cov['surveyed'])}, unknown for {f.integer(cov['unknown'])} (no survey) · "
            f"{nps_text} · loyalty index I_l {li_text} · "
            f"value = {basis} in the last {la.params['period_days']} days</div>")
        note = state.extras.get("loyalty_model_note")
        if note:
            self.summary.value += notice_html(
                f"Early warnings are ranked without P(alive): {note}", "wb-loyalty-caption")
        self.matrix_table.value = _table(
            la.matrix.with_columns(pl.col("dick_basu").alias("type")),
            {"type": "Type", "behaviour": "Repeat patronage", "attitude": "Attitude",
             "customers": "Customers", "customer_share": "Share", "value": "Value",
             "value_share": "Value share", "reciprocal": "Reciprocal"},
            "wb-matrix", pct=("customer_share", "value_share"), money=("value",), f=f)
        seg = la.segment_attitude
        self.segments_table.value = (
            "<div class='wb-loyalty-caption'>NPS and satisfaction per RFM segment, from each "
            "customer's latest answer to date (a wider base than the headline NPS; interval "
            "indicative below 30 answers)</div>"
            + _table(seg, {"segment": "Segment", "customers": "Customers",
                           "surveyed": "Surveyed", "nps": "NPS", "nps_low": "NPS low",
                           "nps_high": "NPS high", "mean_satisfaction_share":
                           "Satisfaction (share of max)", "zone_loss": "Loss zone"},
                     "wb-segment-nps", pct=("mean_satisfaction_share",), f=f))
        warn = la.warnings.head(self.top_warnings).with_columns(
            pl.col("warnings").list.join(", ").alias("triggers"))
        self.warnings_table.value = (
            f"<div class='wb-loyalty-caption'>Early warnings: "
            f"{f.count(la.warnings.height, 'customer')} changed their pattern (spend reduction, "
            f"fewer or irregular visits, lapsing); top "
            f"{warn.height} by value at stake</div>"
            + _table(warn, {"rank": "#", "customer_id": "Customer", "triggers": "Warnings",
                            "value_at_stake": "Value at stake", "reasons": "Why"},
                     "wb-warning-list", wide=("reasons",), money=("value_at_stake",), f=f))
        matrix_box = _box([self.chart("loyalty-matrix", loyalty_matrix_chart(
            la.matrix, value_label=la.value_basis, formats=f)), self.matrix_table],
            "wb-loyalty-matrix")
        if state.surveys is None:
            zones_box = _box([widgets.HTML(notice_html(
                "No survey data: attitude, satisfaction and NPS are unknown for every customer"
            ))], "wb-satisfaction-zones")
        else:
            zones = satisfaction_zones_chart(la.perceived)
            zones_box = _box([self.chart("satisfaction-zones", zones), self.segments_table],
                             "wb-satisfaction-zones")
        row = widgets.HBox([matrix_box, zones_box],
                           layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        row.add_class("wb-row")
        if state.surveys is None:
            self.summary.value += notice_html("No survey data: attitude is unknown for every "
                                              "customer", "wb-loyalty-caption wb-no-surveys")
        return [self.summary, row, self.warnings_table, self.export.widget]


def early_warning_list(analysis) -> pl.DataFrame:
    """Every early-warning customer of a :class:`~workbench.analyses.loyalty.LoyaltyAnalysis`,
    ranked.

    Returns ``rank``, ``customer_id``, ``warnings`` (joined with ``; ``), ``reasons``,
    ``value_at_stake``, ``value_source``, ``spend_last``, ``spend_prev``, ``recency_status``.
    """
    w = analysis.warnings
    cols = [c for c in ("rank", "customer_id", "warnings", "reasons", "value_at_stake",
                        "value_source", "spend_last", "spend_prev", "recency_status")
            if c in w.columns]
    return w.sort("rank").select(cols)
