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
_FINE_NODES: dict[int, tuple[FloatArray, FloatArray, FloatArray]] = {}


def _nodes(refine: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The tanh-sinh nodes with the step divided by ``refine`` (cached)."""
    if refine == 1:
        return _LOG_U, _LOG_1MU, _LOG_W
    if refine not in _FINE_NODES:
        t = np.arange(-_DE_HALF_WIDTH, _DE_HALF_WIDTH + _DE_STEP / (2 * refine),
                      _DE_STEP / refine)
        s = np.pi * np.sinh(t)
        log_u, log_1mu = log_expit(s), log_expit(-s)
        log_w = np.log(_DE_STEP / refine * np.pi) + np.log(np.cosh(t)) + log_u + log_1mu
        _FINE_NODES[refine] = (log_u, log_1mu, log_w)
    return _FINE_NODES[refine]


def log_integrate_unit(
    log_integrand: Callable[[FloatArray, FloatArray], FloatArray],
    n_rows: int,
    refine: int = 1,
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
    refine
        Divide the step of the rule by this integer (``refine`` times the nodes): for
        integrands whose scale in ``log u`` or ``log(1 - u)`` is small far from the middle.

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
    log_u, log_1mu, log_w = _nodes(refine)
    chunk = max(_CHUNK // refine, 1)
    out = np.empty(n_rows)
    for start in range(0, n_rows, chunk):
        rows = slice(start, min(start + chunk, n_rows))
        vals = log_integrand(log_u[None, :], log_1mu[None, :], rows) + log_w[None, :]
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


# --------------------------------------------------------------------------- derivatives

#: Nodes whose upper bound (below) is this far under the integral's lower bound (in log
#: space) are skipped by :func:`log_hyp2f1_a_ap1_grad`: at most ``e^-50`` relative each.
_TRIM_MARGIN = 50.0
_LOG_COSH = np.log(_DE_STEP * np.pi) + np.log(
    np.cosh(np.arange(-_DE_HALF_WIDTH, _DE_HALF_WIDTH + _DE_STEP / 2, _DE_STEP)))


def _series_grad(
    a: FloatArray, b: FloatArray, z: FloatArray, max_terms: int = 400, block: int = 16
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """Series of :func:`_log_hyp2f1_a_ap1_series` with its parameter derivatives.

    With ``t_k = a / (a + k) * (b)_k / k! * z^k`` and ``F = sum_k t_k``:
    ``dF/da = sum_k t_k k / (a (a + k))``, ``dF/db = sum_k t_k (psi(b + k) - psi(b))``
    (``psi(b + k) - psi(b) = sum_{j<k} 1 / (b + j)``, DLMF 5.5.2) and
    ``dF/dz = sum_k t_k k / z`` (term-wise differentiation of the power series, DLMF 15.2.1,
    inside its disc of convergence).  All terms are positive.  The terms are generated
    ``block`` at a time for all unfinished rows (cumulative sums of the log term ratios),
    summed relative to the block's largest term and accumulated in log space; a row stops
    after the first block whose last term is decreasing and below ``1e-17`` of the sum (the
    value's stopping rule; the extra terms of the block only add below-rounding amounts).
    Returns ``log F``, the three derivatives of ``log F`` and the converged mask.
    """
    n = a.shape[0]
    acc = np.zeros(n)
    acc_a = np.full(n, -np.inf)
    acc_b = np.full(n, -np.inf)
    acc_z = np.full(n, -np.inf)
    log_c = np.zeros(n)  # log of (b)_k z^k / k! at the last term summed
    harm = np.zeros(n)  # psi(b + k) - psi(b) at the last term summed
    converged = np.zeros(n, dtype=bool)
    with np.errstate(divide="ignore"):
        log_z = np.log(z)
    active = np.flatnonzero(z > 0)
    converged[z <= 0] = True
    for k0 in range(1, max_terms + 1, block):
        if active.size == 0:
            break
        k = np.arange(k0, min(k0 + block, max_terms + 1), dtype=float)[None, :]
        aa, ba = a[active, None], b[active, None]
        bk = ba + (k - 1.0)
        lc = log_c[active, None] + np.cumsum(np.log(bk) - np.log(k) + log_z[active, None],
                                             axis=1)
        hk = harm[active, None] + np.cumsum(1.0 / bk, axis=1)
        term = np.log(aa) - np.log(aa + k) + lc
        m = term.max(axis=1)
        p = np.exp(term - m[:, None])
        s0 = p.sum(axis=1)
        sa = (p * (k / (aa * (aa + k)))).sum(axis=1)
        sb = (p * hk).sum(axis=1)
        sz = p @ k[0]
        acc[active] = np.logaddexp(acc[active], m + np.log(s0))
        acc_a[active] = np.logaddexp(acc_a[active], m + np.log(sa))
        acc_b[active] = np.logaddexp(acc_b[active], m + np.log(sb))
        acc_z[active] = np.logaddexp(acc_z[active], m + np.log(sz))
        log_c[active] = lc[:, -1]
        harm[active] = hk[:, -1]
        k_last = k[0, -1]
        decreasing = (b[active] + k_last) * z[active] < (k_last + 1)
        done = decreasing & (term[:, -1] - acc[active] < -39.0)
        converged[active[done]] = True
        active = active[~done]
    da = np.exp(acc_a - acc)
    db = np.exp(acc_b - acc)
    with np.errstate(divide="ignore", invalid="ignore"):
        dz = np.where(z > 0, np.exp(acc_z - acc) / z, a * b / (a + 1.0))
    return acc, da, db, dz, converged


def _node_range(a: FloatArray, b: FloatArray, log_omz: FloatArray) -> slice:
    """Tanh-sinh nodes that can matter for ``int_0^1 u^(a-1) (1 - z u)^(-b) du`` (rows given).

    For every row the log of the weighted integrand at node ``u_j`` is at most
    ``a_min log u_j + log(h pi cosh t_j) + log(1 - u_j) + min(b_max |log(1 - u_j)|,
    max(-b log(1 - z)))`` (``1 - z u >= max(1 - u, 1 - z)``), and the integral is at least
    ``int_0^1 u^(a-1) du = 1 / a``.  Nodes whose bound is ``_TRIM_MARGIN`` below
    ``-log a_max`` are dropped (the kept range is contiguous).
    """
    a_min, a_max = float(a.min()), float(a.max())
    b_max = float(b.max())
    c_max = float(np.max(-b * log_omz))
    ub = (a_min * _LOG_U + _LOG_COSH + _LOG_1MU
          + np.minimum(b_max * -_LOG_1MU, max(c_max, 0.0)))
    keep = np.flatnonzero(ub >= -np.log(a_max) - _TRIM_MARGIN)
    if keep.size == 0:
        return slice(0, _LOG_U.size)
    return slice(int(keep[0]), int(keep[-1]) + 1)


def _quad_grad(
    a: FloatArray, b: FloatArray, z: FloatArray, omz: FloatArray, chunk: int = 1024
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Euler integral of ``2F1(a, b; a+1; z)`` and its derivatives by tanh-sinh quadrature.

    ``F = a I``, ``I = int_0^1 u^(a-1) (1 - z u)^(-b) du`` (Abramowitz & Stegun 15.3.1), so
    ``d log F/da = 1/a + <log u>``, ``d log F/db = -<log(1 - z u)>`` and
    ``d log F/dz = b <u / (1 - z u)>``, where ``<.>`` averages over the integrand; the
    integrals are differentiated under the integral sign and evaluated with the same fixed
    nodes as :func:`log_integrate_unit` (so the derivatives are those of the discretised
    value).  ``log(1 - z u)`` and ``u / (1 - z u)`` are computed once per distinct
    ``(z, 1 - z)``; rows are sorted by ``a`` and processed in chunks over the nodes that can
    contribute (:func:`_node_range`).
    """
    zo, inv = np.unique(np.stack([z, omz], axis=1), axis=0, return_inverse=True)
    inv = inv.ravel()
    log_1mzu = np.logaddexp(np.log(zo[:, 1])[:, None],
                            np.log(zo[:, 0])[:, None] + _LOG_1MU[None, :])
    ratio = np.exp(_LOG_U[None, :] - log_1mzu)
    n = a.size
    val, da, db, dz = (np.empty(n) for _ in range(4))
    order = np.argsort(a, kind="stable")
    log_omz = np.log(omz)
    for start in range(0, n, chunk):
        idx = order[start:start + chunk]
        ar, br, gi = a[idx], b[idx], inv[idx]
        nodes = _node_range(ar, br, log_omz[idx])
        lu = _LOG_U[nodes]
        lg = log_1mzu[gi, nodes]
        vals = (ar[:, None] - 1.0) * lu[None, :] - br[:, None] * lg + _LOG_W[None, nodes]
        m = vals.max(axis=1)
        p = np.exp(vals - m[:, None])
        s0 = p.sum(axis=1)
        val[idx] = np.log(ar) + m + np.log(s0)
        da[idx] = 1.0 / ar + (p @ lu) / s0
        db[idx] = -np.einsum("ij,ij->i", p, lg) / s0
        dz[idx] = br * np.einsum("ij,ij->i", p, ratio[gi, nodes]) / s0
    return val, da, db, dz


def log_hyp2f1_a_ap1_grad(
    a: FloatArray, b: FloatArray, z: FloatArray, one_minus_z: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`log_hyp2f1_a_ap1` with its partial derivatives w.r.t. ``a``, ``b`` and ``z``.

    Same branches as the value (power series for ``z <= 0.6`` where it converges, Euler
    integral by tanh-sinh quadrature otherwise); the derivatives of the parameters come from
    the series term by term (:func:`_series_grad`) or from the integral differentiated under
    the integral sign (:func:`_quad_grad`).  The ``z`` derivative equals
    ``a b / (a + 1) 2F1(a+1, b+1; a+2; z) / 2F1(a, b; a+1; z)`` (DLMF 15.5.1).  All inputs
    are 1-D arrays of equal length.

    Returns
    -------
    (log F, d log F/da, d log F/db, d log F/dz)

    Examples
    --------
    >>> import numpy as np
    >>> v, da, db, dz = log_hyp2f1_a_ap1_grad(*(np.array([x]) for x in (2.5, 1.7, .3, .7)))
    >>> h = 1e-6
    >>> num = (log_hyp2f1_a_ap1(2.5, 1.7, .3 + h) - log_hyp2f1_a_ap1(2.5, 1.7, .3 - h)) / (2 * h)
    >>> bool(np.isclose(dz[0], num, rtol=1e-7))
    True
    """
    a, b, z, omz = (np.asarray(v, dtype=float).ravel() for v in (a, b, z, one_minus_z))
    n = a.size
    val, da, db, dz = (np.empty(n) for _ in range(4))
    small = z <= 0.6
    if small.any():
        idx = np.flatnonzero(small)
        v, ga, gb, gz, ok = _series_grad(a[idx], b[idx], z[idx])
        val[idx], da[idx], db[idx], dz[idx] = v, ga, gb, gz
        small[idx[~ok]] = False
    big = np.flatnonzero(~small)
    if big.size:
        val[big], da[big], db[big], dz[big] = _quad_grad(a[big], b[big], z[big], omz[big])
    return val, da, db, dz
