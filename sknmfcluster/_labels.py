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
    whatever scale the solver happened to leave in the factors. The norms
    are taken of ``H`` divided by its largest entry, so that they cannot
    overflow: the result is exact up to that common factor, which no label
    depends on.
    """
    top = float(np.max(H, initial=0.0)) or 1.0
    Hs = H / top
    norms = np.sqrt(np.einsum("ij,ij->i", Hs, Hs, dtype=np.float64))
    return W * norms
