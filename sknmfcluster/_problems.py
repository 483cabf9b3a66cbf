"""The iterative problems the loop of :mod:`._engine` runs, and the codes solve.

Each problem owns its factors and takes one iteration per ``step`` (see
:mod:`._engine` for the contract). All work in the storage's scaled space
(see :mod:`._storage`) and give their factors back in the units of the data.

- :class:`PlainNMF`: ``min D_beta(X | W H) + penalties`` by alternating
  passes, multiplicative updates (any beta) or coordinate descent
  (Frobenius and KL).
- :class:`GNMF`: graph-regularised NMF (Cai, He, Han & Huang, IEEE TPAMI
  33, 2011), ``0.5 ||X - W H||_F^2 + 0.5 lambda trace(W.T L W)`` with
  ``L = D - S``, by their multiplicative updates (eq. 12).
- :class:`SymNMF`: symmetric NMF (Kuang, Ding & Park, SDM 2012),
  ``0.5 ||A - W W.T||_F^2`` for a normalised affinity ``A``.

The sparseness-projected problem of :class:`~sknmfcluster.SparseNMF` is in
:mod:`._projected`.
"""

import numpy as np

from . import _kernels as K
from ._engine import fit, row_settings
from ._losses import NO_PENALTIES, Loss, fro_from_stats
from ._storage import SAFE_RANGE, Factors, range_scale

#: Multiplicative W-steps per row and pass for the Frobenius loss. They reuse
#: ``x @ H.T``, so each extra step costs k^2 per row, not a read of X
#: ("accelerated MU", Gillis & Glineur 2012).
INNER_W_FRO = 3
#: H-steps per pass for the Frobenius loss, from the accumulators alone
#: (k^2 m each, against the n m k of the pass).
INNER_H_FRO = 3
#: Coordinate-descent sweeps per row of W and pass. A sweep costs k^2 per row
#: against the 4 m k of the pass, so several sweeps are nearly free and bring
#: the row close to its exact least-squares solution given H.
INNER_W_CD = 3
#: Coordinate-descent sweeps over H per pass, from the accumulators alone.
INNER_H_CD = 1
#: Gillis & Glineur's stopping of the sweeps over H: stop once a sweep moves
#: H by at most this fraction of what the first sweep moved it (Frobenius
#: norms); 0 runs all ``INNER_H_CD`` sweeps.
H_SWEEP_DECREASE = 0.0
#: A KL or beta step needs ``W @ H`` afresh, which costs as much as the pass
#: itself, so those losses take one step of each per pass.
INNER_MU = 1
#: Coordinate-descent sweeps per row (of W, then of H from the columns of X)
#: and iteration under the KL loss. Each coordinate is already solved to
#: convergence by Newton steps, which keep ``W @ H`` at the row's non-zeros
#: up to date; a second sweep costs as much as the first.
INNER_KL_CD = 1

FROBENIUS = Loss(2.0)


def _unscaled(F, factor):
    """``F * factor`` in F's dtype (``factor`` is a power of two: exact)."""
    return F if factor == 1.0 else (F * factor).astype(F.dtype, copy=False)


class PlainNMF:
    """``min_{W, H >= 0} D_beta(X | W H) + penalties`` by alternating passes.

    Each iteration is one pass over ``X`` (the W-steps of every row, plus the
    statistics of the H update with the new W) and H-steps from those
    statistics alone. The objective comes from the statistics: for the
    Frobenius loss it is exact at the new ``(W, H)``; for the other losses it
    is the value after the W-step, evaluated every ``check_every``
    iterations. ``W`` and ``H`` are the start, in the scaled space of
    ``storage``, updated in place. ``free``, a boolean mask over the rows of
    ``H``, holds the other rows fixed (components the user supplies and
    keeps while the rest are learned).

    Coordinate descent under the KL loss (Hsieh & Dhillon, KDD 2011) cannot
    update ``H`` from statistics: each coordinate of a column of ``H`` needs
    ``W @ H`` at that column's non-zeros. Its iteration is therefore two
    passes, over the rows of ``X`` (the codes) and over the rows of ``X.T``
    (the components, from a column copy of X made once per fit), each row
    solved by the same rule, and its objective is the exact divergence at
    the new ``(W, H)``, evaluated every iteration (a logarithm per non-zero,
    a small part of an iteration that costs several passes' worth of
    Newton steps).
    """

    overflow_hint = ("the data, or the factors it leads to, overflow the "
                     "floating-point range. Scale X down.")

    def __init__(self, storage, loss, W, H, *, solver="mu",
                 penalties=NO_PENALTIES, free=None):
        if solver == "cd" and not loss.supports_cd:
            raise ValueError(
                "The coordinate-descent solver supports the Frobenius and "
                f"KL losses only, not beta_loss={loss.beta:g}; use "
                "solver='mu'.")
        self.storage, self.loss, self.W, self.H = storage, loss, W, H
        self.penalties = penalties
        self.free = free  # rows of H that move; None: all
        self.cd = solver == "cd"
        self.kl_cd = self.cd and loss.beta == 1.0
        self.rule = code_rule(loss, solver)
        if self.kl_cd:
            check_kl_cd(storage, free)
            self.columns = storage.transpose()
            self.config_H = row_settings(l1=penalties.l1_H, l2=penalties.l2_H)
            kl_rescale(storage, W, H)
            self.n_steps_W = INNER_KL_CD
        elif self.cd:
            self.n_steps_W = INNER_W_CD
        else:
            self.n_steps_W = INNER_W_FRO if loss.beta == 2.0 else INNER_MU
        self.check_every = 1 if self.cd else loss.check_every
        self.config = row_settings(l1=penalties.l1_W, l2=penalties.l2_W,
                               beta=loss.beta, gamma=loss.gamma)
        self.work = storage.n_entries * W.shape[1]

    def start(self):
        return None

    def tolerance(self, previous):
        return abs(previous)

    def step(self, evaluate):
        if self.kl_cd:
            return self._kl_cd_step(evaluate)
        factors = Factors(self.H)
        stats = self.w_pass(self.storage, self.W, factors, evaluate)
        H_before = self.H.copy() if evaluate else None
        self.h_step(stats)
        if not evaluate:
            return None
        # the exact Frobenius objective is at the new H; the others at the
        # H the pass saw, and the penalty with them
        exact = self.loss.beta == 2.0 and not stats.masked
        return (self.loss.objective(stats, self.storage.sq_norm, H_before,
                                    self.H)
                + self.penalties.value(self.W, self.H if exact else H_before))

    def _kl_cd_step(self, evaluate):
        """One KL coordinate-descent iteration: the codes, then the components."""
        self.storage.run_pass(self.W, Factors(self.H), K.CD_KL, 0,
                              self.n_steps_W, self.config)
        Ht = np.ascontiguousarray(self.H.T)
        self.columns.run_pass(Ht, Factors(np.ascontiguousarray(self.W.T)),
                              K.CD_KL, 0, INNER_KL_CD, self.config_H)
        self.H[...] = Ht.T
        if not evaluate:
            return None
        return (self.loss.divergence(self.storage, self.W, self.H)
                + self.penalties.value(self.W, self.H))

    def w_pass(self, storage, W, factors, evaluate):
        """W-steps on every row of ``storage`` and the statistics for H."""
        mode = K.ACCUMULATE | (K.OBJECTIVE if evaluate else 0)
        return storage.run_pass(W, factors, self.rule, mode, self.n_steps_W,
                                self.config)

    def h_step(self, stats):
        """H-steps from the statistics of a pass, in place."""
        h_step(self.H, stats, self.loss, cd=self.cd, penalties=self.penalties,
               free=self.free)

    def result(self):
        root = float(np.sqrt(self.storage.scale))  # a power of two
        return _unscaled(self.W, root), _unscaled(self.H, root)


def code_rule(loss, solver):
    """The row rule of ``solver`` (``"cd"`` or ``"mu"``) under ``loss``."""
    if solver == "cd":
        return K.CD_KL if loss.beta == 1.0 else K.CD_FRO
    return loss.mu_rule


def kl_rescale(storage, W, H):
    """Scale the start ``(W, H)`` in place so that ``sum(W H) = sum(X)``.

    Both sums over the observed entries: the KL divergence of ``c W H`` is
    smallest at that ``c`` whatever the factors, so the step never raises
    the objective. Coordinate descent needs it: from a start whose product is far
    too large (the NNDSVD starts are, by up to 50x on digits at rank 30),
    the first sweep solves each coordinate against the others' excess,
    sets most codes to exactly 0, and whole components die (a component
    with no weight is never seen again). Multiplicative steps rescale
    themselves; they need no such care.
    """
    total = float(storage.to_scipy().sum(dtype=np.float64))
    product = float(W.sum(axis=0, dtype=np.float64)
                    @ H.sum(axis=1, dtype=np.float64))
    miss = storage.missing
    if miss.count:  # the sums run over the observed entries
        product -= K.missing_terms(miss.ptr, miss.idx, W,
                                   np.ascontiguousarray(H.T))[0]
    if total > 0.0 and product > 0.0:
        root = np.sqrt(total / product)
        W *= W.dtype.type(root)
        H *= H.dtype.type(root)


def check_kl_cd(storage, free):
    """Raise a clear error where KL coordinate descent cannot update ``H``."""
    if not storage.local:
        raise ValueError(
            "solver='cd' with beta_loss='kullback-leibler' updates the "
            "components from the columns of X, which a Dask array does not "
            "have in one place. Use solver='mu' (or 'auto') for Dask input.")
    if free is not None:
        raise ValueError(
            "solver='cd' with beta_loss='kullback-leibler' cannot keep some "
            "components fixed while it learns the others. Use solver='mu' "
            "with fixed_components.")


def h_step(H, stats, loss, *, cd, penalties, free=None):
    """H-steps from a pass's statistics, in place: coordinate descent or MU.

    Coordinate descent solves each column of ``H`` from ``A = W.T X`` and
    ``B = W.T W``; with missing entries each column has its own Gram matrix
    and the multiplicative step, which needs none, is taken instead. With
    ``free`` (a boolean mask of the rows of H) the other rows stay fixed.
    """
    pen = penalties
    if not cd or stats.masked:
        loss.h_update(H, stats, pen.l1_H, pen.l2_H, INNER_H_FRO, free=free)
        return
    A, B, H_free = stats.A, stats.B, H
    if free is not None:
        # the fixed rows C enter the free rows' problem as a constant:
        # min_h 0.5 h B_FF h - (A_F - B_FC H_C) h, column by column
        fixed = ~free
        A = A[free] - B[np.ix_(free, fixed)] @ H[fixed].astype(np.float64)
        B = B[np.ix_(free, free)]
        H_free = H[free]
    Ht = np.ascontiguousarray(H_free.T)
    gram_sweeps(Ht, np.ascontiguousarray(A.T), np.ascontiguousarray(B),
                pen.l1_H, pen.l2_H)
    if free is None:
        H[...] = Ht.T
    else:
        H[free] = Ht.T


def gram_sweeps(Ht, At, B, l1, l2):
    """Coordinate-descent sweeps over ``Ht`` from ``At = X.T W``, ``B = W.T W``.

    Up to ``INNER_H_CD`` sweeps; with ``H_SWEEP_DECREASE`` > 0 they stop
    once a sweep changes ``Ht`` by at most that fraction of the first
    sweep's change (Gillis & Glineur, Neural Computation 24, 2012).
    """
    if H_SWEEP_DECREASE <= 0.0 or INNER_H_CD == 1:
        K.solve_gram_rows(Ht, At, B, l1, l2, INNER_H_CD, 0.0)
        return
    first = None
    before = np.empty_like(Ht)
    for _ in range(INNER_H_CD):
        before[...] = Ht
        K.solve_gram_rows(Ht, At, B, l1, l2, 1, 0.0)
        before -= Ht
        change = float(np.linalg.norm(before))
        if first is None:
            first = change
        elif change <= H_SWEEP_DECREASE * first:
            return


def laplacian_form(W, SW, degrees):
    """``trace(W.T L W) = sum_i d_i ||w_i||^2 - <W, S W>``, in float64."""
    W64 = W.astype(np.float64, copy=False)
    return float(degrees @ np.einsum("ij,ij->i", W64, W64) - np.vdot(W64, SW))


class GNMF:
    """Cai et al.'s multiplicative updates for graph-regularised NMF.

    ``graph`` is the symmetric neighbour graph ``S`` (scipy CSR) with row
    sums ``degrees``, ``(W, H)`` the start in the scaled space of
    ``storage``, updated in place, ``strength`` the weight lambda in that
    space too (for data divided by ``s`` the data term shrinks by ``s^2``
    and the graph term by ``s``: lambda shrinks by ``s``). Each iteration is one pass over ``X`` with one W-step
    per row (the step Cai et al. prove monotone, neighbours' codes taken from
    the previous iterate), then H-steps from the pass's statistics. The
    objective never increases.
    """

    check_every = 1
    overflow_hint = ("graph_strength is too large for this data: the graph "
                     "term overflows the floating-point range. Use a smaller "
                     "graph_strength.")

    def __init__(self, storage, graph, degrees, W, H, strength):
        self.storage, self.W, self.H = storage, W, H
        self.strength = strength
        self.csr = (graph.data.astype(np.float64), graph.indices,
                    graph.indptr)
        self.degrees = degrees
        with np.errstate(over="ignore"):
            self.aux_l2 = self.strength * degrees
        if not np.isfinite(self.aux_l2).all():
            raise ValueError(f"The objective overflows before the first "
                             f"iteration: {self.overflow_hint}")
        self.SW = np.empty(W.shape)
        K.csr_times_dense(*self.csr, W, self.SW)
        self.config = row_settings()
        self.work = storage.n_entries * W.shape[1]

    def start(self):
        return None

    def tolerance(self, previous):
        return abs(previous)

    def step(self, evaluate):
        with np.errstate(over="ignore"):  # the loop reports a non-finite end
            aux = self.strength * self.SW
        stats = self.storage.run_pass(
            self.W, Factors(self.H), K.MU_FRO, K.ACCUMULATE, 1, self.config,
            aux=aux, aux_l2=self.aux_l2)
        FROBENIUS.h_update(self.H, stats, 0.0, 0.0, INNER_H_FRO)
        K.csr_times_dense(*self.csr, self.W, self.SW)
        return (fro_from_stats(self.storage.sq_norm, stats.A, stats.B, self.H)
                + 0.5 * self.strength * laplacian_form(self.W, self.SW,
                                                       self.degrees))

    def result(self):
        root = float(np.sqrt(self.storage.scale))
        return _unscaled(self.W, root), _unscaled(self.H, root)


#: Exponent of the SymNMF step that provably never increases the objective:
#: with ``w <- w * (AW / W W.T W) ** (1/4)`` each step minimises an auxiliary
#: function (the log bound on ``-2 trace(W.T A W)`` for non-negative A plus
#: the quartic bound on ``||W.T W||_F^2``; cf. He et al., IEEE TNN 22, 2011,
#: and Yang & Oja, IEEE TNN 22, 2011).
SAFE_EXPONENT = 0.25
#: The bolder plain-ratio step, tried first and kept only when it lowers the
#: objective, which it does at almost every iteration: the solver converges
#: several times faster and stays monotone.
BOLD_EXPONENT = 1.0

#: The SymNMF fit stops when an iteration lowers the objective by at most
#: ``SYMNMF_TOL_SCALE * tol`` times the size of the approximation
#: ``0.5 ||W W.T||_F^2``. The objective itself is dominated by the part of
#: a sparse affinity that no rank-k matrix explains, so a decrease relative
#: to it would stop long before the factor settles. With the default
#: ``tol=1e-4`` the digits fit from the spectral init stops after 100-150
#: cheap iterations; running on to 10 times stricter thresholds moved the
#: accuracy within its seed-to-seed spread (0.87-0.90) and no further.
SYMNMF_TOL_SCALE = 1e-2


def symnmf_objective(a_sq, G, inner):
    """``0.5 ||A - W W.T||_F^2`` from ``||A||^2``, ``G = W.T W``, ``trace(W.T A W)``."""
    return 0.5 * max(a_sq - 2.0 * inner + float(np.vdot(G, G)), 0.0)


class SymNMF:
    """Multiplicative updates for ``min_{W >= 0} 0.5 ||A - W W.T||_F^2``.

    ``A`` is a symmetric non-negative scipy CSR matrix, ``W`` (n, k) float64
    the start, used as scratch space (the fitted factor is ``result()``).
    Each iteration computes ``A @ W`` and ``W.T @ W`` in one pass over the
    non-zeros of ``A`` and tries the plain ratio step ``W * AW / (W W.T W)``;
    if that does not lower the objective it takes the step with exponent
    1/4 instead, which provably does not raise it, so the objective never
    increases.
    """

    check_every = 1
    overflow_hint = "the affinity overflowed; this is a bug, please report it."

    def __init__(self, A, W):
        data = np.ascontiguousarray(A.data, dtype=np.float64)
        self.csr = (data, A.indices, A.indptr)
        self.a_sq = float(data @ data)
        self.W = W
        self.AW, self.cand, self.AW_cand = (np.empty_like(W) for _ in range(3))
        self.work = data.size * W.shape[1]

    def start(self):
        self.G, inner = K.symnmf_stats(*self.csr, self.W, self.AW)
        self.objective = symnmf_objective(self.a_sq, self.G, inner)
        return self.objective

    def tolerance(self, previous):
        return SYMNMF_TOL_SCALE * 0.5 * float(np.vdot(self.G, self.G))

    def step(self, evaluate):
        for exponent in (BOLD_EXPONENT, SAFE_EXPONENT):
            K.symnmf_update(self.W, self.AW, self.G, exponent, self.cand)
            G, inner = K.symnmf_stats(*self.csr, self.cand, self.AW_cand)
            new = symnmf_objective(self.a_sq, G, inner)
            if new <= self.objective:
                break
        self.W, self.cand = self.cand, self.W
        self.AW, self.AW_cand = self.AW_cand, self.AW
        self.G, self.objective = G, new
        return new

    def result(self):
        return self.W, None


# -- codes with the components fixed ----------------------------------------------


def solve_codes(storage, H, loss, w0, *, max_iter, tol, solver="mu", l1=0.0,
                l2=0.0, ratio=None):
    """Codes ``W >= 0`` of every row of ``storage`` with ``H`` fixed.

    Every row starts from the same constant ``w0`` (k,) and stops after
    ``max_iter`` steps or once its largest change is at most ``tol`` times
    its largest entry, so a row's result never depends on the other rows.
    With a target sparseness ``ratio`` (of ``||w||_1 / ||w||_2``), each row is
    then projected onto the sparseness cone and refined by the
    projected-gradient steps of the fit. ``H``, ``w0`` and the penalty
    weights ``l1``, ``l2`` on the codes are in the units of the data; the
    solve runs in the storage's scaled space, and in a scaled space of ``H``
    when ``H`` is out of the safe range.
    """
    rule = code_rule(loss, solver)
    s = storage.scale
    t = range_scale(float(np.max(H, initial=0.0)), H.dtype)
    H_s = H if t == 1.0 else np.ldexp(H, -int(np.log2(t))).astype(H.dtype)
    factor = s / t  # codes in the data's units = factor * scaled codes
    W = np.empty((storage.shape[0], H.shape[0]), dtype=H.dtype)
    with np.errstate(over="ignore"):
        W[...] = np.asarray(w0, dtype=np.float64) / factor
    # data so far below the fit's (a largest entry under about 1e-308,
    # float32 1e-38) that the start overflows: the top of the safe range
    # instead (the codes came out NaN)
    W[~np.isfinite(W)] = SAFE_RANGE[W.dtype][1]
    # the penalties of the scaled problem: the divergence shrinks by
    # s^beta, an L1 term by ``factor``, an L2 term by ``factor^2``
    log2_d = loss.scale_exponent() * np.log2(s)
    config = row_settings(
        l1=l1 * np.exp2(np.log2(factor) - log2_d) if l1 else 0.0,
        l2=l2 * np.exp2(2 * np.log2(factor) - log2_d) if l2 else 0.0,
        tol=tol, beta=loss.beta, gamma=loss.gamma)
    factors = Factors(H_s)
    storage.solve_rows(W, factors, rule, config, max_iter=max_iter)
    W[storage.unobserved_rows()] = 0  # no entry, no information: no codes
    if ratio is not None:
        config[K.RATIO] = ratio
        config[K.STEP] = pg_step(loss, H_s, config[K.L2])
        # each row's candidate start is the row itself
        storage.solve_rows(W, factors, pg_rule(loss), config,
                           max_iter=max_iter, aux=W)
    return _unscaled(W, factor)


def pg_rule(loss):
    """The projected-gradient row rule of ``loss``; only Frobenius and KL have one."""
    if loss.beta == 2.0:
        return K.PG_FRO
    if loss.beta == 1.0:
        return K.PG_KL
    raise ValueError(
        f"sparseness_codes supports beta_loss='frobenius' and "
        f"'kullback-leibler' only, not beta_loss={loss.beta:g}. Use "
        "sparseness_components or alpha_W for sparse codes under that loss.")


def pg_step(loss, H, l2):
    """First step of the Frobenius projected gradient on codes, ``1 / L``.

    ``L`` is the Lipschitz constant of the row gradient, the largest
    eigenvalue of ``H H.T`` plus ``l2``; the KL rule picks its own (0).
    """
    if loss.beta != 2.0:
        return 0.0
    H64 = H.astype(np.float64)
    lipschitz = float(np.linalg.eigvalsh(H64 @ H64.T)[-1]) + l2
    return 1.0 / lipschitz if lipschitz > 0 else 1.0



def fit_plain(storage, W, H, loss, *, max_iter, tol, solver="mu",
              penalties=NO_PENALTIES, free=None, verbose=0):
    """One run of :class:`PlainNMF` from ``(W, H)``, updated in place."""
    def make():
        return PlainNMF(storage, loss, W, H, solver=solver,
                        penalties=penalties, free=free)

    return fit([("given", make)], max_iter=max_iter, tol=tol,
               verbose=verbose)
