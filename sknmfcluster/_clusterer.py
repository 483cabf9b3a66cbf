"""NMFClusterer: non-negative matrix factorization as a scikit-learn clusterer."""

from numbers import Integral

from sklearn.base import ClusterMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from . import _solver
from ._base import _BaseNMF, fill_doc
from ._labels import labels_from_codes


@fill_doc
class NMFClusterer(ClusterMixin, _BaseNMF):
    r"""Clustering by non-negative matrix factorization.

    Factorises non-negative data as :math:`X \approx W H` with ``n_clusters``
    components by multiplicative updates, minimising

    .. math::

        \frac{1}{2} \|X - W H\|_F^2 \quad \text{or} \quad
        \sum_{ij} X_{ij} \log \frac{X_{ij}}{(WH)_{ij}} - X_{ij} + (WH)_{ij},

    and puts each sample in the cluster of the component that contributes
    most to its reconstruction: the argmax of its row of ``W`` after the
    rows of ``H`` are scaled to unit norm (and the columns of ``W`` to
    match), so that the label does not depend on an arbitrary scale left in
    the factors. An all-zero sample contributes to no component and gets the
    label ``-1``.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, which is the rank of the factorization. It may
        exceed the number of features but not the number of samples.

    %(beta_loss)s

    %(init)s

    n_init : int, default=1
        Number of fits from different initialisations; the one with the
        lowest objective is kept. Runs after the first use ``init`` again
        when it is random (``"random"``, ``"nndsvdar"``) and ``"random"``
        otherwise.

    %(max_iter)s

    %(tol)s

    %(random_state)s

    %(verbose)s

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), dtype int64
        Cluster of each training sample; equal to ``predict(X)``.

    %(fitted)s

    See Also
    --------
    sklearn.cluster.KMeans : Prototype-based clustering.
    sklearn.decomposition.NMF : scikit-learn's NMF, a transformer only.
    sknmfcluster.metrics.clustering_accuracy : Accuracy after matching
        clusters to classes.

    References
    ----------
    D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
    factorization", NIPS 13, 2001.

    W. Xu, X. Liu and Y. Gong, "Document clustering based on non-negative
    matrix factorization", SIGIR 2003.

    Examples
    --------
    >>> import numpy as np
    >>> from sknmfcluster import NMFClusterer
    >>> X = np.array([[1.0, 1.0, 0.0, 0.0], [2.0, 2.1, 0.0, 0.1],
    ...               [0.0, 0.1, 3.0, 3.0], [0.0, 0.0, 1.0, 1.2]])
    >>> model = NMFClusterer(n_clusters=2, random_state=0).fit(X)
    >>> model.labels_[0] == model.labels_[1], model.labels_[1] != model.labels_[2]
    (np.True_, np.True_)
    >>> model.predict([[0.0, 0.0, 2.0, 2.0]])[0] == model.labels_[2]
    np.True_
    """

    _parameter_constraints: dict = {
        **_BaseNMF._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_clusters=8, *, beta_loss="frobenius", init=None,
                 n_init=1, max_iter=200, tol=1e-4, random_state=None,
                 verbose=0):
        self.n_clusters = n_clusters
        self.beta_loss = beta_loss
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def _rank(self):
        return self.n_clusters

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, W=None, H=None):
        """Fit the model and return the codes ``W`` of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative training data.
        y : Ignored
            Not used, present for API consistency.
        W : array-like of shape (n_samples, n_clusters), default=None
            Initial codes, used only with ``init="custom"``; not modified.
        H : array-like of shape (n_clusters, n_features), default=None
            Initial components, used only with ``init="custom"``; not
            modified.

        Returns
        -------
        W : ndarray of shape (n_samples, n_clusters)
            Codes of the training data, equal to ``transform(X)``.
        """
        X = self._check_input(X, reset=True, min_samples=2)
        if self.n_clusters > X.shape[0]:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than n_samples="
                f"{X.shape[0]}: there cannot be more clusters than samples. "
                "Lower n_clusters or pass more samples."
            )
        Xp, result = self._fit_factors(X, W, H, n_init=self.n_init)
        codes = self._set_fitted(Xp, result)
        self.labels_ = labels_from_codes(codes, self.components_)
        return codes

    def fit(self, X, y=None, W=None, H=None):
        """Fit the model and cluster the training samples.

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
        self : NMFClusterer
            The fitted estimator, with ``labels_`` set.
        """
        self.fit_transform(X, y, W=W, H=H)
        return self

    def predict(self, X):
        """Cluster of each sample, with ``components_`` fixed.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative data.

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int64
            Index of the cluster each sample belongs to; ``-1`` for all-zero
            samples. On the training data it equals ``labels_``.
        """
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        Xp = _solver.prepare(X.astype(self.components_.dtype, copy=False))
        return labels_from_codes(self._solve_codes(Xp), self.components_)
