"""Numerics of bi-cross-validation: losses, divergences, feature splits.

Pure NumPy on arrays already validated by
:func:`sknmfcluster.model_selection.bicv_score`; the code solves are the
engine's, called from ``model_selection`` alone.
"""

import numpy as np
import scipy.sparse as sp

#: Floor of a predicted entry in the Kullback-Leibler divergence, the
#: engine's: predicting zero for a positive entry costs ``x log(x / EPSILON)``.
EPSILON = 1e-30
#: Entries per block when held-out predictions are formed densely.
BLOCK_ENTRIES = 1 << 20

#: ``beta_loss`` values the held-out scores support, as beta.
BETAS = {"frobenius": 2.0, "kullback-leibler": 1.0, 2: 2.0, 1: 1.0}
SPLITS = ("balanced", "norm", "random")


def beta_of(model):
    loss = getattr(model, "beta_loss", "frobenius")
    try:
        return BETAS[loss]
    except (KeyError, TypeError):
        raise ValueError(
            f"beta_loss={loss!r} is not supported by the held-out scores: "
            "use 'frobenius' or 'kullback-leibler'.") from None


def divergence_sum(X, W, H, beta):
    """``D_beta(X || W @ H)`` summed over the entries of ``X`` that are not NaN.

    Computed in row blocks; a NaN entry of ``X`` (missing) adds nothing.
    """
    n, m = X.shape
    step = max(1, BLOCK_ENTRIES // max(m, 1))
    H64 = H.astype(np.float64)
    total = 0.0
    for start in range(0, n, step):
        block = X[start:start + step]
        x = block.toarray() if sp.issparse(block) else block
        x = x.astype(np.float64, copy=False)
        y = W[start:start + step].astype(np.float64) @ H64
        seen = ~np.isnan(x)
        if not seen.all():
            x, y = x[seen], y[seen]
        if beta == 2.0:
            total += 0.5 * float(np.sum((x - y) ** 2))
        else:
            pos = x > 0
            xp = x[pos]
            total += float(np.sum(xp * np.log(xp / np.maximum(y[pos], EPSILON)))
                           - xp.sum() + y.sum())
    return total


def balanced_groups(H, n_groups):
    """Deal the features so that every component's mass is shared evenly.

    Features are taken from the most concentrated (largest share of some
    component's L1 mass) to the least, each into the group where its
    components have the least mass so far, with the group sizes within one.
    """
    k, m = H.shape
    H = np.asarray(H, dtype=np.float64)
    mass = H.sum(axis=1, keepdims=True)
    shares = np.divide(H, mass, out=np.zeros_like(H), where=mass > 0)
    cap = -(-m // n_groups)
    held = np.zeros((n_groups, k))
    sizes = np.zeros(n_groups, dtype=np.int64)
    groups = np.empty(m, dtype=np.int64)
    for f in np.argsort(-shares.max(axis=0), kind="stable"):
        cost = held @ shares[:, f]
        cost[sizes >= cap] = np.inf
        g = int(np.lexsort((sizes, cost))[0])
        groups[f], sizes[g] = g, sizes[g] + 1
        held[g] += shares[:, f]
    return groups


def feature_groups(X, H, n_groups, split, seed):
    """Group of each feature (0..n_groups-1), a deterministic function of its inputs."""
    m = X.shape[1]
    if split == "balanced":
        return balanced_groups(H, n_groups)
    rng = np.random.RandomState(seed)
    order = rng.permutation(m)
    if split == "norm":  # deal features in decreasing norm, ties at random
        # missing values (NaN) count as zeros here
        if sp.issparse(X):
            X = abs(X)
            X.data = np.nan_to_num(X.data)
            norms = np.asarray(X.power(2).sum(axis=0)).ravel()
        else:
            X = np.nan_to_num(X)
            norms = np.einsum("ij,ij->j", X, X, dtype=np.float64)
        order = order[np.argsort(-norms[order], kind="stable")]
    groups = np.empty(m, dtype=np.int64)
    for start in range(0, m, n_groups):
        block = order[start:start + n_groups]
        groups[block] = rng.permutation(n_groups)[:block.size]
    return groups
