"""
=========================================
Negative data: the error and what to do
=========================================

NMF approximates data by sums of non-negative parts, so it cannot represent a
negative value, and :class:`~sknmfcluster.NMFClusterer` refuses negative input
with an error that says so. What to do depends on what the negative values
mean. This example shows the error, then the two remedies: shifting the data
when the sign is an accident of the scale, and splitting each feature into
its positive and negative parts when the sign carries meaning.
"""

# %%
# Data with meaningful signs
# --------------------------
# Three groups of samples, such as three kinds of tissue measured as log-ratios
# of gene expression against a reference: each group raises some features
# (positive values) and lowers others (negative values), and most features do
# not move.
import matplotlib.pyplot as plt
import numpy as np

from sknmfcluster import NMFClusterer, clustering_accuracy

rng = np.random.RandomState(0)
n_per_group, n_features, n_groups = 100, 30, 3
signatures = np.zeros((n_groups, n_features))
for g in range(n_groups):
    up, down = rng.choice(n_features, size=(2, 5), replace=False)
    signatures[g, up], signatures[g, down] = 2.0, -2.0
groups = np.repeat(np.arange(n_groups), n_per_group)
strength = rng.uniform(0.5, 1.5, size=(len(groups), 1))
X = strength * signatures[groups] + rng.normal(scale=1.0, size=(len(groups), n_features))
print(f"X has {np.mean(X < 0):.0%} negative entries")

# %%
# The error
# ---------
# Every method of :class:`~sknmfcluster.NMFClusterer` refuses negative input;
# this example uses ``method="nmf"``, the factorization of ``X`` itself,
# because its components are what we read back below.
try:
    NMFClusterer(n_clusters=3, method="nmf", random_state=0).fit(X)
except ValueError as error:
    print(f"ValueError: {error}")

# %%
# Remedy 1: shift
# ---------------
# Subtracting each feature's minimum (or scaling it into :math:`[0, 1]` with
# :class:`~sklearn.preprocessing.MinMaxScaler`) makes the data non-negative.
# This is the right fix when zero is an arbitrary point of the scale, as for
# temperatures in Celsius or standardised features. Here it loses much of the
# structure: after the shift, "lowered" is just "a little less than the
# baseline", and the features that do not move become a large constant that
# the components have to rebuild too.
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

shifted = make_pipeline(MinMaxScaler(),
                        NMFClusterer(n_clusters=3, method="nmf", random_state=0))
shift_labels = shifted.fit_predict(X)
print(f"shift: clustering accuracy {clustering_accuracy(groups, shift_labels):.3f}")

# %%
# Remedy 2: split the signs
# -------------------------
# Replace each feature :math:`x` by two non-negative features,
# :math:`\max(x, 0)` and :math:`\max(-x, 0)`. "Raised" and "lowered" become
# separate, non-negative evidence, and zero stays zero. The number of
# features doubles.


def split_signs(X):
    return np.hstack([np.maximum(X, 0), np.maximum(-X, 0)])


split = make_pipeline(FunctionTransformer(split_signs),
                      NMFClusterer(n_clusters=3, method="nmf", random_state=0))
split_labels = split.fit_predict(X)
print(f"split: clustering accuracy {clustering_accuracy(groups, split_labels):.3f}")

# %%
# The components of the split model read back as signed signatures: the
# positive half minus the negative half of each component. Next to the true
# signatures, each component shown in the row of the group its cluster
# mostly holds:
H = split[-1].components_
order = [np.bincount(split_labels[groups == g], minlength=n_groups).argmax()
         for g in range(n_groups)]
signed = H[order, :n_features] - H[order, n_features:]
fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.2), sharex=True)
for ax, M, title in [(top, signatures, "true signatures"),
                     (bottom, signed, "split NMF: positive minus negative half")]:
    bound = np.abs(M).max()
    ax.imshow(M, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
    ax.set_yticks(range(len(M)), [f"{i}" for i in range(len(M))])
    ax.set_title(title)
bottom.set_xlabel("feature")
fig.tight_layout()

# %%
# Which remedy?
# -------------
# - Shift (or scale to :math:`[0, 1]`) when the negative values come from
#   where the scale puts its zero. And do not standardise data before NMF:
#   centring is what creates the negative values.
# - Split the signs when positive and negative are two directions of a
#   quantity (gains and losses, up and down): each direction gets its own
#   non-negative feature.
#
# See :ref:`negative_data` in the user guide.
