"""What a pass takes besides arrays, and the per-row dispatch of every storage.

A pass is the same in every storage: for each row, apply the rule chosen by
an integer (see :mod:`._rows`) to the row of ``W``, then add the row's
statistics. This module holds the storage-independent pieces of that loop;
:mod:`._dense` and :mod:`._csr` hold the loops themselves.
"""

import numpy as np

from . import _rows as R
from ._common import N_CHUNKS
from ._jit import kernel
from ._rows import ROW_GROUP

#: Indices into the float64 ``settings`` array of a pass: the penalties on
#: the row, the stopping tolerance, beta and its MM exponent, the target
#: sparseness ratio and first step of the projected-gradient rules.
L1, L2, TOL, BETA, GAMMA, RATIO, STEP = range(7)
N_SETTINGS = 7

#: Bits of the ``mode`` of a pass. Without ``ACCUMULATE`` a pass only solves
#: the rows (``transform``): every row then goes through the one-row code,
#: so that its result never depends on its position in a batch.
ACCUMULATE = 1
#: Also sum the divergence terms (the costly logarithms of KL).
OBJECTIVE = 2
#: CSR only: leave out the statistics that are gathered afterwards from the
#: columns (see ``sknmfcluster._storage.Csr``).
GATHERED = 4


@kernel()
def is_gram_rule(rule):
    """Whether ``rule`` needs ``x @ H.T`` and accumulates ``W.T X``, ``W.T W``."""
    return rule == R.MU_FRO or rule == R.CD_FRO or rule == R.PG_FRO


@kernel()
def check_pass_shapes(n, m, W, H, Ht, HHt, Hsum, aux, aux_l2, done,
                      settings):
    """Raise ValueError unless the arrays of a pass fit an ``(n, m)`` X."""
    k = W.shape[1]
    if W.shape[0] != n:
        raise ValueError("pass: W must have one row per row of X")
    if H.shape[0] != k or H.shape[1] != m:
        raise ValueError("pass: H must have shape (W.shape[1], X.shape[1])")
    if Ht.shape[0] != m or Ht.shape[1] != k:
        raise ValueError("pass: Ht must have shape (X.shape[1], W.shape[1])")
    if HHt.shape[0] != k or HHt.shape[1] != k or Hsum.shape[0] != k:
        raise ValueError("pass: HHt must be (k, k) and Hsum (k,)")
    if (aux.shape[0] != 0 and aux.shape[0] != n) or aux.shape[1] != k:
        raise ValueError("pass: aux must be (n, k) or (0, k)")
    if aux_l2.shape[0] != 0 and aux_l2.shape[0] != n:
        raise ValueError("pass: aux_l2 must be (n,) or empty")
    if done.shape[0] != 0 and done.shape[0] != n:
        raise ValueError("pass: done must be (n,) or empty")
    if settings.shape[0] != N_SETTINGS:
        raise ValueError("pass: settings has the wrong length")


@kernel()
def new_scratch(k, m):
    """Work space of one chunk of rows, allocated once per chunk.

    ``xh`` (ROW_GROUP, k): ``x @ H.T`` of the rows at hand; ``vec`` (3,
    max(k, ROW_GROUP)): the rules' small vectors; ``row`` (5, m): a dense
    row's non-zeros, its ``w @ H``, the beta rule's ratios and a sparse row
    spread out densely (float64, zero); ``col`` (m,): non-zero positions;
    ``wg`` (ROW_GROUP, k): rows swept by coordinate descent; ``pg`` and
    ``order``: projected-gradient work space. ``m`` is 0 when the rule needs
    no row-sized space.
    """
    return (np.empty((ROW_GROUP, k)), np.empty((3, max(k, ROW_GROUP))),
            np.zeros((5, m)), np.empty(m, dtype=np.int64),
            np.empty((ROW_GROUP, k)), np.empty((R.PG_SCRATCH, k)),
            np.empty(k, dtype=np.int64))


@kernel()
def apply_rule(rule, s, n_steps, w, i, W, H, Ht, HHt, Hsum, aux, aux_l2,
               val, col, x_dense, sc):
    """Apply ``rule`` to row ``i`` of ``W`` (``w = W[i]``); return convergence.

    The row of X is given as its non-zeros ``val``/``col`` and, for the beta
    rule, densely as ``x_dense``; for the Frobenius rules ``sc[0][0]`` must
    hold its ``x @ H.T``. ``aux`` is per rule: the graph pull ``strength *
    (S W)[i]`` of the Frobenius rules (with ``aux_l2`` the matching extra l2
    weight), the candidate rows of the projected-gradient rules; zero rows
    when unused.
    """
    xh, vec, row, _, wg, pg, order = sc
    l1, l2, tol = s[L1], s[L2], s[TOL]
    if rule == R.MU_FRO or rule == R.CD_FRO:
        if aux_l2.shape[0]:  # graph-regularised rows
            for j in range(w.shape[0]):
                xh[0, j] += aux[i, j]
            l2 = l2 + aux_l2[i]
        if rule == R.MU_FRO:
            return R.mu_fro_row(xh[0], w, HHt, l1, l2, n_steps, tol, vec[0])
        return R.cd_rows(xh, W, i, 1, HHt, l1, l2, n_steps, tol, wg, vec[0])
    if rule == R.MU_KL:
        return R.mu_kl_row(val, col, w, Ht, Hsum, l1, l2, n_steps, tol,
                           vec[0], vec[1])
    if rule == R.MU_BETA:
        return R.mu_beta_row(x_dense, w, H, s[BETA], s[GAMMA], l1, l2,
                             n_steps, tol, row[1], row[2], row[3], vec[0])
    kl = rule == R.PG_KL
    return R.pg_row(kl, xh[0], HHt, val, col, Ht, Hsum, w, aux[i],
                    s[RATIO], l1, l2, s[STEP], n_steps, tol, pg, order)


@kernel()
def stat_parts(accumulate, rule, k, m, proto, transposed):
    """Per-chunk accumulators of a pass: ``(A, B, Nt, Dt, v)`` parts.

    Frobenius rules: ``A = W.T X`` (k, m) in X's dtype, or ``At = X.T W``
    (m, k) when ``transposed``, and ``B = W.T W``;
    KL and beta rules: ``Nt`` (m, k), the numerator of the H update, the
    beta rule's denominator ``Dt`` (m, k) and ``v = W.sum(axis=0)`` as (1,
    k). Unused accumulators are (N_CHUNKS, 0, 0). ``A`` takes the dtype of
    the array ``proto``.
    """
    gram = is_gram_rule(rule)
    a = accumulate and gram
    r = accumulate and not gram
    d = accumulate and rule == R.MU_BETA
    rows, cols = (m, k) if transposed else (k, m)
    A = np.zeros((N_CHUNKS, rows if a else 0, cols if a else 0),
                 dtype=proto.dtype)
    B = np.zeros((N_CHUNKS, k if a else 0, k if a else 0))
    Nt = np.zeros((N_CHUNKS, m if r else 0, k if r else 0))
    Dt = np.zeros((N_CHUNKS, m if d else 0, k if d else 0))
    v = np.zeros((N_CHUNKS, 1 if r else 0, k if r else 0))
    return A, B, Nt, Dt, v
