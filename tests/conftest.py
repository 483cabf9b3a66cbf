"""Shared fixtures: small synthetic data, offline."""

import numpy as np
import pytest
import scipy.sparse as sp


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
