"""``partial_fit``, and ``fit`` in batches, for the plain NMF of the estimators.

The estimators inherit :class:`OnlineFitMixin`; the problem itself is
:mod:`._online`. All batches are prepared with one scale, that of the first
batch (or of the whole data in ``fit``), so that their statistics add up.
"""

import copy

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if

from . import _engine, _storage
from ._base import code_init, fit_transaction
from ._dask import is_dask_array
from ._init import default_init, initialize
from ._online import PARTIAL_FIT_ROUNDS, Epochs, OnlineNMF


def _online_supported(estimator):
    """Whether the estimator's settings can be fitted online (``partial_fit``).

    ``partial_fit`` exists only then (as ``predict_proba`` of scikit-learn's
    estimators exists only for some settings). Settings of the wrong type
    leave it to ``partial_fit``'s parameter validation to say so.
    """
    try:
        estimator._check_online()
    except ValueError:
        return False
    except TypeError:
        return True
    return True


class OnlineFitMixin:
    """``partial_fit`` and ``fit`` with ``batch_size``; see :mod:`._online`.

    The estimator provides ``_check_online()`` (raising a clear error when
    its configuration cannot be fitted online), ``_online_penalties(storage)``
    and ``_set_online_fitted(W, H)`` for the attributes of its own.
    """

    @available_if(_online_supported)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, W=None, H=None):
        """Update the model with one batch of samples (online NMF).

        The codes of the batch are solved with the components fixed, its
        statistics are added to those of the earlier batches, which decay by
        ``forget_factor``, and the components are updated from the sum, as
        in :class:`sklearn.decomposition.MiniBatchNMF`; then the codes are
        solved again with the new components and the batch's statistics
        replaced by theirs before a second update. The first call
        initialises the components from its batch (``init``, or ``W`` and
        ``H`` with ``init="custom"``); after ``fit``, calls continue from
        the fitted components. Available for the settings that can be
        fitted online: plain NMF (``NMFClusterer(method="nmf")`` with
        argmax labels; ``SparseNMF`` without sparseness targets or
        scale-free penalties).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One batch of non-negative samples (NaN for missing entries).
        y : Ignored
            Not used, present for API consistency.
        W, H : array-like, default=None
            Initial factors for ``init="custom"`` on the first call.

        Returns
        -------
        self : object
            The estimator, with ``components_`` updated.
        """
        with fit_transaction(self):
            first = not hasattr(self, "components_")
            X = self._check_input(X, reset=first)
            self._check_online()
            if first:
                self._fit_rank = self._resolve_online_rank(X, W, H)
                storage = self._prepare_fit(X)
                self._x_scale = storage.scale
                root = float(np.sqrt(storage.scale))
                W0, H0 = self._initial(storage, W, H)
                online = OnlineNMF(self._loss, H0, **self._online_options(
                    storage))
                w0 = code_init(W0)
            else:
                self._check_batch_scale(X)
                storage = self._prepare_batch(X)
                root = float(np.sqrt(storage.scale))
                online = copy.deepcopy(getattr(self, "_online", None)) or \
                    OnlineNMF(self._loss, (self.components_ / root).astype(
                        self.components_.dtype), **self._online_options(
                            storage))
                w0 = self._code_init / root
            codes, _ = online.batch_step(storage, w0, self.forget_factor,
                                         rounds=PARTIAL_FIT_ROUNDS)
            self._online = online
            self._code_init = code_init(codes) * root
            self._set_online_fitted(online.H * root)
            self.n_steps_ = online.n_batches
        return self

    # -- fit in batches ------------------------------------------------------------

    def _fit_in_batches(self, X, W, H):
        """``fit`` with ``batch_size``: epochs of batches in the engine's loop.

        Returns the codes of ``X`` solved with the final components, batch
        by batch, as ``transform`` would.
        """
        n = X.shape[0]
        size = min(self.batch_size, n)
        scale = _storage.range_scale(_largest(X), X.dtype)

        def batches():
            for start in range(0, n, size):
                stop = min(n, start + size)
                yield start, stop, self._prepare_batch(X[start:stop], scale)

        first = next(batches())[2]
        W0, H0 = self._initial(first, None if W is None else W[:size], H)
        online = OnlineNMF(self._loss, H0, **self._online_options(first))
        rho = self.forget_factor ** (size / n)
        epochs = Epochs(online, batches, n, code_init(W0), rho, code_init)
        init = self.init or default_init(self._rank(), *first.shape,
                                         local=first.local)
        result = _engine.fit([(init, lambda: epochs)], max_iter=self.max_iter,
                             tol=self.tol, verbose=self.verbose)
        root = float(np.sqrt(scale))
        self._x_scale = scale
        self._online = online
        self._code_init = code_init(result.W) * root
        self._set_online_fitted(online.H * root)
        self.n_iter_ = int(result.n_iter)
        self.n_steps_ = online.n_batches
        codes = np.empty((n, online.H.shape[0]), dtype=online.H.dtype)
        H = (self.components_ / root).astype(online.H.dtype)
        divergence = 0.0
        for start, stop, storage in batches():
            codes[start:stop] = self._solve_codes(storage)
            divergence += self._loss.divergence(storage,
                                                codes[start:stop] / root, H)
        self.reconstruction_err_ = float(
            np.sqrt(2.0 * max(divergence, 0.0))
            * np.exp2(self._loss.scale_exponent() * np.log2(scale) / 2))
        return codes

    # -- helpers ---------------------------------------------------------------------

    def _check_batch_scale(self, X):
        """Refuse a later batch beyond the safe range of the first's scale.

        Every batch is divided by the first batch's scale (a power of four,
        1 for data in range). A batch far above it overflowed the kernels:
        ``components_`` became NaN, silently (1e160 times the first batch),
        or the codes did (KL).
        """
        top = self._x_scale * _storage.SAFE_RANGE[np.dtype(X.dtype)][1]
        largest = _largest(X)
        if largest > top:
            raise ValueError(
                f"partial_fit: this batch's largest entry ({largest:.3g}) is "
                f"far above the scale of the first batch, which every later "
                f"batch keeps: it may be at most {top:.3g}. Pass batches of "
                "a comparable scale (divide every batch by one constant), "
                "or start a new model on this data.")

    def _prepare_batch(self, X, scale=None):
        """Storage of one validated batch, in the scale of the online fit."""
        storage = _storage.prepare(X, scale=self._x_scale if scale is None
                                   else scale)
        self._loss.check_data(storage)
        if storage.masked:
            self._check_missing()
        return storage

    def _resolve_online_rank(self, X, W, H):
        resolve = getattr(self, "_resolve_rank", None)
        return resolve(X, W, H) if resolve else self._rank()

    def _initial(self, storage, W, H):
        """Initial factors from one batch, in its scaled space."""
        rank = self._rank()
        init = self.init or default_init(rank, *storage.shape,
                                         local=storage.local)
        root = float(np.sqrt(storage.scale))
        return initialize(storage.to_scipy(), rank, init,
                          check_random_state(self.random_state),
                          None if W is None else np.asarray(W) / root,
                          None if H is None else np.asarray(H) / root)

    def _online_options(self, storage):
        return dict(solver=self._check_solver(columns=False),
                    penalties=self._online_penalties(storage),
                    max_iter=self.max_iter, tol=self.tol)


def _largest(X):
    """The largest observed entry of X (dense, sparse, memory-mapped, Dask).

    ``fmax`` skips NaN without the copy ``nanmax`` makes of a whole array.
    """
    if is_dask_array(X):
        return float(X.map_blocks(_block_largest, dtype=np.float64,
                                  chunks=(1, 1)).max().compute())
    values = X.data if hasattr(X, "tocsr") else X
    return float(np.fmax.reduce(values, axis=None, initial=0.0))


def _block_largest(block):
    return np.array([[np.fmax.reduce(np.asarray(block), axis=None,
                                     initial=0.0)]])

