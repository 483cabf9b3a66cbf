"""The pass over dense rows, and the dense objective kernels.

:func:`pass_dense` is the engine's unit of work on a dense ``X``: for each
row it applies the chosen rule (see :mod:`._rows`) to the row of ``W`` with
``H`` fixed and, in a fit, adds the row's statistics for the ``H`` update,
computed with the *new* row while the row of ``X`` is still in cache. ``X``
is therefore read once per pass.
"""

import functools

import numpy as np
from numba import prange

from . import _rows as R
from ._common import N_CHUNKS, beta_term, chunk_bounds, ordered_sum, sum_chunks
from ._jit import REDUCTION_MATH, interruptible, kernel, nothing, routed
from ._dispatch import (ACCUMULATE, BETA, L1, L2, OBJECTIVE, TOL, apply_rule,
                        by_family, check_pass_shapes, is_gram_rule,
                        missing_share, new_scratch, pass_has_run, pass_key,
                        record_pass, row_missing, stat_parts)
from ._rows import ROW_GROUP


@kernel(fastmath=REDUCTION_MATH)
def _xh_row(x, H, xh):
    """``xh = x @ H.T`` for one row; xh : (k,)."""
    for j in range(H.shape[0]):
        h = H[j]
        s = 0.0
        for f in range(x.shape[0]):
            s += x[f] * np.float64(h[f])
        xh[j] = s


@kernel(fastmath=REDUCTION_MATH)
def _xh_group(X, r0, H, xh, zero):
    """``xh = X[g] @ H.T`` for the rows ``g = r0 .. r0 + ROW_GROUP``.

    A register tile of 4 rows by 2 components: per feature, six loads feed
    eight multiply-adds, where a row-by-row dot product needs two loads per
    multiply-add. ``zero`` is a zero of X's dtype: float32 data is summed in
    float32 (as a BLAS ``sgemm`` would), which halves the work.
    """
    k = H.shape[0]
    m = X.shape[1]
    x0, x1, x2, x3 = X[r0], X[r0 + 1], X[r0 + 2], X[r0 + 3]
    for j in range(0, k - 1, 2):
        h0 = H[j]
        h1 = H[j + 1]
        s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = zero
        for f in range(m):
            a = h0[f]
            b = h1[f]
            s00 += x0[f] * a
            s01 += x0[f] * b
            s10 += x1[f] * a
            s11 += x1[f] * b
            s20 += x2[f] * a
            s21 += x2[f] * b
            s30 += x3[f] * a
            s31 += x3[f] * b
        xh[0, j], xh[0, j + 1] = s00, s01
        xh[1, j], xh[1, j + 1] = s10, s11
        xh[2, j], xh[2, j + 1] = s20, s21
        xh[3, j], xh[3, j + 1] = s30, s31
    if k % 2:
        h0 = H[k - 1]
        s0 = s1 = s2 = s3 = zero
        for f in range(m):
            a = h0[f]
            s0 += x0[f] * a
            s1 += x1[f] * a
            s2 += x2[f] * a
            s3 += x3[f] * a
        xh[0, k - 1], xh[1, k - 1], xh[2, k - 1], xh[3, k - 1] = s0, s1, s2, s3


@kernel(fastmath=REDUCTION_MATH)
def _accumulate_group(X, W, r0, A, B):
    """``A += W[g].T @ X[g]`` and ``B += W[g].T @ W[g]`` for the rows ``g``
    ``r0 .. r0 + ROW_GROUP``; A : (k, m) in X's dtype, B : (k, k) float64.

    Two rows of ``A`` are updated per sweep over the features, so each load
    and store of ``A`` serves four rows of X and each load of X two
    components.
    """
    m = X.shape[1]
    k = W.shape[1]
    x0, x1, x2, x3 = X[r0], X[r0 + 1], X[r0 + 2], X[r0 + 3]
    for j in range(k):
        for q in range(k):
            B[j, q] += (np.float64(W[r0, j]) * W[r0, q]
                        + np.float64(W[r0 + 1, j]) * W[r0 + 1, q]
                        + np.float64(W[r0 + 2, j]) * W[r0 + 2, q]
                        + np.float64(W[r0 + 3, j]) * W[r0 + 3, q])
    for j in range(0, k - 1, 2):
        a0 = A[j]
        a1 = A[j + 1]
        u0, u1, u2, u3 = W[r0, j], W[r0 + 1, j], W[r0 + 2, j], W[r0 + 3, j]
        v0, v1, v2, v3 = (W[r0, j + 1], W[r0 + 1, j + 1], W[r0 + 2, j + 1],
                          W[r0 + 3, j + 1])
        for f in range(m):
            p, q, r, s = x0[f], x1[f], x2[f], x3[f]
            a0[f] += u0 * p + u1 * q + u2 * r + u3 * s
            a1[f] += v0 * p + v1 * q + v2 * r + v3 * s
    if k % 2:
        a0 = A[k - 1]
        u0, u1, u2, u3 = (W[r0, k - 1], W[r0 + 1, k - 1], W[r0 + 2, k - 1],
                          W[r0 + 3, k - 1])
        for f in range(m):
            a0[f] += u0 * x0[f] + u1 * x1[f] + u2 * x2[f] + u3 * x3[f]


@kernel()
def _nonzeros(x, val, col):
    """Gather the non-zeros of a dense row into ``val``/``col``; return count."""
    count = 0
    for f in range(x.shape[0]):
        if x[f] != 0.0:
            val[count] = x[f]
            col[count] = f
            count += 1
    return count


@kernel()
def _gram_statistics(rule, x, val, col, w, H, Ht, s, row, objective, mc, A,
                     B, Nt, Dt, v):
    R.accumulate_row(x, w, A, B)
    return 0.0


@kernel()
def _kl_statistics(rule, x, val, col, w, H, Ht, s, row, objective, mc, A, B,
                   Nt, Dt, v):
    return R.kl_accumulate(val, col, w, Ht, Nt, v[0], objective)


@kernel()
def _beta_statistics(rule, x, val, col, w, H, Ht, s, row, objective, mc, A,
                     B, Nt, Dt, v):
    return R.beta_accumulate(x, w, H, s[BETA], row[1], row[2], row[3], Nt, Dt,
                             objective, mc)


@kernel()
def _any_statistics(rule, x, val, col, w, H, Ht, s, row, objective, mc, A, B,
                    Nt, Dt, v):
    if is_gram_rule(rule):
        return _gram_statistics(rule, x, val, col, w, H, Ht, s, row,
                                objective, mc, A, B, Nt, Dt, v)
    if rule == R.MU_BETA:
        return _beta_statistics(rule, x, val, col, w, H, Ht, s, row,
                                objective, mc, A, B, Nt, Dt, v)
    return _kl_statistics(rule, x, val, col, w, H, Ht, s, row, objective, mc,
                          A, B, Nt, Dt, v)


row_statistics = routed(
    by_family(_gram_statistics, _kl_statistics, _beta_statistics,
              _any_statistics, solving=nothing), "row_statistics", """\
row_statistics(family, rule, x, val, col, w, H, Ht, s, row, objective, mc,
A, B, Nt, Dt, v)

Add a dense row's share of the statistics of the ``H`` update after its
rule (``A``, ``B`` for the Frobenius rules, ``Nt``, ``v`` for KL, ``Nt``,
``Dt`` for beta); returns its share of the objective. Compiled for the rule
family alone.
""")


@kernel()
def _dense_row(X, i, W, H, Ht, HHt, Hsum, aux, aux_l2, done, miss_ptr,
               miss_idx, rule, family, masked, mode, n_steps, s, sc, A, B, Nt,
               Dt, v, Ct):
    """Row ``i`` of a dense pass, on the one-row code; returns its objective."""
    xh, row, col = sc[0], sc[2], sc[3]
    x = X[i]
    mc = row_missing(miss_ptr, miss_idx, i)
    gram = is_gram_rule(rule)
    nnz = 0
    if gram:
        _xh_row(x, H, xh[0])
    else:
        nnz = _nonzeros(x, row[0], col)
    converged = apply_rule(family, masked, rule, s, n_steps, W[i], i, W, H,
                           Ht, HHt, Hsum, aux, aux_l2, row[0, :nnz],
                           col[:nnz], x, mc, sc)
    if done.shape[0]:
        done[i] = converged
    if mode & ACCUMULATE == 0:
        return 0.0
    part = row_statistics(family, rule, x, row[0, :nnz], col[:nnz], W[i], H,
                          Ht, s, row, mode & OBJECTIVE != 0, mc, A, B, Nt, Dt,
                          v)
    if rule == R.MU_BETA:  # its statistics take the missing entries out
        return part
    if mc.shape[0]:
        part += missing_share(masked, rule, n_steps, W[i], Ht, mc, not gram,
                              Ct, B, sc)
    return part


@kernel()
def _masked_group(X, r0, W, H, Ht, HHt, Hsum, aux, aux_l2, miss_ptr,
                  miss_idx, rule, family, n_steps, s, sc, B, Ct):
    """Solve a group of rows of a Frobenius fit pass when one has missing entries.

    ``sc[0]`` holds the group's ``x @ H.T`` (the register-tiled product is
    right for masked rows too: their missing entries are stored as zeros,
    and so are the statistics ``W.T X`` the caller adds for the group).
    Each row is solved alone, with its missing columns' corrections; returns
    their share of the objective and adds their share to ``Ct`` (a mostly
    missing row takes itself out of ``B``, which the caller adds for the
    group: ``_dispatch.missing_share``).
    """
    xh, row = sc[0], sc[2]
    part = 0.0
    for r in range(ROW_GROUP):
        i = r0 + r
        if r:  # apply_rule reads the row's x @ H.T from xh[0]
            for j in range(xh.shape[1]):
                xh[0, j] = xh[r, j]
        mc = row_missing(miss_ptr, miss_idx, i)
        apply_rule(family, True, rule, s, n_steps, W[i], i, W, H, Ht, HHt,
                   Hsum, aux, aux_l2, row[0, :0], sc[3][:0], X[i], mc, sc)
        if mc.shape[0]:
            part += missing_share(True, rule, n_steps, W[i], Ht, mc, False,
                                  Ct, B, sc)
    return part


masked_group = routed(
    lambda masked: nothing if masked is False else _masked_group,
    "masked_group", """\
masked_group(masked, X, r0, ...)

:func:`_masked_group` where ``masked``; nothing for a pass without missing
entries.
""")


@kernel()
def _row_groups(X, W, H, Ht, HHt, Hsum, aux, aux_l2, miss_ptr, miss_idx, rule,
                family, masked, n_steps, s, sc, start, stop, A, B, Ct):
    """Rows ``start .. stop`` of a Frobenius fit pass, four at a time.

    Register tiles for ``x @ H.T`` and the statistics ``A``, ``B``,
    interleaved coordinate-descent sweeps, or one row at a time when one of
    the four has missing entries (:func:`_masked_group`); returns their
    share of the objective (that of the missing entries).
    """
    xh, vec, wg = sc[0], sc[1], sc[4]
    l1, l2, tol = s[L1], s[L2], s[TOL]
    zero = np.zeros(1, dtype=X.dtype)[0]
    part = 0.0
    for r0 in range(start, stop, ROW_GROUP):
        _xh_group(X, r0, H, xh, zero)
        if miss_ptr.shape[0] and miss_ptr[r0 + ROW_GROUP] > miss_ptr[r0]:
            part += masked_group(masked, X, r0, W, H, Ht, HHt, Hsum, aux,
                                 aux_l2, miss_ptr, miss_idx, rule, family,
                                 n_steps, s, sc, B, Ct)
        elif rule == R.CD_FRO:
            R.cd_rows(xh, W, r0, ROW_GROUP, HHt, l1, l2, n_steps, tol, wg,
                      vec[0])
        else:
            for r in range(ROW_GROUP):
                R.mu_fro_row(xh[r], W[r0 + r], HHt, l1, l2, n_steps, tol,
                             vec[0])
        _accumulate_group(X, W, r0, A, B)
    return part


row_groups = routed(
    by_family(_row_groups, nothing, nothing, nothing, solving=nothing),
    "row_groups", """\
row_groups(family, X, W, ...)

:func:`_row_groups`, compiled for the Frobenius family only: no other
rule takes the grouped path.
""")


@kernel()
def _dense_chunk(X, W, H, Ht, HHt, Hsum, aux, aux_l2, done, miss_ptr,
                 miss_idx, rule, family, masked, mode, n_steps, s, start, stop,
                 A, B, Nt, Dt, v, Ct):
    """Rows ``start .. stop`` of a dense pass; returns the chunk's objective.

    A fit pass (``ACCUMULATE``) of the Frobenius rules takes the rows four at
    a time (register tiles for ``x @ H.T`` and the statistics, interleaved
    coordinate-descent sweeps, or one row at a time when one of them has
    missing entries: :func:`_masked_group`); every other row goes through
    the one-row code, so that without accumulation (``transform``) a row's
    result never depends on its position in the batch.
    """
    m = X.shape[1]
    k = W.shape[1]
    missing = miss_ptr.shape[0] > 0
    sc = new_scratch(k, m if missing or not is_gram_rule(rule) else 0, missing,
                     m if missing or rule == R.CD_KL else 0)
    grouped = mode & ACCUMULATE != 0 and aux_l2.shape[0] == 0 and (
        rule == R.MU_FRO or rule == R.CD_FRO)
    stop_groups = start + (stop - start) // ROW_GROUP * ROW_GROUP if grouped \
        else start
    part = row_groups(family, X, W, H, Ht, HHt, Hsum, aux, aux_l2, miss_ptr,
                      miss_idx, rule, family, masked, n_steps, s, sc, start,
                      stop_groups, A, B, Ct)
    for i in range(stop_groups, stop):
        if done.shape[0] and done[i]:
            continue
        part += _dense_row(X, i, W, H, Ht, HHt, Hsum, aux, aux_l2, done,
                           miss_ptr, miss_idx, rule, family, masked, mode,
                           n_steps, s, sc, A, B, Nt, Dt, v, Ct)
    return part


@functools.lru_cache(maxsize=None)
def _pass_dense_for(family, masked):
    """The dense pass kernel compiled for one family of rules.

    ``family`` and ``masked`` are constants of the kernel's closure, which
    Numba types as literals: the routed calls below it compile that
    family's code alone (see :func:`._dispatch.compiled_for`). Each kernel
    is cached on disk under its own key.
    """
    @kernel(parallel=True)
    def _pass_dense(X, W, H, Ht, HHt, Hsum, aux, aux_l2, done, miss_ptr,
                    miss_idx, rule, mode, n_steps, settings):
        n, m = X.shape
        k = W.shape[1]
        check_pass_shapes(n, m, W, H, Ht, HHt, Hsum, aux, aux_l2, done, miss_ptr,
                          miss_idx, settings)
        A, B, Nt, Dt, v, Ct = stat_parts(mode & ACCUMULATE != 0, rule, k, m, X,
                                         False, miss_ptr.shape[0] > 0)
        obj = np.zeros(N_CHUNKS)
        bounds = chunk_bounds(n)
        for c in prange(N_CHUNKS):
            obj[c] = _dense_chunk(X, W, H, Ht, HHt, Hsum, aux, aux_l2, done,
                                  miss_ptr, miss_idx, rule, family, masked, mode,
                                  n_steps, settings, bounds[c], bounds[c + 1],
                                  A[c], B[c], Nt[c], Dt[c], v[c], Ct[c])
        return (sum_chunks(A), sum_chunks(B), sum_chunks(Nt), sum_chunks(Dt),
                sum_chunks(v), sum_chunks(Ct), ordered_sum(obj))

    return interruptible(_pass_dense)


def pass_dense(X, W, H, Ht, HHt, Hsum, aux, aux_l2, done, miss_ptr, miss_idx,
               rule, mode, n_steps, settings):
    """One pass of ``rule`` over the dense rows of ``X`` (n, m).

    ``W`` (n, k) is updated in place with ``H`` (k, m) fixed; ``Ht``,
    ``HHt``, ``Hsum`` as in :mod:`._rows`; ``aux`` (n, k) and ``aux_l2``
    (n,) as in :func:`apply_rule` (zero rows when unused); ``done`` (n,)
    bool marks the rows that already met the stopping test and receives the
    test of each row solved (empty: solve every row); ``miss_ptr`` (n + 1,)
    and ``miss_idx`` give each row's missing columns in CSR form (empty: no
    missing entry; X holds zeros there); ``mode`` is a bit set of
    ``ACCUMULATE`` and ``OBJECTIVE``; ``settings`` as indexed by ``L1 ..
    STEP``. The kernel run is the one compiled for ``rule``'s family (see
    :func:`._dispatch.compiled_for`).

    Returns ``(A, B, Nt, Dt, v, Ct, objective)``, summed over the chunks in
    chunk order in float64 (see :func:`stat_parts`; the objective is the sum
    of the KL terms ``x log(x / wh) - x`` over the non-zeros, or of the beta
    divergence over all observed entries, with the new ``W``, plus the
    missing entries' corrections of ``_masked.accumulate_missing``).
    """
    key = pass_key("dense", rule, miss_ptr, mode, X, W, H)
    out = _pass_dense_for(*key)(X, W, H, Ht, HHt, Hsum, aux, aux_l2, done,
                                miss_ptr, miss_idx, rule, mode, n_steps,
                                settings)
    record_pass("dense", key, X, W, H)
    return out


def pass_dense_has_run(X, W, H, rule, miss_ptr):
    """Whether :func:`pass_dense` ran for ``rule`` with arrays of these types."""
    return pass_has_run("dense", rule, miss_ptr, X, W, H)


@kernel()
def divergence_row(x, wh, beta, mc):
    """Beta-divergence of one dense row, its missing columns ``mc`` left out."""
    total = 0.0
    q = 0
    for f in range(x.shape[0]):
        if q < mc.shape[0] and mc[q] == f:
            q += 1
            continue
        total += beta_term(np.float64(x[f]), wh[f], beta)
    return total


@kernel(parallel=True)
def _divergence_dense(X, W, H, beta, miss_ptr, miss_idx):
    """Exact beta-divergence ``D(X || W @ H)`` over the observed entries.

    Streamed row by row: one row of ``W @ H`` at a time.
    """
    n, m = X.shape
    if W.shape[0] != n or H.shape[1] != m or H.shape[0] != W.shape[1]:
        raise ValueError("divergence: W, H do not fit X")
    parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        wh = np.empty(m)
        for i in range(bounds[c], bounds[c + 1]):
            R.wh_row(W[i], H, wh)
            parts[c] += divergence_row(X[i], wh, beta,
                                       row_missing(miss_ptr, miss_idx, i))
    return ordered_sum(parts)


divergence_dense = interruptible(_divergence_dense)


@kernel(fastmath=REDUCTION_MATH)
def _sq_row(x):
    s = 0.0
    for f in range(x.shape[0]):
        s += np.float64(x[f]) * x[f]
    return s


@kernel(parallel=True)
def sq_norm_dense(X):
    """``||X||_F^2`` in float64, without a float64 copy of X."""
    n = X.shape[0]
    parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        for i in range(bounds[c], bounds[c + 1]):
            parts[c] += _sq_row(X[i])
    return ordered_sum(parts)


@kernel(parallel=True)
def _solve_gram_rows(Wt, At, B, l1, l2, n_steps, tol):
    """Coordinate-descent sweeps on every row of ``Wt`` from a Gram matrix.

    The H-step of the coordinate-descent solver: with ``Wt = H.T`` (m, k),
    ``At = X.T @ W`` (m, k) and ``B = W.T @ W`` (k, k), each column of ``H``
    is a separate non-negative least-squares problem of size k, solved by
    :func:`._rows.cd_rows` without reading X. ``Wt`` is updated in place.
    """
    m, k = Wt.shape
    if At.shape[0] != m or At.shape[1] != k or B.shape[0] != k \
            or B.shape[1] != k:
        raise ValueError("solve_gram_rows: Wt, At must be (m, k), B (k, k)")
    bounds = chunk_bounds(m)
    for c in prange(N_CHUNKS):
        wg = np.empty((ROW_GROUP, k))
        dots = np.empty(max(k, ROW_GROUP))
        for f in range(bounds[c], bounds[c + 1]):
            R.cd_rows(At[f:f + 1], Wt, f, 1, B, l1, l2, n_steps, tol, wg,
                      dots)


solve_gram_rows = interruptible(_solve_gram_rows)
