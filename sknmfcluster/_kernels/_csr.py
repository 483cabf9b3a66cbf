"""The pass over CSR rows, the column gathers, and the CSR objective kernels.

A CSR matrix travels as ``(data, indices, indptr)`` with sorted indices and
no stored zeros (see ``sknmfcluster._storage``). :func:`pass_csr` has the
contract of :func:`._dense.pass_dense`. A fit may instead gather the
Frobenius and KL statistics after the row pass from a column copy of X
(``X.T`` in CSR form), which costs a second read of the non-zeros but is
about half as costly as scattering them into per-chunk accumulators at
random columns (``GATHERED`` mode and :func:`gather_gram_csr`,
:func:`gather_kl_csr`).
"""

import functools

import numpy as np
from numba import prange

from . import _rows as R
from ._common import (EPSILON, N_CHUNKS, chunk_bounds,
                      csr_row_times, ordered_sum, sum_chunks, xlogx_over)
from ._dense import divergence_row
from ._dispatch import (ACCUMULATE, BETA, GATHERED, L1, L2, OBJECTIVE, TOL,
                        apply_rule, by_family, check_pass_shapes,
                        is_gram_rule, kl_row, missing_share, new_scratch,
                        pass_has_run, pass_key, record_pass, row_missing,
                        stat_parts)
from ._jit import interruptible, kernel, nothing, routed
from ._rows import ROW_GROUP


@kernel()
def _spread(data, indices, start, stop, out, value_scale):
    """Write the CSR row's values (times ``value_scale``) into the dense ``out``."""
    for p in range(start, stop):
        out[indices[p]] = value_scale * data[p]


@kernel()
def _gram_statistics(rule, data, indices, a, b, w, H, Ht, s, row, objective,
                     mc, At, B, Nt, Dt, v):
    R.accumulate_csr_row(data, indices, a, b, w, At, B)
    return 0.0


@kernel()
def _kl_statistics(rule, data, indices, a, b, w, H, Ht, s, row, objective,
                   mc, At, B, Nt, Dt, v):
    return R.kl_accumulate(data[a:b], indices[a:b], w, Ht, Nt, v[0],
                           objective)


@kernel()
def _beta_statistics(rule, data, indices, a, b, w, H, Ht, s, row, objective,
                     mc, At, B, Nt, Dt, v):
    return R.beta_accumulate(row[4], w, H, s[BETA], row[1], row[2], row[3],
                             Nt, Dt, objective, mc)


@kernel()
def _any_statistics(rule, data, indices, a, b, w, H, Ht, s, row, objective,
                    mc, At, B, Nt, Dt, v):
    if is_gram_rule(rule):
        return _gram_statistics(rule, data, indices, a, b, w, H, Ht, s, row,
                                objective, mc, At, B, Nt, Dt, v)
    if rule == R.MU_BETA:
        return _beta_statistics(rule, data, indices, a, b, w, H, Ht, s, row,
                                objective, mc, At, B, Nt, Dt, v)
    return _kl_statistics(rule, data, indices, a, b, w, H, Ht, s, row,
                          objective, mc, At, B, Nt, Dt, v)


row_statistics = routed(
    by_family(_gram_statistics, _kl_statistics, _beta_statistics,
              _any_statistics, solving=nothing), "row_statistics", """\
row_statistics(family, rule, data, indices, a, b, w, H, Ht, s, row,
objective, mc, At, B, Nt, Dt, v)

Scatter the CSR row ``a .. b``'s share of the statistics of the ``H``
update after its rule (``At``, ``B`` for the Frobenius rules, ``Nt``, ``v``
for KL, ``Nt``, ``Dt`` for beta, whose dense row is in ``row[4]``); returns
its share of the objective. Compiled for the rule family alone.
""")


@kernel()
def _csr_row(data, indices, indptr, i, W, H, Ht, HHt, Hsum, aux, aux_l2,
             done, miss_ptr, miss_idx, rule, family, masked, mode, n_steps, s,
             sc, At, B, Nt, Dt, v, Ct):
    """Row ``i`` of a CSR pass, on the one-row code; returns its objective."""
    xh, row = sc[0], sc[2]
    a, b = indptr[i], indptr[i + 1]
    val, col = data[a:b], indices[a:b]
    mc = row_missing(miss_ptr, miss_idx, i)
    gram = is_gram_rule(rule)
    beta_rule = rule == R.MU_BETA
    spread = beta_rule or mc.shape[0] > 0  # the dense row is needed
    if gram:
        csr_row_times(data, indices, a, b, Ht, xh[0])
    if spread:
        _spread(data, indices, a, b, row[4], 1.0)
    converged = apply_rule(family, masked, rule, s, n_steps, W[i], i, W, H,
                           Ht, HHt, Hsum, aux, aux_l2, val, col, row[4], mc,
                           sc)
    if done.shape[0]:
        done[i] = converged
    part = 0.0
    accumulate = mode & ACCUMULATE != 0
    scatter = accumulate and (mode & GATHERED == 0 or beta_rule)
    if scatter:
        part = row_statistics(family, rule, data, indices, a, b, W[i], H, Ht,
                              s, row, mode & OBJECTIVE != 0, mc, At, B, Nt,
                              Dt, v)
    if accumulate and mc.shape[0] and not beta_rule:
        # B takes the row out only where this loop added it (see
        # _dispatch._missing_share)
        part += missing_share(masked, rule, n_steps, W[i], Ht, mc, not gram,
                              Ct, B if scatter else B[:0], sc)
    if spread:
        _spread(data, indices, a, b, row[4], 0.0)
    return part


@kernel()
def _kl_rows(family, data, indices, indptr, W, Ht, Hsum, s, n_steps, start,
             stop, sc, scatter, mode, Nt, v):
    """Rows ``start .. stop`` of a KL pass without missing entries.

    The one-row code's dispatch costs more than the rule itself on short
    rows (about 10 non-zeros for text counts): this loop calls the rule
    (multiplicative or coordinate descent) directly, as the Frobenius rows'
    grouped sweep does.
    """
    part = 0.0
    objective = mode & OBJECTIVE != 0
    for i in range(start, stop):
        a, b = indptr[i], indptr[i + 1]
        kl_row(family, data[a:b], indices[a:b], W[i], Ht, Hsum, s, n_steps,
               sc)
        if scatter:
            part += R.kl_accumulate(data[a:b], indices[a:b], W[i], Ht, Nt,
                                    v[0], objective)
    return part


@kernel()
def _row_groups(data, indices, indptr, W, H, Ht, HHt, Hsum, aux, aux_l2, done,
                miss_ptr, miss_idx, rule, family, masked, mode, n_steps, s, sc,
                start, stop, At, B, Nt, Dt, v, Ct):
    """Rows ``start .. stop`` of a coordinate-descent fit pass, four at a time.

    Swept together (see :func:`._rows.cd_rows`) unless one of the four has
    missing entries; returns their share of the objective.
    """
    xh, vec, wg = sc[0], sc[1], sc[4]
    scatter = mode & GATHERED == 0
    part = 0.0
    for r0 in range(start, stop, ROW_GROUP):
        if miss_ptr.shape[0] and miss_ptr[r0 + ROW_GROUP] > miss_ptr[r0]:
            for i in range(r0, r0 + ROW_GROUP):
                part += _csr_row(data, indices, indptr, i, W, H, Ht, HHt,
                                 Hsum, aux, aux_l2, done, miss_ptr, miss_idx,
                                 rule, family, masked, mode, n_steps, s, sc,
                                 At, B, Nt, Dt, v, Ct)
            continue
        for r in range(ROW_GROUP):
            i = r0 + r
            csr_row_times(data, indices, indptr[i], indptr[i + 1], Ht, xh[r])
        R.cd_rows(xh, W, r0, ROW_GROUP, HHt, s[L1], s[L2], n_steps, s[TOL],
                  wg, vec[0])
        if scatter:
            for i in range(r0, r0 + ROW_GROUP):
                R.accumulate_csr_row(data, indices, indptr[i], indptr[i + 1],
                                     W[i], At, B)
    return part


row_groups = routed(
    by_family(_row_groups, nothing, nothing, nothing, solving=nothing),
    "row_groups", """\
row_groups(family, data, indices, indptr, W, ...)

:func:`_row_groups`, compiled for the Frobenius family only.
""")


kl_rows = routed(
    by_family(nothing, _kl_rows, nothing, nothing),
    "kl_rows", """\
kl_rows(family, family, data, indices, indptr, W, ...)

:func:`_kl_rows`, compiled for the KL families only (multiplicative and
coordinate descent, each with its own rule: :func:`._dispatch.kl_row`).
""")


@kernel()
def _csr_chunk(data, indices, indptr, W, H, Ht, HHt, Hsum, aux, aux_l2, done,
               miss_ptr, miss_idx, rule, family, masked, mode, n_steps, s,
               start, stop, At, B, Nt, Dt, v, Ct):
    """Rows ``start .. stop`` of a CSR pass; returns the chunk's objective.

    Fit passes with coordinate descent sweep four rows together (see
    :func:`._rows.cd_rows`) unless one has missing entries; every other row
    goes through the one-row code.
    """
    m = Ht.shape[0]
    k = W.shape[1]
    missing = miss_ptr.shape[0] > 0
    width = m if missing else 0
    if rule == R.CD_KL and not missing:  # the columns of H at a row's non-zeros
        for i in range(start, stop):
            width = max(width, indptr[i + 1] - indptr[i])
    sc = new_scratch(k, m if missing or rule == R.MU_BETA else width, missing,
                     width)
    accumulate = mode & ACCUMULATE != 0
    scatter = accumulate and mode & GATHERED == 0
    grouped = accumulate and rule == R.CD_FRO and aux_l2.shape[0] == 0
    stop_groups = start + (stop - start) // ROW_GROUP * ROW_GROUP if grouped \
        else start
    part = row_groups(family, data, indices, indptr, W, H, Ht, HHt, Hsum,
                      aux, aux_l2, done, miss_ptr, miss_idx, rule, family,
                      masked, mode, n_steps, s, sc, start, stop_groups, At, B,
                      Nt, Dt, v, Ct)
    if (rule == R.MU_KL or rule == R.CD_KL) and not missing \
            and done.shape[0] == 0:
        return part + kl_rows(family, family, data, indices, indptr, W, Ht,
                              Hsum, s, n_steps, start, stop, sc, scatter,
                              mode, Nt, v)
    for i in range(stop_groups, stop):
        if done.shape[0] and done[i]:
            continue
        part += _csr_row(data, indices, indptr, i, W, H, Ht, HHt, Hsum, aux,
                         aux_l2, done, miss_ptr, miss_idx, rule, family,
                         masked, mode, n_steps, s, sc, At, B, Nt, Dt, v, Ct)
    return part


@functools.lru_cache(maxsize=None)
def _pass_csr_for(family, masked):
    """The CSR pass kernel compiled for one family of rules (as for dense)."""
    @kernel(parallel=True)
    def _pass_csr(data, indices, indptr, W, H, Ht, HHt, Hsum, aux, aux_l2,
                  done, miss_ptr, miss_idx, rule, mode, n_steps, settings):
        n = indptr.shape[0] - 1
        m = Ht.shape[0]
        k = W.shape[1]
        check_pass_shapes(n, m, W, H, Ht, HHt, Hsum, aux, aux_l2, done, miss_ptr,
                          miss_idx, settings)
        if indptr[n] != data.shape[0] or indices.shape[0] != data.shape[0]:
            raise ValueError("pass: inconsistent CSR arrays")
        accumulate = mode & ACCUMULATE != 0
        scatter = accumulate and (mode & GATHERED == 0 or rule == R.MU_BETA)
        At, B, Nt, Dt, v, _ = stat_parts(scatter, rule, k, m, Hsum, True, False)
        Ct = stat_parts(accumulate, rule, k, m, Hsum, True,
                        miss_ptr.shape[0] > 0)[5]
        obj = np.zeros(N_CHUNKS)
        bounds = chunk_bounds(n)
        for c in prange(N_CHUNKS):
            obj[c] = _csr_chunk(data, indices, indptr, W, H, Ht, HHt, Hsum, aux,
                                aux_l2, done, miss_ptr, miss_idx, rule, family,
                                masked, mode, n_steps, settings, bounds[c],
                                bounds[c + 1], At[c], B[c], Nt[c], Dt[c], v[c],
                                Ct[c])
        return (sum_chunks(At), sum_chunks(B), sum_chunks(Nt), sum_chunks(Dt),
                sum_chunks(v), sum_chunks(Ct), ordered_sum(obj))

    return interruptible(_pass_csr)


def pass_csr(data, indices, indptr, W, H, Ht, HHt, Hsum, aux, aux_l2, done,
             miss_ptr, miss_idx, rule, mode, n_steps, settings):
    """One pass of ``rule`` over the CSR rows of X (n, m).

    Same contract as :func:`._dense.pass_dense`, except that the Frobenius
    statistics come as ``At = X.T W`` (m, k) in float64 (scattered at the
    non-zeros), and that with ``GATHERED`` in ``mode`` the Frobenius and KL
    statistics are left to the column gathers (the beta rule's, which need
    every entry, and the missing entries' corrections are always
    accumulated here).
    """
    key = pass_key("csr", rule, miss_ptr, mode, data, indices, indptr, W, H)
    out = _pass_csr_for(*key)(data, indices, indptr, W, H, Ht, HHt, Hsum, aux,
                              aux_l2, done, miss_ptr, miss_idx, rule, mode,
                              n_steps, settings)
    record_pass("csr", key, data, indices, indptr, W, H)
    return out


def pass_csr_has_run(data, indices, indptr, W, H, rule, miss_ptr):
    """Whether :func:`pass_csr` ran for ``rule`` with arrays of these types."""
    return pass_has_run("csr", rule, miss_ptr, data, indices, indptr, W, H)


@kernel(parallel=True)
def _gather_gram_csr(data, indices, indptr, W):
    """``At = X.T @ W`` (m, k) and ``B = W.T W``, in float64, from the columns.

    ``(data, indices, indptr)`` is ``X.T`` in CSR form (X in CSC form): row
    ``f`` of ``At`` is the sparse column ``f`` of X times W, written by one
    thread, so no private accumulators are needed for it.
    """
    m = indptr.shape[0] - 1
    n, k = W.shape
    At = np.empty((m, k))
    bounds = chunk_bounds(m)
    for c in prange(N_CHUNKS):
        for f in range(bounds[c], bounds[c + 1]):
            csr_row_times(data, indices, indptr[f], indptr[f + 1], W, At[f])
    B_parts = np.zeros((N_CHUNKS, k, k))
    row_bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        B = B_parts[c]
        for i in range(row_bounds[c], row_bounds[c + 1]):
            for j in range(k):
                wj = np.float64(W[i, j])
                for q in range(k):
                    B[j, q] += wj * W[i, q]
    return At, sum_chunks(B_parts)


gather_gram_csr = interruptible(_gather_gram_csr)


@kernel(parallel=True)
def _gather_kl_csr(data, indices, indptr, W, Ht, objective):
    """The KL H-statistics gathered column by column; see :func:`pass_csr`.

    ``(data, indices, indptr)`` is ``X.T`` in CSR form. Returns ``Nt``
    (m, k), ``Nt[f] = sum_i W[i] X[i, f] / (W @ H)[i, f]`` over the
    non-zeros of column ``f``, ``W.sum(axis=0)`` as (1, k), and the sum of
    ``x * log(x / wh) - x`` over all non-zeros when ``objective`` is true
    (else 0).
    """
    m, k = Ht.shape
    Nt = np.zeros((m, k))
    obj_parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(m)
    for c in prange(N_CHUNKS):
        for f in range(bounds[c], bounds[c + 1]):
            h = Ht[f]
            acc = Nt[f]
            for p in range(indptr[f], indptr[f + 1]):
                xv = np.float64(data[p])
                w = W[indices[p]]
                wh = 0.0
                for j in range(k):
                    wh += np.float64(w[j]) * h[j]
                wh = max(wh, EPSILON)
                if objective:
                    obj_parts[c] += xlogx_over(xv, wh) - xv
                ratio = xv / wh
                for j in range(k):
                    acc[j] += w[j] * ratio
    v = np.zeros((1, k))
    for i in range(W.shape[0]):  # serial: the same order for any thread count
        for j in range(k):
            v[0, j] += W[i, j]
    return Nt, v, ordered_sum(obj_parts)


gather_kl_csr = interruptible(_gather_kl_csr)


@kernel(parallel=True)
def _nonzero_terms_csr(data, indices, indptr, W, Ht):
    """``sum(x * wh)`` and ``sum(x * log(x / wh) - x)`` over the non-zeros.

    ``wh = (W @ H)[i, f]`` is evaluated only where ``X[i, f] != 0``: the two
    sums are what the CSR Frobenius and KL objectives need beyond cheap
    k x k terms.
    """
    n, k = W.shape
    cross = np.zeros(N_CHUNKS)
    kl = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        for i in range(bounds[c], bounds[c + 1]):
            for p in range(indptr[i], indptr[i + 1]):
                f = indices[p]
                wh = 0.0
                for j in range(k):
                    wh += np.float64(W[i, j]) * Ht[f, j]
                xv = np.float64(data[p])
                cross[c] += xv * wh
                kl[c] += xlogx_over(xv, max(wh, EPSILON)) - xv
    return ordered_sum(cross), ordered_sum(kl)


nonzero_terms_csr = interruptible(_nonzero_terms_csr)


@kernel(parallel=True)
def _divergence_csr(data, indices, indptr, W, H, beta, miss_ptr, miss_idx):
    """Exact beta-divergence over every observed entry, zeros included.

    For the betas whose zeros do not reduce to k x k terms: each row's
    ``w @ H`` is formed densely (m,), never the whole ``W @ H``.
    """
    n, k = W.shape
    m = H.shape[1]
    parts = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        wh = np.empty(m)
        x = np.zeros(m)
        for i in range(bounds[c], bounds[c + 1]):
            R.wh_row(W[i], H, wh)
            _spread(data, indices, indptr[i], indptr[i + 1], x, 1.0)
            parts[c] += divergence_row(x, wh, beta,
                                       row_missing(miss_ptr, miss_idx, i))
            _spread(data, indices, indptr[i], indptr[i + 1], x, 0.0)
    return ordered_sum(parts)



@kernel(parallel=True)
def _missing_terms(miss_ptr, miss_idx, W, Ht):
    """``sum(wh)`` and ``sum(wh^2)`` over the missing entries, ``wh = (W H)``.

    What the CSR Frobenius and KL objectives, computed as if every entry
    were observed, must give back.
    """
    n, k = W.shape
    linear = np.zeros(N_CHUNKS)
    square = np.zeros(N_CHUNKS)
    bounds = chunk_bounds(n)
    for c in prange(N_CHUNKS):
        for i in range(bounds[c], bounds[c + 1]):
            for p in range(miss_ptr[i], miss_ptr[i + 1]):
                h = Ht[miss_idx[p]]
                wh = 0.0
                for j in range(k):
                    wh += np.float64(W[i, j]) * h[j]
                linear[c] += wh
                square[c] += wh * wh
    return ordered_sum(linear), ordered_sum(square)


missing_terms = interruptible(_missing_terms)


divergence_csr = interruptible(_divergence_csr)
