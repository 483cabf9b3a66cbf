"""Shared fixtures (small synthetic data, offline) and engine shortcuts."""

import os

# The test processes (pytest-xdist workers beside each other) wait passively
# at the end of a parallel loop; the library leaves the policy to its user.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from sklearn.datasets import load_digits  # noqa: E402

from sknmfcluster import _kernels, _neighbors, _problems, _storage  # noqa: E402
from sknmfcluster._engine import row_settings  # noqa: E402
from sknmfcluster._losses import Loss  # noqa: E402
from sknmfcluster._storage import Factors  # noqa: E402


def low_rank(n=60, m=12, k=3, seed=0, dtype=np.float64, zeros=True):
    """Non-negative low-rank-plus-noise data with some exact zeros."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, k) @ rng.rand(k, m) + 0.05 * rng.rand(n, m)
    if zeros:
        X[rng.rand(n, m) < 0.3] = 0.0
    return X.astype(dtype)


@pytest.fixture
def X_dense():
    return low_rank()


@pytest.fixture
def X_csr():
    return sp.csr_matrix(low_rank())


# -- shortcuts to the engine for the tests of its parts ---------------------


def w_step(Xp, W, H, beta, l1, l2, n_steps, tol, accumulate, cd=False):
    """One pass of the multiplicative (or CD) rule of ``beta`` over the rows."""
    loss = Loss(beta)
    rule = _kernels.CD_FRO if cd else loss.mu_rule
    mode = (_kernels.ACCUMULATE | _kernels.OBJECTIVE) if accumulate else 0
    return Xp.run_pass(W, Factors(H), rule, mode, n_steps,
                       row_settings(l1=l1, l2=l2, tol=tol, beta=beta,
                                gamma=loss.gamma))


def divergence(Xp, W, H, beta):
    return Xp.divergence(W, H, float(beta))


def fit_factors(Xp, W, H, beta, max_iter, tol, **kwargs):
    return _problems.fit_plain(Xp, W, H, Loss(beta), max_iter=max_iter,
                               tol=tol, **kwargs)


@pytest.fixture(scope="module")
def digits():
    """Digits scaled to [0, 1], and their classes."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def affinity(X, n_neighbors=10):
    """The normalised affinity A of X's training graph, and the graph S."""
    Xp = _storage.prepare(X)
    S, _ = _neighbors.training_graph(_neighbors.fit_neighbors(Xp, n_neighbors),
                                     Xp, np.float64)
    return _neighbors.degree_normalize(S)[0], S
