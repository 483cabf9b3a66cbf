"""clustering_accuracy and its scorer."""

from itertools import permutations

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from sknmfcluster.metrics import clustering_accuracy, clustering_accuracy_scorer


def _brute_force(y_true, y_pred):
    """Best accuracy over all injective maps from clusters to classes."""
    classes, clusters = np.unique(y_true), np.unique(y_pred)
    best = 0
    slots = list(classes) + [None] * len(clusters)
    for assignment in permutations(slots, len(clusters)):
        mapping = dict(zip(clusters, assignment))
        hits = sum(mapping[p] == t for t, p in zip(y_true, y_pred))
        best = max(best, hits)
    return best / len(y_true)


def test_permuted_labels_score_one():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 5, size=100)
    perm = rng.permutation(5)
    assert clustering_accuracy(y, perm[y]) == 1.0
    assert clustering_accuracy(y, np.array(list("abcde"))[y]) == 1.0


@pytest.mark.parametrize("n_classes, n_clusters", [(3, 3), (3, 5), (5, 3), (2, 4)])
def test_matches_brute_force_on_rectangular_tables(n_classes, n_clusters):
    rng = np.random.RandomState(n_classes * 10 + n_clusters)
    for _ in range(5):
        y_true = rng.randint(0, n_classes, size=25)
        y_pred = rng.randint(0, n_clusters, size=25)
        assert clustering_accuracy(y_true, y_pred) == pytest.approx(
            _brute_force(y_true, y_pred)
        )


def test_over_clustering_is_not_rewarded():
    y_true = [0, 0, 0, 0, 1, 1, 1, 1]
    # every sample alone: only one cluster per class can be matched
    assert clustering_accuracy(y_true, np.arange(8)) == pytest.approx(2 / 8)
    # one big cluster: only one class is matched
    assert clustering_accuracy(y_true, np.zeros(8)) == pytest.approx(0.5)


def test_noise_label_is_a_cluster_of_its_own():
    assert clustering_accuracy([0, 0, 1, 1], [-1, -1, 0, 0]) == 1.0


def test_labels_of_any_hashable_type():
    # regression: None labels raised "'<' not supported between instances
    # of 'NoneType' and 'NoneType'" (scikit-learn sorts the labels)
    assert clustering_accuracy([None, None, 1], [1, 1, 2]) == 1.0
    assert clustering_accuracy(["a", None, 3.5, None],
                               [2, 0, 1, 0]) == 1.0
    assert clustering_accuracy([None, None, "b", "b"],
                               [0, 1, 1, 1]) == pytest.approx(0.75)


def test_bad_inputs():
    with pytest.raises(ValueError, match="different lengths"):
        clustering_accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="at least one sample"):
        clustering_accuracy([], [])


def test_scorer_calls_predict():
    class Fixed(BaseEstimator):
        def predict(self, X):
            return np.asarray(X)[:, 0]

        def fit(self, X, y=None):
            return self

    X = np.array([[1], [1], [0], [0]])
    assert clustering_accuracy_scorer(Fixed(), X, [5, 5, 7, 7]) == 1.0
    assert clustering_accuracy_scorer(Fixed(), X, [5, 7, 7, 7]) == 0.75
