"""The workbench's errors: one hierarchy, each class also the Python built-in it refines.

::

    WorkbenchError                      base of every error the workbench raises on purpose
    ├── DataValidationError (ValueError)    the data break the data contract (exit code 3)
    ├── ConfigError (ValueError)            bad settings: project file, options, parameters (2)
    │   ├── CommandError                        app.cli: a command cannot do what was asked
    │   ├── ReportParameterError                app.report: a notebook parameter or path
    │   ├── GateError                           app.run_summary: an unreadable --fail-on
    │   └── ServeError                          app.serve: bad host, port or option
    ├── ModelError (RuntimeError)           a model cannot be fitted or used (exit code 5)
    │   ├── ConvergenceError                    the likelihood maximisation did not converge
    │   ├── NotFittedError                      a model used before ``fit``
    │   ├── NotEnoughDataError (ValueError)     too few customers a model needs (clv._fit)
    │   └── UndefinedPredictionError (ValueError)  a prediction undefined for some inputs
    └── CacheError (RuntimeError)           core.cache: a result not stored (exit code 1)

``except ValueError`` / ``except RuntimeError`` clauses written before the hierarchy keep
catching what they caught; ``except WorkbenchError`` catches every error the workbench raises
on purpose (anything else is a bug, or a programming error such as a ``TypeError`` for an
argument of the wrong type).  The exit codes are those of ``workbench`` (:mod:`workbench.app.cli`).

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


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose.

    Examples
    --------
    >>> issubclass(DataValidationError, WorkbenchError), issubclass(ModelError, RuntimeError)
    (True, True)
    """


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


class DataValidationError(WorkbenchError, ValueError):
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


class ModelError(WorkbenchError, RuntimeError):
    """A model cannot be fitted or used as asked (no convergence, not fitted, too few data)."""


class NotFittedError(ModelError):
    """A model was asked for estimates or predictions before :meth:`fit`.

    Examples
    --------
    >>> print(NotFittedError("BetaGeoModel"))
    this BetaGeoModel is not fitted yet; call .fit(summary) first
    """

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(f"this {model} is not fitted yet; call .fit(summary) first")


class ConvergenceError(ModelError):
    """The likelihood maximisation did not converge; no parameters were stored.

    Attributes
    ----------
    model
        Name of the model being fitted.
    optimizer_message
        The optimiser's own message for the best attempt.
    n_iter
        Iterations used by the best attempt.
    grad_norm
        Euclidean norm of the gradient of the (mean) objective at the final point, in
        log-parameter space.
    params
        The natural parameters at the final point (not an estimate).

    Examples
    --------
    >>> err = ConvergenceError("BG/NBD", "ABNORMAL", 12, 0.5, {"r": 0.25})
    >>> err.n_iter, isinstance(err, RuntimeError)
    (12, True)
    """

    def __init__(
        self,
        model: str,
        optimizer_message: str,
        n_iter: int,
        grad_norm: float,
        params: dict[str, float],
    ) -> None:
        self.model = model
        self.optimizer_message = optimizer_message
        self.n_iter = n_iter
        self.grad_norm = grad_norm
        self.params = params
        shown = ", ".join(f"{k}={v:.6g}" for k, v in params.items())
        super().__init__(
            f"{model}: maximum-likelihood fit did not converge after {n_iter} iterations "
            f"(optimizer: {optimizer_message!s}; gradient norm {grad_norm:.3g}; last "
            f"parameters {shown}). Try a larger max_iter, a penalizer > 0, or check the data."
        )


class ConfigError(WorkbenchError, ValueError):
    """Bad settings: a project file (``workbench.toml``), an option or a parameter.

    For a project file the message names the file, the section and the key, says what is
    wrong and what is allowed, in one line: ``workbench.toml: [transactions] columns: unknown
    target 'amout'; allowed: customer_id, order_date, amount, ...``.  Settings that come from
    elsewhere (command-line options, notebook parameters) give the message alone.

    Parameters
    ----------
    source
        The project file (its path as given); or, alone, the whole message.
    where
        The section and key (``"[transactions] columns"``), or ``""`` for the whole file.
    problem
        What is wrong.

    Examples
    --------
    >>> print(ConfigError("workbench.toml", "[project] as_of", "expected 'last' or a date"))
    workbench.toml: [project] as_of: expected 'last' or a date
    >>> print(ConfigError("--port must be between 0 and 65535, got 70000"))
    --port must be between 0 and 65535, got 70000
    """

    def __init__(self, source: str, where: str | None = None, problem: str | None = None) -> None:
        if where is None and problem is None:  # a message alone (an option, a parameter)
            self.source, self.where, self.problem = "", "", str(source)
            super().__init__(str(source))
            return
        self.source = source
        self.where = where or ""
        self.problem = problem or ""
        text = f"{source}: " + (f"{self.where}: " if self.where else "") + self.problem
        super().__init__(clip(text, MAX_MESSAGE_CHARS + 100))


class UndefinedPredictionError(ModelError, ValueError):
    """A model's prediction is mathematically undefined for some inputs (e.g. the
    Gamma-Gamma expected spend when ``p x + q <= 1``); the message says for which and why."""
