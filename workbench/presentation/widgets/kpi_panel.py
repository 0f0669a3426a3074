"""KPI tiles: the first thing an executive reads (docs/kpi.md).

One ``ipywidgets.HTML`` tile per KPI of :func:`workbench.analyses.kpi.executive_kpis` (active
customers, revenue, repeat rate, revenue share of the top 20 %, NPS when surveys exist), each with
the value of the period, an arrow and the change against the previous period, coloured green when it
is good news.  Each tile carries the CSS class ``kpi-<id>`` (e.g. ``kpi-revenue``) for tests and
styling.
"""

from __future__ import annotations

import datetime as dt
import html

import ipywidgets as widgets
import polars as pl

from workbench.presentation.formatting import NumberFormats, format_kpi
from workbench.presentation.widgets.panel import Panel, no_purchase_notice
from workbench.presentation.widgets.state import DashboardState

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
.wb-kpi-def { font-size: 11.5px; color: #6b7280; margin-top: 4px; max-width: 230px;
  white-space: normal; }
@media (max-width: 600px) {
  .wb-kpi-tile { min-width: 0; width: calc(50vw - 34px); padding: 10px 10px 8px; }
  .wb-kpi-value { font-size: 22px; }
  .wb-kpi-def { max-width: none; }
}
"""


def format_value(value: float | None, fmt: str, formats: NumberFormats | None = None) -> str:
    """A KPI value as shown on a tile, in the dashboard's currency and locale.

    ``int``: a count with grouping; ``currency``: the project's currency
    (:meth:`~workbench.presentation.formatting.NumberFormats.money`, compact from 10,000); ``pct``:
    one decimal; ``score``: NPS points with sign; ``None`` shows as an en dash.  ``formats``
    defaults to :func:`workbench.presentation.formatting.current`.

    Examples
    --------
    >>> format_value(3395.0, "int"), format_value(620624.1, "currency")
    ('3,395', '$620.6K')
    >>> format_value(0.6966, "pct"), format_value(37.2, "score"), format_value(None, "int")
    ('69.7%', '+37', '–')
    >>> from workbench.presentation.formatting import NumberFormats
    >>> format_value(620624.1, "currency", NumberFormats("EUR", "de_DE"))
    '620.624\\xa0€'
    """
    return format_kpi(value, fmt, formats)


def format_change(change: float | None, change_pct: float | None, fmt: str,
                  comparable: bool | None = None, formats: NumberFormats | None = None) -> str:
    """The change against the previous period, in the unit that reads best.

    Counts and currency: relative change in %; shares: percentage points; NPS: points; in the
    locale of ``formats`` (default: US English).  ``comparable=False`` (a base too small to
    compare, :func:`workbench.analyses.kpi.comparable`) gives ``"n/a"``.

    Examples
    --------
    >>> format_change(-439.0, -0.1145, "int"), format_change(0.004, 0.006, "pct")
    ('-11.5 %', '+0.4 pp')
    >>> format_change(2.6, 0.08, "score"), format_change(None, None, "int")
    ('+2.6 pts', 'no comparison')
    >>> format_change(9852.0, 98.52, "int", comparable=False)
    'n/a'
    >>> format_change(0.016, 0.03, "pct", formats=NumberFormats("EUR", "de_DE"))
    '+1,6 pp'
    """
    f = formats or NumberFormats()
    if comparable is False and change is not None:
        return "n/a"
    if change is None:
        return "no comparison"
    if fmt == "pct":
        return f.points(change)
    if fmt == "score":
        return f"{f.signed(change)} pts"
    if change_pct is None:
        return "new" if change else "±0"
    return f"{f.signed(100 * change_pct)} %"


def tile_html(row: dict, formats: NumberFormats | None = None) -> str:
    """HTML of one KPI tile from a row of :func:`workbench.analyses.kpi.executive_kpis`.

    The value carries ``data-value`` (the raw number) for tests; the arrow is ▲ / ▼ / ▬ and
    the colour says whether the change is good news.  The info line (``wb-kpi-def``) and the
    tooltip say what the KPI counts; a change against a base too small to compare shows
    "n/a" in grey, with the reason in its tooltip.

    Examples
    --------
    >>> row = {"kpi": "revenue", "label": "Revenue", "value": 110.0, "previous": 100.0,
    ...        "change": 10.0, "change_pct": 0.1, "fmt": "currency"}
    >>> "▲ +10.0 %" in tile_html(row)
    True
    >>> "n/a" in tile_html({**row, "comparable": False})
    True
    """
    kpi, fmt, change = row["kpi"], row["fmt"], row.get("change")
    comparable = row.get("comparable")
    definition = row.get("definition") or ""
    if change is None or abs(change) < 1e-12 or comparable is False:
        arrow, tone = "▬", "wb-flat"
    else:
        up = change > 0
        arrow = "▲" if up else "▼"
        tone = "wb-good" if up != (kpi in LOWER_IS_BETTER) else "wb-bad"
    raw = "" if row.get("value") is None else repr(float(row["value"]))
    previous = format_value(row.get("previous"), fmt, formats)
    delta = format_change(change, row.get("change_pct"), fmt, comparable, formats)
    why = ""
    if comparable is False and change is not None:
        base = row.get("previous_base")
        why = (" title='Previous period too small to compare"
               + (f" ({int(base):,} customers or answers)" if base is not None else "") + "'")
    tip = html.escape(f"{row['label']}: {definition}" if definition else row["label"])
    return (
        f"<div class='wb-kpi-tile' title='{tip}'>"
        f"<div class='wb-kpi-label'>{html.escape(row['label'])}</div>"
        f"<div class='wb-kpi-value' data-value='{raw}'>"
        f"{format_value(row.get('value'), fmt, formats)}</div>"
        f"<div class='wb-kpi-change {tone}'{why}>{arrow} {delta}"
        f" <span class='wb-kpi-prev'>vs {previous}</span></div>"
        + (f"<div class='wb-kpi-def'>{html.escape(definition)}</div>" if definition else "")
        + "</div>"
    )


def _period_text(start: dt.date, end: dt.date, days: int) -> str:
    from workbench.analyses.kpi import MIN_BASE_CUSTOMERS, MIN_BASE_SHARE

    return (f"Period {start:%d %b %Y} – {end:%d %b %Y}, compared with the {days} days before. "
            "A change against a previous period too small to compare (fewer than "
            f"{MIN_BASE_CUSTOMERS} customers, or under {MIN_BASE_SHARE:.0%} of the current "
            "value) shows n/a.")


def state_kpis(state: DashboardState) -> pl.DataFrame:
    """The KPI frame of a state (cached on it): :func:`workbench.analyses.kpi.executive_kpis`."""
    from workbench.analyses.kpi import executive_kpis

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
    On the demo data (:mod:`workbench.presentation.widgets.demo`), the net revenue of the 90
    days to 28 Jun 2024 is 80 + 30 + 10 + 15:

    >>> import datetime as dt
    >>> from workbench.presentation.widgets.demo import demo_dataset
    >>> from workbench.presentation.widgets.state import DashboardState
    >>> panel = KpiPanel()
    >>> panel.update(DashboardState(demo_dataset(), dt.date(2024, 6, 28)))
    >>> panel.values["revenue"]["value"]
    135.0
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
