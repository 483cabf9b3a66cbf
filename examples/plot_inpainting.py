"""
================================================
Inpainting: digits with missing pixels filled in
================================================

Half of the pixels of each digit are lost at random. NMF learns its parts
from the pixels that remain, with every lost pixel marked as missing
(``NaN``), and rebuilds each image from its codes: the rebuilt image has a
value at every pixel, so the lost ones are filled in. We compare this with
what one has to do when the estimator refuses missing values: put zeros, or
each pixel's mean, where a pixel is missing, and fit that.
"""

# %%
# Damaged digits
# --------------
# The 8 × 8 digits that ship with scikit-learn, pixels from 0 to 16. Three
# quarters of them train the models; the last quarter plays the part of new
# images, damaged in the same way, which the fitted models have never seen.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sknmfcluster import SparseNMF

X, y = load_digits(return_X_y=True)
rng = np.random.RandomState(0)
order = rng.permutation(len(X))
train, test = order[: 3 * len(X) // 4], order[3 * len(X) // 4 :]


def damage(X, share, seed):
    """A copy of ``X`` with a ``share`` of its entries set to NaN at random."""
    lost = np.random.RandomState(seed).rand(*X.shape) < share
    return np.where(lost, np.nan, X), lost


X_damaged, lost = damage(X, 0.5, seed=1)
print(f"{lost.mean():.0%} of the pixels are missing")

# %%
# Fit on the pixels that are there
# --------------------------------
# NaN means "missing": the fit leaves those entries out of the loss and
# learns :math:`W` and :math:`H` from the observed pixels only, and
# ``transform`` solves the codes of a new image from its observed pixels
# alone. ``inverse_transform(transform(X))`` is then the model's image, with
# a value at every pixel.
#
# Sixteen components rebuild undamaged digits well (see
# :ref:`sphx_glr_auto_examples_plot_image_reconstruction.py`), but with 32
# pixels left an image barely sees some of them, and least squares on those
# few pixels lets their codes grow without bound. A small L2 penalty on the
# codes (``alpha_W`` with ``l1_ratio=0``) holds them back.
params = dict(n_components=16, l1_ratio=0.0, random_state=0, max_iter=300,
              tol=1e-4)
model = SparseNMF(alpha_W=0.003, **params).fit(X_damaged[train])
rebuilt = model.inverse_transform(model.transform(X_damaged[test]))


def filled(X_damaged, rebuilt):
    """The observed pixels as they are, the model's values at the missing ones."""
    return np.where(np.isnan(X_damaged), rebuilt, X_damaged)


# %%
# What users do when NaN is refused
# ---------------------------------
# With zeros in place of the missing pixels, the model is asked to rebuild
# the zeros too: every lost pixel is black, and so is the fill. Filling each
# pixel with its mean over the training images is a better guess, and the
# model then refines it from the pixels of the image that are there.
zeros = SparseNMF(alpha_W=0.003, **params).fit(np.nan_to_num(X_damaged[train]))
rebuilt_zeros = zeros.inverse_transform(zeros.transform(
    np.nan_to_num(X_damaged[test])))


def mean_filler(D_train):
    """A function that fills NaN with each pixel's mean over ``D_train``."""
    means = np.nanmean(D_train, axis=0)
    return lambda D: np.where(np.isnan(D), means, D)


mean_filled = mean_filler(X_damaged[train])
with_means = SparseNMF(alpha_W=0.003, **params).fit(mean_filled(
    X_damaged[train]))
rebuilt_means = with_means.inverse_transform(with_means.transform(
    mean_filled(X_damaged[test])))

# %%
# New images, filled in
# ---------------------
# One test image per digit: the original, the damaged image (missing pixels
# in red), and the image filled in by each model, its observed pixels kept.
cmap = plt.get_cmap("gray_r").with_extremes(bad="tab:red")
shown = np.array([np.flatnonzero(y[test] == digit)[0] for digit in range(10)])
rows = [
    ("original", X[test][shown]),
    ("damaged", X_damaged[test][shown]),
    ("NaN as missing", filled(X_damaged[test], rebuilt)[shown]),
    ("zeros", filled(X_damaged[test], rebuilt_zeros)[shown]),
    ("pixel means", filled(X_damaged[test], rebuilt_means)[shown]),
]
fig, axes = plt.subplots(len(rows), 10, figsize=(9, 1.05 * len(rows)))
for axes_row, (label, images) in zip(axes, rows):
    for ax, image in zip(axes_row, images):
        ax.imshow(np.ma.masked_invalid(image.reshape(8, 8)), cmap=cmap,
                  vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
    axes_row[0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.suptitle("Test digits with half of their pixels missing, filled in")
fig.tight_layout()

# %%
# The model that knows which pixels are missing continues the strokes it
# sees. The zero-filled model has learned from images that really were half
# black: its fill is dark and its strokes are dotted. Filling with the pixel
# means first gives strokes too, pulled towards the average digit.
#
# How much is lost, and how well it is filled in
# ----------------------------------------------
# The error on the missing pixels of the test images, relative to their
# norm, for several shares of pixels lost. Each share is a new damage of the
# same images and a new fit of each model; the fit without the penalty is
# shown too.


def error_on_missing(rebuilt, lost):
    truth = X[test]
    return np.linalg.norm((rebuilt - truth)[lost]) / np.linalg.norm(
        truth[lost])


def fill_and_fit(D_train, D_test, alpha_W, fill=None):
    """The model's image of the damaged test images."""
    if fill is not None:
        D_train, D_test = fill(D_train), fill(D_test)
    with warnings.catch_warnings():
        # without the penalty the codes keep growing: the fit stops at
        # max_iter, and says so (expected here)
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = SparseNMF(alpha_W=alpha_W, **params).fit(D_train)
    return m.inverse_transform(m.transform(D_test))


shares = [0.25, 0.5, 0.75]
errors = {"NaN as missing": [], "NaN as missing, no penalty": [],
          "pixel means": [], "zeros": []}
for share in shares:
    D, lost = damage(X, share, seed=2)
    D_train, D_test, lost = D[train], D[test], lost[test]
    runs = {"NaN as missing": (0.003, None),
            "NaN as missing, no penalty": (0.0, None),
            "pixel means": (0.003, mean_filler(D_train)),
            "zeros": (0.003, np.nan_to_num)}
    for name, (alpha_W, fill) in runs.items():
        errors[name].append(error_on_missing(
            fill_and_fit(D_train, D_test, alpha_W, fill), lost))
    print(f"{share:.0%} missing: " + ", ".join(
        f"{name} {values[-1]:.3g}" for name, values in errors.items()))

fig, ax = plt.subplots(figsize=(6.5, 4))
for name, values in errors.items():
    ax.plot([100 * s for s in shares], values, "o-", label=name)
ax.set_xlabel("pixels missing (%)")
ax.set_ylabel("relative error on the missing pixels")
ax.set_yscale("log")
ax.legend()
ax.grid(True, alpha=0.3, which="both")
ax.set_title("Test images: error on the pixels that were lost")
fig.tight_layout()

# %%
# What the curves say:
#
# - Zeros are the worst fill: they teach the model that lost pixels are
#   black.
# - Without the penalty, the fit on the observed pixels is fair when a
#   quarter of the pixels is lost and breaks down beyond: an image that
#   barely sees a component gets a code that nothing holds back, and the
#   error grows by orders of magnitude (note the logarithmic scale).
# - With the small L2 penalty on the codes, the fit on the observed pixels
#   is as good as filling with the pixel means when a quarter or half of
#   the pixels is lost; when three quarters are lost, the average digit is
#   the better guess on this data, and the mean fill wins.
#
# So "NaN as missing" is the right reading of the data, not a guarantee of
# a better fill: with few observed entries per sample, regularise the codes
# or lower the rank. Each test image is solved on its own, so its fill never
# depends on the other images passed with it. A pixel never observed in any
# training image would get the value 0 (no component learns anything about
# it), and an image with no observed pixel gets all-zero codes, hence an
# all-zero image; see :ref:`missing_values`.
