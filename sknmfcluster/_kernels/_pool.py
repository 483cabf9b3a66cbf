"""Row chunks on Python threads, by serial kernels that release the GIL.

A kernel compiled with ``parallel=True`` takes Numba two to three times
longer to compile than the same loop compiled serially (measured on the
kernels of the default method's first fit, each in a fresh process with an
empty cache: ``symnmf_stats`` 7.0 s against 2.7 s, ``symnmf_update`` 2.3 s
against 0.8 s, ``xh_dense`` 1.2 s against 0.6 s). The kernels that the
default method and ``transform`` need are therefore serial ``nogil``
functions of a span of chunks, ``kernel(c0, c1, ...)``, and
:func:`over_chunks` runs the ``N_CHUNKS`` chunks on as many threads as
``numba.get_num_threads()`` allows: a span on the calling thread and one
on each thread of a small pool. The chunks are the kernels' usual
thread-independent ones, so the results do not depend on the thread
count, and ``numba.set_num_threads`` (the engine's one thread for small
inputs included) sets the number of threads here as for the parallel
kernels.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numba
import numpy as np

from ._common import N_CHUNKS

_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def _executor():
    """The shared pool (``N_CHUNKS - 1`` threads at most, started as needed).

    A new one in a child process: the threads of a pool do not survive a
    ``fork``, and a pool without them would never run what it is given.
    """
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=N_CHUNKS - 1,
                                       thread_name_prefix="sknmfcluster")
            _pool_pid = os.getpid()
        return _pool


def spans(n_threads):
    """The chunk spans ``[(c0, c1), ...]`` of ``n_threads`` threads (at most
    ``N_CHUNKS``), contiguous and as equal as the chunk count allows."""
    t = max(1, min(int(n_threads), N_CHUNKS))
    return [(i * N_CHUNKS // t, (i + 1) * N_CHUNKS // t) for i in range(t)]


def over_chunks(kernel, n_rows, *args):
    """Run ``kernel(c0, c1, *args)`` over the chunk spans of the threads.

    ``kernel`` is a serial ``nogil`` kernel that handles the chunks
    ``c0 <= c < c1`` of ``n_rows`` rows (``_common.chunk_bounds``), wrapped
    by :func:`._jit.interruptible`. Spans without a row are skipped, and a
    single span runs on the calling thread: a call on a row or two (the
    engine solves long rows one at a time) pays no hand-over. Otherwise the
    calling thread takes the first span; the call returns when every span
    is done, also when one of them raised (the first exception is raised
    again; Ctrl-C on the calling thread waits for the pool's spans, each a
    fraction of the call, before it is raised).
    """
    parts = [(c0, c1) for c0, c1 in spans(numba.get_num_threads())
             if (c1 * n_rows) // N_CHUNKS > (c0 * n_rows) // N_CHUNKS]
    if len(parts) <= 1:
        kernel(0, N_CHUNKS, *args)
        return
    pool = _executor()
    futures = [pool.submit(kernel, c0, c1, *args) for c0, c1 in parts[1:]]
    try:
        kernel(parts[0][0], parts[0][1], *args)
    finally:
        wait(futures)
    for future in futures:
        future.result()


def in_chunk_order(parts):
    """``parts.sum(axis=0)`` in float64, adding the chunks one after the other
    in chunk order (as ``_common.sum_chunks`` and ``ordered_sum`` do)."""
    total = np.zeros(parts.shape[1:])
    for part in parts:
        total += part
    return total
