"""Maximum-likelihood machinery shared by the CLV models.

* input validation of customer summaries (a clear ``DataValidationError`` naming the column
  and the first offending rows) and the minimum data of each model
  (:class:`NotEnoughDataError`, a :class:`~workbench.errors.ModelError`, stating the minimum
  and what was found);
* collapsing customers to sufficient statistics (distinct rows plus a weight, the number of
  customers sharing them), so a fit costs what the distinct rows cost;
* optimisation in log-parameter space with :func:`scipy.optimize.minimize` (L-BFGS-B with
  an analytic gradient where the model supplies one, a central-difference gradient
  otherwise), several starting points, and :class:`ConvergenceError` when no start
  converges;
* standard errors from the observed information matrix: the Hessian of the total
  (weighted) negative log-likelihood with respect to the log-parameters, differentiated
  numerically at the optimum, inverted, and carried to the natural parameters with the delta
  method (``se(theta) = theta * se(log theta)``).  Confidence intervals are computed on the
  log scale and exponentiated (always positive, asymmetric); Wald intervals on the natural
  scale are available too.

Objective convention (as in ``lifetimes``, so penalised fits are comparable):
``-sum_i w_i log L_i / sum_i w_i + penalizer * sum_k theta_k^2`` where ``theta`` are the
natural parameters.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.stats import norm

from workbench.errors import (  # ConvergenceError: defined in workbench.errors, kept here
    ConvergenceError,
    DataValidationError,
    ModelError,
    NotFittedError,
)

FloatArray = NDArray[np.float64]
#: ``row_loglik(log_params, want_grad) -> (per-row log-likelihood, gradient or None)``; the
#: gradient is one per-row array per parameter, taken w.r.t. the log-parameters.
RowLogLik = Callable[[FloatArray, bool], tuple[FloatArray, Sequence[FloatArray] | None]]
#: ``total_loglik(log_params, want_grad) -> (weighted total log-likelihood, gradient of the
#: total w.r.t. the log-parameters or None)``.
TotalLogLik = Callable[[FloatArray, bool], tuple[float, FloatArray | None]]


def weighted_total(row_loglik: RowLogLik, weights: FloatArray) -> TotalLogLik:
    """Turn a per-row log-likelihood into the weighted total (and its gradient)."""

    def total(log_params: FloatArray, want_grad: bool) -> tuple[float, FloatArray | None]:
        ll, g = row_loglik(log_params, want_grad)
        val = float(weights @ ll)
        if not want_grad or g is None:
            return val, None
        return val, np.array([weights @ gk for gk in g])

    return total

_MAX_SHOWN = 5


# --------------------------------------------------------------------------- validation


#: Fewest customers with repeat purchases a purchase model (BG/NBD, Pareto/NBD) is fitted on
#: (fewer is refused with :class:`NotEnoughDataError`).
MIN_REPEAT_CUSTOMERS = 2
#: Below this many customers with repeat purchases a fit is made but its ``diagnosis`` says
#: the estimates are unstable (four parameters from a handful of repeaters).
STABLE_REPEAT_CUSTOMERS = 30


def few_repeaters_sentence(model: str, n_repeat: float) -> str | None:
    """The diagnosis sentence for a fit on fewer than :data:`STABLE_REPEAT_CUSTOMERS`
    repeat customers, or ``None``."""
    if n_repeat >= STABLE_REPEAT_CUSTOMERS:
        return None
    return (f"{model} was fitted on only {n_repeat:,.0f} customers with repeat purchases; at "
            f"least {STABLE_REPEAT_CUSTOMERS} are needed for stable estimates, so treat the "
            "predictions as rough.")


class NotEnoughDataError(ModelError, ValueError):
    """Too few customers of the kind a model needs to be fitted.

    A :class:`~workbench.errors.ModelError` (the model cannot be fitted on these data) and,
    for callers written before it existed, a ``ValueError``.  The message states the minimum
    and what was found: ``"BG/NBD needs at least 2 customers with repeat purchases; found 0
    among 3 customers"``.
    """


def require_customers(
    model_name: str, what: str, found: float, minimum: int, n_customers: float
) -> None:
    """Raise :class:`NotEnoughDataError` when ``found < minimum``.

    Examples
    --------
    >>> require_customers("BG/NBD", "with repeat purchases", 0, 2, 3)
    Traceback (most recent call last):
    ...
    workbench.models.clv._fit.NotEnoughDataError: BG/NBD needs at least 2 customers with repeat \
purchases; found 0 among 3 customers
    """
    if found >= minimum:
        return
    among = ("(the summary has no customers)" if not n_customers
             else f"among {n_customers:,.0f} customer{'s' if n_customers != 1 else ''}")
    raise NotEnoughDataError(
        f"{model_name} needs at least {minimum} customers {what}; found {found:,.0f} {among}")


def _first_rows(df: pl.DataFrame, mask: pl.Series) -> str:
    idx = np.flatnonzero(mask.fill_null(True).to_numpy())[:_MAX_SHOWN]
    if "customer_id" in df.columns:
        ids = df["customer_id"].gather(idx).to_list()
        return ", ".join(f"row {i} (customer_id={c!r})" for i, c in zip(idx, ids, strict=True))
    return ", ".join(f"row {i}" for i in idx)


def _fail(df: pl.DataFrame, column: str, problem: str, mask: pl.Series) -> None:
    n_bad = int(mask.fill_null(True).sum())
    raise DataValidationError(
        "customer summary", column,
        f"{problem} in {n_bad} row{'s' if n_bad != 1 else ''}; "
        f"first offending rows: {_first_rows(df, mask)}"
    )


def validate_summary(
    summary: pl.DataFrame,
    columns: Sequence[str],
    *,
    check_recency: bool = True,
    what: str = "customer summary",
) -> dict[str, FloatArray]:
    """Check a customer summary and return its columns as float64 arrays.

    Checks: the frame is a Polars DataFrame; every column in ``columns`` exists, is
    numeric, has no nulls / NaN / infinities; ``frequency`` is a non-negative integer
    (``monetary_value`` may be negative: net returns; the spend model excludes it);
    ``recency`` and ``T`` are non-negative and ``recency <= T`` (when ``check_recency``).

    Raises
    ------
    TypeError
        If ``summary`` is not a Polars DataFrame.
    workbench.errors.DataValidationError
        Naming the column, the problem, how many rows and the first offending rows.
    """
    if not isinstance(summary, pl.DataFrame):
        raise TypeError(f"{what} must be a polars.DataFrame, got {type(summary).__name__}")
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise DataValidationError(
            what, None, f"missing required column(s) {missing}; it has {summary.columns}"
        )
    out: dict[str, FloatArray] = {}
    for c in columns:
        s = summary[c]
        if not s.dtype.is_numeric():
            raise DataValidationError(what, c, f"must be numeric, got dtype {s.dtype}")
        s = s.cast(pl.Float64)
        bad = s.is_null() | s.is_nan() | s.is_infinite()
        if bad.any():
            _fail(summary, c, "null, NaN or infinite values", bad)
        out[c] = s.to_numpy().astype(np.float64, copy=False)
    for c in ("frequency", "recency", "T"):
        if c in out:
            neg = pl.Series(out[c] < 0)
            if neg.any():
                _fail(summary, c, "negative values", neg)
    if "frequency" in out:
        frac = pl.Series(out["frequency"] != np.floor(out["frequency"]))
        if frac.any():
            _fail(summary, "frequency", "non-integer values (repeat-purchase counts)", frac)
    if check_recency and "recency" in out and "T" in out:
        over = pl.Series(out["recency"] > out["T"] * (1 + 1e-12))
        if over.any():
            _fail(summary, "recency", "recency greater than T", over)
    return out


def history_rows(
    model: str,
    summary: pl.DataFrame,
    weights_col: str | None,
    columns: Sequence[str] = ("frequency", "recency", "T"),
    grouped: Sequence[str] | None = None,
) -> tuple[dict[str, FloatArray], FloatArray]:
    """The distinct customer histories a purchase model is fitted on, with their weights.

    Validates ``columns`` (and ``weights_col``) of the summary, groups identical rows of the
    ``grouped`` columns (default: all of ``columns``) into one weighted row, drops rows of
    weight zero and requires :data:`MIN_REPEAT_CUSTOMERS` customers with repeat purchases
    (:class:`NotEnoughDataError` otherwise, naming ``model``).

    Returns
    -------
    stats : dict of numpy.ndarray
        One array per grouped column.
    weights : numpy.ndarray
        Customers per distinct row.
    """
    cols = list(columns) + ([weights_col] if weights_col else [])
    data = validate_summary(summary, cols)
    w = data.pop(weights_col) if weights_col else None
    keys = list(grouped) if grouped is not None else list(columns)
    stats, weights = group_rows({c: data[c] for c in keys}, w)
    keep = weights > 0
    stats = {c: v[keep] for c, v in stats.items()}
    weights = weights[keep]
    x = stats["frequency"]
    require_customers(model, "with repeat purchases", float(weights[x > 0].sum()),
                      MIN_REPEAT_CUSTOMERS, float(weights.sum()))
    return stats, weights


def validate_positive_number(name: str, value: object, *, allow_zero: bool = False) -> float:
    """Return ``value`` as float after checking it is a finite (non-)negative real number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def validate_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` after checking it is an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def group_rows(
    arrays: dict[str, FloatArray], weights: FloatArray | None = None
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Collapse rows to their distinct combinations of ``arrays`` with summed weights.

    Parameters
    ----------
    arrays
        Equal-length columns (e.g. frequency, recency, T).
    weights
        Per-row weights (default 1 per row).

    Returns
    -------
    (distinct columns, weights)
        The sufficient statistics, sorted: the weighted likelihood over the distinct rows
        equals the likelihood over all rows.
    """
    n = len(next(iter(arrays.values())))
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    frame = pl.DataFrame({**{k: v for k, v in arrays.items()}, "__w": w})
    # sorted, so the likelihood sums in the same order every run: a fit is reproducible to the
    # last bit (a parallel group-by returns its groups in varying order)
    grouped = (frame.lazy().group_by(list(arrays)).agg(pl.col("__w").sum())
               .sort(list(arrays)).collect())
    return (
        {k: grouped[k].to_numpy().astype(np.float64) for k in arrays},
        grouped["__w"].to_numpy().astype(np.float64),
    )


def unique_inverse(arrays: Sequence[FloatArray]) -> tuple[list[FloatArray], NDArray[np.int64]]:
    """Distinct rows of the given columns and, per input row, the index of its distinct row.

    ``unique[k][inverse] == arrays[k]`` exactly; used to score millions of customers at the
    cost of their distinct histories.  Rows are hashed (Polars) and the hashes sorted; the
    result is verified and, on a hash collision, recomputed with an exact dense rank.
    """
    arrays = [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in arrays]
    frame = pl.DataFrame({f"c{i}": a for i, a in enumerate(arrays)})
    if frame.height == 0:
        return [a.copy() for a in arrays], np.zeros(0, dtype=np.int64)
    hashes = frame.select(pl.struct(frame.columns).hash()).to_series().to_numpy()
    _, first, inv = np.unique(hashes, return_index=True, return_inverse=True)
    uniq = [a[first] for a in arrays]
    if all(np.array_equal(u[inv], a) for u, a in zip(uniq, arrays, strict=True)):
        return uniq, inv.astype(np.int64)
    rank = frame.select(pl.struct(frame.columns).rank("dense")).to_series().to_numpy()
    inv = rank.astype(np.int64) - 1
    out = []
    for a in arrays:
        u = np.empty(int(inv.max()) + 1, dtype=np.float64)
        u[inv] = a
        out.append(u)
    return out, inv


# --------------------------------------------------------------------------- optimisation


@dataclass
class FitOutcome:
    """What :func:`maximize_likelihood` found."""

    log_params: FloatArray
    log_likelihood: float
    n_iter: int
    grad_norm: float
    message: str
    hessian_log: FloatArray = field(repr=False)


def _fd_gradient(f: Callable[[FloatArray], float], x: FloatArray, h: float = 1e-6) -> FloatArray:
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def maximize_likelihood(
    model: str,
    names: Sequence[str],
    total_loglik: TotalLogLik,
    total_weight: float,
    starts: Sequence[FloatArray],
    *,
    penalizer: float,
    max_iter: int,
    tol: float,
    all_starts: bool = False,
    hessian: bool = True,
    central_hessian: bool = True,
    hess_inv0: FloatArray | None = None,
) -> FitOutcome:
    """Maximise ``sum_i w_i log L_i`` over log-parameters from several starts.

    The objective is the mean negative log-likelihood plus the L2 penalty (see module
    docstring).  Each start runs L-BFGS-B; a run counts as converged when the optimiser
    reports success, or when it stopped in the line search with a gradient norm below
    ``max(10 * tol, 1e-6)`` (the optimum is then reached to machine precision).  The best
    converged run wins.

    Raises
    ------
    ConvergenceError
        When no start converges; reports the best attempt.
    """
    total_w = float(total_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        has_grad = total_loglik(np.asarray(starts[0], dtype=float), True)[1] is not None

    def objective(x: FloatArray) -> float:
        ll, _ = total_loglik(x, False)
        theta = np.exp(x)
        val = -ll / total_w + penalizer * float(theta @ theta)
        return val if np.isfinite(val) else 1e300

    def value_and_grad(x: FloatArray) -> tuple[float, FloatArray]:
        if not has_grad:
            return objective(x), _fd_gradient(objective, x)
        ll, g = total_loglik(x, True)
        assert g is not None
        theta = np.exp(x)
        val = -ll / total_w + penalizer * float(theta @ theta)
        grad = -g / total_w + 2 * penalizer * theta * theta
        if not (np.isfinite(val) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros_like(x)
        return val, grad

    best: tuple[float, Any, float, bool] | None = None
    for i_start, x0 in enumerate(starts):
        x0 = np.asarray(x0, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if i_start == 0 and hess_inv0 is not None:
                # warm start with a curvature estimate: BFGS takes Newton-like steps at once
                res = minimize(value_and_grad, x0, jac=True, method="BFGS",
                               options={"maxiter": max_iter, "gtol": tol,
                                        "hess_inv0": hess_inv0})
            else:
                res = minimize(
                    value_and_grad,
                    x0,
                    jac=True,
                    method="L-BFGS-B",
                    options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxls": 50},
                )
        _, g = value_and_grad(res.x)
        gnorm = float(np.linalg.norm(g))
        hit_limit = res.nit >= max_iter or res.status == 1
        ok = bool(np.isfinite(res.fun)) and res.fun < 1e299 and not hit_limit and (
            res.success or gnorm <= max(10 * tol, 1e-6)
        )
        cand = (float(res.fun), res, gnorm, ok)
        if best is None or (ok and not best[3]) or (ok == best[3] and cand[0] < best[0]):
            best = cand
        if ok and not all_starts:
            break
    assert best is not None
    fun, res, gnorm, ok = best
    if not ok:
        raise ConvergenceError(
            model,
            str(res.message),
            int(res.nit),
            gnorm,
            dict(zip(names, np.exp(res.x).tolist(), strict=True)),
        )
    x = np.asarray(res.x, dtype=float)
    ll_total = float(total_loglik(x, False)[0])

    # observed information in log-parameter space, for the total (not mean) objective
    def total_objective(z: FloatArray) -> float:
        return total_w * objective(z)

    if not hessian:
        hess = np.full((x.size, x.size), np.nan)
    elif has_grad:
        def total_grad(z: FloatArray) -> FloatArray:
            return total_w * value_and_grad(z)[1]

        hess = hessian_from_gradient(total_grad, x, central=central_hessian)
    else:
        hess = hessian_from_function(total_objective, x)
    return FitOutcome(
        log_params=x,
        log_likelihood=ll_total,
        n_iter=int(res.nit),
        grad_norm=gnorm,
        message=str(res.message),
        hessian_log=hess,
    )


def hessian_from_gradient(
    grad: Callable[[FloatArray], FloatArray], x: FloatArray, h: float = 1e-5,
    central: bool = True,
) -> FloatArray:
    """Finite-difference Jacobian of an analytic gradient, symmetrised.

    Central differences (error ``O(h^2)``), or forward differences (``O(h)``, half the
    gradient evaluations; used for very large data, where the standard errors need only a
    few digits).
    """
    n = x.size
    hess = np.empty((n, n))
    g0 = None if central else grad(x)
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        if central:
            hess[:, i] = (grad(x + e) - grad(x - e)) / (2 * h)
        else:
            assert g0 is not None  # computed above when not central
            hess[:, i] = (grad(x + e) - g0) / h
    return 0.5 * (hess + hess.T)


def hessian_from_function(
    f: Callable[[FloatArray], float], x: FloatArray, h: float = 1e-3
) -> FloatArray:
    """Second-order central differences of a scalar function (error ``O(h^2)``)."""
    n = x.size
    hess = np.empty((n, n))
    f0 = f(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h
        hess[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h**2
        for j in range(i + 1, n):
            ej = np.zeros(n)
            ej[j] = h
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h**2)
            hess[i, j] = hess[j, i] = v
    return hess


# --------------------------------------------------------------------------- base class


class FittedParamsMixin:
    """Parameter reporting shared by the models (``params_``, SEs, intervals, table)."""

    _param_names: tuple[str, ...] = ()
    _model_name: str = "model"
    params_: dict[str, float]
    log_likelihood_: float
    standard_errors_: dict[str, float]
    covariance_log_: FloatArray
    n_customers_: int
    n_distinct_: int
    n_iter_: int

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(type(self).__name__)

    #: Plain-language sentences on what is wrong with the fit (empty when it is fine); see
    #: :meth:`_store_fit` and the models' ``fit``.  Shown in reports and the dashboard.
    diagnosis: list[str]
    #: True when a parameter ran to a boundary or the standard errors are undefined.
    is_degenerate: bool

    def _diagnose(self, sentence: str, degenerate: bool = True) -> None:
        """Add a diagnosis sentence (and mark the fit degenerate unless told otherwise)."""
        if sentence not in self.diagnosis:
            self.diagnosis.append(sentence)
        self.is_degenerate = self.is_degenerate or degenerate


    def _diagnose_rates_and_data(self, r: float, n_repeat: float) -> None:
        """Sentences every purchase model shares: identical purchase rates (``r`` huge) and
        few repeat customers (:func:`few_repeaters_sentence`)."""
        if r > 1e4:
            self._diagnose(
                f"The purchase rates look identical across customers (r = {r:.3g}): the "
                "heterogeneity of purchase rates is not identified from these data.")
        few = few_repeaters_sentence(getattr(self, "_model_name", "the model"), n_repeat)
        if few:
            self._diagnose(few, degenerate=False)

    def _diagnose_no_dropout(self, a: float, b: float) -> None:
        """The BG/NBD and MBG/NBD sentence for a vanished drop-out process: a mean drop-out
        probability per purchase ``a / (a + b)`` below 0.001 (docs/clv.md, 'Degenerate
        fits')."""
        if a / (a + b) < 1e-3:
            self._diagnose(
                f"The data do not show customers dropping out (a = {a:.3g}, b = {b:.3g}: "
                f"mean dropout probability per purchase {a / (a + b):.2g}); predictions "
                "equal those of an NBD model, and P(alive) is close to 1 for everyone.")

    def _store_fit(self, out: FitOutcome, n_customers: float, n_distinct: int) -> None:
        """Store a fit; start :attr:`diagnosis` with what is generic to every model.

        Generic checks: the Hessian of the log-likelihood not positive definite (standard
        errors undefined), and a parameter beyond ``1e6`` or below ``1e-6`` (run to a
        boundary of the parameter space).  Models add their own sentences (what a
        boundary means for predictions) after calling this.
        """
        self.diagnosis = []
        self.is_degenerate = False
        theta = np.exp(out.log_params)
        self.params_ = dict(zip(self._param_names, theta.tolist(), strict=True))
        self.log_likelihood_ = out.log_likelihood
        self.n_customers_ = int(round(n_customers))
        self.n_distinct_ = n_distinct
        self.n_iter_ = out.n_iter
        try:
            cov = cast(FloatArray, np.linalg.inv(out.hessian_log))  # float64 in, float64 out
            if np.any(np.diag(cov) <= 0) or not np.all(np.isfinite(cov)):
                raise np.linalg.LinAlgError("not positive definite")
        except np.linalg.LinAlgError:
            warnings.warn(
                f"{self._model_name}: the Hessian of the log-likelihood is not positive "
                "definite at the optimum; standard errors are NaN (weakly identified model?)",
                RuntimeWarning,
                stacklevel=3,
            )
            cov = np.full_like(out.hessian_log, np.nan)
            self._diagnose(
                "The standard errors are undefined: the data do not pin down the parameters "
                "(the likelihood is flat in some direction at the optimum), so the estimates "
                "and predictions are uncertain by an unknown amount.")
        for name, value in zip(self._param_names, theta.tolist(), strict=True):
            if value > 1e6 or value < 1e-6:
                self._diagnose(
                    f"The {self._model_name} parameter {name} ran to a boundary ({value:.3g}): "
                    "the data cannot determine it.")
        self.covariance_log_ = cov
        se_log = np.sqrt(np.diag(cov))
        self.standard_errors_ = dict(zip(self._param_names, (theta * se_log).tolist(), strict=True))

    def confidence_intervals(self, level: float = 0.95, method: str = "log") -> pl.DataFrame:
        """Confidence intervals of the parameters from the observed information matrix.

        Parameters
        ----------
        level
            Coverage, in (0, 1).
        method
            ``"log"`` (default): ``exp(log theta +- z se(log theta))``, positive and
            asymmetric; ``"wald"``: ``theta +- z se(theta)`` on the natural scale (what
            ``lifetimes`` reports).

        Returns
        -------
        polars.DataFrame
            ``parameter``, ``estimate``, ``lower``, ``upper``.
        """
        self._check_fitted()
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        if method not in ("log", "wald"):
            raise ValueError(f"method must be 'log' or 'wald', got {method!r}")
        z = float(norm.ppf(0.5 + level / 2))
        theta = np.array([self.params_[k] for k in self._param_names])
        se = np.array([self.standard_errors_[k] for k in self._param_names])
        if method == "log":
            se_log = se / theta
            lower, upper = theta * np.exp(-z * se_log), theta * np.exp(z * se_log)
        else:
            lower, upper = theta - z * se, theta + z * se
        return pl.DataFrame(
            {"parameter": list(self._param_names), "estimate": theta, "lower": lower,
             "upper": upper}
        )

    def summary_table(self, level: float = 0.95) -> pl.DataFrame:
        """Estimates, standard errors and log-scale confidence intervals, one row each.

        Columns: ``parameter``, ``estimate``, ``std_error``, ``lower``, ``upper``; the
        frame's last rows are not used for fit statistics, those are attributes
        (``log_likelihood_``, ``n_customers_``).
        """
        ci = self.confidence_intervals(level)
        return ci.with_columns(
            pl.Series("std_error", [self.standard_errors_[k] for k in self._param_names])
        ).select("parameter", "estimate", "std_error", "lower", "upper")

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"{type(self).__name__}(fitted: {ps}; log-likelihood {self.log_likelihood_:.2f})"
        return f"{type(self).__name__}(not fitted)"


# --------------------------------------------------------------------------- frames


def id_frame(summary: pl.DataFrame) -> pl.DataFrame:
    """The ``customer_id`` column of ``summary`` (empty-column frame when it has none)."""
    if "customer_id" in summary.columns:
        return summary.select("customer_id")
    return pl.DataFrame({"row": np.arange(summary.height)})


def as_horizon(name: str, value: object) -> float:
    """Validate a prediction horizon / time span (finite, >= 0) and return it as float."""
    return validate_positive_number(name, value, allow_zero=True)


#: Above this many distinct rows a fit is warm-started from a random subset of them (the
#: subset's optimum and curvature let BFGS finish the full likelihood in a few steps).
WARM_START_ROWS = 200_000


def warm_start_rows(n_rows: int) -> NDArray[np.int64] | None:
    """Indices of the random subset for a warm start (seeded, so fits are reproducible), or
    ``None`` when ``n_rows`` distinct rows are few enough to fit directly."""
    if n_rows <= WARM_START_ROWS:
        return None
    return np.random.default_rng(0).choice(n_rows, max(WARM_START_ROWS // 8, 2), replace=False)


def warm_start(
    model: str,
    names: Sequence[str],
    subset_loglik: TotalLogLik,
    subset_weight: float,
    starts: Sequence[FloatArray],
    *,
    penalizer: float,
    max_iter: int,
    tol: float,
) -> tuple[list[FloatArray], FloatArray | None]:
    """Fit the likelihood of a subset (:func:`warm_start_rows`) to start the full fit near it.

    Returns the starts with the subset's optimum first, and the inverse of the subset's mean
    curvature as BFGS's initial inverse Hessian (``None`` when that curvature is not positive
    definite).  A subset fit that does not converge leaves the starts as they were.
    """
    try:
        warm = maximize_likelihood(model, names, subset_loglik, subset_weight, starts,
                                   penalizer=penalizer, max_iter=max_iter, tol=tol)
    except ConvergenceError:
        return list(starts), None
    h_mean = warm.hessian_log / subset_weight
    hess_inv0 = None
    if np.all(np.linalg.eigvalsh(h_mean) > 0):
        inv = np.linalg.inv(h_mean)
        hess_inv0 = 0.5 * (inv + inv.T)
    return [warm.log_params, *starts], hess_inv0
