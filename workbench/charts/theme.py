"""The workbench chart theme, the segment colours, and the renderer helpers.

One Altair theme, ``"workbench"``, is registered (and enabled) when this module is imported, so
every chart of :mod:`workbench.charts` looks the same in JupyterLab, in a Voilà dashboard and in a
static SVG/PNG report.  Renderers (``shared/STACK-NOTES.md``):

* reports (papermill, ``nbconvert --no-input``): :func:`use_report_renderer` -- static SVG or PNG
  made by vl-convert, no browser and no CDN needed;
* dashboards (Voilà, JupyterLab): :func:`use_dashboard_renderer` -- ``alt.JupyterChart`` with its
  JavaScript bundled offline by vl-convert.  Altair 6's default ``html`` renderer loads Vega from a
  CDN and its ``mimetype`` renderer emits Vega-Lite v6, which neither Voilà 0.5 nor nbformat knows.
"""

from __future__ import annotations

from typing import Literal

import altair as alt

THEME_NAME = "workbench"
FONT = "Inter, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif"
#: Text and grid colours.
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
#: Two measures side by side (customers vs revenue).
CUSTOMERS_COLOR = "#94a3b8"
REVENUE_COLOR = "#1d4ed8"
ACCENT = "#dc2626"
GOOD = "#15803d"
BAD = "#b91c1c"
#: Sequential scheme of the heatmaps.
HEAT_SCHEME = "blues"

#: Segments of the shipped rule tables, best first: the order of legends and flow columns.
SEGMENT_ORDER: tuple[str, ...] = (
    "Champions", "Loyal", "Potential Loyalist", "New Customers", "Promising", "Need Attention",
    "About To Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
    "Active loyal", "Active repeat", "Active one-time", "Lapsing loyal", "Lapsing repeat",
    "Lapsing one-time", "Lapsed loyal", "Lapsed repeat", "Lapsed one-time",
    "No purchase yet",
)
#: A fixed colour per known segment (greens = healthy, ambers = slipping, reds/greys = gone).
SEGMENT_COLORS: dict[str, str] = {
    "Champions": "#166534", "Loyal": "#16a34a", "Potential Loyalist": "#65a30d",
    "New Customers": "#0891b2", "Promising": "#2563eb", "Need Attention": "#ca8a04",
    "About To Sleep": "#ea580c", "At Risk": "#dc2626", "Can't Lose Them": "#9d174d",
    "Hibernating": "#7c3aed", "Lost": "#57534e",
    "Active loyal": "#166534", "Active repeat": "#16a34a", "Active one-time": "#0891b2",
    "Lapsing loyal": "#ca8a04", "Lapsing repeat": "#ea580c", "Lapsing one-time": "#f59e0b",
    "Lapsed loyal": "#dc2626", "Lapsed repeat": "#9d174d", "Lapsed one-time": "#57534e",
    "No purchase yet": "#cbd5e1",
}
_FALLBACK = ("#0f766e", "#a16207", "#4338ca", "#be185d", "#4d7c0f", "#0369a1", "#9a3412",
             "#6d28d9", "#334155", "#b45309")


def segment_order(segments: list[str] | tuple[str, ...]) -> list[str]:
    """Sort segment names: known segments best first, then the others alphabetically.

    Examples
    --------
    >>> segment_order(["Lost", "Zeta", "Champions"])
    ['Champions', 'Lost', 'Zeta']
    """
    rank = {name: i for i, name in enumerate(SEGMENT_ORDER)}
    known = sorted((s for s in set(segments) if s in rank), key=rank.__getitem__)
    return known + sorted(s for s in set(segments) if s not in rank)


def segment_scale(segments: list[str] | tuple[str, ...]) -> alt.Scale:
    """A colour scale giving each segment its fixed colour (others get a fallback colour).

    Examples
    --------
    >>> segment_scale(["Lost", "Champions"]).to_dict()["domain"]
    ['Champions', 'Lost']
    """
    domain = segment_order(segments)
    extra = iter(_FALLBACK * (len(domain) // len(_FALLBACK) + 1))
    colors = [SEGMENT_COLORS.get(s) or next(extra) for s in domain]
    return alt.Scale(domain=domain, range=colors)


@alt.theme.register(THEME_NAME, enable=True)
def workbench_theme() -> alt.theme.ThemeConfig:
    """Quiet, legible defaults: no chart border, light grid, left-aligned titles."""
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "padding": 8,
            "view": {"stroke": None, "continuousWidth": 420, "continuousHeight": 280},
            "title": {"anchor": "start", "fontSize": 15, "fontWeight": 600, "color": INK,
                      "subtitleColor": MUTED, "subtitleFontSize": 12, "offset": 10},
            "axis": {"labelColor": MUTED, "titleColor": INK, "labelFontSize": 11,
                     "titleFontSize": 12, "titleFontWeight": 500, "gridColor": GRID,
                     "domainColor": GRID, "tickColor": GRID, "labelLimit": 160},
            "legend": {"labelColor": INK, "titleColor": INK, "labelFontSize": 11,
                       "titleFontSize": 12, "orient": "top", "symbolType": "square"},
            "header": {"labelColor": INK, "titleColor": INK},
            "range": {"category": [REVENUE_COLOR, CUSTOMERS_COLOR, "#0f766e", "#b45309",
                                   "#7c3aed", "#be185d", "#0891b2", "#4d7c0f"]},
            "bar": {"cornerRadiusEnd": 2},
            "text": {"color": INK, "fontSize": 11},
        }
    }


def use_theme() -> None:
    """Enable the workbench theme (it is enabled on import; call again after another theme).

    Examples
    --------
    >>> use_theme()
    >>> alt.theme.active
    'workbench'
    """
    alt.theme.enable(THEME_NAME)


def use_report_renderer(fmt: Literal["svg", "png"] = "svg") -> None:
    """Static charts for reports: SVG or PNG rendered by vl-convert (no browser, no CDN).

    Use it in papermill report notebooks; the output survives ``nbconvert --to html
    --no-input`` and validates with nbformat.

    Examples
    --------
    >>> use_report_renderer("svg")
    >>> alt.renderers.active
    'svg'
    """
    if fmt not in ("svg", "png"):
        raise ValueError(f"fmt must be 'svg' or 'png', got {fmt!r}")
    use_theme()
    alt.renderers.enable(fmt)


def use_dashboard_renderer() -> None:
    """Interactive charts for dashboards: ``alt.JupyterChart`` with offline JavaScript.

    Bundles Vega's JavaScript with vl-convert once per kernel (about 1 s), so Voilà dashboards
    work without internet; also enables the ``jupyter`` renderer so a bare chart displayed in
    the notebook uses the same offline widget.  Needs ``anywidget``.

    Examples
    --------
    >>> use_dashboard_renderer()  # doctest: +SKIP
    >>> chart = alt.JupyterChart(segment_chart(table), embed_options={"renderer": "svg"})
    ... # doctest: +SKIP
    """
    use_theme()
    alt.JupyterChart.enable_offline(True)
    alt.renderers.enable("jupyter", offline=True)
