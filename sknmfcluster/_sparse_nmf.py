"""SparseNMF: NMF whose parts are sparse, by target sparseness or by penalties.

With no sparsity requested the fit is the engine's plain alternating MU.
Otherwise the components keep unit norm and the engine runs with a
``project`` callback, :class:`_ProjectedUpdates`, that turns each iteration
into block-coordinate steps that never increase the objective (see the
Notes of :class:`SparseNMF`); the row kernels are in :mod:`._projection`.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from . import _projection, _solver, _storage
from ._base import _BaseNMF, fill_doc
from ._init import default_init, initialize
from ._loss import FROBENIUS, divergence, penalty
from ._storage import Csr

#: Projected-gradient steps on ``H`` per iteration for the Frobenius loss:
#: they work on the k x m accumulators only, like the engine's inner H-steps.
INNER_H_PG = 3
#: Projected-gradient steps per row of ``W`` and iteration when the codes
#: have a target; they reuse ``X @ H.T``, like the engine's inner W-steps.
INNER_W_PG = 3
#: Fractions of the multiplicative step on ``H`` tried for the KL loss, each
#: at the cost of a pass over ``X``; if none is accepted ``H`` is kept.
KL_LINE_SEARCH = (1.0, 0.5, 0.25, 0.125)


class _Converged(Exception):
    """Raised by :class:`_ProjectedUpdates` to end ``fit_factors``'s loop: the
    engine's own stopping rule sees its objective before ``project`` runs."""


def pg_codes(Xp, H, W, W_cand, beta, ratio, l1, l2, n_steps, tol):
    """Projected-gradient steps on every row of ``W`` (n, k), ``H`` fixed.

    Each row ends in the sparseness cone of ``ratio``, starting from the
    better of its projection and that of its row of ``W_cand`` (n, k); rows
    are independent of each other. See ``_projection.pg_rows_*``.
    """
    H64 = np.ascontiguousarray(H, dtype=np.float64)
    Ht = np.ascontiguousarray(H64.T)
    # Python scalars of fixed types: each new type would compile the kernels
    # again (an int tol, for instance).
    args = (float(ratio), float(l1), float(l2))
    steps = (int(n_steps), float(tol))
    csr = isinstance(Xp, Csr)
    if beta == FROBENIUS:
        G = H64 @ H64.T
        lipschitz = float(np.linalg.eigvalsh(G)[-1]) + l2
        step = 1.0 / lipschitz if lipschitz > 0 else 1.0
        if csr:
            _projection.pg_rows_fro_csr(Xp.data, Xp.indices, Xp.indptr, Ht, G,
                                        W, W_cand, *args, step, *steps)
        else:
            _projection.pg_rows_fro_dense(Xp, H64, G, W, W_cand, *args, step,
                                          *steps)
        return
    Hsum = H64.sum(axis=1)
    if csr:
        _projection.pg_rows_kl_csr(Xp.data, Xp.indices, Xp.indptr, Ht, Hsum,
                                   W, W_cand, *args, *steps)
    else:
        _projection.pg_rows_kl_dense(Xp, Ht, Hsum, W, W_cand, *args, *steps)


class _ProjectedUpdates:
    """``fit_factors``'s ``project`` callback: one monotone step per iteration.

    ``fit_factors`` hands over ``(W, H)`` after its multiplicative steps from the
    previous feasible iterate ``(W_prev, H_prev)``; the callback replaces
    them by a codes step from ``W_prev``, then a components step from
    ``H_prev``, each accepted only if it does not increase the objective
    (divergence plus penalties), the engine's results serving as
    candidates. ``ratio_H`` is the target ratio of the rows of ``H`` or
    ``NO_TARGET`` (unit norm only), ``ratio_W`` that of the rows of ``W`` or
    None, ``pen`` the penalty weights as ``fit_factors`` takes them.
    """

    def __init__(self, Xp, beta, ratio_H, ratio_W, pen, tol, verbose):
        self.Xp, self.beta, self.tol, self.verbose = Xp, beta, tol, verbose
        self.ratio_H, self.ratio_W, self.pen = ratio_H, ratio_W, pen
        self.x_sq, self.step_H = _storage.sq_norm(Xp), None
        self.history, self.n_iter = [], 0

    def start(self, W, H):
        """Move ``(W, H)`` onto the constraint sets in place; record the objective."""
        H_unit, scale = self._candidate(H)
        H[...] = H_unit
        W *= scale.astype(W.dtype)
        if self.ratio_W is not None:
            W64 = W.astype(np.float64)
            _projection.project_rows_cone(W64, self.ratio_W)
            W[...] = W64
        self.W_prev, self.H_prev = W.copy(), H.copy()
        self.previous = (divergence(self.Xp, W, H, self.beta)
                         + penalty(W, H, **self.pen))
        self.start_time = time.perf_counter()

    def __call__(self, W, H):
        if self.ratio_W is not None:
            W_new = self.W_prev.copy()
            pg_codes(self.Xp, self.H_prev, W_new, W, self.beta, self.ratio_W,
                     self.pen["l1_W"], self.pen["l2_W"], INNER_W_PG, 0.0)
            W[...] = W_new
        # else W is the engine's multiplicative step from (W_prev, H_prev).
        # The components step may rescale the columns of W in place.
        if self.beta == FROBENIUS:
            H[...], objective = self._components_fro(W, H)
        else:
            H[...], objective = self._components_kl(W)
        self.W_prev[...], self.H_prev[...] = W, H
        self._record(objective)

    def _record(self, objective):
        """Apply ``fit_factors``'s stopping rule to the true objective."""
        self.n_iter += 1
        self.history.append(objective)
        previous, self.previous = self.previous, objective
        if self.verbose and (self.verbose > 1 or self.n_iter % 10 == 0
                             or self.n_iter == 1):
            print(f"Iteration {self.n_iter:5d}  objective {objective:.6e}  "
                  f"elapsed {time.perf_counter() - self.start_time:.2f}s",
                  flush=True)
        if self.tol > 0 and previous - objective <= self.tol * abs(previous):
            raise _Converged

    def _candidate(self, H_step):
        """Rows of ``H_step`` projected, and the scales to move into ``W``.

        ``W[:, j] * scale[j]`` times the projected row ``j`` reproduces row
        ``j`` of ``H_step`` as well as it can (exactly without a target), so
        the divergence barely changes. With a code target the columns of
        ``W`` cannot be rescaled (it would change the codes' sparseness) and
        the scales are 1.
        """
        H64 = H_step.astype(np.float64)
        scale = _projection.project_rows_unit(H64, self.ratio_H)
        if self.ratio_W is not None:
            scale[:] = 1.0
        scale[scale <= 0] = 1.0  # a row with nothing left: keep the codes
        return H64.astype(H_step.dtype), scale

    def _pen_H(self, H):
        return penalty(H[:0], H, 0.0, 0.0, self.pen["l1_H"], self.pen["l2_H"])

    def _pen_W(self, W, scale):
        """Penalty of ``W`` with its columns multiplied by ``scale``."""
        W64 = W.astype(np.float64)
        return (self.pen["l1_W"] * float(W64.sum(axis=0) @ scale)
                + 0.5 * self.pen["l2_W"] * float((W64 * W64).sum(axis=0)
                                                  @ scale ** 2))

    def _components_fro(self, W, H_mu):
        """Projected-gradient steps on ``H`` from the accumulators at ``W``.

        With ``A = W.T X`` and ``B = W.T W`` the divergence as a function of
        ``H`` is ``0.5 ||X||^2 - <A, H> + 0.5 <B, H H.T>``: every trial costs
        k^2 m, not a pass over ``X``. The engine's multiplicative step,
        projected (scale moved into ``W``), is the first candidate.
        """
        A, B = _solver.w_step(self.Xp, W, self.H_prev, FROBENIUS, 0.0, 0.0,
                              0, 0.0, True)

        def divergence_at(H64):
            return 0.5 * self.x_sq - np.vdot(A, H64) + 0.5 * np.vdot(
                B, H64 @ H64.T)

        ones = np.ones(B.shape[0])
        current, pen_W = self.H_prev, self._pen_W(W, ones)
        value = (divergence_at(current.astype(np.float64)) + pen_W
                 + self._pen_H(current))
        candidate, scale = self._candidate(H_mu)
        candidate_value = (divergence_at(scale[:, None] * candidate)
                           + self._pen_W(W, scale) + self._pen_H(candidate))
        if candidate_value < value:
            W *= scale.astype(W.dtype)
            A, B = scale[:, None] * A, scale[:, None] * B * scale
            current, value = candidate, candidate_value
            pen_W = self._pen_W(W, ones)
        l1, l2 = self.pen["l1_H"], self.pen["l2_H"]
        # A step of 1 / L never increases the objective (see _projection), so
        # the adaptive step is never allowed to start below it.
        step = max(self.step_H or 0.0, 1.0 / max(
            float(np.linalg.eigvalsh(B)[-1]) + l2, _projection.TINY))
        for _ in range(INNER_H_PG):
            H64 = current.astype(np.float64)
            trial_H64 = H64 - step * (B @ H64 - A + l1 + l2 * H64)
            for _h in range(_projection.MAX_HALVINGS):
                trial = self._projected(trial_H64)
                trial_value = (divergence_at(trial.astype(np.float64)) + pen_W
                               + self._pen_H(trial))
                if trial_value <= value:
                    break
                step *= 0.5
                trial_H64 = H64 - step * (B @ H64 - A + l1 + l2 * H64)
            else:
                break  # stationary: no step decreases the objective
            current, value = trial, trial_value
            step *= _projection.STEP_GROWTH
        self.step_H = step
        return current, value

    def _components_kl(self, W):
        """A multiplicative step on ``H`` for the KL loss, projected.

        Every evaluation costs a pass over ``X``, so instead of a gradient
        search (the KL gradient is unbounded near zero, where Hoyer's
        projection puts entries), a line search runs along the
        multiplicative step, which scales the gradient by ``H``. The L1
        penalty of a unit-norm row ``h`` enters through its tangential
        gradient ``l1 (1 - sum(h) h)``: ``sum(h) h`` joins the numerator.
        """
        H_prev = self.H_prev
        num, w_sum, part = _solver.w_step(self.Xp, W, H_prev, self.beta, 0.0,
                                          0.0, 0, 0.0, True)
        ones = np.ones(w_sum.shape[0])
        value = (part + float(w_sum @ H_prev.sum(axis=1, dtype=np.float64))
                 + self._pen_W(W, ones) + self._pen_H(H_prev))
        H64 = H_prev.astype(np.float64)
        l1 = self.pen["l1_H"]
        step = H64 * (num + l1 * H64.sum(axis=1, keepdims=True) * H64) / \
            np.maximum(w_sum[:, None] + l1, _projection.TINY)
        for fraction in KL_LINE_SEARCH:
            candidate, scale = self._candidate(H64 + fraction * (step - H64))
            W_scaled = W * scale.astype(W.dtype)
            num, w_sum, part = _solver.w_step(
                self.Xp, W_scaled, candidate, self.beta, 0.0, 0.0, 0, 0.0,
                True)
            candidate_value = (
                part + float(w_sum @ candidate.sum(axis=1, dtype=np.float64))
                + self._pen_W(W_scaled, ones) + self._pen_H(candidate))
            if candidate_value <= value:
                W[...] = W_scaled
                return candidate, candidate_value
        return H_prev.copy(), value

    def _projected(self, H64):
        """Rows of ``H64`` (float64, overwritten) projected, in the factors' dtype."""
        _projection.project_rows_unit(H64, self.ratio_H)
        return H64.astype(self.H_prev.dtype)


@fill_doc
class SparseNMF(_BaseNMF):
    r"""Non-negative matrix factorization with sparse parts.

    Factorises non-negative data as :math:`X \approx W H`, with ``W`` of
    shape (n_samples, n_components) the codes that ``transform`` returns and
    ``H = components_`` of shape (n_components, n_features) the parts, and
    lets you set how sparse they are: as a target sparseness in [0, 1] that
    every part (or every sample's code) reaches exactly, or by L1/L2
    penalties. With ``X`` of shape (n, m), it minimises

    .. math::

        D(X, W H)
        + \alpha_W\, m\, s^{e-1} \Bigl(\rho \|W\|_1
        + \frac{1 - \rho}{2 s} \|W\|_F^2\Bigr)
        + \alpha_H\, n\, s^{e} \Bigl(\rho \|H\|_1
        + \frac{1 - \rho}{2} \|H\|_F^2\Bigr)

    over :math:`W \ge 0, H \ge 0`, where :math:`D` is half the squared
    Frobenius norm (:math:`e = 2`) or the generalized Kullback-Leibler
    divergence (:math:`e = 1`), :math:`s` is the root mean square of the
    entries of ``X`` and :math:`\rho` is ``l1_ratio``. These are the
    penalties of :class:`sklearn.decomposition.NMF` for the data
    :math:`X / s`, with codes :math:`W / s`: multiplying ``X`` by a constant
    multiplies the codes by it and leaves the components unchanged, so
    ``alpha_W`` and ``alpha_H`` do not depend on the units of the data. As
    soon as any sparsity is requested, the fit is subject to

    .. math::

        \|H_{j:}\|_2 = 1, \qquad \sigma(H_{j:}) = s_H, \qquad
        \sigma(W_{i:}) = s_W,

    the last two only when ``sparseness_components`` (:math:`s_H`) or
    ``sparseness_codes`` (:math:`s_W`) is set. :math:`\sigma` is Hoyer's
    sparseness of a vector :math:`x` of length :math:`d`,

    .. math::

        \sigma(x) = \frac{\sqrt{d} - \|x\|_1 / \|x\|_2}{\sqrt{d} - 1},

    0 when all entries are equal and 1 when a single one is non-zero; it
    does not depend on the scale of :math:`x`, hence not on the scale of
    the data.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    n_components : int, default=None
        Number of parts, the rank of the factorization. ``None`` means
        ``n_features``. It may exceed ``n_samples`` and ``n_features``.

    sparseness_components : float in [0, 1], default=None
        Hoyer sparseness that every part (row of ``components_``) reaches.
        ``None`` leaves it free. On the 64-pixel digits, 0.5 leaves about
        40 pixels of each part non-zero, 0.8 about 16 and 0.9 about 5.

    sparseness_codes : float in [0, 1], default=None
        Hoyer sparseness that every sample's code (row of ``W``, in
        ``fit_transform`` and ``transform`` alike) reaches: how few parts
        each sample uses. ``None`` leaves it free. Needs at least two
        components to mean anything.

    alpha_W : float, default=0.0
        Weight of the penalty on the codes (see the objective). It cannot be
        dodged by scaling the parts up, since they have unit norm. On the
        digits, values from 0.003 to 0.1 take the codes' sparseness from
        about 0.5 to 0.9 with the Frobenius loss; the KL loss needs larger
        values and mostly shrinks the codes.

    alpha_H : float, default=0.0
        Weight of the penalty on the parts. The parts have unit L2 norm, so
        only its L1 share acts (the L2 share is a constant): it favours
        sparser parts, from 0.1 on for the digits, and has no effect when
        ``sparseness_components`` is set.

    l1_ratio : float in [0, 1], default=1.0
        Share of the L1 penalty in ``alpha_W`` and ``alpha_H``; the rest is
        a squared L2 penalty. The default is pure L1, which gives sparsity
        (:class:`sklearn.decomposition.NMF` defaults to 0, pure L2).

    %(beta_loss)s

    %(solver)s With a sparseness target or a penalty, the fit takes the
        projected steps described above, and ``solver`` only decides how
        ``transform`` solves the codes.

    %(init)s

    %(max_iter)s

    %(tol)s

    %(random_state)s

    %(verbose)s

    Attributes
    ----------
    n_components_ : int
        Number of parts, ``n_components`` or ``n_features``.

    sparseness_ : dict
        Hoyer sparseness reached, averaged over rows where it is defined:
        ``"components"`` over the rows of ``components_`` and ``"codes"``
        over the training codes returned by ``fit_transform``. All-zero rows
        and vectors of length one have no sparseness and are left out;
        NaN when no row is left. With a target, every row is at the target
        up to rounding (about 1e-6 in float32).

    %(fitted)s

    See Also
    --------
    sklearn.decomposition.NMF : scikit-learn's NMF, with penalties in the
        units of the data only.
    sklearn.decomposition.MiniBatchDictionaryLearning : Sparse codes on a
        dictionary without non-negativity.
    NMFClusterer : NMF as a clusterer.

    Notes
    -----
    **Scale.** With no sparsity requested, the fit is the engine's plain
    multiplicative updates (Lee & Seung), and the parts are rescaled to unit
    norm at the end (``W @ H`` does not change). With a target or a penalty
    they keep unit norm throughout: otherwise a penalty on one factor could
    be dodged by shrinking it and growing the other, and a code's sparseness
    would depend on the relative scale of the parts.

    **Algorithm.** Each iteration makes one pass of the engine (a
    multiplicative W-step with the W penalty folded in, then H-steps) and
    turns its result into block-coordinate steps, each accepted only if the
    objective (divergence plus penalties) does not increase:

    - free codes: the multiplicative step itself (Lee & Seung: it never
      increases the objective);
    - codes with a target: projected-gradient steps on each row, ``w <- P(w
      - t grad)``, onto the non-negative vectors of that sparseness;
    - parts, Frobenius loss: projected-gradient steps onto the unit-norm
      non-negative vectors (of the target sparseness, if set), which need
      only ``W.T X`` and ``W.T W``;
    - parts, KL loss: the multiplicative step, projected, with a line search
      along it (the KL gradient is unbounded near the zeros the projection
      creates, so a plain gradient step is badly scaled).

    Gradient steps start from the better of the previous iterate and the
    engine's multiplicative step projected; a step that increases the
    objective is halved, an accepted one grown by 1.2 (as in Hoyer's code).
    ``P`` is the exact Euclidean projection (Hoyer's, in closed form:
    soft-thresholding then rescaling, after Thom & Palm), so for the
    Frobenius loss the step ``1 / L`` (``L`` the Lipschitz constant of the
    gradient) never increases the objective although the set is not convex;
    the search never starts below it, so a step is always found. With free
    codes, a part's change of norm is moved into its column of ``W``,
    leaving ``W @ H`` unchanged. The objective thus never increases and,
    bounded below, converges; the fit stops on its relative decrease
    (``tol``). The obvious alternative, multiplicative updates then a
    projection, can raise the objective at every projection and cannot bring
    an entry back from zero, so the first projections would fix the active
    entries for good.

    **Cost.** With a target or a penalty, an iteration costs two passes
    over ``X`` for the Frobenius loss (the engine's, and one for ``W.T X``
    at the new codes); a code target adds a pass for the per-row steps. For
    the KL loss the value at the previous parts and every trial cost a pass
    each (three passes per iteration when the first trial is accepted). The
    Numba kernels are compiled on first use (tens of seconds on a busy
    2-core machine) and cached on disk.

    **Code sparseness per sample.** Hoyer (2004) constrains each code
    dimension across the training samples. Here ``sparseness_codes``
    applies to each sample's code instead, so that ``transform`` can reach
    it on new data one sample at a time: it solves the codes with
    ``components_`` fixed by multiplicative steps (a fit-time constant as
    the start), projects each row and refines it by the same per-row
    projected-gradient steps as the fit, so a sample's codes never depend on
    the other samples passed with it, and ``fit_transform(X)`` equals
    ``fit(X).transform(X)``.

    References
    ----------
    P. O. Hoyer, "Non-negative Matrix Factorization with Sparseness
    Constraints", Journal of Machine Learning Research 5, 2004.

    D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
    factorization", NIPS 13, 2001.

    M. Thom and G. Palm, "Sparse activity and sparse connectivity in
    supervised learning", Journal of Machine Learning Research 14, 2013.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknmfcluster import SparseNMF
    >>> X = load_digits().data[:300]
    >>> model = SparseNMF(n_components=8, sparseness_components=0.7,
    ...                   random_state=0)
    >>> codes = model.fit_transform(X)
    >>> codes.shape, model.components_.shape
    ((300, 8), (8, 64))
    >>> round(model.sparseness_["components"], 3)
    0.7
    >>> model.transform(X[:2]).shape
    (2, 8)
    """

    _parameter_constraints: dict = {
        **_BaseNMF._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "sparseness_components": [Interval(Real, 0, 1, closed="both"), None],
        "sparseness_codes": [Interval(Real, 0, 1, closed="both"), None],
        "alpha_W": [Interval(Real, 0, None, closed="left")],
        "alpha_H": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, n_components=None, *, sparseness_components=None,
                 sparseness_codes=None, alpha_W=0.0, alpha_H=0.0,
                 l1_ratio=1.0, beta_loss="frobenius", solver="auto", init=None,
                 max_iter=200, tol=1e-4, random_state=None, verbose=0):
        self.n_components = n_components
        self.sparseness_components = sparseness_components
        self.sparseness_codes = sparseness_codes
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.beta_loss = beta_loss
        self.solver = solver
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def _rank(self):
        return self.n_components or self.n_features_in_

    def _penalties(self, Xp):
        """Penalty weights as ``fit_factors`` takes them (see the objective)."""
        n, m = Xp.shape
        s = float(np.sqrt(_storage.sq_norm(Xp) / (n * m))) or 1.0
        e = 2 if self._beta == FROBENIUS else 1
        w, h = self.alpha_W * m, self.alpha_H * n * s ** e
        # Python floats: an int would compile new kernel specialisations.
        return {"l1_W": float(w * self.l1_ratio * s ** (e - 1)),
                "l2_W": float(w * (1.0 - self.l1_ratio) * s ** (e - 2)),
                "l1_H": float(h * self.l1_ratio),
                "l2_H": float(h * (1.0 - self.l1_ratio))}

    def _constrained(self):
        return (self.sparseness_components is not None
                or self.sparseness_codes is not None
                or self.alpha_W > 0 or self.alpha_H > 0)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, W=None, H=None):
        """Fit the model and return the codes ``W`` of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative training data.
        y : Ignored
            Not used, present for API consistency.
        W : array-like of shape (n_samples, n_components), default=None
            Initial codes, used only with ``init="custom"``; not modified.
        H : array-like of shape (n_components, n_features), default=None
            Initial components, used only with ``init="custom"``; not
            modified.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
            Codes of the training data, equal to ``transform(X)``.
        """
        X = self._check_input(X, reset=True)
        self._check_solver()  # rejects solver="cd" with KL before any work
        if self._constrained():
            Xp, result = self._fit_projected(X, W, H)
        else:
            self._code_penalty, self._code_ratio = (0.0, 0.0), None
            Xp, result = self._fit_factors(X, W, H)
            norms = np.linalg.norm(result.H.astype(np.float64), axis=1)
            norms[norms == 0] = 1.0
            result.H /= norms[:, None].astype(result.H.dtype)
            result.W *= norms.astype(result.W.dtype)
        codes = self._set_fitted(Xp, result)
        self.n_components_ = self.components_.shape[0]
        self.sparseness_ = {
            "components": _projection.mean_sparseness(self.components_),
            "codes": _projection.mean_sparseness(codes)}
        return codes

    def _fit_projected(self, X, W, H):
        """Run the engine with :class:`_ProjectedUpdates`; return ``(Xp, result)``."""
        rank = self._rank()
        init = self.init or default_init(rank, *X.shape)
        Xp = _storage.prepare(X)
        pen = self._penalties(Xp)
        self._code_penalty = (pen["l1_W"], pen["l2_W"])
        self._code_ratio = None if self.sparseness_codes is None else \
            _projection.target_ratio(rank, self.sparseness_codes)
        W0, H0 = initialize(X, rank, init, check_random_state(self.random_state),
                            W, H)
        ratio_H = _projection.NO_TARGET if self.sparseness_components is None \
            else _projection.target_ratio(X.shape[1], self.sparseness_components)
        updates = _ProjectedUpdates(Xp, self._beta, ratio_H, self._code_ratio,
                                    pen, self.tol, self.verbose)
        updates.start(W0, H0)
        converged = False
        try:
            _solver.fit_factors(Xp, W0, H0, self._beta, self.max_iter, 0.0,
                                project=updates, **pen)
        except _Converged:
            converged = True
        if self.tol > 0 and not converged:
            warnings.warn(
                f"Maximum number of iterations {self.max_iter} reached before "
                f"the relative decrease of the objective fell below "
                f"tol={self.tol}. Increase max_iter or tol.",
                ConvergenceWarning,
            )
        history = np.asarray(updates.history)  # max_iter >= 1: never empty
        return Xp, _solver.FitResult(W0, H0, updates.n_iter, history[-1],
                                     history, converged)

    def _solve_codes(self, Xp, **penalties):
        """Codes of prepared input with ``components_`` fixed, as ``transform``.

        Multiplicative steps (with the code penalty) from a fit-time
        constant, then, with a code target, the per-row projection and
        projected-gradient steps of the fit. Each row is solved on its own.
        """
        l1, l2 = self._code_penalty
        W = _solver.solve_codes(
            Xp, self.components_, self._beta,
            self._code_init.astype(self.components_.dtype), self.max_iter,
            self.tol, l1=l1, l2=l2, solver=self._check_solver())
        if self._code_ratio is not None:
            pg_codes(Xp, self.components_, W, W, self._beta, self._code_ratio,
                     l1, l2, self.max_iter, self.tol)
        return W
