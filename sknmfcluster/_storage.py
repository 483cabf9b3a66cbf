"""Storage of the data as the kernels see it: the only module that asks what it has.

:func:`prepare` turns a validated input into :class:`Dense` (a C-contiguous
ndarray) or :class:`Csr` (sorted indices, duplicates summed, no stored
zeros). Both answer the same questions (shape, norm, zero rows, the pass of
a row rule, the divergence) so that no other module needs to know which
storage it has; a new storage (a Dask chunk, say) is one more class here.

**Safe range.** NMF is scale-equivariant: for ``c > 0`` the factors of
``c X`` are ``sqrt(c)`` times those of ``X``. Data whose largest entry lies
outside :data:`SAFE_RANGE` (entries near the float maximum, where ``||X||^2``
and ``W H H^T`` overflow, or entries so small that the factors underflow or
the denominators meet the EPSILON floor) is divided by a power of four,
``scale``, chosen to bring the largest entry near 1. Dividing by a power of
two is exact, and so are the scaled updates, so a fit in the scaled space
gives the factors of the original data exactly (up to the guards); the
solvers undo the scale on their results. Data inside the range is used as
it is, without a copy.
"""

import numpy as np
import scipy.sparse as sp

from . import _kernels as K

#: Largest entry of X, by dtype, within which the kernels need no scaling:
#: ``(smallest, largest)``. Above the upper bound ``||X||^2``, ``W H H^T``
#: or a beta-divergence's powers may overflow; below the lower one the
#: factors (about ``sqrt(x)``) make the denominators of the updates meet
#: the EPSILON floor of the kernels.
SAFE_RANGE = {
    np.dtype(np.float64): (2.0 ** -40, 2.0 ** 60),
    np.dtype(np.float32): (2.0 ** -30, 2.0 ** 40),
}


def range_scale(largest, dtype):
    """Power of four by which to divide data of that largest entry (1 if safe)."""
    low, high = SAFE_RANGE[np.dtype(dtype)]
    if largest <= 0 or low <= largest <= high:
        return 1.0
    # 4^p <= largest < 4^(p+1): the scaled largest entry lies in [1, 4); the
    # exponent stays representable even for the largest finite float.
    return float(np.ldexp(1.0, 2 * int(np.floor(np.log2(largest) / 2))))


class Factors:
    """What the kernels need of ``H`` (k, m) for a pass, computed once.

    ``Ht`` is ``H.T`` C-contiguous (the CSR kernels read a column of ``H``
    per non-zero), ``HHt = H @ H.T`` and ``Hsum = H.sum(axis=1)`` are in
    float64.
    """

    def __init__(self, H):
        # aligned: a model unpickled from out-of-band buffers (a Dask task)
        # can hold an unaligned ``components_``, for which Numba compiles
        # another specialisation that rounds differently (AVX-512)
        self.H = _native(H)
        self.Ht = np.ascontiguousarray(self.H.T)
        H64 = self.H.astype(np.float64, copy=False)
        self.HHt = H64 @ H64.T
        self.Hsum = H64.sum(axis=1)


class Stats:
    """Statistics a fit pass returns for the ``H`` update, in (k, m) layout.

    Frobenius rules: ``A = W.T X``, ``B = W.T W``. KL and beta rules: the
    numerator ``N`` of the multiplicative H update, its denominator ``D``
    (beta only; for KL it is ``v[:, None]``) and ``v = W.sum(axis=0)``.
    With missing entries, ``C``: their share of the denominator, to be
    subtracted (Frobenius: from ``B H``, KL: from ``v``). ``objective``: the
    divergence terms the pass summed (KL: over the non-zeros, without the
    ``sum(W H)`` term; beta: over every observed entry; with missing
    entries, the corrections for them). Unused fields are empty arrays.
    """

    def __init__(self, A, B, N, D, v, C, objective):
        self.A, self.B, self.N, self.D, self.v = A, B, N, D, v
        self.C, self.objective = C, objective

    @property
    def masked(self):
        """Whether the statistics leave out missing entries."""
        return self.C.size > 0


def aligned_state(self, state):
    """``__setstate__`` that makes every array of the state aligned.

    A model unpickled from out-of-band buffers (as a Dask worker receives
    it) can hold arrays at odd addresses: scikit-learn 1.6.0's nearest
    neighbours crash on the stored training data then, and Numba runs
    another specialisation on them (see :func:`_native`).
    """
    self.__dict__.update({
        key: _native(value) if isinstance(value, np.ndarray) else value
        for key, value in state.items()})


class Missing:
    """The missing entries of X, as the sorted columns of each row in CSR form.

    ``ptr`` (n + 1,) and ``idx`` index arrays, int64; the data keeps a zero
    at each missing entry, so that products with it need no change. Empty
    arrays stand for "nothing missing".
    """

    def __init__(self, ptr, idx):
        self.ptr, self.idx = ptr, idx
        self.count = int(idx.size)

    __setstate__ = aligned_state

    @classmethod
    def from_rows_cols(cls, n, rows, cols):
        """From the (row-major sorted) coordinates of the missing entries."""
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=ptr[1:])
        return cls(ptr, np.ascontiguousarray(cols, dtype=np.int64))

    def rows(self, start, stop):
        """The missing entries of rows ``start .. stop``."""
        if not self.count:
            return self
        a, b = self.ptr[start], self.ptr[stop]
        return Missing(self.ptr[start:stop + 1] - a, self.idx[a:b])

    def unobserved_rows(self, shape):
        """Boolean mask of the rows of an X of that shape with no observed entry."""
        if not self.count:
            return np.zeros(shape[0], dtype=bool)
        return np.diff(self.ptr) == shape[1]

    def transpose(self, shape):
        """The missing entries of ``X.T`` for ``X`` of that shape."""
        if not self.count:
            return self
        rows = np.repeat(np.arange(shape[0]), np.diff(self.ptr))
        order = np.lexsort((rows, self.idx))
        return Missing.from_rows_cols(shape[1], self.idx[order], rows[order])


NOTHING_MISSING = Missing(np.zeros(0, dtype=np.int64),
                          np.zeros(0, dtype=np.int64))

_NO_L2 = np.zeros(0)
_NO_DONE = np.zeros(0, dtype=np.bool_)


def _pass_arguments(W, factors, aux, aux_l2, done, missing):
    """The optional arrays of a pass, as empty arrays of the right shape."""
    k = W.shape[1]
    aux = np.zeros((0, k)) if aux is None else aux
    return (factors.H, factors.Ht, factors.HHt, factors.Hsum, aux,
            _NO_L2 if aux_l2 is None else aux_l2,
            _NO_DONE if done is None else done, missing.ptr, missing.idx)


class _Local:
    """What the storages in local memory share."""

    #: All of X is in memory: every init can read it.
    local = True

    __setstate__ = aligned_state

    def solve_rows(self, W, factors, rule, config, *, max_iter, aux=None,
                   aux_l2=None):
        """:func:`._engine.solve_rows` on this storage."""
        from ._engine import solve_rows  # noqa: PLC0415 (no import cycle)
        return solve_rows(self, W, factors, rule, config, max_iter=max_iter,
                          aux=aux, aux_l2=aux_l2)


class Dense(_Local):
    """Dense ``X`` (n, m), C-contiguous float32 or float64, divided by ``scale``.

    ``missing`` lists the entries that were NaN; ``X`` holds zeros there.
    """

    def __init__(self, X, scale=1.0, missing=NOTHING_MISSING):
        self.X = X
        self.scale = scale
        self.missing = missing
        self._sq_norm = None

    shape = property(lambda self: self.X.shape)
    dtype = property(lambda self: self.X.dtype)
    #: Stored entries: the work of a pass per component.
    n_entries = property(lambda self: self.X.size)

    masked = property(lambda self: self.missing.count > 0)

    @property
    def sq_norm(self):
        """``||X||_F^2`` (of the scaled, observed data) in float64."""
        if self._sq_norm is None:
            self._sq_norm = float(K.sq_norm_dense(self.X))
        return self._sq_norm

    def run_pass(self, W, factors, rule, mode, n_steps, settings, *,
                 aux=None, aux_l2=None, done=None):
        """One pass of ``rule`` over the rows (see ``_kernels.pass_dense``)."""
        A, B, Nt, Dt, v, Ct, obj = K.pass_dense(
            self.X, W,
            *_pass_arguments(W, factors, aux, aux_l2, done, self.missing),
            rule, mode, n_steps, settings)
        return Stats(A, B, Nt.T, Dt.T, v.ravel(), Ct.T, obj)

    def xh(self, factors):
        """``X @ H.T`` (n, k) in float64, a row at a time (``_kernels.xh_dense``)."""
        out = np.empty((self.shape[0], factors.H.shape[0]))
        K.xh_dense(self.X, factors.H, out)
        return out

    def pass_has_run(self, W, factors, rule):
        """Whether this process has run the pass of ``rule`` on such arrays."""
        return K.pass_dense_has_run(self.X, W, factors.H, rule,
                                    self.missing.ptr)

    def divergence(self, W, H, beta):
        """Beta-divergence between X and ``W @ H`` over the observed entries.

        One row of ``W @ H`` at a time; the Frobenius loss without missing
        entries by blocks of rows in NumPy (:func:`_frobenius_dense`).
        """
        if beta == 2.0 and not self.masked:
            return _frobenius_dense(self.X, W, H)
        return float(K.divergence_dense(self.X, W, H, beta, self.missing.ptr,
                                        self.missing.idx))

    def zero_rows(self):
        """Boolean mask of the rows with no observed non-zero entry."""
        return ~self.X.any(axis=1)

    def unobserved_rows(self):
        """Boolean mask of the rows whose every entry is missing."""
        return self.missing.unobserved_rows(self.shape)

    def has_zeros(self):
        """Whether X has an observed zero entry (beta <= 0 cannot fit one)."""
        return self.X.size - np.count_nonzero(self.X) > self.missing.count

    def to_scipy(self):
        """The (scaled) data as an ndarray."""
        return self.X

    def rows(self, start, stop):
        """Rows ``start .. stop`` as storage of the same scale (a view)."""
        return Dense(self.X[start:stop], self.scale,
                     self.missing.rows(start, stop))

    def transpose(self):
        """``X.T`` as storage (a C-contiguous copy), same scale."""
        return Dense(np.ascontiguousarray(self.X.T), self.scale,
                     self.missing.transpose(self.X.shape))


#: :func:`_frobenius_dense` forms ``W @ H`` this many bytes (float64) at a
#: time.
FROBENIUS_BLOCK_BYTES = 8 * 2**20


def _frobenius_dense(X, W, H):
    """``0.5 * ||X - W @ H||^2`` in float64, ``X`` dense (n, m).

    BLAS forms ``W @ H`` a block of rows at a time
    (:data:`FROBENIUS_BLOCK_BYTES`). It costs no kernel to compile: the
    default method's first fit needs the divergence only for
    ``reconstruction_err_``, and the Numba kernel took about 2 s of that
    fit's compiling (issue 14).
    """
    n, m = X.shape
    if W.shape[0] != n or H.shape[1] != m or H.shape[0] != W.shape[1]:
        raise ValueError("divergence: W, H do not fit X")
    H64 = H.astype(np.float64, copy=False)
    rows = max(1, FROBENIUS_BLOCK_BYTES // (8 * max(m, 1)))
    total = 0.0
    for i0 in range(0, n, rows):
        R = W[i0:i0 + rows].astype(np.float64, copy=False) @ H64
        np.subtract(X[i0:i0 + rows], R, out=R)
        total += float(np.vdot(R, R))
    return 0.5 * total


class Csr(_Local):
    """CSR ``X`` (n, m) as ``(data, indices, indptr)``, divided by ``scale``.

    The column copy that the fit passes gather their statistics from is
    made on first use and kept for the life of the object (one fit and its
    restarts).
    """

    def __init__(self, data, indices, indptr, shape, scale=1.0,
                 missing=NOTHING_MISSING):
        self.data, self.indices, self.indptr = data, indices, indptr
        self.shape = shape
        self.scale = scale
        self.missing = missing
        self.sq_norm = float(np.dot(data.astype(np.float64), data))
        self._columns = None

    dtype = property(lambda self: self.data.dtype)
    n_entries = property(lambda self: self.data.size)
    masked = property(lambda self: self.missing.count > 0)

    def __getstate__(self):
        # a pickled model (its neighbour index) keeps X once: not the copy
        state = dict(self.__dict__)
        state["_columns"] = None
        return state

    def columns(self):
        """``X.T`` as the kernels' CSR arrays (X in CSC form), made once.

        Gathering the H-statistics from the columns costs a second read of
        the non-zeros, a small fraction of the data, and is about half as
        costly as scattering them into per-chunk accumulators at random
        columns (measured on 50,000 x 20,000 Zipf counts at rank 10: 15.8
        against 27 ms for KL), at the price of a copy of the non-zeros.
        """
        if self._columns is None:
            Xc = self.to_scipy().tocsc()
            Xc.sort_indices()
            self._columns = (Xc.data, Xc.indices, Xc.indptr)
        return self._columns

    def run_pass(self, W, factors, rule, mode, n_steps, settings, *,
                 aux=None, aux_l2=None, done=None):
        """One pass of ``rule`` over the rows (see ``_kernels.pass_csr``).

        A fit pass gathers the Frobenius and KL statistics from the columns
        afterwards; the beta rule's, which need every entry, are scattered
        during the pass.
        """
        gather = mode & K.ACCUMULATE and rule != K.MU_BETA
        if gather:
            mode = mode | K.GATHERED
        At, B, Nt, Dt, v, Ct, obj = K.pass_csr(
            self.data, self.indices, self.indptr, W,
            *_pass_arguments(W, factors, aux, aux_l2, done, self.missing),
            rule, mode, n_steps, settings)
        if gather and rule in (K.MU_FRO, K.CD_FRO, K.PG_FRO):
            At, B = K.gather_gram_csr(*self.columns(), W)
        elif gather:
            Nt, v, part = K.gather_kl_csr(*self.columns(), W, factors.Ht,
                                          bool(mode & K.OBJECTIVE))
            obj += part  # the row pass summed the missing entries' share
        return Stats(At.T, B, Nt.T, Dt.T, v.ravel(), Ct.T, obj)

    def xh(self, factors):
        """``X @ H.T`` (n, k) in float64, a row at a time (``csr_times_dense``)."""
        out = np.empty((self.shape[0], factors.H.shape[0]))
        K.csr_times_dense(self.data, self.indices, self.indptr, factors.Ht, out)
        return out

    def pass_has_run(self, W, factors, rule):
        """Whether this process has run the pass of ``rule`` on such arrays."""
        return K.pass_csr_has_run(self.data, self.indices, self.indptr, W,
                                  factors.H, rule, self.missing.ptr)

    def divergence(self, W, H, beta):
        """Beta-divergence between X and ``W @ H``, never forming ``W @ H``.

        For the Frobenius and KL losses the zeros of X reduce to k x k terms,
        so ``W @ H`` is evaluated at the non-zeros only; other betas need
        every entry and form one row of ``W @ H`` at a time.
        """
        miss = self.missing
        if beta not in (1.0, 2.0):
            return float(K.divergence_csr(self.data, self.indices,
                                          self.indptr, W, H, beta, miss.ptr,
                                          miss.idx))
        Ht = np.ascontiguousarray(H.T)
        cross, kl = K.nonzero_terms_csr(self.data, self.indices, self.indptr,
                                        W, Ht)
        linear = square = 0.0
        if miss.count:  # computed as if observed: give their share back
            linear, square = K.missing_terms(miss.ptr, miss.idx, W, Ht)
        W64 = W.astype(np.float64, copy=False)
        H64 = H.astype(np.float64, copy=False)
        if beta == 2.0:
            value = (self.sq_norm - 2.0 * cross
                     + np.vdot(W64.T @ W64, H64 @ H64.T) - square)
            return 0.5 * max(value, 0.0)
        return float(kl + W64.sum(axis=0) @ H64.sum(axis=1) - linear)

    def zero_rows(self):
        """Boolean mask of the rows with no observed non-zero entry."""
        return np.diff(self.indptr) == 0

    def unobserved_rows(self):
        """Boolean mask of the rows whose every entry is missing."""
        return self.missing.unobserved_rows(self.shape)

    def has_zeros(self):
        """Whether X has an observed zero entry (an entry not stored)."""
        return (self.data.size + self.missing.count
                < self.shape[0] * self.shape[1])

    def to_scipy(self):
        """The (scaled) data as a ``scipy.sparse.csr_matrix``, sharing buffers."""
        return sp.csr_matrix((self.data, self.indices, self.indptr),
                             shape=self.shape)

    def rows(self, start, stop):
        """Rows ``start .. stop`` as storage of the same scale."""
        return _csr_storage(self.to_scipy()[start:stop], self.scale,
                            self.missing.rows(start, stop))

    def transpose(self):
        """``X.T`` as CSR storage, same scale."""
        return _csr_storage(self.to_scipy().T.tocsr(), self.scale,
                            self.missing.transpose(self.shape))


def _csr_storage(X, scale, missing=NOTHING_MISSING):
    """:class:`Csr` of a canonical CSR matrix (copies only what must change)."""
    indices, indptr = X.indices, X.indptr
    if indices.dtype not in (np.int32, np.int64):
        indices, indptr = indices.astype(np.int64), indptr.astype(np.int64)
    return Csr(_native(X.data), _native(indices), _native(indptr), X.shape,
               scale, missing)


def _native(a):
    """``a`` C-contiguous and aligned, copied only where it is not.

    A buffer at an odd address (a Dask chunk deserialised from a network
    frame, ``np.frombuffer`` at an offset) is not aligned: Numba compiles
    another specialisation for it, and scikit-learn 1.6.0's nearest
    neighbours crash on it (a segmentation fault).
    """
    return np.require(a, requirements=("C_CONTIGUOUS", "ALIGNED"))


def prepare(X, scale=None):
    """Return ``X`` as the kernels need it: :class:`Dense` or :class:`Csr`.

    ``X`` is a validated float32/float64 array or sparse matrix. The input is
    never modified: a copy is made whenever the storage has to change
    (another sparse format, unsorted indices, duplicate entries, stored
    zeros, missing entries, a non-contiguous or unaligned array, or data
    outside the safe range, divided by ``scale`` — chosen from the data
    unless given). NaN means missing: in dense input every NaN, in sparse
    input every stored NaN (the entries not stored are zeros). A Dask array
    becomes a :class:`._dask.DaskStorage`, whose chunks are prepared where
    they are.
    """
    if type(X).__module__.split(".")[0] == "dask":
        from ._dask import DaskStorage  # noqa: PLC0415 (optional dependency)
        return DaskStorage(X, scale)
    if sp.issparse(X):
        return _prepare_csr(sp.csr_matrix(X), scale)
    missing = NOTHING_MISSING
    nan = np.isnan(X)
    if nan.any():  # a copy with zeros where X is missing
        missing = Missing.from_rows_cols(X.shape[0], *np.nonzero(nan))
        X = np.where(nan, 0, X).astype(X.dtype, copy=False)
    del nan
    if scale is None:
        scale = range_scale(float(np.max(X, initial=0.0)), X.dtype)
    if scale != 1.0:
        X = np.ldexp(X, -_exponent(scale)).astype(X.dtype, copy=False)
    return Dense(_native(X), scale, missing)


def _prepare_csr(X, scale):
    """:func:`prepare` for a CSR matrix (which may share the caller's buffers)."""
    missing = NOTHING_MISSING
    nan = np.isnan(X.data)
    if not X.has_canonical_format or (X.data == 0).any() or nan.any():
        # scipy canonicalises in place, on buffers it may share with the
        # caller's matrix: work on a copy
        X = X.copy()
        X.sum_duplicates()
        X.sort_indices()
        nan = np.isnan(X.data)
        if nan.any():  # stored NaN are missing; unstored entries are zeros
            rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
            missing = Missing.from_rows_cols(X.shape[0], rows[nan],
                                             X.indices[nan])
            X.data[nan] = 0.0
        X.eliminate_zeros()
    if scale is None:
        scale = range_scale(float(X.data.max(initial=0.0)), X.dtype)
    if scale != 1.0:
        X = sp.csr_matrix((np.ldexp(X.data, -_exponent(scale)), X.indices,
                           X.indptr), shape=X.shape)
    return _csr_storage(X, scale, missing)


def _exponent(scale):
    """``log2(scale)`` for a power of two."""
    return int(np.frexp(scale)[1]) - 1


def to_scipy(storage):
    """The storage's (scaled) data as an ndarray or a scipy CSR matrix."""
    return storage.to_scipy()


def zero_rows(storage):
    """Boolean mask of the all-zero rows of a storage."""
    return storage.zero_rows()
