"""Shared estimator base: parameters, validation, transform, score, tags, restarts."""

from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _dask, _engine, _problems, _storage
from ._dask import is_dask_array
from ._init import INITS, RANDOM_INITS, default_init, initialize
from ._losses import (BETA_LOSSES, NO_PENALTIES, Loss, auto_solver, beta_value,
                      reconstruction_error)

#: Parameter descriptions shared by the estimators, substituted into their
#: docstrings by :func:`fill_doc` so that they cannot drift apart.
SHARED_DOC = {
    "beta_loss": """beta_loss : float or {"frobenius", "kullback-leibler", \
"itakura-saito"}, default="frobenius"
        Beta-divergence minimised between ``X`` and ``W @ H``, as in
        :class:`sklearn.decomposition.NMF`: ``"frobenius"`` (beta = 2, half
        the squared Frobenius norm), ``"kullback-leibler"`` (beta = 1, the
        generalized Kullback-Leibler divergence, suited to counts such as
        word counts), ``"itakura-saito"`` (beta = 0, suited to power
        spectra) or any float beta. For beta <= 0 the data may not contain
        zeros.""",
    "solver": """solver : {"auto", "cd", "mu"}, default="auto"
        Update rule. ``"cd"``: coordinate descent, which solves for one
        coefficient at a time exactly and needs far fewer passes over ``X``:
        HALS for the Frobenius loss, Newton steps per coefficient for
        ``"kullback-leibler"`` (Hsieh & Dhillon 2011; X in memory, not with
        ``partial_fit`` or fixed components). ``"mu"``: multiplicative
        updates (Lee & Seung; Fevotte & Idier's exponents for other betas),
        for every loss. ``"auto"`` is ``"cd"`` for the Frobenius loss, and
        for ``"kullback-leibler"`` where it can run (a Dask array,
        ``partial_fit`` and ``batch_size`` take ``"mu"``), and ``"mu"`` for
        the other losses. An iteration reads ``X`` once, twice for KL
        coordinate descent (rows, then a column copy of ``X`` made once per
        fit, as large as ``X``).""",
    "init": """init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"}, default=None
        Initial factors. ``None`` means ``"nndsvda"`` when the rank is at most
        ``min(n_samples, n_features)`` and ``"random"`` otherwise.
        ``"custom"`` takes ``W`` and ``H`` passed to ``fit``. Entries that
        start at exactly zero are lifted to a tiny positive value, since a
        multiplicative update cannot move an entry away from zero.""",
    "max_iter": """max_iter : int, default=200
        Maximum number of iterations (passes over ``X``). Also the maximum
        number of update steps per sample when ``transform`` solves for the
        codes.""",
    "tol": """tol : float, default=1e-4
        The fit stops once the objective decreases by less than ``tol``
        times its value per iteration: checked at every iteration for the
        Frobenius loss, and over every 10 iterations for the other losses,
        whose objective costs a logarithm or a power per entry of ``X``.
        ``transform`` stops a sample once the largest change of its codes is
        at most ``tol`` times their largest entry. ``tol=0`` runs
        ``max_iter`` iterations.""",
    "batch_size": """batch_size : int, default=None
        ``None`` fits all of ``X`` at once. An integer fits it in batches of
        that many samples, one batch prepared at a time (online NMF, see
        :meth:`partial_fit`): ``max_iter`` is then the number of epochs
        (passes over ``X``) and ``tol`` applies to the objective of an
        epoch. A memory-mapped ``X`` then streams through in memory bounded
        by the batch. The components start from the first batch.""",
    "forget_factor": """forget_factor : float in (0, 1], default=0.7
        Weight of the earlier batches' statistics when a batch is added, as
        in :class:`sklearn.decomposition.MiniBatchNMF`: each
        :meth:`partial_fit` multiplies them by ``forget_factor``; with
        ``batch_size``, an epoch multiplies them by it (each batch by
        ``forget_factor ** (batch_size / n_samples)``). 1 keeps every batch
        with equal weight.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        Seed of the random initialisation and of the randomized SVD used by
        the NNDSVD inits. Pass an int for reproducible results: they are the
        same whatever the number of threads.""",
    "verbose": """verbose : int, default=0
        ``1`` prints the iteration, objective, relative decrease and elapsed
        time every 10 iterations (on standard output), and the phases of the
        fit with their elapsed time (on standard error); ``2`` prints every
        iteration.""",
    "fitted": """components_ : ndarray of shape (n_components, n_features)
        The factor ``H``, in the dtype of the training data.

    reconstruction_err_ : float
        ``sqrt(2 * divergence)`` between the training data and
        ``transform(X) @ components_``; for the Frobenius loss this is
        ``||X - W H||_F``.

    n_iter_ : int
        Number of iterations of the retained run.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column
        names.""",
}


def fill_doc(obj):
    """Substitute ``%(name)s`` markers of ``obj.__doc__`` from SHARED_DOC."""
    obj.__doc__ = obj.__doc__ % SHARED_DOC
    return obj


_NEGATIVE_HINT = (
    " NMF factorises non-negative data only: shift the data by its minimum, "
    "scale it with sklearn.preprocessing.MinMaxScaler, or split each feature "
    "into its positive and negative parts."
)


@contextmanager
def fit_transaction(estimator):
    """All or nothing: on any exception, Ctrl-C included, restore the estimator.

    A fit that fails or is interrupted leaves the estimator exactly as it
    was before the call: fitted attributes of an earlier fit stay
    consistent with each other, and an estimator never fitted stays
    unfitted. The fit code never modifies an earlier fit's arrays in place.
    """
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


class _BaseNMF(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Parameters, validation and the fixed-``H`` methods shared by both NMFs.

    Subclasses define ``_rank()`` (the number of components requested) and
    ``_fit_transform(X, W, H)``, which returns the training codes.
    """

    _parameter_constraints: dict = {
        "beta_loss": [StrOptions(set(BETA_LOSSES)), Real],
        "solver": [StrOptions({"auto", "cd", "mu"})],
        "init": [StrOptions(set(INITS)), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "forget_factor": [Interval(Real, 0, 1, closed="right")],
    }

    # -- validation ---------------------------------------------------------
    def _check_input(self, X, *, reset, min_samples=1):
        """Validate ``X`` (float32/float64, dense or CSR/CSC, non-negative).

        NaN (a missing entry) passes; infinity does not. A Dask array is
        checked in one read of its chunks and stays a Dask array.
        """
        if is_dask_array(X):
            X = _dask.validate(X, n_features=None if reset
                               else self.n_features_in_)
            if reset:
                self.n_features_in_ = X.shape[1]
                self.__dict__.pop("feature_names_in_", None)
            return X
        try:
            return validate_data(
                self,
                X,
                reset=reset,
                accept_sparse=("csr", "csc"),
                dtype=[np.float64, np.float32],
                ensure_non_negative=True,
                ensure_min_samples=min_samples,
                ensure_all_finite="allow-nan",
            )
        except ValueError as exc:
            message = str(exc)
            if "Negative values" in message:
                raise ValueError(message + _NEGATIVE_HINT) from None
            if "could not convert" in message or "string" in message:
                raise ValueError(
                    f"{type(self).__name__} needs numeric input: {message}. "
                    "Encode text or categorical columns as numbers first."
                ) from None
            raise

    @property
    def _loss(self):
        return Loss(beta_value(self.beta_loss))

    def _check_solver(self, *, columns=True):
        """``solver`` with ``"auto"`` resolved; rejects ``"cd"`` where it has no rule.

        ``columns``: whether the fit can read X's columns (see
        :func:`._losses.auto_solver`); False for Dask input and batches.
        """
        loss = self._loss
        if self.solver == "auto":
            return auto_solver(loss, columns=columns)
        if self.solver == "cd" and not loss.supports_cd:
            raise ValueError(
                f"solver='cd' supports beta_loss='frobenius' and "
                f"'kullback-leibler' only, not beta_loss={self.beta_loss!r}. "
                "Use solver='mu' (or 'auto') with that loss.")
        return self.solver

    def _prepare_fit(self, X):
        """Storage of validated training data; rejects what the loss cannot fit."""
        storage = _storage.prepare(X)
        self._loss.check_data(storage)
        if storage.masked:
            self._check_missing()
        return storage

    def _check_missing(self):
        """Raise a clear error if this configuration cannot fit missing values."""
        if not self._allows_missing():
            raise ValueError(self._missing_message())

    # -- fitting ------------------------------------------------------------
    def _starts(self, storage, W, H, n_init, make_problem, restart_inits=RANDOM_INITS,
                init=None):
        """``n_init`` (name, factory) pairs for :func:`_engine.fit`.

        The first run uses ``init``; further runs use ``init`` again when it
        depends on the random state and ``"random"`` otherwise, so that
        restarts differ. Each factory draws its start from one shared random
        state, in run order; the engine calls it on one BLAS thread, so that
        the result does not depend on the BLAS thread count.
        """
        rank = self._rank()
        init = init or self.init or default_init(rank, *storage.shape,
                                                 local=storage.local)
        rng = check_random_state(self.random_state)
        root = float(np.sqrt(storage.scale))

        def factory(run_init):
            def make():
                W0, H0 = initialize(
                    storage.to_scipy(), rank, run_init, rng,
                    None if W is None else np.asarray(W) / root,
                    None if H is None else np.asarray(H) / root)
                return make_problem(W0, H0)
            return make

        return [(name, factory(name)) for name in (
            init if run == 0 or init in restart_inits else "random"
            for run in range(n_init))]

    def _fit_plain(self, storage, W, H, *, n_init=1, penalties=NO_PENALTIES):
        """Best of ``n_init`` fits of plain NMF (``solver``, ``beta_loss``)."""
        loss = self._loss
        solver = self._check_solver(columns=storage.local)

        def make_problem(W0, H0):
            return _problems.PlainNMF(storage, loss, W0, H0, solver=solver,
                                      penalties=penalties)

        return _engine.fit(self._starts(storage, W, H, n_init, make_problem),
                           max_iter=self.max_iter, tol=self.tol,
                           verbose=self.verbose)

    def _set_fitted(self, storage, result):
        """Store the fitted factor, then re-solve the codes as ``transform`` would.

        Ending the fit with the routine ``transform`` uses makes
        ``fit_transform(X)`` equal ``fit(X).transform(X)``. The codes start
        from a fit-time constant (the mean code of the fit), so a sample's
        codes never depend on the other samples of a batch.
        """
        self._code_init = code_init(result.W)
        self._x_scale = storage.scale
        self.components_ = result.H
        self.n_iter_ = int(result.n_iter)
        W = self._solve_codes(storage)
        self.reconstruction_err_ = self._reconstruction_error(storage, W)
        return W

    def _reconstruction_error(self, storage, W):
        """``sqrt(2 * divergence)`` between the data and ``W @ components_``."""
        divergence, log2_scale = data_divergence(storage, self._loss, W,
                                                 self.components_)
        return reconstruction_error(divergence) * float(np.exp2(log2_scale / 2))

    def fit(self, X, y=None, W=None, H=None):
        """Fit the model to ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative training data. ``NaN`` marks a missing entry where
            the estimator takes missing values (:ref:`missing_values`).
        y : Ignored
            Not used, present for API consistency.
        W, H : array-like, default=None
            Initial factors for ``init="custom"``; see :meth:`fit_transform`.

        Returns
        -------
        self : object
            The fitted estimator (for a clusterer, with ``labels_`` set).
        """
        self.fit_transform(X, y, W=W, H=H)
        return self

    # -- methods with H fixed ------------------------------------------------
    def _solve_codes(self, storage):
        """Codes ``W`` of prepared input with ``components_`` fixed.

        A sample with no observed entry gets zero codes.
        """
        return _problems.solve_codes(
            storage, self.components_, self._loss,
            self._code_init.astype(self.components_.dtype),
            max_iter=self.max_iter, tol=self.tol, solver=self._check_solver())

    def _prepare(self, X):
        """Validated, prepared input for the methods with the factors fixed."""
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        scale = self._query_scale()
        if scale is not None:
            self._check_query_range(X, scale)
        storage = _storage.prepare(X.astype(self.components_.dtype, copy=False),
                                   scale=scale)
        self._loss.check_data(storage)
        if storage.masked:
            self._check_missing()
        return storage

    def _query_scale(self):
        """Scale to divide new data by; None lets it be chosen from the data."""
        return None

    def _check_query_range(self, X, scale):
        """Refuse new data beyond the safe range of the fit's ``scale``.

        New data divided by the training data's scale (as the graph methods
        query their index) must stay where the kernels do not overflow:
        ``transform`` of data 1e160 times the training data gave inf codes,
        and ``predict`` complained of NaN in NaN-free input.
        """
        top = scale * _storage.SAFE_RANGE[np.dtype(self.components_.dtype)][1]
        values = X.data if sp.issparse(X) else X
        largest = float(np.max(values, initial=0.0))
        if largest > top:
            raise ValueError(
                f"The new data's largest entry ({largest:.3g}) is far above "
                f"the scale of the training data: this model compares new "
                f"samples with its training samples, and takes entries of at "
                f"most {top:.3g}. Divide the data by the constant that "
                "brings it to the training data's scale, or fit on data of "
                "this scale.")

    def transform(self, X):
        """Codes of ``X`` on the fitted components, ``components_`` fixed.

        Each sample is solved on its own (see ``tol``), so the result for a
        sample does not depend on the other samples passed with it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative data. ``NaN`` marks a missing entry where the
            estimator takes missing values (:ref:`missing_values`).

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
            Non-negative codes, in the dtype of ``components_``.
        """
        if is_dask_array(X):
            check_is_fitted(self)
            return np.vstack(_dask.map_blocks(self.transform, X))
        return self._solve_codes(self._prepare(X))

    def inverse_transform(self, X):
        """Map codes back to the data space: ``X @ components_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_components)
            Codes, for example the output of ``transform``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The reconstruction ``W @ H``.
        """
        check_is_fitted(self)
        X = check_array(X, accept_sparse=("csr", "csc"),
                        dtype=[np.float64, np.float32], input_name="X")
        if X.shape[1] != self.components_.shape[0]:
            raise ValueError(
                f"inverse_transform expects codes with "
                f"{self.components_.shape[0]} columns (one per component), "
                f"got {X.shape[1]}."
            )
        result = safe_sparse_dot(X, self.components_)
        return result.toarray() if sp.issparse(result) else result

    def score(self, X, y=None):
        """Minus the mean per-sample divergence of ``X`` from its reconstruction.

        The codes are solved with ``components_`` fixed, as in ``transform``;
        higher is better. Like ``KMeans.score``, it always improves with the
        number of components, so use it to compare fits of the same rank or
        on held-out samples, not to choose the rank on the training data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative data. ``NaN`` marks a missing entry where the
            estimator takes missing values (:ref:`missing_values`).
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        score : float
            ``-divergence(X, transform(X) @ components_) / n_samples``.
        """
        if is_dask_array(X):
            check_is_fitted(self)
            return float(sum(_dask.map_blocks(self._score_sum, X))
                         / X.shape[0])
        storage = self._prepare(X)
        W = self._solve_codes(storage)
        divergence, log2_scale = data_divergence(storage, self._loss, W,
                                                 self.components_)
        with np.errstate(over="ignore"):
            score = -float(divergence / storage.shape[0] * np.exp2(log2_scale))
        if not np.isfinite(score):
            raise ValueError(
                "The score of this data overflows the floating-point range: "
                f"its divergence is about 2^{np.log2(divergence) + log2_scale:.0f}. "
                "NMF is scale-equivariant: divide X by a constant first.")
        return score

    def _score_sum(self, X):
        """``score(X)`` times the number of samples: a chunk's share."""
        return self.score(X) * X.shape[0]

    def _allows_missing(self):
        """Whether NaN in X is fitted as missing (see :meth:`_check_missing`)."""
        return True

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = self._allows_missing()
        # Set last: ClusterMixin resets it to [] when it runs after
        # TransformerMixin, which would silently drop the float32 check.
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


#: The fit-time start of every code solve is the mean code of the fit,
#: floored at this fraction of the codes' mean, so that no component starts
#: at zero (a multiplicative update could never leave it).
CODE_INIT_FLOOR = 1e-6


def code_init(W):
    """The constant start of ``transform``'s code solve: the mean fitted code."""
    scale = float(np.mean(W)) or 1.0
    return np.maximum(W.mean(axis=0), CODE_INIT_FLOOR * scale)


def data_divergence(storage, loss, W, H):
    """The divergence between the data and ``W @ H`` as ``(value, log2_scale)``.

    The true divergence is ``value * 2 ** log2_scale``, computed as ``D(X / s
    | (W / s) H)`` on the storage's scaled data (``s`` its scale; ``D(c X |
    c Y) = c^beta D(X | Y)``), so that no product overflows, not even when
    the true value lies beyond the floating-point range.
    """
    s = storage.scale
    if s == 1.0:
        return loss.divergence(storage, W, H), 0.0
    # split the division by s between W and H so that both stay in range:
    # the codes carry the scale of X in some models, the parts in others
    e = int(np.log2(s))
    top_W = float(np.max(W, initial=0.0)) or 1.0
    top_H = float(np.max(H, initial=0.0)) or 1.0
    e_W = int(round((e + np.log2(top_W) - np.log2(top_H)) / 2))
    W_s = np.ldexp(W, -e_W).astype(W.dtype, copy=False)
    H_s = np.ldexp(H, e_W - e).astype(H.dtype, copy=False)
    return loss.divergence(storage, W_s, H_s), loss.scale_exponent() * e
