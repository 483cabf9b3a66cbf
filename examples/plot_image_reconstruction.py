"""
=========================================
Dimensionality reduction of images
=========================================

NMF compresses each image into a handful of non-negative numbers, its codes
:math:`W`, from which ``inverse_transform`` rebuilds it as :math:`WH`. The more
components, the sharper the reconstruction. This example follows an article
that did this on MNIST's raw pixels (0–255), here on the 8 × 8 digits that
ship with scikit-learn (raw pixels, 0–16): it shows reconstructions with an
increasing number of components and plots ``reconstruction_err_`` against
the number of components.
"""

# %%
# Fit one model per number of components
# --------------------------------------
# ``n_clusters`` is the rank of the factorization, and ``method="nmf"`` asks
# for the factorization of ``X`` itself (the default method clusters through
# a graph of nearest neighbours; see :ref:`clustering_methods`). The images
# have 64 pixels, so 64 components could in principle rebuild them exactly.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sknmfcluster import NMFClusterer

X, y = load_digits(return_X_y=True)
n_components_grid = [1, 2, 4, 8, 16, 32, 64]

# %%
# At large ranks the fits converge slowly; they are capped at 200
# iterations, and the warning that says so is silenced here. So is the
# warning that some of the 64 clusters (the largest component of each
# image) came out empty: this example uses the components, not the labels.
import warnings

from sklearn.exceptions import ConvergenceWarning

models = {}
for d in n_components_grid:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*came out empty")
        models[d] = NMFClusterer(n_clusters=d, method="nmf", random_state=0,
                                 max_iter=200, tol=1e-3).fit(X)
    print(f"d = {d:2d}: reconstruction_err_ = {models[d].reconstruction_err_:8.1f}"
          f"  ({models[d].n_iter_} iterations)")

# %%
# Reconstructions
# ---------------
# One example of each digit (top row), then its reconstruction
# ``inverse_transform(transform(x))`` from 2, 4, 8, 16 and 64 components.
examples = np.array([np.flatnonzero(y == digit)[0] for digit in range(10)])
shown = [2, 4, 8, 16, 64]
fig, axes = plt.subplots(len(shown) + 1, 10, figsize=(9, 1.0 * (len(shown) + 1)))
rows = [("original", X[examples])]
rows += [(f"d = {d}", models[d].inverse_transform(models[d].transform(X[examples])))
         for d in shown]
for axes_row, (label, images) in zip(axes, rows):
    for ax, image in zip(axes_row, images):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
    axes_row[0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.suptitle("Digits rebuilt from d non-negative codes")
fig.tight_layout()

# %%
# Two components only give a blur with a hint of the digit's mass; with eight
# most digits are recognisable; with sixteen, a quarter of the pixels, the
# images are close to the originals.
#
# Reconstruction error against the number of components
# -----------------------------------------------------
# The error falls fast for the first components and slowly after: a curve to
# read the "elbow" from when choosing the rank without labels (see
# :ref:`rank`).
errors = [models[d].reconstruction_err_ for d in n_components_grid]
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(n_components_grid, errors, "o-")
ax.set_xlabel("number of components d")
ax.set_ylabel("reconstruction_err_  ||X - WH||_F")
ax.set_title("More components, smaller error")
ax.grid(True, alpha=0.3)
fig.tight_layout()

# %%
# Even with as many components as pixels the error is not zero, as the
# article found on MNIST with 784 components. An exact factorization exists
# at d = 64 (``X = X @ I``), but the fit approaches it only slowly and stops
# after ``max_iter`` iterations or once the error decreases by less than
# ``tol`` per iteration; NMF is a compression
# method, and it is at small ranks that it earns its keep.
print(f"||X||_F = {np.linalg.norm(X):.1f}; at d = 64 the error is "
      f"{errors[-1] / np.linalg.norm(X):.1%} of it")
