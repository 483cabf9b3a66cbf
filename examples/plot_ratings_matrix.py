"""
===========================================
A first NMF: predicting the missing ratings
===========================================

Five users have rated some of four items from 1 to 5; the ratings they have
not given are missing (``NaN``). A rank-2 non-negative factorization explains
the ratings by two hidden *tastes*: how much each user has of each taste
(:math:`W`, 5 × 2) and how much each taste likes each item (:math:`H`,
2 × 4). Fitted on the ratings that exist, :math:`WH` has a value for every
user and item: a prediction of the ratings that were never given. We compare
it with the fit that reads "not rated" as a rating of 0, which is what an
estimator that refuses missing values forces on its users, first on the
small matrix, then on held-out ratings of a larger one.
"""

# %%
# The data
# --------
# Rows are users, columns are items; ``np.nan`` marks a rating not given.
import matplotlib.pyplot as plt
import numpy as np

from sknmfcluster import NMFClusterer, SparseNMF

nan = np.nan
V = np.array(
    [
        [5, 3, nan, 1],
        [4, nan, nan, 1],
        [1, 1, nan, 5],
        [1, nan, 4, 4],
        [nan, 1, 5, 4],
    ],
)
rated = ~np.isnan(V)
users = [f"user {i}" for i in range(1, 6)]
items = [f"item {j}" for j in range(1, 5)]
tastes = ["taste A", "taste B"]
print(f"{rated.sum()} ratings given, {(~rated).sum()} missing")


def heatmap(ax, M, title, rows, cols, cmap="viridis", vmin=None, vmax=None,
            predicted=None):
    """Draw ``M`` with its values in the cells: ``?`` where it is NaN, and
    the cells of ``predicted`` (a boolean mask) in italics."""
    colours = plt.get_cmap(cmap).with_extremes(bad="lightgrey")
    image = ax.imshow(np.ma.masked_invalid(M), cmap=colours, vmin=vmin,
                      vmax=vmax)
    ax.set_xticks(range(M.shape[1]), cols)
    ax.set_yticks(range(M.shape[0]), rows)
    ax.set_title(title)
    for (i, j), value in np.ndenumerate(M):
        if np.isnan(value):
            ax.text(j, i, "?", ha="center", va="center", fontsize=11)
            continue
        # Black text on light cells, white on dark ones.
        red, green, blue, _ = image.cmap(image.norm(value))
        light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
        italic = predicted is not None and predicted[i, j]
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=9,
                color="black" if light else "white",
                style="italic" if italic else "normal",
                weight="bold" if italic else "normal")
    return image


# %%
# Fit a rank-2 factorization on the ratings given
# -----------------------------------------------
# ``n_clusters`` is the rank, and ``method="nmf"`` asks for the factorization
# of the ratings themselves (the default method of
# :class:`~sknmfcluster.NMFClusterer` clusters through a graph of nearest
# neighbours, which cannot compare users over different items; it refuses
# ``NaN`` and says so). The loss counts the given ratings only: the missing
# ones neither pull the fit towards 0 nor count in ``reconstruction_err_``.
import warnings

from sklearn.exceptions import ConvergenceWarning

model = NMFClusterer(n_clusters=2, method="nmf", init="random",
                     random_state=42, max_iter=1000, tol=1e-6)
with warnings.catch_warnings():
    # this fit never settles (see below): the warning that says so is
    # expected here
    warnings.simplefilter("ignore", ConvergenceWarning)
    W = model.fit_transform(V)
V_hat = model.inverse_transform(W)
print(f"reconstruction_err_ = {model.reconstruction_err_:.4f}")
print(f"||V - W H|| over the given ratings = "
      f"{np.linalg.norm((V - V_hat)[rated]):.4f}")

# %%
# Every given rating is rebuilt almost exactly. Yet the predictions are not
# all believable: the model has 18 numbers to fit (5 × 2 + 2 × 4) and only
# 14 ratings to fit them to, so a rating that nothing in the data pins down
# can come out anywhere, here far outside the 1-5 scale. For the same
# reason the fit never settles: it keeps moving along the directions the
# ratings do not see, and it stops at ``max_iter`` with a
# ``ConvergenceWarning``.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
heatmap(axes[0], V, "V (? = not rated)", users, items, vmin=0, vmax=5)
heatmap(axes[1], V_hat, "W H (predicted in bold)", users, items, vmin=0,
        vmax=5, predicted=~rated)
fig.tight_layout()

# %%
# A small penalty
# ---------------
# An L2 penalty on both factors keeps :math:`W` and :math:`H` from growing
# where no rating holds them back. :class:`~sknmfcluster.SparseNMF` has the
# penalties: ``alpha_W`` weighs the codes, ``alpha_H="same"`` the components
# alike, and ``l1_ratio=0`` makes them L2. The penalty is relative to the
# size of the data, so its value does not depend on the rating scale.
penalized = SparseNMF(n_components=2, alpha_W=0.01, alpha_H="same",
                      l1_ratio=0.0, init="random", random_state=42,
                      max_iter=3000, tol=1e-7)
W_pen = penalized.fit_transform(V)
V_pen = penalized.inverse_transform(W_pen)

# %%
# What "0 means not rated" gives
# ------------------------------
# With zeros in place of the missing ratings the same model must rebuild
# them as ratings of 0: it predicts that users will hate whatever they have
# not rated yet (and it fits the ratings given worse, since it spends its
# two tastes on the zeros too). scikit-learn's ``NMF``, which refuses
# ``NaN``, leaves its users only this kind of fill.
zero_filled = SparseNMF(n_components=2, alpha_W=0.01, alpha_H="same",
                        l1_ratio=0.0, init="random", random_state=42,
                        max_iter=3000, tol=1e-7)
V_zero = zero_filled.inverse_transform(zero_filled.fit_transform(
    np.nan_to_num(V)))

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
heatmap(axes[0], V, "V (? = not rated)", users, items, vmin=0, vmax=5)
heatmap(axes[1], V_pen, "NaN as missing, L2 penalty", users, items, vmin=0,
        vmax=5, predicted=~rated)
heatmap(axes[2], V_zero, "NaN as 0, same penalty", users, items, vmin=0,
        vmax=5, predicted=~rated)
fig.tight_layout()

# %%
# Now the predictions stay on the scale, and they follow the tastes:
# user 1, who likes items 1 and 2 and not item 4, is predicted to rate item
# 3 low, and user 3, who likes item 4, to rate it high. The zero-filled fit
# predicts 0 or nearly 0 for half of the missing ratings, below any rating a
# user can give, and low values for the others.
#
# The factors
# -----------
# :math:`H` shows what each taste likes: one taste goes for items 1 and 2,
# the other for items 3 and 4. :math:`W` shows how much of each taste every
# user has.
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6),
                         gridspec_kw={"width_ratios": [2, 4]})
heatmap(axes[0], W_pen, "W (users × tastes)", users, tastes)
heatmap(axes[1], penalized.components_, "H (tastes × items)", tastes, items)
fig.tight_layout()

# %%
# Held-out ratings of a larger matrix
# -----------------------------------
# Five users are too few to measure anything. Here 600 users rate 40 items:
# each user's preferences mix three tastes (a non-negative rank-3 model plus
# noise), cut into ratings 1 to 5 of equal frequency. Each user has rated a
# random 30 % of the items; a fifth of those ratings is held out, and the
# models are fitted on the rest and judged on how well they predict the
# held-out ones (root mean squared error, in stars).
rng = np.random.RandomState(0)
n_users, n_items = 600, 40
preference = rng.gamma(1.0, 1.0, (n_users, 3)) @ rng.gamma(1.0, 1.0,
                                                           (3, n_items))
preference += 0.3 * rng.randn(n_users, n_items)
ratings = 1.0 + np.digitize(preference,
                            np.quantile(preference, [0.2, 0.4, 0.6, 0.8]))
given = rng.rand(n_users, n_items) < 0.3
held_out = given & (rng.rand(n_users, n_items) < 0.2)
train = np.where(given & ~held_out, ratings, np.nan)
print(f"{int((given & ~held_out).sum())} ratings to fit, "
      f"{int(held_out.sum())} held out")


def rmse(predicted):
    return float(np.sqrt(np.mean((predicted[held_out]
                                  - ratings[held_out]) ** 2)))


fits = {}
masked = SparseNMF(n_components=3, random_state=0, max_iter=1000, tol=1e-5)
fits["NaN as missing"] = masked.inverse_transform(masked.fit_transform(train))
zeros = SparseNMF(n_components=3, random_state=0, max_iter=1000, tol=1e-5)
fits["NaN as 0"] = zeros.inverse_transform(zeros.fit_transform(
    np.nan_to_num(train)))
fits["item means"] = np.broadcast_to(np.nanmean(train, axis=0), train.shape)
for name, predicted in fits.items():
    print(f"{name:>15}: held-out RMSE {rmse(predicted):.2f} stars")

# %%
# The model fitted on the ratings given predicts the held-out ones better
# than each item's mean rating; the zero-filled model does far worse than
# the means, since it predicts close to 0 stars for every rating it has not
# seen. The held-out ratings against the predictions:
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
for ax, name in zip(axes, ["NaN as missing", "NaN as 0"]):
    jitter = 0.15 * rng.randn(held_out.sum())
    ax.scatter(ratings[held_out] + jitter, fits[name][held_out], s=6,
               alpha=0.4)
    ax.plot([0.5, 5.5], [0.5, 5.5], color="black", lw=1)
    ax.set_xlabel("held-out rating")
    ax.set_title(f"{name}: RMSE {rmse(fits[name]):.2f}")
axes[0].set_ylabel("predicted rating")
fig.tight_layout()

# %%
# Users as clusters
# -----------------
# As a clusterer, the model of the small matrix puts each user with the
# taste that contributes most to their ratings (see :ref:`labels`); a user's
# codes, hence the label, come from the ratings that user has given. See
# :ref:`missing_values` for what else accepts missing values.
for user, label in zip(users, model.labels_):
    print(f"{user}: {tastes[label]}")
