"""CSV download of customer lists from the dashboard, offline (no server route, no CDN).

A :class:`CsvExport` is a button; clicking it builds the list (a callable returning a Polars
frame, so nothing is computed until asked), writes it as CSV and shows a link whose ``href`` is
a ``data:text/csv;base64,...`` URI with a ``download`` file name.  The browser saves the file
when the link is clicked; this works in Voilà without internet access and without a kernel
round trip at download time.

Stable CSS classes: ``wb-export`` (the box), ``wb-export-button`` (the button) and
``wb-download-link`` (the link; ``data-rows`` holds the row count).

Examples
--------
>>> members = pl.DataFrame({"customer_id": ["C1", "C3"], "segment": ["Champions"] * 2})
>>> export = CsvExport("segment members", lambda: members, "Champions")
>>> export.link.value  # nothing is built before the click
''
>>> export.prepare().height  # what a click does
2
>>> "download='champions.csv'" in export.link.value and "data-rows='2'" in export.link.value
True
"""

from __future__ import annotations

import base64
import html
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as widgets
import polars as pl

from workbench.presentation.widgets.panel import viewer_message

if TYPE_CHECKING:
    from workbench.presentation.widgets.clv_panel import ClvPanel
    from workbench.presentation.widgets.state import DashboardState

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

#: Largest list offered as a link (rows); longer lists are cut and the link says so.
MAX_ROWS = 200_000


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV with a header (lists and structs joined into text).

    Examples
    --------
    >>> import polars as pl
    >>> csv_bytes(pl.DataFrame({"customer_id": ["a"], "tags": [["x", "y"]]})).decode()
    'customer_id,tags\\na,x; y\\n'
    """
    cols = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List):
            cols.append(pl.col(name).cast(pl.List(pl.String)).list.join("; "))
        elif isinstance(dtype, pl.Struct | pl.Array | pl.Object):
            cols.append(pl.col(name).map_elements(str, return_dtype=pl.String))
        else:
            cols.append(pl.col(name))
    return frame.select(cols).write_csv().encode("utf-8")


def safe_filename(name: str) -> str:
    """A file name from free text: letters, digits, ``-`` and ``_``, ending in ``.csv``.

    Examples
    --------
    >>> safe_filename("At Risk / 2026-06-30")
    'at-risk-2026-06-30.csv'
    """
    stem = re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-") or "customers"
    return f"{stem[:80]}.csv"


def download_link(frame: pl.DataFrame, filename: str, label: str | None = None) -> str:
    """HTML of a link that downloads ``frame`` as ``filename`` (a base64 ``data:`` URI).

    Examples
    --------
    >>> import polars as pl
    >>> link = download_link(pl.DataFrame({"customer_id": ["a", "b"]}), "x.csv")
    >>> "download='x.csv'" in link and "data-rows='2'" in link
    True
    """
    data = base64.b64encode(csv_bytes(frame)).decode("ascii")
    text = label or f"Download {filename} ({frame.height:,} rows)"
    return (f"<a class='wb-download-link' download='{html.escape(filename)}' "
            f"data-rows='{frame.height}' href='data:text/csv;charset=utf-8;base64,{data}'>"
            f"{html.escape(text)}</a>")


class CsvExport:
    """A "CSV" button that turns a customer list into a download link.

    Parameters
    ----------
    what
        What the list is, for the button's tooltip and the link (``"at-risk customers"``).
    frame
        Callable returning the list (called on click; may raise: the box shows a message).
    filename
        File name stem, made safe with :func:`safe_filename`; a callable for names that
        depend on the current choice.

    Attributes
    ----------
    widget
        The ``HBox`` to show (class ``wb-export``).
    button, link
        The button (``wb-export-button``) and the link area (``wb-download``).
    """

    def __init__(self, what: str, frame: Callable[[], pl.DataFrame],
                 filename: str | Callable[[], str], css_class: str | None = None) -> None:
        self.what = what
        self.frame = frame
        self.filename = filename
        self.button = widgets.Button(description="CSV", icon="download",
                                     tooltip=f"Download the {what} as CSV",
                                     layout=widgets.Layout(width="auto"))
        self.button.add_class("wb-export-button")
        self.link = widgets.HTML()
        self.link.add_class("wb-download")
        self.widget = widgets.HBox([self.button, self.link],
                                   layout=widgets.Layout(flex_flow="row wrap",
                                                         align_items="center"))
        self.widget.add_class("wb-export")
        if css_class:
            self.widget.add_class(css_class)
        self.button.on_click(self._on_click)

    def reset(self) -> None:
        """Forget the last link (the list changed)."""
        self.link.value = ""

    def prepare(self) -> pl.DataFrame:
        """Build the list and show its download link; returns the list."""
        frame = self.frame()
        name = self.filename() if callable(self.filename) else self.filename
        cut = frame.height > MAX_ROWS
        frame = frame.head(MAX_ROWS)
        label = (f"Download {safe_filename(name)} ({frame.height:,} {self.what}"
                 + (f", first {MAX_ROWS:,} only" if cut else "") + ")")
        self.link.value = download_link(frame, safe_filename(name), label)
        return frame

    def _on_click(self, _button: widgets.Button) -> None:
        self.button.disabled = True
        try:
            self.prepare()
        except Exception as exc:  # noqa: BLE001 - viewers get a message, not a traceback
            logger.warning("export of %s failed", self.what, exc_info=True)
            self.link.value = (f"<span class='wb-error'>The {html.escape(self.what)} could not "
                               f"be exported: {html.escape(viewer_message(exc))}</span>")
        finally:
            self.button.disabled = False


class AtRiskExport:
    """A dashboard panel (below the Lifetime value panel) downloading the whole at-risk list.

    ``clv_panel.at_risk(state)`` (cached on the state, so the list the tab shows) is built
    only when the button is clicked.  Follows the
    :class:`~workbench.presentation.widgets.panel.Panel` protocol (``widget``, ``title``,
    ``update``).
    """

    title = ""

    def __init__(self, clv_panel: ClvPanel) -> None:
        self.clv_panel = clv_panel
        self.state: DashboardState | None = None
        self.export = CsvExport("at-risk customers", self._list, self._name, "wb-export-at-risk")
        self.widget = widgets.VBox([self.export.widget])
        self.widget.add_class("wb-at-risk-export")

    # The button is shown only after update, which sets the state.
    def _list(self) -> pl.DataFrame:
        assert self.state is not None
        risk = self.clv_panel.at_risk(self.state)
        return risk.sort("rank") if "rank" in risk.columns else risk

    def _name(self) -> str:
        assert self.state is not None
        return f"at risk {self.state.as_of:%Y-%m-%d}"

    def update(self, state: DashboardState) -> None:
        """Keep the state for the next click; drop the last link."""
        self.state = state
        self.export.reset()
        self.widget.layout.display = None if state.no_purchases() is None else "none"
