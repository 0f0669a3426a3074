"""Errors raised on bad input.

Every validation error names the file (or frame), the column and the first offending rows,
so an analyst can open the file and fix it without reading a traceback.

Messages are short by construction: each offending value is shown cut to
:data:`MAX_VALUE_CHARS` characters, only as many example rows as fit in about
:data:`MAX_MESSAGE_CHARS` characters are listed (the attributes keep all of them), and file
content is never dumped.  ``str(error)`` is for the analyst who owns the file (full path and
values); :meth:`DataValidationError.public_message` is the version to show to dashboard viewers
(the file's base name only, row numbers but no cell values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

#: Longest shown form of one offending value or column name (longer ones end in "…").
MAX_VALUE_CHARS: Final = 40
#: Target length of a whole message; example rows are left off beyond it.
MAX_MESSAGE_CHARS: Final = 300
#: Longest shown form of the source (a longer path keeps its end).
MAX_SOURCE_CHARS: Final = 160


def clip(text: object, limit: int = MAX_VALUE_CHARS) -> str:
    """Text of ``text`` cut to ``limit`` characters, with "…" marking a cut.

    Examples
    --------
    >>> clip("abc"), clip("x" * 50, 5)
    ('abc', 'xxxx…')
    """
    s = str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def base_name(source: str) -> str:
    """The last component of a path (``/srv/data/tx.csv`` -> ``tx.csv``); other names as is.

    Examples
    --------
    >>> base_name("/srv/data/tx.csv"), base_name(r"C:\\data\\tx.csv"), base_name("<frame>")
    ('tx.csv', 'tx.csv', '<frame>')
    """
    name = source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or source


class DataValidationError(ValueError):
    """Input data break the data contract.

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
    >>> DataValidationError("/srv/in/tx.csv", "amount", "not a finite number", [3], ["nan"]
    ...                     ).public_message()
    "tx.csv: column 'amount': not a finite number in 1 row; first rows: 3"
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

    @property
    def short_source(self) -> str:
        """The source without its folders: the file's base name, or the frame's name."""
        return base_name(str(self.source))

    def public_message(self) -> str:
        """The message for people who do not own the data (dashboard viewers).

        Same wording as ``str(error)`` but with the file's base name instead of its full
        (server) path and without the offending cell values: only row numbers are listed.

        Returns
        -------
        str
            At most about :data:`MAX_MESSAGE_CHARS` characters.

        Examples
        --------
        >>> DataValidationError("/home/ann/q1/tx.csv", "order_date", "unparseable date",
        ...                     [4, 9], ["31/02/2024", "x"], 7).public_message()
        "tx.csv: column 'order_date': unparseable date in 7 rows; first rows: 4, 9"
        """
        return self._message(clip(self.short_source, MAX_SOURCE_CHARS), with_values=False)

    def _message(self, source: str | None = None, *, with_values: bool = True) -> str:
        if source is None:
            source = str(self.source)
            if len(source) > MAX_SOURCE_CHARS:
                source = "…" + source[-(MAX_SOURCE_CHARS - 1) :]
        where = f"{source}: " + (f"column '{clip(self.column)}': " if self.column else "")
        text = where + self.problem
        if self.rows:
            plural = "row" if self.n_rows == 1 else "rows"
            text += f" in {self.n_rows} {plural}; first rows: "
            shown: list[str] = []
            for i, r in enumerate(self.rows):
                item = str(r)
                if with_values and i < len(self.values):
                    item += f" ({clip(repr(self.values[i]))})"
                if shown and len(text) + len(", ".join([*shown, item])) > MAX_MESSAGE_CHARS:
                    shown.append("…")
                    break
                shown.append(item)
            text += ", ".join(shown)
        if len(text) > MAX_MESSAGE_CHARS + 100:  # a safety net: problems are written short
            text = clip(text, MAX_MESSAGE_CHARS + 100)
        return text


class ModelError(RuntimeError):
    """A model cannot be used as asked (not fitted, or fitted on other units)."""


class ConfigError(ValueError):
    """A project file (``workbench.toml``) is missing, unreadable or invalid.

    The message names the file, the section and the key, says what is wrong and what is
    allowed, in one line: ``workbench.toml: [transactions] columns: unknown target 'amout';
    allowed: customer_id, order_date, amount, ...``.

    Parameters
    ----------
    source
        The project file (its path as given).
    where
        The section and key (``"[transactions] columns"``), or ``""`` for the whole file.
    problem
        What is wrong.

    Examples
    --------
    >>> print(ConfigError("workbench.toml", "[project] as_of", "expected 'last' or a date"))
    workbench.toml: [project] as_of: expected 'last' or a date
    """

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        text = f"{source}: " + (f"{where}: " if where else "") + problem
        super().__init__(clip(text, MAX_MESSAGE_CHARS + 100))


class UndefinedPredictionError(ModelError, ValueError):
    """A model's prediction is mathematically undefined for some inputs (e.g. the
    Gamma-Gamma expected spend when ``p x + q <= 1``); the message says for which and why."""
