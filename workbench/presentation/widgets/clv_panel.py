"""Dashboard panel of customer lifetime value: totals, value by segment, distribution, at risk.

Follows :class:`~workbench.presentation.widgets.panel.Panel`: ``render(state)`` compares the
purchase models (BG/NBD, MBG/NBD, Pareto/NBD, NBD; :func:`workbench.models.clv.compare_models`,
lowest BIC unless a fit is degenerate) and fits the recommended one, or the one named by ``model``,
with Gamma-Gamma on the customer summary of the current selection (as-of date and customer
filter; :func:`workbench.models.clv.fit_clv` with ``intervals=True``, reusing the purchase model the
comparison fitted; cached per selection through ``state.cached`` and, for going back to an
earlier selection, per kernel, :func:`kernel_cached`); the CLV tile shows the interval of the
total (the parameter draws summed over customers per draw); it says
which model it uses and why, with the time-unit guidance and any degenerate-fit sentences
(``model.diagnosis``) in plain words; lists
the at-risk customers (:func:`workbench.models.clv.at_risk_customers`, P(alive) now against the
previous as-of date of the dashboard) and draws them with :mod:`workbench.presentation.charts.clv`.
Register it with the executive dashboard::

    from workbench.presentation.widgets.clv_panel import ClvPanel
    dash.add_panel(ClvPanel(), tab="Lifetime value")

Stable CSS classes (for styling and browser tests): ``wb-clv`` (the panel), ``wb-clv-totals``
(the tiles; each tile ``wb-clv-total-<id>`` with ``wb-kpi-value`` inside, ids ``clv``,
``historical``, ``purchases``, ``alive``), ``wb-clv-caption``, ``wb-clv-model`` (the model
choice: ``wb-clv-reason``, ``wb-clv-time-unit`` and one ``wb-clv-diagnosis`` per sentence),
``wb-at-risk`` (the at-risk table, its CLV with a 90 % interval) and the chart widgets
``wb-chart-clv-segments`` and ``wb-chart-clv-distribution``.
"""

from __future__ import annotations

import html
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import polars as pl

from workbench.errors import ModelError
from workbench.presentation.widgets.kpi_panel import format_value
from workbench.presentation.widgets.panel import Panel, notice_html, viewer_message
from workbench.presentation.widgets.rfm_panels import (
    TABLE_STYLE,
    _date,
    _empty,
    _row,
    html_table,
)
from workbench.presentation.widgets.state import DashboardState

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

_CSS = """
.wb-clv-totals { gap: 12px; flex-wrap: wrap; margin: 2px 0 8px; }
.wb-at-risk .wb-table td.wb-why { text-align: left; white-space: normal; min-width: 360px;
  max-width: 560px; color: #374151; }
.wb-at-risk .wb-table th:last-child { text-align: left; }
.wb-at-risk .wb-status-falling { color: #b91c1c; font-weight: 600; }
.wb-at-risk .wb-status-low { color: #c2410c; font-weight: 600; }
.wb-at-risk .wb-status-lapsed { color: #57534e; font-weight: 600; }
"""

#: Fits kept per kernel (a new selection makes a new state with an empty cache; going back
#: to an earlier selection reuses its fits from here).
_MEMO_SIZE = 16
_MEMO: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()


def kernel_cached(state: DashboardState, name: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per (data, as-of date, time unit, filter, ``name``) in this kernel.

    The CLV fits depend on the customer summary of the selection only, not on the
    comparison period or the segment rules; the last :data:`_MEMO_SIZE` results are kept.
    """
    filt = (state.filter_column, state.filter_value) if state.has_filter else None
    key = (id(state.data), state.as_of, state.unit, filt, name)
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is state.data:
        _MEMO.move_to_end(key)
        return hit[1]
    value = compute()
    _MEMO[key] = (state.data, value)
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return value


_PERIOD_NAMES = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}
_MODEL_NAMES = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "paretonbd": "Pareto/NBD",
                "nbd": "NBD (no drop-out)"}


def _tile(tile_id: str, label: str, value: float | None, fmt: str, note: str) -> str:
    raw = "" if value is None else f"{value:.6g}"
    return (f"<div class='wb-kpi-tile wb-clv-total-{tile_id}' title='{html.escape(label)}'>"
            f"<div class='wb-kpi-label'>{html.escape(label)}</div>"
            f"<div class='wb-kpi-value' data-value='{raw}'>{format_value(value, fmt)}</div>"
            f"<div class='wb-kpi-note'>{html.escape(note)}</div></div>")


class ClvPanel(Panel):
    """Predicted customer value of the selection, by segment, its distribution, and at risk.

    Parameters
    ----------
    horizon_periods, period
        CLV horizon: ``horizon_periods`` periods of ``period`` (default 12 months).
    annual_discount_rate
        Annual discount rate (default 10 %).
    margin
        Profit margin (share of revenue); ``None``: from the data's cost, else 30 %
        (:func:`workbench.models.clv.data_margin`).
    model
        Purchase model: ``None`` (default) for the recommended one
        (:func:`workbench.models.clv.compare_models` on the selection, by BIC), or ``"bgnbd"``,
        ``"mbgnbd"``, ``"paretonbd"``, ``"nbd"``.
    candidates
        The models compared.
    interval_level, interval_draws
        Coverage and parameter draws of the CLV intervals in the at-risk table
        (:func:`workbench.models.clv.clv_intervals`).
    top_at_risk
        Rows of the at-risk table.
    at_risk_options
        Keyword arguments for :func:`workbench.models.clv.at_risk_customers` (thresholds).

    Examples
    --------
    On the demo data (:mod:`workbench.presentation.widgets.demo`: four customers):

    >>> import datetime as dt
    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> panel = ClvPanel(horizon_periods=24, model="bgnbd")
    >>> panel.update(DashboardState(demo_dataset(), dt.date(2024, 6, 28)))
    >>> "As of 28 Jun 2024 · 4 customers · BG/NBD" in panel.widget.children[2].value
    True

    In a dashboard: ``dash.add_panel(panel, tab="Lifetime value")``.
    """

    title = "Customer lifetime value"
    css_class = "wb-clv"

    def __init__(self, horizon_periods: int = 12, period: str = "M",
                 annual_discount_rate: float = 0.10, margin: float | None = None,
                 model: str | None = None, top_at_risk: int = 10,
                 candidates: tuple[str, ...] = ("bgnbd", "mbgnbd", "paretonbd", "nbd"),
                 interval_level: float = 0.9, interval_draws: int = 200,
                 **at_risk_options) -> None:
        super().__init__()
        self.horizon_periods = horizon_periods
        self.period = period
        self.annual_discount_rate = annual_discount_rate
        self.margin = margin
        self.model = model
        self.candidates = tuple(candidates)
        self.interval_level = interval_level
        self.interval_draws = interval_draws
        self.top_at_risk = top_at_risk
        self.at_risk_options = at_risk_options
        self.totals = widgets.HTML()
        self.totals.add_class("wb-clv-totals")
        self.caption = widgets.HTML()
        self.caption.add_class("wb-clv-caption")
        self.model_note = widgets.HTML()
        self.model_note.add_class("wb-clv-model")
        self.at_risk_table = widgets.HTML()
        self.at_risk_table.add_class("wb-at-risk")

    def _key(self, name: str) -> str:
        return (f"{name}:{self.model}:{self.horizon_periods}{self.period}:"
                f"{self.annual_discount_rate}:{self.margin}")

    def comparison(self, state: DashboardState):
        """The :class:`~workbench.models.clv.ModelComparison` of ``state`` (cached on the state)."""
        from workbench.models.clv import compare_models

        name = f"clv_comparison:{self.candidates}"
        return state.cached(name, lambda: kernel_cached(state, name, lambda: compare_models(
            state.summary, models=self.candidates, unit=state.unit)))

    def model_key(self, state: DashboardState) -> str:
        """The purchase model used: ``model`` when set, else the recommended one."""
        if self.model:
            return self.model
        return self.comparison(state).recommended or "bgnbd"

    def fit(self, state: DashboardState):
        """The :class:`~workbench.models.clv.ClvFit` of ``state``, with intervals (cached).

        The purchase model the comparison fitted is reused (not fitted again) when the
        comparison has run; results are cached on the state and, per selection, in the
        kernel (:func:`kernel_cached`).
        """
        return self.fit_for(state, self.model_key(state))

    def fit_for(self, state: DashboardState, model: str):
        """The :class:`~workbench.models.clv.ClvFit` of ``state`` with purchase model ``model``
        (cached as :meth:`fit`; the customer view asks for BG/NBD before the comparison ran)."""
        from workbench.models.clv import fit_clv

        name = self._key(f"clv_fit:{model}:{self.interval_level}:{self.interval_draws}")

        def compute():  # warnings go to the log (Panel.update)
            fitted = None
            comparison_key = f"clv_comparison:{self.candidates}"
            if not self.model or comparison_key in state.extras:
                fitted = self.comparison(state).models.get(model)
            return fit_clv(state.summary, self.horizon_periods, self.period, self.margin,
                           self.annual_discount_rate, model, state.unit,
                           purchase_model=fitted, intervals=True,
                           interval_level=self.interval_level,
                           interval_draws=self.interval_draws)

        return state.cached(name, lambda: kernel_cached(state, name, compute))

    def intervals(self, state: DashboardState, customer_ids: list) -> pl.DataFrame:
        """CLV and expected purchases of some customers with their intervals (the columns of
        the fit's table, :func:`workbench.models.clv.uncertainty.clv_table_intervals`)."""
        table = self.fit(state).table
        ids = pl.Series(customer_ids).cast(pl.String)
        return table.filter(pl.col("customer_id").cast(pl.String).is_in(ids.implode())).select(
            "customer_id", "expected_purchases", "expected_purchases_lower",
            "expected_purchases_upper", "clv", "clv_lower", "clv_upper", "interval_note")

    def at_risk(self, state: DashboardState) -> pl.DataFrame:
        """The at-risk list of ``state``: P(alive) now vs the dashboard's previous as-of date."""
        from workbench.models.clv import at_risk_customers

        fit = self.fit(state)
        return state.cached(self._key("clv_at_risk"), lambda: at_risk_customers(
            state.summary, state.previous_summary, fit.purchase_model, "historical_value",
            values=fit.table, unit=state.unit, **self.at_risk_options))

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        from workbench.models.clv import clv_by_segment
        from workbench.presentation.charts.clv import clv_distribution_chart, clv_segment_chart

        if (empty := _empty(state)) is not None:
            return empty
        try:
            fit = self.fit(state)
        except ModelError as exc:  # too few repeat customers: a sentence, not an error box
            return [widgets.HTML(notice_html(
                f"Lifetime value could not be computed for this selection: "
                f"{viewer_message(exc)}", "wb-error wb-notice"))]
        totals = fit.totals()
        risk = self.at_risk(state)
        by_segment = state.cached(self._key("clv_by_segment"),
                                  lambda: clv_by_segment(fit.table, state.segments))
        horizon = f"next {self.horizon_periods} {_PERIOD_NAMES.get(self.period, 'periods')}"
        n = totals["customers"]
        level = f"{self.interval_level:.0%}"
        clv_note = f"margin, {horizon}, discounted"
        if totals.get("predicted_clv_lower") is not None:
            lo, hi = totals["predicted_clv_lower"], totals["predicted_clv_upper"]
            clv_note += (f"; {level} interval {format_value(lo, 'currency')}"
                         f"–{format_value(hi, 'currency')}")
        self.totals.value = (
            f"<style>{_CSS}</style><div class='wb-kpi-row' style='display:flex'>"
            + _tile("clv", "Predicted value (CLV)", totals["predicted_clv"], "currency",
                    clv_note)
            + _tile("historical", "Historical revenue", totals["historical_value"], "currency",
                    "to date, net of returns")
            + _tile("purchases", "Expected purchases", totals["expected_purchases"], "int",
                    horizon)
            + _tile("alive", "Customers still active", totals["expected_alive"], "int",
                    f"expected, of {n:,} (sum of P(alive))")
            + "</div>")
        source = {"data": "profit share of revenue in the data", "default": "default, no cost "
                  "data", "parameter": "set for this dashboard"}[fit.margin_source]
        model = _MODEL_NAMES.get(fit.model, fit.model)
        self.caption.value = (
            f"<div class='wb-caption'>As of {_date(state.as_of)} · {n:,} customers · {model} "
            f"and Gamma-Gamma fitted on this selection · margin {fit.margin:.1%} ({source}) · "
            f"discounted at {fit.annual_discount_rate:.0%} a year · customers with one purchase "
            f"get the population mean spend</div>")
        seg_chart = clv_segment_chart(
            by_segment, width=190, title="Predicted value by segment",
            subtitle=f"CLV over the {horizon} beside profit or revenue to date")
        dist_chart = clv_distribution_chart(fit.table, width=470, height=200)
        self.model_note.value = self._model_html(state, fit)
        self.at_risk_table.value = self._risk_html(state, risk, fit.table)
        return [self.totals, self.caption, self.model_note,
                _row(self.chart("clv-segments", seg_chart),
                     self.chart("clv-distribution", dist_chart)),
                self.at_risk_table]

    def _model_html(self, state: DashboardState, fit) -> str:
        """Which model, why, the time-unit guidance and the degenerate-fit sentences."""
        from workbench.models.clv import model_diagnosis

        comparison = self.comparison(state) if not self.model else None
        name = _MODEL_NAMES.get(fit.model, fit.model)
        parts = []
        if comparison is not None:
            parts.append(f"<div class='wb-clv-reason'>{html.escape(comparison.reason)}</div>")
            guidance = comparison.time_unit.sentence
        else:
            from workbench.models.clv import time_unit_guidance

            parts.append(f"<div class='wb-clv-reason'>Purchase model {html.escape(name)}, as "
                         "set for this dashboard.</div>")
            guidance = time_unit_guidance(state.summary, state.unit).sentence
        parts.append(f"<div class='wb-clv-time-unit'>{html.escape(guidance)}</div>")
        sentences = (list(getattr(fit.purchase_model, "diagnosis", None)
                          or model_diagnosis(fit.purchase_model))
                     + list(getattr(fit.spend_model, "diagnosis", None) or []))
        for sentence in sentences:
            parts.append(f"<div class='wb-clv-diagnosis wb-notice'>{html.escape(sentence)}</div>")
        return "<div class='wb-caption'>" + "".join(parts) + "</div>"

    def _risk_html(self, state: DashboardState, risk: pl.DataFrame, table: pl.DataFrame) -> str:
        from workbench.models.clv.at_risk import VALUE_QUANTILE

        head = (f"{TABLE_STYLE}<style>{_CSS}</style><div class='wb-panel-title'>"
                f"<h3>At risk: valuable customers slipping away</h3></div>")
        since = _date(state.previous_as_of)
        if risk.height == 0:
            return (head + f"<div class='wb-empty'>No valuable customer's P(alive) fell "
                    f"markedly since {since}.</div>")
        top = risk.head(self.top_at_risk).join(
            table.select("customer_id", "clv"), on="customer_id", how="left").sort("rank")
        bounds = self.intervals(state, top["customer_id"].to_list()).select(
            pl.col("customer_id").cast(top.schema["customer_id"]), "clv_lower", "clv_upper")
        top = top.join(bounds, on="customer_id", how="left").sort("rank")
        level = f"{self.interval_level:.0%}"
        cells = [format_value(v, "currency") if lo is None else
                 f"{format_value(v, 'currency')} ({format_value(lo, 'currency')}–"
                 f"{format_value(hi, 'currency')})"
                 for v, lo, hi in zip(top["clv"], top["clv_lower"], top["clv_upper"],
                                      strict=True)]
        top = top.with_columns(pl.Series("clv", cells, dtype=pl.String))
        value_at_stake = float(risk["value_at_stake"].sum())
        quantile = self.at_risk_options.get("value_quantile", VALUE_QUANTILE)
        caption = (f"<div class='wb-caption'>{risk.height:,} customers in the top "
                   f"{1 - quantile:.0%} by revenue to date whose P(alive), the probability "
                   f"that they still buy, fell since {since} or is now low; together "
                   f"{format_value(value_at_stake, 'currency')} of revenue to date. "
                   f"Top {top.height} by revenue to date:</div>")
        fmt = {
            "status": lambda v: f"<span class='wb-status-{html.escape(str(v))}'>"
                                f"{html.escape(str(v))}</span>",
            "value_at_stake": lambda v: format_value(v, "currency"),
            "clv": lambda v: html.escape(str(v)),
            "p_alive_before": lambda v: "–" if v is None else f"{float(v):.2f}",
            "p_alive_now": lambda v: f"{float(v):.2f}",
        }
        body = html_table(top, {"rank": "#", "customer_id": "Customer", "status": "Status",
                                "value_at_stake": "Revenue to date",
                                "clv": f"Predicted CLV ({level} interval)",
                                "p_alive_before": f"P(alive) {since}",
                                "p_alive_now": "P(alive) now", "reason": "Why"}, fmt)
        body = _why_cells(body, top["reason"].to_list())
        return head + caption + body


def _why_cells(table_html: str, reasons: list[str]) -> str:
    """Mark the reason cells (last column) so they wrap: ``<td class='wb-why'>``."""
    for reason in reasons:
        cell = f"<td>{html.escape(reason)}</td>"
        table_html = table_html.replace(cell, f"<td class='wb-why'>{html.escape(reason)}</td>", 1)
    return table_html
