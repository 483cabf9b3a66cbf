"""
==============================================
Parts versus holistic features: NMF and PCA
==============================================

PCA and NMF both describe data with a few components, and both rebuild a
sample as a weighted sum of them. PCA lets the weights and the components be
negative, so components can cancel each other: they come out *holistic*, each
spread over the whole image with positive and negative regions. NMF allows
only additions, so its components come out as *parts* [LS1999]_. This example
puts the two side by side on the same images, then on a cloud of points where
the geometry is easy to see.
"""

# %%
# Sixteen components of the digits
# ---------------------------------
# The 1,797 digits that ship with scikit-learn, 8 × 8 pixels scaled to
# :math:`[0, 1]`. We fit 16 components with each method. ``method="nmf"``
# asks :class:`~sknmfcluster.NMFClusterer` for the factorization of ``X``
# itself, whose components are the parts; its default method clusters
# through a graph of nearest neighbours and fits one prototype per cluster
# instead (see :ref:`clustering_methods`).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits, make_blobs
from sklearn.decomposition import PCA

from sknmfcluster import NMFClusterer

X, _ = load_digits(return_X_y=True)
X = X / 16.0
n_components = 16

nmf = NMFClusterer(n_clusters=n_components, method="nmf", random_state=0,
                   max_iter=300).fit(X)
pca = PCA(n_components=n_components, random_state=0).fit(X)

# %%
# The components
# --------------
# NMF components are non-negative (white is zero). PCA components are shown
# on a diverging scale centred on zero: red is positive, blue negative.


def show_components(components, title, diverging):
    fig, axes = plt.subplots(2, 8, figsize=(10, 3.1))
    for ax, component in zip(axes.ravel(), components):
        if diverging:
            bound = np.abs(component).max()
            ax.imshow(component.reshape(8, 8), cmap="RdBu_r", vmin=-bound,
                      vmax=bound)
        else:
            ax.imshow(component.reshape(8, 8), cmap="gray_r", vmin=0)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()


show_components(nmf.components_, "NMF: parts (non-negative)", diverging=False)
show_components(pca.components_, "PCA: holistic features (signed)",
                diverging=True)

# %%
# The NMF components are localised: a stroke, an arc, a corner, each using a
# few pixels and leaving the rest at zero. The PCA components are whole-image
# patterns of positive and negative pixels, each a contrast between regions of
# the image; they are meaningful only in combination, and later ones are
# finer and finer corrections.
#
# How much of each image is zero?
# -------------------------------
# A simple measure of "parts": the fraction of (near) zero entries in the
# components, and in the codes that rebuild the images.
W = nmf.transform(X)
P = pca.transform(X)


def fraction_small(A):
    return np.mean(np.abs(A) <= 1e-3 * np.abs(A).max())


print(f"NMF: {fraction_small(nmf.components_):.0%} of component entries "
      f"and {fraction_small(W):.0%} of code entries are ~0")
print(f"PCA: {fraction_small(pca.components_):.0%} of component entries "
      f"and {fraction_small(P):.0%} of code entries are ~0")

# %%
# Both rebuild the images from 16 numbers each, PCA slightly better: it is the
# best rank-16 approximation there is, NMF pays a little for its constraint.
nmf_error = np.linalg.norm(X - nmf.inverse_transform(W))
pca_error = np.linalg.norm(X - pca.inverse_transform(P))
print(f"reconstruction error ||X - X_hat||_F: NMF {nmf_error:.1f}, "
      f"PCA {pca_error:.1f}")

# %%
# The same contrast on a cloud of points
# --------------------------------------
# Three groups of points with non-negative coordinates (the blobs of the
# textbook this example follows, in two dimensions). PCA's axes pass through
# the mean and are orthogonal, whatever the groups: the first follows the
# overall spread, the second takes what is left at right angles. NMF's two
# components are directions from the origin, and every point is a
# non-negative combination of them: they bound a cone that contains the
# data, and lean towards the outer groups.
points, groups = make_blobs(n_samples=300, centers=[[5, 10], [10, 4], [6, 8]],
                            cluster_std=0.8, random_state=0)
points = np.clip(points, 0, None)
# Two components fit two-dimensional points exactly, so the error keeps
# shrinking towards zero and a relative tolerance is never met: run a fixed
# number of iterations instead (tol=0), long after the directions settled.
nmf_2d = NMFClusterer(n_clusters=2, method="nmf", random_state=0,
                      max_iter=1000, tol=0).fit(points)
pca_2d = PCA(n_components=2).fit(points)

fig, ax = plt.subplots(figsize=(5.5, 5.5))
ax.scatter(*points.T, c=groups, s=10, cmap="tab10", vmax=9, alpha=0.6)
origin, mean = np.zeros(2), points.mean(axis=0)
for h in nmf_2d.components_:
    direction = h / np.linalg.norm(h) * 14
    ax.annotate("", xy=direction, xytext=origin,
                arrowprops=dict(arrowstyle="->", color="black", lw=2))
for v, s in zip(pca_2d.components_, np.sqrt(pca_2d.explained_variance_)):
    # Two standard deviations either side of the mean along each axis.
    ax.annotate("", xy=mean + 2 * s * v, xytext=mean - 2 * s * v,
                arrowprops=dict(arrowstyle="<->", color="tab:red", lw=2),
                annotation_clip=False)
ax.plot([], [], color="black", lw=2, label="NMF components (from the origin)")
ax.plot([], [], color="tab:red", lw=2, label="PCA axes (through the mean)")
ax.set_xlim(0, 15)
ax.set_ylim(0, 15)
ax.set_aspect("equal")
ax.legend(loc="upper right", fontsize=9)
ax.set_title("NMF spans a cone around the data; PCA rotates axes")
fig.tight_layout()
