"""The customer view: one customer's purchases, segment over time, P(alive) over time and
predicted lifetime value with its drivers.

Type a customer id and press "Show" (or call :meth:`CustomerView.show`).  Everything comes
from the current selection of the dashboard (as-of date and filter):

* purchase history: the customer's orders (:func:`workbench.core.prepare.prepare_orders`, net of
  returns) up to the as-of date, newest first;
* segment over time: :func:`workbench.analyses.migration.segment_history` at the last
  :data:`SEGMENT_MONTHS` month ends up to the as-of date (segments are relative to all
  customers, so this is computed once per selection);
* P(alive) over time: the purchase model of the Lifetime value tab when it has one that gives
  P(alive) (its fit is shared through the state's cache), else a BG/NBD model
  (:class:`workbench.models.clv.BetaGeoModel`) fitted on the selection's summary; P(alive) at each
  month end from the customer's summary at that date (the model as fitted at the as-of date);
* predicted CLV and its drivers (frequency, recency, T, average spend, P(alive), expected
  purchases) from the Lifetime value tab's fit (:meth:`ClvPanel.fit`) when that tab has
  chosen its model, else a BG/NBD + Gamma-Gamma fit with the tab's settings (the fit the tab
  itself uses when BG/NBD is its choice) (:func:`clv_fit`); the CLV and the expected
  purchases with their interval (the uncertainty of the fitted parameters, not the
  customer's own randomness; :func:`workbench.models.clv.uncertainty.clv_table_intervals`).

An id not in the selection gives a plain sentence.  Stable CSS classes: ``wb-customer``
(the panel), ``wb-customer-id`` (the text box), ``wb-customer-show`` (the button),
``wb-customer-history`` (the table, ``data-rows`` holds its row count),
``wb-customer-drivers``, ``wb-customer-message``, and the charts ``wb-chart-customer-segments``
and ``wb-chart-customer-alive``.
"""

from __future__ import annotations

import datetime as dt
import html
from functools import partial
from typing import TYPE_CHECKING, cast

import ipywidgets as widgets
import polars as pl

from workbench.core import schema
from workbench.presentation.widgets.panel import Panel, error_html, no_purchase_notice, notice_html
from workbench.presentation.widgets.state import DashboardState

if TYPE_CHECKING:
    import altair as alt

    from workbench.core.summary import Unit
    from workbench.presentation.widgets.clv_panel import ClvPanel

_CID = schema.CUSTOMER_ID
_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}
#: Month ends of the segment history (segments of every customer at each: about 0.2 s each).
SEGMENT_MONTHS = 12


def customer_orders(state: DashboardState, customer_id: str) -> pl.DataFrame:
    """The customer's orders up to the as-of date, newest first (the history table's rows)."""
    return (state.orders.filter(pl.col(_CID).cast(pl.String) == customer_id)
            .sort([schema.ORDER_DATE, "order_id"], descending=[True, True]))


def month_end_dates(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month ends from ``first``'s month to ``last``, plus ``last`` when it is not one.

    Examples
    --------
    >>> month_end_dates(dt.date(2024, 1, 20), dt.date(2024, 3, 15))
    [datetime.date(2024, 1, 31), datetime.date(2024, 2, 29), datetime.date(2024, 3, 15)]
    """
    from workbench.presentation.widgets.dashboard import month_ends

    ends = month_ends(first, last)
    return ends if ends and ends[-1] == last else [*ends, last]


def segment_over_time(state: DashboardState, customer_id: str) -> pl.DataFrame:
    """The customer's segment at each month end (``as_of``, ``segment``), oldest first."""
    from workbench.analyses.migration import segment_history

    # asked for a customer with orders, so the Date column has a minimum
    first = cast(dt.date, state.orders[schema.ORDER_DATE].min())
    dates = month_end_dates(first, state.as_of)[-SEGMENT_MONTHS:]
    history = state.cached("segment_history", lambda: segment_history(
        state.transactions, dates, unit=state.unit, rules=state.rules))
    return (history.filter(pl.col(_CID).cast(pl.String) == customer_id)
            .select("as_of", "segment").sort("as_of"))


def clv_fit(state: DashboardState, clv_panel: ClvPanel | None):
    """The CLV fit behind the customer view (cached on the state), or ``None`` without a panel.

    The Lifetime value tab's fit when its model is set or already chosen (its comparison is
    cached); else BG/NBD with the tab's settings, cached under the key the tab uses for a
    BG/NBD fit (so the tab reuses it when BG/NBD is its choice).
    """
    if clv_panel is None:
        return None
    comparison_key = f"clv_comparison:{clv_panel.candidates}"
    if clv_panel.model or comparison_key in state.extras:
        return clv_panel.fit(state)
    return clv_panel.fit_for(state, "bgnbd")


def alive_model(state: DashboardState, clv_panel: ClvPanel | None = None):
    """A fitted purchase model with P(alive) and its name.

    The model of :func:`clv_fit` when it gives P(alive) (not the NBD, which has no drop-out);
    else BG/NBD fitted on the selection's summary (cached on the state).
    """
    fit = clv_fit(state, clv_panel)
    if fit is not None and fit.model != "nbd" and hasattr(fit.purchase_model, "p_alive_array"):
        return fit.purchase_model, fit.model
    from workbench.models.clv import BetaGeoModel

    return state.cached("customer_view_bgnbd",
                        lambda: BetaGeoModel().fit(state.summary)), "bgnbd"


def p_alive_over_time(state: DashboardState, customer_id: str, model) -> pl.DataFrame:
    """P(alive) of the customer at each month end from the first purchase to the as-of date.

    The customer's summary (frequency, recency, T in the state's unit) at each date, scored
    with ``model``.  Returns ``as_of``, ``frequency``, ``recency``, ``T``, ``p_alive``.
    """
    import numpy as np

    from workbench.core.summary import customer_summary

    tx = state.transactions.filter(pl.col(_CID).cast(pl.String) == customer_id)
    orders = customer_orders(state, customer_id)
    if orders.height == 0:
        return pl.DataFrame(schema={"as_of": pl.Date, "frequency": pl.Int64,
                                    "recency": pl.Float64, "T": pl.Float64,
                                    "p_alive": pl.Float64})
    first = cast(dt.date, orders[schema.ORDER_DATE].min())  # a Date column with rows
    rows = []
    for d in month_end_dates(first, state.as_of):
        # the unit is checked by customer_summary (a clear error when not D, W or M)
        s = customer_summary(tx, d, cast("Unit", state.unit), allow_empty=True)
        if s.height:
            r = s.row(0, named=True)
            rows.append({"as_of": d, "frequency": int(r["frequency"]),
                         "recency": float(r["recency"]), "T": float(r["T"])})
    out = pl.DataFrame(rows, schema={"as_of": pl.Date, "frequency": pl.Int64,
                                     "recency": pl.Float64, "T": pl.Float64})
    p = model.p_alive_array(out["frequency"].to_numpy().astype(float),
                            out["recency"].to_numpy(), out["T"].to_numpy())
    return out.with_columns(pl.Series("p_alive", np.asarray(p, dtype=float)))


def segment_timeline_chart(history: pl.DataFrame, width: int = 340) -> alt.Chart:
    """The customer's segment at each month end: one point per date, coloured by segment."""
    import altair as alt

    from workbench.presentation.charts import segment_order, segment_scale

    order = segment_order(history["segment"].unique().to_list())
    base = alt.Chart(history).encode(
        x=alt.X("as_of:T", title="Month end", axis=alt.Axis(format="%b %Y", labelAngle=-40)),
        y=alt.Y("segment:N", sort=order, title=None),
        tooltip=[alt.Tooltip("as_of:T", title="As of", format="%d %b %Y"),
                 alt.Tooltip("segment:N", title="Segment")])
    line = base.mark_line(color="#d1d5db", interpolate="step-after")
    points = base.mark_point(filled=True, size=60).encode(
        color=alt.Color("segment:N", scale=segment_scale(order), legend=None))
    return (line + points).properties(width=width, height=max(60, 24 * len(order)),
                                      title="Segment at each month end")


def p_alive_chart(alive: pl.DataFrame, width: int = 340) -> alt.Chart:
    """P(alive) at each month end, with the customer's history behind it in the tooltip."""
    import altair as alt

    return alt.Chart(alive).mark_line(point=True, color="#1d4ed8").encode(
        x=alt.X("as_of:T", title="Month end", axis=alt.Axis(format="%b %Y", labelAngle=-40)),
        y=alt.Y("p_alive:Q", title="P(alive)", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("as_of:T", title="As of", format="%d %b %Y"),
                 alt.Tooltip("p_alive:Q", title="P(alive)", format=".1%"),
                 alt.Tooltip("frequency:Q", title="Repeat purchases"),
                 alt.Tooltip("recency:Q", title="Age at last purchase", format=".1f"),
                 alt.Tooltip("T:Q", title="Age", format=".1f")],
    ).properties(width=width, height=160,
                 title="P(alive): probability that the customer still buys")


class CustomerView(Panel):
    """Look up one customer: history, segment over time, P(alive) over time, CLV drivers.

    Parameters
    ----------
    clv_panel
        The dashboard's :class:`~workbench.presentation.widgets.clv_panel.ClvPanel`, whose fit
        (cached on the state) gives the predicted CLV and P(alive); ``None``: a BG/NBD fit of its
        own.

    Attributes
    ----------
    id_box, show_button
        The text box (``wb-customer-id``) and button (``wb-customer-show``).
    customer_id
        The customer shown, or ``None``.
    history_rows
        Rows of the last history table shown.

    Examples
    --------
    Customer C1 of the demo data (:mod:`workbench.presentation.widgets.demo`) ordered 100, 50
    and 80 on 15 Jan, 10 Mar and 20 Jun 2024:

    >>> import datetime as dt
    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> view = CustomerView()  # with its own BG/NBD fit; in a dashboard, CustomerView(clv_panel)
    >>> view.update(DashboardState(demo_dataset(), dt.date(2024, 6, 28)))
    >>> view.show("C1")
    >>> view.history_rows
    3
    >>> "3 orders from 15 Jan 2024 to 20 Jun 2024 · $230 net" in view.body.children[0].value
    True
    """

    title = "Customer view"
    css_class = "wb-customer"

    def __init__(self, clv_panel: ClvPanel | None = None) -> None:
        super().__init__()
        self.clv_panel = clv_panel
        self.state: DashboardState | None = None
        self.customer_id: str | None = None
        self.history_rows = 0
        self.id_box = widgets.Text(placeholder="Customer id", description="Customer",
                                   continuous_update=False,
                                   layout=widgets.Layout(width="240px"))
        self.id_box.add_class("wb-customer-id")
        self.show_button = widgets.Button(description="Show", button_style="primary",
                                          layout=widgets.Layout(width="auto"))
        self.show_button.add_class("wb-customer-show")
        self.show_button.on_click(lambda _: self.show(self.id_box.value))
        self.id_box.observe(lambda c: self.show(c["new"]) if c["new"] else None, names="value")
        self.form = widgets.HBox([self.id_box, self.show_button],
                                 layout=widgets.Layout(flex_flow="row wrap"))
        self.form.add_class("wb-customer-form")
        self.body = widgets.VBox()
        self.body.add_class("wb-customer-body")

    def show(self, customer_id: str) -> None:
        """Show ``customer_id`` (stripped) for the current selection."""
        self.customer_id = (customer_id or "").strip() or None
        if self.id_box.value != (self.customer_id or ""):
            self.id_box.value = self.customer_id or ""
        if self.state is not None:
            self.update(self.state)

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        if (empty := no_purchase_notice(state)) is not None:
            return empty
        self.state = state
        if not self.customer_id:
            self.body.children = [widgets.HTML(
                "<div class='wb-caption'>Enter a customer id to see the customer's purchases, "
                "segment and P(alive) over time and predicted lifetime value.</div>")]
            return [self.form, self.body]
        self.show_button.disabled = True
        try:
            self.body.children = self._customer(state, self.customer_id)
        except Exception as exc:  # noqa: BLE001 - a message in place of the view
            self.body.children = [widgets.HTML(error_html(exc))]
        finally:
            self.show_button.disabled = False
        return [self.form, self.body]

    def _customer(self, state: DashboardState, cid: str) -> list[widgets.Widget]:
        orders = customer_orders(state, cid)
        if orders.height == 0:
            known = state.data.transactions[_CID].cast(pl.String).eq(cid).any()
            why = ("has no purchase in this selection (as-of date and filter)" if known
                   else "is not in the data")
            self.history_rows = 0
            msg = widgets.HTML(notice_html(f"Customer {cid} {why}",
                                           "wb-empty wb-notice wb-customer-message"))
            return [msg]
        f = state.formats
        self.history_rows = orders.height
        total = float(orders[schema.AMOUNT].sum())
        # a Date column with rows: its bounds are dates (Polars types them as any scalar)
        first = cast(dt.date, orders[schema.ORDER_DATE].min())
        last = cast(dt.date, orders[schema.ORDER_DATE].max())
        head = widgets.HTML(
            f"<div class='wb-caption wb-customer-summary'>Customer <b>{html.escape(cid)}</b> · "
            f"{orders.height:,} orders from {first:%d %b %Y} to "
            f"{last:%d %b %Y} · {html.escape(f.money(total))} net "
            f"revenue to {state.as_of:%d %b %Y}</div>")
        rows = "".join(
            f"<tr><td>{r[schema.ORDER_DATE]:%Y-%m-%d}</td><td>{html.escape(str(r['order_id']))}"
            f"</td><td>{html.escape(f.money(r[schema.AMOUNT], compact=False))}</td>"
            f"<td>{r['lines']}</td><td>{'yes' if r.get('returned') else ''}</td></tr>"
            for r in orders.iter_rows(named=True))
        history = widgets.HTML(
            f"<div class='wb-caption'>Purchase history (orders net of returns, newest first)"
            f"</div><div class='wb-scroll wb-customer-history-box'>"
            f"<table class='wb-table wb-customer-history' data-rows='{orders.height}'><thead>"
            "<tr><th>Date</th><th>Order</th><th>Amount</th><th>Lines</th><th>Returned</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></div>")
        children: list[widgets.Widget] = [head]
        segments = segment_over_time(state, cid)
        charts: list[widgets.Widget] = []
        if segments.height:
            charts.append(self.chart("customer-segments", segment_timeline_chart(segments)))
        drivers = widgets.HTML()
        drivers.add_class("wb-customer-drivers")
        try:
            model, model_name = alive_model(state, self.clv_panel)
            alive = p_alive_over_time(state, cid, model)
            charts.append(self.chart("customer-alive", p_alive_chart(alive)))
            drivers.value = self._drivers_html(state, cid, model_name)
        except Exception as exc:  # noqa: BLE001 - too few repeat customers for a model
            drivers.value = error_html(exc)
        row = widgets.HBox(charts, layout=widgets.Layout(flex_flow="row wrap",
                                                         align_items="flex-start"))
        row.add_class("wb-row")
        children += [drivers, row, history]
        return children

    def _drivers_html(self, state: DashboardState, cid: str, model_name: str) -> str:
        from workbench.presentation.widgets.clv_panel import _MODEL_NAMES

        f = state.formats
        unit = _UNIT_NAMES.get(state.unit, state.unit)
        name = _MODEL_NAMES.get(model_name, model_name)
        if self.clv_panel is None:
            return (f"<div class='wb-caption'>P(alive) from a {html.escape(name)} model fitted "
                    "on this selection.</div>")
        fit = clv_fit(state, self.clv_panel)
        row = fit.table.filter(pl.col(_CID).cast(pl.String) == cid)
        if row.height == 0:
            return ""
        r = row.row(0, named=True)
        horizon = f"{fit.horizon_periods} {_UNIT_NAMES.get(str(fit.period), 'periods')}"
        if fit.period == "M":
            horizon = f"{fit.horizon_periods} months"
        level = f"{self.clv_panel.interval_level:.0%}"

        def between(lo: float | None, hi: float | None, fmt) -> str:
            # the interval of the expectation (uncertainty of the parameters)
            return "" if lo is None or hi is None else f"; {level} interval {fmt(lo)}–{fmt(hi)}"

        money = partial(f.money, compact=False)
        two = partial(f.decimal, digits=2)
        items = [
            ("Predicted CLV", money(r["clv"]),
             f"margin over the next {horizon}, discounted"
             + between(r.get("clv_lower"), r.get("clv_upper"), money)),
            ("P(alive)", f.percent(r["p_alive"]), "probability the customer still buys"),
            ("Expected purchases", two(r["expected_purchases"]), f"next {horizon}"
             + between(r.get("expected_purchases_lower"), r.get("expected_purchases_upper"),
                       two)),
            ("Average spend", f.money(r["expected_spend"], compact=False),
             "per purchase, expected" + (" (population mean: one purchase only)"
                                         if r["spend_basis"] == "population" else "")),
            ("Frequency", f.integer(r["frequency"]), "repeat purchases"),
            ("Recency", f.decimal(r["recency"], 1), f"{unit} from first to last purchase"),
            ("T", f.decimal(r["T"], 1), f"{unit} since the first purchase"),
            ("Revenue to date", f.money(r["historical_value"], compact=False), "net"),
        ]
        cells = "".join(
            f"<div class='wb-driver'><div class='wb-kpi-label'>{html.escape(k)}</div>"
            f"<div class='wb-driver-value'>{html.escape(v)}</div>"
            f"<div class='wb-kpi-note'>{html.escape(n)}</div></div>" for k, v, n in items)
        return (f"<div class='wb-drivers'>{cells}</div><div class='wb-caption'>"
                f"{html.escape(name)} and Gamma-Gamma fitted on this selection; P(alive) "
                f"over time scores the customer's history at each month end with the model "
                f"fitted at {state.as_of:%d %b %Y}.</div>")
