"""Per-row rules: update one row of ``W`` with ``H`` fixed, add its statistics.

A rule is chosen by an integer (``MU_FRO`` ... ``PG_KL``) inside the one pass
loop of each storage (:mod:`._dense`, :mod:`._csr`): Numba's disk cache
rules out passing functions, an integer does not. Every rule returns whether
the row met the stopping test: its largest change at most ``tol`` times its
largest entry.

Notation, in scikit-learn's orientation: ``X`` is ``(n, m)``, ``W`` is
``(n, k)``, ``H`` is ``(k, m)``; ``Ht = H.T`` C-contiguous ``(m, k)``,
``HHt = H @ H.T`` and ``Hsum = H.sum(axis=1)`` in float64. A row of ``X`` is
given as ``xh = x @ H.T`` (the Frobenius rules), as its non-zeros ``x_val``
at columns ``x_col`` (the KL rules) or densely (the beta rule).
"""

import numpy as np

from ._common import EPSILON, axpy_n, beta_term, dot, xlogx_over
from ._hoyer import project_cone
from ._jit import REDUCTION_MATH, kernel

#: Lee & Seung's multiplicative step, Frobenius loss.
MU_FRO = 0
#: Coordinate descent (HALS), Frobenius loss.
CD_FRO = 1
#: Lee & Seung's multiplicative step, generalized Kullback-Leibler loss.
MU_KL = 2
#: The majorization-minimization step of any beta-divergence (Fevotte & Idier).
MU_BETA = 3
#: Projected gradient onto a sparseness cone, Frobenius loss.
PG_FRO = 4
#: Projected gradient onto a sparseness cone, KL loss.
PG_KL = 5
#: Coordinate descent with one-variable Newton steps, generalized KL loss
#: (Hsieh & Dhillon, KDD 2011).
CD_KL = 6

#: Rows the dense fit pass processes together, so that each load of a
#: feature of ``H`` or of the accumulator serves four rows of X, and the
#: coordinate-descent sweeps of four independent rows overlap.
ROW_GROUP = 4

#: Factor by which an accepted projected-gradient step grows for the next.
STEP_GROWTH = 1.2
#: Halvings tried before a projected-gradient row is declared stationary.
MAX_HALVINGS = 40
#: Rows of the projected-gradient scratch space (see :func:`pg_row`).
PG_SCRATCH = 6


@kernel()
def _settle(w, new, k):
    """Copy ``new`` into ``w``; return the largest change and largest entry."""
    change = 0.0
    largest = 0.0
    for j in range(k):
        change = max(change, abs(new[j] - w[j]))
        largest = max(largest, new[j])
        w[j] = new[j]
    return change, largest


@kernel()
def mu_fro_row(xh, w, HHt, l1, l2, n_steps, tol, new):
    """Lee-Seung steps ``w <- w * xh / (w @ HHt + l1 + l2 * w)`` on one row.

    The simultaneous (Jacobi) update whose monotonicity Lee & Seung (2001)
    prove; ``new`` (k,) is scratch space.
    """
    k = w.shape[0]
    for _ in range(n_steps):
        for j in range(k):
            den = l1 + l2 * w[j] + dot(HHt[j], w)
            new[j] = w[j] * xh[j] / max(den, EPSILON)
        change, largest = _settle(w, new, k)
        if change <= tol * largest:
            return True
    return False


@kernel(fastmath=REDUCTION_MATH)
def _dots(h, wg, n_rows, out):
    """``out[r] = h @ wg[r]`` for the first ``n_rows`` rows of ``wg``.

    A full group keeps four independent sums in flight: one row alone is
    bound by the latency of its additions.
    """
    if n_rows == ROW_GROUP:
        s0 = s1 = s2 = s3 = 0.0
        for q in range(h.shape[0]):
            s0 += h[q] * wg[0, q]
            s1 += h[q] * wg[1, q]
            s2 += h[q] * wg[2, q]
            s3 += h[q] * wg[3, q]
        out[0], out[1], out[2], out[3] = s0, s1, s2, s3
        return
    for r in range(n_rows):
        s = 0.0
        for q in range(h.shape[0]):
            s += h[q] * wg[r, q]
        out[r] = s


@kernel()
def cd_rows(xh, W, r0, n_rows, HHt, l1, l2, n_steps, tol, wg, dots):
    """Coordinate-descent (HALS) sweeps on the rows ``r0 .. r0 + n_rows`` of W.

    Minimises ``0.5 w HHt w - xh w + l1 sum(w) + 0.5 l2 |w|^2`` over
    ``w >= 0`` one coordinate at a time, each exactly (Cichocki & Phan 2009;
    Hsieh & Dhillon 2011): ``w[j] <- max(0, w[j] - grad_j / (HHt[j, j] +
    l2))``, using the coordinates already updated. A coordinate with zero
    curvature (a component that is zero everywhere) is left alone. ``xh``
    holds one row per row swept. The rows are swept in the float64 copy
    ``wg`` (ROW_GROUP, k) and written back once; several rows stop together
    when every one of them meets the stopping test. ``dots`` (ROW_GROUP,) is
    scratch.
    """
    k = W.shape[1]
    for r in range(n_rows):
        for j in range(k):
            wg[r, j] = W[r0 + r, j]
    converged = False
    for _ in range(n_steps):
        change = 0.0
        largest = 0.0
        for j in range(k):
            hess = HHt[j, j] + l2
            if hess <= 0.0:
                continue
            _dots(HHt[j], wg, n_rows, dots)
            for r in range(n_rows):
                old = wg[r, j]
                grad = dots[r] - xh[r, j] + l1 + l2 * old
                new = max(old - grad / hess, 0.0)
                wg[r, j] = new
                change = max(change, abs(new - old))
                largest = max(largest, new)
        if change <= tol * largest:
            converged = True
            break
    for r in range(n_rows):
        for j in range(k):
            W[r0 + r, j] = wg[r, j]
    return converged


@kernel()
def mu_kl_row(x_val, x_col, w, Ht, Hsum, l1, l2, n_steps, tol, new, num):
    """Lee-Seung steps for one row of ``W`` under the generalized KL loss.

    ``w <- w * (H (x / wh)) / (Hsum + l1 + l2 * w)`` with ``wh = w @ H``
    evaluated at the row's non-zeros only (zeros of X do not enter the
    numerator). ``new`` and ``num`` (k,) are scratch space.
    """
    k = w.shape[0]
    for _ in range(n_steps):
        num[:] = 0.0
        for p in range(x_val.shape[0]):
            f = x_col[p]
            wh = 0.0
            for j in range(k):
                wh += w[j] * Ht[f, j]
            ratio = x_val[p] / max(wh, EPSILON)
            for j in range(k):
                num[j] += Ht[f, j] * ratio
        for j in range(k):
            new[j] = w[j] * num[j] / max(Hsum[j] + l1 + l2 * w[j], EPSILON)
        change, largest = _settle(w, new, k)
        if change <= tol * largest:
            return True
    return False


#: Newton steps at most per coordinate of :func:`cd_kl_row`, and the
#: relative size of a step below which its one-variable problem counts as
#: solved. The steps converge quadratically: most coordinates stop after
#: two or three, or after one when they stay at zero.
NEWTON_STEPS = 8
NEWTON_TOL = 1e-6
#: A coordinate's slope, the difference of two positive sums, counts as 0
#: when it is at most this share of them: at an exact fit (an objective of
#: 0) its sign is rounding noise, and a step on it moved a code off 0.
FLAT_SLOPE = 1e-12


@kernel()
def _kl_newton_terms(x_val, hj, a, s, nnz):
    """The data's sums of a coordinate's KL derivatives at the value ``s``.

    With ``wh = a + s h`` at the row's ``nnz`` non-zeros (``a``: the other
    coordinates' share, ``h`` the coordinate's gathered column of ``H``):
    ``sum(x h / wh)``, ``sum(x h^2 / wh^2)`` and ``sum(x h a / wh^2)``.
    The third is ``s`` times the second minus the first without their
    cancellation, which is total next to a non-zero that only this
    coordinate explains (``a`` 0, both terms ``x / s``). Not fastmath: its
    reassociation order depends on the caller, and the dense and the CSR
    pass then decided a coordinate at 0 differently (their fits drifted
    1 % apart in 30 iterations).
    """
    g = 0.0
    c = 0.0
    d = 0.0
    for p in range(nnz):
        inv = 1.0 / max(a[p] + s * hj[p], EPSILON)
        xt = x_val[p] * hj[p] * inv
        g += xt
        c += xt * hj[p] * inv
        d += xt * a[p] * inv
    return g, c, d


@kernel()
def _kl_mass(x_val, hj, nnz):
    """``sum(x)`` over the non-zeros where ``h > 0``."""
    mass = 0.0
    for p in range(nnz):
        if hj[p] > 0.0:
            mass += x_val[p]
    return mass


@kernel()
def _kl_slope_at_zero(x_val, hj, a, nnz):
    """``sum(x h / a)``: the data's slope term with the coordinate at 0.

    A non-zero that only this coordinate explains (``a`` 0, floored at
    EPSILON) makes it huge: 0 is then no minimiser.
    """
    g = 0.0
    for p in range(nnz):
        g += x_val[p] * hj[p] / max(a[p], EPSILON)
    return g


@kernel()
def _kl_newton(x_val, hj, a, nnz, cur, slope, l1, l2):
    """One safeguarded Newton step on a coordinate of :func:`cd_kl_row`.

    ``f(s) = (slope + l1) s + 0.5 l2 s^2 + sum(a + s h - x log(a + s h))``:
    ``f'`` is concave and increasing, and its logarithmic barrier where
    ``a + s h`` reaches 0 makes the plain Newton step ``s - f'/f''``
    overshoot far to the left (to 0, clipped) and then climb back by
    doubling at best. So the step is Newton's on ``s f'(s)`` instead,
    ``s^2 f'' / (f' + s f'')``, wherever that function decreases (``f' +
    s f'' > 0``, which holds from the minimiser rightwards): from the right
    of the minimiser it lands between the minimiser and ``s``, never
    beyond, and a non-zero that only this coordinate explains is solved in
    one step. From 0 with a negative slope the plain step is taken (it
    moves right without passing the minimiser; next to a barrier it lands
    just off 0, where the other step takes over). Further left, where
    neither helps (the plain step at most doubles ``s``), the step goes to
    ``sum(x) / (slope + l1)`` over the non-zeros the coordinate touches,
    which lies right of the minimiser (there ``f' >= 0``, since each ``x h
    / (a + s h) <= x / s``). Where the plain step would reach 0, the slope
    at 0 decides: 0 when it is not negative (the minimiser, by convexity).
    """
    g1, c1, d1 = _kl_newton_terms(x_val, hj, a, cur, nnz)
    push = slope + l1 + l2 * cur
    g = push - g1
    c = c1 + l2
    if abs(g) <= FLAT_SLOPE * (push + g1):  # f' is rounding noise: stay
        return cur
    if cur > 0.0 and g > 0.0 and cur * c <= g:
        if slope + l1 >= _kl_slope_at_zero(x_val, hj, a, nnz):
            return 0.0
    bold = slope + l1 + 2.0 * l2 * cur - d1  # f' + s f'', without cancelling
    if cur > 0.0 and bold > 0.0:
        return cur * cur * c / bold
    if g >= 0.0:  # at 0 with a slope that is not negative: the minimiser
        return 0.0
    if cur == 0.0:  # plain Newton: moves right, never past the minimiser
        return -g / c
    return _kl_mass(x_val, hj, nnz) / (slope + l1)


@kernel()
def cd_kl_row(x_val, x_col, w, Ht, Hsum, l1, l2, n_steps, tol, hb, wh, a):
    """Coordinate descent on one row of ``W`` under the generalized KL loss.

    Cyclic sweeps over the ``k`` coordinates; each coordinate's problem
    ``min_{w_j >= 0} sum_f (wh_f - x_f log wh_f) + l1 w_j + 0.5 l2 w_j^2``
    (all other coordinates fixed) is convex and is solved by safeguarded
    Newton steps (:func:`_kl_newton`) until a step is at most
    :data:`NEWTON_TOL` of the value (Hsieh & Dhillon, KDD 2011). Only the
    non-zeros of ``x`` enter the derivatives; the zeros add ``Hsum_j`` to
    the slope. ``wh = w @ H`` at the non-zeros is kept up to date, and
    ``a``, the other coordinates' share of it, is formed once per
    coordinate. ``hb`` (k, >= nnz), ``wh`` and ``a`` (>= nnz,) are float64
    scratch; ``hb`` receives the row's columns of ``H``, contiguous. A
    component with ``Hsum_j`` 0 (not seen by the row) gets the code 0.
    """
    k = w.shape[0]
    nnz = x_val.shape[0]
    for p in range(nnz):
        h = Ht[x_col[p]]
        wh[p] = 0.0
        for j in range(k):
            hb[j, p] = h[j]
    for j in range(k):
        if Hsum[j] <= 0.0:
            w[j] = 0.0
        axpy_n(np.float64(w[j]), hb[j], wh, nnz)
    for _ in range(n_steps):
        change = 0.0
        largest = 0.0
        for j in range(k):
            old = np.float64(w[j])
            if Hsum[j] <= 0.0:  # not seen: stays 0
                continue
            hj = hb[j]
            for p in range(nnz):
                a[p] = max(wh[p] - old * hj[p], 0.0)
            cur = old
            for _newton in range(NEWTON_STEPS):
                new = _kl_newton(x_val, hj, a, nnz, cur, Hsum[j], l1, l2)
                delta = new - cur
                cur = new
                if abs(delta) <= NEWTON_TOL * cur:
                    break
            if cur != old:
                w[j] = cur
                for p in range(nnz):
                    wh[p] = a[p] + cur * hj[p]
            change = max(change, abs(cur - old))
            largest = max(largest, cur)
        if change <= tol * largest:
            return True
    return False


@kernel(fastmath=REDUCTION_MATH)
def wh_row(w, H, wh):
    """``wh = w @ H`` for one row, as axpys along the features; wh : (m,)."""
    wh[:] = 0.0
    for j in range(H.shape[0]):
        wj = np.float64(w[j])
        h = H[j]
        for f in range(wh.shape[0]):
            wh[f] += wj * h[f]


@kernel()
def _floored_power(wh, e, out):
    """``out = max(wh, EPSILON) ** e``, elementwise.

    The exponents of the usual betas (0, 0.5, 1.5, 2.5, 3: ``e = beta - 1``)
    take a square root, a division or a product instead of ``pow``, which
    is a scalar library call per entry: those loops vectorise, and on dense
    data the beta rule's iteration took up to three times longer than
    scikit-learn's (whose NumPy powers are vectorised) without them. Each
    form is within an ulp or two of ``pow``.
    """
    m = wh.shape[0]
    if e == -1.0:
        for f in range(m):
            out[f] = 1.0 / max(wh[f], EPSILON)
    elif e == -0.5:
        for f in range(m):
            out[f] = 1.0 / np.sqrt(max(wh[f], EPSILON))
    elif e == 0.5:
        for f in range(m):
            out[f] = np.sqrt(max(wh[f], EPSILON))
    elif e == 1.5:
        for f in range(m):
            y = max(wh[f], EPSILON)
            out[f] = y * np.sqrt(y)
    elif e == 2.0:
        for f in range(m):
            y = max(wh[f], EPSILON)
            out[f] = y * y
    else:
        for f in range(m):
            out[f] = max(wh[f], EPSILON) ** e


@kernel()
def _beta_ratios(x, wh, beta, num_w, den_w, mc):
    """``x * wh^(beta - 2)`` into ``num_w`` and ``wh^(beta - 1)`` into ``den_w``.

    ``wh`` is floored at EPSILON first, as in scikit-learn's MU; both are 0
    at the missing columns ``mc``, which so drop out of every sum.
    """
    _floored_power(wh, beta - 1.0, den_w)
    for f in range(wh.shape[0]):
        num_w[f] = x[f] * den_w[f] / max(wh[f], EPSILON)
    for p in range(mc.shape[0]):
        num_w[mc[p]] = 0.0
        den_w[mc[p]] = 0.0


@kernel()
def mu_beta_row(x, w, H, beta, gamma, l1, l2, n_steps, tol, wh, num_w, den_w,
                new, mc):
    """Majorization-minimization steps for one row under any beta-divergence.

    ``w <- w * ((H (x wh^(b-2))) / (H wh^(b-1) + l1 + l2 w)) ** gamma`` with
    ``gamma`` = 1 / (2 - b) for b < 1, 1 for 1 <= b <= 2 and 1 / (b - 1)
    for b > 2 (Fevotte & Idier 2011), the exponents scikit-learn's MU uses.
    ``x`` is the dense row (m,); its missing columns ``mc`` (sorted) are left
    out of both sums. ``wh``, ``num_w``, ``den_w`` (m,) and ``new`` (k,) are
    scratch.
    """
    k = w.shape[0]
    for _ in range(n_steps):
        wh_row(w, H, wh)
        _beta_ratios(x, wh, beta, num_w, den_w, mc)
        for j in range(k):
            num = dot(num_w, H[j])
            den = dot(den_w, H[j]) + l1 + l2 * w[j]
            factor = num / max(den, EPSILON)
            if gamma != 1.0:
                factor = factor ** gamma
            new[j] = w[j] * factor
        change, largest = _settle(w, new, k)
        if change <= tol * largest:
            return True
    return False


# -- statistics of one row for the H update --------------------------------


@kernel(fastmath=REDUCTION_MATH)
def accumulate_row(x, w, A, B):
    """``A += outer(w, x)``, ``B += outer(w, w)`` for one dense row."""
    for j in range(w.shape[0]):
        wj = w[j]
        for q in range(w.shape[0]):
            B[j, q] += np.float64(wj) * w[q]
        a = A[j]
        for f in range(x.shape[0]):
            a[f] += wj * x[f]


@kernel()
def accumulate_csr_row(data, indices, start, stop, w, At, B):
    """``At += outer(x, w)`` at the row's non-zeros and ``B += outer(w, w)``.

    The row is ``data[start:stop]`` at columns ``indices[start:stop]``;
    At : (m, k) and B : (k, k), float64.
    """
    k = w.shape[0]
    for j in range(k):
        for q in range(k):
            B[j, q] += np.float64(w[j]) * w[q]
    for p in range(start, stop):
        xv = np.float64(data[p])
        f = indices[p]
        for j in range(k):
            At[f, j] += xv * w[j]


@kernel()
def kl_accumulate(x_val, x_col, w, Ht, num_t, w_sum, objective):
    """Add one row's share of the KL ``H``-update statistics.

    ``num_t[f, j] += w[j] * x[f] / (w @ H)[f]`` at the non-zeros, ``w_sum +=
    w``; returns the row's ``sum(x * log(x / wh) - x)`` over its non-zeros
    when ``objective`` is true, else 0 (the logarithm is the costly part).
    """
    k = w.shape[0]
    part = 0.0
    for p in range(x_val.shape[0]):
        xv = np.float64(x_val[p])
        if xv == 0.0:  # an explicitly stored zero adds nothing
            continue
        f = x_col[p]
        wh = 0.0
        for j in range(k):
            wh += w[j] * Ht[f, j]
        wh = max(wh, EPSILON)
        if objective:
            part += xlogx_over(xv, wh) - xv
        ratio = xv / wh
        for j in range(k):
            num_t[f, j] += w[j] * ratio
    for j in range(k):
        w_sum[j] += w[j]
    return part


@kernel()
def beta_accumulate(x, w, H, beta, wh, num_w, den_w, num_t, den_t,
                    objective, mc):
    """Add one dense row's share of the beta-divergence H-update statistics.

    ``num_t[f, j] += w[j] x[f] wh[f]^(b-2)`` and ``den_t[f, j] += w[j]
    wh[f]^(b-1)`` over every observed feature (the zeros of X enter the
    denominator unless b = 1; the missing columns ``mc`` do not); returns
    the row's divergence over them when ``objective`` is true.
    """
    k = w.shape[0]
    wh_row(w, H, wh)
    _beta_ratios(x, wh, beta, num_w, den_w, mc)
    part = 0.0
    q = 0
    for f in range(wh.shape[0]):
        if q < mc.shape[0] and mc[q] == f:
            q += 1
            continue
        if objective:
            part += beta_term(x[f], wh[f], beta)
        for j in range(k):
            num_t[f, j] += w[j] * num_w[f]
            den_t[f, j] += w[j] * den_w[f]
    return part


# -- projected gradient onto a sparseness cone, one row at a time ------------
#
# A row's codes ``w`` (k,) minimise, with ``H`` fixed, the row's divergence
# plus ``l1 * sum(w) + l2 / 2 * ||w||^2`` over the sparseness cone. Each step
# is ``w <- P(w - step * grad)``, accepted only if the objective does not
# increase, with the step halved until it is (and grown by STEP_GROWTH after
# an accepted step, as in Hoyer's nmfsc). Since ``P`` is the exact Euclidean
# projection and ``w`` lies in the set, a step of ``1 / L`` (``L`` the
# gradient's Lipschitz constant) never increases the objective, so for the
# Frobenius loss a step is always found (Blumensath & Davies' argument for
# iterative hard thresholding). The Frobenius row objective needs only ``xh =
# x @ H.T`` (k,) and ``G = H @ H.T`` (k, k); the KL one needs the row's
# non-zeros ``x_val`` at columns ``x_col``, ``Ht`` and ``Hsum``.


@kernel()
def _pg_objective(kl, xh, G, x_val, x_col, Ht, Hsum, w, l1, l2, grad,
                  want_grad):
    """Row objective at ``w`` (k,); its gradient into ``grad`` if ``want_grad``."""
    k = w.shape[0]
    value = 0.0
    for j in range(k):
        lin = Hsum[j] if kl else -xh[j]
        if not kl:
            for q in range(k):
                lin += 0.5 * G[j, q] * w[q]
        value += w[j] * (lin + l1 + 0.5 * l2 * w[j])
        if want_grad:
            grad[j] = (Hsum[j] if kl else 2.0 * lin + xh[j]) + l1 + l2 * w[j]
    if kl:
        for p in range(x_val.shape[0]):
            xv = np.float64(x_val[p])
            if xv == 0.0:
                continue
            f = x_col[p]
            wh = 0.0
            for j in range(k):
                wh += w[j] * Ht[f, j]
            wh = max(wh, EPSILON)
            value += xlogx_over(xv, wh) - xv
            if want_grad:
                ratio = xv / wh
                for j in range(k):
                    grad[j] -= ratio * Ht[f, j]
    return value


@kernel()
def _pg_first_step(grad, cur, k):
    """``||cur|| / ||grad||``: the first step when none is given."""
    g2 = 0.0
    c2 = 0.0
    for j in range(k):
        g2 += grad[j] * grad[j]
        c2 += cur[j] * cur[j]
    return np.sqrt(c2 / g2) if g2 > 1e-300 and c2 > 1e-300 else 1.0


@kernel()
def pg_row(kl, xh, G, x_val, x_col, Ht, Hsum, w, cand, ratio, l1, l2, step,
           n_steps, tol, scratch, order):
    """Projected-gradient steps on one row of codes, ``w`` (k,) in place.

    The steps start from the projection of ``w`` or, if its objective is
    lower, from that of ``cand`` (k,), another guess (the multiplicative
    step's result, or ``w`` itself); the result always lies in the cone.
    ``step`` is the first step size; ``step <= 0`` means ``||w|| /
    ||grad||``. ``scratch`` (PG_SCRATCH, k) float64 and ``order`` (k,)
    int64 are work space, so that nothing is allocated per row.
    """
    k = w.shape[0]
    cur, trial, moved = scratch[0], scratch[1], scratch[2]
    grad, u, z = scratch[3], scratch[4], scratch[5]
    for j in range(k):
        moved[j] = w[j]
    project_cone(moved, ratio, cur, u, order, z)
    f_cur = _pg_objective(kl, xh, G, x_val, x_col, Ht, Hsum, cur, l1, l2,
                          grad, False)
    for j in range(k):
        moved[j] = cand[j]
    project_cone(moved, ratio, trial, u, order, z)
    f_trial = _pg_objective(kl, xh, G, x_val, x_col, Ht, Hsum, trial, l1, l2,
                            grad, False)
    if f_trial < f_cur:
        cur[:] = trial
    converged = False
    for _ in range(n_steps):
        f_cur = _pg_objective(kl, xh, G, x_val, x_col, Ht, Hsum, cur, l1, l2,
                              grad, True)
        if step <= 0.0:
            step = _pg_first_step(grad, cur, k)
        accepted = False
        for _h in range(MAX_HALVINGS):
            for j in range(k):
                moved[j] = cur[j] - step * grad[j]
            project_cone(moved, ratio, trial, u, order, z)
            f_trial = _pg_objective(kl, xh, G, x_val, x_col, Ht, Hsum, trial,
                                    l1, l2, grad, False)
            if f_trial <= f_cur:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            converged = True  # stationary: no step decreases the objective
            break
        change, largest = _settle(cur, trial, k)
        step *= STEP_GROWTH
        if change <= tol * largest:
            converged = True
            break
    for j in range(k):
        w[j] = cur[j]
    return converged
