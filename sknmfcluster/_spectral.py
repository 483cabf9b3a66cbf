"""The spectral start of symmetric NMF.

:func:`init_symnmf` gives the initial factor ``W`` of ``A ~ W W.T`` for the
normalised affinity ``A`` of the neighbour graph: the clusters of spectral
clustering, NNDSVD of the leading eigenvectors, random, or user-given.
"""

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import (ArpackError, ArpackNoConvergence,
                                 LinearOperator, eigsh)
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_array

from . import _progress
from ._init import ZERO_LIFT

#: In the ``"spectral"`` SymNMF init, a sample's entries for the clusters it
#: is not in start at this fraction of its own cluster's entry: not zero,
#: since a multiplicative update cannot move an entry away from zero.
SPECTRAL_FILL = 0.2
#: KMeans restarts of the ``"spectral"`` init.
SPECTRAL_KMEANS_N_INIT = 10
#: Relative accuracy asked of ARPACK for the leading eigenvectors of graphs
#: of ``EIGEN_TOL_FROM`` samples or more; smaller graphs get ARPACK's
#: default, machine precision, which is cheap there. On a 70,000-sample
#: image graph, whose ten leading eigenvalues all lie within 0.01 of 1,
#: machine precision took about four times as long and changed no spectral
#: label (see the scaling page of the user guide): the clusters need the
#: subspace, not its last digits.
EIGEN_TOL = 1e-5
EIGEN_TOL_FROM = 20_000
#: The same graphs are first solved by ARPACK in single precision: each
#: product with the graph reads half the bytes, and a Lanczos step is little
#: more than that product (on the 70,000-sample image graph 1.1 s against
#: 3.7 s, the same spectral labels; see the scaling page). The vectors found
#: are refined in double precision (a Rayleigh-Ritz step in their span) and
#: kept only if every residual ``||A u - lambda u||`` meets ``EIGEN_TOL``
#: (relative to the largest eigenvalue, 1), the accuracy the double-precision
#: solve is asked for; otherwise (or when ARPACK fails in single precision)
#: that solve runs. A residual bounds the error of the subspace the clusters
#: use only together with the gap to the next eigenvalue (Davis-Kahan), in
#: either precision alike.
EIGEN_SINGLE_FROM = EIGEN_TOL_FROM


def init_symnmf(A, S, rank, init, rng, W=None, *, verbose=0):
    """Initial ``W`` (n, rank) for ``A ~ W W.T``, float64, C-contiguous.

    ``A = D^-1/2 S D^-1/2`` is the normalised affinity of the graph ``S``.

    - ``"spectral"``: the clusters of Ng, Jordan & Weiss's spectral
      clustering (KMeans on the unit-normalised rows of the leading
      eigenvectors), as an indicator matrix whose other entries are
      ``SPECTRAL_FILL`` times a sample's own entry, scaled to fit ``A`` best.
    - ``"nndsvd*"``: Boutsidis & Gallopoulos' NNDSVD applied to the leading
      eigenpairs of the symmetric ``A`` (its SVD), zeros filled as for NMF:
      lifted to a tiny value, set to the typical entry size, or to a small
      random value.
    - ``"random"``: uniform in ``[0, 2 sqrt(mean(A) / rank)]`` (Kuang et al.
      2012).

    The eigenvectors come from ARPACK on the sparse ``A``, with the repeated
    eigenvalue 1 of a graph with several connected components handled
    exactly (:func:`_leading_eigenvectors`): from eigenvectors that mix
    components, the multiplicative updates keep columns that span two
    components and cannot separate them. The spectral inits need ``rank <
    n_samples`` and fall back to ``"random"`` otherwise.
    """
    n = A.shape[0]
    scale = float(np.sqrt(A.sum(dtype=np.float64) / (n * n) / rank))
    start = None
    if init == "custom":
        start = _custom_symmetric(W, n, rank)
    elif init != "random" and rank < n:
        with _progress.phase(f"{rank} leading eigenvectors of the graph",
                             verbose=verbose):
            U = _leading_eigenvectors(A, S, rank, rng)
        if U is not None and init == "spectral":
            with _progress.phase("KMeans on the spectral embedding",
                                 verbose=verbose):
                start = _spectral_indicator(A, U, rank, rng)
        elif U is not None:
            start = _nndsvd_symmetric(A, U, rng, init, scale)
    if start is None:
        start = rng.uniform(0.0, 2.0 * scale, size=(n, rank))
    start[start <= 0] = ZERO_LIFT * scale
    return np.ascontiguousarray(start, dtype=np.float64)


def _custom_symmetric(W, n, rank):
    if W is None:
        raise ValueError(
            "init='custom' needs W passed to fit: method='symmetric' starts "
            "from W alone (the other methods need both W and H).")
    W = check_array(W, dtype=np.float64, ensure_non_negative=True,
                    input_name="W")
    if W.shape != (n, rank):
        raise ValueError(f"Array passed to init='custom' for W has shape "
                         f"{W.shape}, expected {(n, rank)}.")
    return W.copy()


def _leading_eigenvectors(A, S, rank, rng):
    """Unit eigenvectors (n, rank) of ``A = D^-1/2 S D^-1/2``, largest eigenvalues.

    A graph with ``c`` connected components has the eigenvalue 1 ``c``
    times, with eigenvectors ``D^1/2`` times each component's indicator.
    Lanczos (ARPACK) finds one vector of a repeated eigenvalue at best, so
    these are written down exactly and ARPACK runs on ``A`` with them
    deflated, for the remaining ``rank - c`` vectors (a sparse product per
    step, no factorisation). With ``c >= rank`` components, the vectors are
    those of the ``rank - 1`` largest components and one for all the others
    together. From ``EIGEN_SINGLE_FROM`` samples on, ARPACK runs in single
    precision first (see there). None when ARPACK fails.
    """
    n = A.shape[0]
    n_comp, comp = connected_components(S, directed=False)
    sqrt_d = np.sqrt(np.asarray(S.sum(axis=1), dtype=np.float64).ravel())
    sizes = np.bincount(comp)
    if n_comp >= rank:
        order = np.argsort(-sizes, kind="stable")
        group = np.full(n_comp, rank - 1)
        group[order[:rank - 1]] = np.arange(rank - 1)
        comp, n_comp = group[comp], rank
    V = np.zeros((n, n_comp))
    V[np.arange(n), comp] = sqrt_d
    V /= np.linalg.norm(V, axis=0)
    if n_comp == rank:
        return V
    v0 = rng.uniform(-1.0, 1.0, n)
    count = rank - n_comp
    U = None
    if n >= EIGEN_SINGLE_FROM:
        try:
            U = _refined(A, V, _arpack(A, V, count, v0, np.float32,
                                       EIGEN_TOL))
        except (ArpackError, ArpackNoConvergence, ValueError):
            U = None
    if U is None:
        try:
            U = _arpack(A, V, count, v0, np.float64,
                        EIGEN_TOL if n >= EIGEN_TOL_FROM else 0.0)
        except (ArpackError, ArpackNoConvergence, ValueError):
            return None
    return np.hstack([V, U])


def _arpack(A, V, count, v0, dtype, tol):
    """The ``count`` leading eigenvectors of ``A`` with the columns of ``V``
    deflated, by ARPACK in ``dtype`` (float64 out)."""
    A, V = A.astype(dtype, copy=False), V.astype(dtype, copy=False)
    deflated = LinearOperator(
        A.shape, matvec=lambda x: A @ x - V @ (V.T @ x), dtype=dtype)
    _, U = eigsh(deflated, count, which="LA", v0=v0.astype(dtype), tol=tol)
    return U.astype(np.float64)


def _refined(A, V, U):
    """Double-precision eigenvectors in the span of ``U`` (n, c), or None.

    ``U`` is made orthonormal and orthogonal to ``V`` in float64, then
    rotated to the eigenvectors of ``U.T A U`` (Rayleigh-Ritz, in the order
    ARPACK gives: ascending eigenvalues). None unless each residual
    ``||A u - lambda u||`` is at most ``EIGEN_TOL`` (relative to the
    largest eigenvalue of a normalised affinity, 1).
    """
    U = U - V @ (V.T @ U)
    U, _ = np.linalg.qr(U)
    AU = A @ U
    values, R = np.linalg.eigh(U.T @ AU)
    U, AU = U @ R, AU @ R
    residual = np.linalg.norm(AU - U * values, axis=0).max()
    if not residual <= EIGEN_TOL:
        return None
    return np.ascontiguousarray(U)


def _spectral_indicator(A, U, rank, rng):
    """Indicator of the spectral clusters, scaled to minimise ``||A - c W W.T||``."""
    labels = KMeans(rank, n_init=SPECTRAL_KMEANS_N_INIT,
                    random_state=rng.randint(2**31 - 1)).fit_predict(
        normalize(U))
    W = np.full((A.shape[0], rank), SPECTRAL_FILL)
    W[np.arange(A.shape[0]), labels] = 1.0
    G = W.T @ W
    return W * np.sqrt(max(np.vdot(W, A @ W), 0.0) / np.vdot(G, G))


def _nndsvd_symmetric(A, U, rng, init, scale):
    """NNDSVD from the leading eigenvectors ``U`` of ``A``."""
    W = np.zeros(U.shape)
    for col in range(U.shape[1]):
        u = U[:, col]
        value = float(u @ (A @ u))  # the eigenvalue, as a Rayleigh quotient
        pos, neg = np.maximum(u, 0.0), np.maximum(-u, 0.0)
        # keep the dominant sign pattern; for u = v the NNDSVD weight of the
        # pair is the squared norm of that part
        part = pos if pos @ pos >= neg @ neg else neg
        norm_sq = part @ part
        if norm_sq > 0 and value > 0:
            W[:, col] = np.sqrt(value * norm_sq) * part / np.sqrt(norm_sq)
    zeros = W == 0
    if init == "nndsvda":
        W[zeros] = scale
    elif init == "nndsvdar":
        W[zeros] = scale * np.abs(rng.standard_normal(zeros.sum())) / 100
    return W


