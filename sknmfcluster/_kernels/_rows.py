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

from ._common import EPSILON, beta_term, dot, xlogx_over
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
def _beta_ratios(x, wh, beta, num_w, den_w, mc):
    """``x * wh^(beta - 2)`` into ``num_w`` and ``wh^(beta - 1)`` into ``den_w``.

    ``wh`` is floored at EPSILON first, as in scikit-learn's MU; both are 0
    at the missing columns ``mc``, which so drop out of every sum.
    """
    for f in range(wh.shape[0]):
        y = max(wh[f], EPSILON)
        den_w[f] = y ** (beta - 1.0)
        num_w[f] = x[f] * den_w[f] / y
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
