"""Log-space special functions shared by the CLV models.

Everything here works on NumPy arrays, in log space, and stays finite over the range real
customer summaries produce (frequencies in the hundreds, ages in the thousands of days,
recency 0 or equal to ``T``, hypergeometric arguments next to the singular point 1).

Two tools are provided:

* a double-exponential (tanh-sinh) quadrature on ``(0, 1)`` evaluated in log space
  (Takahasi & Mori 1974, "Double exponential formulas for numerical integration", Publ.
  RIMS 9(3)), used where a series would converge too slowly;
* ``log_hyp2f1_a_ap1``: ``log 2F1(a, b; a + 1; z)`` for ``a, b > 0`` and ``0 <= z < 1``,
  the function in the Pareto/NBD likelihood (Fader & Hardie 2005, "A Note on Deriving the
  Pareto/NBD Model and Related Expressions", eqs. 19-20).  Its power series has positive
  terms; it is summed in log space where it converges fast (``z <= 0.6``) and otherwise the
  Euler integral ``2F1(a, b; a+1; z) = a * int_0^1 u^(a-1) (1 - z u)^(-b) du``
  (Abramowitz & Stegun 15.3.1 with ``c = a + 1``) is integrated with the quadrature above,
  using ``1 - z`` passed in separately so that ``1 - z u`` never loses digits near
  ``z -> 1``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.special import log_expit, logsumexp

FloatArray = NDArray[np.float64]

#: Step and half-width (in the DE variable) of the tanh-sinh rule.  With ``t`` in
#: ``[-10, 10]`` the nodes reach ``u = exp(-pi sinh 10) ~ exp(-34600)`` (in log space), so
#: endpoint singularities like ``u^(a-1)`` with ``a`` down to 1e-3 are fully captured.
_DE_STEP = 1.0 / 32.0
_DE_HALF_WIDTH = 10.0
_CHUNK = 4096


def _de_nodes() -> tuple[FloatArray, FloatArray, FloatArray]:
    """Nodes of the tanh-sinh rule on (0, 1), all in log space.

    Returns ``(log_u, log_1mu, log_w)`` with ``u = expit(pi sinh t)``, ``1 - u`` computed
    without cancellation, and ``w = h * du/dt = h * pi cosh(t) * u * (1 - u)``.
    """
    t = np.arange(-_DE_HALF_WIDTH, _DE_HALF_WIDTH + _DE_STEP / 2, _DE_STEP)
    s = np.pi * np.sinh(t)
    log_u = log_expit(s)
    log_1mu = log_expit(-s)
    log_w = np.log(_DE_STEP * np.pi) + np.log(np.cosh(t)) + log_u + log_1mu
    return log_u, log_1mu, log_w


_LOG_U, _LOG_1MU, _LOG_W = _de_nodes()


def log_integrate_unit(
    log_integrand: Callable[[FloatArray, FloatArray], FloatArray],
    n_rows: int,
) -> FloatArray:
    """``log int_0^1 f_i(u) du`` for ``n_rows`` positive integrands at once.

    Parameters
    ----------
    log_integrand
        Called as ``log_integrand(log_u, log_1mu, rows)``: ``log_u`` and ``log_1mu`` have
        shape ``(1, nodes)`` (``log u`` and ``log(1 - u)``, each accurate), ``rows`` is the
        slice of integrands being evaluated; it returns ``log f`` of shape
        ``(len(rows), nodes)``.
    n_rows
        Number of integrands.

    Returns
    -------
    numpy.ndarray
        ``log`` of each integral, shape ``(n_rows,)``.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda lu, l1mu, rows: np.broadcast_to(0.5 * lu, (1, lu.shape[1]))
    >>> round(float(np.exp(log_integrate_unit(f, 1)[0])), 12)  # int_0^1 sqrt(u) du
    0.666666666667
    """
    out = np.empty(n_rows)
    for start in range(0, n_rows, _CHUNK):
        rows = slice(start, min(start + _CHUNK, n_rows))
        vals = log_integrand(_LOG_U[None, :], _LOG_1MU[None, :], rows) + _LOG_W[None, :]
        out[rows] = logsumexp(vals, axis=1)
    return out


def _log_hyp2f1_a_ap1_series(
    a: FloatArray, b: FloatArray, z: FloatArray, max_terms: int = 400
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Log-space power series of ``2F1(a, b; a+1; z)``; returns values and a converged mask.

    Term ``k`` is ``a / (a + k) * (b)_k / k! * z^k`` (all positive for ``a, b > 0``,
    ``z >= 0``); summation stops per row once the terms decrease and the last one is below
    ``1e-17`` of the running sum.
    """
    n = a.shape[0]
    acc = np.zeros(n)  # log of the partial sum; term 0 is 1
    log_c = np.zeros(n)  # log of (b)_k z^k / k!
    converged = np.zeros(n, dtype=bool)
    with np.errstate(divide="ignore"):
        log_z = np.log(z)
    active = np.flatnonzero(z > 0)
    converged[z <= 0] = True
    for k in range(1, max_terms + 1):
        if active.size == 0:
            break
        ba, aa = b[active], a[active]
        log_c[active] += np.log(ba + (k - 1)) - np.log(k) + log_z[active]
        term = np.log(aa) - np.log(aa + k) + log_c[active]
        acc[active] = np.logaddexp(acc[active], term)
        # ratio of the next term to this one: (b + k) z / (k + 1) * (a + k) / (a + k + 1)
        decreasing = (ba + k) * z[active] < (k + 1)
        done = decreasing & (term - acc[active] < -39.0)
        converged[active[done]] = True
        active = active[~done]
    return acc, converged


def log_hyp2f1_a_ap1(
    a: FloatArray | float,
    b: FloatArray | float,
    z: FloatArray | float,
    one_minus_z: FloatArray | float | None = None,
) -> FloatArray:
    """``log 2F1(a, b; a + 1; z)`` for ``a > 0``, ``b > 0`` and ``0 <= z < 1``.

    This is the Gauss hypergeometric function of the Pareto/NBD likelihood (Fader & Hardie
    2005 note, eqs. 19-20: ``a = r + s + x``, ``b = s + 1`` or ``r + x``).  It diverges as
    ``z -> 1`` when ``b >= 1``; in log space it stays finite for every ``z < 1``.

    Parameters
    ----------
    a, b
        Positive parameters (broadcast together with ``z``).
    z
        Argument in ``[0, 1)``.
    one_minus_z
        ``1 - z`` computed by the caller without cancellation (e.g. ``(beta + t) /
        (alpha + t)``); recommended when ``z`` is close to 1.

    Returns
    -------
    numpy.ndarray
        The logarithm of the function, float64, finite.

    Examples
    --------
    >>> from scipy.special import hyp2f1
    >>> import numpy as np
    >>> v = log_hyp2f1_a_ap1(2.5, 1.7, 0.3)
    >>> bool(np.isclose(np.exp(v), hyp2f1(2.5, 1.7, 3.5, 0.3)))
    True
    """
    a, b, z = (np.asarray(v, dtype=float) for v in (a, b, z))
    omz = 1.0 - z if one_minus_z is None else np.asarray(one_minus_z, dtype=float)
    shape = np.broadcast_shapes(a.shape, b.shape, z.shape, omz.shape)
    a, b, z, omz = (np.broadcast_to(v, shape).ravel().astype(float) for v in (a, b, z, omz))
    out = np.empty(a.shape[0])
    small = z <= 0.6
    if small.any():
        vals, ok = _log_hyp2f1_a_ap1_series(a[small], b[small], z[small])
        idx = np.flatnonzero(small)
        out[idx] = vals
        small[idx[~ok]] = False  # fall back to quadrature for these rows
    big = np.flatnonzero(~small)
    if big.size:
        aa, bb, zz, oo = a[big], b[big], z[big], omz[big]
        log_z = np.log(zz)
        log_omz = np.log(oo)

        def integrand(log_u: FloatArray, log_1mu: FloatArray, rows: slice) -> FloatArray:
            ar, br = aa[rows, None], bb[rows, None]
            # log(1 - z u) = log((1 - z) + z (1 - u)), both terms positive
            log_1mzu = np.logaddexp(log_omz[rows, None], log_z[rows, None] + log_1mu)
            return (ar - 1.0) * log_u - br * log_1mzu

        out[big] = np.log(aa) + log_integrate_unit(integrand, big.size)
    return out.reshape(shape)


def log_diff_exp(log_x: FloatArray, log_y: FloatArray) -> FloatArray:
    """``log(exp(log_x) - exp(log_y))`` for ``log_x >= log_y``; ``-inf`` where they are equal.

    Rows where rounding makes ``log_y`` slightly exceed ``log_x`` are treated as equal.
    """
    log_x = np.asarray(log_x, dtype=float)
    log_y = np.asarray(log_y, dtype=float)
    d = np.minimum(log_y - log_x, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(d < 0, log_x + np.log(-np.expm1(d)), -np.inf)
