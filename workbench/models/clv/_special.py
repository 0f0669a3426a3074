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
  terms; it is summed, vectorised over rows in blocks of terms, where it converges fast
  (``z <= 0.6``) and otherwise the Euler integral
  ``2F1(a, b; a+1; z) = a * int_0^1 u^(a-1) (1 - z u)^(-b) du`` (Abramowitz & Stegun 15.3.1
  with ``c = a + 1``) is integrated with an adaptive version of the quadrature above (the
  step halved per row until the estimate settles), using ``1 - z`` passed in separately so
  that ``1 - z u`` never loses digits near ``z -> 1``.  Against a 40-digit mpmath reference
  on ``a, b`` in ``[1e-2, 5e3]`` and ``1 - z`` in ``[1e-8, 1]`` the relative error is at most
  7e-12 (the rounding of a logarithm of magnitude ``b |log(1 - z)|`` up to 1e5).
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
    log_integrand: Callable[[FloatArray, FloatArray, slice], FloatArray],
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
    a: FloatArray, b: FloatArray, z: FloatArray, max_terms: int = 400, block: int = 16
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Power series of ``log 2F1(a, b; a+1; z)``; returns values and a converged mask.

    Term ``k`` is ``t_k = a / (a + k) * c_k`` with ``c_k = (b)_k / k! * z^k`` (DLMF 15.2.1
    with ``c = a + 1``: ``(a)_k / (a + 1)_k = a / (a + k)``; all terms positive for
    ``a, b > 0``, ``z >= 0``).  The terms are generated ``block`` at a time for every
    unfinished row at once, without a Python loop per term or per row: within a block,
    ``c_k`` relative to the block's first coefficient is the cumulative product of the
    ratios ``(b + k - 1) z / k`` (at most ``((b + 1) z)^block``, far inside the float64
    range for ``b`` up to 1e15 and ``z <= 0.6``; an underflow to 0 only drops terms below
    ``1e-300`` of the first), and the block sum is added to the running sum in log space, so
    that the magnitude of the result (``e^(thousands)`` for large ``b``) never overflows.  A
    row stops after the first block whose last term is decreasing and below ``e^-39 ~ 1e-17``
    of the running sum (the tail is then below ``1e-16`` relative: the term ratio is below
    ``(b + k) z / (k + 1) < 1`` from there on and tends to ``z <= 0.6``).
    """
    n = a.shape[0]
    acc = np.zeros(n)  # log of the partial sum; term 0 is 1
    converged = z <= 0
    for start in range(0, n, _SERIES_CHUNK):  # chunks of rows keep the blocks in cache
        rows = slice(start, min(start + _SERIES_CHUNK, n))
        acc[rows], converged[rows] = _series_chunk(a[rows], b[rows], z[rows], max_terms, block)
    return acc, converged


#: Rows per chunk of :func:`_log_hyp2f1_a_ap1_series`.
_SERIES_CHUNK = 16384


def _series_chunk(a: FloatArray, b: FloatArray, z: FloatArray, max_terms: int,
                  block: int) -> tuple[FloatArray, NDArray[np.bool_]]:
    """:func:`_log_hyp2f1_a_ap1_series` on one chunk of rows."""
    n = a.shape[0]
    acc = np.zeros(n)
    log_c = np.zeros(n)  # log c_k at the last term summed
    converged = np.zeros(n, dtype=bool)
    active = np.flatnonzero(z > 0)
    converged[z <= 0] = True
    for k0 in range(1, max_terms + 1, block):
        if active.size == 0:
            break
        k = np.arange(k0, min(k0 + block, max_terms + 1), dtype=float)[None, :]
        aa, ba, za = a[active, None], b[active, None], z[active, None]
        lin = np.cumprod((ba + (k - 1.0)) * za / k, axis=1)  # c_k / c_(k0-1)
        part = (lin * (aa / (aa + k))).sum(axis=1)
        lc0 = log_c[active]
        k_last = k[0, -1]
        with np.errstate(divide="ignore"):
            acc[active] = np.logaddexp(acc[active], lc0 + np.log(part))
            log_c[active] = lc0 + np.log(lin[:, -1])
        last = log_c[active] + np.log(aa[:, 0] / (aa[:, 0] + k_last))
        decreasing = (b[active] + k_last) * z[active] < (k_last + 1)
        done = decreasing & (last - acc[active] < -39.0)
        converged[active[done]] = True
        active = active[~done]
    return acc, converged


#: Finest step of the adaptive tanh-sinh rule of :func:`_log_hyp2f1_a_ap1_quad` is
#: ``_DE_STEP / _FINE`` (= 1/256); the coarsest, where every row starts, ``8 _DE_STEP / _FINE``
#: (= 1/8).
_FINE = 8
_T_FINE = np.arange(-_DE_HALF_WIDTH, _DE_HALF_WIDTH + _DE_STEP / (2 * _FINE), _DE_STEP / _FINE)
_S_FINE = np.pi * np.sinh(_T_FINE)
#: ``log u``, ``1 - u`` (linear: it is accurate as ``expit(-s)``) and ``log(pi cosh t u (1-u))``
#: (the weight without the step) on the finest grid.
_LU_FINE = log_expit(_S_FINE)
_OMU_FINE = np.exp(log_expit(-_S_FINE))
_LW_FINE = np.log(np.pi * np.cosh(_T_FINE)) + _LU_FINE + log_expit(-_S_FINE)
#: Successive estimates closer than this (in log space, i.e. relative) stop the refinement:
#: tanh-sinh errors square when the step halves (Takahasi & Mori 1974), so the accepted
#: estimate is then accurate to about ``_DE_TOL^2``, far below rounding.
_DE_TOL = 1e-9


def _log_hyp2f1_a_ap1_quad(a: FloatArray, b: FloatArray, z: FloatArray,
                           omz: FloatArray) -> FloatArray:
    """``log 2F1(a, b; a+1; z)`` from its Euler integral (:func:`_euler_quad`, value only)."""
    return _euler_quad(a, b, z, omz, grad=False)[0]


def _euler_quad(a: FloatArray, b: FloatArray, z: FloatArray, omz: FloatArray,
                grad: bool, chunk: int = 2048) -> tuple[FloatArray, ...]:
    """Euler integral of ``2F1(a, b; a+1; z)`` by adaptive tanh-sinh quadrature.

    ``F = a I``, ``I = int_0^1 u^(a-1) (1 - z u)^(-b) du`` (Abramowitz & Stegun 15.3.1
    with ``c = a + 1``), the integrand in log space with ``1 - z u = (1 - z) + z (1 - u)``
    (two positive terms, no cancellation as ``z -> 1``).  The tanh-sinh rule (Takahasi &
    Mori 1974) starts with step 1/8 and halves it, reusing the previous nodes, for the rows
    whose estimate of ``log I`` still moved by more than ``_DE_TOL``, down to 1/256: smooth
    rows stop at 1/16, rows whose integrand has a sharp peak near ``u = 1`` (``1 - z`` tiny
    and ``b`` large) get the finer steps they need.  Rows are sorted by ``a`` and processed
    in chunks over the nodes that can contribute (:func:`_node_range_fine`).

    With ``grad`` the derivatives come from the integral differentiated under the integral
    sign, on the same nodes: ``d log F/da = 1/a + <log u>``, ``d log F/db = -<log(1 - z u)>``
    and ``d log F/dz = b <u / (1 - z u)>``, ``<.>`` the average over the integrand.

    Returns ``(log F,)`` or ``(log F, d/da, d/db, d/dz)``.
    """
    n = a.size
    val = np.empty(n)
    da, db, dz = (np.empty(n) for _ in range(3)) if grad else (val, val, val)
    order = np.argsort(a, kind="stable")
    log_omz = np.log(omz)
    for start in range(0, n, chunk):
        idx = order[start:start + chunk]
        ar, br, zr, oz = a[idx], b[idx], z[idx], omz[idx]
        lo, hi = _node_range_fine(ar, br, log_omz[idx])
        m_ = idx.size
        scale = np.full(m_, -np.inf)  # log of the common scale of the running sums
        sums = np.zeros((4 if grad else 1, m_))  # sum of w f, w f log u, w f log(1-zu), ...
        active = np.arange(m_)
        stride = 4 * _FINE  # the step 1/8 on the finest grid
        first = True
        while stride >= 1:
            j = np.arange(lo - lo % stride, hi, stride)
            j = j[j >= lo]
            if not first:
                j = j[(j // stride) % 2 == 1]  # only the nodes new at this step
            h = _DE_STEP / _FINE * stride
            ra = active
            with np.errstate(divide="ignore", invalid="ignore"):  # no estimate at the start
                old = scale[ra] + np.log(sums[0, ra])
                old_ratio = sums[1:, ra] / sums[0, ra]
            if j.size:
                one_m = oz[ra, None] + zr[ra, None] * _OMU_FINE[None, j]  # 1 - z u
                lg = np.log(one_m)
                vals = ((ar[ra, None] - 1.0) * _LU_FINE[None, j] - br[ra, None] * lg
                        + _LW_FINE[None, j])
                m = vals.max(axis=1)
                p = np.exp(vals - m[:, None])
                new_scale = np.log(h) + m
                prev = scale[ra] + (0.0 if first else -np.log(2.0))
                top = np.maximum(prev, new_scale)
                with np.errstate(invalid="ignore"):
                    f_old = np.exp(prev - top)
                    f_new = np.exp(new_scale - top)
                f_old = np.where(np.isfinite(prev), f_old, 0.0)
                parts = [p.sum(axis=1)]
                if grad:
                    parts += [p @ _LU_FINE[j], np.einsum("ij,ij->i", p, lg),
                              np.einsum("ij,ij->i", p, np.exp(_LU_FINE[None, j]) / one_m)]
                for q, part in enumerate(parts):
                    sums[q, ra] = sums[q, ra] * f_old + part * f_new
                scale[ra] = top
            elif not first:
                scale[ra] -= np.log(2.0)
            if not first:
                cur = scale[ra] + np.log(sums[0, ra])
                done = np.abs(cur - old) <= _DE_TOL
                if grad:  # the averages behind the derivatives must have settled too
                    ratio = sums[1:, ra] / sums[0, ra]
                    done &= np.all(np.abs(ratio - old_ratio) <= _DE_TOL * (np.abs(ratio) + 1.0),
                                   axis=0)
                active = active[~done]
                if active.size == 0:
                    break
            first = False
            stride //= 2
        val[idx] = np.log(ar) + scale + np.log(sums[0])
        if grad:
            da[idx] = 1.0 / ar + sums[1] / sums[0]
            db[idx] = -sums[2] / sums[0]
            dz[idx] = br * sums[3] / sums[0]
    return (val, da, db, dz) if grad else (val,)


def _node_range_fine(a: FloatArray, b: FloatArray, log_omz: FloatArray) -> tuple[int, int]:
    """Index range of the finest tanh-sinh grid that can matter for the rows given.

    A bound on the weighted integrand of
    ``int_0^1 u^(a-1) (1 - z u)^(-b) du``: at most ``a_min log u + log(pi cosh t) + log(1-u)
    + min(b_max |log(1-u)|, max(-b log(1-z)))``, against the integral's lower bound ``1/a``;
    nodes ``_TRIM_MARGIN`` below are dropped.
    """
    a_min, a_max = float(a.min()), float(a.max())
    b_max = float(b.max())
    c_max = float(np.max(-b * log_omz))
    log_1mu = _LW_FINE - np.log(np.pi * np.cosh(_T_FINE)) - _LU_FINE
    ub = (a_min * _LU_FINE + np.log(np.pi * np.cosh(_T_FINE)) + log_1mu
          + np.minimum(b_max * -log_1mu, max(c_max, 0.0)))
    keep = np.flatnonzero(ub >= -np.log(a_max) - _TRIM_MARGIN)
    if keep.size == 0:
        return 0, _T_FINE.size
    return int(keep[0]), int(keep[-1]) + 1


def log_hyp2f1_a_ap1(
    a: FloatArray | float,
    b: FloatArray | float,
    z: FloatArray | float,
    one_minus_z: FloatArray | float | None = None,
) -> FloatArray:
    """``log 2F1(a, b; a + 1; z)`` for ``a > 0``, ``b > 0`` and ``0 <= z < 1``.

    This is the Gauss hypergeometric function of the Pareto/NBD likelihood (Fader & Hardie
    2005 note, eqs. 19-20: ``a = r + s + x``, ``b = s + 1`` or ``r + x``).  It diverges as
    ``z -> 1`` when ``b >= 1``; in log space it stays finite for every ``z < 1``.  The power
    series (DLMF 15.2.1) is summed, vectorised over rows, where ``z <= 0.6``
    (:func:`_log_hyp2f1_a_ap1_series`); elsewhere the Euler integral is integrated by
    adaptive tanh-sinh quadrature (:func:`_log_hyp2f1_a_ap1_quad`).

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
        out[big] = _log_hyp2f1_a_ap1_quad(a[big], b[big], z[big], omz[big])
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

#: Nodes whose upper bound is this far under the integral's lower bound (in log space) are
#: skipped by :func:`_euler_quad` (:func:`_node_range_fine`): at most ``e^-50`` relative each.
_TRIM_MARGIN = 50.0


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


def log_hyp2f1_a_ap1_grad(
    a: FloatArray, b: FloatArray, z: FloatArray, one_minus_z: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`log_hyp2f1_a_ap1` with its partial derivatives w.r.t. ``a``, ``b`` and ``z``.

    Same branches as the value (power series for ``z <= 0.6`` where it converges, Euler
    integral by tanh-sinh quadrature otherwise); the derivatives of the parameters come from
    the series term by term (:func:`_series_grad`) or from the integral differentiated under
    the integral sign (:func:`_euler_quad`).  The ``z`` derivative equals
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
        val[big], da[big], db[big], dz[big] = _euler_quad(a[big], b[big], z[big], omz[big],
                                                           grad=True)
    return val, da, db, dz
