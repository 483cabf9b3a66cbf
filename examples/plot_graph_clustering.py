"""
=======================================================
Graph-based NMF clustering versus NMF, KMeans, spectral
=======================================================

Plain NMF clusters handwritten digits poorly: its components are *parts*
(strokes) shared by several digits, so the largest code of an image says
little about which digit it is. :class:`~sknmfcluster.NMFClusterer` can
instead factorise a sparse *k-nearest-neighbour graph* of the images:

- ``method="symmetric"`` (the default) factorises the normalised affinity
  :math:`A \\approx W W^\\top` (symmetric NMF, Kuang, Ding & Park 2012), and
  a sample's cluster is the largest entry of its row of :math:`W`;
- ``method="graph"`` is graph-regularised NMF (Cai et al. 2011): NMF of the
  images whose codes are pulled together along the graph, labelled here by
  KMeans on the codes.

This example compares both with plain NMF, KMeans and spectral clustering on
the 1,797 digits that ship with scikit-learn (offline), shows the clusters on
a 2-D map of the images, the components each method learns, and what
``predict`` does on images the model has not seen.
"""

# %%
# The data and five clusterings
# -----------------------------
# Pixels are scaled to :math:`[0, 1]`. Every method gets ten clusters; the
# graph methods and spectral clustering use the same 10-nearest-neighbour
# graph. Graph-regularised NMF with a strong graph term converges slowly
# (about 400 iterations here), hence its larger ``max_iter``.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.datasets import load_digits
from sklearn.manifold import TSNE
from sklearn.metrics import normalized_mutual_info_score
from sklearn.model_selection import train_test_split

from sknmfcluster import NMFClusterer, clustering_accuracy

X, y = load_digits(return_X_y=True)
X = X / 16.0

models = {
    "plain NMF": NMFClusterer(10, method="nmf", random_state=0),
    "KMeans": KMeans(10, n_init=10, random_state=0),
    "spectral clustering": SpectralClustering(
        10, affinity="nearest_neighbors", n_neighbors=10, random_state=0),
    "graph-regularised NMF": NMFClusterer(
        10, method="graph", max_iter=500, random_state=0),
    "symmetric NMF (default)": NMFClusterer(10, random_state=0),
}
labels = {}
for name, model in models.items():
    start = time.perf_counter()
    labels[name] = model.fit_predict(X)
    seconds = time.perf_counter() - start
    print(f"{name:24s} accuracy {clustering_accuracy(y, labels[name]):.3f}  "
          f"NMI {normalized_mutual_info_score(y, labels[name]):.3f}  "
          f"fit {seconds:.2f} s")

# %%
# The clusters on a map of the digits
# -----------------------------------
# t-SNE places similar images close together; each panel colours the same
# map by one method's clusters (colours are matched to the true digits, so
# the same colour means the same digit in every panel). Plain NMF cuts the
# digits' groups across; the graph-based methods follow them.
from scipy.optimize import linear_sum_assignment  # noqa: E402
from sklearn.metrics.cluster import contingency_matrix  # noqa: E402


def matched(y_true, y_pred):
    """Rename clusters to the digit they are matched with (Hungarian)."""
    table = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    clusters = np.unique(y_pred)
    mapping = {clusters[c]: np.unique(y_true)[r] for r, c in zip(rows, cols)}
    return np.array([mapping.get(c, -1) for c in y_pred])


xy = TSNE(random_state=0, init="pca").fit_transform(X)
fig, axes = plt.subplots(2, 3, figsize=(12, 8), layout="constrained")
panels = [("true digits", y)] + [(name, matched(y, lab))
                                 for name, lab in labels.items()]
for ax, (name, lab) in zip(axes.ravel(), panels):
    ax.scatter(xy[:, 0], xy[:, 1], c=lab, cmap="tab10", vmin=0, vmax=9, s=4)
    title = name if name == "true digits" else \
        f"{name}\naccuracy {clustering_accuracy(y, labels[name]):.2f}"
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %%
# Parts versus prototypes
# -----------------------
# Plain NMF's components are parts that add up to the images. With
# ``method="symmetric"`` the clusters come from the graph, and
# ``components_`` is then fitted so that the codes rebuild the images: one
# non-negative *prototype* per cluster, which looks like a whole digit.
fig, axes = plt.subplots(2, 10, figsize=(12, 3), layout="constrained")
for row, name in enumerate(["plain NMF", "symmetric NMF (default)"]):
    for j, component in enumerate(models[name].components_):
        axes[row, j].imshow(component.reshape(8, 8), cmap="gray_r")
        axes[row, j].set_xticks([])
        axes[row, j].set_yticks([])
    axes[row, 0].set_ylabel(name.split(" (")[0], fontsize=9)
plt.show()

# %%
# New images
# ----------
# ``predict`` places an unseen image by its nearest training images: its
# normalised affinity to them is explained by the fitted factor :math:`W`
# (a small non-negative least-squares problem per image, independent of the
# other images in the call). On a held-out fifth of the digits the accuracy
# is about the one on the training images.
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, random_state=0, stratify=y)
model = NMFClusterer(10, random_state=0).fit(X_train)
print(f"training accuracy (labels_)     "
      f"{clustering_accuracy(y_train, model.labels_):.3f}")
print(f"held-out accuracy (predict)     "
      f"{clustering_accuracy(y_test, model.predict(X_test)):.3f}")

# %%
# The number of neighbours matters
# --------------------------------
# The graph decides what symmetric NMF can find. ``n_neighbors`` can be
# tuned like any parameter, for example with
# :class:`~sklearn.model_selection.GridSearchCV` and
# :data:`~sknmfcluster.metrics.clustering_accuracy_scorer` when some labels
# are known. On these digits 5 to 10 neighbours do best; with many more,
# the graph links images of different digits, two digits' clusters merge
# and another digit splits in two.
for n_neighbors in (5, 10, 15, 20):
    lab = NMFClusterer(10, n_neighbors=n_neighbors, random_state=0).fit_predict(X)
    print(f"n_neighbors={n_neighbors:2d}  accuracy "
          f"{clustering_accuracy(y, lab):.3f}")
