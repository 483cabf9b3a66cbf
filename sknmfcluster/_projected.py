"""The sparseness-projected problem of :class:`~sknmfcluster.SparseNMF`.

With a sparseness target or a penalty, the parts keep unit norm (and, with a
target, Hoyer's sparseness) and the codes may have a target too. Each
iteration takes block-coordinate steps, each accepted only if the objective
(divergence plus penalties) does not increase, so the objective never
increases (see the Notes of :class:`~sknmfcluster.SparseNMF`):

- codes without a target: the multiplicative step with the code penalty
  (Lee & Seung: it never increases the objective);
- codes with a target: projected-gradient steps on each row from the
  previous codes, the multiplicative step's result as a second start (the
  ``PG_*`` row rules of the kernels);
- parts, Frobenius loss: projected-gradient steps onto the unit-norm
  non-negative vectors (of the target sparseness, if set), which need only
  ``W.T X`` and ``W.T W``;
- parts, other losses: the multiplicative step, projected, with a line
  search along it (the KL gradient is unbounded near the zeros the
  projection creates, so a plain gradient step is badly scaled).
"""

import numpy as np

from . import _kernels as K
from ._engine import row_settings
from ._kernels import _hoyer, _rows
from ._problems import INNER_H_FRO, pg_rule, pg_step
from ._storage import Factors

#: Projected-gradient steps on ``H`` per iteration for the Frobenius loss:
#: they work on the k x m accumulators only, like the engine's inner H-steps.
INNER_H_PG = 3
#: Projected-gradient steps per row of ``W`` and iteration when the codes
#: have a target; they reuse ``x @ H.T``, like the engine's inner W-steps.
INNER_W_PG = 3
#: Fractions of the multiplicative step on ``H`` tried for the KL loss, each
#: at the cost of a pass over ``X``; if none is accepted ``H`` is kept.
LINE_SEARCH = (1.0, 0.5, 0.25, 0.125)


class ProjectedNMF:
    """Unit-norm parts with optional sparseness targets, and penalties.

    ``ratio_H`` is the target ratio ``||h||_1 / ||h||_2`` of the rows of
    ``H`` or ``NO_TARGET`` (unit norm only), ``ratio_W`` that of the rows of
    ``W`` or None, ``penalties`` the weights in the storage's scaled space.
    ``(W, H)`` is the start, moved onto the constraint sets and updated in
    place.
    """

    check_every = 1
    overflow_hint = ("the data or the penalty weights overflow the "
                     "floating-point range. Scale X down or use smaller "
                     "alpha_W and alpha_H.")

    def __init__(self, storage, loss, W, H, *, ratio_H, ratio_W, penalties):
        self.storage, self.loss, self.W, self.H = storage, loss, W, H
        self.ratio_H, self.ratio_W, self.pen = ratio_H, ratio_W, penalties
        self.pg_rule = None if ratio_W is None else pg_rule(loss)
        self.step_H = None
        self.config = row_settings(l1=penalties.l1_W, l2=penalties.l2_W,
                               beta=loss.beta, gamma=loss.gamma)
        self.work = storage.n_entries * W.shape[1]
        H_unit, scale = self._candidate(H)
        H[...] = H_unit
        W *= scale.astype(W.dtype)
        if ratio_W is not None:
            W64 = W.astype(np.float64)
            _hoyer.project_rows_cone(W64, ratio_W)
            W[...] = W64

    def start(self):
        return (self.loss.divergence(self.storage, self.W, self.H)
                + self.pen.value(self.W, self.H))

    def tolerance(self, previous):
        return abs(previous)

    def step(self, evaluate):
        factors = Factors(self.H)
        stats = self._codes_step(factors)
        if self.loss.beta == 2.0 and not stats.masked:
            self.H[...], objective = self._components_fro(stats)
        else:
            self.H[...], objective = self._components_search(stats)
        return objective

    def result(self):
        # unit-norm parts: the codes carry the whole scale of the data
        factor = self.storage.scale
        W = self.W if factor == 1.0 else (self.W * factor).astype(self.W.dtype)
        return W, self.H

    # -- codes ------------------------------------------------------------------

    def _codes_step(self, factors):
        """New codes and the statistics of the pass at them (with ``H`` fixed)."""
        mode = K.ACCUMULATE | K.OBJECTIVE
        if self.ratio_W is None:
            return self.storage.run_pass(self.W, factors, self.loss.mu_rule,
                                         mode, 1, self.config)
        W_mu = self.W.copy()
        self.storage.run_pass(W_mu, factors, self.loss.mu_rule, 0, 1,
                              self.config)
        config = row_settings(l1=self.pen.l1_W, l2=self.pen.l2_W,
                          ratio=self.ratio_W,
                          step=pg_step(self.loss, self.H, self.pen.l2_W))
        return self.storage.run_pass(self.W, factors, self.pg_rule, mode,
                                     INNER_W_PG, config, aux=W_mu)

    # -- components ---------------------------------------------------------------

    def _candidate(self, H_step):
        """Rows of ``H_step`` projected, and the scales to move into ``W``.

        ``W[:, j] * scale[j]`` times the projected row ``j`` reproduces row
        ``j`` of ``H_step`` as well as it can (exactly without a target), so
        the divergence barely changes. With a code target the columns of
        ``W`` cannot be rescaled (it would change the codes' sparseness) and
        the scales are 1.
        """
        H64 = H_step.astype(np.float64)
        scale = _hoyer.project_rows_unit(H64, self.ratio_H)
        if self.ratio_W is not None:
            scale[:] = 1.0
        scale[scale <= 0] = 1.0  # a row with nothing left: keep the codes
        return H64.astype(H_step.dtype), scale

    def _pen_H(self, H):
        return self.pen.value(H[:0], H) if (self.pen.l1_H or self.pen.l2_H) \
            else 0.0

    def _pen_W(self, scale):
        """Penalty of ``W`` with its columns multiplied by ``scale``."""
        W64 = self.W.astype(np.float64)
        return (self.pen.l1_W * float(W64.sum(axis=0) @ scale)
                + 0.5 * self.pen.l2_W * float((W64 * W64).sum(axis=0)
                                              @ scale ** 2))

    def _projected(self, H64):
        """Rows of ``H64`` (float64, overwritten) projected, in H's dtype."""
        _hoyer.project_rows_unit(H64, self.ratio_H)
        return H64.astype(self.H.dtype)

    def _components_fro(self, stats):
        """Projected-gradient steps on ``H`` from the statistics at the new W.

        With ``A = W.T X`` and ``B = W.T W`` the divergence as a function of
        ``H`` is ``0.5 ||X||^2 - <A, H> + 0.5 <B, H H.T>``: every trial costs
        k^2 m, not a pass over ``X``. The multiplicative step from the
        statistics, projected (scale moved into ``W``), is the first
        candidate.
        """
        A, B = stats.A, stats.B
        x_sq = self.storage.sq_norm

        def divergence_at(H64):
            return 0.5 * x_sq - np.vdot(A, H64) + 0.5 * np.vdot(B, H64 @ H64.T)

        l1, l2 = self.pen.l1_H, self.pen.l2_H
        ones = np.ones(B.shape[0])
        current, pen_W = self.H.copy(), self._pen_W(ones)
        value = (divergence_at(current.astype(np.float64)) + pen_W
                 + self._pen_H(current))
        H_mu = self.H.copy()
        self.loss.h_update(H_mu, stats, l1, l2, INNER_H_FRO)
        candidate, scale = self._candidate(H_mu)
        candidate_value = (divergence_at(scale[:, None] * candidate)
                           + self._pen_W(scale) + self._pen_H(candidate))
        if candidate_value < value:
            self.W *= scale.astype(self.W.dtype)
            A, B = scale[:, None] * A, scale[:, None] * B * scale
            current, value = candidate, candidate_value
            pen_W = self._pen_W(ones)
        # A step of 1 / L never increases the objective (see _kernels._rows),
        # so the adaptive step is never allowed to start below it.
        step = max(self.step_H or 0.0, 1.0 / max(
            float(np.linalg.eigvalsh(B)[-1]) + l2, _hoyer.TINY))
        for _ in range(INNER_H_PG):
            H64 = current.astype(np.float64)
            gradient = B @ H64 - A + l1 + l2 * H64
            for _h in range(_rows.MAX_HALVINGS):
                trial = self._projected(H64 - step * gradient)
                trial_value = (divergence_at(trial.astype(np.float64)) + pen_W
                               + self._pen_H(trial))
                if trial_value <= value:
                    break
                step *= 0.5
            else:
                break  # stationary: no step decreases the objective
            current, value = trial, trial_value
            step *= _rows.STEP_GROWTH
        self.step_H = step
        return current, value

    def _components_search(self, stats):
        """A multiplicative step on ``H``, projected, with a line search.

        For the KL loss and the other betas (and for the Frobenius loss with
        missing entries, whose statistics give no closed form in ``H``)
        every evaluation costs a pass over ``X``, so instead of a gradient
        search (the KL gradient is unbounded near zero, where Hoyer's
        projection puts entries), a line search runs along the
        multiplicative step, which scales the gradient by ``H``. The L1
        penalty of a unit-norm row ``h`` enters through its tangential
        gradient ``l1 (1 - sum(h) h)``: ``sum(h) h`` joins the numerator.
        """
        loss, H_prev = self.loss, self.H
        ones = np.ones(H_prev.shape[0])
        value = (loss.objective(stats, self.storage.sq_norm, H_prev, H_prev)
                 + self._pen_W(ones) + self._pen_H(H_prev))
        H64 = H_prev.astype(np.float64)
        l1 = self.pen.l1_H
        num, den = loss.mu_terms(stats, H64)
        ratio = (num + l1 * H64.sum(axis=1, keepdims=True) * H64) / \
            np.maximum(den + l1, _hoyer.TINY)
        step = H64 * (ratio if loss.gamma == 1.0 else ratio ** loss.gamma)
        W = self.W
        for fraction in LINE_SEARCH:
            candidate, scale = self._candidate(H64 + fraction * (step - H64))
            W_scaled = W * scale.astype(W.dtype)
            candidate_value = (loss.divergence(self.storage, W_scaled,
                                               candidate)
                               + self._pen_W(scale) + self._pen_H(candidate))
            if candidate_value <= value:
                W[...] = W_scaled
                return candidate, candidate_value
        return H_prev.copy(), value
