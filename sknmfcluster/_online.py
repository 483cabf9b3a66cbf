"""Online NMF: the data one batch at a time, the statistics kept between batches.

The components ``H`` of plain NMF depend on the data only through the
statistics a pass accumulates (``W.T X`` and ``W.T W`` for the Frobenius
loss; the numerator and denominator of the multiplicative update for the
others). :class:`OnlineNMF` solves the codes of one batch with ``H`` fixed,
adds the batch's statistics to a running sum in which older batches decay by
``rho`` (the ``forget_factor`` semantics of scikit-learn's
:class:`~sklearn.decomposition.MiniBatchNMF`, after Mairal et al., "Online
learning for matrix factorization and sparse coding", JMLR 11, 2010), and
updates ``H`` from that sum alone. For the Frobenius loss the sum is the
exact statistic of the decayed objective ``sum_t rho^(T-t) ||X_t - W_t
H||^2``, so coordinate descent (or the multiplicative step) minimises it.
The other losses' statistics depend on the ``H`` they were taken at, so, as
scikit-learn does, what decays is each batch's multiplicative target ``H_t
* N_t`` (of ``H^(1/gamma)`` for the exponent ``gamma``) and its denominator,
and ``H`` is their ratio (to the power ``gamma``).

``partial_fit`` is one :meth:`OnlineNMF.batch_step` of ``PARTIAL_FIT_ROUNDS``
rounds (a call sees its batch once per pass of the caller's loop, so it
takes a second round on it; on digits in batches of 300 this brings the
error after four epochs from 4.7 % to 2.8 % above the whole fit's, where
scikit-learn's MiniBatchNMF is 12 % above); ``fit`` with a
``batch_size`` runs :class:`Epochs`, whose ``step`` streams every batch once,
in the engine's one loop. Only one batch is ever prepared at a time, so a
memory-mapped X streams through in memory bounded by the batch.
"""

import numpy as np

from . import _kernels as K
from ._engine import row_settings
from ._kernels import EPSILON
from ._problems import h_step
from ._storage import Factors, Stats

#: Rounds of codes and H update that ``partial_fit`` takes on its batch.
PARTIAL_FIT_ROUNDS = 2


def decayed_sum(old, new, rho):
    """``rho * old + new`` for every statistic (``old`` None: ``new``)."""
    if old is None:
        return new
    return Stats(*(rho * a + b for a, b in (
        (old.A, new.A), (old.B, new.B), (old.N, new.N), (old.D, new.D),
        (old.v, new.v), (old.C, new.C))), rho * old.objective + new.objective)


class OnlineNMF:
    """The components ``H`` fitted one batch at a time (see the module notes).

    ``H`` (k, m) is the start, updated in place, in the units of the data;
    the batches are storages of one common scale. ``max_iter`` and ``tol``
    bound each batch's code solve, as in ``transform``.
    """

    def __init__(self, loss, H, *, solver, penalties, max_iter, tol):
        if solver == "cd" and loss.beta != 2.0:
            raise ValueError(
                f"partial_fit with solver='cd' supports the Frobenius loss "
                f"only, not beta_loss={loss.beta:g}: it updates the "
                "components from statistics kept between batches, which KL "
                "coordinate descent does not have. Use solver='mu'.")
        self.loss, self.H, self.penalties = loss, H, penalties
        self.cd = solver == "cd"
        self.rule = K.CD_FRO if self.cd else loss.mu_rule
        self.max_iter, self.tol = max_iter, tol
        self.stats = None  # the decayed statistics (Frobenius)
        self.target = self.denominator = 0.0  # the decayed MU terms (others)
        self.n_batches = 0

    def batch_step(self, storage, w0, rho, rounds=1):
        """Codes of one batch, its statistics added, ``H`` updated.

        ``w0`` (k,) starts every row's codes; ``rho`` weighs the statistics
        of the earlier batches. With ``rounds`` > 1 the codes are solved
        again with the updated ``H`` and the batch's statistics replaced by
        theirs before ``H`` is updated again, so that the batch's share of
        the statistics is taken at components it helped form. Returns the
        batch's codes of the last round and its divergence (plus penalties)
        at those codes and the ``H`` they were solved with.
        """
        prior = (self.stats, self.target, self.denominator)
        for _ in range(rounds):
            self.stats, self.target, self.denominator = prior
            W, objective = self._round(storage, w0, rho)
        self.n_batches += 1
        return W, objective

    def _round(self, storage, w0, rho):
        """Codes of the batch with ``H`` fixed, then ``H`` from the sum."""
        loss, pen = self.loss, self.penalties
        config = row_settings(l1=pen.l1_W, l2=pen.l2_W, tol=self.tol,
                              beta=loss.beta, gamma=loss.gamma)
        W = np.empty((storage.shape[0], self.H.shape[0]), dtype=self.H.dtype)
        W[...] = w0
        factors = Factors(self.H)
        storage.solve_rows(W, factors, self.rule, config,
                           max_iter=self.max_iter)
        stats = storage.run_pass(W, factors, self.rule,
                                 K.ACCUMULATE | K.OBJECTIVE, 0, config)
        objective = loss.objective(stats, storage.sq_norm, self.H, self.H) \
            + pen.value(W, self.H)
        if loss.beta == 2.0 and not stats.masked:
            self.stats = decayed_sum(self.stats, stats, rho)
            h_step(self.H, self.stats, loss, cd=self.cd, penalties=pen)
        else:
            self._multiplicative_h(stats, rho)
        return W, objective

    def _multiplicative_h(self, stats, rho):
        """The decayed multiplicative H update of scikit-learn's MiniBatchNMF."""
        loss, pen = self.loss, self.penalties
        H64 = self.H.astype(np.float64)
        numerator, denominator = loss.mu_terms(stats, H64)
        denominator = denominator + pen.l1_H + pen.l2_H * H64
        base = H64 if loss.gamma == 1.0 else H64 ** (1.0 / loss.gamma)
        self.target = rho * self.target + base * numerator
        self.denominator = rho * self.denominator + denominator
        H64 = self.target / np.maximum(self.denominator, EPSILON)
        if loss.gamma != 1.0:
            H64 **= loss.gamma
        self.H[...] = H64


class Epochs:
    """The problem of a ``fit`` with a ``batch_size``: one step is one epoch.

    ``batches()`` yields ``(start, stop, storage)`` for consecutive rows of
    the data; ``code_start(W)`` gives the constant that starts the codes of
    the next batch from the codes of the last one (the mean code, as
    ``transform`` uses). The objective of an epoch is the sum of its batches'
    divergences, each at the components before the batch's update.
    """

    check_every = 1
    overflow_hint = ("the data, or the factors it leads to, overflow the "
                     "floating-point range. Scale X down.")

    def __init__(self, online, batches, n_samples, w0, rho, code_start):
        self.online, self.batches, self.rho = online, batches, rho
        self.w0, self.code_start = w0, code_start
        self.W = np.empty((n_samples, online.H.shape[0]), dtype=online.H.dtype)
        # the loop must not lower the thread count for the whole fit: each
        # batch's code solve lowers it for itself when the batch is small
        self.work = float("inf")

    def start(self):
        return None

    def tolerance(self, previous):
        return abs(previous)

    def step(self, evaluate):
        total = 0.0
        for start, stop, storage in self.batches():
            W, objective = self.online.batch_step(storage, self.w0, self.rho)
            self.W[start:stop] = W
            self.w0 = self.code_start(W)
            total += objective
        return total

    def result(self):
        return self.W, self.online.H
