"""SparseNMF: NMF whose parts are sparse, by target sparseness or by penalties.

With no sparsity requested the fit is the engine's plain NMF
(:class:`._problems.PlainNMF`). Otherwise the components keep unit norm and
the fit is the projected problem of :mod:`._projected`, whose steps never
increase the objective (see the Notes of :class:`SparseNMF`).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from . import _engine, _problems
from ._base import _BaseNMF, fill_doc, fit_transaction
from ._dask import is_dask_array
from ._init import check_custom_factors
from ._kernels import _hoyer
from ._losses import NO_PENALTIES, Penalties
from ._projected import ProjectedNMF
from ._streaming import OnlineFitMixin


def mean_sparseness(X):
    """Mean Hoyer sparseness of the rows of ``X`` (n, m) where it is defined.

    NaN when it is defined for no row (all rows zero, or ``m = 1``).
    """
    values = _hoyer.hoyer_sparseness_rows(X)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


@fill_doc
class SparseNMF(OnlineFitMixin, _BaseNMF):
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

    over :math:`W \ge 0, H \ge 0`, where :math:`D` is the beta-divergence
    of ``beta_loss`` and :math:`e` its beta (2 for half the squared
    Frobenius norm, 1 for the generalized Kullback-Leibler divergence;
    :math:`D(cX, cY) = c^e D(X, Y)`), :math:`s` is the root mean square of the
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
    n_components : int, "auto" or None, default=None
        Number of parts, the rank of the factorization. ``None`` means
        ``n_features``; ``"auto"`` means the rank of the factors passed to
        ``fit`` with ``init="custom"``, and ``n_features`` without them (as
        in :class:`sklearn.decomposition.NMF`). It may exceed ``n_samples``
        and ``n_features``.

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

    alpha_H : float or "same", default=0.0
        Weight of the penalty on the parts; ``"same"`` takes ``alpha_W``.
        The parts have unit L2 norm, so only its L1 share acts (the L2 share
        is a constant): it favours sparser parts, from 0.1 on for the
        digits, and has no effect when ``sparseness_components`` is set.

    l1_ratio : float in [0, 1], default=1.0
        Share of the L1 penalty in ``alpha_W`` and ``alpha_H``; the rest is
        a squared L2 penalty. The default is pure L1, which gives sparsity
        (:class:`sklearn.decomposition.NMF` defaults to 0, pure L2).

    penalty_scaling : {"scale-free", "sklearn"}, default="scale-free"
        Units of ``alpha_W`` and ``alpha_H``. ``"scale-free"``: the
        objective above, with unit-norm parts, where the penalties do not
        depend on the units of ``X``. ``"sklearn"``: scikit-learn's
        :class:`~sklearn.decomposition.NMF` penalties, ``alpha_W * l1_ratio
        * n_features * ||W||_1 + 0.5 * alpha_W * (1 - l1_ratio) * n_features
        * ||W||_F^2`` and the same for ``H`` with ``n_samples``, in the units
        of the data and without unit-norm parts (the parts are then not
        rescaled after the fit either), so that a fit reproduces
        scikit-learn's objective; not with a sparseness target, which needs
        unit-norm parts.

    %(beta_loss)s

    %(solver)s With a sparseness target or a penalty, the fit takes the
        projected steps described above, and ``solver`` only decides how
        ``transform`` solves the codes.

    %(init)s

    %(max_iter)s

    %(tol)s

    %(batch_size)s Not with a sparseness target or the scale-free
        penalties, which need the whole data (``penalty_scaling="sklearn"``
        penalties can be used).

    %(forget_factor)s

    %(random_state)s

    %(verbose)s

    Attributes
    ----------
    n_components_ : int
        Number of parts: ``n_components``, the rank of the custom factors,
        or ``n_features``.

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
    **Scale.** With no sparsity requested, the fit is the engine's plain NMF
    (``solver``), and the parts are rescaled to unit norm at the end (``W @
    H`` does not change). With a target or a penalty
    they keep unit norm throughout: otherwise a penalty on one factor could
    be dodged by shrinking it and growing the other, and a code's sparseness
    would depend on the relative scale of the parts.

    **Algorithm.** Each iteration takes block-coordinate steps, each
    accepted only if the objective (divergence plus penalties) does not
    increase:

    - free codes: the multiplicative step with the W penalty folded in
      (Lee & Seung: it never increases the objective);
    - codes with a target: projected-gradient steps on each row, ``w <- P(w
      - t grad)``, onto the non-negative vectors of that sparseness;
    - parts, Frobenius loss: projected-gradient steps onto the unit-norm
      non-negative vectors (of the target sparseness, if set), which need
      only ``W.T X`` and ``W.T W``;
    - parts, other losses: the multiplicative step, projected, with a line
      search along it (the KL gradient is unbounded near the zeros the
      projection creates, so a plain gradient step is badly scaled).

    Gradient steps start from the better of the previous iterate and the
    multiplicative step projected; a step that increases the
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

    **Cost.** With a target or a penalty, an iteration costs one pass over
    ``X`` for the Frobenius loss (the codes step also gathers ``W.T X`` and
    ``W.T W`` for the parts step); a code target adds a pass for the
    multiplicative candidate. For the other losses the pass of the codes
    step also gives the objective at the previous parts, and every trial of
    the line search costs a pass (two passes per iteration when the first
    trial is accepted). The Numba kernels are compiled on first use (tens of
    seconds on a busy 2-core machine) and cached on disk.

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
        "n_components": [Interval(Integral, 1, None, closed="left"),
                         StrOptions({"auto"}), None],
        "sparseness_components": [Interval(Real, 0, 1, closed="both"), None],
        "sparseness_codes": [Interval(Real, 0, 1, closed="both"), None],
        "alpha_W": [Interval(Real, 0, None, closed="left")],
        "alpha_H": [Interval(Real, 0, None, closed="left"),
                    StrOptions({"same"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "penalty_scaling": [StrOptions({"scale-free", "sklearn"})],
    }

    def __init__(self, n_components=None, *, sparseness_components=None,
                 sparseness_codes=None, alpha_W=0.0, alpha_H=0.0,
                 l1_ratio=1.0, penalty_scaling="scale-free",
                 beta_loss="frobenius", solver="auto", init=None,
                 max_iter=200, tol=1e-4, batch_size=None, forget_factor=0.7,
                 random_state=None, verbose=0):
        self.n_components = n_components
        self.sparseness_components = sparseness_components
        self.sparseness_codes = sparseness_codes
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.penalty_scaling = penalty_scaling
        self.beta_loss = beta_loss
        self.solver = solver
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.forget_factor = forget_factor
        self.random_state = random_state
        self.verbose = verbose

    def _rank(self):
        return self._fit_rank

    def _resolve_rank(self, X, W, H):
        """The rank of this fit, from ``n_components`` (and custom factors)."""
        if isinstance(self.n_components, Integral):
            return self.n_components
        if self.n_components == "auto" and self.init == "custom":
            for F, axis in ((H, 0), (W, 1)):
                if F is not None and np.ndim(F) == 2:
                    return np.shape(F)[axis]
        return X.shape[1]

    def _alpha_H(self):
        return self.alpha_W if self.alpha_H == "same" else self.alpha_H

    def _penalties(self, storage):
        """Penalty weights for the storage's (scaled) data; see the objective."""
        n, m = storage.shape
        w, h = self.alpha_W * m, self._alpha_H() * n
        if self.penalty_scaling == "sklearn":
            return Penalties(
                l1_W=w * self.l1_ratio, l2_W=w * (1.0 - self.l1_ratio),
                l1_H=h * self.l1_ratio, l2_H=h * (1.0 - self.l1_ratio),
            ).scaled(np.log2(storage.scale), self._loss.scale_exponent())
        s = float(np.sqrt(storage.sq_norm / (n * m))) or 1.0
        e = self._loss.scale_exponent()
        h *= s ** e
        return Penalties(l1_W=w * self.l1_ratio * s ** (e - 1),
                         l2_W=w * (1.0 - self.l1_ratio) * s ** (e - 2),
                         l1_H=h * self.l1_ratio,
                         l2_H=h * (1.0 - self.l1_ratio))

    def _allows_missing(self):
        return self.sparseness_codes is None

    def _missing_message(self):
        return ("sparseness_codes cannot be reached on data with missing "
                "values (NaN): its projected steps need every entry of a "
                "sample. Use alpha_W for sparser codes, or fill the missing "
                "values first (sklearn.impute).")

    def _check_online(self):
        """Online fits (``partial_fit``, ``batch_size``) are plain NMF."""
        if self._constrained():
            raise ValueError(
                "partial_fit and batch_size fit plain NMF, with "
                "penalty_scaling='sklearn' penalties if any: a sparseness "
                "target or the scale-free penalties need the whole data. Fit "
                "without batch_size, or use penalty_scaling='sklearn'.")

    def _online_penalties(self, storage):
        if self.penalty_scaling == "sklearn":
            return self._penalties(storage)
        return NO_PENALTIES

    def _set_online_fitted(self, H):
        """Unit-norm parts, as a plain fit leaves them; the codes' scale moves."""
        norms = np.linalg.norm(H.astype(np.float64), axis=1)
        norms[norms == 0] = 1.0
        if self.penalty_scaling == "sklearn":
            norms[:] = 1.0  # scikit-learn's parts keep their scale
        self.components_ = (H / norms[:, None]).astype(H.dtype)
        self._code_init = self._code_init * norms
        self._code_penalty = (0.0, 0.0) if self.penalty_scaling != "sklearn" \
            else self._sklearn_code_penalty()
        self._code_ratio = None
        self.n_components_ = H.shape[0]

    def _sklearn_code_penalty(self):
        alpha = self.alpha_W * self.n_features_in_
        return (alpha * self.l1_ratio, alpha * (1.0 - self.l1_ratio))

    def _targets(self):
        return (self.sparseness_components is not None
                or self.sparseness_codes is not None)

    def _constrained(self):
        """Whether the fit is the projected one (unit-norm parts)."""
        if self.penalty_scaling == "sklearn":
            return self._targets()
        return self._targets() or self.alpha_W > 0 or self._alpha_H() > 0

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, W=None, H=None):
        """Fit the model and return the codes ``W`` of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative training data. ``NaN`` marks a missing entry, left
            out of the loss (:ref:`missing_values`).
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
        with fit_transaction(self):
            X = self._check_input(X, reset=True)
            self._check_solver()  # rejects solver="cd" with KL before any work
            check_custom_factors(X, W, H, self.init)
            if self.penalty_scaling == "sklearn" and self._targets():
                raise ValueError(
                    "penalty_scaling='sklearn' cannot be combined with a "
                    "sparseness target: the targets keep the parts at unit "
                    "norm, where scikit-learn's penalties have other units. "
                    "Use penalty_scaling='scale-free'.")
            self._fit_rank = self._resolve_rank(X, W, H)
            if is_dask_array(X) and self._constrained():
                raise ValueError(
                    "A sparseness target or the scale-free penalties need all "
                    "of X in memory; on a Dask array SparseNMF fits plain NMF "
                    "(with penalty_scaling='sklearn' penalties if any).")
            if self.batch_size is not None:
                self._check_online()
                codes = self._fit_in_batches(X, W, H)
                self.sparseness_ = {
                    "components": mean_sparseness(self.components_),
                    "codes": mean_sparseness(codes)}
                return codes
            storage = self._prepare_fit(X)
            if self._constrained():
                result = self._fit_projected(storage, W, H)
            elif self.penalty_scaling == "sklearn":
                result = self._fit_sklearn_penalties(storage, W, H)
            else:
                self._code_penalty, self._code_ratio = (0.0, 0.0), None
                result = self._fit_plain(storage, W, H)
                norms = np.linalg.norm(result.H.astype(np.float64), axis=1)
                norms[norms == 0] = 1.0
                result.H /= norms[:, None].astype(result.H.dtype)
                result.W *= norms.astype(result.W.dtype)
            codes = self._set_fitted(storage, result)
            self.n_components_ = self.components_.shape[0]
            self.sparseness_ = {
                "components": mean_sparseness(self.components_),
                "codes": mean_sparseness(codes)}
            return codes

    def _fit_sklearn_penalties(self, storage, W, H):
        """Plain NMF with scikit-learn's penalties; the parts keep their scale."""
        self._code_penalty = self._sklearn_code_penalty()
        self._code_ratio = None
        return self._fit_plain(storage, W, H,
                               penalties=self._penalties(storage))

    def _fit_projected(self, storage, W, H):
        """The projected fit (targets or penalties); returns the FitResult."""
        rank = self._rank()
        if self.sparseness_components is not None and self._loss.beta <= 0:
            raise ValueError(
                f"sparseness_components cannot be used with beta_loss="
                f"{self.beta_loss!r}: the projection sets entries of the "
                "parts to zero, and a feature that no part covers has an "
                "infinite divergence for beta <= 0. Use alpha_H for sparser "
                "parts, or a beta_loss > 0.")
        pen = self._penalties(storage)
        ratio_W = None if self.sparseness_codes is None else \
            _hoyer.target_ratio(rank, self.sparseness_codes)
        ratio_H = _hoyer.NO_TARGET if self.sparseness_components is None \
            else _hoyer.target_ratio(storage.shape[1],
                                     self.sparseness_components)
        # the code penalty in the units of the data, for transform: with
        # unit-norm parts the codes carry the scale c of the data, and the
        # objective scales as c^e (see _penalties)
        log2_c, e = np.log2(storage.scale), self._loss.scale_exponent()
        self._code_penalty = (pen.l1_W * np.exp2((e - 1) * log2_c),
                              pen.l2_W * np.exp2((e - 2) * log2_c))
        self._code_ratio = ratio_W

        def make_problem(W0, H0):
            return ProjectedNMF(storage, self._loss, W0, H0, ratio_H=ratio_H,
                                ratio_W=ratio_W, penalties=pen)

        return _engine.fit(self._starts(storage, W, H, 1, make_problem),
                           max_iter=self.max_iter, tol=self.tol,
                           verbose=self.verbose)

    def _solve_codes(self, storage):
        """Codes of prepared input with ``components_`` fixed, as ``transform``.

        Multiplicative steps (with the code penalty) from a fit-time
        constant, then, with a code target, the per-row projection and
        projected-gradient steps of the fit. Each row is solved on its own.
        """
        l1, l2 = self._code_penalty
        return _problems.solve_codes(
            storage, self.components_, self._loss,
            self._code_init.astype(self.components_.dtype),
            max_iter=self.max_iter, tol=self.tol, solver=self._check_solver(),
            l1=l1, l2=l2, ratio=self._code_ratio)
