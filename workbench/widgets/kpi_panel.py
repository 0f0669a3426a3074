"""KPI tiles: the first thing an executive reads (``DOMAIN.md`` §7).

One ``ipywidgets.HTML`` tile per KPI of :func:`workbench.kpi.executive_kpis` (active customers,
revenue, repeat rate, revenue share of the top 20 %, NPS when surveys exist), each with the value
of the period, an arrow and the change against the previous period, coloured green when it is
good news.  Each tile carries the CSS class ``kpi-<id>`` (e.g. ``kpi-revenue``) for tests and
styling.
"""

from __future__ import annotations

import datetime as dt
import html
import math

import ipywidgets as widgets
import polars as pl

from workbench.widgets.panel import Panel, no_purchase_notice
from workbench.widgets.state import DashboardState

#: The tiles, in display order.
KPI_IDS = ("active_customers", "revenue", "repeat_rate", "top20_share", "nps")
#: KPIs for which a fall is good news (none of the shipped ones).
LOWER_IS_BETTER: frozenset[str] = frozenset()

KPI_CSS = """
.wb-kpi-row { gap: 12px; flex-wrap: wrap; }
.wb-kpi-tile { border: 1px solid #e5e7eb; border-radius: 10px; padding: 12px 16px 10px;
  min-width: 190px; background: #fff; box-shadow: 0 1px 2px rgba(0,0,0,.05);
  font-family: Inter, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif; line-height: 1.3; }
.wb-kpi-label { font-size: 12px; color: #6b7280; text-transform: uppercase;
  letter-spacing: .04em; }
.wb-kpi-value { font-size: 28px; font-weight: 650; color: #111827; margin: 2px 0; }
.wb-kpi-change { font-size: 13px; font-weight: 600; }
.wb-kpi-change.wb-good { color: #15803d; } .wb-kpi-change.wb-bad { color: #b91c1c; }
.wb-kpi-change.wb-flat { color: #6b7280; }
.wb-kpi-prev { font-size: 12px; color: #6b7280; font-weight: 400; }
.wb-kpi-note { font-size: 12px; color: #6b7280; margin-top: 4px; }
"""


def format_value(value: float | None, fmt: str) -> str:
    """A KPI value as shown on a tile.

    ``int``: thousands separators; ``currency``: $ with k/M suffixes; ``pct``: one decimal;
    ``score``: NPS points with sign; ``None`` shows as an en dash.

    Examples
    --------
    >>> format_value(3395.0, "int"), format_value(620624.1, "currency")
    ('3,395', '$620.6k')
    >>> format_value(0.6966, "pct"), format_value(37.2, "score"), format_value(None, "int")
    ('69.7 %', '+37', '–')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if fmt == "int":
        return f"{value:,.0f}"
    if fmt == "currency":
        size = abs(value)
        for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
            if size >= limit:
                return f"${value / limit:,.1f}{suffix}"
        return f"${value:,.0f}"
    if fmt == "pct":
        return f"{100 * value:.1f} %"
    if fmt == "score":
        return f"{value:+.0f}"
    return f"{value:,.2f}"


def format_change(change: float | None, change_pct: float | None, fmt: str) -> str:
    """The change against the previous period, in the unit that reads best.

    Counts and currency: relative change in %; shares: percentage points; NPS: points.

    Examples
    --------
    >>> format_change(-439.0, -0.1145, "int"), format_change(0.004, 0.006, "pct")
    ('-11.5 %', '+0.4 pp')
    >>> format_change(2.6, 0.08, "score"), format_change(None, None, "int")
    ('+2.6 pts', 'no comparison')
    """
    if change is None:
        return "no comparison"
    if fmt == "pct":
        return f"{100 * change:+.1f} pp"
    if fmt == "score":
        return f"{change:+.1f} pts"
    if change_pct is None:
        return "new" if change else "±0"
    return f"{100 * change_pct:+.1f} %"


def tile_html(row: dict) -> str:
    """HTML of one KPI tile from a row of :func:`workbench.kpi.executive_kpis`.

    The value carries ``data-value`` (the raw number) for tests; the arrow is ▲ / ▼ / ▬ and
    the colour says whether the change is good news.

    Examples
    --------
    >>> row = {"kpi": "revenue", "label": "Revenue", "value": 110.0, "previous": 100.0,
    ...        "change": 10.0, "change_pct": 0.1, "fmt": "currency"}
    >>> "▲ +10.0 %" in tile_html(row)
    True
    """
    kpi, fmt, change = row["kpi"], row["fmt"], row.get("change")
    if change is None or abs(change) < 1e-12:
        arrow, tone = "▬", "wb-flat"
    else:
        up = change > 0
        arrow = "▲" if up else "▼"
        tone = "wb-good" if up != (kpi in LOWER_IS_BETTER) else "wb-bad"
    raw = "" if row.get("value") is None else repr(float(row["value"]))
    previous = format_value(row.get("previous"), fmt)
    delta = format_change(change, row.get("change_pct"), fmt)
    return (
        f"<div class='wb-kpi-tile' title='{html.escape(row['label'])}'>"
        f"<div class='wb-kpi-label'>{html.escape(row['label'])}</div>"
        f"<div class='wb-kpi-value' data-value='{raw}'>{format_value(row.get('value'), fmt)}</div>"
        f"<div class='wb-kpi-change {tone}'>{arrow} {delta}"
        f" <span class='wb-kpi-prev'>vs {previous}</span></div></div>"
    )


def _period_text(start: dt.date, end: dt.date, days: int) -> str:
    return (f"Period {start:%d %b %Y} – {end:%d %b %Y}, compared with the {days} days before. "
            "Top-20 % share: trailing 12 months.")


def state_kpis(state: DashboardState) -> pl.DataFrame:
    """The KPI frame of a state (cached on it): :func:`workbench.kpi.executive_kpis`."""
    from workbench.kpi import executive_kpis

    return state.cached("kpis", lambda: executive_kpis(
        state.transactions, state.as_of, state.period_days, state.surveys))


class KpiPanel(Panel):
    """The row of KPI tiles.

    Attributes
    ----------
    tiles
        ``{kpi id: ipywidgets.HTML}``; a tile is hidden when its KPI is absent (NPS without
        surveys).
    values
        The KPI rows last shown, ``{kpi id: row dict}``.

    Examples
    --------
    >>> panel = KpiPanel()
    >>> panel.update(state)  # doctest: +SKIP
    >>> panel.values["revenue"]["value"]  # doctest: +SKIP
    """

    title = ""
    css_class = "wb-kpis"

    def __init__(self) -> None:
        super().__init__()
        self.tiles: dict[str, widgets.HTML] = {}
        for kpi in KPI_IDS:
            tile = widgets.HTML(layout=widgets.Layout(display="none"))
            tile.add_class(f"kpi-{kpi}")
            tile.add_class("wb-kpi")
            self.tiles[kpi] = tile
        self.row = widgets.HBox(list(self.tiles.values()))
        self.row.add_class("wb-kpi-row")
        self.note = widgets.HTML()
        self.note.add_class("wb-kpi-note")
        self.style = widgets.HTML(f"<style>{KPI_CSS}</style>",
                                  layout=widgets.Layout(height="0px", overflow="hidden"))
        self.values: dict[str, dict] = {}

    def render(self, state: DashboardState) -> list[widgets.Widget]:
        if (empty := no_purchase_notice(state)) is not None:
            for tile in self.tiles.values():
                tile.layout.display = "none"
            self.values = {}
            self.note.value = ""
            return [self.style, *empty]
        kpis = state_kpis(state)
        rows = {r["kpi"]: r for r in kpis.iter_rows(named=True)}
        for kpi, tile in self.tiles.items():
            if kpi in rows:
                tile.value = tile_html(rows[kpi])
                tile.layout.display = None
            else:
                tile.layout.display = "none"
        extra = [k for k in rows if k not in self.tiles]  # KPIs added to executive_kpis later
        for kpi in extra:
            tile = widgets.HTML(tile_html(rows[kpi]))
            tile.add_class(f"kpi-{kpi}")
            tile.add_class("wb-kpi")
            self.tiles[kpi] = tile
        if extra:
            self.row.children = list(self.tiles.values())
        self.values = rows
        if kpis.height:
            first = kpis.row(0, named=True)
            self.note.value = _period_text(first["period_start"], first["period_end"],
                                           state.period_days)
        return [self.style, self.row, self.note]
