"""Numba kernels of the neighbour graph: exact distances and NN-descent.

Arrays in, arrays written in place; rows are split into the engine's fixed
chunks (:data:`sknmfcluster._kernels.N_CHUNKS`), each row written by one
thread, so the results do not depend on the thread count.

The distance that ranks neighbours is the squared Euclidean distance summed
in float64 in feature order, ``sum_f (a_f - b_f) ** 2``. For CSR rows the
sum runs over the union of the two rows' non-zeros in feature order; the
terms it leaves out are exact zeros, so dense and CSR storage give the same
distances bit for bit (no ``fastmath`` there: reassociating the sum would
break that). Candidates are searched with a faster distance
(:func:`_fast_dist`, and :func:`_tile_4x2` for eight pairs at a time in the
local joins; vectorised in the data's dtype), which only decides which
samples get ranked.

NN-descent (Dong, Moses & Li, "Efficient k-nearest neighbor graph
construction for generic similarity measures", WWW 2011) keeps for each
point a row of ``c`` candidate neighbours sorted by ``(distance, index)``
and repeatedly compares the neighbours of each point with each other
("local join"): a neighbour of a neighbour is likely a neighbour. Here the
random choices come from a hash of ``(seed, ...)`` rather than a stream, the
local joins of a block of points only *propose* insertions, and the
proposals are applied after the block: a row keeps the ``c`` smallest
distinct ``(distance, index)`` pairs it was offered, whatever the order of
the offers, so the graph does not depend on the thread count.
"""

import numpy as np
from numba import prange

from ._kernels import N_CHUNKS, chunk_bounds
from ._kernels._jit import REDUCTION_MATH, interruptible, kernel
from ._kernels._pool import over_chunks

#: Largest float64, the distance of an empty slot of a candidate row.
FAR = np.inf


# -- distances -----------------------------------------------------------------
@kernel()
def _dists_dense(x, Xt, rows, n_rows, out):
    """``out[p] = ||x - Xt[rows[p]]||^2`` for ``p < n_rows``, features in order.

    x : (m,), Xt : (n_t, m), rows : (>= n_rows,) int, out : (>= n_rows,)
    float64. Four candidates at a time: their sums are independent chains
    that run side by side, while each stays in feature order (the rounding
    of one sum after the other).
    """
    m = x.shape[0]
    p = 0
    while p + 4 <= n_rows:
        r0, r1, r2, r3 = Xt[rows[p]], Xt[rows[p + 1]], Xt[rows[p + 2]], Xt[rows[p + 3]]
        s0 = s1 = s2 = s3 = 0.0
        for f in range(m):
            xf = np.float64(x[f])
            d0 = xf - np.float64(r0[f])
            d1 = xf - np.float64(r1[f])
            d2 = xf - np.float64(r2[f])
            d3 = xf - np.float64(r3[f])
            s0 += d0 * d0
            s1 += d1 * d1
            s2 += d2 * d2
            s3 += d3 * d3
        out[p], out[p + 1], out[p + 2], out[p + 3] = s0, s1, s2, s3
        p += 4
    for q in range(p, n_rows):
        r = Xt[rows[q]]
        s = 0.0
        for f in range(m):
            d = np.float64(x[f]) - np.float64(r[f])
            s += d * d
        out[q] = s


@kernel(fastmath=REDUCTION_MATH)
def _fast_dist(a, b):
    """Squared distance of two rows in their own dtype, vectorised.

    Reassociated (any summation order), so only good for finding
    candidates: every graph is finally ranked by the exact distances.
    """
    s = a[0] - a[0]
    for f in range(a.shape[0]):
        d = a[f] - b[f]
        s += d * d
    return s


@kernel(fastmath=REDUCTION_MATH)
def _tile_4x2(a0, a1, a2, a3, b0, b1, out):
    """The squared distances of rows ``a0..a3`` to ``b0, b1``, vectorised.

    A register tile: six rows loaded feed eight sums (one distance at a time
    loads two rows per sum). ``out`` (8,) gets them row-major. Each sum runs
    in the rows' dtype and in the same order whatever its place in the
    tile, so a pair's distance does not depend on which tile computed it.
    """
    z = a0[0] - a0[0]
    s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = z
    for f in range(a0.shape[0]):
        x0, x1, x2, x3 = a0[f], a1[f], a2[f], a3[f]
        y0, y1 = b0[f], b1[f]
        d = x0 - y0
        s00 += d * d
        d = x0 - y1
        s01 += d * d
        d = x1 - y0
        s10 += d * d
        d = x1 - y1
        s11 += d * d
        d = x2 - y0
        s20 += d * d
        d = x2 - y1
        s21 += d * d
        d = x3 - y0
        s30 += d * d
        d = x3 - y1
        s31 += d * d
    out[0], out[1], out[2], out[3] = s00, s01, s10, s11
    out[4], out[5], out[6], out[7] = s20, s21, s30, s31


@kernel()
def _dist_csr(a_data, a_indices, a, a_end, b_data, b_indices, b, b_end):
    """Squared distance of two CSR rows with sorted indices, features in order."""
    s = 0.0
    while a < a_end or b < b_end:
        fa = a_indices[a] if a < a_end else -1
        fb = b_indices[b] if b < b_end else -1
        if fb == -1 or (fa != -1 and fa < fb):
            d = np.float64(a_data[a])
            a += 1
        elif fa == -1 or fb < fa:
            d = -np.float64(b_data[b])
            b += 1
        else:
            d = np.float64(a_data[a]) - np.float64(b_data[b])
            a += 1
            b += 1
        s += d * d
    return s


@kernel()
def _dists_csr(q_data, q_indices, q0, q1, t_data, t_indices, t_indptr, rows,
               n_rows, out):
    """:func:`_dists_dense` for a CSR query row ``[q0, q1)`` and CSR training rows."""
    for p in range(n_rows):
        t = rows[p]
        out[p] = _dist_csr(q_data, q_indices, q0, q1, t_data, t_indices,
                           t_indptr[t], t_indptr[t + 1])


@kernel(nogil=True)
def _sq_distances_dense(c0, c1, Xq, Xt, cand, out):
    """Chunks ``c0 <= c < c1`` of :func:`sq_distances_dense`."""
    bounds = chunk_bounds(Xq.shape[0])
    for c in range(c0, c1):
        for i in range(bounds[c], bounds[c + 1]):
            _dists_dense(Xq[i], Xt, cand[i], cand.shape[1], out[i])


_sq_distances_dense_chunks = interruptible(_sq_distances_dense)


def sq_distances_dense(Xq, Xt, cand, out):
    """Squared distances from each query row to its candidate training rows.

    Xq : (n_q, m), Xt : (n_t, m), cand : (n_q, c) indices into Xt, out :
    (n_q, c) float64, overwritten with ``sum_f (Xq[i, f] - Xt[cand[i, p],
    f]) ** 2`` summed in feature order. The zeros of the rows add exact
    zeros, so the result equals :func:`sq_distances_csr` bit for bit.
    """
    over_chunks(_sq_distances_dense_chunks, Xq.shape[0], Xq, Xt, cand, out)


@kernel(nogil=True)
def _sq_distances_csr(c0, c1, q_data, q_indices, q_indptr, t_data, t_indices,
                      t_indptr, cand, out):
    """Chunks ``c0 <= c < c1`` of :func:`sq_distances_csr`."""
    bounds = chunk_bounds(q_indptr.shape[0] - 1)
    for c in range(c0, c1):
        for i in range(bounds[c], bounds[c + 1]):
            _dists_csr(q_data, q_indices, q_indptr[i], q_indptr[i + 1], t_data,
                       t_indices, t_indptr, cand[i], cand.shape[1], out[i])


_sq_distances_csr_chunks = interruptible(_sq_distances_csr)


def sq_distances_csr(q_data, q_indices, q_indptr, t_data, t_indices, t_indptr,
                     cand, out):
    """:func:`sq_distances_dense` for CSR rows with sorted indices.

    The two rows' non-zeros are merged in feature order, so the sum has the
    terms, and the order, of the dense computation.
    """
    over_chunks(_sq_distances_csr_chunks, q_indptr.shape[0] - 1, q_data,
                q_indices, q_indptr, t_data, t_indices, t_indptr, cand, out)


# -- hashing: reproducible random choices without a shared stream ------------
@kernel()
def _mix(x):
    """SplitMix64 finaliser (Steele, Lea & Flood 2014) of a uint64."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@kernel()
def _hash(seed, a, b, c):
    """A uint64 that looks random, from four integers."""
    h = _mix(np.uint64(seed) ^ np.uint64(a))
    h = _mix(h ^ np.uint64(b))
    return _mix(h ^ np.uint64(c))


# -- sorted candidate rows -----------------------------------------------------
@kernel()
def _holds(row, j):
    """Whether the candidate row (of indices) holds ``j``."""
    for a in range(row.shape[0]):
        if row[a] == j:
            return True
    return False


@kernel()
def _insert(ind, dst, flag, j, d):
    """Offer ``(d, j)`` to a row sorted by ``(distance, index)``; 1 if it entered.

    The row keeps its ``len(ind)`` smallest distinct pairs, so the final
    content does not depend on the order of the offers. An entry is flagged
    new (``flag`` may be zero-sized when there are no flags).
    """
    c = ind.shape[0]
    if d > dst[c - 1] or (d == dst[c - 1] and j >= ind[c - 1]) \
            or _holds(ind, j):
        return 0
    p = c - 1
    while p > 0 and (dst[p - 1] > d or (dst[p - 1] == d and ind[p - 1] > j)):
        ind[p] = ind[p - 1]
        dst[p] = dst[p - 1]
        if flag.shape[0]:
            flag[p] = flag[p - 1]
        p -= 1
    ind[p] = j
    dst[p] = d
    if flag.shape[0]:
        flag[p] = True
    return 1


@kernel()
def _sort_row(ind, dst):
    """Sort a short row by ``(distance, index)`` (insertion sort)."""
    for p in range(1, ind.shape[0]):
        j, d = ind[p], dst[p]
        q = p
        while q > 0 and (dst[q - 1] > d or (dst[q - 1] == d and ind[q - 1] > j)):
            ind[q] = ind[q - 1]
            dst[q] = dst[q - 1]
            q -= 1
        ind[q] = j
        dst[q] = d


# -- NN-descent ----------------------------------------------------------------
@kernel(parallel=True)
def nnd_init(n, seed, ind):
    """Random start: row ``i`` holds ``i`` and ``c - 1`` distinct other points.

    ind : (n, c) int32, overwritten; needs ``c < n``.
    """
    c = ind.shape[1]
    bounds = chunk_bounds(n)
    for ch in prange(N_CHUNKS):
        for i in range(bounds[ch], bounds[ch + 1]):
            ind[i, 0] = i
            filled, draw = 1, 0
            while filled < c:
                j = np.int64(_hash(seed, i, draw, 0) % np.uint64(n))
                draw += 1
                fresh = True
                for p in range(filled):
                    if ind[i, p] == j:
                        fresh = False
                if fresh:
                    ind[i, filled] = j
                    filled += 1


@kernel(parallel=True)
def nnd_row_dists_dense(X, ind, dst):
    """Distances of each row's entries (dst (n, c) float64), then sort the rows."""
    bounds = chunk_bounds(ind.shape[0])
    for ch in prange(N_CHUNKS):
        for i in range(bounds[ch], bounds[ch + 1]):
            for p in range(ind.shape[1]):
                dst[i, p] = _fast_dist(X[i], X[ind[i, p]])
            _sort_row(ind[i], dst[i])


@kernel(parallel=True)
def nnd_row_dists_csr(data, indices, indptr, ind, dst):
    """:func:`nnd_row_dists_dense` for CSR ``X``."""
    bounds = chunk_bounds(ind.shape[0])
    for ch in prange(N_CHUNKS):
        for i in range(bounds[ch], bounds[ch + 1]):
            _dists_csr(data, indices, indptr[i], indptr[i + 1], data, indices,
                       indptr, ind[i], ind.shape[1], dst[i])
            _sort_row(ind[i], dst[i])


@kernel()
def _keep_smallest(lists, pri, counts, u, v, p, cap):
    """Put ``v`` in list ``u`` with priority ``p``, keeping the ``cap`` smallest."""
    n_u = counts[u]
    for a in range(n_u):
        if lists[u, a] == v:
            return
    if n_u < cap:
        lists[u, n_u] = v
        pri[u, n_u] = p
        counts[u] = n_u + 1
        return
    worst = 0
    for a in range(1, cap):
        if pri[u, a] > pri[u, worst]:
            worst = a
    if p < pri[u, worst]:
        lists[u, worst] = v
        pri[u, worst] = p


@kernel(parallel=True)
def nnd_sample(ind, flag, cap, seed, it, new_c, n_new, old_c, n_old, pri_new,
               pri_old):
    """Candidate lists of one NN-descent iteration.

    For every edge ``u -> v`` of the graph ``ind`` (n, c), ``v`` joins the
    new (``flag`` true) or old candidate list of ``u`` and ``u`` that of
    ``v``; each list keeps the ``cap`` entries of smallest hash priority
    (new_c, old_c : (n, cap) int32, counts n_new, n_old : (n,)). New entries
    that made it into their row's own list are flagged old.
    pri_new, pri_old : (n, cap) uint64 scratch.

    Each chunk of lists is filled by one thread, which reads every edge in
    graph order and keeps those that touch its lists: a list receives the
    same entries in the same order whatever the thread count.
    """
    n, c = ind.shape
    bounds = chunk_bounds(n)
    for ch in prange(N_CHUNKS):
        lo, hi = bounds[ch], bounds[ch + 1]
        for w in range(lo, hi):
            n_new[w] = 0
            n_old[w] = 0
        for u in range(n):
            own_u = lo <= u < hi
            for j in range(c):
                v = ind[u, j]
                own_v = lo <= v < hi
                if v == u or not (own_u or own_v):
                    continue
                p = _hash(seed, it, min(u, v), max(u, v))
                lists, pri, counts = ((new_c, pri_new, n_new) if flag[u, j]
                                      else (old_c, pri_old, n_old))
                if own_u:
                    _keep_smallest(lists, pri, counts, u, v, p, cap)
                if own_v:
                    _keep_smallest(lists, pri, counts, v, u, p, cap)
    for ch in prange(N_CHUNKS):
        for u in range(bounds[ch], bounds[ch + 1]):
            for j in range(c):
                if flag[u, j]:
                    for a in range(n_new[u]):
                        if new_c[u, a] == ind[u, j]:
                            flag[u, j] = False


@kernel()
def _propose(p, q, d, worst, ind, targets, sources, dists, at):
    """Record the offers ``q -> row p`` and ``p -> row q`` that can enter.

    An offer can enter if it is within the row's ``worst`` distance and the
    row (``ind[p]``, as it was before the block) does not already hold the
    point. In the late iterations most pairs are neighbours already: at
    70,000 images this check, made only within ``worst``, cut the offers of
    a build from 33 to 12 million and its apply step by half (checking
    every pair before computing its distance had cost more than it saved).
    A row the block changes still checks each offer itself (:func:`_insert`).
    """
    if d <= worst[p] and not _holds(ind[p], q):
        targets[at] = p
        sources[at] = q
        dists[at] = d
        at += 1
    if d <= worst[q] and not _holds(ind[q], p):
        targets[at] = q
        sources[at] = p
        dists[at] = d
        at += 1
    return at


@kernel()
def _chunk_of(t, bounds):
    """The chunk of ``chunk_bounds`` that holds row ``t``."""
    n_rows = bounds[N_CHUNKS]
    c = (t * N_CHUNKS) // n_rows
    while bounds[c + 1] <= t:
        c += 1
    while bounds[c] > t:
        c -= 1
    return c


@kernel()
def _bucket(ch, at, bounds, targets, sources, dists, out_t, out_s, out_d,
            offsets):
    """Sort chunk ``ch``'s offers ``[ch * cap, at)`` by the chunk of their row.

    Stable counting sort into ``out_*`` (same positions); ``offsets[ch, b]``
    is where the offers to chunk ``b`` start, relative to ``ch * cap``,
    ``offsets[ch, N_CHUNKS]`` their number.
    """
    cap = targets.shape[0] // N_CHUNKS
    lo = ch * cap
    fill = np.zeros(N_CHUNKS + 1, dtype=np.int64)
    for e in range(lo, at):
        fill[_chunk_of(targets[e], bounds) + 1] += 1
    for b in range(N_CHUNKS):
        fill[b + 1] += fill[b]
    for b in range(N_CHUNKS + 1):
        offsets[ch, b] = fill[b]
    for e in range(lo, at):
        b = _chunk_of(targets[e], bounds)
        f = lo + fill[b]
        out_t[f] = targets[e]
        out_s[f] = sources[e]
        out_d[f] = dists[e]
        fill[b] += 1


@kernel(parallel=True)
def nnd_join_dense(X, ind, new_c, n_new, old_c, n_old, worst, v0, v1,
                   scratch, offers, offsets):
    """Local joins of the points ``v0 <= v < v1``: compare their candidates.

    Each pair (new, new) and (new, old) of ``v``'s candidates is compared
    and offered to both rows if it can enter (``worst`` (n,) is each row's
    largest distance before this block, ``ind`` (n, c) the rows, see
    :func:`_propose`). ``scratch`` and ``offers`` are
    each a ``(targets, sources, dists)`` triple of equal length; the offers
    of chunk ``ch`` are written from ``ch * cap`` on (``cap =
    len(targets) // N_CHUNKS``) to ``offers``, sorted by the chunk of the
    row they address, with ``offsets`` (N_CHUNKS, N_CHUNKS + 1) as
    :func:`_bucket` describes.

    The distances are computed four new candidates against two later ones
    at a time (:func:`_tile_4x2`); a tile that overhangs the candidates
    repeats the last one, and its extra sums are not offered.
    """
    targets, sources, dists = scratch
    cap = targets.shape[0] // N_CHUNKS
    bounds = chunk_bounds(v1 - v0)
    row_bounds = chunk_bounds(worst.shape[0])
    width = new_c.shape[1] + old_c.shape[1]
    for ch in prange(N_CHUNKS):
        rows = np.empty(width + 3, dtype=np.int64)
        tile = np.empty(8)
        at = ch * cap
        for v in range(v0 + bounds[ch], v0 + bounds[ch + 1]):
            nn = n_new[v]
            if nn == 0:
                continue
            m = _candidates(new_c[v], nn, old_c[v], n_old[v], rows)
            for p in range(m, m + 3):
                rows[p] = rows[m - 1]
            for p0 in range(0, nn, 4):
                a0, a1, a2, a3 = (X[rows[p0]], X[rows[p0 + 1]],
                                  X[rows[p0 + 2]], X[rows[p0 + 3]])
                for q0 in range(p0 + 1, m, 2):
                    _tile_4x2(a0, a1, a2, a3, X[rows[q0]], X[rows[q0 + 1]],
                              tile)
                    for p in range(p0, min(p0 + 4, nn)):
                        a = rows[p]
                        for q in range(max(q0, p + 1), min(q0 + 2, m)):
                            b = rows[q]
                            if b != a:
                                at = _propose(a, b, tile[2 * (p - p0) + q - q0],
                                              worst, ind, targets, sources,
                                              dists, at)
        _bucket(ch, at, row_bounds, targets, sources, dists, offers[0],
                offers[1], offers[2], offsets)


@kernel()
def _candidates(new_v, n_new, old_v, n_old, rows):
    """``rows`` = the new candidates, then the old ones; returns their number."""
    for a in range(n_new):
        rows[a] = new_v[a]
    for b in range(n_old):
        rows[n_new + b] = old_v[b]
    return n_new + n_old


@kernel(parallel=True)
def nnd_join_csr(data, indices, indptr, ind, new_c, n_new, old_c, n_old, worst,
                 v0, v1, scratch, offers, offsets):
    """:func:`nnd_join_dense` for CSR ``X``: the same pairs, by exact distances.

    The distances are the exact ones (:func:`_dist_csr`), which can differ
    in the last bits from the dense join's fast ones.
    """
    targets, sources, dists = scratch
    cap = targets.shape[0] // N_CHUNKS
    bounds = chunk_bounds(v1 - v0)
    row_bounds = chunk_bounds(worst.shape[0])
    width = new_c.shape[1] + old_c.shape[1]
    for ch in prange(N_CHUNKS):
        rows = np.empty(width, dtype=np.int64)
        d = np.empty(width)
        at = ch * cap
        for v in range(v0 + bounds[ch], v0 + bounds[ch + 1]):
            m = _candidates(new_c[v], n_new[v], old_c[v], n_old[v], rows)
            for p in range(n_new[v]):
                a = rows[p]
                _dists_csr(data, indices, indptr[a], indptr[a + 1], data,
                           indices, indptr, rows[p + 1:], m - p - 1, d)
                for q in range(p + 1, m):
                    if rows[q] != a:
                        at = _propose(a, rows[q], d[q - p - 1], worst, ind,
                                      targets, sources, dists, at)
        _bucket(ch, at, row_bounds, targets, sources, dists, offers[0],
                offers[1], offers[2], offsets)


@kernel(parallel=True)
def nnd_apply(offers, offsets, ind, dst, flag, worst):
    """Apply the offers of a block to the rows; returns how many entered.

    Each chunk of rows (``chunk_bounds(n)``) is updated by one thread, which
    reads the offers addressed to its rows (their buckets, see
    :func:`_bucket`); a row's result does not depend on the order of its
    offers (see :func:`_insert`). Updates ``worst`` for the next block.
    """
    targets, sources, dists = offers
    cap = targets.shape[0] // N_CHUNKS
    c = ind.shape[1]
    entered = np.zeros(N_CHUNKS, dtype=np.int64)
    for own in prange(N_CHUNKS):
        for ch in range(N_CHUNKS):
            for e in range(ch * cap + offsets[ch, own],
                           ch * cap + offsets[ch, own + 1]):
                t = targets[e]
                if _insert(ind[t], dst[t], flag[t], sources[e], dists[e]):
                    entered[own] += 1
                    worst[t] = dst[t, c - 1]
    return entered.sum()


# -- queries: best-first search of the graph ----------------------------------
@kernel()
def _insert_pool(ind, dst, expanded, j, d):
    """:func:`_insert` for a search pool (no duplicates are ever offered).

    Empty slots hold index -1 at distance ``FAR``; a new entry is not yet
    expanded.
    """
    c = ind.shape[0]
    if d > dst[c - 1] or (d == dst[c - 1] and ind[c - 1] >= 0
                          and j >= ind[c - 1]):
        return
    p = c - 1
    while p > 0 and (dst[p - 1] > d or (dst[p - 1] == d and ind[p - 1] > j)):
        ind[p] = ind[p - 1]
        dst[p] = dst[p - 1]
        expanded[p] = expanded[p - 1]
        p -= 1
    ind[p] = j
    dst[p] = d
    expanded[p] = False


@kernel()
def _next_unseen(pool_ind, expanded, adj_indptr, adj_indices, seen, stamp,
                 rows):
    """Expand the closest unexpanded pool entry: its unseen graph neighbours.

    Writes them to ``rows`` and marks them seen; returns their number, or -1
    when every entry of the pool is expanded (the search is over).
    """
    for p in range(pool_ind.shape[0]):
        u = pool_ind[p]
        if u >= 0 and not expanded[p]:
            expanded[p] = True
            m = 0
            for e in range(adj_indptr[u], adj_indptr[u + 1]):
                t = adj_indices[e]
                if seen[t] != stamp:
                    seen[t] = stamp
                    rows[m] = t
                    m += 1
            return m
    return -1


@kernel(parallel=True)
def nnd_query_dense(Q, X, pivots, adj_indptr, adj_indices, out_ind, out_dst):
    """Approximate nearest training rows of each query row, by graph search.

    Q : (n_q, m) queries, X : (n, m) training rows, pivots : (P,) training
    rows every search starts from, ``(adj_indptr, adj_indices)`` the search
    graph (CSR, n rows). out_ind (n_q, ef) int64 and out_dst (n_q, ef)
    float64 are overwritten with the ``ef`` nearest rows found, sorted by
    ``(distance, index)``. The pool starts with the ``ef`` nearest pivots;
    then the closest entry not yet expanded is expanded (its graph
    neighbours are offered to the pool) until every entry is. A query's
    result depends on that query alone.
    """
    ef = out_ind.shape[1]
    width = max(pivots.shape[0], np.max(np.diff(adj_indptr)))
    bounds = chunk_bounds(Q.shape[0])
    for ch in prange(N_CHUNKS):
        seen = np.zeros(X.shape[0], dtype=np.int32)
        rows = np.empty(width, dtype=np.int64)
        d = np.empty(width)
        expanded = np.zeros(ef, dtype=np.bool_)
        for i in range(bounds[ch], bounds[ch + 1]):
            stamp = np.int32(i - bounds[ch] + 1)
            out_ind[i, :] = -1
            out_dst[i, :] = FAR
            for b in range(pivots.shape[0]):
                d[b] = _fast_dist(Q[i], X[pivots[b]])
            for b in range(pivots.shape[0]):
                seen[pivots[b]] = stamp
                _insert_pool(out_ind[i], out_dst[i], expanded, pivots[b], d[b])
            while True:
                m = _next_unseen(out_ind[i], expanded, adj_indptr, adj_indices,
                                 seen, stamp, rows)
                if m < 0:
                    break
                for b in range(m):
                    d[b] = _fast_dist(Q[i], X[rows[b]])
                for b in range(m):
                    _insert_pool(out_ind[i], out_dst[i], expanded, rows[b], d[b])


@kernel(parallel=True)
def nnd_query_csr(q_data, q_indices, q_indptr, data, indices, indptr, pivots,
                  adj_indptr, adj_indices, out_ind, out_dst):
    """:func:`nnd_query_dense` for CSR queries and training rows (same result)."""
    ef = out_ind.shape[1]
    width = max(pivots.shape[0], np.max(np.diff(adj_indptr)))
    bounds = chunk_bounds(q_indptr.shape[0] - 1)
    for ch in prange(N_CHUNKS):
        seen = np.zeros(indptr.shape[0] - 1, dtype=np.int32)
        rows = np.empty(width, dtype=np.int64)
        d = np.empty(width)
        expanded = np.zeros(ef, dtype=np.bool_)
        for i in range(bounds[ch], bounds[ch + 1]):
            stamp = np.int32(i - bounds[ch] + 1)
            q0, q1 = q_indptr[i], q_indptr[i + 1]
            out_ind[i, :] = -1
            out_dst[i, :] = FAR
            _dists_csr(q_data, q_indices, q0, q1, data, indices, indptr,
                       pivots, pivots.shape[0], d)
            for b in range(pivots.shape[0]):
                seen[pivots[b]] = stamp
                _insert_pool(out_ind[i], out_dst[i], expanded, pivots[b], d[b])
            while True:
                m = _next_unseen(out_ind[i], expanded, adj_indptr, adj_indices,
                                 seen, stamp, rows)
                if m < 0:
                    break
                _dists_csr(q_data, q_indices, q0, q1, data, indices, indptr,
                           rows, m, d)
                for b in range(m):
                    _insert_pool(out_ind[i], out_dst[i], expanded, rows[b], d[b])
