"""Errors raised on bad input.

Every validation error names the file (or frame), the column and the first offending rows,
so an analyst can open the file and fix it without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class DataValidationError(ValueError):
    """Input data break the data contract (``../shared/DOMAIN.md`` §1).

    Parameters
    ----------
    source
        File path or frame name the data came from.
    column
        The offending column, or ``None`` for a whole-table problem.
    problem
        What is wrong, in words (``"text in a numeric column"``).
    rows
        1-based data-row numbers (the header is not counted) of the first offending rows.
    values
        The offending values, aligned with ``rows``.
    n_rows
        How many rows are affected in all.

    Examples
    --------
    >>> err = DataValidationError("tx.csv", "amount", "text in a numeric column", [3], ["abc"], 1)
    >>> print(err)
    tx.csv: column 'amount': text in a numeric column in 1 row; first rows: 3 ('abc')
    """

    def __init__(
        self,
        source: str,
        column: str | None,
        problem: str,
        rows: Sequence[int] = (),
        values: Sequence[object] = (),
        n_rows: int | None = None,
    ) -> None:
        self.source = source
        self.column = column
        self.problem = problem
        self.rows = list(rows)
        self.values = list(values)
        self.n_rows = len(self.rows) if n_rows is None else n_rows
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.source}: " + (f"column '{self.column}': " if self.column else "")
        text = where + self.problem
        if self.rows:
            plural = "row" if self.n_rows == 1 else "rows"
            values = self.values + [None] * (len(self.rows) - len(self.values))
            shown = ", ".join(
                f"{r} ({v!r})" if i < len(self.values) else str(r)
                for i, (r, v) in enumerate(zip(self.rows, values, strict=True))
            )
            text += f" in {self.n_rows} {plural}; first rows: {shown}"
        return text


class ModelError(RuntimeError):
    """A model cannot be used as asked (not fitted, or fitted on other units)."""
