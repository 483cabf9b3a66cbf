"""
===================================
A first NMF: a small ratings matrix
===================================

Five users have rated four items from 0 to 5 (0 meaning "not rated"). A rank-2
non-negative factorization explains the ratings by two hidden *tastes*: how
much each user has of each taste (:math:`W`, 5 × 2) and how much each taste
likes each item (:math:`H`, 2 × 4). We fit it with
:class:`~sknmfcluster.NMFClusterer`, look at every matrix as an annotated
heatmap, and measure the Frobenius reconstruction error.
"""

# %%
# The data
# --------
# Rows are users, columns are items.
import matplotlib.pyplot as plt
import numpy as np

from sknmfcluster import NMFClusterer

V = np.array(
    [
        [5, 3, 0, 1],
        [4, 0, 0, 1],
        [1, 1, 0, 5],
        [1, 0, 4, 4],
        [0, 1, 5, 4],
    ],
    dtype=float,
)
users = [f"user {i}" for i in range(1, 6)]
items = [f"item {j}" for j in range(1, 5)]
tastes = ["taste A", "taste B"]


def heatmap(ax, M, title, rows, cols, cmap="viridis", vmin=None, vmax=None):
    """Draw ``M`` with its values written in the cells."""
    image = ax.imshow(M, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(M.shape[1]), cols)
    ax.set_yticks(range(M.shape[0]), rows)
    ax.set_title(title)
    for (i, j), value in np.ndenumerate(M):
        # Black text on light cells, white on dark ones.
        red, green, blue, _ = image.cmap(image.norm(value))
        light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=9,
                color="black" if light else "white")
    return image


# %%
# Fit a rank-2 factorization
# --------------------------
# ``n_clusters`` is the rank of the factorization, and ``method="nmf"`` asks
# for the factorization of the ratings themselves (the default method of
# :class:`~sknmfcluster.NMFClusterer` clusters through a graph of nearest
# neighbours instead; see :ref:`clustering_methods`). The settings follow the
# tutorial this example reproduces: a random start with seed 42 and up to 500
# iterations; ``tol`` is lowered so that the fit runs to convergence.
model = NMFClusterer(n_clusters=2, method="nmf", init="random",
                     random_state=42, max_iter=500, tol=1e-6)
W = model.fit_transform(V)
H = model.components_
print(f"W, shape {W.shape}:\n{np.round(W, 2)}")
print(f"H, shape {H.shape}:\n{np.round(H, 2)}")

# %%
# The factors
# -----------
# :math:`H` shows what each taste likes: one taste goes for items 1 and 2,
# the other for items 3 and 4 (item 4 gets some of both). :math:`W` shows how
# much of each taste every user has: users 1 and 2 have almost only one
# taste, users 4 and 5 mostly the other, and user 3 has some of both.
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6),
                         gridspec_kw={"width_ratios": [4, 2, 4]})
heatmap(axes[0], V, "V (ratings)", users, items, vmin=0, vmax=5)
heatmap(axes[1], W, "W (users × tastes)", users, tastes)
heatmap(axes[2], H, "H (tastes × items)", tastes, items)
fig.tight_layout()

# %%
# The reconstruction and the error
# --------------------------------
# :math:`WH` is the model's version of the ratings, and :math:`V - WH` what
# it leaves out. A non-negative product cannot produce negative values, so
# where a user rated one item of a taste high and another of the same taste
# low, the model averages them.
V_hat = model.inverse_transform(W)
residual = V - V_hat
bound = np.abs(residual).max()
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
heatmap(axes[0], V, "V", users, items, vmin=0, vmax=5)
heatmap(axes[1], V_hat, "W H (reconstruction)", users, items, vmin=0, vmax=5)
heatmap(axes[2], residual, "V − W H (error)", users, items, cmap="coolwarm",
        vmin=-bound, vmax=bound)
fig.tight_layout()

# %%
# The Frobenius reconstruction error :math:`\|V - WH\|_F` is stored in
# ``reconstruction_err_``:
print(f"reconstruction_err_ = {model.reconstruction_err_:.4f}")
print(f"||V - W H||_F       = {np.linalg.norm(residual):.4f}")

# %%
# How good is that? No rank-2 matrix at all, non-negative or not, can do
# better than the truncated SVD (the Eckart–Young theorem): its error is the
# norm of the two smallest singular values of :math:`V`.
singular_values = np.linalg.svd(V, compute_uv=False)
print(f"best rank-2 error (SVD) = {np.linalg.norm(singular_values[2:]):.4f}")

# %%
# The non-negative factorization is within a few percent of that bound while
# being far easier to read. The tutorial this example follows reports an
# error of 0.6743 for the same matrix and rank; since no rank-2 approximation
# can get below the SVD bound printed above, that figure must measure
# something else (or come from another matrix). The same fit with
# :class:`sklearn.decomposition.NMF` agrees with ours:
from sklearn.decomposition import NMF

reference = NMF(n_components=2, init="random", random_state=42, max_iter=500,
                tol=1e-6).fit(V)
print(f"scikit-learn NMF reconstruction_err_ = {reference.reconstruction_err_:.4f}")

# %%
# Users as clusters
# -----------------
# As a clusterer, the model puts each user with the taste that contributes
# most to their ratings (see :ref:`labels`):
for user, label in zip(users, model.labels_):
    print(f"{user}: {tastes[label]}")
