"""Cluster labels from the factors of an NMF."""

import numpy as np

#: Label of a sample with no signal (an all-zero row of X): it belongs to no
#: cluster, like DBSCAN's noise label.
NO_CLUSTER = -1


def normalized_codes(W, H):
    """Scale the columns of ``W`` by the row norms of ``H``.

    ``W @ H`` is unchanged by ``W D``, ``D^-1 H`` for any positive diagonal
    ``D``; with ``D`` the row norms of ``H`` the components have unit norm and
    ``W[i, j]`` measures how much component ``j`` contributes to sample ``i``,
    whatever scale the solver happened to leave in the factors.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", H, H, dtype=np.float64))
    return W * norms


def labels_from_codes(W, H):
    """Cluster of each sample: the component contributing most to it.

    Parameters
    ----------
    W : ndarray of shape (n_samples, k)
    H : ndarray of shape (k, n_features)

    Returns
    -------
    labels : ndarray of shape (n_samples,), dtype int64
        ``argmax`` of the normalised codes; ``NO_CLUSTER`` (-1) for samples
        whose codes are all zero (all-zero rows of X).
    """
    Wn = normalized_codes(W, H)
    labels = np.argmax(Wn, axis=1).astype(np.int64)
    labels[Wn.max(axis=1) <= 0] = NO_CLUSTER
    return labels
