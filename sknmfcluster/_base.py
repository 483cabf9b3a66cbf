"""Shared estimator base: parameters, validation, transform, score, tags."""

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

from . import _solver, _storage
from ._init import INITS, RANDOM_INITS, default_init, initialize
from ._loss import FROBENIUS, KULLBACK_LEIBLER, divergence, reconstruction_error

#: Parameter descriptions shared by the estimators, substituted into their
#: docstrings by :func:`fill_doc` so that they cannot drift apart.
SHARED_DOC = {
    "beta_loss": """beta_loss : {"frobenius", "kullback-leibler"}, default="frobenius"
        Divergence minimised between ``X`` and ``W @ H``: half the squared
        Frobenius norm, or the generalized Kullback-Leibler divergence
        (better suited to counts, such as word counts).""",
    "solver": """solver : {"auto", "cd", "mu"}, default="auto"
        Update rule. ``"cd"``: coordinate descent (also called HALS), which
        solves for one coefficient at a time exactly and needs far fewer
        passes over ``X``; Frobenius loss only. ``"mu"``: Lee & Seung's
        multiplicative updates, for either loss. ``"auto"`` is ``"cd"`` for
        the Frobenius loss and ``"mu"`` for Kullback-Leibler. Both read
        ``X`` once per iteration.""",
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
        Frobenius loss, and over every 10 iterations for Kullback-Leibler,
        whose objective costs a logarithm per non-zero of ``X``.
        ``transform`` stops a sample once the largest change of its codes is
        at most ``tol`` times their largest entry. ``tol=0`` runs
        ``max_iter`` iterations.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        Seed of the random initialisation and of the randomized SVD used by
        the NNDSVD inits. Pass an int for reproducible results: they are the
        same whatever the number of threads.""",
    "verbose": """verbose : int, default=0
        ``1`` prints the iteration, objective, relative decrease and elapsed
        time every 10 iterations; ``2`` prints every iteration.""",
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


class _BaseNMF(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Parameters, validation and the fixed-``H`` methods shared by both NMFs.

    Subclasses define ``_rank()`` (the number of components requested).
    """

    _parameter_constraints: dict = {
        "beta_loss": [StrOptions({"frobenius", "kullback-leibler"})],
        "solver": [StrOptions({"auto", "cd", "mu"})],
        "init": [StrOptions(set(INITS)), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # -- validation ---------------------------------------------------------
    def _check_input(self, X, *, reset, min_samples=1):
        """Validate ``X`` (float32/float64, dense or CSR/CSC, non-negative)."""
        try:
            return validate_data(
                self,
                X,
                reset=reset,
                accept_sparse=("csr", "csc"),
                dtype=[np.float64, np.float32],
                ensure_non_negative=True,
                ensure_min_samples=min_samples,
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
    def _beta(self):
        return FROBENIUS if self.beta_loss == "frobenius" else KULLBACK_LEIBLER

    def _check_solver(self):
        """``solver`` with ``"auto"`` resolved; rejects ``"cd"`` with KL."""
        if self.solver == "auto":
            return "cd" if self._beta == FROBENIUS else "mu"
        if self.solver == "cd" and self._beta != FROBENIUS:
            raise ValueError(
                "solver='cd' supports beta_loss='frobenius' only. Use "
                "solver='mu' (or 'auto') with beta_loss='kullback-leibler'.")
        return self.solver

    # -- fitting ------------------------------------------------------------
    def _fit_factors(self, X, W, H, *, n_init=1, penalties=None, project=None):
        """Run ``n_init`` fits of the engine (``solver``), return the best.

        The first run uses ``init``; further runs use ``init`` again when it
        is random and ``"random"`` otherwise, so that restarts differ.
        """
        rank = self._rank()
        init = self.init or default_init(rank, *X.shape)
        rng = check_random_state(self.random_state)
        Xp = _storage.prepare(X)
        Xt = _storage.columns(Xp)  # one column copy of sparse X for all runs
        best = None
        for run in range(n_init):
            run_init = init if run == 0 or init in RANDOM_INITS else "random"
            W0, H0 = initialize(X, rank, run_init, rng, W, H)
            result = _solver.fit_factors(
                Xp, W0, H0, self._beta, self.max_iter, self.tol,
                solver=self._check_solver(), project=project,
                verbose=self.verbose, Xt=Xt, **(penalties or {}),
            )
            if self.verbose:
                print(f"Run {run + 1}/{n_init} ({run_init} init): objective "
                      f"{result.objective:.6e} after {result.n_iter} iterations")
            if best is None or result.objective < best.objective:
                best = result
        return Xp, best

    def _set_fitted(self, Xp, result):
        """Store the fitted factor, then re-solve the codes as ``transform`` would.

        Ending the fit with the routine ``transform`` uses makes
        ``fit_transform(X)`` equal ``fit(X).transform(X)``. The codes start
        from a fit-time constant (the mean code of the fit), so a sample's
        codes never depend on the other samples of a batch.
        """
        H = result.H
        scale = float(np.mean(result.W)) or 1.0
        self._code_init = np.maximum(result.W.mean(axis=0), 1e-6 * scale)
        self.components_ = H
        self.n_iter_ = int(result.n_iter)
        W = self._solve_codes(Xp)
        self.reconstruction_err_ = reconstruction_error(
            divergence(Xp, W, H, self._beta))
        return W

    def fit(self, X, y=None, W=None, H=None):
        """Fit the model to ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative training data.
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
    def _solve_codes(self, Xp, **penalties):
        """Codes ``W`` of prepared input with ``components_`` fixed."""
        return _solver.solve_codes(
            Xp, self.components_, self._beta, self._code_init.astype(
                self.components_.dtype), self.max_iter, self.tol,
            solver=self._check_solver(), **penalties)

    def transform(self, X):
        """Codes of ``X`` on the fitted components, ``components_`` fixed.

        Each sample is solved on its own (see ``tol``), so the result for a
        sample does not depend on the other samples passed with it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative data.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
            Non-negative codes, in the dtype of ``components_``.
        """
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        return self._solve_codes(_storage.prepare(X.astype(
            self.components_.dtype, copy=False)))

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
            Non-negative data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        score : float
            ``-divergence(X, transform(X) @ components_) / n_samples``.
        """
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        Xp = _storage.prepare(X.astype(self.components_.dtype, copy=False))
        W = self._solve_codes(Xp)
        return -float(divergence(Xp, W, self.components_, self._beta)) / X.shape[0]

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        # Set last: ClusterMixin resets it to [] when it runs after
        # TransformerMixin, which would silently drop the float32 check.
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
