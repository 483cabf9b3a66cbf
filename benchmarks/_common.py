"""Shared pieces of the benchmarks: machine facts, data, floors, timing.

Nothing here imports the package under test at module level, so a worker
process can import this module without paying (or hiding) the package's own
import and compile time.
"""

import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: Environment variables that change which BLAS kernel runs (see the README).
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: Further environment variables that change threading, printed for the record.
THREAD_VARS = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
               "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "NUMBA_THREADING_LAYER", "NUMBA_CACHE_DIR")


# -- machine ------------------------------------------------------------------
def _lscpu():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    info = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def _git_commit():
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short",
                               "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain",
                                "--", "sknmfcluster"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" (package modified)" if dirty else "")


def _total_memory_gib():
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
        return round(kib / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def machine_info():
    """Machine, versions, BLAS and threading facts, as a flat-ish dict."""
    import numba
    import sklearn
    import threadpoolctl

    import sknmfcluster

    cpu = _lscpu()
    flags = cpu.get("Flags", "")
    pools = [{key: pool.get(key) for key in ("user_api", "internal_api",
                                              "version", "num_threads",
                                              "architecture", "threading_layer")}
             | {"library": os.path.basename(pool.get("filepath", ""))}
             for pool in threadpoolctl.threadpool_info()]
    return {
        "cpu_model": cpu.get("Model name", platform.processor()),
        "cpus": os.cpu_count(),
        "avx512": "avx512f" in flags.split(),
        "memory_gib": _total_memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "numba": numba.__version__,
        "sknmfcluster": sknmfcluster.__version__,
        "git_commit": _git_commit(),
        "numba_threads": numba.get_num_threads(),
        "env": {name: os.environ.get(name) for name in OPENBLAS_VARS + THREAD_VARS},
        "threadpools": pools,
        "load_average": list(os.getloadavg()),
    }


def numba_threading_layer():
    """Name of Numba's threading layer (only known after a parallel call)."""
    import numba

    try:
        return numba.threading_layer()
    except ValueError:
        return "not initialised"


# -- data ---------------------------------------------------------------------
def _stroke_atoms(n_atoms, side, rng):
    """Non-negative ``side x side`` images, each a few Gaussian strokes."""
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    atoms = np.zeros((n_atoms, side * side))
    for a in range(n_atoms):
        for _ in range(3):
            cy, cx = rng.uniform(0.25 * side, 0.75 * side, 2)
            sy, sx = rng.uniform(0.03 * side, 0.08 * side, 2)
            atoms[a] += np.exp(-((yy - cy) ** 2 / (2 * sy ** 2)
                                 + (xx - cx) ** 2 / (2 * sx ** 2))).ravel()
    return atoms / atoms.max(axis=1, keepdims=True)


def dense_images(n_samples, dtype, *, side=28, n_atoms=40, noise=0.08,
                 threshold=0.2, seed=0, block=10_000):
    """Synthetic MNIST-like images: non-negative low rank plus noise.

    Each row is a sparse non-negative combination of ``n_atoms`` stroke
    images plus Gaussian noise, shifted down by ``threshold`` and clipped to
    ``[0, 1]``, so that, as in MNIST, most pixels (about 83 %) are exactly
    zero. Built block by block directly in ``dtype``.
    """
    rng = np.random.default_rng(seed)
    atoms = _stroke_atoms(n_atoms, side, rng)
    X = np.empty((n_samples, side * side), dtype=dtype)
    for start in range(0, n_samples, block):
        stop = min(start + block, n_samples)
        active = rng.random((stop - start, n_atoms)) < 0.08
        codes = rng.gamma(2.0, 0.5, active.shape) * active
        rows = codes @ atoms
        rows += noise * rng.standard_normal(rows.shape)
        rows -= threshold
        np.clip(rows, 0.0, 1.0, out=rows)
        X[start:stop] = rows
    return X


class _ZipfTokens:
    """Token sampler behind :func:`zipf_counts`.

    Column ``c`` has global popularity rank ``rank[c]`` and probability
    proportional to ``1 / (rank + 1)**exponent``. The columns are split at
    random into ``n_topics`` topics. A row draws a share ``topical`` of its
    tokens from the Zipf law restricted to its topic's columns and the rest
    from the global law; since the split is random, the popularity summed
    over all rows stays Zipf, while rows of one topic share their columns
    (a low-rank structure for NMF to find).
    """

    def __init__(self, n_features, exponent, n_topics, topical, rng):
        self.p = np.arange(1, n_features + 1, dtype=np.float64) ** -exponent
        self.p /= self.p.sum()
        self.cdf = np.cumsum(self.p)
        self.column = rng.permutation(n_features)  # column of each rank
        member = rng.integers(0, n_topics, n_features)  # topic of each rank
        self.topic_ranks = [np.flatnonzero(member == t) for t in range(n_topics)]
        self.topic_cdf = [np.cumsum(self.p[r]) / self.p[r].sum()
                          for r in self.topic_ranks]
        self.n_topics, self.topical = n_topics, topical

    @staticmethod
    def _draw(cdf, u):
        return np.minimum(np.searchsorted(cdf, u * cdf[-1]), cdf.size - 1)

    def sample(self, n_samples, mean_length, rng):
        """Row and column index of every token (duplicates allowed)."""
        lengths = rng.poisson(mean_length, n_samples)
        rows = np.repeat(np.arange(n_samples, dtype=np.int64), lengths)
        ranks = self._draw(self.cdf, rng.random(rows.size))
        topic_of_row = rng.integers(0, self.n_topics, n_samples)
        topical = rng.random(rows.size) < self.topical
        topics = topic_of_row[rows]
        for t in range(self.n_topics):
            sel = np.flatnonzero(topical & (topics == t))
            picks = self._draw(self.topic_cdf[t], rng.random(sel.size))
            ranks[sel] = self.topic_ranks[t][picks]
        return rows, self.column[ranks]


def _distinct_per_row(rows, cols, n_samples, n_features):
    keys = np.unique(rows * n_features + cols)
    return keys.size / n_samples


def zipf_counts(n_samples, n_features, *, density=0.002, exponent=1.1,
                n_topics=20, topical=0.5, seed=0, dtype=np.float64):
    """Zipf-distributed sparse counts (a bag-of-words-like CSR matrix).

    Column popularity follows a Zipf law (probability proportional to
    ``1 / rank**exponent``); every row draws Poisson-many tokens, half of
    them from its topic (see :class:`_ZipfTokens`), and an entry is the
    number of times its column was drawn in its row. The mean row length is
    calibrated on a sample of rows so that about ``density`` of the entries
    are non-zero. Built from token lists; no dense matrix is ever formed.
    """
    rng = np.random.default_rng(seed)
    sampler = _ZipfTokens(n_features, exponent, n_topics, topical, rng)
    target = density * n_features
    length, calib = target, np.random.default_rng(seed + 1)
    for _ in range(4):  # distinct count grows sub-linearly with the length
        got = _distinct_per_row(*sampler.sample(2000, length, calib), 2000,
                                n_features)
        length *= (target / got) ** 1.3
    rows, cols = sampler.sample(n_samples, length, rng)
    X = sp.coo_matrix((np.ones(rows.size, dtype=dtype), (rows, cols)),
                      shape=(n_samples, n_features)).tocsr()  # sums duplicates
    X.sort_indices()
    return X


def low_rank_counts(n_samples, n_features, *, density, rank=20, seed=0,
                    rows_per_block=250):
    """Sparse counts at a given density with a non-negative rank-``rank`` mean.

    Each entry is stored with probability ``density`` (uniformly at random),
    its value ``1 + Poisson(lambda)`` with ``lambda`` the entry of a random
    non-negative ``W H`` scaled to a mean of 2: count data of the size of
    RcppML's published benchmark without its (unpublished) data. Built a
    block of rows at a time; the whole dense matrix is never formed.
    """
    rng = np.random.default_rng(seed)
    W = rng.gamma(0.5, size=(n_samples, rank))
    H = rng.gamma(0.5, size=(rank, n_features))
    scale = 2.0 / (W.mean(axis=0) @ H.mean(axis=1))
    blocks = []
    for i0 in range(0, n_samples, rows_per_block):
        mean = scale * (W[i0:i0 + rows_per_block] @ H)
        keep = rng.random(mean.shape) < density
        rows, cols = np.nonzero(keep)
        values = 1.0 + rng.poisson(mean[rows, cols])
        blocks.append(sp.csr_matrix((values, (rows, cols)), shape=mean.shape))
    X = sp.vstack(blocks, format="csr")
    X.sort_indices()
    return X


def digits():
    """scikit-learn's ``load_digits`` data (1,797 x 64), float64."""
    from sklearn.datasets import load_digits

    return load_digits().data.astype(np.float64)


def poisson_counts(n_samples, n_features, rank, seed=0):
    """Dense Poisson counts of a random non-negative rank-``rank`` mean."""
    rng = np.random.default_rng(seed)
    mean = rng.gamma(0.5, 1.0, (n_samples, rank)) @ rng.gamma(
        0.3, 3.0, (rank, n_features))
    return rng.poisson(mean).astype(np.float64)


def nbytes(X):
    """Bytes of ``X``'s storage (for CSR: data, indices and indptr)."""
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


# -- floors -------------------------------------------------------------------
def best_of(fn, repeat):
    """Smallest wall time of ``repeat`` calls of ``fn()``, and all of them."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), times


_PARALLEL_SUM = None


def _parallel_sum(X):
    """Sum of a C-contiguous array by ``numba.prange``: a 2-thread read."""
    global _PARALLEL_SUM
    if _PARALLEL_SUM is None:
        from numba import njit, prange

        @njit(parallel=True)
        def kernel(flat):
            total = 0.0
            for i in prange(flat.shape[0]):
                total += flat[i]
            return total

        _PARALLEL_SUM = kernel
    return _PARALLEL_SUM(X.reshape(-1))


def read_times(X, repeat):
    """Best time of one streaming read of dense ``X`` by three methods.

    ``X.sum()`` is the issue's definition of the read floor. NumPy's float32
    ``sum`` is pairwise and compute-bound, and it is single-threaded, so
    ``X.max()`` (SIMD, one thread) and a two-thread Numba sum are timed too:
    the fastest of the three is what one read of ``X`` really costs here.
    """
    _parallel_sum(X[:2])  # compile outside the timing
    out = {}
    for name, fn in (("sum", X.sum), ("max", X.max),
                     ("numba_parallel_sum", lambda: _parallel_sum(X))):
        out[name] = best_of(fn, repeat)[0]
    return out


def gemm_rate(dtype, size, repeat):
    """Measured matrix-product rate in flop/s: ``(size x size) @ (size x size)``."""
    rng = np.random.default_rng(1)
    A = rng.random((size, size)).astype(dtype)
    B = rng.random((size, size)).astype(dtype)
    A @ B  # warm up the BLAS thread pool
    best, _ = best_of(lambda: A @ B, repeat)
    return 2.0 * size ** 3 / best


def dense_floor(X, rank, read, flop_rate):
    """The issue's per-iteration floor and its two parts, in seconds.

    ``read`` is a dict of read times (:func:`read_times`); the floor uses
    ``X.sum()`` as the issue defines it, ``floor_fastest_read`` the fastest
    read measured.
    """
    n, m = X.shape
    flops = 4.0 * n * m * rank / flop_rate
    fastest = min(read.values())
    return {"read_sum": read["sum"], "read_fastest": fastest,
            "flops": flops, "floor": max(read["sum"], flops),
            "floor_fastest_read": max(fastest, flops)}


def machine_line():
    """One line of machine facts and versions, for the head of a table."""
    info = machine_info()
    return (f"{info['cpu_model']}, {info['cpus']} CPUs; numpy {info['numpy']}, "
            f"scikit-learn {info['scikit-learn']}, numba {info['numba']} "
            f"({info['numba_threads']} threads), sknmfcluster at "
            f"{info['git_commit']}; load average {info['load_average']}")


# -- fitting lines and targets ------------------------------------------------
def budget_curve(step, W0, H0, budget, every, objective):
    """``(seconds, iterations, objective)`` every ``every`` iterations.

    ``step(W, H, n)`` runs ``n`` iterations from copies of ``(W0, H0)``
    until the time spent in it reaches ``budget`` seconds; ``objective`` is
    evaluated outside the timed part.
    """
    W, H = W0.copy(), H0.copy()
    spent, done, curve = 0.0, 0, []
    while spent < budget:
        start = time.perf_counter()
        W, H = step(W, H, every)
        spent += time.perf_counter() - start
        done += every
        curve.append((spent, done, objective(W, H)))
    return curve


def first_hit(curve, target):
    """``(seconds, iterations)`` where a :func:`budget_curve` first reaches
    ``target``, or None."""
    return next(((s, i) for s, i, v in curve if v <= target), None)


def fit_line(iters, times):
    """Least-squares ``time = intercept + slope * iters``; returns both."""
    iters = np.asarray(iters, dtype=float)
    times = np.asarray(times, dtype=float)
    slope, intercept = np.polyfit(iters, times, 1)
    return float(slope), float(intercept)


def iterations_to(iters, objectives, target, interpolate=True):
    """First iteration count with an objective at most ``target`` (linearly
    interpolated between the points and rounded up, unless ``interpolate``
    is false), or None if the curve never gets there."""
    for j, (it, obj) in enumerate(zip(iters, objectives)):
        if obj <= target:
            if not interpolate or j == 0 or objectives[j - 1] <= obj:
                return int(it)
            prev_it, prev_obj = iters[j - 1], objectives[j - 1]
            frac = (prev_obj - target) / (prev_obj - obj)
            return int(np.ceil(prev_it + frac * (it - prev_it)))
    return None


def checkpoints(max_iter, step=1.1, dense_until=10):
    """Iteration counts at which a trajectory is evaluated: every one up to
    ``dense_until``, then growing geometrically by ``step``."""
    points = list(range(1, min(dense_until, max_iter) + 1))
    while points[-1] < max_iter:
        points.append(min(max_iter, max(points[-1] + 1,
                                        int(np.ceil(points[-1] * step)))))
    return points
