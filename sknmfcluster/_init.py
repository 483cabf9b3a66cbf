"""Initial factors: random, NNDSVD and its variants, or user-given.

NNDSVD follows Boutsidis & Gallopoulos, "SVD based initialization: A head
start for nonnegative matrix factorization", Pattern Recognition 41 (2008):
each singular pair is split into its positive and negative parts and the
dominant part, scaled, becomes a pair of non-negative factors.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd, squared_norm
from sklearn.utils.validation import check_array

INITS = ("random", "nndsvd", "nndsvda", "nndsvdar", "custom")
#: Inits that depend on the random state, hence make restarts differ.
RANDOM_INITS = ("random", "nndsvdar")

#: Entries of an initial factor that are exactly zero are lifted to this
#: fraction of the factors' typical size: a multiplicative update can never
#: move an entry away from zero.
ZERO_LIFT = 1e-6


def default_init(rank, n_samples, n_features, local=True):
    """scikit-learn's rule: nndsvda when the rank allows an SVD, else random.

    Data not in local memory (a Dask array) has no SVD at hand: random.
    """
    if not local:
        return "random"
    return "nndsvda" if rank <= min(n_samples, n_features) else "random"


def _mean(X):
    """Mean of all entries of ``X`` (dense or sparse) in float64."""
    total = X.sum(dtype=np.float64) if not sp.issparse(X) else X.data.sum(
        dtype=np.float64)
    return total / (X.shape[0] * X.shape[1])


def typical_scale(X, rank):
    """``sqrt(mean(X) / rank)``: the entry size for which ``W @ H`` has X's mean."""
    return float(np.sqrt(_mean(X) / rank))


def _random(X, rank, rng):
    avg = typical_scale(X, rank)
    H = avg * np.abs(rng.standard_normal((rank, X.shape[1])))
    W = avg * np.abs(rng.standard_normal((X.shape[0], rank)))
    return W, H


def _nndsvd(X, rank, rng, fill):
    n_samples, n_features = X.shape
    if rank > min(n_samples, n_features):
        raise ValueError(
            f"init='nndsvd*' needs a rank <= min(n_samples, n_features) = "
            f"{min(n_samples, n_features)}, got {rank}. Use init='random' or "
            "a smaller rank."
        )
    U, S, V = randomized_svd(X, rank, random_state=rng)
    W = np.zeros((n_samples, rank))
    H = np.zeros((rank, n_features))
    # The leading singular vectors of a non-negative matrix can be chosen
    # non-negative (Perron-Frobenius).
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0, :] = np.sqrt(S[0]) * np.abs(V[0, :])
    for j in range(1, rank):
        x, y = U[:, j], V[j, :]
        x_p, y_p = np.maximum(x, 0), np.maximum(y, 0)
        x_n, y_n = np.abs(np.minimum(x, 0)), np.abs(np.minimum(y, 0))
        x_p_nrm, y_p_nrm = np.sqrt(squared_norm(x_p)), np.sqrt(squared_norm(y_p))
        x_n_nrm, y_n_nrm = np.sqrt(squared_norm(x_n)), np.sqrt(squared_norm(y_n))
        m_p, m_n = x_p_nrm * y_p_nrm, x_n_nrm * y_n_nrm
        # keep the dominant sign pattern of the pair
        if m_p > m_n:
            u, v, sigma = x_p / max(x_p_nrm, 1e-300), y_p / max(y_p_nrm, 1e-300), m_p
        else:
            u, v, sigma = x_n / max(x_n_nrm, 1e-300), y_n / max(y_n_nrm, 1e-300), m_n
        lbd = np.sqrt(S[j] * sigma)
        W[:, j] = lbd * u
        H[j, :] = lbd * v
    avg = _mean(X)
    if fill == "mean":
        W[W == 0] = avg
        H[H == 0] = avg
    elif fill == "random":
        W[W == 0] = abs(avg * rng.standard_normal(np.count_nonzero(W == 0)) / 100)
        H[H == 0] = abs(avg * rng.standard_normal(np.count_nonzero(H == 0)) / 100)
    return W, H


def _check_local(X, init):
    """The SVD inits read all of X: refuse them for data not in memory."""
    if not hasattr(X, "ndim") and not sp.issparse(X):
        raise ValueError(
            f"init={init!r} needs an SVD of all of X, which a Dask array is "
            "not gathered for: use init='random' or init='custom'.")


def _custom(X, rank, W, H):
    if W is None or H is None:
        raise ValueError("init='custom' needs both W and H passed to fit.")
    W = check_array(W, dtype=np.float64, ensure_non_negative=True,
                    input_name="W")
    H = check_array(H, dtype=np.float64, ensure_non_negative=True,
                    input_name="H")
    for name, F, shape in (("W", W, (X.shape[0], rank)),
                           ("H", H, (rank, X.shape[1]))):
        if F.shape != shape:
            raise ValueError(
                f"Array passed to init='custom' for {name} has shape "
                f"{F.shape}, expected {shape}."
            )
    return W.copy(), H.copy()


def check_custom_factors(X, W, H, init):
    """What scikit-learn's NMF says of user-given factors, said the same way.

    W or H given without ``init="custom"`` are ignored, with a warning;
    with it, a float factor of another dtype than X is a TypeError rather
    than a silent cast.
    """
    if init != "custom":
        if W is not None or H is not None:
            warnings.warn(
                "When init!='custom', provided W or H are ignored. Set "
                "init='custom' to use them as initialization.",
                RuntimeWarning, stacklevel=3)
        return
    for name, F in (("W", W), ("H", H)):
        dtype = getattr(F, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype != X.dtype:
            raise TypeError(
                f"{name} should have the same dtype as X: got {name}.dtype = "
                f"{dtype} and X.dtype = {X.dtype}. Cast it with "
                f"{name}.astype(X.dtype).")


def initialize(X, rank, init, rng, W=None, H=None):
    """Return non-negative ``(W, H)`` in ``X``'s dtype, C-contiguous.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated non-negative input.
    rank : int
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"}
    rng : numpy.random.RandomState
    W, H : ndarray, optional
        Starting factors for ``init="custom"``; never modified.
    """
    if init == "random":
        W0, H0 = _random(X, rank, rng)
    elif init == "custom":
        W0, H0 = _custom(X, rank, W, H)
    else:
        _check_local(X, init)
        fill = {"nndsvd": None, "nndsvda": "mean", "nndsvdar": "random"}[init]
        W0, H0 = _nndsvd(X, rank, rng, fill)
    scale = typical_scale(X, rank)
    lift = ZERO_LIFT * (scale if scale > 0 else 1.0)
    for F in (W0, H0):
        F[F <= 0] = lift
    dtype = X.dtype
    return (np.ascontiguousarray(W0, dtype=dtype),
            np.ascontiguousarray(H0, dtype=dtype))
