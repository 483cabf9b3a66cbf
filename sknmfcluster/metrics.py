"""Clustering accuracy: the best one-to-one matching of clusters to classes."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import make_scorer
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import validate_params


@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def clustering_accuracy(y_true, y_pred):
    """Fraction of samples whose cluster is matched to their class.

    Clusters are matched to classes one to one so that the number of samples
    on matched pairs is largest (the Hungarian algorithm on the contingency
    table, :func:`scipy.optimize.linear_sum_assignment`). When there are more
    clusters than classes, the surplus clusters match no class and their
    samples count as errors, and likewise for surplus classes: the score is
    not inflated by over-clustering. Cluster and class labels may be of any
    hashable type; a label of ``-1`` (no cluster) is treated as a cluster of
    its own.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster labels to evaluate.

    Returns
    -------
    accuracy : float
        In ``[0, 1]``; 1 means the clustering equals the classes up to a
        renaming of the clusters.

    See Also
    --------
    sklearn.metrics.adjusted_rand_score : Pair-counting agreement.
    sklearn.metrics.normalized_mutual_info_score : Information-based agreement.

    Examples
    --------
    >>> from sknmfcluster.metrics import clustering_accuracy
    >>> clustering_accuracy([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 2, 0])
    0.8333...
    """
    y_true = column_or_1d(y_true, warn=False)
    y_pred = column_or_1d(y_pred, warn=False)
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred have different lengths: {y_true.shape[0]} "
            f"and {y_pred.shape[0]}."
        )
    if y_true.shape[0] == 0:
        raise ValueError("clustering_accuracy needs at least one sample.")
    table = contingency_matrix(_hashed(y_true), _hashed(y_pred))
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / y_true.shape[0])


def _hashed(labels):
    """Object labels as integers, by first appearance; others as they are.

    scikit-learn's contingency table sorts the labels, which labels of
    types that do not compare (``None``, or ``None`` with strings) cannot.
    """
    if labels.dtype.kind != "O":
        return labels
    codes = {}
    return np.fromiter((codes.setdefault(label, len(codes))
                        for label in labels), dtype=np.int64,
                       count=labels.shape[0])


#: Scorer for ``GridSearchCV(scoring=...)`` and ``cross_val_score``: calls the
#: estimator's ``predict`` on each test fold and compares it to the fold's
#: labels with :func:`clustering_accuracy`.
clustering_accuracy_scorer = make_scorer(clustering_accuracy)

__all__ = ["clustering_accuracy", "clustering_accuracy_scorer"]
