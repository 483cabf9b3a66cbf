"""Dask arrays as a storage: the row-block step mapped over the chunks.

:class:`DaskStorage` answers the storage questions of :mod:`._storage` for a
``dask.array`` X chunked along its rows: every pass sends each chunk's rows
of ``W`` (and the small ``H``) to a task that prepares the chunk as a local
storage and runs the kernels on it, and the chunks' statistics come back to
be summed in chunk order (so the result does not depend on where or in which
order the tasks ran). ``X`` itself is never gathered into one process: only
``W`` (n x k) and the k x m statistics travel. Whatever scheduler is active
runs the tasks: a ``dask.distributed`` client when one is connected, the
threaded scheduler otherwise.

Dask is an optional dependency (``pip install sknmfcluster[dask]``): this
module is imported only when a Dask array is passed.
"""

import numpy as np

from . import _engine
from ._storage import Factors, Stats, prepare, range_scale


def is_dask_array(X):
    """Whether ``X`` is a ``dask.array.Array`` (without importing dask)."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "chunks")


def _dask():
    import dask  # noqa: PLC0415 (optional dependency)
    import dask.array as da  # noqa: PLC0415
    return dask, da


def validate(X, *, n_features=None):
    """A Dask X as float32/float64, chunked by rows, checked in one read.

    Raises the errors ``validate_data`` would: not 2-D, negative or infinite
    values, or another number of features than the fit's.
    """
    dask, da = _dask()
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D Dask array, got {X.ndim} dimensions.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, but the model is "
                         f"expecting {n_features} features as input.")
    if X.shape[0] < 1:
        raise ValueError("Found a Dask array with 0 samples; NMF needs at "
                         "least 1.")
    X = X.rechunk({1: -1})  # whole rows in every chunk
    negative, infinite = dask.compute((X < 0).any(), da.isinf(X).any())
    if negative:
        raise ValueError("Negative values in data passed to NMF. NMF "
                         "factorises non-negative data only: shift or "
                         "rescale it first.")
    if infinite:
        raise ValueError("Input X contains infinity; NaN (a missing value) "
                         "is allowed, infinity is not.")
    return X


def map_blocks(method, X):
    """``method(block)`` for every chunk of X, on the workers, in order.

    ``method`` is a bound method of a fitted estimator, sent to the
    scheduler once and shared by the tasks.
    """
    dask, _ = _dask()
    shared = dask.delayed(method, pure=True)
    return dask.compute(*(shared(block) for block in
                          X.rechunk({1: -1}).to_delayed().ravel()))


def _remote_pass(block, W, H, rule, mode, n_steps, settings, scale):
    """One chunk's pass: its new rows of ``W`` and its statistics."""
    storage = prepare(np.asarray(block), scale=scale)
    W = np.array(W)
    stats = storage.run_pass(W, Factors(H), rule, mode, n_steps, settings)
    return W, stats


def _remote_rows(block, W, H, rule, config, max_iter, scale):
    """One chunk's code solve with ``H`` fixed."""
    storage = prepare(np.asarray(block), scale=scale)
    W = np.array(W)
    _engine.solve_rows(storage, W, Factors(H), rule, config,
                       max_iter=max_iter)
    return W


def _remote_facts(block, scale):
    """What the client needs to know of a chunk, in one read of it."""
    storage = prepare(np.asarray(block), scale=scale)
    total = float(np.asarray(storage.to_scipy().sum(dtype=np.float64)))
    return (storage.sq_norm, total, storage.has_zeros(), storage.masked,
            storage.zero_rows(), storage.unobserved_rows())


def _remote_divergence(block, W, H, beta, scale):
    return prepare(np.asarray(block), scale=scale).divergence(W, H, beta)


def _largest(block):
    return float(np.fmax.reduce(np.asarray(block), axis=None, initial=0.0))


def _sum_stats(parts):
    """The statistics of the chunks, summed in chunk order."""
    first = parts[0]
    return Stats(*(sum((getattr(p, name) for p in parts[1:]),
                       getattr(first, name).copy())
                   for name in ("A", "B", "N", "D", "v", "C")),
                 sum(p.objective for p in parts))


class DaskStorage:
    """A Dask array X (n, m), chunked by rows, divided by ``scale``.

    ``scale`` is chosen from the largest entry unless given (see
    ``_storage.range_scale``). The chunk-wise facts (norm, zeros, missing
    entries) are gathered in one read of X when the storage is made.
    """

    #: Not in local memory: the inits that need all of X are not available.
    local = False

    def __init__(self, X, scale=None):
        dask, _ = _dask()
        self.X = X
        self.blocks = list(X.to_delayed().ravel())
        self.bounds = np.concatenate([[0], np.cumsum(X.chunks[0])])
        if scale is None:
            largest = max(dask.compute(*(dask.delayed(_largest)(b)
                                         for b in self.blocks)), default=0.0)
            scale = range_scale(largest, X.dtype)
        self.scale = scale
        facts = dask.compute(*(dask.delayed(_remote_facts)(b, scale)
                               for b in self.blocks))
        self.sq_norm = float(sum(f[0] for f in facts))
        self.total = float(sum(f[1] for f in facts))
        self._has_zeros = any(f[2] for f in facts)
        self.masked = any(f[3] for f in facts)
        self._zero_rows = np.concatenate([f[4] for f in facts])
        self._unobserved = np.concatenate([f[5] for f in facts])

    shape = property(lambda self: self.X.shape)
    dtype = property(lambda self: self.X.dtype)
    n_entries = property(lambda self: self.X.shape[0] * self.X.shape[1])

    def _slices(self):
        return [slice(a, b) for a, b in zip(self.bounds[:-1], self.bounds[1:])]

    def run_pass(self, W, factors, rule, mode, n_steps, settings, *,
                 aux=None, aux_l2=None, done=None):
        """A pass over every chunk; ``W`` (on the client) updated in place."""
        if aux is not None or aux_l2 is not None or done is not None:
            raise ValueError("the graph rows and the row-by-row solve of a "
                             "pass are not available on Dask arrays")
        dask, _ = _dask()
        results = dask.compute(*(
            dask.delayed(_remote_pass)(block, W[rows], factors.H, rule, mode,
                                       n_steps, settings, self.scale)
            for block, rows in zip(self.blocks, self._slices())))
        for (W_part, _), rows in zip(results, self._slices()):
            W[rows] = W_part
        return _sum_stats([stats for _, stats in results])

    def solve_rows(self, W, factors, rule, config, *, max_iter, aux=None,
                   aux_l2=None):
        """:func:`._engine.solve_rows` chunk by chunk, on the workers."""
        if aux is not None or aux_l2 is not None:
            raise ValueError("the graph rows are not available on Dask arrays")
        dask, _ = _dask()
        results = dask.compute(*(
            dask.delayed(_remote_rows)(block, W[rows], factors.H, rule, config,
                                       max_iter, self.scale)
            for block, rows in zip(self.blocks, self._slices())))
        for W_part, rows in zip(results, self._slices()):
            W[rows] = W_part
        return W

    def divergence(self, W, H, beta):
        dask, _ = _dask()
        return float(sum(dask.compute(*(
            dask.delayed(_remote_divergence)(block, W[rows], H, beta,
                                             self.scale)
            for block, rows in zip(self.blocks, self._slices())))))

    def has_zeros(self):
        return self._has_zeros

    def zero_rows(self):
        return self._zero_rows

    def unobserved_rows(self):
        return self._unobserved

    def to_scipy(self):
        """What a random init needs of X: its shape, dtype and sum."""
        return _Summary(self.shape, self.dtype, self.total)

    def rows(self, start, stop):
        return DaskStorage(self.X[start:stop], self.scale)


class _Summary:
    """Shape, dtype and sum of a Dask X: all that ``init="random"`` reads."""

    def __init__(self, shape, dtype, total):
        self.shape, self.dtype, self.total = shape, dtype, total

    def sum(self, dtype=None):
        return self.total
