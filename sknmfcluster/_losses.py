"""Losses as data: one object per beta-divergence says all the solvers need.

scikit-learn's conventions: ``beta_loss`` is ``"frobenius"`` (beta = 2, the
objective is ``0.5 ||X - W H||_F^2``), ``"kullback-leibler"`` (beta = 1, the
generalized KL divergence ``sum(X log(X / WH) - X + WH)``),
``"itakura-saito"`` (beta = 0) or any float. A :class:`Loss` knows, for its
beta, the row rule of the multiplicative updates, the statistics a fit pass
accumulates, the ``H`` update and the objective from those statistics, and
the exact divergence. Frobenius and KL have faster special cases of the
general beta rule, which is correct for every beta; a new loss is one
more case here. The reported ``reconstruction_err_`` is
``sqrt(2 * divergence)``, which for the Frobenius loss is ``||X - W H||_F``.
"""

import numpy as np

from . import _kernels as K

#: Named losses and their beta, as scikit-learn names them.
BETA_LOSSES = {"frobenius": 2.0, "kullback-leibler": 1.0,
               "itakura-saito": 0.0}

#: The KL and beta objectives cost a logarithm or a power per entry, as much
#: as the rest of a pass, so they are evaluated (and the stopping rule
#: applied) every ``CHECK_EVERY`` iterations and at the last one, as
#: scikit-learn does.
CHECK_EVERY = 10


#: Data with zeros needs a beta at least this large: a zero entry's
#: divergence is ``y^beta / beta``, infinite for beta <= 0 and beyond the
#: float range, summed over the zeros, for a beta this close to 0.
ZEROS_NEED_BETA = 1e-300


def beta_value(beta_loss):
    """beta of a ``beta_loss`` parameter: a name of :data:`BETA_LOSSES` or a float."""
    if isinstance(beta_loss, str):
        return BETA_LOSSES[beta_loss]
    return float(beta_loss)


def auto_solver(loss, *, columns=True):
    """What ``solver="auto"`` means for ``loss``.

    Coordinate descent for the Frobenius loss and, where the fit can read
    the columns of X (``columns``: all of X in memory and every component
    free to move), for the Kullback-Leibler loss; the multiplicative updates
    otherwise (Dask input, ``partial_fit`` and ``batch_size``, fixed
    components, and every other beta). Coordinate descent got within 0.1 %
    of the best KL objective first from all 16 starts on dense data and
    digits (the updates were mostly still 1.3 to 17 % above after 10 to
    30 s) and from 5 of 10 on sparse Zipf counts (from the others the
    updates got there up to 1.5 times sooner, or coordinate descent ended
    in another local minimum, 0.5 to 2 % above, as the updates did from
    other starts): ``benchmarks/kl_solvers.py`` and the performance page.
    Codes alone (``transform``) read rows only, so ``columns`` does not
    restrict them.
    """
    if loss.beta == 2.0 or (loss.beta == 1.0 and columns):
        return "cd"
    return "mu"


def fro_from_stats(sq_norm, A, B, H, extra=0.0):
    """``0.5 * ||X - W H||^2`` from ``A = W.T X`` (k, m) and ``B = W.T W``.

    Uses ``||X - WH||^2 = ||X||^2 - 2 <A, H> + <B, H H.T>``: no pass over X.
    ``extra`` is added before the clip: with missing entries, the pass's
    own share (mostly missing rows are left out of ``B`` and their share of
    ``<B, H H.T>`` comes in there, ``_kernels._masked.accumulate_observed``,
    so the sum of the first three terms alone can be negative). The
    subtraction can cancel to a tiny negative number for an almost exact
    fit, so the result is clipped at zero.
    """
    H64 = H.astype(np.float64, copy=False)
    value = sq_norm - 2.0 * np.vdot(A, H64) + np.vdot(B, H64 @ H64.T)
    return max(0.5 * value + extra, 0.0)


def reconstruction_error(divergence):
    """``sqrt(2 * divergence)``, scikit-learn's ``reconstruction_err_``."""
    return float(np.sqrt(2.0 * max(divergence, 0.0)))


class Loss:
    """The beta-divergence ``D_beta(X | W H)`` and what the solvers need of it.

    Attributes
    ----------
    beta : float
    gamma : float
        Exponent of the multiplicative updates, which makes each a
        majorization-minimization step (Fevotte & Idier 2011): ``1 / (2 -
        beta)`` for beta < 1, 1 for 1 <= beta <= 2, ``1 / (beta - 1)`` above.
    mu_rule : int
        The kernels' multiplicative row rule for this beta.
    check_every : int
        How often a fit evaluates the objective.
    """

    def __init__(self, beta):
        self.beta = float(beta)
        if self.beta < 1.0:
            self.gamma = 1.0 / (2.0 - self.beta)
        elif self.beta > 2.0:
            self.gamma = 1.0 / (self.beta - 1.0)
        else:
            self.gamma = 1.0
        self.mu_rule = {2.0: K.MU_FRO, 1.0: K.MU_KL}.get(self.beta, K.MU_BETA)
        self.check_every = 1 if self.beta == 2.0 else CHECK_EVERY

    @property
    def supports_cd(self):
        """Coordinate descent is implemented for the Frobenius and KL losses."""
        return self.beta in (1.0, 2.0)

    def __repr__(self):
        return f"Loss(beta={self.beta:g})"

    def check_data(self, storage):
        """Reject X with zeros where their divergence is infinite (beta <= 0)."""
        if self.beta < ZEROS_NEED_BETA and storage.has_zeros():
            raise ValueError(
                f"beta_loss={self.beta:g} cannot fit data with zeros: the "
                "divergence of a zero entry is infinite for beta <= 0 (and "
                "about 1 / beta for a beta just above 0), and the updates "
                "would diverge. Add a small positive constant to X, or use a "
                "beta_loss > 0 such as 'kullback-leibler'.")

    def scale_exponent(self):
        """``D(c X | c Y) = c ** scale_exponent() * D(X | Y)``: beta-homogeneity."""
        return self.beta

    def divergence(self, storage, W, H):
        """Exact ``D_beta(X | W H)`` over every entry of the storage's X."""
        return storage.divergence(W, H, self.beta)

    def h_update(self, H, stats, l1, l2, n_steps, free=None):
        """Multiplicative H update(s) from a fit pass's statistics, in place.

        Frobenius: ``H <- H * A / (B H + l1 + l2 H)``, ``n_steps`` times (the
        statistics do not change with H). KL: ``H <- H * N / (v + l1 + l2
        H)``. Other betas: ``H <- H * (N / (D + l1 + l2 H)) ** gamma``; the
        last two take one step, since their statistics depend on ``H``.
        With ``free`` (a boolean mask of the rows of H) only those rows move:
        the updates are majorization-minimization steps on an auxiliary
        function that is separable over the entries of H, so updating a
        subset of them still never increases the objective.
        """
        H64 = H.astype(np.float64)
        rows = slice(None) if free is None else free
        # only the unmasked Frobenius statistics hold for any H: the others
        # (and the missing entries' share) were computed at the current H
        exact = self.beta == 2.0 and not stats.masked
        for _ in range(n_steps if exact else 1):
            num, den = self.mu_terms(stats, H64)
            den = den[rows] + l1
            if l2:
                den = den + l2 * H64[rows]
            ratio = num[rows] / np.maximum(den, K.EPSILON)
            H64[rows] *= ratio if self.gamma == 1.0 else ratio ** self.gamma
        H[...] = H64

    def mu_terms(self, stats, H64):
        """Numerator and denominator of the multiplicative H update, no penalty.

        Frobenius: ``W.T X`` and ``W.T W H``; KL: ``N`` and ``W.sum(0)``;
        other betas: ``N`` and ``D``. With missing entries the statistics
        ``C`` of their share come off the denominator; where what is left is
        at most ``UNSEEN`` of the whole (the column's observed entries do
        not see the component, and the difference is rounding noise), the
        numerator is 0, so that the entry of ``H`` goes to 0 instead of
        being divided by noise (see ``_kernels._masked.UNSEEN``).
        """
        if self.beta == 2.0:
            num, den = stats.A, stats.B @ H64
        elif self.beta == 1.0:
            num, den = stats.N, np.broadcast_to(stats.v[:, None],
                                                stats.N.shape)
        else:
            return stats.N, stats.D
        if not stats.masked:
            return num, den
        observed = den - stats.C
        return np.where(observed <= K.UNSEEN * den, 0.0, num), observed

    def objective(self, stats, sq_norm, H_before, H_after):
        """The divergence from a fit pass's statistics.

        Frobenius: exact at the new ``(W, H_after)`` (at ``(W, H_before)``
        with missing entries, whose share the pass computed there). KL and
        other betas: at ``(W, H_before)``, the point the pass evaluated (the
        KL pass leaves out ``sum(W H)``, which is ``W.sum(0) @ H.sum(1)``).
        """
        if self.beta == 2.0:
            H = H_before if stats.masked else H_after
            return fro_from_stats(sq_norm, stats.A, stats.B, H,
                                  stats.objective)
        if self.beta == 1.0:
            return stats.objective + float(
                stats.v @ H_before.sum(axis=1, dtype=np.float64))
        return stats.objective


class Penalties:
    """``l1 ||F||_1 + 0.5 l2 ||F||_F^2`` on each factor, in the data's units."""

    def __init__(self, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0):
        # Python floats: an int would compile new kernel specialisations.
        self.l1_W, self.l2_W = float(l1_W), float(l2_W)
        self.l1_H, self.l2_H = float(l1_H), float(l2_H)
        for name in ("l1_W", "l2_W", "l1_H", "l2_H"):
            if not np.isfinite(getattr(self, name)):
                raise ValueError(
                    f"The penalty weight {name} overflowed to "
                    f"{getattr(self, name)}: the regularisation parameter "
                    "(alpha_W or alpha_H) is too large for this data. Use a "
                    "smaller value.")

    def scaled(self, log2_scale, beta):
        """The weights for data divided by ``s = 2 ** log2_scale``.

        With the factors divided by ``sqrt(s)`` each (plain NMF), the
        divergence shrinks by ``s ** beta``, an L1 term by ``sqrt(s)`` and
        an L2 term by ``s``: the minimiser moves with the data when the
        weights change by the rest.
        """
        if log2_scale == 0:
            return self
        l1 = float(np.exp2(log2_scale / 2 - beta * log2_scale))
        l2 = float(np.exp2(log2_scale - beta * log2_scale))
        return Penalties(self.l1_W * l1, self.l2_W * l2, self.l1_H * l1,
                         self.l2_H * l2)

    def value(self, W, H):
        """The penalty at ``(W, H)``."""
        total = 0.0
        for F, l1, l2 in ((W, self.l1_W, self.l2_W), (H, self.l1_H, self.l2_H)):
            if l1:
                total += l1 * float(F.sum(dtype=np.float64))
            if l2:
                F64 = F.astype(np.float64, copy=False)
                total += 0.5 * l2 * float(np.vdot(F64, F64))
        return total


NO_PENALTIES = Penalties()
