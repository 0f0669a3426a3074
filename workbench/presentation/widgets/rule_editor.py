"""An interactive segment-rule editor for JupyterLab: R/F ranges -> segment names.

The rule table has one row per rule, ``r``, ``f``, ``m`` (a score 1-5, a range ``2-4`` or
``*``) and ``segment``: the format :func:`workbench.analyses.rfm.load_segment_rules` reads. The
editor shows the rules as editable text boxes; every change re-validates the table with
:func:`~workbench.analyses.rfm.load_segment_rules` (every one of the 125 score cells covered by
exactly one segment) and, when valid, redraws the segment sizes and value of the scored customers.
"Save" writes the table as CSV, ready for the ``segment_rules`` parameter of the reports.

The logic lives in :class:`RuleTable` (plain Python, unit-tested); :class:`RuleEditor` is the
ipywidgets view on it.

Examples
--------
On the demo data (:mod:`workbench.presentation.widgets.demo`: four customers), with the rules
saved to a temporary folder:

>>> import datetime as dt
>>> import tempfile
>>> from pathlib import Path
>>> import workbench as wb
>>> from workbench.presentation.widgets.demo import demo_dataset
>>> from workbench.presentation.widgets.state import DashboardState
>>> summary = DashboardState(demo_dataset(), dt.date(2024, 6, 28)).summary
>>> scores = wb.rfm_scores(summary)
>>> editor = RuleEditor.from_rules("rf_grid", scores, summary)
>>> editor.status.value
'<span class="wb-rule-ok">valid: every score cell has one segment</span>'
>>> int(editor.rules.segment_sizes()["customers"].sum())
4
>>> folder = Path(tempfile.mkdtemp())
>>> editor.rules.save(folder / "my_rules.csv").name
'my_rules.csv'
>>> import shutil; shutil.rmtree(folder)

In a notebook, ``editor`` as the last line of a cell shows the editor.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from workbench.errors import DataValidationError

if TYPE_CHECKING:  # ipywidgets is imported when an editor is made
    import ipywidgets

#: Columns of an editable rule table, in order.
RULE_COLUMNS: tuple[str, ...] = ("r", "f", "m", "segment")


def _rule_frame(rows: Sequence[Sequence[str]]) -> pl.DataFrame:
    """Rows of ``(r, f, m, segment)`` text as a frame of strings."""
    cols = {c: [str(row[i]).strip() for row in rows] for i, c in enumerate(RULE_COLUMNS)}
    return pl.DataFrame(cols, schema=dict.fromkeys(RULE_COLUMNS, pl.String))


@dataclass
class RuleTable:
    """An editable segment rule table and what it gives on a set of scored customers.

    Attributes
    ----------
    rows
        The rules, each ``[r, f, m, segment]`` as text.
    scores
        :func:`workbench.analyses.rfm.rfm_scores` output (``customer_id``, ``R``, ``F``, ``M``...),
        or ``None`` to validate only.
    summary
        Customer summary for the value (``total_spend``); optional.
    """

    rows: list[list[str]] = field(default_factory=list)
    scores: pl.DataFrame | None = None
    summary: pl.DataFrame | None = None

    @classmethod
    def from_rules(
        cls,
        rules: str | os.PathLike[str] | pl.DataFrame = "rf_grid",
        scores: pl.DataFrame | None = None,
        summary: pl.DataFrame | None = None,
    ) -> RuleTable:
        """Start from a shipped table (``"rf_grid"``, ``"three_level"``), a CSV or a frame.

        A table in the ``rfm_code,segment`` format (the shipped ``"default"``) becomes one
        rule per code.

        Examples
        --------
        >>> t = RuleTable.from_rules("rf_grid")
        >>> t.rows[0]
        ['1', '1', '*', 'Lost']
        """
        if isinstance(rules, pl.DataFrame):
            table = rules
        else:
            from workbench.analyses import rfm

            name = os.fspath(rules)
            if name in rfm.SHIPPED_RULES:
                from importlib import resources

                ref = resources.files("workbench.analyses.rules").joinpath(rfm._RULE_FILES[name])
                with resources.as_file(ref) as path:
                    table = pl.read_csv(path, infer_schema=False)
            else:
                table = pl.read_csv(name, infer_schema=False)
        if "rfm_code" in table.columns:
            codes = table["rfm_code"].cast(pl.String).str.strip_chars()
            table = pl.DataFrame({
                "r": codes.str.slice(0, 1), "f": codes.str.slice(1, 1),
                "m": codes.str.slice(2, 1), "segment": table["segment"].cast(pl.String),
            })
        for col in ("r", "f", "m"):
            if col not in table.columns:
                table = table.with_columns(pl.lit("*").alias(col))
        rows = [[str(v) if v is not None else "*" for v in row]
                for row in table.select(RULE_COLUMNS).iter_rows()]
        return cls(rows=rows, scores=scores, summary=summary)

    def frame(self) -> pl.DataFrame:
        """The rules as a frame of text columns ``r, f, m, segment``."""
        return _rule_frame(self.rows)

    def validate(self) -> tuple[pl.DataFrame | None, str | None]:
        """The 125 cells -> segment mapping, or ``None`` and the validation message.

        Uses :func:`workbench.analyses.rfm.load_segment_rules`: a cell no rule covers, or two rules
        giving one cell different segments, is an error.

        Examples
        --------
        >>> t = RuleTable.from_rules("rf_grid")
        >>> cells, problem = t.validate()
        >>> cells.height, problem
        (125, None)
        >>> t.set_cell(0, "segment", "Gone")
        >>> t.validate()[1] is None
        True
        """
        from workbench.analyses.rfm import load_segment_rules

        if not self.rows:
            return None, "the rule table is empty: add a rule"
        blank = [i + 1 for i, row in enumerate(self.rows) if not str(row[3]).strip()]
        if blank:
            return None, f"rule {blank[0]} has no segment name"
        try:
            return load_segment_rules(self.frame()), None
        except DataValidationError as exc:
            return None, str(exc)

    def set_cell(self, row: int, column: str, value: str) -> None:
        """Change one entry (``column`` one of ``r``, ``f``, ``m``, ``segment``)."""
        self.rows[row][RULE_COLUMNS.index(column)] = str(value).strip()

    def add_rule(self, r: str = "*", f: str = "*", m: str = "*", segment: str = "") -> None:
        """Append a rule."""
        self.rows.append([r, f, m, segment])

    def remove_rule(self, row: int) -> None:
        """Delete a rule."""
        del self.rows[row]

    def segment_sizes(self) -> pl.DataFrame | None:
        """Per segment: customers, revenue and shares (``None`` if invalid or no scores).

        Examples
        --------
        >>> import polars as pl
        >>> scores = pl.DataFrame({"customer_id": ["a", "b"], "R": [5, 1], "F": [5, 1],
        ...                        "M": [5, 1], "monetary": [10.0, 2.0]})
        >>> t = RuleTable.from_rules("rf_grid", scores)
        >>> t.segment_sizes().select("segment", "customers").rows()
        [('Champions', 1), ('Lost', 1)]
        """
        cells, problem = self.validate()
        if problem is not None or self.scores is None:
            return None
        from workbench.analyses.rfm import assign_segments

        assert cells is not None  # validate() gives the cells whenever it finds no problem
        segments = assign_segments(self.scores, cells)
        value = "total_spend" if self.summary is not None else "monetary"
        if self.summary is not None:
            segments = segments.join(
                self.summary.select("customer_id", "total_spend"), on="customer_id", how="left"
            )
        return (
            segments.group_by("segment")
            .agg(pl.len().alias("customers"), pl.col(value).sum().alias("revenue"))
            .with_columns(
                (pl.col("customers") / pl.col("customers").sum()).alias("customer_share"),
                (pl.col("revenue") / pl.col("revenue").sum()).alias("revenue_share"),
            )
            .sort(["revenue", "segment"], descending=[True, False])
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the rules as CSV (``r,f,m,segment``) after validating them.

        Raises
        ------
        DataValidationError
            When the table does not give every score cell exactly one segment.
        """
        from workbench.analyses.rfm import load_segment_rules
        from workbench.presentation.export import to_file

        load_segment_rules(self.frame())  # raises with the reason
        return to_file(self.frame(), path)


class RuleEditor:
    """The ipywidgets view of a :class:`RuleTable`: editable rows, sizes, validation, save.

    Display the editor (its ``widget``, or the object itself in a notebook). Every edit
    re-validates; the status line shows the problem or "valid", and the table below shows
    the segment sizes and value under the edited rules.  Adding or removing a rule reuses the
    rows of boxes already shown and closes the ones no longer needed (with their layout and
    style models), so a long editing session does not pile up widget models in the kernel.

    Parameters
    ----------
    rules
        The :class:`RuleTable` to edit.
    save_path
        Default file of the "Save CSV" button.
    on_change
        Called with the :class:`RuleTable` after every valid edit (e.g. to redraw a chart).

    Examples
    --------
    Removing the first rule: the rows below move up into the boxes already shown, and the
    last row of boxes is closed.

    >>> editor = RuleEditor.from_rules("three_level")
    >>> first, last = editor.rows_box.children[0], editor.rows_box.children[-1]
    >>> first.children[-1].click()  # its trash button
    >>> editor.rows_box.children[0] is first, last.comm is None
    (True, True)
    >>> [box.value for box in first.children[:4]] == editor.rules.rows[0]
    True
    """

    def __init__(
        self,
        rules: RuleTable,
        save_path: str | os.PathLike[str] = "segment_rules.csv",
        on_change: Callable[[RuleTable], Any] | None = None,
    ) -> None:
        import ipywidgets as widgets

        self.rules = rules
        self.on_change = on_change
        self._syncing = False  # True while _render_rows writes the rules into shown boxes
        self.status = widgets.HTML()
        self.sizes = widgets.HTML()
        self.rows_box = widgets.VBox()
        self.path = widgets.Text(value=str(save_path), description="CSV file")
        save = widgets.Button(description="Save CSV", icon="save")
        add = widgets.Button(description="Add rule", icon="plus")
        save.on_click(lambda _: self.save())
        add.on_click(lambda _: self._add())
        self.widget = widgets.VBox(
            [self.rows_box, widgets.HBox([add, self.path, save]), self.status, self.sizes]
        )
        self.widget.add_class("wb-rule-editor")
        self._render_rows()
        self.refresh()

    @classmethod
    def from_rules(
        cls,
        rules: str | os.PathLike[str] | pl.DataFrame = "rf_grid",
        scores: pl.DataFrame | None = None,
        summary: pl.DataFrame | None = None,
        **options: Any,
    ) -> RuleEditor:
        """An editor on a shipped table, a CSV or a frame (see :meth:`RuleTable.from_rules`)."""
        return cls(RuleTable.from_rules(rules, scores, summary), **options)

    def _render_rows(self) -> None:
        """Show one row of boxes per rule, in order.

        The rows already shown are reused: row ``i`` keeps its boxes (and their handlers,
        which act on rule ``i``) and gets rule ``i``'s text, without counting as an edit.
        Missing rows are made; rows beyond the last rule are closed with their layout and
        style models (:func:`~workbench.presentation.widgets.panel.close_replaced`).
        """
        from workbench.presentation.widgets.panel import close_replaced

        shown = list(self.rows_box.children)
        rules = self.rules.rows
        self._syncing = True
        try:
            for row, rule in zip(shown, rules, strict=False):
                for box, text in zip(row.children, rule, strict=False):
                    box.value = text
        finally:
            self._syncing = False
        new = [self._make_row(i) for i in range(len(shown), len(rules))]
        self.rows_box.children = [*shown[: len(rules)], *new]
        close_replaced(shown[len(rules):], self.rows_box.children)

    def _make_row(self, i: int) -> ipywidgets.HBox:
        """The boxes of rule ``i`` (``r``, ``f``, ``m``, ``segment``) and its remove button."""
        import ipywidgets as widgets

        row = self.rules.rows[i]
        cells = []
        for j, column in enumerate(RULE_COLUMNS):
            width = "14em" if column == "segment" else "4em"
            box = widgets.Text(value=row[j], layout=widgets.Layout(width=width),
                               continuous_update=False, placeholder=column)
            box.observe(self._on_edit(i, column), names="value")
            cells.append(box)
        remove = widgets.Button(icon="trash", layout=widgets.Layout(width="3em"),
                                tooltip="remove this rule")
        remove.on_click(self._on_remove(i))
        return widgets.HBox([*cells, remove])

    def _on_edit(self, row: int, column: str) -> Callable[[dict], None]:
        def handler(change: dict) -> None:
            if self._syncing:  # _render_rows showing the rules, not the user typing
                return
            self.rules.set_cell(row, column, change["new"])
            self.refresh()

        return handler

    def _on_remove(self, row: int) -> Callable[[Any], None]:
        def handler(_: Any) -> None:
            self.rules.remove_rule(row)
            self._render_rows()
            self.refresh()

        return handler

    def _add(self) -> None:
        self.rules.add_rule()
        self._render_rows()
        self.refresh()

    def refresh(self) -> None:
        """Re-validate and redraw the status line and the segment sizes."""
        import html

        _, problem = self.rules.validate()
        if problem is not None:
            self.status.value = f'<span class="wb-rule-error">{html.escape(problem)}</span>'
            return
        self.status.value = (
            '<span class="wb-rule-ok">valid: every score cell has one segment</span>'
        )
        sizes = self.rules.segment_sizes()
        if sizes is not None:
            self.sizes.value = sizes._repr_html_()
        if self.on_change is not None:
            self.on_change(self.rules)

    def save(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Save the rules as CSV (to the path box's file by default); ``None`` if invalid."""
        target = Path(path) if path is not None else Path(self.path.value)
        try:
            written = self.rules.save(target)
        except DataValidationError as exc:
            import html

            message = html.escape(str(exc))
            self.status.value = f'<span class="wb-rule-error">not saved: {message}</span>'
            return None
        self.status.value = f'<span class="wb-rule-ok">saved to {written}</span>'
        return written

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
