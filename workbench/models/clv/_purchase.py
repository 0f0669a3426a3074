"""What the two purchase models (BG/NBD and Pareto/NBD) share: validation of the summary and
the frame-returning prediction methods built on each model's array formulas.

Subclasses implement ``p_alive_array``, ``expected_purchases_array``,
``expected_purchases_new_customer_array`` and ``probability_of_n_purchases_array``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numpy.typing import NDArray

from workbench.models.clv._fit import (
    FittedParamsMixin,
    FloatArray,
    as_horizon,
    id_frame,
    validate_int,
    validate_positive_number,
    validate_summary,
)

#: Summary columns a purchase model reads (time in the model's unit).
SUMMARY_COLUMNS = ("frequency", "recency", "T")


class PurchaseModelBase(FittedParamsMixin):
    """Constructor validation and the frame API of a purchase model.

    Parameters
    ----------
    penalizer
        L2 penalty on the mean negative log-likelihood (``lifetimes`` convention); 0 = MLE.
    max_iter, tol
        Optimiser iteration limit and gradient tolerance.
    """

    def __init__(self, penalizer: float = 0.0, max_iter: int = 1000, tol: float = 1e-8) -> None:
        self.penalizer = validate_positive_number("penalizer", penalizer, allow_zero=True)
        self.max_iter = validate_int("max_iter", max_iter, 1)
        self.tol = validate_positive_number("tol", tol)

    if TYPE_CHECKING:
        # the array formulas each model implements (declared for the type checker only)
        def p_alive_array(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray: ...

        def expected_purchases_array(self, horizon: float | FloatArray, x: FloatArray,
                                     t_x: FloatArray, T: FloatArray) -> FloatArray: ...

        def expected_purchases_new_customer_array(self, t: float | FloatArray) -> FloatArray: ...

        def probability_of_n_purchases_array(self, n: NDArray[np.int64] | int,
                                             t: float) -> FloatArray: ...

    def _arrays(self, summary: pl.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
        d = validate_summary(summary, SUMMARY_COLUMNS)
        return d["frequency"], d["recency"], d["T"]

    def probability_alive(self, summary: pl.DataFrame) -> pl.DataFrame:
        """P(alive) per customer: ``customer_id``, ``p_alive`` (see ``p_alive_array``)."""
        x, t_x, T = self._arrays(summary)
        return id_frame(summary).with_columns(pl.Series("p_alive", self.p_alive_array(x, t_x, T)))

    def expected_purchases(self, summary: pl.DataFrame, horizon: float) -> pl.DataFrame:
        """Conditional expected purchases in the next ``horizon`` time units.

        Returns ``customer_id``, ``expected_purchases`` (see ``expected_purchases_array``).
        """
        h = as_horizon("horizon", horizon)
        x, t_x, T = self._arrays(summary)
        vals = self.expected_purchases_array(h, x, t_x, T)
        return id_frame(summary).with_columns(pl.Series("expected_purchases", vals))

    def expected_purchases_new_customer(self, t: float | Sequence[float]) -> pl.DataFrame:
        """Population ``E[X(t)]`` for each ``t``: columns ``t``, ``expected_purchases``."""
        ts = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(~np.isfinite(ts)) or np.any(ts < 0):
            raise ValueError("t must be finite and >= 0")
        return pl.DataFrame({"t": ts, "expected_purchases":
                             self.expected_purchases_new_customer_array(ts)})

    def probability_of_n_purchases(self, n: int | Sequence[int], horizon: float) -> pl.DataFrame:
        """``P(X(horizon) = n)`` for a new customer: columns ``n``, ``probability``."""
        h = as_horizon("horizon", horizon)
        ns = np.atleast_1d(np.asarray(n))
        if ns.dtype.kind not in "iu" or np.any(ns < 0):
            raise ValueError(f"n must be non-negative integers, got {n!r}")
        return pl.DataFrame({"n": ns.astype(np.int64),
                             "probability": self.probability_of_n_purchases_array(ns, h)})
