"""
=================================
Sparse parts with SparseNMF
=================================

NMF components tend to be parts, but how small the parts are is left to the
data. :class:`~sknmfcluster.SparseNMF` lets you set it: a target value of
Hoyer's sparseness for every component (``sparseness_components``), between 0
(all pixels equal) and 1 (a single pixel). This example fits the digits at
several targets, shows the components, and reports the sparseness reached
(``sparseness_``) and what the sparser parts cost in reconstruction error.
"""

# %%
# The data and the targets
# ------------------------
# The 1,797 digits of 8 × 8 pixels, scaled to :math:`[0, 1]`, with 16 parts.
# ``None`` leaves the sparseness free: plain NMF, as a baseline.
#
# Some of these fits are still improving, very slowly, after 200 iterations;
# the ``ConvergenceWarning`` that says so is silenced here.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sknmfcluster import SparseNMF
from sknmfcluster.datasets import load_dataset

X, y = load_dataset("digits")
targets = [None, 0.5, 0.85, 0.95]

models = {}
for target in targets:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models[target] = SparseNMF(n_components=16, sparseness_components=target,
                                   random_state=0, max_iter=200).fit(X)

# %%
# Sparseness reached and reconstruction error
# -------------------------------------------
# ``sparseness_["components"]`` is the mean Hoyer sparseness of the rows of
# ``components_``; with a target, every row is at the target. The error is
# ``reconstruction_err_``, :math:`\|X - WH\|_F`.
print("target   reached   codes   reconstruction_err_")
for target, model in models.items():
    print(f"{str(target):>6}   {model.sparseness_['components']:7.3f}"
          f"   {model.sparseness_['codes']:5.3f}"
          f"   {model.reconstruction_err_:10.2f}")

# %%
# Plain NMF is already sparse on these images: its parts sit at the
# sparseness printed on the first line. The sparseness of the codes moves the
# other way: the smaller the parts, the more of them each image needs.
#
# The components
# --------------
# One row per target. Below the free value (0.5) the parts grow into whole
# digits, prototypes rather than parts; above it they shrink to pieces of
# strokes, then to one or two pixels.
fig, axes = plt.subplots(len(targets), 16, figsize=(12, 0.9 * len(targets) + 0.6))
for row, (target, model) in zip(axes, models.items()):
    for ax, component in zip(row, model.components_):
        ax.imshow(component.reshape(8, 8), cmap="gray_r", vmin=0)
        ax.set_xticks([])
        ax.set_yticks([])
    label = "free" if target is None else f"{target}"
    row[0].set_ylabel(f"{label}\n({model.sparseness_['components']:.2f})",
                      rotation=0, ha="right", va="center", fontsize=10)
fig.suptitle("SparseNMF components: target sparseness (reached)")
fig.tight_layout()

# %%
# The price of sparseness
# -----------------------
# The reconstruction error against the sparseness reached. Near the free
# value, sparser parts cost little or nothing (NMF has many local minima, and
# a constrained fit can even land in a slightly better one); far from it, in
# either direction, the error grows, steeply for parts of a few pixels.
fig, ax = plt.subplots(figsize=(5.5, 3.8))
reached = np.array([m.sparseness_["components"] for m in models.values()])
errors = np.array([m.reconstruction_err_ for m in models.values()])
order = np.argsort(reached)
ax.plot(reached[order], errors[order], "o-")
for target, r, e in zip(targets, reached, errors):
    ax.annotate("free" if target is None else f"target {target}", (r, e),
                textcoords="offset points", xytext=(6, -12), fontsize=9)
ax.set_xlabel("sparseness of the components (Hoyer)")
ax.set_ylabel("reconstruction_err_")
ax.grid(True, alpha=0.3)
fig.tight_layout()

# %%
# How to choose the target
# ------------------------
# Plain NMF already has a sparseness, printed on the first line; targets below
# it make the parts more diffuse, targets above it more local. Choose it for
# what the parts are for: interpretable, local parts call for a high target;
# a faithful reconstruction for a low one or none. The sparseness of the
# codes (how few parts each sample uses) can be set the same way with
# ``sparseness_codes``, and both can instead be encouraged by penalties
# (``alpha_W``, ``alpha_H``, ``l1_ratio``); see :ref:`sparseness`.
