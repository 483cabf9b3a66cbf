"""
=========================================
Choosing the rank with GridSearchCV
=========================================

:class:`~sknmfcluster.NMFClusterer` is a scikit-learn estimator, so the rank
can be searched like any hyper-parameter, with the whole preprocessing in a
:class:`~sklearn.pipeline.Pipeline`. What the search optimises decides what it
finds. This example runs the same grid twice on the digits: once scored by
:data:`~sknmfcluster.clustering_accuracy_scorer` against the true digits,
with the default method (symmetric NMF of a nearest-neighbour graph), and
once unsupervised, through the estimator's own ``score``, with plain NMF
(``method="nmf"``), for which ``score`` measures how well the factorization
rebuilds the data. The second always prefers the largest rank, and the
example shows why.
"""

# %%
# The pipeline and the grid
# -------------------------
# A random third of the digits keeps the example fast. The pixels are scaled
# to :math:`[0, 1]` inside the pipeline, so each cross-validation split fits
# the scaler on its training part only. One pipeline clusters with the default
# method, the other factorises the images themselves (``method="nmf"``).
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sknmfcluster import NMFClusterer, clustering_accuracy_scorer

X, y = load_digits(return_X_y=True)
rng = np.random.RandomState(0)
subset = rng.choice(len(X), size=len(X) // 3, replace=False)
X, y = X[subset], y[subset]

pipe = make_pipeline(MinMaxScaler(),
                     NMFClusterer(random_state=0, max_iter=200, tol=1e-3))
nmf_pipe = make_pipeline(MinMaxScaler(),
                         NMFClusterer(method="nmf", random_state=0,
                                      max_iter=200, tol=1e-3))
grid = {"nmfclusterer__n_clusters": [4, 7, 10, 13, 16]}
cv = KFold(n_splits=3, shuffle=True, random_state=0)

# %%
# Scored by clustering accuracy
# -----------------------------
# The scorer calls ``predict`` on each held-out fold and compares the clusters
# with the digits (Hungarian matching). This needs labels, but only for the
# search: a labelled subset is enough to choose the rank for a larger
# unlabelled set.
by_accuracy = GridSearchCV(pipe, grid, scoring=clustering_accuracy_scorer,
                           cv=cv).fit(X, y)
print(f"best rank by accuracy: "
      f"{by_accuracy.best_params_['nmfclusterer__n_clusters']} "
      f"(held-out accuracy {by_accuracy.best_score_:.3f})")

# %%
# Scored by ``score``
# -------------------
# Without ``scoring``, the search uses the estimator's ``score``: minus the
# mean per-sample divergence between a sample and its reconstruction, with
# the components fixed. With ``method="nmf"`` that reconstruction is the
# factorization :math:`WH` of the images, which is what an unsupervised
# choice of the rank would look at. (With the default method, the
# reconstruction is made of the cluster prototypes that ``components_`` holds
# then, weighted by each image's memberships.) We keep the training scores
# too.
by_score = GridSearchCV(nmf_pipe, grid, cv=cv, return_train_score=True).fit(X)
print(f"best rank by score: {by_score.best_params_['nmfclusterer__n_clusters']}")

# %%
# The cross-validation results
# ----------------------------
ranks = grid["nmfclusterer__n_clusters"]
accuracy = pd.DataFrame(by_accuracy.cv_results_)
score = pd.DataFrame(by_score.cv_results_)

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.errorbar(ranks, accuracy["mean_test_score"], yerr=accuracy["std_test_score"],
              marker="o", capsize=3)
left.axvline(10, color="gray", ls=":", label="10 digits")
left.set_xlabel("n_clusters")
left.set_ylabel("held-out clustering accuracy")
left.set_title("clustering_accuracy_scorer")
left.legend()

right.errorbar(ranks, score["mean_test_score"], yerr=score["std_test_score"],
               marker="o", capsize=3, label="held-out folds")
right.plot(ranks, score["mean_train_score"], marker="s", ls="--",
           label="training folds")
right.set_xlabel("n_clusters")
right.set_ylabel("score (minus mean divergence)")
right.set_title('estimator.score, method="nmf"')
right.legend()
fig.tight_layout()

# %%
# The accuracy peaks at a moderate rank, in this run at the ten digits, and
# falls after it: a clustering into more groups than there are digits leaves
# surplus clusters that match no digit, and
# :func:`~sknmfcluster.clustering_accuracy` counts their samples as errors.
#
# ``score`` only increases with the rank, on the training folds *and* on the
# held-out folds, so the search picks the largest rank of the grid, whatever
# the grid. That is not a bug of the search: more components rebuild any
# sample better, seen or not, because the codes of a held-out sample are
# fitted to it too. :meth:`sklearn.cluster.KMeans.score` behaves the same
# way with the number of clusters. Use ``score`` to compare fits of the *same*
# rank (an ``init``, a loss, a number of iterations); to choose the rank
# without labels, look for the elbow of the curve or for the rank at which
# the clusters are stable across seeds (see :ref:`rank`).
print(score[["param_nmfclusterer__n_clusters", "mean_train_score",
             "mean_test_score", "rank_test_score"]].to_string(index=False))
