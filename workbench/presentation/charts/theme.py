"""The workbench chart theme, the segment colours, and the renderer helpers.

One Altair theme, ``"workbench"``, is registered (and enabled) when this module is imported, so
every chart of :mod:`workbench.presentation.charts` looks the same in JupyterLab, in a Voilà
dashboard and in a static SVG/PNG report.  Renderers (docs/charts.md, 'Renderers'):

* reports (papermill, ``nbconvert --no-input``): :func:`use_report_renderer` -- static SVG or PNG
  made by vl-convert, no browser and no CDN needed;
* dashboards (Voilà, JupyterLab): :func:`use_dashboard_renderer` -- ``alt.JupyterChart`` with its
  JavaScript bundled offline by vl-convert.  Altair 6's default ``html`` renderer loads Vega from a
  CDN and its ``mimetype`` renderer emits Vega-Lite v6, which neither Voilà 0.5 nor nbformat knows.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import altair as alt
from altair.utils.display import MimeBundleType

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
#: Sequential scheme of the heatmaps (``Final``: typed as the literal, one of Vega's schemes).
HEAT_SCHEME: Final = "blues"

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
    No frontend is needed to build the widget (it is drawn once a notebook displays it):

    >>> import polars as pl
    >>> from workbench.presentation.charts.rfm import segment_chart
    >>> previous = alt.renderers.active
    >>> use_dashboard_renderer()  # bundles Vega's JavaScript once per process
    >>> alt.renderers.active
    'jupyter'
    >>> table = pl.DataFrame({"segment": ["Champions", "Lost"], "customers": [20, 80],
    ...                       "revenue": [900.0, 100.0], "customer_share": [0.2, 0.8],
    ...                       "revenue_share": [0.9, 0.1]})
    >>> chart = alt.JupyterChart(segment_chart(table), embed_options={"renderer": "svg"})
    >>> chart.spec["layer"][0]["mark"]["type"]
    'bar'
    >>> _ = alt.renderers.enable(previous)  # the renderer is per process: put the old one back
    """
    use_theme()
    alt.JupyterChart.enable_offline(True)
    alt.renderers.enable("jupyter", offline=True)


#: Environment variable ``workbench report`` sets to ``1`` for its kernels: charts are static.
REPORT_ENV = "WORKBENCH_REPORT"
#: Environment variable that forces a renderer: ``svg``, ``png`` or ``jupyter``.
RENDERER_ENV = "WORKBENCH_RENDERER"
#: Words in the parent process's command line that mark a batch run (the kernel was started
#: by papermill, nbconvert or nbclient rather than by a Jupyter server).
BATCH_RUNNERS: tuple[str, ...] = ("papermill", "nbconvert", "nbclient")


def _parent_command() -> str:
    """The command line of this process's parent (``""`` where ``/proc`` is not available)."""
    import os

    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _in_live_kernel() -> bool:
    """Whether the code runs in an IPython kernel (a notebook), not a script or a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebook stack
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def detect_renderer(environ: dict[str, str] | None = None, parent: str | None = None) -> str:
    """The renderer :func:`use_auto_renderer` picks: ``"svg"``, ``"png"`` or ``"jupyter"``.

    In this order:

    1. ``WORKBENCH_RENDERER=svg|png|jupyter`` forces a choice;
    2. ``WORKBENCH_REPORT=1`` (set by ``workbench report`` for its kernels) -> ``"svg"``;
    3. a kernel started by papermill, nbconvert or nbclient (its parent's command line) ->
       ``"svg"``: the executed notebook and its HTML export need static charts;
    4. a live Jupyter kernel (JupyterLab, Notebook, Voilà) -> ``"jupyter"``: the offline
       ``alt.JupyterChart`` with tooltips, zoom and selections;
    5. anything else (a script, a terminal) -> ``"svg"``.

    Parameters
    ----------
    environ
        Environment to read (default :data:`os.environ`).
    parent
        The parent process's command line (default: read from ``/proc``).

    Examples
    --------
    >>> detect_renderer({"WORKBENCH_REPORT": "1"}, parent="jupyter-lab")
    'svg'
    >>> detect_renderer({"WORKBENCH_RENDERER": "png"}, parent="")
    'png'
    >>> detect_renderer({}, parent="python -m papermill in.ipynb out.ipynb")
    'svg'
    """
    import os

    env = os.environ if environ is None else environ
    forced = env.get(RENDERER_ENV, "").strip().lower()
    if forced:
        if forced not in ("svg", "png", "jupyter"):
            raise ValueError(f"{RENDERER_ENV} must be svg, png or jupyter, got {forced!r}")
        return forced
    if env.get(REPORT_ENV, "").strip().lower() in ("1", "true", "yes"):
        return "svg"
    command = _parent_command() if parent is None else parent
    if any(word in command for word in BATCH_RUNNERS):
        return "svg"
    return "jupyter" if _in_live_kernel() else "svg"


#: Name of the renderer :func:`use_auto_renderer` registers for live kernels.
LAB_RENDERER = "workbench_lab"
#: vega-embed options of interactive charts in JupyterLab: SVG marks, no action menu.
LAB_EMBED_OPTIONS: dict[str, object] = {"renderer": "svg", "actions": False}
_ZOOMABLE = ("quantitative", "temporal")


def with_zoom(spec: dict) -> dict:
    """``spec`` with pan and zoom (an interval bound to the scales) where that is safe.

    Only a single view whose x and y are both quantitative or temporal gets it (zooming a
    bar chart's band scale, a layer or a concatenation is left alone); a spec that already
    has parameters is left alone too.

    Examples
    --------
    >>> spec = {"mark": "point", "encoding": {"x": {"field": "a", "type": "quantitative"},
    ...                                       "y": {"field": "b", "type": "quantitative"}}}
    >>> with_zoom(spec)["params"][0]["bind"]
    'scales'
    >>> "params" in with_zoom({"mark": "bar", "encoding": {"x": {"type": "nominal"}}})
    False
    """
    encoding = spec.get("encoding") or {}
    types = [(encoding.get(ch) or {}).get("type") for ch in ("x", "y")]
    if "mark" not in spec or spec.get("params") or not all(t in _ZOOMABLE for t in types):
        return spec
    zoom = {"name": "wb_zoom", "select": {"type": "interval"}, "bind": "scales"}
    return {**spec, "params": [zoom]}


def _lab_renderer(spec: dict, **metadata: Any) -> MimeBundleType:
    """Render ``spec`` as an offline ``alt.JupyterChart`` (SVG marks, tooltips, zoom).

    ``metadata`` holds the options given to ``alt.renderers.enable`` (any keywords, as for
    every Altair renderer); the bundle is the widget's ``(data, metadata)`` pair.
    """
    alt.JupyterChart.enable_offline(True)
    options = {**LAB_EMBED_OPTIONS, **dict(metadata.get("embed_options") or {})}
    chart = alt.JupyterChart(alt.Chart.from_dict(with_zoom(spec)), embed_options=options)
    bundle = chart._repr_mimebundle_()
    # anywidget returns None only for a widget without a view; JupyterChart always has one
    assert bundle is not None
    return bundle


alt.renderers.register(LAB_RENDERER, _lab_renderer)


def use_auto_renderer() -> str:
    """Choose the renderer for where the notebook runs; return its name.

    Interactive offline ``alt.JupyterChart`` in JupyterLab (tooltips, the chart's selections,
    and pan/zoom on x/y scatter and line views, :func:`with_zoom`; SVG marks),
    static SVG under ``workbench report``, papermill or nbconvert and in scripts
    (:func:`detect_renderer`). Report notebooks call this instead of
    :func:`use_report_renderer`, so the same notebook is interactive when an analyst opens it
    and static in the executed notebook and its HTML export.

    Returns
    -------
    str
        ``"svg"``, ``"png"`` or ``"jupyter"``.

    Examples
    --------
    >>> import os
    >>> os.environ["WORKBENCH_REPORT"] = "1"
    >>> use_auto_renderer()
    'svg'
    >>> del os.environ["WORKBENCH_REPORT"]
    """
    choice = detect_renderer()
    if choice == "jupyter":
        use_dashboard_renderer()
        alt.renderers.enable(LAB_RENDERER)
    else:
        use_report_renderer("png" if choice == "png" else "svg")
    return choice
